#include "store/count_cache.hpp"

namespace communesync::server {

Status CountCache::load(const storage::Store& store) {
  std::map<std::string, std::string, std::less<>> counts;
  for (const char* first : {"c", "s", "t"}) {
    const std::string upper(1, static_cast<char>(first[0] + 1));
    auto cursor = store.scan(storage::Column::kViews, first, upper);
    for (; cursor.valid(); cursor.next()) counts.emplace(std::string(cursor.key()), std::string(cursor.value()));
    CS_RETURN_IF_ERROR(cursor.status());
  }
  std::lock_guard lock(mutex_);
  counts_ = std::move(counts);
  return Status::ok();
}

Status CountCache::refresh(const storage::Store& store) {
  // Cleared before the read: a markStale() during it is kept for the next refresh.
  if (!stale_.exchange(false, std::memory_order_acq_rel)) return Status::ok();
  auto loaded = load(store);
  if (!loaded) stale_.store(true, std::memory_order_release);
  return loaded;
}

std::optional<std::string> CountCache::get(const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto it = counts_.find(key);
  if (it == counts_.end()) return std::nullopt;
  return it->second;
}

Status CountCache::forEach(std::string_view prefix,
                           const std::function<Status(std::string_view key, std::string_view value)>& fn) const {
  std::lock_guard lock(mutex_);
  for (auto it = counts_.lower_bound(prefix); it != counts_.end() && it->first.starts_with(prefix); ++it) {
    CS_RETURN_IF_ERROR(fn(it->first, it->second));
  }
  return Status::ok();
}

void CountCache::apply(const Written& written) {
  std::lock_guard lock(mutex_);
  for (const auto& [key, value] : written) {
    if (value) {
      counts_[key] = *value;
    } else {
      counts_.erase(key);
    }
  }
}

}  // namespace communesync::server
