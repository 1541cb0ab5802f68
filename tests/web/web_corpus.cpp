// Writes the shared corpus the field app's WebAssembly build is checked against (wasm_corpus.test.mjs):
// what the native C++ says, for the same inputs, about form validation, change checks (NFC), the
// frames a device sends and the messages it reads. Both sides run the same sources; the corpus
// proves that the WebAssembly build (another compiler, another libc++, the browser's Unicode
// tables instead of utf8proc, no zstd) gives the same answers byte for byte.
//
//   web_corpus FORMS_DIR > corpus.json
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "communesync/sync/form.hpp"
#include "communesync/sync/frame.hpp"
#include "communesync/sync/json.hpp"
#include "communesync/sync/restore.hpp"
#include "communesync/sync/text.hpp"
#include "web_json.hpp"

namespace communesync {
namespace {

using nlohmann::json;
namespace proto = sync::proto;

std::string hexOf(const std::string& bytes) {
  return sync::toHex(bytes);
}

// Values a field of any type may be given: right ones, wrong types, out of range, Vietnamese text
// in decomposed form (NFD), empty.
std::vector<json> probes() {
  return {json(nullptr),
          json(""),
          json("Lò Văn Pá"),
          json("Lo\u0300 Va\u0306n Pa\u0301"),
          json(0),
          json(1),
          json(-1),
          json(7),
          json(51),
          json(2.5),
          json(true),
          json(false),
          json("ngheo"),
          json("khong_co"),
          json::array({"trong_trot", "chan_nuoi"}),
          json::array({"x"}),
          json(std::string(300, 'a')),
          json("2026-03-04"),
          json("04/03/2026"),
          json(json::array({json{{"loai", "bo"}, {"so_con", 2}}})),
          json(json::array({json{{"loai", "voi"}}}))};
}

json validationCases(const std::filesystem::path& forms_dir) {
  json cases = json::array();
  for (const auto& entry : std::filesystem::directory_iterator(forms_dir)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    auto form = sync::parseForm(text);
    if (!form) continue;  // not a form (model.json)
    auto check = [&](const json& fields) {
      auto values = web::fieldsFromJson(fields);
      if (!values) return;
      json errors = json::array();
      for (const auto& e : sync::validate(*form, *values)) {
        errors.push_back({{"field", e.field}, {"reason", e.reason}, {"text", e.text()}});
      }
      cases.push_back({{"form", text}, {"fields", fields}, {"expect", {{"errors", errors}}}});
    };
    check(json::object());
    const auto parsed = json::parse(text);
    for (const auto& field : parsed["fields"]) {
      for (const auto& probe : probes()) check(json{{field["name"].get<std::string>(), probe}});
    }
  }
  return cases;
}

json sampleChange(std::uint64_t seq, const std::string& text) {
  const std::string device = "0123456789abcdef0123456789abcdef";
  return {
      {"id", {{"device", device}, {"seq", seq}}},
      {"collection", "household_survey"},
      {"record", "0190f1e2d3c4b5a6978812345678abcd"},
      {"scope", "MAU-X01"},
      {"form_version", 1},
      {"capture_time_ms", 1780000000000 + seq},
      {"assignments", json::array({{{"field", "chu_ho"},
                                    {"value", text},
                                    {"stamp", {{"wall_ms", 1780000000000 + seq}, {"counter", 0}, {"device", device}}},
                                    {"seen", nullptr}}})}};
}

// The worker deletes the record: a deletion that saw the field's stamp, no assignments.
json sampleDeletion(std::uint64_t seq) {
  json change = sampleChange(seq, "");
  const json stamp = change["assignments"][0]["stamp"];
  change["assignments"] = json::array();
  change["deletion"] = {{"stamp", stamp}, {"seen", {{"chu_ho", stamp}}}};
  return change;
}

json changeCases() {
  std::vector<json> changes;
  for (const auto& text :
       {std::string("Lò Văn Pá"), std::string("Lo\u0300 Va\u0306n Pa\u0301"), std::string("Đinh Thị Ánh"),
        std::string("bad\u0000nul", 7), std::string(std::size_t{300} * 1024, 'x')}) {
    changes.push_back(sampleChange(changes.size() + 1, text));
  }
  changes.push_back(sampleDeletion(changes.size() + 1));
  json cases = json::array();
  for (const auto& change : changes) {
    auto parsed = web::changeFromJson(change);
    json expect;
    auto checked = parsed ? sync::validateChange(*parsed) : Result<sync::Change>(parsed.status());
    if (checked) {
      expect = {{"change", web::changeToJson(*checked)}};
    } else {
      expect = {{"error", {{"code", errorCodeName(checked.status().code())}, {"message", checked.status().message()}}}};
    }
    cases.push_back({{"change", change}, {"expect", expect}});
  }
  return cases;
}

json encodeCases() {
  json cases = json::array();
  std::vector<json> messages = {
      {{"type", "hello"},
       {"request_id", 1},
       {"device", "0123456789abcdef0123456789abcdef"},
       {"client_version", "communesync-field-app/1"},
       {"device_time_ms", 1780000000123}},
      {{"type", "push"},
       {"request_id", 2},
       {"changes", json::array({sampleChange(1, "Lò Văn Pá"), sampleChange(2, "Hồ Thị Mỹ"), sampleDeletion(3)})}},
      {{"type", "pull"}, {"request_id", 3}, {"checkpoints", {{"MAU-X01", 7}, {"MAU-X02", 0}}}, {"max_bytes", 65536}},
      {{"type", "pull"},
       {"request_id", 5},
       {"checkpoints", {{"MAU-X01", 7}}},
       {"max_bytes", 65536},
       {"steps_over_own", true}},
      {{"type", "file_query"},
       {"request_id", 4},
       {"hashes", json::array({"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"})}}};
  for (const auto& m : messages) {
    auto frame = web::encodeMessage(m);
    if (frame) cases.push_back({{"message", m}, {"frame", hexOf(*frame)}});
  }
  return cases;
}

json decodeCases() {
  json cases = json::array();
  auto add = [&](const std::string& frame) {
    auto envelope = proto::decodeFrame(frame, web::kMaxFrameBytes);
    if (!envelope) return;
    auto message = web::decodeMessage(*envelope);
    if (message) cases.push_back({{"frame", hexOf(frame)}, {"expect", *message}});
  };
  sync::DeviceId device = *sync::DeviceId::fromHex("0123456789abcdef0123456789abcdef");
  proto::Welcome welcome;
  welcome.device = device;
  welcome.user = "an";
  welcome.scopes = {"MAU-X01", "MAU-X01-T1"};
  welcome.server_time_ms = 1780000000999;
  welcome.incarnation = "inc-1";
  welcome.latest = {{"MAU-X01", 12}};
  welcome.limits.max_message_bytes = 4 << 20;
  welcome.limits.max_changes_per_push = 1000;
  add(proto::frameOf(welcome, 1, false));

  proto::PushResult result;
  result.results.push_back({{device, 1}, proto::Outcome::kAccepted, 13, 0, "", false, true, 1780000000500});
  result.results.push_back({{device, 3}, proto::Outcome::kAccepted, 14, 0, "", true});
  result.results.push_back({{device, 2},
                            proto::Outcome::kRejected,
                            0,
                            static_cast<std::uint16_t>(ErrorCode::kInvalidArgument),
                            "so_nhan_khau: phải từ 1 trở lên / must be at least 1",
                            false});
  add(proto::frameOf(result, 2, false));

  proto::PullBatch batch;
  sync::Record record;
  record.key = {"household_survey", "0190f1e2d3c4b5a6978812345678abcd"};
  record.scope = "MAU-X01";
  record.form_version = 1;
  record.fields["chu_ho"] = {sync::Value(std::string("Lò Văn Pá")), sync::Stamp{1780000000001, 0, device}, {}, {}};
  record.fields["so_nhan_khau"] = {sync::Value(std::int64_t{5}), sync::Stamp{1780000000002, 1, device}, {}, {}};
  batch.records.push_back(record);
  batch.checkpoints = {{"MAU-X01", 13}};
  batch.more = true;
  add(proto::frameOf(batch, 3, false));

  // A conflict, open and then settled by a reconciler: the phone replaces the first by the second.
  proto::PullBatch with_conflict;
  sync::Conflict conflict;
  conflict.key = record.key;
  conflict.scope = "MAU-X01";
  conflict.field = "so_nhan_khau";
  conflict.lost = {sync::Value(std::int64_t{6}), sync::Stamp{1780000000003, 0, device}};
  conflict.kept = {sync::Value(std::int64_t{5}), sync::Stamp{1780000000002, 1, device}};
  conflict.detected_ms = 1780000000500;
  with_conflict.conflicts.push_back(conflict);
  conflict.status = sync::ConflictStatus::kResolved;
  conflict.resolved_by = "tinh";
  conflict.resolved_ms = 1780000000900;
  conflict.reason = "đã hỏi lại hộ / asked the household";
  conflict.resolution = {std::nullopt, sync::Stamp{1780000000901, 0, device}};
  with_conflict.conflicts.push_back(conflict);
  add(proto::frameOf(with_conflict, 5, false));

  proto::FileAck ack;
  ack.hash = std::string(32, '\x5a');
  ack.have = 65536;
  add(proto::frameOf(ack, 6, false));
  ack.have = 0;
  ack.code = static_cast<std::uint16_t>(ErrorCode::kLimitExceeded);
  ack.reason = "quá hạn mức / over the quota";
  add(proto::frameOf(ack, 7, false));

  add(proto::frameOf(proto::Error{static_cast<std::uint16_t>(ErrorCode::kBusy), "bận / busy", true}, 4, false));
  add(proto::frameOf(proto::Notify{{{"MAU-X01", 14}}}, 0, false));
  return cases;
}

// The incarnation rule's resend: a record as the phone keeps it (deviceRecordToJson, which must read
// back to the same record) gives the same restore changes in both builds.
json restoreCases() {
  json cases = json::array();
  sync::DeviceId a = *sync::DeviceId::fromHex("0123456789abcdef0123456789abcdef");
  sync::DeviceId b = *sync::DeviceId::fromHex("fedcba9876543210fedcba9876543210");
  sync::Record record;
  record.key = {"household_survey", "0190f1e2d3c4b5a6978812345678abcd"};
  record.scope = "MAU-X01";
  record.form_version = 2;
  record.capture_time_ms = 1780000000100;
  record.receive_time_ms = 1780000000200;
  record.fields["chu_ho"] = {sync::Value(std::string("Lò Văn Pá")), {1780000000001, 0, a}, {}, {}};
  record.fields["so_nhan_khau"] = {
      sync::Value(std::int64_t{5}), {1780000000050, 2, b}, {1780000000002, 1, a}, {1780000000040, 0, b}};
  record.tombstone = {{1780000000040, 0, b}, {{"chu_ho", {1780000000001, 0, a}}}};
  sync::Record review;
  review.key = {"_reviews", "household_survey/0190f1e2d3c4b5a6978812345678abcd"};
  review.scope = "MAU-X01";
  review.fields["state"] = {sync::Value(std::string("needs_edits")), {1780000000300, 0, a}, {}, {}};
  for (const auto& r : {record, review}) {
    const json held = web::deviceRecordToJson(r);
    auto back = web::deviceRecordFromJson(held);
    if (!back || !(*back == r)) {
      throw std::runtime_error("deviceRecordFromJson does not give back the record " + r.key.id);
    }
    json changes = json::array();
    for (const auto& c : sync::restoreChanges(r)) changes.push_back(web::changeToJson(c));
    cases.push_back({{"record", held}, {"expect", {{"changes", changes}}}});
  }
  if (cases[0]["expect"]["changes"].size() != 3 || !cases[1]["expect"]["changes"].empty()) {
    throw std::runtime_error("a record with two seen tombstones and a deletion is three changes, a review none");
  }
  return cases;
}

// What an exact push result lays on the phone: the change merged into nothing at the result's
// receive time, unless the record held is a later copy (it holds the change's writes already).
json exactCases() {
  json cases = json::array();
  const json change = sampleChange(1, "Lò Văn Pá");
  auto made = web::exactRecord(change, 1780000000500, nullptr);
  if (!made || !made->has_value()) throw std::runtime_error("an exact result lays no record");
  json later = **made;
  later["fields"]["so_nhan_khau"] = 4;
  later["stamps"]["so_nhan_khau"] = {
      {"wall_ms", 1780000000900}, {"counter", 0}, {"device", "fedcba9876543210fedcba9876543210"}};
  json older = **made;
  older["stamps"]["chu_ho"]["wall_ms"] = 1780000000000;
  for (const json& held : {json(nullptr), later, older}) {
    if (held.is_object() && !web::deviceRecordFromJson(held)) throw std::runtime_error("a held record does not read");
    auto record = web::exactRecord(change, 1780000000500, held);
    if (!record) throw std::runtime_error(record.status().message());
    cases.push_back({{"change", change},
                     {"receive_time_ms", 1780000000500},
                     {"held", held},
                     {"expect", {{"record", record->value_or(json(nullptr))}}}});
  }
  if (!cases[1]["expect"]["record"].is_null() || cases[2]["expect"]["record"].is_null()) {
    throw std::runtime_error("a later copy stays, an older one is replaced");
  }
  return cases;
}

// Pieces of a photo: the one message whose bytes the page holds as bytes.
json filePutCases() {
  json cases = json::array();
  std::string data;
  for (int i = 0; i < 300; ++i) data.push_back(static_cast<char>(i * 7));
  const json headers = json::array({{{"request_id", 8}, {"hash", std::string(64, 'a')}, {"size", 300}, {"offset", 0}},
                                    {{"request_id", 9},
                                     {"hash", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
                                     {"size", 70000},
                                     {"offset", 65536}}});
  for (const auto& header : headers) {
    auto frame = web::encodeFilePut(header, data);
    if (frame) cases.push_back({{"header", header}, {"data", hexOf(data)}, {"frame", hexOf(*frame)}});
  }
  return cases;
}

}  // namespace
}  // namespace communesync

int main(int argc, char** argv) {
  using namespace communesync;
  if (argc != 2) {
    std::cerr << "usage: web_corpus FORMS_DIR > corpus.json\n";
    return 2;
  }
  json folds = json::array();
  for (const char* text : {"Hồ Văn Thử", "ĐINH THỊ ÁNH", "Lo\u0300 Va\u0306n Pa\u0301", "Xơ Đăng", "Cơ Tu", "mường",
                           "Nguyễn Ngọc Ẩn", "abc 123", "Ê-đê"}) {
    folds.push_back({{"text", text}, {"folded", sync::foldForSearch(text)}});
  }
  json corpus;
  try {
    corpus = {{"fold", folds},
              {"validate", validationCases(argv[1])},
              {"check_change", changeCases()},
              {"encode", encodeCases()},
              {"file_put", filePutCases()},
              {"restore", restoreCases()},
              {"decode", decodeCases()},
              {"exact", exactCases()}};
  } catch (const std::exception& e) {
    std::cerr << "web_corpus: " << e.what() << "\n";
    return 1;
  }
  std::cout << corpus.dump() << "\n";
  return 0;
}
