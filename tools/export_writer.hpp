// Writes an export of the server (GET /api/export/COLLECTION: columns and records) as the province's
// spreadsheets want it: CSV (UTF-8 with a BOM so spreadsheet programs read the diacritics, RFC 4180
// quoting) or XLSX (libxlsxwriter), headers Vietnamese first with English, numbers as numbers.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "communesync/storage/result.hpp"

namespace communesync::tools {

//! The header of a column: "Vietnamese / English" (one of them when they are the same).
std::string columnHeader(const nlohmann::json& column);
void writeCsv(const nlohmann::json& exported, std::ostream& out);
//! Errors: kIoError naming the file and libxlsxwriter's reason.
Status writeXlsx(const nlohmann::json& exported, const std::string& path, const std::string& sheet);

}  // namespace communesync::tools
