// communesync-wiresize: bytes per record on the wire for survey-like pushes, raw and compressed
// with zstd (what communesync sends) and with DEFLATE as WebSocket permessage-deflate would (with
// and without context takeover). Prints a table; the figures go into docs/protocol.md.
//   communesync-wiresize [--records N]
#include <zlib.h>

#include <zstd.h>
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>

#include "communesync/sync/frame.hpp"
#include "communesync/sync/hybrid_clock.hpp"
#include "survey_records.hpp"

namespace {

using namespace communesync;

std::vector<std::string> pushPayloads(std::size_t records, std::size_t per_push) {
  std::mt19937_64 rng(1);
  sync::DeviceId device;
  device.bytes[0] = 7;
  sync::HybridClock clock(device);
  std::vector<std::string> out;
  sync::proto::Push push;
  std::uint64_t seq = 0;
  for (std::size_t i = 0; i < records; ++i) {
    sync::Change c;
    c.id = {device, ++seq};
    c.key = {"household", "01a20a46f424cc51cec9b80300" + std::to_string(100000 + i)};
    c.scope = "xa-01";
    const auto stamp = clock.tick(std::chrono::milliseconds(1'800'000'000'000 + static_cast<std::int64_t>(i)));
    c.capture_time_ms = stamp.wall_ms;
    for (auto& [k, v] : tools::surveyFields(rng)) c.assignments.push_back({k, v, stamp, {}});
    push.changes.push_back(std::move(c));
    if (push.changes.size() == per_push) {
      out.push_back(sync::encode(sync::proto::wrap(push, seq)));
      push.changes.clear();
    }
  }
  if (!push.changes.empty()) out.push_back(sync::encode(sync::proto::wrap(push, seq)));
  return out;
}

struct Measure {
  std::size_t bytes = 0;
  double cpu_us = 0;
};

template <class F>
Measure measure(const std::vector<std::string>& messages, F compress) {
  Measure m;
  const auto start = std::chrono::steady_clock::now();
  for (const auto& msg : messages) m.bytes += compress(msg);
  m.cpu_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  return m;
}

// permessage-deflate: raw DEFLATE, each message flushed with Z_SYNC_FLUSH minus the 4-byte tail.
Measure deflateMeasure(const std::vector<std::string>& messages, bool context_takeover) {
  z_stream z{};
  deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
  std::string out(1 << 22, '\0');
  auto m = measure(messages, [&](const std::string& msg) {
    if (!context_takeover) deflateReset(&z);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(msg.data()));
    z.avail_in = static_cast<uInt>(msg.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_SYNC_FLUSH);
    return out.size() - z.avail_out - 4;
  });
  deflateEnd(&z);
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"communesync-wiresize: wire bytes per survey record, raw, zstd and permessage-deflate"};
  std::size_t records = 10000;
  app.add_option("--records", records, "records to encode (default 10000)");
  CLI11_PARSE(app, argc, argv);

  std::printf("%-28s %10s %12s %12s %14s %14s\n", "records per message", "raw B/rec", "zstd-3 B/rec", "deflate B/rec",
              "deflate+ctx B/rec", "zstd/deflate CPU");
  for (std::size_t per : {std::size_t{1}, std::size_t{10}, std::size_t{100}, std::size_t{500}}) {
    const auto messages = pushPayloads(per == 1 ? std::min<std::size_t>(records, 2000) : records, per);
    const double n = static_cast<double>(per == 1 ? std::min<std::size_t>(records, 2000) : records);
    auto raw = measure(messages, [](const std::string& m) { return m.size(); });
    auto zstd = measure(messages, [](const std::string& m) {
      return communesync::sync::proto::encodeFrame(
                 communesync::sync::decode<communesync::sync::proto::Envelope>(m).value())
          .size();
    });
    auto zstd_only = measure(messages, [](const std::string& m) {
      std::string out(ZSTD_compressBound(m.size()), '\0');
      return ZSTD_compress(out.data(), out.size(), m.data(), m.size(), 3);
    });
    auto defl = deflateMeasure(messages, false);
    auto defl_ctx = deflateMeasure(messages, true);
    std::printf("%-28zu %10.1f %12.1f %12.1f %14.1f %14.2f\n", per, static_cast<double>(raw.bytes) / n,
                static_cast<double>(zstd.bytes) / n, static_cast<double>(defl.bytes) / n,
                static_cast<double>(defl_ctx.bytes) / n, zstd_only.cpu_us / defl.cpu_us);
  }
  return 0;
}
