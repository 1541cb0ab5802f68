#include "communesync/sync/text.hpp"

#include <utf8proc.h>

#include <cstdlib>
#include <memory>

namespace communesync::sync {

bool isCleanUtf8(std::string_view text) {
  if (isPlainNfc(text)) return text.find('\0') == std::string_view::npos;
  auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  auto remaining = static_cast<utf8proc_ssize_t>(text.size());
  while (remaining > 0) {
    utf8proc_int32_t cp = 0;
    auto n = utf8proc_iterate(p, remaining, &cp);
    if (n <= 0 || cp == 0) return false;
    p += n;
    remaining -= n;
  }
  return true;
}

Result<std::string> toNfc(std::string_view text) {
  // Already NFC without looking it up (most field names, codes and Vietnamese text): no allocation
  // beyond the copy, no decomposition.
  if (isPlainNfc(text)) return std::string(text);

  utf8proc_uint8_t* out = nullptr;
  auto n =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()), static_cast<utf8proc_ssize_t>(text.size()),
                   &out, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0) {
    return Status::error(ErrorCode::kInvalidArgument, std::string("text is not valid UTF-8: ") + utf8proc_errmsg(n));
  }
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(out, &std::free);
  return std::string(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
}

std::string foldForSearch(std::string_view text) {
  utf8proc_uint8_t* out = nullptr;
  auto n = utf8proc_map(
      reinterpret_cast<const utf8proc_uint8_t*>(text.data()), static_cast<utf8proc_ssize_t>(text.size()), &out,
      static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_STRIPMARK | UTF8PROC_CASEFOLD));
  if (n < 0) return {};
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(out, &std::free);
  std::string folded(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
  // đ (U+0111) has no decomposition: Vietnamese readers still search it as d.
  std::string result;
  result.reserve(folded.size());
  for (std::size_t i = 0; i < folded.size(); ++i) {
    if (folded.compare(i, 2, "\xc4\x91") == 0) {
      result += 'd';
      ++i;
    } else {
      result += folded[i];
    }
  }
  return result;
}

}  // namespace communesync::sync
