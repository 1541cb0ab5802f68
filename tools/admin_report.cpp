#include "admin_report.hpp"

#include <iostream>

#include "sheet_output.hpp"

namespace communesync::tools {

ReportCommands::ReportCommands(CLI::App& app) {
  report_ = app.add_subcommand("report",
                               "the programme's reports: targets and grades, Form 1, Form 2, reminders of what is due");
  report_
      ->add_option("kind", kind_,
                   "targets, form1, form2, due (units yet to meet a coming deadline), twinning (the twinned "
                   "pairs and their decisions) or review (the five-year review, --from and --to)")
      ->required()
      ->check(CLI::IsMember({"targets", "form1", "form2", "due", "twinning", "review"}));
  report_->add_option("--year", year_, "the year reported (every kind but review)")->check(CLI::Range(2000, 2100));
  report_->add_option("--from", from_, "review: the first year")->check(CLI::Range(2000, 2100));
  report_->add_option("--to", to_, "review: the last year")->check(CLI::Range(2000, 2100));
  report_->add_option("--unit", unit_,
                      "a unit code (a district covers its communes) or, for form1, a sponsor's record id or name");
  report_->add_option("--format", format_, "table (default), csv, xlsx or json")
      ->check(CLI::IsMember({"table", "csv", "xlsx", "json"}));
  report_->add_option("--out", out_, "the file to write (default: standard output; xlsx needs a file)");
  report_->add_option("--today", today_, "due: as of this day, YYYY-MM-DD (default: today in the province)");
}

std::optional<int> ReportCommands::run(const Api& api) const {
  if (!*report_) return std::nullopt;
  const bool review = kind_ == "review";
  if (review ? from_ == 0 || to_ == 0 : year_ == 0) {
    std::cerr << (review ? "report review needs --from YEAR --to YEAR\n" : "report " + kind_ + " needs --year YEAR\n");
    return 2;
  }
  const auto years =
      review ? "from=" + std::to_string(from_) + "&to=" + std::to_string(to_) : "year=" + std::to_string(year_);
  auto j = api.call("GET", "/api/reports/" + kind_ + "?" + years + (unit_.empty() ? "" : "&unit=" + urlPart(unit_)) +
                               (today_.empty() ? "" : "&today=" + urlPart(today_)));
  if (!j) return 1;
  return writeSheetsAs(reportSheets(*j), format_, out_, [&](std::ostream& out) { out << j->dump(2) << "\n"; });
}

}  // namespace communesync::tools
