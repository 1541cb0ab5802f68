// The views the writer keeps (server/store/views.hpp): after any history they equal what a rebuild
// computes from the records, and what a plain count of the records says; a page read while records
// change lists every record that was there throughout exactly once.
#include <gtest/gtest.h>

#include <array>
#include <random>
#include <set>

#include "assert_ok.hpp"
#include "base/tuning.hpp"
#include "communesync/sync/hybrid_clock.hpp"
#include "communesync/sync/review.hpp"
#include "communesync/sync/text.hpp"
#include "store/server_store.hpp"
#include "store/views.hpp"
#include "sync_builders.hpp"
#include "temp_dir.hpp"

namespace communesync::server {
namespace {

using sync::Value;

// 2025-12-31 22:45 in Viet Nam (UTC+7): a history that starts here crosses into the province's next year.
constexpr std::int64_t kStartMs = 1'767'200'400'000 - std::int64_t{75} * 60 * 1000;
constexpr std::array<std::string_view, 3> kUnits = {"xa-01", "xa-02", "xa-03"};
constexpr std::array<std::string_view, 2> kForms = {"household_survey", "plan"};
// The last two are what the survey counts read (a survey's date and whether the household is poor).
constexpr std::array<std::string_view, 6> kFields = {"name",  "members",       "village",
                                                     "phone", "ngay_khao_sat", "tinh_trang_ngheo"};

// A value of a field: survey dates in two years or none, poor or not.
Value valueOf(std::string_view field, std::size_t step, std::size_t pick) {
  if (field == "ngay_khao_sat") {
    static constexpr std::array<std::string_view, 3> kDates = {"2025-03-01", "2026-01-02", "không rõ"};
    return Value(std::string(kDates.at(pick % kDates.size())));
  }
  if (field == "tinh_trang_ngheo") return Value(std::string(pick % 2 == 0 ? "ngheo" : "can_ngheo"));
  return Value("v" + std::to_string(step));
}

std::vector<Scope> allUnits() {
  return {kUnits.begin(), kUnits.end()};
}

class ViewsTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }

  void reopen() {
    data_.reset();
    store_.reset();
    auto s = storage::Store::open(dir_ / "db");
    ASSERT_OK(s);
    store_ = std::move(s).value();
    auto d = ServerStore::open(*store_);
    ASSERT_OK(d);
    data_ = std::move(d).value();
  }

  // Applies the jobs in one group commit at `now_ms`; every change must be accepted.
  void apply(std::vector<PushJob>& jobs, std::int64_t now_ms) {
    std::vector<PushJob*> group;
    group.reserve(jobs.size());
    for (auto& job : jobs) group.push_back(&job);
    sync::proto::Checkpoints touched;
    ASSERT_OK(data_->apply(group, now_ms, touched));
    for (const auto& job : jobs) {
      for (const auto& r : job.results) {
        if (r.outcome != sync::proto::Outcome::kAccepted) ADD_FAILURE() << r.reason;
      }
    }
    if (index_each_group_) {  // as the writer's indexing thread does when it keeps up
      auto caught = data_->indexSearch(tuning::kSearchIndexSlice);
      ASSERT_OK(caught);
    }
  }

  static PushJob deviceJob() {
    PushJob job;
    std::vector<Grant> grants;
    grants.reserve(kUnits.size());
    for (const auto& unit : kUnits) grants.push_back(Grant{Role::kField, std::string(unit)});
    job.access = std::make_shared<const Access>(std::move(grants), UnitTree{});
    job.user = "field";
    return job;
  }

  std::optional<sync::Record> current(const sync::RecordKey& key) {
    auto r = data_->record(key);
    EXPECT_OK(r);
    return r ? *r : std::nullopt;
  }

