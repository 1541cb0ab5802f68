// Online backup over the admin API (store/backup.hpp; communesync-admin backup fetches it):
//   POST   /admin/backups                 makes one; answers its manifest (201)
//   GET    /admin/backups/{id}/{name}     one of its files, streamed from disk
//   DELETE /admin/backups/{id}            the tool has it all: the server removes its copy
#include <boost/beast/core/file.hpp>

#include "base/clock.hpp"
#include "http/handlers.hpp"
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
  auto file = std::make_shared<boost::beast::file>();
  boost::beast::error_code ec;
  file->open(path->c_str(), boost::beast::file_mode::read, ec);
  std::uint64_t size = 0;
  if (!ec) size = file->size(ec);
  if (ec) return call.fail(Status::error(ErrorCode::kIoError, "cannot read " + path->filename().string()));
  HttpResponse res{http::status::ok, call.request.version()};
  res.set(http::field::content_type, "application/octet-stream");
  res.keep_alive(call.request.keep_alive());
  res.body().file = std::move(file);
  res.body().file_size = size;
  res.prepare_payload();
  return res;
}

HttpResponse dropBackup(const ApiCall& call) {
  if (auto s = call.state.backups->remove(call.parts[0]); !s) return call.fail(s);
  return call.ok({{"removed", call.parts[0]}});
}

}  // namespace communesync::server
