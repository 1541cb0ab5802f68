#include "store/commit_notice.hpp"

#include <charconv>

#include "communesync/storage/tuning.hpp"

namespace communesync::server {
namespace {

std::optional<std::uint64_t> number(std::string_view text) {
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  auto [at, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || at != end) return std::nullopt;
  return value;
}

}  // namespace

std::vector<std::string> commitNotices(const CommitNotice& notice) {
  const std::string head = "c " + std::to_string(notice.log_seq);
  std::vector<std::string> out{head};
  for (const auto& [scope, seq] : notice.scopes) {
    std::string line = "\n" + scope + "\t" + std::to_string(seq);
    if (out.back().size() + line.size() > storage::tuning::kMaxNoticeBytes) out.push_back(head);
    out.back() += line;
  }
  return out;
}

std::optional<CommitNotice> parseCommitNotice(std::string_view text) {
  if (!text.starts_with("c ")) return std::nullopt;
  CommitNotice out;
  auto line_end = text.find('\n');
  auto seq = number(text.substr(2, line_end == std::string_view::npos ? std::string_view::npos : line_end - 2));
  if (!seq) return std::nullopt;
  out.log_seq = *seq;
  while (line_end != std::string_view::npos) {
    const auto start = line_end + 1;
    line_end = text.find('\n', start);
    const auto line =
        text.substr(start, line_end == std::string_view::npos ? std::string_view::npos : line_end - start);
    const auto tab = line.find('\t');
    if (tab == std::string_view::npos) return std::nullopt;
    auto scope_seq = number(line.substr(tab + 1));
    if (!scope_seq) return std::nullopt;
    out.scopes[std::string(line.substr(0, tab))] = *scope_seq;
  }
  return out;
}

}  // namespace communesync::server
