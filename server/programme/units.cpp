#include "programme/units.hpp"

#include <algorithm>
#include <array>
#include <set>

#include "base/tuning.hpp"
#include "communesync/sync/text.hpp"
#include "communesync/sync/tuning.hpp"

namespace communesync::server {
namespace {

constexpr std::array<std::string_view, 4> kLevelNames = {"province", "district", "commune", "village"};

Status lineError(std::size_t line, const std::string& message) {
  return Status::error(ErrorCode::kInvalidArgument, "line " + std::to_string(line) + ": " + message);
}

// One CSV record split into fields (RFC 4180: quotes around a field, "" inside for a quote, CR LF
// or LF line ends). Written by hand: none of the project's libraries reads CSV, the format needed
// is tiny, and errors must name the line. `pos` moves past the record; `line` counts physical lines.
Result<std::vector<std::string>> readCsvRecord(std::string_view text, std::size_t& pos, std::size_t& line) {
  std::vector<std::string> fields;
  std::string field;
  const std::size_t start_line = line;
  bool quoted = false;
  bool was_quoted = false;
  while (pos < text.size()) {
    const char c = text[pos];
    if (quoted) {
      if (c == '"') {
        if (pos + 1 < text.size() && text[pos + 1] == '"') {
          field += '"';
          pos += 2;
          continue;
        }
        quoted = false;
        ++pos;
        continue;
      }
      if (c == '\n') ++line;
      field += c;
      ++pos;
      continue;
    }
    if (c == '"') {
      if (!field.empty() || was_quoted) return lineError(start_line, "a quote in the middle of a field");
      quoted = was_quoted = true;
      ++pos;
      continue;
    }
    if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
      was_quoted = false;
      ++pos;
      continue;
    }
    if (c == '\r' && pos + 1 < text.size() && text[pos + 1] == '\n') ++pos;
    if (c == '\n' || c == '\r') {
      ++pos;
      ++line;
      fields.push_back(std::move(field));
      return fields;
    }
    if (was_quoted) return lineError(start_line, "text after a closing quote");
    field += c;
    ++pos;
  }
  if (quoted) return lineError(start_line, "a quoted field is not closed");
  fields.push_back(std::move(field));
  ++line;
  return fields;
}

Status checkCode(const std::string& code, std::size_t line, std::string_view what) {
  if (code.empty() || code.size() > sync::tuning::kMaxNameBytes) {
    return lineError(line, std::string(what) + " must be 1-128 bytes");
  }
  if (code.front() == '_')
    return lineError(line, std::string(what) + " '" + code + "': codes starting with _ are reserved");
  for (unsigned char c : code) {
    if (c < 0x21 || c == 0x7f || c == ',' || c == '"') {
      return lineError(line, std::string(what) + " '" + code + "' has a space, quote or control character");
    }
  }
  if (!sync::isCleanUtf8(code)) return lineError(line, std::string(what) + " is not UTF-8");
  return Status::ok();
}

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  const auto last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}

}  // namespace

std::string_view unitLevelName(UnitLevel level) {
  const auto i = static_cast<std::size_t>(level) - 1;
  return i < kLevelNames.size() ? kLevelNames[i] : "unknown";
}

std::optional<UnitLevel> unitLevelFromName(std::string_view name) {
  for (std::size_t i = 0; i < kLevelNames.size(); ++i) {
    if (kLevelNames[i] == name) return static_cast<UnitLevel>(i + 1);
  }
  return std::nullopt;
}

