// How the admin tool writes sheets (server/sheets/sheet_writer.hpp) where --format and --out say.
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "sheets/sheet_writer.hpp"

namespace communesync::tools {

using sheets::exportSheet;
using sheets::reportSheets;
using sheets::Sheet;

//! `sheets` as "csv", "xlsx" or "table", any other format by `other`, to the file `path` (empty:
//! standard output; xlsx needs a file). Prints why it failed and returns the exit code.
int writeSheetsAs(const std::vector<Sheet>& sheets, const std::string& format, const std::string& path,
                  const std::function<void(std::ostream&)>& other);

}  // namespace communesync::tools
