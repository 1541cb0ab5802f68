#include "admin_report.hpp"

#include "sheet_output.hpp"

namespace communesync::tools {

ReportCommands::ReportCommands(CLI::App& app) {
  report_ = app.add_subcommand("report",
                               "the programme's reports: targets and grades, Form 1, Form 2, reminders of what is due");
  report_->add_option("kind", kind_, "targets, form1, form2 or due (units yet to meet a coming deadline)")
      ->required()
      ->check(CLI::IsMember({"targets", "form1", "form2", "due"}));
  report_->add_option("--year", year_, "the year reported")->required()->check(CLI::Range(2000, 2100));
  report_->add_option("--unit", unit_,
                      "a unit code (a district covers its communes) or, for form1, a sponsor's record id or name");
  report_->add_option("--format", format_, "table (default), csv, xlsx or json")
      ->check(CLI::IsMember({"table", "csv", "xlsx", "json"}));
  report_->add_option("--out", out_, "the file to write (default: standard output; xlsx needs a file)");
  report_->add_option("--today", today_, "due: as of this day, YYYY-MM-DD (default: today in the province)");
}

std::optional<int> ReportCommands::run(const Api& api) const {
  if (!*report_) return std::nullopt;
  auto j = api.call("GET", "/api/reports/" + kind_ + "?year=" + std::to_string(year_) +
                               (unit_.empty() ? "" : "&unit=" + urlPart(unit_)) +
                               (today_.empty() ? "" : "&today=" + urlPart(today_)));
  if (!j) return 1;
  return writeSheetsAs(reportSheets(*j), format_, out_, [&](std::ostream& out) { out << j->dump(2) << "\n"; });
}

}  // namespace communesync::tools
