// THE access rule: what each role may read, write and settle, and how grants parse.
#include <gtest/gtest.h>

#include "access/access.hpp"
#include "assert_ok.hpp"
#include "programme/units.hpp"
#include "sample_units.hpp"

namespace communesync::server {
namespace {

using testing::kSampleUnitsCsv;
using testing::sampleTree;

TEST(AccessRule, EachRoleReadsAndWritesItsPart) {
  UnitTree tree = sampleTree();
  Access field({{Role::kField, "X1"}}, tree);
  EXPECT_EQ(field.readable(), (std::vector<Scope>{"V1", "X1", "_forms"})) << "and the forms, which everyone reads";
  EXPECT_OK(field.mayWrite("V1", "household_survey"));
  EXPECT_EQ(field.mayWrite("X2", "household_survey").code(), ErrorCode::kForbidden);

  Access sponsor({{Role::kSponsor, "X2"}}, tree);
  EXPECT_TRUE(sponsor.mayRead("X2"));
  EXPECT_OK(sponsor.mayWrite("X2", "twinning_plan"));
  EXPECT_OK(sponsor.mayWrite("X2", "support_result"));
  EXPECT_EQ(sponsor.mayWrite("X2", "household_survey").code(), ErrorCode::kForbidden);

  Access district({{Role::kDistrict, "49-BTM"}}, tree);
  EXPECT_TRUE(district.mayRead("X1") && district.mayRead("V1") && !district.mayRead("X3"));
  EXPECT_OK(district.mayWrite("49-BTM", "district_report"));
  EXPECT_EQ(district.mayWrite("X1", "household_survey").code(), ErrorCode::kForbidden);

  Access reconciler({{Role::kReconciler, "49"}}, tree);
  EXPECT_EQ(reconciler.readable().size(), 8u);
  EXPECT_OK(reconciler.mayWrite("X3", "anything"));
  EXPECT_TRUE(reconciler.isReconciler());

  Access admin({{Role::kAdmin, "49"}}, tree);
  EXPECT_TRUE(admin.isAdmin());
  EXPECT_EQ(admin.readable(), (std::vector<Scope>{"_forms"})) << "administering is not reading records";
  EXPECT_FALSE(reconciler.mayWrite("_forms", "_forms").isOk()) << "only the server publishes forms";

  Access several({{Role::kField, "X1"}, {Role::kSponsor, "X3"}}, tree);
  EXPECT_OK(several.mayWrite("X1", "household_survey"));
  EXPECT_OK(several.mayWrite("X3", "support_result"));
  EXPECT_FALSE(several.mayWrite("X3", "household_survey").isOk());
}

TEST(AccessRule, GrantsParse) {
  EXPECT_EQ(parseGrant("sponsor:X1")->role, Role::kSponsor);
  EXPECT_EQ(parseGrant("X1")->role, Role::kField);
  EXPECT_FALSE(parseGrant("boss:X1").isOk());
  EXPECT_FALSE(parseGrant("field:").isOk());
  EXPECT_FALSE(parseGrant("field:_forms").isOk()) << "codes starting with _ are reserved";
  EXPECT_EQ(grantText(*parseGrant("reconciler:49")), "reconciler:49");
}

}  // namespace
}  // namespace communesync::server
