// Writes tables as the province's staff want them: CSV (UTF-8 with a BOM so spreadsheet programs read
// the diacritics, RFC 4180 quoting), XLSX (libxlsxwriter: one worksheet per table, numbers as
// numbers) or a plain table on the terminal. Headers are Vietnamese first, with English.
//
// Both exports (GET /api/export/COLLECTION) and reports (GET /api/reports/KIND) become sheets here,
// so every table the admin tool writes, and every download the web page offers, goes through one
// writer. Its own small library (communesync::sheets): the admin tool uses it without the server.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "communesync/storage/result.hpp"

namespace communesync::sheets {

struct Sheet {
  std::string name;   //!< the worksheet's tab (shortened to what XLSX allows)
  std::string title;  //!< a line above the table; empty: none
  std::vector<std::string> headers;
  std::vector<std::vector<nlohmann::json>> rows;  //!< cells: null, bool, number, string, or JSON shown as text
};

//! The header of a column {"name","vi","en"}: "Vietnamese / English" (one of them when they are the same).
std::string columnHeader(const nlohmann::json& column);
//! An export's header: record id, unit, then each column {"name","vi","en"}.
std::vector<std::string> exportHeaders(const nlohmann::json& columns);
//! One record (the export's JSON shape) as a row under exportHeaders.
std::vector<nlohmann::json> exportRow(const nlohmann::json& record, const nlohmann::json& columns);
//! An export's records as one sheet: record id, unit, then the form's fields.
Sheet exportSheet(const nlohmann::json& exported, const std::string& name);
//! A report's sections, one sheet each, the first titled with the report's title.
std::vector<Sheet> reportSheets(const nlohmann::json& report);

//! One sheet: its header line and rows. Several: each with its title line, a blank line between.
//! Text that starts like a formula (=, +, -, @, tab, CR) gets a leading apostrophe, so a spreadsheet
//! shows it instead of running it; numbers are written as they are.
void writeCsv(const std::vector<Sheet>& sheets, std::ostream& out);
//! Errors: kIoError naming the file and libxlsxwriter's reason.
Status writeXlsx(const std::vector<Sheet>& sheets, const std::string& path);
//! Aligned columns for the terminal; long cells are cut with "…".
void writeTable(const std::vector<Sheet>& sheets, std::ostream& out);

//! One table written a row at a time, in constant memory: an export of a whole province.
class RowSink {
 public:
  virtual ~RowSink() = default;
  //! Errors: kIoError.
  virtual Status row(const std::vector<nlohmann::json>& cells) = 0;
  //! Completes the file. Errors: kIoError naming the file and the reason.
  virtual Status finish() = 0;
};
//! CSV as writeCsv writes one sheet (BOM, header line, the same quoting), into `out` (not closed).
std::unique_ptr<RowSink> csvRows(std::ostream& out, const std::vector<std::string>& headers);
//! XLSX in libxlsxwriter's constant-memory mode (a row is written out when the next begins): one
//! worksheet `name` with the headers in bold. Errors: kIoError.
Result<std::unique_ptr<RowSink>> xlsxRows(const std::string& path, const std::string& name,
                                          const std::vector<std::string>& headers);

}  // namespace communesync::sheets
