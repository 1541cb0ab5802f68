#include "export_writer.hpp"

#include <xlsxwriter.h>

#include <vector>

namespace communesync::tools {
namespace {

using nlohmann::json;

// The fixed columns every export starts with.
const std::vector<std::string> kFirstHeaders = {"Mã bản ghi / Record id", "Đơn vị / Unit"};

// A cell as text: strings as they are, yes/no in both languages, lists and groups as JSON.
std::string cellText(const json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "có / yes" : "không / no";
  return v.dump();
}

std::string csvQuoted(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

const json& field(const json& record, const json& column) {
  static const json kNull;
  const auto& fields = record["fields"];
  auto it = fields.find(column["name"].get<std::string>());
  return it == fields.end() ? kNull : *it;
}

}  // namespace

std::string columnHeader(const json& column) {
  const auto vi = column.value("vi", std::string());
  const auto en = column.value("en", std::string());
  if (vi.empty()) return en.empty() ? column["name"].get<std::string>() : en;
  return en.empty() || en == vi ? vi : vi + " / " + en;
}

void writeCsv(const json& exported, std::ostream& out) {
  out << "\xEF\xBB\xBF";  // BOM: spreadsheet programs then read UTF-8
  std::vector<std::string> headers = kFirstHeaders;
  for (const auto& c : exported["columns"]) headers.push_back(columnHeader(c));
  for (std::size_t i = 0; i < headers.size(); ++i) out << (i ? "," : "") << csvQuoted(headers[i]);
  out << "\r\n";
  for (const auto& r : exported["records"]) {
    out << csvQuoted(r["id"].get<std::string>()) << "," << csvQuoted(r["scope"].get<std::string>());
    for (const auto& c : exported["columns"]) out << "," << csvQuoted(cellText(field(r, c)));
    out << "\r\n";
  }
}

Status writeXlsx(const json& exported, const std::string& path, const std::string& sheet_name) {
  lxw_workbook* book = workbook_new(path.c_str());
  if (book == nullptr) return Status::error(ErrorCode::kIoError, "cannot create " + path);
  // Sheet names are at most 31 characters and some characters are not allowed.
  std::string name = sheet_name.substr(0, 31);
  for (auto& ch : name) {
    if (std::string_view("[]:*?/\\").find(ch) != std::string_view::npos) ch = '_';
  }
  lxw_worksheet* sheet = workbook_add_worksheet(book, name.c_str());
  lxw_format* bold = workbook_add_format(book);
  format_set_bold(bold);
  std::vector<std::string> headers = kFirstHeaders;
  for (const auto& c : exported["columns"]) headers.push_back(columnHeader(c));
  for (std::size_t i = 0; i < headers.size(); ++i) {
    worksheet_write_string(sheet, 0, static_cast<lxw_col_t>(i), headers[i].c_str(), bold);
  }
  lxw_row_t row = 1;
  for (const auto& r : exported["records"]) {
    worksheet_write_string(sheet, row, 0, r["id"].get<std::string>().c_str(), nullptr);
    worksheet_write_string(sheet, row, 1, r["scope"].get<std::string>().c_str(), nullptr);
    lxw_col_t col = 2;
    for (const auto& c : exported["columns"]) {
      const auto& v = field(r, c);
      if (v.is_number()) {
        worksheet_write_number(sheet, row, col, v.get<double>(), nullptr);
      } else if (!v.is_null()) {
        worksheet_write_string(sheet, row, col, cellText(v).c_str(), nullptr);
      }
      ++col;
    }
    ++row;
  }
  worksheet_freeze_panes(sheet, 1, 0);
  const lxw_error error = workbook_close(book);
  if (error != LXW_NO_ERROR) {
    return Status::error(ErrorCode::kIoError, "writing " + path + ": " + lxw_strerror(error));
  }
  return Status::ok();
}

}  // namespace communesync::tools
