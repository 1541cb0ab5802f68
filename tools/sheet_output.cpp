#include "sheet_output.hpp"

#include <fstream>
#include <iostream>

namespace communesync::tools {

using sheets::writeCsv;
using sheets::writeTable;
using sheets::writeXlsx;

int writeSheetsAs(const std::vector<Sheet>& sheets, const std::string& format, const std::string& path,
                  const std::function<void(std::ostream&)>& other) {
  if (format == "xlsx") {
    if (path.empty()) {
      std::cerr << "communesync-admin: --format xlsx needs --out FILE.xlsx\n";
      return 2;
    }
    if (auto s = writeXlsx(sheets, path); !s) {
      std::cerr << "communesync-admin: " << s.message() << "\n";
      return 1;
    }
    return 0;
  }
  std::ofstream file;
  if (!path.empty()) file.open(path, std::ios::binary | std::ios::trunc);
  std::ostream& out = path.empty() ? std::cout : file;
  if (format == "csv") {
    writeCsv(sheets, out);
  } else if (format == "table") {
    writeTable(sheets, out);
  } else {
    other(out);
  }
  out.flush();
  if (!out) {
    std::cerr << "communesync-admin: cannot write " << (path.empty() ? "standard output" : path) << "\n";
    return 1;
  }
  return 0;
}

}  // namespace communesync::tools
