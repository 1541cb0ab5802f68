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

Sheet exportSheet(const json& exported, const std::string& name) {
  Sheet sheet{name, "", {"Mã bản ghi / Record id", "Đơn vị / Unit"}, {}};
  for (const auto& c : exported["columns"]) sheet.headers.push_back(columnHeader(c));
  for (const auto& r : exported["records"]) {
    std::vector<json> row{r["id"], r["scope"]};
    for (const auto& c : exported["columns"]) row.push_back(fieldOf(r, c));
    sheet.rows.push_back(std::move(row));
  }
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

void writeCsv(const std::vector<Sheet>& sheets, std::ostream& out) {
  out << "\xEF\xBB\xBF";  // BOM: spreadsheet programs then read UTF-8
  bool first = true;
  for (const auto& sheet : sheets) {
    if (!first) out << "\r\n";
    first = false;
    if (!sheet.title.empty()) out << csvQuoted(formulaSafe(sheet.title)) << "\r\n";
    for (std::size_t i = 0; i < sheet.headers.size(); ++i) {
      out << (i ? "," : "") << csvQuoted(formulaSafe(sheet.headers[i]));
    }
    out << "\r\n";
    for (const auto& row : sheet.rows) {
      for (std::size_t i = 0; i < row.size(); ++i) out << (i ? "," : "") << csvQuoted(csvCell(row[i]));
      out << "\r\n";
    }
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
    for (std::size_t i = 0; i < s.headers.size(); ++i) {
      worksheet_write_string(sheet, row, static_cast<lxw_col_t>(i), s.headers[i].c_str(), bold);
      // Wide enough for the header's first words; LibreOffice and Excel let people widen the rest.
      const double width = static_cast<double>(std::clamp<std::size_t>(characters(s.headers[i]), 10, 28));
      worksheet_set_column(sheet, static_cast<lxw_col_t>(i), static_cast<lxw_col_t>(i), width, nullptr);
    }
    worksheet_freeze_panes(sheet, ++row, 0);
    for (const auto& cells : s.rows) {
      for (std::size_t i = 0; i < cells.size(); ++i) {
        const auto col = static_cast<lxw_col_t>(i);
        if (cells[i].is_number()) {
          worksheet_write_number(sheet, row, col, cells[i].get<double>(), nullptr);
        } else if (!cells[i].is_null()) {
          worksheet_write_string(sheet, row, col, cellText(cells[i]).c_str(), nullptr);
        }
      }
      ++row;
    }
  }
  const lxw_error error = workbook_close(book);
  if (error != LXW_NO_ERROR) {
    return Status::error(ErrorCode::kIoError, "writing " + path + ": " + lxw_strerror(error));
  }
  return Status::ok();
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
