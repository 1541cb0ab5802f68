// A table the API answers as JSON, offered instead as a file to download (?format=csv|xlsx): what the
// web page's "Tải về / Download" buttons ask for. The same writer as the admin tool's files.
#pragma once

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

}  // namespace communesync::server
