// A table the API answers as JSON, offered instead as a file to download (?format=csv|xlsx): what the
// web page's "Tải về / Download" buttons ask for. The same writer as the admin tool's files.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "http/server_state.hpp"
#include "sheets/sheet_writer.hpp"

namespace communesync::server {

//! The download the `format` parameter asks for ("csv" or "xlsx") named `basename`.csv|.xlsx, an
//! error for any other format but "json" and "", or std::nullopt for JSON (the caller answers it).
std::optional<HttpResponse> sheetDownload(const HttpRequest& request, const std::string& format,
                                          const std::vector<sheets::Sheet>& tables, const std::string& basename);

//! A file on disk as the answer, sent from the file a piece at a time, as `type`, offered as
//! `filename`. Errors: kIoError naming the file.
Result<HttpResponse> fileOnDiskResponse(const HttpRequest& request, const std::filesystem::path& path,
                                        const std::string& type, const std::string& filename);

//! A file an answer is written into before it is sent (an export of a whole province), so the
//! server holds none of it in memory: a private file in the temporary folder (TMPDIR, else /tmp),
//! removed when this is destroyed or, once sent, as soon as the answer has it open.
class DownloadFile {
 public:
  //! Errors: kIoError (no temporary folder, or it cannot be written).
  static Result<DownloadFile> create(const std::string& extension);
  DownloadFile(DownloadFile&&) noexcept;
  DownloadFile& operator=(DownloadFile&&) = delete;
  DownloadFile(const DownloadFile&) = delete;
  DownloadFile& operator=(const DownloadFile&) = delete;
  ~DownloadFile();

  const std::filesystem::path& path() const { return path_; }
  //! The answer: the file's bytes as `type`, offered as `filename`. The file leaves the folder here
  //! (the answer holds it open). Errors: kIoError.
  Result<HttpResponse> answer(const HttpRequest& request, const std::string& type, const std::string& filename);

 private:
  explicit DownloadFile(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
};

}  // namespace communesync::server
