#include "app/config.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "temp_dir.hpp"

namespace communesync::server {
namespace {

TEST(Config, ListenParses) {
  Config c;
  ASSERT_TRUE(parseListen("0.0.0.0:9000", c).isOk());
  EXPECT_EQ(c.listen_host, "0.0.0.0");
  EXPECT_EQ(c.listen_port, 9000);
  ASSERT_TRUE(parseListen("[::1]:80", c).isOk());
  EXPECT_EQ(c.listen_host, "::1");
  EXPECT_FALSE(parseListen("localhost", c).isOk());
  EXPECT_FALSE(parseListen("h:99999", c).isOk());
  EXPECT_FALSE(parseListen("h:8o", c).isOk());
}

TEST(Config, FileOverridesDefaultsAndRejectsUnknownKeys) {
  testing::TempDir dir;
  std::ofstream(dir / "good.json") << R"({"data": "/var/lib/cs", "listen": "127.0.0.1:9999", "threads": 3})";
  Config c;
  ASSERT_TRUE(loadConfigFile(dir / "good.json", c).isOk());
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
  auto s = parseConfig(R"({"limits": {"max_file_bytes": 1048576, "max_file_bytes_per_device_day": 5242880,
                                      "file_retention_hours": 48}})",
                       "test.json", c);
  ASSERT_TRUE(s.isOk()) << s.toString();
  EXPECT_EQ(c.limits.max_file_bytes, 1048576u);
  EXPECT_EQ(c.limits.max_file_bytes_per_device_day, 5242880u);
  EXPECT_EQ(c.limits.file_retention, std::chrono::hours(48));
  EXPECT_FALSE(parseConfig(R"({"limits": {"max_file_bytes": -1}})", "test.json", c).isOk());
}

TEST(Config, ReportRulesAreCheckedWhenTheFileIsRead) {
  Config c;
  ASSERT_TRUE(parseConfig(R"({"report_rules": {"default": {"lowland_money_vnd": 250000000},
                                              "2022": {"district_needs_before": "02-15"}}})",
                          "test.json", c)
                  .isOk());
  EXPECT_EQ(c.report_rules["default"]["lowland_money_vnd"], 250000000);
  auto s = parseConfig(R"({"report_rules": {"2022": {"district_needs_before": "15/02"}}})", "test.json", c);
  EXPECT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("district_needs_before"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace communesync::server
