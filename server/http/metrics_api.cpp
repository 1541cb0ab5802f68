// GET /metrics: the server in Prometheus' text exposition format (version 0.0.4). The counters come
// from base/metrics.hpp; the gauges are read now: sessions, the views' counters, RocksDB, the
// process. docs/operations.md lists every series and docs/grafana-dashboard.json draws them.
#include "base/metrics.hpp"
#include "http/handlers.hpp"

#include <charconv>
#include <iterator>

namespace communesync::server {

namespace {

class Exposition {
 public:
  //! Starts a series: its HELP and TYPE lines.
  void family(std::string_view name, std::string_view type, std::string_view help) {
    text_ += "# HELP ";
    text_ += name;
    text_ += ' ';
    text_ += help;
    text_ += "\n# TYPE ";
    text_ += name;
    text_ += ' ';
    text_ += type;
    text_ += '\n';
  }
  void sample(std::string_view name, double value, std::string_view labels = {}) {
    text_ += name;
    if (!labels.empty()) {
      text_ += '{';
      text_ += labels;
      text_ += '}';
    }
    text_ += ' ';
    text_ += number(value);
    text_ += '\n';
  }
  //! A whole series of one sample.
  void one(std::string_view name, std::string_view type, std::string_view help, double value) {
    family(name, type, help);
    sample(name, value);
  }
  void histogram(std::string_view name, std::string_view help, const Histogram& h) {
    family(name, "histogram", help);
    const auto reading = h.read();
    const std::string bucket = std::string(name) + "_bucket";
    for (std::size_t i = 0; i < h.bounds().size(); ++i) {
      sample(bucket, static_cast<double>(reading.cumulative[i]), "le=\"" + number(h.bounds()[i]) + "\"");
    }
    sample(bucket, static_cast<double>(reading.count), "le=\"+Inf\"");
    sample(std::string(name) + "_sum", reading.sum);
    sample(std::string(name) + "_count", static_cast<double>(reading.count));
  }
  std::string take() { return std::move(text_); }

 private:
  static std::string number(double v) {
    char buffer[32];
    const auto end = std::to_chars(std::begin(buffer), std::end(buffer), v).ptr;  // shortest that reads back
    return std::string(buffer, end);
  }
  std::string text_;
};

double count(const std::atomic<std::uint64_t>& c) {
  return static_cast<double>(c.load(std::memory_order_relaxed));
}

}  // namespace

HttpResponse metricsText(const ApiCall& call) {
  auto& state = call.state;
  const auto& m = metrics();
  Exposition out;
  out.one("communesync_sessions_open", "gauge", "Sync sessions open now.",
          static_cast<double>(state.sessions_open ? state.sessions_open() : 0));
  out.one("communesync_sessions_total", "counter", "Sync sessions that said hello.", count(m.sessions_opened));
  out.one("communesync_pushes_total", "counter", "Pushes of changes from devices, committed.", count(m.pushes));
  out.family("communesync_changes_total", "counter", "Changes pushed by devices, by outcome and refusal reason.");
  out.sample("communesync_changes_total", count(m.changes_accepted), R"(outcome="accepted",reason="")");
  for (std::size_t code = 1; code < m.changes_rejected.size(); ++code) {
    const auto n = m.changes_rejected[code].load(std::memory_order_relaxed);
    if (n == 0) continue;
    out.sample("communesync_changes_total", static_cast<double>(n),
               R"(outcome="rejected",reason=")" + std::string(errorCodeName(static_cast<ErrorCode>(code))) + "\"");
  }
  out.histogram("communesync_group_commit_changes", "Changes and file pieces in one group commit.", m.group_changes);
  out.histogram("communesync_group_commit_seconds", "Time to apply and fsync one group commit.", m.group_seconds);
  out.one("communesync_pull_batches_total", "counter", "Pull batches sent.", count(m.pull_batches));
  out.one("communesync_pull_records_total", "counter", "Records sent in pull batches.", count(m.pull_records));
  out.one("communesync_pull_bytes_total", "counter", "Bytes of pull batches sent (as framed).", count(m.pull_bytes));
  out.one("communesync_file_pieces_received_total", "counter", "File pieces received and made durable.",
          count(m.file_pieces_received));
  out.one("communesync_file_received_bytes_total", "counter", "Bytes of file pieces received and made durable.",
          count(m.file_bytes_received));
  out.one("communesync_file_sent_bytes_total", "counter", "Bytes of files sent to devices.", count(m.file_bytes_sent));
  out.one("communesync_logins_failed_total", "counter",
          "Logins refused: wrong password, unknown token, revoked device.", count(m.logins_failed));
  out.one("communesync_logins_throttled_total", "counter", "Logins refused because of too many failures.",
          count(m.logins_throttled));

