// The dashboard's files (server/web: index.html, the scripts, the style sheet), read into memory when
// the server starts and served from there on its own port: no second server, no file system reads
// per request, and no path from a URL ever reaches the file system (a request names a file of the
// set or gets 404).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "communesync/storage/result.hpp"
#include "http/server_state.hpp"

namespace communesync::server {

struct WebFile {
  std::string body;
  std::string content_type;
  std::string etag;  //!< quoted, from the content: a phone on 3G revalidates instead of re-reading
  std::string gzip;  //!< the body gzip-compressed at load, when that is smaller (empty otherwise)
};

class WebFiles {
 public:
  //! Reads every regular file of `dir` and of `dir`/app (the field app, served at /app/), no deeper. Errors: kNotFound
  //! (no index.html: not the dashboard's folder), kLimitExceeded (tuning::kMaxWebFiles / kMaxWebBytes).
  static Result<WebFiles> load(const std::filesystem::path& dir);

  //! The file a URL path names ("/" is index.html), or nullptr.
  const WebFile* find(std::string_view path) const;
  std::size_t size() const { return files_.size(); }

 private:
  std::map<std::string, WebFile, std::less<>> files_;  // by name, "index.html"
};

//! The file the request names (GET or HEAD), with the page's security headers; 304 when the
//! browser's copy is current; 404 (JSON) when there is no such file. Gzip-compressed when the
//! browser accepts it (a phone on 2G loads the field app's 484 KB as about 150 KB).
HttpResponse serveWebFile(const HttpRequest& request, const WebFiles& files, std::string_view path);

}  // namespace communesync::server
