#include "access/access.hpp"

#include <algorithm>

namespace communesync::server {
namespace {

constexpr std::array<std::string_view, 5> kRoleNames = {"field", "sponsor", "district", "reconciler", "admin"};

bool isSponsorCollection(std::string_view collection) {
  return std::find(kSponsorCollections.begin(), kSponsorCollections.end(), collection) != kSponsorCollections.end();
}

}  // namespace

std::string_view roleName(Role role) {
  const auto i = static_cast<std::size_t>(role) - 1;
  return i < kRoleNames.size() ? kRoleNames[i] : "unknown";
}

std::optional<Role> roleFromName(std::string_view name) {
  for (std::size_t i = 0; i < kRoleNames.size(); ++i) {
    if (kRoleNames[i] == name) return static_cast<Role>(i + 1);
  }
  return std::nullopt;
}

Result<Grant> parseGrant(std::string_view text) {
  Grant grant;
  auto colon = text.find(':');
  std::string_view unit = text;
  if (colon != std::string_view::npos) {
    auto role = roleFromName(text.substr(0, colon));
    if (!role) {
      return Status::error(
          ErrorCode::kInvalidArgument,
          "'" + std::string(text.substr(0, colon)) + "' is not a role (field, sponsor, district, reconciler, admin)");
    }
    grant.role = *role;
    unit = text.substr(colon + 1);
  }
  if (unit.empty() || unit.size() > 128 || unit.front() == '_' ||
      unit.find_first_of(" \t\r\n,\"") != std::string_view::npos) {
    return Status::error(ErrorCode::kInvalidArgument, "'" + std::string(unit) + "' is not a unit code");
  }
  grant.unit = std::string(unit);
  return grant;
}

std::string grantText(const Grant& grant) {
  return std::string(roleName(grant.role)) + ":" + grant.unit;
}

Access::Access(std::vector<Grant> grants, const UnitTree& units) : grants_(std::move(grants)) {
  for (const auto& g : grants_) {
    if (g.role == Role::kAdmin) {
      // Only on a root: an admin grant on a unit below (stored before the rule) administers nothing.
      admin_ |= isRootUnit(units, g.unit);
      continue;  // administers; reads no records by itself
    }
    reconciler_ |= g.role == Role::kReconciler;
    for (auto& scope : units.subtree(g.unit)) {
      switch (g.role) {
        case Role::kReconciler:
          reconcile_.insert(scope);
          write_any_.insert(scope);
          break;
        case Role::kField:
          write_any_.insert(scope);
          break;
        case Role::kSponsor:
          write_sponsor_.insert(scope);
          break;
        case Role::kDistrict: {
          const Unit* u = units.find(scope);
          // The district itself, and districts merged into it: never its communes or villages.
          if (scope == g.unit || (u != nullptr && u->merged_into == g.unit && u->level <= UnitLevel::kDistrict)) {
            write_district_.insert(scope);
          }
          break;
        }
        case Role::kAdmin:
          break;
      }
      readable_set_.insert(std::move(scope));
    }
  }
  // Every device reads the forms: they are how it knows what to ask and what the server accepts.
  readable_set_.insert(std::string(kFormsScope));
  readable_.assign(readable_set_.begin(), readable_set_.end());
}

bool Access::mayReconcile(std::string_view scope) const {
  return reconcile_.count(scope) != 0;
}

bool Access::mayRead(std::string_view scope) const {
  return readable_set_.count(scope) != 0;
}

Status Access::mayWrite(std::string_view scope, std::string_view collection) const {
  if (!collection.empty() && collection.front() == '_') {
    return Status::error(ErrorCode::kForbidden, "collection '" + std::string(collection) +
                                                    "' is the server's own (forms, reviews): no device writes it");
  }
  if (write_any_.count(scope) != 0) return Status::ok();
  if (write_sponsor_.count(scope) != 0 && isSponsorCollection(collection)) return Status::ok();
  if (write_district_.count(scope) != 0) return Status::ok();
  if (write_sponsor_.count(scope) != 0) {
    return Status::error(ErrorCode::kForbidden,
                         "a sponsor unit writes only twinning_plan and support_result in unit '" + std::string(scope) +
                             "', not " + std::string(collection));
  }
  if (readable_set_.count(scope) != 0) {
    return Status::error(ErrorCode::kForbidden, "you may read unit '" + std::string(scope) + "' but not write there");
  }
  return Status::error(ErrorCode::kForbidden, "you may not write in unit '" + std::string(scope) + "'");
}

bool isRootUnit(const UnitTree& units, std::string_view code) {
  const Unit* u = units.find(code);
  return u == nullptr || (u->parent_code.empty() && u->merged_into.empty());
}

}  // namespace communesync::server
