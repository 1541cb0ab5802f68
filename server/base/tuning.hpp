// Every limit of server/, in one place.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace communesync::server::tuning {

//! A client must finish sending an HTTP request (or the WebSocket handshake) within this.
inline constexpr std::chrono::seconds kHandshakeTimeout{15};
//! An HTTP connection with no request in flight is closed after this.
inline constexpr std::chrono::seconds kHttpIdleTimeout{30};
//! Largest HTTP request body of a request with a valid token (admin API, imports).
inline constexpr std::size_t kMaxHttpBodyBytes = std::size_t{1024} * 1024;
//! Largest HTTP request body without a valid token (a login's name, password and device id).
//! Larger bodies are refused from the header alone, before a byte of them is read.
inline constexpr std::size_t kMaxAnonymousBodyBytes = std::size_t{4} * 1024;
//! Request body bytes the whole server holds at once (each request reserves what its header
//! declares before its body is read); past it, requests are answered "busy".
inline constexpr std::size_t kMaxBufferedBodyBytes = std::size_t{64} * 1024 * 1024;
//! Largest HTTP request header block.
inline constexpr std::size_t kMaxHttpHeaderBytes = std::size_t{16} * 1024;
//! Pending connections in the kernel's accept queue.
inline constexpr int kListenBacklog = 1024;
//! Threads that answer plain HTTP requests (the dashboard, the admin and reconciliation API, logins),
//! apart from the I/O threads: a password check (Argon2id, tens of milliseconds by design), a report
//! over a year of records, or a resolution waiting for its durable commit must not hold up the
//! devices' sync sessions. Requests beyond them wait their turn in the pool's queue.
inline constexpr int kHttpWorkerThreads = 2;
//! Heavy requests (searches, exports, reports: Route::heavy) one user may have running at once;
//! another gets 429 with Retry-After. Below kHttpWorkerThreads, so one user never holds them all.
inline constexpr std::size_t kMaxHeavyRequestsPerUser = 1;
//! HTTP requests waiting for those threads or on them, server-wide; one more is answered 503 "busy"
//! at once (connections per address are capped, but not the number of addresses).
inline constexpr std::size_t kMaxHttpRequestsWaiting = 256;

}  // namespace communesync::server::tuning

namespace communesync::server::tuning {

//! Largest WebSocket message the server reads (compressed or not, and after decompression).
inline constexpr std::size_t kMaxMessageBytes = std::size_t{4} * 1024 * 1024;
//! Changes in one push.
inline constexpr std::uint32_t kMaxChangesPerPush = 1000;
//! Pushes a session may have waiting for their durable commit (the pipelining window).
inline constexpr std::uint32_t kMaxPushesInFlight = 8;
//! Largest pull batch a device may ask for; smaller requests are honoured.
inline constexpr std::uint64_t kMaxPullBytes = std::uint64_t{1024} * 1024;
//! Messages queued for sending to one session before it counts as too slow and is closed.
inline constexpr std::size_t kMaxSendQueue = 64;
//! Push jobs waiting for the writer before new ones are refused as busy (retryable).
inline constexpr std::size_t kMaxWriterQueue = 4096;
//! How long a group commit, a sweep or a directory change waits for the store's lock (held by
//! this server's other writer, or by another server on the same PostgreSQL database) before it
//! fails with kBusy: far above a group's time, so only a stuck holder reaches it.
inline constexpr std::chrono::milliseconds kStoreLockWait{30000};
//! How long a starting server waits for that lock to build the views (store/views.hpp) when the store
//! has none: another server on the same database may be building them, minutes for a province.
inline constexpr std::chrono::minutes kViewsBuildLockWait{15};
//! Push jobs the writer merges into one durable commit (group commit).
inline constexpr std::size_t kMaxGroupJobs = 256;
//! Changes the writer merges into one durable commit at most (a bulk restore of 100,000 records must
//! not make a small push wait behind it, nor hold them all decoded at once).
inline constexpr std::size_t kMaxGroupChanges = 4096;
//! Results of acknowledged changes one push may make the server forget (Push.acknowledged_below);
//! the rest go with the device's next pushes.
inline constexpr std::size_t kMaxResultsForgottenPerPush = 20000;
//! A session that sends nothing (and answers no ping) for this long is closed.
inline constexpr std::chrono::seconds kSessionIdleTimeout{120};
//! Scopes one user may hold.
inline constexpr std::size_t kMaxScopesPerUser = 4096;
//! Time given to sessions to close on shutdown before the server stops anyway.
inline constexpr std::chrono::seconds kShutdownGrace{5};

}  // namespace communesync::server::tuning

