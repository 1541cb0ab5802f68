#include "http/web_files.hpp"

#include <fstream>
#include <functional>
#include <iomanip>
#include <sstream>

#include <zlib.h>

#include "base/tuning.hpp"
#include "http/http_json.hpp"

namespace communesync::server {
namespace {

std::string contentTypeOf(const std::filesystem::path& name) {
  const auto ext = name.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".wasm") return "application/wasm";  // WebAssembly.instantiateStreaming insists on it
  if (ext == ".webmanifest") return "application/manifest+json";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".json") return "application/json; charset=utf-8";
  if (ext == ".ico") return "image/x-icon";
  return "application/octet-stream";
}

// The whole body as one gzip member (zlib's deflate with a gzip wrapper), or empty if that is not
// smaller. Done once per file when the server starts.
std::string gzipOf(const std::string& body) {
  z_stream z{};
  if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) return {};
  std::string out(deflateBound(&z, static_cast<uLong>(body.size())) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  z.avail_in = static_cast<uInt>(body.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int status = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (status != Z_STREAM_END || out.size() >= body.size()) return {};
  return out;
}

bool acceptsGzip(const HttpRequest& request) {
  auto it = request.find(http::field::accept_encoding);
  return it != request.end() && it->value().find("gzip") != boost::beast::string_view::npos;
}

std::string etagOf(const std::string& body) {
  std::ostringstream out;
  out << '"' << std::hex << std::setw(16) << std::setfill('0') << std::hash<std::string>{}(body) << '-' << std::dec
      << body.size() << '"';
  return out.str();
}

}  // namespace

Result<WebFiles> WebFiles::load(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(dir / "index.html", ec)) {
    return Status::error(ErrorCode::kNotFound, "the dashboard's folder " + dir.string() +
                                                   " has no index.html (see web_dir in docs/operations.md)");
  }
  WebFiles out;
  std::size_t total = 0;
  // The dashboard's files, then the field app's in app/ (served at /app/...): one level, no deeper.
  for (const std::string prefix : {"", "app/"}) {
    const auto folder = dir / prefix;
    if (!prefix.empty() && !std::filesystem::is_directory(folder, ec)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(folder, ec)) {
      if (!entry.is_regular_file()) continue;
      if (out.files_.size() >= tuning::kMaxWebFiles) {
        return Status::error(ErrorCode::kLimitExceeded, "the dashboard's folder " + dir.string() + " holds more than " +
                                                            std::to_string(tuning::kMaxWebFiles) + " files");
      }
      std::ifstream in(entry.path(), std::ios::binary);
      std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (!in.good() && !in.eof()) return Status::error(ErrorCode::kIoError, "cannot read " + entry.path().string());
      total += body.size();
      if (total > tuning::kMaxWebBytes) {
        return Status::error(ErrorCode::kLimitExceeded, "the dashboard's files in " + dir.string() + " are over " +
                                                            std::to_string(tuning::kMaxWebBytes) + " bytes");
      }
      WebFile file{std::move(body), contentTypeOf(entry.path()), {}, {}};
      file.etag = etagOf(file.body);
      file.gzip = gzipOf(file.body);
      out.files_.emplace(prefix + entry.path().filename().string(), std::move(file));
    }
    if (ec) break;
  }
  if (ec) return Status::error(ErrorCode::kIoError, "cannot list " + dir.string() + ": " + ec.message());
  return out;
}

const WebFile* WebFiles::find(std::string_view path) const {
  if (path.empty() || path.front() != '/') return nullptr;
  if (path.back() == '/') {  // a folder: its index.html ("/" the dashboard, "/app/" the field app)
    auto index = files_.find(std::string(path.substr(1)) + "index.html");
    return index == files_.end() ? nullptr : &index->second;
  }
  // Exact names only ("index.html", "app/sync_core.js"), so "/app/../x" finds nothing.
  auto it = files_.find(path.substr(1));
  return it == files_.end() ? nullptr : &it->second;
}

HttpResponse serveWebFile(const HttpRequest& request, const WebFiles& files, std::string_view path) {
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    return errorResponse(request, http::status::method_not_allowed, "method_not_allowed", "use GET");
  }
  const WebFile* file = files.find(path);
  if (file == nullptr) {
    return statusResponse(request, Status::error(ErrorCode::kNotFound, "no such path: " + std::string(path)));
  }
  // The gzip representation is another entity: its tag says so ("...-gz"), as HTTP asks.
  const bool gzip = !file->gzip.empty() && acceptsGzip(request);
  const std::string etag = gzip ? file->etag.substr(0, file->etag.size() - 1) + "-gz\"" : file->etag;
  auto match = request.find(http::field::if_none_match);
  const bool current = match != request.end() && match->value() == etag;
  HttpResponse res{current ? http::status::not_modified : http::status::ok, request.version()};
  res.set(http::field::server, "communesync");
  res.set(http::field::content_type, file->content_type);
  res.set(http::field::etag, etag);
  res.set(http::field::cache_control, "no-cache");  // revalidate: a new server version shows at once
  // The page runs only its own scripts and talks only to this server. The field app (/app/) also
  // compiles its own WebAssembly sync core, which Chromium allows only with 'wasm-unsafe-eval'.
  const bool field_app = path.rfind("/app/", 0) == 0;
  res.set("Content-Security-Policy",
          std::string("default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'") +
              (field_app ? " 'wasm-unsafe-eval'" : "") +
              "; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  res.keep_alive(request.keep_alive());
  if (!file->gzip.empty()) res.set(http::field::vary, "Accept-Encoding");
  if (gzip) res.set(http::field::content_encoding, "gzip");
  const std::string& body = gzip ? file->gzip : file->body;
  if (!current && request.method() == http::verb::get) res.body() = body;
  res.prepare_payload();
  if (request.method() == http::verb::head) res.content_length(body.size());
  return res;
}

}  // namespace communesync::server