  // Every record a search lists, paged by 7 with `after`: no page partial, the first page's total
  // `expected_total`.
  std::vector<std::string> searchAll(const std::vector<Scope>& units, const std::vector<std::string>& words,
                                     std::size_t expected_total) {
    RecordPageQuery query;
    query.collection = "household_survey";
    query.units = units;
    query.words = words;
    query.limit = 7;
    std::vector<std::string> listed;
    for (int pages = 0; pages < 1000; ++pages) {
      auto page = data_->recordPage(query);
      EXPECT_OK(page);
      if (!page) break;
      EXPECT_FALSE(page->partial);
      if (query.after.empty()) {
        EXPECT_EQ(page->total, expected_total);
      }
      for (const auto& item : page->items) listed.push_back(item.key.id);
      if (page->next.empty()) break;
      query.after = page->next;
    }
    return listed;
  }

  // A device's change of household `id`: its head's name set to `name` (seeing the name it holds),
  // or (`gone`) its deletion, seeing every field.
  sync::Change householdChange(const std::string& id, const Scope& scope, const std::string& name, std::int64_t at,
                               bool gone) {
    auto held = current({"household_survey", id});
    sync::Change change;
    if (gone) {
      std::map<std::string, sync::Stamp, std::less<>> seen;
      for (const auto& [field, value] : held->fields) seen.emplace(field, value.stamp);
      change = testing::deletion(1, ++device_seq_, testing::stampAt(at, 1), seen);
    } else {
      const auto seen = held && held->fields.count("chu_ho") ? held->fields.at("chu_ho").stamp : sync::Stamp{};
      change = testing::edit(1, ++device_seq_, "chu_ho", Value(name), testing::stampAt(at, 1), seen);
    }
    change.key = {"household_survey", id};
    change.scope = scope;
    return change;
  }

  // The server's change setting a record's review, as /api/reviews makes it.
  PushJob reviewJob(const sync::RecordKey& key, const Scope& scope, sync::ReviewState state, std::int64_t now_ms) {
    PushJob job;
    job.server = true;
    job.server_numbered = true;
    job.user = "reviewer";
    const sync::RecordKey review_key{std::string(sync::kReviewsCollection), sync::reviewRecordId(key)};
    sync::Review review{key, state, state == sync::ReviewState::kApproved ? "" : "why", "reviewer", now_ms};
    job.changes.push_back(sync::reviewChange(review, scope, current(review_key), sync::ChangeId{}, now_ms));
    return job;
  }

  // What the views should say, counted plainly from every record: live records per unit, year,
  // form and review state.
  std::map<std::tuple<Scope, int, std::string>, Tally> countedTallies() {
    std::map<sync::RecordKey, sync::ReviewState> reviews;
    auto records = data_->recordsForTesting();
    EXPECT_OK(records);
    for (const auto& r : *records) {
      if (auto review = sync::reviewOf(r)) reviews[review->reviewed] = review->state;
    }
    std::map<std::tuple<Scope, int, std::string>, Tally> out;
    for (const auto& r : *records) {
      if (serverCollection(r.key.collection) || r.deleted()) continue;
      auto it = reviews.find(r.key);
      const auto state = it == reviews.end() ? sync::ReviewState::kReceived : it->second;
      ++out[{r.scope, provinceYear(firstCapturedMs(r)), r.key.collection}][static_cast<std::size_t>(state)];
    }
    return out;
  }

  // What the survey counts should say: live household surveys not rejected, by unit and survey year.
  std::map<Scope, std::map<int, std::pair<std::int64_t, std::int64_t>>> countedSurveys() {
    std::map<sync::RecordKey, sync::ReviewState> reviews;
    auto records = data_->recordsForTesting();
    EXPECT_OK(records);
    for (const auto& r : *records) {
      if (auto review = sync::reviewOf(r)) reviews[review->reviewed] = review->state;
    }
    std::map<Scope, std::map<int, std::pair<std::int64_t, std::int64_t>>> out;
    for (const auto& r : *records) {
      auto it = reviews.find(r.key);
      if (r.deleted() || (it != reviews.end() && it->second == sync::ReviewState::kRejected)) continue;
      const auto* date =
          r.fields.count("ngay_khao_sat") ? r.fields.at("ngay_khao_sat").value.get<std::string>() : nullptr;
      if (r.key.collection != "household_survey" || date == nullptr || !std::isdigit(date->front())) continue;
      const auto* poor =
          r.fields.count("tinh_trang_ngheo") ? r.fields.at("tinh_trang_ngheo").value.get<std::string>() : nullptr;
      auto& count = out[r.scope][std::stoi(date->substr(0, 4))];
      ++count.first;
      count.second += poor != nullptr && *poor == "ngheo" ? 1 : 0;
    }
    return out;
  }

