#include "app/descriptors.hpp"

#include <sys/resource.h>

#include <algorithm>

#include "base/tuning.hpp"

namespace communesync::server {

std::uint64_t raiseDescriptorLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;  // POSIX's usual; never fails on Linux
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? UINT64_MAX : static_cast<std::uint64_t>(limit.rlim_cur);
}

std::size_t connectionLimitFor(std::uint64_t descriptors) {
  const std::uint64_t quarter = descriptors / 4;
  const std::uint64_t rest =
      descriptors > tuning::kDescriptorsKeptBack ? descriptors - tuning::kDescriptorsKeptBack : 0;
  const std::uint64_t limit = std::max(quarter, rest);
  return static_cast<std::size_t>(std::min<std::uint64_t>(limit, tuning::kMaxConnections));
}

}  // namespace communesync::server
