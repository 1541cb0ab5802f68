#include "communesync/sync/file_ref.hpp"

namespace communesync::sync {

bool isFileHashHex(std::string_view text) {
  return text.size() == 2 * kFileHashBytes && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

std::string fileHashFromHex(std::string_view hex) {
  if (!isFileHashHex(hex)) return {};
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string out(kFileHashBytes, '\0');
  for (std::size_t i = 0; i < kFileHashBytes; ++i) {
    out[i] = static_cast<char>((nibble(hex[2 * i]) << 4) | nibble(hex[2 * i + 1]));
  }
  return out;
}

std::string fileHashToHex(std::string_view raw) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char b : raw) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  return out;
}

void collectFileRefs(const Value& value, std::set<std::string>& out) {
  if (const auto* s = value.get<std::string>()) {
    if (isFileHashHex(*s)) out.insert(fileHashFromHex(*s));
  } else if (const auto* list = value.get<Value::List>()) {
    for (const auto& v : *list) collectFileRefs(v, out);
  } else if (const auto* map = value.get<Value::Map>()) {
    for (const auto& [k, v] : *map) collectFileRefs(v, out);
  }
}

std::set<std::string> fileRefs(const Record& record) {
  std::set<std::string> out;
  if (record.deleted()) return out;
  for (const auto& [name, field] : record.fields) collectFileRefs(field.value, out);
  return out;
}

}  // namespace communesync::sync