  std::map<Scope, std::map<int, std::pair<std::int64_t, std::int64_t>>> keptSurveys() {
    std::map<Scope, std::map<int, std::pair<std::int64_t, std::int64_t>>> out;
    auto kept = data_->surveyCounts(allUnits());
    EXPECT_OK(kept);
    for (const auto& [unit, years] : *kept) {
      for (const auto& [year, count] : years) out[unit][year] = {count.surveyed, count.poor};
    }
    return out;
  }

  std::map<std::tuple<Scope, int, std::string>, Tally> keptTallies(const std::set<int>& years) {
    std::map<std::tuple<Scope, int, std::string>, Tally> out;
    for (int year : years) {
      auto summaries = data_->summaries(allUnits(), year);
      EXPECT_OK(summaries);
      for (const auto& [unit, summary] : *summaries) {
        for (const auto& [form, tally] : summary.forms) out[{unit, year, form}] = tally;
      }
    }
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<ServerStore> data_;
  std::uint64_t device_seq_ = 0;  // householdChange's device
  bool index_each_group_ = true;  // apply() then indexes the search, as the writer's thread would
};

// Edits (seen and concurrent: conflicts), deletes and revivals, reviews (of deleted records too) and
// the reopening an edit makes, resolutions, several pushes in one group,
// across the turn of the province's year; surveys whose date and poverty change: the kept views are
// byte for byte what a rebuild writes, and their tallies and survey counts what a plain count of the
// records says.
TEST_F(ViewsTest, KeptViewsEqualARebuildAfterARandomHistory) {
  std::map<std::uint8_t, std::uint64_t> seqs;  // each device's numbering, across the seeds
  for (std::uint32_t seed : {1U, 2U, 3U}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    auto pick = [&rng](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
    std::int64_t now = kStartMs + std::int64_t{1000} * seed;
    std::size_t reviews = 0;
    std::size_t resolutions = 0;
    std::size_t deletions = 0;
    for (int step = 0; step < 300; ++step) {
      now += 5'000 + static_cast<std::int64_t>(pick(50'000));
      std::vector<PushJob> group;
      const std::size_t jobs = 1 + pick(3);
      for (std::size_t j = 0; j < jobs; ++j) {
        const auto kind = pick(20);
        const sync::RecordKey key{std::string(kForms.at(pick(kForms.size()))),
                                  "r" + std::to_string(pick(40)) + "-" + std::to_string(seed)};
        const Scope scope(kUnits.at(std::hash<std::string>{}(key.id) % kUnits.size()));
        auto record = current(key);
        if (kind < 3 && record) {  // a review (of a record the server holds: the API refuses others)
          const auto state = static_cast<sync::ReviewState>(pick(4));
          group.push_back(reviewJob(key, scope, state, now));
          ++reviews;
          continue;
        }
        if (kind < 5) {  // settle an open conflict: keep the kept side, with a change newer than both
          auto open = data_->conflicts(allUnits(), ConflictFilter{});
          ASSERT_OK(open);
          if (open->conflicts.empty() || !group.empty()) continue;  // a resolution alone in its group
          const auto& c = open->conflicts[pick(open->conflicts.size())];
          auto held = current(c.key);
          if (!held || c.field.empty() || held->fields.count(c.field) == 0) continue;
          PushJob job;
          job.server = true;
          job.user = "reconciler";
          job.resolution = Resolution{c.id(), "reconciler", "checked on site"};
          const auto top = std::max({held->maxFieldStamp(), held->tombstone.stamp, c.kept.stamp, c.lost.stamp});
          sync::Change change;
          change.id = {testing::deviceNo(200), ++seqs[200]};
          change.key = c.key;
          change.scope = c.scope;
          change.capture_time_ms = now;
          change.seen_tombstone = held->tombstone.stamp;
          change.assignments.push_back({c.field, held->fields.at(c.field).value,
                                        sync::stampAfter(top, now, testing::deviceNo(200)), held->fieldStamp(c.field)});
          job.changes.push_back(std::move(change));
          group.push_back(std::move(job));
          ++resolutions;
          continue;
        }
        const auto device = static_cast<std::uint8_t>(1 + pick(4));
        // A device's clock runs up to two minutes behind the server's: its writes race others'.
        const auto stamp = testing::stampAt(now - static_cast<std::int64_t>(pick(120'000)), device);
        const bool saw = pick(10) < 7;
        PushJob job = deviceJob();
        if (kind < 7 && record) {  // a delete, having seen every field (or not)
          std::map<std::string, sync::Stamp, std::less<>> seen;
          if (saw) {
            for (const auto& [name, field] : record->fields) seen.emplace(name, field.stamp);
          }
          auto change = testing::deletion(device, ++seqs[device], stamp, seen);
          change.key = key;
          change.scope = scope;
          job.changes.push_back(std::move(change));
          ++deletions;
        } else {
          const std::string field(kFields.at(pick(kFields.size())));
          sync::Stamp seen;
          if (saw && record && record->fields.count(field) != 0) seen = record->fields.at(field).stamp;
          auto change = testing::edit(device, ++seqs[device], field, valueOf(field, step, pick(6)), stamp, seen,
                                      saw && record ? record->tombstone.stamp : sync::Stamp{});
          change.key = key;
          change.scope = scope;
          job.changes.push_back(std::move(change));
        }
        group.push_back(std::move(job));
      }
      apply(group, now);
    }
    ASSERT_GT(reviews, 20U);
    ASSERT_GT(resolutions, 5U);
    ASSERT_GT(deletions, 20U);
    auto conflicts = data_->conflictsForTesting();
    ASSERT_OK(conflicts);
    ASSERT_GT(conflicts->size(), 10U) << "the history must make conflicts";

    const auto counted = countedTallies();
    std::set<int> years;
    for (const auto& [where, tally] : counted) years.insert(std::get<1>(where));
    ASSERT_GE(years.size(), 2U) << "the history crosses the province's new year";
    EXPECT_EQ(keptTallies(years), counted);
    const auto surveys = countedSurveys();
    ASSERT_EQ(surveys.size(), kUnits.size()) << "surveys counted in every unit";
    ASSERT_GE(surveys.begin()->second.size(), 2U) << "in two survey years";
    EXPECT_EQ(keptSurveys(), surveys);
    std::map<Scope, std::uint64_t> open_counted;
    for (const auto& c : *conflicts) open_counted[c.scope] += c.status == sync::ConflictStatus::kOpen ? 1 : 0;
    auto summaries = data_->summaries(allUnits(), *years.begin());
    ASSERT_OK(summaries);
    for (const auto& unit : allUnits()) {
      const auto it = summaries->find(unit);
      EXPECT_EQ(it == summaries->end() ? 0 : it->second.open_conflicts, open_counted[unit]) << unit;
    }

    auto kept = data_->viewsForTesting();
    ASSERT_OK(kept);
    ASSERT_OK(data_->rebuildViews());
    auto rebuilt = data_->viewsForTesting();
    ASSERT_OK(rebuilt);
    EXPECT_EQ(*kept, *rebuilt) << "the writer's views are the rebuild's";

    // The open conflicts and the reviews, paged with `after`: each once, newest first.
    std::vector<std::pair<std::int64_t, std::string>> open_expected;
    for (const auto& c : *conflicts) {
      if (c.status == sync::ConflictStatus::kOpen) open_expected.emplace_back(c.detected_ms, c.id());
    }
    std::vector<std::pair<std::int64_t, std::string>> open_listed;
    ConflictFilter filter;
    filter.limit = 4;
    for (int page = 0; page < 1000; ++page) {
      auto open = data_->conflicts(allUnits(), filter);
      ASSERT_OK(open);
      for (const auto& c : open->conflicts) open_listed.emplace_back(c.detected_ms, c.id());
      if (open->next.empty()) break;
      filter.after = open->next;
    }
    std::sort(open_expected.begin(), open_expected.end(),
              [](const auto& a, const auto& b) { return a.first > b.first; });
    ASSERT_EQ(open_listed.size(), open_expected.size());
    EXPECT_TRUE(std::is_sorted(open_listed.rbegin(), open_listed.rend(),
                               [](const auto& a, const auto& b) { return a.first < b.first; }));
    std::sort(open_listed.begin(), open_listed.end());
    std::sort(open_expected.begin(), open_expected.end());
    EXPECT_EQ(open_listed, open_expected);

    std::vector<std::pair<std::int64_t, std::string>> reviews_expected;
    auto records = data_->recordsForTesting();
    ASSERT_OK(records);
    for (const auto& r : *records) {
      if (auto review = sync::reviewOf(r); review && review->state == sync::ReviewState::kRejected) {
        reviews_expected.emplace_back(review->at_ms, r.key.id);
      }
    }
    std::vector<std::pair<std::int64_t, std::string>> reviews_listed;
    std::string after;
    for (int page = 0; page < 1000; ++page) {
      auto listed = data_->reviewPage(allUnits(), sync::ReviewState::kRejected, after, 3);
      ASSERT_OK(listed);
      for (const auto& r : listed->reviews) reviews_listed.emplace_back(sync::reviewOf(r)->at_ms, r.key.id);
      if (listed->next.empty()) break;
      after = listed->next;
    }
    ASSERT_GT(reviews_expected.size(), 3U);
    EXPECT_TRUE(std::is_sorted(reviews_listed.rbegin(), reviews_listed.rend(),
                               [](const auto& a, const auto& b) { return a.first < b.first; }));
    std::sort(reviews_listed.begin(), reviews_listed.end());
    std::sort(reviews_expected.begin(), reviews_expected.end());
    EXPECT_EQ(reviews_listed, reviews_expected) << "every rejected review listed once";
  }
  // A store opened again keeps its views (no rebuild needed) and they still read the same.
  auto before = data_->viewsForTesting();
  ASSERT_OK(before);
  reopen();
  auto after = data_->viewsForTesting();
  ASSERT_OK(after);
  EXPECT_EQ(*before, *after);
}

// Pages of 7 read with `after` while records are edited, deleted and added between pages: every
// record that was live throughout is listed exactly once, newest first; nothing is listed twice.
TEST_F(ViewsTest, PagingListsEveryRecordExactlyOnceWhileRecordsChange) {
  std::int64_t now = kStartMs;
  std::uint64_t seq = 0;
  auto put = [&](const std::string& id, std::string_view scope, const std::string& value) {
    std::vector<PushJob> group{deviceJob()};
    auto change = testing::edit(1, ++seq, "name", Value(value), testing::stampAt(now, 1));
    change.key = {"household_survey", id};
    change.scope = std::string(scope);
    group[0].changes.push_back(std::move(change));
    apply(group, now);
    now += 1000;
  };
  std::set<std::string> throughout;
  for (std::size_t k = 0; k < 90; ++k) {
    const auto id = "h" + std::to_string(k);
    put(id, kUnits.at(k % 3), "first");
    throughout.insert(id);
  }
  std::map<std::string, int> listed;
  std::vector<std::int64_t> order;
  RecordPageQuery query;
  query.collection = "household_survey";
  query.units = allUnits();
  query.limit = 7;
  std::mt19937 rng(7);
  std::size_t pages = 0;
  while (true) {
    auto page = data_->recordPage(query);
    ASSERT_OK(page);
    EXPECT_EQ(page->total, throughout.size() + pages) << "the total counts what is live now";
    for (const auto& item : page->items) {
      ++listed[item.key.id];
      order.push_back(item.created_ms);
    }
    ++pages;
    if (page->next.empty()) break;
    query.after = page->next;
    // Between pages: an edit of a random record, a new record, and now and then a delete.
    const auto edited = rng() % 90;
    if (throughout.count("h" + std::to_string(edited)) != 0) {
      put("h" + std::to_string(edited), kUnits.at(edited % 3), "edited");
    }
    put("new" + std::to_string(pages), kUnits.at(pages % 3), "new");
    if (pages % 4 == 0) {
      const auto id = "h" + std::to_string(rng() % 30 * 3 + 1);  // in xa-02
      auto held = current({"household_survey", id});
      if (held && !held->deleted()) {
        std::vector<PushJob> group{deviceJob()};
        std::map<std::string, sync::Stamp, std::less<>> seen;
        for (const auto& [name, field] : held->fields) seen.emplace(name, field.stamp);
        auto change = testing::deletion(1, ++seq, testing::stampAt(now, 1), seen);
        change.key = {"household_survey", id};
        change.scope = std::string(kUnits[1]);
        group[0].changes.push_back(std::move(change));
        apply(group, now);
        now += 1000;
        throughout.erase(id);
      }
    }
    ASSERT_LT(pages, 100U);
  }
  for (const auto& id : throughout) EXPECT_EQ(listed[id], 1) << id << " listed once";
  for (const auto& [id, times] : listed) EXPECT_EQ(times, 1) << id << " never twice";
  EXPECT_TRUE(std::is_sorted(order.rbegin(), order.rend())) << "newest first";

  query.after = "zz";
  EXPECT_EQ(data_->recordPage(query).status().code(), ErrorCode::kInvalidArgument);
}

// The search index: pages read with `after` list exactly the live records of the units asked that
// have every word of the search (without case or accents), newest first, each once; after renames
// and deletes the index has no stale word.
TEST_F(ViewsTest, SearchFindsTheRecordsWithEveryWordPagedOnce) {
  static constexpr std::array<std::string_view, 6> kFamily = {"Giàng", "Lò", "Hồ", "Vàng", "Sùng", "Đinh"};
  static constexpr std::array<std::string_view, 5> kGiven = {"A Dính", "Văn Mừng", "Thị Hoa", "Seo Chứ", "A Súa"};
  std::mt19937 rng(11);
  std::int64_t now = kStartMs;
  auto put = [&](const std::string& id, const Scope& scope, const std::string& name, bool gone = false) {
    std::vector<PushJob> group{deviceJob()};
    group[0].changes.push_back(householdChange(id, scope, name, now, gone));
    apply(group, now);
    now += 1000;
  };
  for (int k = 0; k < 150; ++k) {
    put("h" + std::to_string(k), Scope(kUnits.at(k % 3)),
        std::string(kFamily.at(rng() % kFamily.size())) + " " + std::string(kGiven.at(rng() % kGiven.size())));
  }
  for (int k = 0; k < 40; ++k) {  // renames and deletes
    const auto n = rng() % 150;
    if (current({"household_survey", "h" + std::to_string(n)})->deleted()) continue;
    put("h" + std::to_string(n), Scope(kUnits.at(n % 3)),
        std::string(kFamily.at(rng() % kFamily.size())) + " " + std::string(kGiven.at(rng() % kGiven.size())),
        k % 4 == 0);
  }
  auto records = data_->recordsForTesting();
  ASSERT_OK(records);
  for (const std::string text : {"giang a dinh", "HO VAN", "đinh", "a", "sua lo", "nobody"}) {
    for (const std::vector<Scope>& units : {allUnits(), std::vector<Scope>{"xa-02"}}) {
      SCOPED_TRACE(text + " in " + std::to_string(units.size()) + " units");
      const auto words = queryWords(text);
      std::vector<std::pair<int, std::string>> expected;  // newest first
      for (const auto& r : *records) {
        if (r.key.collection != "household_survey" || r.deleted()) continue;
        if (!std::binary_search(units.begin(), units.end(), r.scope)) continue;
        const auto folded = sync::foldForSearch(*r.fields.at("chu_ho").value.get<std::string>()) + " ";
        bool all = true;
        for (const auto& w : words) all = all && (" " + folded).find(" " + w + " ") != std::string::npos;
        if (all) expected.emplace_back(std::stoi(r.key.id.substr(1)), r.key.id);  // h0 was made first
      }
      std::sort(expected.rbegin(), expected.rend());
      const auto listed = searchAll(units, words, expected.size());
      std::vector<std::string> ids;
      ids.reserve(expected.size());
      for (const auto& [at, id] : expected) ids.push_back(id);
      EXPECT_EQ(listed, ids);
    }
  }
  EXPECT_FALSE(queryWords("giang a dinh").empty());
  EXPECT_EQ(queryWords("Giàng  A-Dính"), (std::vector<std::string>{"a", "dinh", "giang"}));
}

// The postings of big groups: a group creates more records with a word than one chunk holds, another
// group of the same millisecond adds records whose ids fall between them (one segment, merged), and a
// later group renames and deletes some from the middle. Every search lists each matching live
// record once, in order, across the chunks; what the writer kept is what a rebuild writes.
TEST_F(ViewsTest, SearchPostingsOfBigGroupsListEveryRecordOnce) {
  static constexpr std::array<std::string_view, 3> kFamily = {"Giàng", "Lò", "Hồ"};
  static constexpr std::array<std::string_view, 3> kGiven = {"A Dính", "Văn Mừng", "Thị Hoa"};
  std::mt19937 rng(5);
  auto name = [&] {
    return std::string(kFamily.at(rng() % kFamily.size())) + " " + std::string(kGiven.at(rng() % kGiven.size()));
  };
  auto id = [](int n) {
    const auto digits = std::to_string(n);
    return "h" + std::string(4 - digits.size(), '0') + digits;
  };
  auto change = [&](int n, std::int64_t at, bool gone) {
    return householdChange(id(n), Scope(kUnits.at(n % 3)), gone ? "" : name(), at, gone);
  };
  const std::int64_t made = kStartMs;
  std::vector<PushJob> first{deviceJob()};
  for (int n = 0; n < 1500; n += 2) first[0].changes.push_back(change(n, made, false));  // 750 records
  apply(first, made);
  std::vector<PushJob> second{deviceJob()};
  for (int n = 1; n < 400; n += 2) second[0].changes.push_back(change(n, made, false));  // between them
  apply(second, made);  // the same millisecond: the same segments
  std::vector<PushJob> later{deviceJob()};
  std::set<int> touched;
  for (int k = 0; k < 90; ++k) {
    const int n = static_cast<int>(rng() % 750) * 2;
    if (touched.insert(n).second) later[0].changes.push_back(change(n, made + 5000, k % 3 == 0));
  }
  apply(later, made + 5000);

  auto records = data_->recordsForTesting();
  ASSERT_OK(records);
  for (const std::string text : {"giang a dinh", "ho", "thi hoa lo", "a"}) {
    SCOPED_TRACE(text);
    const auto words = queryWords(text);
    std::vector<std::string> expected;  // all made in one millisecond: newest first is by id
    for (const auto& r : *records) {
      if (r.key.collection != "household_survey" || r.deleted()) continue;
      const auto folded = " " + sync::foldForSearch(*r.fields.at("chu_ho").value.get<std::string>()) + " ";
      bool all = true;
      for (const auto& w : words) all = all && folded.find(" " + w + " ") != std::string::npos;
      if (all) expected.push_back(r.key.id);
    }
    std::sort(expected.begin(), expected.end());
    if (words.size() == 1) {
      ASSERT_GT(expected.size(), 4 * tuning::kPostingChunkMean) << "the list crosses chunks";
    }
    EXPECT_EQ(searchAll(allUnits(), words, expected.size()), expected);
  }
  auto kept = data_->viewsForTesting();
  ASSERT_OK(kept);
  std::size_t chunks = 0;
  for (const auto& [key, value] : *kept) chunks += key.front() == 'w' ? 1 : 0;
  EXPECT_LT(chunks, 100U) << "a group writes a chunk per word, not a key per word of each record";
  ASSERT_OK(data_->rebuildViews());
  auto rebuilt = data_->viewsForTesting();
  ASSERT_OK(rebuilt);
  EXPECT_EQ(*kept, *rebuilt) << "the writer's postings are the rebuild's";
}

// The words are kept off the write path: a push writes nothing in the search column; the index then
// follows the log a slice at a time (each record once however often it changed, deleted records
// leaving their words), survives a reopen half way, and a search catches it up before it answers.
TEST_F(ViewsTest, TheSearchIndexFollowsTheLogAfterThePushes) {
  auto searchKeys = [&] {
    std::size_t n = 0;
    for (auto c = store_->scan(storage::Column::kSearch, "", ""); c.valid(); c.next()) ++n;
    return n;
  };
  index_each_group_ = false;
  ASSERT_OK(data_->indexSearch(1000));
  const auto before = searchKeys();
  std::int64_t now = kStartMs;
  auto put = [&](int n, const std::string& name, bool gone) {
    std::vector<PushJob> group{deviceJob()};
    group[0].changes.push_back(householdChange("h" + std::to_string(n), Scope(kUnits.at(n % 3)), name, now, gone));
    apply(group, now);
    now += 1000;
  };
  for (int n = 0; n < 10; ++n) put(n, "Giàng A Dính", false);
  for (int n = 0; n < 10; n += 2) put(n, "Lò Văn Mừng", false);  // renamed
  put(3, "", true);                                              // deleted
  EXPECT_EQ(searchKeys(), before) << "a push writes nothing for the search";

  auto caught = data_->indexSearch(7);  // a slice: 7 of the 16 changes
  ASSERT_OK(caught);
  EXPECT_FALSE(*caught);
  EXPECT_GT(searchKeys(), before);
  reopen();  // half way: the mark was committed with what it covers
  auto search = [&](const std::string& text) {
    RecordPageQuery query;
    query.collection = "household_survey";
    query.units = allUnits();
    query.words = queryWords(text);
    query.limit = 50;
    auto page = data_->recordPage(query);  // catches the index up first
    EXPECT_OK(page);
    std::set<std::string> ids;
    if (page) {
      EXPECT_FALSE(page->partial);
      for (const auto& item : page->items) ids.insert(item.key.id);
    }
    return ids;
  };
  EXPECT_EQ(search("giang dinh"), (std::set<std::string>{"h1", "h5", "h7", "h9"}));
  EXPECT_EQ(search("lo mung"), (std::set<std::string>{"h0", "h2", "h4", "h6", "h8"}));
  caught = data_->indexSearch(1000);
  ASSERT_OK(caught);
  EXPECT_TRUE(*caught);
  auto kept = data_->viewsForTesting();
  ASSERT_OK(kept);
  ASSERT_OK(data_->rebuildViews());
  auto rebuilt = data_->viewsForTesting();
  ASSERT_OK(rebuilt);
  EXPECT_EQ(*kept, *rebuilt) << "what the index followed is what a rebuild writes";
}

}  // namespace
}  // namespace communesync::server
