// text.hpp in the field app's WebAssembly build: the browser's own Unicode tables (String.normalize,
// TextDecoder) stand in for utf8proc, which Debian ships for native builds only. Same rules: NFC
// for stored text, accents and case folded away for search (đ as d), strict UTF-8 without NUL.
#include <emscripten.h>

#include <cstdlib>
#include <memory>

#include "communesync/sync/text.hpp"

namespace {

// NUL-terminated UTF-8 that the caller frees, or nullptr if the bytes are not UTF-8.
// NOLINTBEGIN: JavaScript bodies
EM_JS(char*, cs_text_map, (const char* bytes, int size, int fold), {
  let text;
  try {
    text = new TextDecoder('utf-8', {fatal : true}).decode(HEAPU8.subarray(bytes, bytes + size));
  } catch (e) {
    return 0;
  }
  if (fold) {
    // Written without backslashes: EM_JS passes its body through the preprocessor, which drops them.
    const marks = new RegExp(String.fromCharCode(92) + 'p{M}', 'gu');
    text = text.normalize('NFD').replace(marks, "").toLowerCase().split(String.fromCharCode(0x111)).join("d");
  } else {
    text = text.normalize('NFC');
  }
  const length = lengthBytesUTF8(text) + 1;
  const out = _malloc(length);
  stringToUTF8(text, out, length);
  return out;
});
// NOLINTEND

std::unique_ptr<char, decltype(&std::free)> mapped(std::string_view text, bool fold) {
  return {cs_text_map(text.data(), static_cast<int>(text.size()), fold ? 1 : 0), &std::free};
}

}  // namespace

namespace communesync::sync {

bool isCleanUtf8(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) return false;
  return isPlainNfc(text) || mapped(text, false) != nullptr;
}

Result<std::string> toNfc(std::string_view text) {
  if (isPlainNfc(text)) return std::string(text);  // no call into JavaScript
  auto out = mapped(text, false);
  if (!out) return Status::error(ErrorCode::kInvalidArgument, "text is not valid UTF-8");
  return std::string(out.get());
}

std::string foldForSearch(std::string_view text) {
  auto out = mapped(text, true);
  return out ? std::string(out.get()) : std::string();
}

}  // namespace communesync::sync
