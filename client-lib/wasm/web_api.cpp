// The field app's door into the C++ sync code (compiled to WebAssembly with emscripten): the same
// form validation, change checks and wire frames as the server and the C++ client, with JSON on
// the JavaScript side. One protocol, communesync.v1, and one set of rules.
//
//   cs_web_validate(form_json, fields_json)  -> {"errors": [{"field", "reason", "text"}]}
//   cs_web_check_change(change_json)         -> {"change": ...} normalised (NFC), or {"error"}
//   cs_web_encode(message_json)              -> [u32 length][frame bytes]  ({"type", "request_id", ...})
//   cs_web_encode_file_put(header_json, data, size) -> [u32 length][frame]  ({"request_id", "hash", "size", "offset"})
//   cs_web_decode(frame, size)               -> {"type", "request_id", ...} or {"error"}
//   cs_web_restore_changes(record_json)      -> {"changes": [...]} that carry the record whole (restore.hpp)
//   cs_web_fold(text)                        -> {"folded"}: the search key (no accents, no case)
//   cs_web_exact_record(args_json)           -> {"record": the record an exact result lays, or null}
//                                               ({"change", "receive_time_ms", "held": record or null})
//
// Every result is malloc'd: the caller frees it (_free). No exception leaves this file.
#include <emscripten.h>

#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "communesync/sync/change.hpp"
#include "communesync/sync/form.hpp"
#include "communesync/sync/frame.hpp"
#include "communesync/sync/json.hpp"
#include "communesync/sync/restore.hpp"
#include "communesync/sync/text.hpp"
#include "communesync/sync/tuning.hpp"
#include "web_json.hpp"

using nlohmann::json;
namespace sync = communesync::sync;
namespace proto = communesync::sync::proto;
namespace web = communesync::web;

namespace {

char* copyOut(const std::string& text) {
  auto* out = static_cast<char*>(std::malloc(text.size() + 1));
  if (out == nullptr) return nullptr;
  std::memcpy(out, text.data(), text.size());
  out[text.size()] = '\0';
  return out;
}

char* errorOut(const communesync::Status& status) {
  return copyOut(
      json{{"error", {{"code", communesync::errorCodeName(status.code())}, {"message", status.message()}}}}.dump());
}

// [u32 length][frame bytes], malloc'd; null when there is no frame.
char* frameOut(const communesync::Result<std::string>& frame) {
  if (!frame) return nullptr;
  auto* out = static_cast<char*>(std::malloc(frame->size() + 4));
  if (out == nullptr) return nullptr;
  const auto size = static_cast<std::uint32_t>(frame->size());
  std::memcpy(out, &size, 4);  // little-endian, as WebAssembly is
  std::memcpy(out + 4, frame->data(), frame->size());
  return out;
}

// Runs `body`, turning a JSON type error (a field of the wrong type) into an error result.
template <class F>
char* guarded(F&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    return errorOut(communesync::Status::error(communesync::ErrorCode::kInvalidArgument, e.what()));
  }
}

}  // namespace

extern "C" {

EMSCRIPTEN_KEEPALIVE char* cs_web_validate(const char* form_json, const char* fields_json) {
  return guarded([&]() -> char* {
    auto form = sync::parseForm(form_json);
    if (!form) return errorOut(form.status());
    auto fields = web::fieldsFromJson(json::parse(fields_json));
    if (!fields) return errorOut(fields.status());
    json errors = json::array();
    for (const auto& e : sync::validate(*form, *fields)) {
      errors.push_back({{"field", e.field}, {"reason", e.reason}, {"text", e.text()}});
    }
    return copyOut(json{{"errors", errors}}.dump());
  });
}

EMSCRIPTEN_KEEPALIVE char* cs_web_check_change(const char* change_json) {
  return guarded([&]() -> char* {
    auto change = web::changeFromJson(json::parse(change_json));
    if (!change) return errorOut(change.status());
    auto checked = sync::validateChange(std::move(change).value());
    if (!checked) return errorOut(checked.status());
    return copyOut(json{{"change", web::changeToJson(*checked)}}.dump());
  });
}

EMSCRIPTEN_KEEPALIVE char* cs_web_encode(const char* message_json) {
  try {
    return frameOut(web::encodeMessage(json::parse(message_json)));
  } catch (const std::exception&) {
    return nullptr;
  }
}

EMSCRIPTEN_KEEPALIVE char* cs_web_encode_file_put(const char* header_json, const char* data, int size) {
  try {
    return frameOut(
        web::encodeFilePut(json::parse(header_json), std::string_view(data, static_cast<std::size_t>(size))));
  } catch (const std::exception&) {
    return nullptr;
  }
}

EMSCRIPTEN_KEEPALIVE char* cs_web_decode(const char* frame, int size) {
  return guarded([&]() -> char* {
    auto envelope = proto::decodeFrame(std::string_view(frame, static_cast<std::size_t>(size)), web::kMaxFrameBytes);
    if (!envelope) return errorOut(envelope.status());
    auto message = web::decodeMessage(*envelope);
    if (!message) return errorOut(message.status());
    return copyOut(message->dump());
  });
}

//! The incarnation rule's resend of one record the phone holds: the changes, ids left at zero.
EMSCRIPTEN_KEEPALIVE char* cs_web_restore_changes(const char* record_json) {
  return guarded([&]() -> char* {
    auto record = web::deviceRecordFromJson(json::parse(record_json));
    if (!record) return errorOut(record.status());
    json changes = json::array();
    for (const auto& c : sync::restoreChanges(*record)) changes.push_back(web::changeToJson(c));
    return copyOut(json{{"changes", changes}}.dump());
  });
}

//! The search key of `text`, as the dashboard's record search folds it (text.hpp).
EMSCRIPTEN_KEEPALIVE char* cs_web_fold(const char* text) {
  return guarded([&]() -> char* { return copyOut(json{{"folded", sync::foldForSearch(text)}}.dump()); });
}

//! The record an exact push result lays on the phone (web_json.hpp exactRecord); null: keep `held`.
EMSCRIPTEN_KEEPALIVE char* cs_web_exact_record(const char* args_json) {
  return guarded([&]() -> char* {
    const auto args = json::parse(args_json);
    auto record = web::exactRecord(args.at("change"), args.at("receive_time_ms").get<std::int64_t>(),
                                   args.value("held", json(nullptr)));
    if (!record) return errorOut(record.status());
    return copyOut(json{{"record", record->value_or(json(nullptr))}}.dump());
  });
}

//! What encode last refused, for the page to show (encode returns null then).
EMSCRIPTEN_KEEPALIVE char* cs_web_encode_error(const char* message_json) {
  return guarded([&]() -> char* {
    auto frame = web::encodeMessage(json::parse(message_json));
    return frame ? copyOut("{}") : errorOut(frame.status());
  });
}

}  // extern "C"
