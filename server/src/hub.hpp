// Who is connected, by scope: the writer tells the hub what changed, the hub tells the sessions.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

#include "communesync/sync/messages.hpp"

namespace communesync::server {

class SyncSession;

class Hub {
 public:
  //! Registers the session for notifies on `scopes` (again when its scopes change; a session
  //! left registered on a scope it lost is harmless: its handler filters).
  void join(const std::vector<sync::Scope>& scopes, const std::shared_ptr<SyncSession>& session, bool first);
  //! Sends a notify to every live session holding one of the changed scopes.
  void notify(const sync::proto::Checkpoints& latest);
  //! Asks every live session to check its rights again (users, grants or units changed).
  void recheckAll();
  //! Closes every session with "going away" (shutdown).
  void closeAll();
  //! Live sessions (for metrics and shutdown).
  std::size_t size();

 private:
  std::vector<std::shared_ptr<SyncSession>> live(std::vector<std::weak_ptr<SyncSession>>& list);
  std::mutex mutex_;
  std::map<sync::Scope, std::vector<std::weak_ptr<SyncSession>>, std::less<>> by_scope_;
  std::vector<std::weak_ptr<SyncSession>> all_;
};

}  // namespace communesync::server
