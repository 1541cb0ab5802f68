// communesync-admin's reports, over the server's /api/reports/ (docs/admin-api.md, docs/reports.md):
//   report targets|form1|form2|due|twinning --year YEAR [--unit UNIT] [--format table|csv|xlsx|json] [--out FILE]
//   report review --from YEAR --to YEAR [--unit UNIT] [--format ...] [--out FILE]
//     targets:  each sponsor's, mountainous district's and commune's targets, grade and reasons
//     form1:    Biểu số 1, a sponsor's report (UNIT: the sponsor's record id or name, or a unit code)
//     form2:    Biểu số 2, a mountainous district's report compiled from its communes (UNIT: the district)
//     due:      units yet to meet a coming deadline ([--today DAY])
//     twinning: the twinned pairs of the year with their decisions
//     review:   the five-year review: each year's figures and grades per sponsor and commune, totals
//   The default format is a table on the terminal; xlsx needs --out.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "admin_api.hpp"

namespace communesync::tools {

class ReportCommands {
 public:
  explicit ReportCommands(CLI::App& app);
  //! Runs the command that was parsed, if it is this one: its exit code.
  std::optional<int> run(const Api& api) const;

 private:
  CLI::App* report_ = nullptr;
  std::string kind_, unit_, format_ = "table", out_, today_;
  int year_ = 0, from_ = 0, to_ = 0;
};

}  // namespace communesync::tools
