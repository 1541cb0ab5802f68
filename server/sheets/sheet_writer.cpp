#include "sheets/sheet_writer.hpp"

#include <xlsxwriter.h>
#include <string_view>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <set>

namespace communesync::sheets {
namespace {

using nlohmann::json;

// A cell as text: strings as they are, yes/no in both languages, whole numbers without decimals,
// lists and groups as JSON.
std::string cellText(const json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "có / yes" : "không / no";
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15) {
      return std::to_string(static_cast<std::int64_t>(d));
    }
  }
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

// Text a spreadsheet would run as a formula (=, +, -, @) or that shifts it (tab, CR) is kept as text
// with a leading apostrophe (OWASP's rule for CSV injection). Only text: a number is written as it is.
std::string formulaSafe(std::string text) {
  if (!text.empty() && std::string_view("=+-@\t\r").find(text.front()) != std::string_view::npos) {
    text.insert(text.begin(), '\'');
  }
  return text;
}

std::string csvCell(const json& v) {
  return v.is_string() ? formulaSafe(cellText(v)) : cellText(v);
}

bool continuationByte(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// Characters (code points) in UTF-8 text; NFC text from the server is mostly one per letter.
std::size_t characters(const std::string& text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) { return !continuationByte(c); }));
}

// The first `max` characters of `text`, never cutting one in half.
std::string firstCharacters(const std::string& text, std::size_t max) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!continuationByte(text[i]) && seen++ == max) return text.substr(0, i);
  }
  return text;
}

// A worksheet name XLSX accepts: at most 31 characters, none of []:*?/\, unique in the book.
std::string worksheetName(const std::string& wanted, std::set<std::string>& taken) {
  std::string name = wanted.empty() ? "Sheet" : wanted;
  for (auto& ch : name) {
    if (std::string_view("[]:*?/\\").find(ch) != std::string_view::npos) ch = '_';
  }
  name = firstCharacters(name, 31);
  for (int n = 2; taken.count(name) != 0; ++n) name = firstCharacters(name, 27) + " (" + std::to_string(n) + ")";
  taken.insert(name);
  return name;
}

const json& fieldOf(const json& record, const json& column) {
  static const json kNull;
  const auto& fields = record["fields"];
  auto it = fields.find(column["name"].get<std::string>());
  return it == fields.end() ? kNull : *it;
}

std::string bilingual(const json& text) {
  if (!text.is_object()) return text.is_string() ? text.get<std::string>() : std::string();
  return columnHeader(json{{"name", ""}, {"vi", text.value("vi", "")}, {"en", text.value("en", "")}});
}

}  // namespace

std::string columnHeader(const json& column) {
  const auto vi = column.value("vi", std::string());
  const auto en = column.value("en", std::string());
  if (vi.empty()) return en.empty() ? column["name"].get<std::string>() : en;
  return en.empty() || en == vi ? vi : vi + " / " + en;
}

std::vector<std::string> exportHeaders(const json& columns) {
  std::vector<std::string> headers{"Mã bản ghi / Record id", "Đơn vị / Unit"};
  for (const auto& c : columns) headers.push_back(columnHeader(c));
  return headers;
}

std::vector<json> exportRow(const json& record, const json& columns) {
  std::vector<json> row{record["id"], record["scope"]};
  row.reserve(columns.size() + 2);
  for (const auto& c : columns) row.push_back(fieldOf(record, c));
  return row;
}

Sheet exportSheet(const json& exported, const std::string& name) {
  Sheet sheet{name, "", exportHeaders(exported["columns"]), {}};
  for (const auto& r : exported["records"]) sheet.rows.push_back(exportRow(r, exported["columns"]));
  return sheet;
}

std::vector<Sheet> reportSheets(const json& report) {
  std::vector<Sheet> sheets;
  for (const auto& s : report.value("sections", json::array())) {
    Sheet sheet;
    sheet.name = s["title"].value("vi", s.value("name", ""));
    sheet.title = bilingual(s["title"]);
    if (sheets.empty()) sheet.title = bilingual(report["title"]) + " — " + sheet.title;
    for (const auto& c : s["columns"]) sheet.headers.push_back(columnHeader(c));
    for (const auto& r : s["rows"]) sheet.rows.emplace_back(r.begin(), r.end());
    sheets.push_back(std::move(sheet));
  }
  return sheets;
}