namespace communesync::server::tuning {

//! Units in the tree (a province's official list has a few thousand with its villages).
inline constexpr std::size_t kMaxUnits = 200000;
//! Largest units CSV file.
inline constexpr std::size_t kMaxCsvBytes = std::size_t{32} * 1024 * 1024;
//! Deepest chain of parents and merges a unit may sit under.
inline constexpr std::size_t kMaxUnitDepth = 32;
//! Grants one user may hold.
inline constexpr std::size_t kMaxGrantsPerUser = 4096;
//! Shortest password accepted.
inline constexpr std::size_t kMinPasswordBytes = 8;
//! Longest password accepted (Argon2id hashes any length; this only bounds the request).
inline constexpr std::size_t kMaxPasswordBytes = 1024;
//! Largest config file.
inline constexpr std::size_t kMaxConfigBytes = std::size_t{1024} * 1024;
//! Conflicts one request may list.
inline constexpr std::size_t kMaxConflictList = 10000;
//! Reviews one /api/reviews page may list (`after` reads on).
inline constexpr std::size_t kMaxReviewList = 10000;
//! Audit entries one request may list.
inline constexpr std::size_t kMaxAuditList = 10000;
//! A device's app version, as kept (longer ones are cut).
inline constexpr std::size_t kMaxClientVersionBytes = 64;
//! Records one /api/records request may return (a page; `offset` reads on).
inline constexpr std::size_t kMaxRecordPage = 500;
//! Fields no form names that an export gives columns of (free-form collections); more are left out.
inline constexpr std::size_t kMaxExportExtraColumns = 500;
//! Records the views' rebuild (ServerStore::rebuildViews) writes per batch.
inline constexpr std::size_t kViewsRebuildBatch = 10000;
//! Records a page may leave out before its first (`offset`): each is an index key read, not a record.
inline constexpr std::size_t kMaxRecordPageOffset = 100000;
//! Index keys one /api/records search may step over to find its page, and then to count the rest;
//! past either it stops and says `partial` (the total is then at least what it says).
inline constexpr std::size_t kMaxRecordsSearched = 200000;
inline constexpr std::size_t kMaxSearchCountSteps = 5000;
//! The accent-free search's index (store/views.hpp): text values longer than this are not indexed
//! (notes and wishes; people look records up by names, villages, codes), words are cut to this
//! long, and a record is found by at most this many words.
inline constexpr std::size_t kMaxSearchTextBytes = 48;
inline constexpr std::size_t kMaxSearchWordBytes = 32;
inline constexpr std::size_t kMaxSearchWordsPerRecord = 16;
//! Records in one chunk of a word's postings, on average (store/word_postings.hpp): a group commit
//! writes one key per word for every this many of the records it created with the word; an edit
//! rewrites one chunk; a search decodes a chunk (~30 bytes a record) to step inside it. The cuts
//! fall by a hash of the ids, so a chunk of more than ten times this is a chance of e^-10.
inline constexpr std::size_t kPostingChunkMean = 64;
//! Changes of the log the search index takes in one batch (store/search_index.hpp), and at most how
//! many a search indexes before it answers (the writer's indexing thread does the rest).
inline constexpr std::size_t kSearchIndexSlice = 2000;
inline constexpr std::size_t kSearchCatchUp = 50000;
//! The niceness of the search index's thread (0 = the writer's; 19 = the lowest).
inline constexpr int kSearchIndexNice = 10;
//! A text value of more words than this (a sentence) is not indexed.
inline constexpr std::size_t kMaxSearchWordsPerValue = 4;
//! Words of one search (more are refused with a message).
inline constexpr std::size_t kMaxSearchQueryWords = 8;
//! Records a report holds in memory (the sponsors and one year's plans, results, proposals, reports
//! and set-ups of what the asker reads; surveys are counted, not held). A province's year is tens
//! of thousands; past it the report is refused with a message asking for one unit or fewer years.
inline constexpr std::size_t kMaxReportRecords = 300000;
//! The dashboard's files (server/web), read into memory at start: at most this many, this large in all.
inline constexpr std::size_t kMaxWebFiles = 64;
inline constexpr std::size_t kMaxWebBytes = std::size_t{8} * 1024 * 1024;
//! A photo served to the web page in one answer (larger ones: ranged by the file API's pieces).
inline constexpr std::uint64_t kMaxFileServedBytes = 32ull * 1024 * 1024;
//! A reason a person writes with a decision (the Committee's grade): at most this many bytes.
inline constexpr std::size_t kMaxReasonBytes = 4000;
//! The field app shrinks a photo on the phone before it keeps it: its longer side to at most this
//! many pixels, JPEG at this quality (0.3-1). Config "field_app" may change both.
inline constexpr int kPhotoMaxPixels = 1600;
inline constexpr double kPhotoQuality = 0.75;
//! A device silent for longer than this many days stands out on the dashboard (config may change it).
inline constexpr int kDeviceSilentDays = 7;
//! The RocksDB store's block cache, in MiB (config "cache_mb" may change it, within these bounds):
//! the dashboard's reads at a province's size are what it is for (docs/operations.md, "Memory").
//! Its default is storage's for a server store (storage::tuning::kServerBlockCacheBytes; Config).
inline constexpr int kMinCacheMiB = 4;
inline constexpr int kMaxCacheMiB = 65536;

}  // namespace communesync::server::tuning

