// THE ACCESS RULE: who may read and write which records. Every push and pull of every session is
// checked here, against the user's grants as they are now (not as they were at login).
//
// A grant is a role on a unit; it covers the unit and everything under it in the unit tree
// (units.hpp), merged units included. A user may hold several grants.
//
//   role        reads                  writes
//   field       the covered units      any record there
//   sponsor     the covered units      only plans and support results (kSponsorCollections) there
//   district    the covered units      only records scoped to the granted unit itself (district level)
//   reconciler  the covered units      any record there; resolves conflicts and reviews
//   admin       nothing by itself      nothing; manages users, units and forms
//
// Reads are the union of the grants; a write is allowed if any one grant allows it. Collections
// whose name starts with '_' (_forms, _reviews) are the server's own: no grant writes them.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "communesync/storage/result.hpp"
#include "programme/units.hpp"

namespace communesync::server {

//! The collection and scope that carry forms to devices: every device reads them.
inline constexpr std::string_view kFormsCollection = "_forms";
inline constexpr std::string_view kFormsScope = "_forms";

enum class Role : std::uint8_t { kField = 1, kSponsor = 2, kDistrict = 3, kReconciler = 4, kAdmin = 5 };

//! The collections a sponsor unit writes: its signed plans and the support it delivered.
inline constexpr std::array<std::string_view, 2> kSponsorCollections = {"twinning_plan", "support_result"};

std::string_view roleName(Role role);
//! A unit no other unit holds: a root of the tree, or a scope the tree does not know. Admin is
//! granted only there (an admin administers the whole server).
bool isRootUnit(const UnitTree& units, std::string_view code);
std::optional<Role> roleFromName(std::string_view name);

struct Grant {
  Role role = Role::kField;
  Scope unit;
  auto operator<=>(const Grant&) const = default;
};

//! "ROLE:UNIT" (or a bare "UNIT", meaning field). Errors: kInvalidArgument naming the bad part.
Result<Grant> parseGrant(std::string_view text);
//! "ROLE:UNIT".
std::string grantText(const Grant& grant);

//! One user's rights under one version of the unit tree. Cheap to ask; build a new one when the
//! grants or the tree change.
class Access {
 public:
  Access() = default;
  Access(std::vector<Grant> grants, const UnitTree& units);

  //! Every unit this user may read, sorted.
  const std::vector<Scope>& readable() const { return readable_; }
  bool mayRead(std::string_view scope) const;
  //! Ok, or kForbidden with a reason a person can act on.
  Status mayWrite(std::string_view scope, std::string_view collection) const;
  bool isAdmin() const { return admin_; }
  bool isReconciler() const { return reconciler_; }
  //! True if a reconciler grant covers `scope`: its conflicts may be settled and its records reviewed.
  bool mayReconcile(std::string_view scope) const;
  const std::vector<Grant>& grants() const { return grants_; }

 private:
  std::vector<Grant> grants_;
  std::vector<Scope> readable_;
  std::set<Scope, std::less<>> readable_set_;
  // Decided with the tree once, when built: where each kind of write is allowed.
  std::set<Scope, std::less<>> write_any_;       // field and reconciler grants
  std::set<Scope, std::less<>> write_sponsor_;   // sponsor grants: kSponsorCollections only
  std::set<Scope, std::less<>> write_district_;  // district grants: the district level only
  std::set<Scope, std::less<>> reconcile_;       // reconciler grants
  bool admin_ = false;
  bool reconciler_ = false;
};

}  // namespace communesync::server
