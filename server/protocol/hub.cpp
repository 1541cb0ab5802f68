#include "protocol/hub.hpp"

namespace communesync::server {

std::vector<std::shared_ptr<LiveSession>> Hub::live(std::vector<std::weak_ptr<LiveSession>>& list) {
  std::vector<std::shared_ptr<LiveSession>> out;
  std::size_t kept = 0;
  for (auto& weak : list) {
    if (auto s = weak.lock()) {
      out.push_back(std::move(s));
      list[kept++] = weak;
    }
  }
  list.resize(kept);  // forget sessions that ended
  return out;
}

void Hub::join(const std::vector<sync::Scope>& scopes, const std::shared_ptr<LiveSession>& session, bool first) {
  std::lock_guard lock(mutex_);
  for (const auto& scope : scopes) by_scope_[scope].push_back(session);
  if (!first) return;
  all_.push_back(session);
  if (all_.size() % 1024 == 0) (void)live(all_);
}

void Hub::notify(const sync::proto::Checkpoints& latest) {
  std::set<std::shared_ptr<LiveSession>> targets;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [scope, seq] : latest) {
      auto it = by_scope_.find(scope);
      if (it == by_scope_.end()) continue;
      for (auto& s : live(it->second)) targets.insert(std::move(s));
      if (it->second.empty()) by_scope_.erase(it);
    }
  }
  for (const auto& s : targets) s->notify(latest);  // outside the lock: notify posts to the session's strand
}

void Hub::recheckAll() {
  std::vector<std::shared_ptr<LiveSession>> sessions;
  {
    std::lock_guard lock(mutex_);
    sessions = live(all_);
  }
  for (const auto& s : sessions) s->recheck();
}

void Hub::closeAll() {
  std::vector<std::shared_ptr<LiveSession>> sessions;
  {
    std::lock_guard lock(mutex_);
    sessions = live(all_);
  }
  for (const auto& s : sessions) s->closeGoingAway();
}

std::size_t Hub::size() {
  std::lock_guard lock(mutex_);
  return live(all_).size();
}

}  // namespace communesync::server
