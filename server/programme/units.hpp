// The administrative unit tree: province, optionally district, commune, village. Units are data,
// imported from the official list (CSV), never code.
//
// Units change in real life: a merge (`units merge OLD --into NEW --on DAY`) does not rewrite any record.
// The old unit stays, marked merged into the new one, and counts as a child of it: a grant on NEW
// covers OLD and everything under it, so every record scoped to OLD stays visible.
//
// A scope that is not a unit of the tree (a server without an imported list) is a tree of its
// own: a grant on it covers exactly that code.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "communesync/storage/result.hpp"
#include "communesync/sync/record.hpp"

namespace communesync::server {

using sync::Scope;

enum class UnitLevel : std::uint8_t { kProvince = 1, kDistrict = 2, kCommune = 3, kVillage = 4 };

//! "province", "district", "commune", "village".
std::string_view unitLevelName(UnitLevel level);
std::optional<UnitLevel> unitLevelFromName(std::string_view name);

struct Unit {
  std::string code;         //!< the official code, unique
  std::string parent_code;  //!< empty for a root
  UnitLevel level = UnitLevel::kCommune;
  std::string name;         //!< Vietnamese, NFC
  std::string merged_into;  //!< set once the unit was merged into another
  //! The day the merge took effect, "YYYY-MM-DD"; empty when not known (then every year's reports
  //! read the unit as merged). Access ignores it: a grant on the new unit always covers the old.
  std::string merged_on;
  bool operator==(const Unit&) const = default;
};

//! Parses the units CSV: UTF-8, header `code,parent_code,level,name`, RFC 4180 quoting, names
//! normalised to NFC. Errors: kInvalidArgument "line N: ..." for the first malformed row, or
//! kLimitExceeded past tuning::kMaxUnits rows or kMaxCsvBytes.
Result<std::vector<Unit>> parseUnitsCsv(std::string_view text);

//! An immutable view of the tree; the server swaps in a new one after each change.
class UnitTree {
 public:
  UnitTree() = default;
  explicit UnitTree(std::vector<Unit> units);

  const Unit* find(std::string_view code) const;
  //! The parent a grant walks through: the unit it was merged into, else its parent.
  std::string_view effectiveParent(const Unit& unit) const;
  //! True if `code` is `ancestor` or lies under it.
  bool covers(std::string_view ancestor, std::string_view code) const;
  //! `code` and every unit under it (merged units included), sorted.
  std::vector<Scope> subtree(std::string_view code) const;
  //! Every unit, sorted by code.
  const std::vector<Unit>& all() const { return units_; }

  //! Checks that `incoming` can be merged into this tree: each parent exists (in the tree or in
  //! `incoming`), levels go down from parent to child, and no cycle forms. Errors name the line
  //! of the CSV (row index + 2).
  Status checkImport(const std::vector<Unit>& incoming) const;

 private:
  std::vector<Unit> units_;                                                // sorted by code
  std::map<std::string, std::size_t, std::less<>> by_code_;                // code -> index in units_
  std::map<std::string, std::vector<std::string>, std::less<>> children_;  // effective children
};

}  // namespace communesync::server
