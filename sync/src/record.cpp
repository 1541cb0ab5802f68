#include "communesync/sync/record.hpp"

namespace communesync::sync {

Stamp Record::maxFieldStamp() const {
  Stamp max;
  for (const auto& [name, state] : fields) {
    if (state.stamp > max) max = state.stamp;
  }
  return max;
}

bool Record::deleted() const {
  return !tombstone.stamp.isZero() && tombstone.stamp > maxFieldStamp();
}

Stamp Record::fieldStamp(std::string_view field) const {
  auto it = fields.find(field);
  return it == fields.end() ? Stamp{} : it->second.stamp;
}

}  // namespace communesync::sync
