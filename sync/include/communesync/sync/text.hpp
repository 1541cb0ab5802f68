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

//! True if `text` is valid UTF-8 with no NUL byte (a requirement for names used inside keys).
bool isCleanUtf8(std::string_view text);

}  // namespace communesync::sync
