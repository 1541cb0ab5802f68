#include "app/config.hpp"
#include "base/address_set.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "assert_ok.hpp"
#include "temp_dir.hpp"

namespace communesync::server {
namespace {

TEST(Config, ListenParses) {
  Config c;
  ASSERT_OK(parseListen("0.0.0.0:9000", c));
  EXPECT_EQ(c.listen_host, "0.0.0.0");
  EXPECT_EQ(c.listen_port, 9000);
  ASSERT_OK(parseListen("[::1]:80", c));
  EXPECT_EQ(c.listen_host, "::1");
  EXPECT_FALSE(parseListen("localhost", c).isOk());
  EXPECT_FALSE(parseListen("h:99999", c).isOk());
  EXPECT_FALSE(parseListen("h:8o", c).isOk());
}

TEST(Config, FileOverridesDefaultsAndRejectsUnknownKeys) {
  testing::TempDir dir;
  std::ofstream(dir / "good.json") << R"({"data": "/var/lib/cs", "listen": "127.0.0.1:9999", "threads": 3})";
  Config c;
  ASSERT_OK(loadConfigFile(dir / "good.json", c));
  EXPECT_EQ(c.data_dir, "/var/lib/cs");
  EXPECT_EQ(c.listen_port, 9999);
  EXPECT_EQ(c.threads, 3u);

  std::ofstream(dir / "bad.json") << R"({"dta": "x"})";
  auto s = loadConfigFile(dir / "bad.json", c);
  ASSERT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("\"dta\""), std::string::npos) << s.message();
  EXPECT_EQ(loadConfigFile(dir / "missing.json", c).code(), ErrorCode::kNotFound);
}

TEST(Config, FileLimitsAreTunedUnderLimits) {
  Config c;
  EXPECT_EQ(c.limits.max_file_bytes, tuning::kMaxFileBytes);
  auto s = parseConfig(R"({"limits": {"max_file_bytes": 1048576, "max_file_bytes_per_user_day": 5242880,
                                      "max_unreferenced_file_bytes_per_user": 7340032,
                                      "file_retention_hours": 48}})",
                       "test.json", c);
  ASSERT_OK(s);
  EXPECT_EQ(c.limits.max_file_bytes, 1048576u);
  EXPECT_EQ(c.limits.max_file_bytes_per_user_day, 5242880u);
  EXPECT_EQ(c.limits.max_unreferenced_file_bytes_per_user, 7340032u);
  EXPECT_EQ(c.limits.file_retention, std::chrono::hours(48));
  // The older name (a per-device quota before) still reads, as the per-user quota.
  ASSERT_OK(parseConfig(R"({"limits": {"max_file_bytes_per_device_day": 1000}})", "test.json", c));
  EXPECT_EQ(c.limits.max_file_bytes_per_user_day, 1000u);
  EXPECT_FALSE(parseConfig(R"({"limits": {"max_file_bytes": -1}})", "test.json", c).isOk());
}

TEST(Config, TheFieldAppsPhotoSettingsAreCheckedAndNamedWhenWrong) {
  Config c;
  EXPECT_EQ(c.photo_max_px, tuning::kPhotoMaxPixels);
  ASSERT_OK(parseConfig(R"({"field_app": {"photo_max_px": 1024, "photo_quality": 0.6}})", "test.json", c));
  EXPECT_EQ(c.photo_max_px, 1024);
  EXPECT_DOUBLE_EQ(c.photo_quality, 0.6);
  for (const char* bad : {R"({"field_app": {"photo_max_px": 100}})", R"({"field_app": {"photo_quality": 2}})",
                          R"({"field_app": {"photo_size": 1000}})", R"({"field_app": 5})"}) {
    auto s = parseConfig(bad, "test.json", c);
    EXPECT_FALSE(s.isOk()) << bad;
    EXPECT_NE(s.message().find("field_app"), std::string::npos) << s.message();
  }
  EXPECT_EQ(c.photo_max_px, 1024) << "a refused file changes nothing that was read before";
}

TEST(Config, TheCacheIsWholeMebibytesWithinBoundsAndABadOneIsNamed) {
  Config c;
  EXPECT_EQ(c.cache_mb, 32);
  ASSERT_OK(parseConfig(R"({"cache_mb": 16})", "test.json", c));
  EXPECT_EQ(c.cache_mb, 16);
  for (const char* bad : {R"({"cache_mb": 3})", R"({"cache_mb": 65537})", R"({"cache_mb": 1.5})",
                          R"({"cache_mb": "16"})", R"({"cache_mb": -8})"}) {
    auto s = parseConfig(bad, "test.json", c);
    EXPECT_FALSE(s.isOk()) << bad;
    EXPECT_NE(s.message().find("\"cache_mb\" must be a whole number of MiB from 4 to 65536"), std::string::npos)
        << s.message();
  }
  EXPECT_EQ(c.cache_mb, 16) << "a refused file changes nothing that was read before";
}