namespace {

void csvLine(const std::vector<json>& row, std::ostream& out) {
  for (std::size_t i = 0; i < row.size(); ++i) out << (i ? "," : "") << csvQuoted(csvCell(row[i]));
  out << "\r\n";
}

void csvHeaders(const std::vector<std::string>& headers, std::ostream& out) {
  for (std::size_t i = 0; i < headers.size(); ++i) out << (i ? "," : "") << csvQuoted(formulaSafe(headers[i]));
  out << "\r\n";
}

// Headers in bold, as wide as their first words (LibreOffice and Excel let people widen the rest),
// frozen above the rows. Returns the first row under them.
lxw_row_t xlsxHeaders(lxw_worksheet* sheet, lxw_row_t row, const std::vector<std::string>& headers, lxw_format* bold) {
  for (std::size_t i = 0; i < headers.size(); ++i) {
    worksheet_write_string(sheet, row, static_cast<lxw_col_t>(i), headers[i].c_str(), bold);
    const double width = static_cast<double>(std::clamp<std::size_t>(characters(headers[i]), 10, 28));
    worksheet_set_column(sheet, static_cast<lxw_col_t>(i), static_cast<lxw_col_t>(i), width, nullptr);
  }
  worksheet_freeze_panes(sheet, row + 1, 0);
  return row + 1;
}

void xlsxRow(lxw_worksheet* sheet, lxw_row_t row, const std::vector<json>& cells) {
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const auto col = static_cast<lxw_col_t>(i);
    if (cells[i].is_number()) {
      worksheet_write_number(sheet, row, col, cells[i].get<double>(), nullptr);
    } else if (!cells[i].is_null()) {
      worksheet_write_string(sheet, row, col, cellText(cells[i]).c_str(), nullptr);
    }
  }
}

Status closed(lxw_workbook* book, const std::string& path) {
  const lxw_error error = workbook_close(book);
  if (error != LXW_NO_ERROR) {
    return Status::error(ErrorCode::kIoError, "writing " + path + ": " + lxw_strerror(error));
  }
  return Status::ok();
}

class CsvRows final : public RowSink {
 public:
  explicit CsvRows(std::ostream& out) : out_(out) {}
  Status row(const std::vector<json>& cells) override {
    csvLine(cells, out_);
    return out_ ? Status::ok() : Status::error(ErrorCode::kIoError, "the CSV could not be written (disk full?)");
  }
  Status finish() override {
    out_.flush();
    return out_ ? Status::ok() : Status::error(ErrorCode::kIoError, "the CSV could not be written (disk full?)");
  }

 private:
  std::ostream& out_;
};

class XlsxRows final : public RowSink {
 public:
  XlsxRows(lxw_workbook* book, lxw_worksheet* sheet, std::string path, lxw_row_t row)
      : book_(book), sheet_(sheet), path_(std::move(path)), row_(row) {}
  ~XlsxRows() override {
    if (book_ != nullptr) workbook_close(book_);
  }
  XlsxRows(const XlsxRows&) = delete;
  XlsxRows& operator=(const XlsxRows&) = delete;
  Status row(const std::vector<json>& cells) override {
    if (row_ >= LXW_ROW_MAX) return Status::error(ErrorCode::kLimitExceeded, "more rows than a worksheet holds");
    xlsxRow(sheet_, row_++, cells);
    return Status::ok();
  }
  Status finish() override {
    auto* book = std::exchange(book_, nullptr);
    return closed(book, path_);
  }

 private:
  lxw_workbook* book_;
  lxw_worksheet* sheet_;
  std::string path_;
  lxw_row_t row_;
};

}  // namespace

std::unique_ptr<RowSink> csvRows(std::ostream& out, const std::vector<std::string>& headers) {
  out << "\xEF\xBB\xBF";  // BOM: spreadsheet programs then read UTF-8
  csvHeaders(headers, out);
  return std::make_unique<CsvRows>(out);
}