namespace communesync::server::tuning {

//! Open connections (HTTP or WebSocket, authenticated or not) from one IP address. Phones behind
//! one carrier NAT share an address: keep this well above a commune's devices.
inline constexpr std::size_t kMaxConnectionsPerAddress = 256;
//! Descriptors kept back from connections under the process's limit: RocksDB's open files
//! (storage::tuning::kMaxOpenFiles, 512) and the log, the config, the web files. The server's
//! connection limit is the descriptor limit less these (a quarter of it if that is small), so a flood of
//! connections is refused one by one instead of starving the store of descriptors.
inline constexpr std::size_t kDescriptorsKeptBack = 640;
//! The most connections one server admits whatever its descriptors (config "max_connections" may lower it).
inline constexpr std::size_t kMaxConnections = 100000;
//! How long accepting waits when the process runs out of descriptors anyway (EMFILE, ENFILE).
inline constexpr std::chrono::milliseconds kAcceptPauseWhenExhausted{250};
//! An event that can repeat in a flood (refused connections, failed accepts) is logged at most
//! once per this interval, with its count.
inline constexpr std::chrono::seconds kRepeatedEventLogInterval{10};
//! Open sync sessions of one user (all devices).
inline constexpr std::size_t kMaxSessionsPerUser = 16;
//! Messages a session may send per second, sustained. A session past it is closed (1008).
inline constexpr double kMessagesPerSecond = 50;
//! Bytes a session may send per second, sustained (at least one largest message per burst).
inline constexpr double kBytesPerSecond = 4.0 * 1024 * 1024;
//! A burst may use this many seconds' worth of the rates at once.
inline constexpr double kBurstSeconds = 2;
//! Bytes queued for sending to one session before it counts as too slow and is closed.
inline constexpr std::size_t kMaxSendQueueBytes = std::size_t{16} * 1024 * 1024;
//! Devices one user may have registered (not revoked) at once: a login or a first sync from one
//! more is refused until an administrator revokes an old one. A worker has a phone or two over the
//! years, and the field app counts as one device per browser.
inline constexpr std::size_t kMaxDevicesPerUser = 20;
//! Password checks (Argon2id, ~64 MiB each) running at once; more are answered "busy".
inline constexpr int kMaxConcurrentPasswordChecks = 2;

}  // namespace communesync::server::tuning

namespace communesync::server::tuning {

//! Largest file (photo, scanned plan) a device may upload. Operators may change it (config).
inline constexpr std::uint64_t kMaxFileBytes = 32ull * 1024 * 1024;
//! File bytes one user (all its devices) may upload in one day (UTC). Operators may change it (config).
inline constexpr std::uint64_t kMaxFileBytesPerUserDay = 256ull * 1024 * 1024;
//! Bytes of one user's uploads no record refers to yet (partial uploads, and whole files sent
//! before or without their record), counted until a record refers to them or the sweep removes
//! them. Operators may change it (config).
inline constexpr std::uint64_t kMaxUnreferencedFileBytesPerUser = 512ull * 1024 * 1024;
//! A file no record refers to is removed once it has been so for this long. Config may change it.
inline constexpr std::chrono::hours kFileRetention{24 * 30};
//! How often the writer sweeps files for ones to remove (and, with them, the history and the audit
//! log past their retention).
inline constexpr std::chrono::minutes kFileSweepInterval{60};
//! How long the audit log keeps an entry by default (config "retention"); the history of changes is
//! kept forever unless the config says otherwise.
inline constexpr int kAuditRetentionYears = 5;
//! History entries (or audit entries) one sweep removes at most, in batches of kRetentionBatch: a
//! first sweep after a retention is shortened does not hold the writer for long; the next goes on.
inline constexpr std::size_t kMaxSweptPerRun = 200000;
inline constexpr std::size_t kRetentionBatch = 2000;

}  // namespace communesync::server::tuning

namespace communesync::server::tuning {

//! Sync sessions refused for an unknown token are audited together, one entry per this interval.
inline constexpr std::chrono::seconds kBadTokenAuditInterval{60};
//! Failed logins one address may make before its logins wait (login_throttle.hpp). Phones behind
//! one carrier NAT share an address: only their failures count, and a commune's typos stay well below.
inline constexpr double kLoginFailuresPerAddress = 20;
//! Failed logins for one user name (from anywhere) before logins as that name wait.
inline constexpr double kLoginFailuresPerUser = 10;
//! Each count of failures drains by one this often: past the allowance, one guess per interval.
inline constexpr std::chrono::seconds kLoginFailureDrain{30};
//! Addresses, and names, whose failures are remembered; when full, the oldest count is forgotten.
inline constexpr std::size_t kMaxLoginThrottleKeys = 65536;

// Online backups (store/backup.hpp): how many may wait to be fetched at once, and how long one
// never fetched (the admin tool was stopped) is kept before the server removes it.
inline constexpr std::size_t kMaxBackupsKept = 1;
inline constexpr std::chrono::hours kBackupKeptFor{24};

}  // namespace communesync::server::tuning
