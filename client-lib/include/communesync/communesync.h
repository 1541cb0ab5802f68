/* communesync client library: the C API.
 *
 * One header for every language (Kotlin through JNI, Swift through a module map, C).
 * Conventions:
 *  - Opaque handles; functions are named cs_<noun>_<verb>.
 *  - Functions returning int return 0 on success and -1 on failure, filling *error when it is not
 *    NULL. No C++ exception ever crosses this API.
 *  - Strings in and out are UTF-8. Strings returned through char** are owned by the caller and
 *    released with cs_string_free().
 *  - Records and values travel as JSON text: a record is
 *      {"collection":"household","fields":{"head":"Lò Văn Pá","members":6},"id":"…","scope":"xa-01"}
 * Threads: a cs_store may be used from several threads; writes are serialised inside. cs_store_sync
 * blocks its caller and calls on_progress on that same thread. Use one cs_store per process:
 * opening a store another process holds fails with CS_ERR_LOCKED, at once.
 */
#ifndef COMMUNESYNC_H
#define COMMUNESYNC_H

#include <stddef.h>
#include <stdint.h>

/* The C API is named the C way (cs_store_open), not by the C++ code's rules: */
/* NOLINTBEGIN(readability-identifier-naming) */
#ifdef __cplusplus
extern "C" {
#endif

/* Error codes: the same numbers as communesync::ErrorCode. */
enum {
  CS_OK = 0,
  CS_ERR_NOT_FOUND = 1,
  CS_ERR_INVALID_ARGUMENT = 2,
  CS_ERR_LOCKED = 3,
  CS_ERR_NO_SPACE = 4,
  CS_ERR_CORRUPTION = 5,
  CS_ERR_PERMISSION_DENIED = 6,
  CS_ERR_IO = 7,
  CS_ERR_BUSY = 8,
  CS_ERR_UNAVAILABLE = 9,
  CS_ERR_UNAUTHORIZED = 10,
  CS_ERR_FORBIDDEN = 11,
  CS_ERR_REJECTED = 12,
  CS_ERR_LIMIT_EXCEEDED = 13,
  CS_ERR_PROTOCOL = 14,
  CS_ERR_CANCELLED = 15,
  CS_ERR_INTERNAL = 16,
  CS_ERR_DEADLINE = 17,      /* a sync stopped cleanly at its deadline (cs_store_sync_for); retryable */
  CS_ERR_ALREADY_EXISTS = 18 /* the thing to create exists already */
};

typedef struct cs_error {
  int code;          /* CS_OK or a CS_ERR_* value */
  int retryable;     /* 1 if trying again later may succeed (network, busy) */
  char message[512]; /* for a person to read; NUL-terminated, truncated if longer */
} cs_error;

typedef struct cs_store cs_store;
typedef struct cs_cancel cs_cancel;

/* Sync phases passed to the progress callback. */
enum { CS_PHASE_CONNECTING = 0, CS_PHASE_PUSHING = 1, CS_PHASE_PULLING = 2, CS_PHASE_DONE = 3, CS_PHASE_FILES = 4 };

/* Progress: `done` of `total` changes pushed while pushing (total known), records pulled while pulling,
 * bytes of the current file sent or received of its size while moving files. */
typedef void (*cs_progress_fn)(void* context, int phase, uint64_t done, uint64_t total);

/* Opens (creating if needed) the local store in folder `path`. Returns NULL on error. */
cs_store* cs_store_open(const char* path, cs_error* error);
/* Closes the store and frees the handle. NULL is ignored. */
void cs_store_close(cs_store* store);
/* This install's device id, 32 hex digits; valid until cs_store_close. */
const char* cs_store_device_id(const cs_store* store);

/* Creates a record (id NULL or "": a new id) or updates the fields given in `fields_json` (a JSON
 * object) of an existing one. `scope` is needed for a new record. On success *out_id (if not NULL)
 * receives the record id. The write is durable when this returns. */
int cs_record_put(cs_store* store, const char* collection, const char* id, const char* scope, const char* fields_json,
                  char** out_id, cs_error* error);
/* The record as JSON in *out_json, or NULL in *out_json if it does not exist or is deleted. */
int cs_record_get(cs_store* store, const char* collection, const char* id, char** out_json, cs_error* error);
/* Live records of `collection`, one JSON object per line, sorted by id. */
int cs_record_list(cs_store* store, const char* collection, char** out_json_lines, cs_error* error);
/* Deletes a record. CS_ERR_NOT_FOUND if it is absent or already deleted. */
int cs_record_delete(cs_store* store, const char* collection, const char* id, cs_error* error);

/* {"pending":N,"rejected":[{"collection","id","code","reason"}...],"conflicts":[...],"last_sync_ms":T,
 *  "files_pending":N,"file_bytes_pending":B} (files attached here that have not all gone up) */
int cs_store_status(cs_store* store, char** out_json, cs_error* error);

/* A cancellation flag another thread may raise while cs_store_sync runs. */
cs_cancel* cs_cancel_new(void);
void cs_cancel_raise(cs_cancel* cancel);
void cs_cancel_free(cs_cancel* cancel);

/* Trusts the CA certificates in the PEM file `ca_file` (a provincial CA) for later wss:// and https://
 * connections of this handle, instead of the system's; NULL or "" goes back to the system's. */
int cs_store_set_ca_file(cs_store* store, const char* ca_file, cs_error* error);

/* Logs this device in with a user name and password; *out_token receives the device's own token,
 * to keep (in the platform's secure storage) and pass to cs_store_sync. CS_ERR_UNAUTHORIZED for a
 * wrong name or password, CS_ERR_FORBIDDEN for a revoked device, CS_ERR_BUSY to retry later. */
int cs_store_login(cs_store* store, const char* server_url, const char* user, const char* password, char** out_token,
                   cs_error* error);

/* Syncs with the server at `server_url` (ws:// or wss://HOST:PORT) using `token`: records first, then
 * the files attached here, then the files of eager collections. `on_progress`, `context` and `cancel`
 * may be NULL. Returns 0 only if every change pushed was acknowledged, the pull caught up and every
 * file attached here has gone up (on a metered link, files wait: cs_store_set_metered).
 * *out_report_json (if not NULL) receives
 * {"pushed","accepted","rejected","pulled","conflicts","bytes_sent","bytes_received","purged",
 *  "resynced","resync_dropped" (units pulled afresh after the server purged old deletions, and the
 *  records that removed), "files_sent","files_received","file_bytes_sent","file_bytes_received","files_deferred"} even
 * on failure. */
int cs_store_sync(cs_store* store, const char* server_url, const char* token, cs_progress_fn on_progress, void* context,
                  const cs_cancel* cancel, char** out_report_json, cs_error* error);

/* cs_store_sync, stopping cleanly after at most `max_ms` milliseconds (0: no limit): for the short
 * windows phones give background work. At the deadline it fails with CS_ERR_DEADLINE (retryable)
 * and leaves the store as a cut connection would: changes the server acknowledged are done, the
 * others stay pending, pulled batches landed whole; the next sync goes on from there. The
 * connection is not held past the deadline (a wait for a reply ends then too). */
int cs_store_sync_for(cs_store* store, const char* server_url, const char* token, uint32_t max_ms,
                      cs_progress_fn on_progress, void* context, const cs_cancel* cancel, char** out_report_json,
                      cs_error* error);

/* Says whether the link is metered (mobile data the user pays for; 0: not metered, the default).
 * While metered, syncs send and receive records only: files attached here and those of eager
 * collections wait for a sync on an unmetered link, and such a sync returns 0 with
 * "files_deferred": true in its report. cs_file_fetch still downloads the one file asked for.
 * Call it when the platform says the network changed (Android's ConnectivityManager
 * isActiveNetworkMetered, iOS's NWPath.isExpensive). */
int cs_store_set_metered(cs_store* store, int metered, cs_error* error);

/* Keeps the file at `path` on this device (stored once per content, whatever the number of records
 * that refer to it) and sets `field` of the record to its SHA-256 (64 hex digits, in *out_hash if not
 * NULL). Works offline; the file goes up at the next sync, after the records. CS_ERR_NOT_FOUND if
 * the record or the file does not exist, CS_ERR_LIMIT_EXCEEDED if it is larger than the server takes. */
int cs_file_attach(cs_store* store, const char* collection, const char* id, const char* field, const char* path,
                   char** out_hash, cs_error* error);

/* Writes the file `hash` (64 hex digits) to `out_path`, downloading it first if this device lacks
 * it (resuming what an earlier fetch left). CS_ERR_NOT_FOUND: not on the server whole yet;
 * CS_ERR_FORBIDDEN: no record this user may read refers to it. `server_url` and `token` are only used
 * when a download is needed; `cancel` and `out_report_json` (as cs_store_sync's) may be NULL. */
int cs_file_fetch(cs_store* store, const char* server_url, const char* token, const char* hash, const char* out_path,
                  const cs_cancel* cancel, char** out_report_json, cs_error* error);

/* The collections whose files every sync fetches, as a JSON array of names ("[]": on demand only). */
int cs_files_set_eager(cs_store* store, const char* collections_json, cs_error* error);

/* Frees a string returned by this API. NULL is ignored. */
void cs_string_free(char* text);

#ifdef __cplusplus
}
#endif
/* NOLINTEND(readability-identifier-naming) */

#endif /* COMMUNESYNC_H */