Result<std::unique_ptr<RowSink>> xlsxRows(const std::string& path, const std::string& name,
                                          const std::vector<std::string>& headers) {
  lxw_workbook_options options{};
  options.constant_memory = LXW_TRUE;
  lxw_workbook* book = workbook_new_opt(path.c_str(), &options);
  if (book == nullptr) return Status::error(ErrorCode::kIoError, "cannot create " + path);
  lxw_format* bold = workbook_add_format(book);
  format_set_bold(bold);
  std::set<std::string> taken;
  lxw_worksheet* sheet = workbook_add_worksheet(book, worksheetName(name, taken).c_str());
  const auto first = xlsxHeaders(sheet, 0, headers, bold);
  return std::unique_ptr<RowSink>(std::make_unique<XlsxRows>(book, sheet, path, first));
}

void writeCsv(const std::vector<Sheet>& sheets, std::ostream& out) {
  out << "\xEF\xBB\xBF";  // BOM: spreadsheet programs then read UTF-8
  bool first = true;
  for (const auto& sheet : sheets) {
    if (!first) out << "\r\n";
    first = false;
    if (!sheet.title.empty()) out << csvQuoted(formulaSafe(sheet.title)) << "\r\n";
    csvHeaders(sheet.headers, out);
    for (const auto& row : sheet.rows) csvLine(row, out);
  }
}

Status writeXlsx(const std::vector<Sheet>& sheets, const std::string& path) {
  lxw_workbook* book = workbook_new(path.c_str());
  if (book == nullptr) return Status::error(ErrorCode::kIoError, "cannot create " + path);
  lxw_format* bold = workbook_add_format(book);
  format_set_bold(bold);
  std::set<std::string> taken;
  for (const auto& s : sheets) {
    lxw_worksheet* sheet = workbook_add_worksheet(book, worksheetName(s.name, taken).c_str());
    lxw_row_t row = 0;
    if (!s.title.empty()) worksheet_write_string(sheet, row++, 0, s.title.c_str(), bold);
    row = xlsxHeaders(sheet, row, s.headers, bold);
    for (const auto& cells : s.rows) xlsxRow(sheet, row++, cells);
  }
  return closed(book, path);
}

void writeTable(const std::vector<Sheet>& sheets, std::ostream& out) {
  constexpr std::size_t kMaxWidth = 36;  // wider cells are cut: the CSV and XLSX carry them whole
  bool first = true;
  for (const auto& sheet : sheets) {
    if (!first) out << "\n";
    first = false;
    if (!sheet.title.empty()) out << sheet.title << "\n";
    // The terminal is narrow: headers in Vietnamese alone (the files carry both languages).
    std::vector<std::vector<std::string>> lines(1);
    for (const auto& h : sheet.headers) lines[0].push_back(h.substr(0, h.find(" / ")));
    for (const auto& row : sheet.rows) {
      std::vector<std::string> texts;
      texts.reserve(row.size());
      for (const auto& cell : row) texts.push_back(cellText(cell));
      lines.push_back(std::move(texts));
    }
    std::vector<std::size_t> widths(sheet.headers.size(), 0);
    for (auto& line : lines) {
      line.resize(widths.size());
      for (std::size_t i = 0; i < line.size(); ++i) {
        if (characters(line[i]) > kMaxWidth) line[i] = firstCharacters(line[i], kMaxWidth - 1) + "…";
        widths[i] = std::max(widths[i], characters(line[i]));
      }
    }
    for (std::size_t n = 0; n < lines.size(); ++n) {
      for (std::size_t i = 0; i < lines[n].size(); ++i) {
        const auto& text = lines[n][i];
        const bool number = n > 0 && i < sheet.rows[n - 1].size() && sheet.rows[n - 1][i].is_number();
        const std::string pad(widths[i] - characters(text), ' ');
        out << (i ? "  " : "") << (number ? pad + text : text + (i + 1 < lines[n].size() ? pad : ""));
      }
      out << "\n";
      if (n == 0) {
        for (std::size_t i = 0; i < widths.size(); ++i) {
          std::string rule;
          for (std::size_t k = 0; k < widths[i]; ++k) rule += "─";
          out << (i ? "  " : "") << rule;
        }
        out << "\n";
      }
    }
  }
}

}  // namespace communesync::sheets
