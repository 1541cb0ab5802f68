// The year's records of the twinning programme, read once and indexed: who the sponsors are, which
// records belong to which sponsor and commune, when things were received. Shared by the targets and
// the forms (programme_targets.cpp, programme_forms.cpp) so both read the records the same way.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "programme/programme_report.hpp"

namespace communesync::server::programme {

std::int64_t wholeField(const sync::Record& record, std::string_view name);  //!< 0 when absent
std::string textField(const sync::Record& record, std::string_view name);    //!< "" when absent
bool yesField(const sync::Record& record, std::string_view name);            //!< false when absent
std::vector<std::string> codesField(const sync::Record& record, std::string_view name);

//! The earliest date in `field` among `records` ("YYYY-MM-DD"; empty when none has one).
std::string earliestDate(const std::vector<const sync::Record*>& records, std::string_view field);

//! "YYYY-MM-DD" of a server time on the province's calendar.
std::string localDate(std::int64_t ms, int utc_offset_minutes);
//! Whether `text` is a day "YYYY-MM-DD".
bool isDay(const std::string& text);
//! Whether a day ("YYYY-MM-DD") is inside the year-end report window of `rules` (both ends included).
bool inReportWindow(const ReportRules& rules, const std::string& day);
//! Days from `from` to `to` (both "YYYY-MM-DD"); 0 when either is not a date.
std::int64_t daysBetween(const std::string& from, const std::string& to);
//! "DD/MM" of "YYYY-MM-DD", as Vietnamese documents write a day.
std::string dayMonth(const std::string& date);

struct Sponsor {
  const sync::Record* record = nullptr;
  std::string id;    //!< the sponsor_unit record id
  std::string name;  //!< `ten`
  std::string kind;  //!< `loai`: so_nganh, huyen_dong_bang, doanh_nghiep, bien_phong, khac
  //! Staff of the report's year: its `sponsor_staff` record of the year, else `bien_che` of the
  //! sponsor_unit record (what the unit says today).
  std::int64_t staff = 0;
  bool staff_of_year = false;  //!< whether `staff` came from a record of the year
  //! The units (communes, or whole districts) twinned with it in the report's year, as they stand
  //! that year (a commune merged by then is its successor), each once: from its twinning
  //! assignments in force on the year's reporting day, or, for a sponsor with no assignment
  //! recorded, the codes of its `xa_ket_nghia`.
  std::vector<std::string> twinned;
};

//! One twinning assignment (a `twinning_assignment` record): the Committee's decision that a sponsor
//! helps a commune or a whole district from a day, until a day or for as long as it stands.
struct Assignment {
  const sync::Record* record = nullptr;
  const Sponsor* sponsor = nullptr;  //!< nullptr when its `don_vi_ket_nghia` names no sponsor
  std::string unit;                  //!< `dia_ban_ket_nghia`
  std::string from;                  //!< `tu_ngay`
  std::string to;                    //!< `den_ngay`, "" while it stands
  std::string decision;              //!< `so_quyet_dinh`
  std::string decision_date;         //!< `ngay_quyet_dinh`
  bool inForceOn(const std::string& day) const { return from <= day && (to.empty() || day <= to); }
};

class Facts {
 public:
  Facts(const ReportData& data, const ReportRules& rules);

  const ReportRules& rules() const { return rules_; }
  //! The day the year is reported (the last day of the year-end report window): which twinning
  //! assignments set the year's targets is read on it.
  std::string reportDay() const;
  //! Every twinning assignment recorded, by sponsor name and start.
  const std::vector<Assignment>& assignments() const { return assignments_; }
  const UnitTree& units() const { return *data_.units; }
  const std::vector<Sponsor>& sponsors() const { return sponsors_; }
  //! The sponsor a record's `don_vi_ket_nghia` (or a user's --unit) names: by id, or by folded name.
  const Sponsor* sponsorNamed(std::string_view id_or_name) const;

