// Text comes in from many keyboards: "Hồ" typed on one phone and pasted on another may differ in
// bytes. Every string is normalised to Unicode NFC (with utf8proc) before it is stored or compared.
#pragma once

#include <string>
#include <string_view>

#include "communesync/storage/result.hpp"

namespace communesync::sync {

//! `text` in NFC. Errors: kInvalidArgument if `text` is not valid UTF-8.
Result<std::string> toNfc(std::string_view text);

//! `text` folded for search: lower case, accents and tone marks stripped, đ as d. "Nguyễn Văn Á"
//! and "nguyen van a" fold the same. Invalid UTF-8 folds to "".
std::string foldForSearch(std::string_view text);

//! True if `text` is valid UTF-8 made only of code points that are NFC alone and never combine with
//! a neighbour: ASCII, U+0080..U+02FF (Latin-1, Latin Extended-A and B: no combining marks, no
//! singletons) and U+1E00..U+1EFF (Latin Extended Additional: Vietnamese's precomposed letters).
//! Such text is its own NFC, so toNfc skips the tables for it, and what phones send in Vietnamese
//! is almost always this. False says nothing (combining marks, other scripts: the tables decide).
//! Test: Text.TheQuickCheckAgreesWithUtf8procOnEveryCodePointItAccepts.
bool isPlainNfc(std::string_view text);

//! True if `text` is valid UTF-8 with no NUL byte (a requirement for names used inside keys).
bool isCleanUtf8(std::string_view text);

}  // namespace communesync::sync