Result<std::vector<Unit>> parseUnitsCsv(std::string_view text) {
  if (text.size() > tuning::kMaxCsvBytes) {
    return Status::error(
        ErrorCode::kLimitExceeded,
        "the units file is larger than " + std::to_string(tuning::kMaxCsvBytes / (std::size_t{1024} * 1024)) + " MiB");
  }
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // a BOM, as spreadsheet programs write
  if (!sync::isCleanUtf8(text)) {
    return Status::error(ErrorCode::kInvalidArgument, "the units file is not UTF-8 (save it as CSV UTF-8)");
  }
  std::size_t pos = 0;
  std::size_t line = 1;
  auto header = readCsvRecord(text, pos, line);
  if (!header) return header.status();
  std::vector<std::string> expected = {"code", "parent_code", "level", "name"};
  for (auto& h : *header) h = trim(h);
  if (*header != expected) return lineError(1, "the header must be exactly: code,parent_code,level,name");

  std::vector<Unit> units;
  std::set<std::string, std::less<>> seen;
  while (pos < text.size()) {
    const std::size_t row_line = line;
    auto row = readCsvRecord(text, pos, line);
    if (!row) return row.status();
    if (row->size() == 1 && trim((*row)[0]).empty()) continue;  // a blank line
    if (row->size() != 4) {
      return lineError(row_line,
                       "expected 4 fields (code,parent_code,level,name), found " + std::to_string(row->size()));
    }
    if (units.size() >= tuning::kMaxUnits) {
      return Status::error(ErrorCode::kLimitExceeded,
                           "more than " + std::to_string(tuning::kMaxUnits) + " units in one file");
    }
    Unit u;
    u.code = trim((*row)[0]);
    u.parent_code = trim((*row)[1]);
    CS_RETURN_IF_ERROR(checkCode(u.code, row_line, "code"));
    if (!u.parent_code.empty()) CS_RETURN_IF_ERROR(checkCode(u.parent_code, row_line, "parent_code"));
    if (u.parent_code == u.code) return lineError(row_line, "a unit cannot be its own parent");
    auto level = unitLevelFromName(trim((*row)[2]));
    if (!level) {
      return lineError(row_line, "level '" + trim((*row)[2]) + "' is not one of province, district, commune, village");
    }
    u.level = *level;
    auto name = sync::toNfc(trim((*row)[3]));
    if (!name) return lineError(row_line, "name: " + name.status().message());
    u.name = std::move(name).value();
    if (u.name.empty() || u.name.size() > 4 * sync::tuning::kMaxNameBytes) {
      return lineError(row_line, "name must be 1-512 bytes");
    }
    if (!seen.insert(u.code).second) return lineError(row_line, "code '" + u.code + "' appears twice");
    units.push_back(std::move(u));
  }
  return units;
}

UnitTree::UnitTree(std::vector<Unit> units) : units_(std::move(units)) {
  std::sort(units_.begin(), units_.end(), [](const Unit& a, const Unit& b) { return a.code < b.code; });
  for (std::size_t i = 0; i < units_.size(); ++i) by_code_.emplace(units_[i].code, i);
  for (const auto& u : units_) {
    auto parent = effectiveParent(u);
    if (!parent.empty()) children_[std::string(parent)].push_back(u.code);
  }
}

const Unit* UnitTree::find(std::string_view code) const {
  auto it = by_code_.find(code);
  return it == by_code_.end() ? nullptr : &units_[it->second];
}

std::string_view UnitTree::effectiveParent(const Unit& unit) const {
  return unit.merged_into.empty() ? std::string_view(unit.parent_code) : std::string_view(unit.merged_into);
}

bool UnitTree::covers(std::string_view ancestor, std::string_view code) const {
  std::string_view current = code;
  for (std::size_t depth = 0; depth <= tuning::kMaxUnitDepth; ++depth) {
    if (current == ancestor) return true;
    const Unit* u = find(current);
    if (u == nullptr) return false;
    current = effectiveParent(*u);
    if (current.empty()) return false;
  }
  return false;  // deeper than any tree checkImport lets in
}

std::vector<Scope> UnitTree::subtree(std::string_view code) const {
  std::vector<Scope> out{std::string(code)};
  for (std::size_t i = 0; i < out.size() && out.size() <= units_.size() + 1; ++i) {
    auto it = children_.find(out[i]);
    if (it == children_.end()) continue;
    out.insert(out.end(), it->second.begin(), it->second.end());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Status UnitTree::checkImport(const std::vector<Unit>& incoming) const {
  std::map<std::string, const Unit*, std::less<>> merged;  // the tree as it would be
  for (const auto& u : units_) merged[u.code] = &u;
  std::map<std::string, std::size_t, std::less<>> line_of;
  for (std::size_t i = 0; i < incoming.size(); ++i) {
    merged[incoming[i].code] = &incoming[i];
    line_of[incoming[i].code] = i + 2;
  }
  for (std::size_t i = 0; i < incoming.size(); ++i) {
    const Unit& u = incoming[i];
    const std::size_t line = i + 2;
    if (u.parent_code.empty()) continue;
    auto parent = merged.find(u.parent_code);
    if (parent == merged.end()) {
      return lineError(line, "parent_code '" + u.parent_code + "' is neither in the file nor an existing unit");
    }
    if (static_cast<int>(parent->second->level) >= static_cast<int>(u.level)) {
      return lineError(line, "a " + std::string(unitLevelName(u.level)) + " cannot sit under a " +
                                 std::string(unitLevelName(parent->second->level)));
    }
    // Walk up: levels strictly rise, so a cycle is impossible, but a chain can still be too deep.
    std::size_t depth = 0;
    for (const Unit* p = parent->second; p != nullptr; ++depth) {
      if (depth > tuning::kMaxUnitDepth) return lineError(line, "the unit sits too deep in the tree");
      std::string_view up = p->merged_into.empty() ? std::string_view(p->parent_code) : p->merged_into;
      if (up.empty()) break;
      auto next = merged.find(up);
      p = next == merged.end() ? nullptr : next->second;
    }
  }
  return Status::ok();
}

}  // namespace communesync::server
