// Who is connected, by scope: the writer tells the hub what changed, the hub tells the sessions.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

#include "communesync/sync/messages.hpp"

namespace communesync::server {

//! What the hub asks of a live sync session (plain or TLS). Each call is thread-safe: it posts to
//! the session's strand.
class LiveSession {
 public:
  virtual ~LiveSession() = default;
  //! Scopes changed: tell the device, if it reads them and has not pulled that far.
  virtual void notify(const sync::proto::Checkpoints& latest) = 0;
  //! The directory changed: check the rights again; close if revoked.
  virtual void recheck() = 0;
  //! Close with "going away" (server shutdown).
  virtual void closeGoingAway() = 0;
};

class Hub {
 public:
  //! Registers the session for notifies on `scopes` (again when its scopes change; a session
  //! left registered on a scope it lost is harmless: its handler filters).
  void join(const std::vector<sync::Scope>& scopes, const std::shared_ptr<LiveSession>& session, bool first);
  //! Sends a notify to every live session holding one of the changed scopes.
  void notify(const sync::proto::Checkpoints& latest);
  //! Asks every live session to check its rights again (users, grants or units changed).
  void recheckAll();
  //! Closes every session with "going away" (shutdown).
  void closeAll();
  //! Live sessions (for metrics and shutdown).
  std::size_t size();

 private:
  std::vector<std::shared_ptr<LiveSession>> live(std::vector<std::weak_ptr<LiveSession>>& list);
  std::mutex mutex_;
  std::map<sync::Scope, std::vector<std::weak_ptr<LiveSession>>, std::less<>> by_scope_;
  std::vector<std::weak_ptr<LiveSession>> all_;
};

}  // namespace communesync::server
