// The C API: a thin border that catches every exception and turns every Status into a cs_error.
#include "communesync/communesync.h"

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <new>
#include <set>

#include "communesync/client/local_store.hpp"
#include "communesync/client/record_json.hpp"
#include "communesync/client/replicator.hpp"
#include "communesync/client/websocket_transport.hpp"
#include "communesync/sync/file_ref.hpp"

struct cs_store {
  std::unique_ptr<communesync::client::LocalStore> store;
  std::string device_hex;
  communesync::client::TlsOptions tls;  // set by cs_store_set_ca_file; used by login and sync
  std::atomic<bool> metered{false};     // set by cs_store_set_metered; read by every sync
};

struct cs_cancel {
  std::atomic<bool> raised{false};
};

namespace {

using communesync::ErrorCode;

// Every CS_ERR_* is its ErrorCode's number (setError copies the number): a code added on one side
// only fails the build here.
constexpr bool sameCode(int c, ErrorCode e) {
  return c == static_cast<int>(e);
}
static_assert(sameCode(CS_OK, ErrorCode::kOk));
static_assert(sameCode(CS_ERR_NOT_FOUND, ErrorCode::kNotFound));
static_assert(sameCode(CS_ERR_INVALID_ARGUMENT, ErrorCode::kInvalidArgument));
static_assert(sameCode(CS_ERR_LOCKED, ErrorCode::kLocked));
static_assert(sameCode(CS_ERR_NO_SPACE, ErrorCode::kNoSpace));
static_assert(sameCode(CS_ERR_CORRUPTION, ErrorCode::kCorruption));
static_assert(sameCode(CS_ERR_PERMISSION_DENIED, ErrorCode::kPermissionDenied));
static_assert(sameCode(CS_ERR_IO, ErrorCode::kIoError));
static_assert(sameCode(CS_ERR_BUSY, ErrorCode::kBusy));
static_assert(sameCode(CS_ERR_UNAVAILABLE, ErrorCode::kUnavailable));
static_assert(sameCode(CS_ERR_UNAUTHORIZED, ErrorCode::kUnauthorized));
static_assert(sameCode(CS_ERR_FORBIDDEN, ErrorCode::kForbidden));
static_assert(sameCode(CS_ERR_REJECTED, ErrorCode::kRejected));
static_assert(sameCode(CS_ERR_LIMIT_EXCEEDED, ErrorCode::kLimitExceeded));
static_assert(sameCode(CS_ERR_PROTOCOL, ErrorCode::kProtocol));
static_assert(sameCode(CS_ERR_CANCELLED, ErrorCode::kCancelled));
static_assert(sameCode(CS_ERR_INTERNAL, ErrorCode::kInternal));
static_assert(sameCode(CS_ERR_DEADLINE, ErrorCode::kDeadlineExceeded));
static_assert(sameCode(CS_ERR_ALREADY_EXISTS, ErrorCode::kAlreadyExists));
static_assert(sameCode(CS_ERR_ALREADY_EXISTS, communesync::kLastErrorCode),
              "a new ErrorCode needs its CS_ERR_* in communesync.h");
using communesync::Status;
namespace client = communesync::client;

void setError(cs_error* error, const Status& status) {
  if (error == nullptr) return;
  error->code = static_cast<int>(status.code());
  error->retryable = status.retryable() ? 1 : 0;
  std::snprintf(error->message, sizeof error->message, "%s", status.message().c_str());
}

void clearError(cs_error* error) {
  if (error == nullptr) return;
  error->code = CS_OK;
  error->retryable = 0;
  error->message[0] = '\0';
}

char* copyString(const std::string& s) {
  auto* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (out == nullptr) throw std::bad_alloc();
  std::memcpy(out, s.data(), s.size() + 1);
  return out;
}

// Runs `body`, turning a returned Status or any exception into -1 and *error.
template <class Body>
int guarded(cs_error* error, Body&& body) noexcept {
  clearError(error);
  try {
    Status s = body();
    if (s.isOk()) return 0;
    setError(error, s);
  } catch (const std::bad_alloc&) {
    setError(error, Status::error(ErrorCode::kInternal, "out of memory"));
  } catch (const std::exception& e) {
    setError(error, Status::error(ErrorCode::kInternal, std::string("unexpected: ") + e.what()));
  } catch (...) {
    setError(error, Status::error(ErrorCode::kInternal, "unexpected error"));
  }
  return -1;
}

Status needStore(const cs_store* store) {
  if (store == nullptr || !store->store) return Status::error(ErrorCode::kInvalidArgument, "store is NULL");
  return Status::ok();
}

Status needText(const char* text, const char* what) {
  if (text == nullptr) return Status::error(ErrorCode::kInvalidArgument, std::string(what) + " is NULL");
  return Status::ok();
}

std::chrono::milliseconds now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
}

