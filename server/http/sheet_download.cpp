#include "http/sheet_download.hpp"

#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "http/http_json.hpp"

namespace communesync::server {
namespace {

HttpResponse fileResponse(const HttpRequest& request, std::string body, const std::string& type,
                          const std::string& filename) {
  HttpResponse res{http::status::ok, request.version()};
  res.set(http::field::server, "communesync");
  res.set(http::field::content_type, type);
  res.set(http::field::cache_control, "no-store");
  std::string safe = filename;  // a header value: plain ASCII letters, digits and . _ - only
  for (auto& c : safe) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') c = '_';
  }
  res.set(http::field::content_disposition, "attachment; filename=\"" + safe + "\"");
  res.keep_alive(request.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
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

}  // namespace communesync::server
