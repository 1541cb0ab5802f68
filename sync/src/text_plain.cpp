// The quick check both text.hpp builds share (utf8proc natively, the browser's tables in the field
// app): text that is its own NFC by construction.
#include "communesync/sync/text.hpp"

namespace communesync::sync {

bool isPlainNfc(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  auto continuation = [](unsigned char c) { return (c & 0xc0) == 0x80; };
  while (p < end) {
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
    } else if (c >= 0xc2 && c <= 0xcb) {  // U+0080..U+02FF
      if (end - p < 2 || !continuation(p[1])) return false;
      p += 2;
    } else if (c == 0xe1 && end - p >= 3 && p[1] >= 0xb8 && p[1] <= 0xbb && continuation(p[2])) {  // U+1E00..U+1EFF
      p += 3;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace communesync::sync
