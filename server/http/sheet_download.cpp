#include "http/sheet_download.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "http/http_json.hpp"

namespace communesync::server {
namespace {

namespace beast = boost::beast;

// The headers of a download: its type, no caching, and a plain ASCII file name to save it under.
HttpResponse withDownloadHeaders(HttpResponse res, const HttpRequest& request, const std::string& type,
                                 const std::string& filename) {
  res.set(http::field::server, "communesync");
  res.set(http::field::content_type, type);
  res.set(http::field::cache_control, "no-store");
  std::string safe = filename;  // a header value: plain ASCII letters, digits and . _ - only
  for (auto& c : safe) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') c = '_';
  }
  res.set(http::field::content_disposition, "attachment; filename=\"" + safe + "\"");
  res.keep_alive(request.keep_alive());
  res.prepare_payload();
  return res;
}

HttpResponse fileResponse(const HttpRequest& request, std::string body, const std::string& type,
                          const std::string& filename) {
  HttpResponse res{http::status::ok, request.version()};
  res.body() = std::move(body);
  return withDownloadHeaders(std::move(res), request, type, filename);
}

// libxlsxwriter (Debian 12's 1.1.5) writes only to a file: a private temporary one, read back and removed.
Result<std::string> xlsxBytes(const std::vector<sheets::Sheet>& tables) {
  static std::atomic<std::uint64_t> counter{0};
  std::error_code ec;
  const auto dir = std::filesystem::temp_directory_path(ec);
  if (ec) return Status::error(ErrorCode::kIoError, "no temporary folder for the workbook: " + ec.message());
  const auto path = dir / ("communesync-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".xlsx");
  auto written = sheets::writeXlsx(tables, path.string());
  std::string bytes;
  if (written) {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (bytes.empty()) written = Status::error(ErrorCode::kIoError, "the workbook could not be read back");
  }
  std::filesystem::remove(path, ec);
  if (!written) return written;
  return bytes;
}

}  // namespace

std::optional<HttpResponse> sheetDownload(const HttpRequest& request, const std::string& format,
                                          const std::vector<sheets::Sheet>& tables, const std::string& basename) {
  if (format.empty() || format == "json") return std::nullopt;
  if (format == "csv") {
    std::ostringstream out;
    sheets::writeCsv(tables, out);
    return fileResponse(request, out.str(), "text/csv; charset=utf-8", basename + ".csv");
  }
  if (format == "xlsx") {
    auto bytes = xlsxBytes(tables);
    if (!bytes) return statusResponse(request, bytes.status());
    return fileResponse(request, std::move(bytes).value(),
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", basename + ".xlsx");
  }
  return statusResponse(
      request, Status::error(ErrorCode::kInvalidArgument, "format is json, csv or xlsx, not '" + format + "'"));
}

Result<DownloadFile> DownloadFile::create(const std::string& extension) {
  static std::atomic<std::uint64_t> counter{0};
  std::error_code ec;
  const auto dir = std::filesystem::temp_directory_path(ec);
  if (ec) return Status::error(ErrorCode::kIoError, "no temporary folder for the download: " + ec.message());
  auto path = dir / ("communesync-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + extension);
  // Created private (0600) and new: nothing else may have put a file or link there first.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    const std::error_code why(errno, std::generic_category());
    return Status::error(ErrorCode::kIoError, "cannot create " + path.string() + ": " + why.message());
  }
  ::close(fd);
  return DownloadFile(std::move(path));
}

DownloadFile::DownloadFile(DownloadFile&& other) noexcept : path_(std::exchange(other.path_, {})) {}

DownloadFile::~DownloadFile() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

Result<HttpResponse> fileOnDiskResponse(const HttpRequest& request, const std::filesystem::path& path,
                                        const std::string& type, const std::string& filename) {
  auto file = std::make_shared<beast::file>();
  beast::error_code ec;
  file->open(path.c_str(), beast::file_mode::read, ec);
  std::uint64_t size = 0;
  if (!ec) size = file->size(ec);
  if (ec) return Status::error(ErrorCode::kIoError, "cannot read " + path.string() + ": " + ec.message());
  HttpResponse res{http::status::ok, request.version()};
  res.body().file = std::move(file);
  res.body().file_size = size;
  return withDownloadHeaders(std::move(res), request, type, filename);
}

Result<HttpResponse> DownloadFile::answer(const HttpRequest& request, const std::string& type,
                                          const std::string& filename) {
  auto res = fileOnDiskResponse(request, path_, type, filename);
  if (!res) return res;
  std::error_code removed;
  std::filesystem::remove(path_, removed);  // open: the answer still reads it
  path_.clear();
  return res;
}

}  // namespace communesync::server
