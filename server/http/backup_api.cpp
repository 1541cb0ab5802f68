// Online backup over the admin API (store/backup.hpp; communesync-admin backup fetches it):
//   POST   /admin/backups                 makes one; answers its manifest (201)
//   GET    /admin/backups/{id}/{name}     one of its files, streamed from disk
//   DELETE /admin/backups/{id}            the tool has it all: the server removes its copy
#include "base/clock.hpp"
#include "http/handlers.hpp"
#include "http/sheet_download.hpp"
#include "store/backup.hpp"

namespace communesync::server {

HttpResponse makeBackup(const ApiCall& call) {
  auto manifest = call.state.backups->make(nowMs());
  if (!manifest) return call.fail(manifest.status());
  return call.ok(manifest->toJson(), http::status::created);
}

HttpResponse backupFile(const ApiCall& call) {
  auto path = call.state.backups->file(call.parts[0], call.parts[1]);
  if (!path) return call.fail(path.status());
  auto res = fileOnDiskResponse(call.request, *path, "application/octet-stream", call.parts[1]);
  if (!res) return call.fail(res.status());
  return std::move(res).value();
}

HttpResponse dropBackup(const ApiCall& call) {
  if (auto s = call.state.backups->remove(call.parts[0]); !s) return call.fail(s);
  return call.ok({{"removed", call.parts[0]}});
}

}  // namespace communesync::server
