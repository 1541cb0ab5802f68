#include "web_json.hpp"

#include "communesync/sync/file_ref.hpp"
#include "communesync/sync/frame.hpp"
#include "communesync/sync/json.hpp"
#include "communesync/sync/merge.hpp"

namespace communesync::web {

using nlohmann::json;
namespace proto = sync::proto;

namespace {

Status bad(const std::string& what) {
  return Status::error(ErrorCode::kInvalidArgument, what);
}

Result<sync::DeviceId> deviceFromJson(const json& j, const char* what) {
  if (!j.is_string()) return bad(std::string(what) + ": a device id (32 hex digits)");
  auto id = sync::DeviceId::fromHex(j.get<std::string>());
  if (!id) return bad(std::string(what) + ": a device id (32 hex digits)");
  return *id;
}

json checkpointsToJson(const proto::Checkpoints& checkpoints) {
  json out = json::object();
  for (const auto& [scope, seq] : checkpoints) out[scope] = seq;
  return out;
}

proto::Checkpoints checkpointsFromJson(const json& j) {
  proto::Checkpoints out;
  if (!j.is_object()) return out;
  for (const auto& [scope, seq] : j.items()) out[scope] = seq.get<std::uint64_t>();
  return out;
}

std::string hashFromHex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

json sideJson(const sync::ConflictSide& side) {
  return {{"value", side.value ? sync::valueToJson(*side.value) : json()},
          {"deleted", !side.value.has_value()},
          {"stamp", stampToJson(side.stamp)}};
}

// A conflict as the phone shows it. "key" names it as Conflict::id() does (record, field, the lost
// write's stamp) without the hash, which needs OpenSSL: a resolved conflict replaces the open one.
json conflictSummaryJson(const sync::Conflict& c) {
  const auto& s = c.lost.stamp;
  json out = {{"key", c.key.collection + "/" + c.key.id + "/" + c.field + "/" + std::to_string(s.wall_ms) + "." +
                          std::to_string(s.counter) + "." + s.device.hex()},
              {"collection", c.key.collection},
              {"record", c.key.id},
              {"scope", c.scope},
              {"field", c.field},
              {"status", c.status == sync::ConflictStatus::kOpen ? "open" : "resolved"},
              {"detected_ms", c.detected_ms},
              {"lost", sideJson(c.lost)},
              {"kept", sideJson(c.kept)},
              {"resolved_by", c.resolved_by},
              {"resolved_ms", c.resolved_ms},
              {"reason", c.reason}};
  if (c.status != sync::ConflictStatus::kOpen) out["resolution"] = sideJson(c.resolution);
  return out;
}

}  // namespace

json stampToJson(const sync::Stamp& stamp) {
  return {{"wall_ms", stamp.wall_ms}, {"counter", stamp.counter}, {"device", stamp.device.hex()}};
}

Result<sync::Stamp> stampFromJson(const json& j) {
  if (j.is_null()) return sync::Stamp{};
  if (!j.is_object()) return bad("a stamp is {wall_ms, counter, device}");
  sync::Stamp s;
  s.wall_ms = j.value("wall_ms", std::int64_t{0});
  s.counter = j.value("counter", std::uint32_t{0});
  auto device = deviceFromJson(j.value("device", json("00000000000000000000000000000000")), "stamp.device");
  if (!device) return device.status();
  s.device = *device;
  return s;
}

json changeToJson(const sync::Change& c) {
  json j = {{"id", {{"device", c.id.device.hex()}, {"seq", c.id.seq}}},
            {"collection", c.key.collection},
            {"record", c.key.id},
            {"scope", c.scope},
            {"form_version", c.form_version},
            {"capture_time_ms", c.capture_time_ms},
            {"seen_tombstone", stampToJson(c.seen_tombstone)}};
  json assignments = json::array();
  for (const auto& a : c.assignments) {
    assignments.push_back({{"field", a.field},
                           {"value", sync::valueToJson(a.value)},
                           {"stamp", stampToJson(a.stamp)},
                           {"seen", stampToJson(a.seen)}});
  }
  j["assignments"] = assignments;
  if (c.deletion) {
    json seen = json::object();
    for (const auto& [field, stamp] : c.deletion->seen) seen[field] = stampToJson(stamp);
    j["deletion"] = {{"stamp", stampToJson(c.deletion->stamp)}, {"seen", seen}};
  }
  return j;
}

Result<sync::Change> changeFromJson(const json& j) {
  if (!j.is_object()) return bad("a change is an object");
  sync::Change c;
  const auto& id = j.at("id");
  auto device = deviceFromJson(id.at("device"), "id.device");
  if (!device) return device.status();
  c.id = {*device, id.at("seq").get<std::uint64_t>()};
  c.key = {j.at("collection").get<std::string>(), j.at("record").get<std::string>()};
  c.scope = j.at("scope").get<std::string>();
  c.form_version = j.value("form_version", std::uint32_t{0});
  c.capture_time_ms = j.value("capture_time_ms", std::int64_t{0});
  auto seen_tombstone = stampFromJson(j.value("seen_tombstone", json()));
  if (!seen_tombstone) return seen_tombstone.status();
  c.seen_tombstone = *seen_tombstone;
  for (const auto& a : j.value("assignments", json::array())) {
    sync::FieldAssignment out;
    out.field = a.at("field").get<std::string>();
    auto value = sync::valueFromJson(a.at("value"));
    if (!value) return value.status();
    out.value = std::move(value).value();
    auto stamp = stampFromJson(a.at("stamp"));
    if (!stamp) return stamp.status();
    out.stamp = *stamp;
    auto seen = stampFromJson(a.value("seen", json()));
    if (!seen) return seen.status();
    out.seen = *seen;
    c.assignments.push_back(std::move(out));
  }
  if (j.contains("deletion") && !j["deletion"].is_null()) {
    sync::Deletion d;
    auto stamp = stampFromJson(j["deletion"].at("stamp"));
    if (!stamp) return stamp.status();
    d.stamp = *stamp;
    const json seen_fields = j["deletion"].value("seen", json::object());  // a copy, kept alive
    for (const auto& [field, s] : seen_fields.items()) {
      auto seen = stampFromJson(s);
      if (!seen) return seen.status();
      d.seen[field] = *seen;
    }
    c.deletion = std::move(d);
  }
  return c;
}

json deviceRecordToJson(const sync::Record& r) {
  json fields = json::object();
  json stamps = json::object();
  json seen = json::object();
  json seen_tombstones = json::object();
  for (const auto& [name, state] : r.fields) {
    fields[name] = sync::valueToJson(state.value);
    stamps[name] = stampToJson(state.stamp);
    seen[name] = stampToJson(state.seen);
    seen_tombstones[name] = stampToJson(state.seen_tombstone);
  }
  json tombstone_seen = json::object();
  for (const auto& [name, stamp] : r.tombstone.seen) tombstone_seen[name] = stampToJson(stamp);
  return {{"collection", r.key.collection},
          {"id", r.key.id},
          {"scope", r.scope},
          {"form_version", r.form_version},
          {"fields", fields},
          {"stamps", stamps},
          {"seen", seen},
          {"seen_tombstones", seen_tombstones},
          {"deleted", r.deleted()},
          {"tombstone", stampToJson(r.tombstone.stamp)},
          {"tombstone_seen", tombstone_seen},
          {"capture_time_ms", r.capture_time_ms},
          {"receive_time_ms", r.receive_time_ms},
          {"line", sync::recordToJson(r).dump()}};
}

Result<sync::Record> deviceRecordFromJson(const json& j) {
  if (!j.is_object()) return bad("a record is an object");
  sync::Record r;
  r.key = {j.at("collection").get<std::string>(), j.at("id").get<std::string>()};
  r.scope = j.at("scope").get<std::string>();
  r.form_version = j.value("form_version", std::uint32_t{0});
  r.capture_time_ms = j.value("capture_time_ms", std::int64_t{0});
  r.receive_time_ms = j.value("receive_time_ms", std::int64_t{0});
  const json none = json::object();
  auto stampOf = [&](const char* map, const std::string& name) {
    const auto& m = j.contains(map) ? j.at(map) : none;
    return stampFromJson(m.contains(name) ? m.at(name) : json());
  };
  // value() answers a copy: kept alive here, not iterated as a temporary.
  const json fields = j.value("fields", json::object());
  const json tombstone_seen = j.value("tombstone_seen", json::object());
  for (const auto& [name, value] : fields.items()) {
    auto v = sync::valueFromJson(value);
    if (!v) return Status::error(v.status().code(), name + ": " + v.status().message());
    auto stamp = stampOf("stamps", name);
    auto seen = stampOf("seen", name);
    auto seen_tombstone = stampOf("seen_tombstones", name);
    if (!stamp || !seen || !seen_tombstone) return bad(name + ": a stamp is {wall_ms, counter, device}");
    r.fields[name] = {std::move(v).value(), *stamp, *seen, *seen_tombstone};
  }
  auto tombstone = stampFromJson(j.value("tombstone", json()));
  if (!tombstone) return tombstone.status();
  r.tombstone.stamp = *tombstone;
  for (const auto& [name, s] : tombstone_seen.items()) {
    auto seen = stampFromJson(s);
    if (!seen) return seen.status();
    r.tombstone.seen[name] = *seen;
  }
  return r;
}

Result<std::map<std::string, sync::Value>> fieldsFromJson(const json& j) {
  if (!j.is_object()) return bad("the fields are an object {name: value}");
  std::map<std::string, sync::Value> out;
  for (const auto& [name, value] : j.items()) {
    auto v = sync::valueFromJson(value);
    if (!v) return Status::error(v.status().code(), name + ": " + v.status().message());
    out[name] = std::move(v).value();
  }
  return out;
}

Result<std::string> encodeMessage(const json& m) {
  if (!m.is_object() || !m.contains("type")) return bad("a message is {type, request_id, ...}");
  const auto type = m.at("type").get<std::string>();
  const auto id = m.value("request_id", std::uint64_t{0});
  if (type == "hello") {
    proto::Hello hello;
    auto device = deviceFromJson(m.at("device"), "hello.device");
    if (!device) return device.status();
    hello.device = *device;
    hello.client_version = m.value("client_version", std::string());
    hello.device_time_ms = m.value("device_time_ms", std::int64_t{0});
    hello.reads_zstd = false;  // this build has no zstd (frame_compression_none.cpp)
    return proto::frameOf(hello, id, false);
  }
  if (type == "push") {
    proto::Push push;
    push.restore = m.value("restore", false);
    push.acknowledged_below = m.value("acknowledged_below", std::uint64_t{0});
    for (const auto& c : m.at("changes")) {
      auto change = changeFromJson(c);
      if (!change) return change.status();
      push.changes.push_back(std::move(change).value());
    }
    return proto::frameOf(push, id, false);
  }
  if (type == "pull") {
    proto::Pull pull{checkpointsFromJson(m.value("checkpoints", json::object())),
                     m.value("max_bytes", std::uint64_t{256} * 1024), m.value("steps_over_own", false)};
    return proto::frameOf(pull, id, false);
  }
  if (type == "file_query") {
    proto::FileQuery query;
    for (const auto& h : m.at("hashes")) query.hashes.push_back(hashFromHex(h.get<std::string>()));
    return proto::frameOf(query, id, false);
  }
  return bad("the field app does not send '" + type + "' messages");
}

Result<std::string> encodeFilePut(const json& header, std::string_view data) {
  if (!header.is_object()) return bad("a file piece is {request_id, hash, size, offset}");
  const auto hash = header.value("hash", std::string());
  if (!sync::isFileHashHex(hash)) return bad("file_put.hash: the file's SHA-256, 64 lowercase hex digits");
  proto::FilePut put;
  put.hash = hashFromHex(hash);
  put.size = header.value("size", std::uint64_t{0});
  put.offset = header.value("offset", std::uint64_t{0});
  put.data.assign(data);
  return proto::frameOf(put, header.value("request_id", std::uint64_t{0}), false);
}

Result<std::optional<json>> exactRecord(const json& change, std::int64_t receive_time_ms, const json& held) {
  auto c = changeFromJson(change);
  if (!c) return c.status();
  if (!held.is_null()) {
    auto copy = deviceRecordFromJson(held);
    if (!copy) return copy.status();
    if (sync::holdsWrites(*copy, *c)) return std::optional<json>();
  }
  return std::optional<json>(deviceRecordToJson(sync::merge(std::nullopt, *c, receive_time_ms).record));
}

Result<json> decodeMessage(const proto::Envelope& envelope) {
  json out = {{"type", proto::messageTypeName(envelope.type)}, {"request_id", envelope.request_id}};
  switch (envelope.type) {
    case proto::MessageType::kWelcome: {
      auto w = proto::unwrap<proto::Welcome>(envelope);
      if (!w) return w.status();
      out["device"] = w->device.hex();
      out["user"] = w->user;
      out["scopes"] = w->scopes;
      out["server_time_ms"] = w->server_time_ms;
      out["incarnation"] = w->incarnation;
      out["latest"] = checkpointsToJson(w->latest);
      out["limits"] = {{"max_message_bytes", w->limits.max_message_bytes},
                       {"max_changes_per_push", w->limits.max_changes_per_push},
                       {"max_pull_bytes", w->limits.max_pull_bytes},
                       {"max_file_bytes", w->limits.max_file_bytes},
                       {"max_piece_bytes", w->limits.max_piece_bytes}};
      return out;
    }
    case proto::MessageType::kPushResult: {
      auto r = proto::unwrap<proto::PushResult>(envelope);
      if (!r) return r.status();
      json results = json::array();
      for (const auto& c : r->results) {
        results.push_back({{"id", {{"device", c.id.device.hex()}, {"seq", c.id.seq}}},
                           {"outcome", c.outcome == proto::Outcome::kAccepted ? "accepted" : "rejected"},
                           {"server_seq", c.server_seq},
                           {"code", errorCodeName(static_cast<ErrorCode>(c.code))},
                           {"reason", c.reason},
                           {"clamped", c.clamped},
                           {"exact", c.exact},
                           {"receive_time_ms", c.receive_time_ms}});
      }
      out["results"] = results;
      out["latest"] = checkpointsToJson(r->latest);
      return out;
    }
    case proto::MessageType::kPullBatch: {
      auto b = proto::unwrap<proto::PullBatch>(envelope);
      if (!b) return b.status();
      json records = json::array();
      for (const auto& r : b->records) records.push_back(deviceRecordToJson(r));
      json conflicts = json::array();
      for (const auto& c : b->conflicts) conflicts.push_back(conflictSummaryJson(c));
      out["records"] = records;
      out["conflicts"] = conflicts;
      out["checkpoints"] = checkpointsToJson(b->checkpoints);
      out["more"] = b->more;
      out["resync"] = b->resync;
      return out;
    }
    case proto::MessageType::kNotify: {
      auto n = proto::unwrap<proto::Notify>(envelope);
      if (!n) return n.status();
      out["latest"] = checkpointsToJson(n->latest);
      return out;
    }
    case proto::MessageType::kAccess: {
      auto a = proto::unwrap<proto::Access>(envelope);
      if (!a) return a.status();
      out["scopes"] = a->scopes;
      out["latest"] = checkpointsToJson(a->latest);
      return out;
    }
    case proto::MessageType::kError: {
      auto e = proto::unwrap<proto::Error>(envelope);
      if (!e) return e.status();
      out["code"] = errorCodeName(static_cast<ErrorCode>(e->code));
      out["message"] = e->message;
      out["retryable"] = e->retryable;
      return out;
    }
    case proto::MessageType::kFileStates: {
      auto s = proto::unwrap<proto::FileStates>(envelope);
      if (!s) return s.status();
      json files = json::array();
      for (const auto& f : s->files) {
        files.push_back({{"hash", sync::toHex(f.hash)},
                         {"size", f.size},
                         {"have", f.have},
                         {"complete", f.complete},
                         {"readable", f.readable}});
      }
      out["files"] = files;
      return out;
    }
    case proto::MessageType::kFileAck: {
      auto a = proto::unwrap<proto::FileAck>(envelope);
      if (!a) return a.status();
      out["hash"] = sync::toHex(a->hash);
      out["have"] = a->have;
      out["complete"] = a->complete;
      out["code"] = errorCodeName(static_cast<ErrorCode>(a->code));
      out["reason"] = a->reason;
      return out;
    }
    default:
      return Status::error(ErrorCode::kProtocol,
                           std::string("the field app does not read '") + proto::messageTypeName(envelope.type) + "'");
  }
}

}  // namespace communesync::web
