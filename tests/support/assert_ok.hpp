// ASSERT_OK / EXPECT_OK: a Status or a Result<T> is ok, and when it is not the failure prints the
// expression and its status ("units: invalid_argument: line 3: ...") instead of "false".
#pragma once

#include <gtest/gtest.h>

#include "communesync/storage/result.hpp"

namespace communesync::testing {

inline ::testing::AssertionResult okFormat(const char* expr, const Status& s) {
  if (s.isOk()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << expr << " is not ok: " << s.toString();
}

template <class T>
::testing::AssertionResult okFormat(const char* expr, const Result<T>& r) {
  return okFormat(expr, r.status());
}

}  // namespace communesync::testing

#define EXPECT_OK(expr) EXPECT_PRED_FORMAT1(::communesync::testing::okFormat, expr)
#define ASSERT_OK(expr) ASSERT_PRED_FORMAT1(::communesync::testing::okFormat, expr)
