// Small builders for records and changes in tests.
#pragma once

#include "communesync/sync/change.hpp"

namespace communesync::testing {

inline sync::DeviceId deviceNo(std::uint8_t n) {
  sync::DeviceId d;
  d.bytes[0] = 0xd0;
  d.bytes[15] = n;
  return d;
}

inline sync::Stamp stampAt(std::int64_t wall_ms, std::uint8_t device, std::uint32_t counter = 0) {
  return sync::Stamp{wall_ms, counter, deviceNo(device)};
}

//! An edit of one field by `device` at `wall_ms`, having seen `seen` for the field.
inline sync::Change edit(std::uint8_t device, std::uint64_t seq, std::string field, sync::Value value,
                         sync::Stamp stamp, sync::Stamp seen = {}, sync::Stamp seen_tombstone = {}) {
  sync::Change c;
  c.id = {deviceNo(device), seq};
  c.key = {"household", "h1"};
  c.scope = "xa-01";
  c.capture_time_ms = stamp.wall_ms;
  c.assignments.push_back({std::move(field), std::move(value), stamp, seen});
  c.seen_tombstone = seen_tombstone;
  return c;
}

inline sync::Change deletion(std::uint8_t device, std::uint64_t seq, sync::Stamp stamp,
                             std::map<std::string, sync::Stamp, std::less<>> seen = {}) {
  sync::Change c;
  c.id = {deviceNo(device), seq};
  c.key = {"household", "h1"};
  c.scope = "xa-01";
  c.capture_time_ms = stamp.wall_ms;
  c.deletion = sync::Deletion{stamp, std::move(seen)};
  return c;
}

}  // namespace communesync::testing