  //! Records of `collection` whose `nam` is the report's year.
  const std::vector<const sync::Record*>& ofYear(const std::string& collection) const;
  //! Records of the year naming `sponsor` (at `place` when not empty: see placeOf).
  std::vector<const sync::Record*> ofSponsor(const std::string& collection, const Sponsor& sponsor,
                                             const std::string& place = {}) const;
  //! Where a sponsor's record counts: the unit twinned with it that covers the record's unit (a
  //! commune, or a whole district), else the commune the record is in.
  std::string placeOf(const Sponsor& sponsor, const Scope& scope) const;
  //! Records of the year in `unit` or under it that name no sponsor.
  std::vector<const sync::Record*> ofUnit(const std::string& collection, const std::string& unit) const;
  //! Household surveys dated in the year, in `unit` or under it.
  SurveyCount surveysIn(const std::string& unit) const;

  // The tree as it stands in the report's year. A unit merged on a day of the year or before counts
  // as part of the unit it was merged into (the year is reported by the units that exist at its
  // end); before the merge's year it stands on its own, under its parent.

  //! The commune (level commune) a record's unit is in, or "" when it is above communes or unknown.
  std::string communeOf(const Scope& scope) const;
  //! The district a unit is in, or "".
  std::string districtOf(const std::string& code) const;
  bool covers(const std::string& ancestor, const std::string& code) const;
  //! The unit `code` is in the report's year: itself, or what it was merged into by the year's end.
  std::string successorOf(const std::string& code) const;
  std::string unitName(const std::string& code) const;

  //! The unit's own `local_setup` of the year (the latest received, if several), or nullptr.
  const sync::Record* setupOf(const std::string& unit) const;

  //! The server's first receipt of a record, as a local date; nullopt when unknown.
  std::optional<std::string> receivedDate(const sync::Record& record) const;

  //! Communes of the programme: those twinned with a sponsor, and those holding any programme record
  //! of the year (a plan, a result, a proposal, a set-up, a report). Sorted by code.
  const std::vector<std::string>& communes() const { return communes_; }
  //! The districts those communes are in. Sorted by code.
  const std::vector<std::string>& districts() const { return districts_; }
  //! The unit that compiles a commune's Form 2: its district, or, where there is none (the
  //! two-level administration since July 2025: province -> commune), its province.
  std::string compilerOf(const std::string& commune) const;
  //! The compilers of the programme's communes (districts and district-less provinces). Sorted.
  const std::vector<std::string>& compilers() const { return compilers_; }
  //! The sponsors `unit` selects (see assessTargets): one by id or name, those twinned under a unit
  //! code, or all.
  std::vector<const Sponsor*> sponsorsFor(const std::string& unit) const;
  //! The communes and districts `unit` selects: those in its subtree, and the districts above it.
  bool selects(const std::string& unit, const std::string& code) const;

 private:
  const ReportData& data_;
  const ReportRules& rules_;
  //! The unit a record under `unit` rolls up to in the year: the unit it was merged into by the
  //! year's end, else its parent; nullptr at a root.
  const Unit* upOf(const Unit& unit) const;
  bool mergedBy(const Unit& unit) const;
  void readAssignments();

  std::vector<Sponsor> sponsors_;
  std::vector<Assignment> assignments_;
  std::map<std::string, std::vector<const sync::Record*>> of_year_;
  std::vector<std::string> communes_;
  std::vector<std::string> districts_;
  std::vector<std::string> compilers_;
};

//! What a department with `staff` owes in poor households helped (report_rules.hpp: the average
//! "bình quân 10 biên chế ... 02 hộ", rounded to the nearest whole household, a half up).
std::int64_t householdsOwed(std::int64_t staff, const ReportRules& rules);

//! The models a support result built, consolidated or replicated ("xây dựng, củng cố hoặc nhân rộng").
std::int64_t modelsOf(const sync::Record& result);

//! Whether a needs proposal arrived in time: one entered at a district (its compilation of its
//! communes' needs) by the district's day, one entered at a commune or village by the commune's.
//! The targets and Form 2's "in time" column both ask this.
bool proposalInTime(const Facts& facts, const sync::Record& proposal);

}  // namespace communesync::server::programme