  out.family("communesync_http_requests_total", "counter", "HTTP requests answered, by route and status code.");
  for (const auto& row : m.http.rows()) {
    out.sample("communesync_http_requests_total", static_cast<double>(row.count),
               "route=\"" + row.route + "\",code=\"" + std::to_string(row.status) + "\"");
  }
  out.histogram("communesync_http_request_seconds", "Time to answer an HTTP request (before it is sent).",
                m.http.seconds());

  if (auto totals = state.data.totals(); totals) {
    out.one("communesync_conflicts_open", "gauge", "Conflicts waiting to be settled.",
            static_cast<double>(totals->open_conflicts));
    out.family("communesync_records", "gauge", "Live records of the programme's forms, by review state.");
    for (std::size_t i = 0; i < totals->records.size(); ++i) {
      out.sample("communesync_records", static_cast<double>(totals->records[i]),
                 "review_state=\"" + std::string(sync::reviewStateName(static_cast<sync::ReviewState>(i))) + "\"");
    }
  }

  out.one("communesync_search_index_lag_changes", "gauge",
          "Changes committed that the search index does not hold yet (it follows the writer).",
          static_cast<double>(state.data.searchIndexLag()));

  const auto store = state.store.stats();
  out.one("communesync_rocksdb_sst_bytes", "gauge", "Bytes of RocksDB's SST files.",
          static_cast<double>(store.sst_bytes));
  out.one("communesync_rocksdb_blob_bytes", "gauge", "Bytes of RocksDB's blob files (file pieces).",
          static_cast<double>(store.blob_bytes));
  out.one("communesync_rocksdb_wal_bytes", "gauge", "Bytes of RocksDB's live write-ahead log files.",
          static_cast<double>(store.wal_bytes));
  out.one("communesync_rocksdb_memtable_bytes", "gauge", "Bytes of RocksDB's memtables.",
          static_cast<double>(store.memtable_bytes));
  out.one("communesync_rocksdb_block_cache_capacity_bytes", "gauge",
          "Bytes RocksDB's block cache may hold (config cache_mb).",
          static_cast<double>(store.block_cache_capacity_bytes));
  out.one("communesync_rocksdb_block_cache_usage_bytes", "gauge", "Bytes RocksDB's block cache holds now.",
          static_cast<double>(store.block_cache_usage_bytes));
  out.one("communesync_rocksdb_pending_compaction_bytes", "gauge", "RocksDB's estimate of bytes compaction owes.",
          static_cast<double>(store.pending_compaction_bytes));
  out.one("communesync_rocksdb_write_slowdowns_total", "counter", "Writes RocksDB delayed since the server started.",
          static_cast<double>(store.write_slowdowns));
  out.one("communesync_rocksdb_write_stops_total", "counter", "Writes RocksDB stopped since the server started.",
          static_cast<double>(store.write_stops));
  out.one("communesync_rocksdb_writes_stopped", "gauge", "1 while RocksDB stops writes.", store.writes_stopped ? 1 : 0);

  const auto process = readProcess();
  out.one("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
          static_cast<double>(process.resident_bytes));
  out.one("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
          process.cpu_seconds);
  out.one("process_open_fds", "gauge", "Number of open file descriptors.", static_cast<double>(process.open_fds));
  out.one("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.",
          process.start_time_seconds);

  HttpResponse res{http::status::ok, call.request.version()};
  res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(call.request.keep_alive());
  res.body() = out.take();
  res.prepare_payload();
  return res;
}

}  // namespace communesync::server