TEST(Config, RetentionIsInWholeYearsZeroForeverAndABadOneChangesNothing) {
  Config c;
  EXPECT_EQ(c.retention.history_years, 0) << "history: forever by default";
  EXPECT_EQ(c.retention.audit_years, tuning::kAuditRetentionYears);
  EXPECT_EQ(c.retention.tombstone_years, 0) << "deleted records: forever by default";
  ASSERT_OK(
      parseConfig(R"({"retention": {"history_years": 10, "audit_years": 0, "tombstone_years": 3}})", "test.json", c));
  EXPECT_EQ(c.retention.history_years, 10);
  EXPECT_EQ(c.retention.audit_years, 0);
  EXPECT_EQ(c.retention.tombstone_years, 3);
  for (const char* bad : {R"({"retention": {"history_years": 3, "audit_years": -1}})",
                          R"({"retention": {"audit_years": 1.5}})", R"({"retention": {"history_days": 30}})",
                          R"({"retention": 5})", R"({"retention": {"tombstone_years": 101}})"}) {
    auto s = parseConfig(bad, "test.json", c);
    EXPECT_FALSE(s.isOk()) << bad;
    EXPECT_NE(s.message().find("retention"), std::string::npos) << s.message();
  }
  EXPECT_EQ(c.retention.history_years, 10) << "a refused retention changes nothing";
}

TEST(Config, TrustedProxiesAndMetricsFromAreAddressesOrNetworksAndABadOneIsNamed) {
  Config c;
  ASSERT_OK(parseConfig(R"({"trusted_proxies": ["127.0.0.1", "10.1.0.0/16", "fd00::/8"], "metrics_from": ["::1"]})",
                        "test.json", c));
  EXPECT_EQ(c.trusted_proxies.size(), 3u);
  EXPECT_EQ(c.metrics_from, std::vector<std::string>{"::1"});
  for (const char* bad : {R"({"trusted_proxies": ["10.0.0.0/33"]})", R"({"trusted_proxies": ["nginx.local"]})",
                          R"({"metrics_from": "127.0.0.1"})", R"({"metrics_from": ["10.0.0.1/"]})"}) {
    auto s = parseConfig(bad, "test.json", c);
    EXPECT_FALSE(s.isOk()) << bad;
  }
  EXPECT_EQ(c.trusted_proxies.size(), 3u) << "a refused list changes nothing";
  auto set = AddressSet::parse(c.trusted_proxies);
  ASSERT_OK(set);
  EXPECT_TRUE(set->contains("10.1.200.3"));
  EXPECT_TRUE(set->contains("::ffff:127.0.0.1")) << "an IPv4-mapped peer matches its IPv4 entry";
  EXPECT_TRUE(set->contains("fd12::1"));
  EXPECT_FALSE(set->contains("10.2.0.1"));
  EXPECT_FALSE(set->contains("127.0.0.2"));
  EXPECT_FALSE(set->contains("not an address"));
}

TEST(Config, ReportRulesAreCheckedWhenTheFileIsRead) {
  Config c;
  ASSERT_OK(parseConfig(R"({"report_rules": {"default": {"lowland_money_vnd": 250000000},
                                              "2022": {"district_needs_before": "02-15"}}})",
                        "test.json", c));
  EXPECT_EQ(c.report_rules["default"]["lowland_money_vnd"], 250000000);
  auto s = parseConfig(R"({"report_rules": {"2022": {"district_needs_before": "15/02"}}})", "test.json", c);
  EXPECT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("district_needs_before"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace communesync::server

namespace communesync::server {
namespace {

std::string fileText(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// An operator learns the settings from docs/operations.md: every key the parser takes is there,
// written as the config file writes it ("key") or as code (`key`, in the limits' table). A key added to
// the parser without its line fails here.
TEST(Config, EveryKeyIsDocumentedInOperations) {
  const auto doc = fileText(OPERATIONS_DOC);
  ASSERT_FALSE(doc.empty()) << OPERATIONS_DOC;
  for (const auto& keys : {configKeys(), limitKeys()}) {
    for (auto key : keys) {
      const bool documented = doc.find("\"" + std::string(key) + "\"") != std::string::npos ||
                              doc.find("`" + std::string(key) + "`") != std::string::npos;
      EXPECT_TRUE(documented) << "docs/operations.md does not document the config key \"" << key << "\"";
    }
  }
}

TEST(Config, AKeyNotListedIsRefusedWithWhereToLook) {
  Config c;
  auto s = parseConfig(R"({"listen": "127.0.0.1:1", "speed": 3})", "test", c);
  ASSERT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("\"speed\" is not a setting"), std::string::npos) << s.toString();
  s = parseConfig(R"({"limits": {"max_speed": 3}})", "test", c);
  ASSERT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("max_speed is not a limit"), std::string::npos) << s.toString();
}

}  // namespace
}  // namespace communesync::server