// The C progress callback for the library's progress. C phase numbers are fixed (communesync.h).
std::function<void(const client::SyncProgress&)> progressOf(cs_progress_fn on_progress, void* context) {
  if (on_progress == nullptr) return {};
  return [on_progress, context](const client::SyncProgress& p) {
    using Phase = client::SyncProgress::Phase;
    switch (p.phase) {
      case Phase::kConnecting:
        return on_progress(context, CS_PHASE_CONNECTING, 0, 0);
      case Phase::kPushing:
        return on_progress(context, CS_PHASE_PUSHING, p.pushed, p.to_push);
      case Phase::kPulling:
        return on_progress(context, CS_PHASE_PULLING, p.pulled, 0);
      case Phase::kFiles:
        return on_progress(context, CS_PHASE_FILES, p.file_bytes, p.file_bytes_total);
      case Phase::kDone:
        return on_progress(context, CS_PHASE_DONE, 0, 0);
    }
  };
}

}  // namespace

extern "C" {

cs_store* cs_store_open(const char* path, cs_error* error) {
  cs_store* out = nullptr;
  guarded(error, [&]() -> Status {
    CS_RETURN_IF_ERROR(needText(path, "path"));
    auto store = client::LocalStore::open(path);
    if (!store) return store.status();
    auto handle = std::make_unique<cs_store>();
    handle->device_hex = (*store)->deviceId().hex();
    handle->store = std::move(store).value();
    out = handle.release();
    return Status::ok();
  });
  return out;
}

void cs_store_close(cs_store* store) {
  delete store;
}

const char* cs_store_device_id(const cs_store* store) {
  return store == nullptr ? "" : store->device_hex.c_str();
}

int cs_record_put(cs_store* store, const char* collection, const char* id, const char* scope, const char* fields_json,
                  char** out_id, cs_error* error) {
  return guarded(error, [&]() -> Status {
    CS_RETURN_IF_ERROR(needStore(store));
    CS_RETURN_IF_ERROR(needText(collection, "collection"));
    CS_RETURN_IF_ERROR(needText(fields_json, "fields_json"));
    auto json = nlohmann::json::parse(fields_json, nullptr, false);
    if (json.is_discarded() || !json.is_object()) {
      return Status::error(ErrorCode::kInvalidArgument, "fields_json must be a JSON object");
    }
    std::map<std::string, communesync::sync::Value> fields;
    for (const auto& [name, value] : json.items()) {
      auto v = client::valueFromJson(value);
      if (!v) return Status::error(ErrorCode::kInvalidArgument, "field '" + name + "': " + v.status().message());
      fields.emplace(name, std::move(v).value());
    }
    auto new_id = store->store->put(collection, id == nullptr ? "" : id, scope == nullptr ? "" : scope, fields, now());
    if (!new_id) return new_id.status();
    if (out_id != nullptr) *out_id = copyString(*new_id);
    return Status::ok();
  });
}

int cs_record_get(cs_store* store, const char* collection, const char* id, char** out_json, cs_error* error) {
  return guarded(error, [&]() -> Status {
    CS_RETURN_IF_ERROR(needStore(store));
    CS_RETURN_IF_ERROR(needText(collection, "collection"));
    CS_RETURN_IF_ERROR(needText(id, "id"));
    CS_RETURN_IF_ERROR(needText(reinterpret_cast<const char*>(out_json), "out_json"));
    *out_json = nullptr;
    auto record = store->store->get({collection, id});
    if (!record) return record.status();
    if (record->has_value()) *out_json = copyString(client::recordToJson(**record).dump());
    return Status::ok();
  });
}

int cs_record_list(cs_store* store, const char* collection, char** out_json_lines, cs_error* error) {
  return guarded(error, [&]() -> Status {
    CS_RETURN_IF_ERROR(needStore(store));
    CS_RETURN_IF_ERROR(needText(collection, "collection"));
    CS_RETURN_IF_ERROR(needText(reinterpret_cast<const char*>(out_json_lines), "out_json_lines"));
    auto records = store->store->list(collection);
    if (!records) return records.status();
    std::string lines;
    for (const auto& r : *records) lines += client::recordToJson(r).dump() + "\n";
    *out_json_lines = copyString(lines);
    return Status::ok();
  });
}

int cs_record_delete(cs_store* store, const char* collection, const char* id, cs_error* error) {
  return guarded(error, [&]() -> Status {
    CS_RETURN_IF_ERROR(needStore(store));
    CS_RETURN_IF_ERROR(needText(collection, "collection"));
    CS_RETURN_IF_ERROR(needText(id, "id"));
    return store->store->remove({collection, id}, now());
  });
}

int cs_store_status(cs_store* store, char** out_json, cs_error* error) {
  return guarded(error, [&]() -> Status {
    CS_RETURN_IF_ERROR(needStore(store));
    CS_RETURN_IF_ERROR(needText(reinterpret_cast<const char*>(out_json), "out_json"));
    auto status = store->store->status();
    if (!status) return status.status();
    const auto j = client::statusToJson(*status);
    *out_json = copyString(j.dump());
    return Status::ok();
  });
}

cs_cancel* cs_cancel_new(void) {
  return new (std::nothrow) cs_cancel();
}
void cs_cancel_raise(cs_cancel* cancel) {
  if (cancel != nullptr) cancel->raised.store(true);
}
void cs_cancel_free(cs_cancel* cancel) {
  delete cancel;
}

int cs_store_sync(cs_store* store, const char* server_url, const char* token, cs_progress_fn on_progress, void* context,
                  const cs_cancel* cancel, char** out_report_json, cs_error* error) {
  return cs_store_sync_for(store, server_url, token, 0, on_progress, context, cancel, out_report_json, error);
}

int cs_store_set_metered(cs_store* store, int metered, cs_error* error) {
  return guarded(error, [&]() -> Status {
    CS_RETURN_IF_ERROR(needStore(store));
    store->metered = metered != 0;
    return Status::ok();
  });
}

int cs_store_sync_for(cs_store* store, const char* server_url, const char* token, uint32_t max_ms,
                      cs_progress_fn on_progress, void* context, const cs_cancel* cancel, char** out_report_json,
                      cs_error* error) {
  return guarded(error, [&]() -> Status {
    CS_RETURN_IF_ERROR(needStore(store));
    CS_RETURN_IF_ERROR(needText(server_url, "server_url"));
    CS_RETURN_IF_ERROR(needText(token, "token"));
    client::WebSocketTransport transport(server_url, token, store->tls);
    client::SyncOptions options;
    if (max_ms > 0) options.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(max_ms);
    options.metered = store->metered.load();
    if (cancel != nullptr) options.cancel = &cancel->raised;
    if (on_progress != nullptr) {
      options.on_progress = progressOf(on_progress, context);
    }
    auto report = client::syncOnce(*store->store, transport, options);
    if (out_report_json != nullptr) {
      const auto j = client::reportToJson(report);
      *out_report_json = copyString(j.dump());
    }
    return report.status;
  });
}

int cs_file_attach(cs_store* store, const char* collection, const char* id, const char* field, const char* path,
                   char** out_hash, cs_error* error) {
  return guarded(error, [&]() -> Status {
    CS_RETURN_IF_ERROR(needStore(store));
    CS_RETURN_IF_ERROR(needText(collection, "collection"));
    CS_RETURN_IF_ERROR(needText(id, "id"));
    CS_RETURN_IF_ERROR(needText(field, "field"));
    CS_RETURN_IF_ERROR(needText(path, "path"));
    auto hash = store->store->attach({collection, id}, field, path, now());
    if (!hash) return hash.status();
    if (out_hash != nullptr) *out_hash = copyString(*hash);
    return Status::ok();
  });
}

int cs_file_fetch(cs_store* store, const char* server_url, const char* token, const char* hash, const char* out_path,
                  const cs_cancel* cancel, char** out_report_json, cs_error* error) {
  return guarded(error, [&]() -> Status {
    CS_RETURN_IF_ERROR(needStore(store));
    CS_RETURN_IF_ERROR(needText(hash, "hash"));
    CS_RETURN_IF_ERROR(needText(out_path, "out_path"));
    const auto raw = communesync::sync::fileHashFromHex(hash);
    if (raw.empty()) return Status::error(ErrorCode::kInvalidArgument, "hash is not 64 lowercase hex digits");
    auto held = store->store->files().entry(raw);
    if (!held) return held.status();
    if (!held->has_value() || !(*held)->complete) {
      CS_RETURN_IF_ERROR(needText(server_url, "server_url"));
      CS_RETURN_IF_ERROR(needText(token, "token"));
      client::WebSocketTransport transport(server_url, token, store->tls);
      client::SyncOptions options;
      if (cancel != nullptr) options.cancel = &cancel->raised;
      auto report = client::fetchOnce(*store->store, transport, raw, options);
      if (out_report_json != nullptr) *out_report_json = copyString(client::reportToJson(report).dump());
      CS_RETURN_IF_ERROR(report.status);
    }
    return store->store->files().copyTo(raw, out_path);
  });
}

int cs_files_set_eager(cs_store* store, const char* collections_json, cs_error* error) {
  return guarded(error, [&]() -> Status {
    CS_RETURN_IF_ERROR(needStore(store));
    CS_RETURN_IF_ERROR(needText(collections_json, "collections_json"));
    auto json = nlohmann::json::parse(collections_json, nullptr, false);
    if (!json.is_array()) return Status::error(ErrorCode::kInvalidArgument, "collections_json must be a JSON array");
    std::set<std::string> chosen;
    for (const auto& c : json) {
      if (!c.is_string()) return Status::error(ErrorCode::kInvalidArgument, "collections_json must hold names");
      chosen.insert(c.get<std::string>());
    }
    return store->store->setEagerCollections(chosen);
  });
}

int cs_store_set_ca_file(cs_store* store, const char* ca_file, cs_error* error) {
  return guarded(error, [&]() -> Status {
    CS_RETURN_IF_ERROR(needStore(store));
    store->tls.ca_file = ca_file == nullptr ? "" : ca_file;
    return Status::ok();
  });
}

int cs_store_login(cs_store* store, const char* server_url, const char* user, const char* password, char** out_token,
                   cs_error* error) {
  return guarded(error, [&]() -> Status {
    CS_RETURN_IF_ERROR(needStore(store));
    CS_RETURN_IF_ERROR(needText(server_url, "server_url"));
    CS_RETURN_IF_ERROR(needText(user, "user"));
    CS_RETURN_IF_ERROR(needText(password, "password"));
    if (out_token == nullptr) return Status::error(ErrorCode::kInvalidArgument, "out_token is NULL");
    auto token = client::passwordLogin(server_url, user, password, store->device_hex, store->tls);
    if (!token) return token.status();
    *out_token = copyString(*token);
    return Status::ok();
  });
}

void cs_string_free(char* text) {
  std::free(text);
}

}  // extern "C"
