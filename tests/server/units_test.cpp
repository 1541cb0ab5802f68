// The unit tree: CSV import and coverage through merges.
#include <gtest/gtest.h>

#include "assert_ok.hpp"
#include "programme/units.hpp"
#include "sample_units.hpp"

namespace communesync::server {
namespace {

using testing::kSampleUnitsCsv;
using testing::sampleTree;

TEST(UnitsCsv, ParsesQuotedFieldsAndNormalisesNames) {
  auto units = parseUnitsCsv(kSampleUnitsCsv);
  ASSERT_OK(units);
  ASSERT_EQ(units->size(), 7u);
  EXPECT_EQ((*units)[3].name, "Trà Đốc, xã");
  EXPECT_EQ((*units)[3].level, UnitLevel::kCommune);
  // The same name in decomposed form (NFD) is stored as NFC.
  auto nfd = parseUnitsCsv("code,parent_code,level,name\r\nA,,province,Qua\xcc\x89ng Nam\r\n");
  ASSERT_OK(nfd);
  EXPECT_EQ((*nfd)[0].name, "Quảng Nam");
}

TEST(UnitsCsv, MalformedRowsNameTheirLine) {
  struct Case {
    std::string text;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {"code,parent,level,name\n", "line 1: the header"},
      {"code,parent_code,level,name\nA,,province,P\nB,A,town,T\n", "line 3: level 'town'"},
      {"code,parent_code,level,name\nA,,province,P\nA,,province,Q\n", "line 3: code 'A' appears twice"},
      {"code,parent_code,level,name\nA,,province\n", "line 2: expected 4 fields"},
      {"code,parent_code,level,name\nA,,province,\"open\n", "line 2: a quoted field is not closed"},
      {"code,parent_code,level,name\nA B,,province,P\n", "line 2: code 'A B'"},
      {"code,parent_code,level,name\nA,,province,\xff\n", "not UTF-8"},
  };
  for (const auto& c : cases) {
    auto units = parseUnitsCsv(c.text);
    ASSERT_FALSE(units.isOk()) << c.text;
    EXPECT_NE(units.status().message().find(c.expect), std::string::npos) << units.status().message();
  }
}

TEST(UnitsCsv, ImportChecksParentsAndLevels) {
  UnitTree tree = sampleTree();
  auto orphan = parseUnitsCsv("code,parent_code,level,name\nX9,NOPE,commune,Z\n");
  ASSERT_OK(orphan);
  auto s = tree.checkImport(*orphan);
  EXPECT_NE(s.message().find("line 2: parent_code 'NOPE'"), std::string::npos) << s.message();
  auto upside = parseUnitsCsv("code,parent_code,level,name\nP2,X1,province,Z\n");
  EXPECT_NE(tree.checkImport(*upside).message().find("cannot sit under"), std::string::npos);
  auto fine = parseUnitsCsv("code,parent_code,level,name\nX4,49-NTM,commune,Z\n");
  EXPECT_OK(tree.checkImport(*fine));
}

TEST(UnitTree, CoversDescendantsAndMergedUnits) {
  UnitTree tree = sampleTree();
  EXPECT_TRUE(tree.covers("49", "V1"));
  EXPECT_TRUE(tree.covers("49-BTM", "X1"));
  EXPECT_FALSE(tree.covers("49-NTM", "X1"));
  EXPECT_EQ(tree.subtree("49-BTM"), (std::vector<Scope>{"49-BTM", "V1", "X1", "X2"}));
  EXPECT_EQ(tree.subtree("unknown-code"), (std::vector<Scope>{"unknown-code"}));

  // X1 (with its village) merged into X3: a grant on X3 or on X3's district now covers them.
  auto units = tree.all();
  for (auto& u : units) {
    if (u.code == "X1") u.merged_into = "X3";
  }
  UnitTree merged(units);
  EXPECT_TRUE(merged.covers("X3", "V1"));
  EXPECT_TRUE(merged.covers("49-NTM", "X1"));
  EXPECT_FALSE(merged.covers("49-BTM", "X1"));
}

}  // namespace
}  // namespace communesync::server
