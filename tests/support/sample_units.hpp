// A small unit tree for tests: a province, two districts, three communes and a village, with a
// quoted name (the units CSV as the province exports it).
#pragma once

#include <gtest/gtest.h>

#include "assert_ok.hpp"
#include "programme/units.hpp"

namespace communesync::server::testing {

inline const char* kSampleUnitsCsv =
    "code,parent_code,level,name\n"
    "49,,province,Quảng Nam\n"
    "49-BTM,49,district,Bắc Trà My\n"
    "49-NTM,49,district,Nam Trà My\n"
    "X1,49-BTM,commune,\"Trà Đốc, xã\"\n"
    "X2,49-BTM,commune,Trà Bui\n"
    "X3,49-NTM,commune,Trà Mai\n"
    "V1,X1,village,Thôn 1\n";

inline UnitTree sampleTree() {
  auto units = parseUnitsCsv(kSampleUnitsCsv);
  EXPECT_OK(units);
  return units.isOk() ? UnitTree(*units) : UnitTree{};
}

}  // namespace communesync::server::testing
