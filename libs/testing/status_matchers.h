// GoogleTest matchers for absl::Status / absl::StatusOr (Abseil 20220623
// ships none). Tests assert the exact code, never just "not OK".
//
//   EXPECT_THAT(log->Append(...), StatusIs(absl::StatusCode::kNotFound));
//   EXPECT_THAT(st, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("kk_number")));
//   ASSERT_OK(st);  ASSERT_OK_AND_ASSIGN(auto v, FnReturningStatusOr());
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace jaring::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER_P(StatusIs, code, "has status code " + std::string(absl::StatusCodeToString(code))) {
  const absl::Status& s = ::jaring::testing::GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code;
}

MATCHER_P2(StatusIs, code, message_matcher,
           "has status code " + std::string(absl::StatusCodeToString(code))) {
  const absl::Status& s = ::jaring::testing::GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code &&
         ::testing::ExplainMatchResult(message_matcher, std::string(s.message()), result_listener);
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s = ::jaring::testing::GetStatus(arg);
  *result_listener << "status is " << s;
  return s.ok();
}

// A StatusOr that is OK and whose value matches `value_matcher`.
MATCHER_P(IsOkAndHolds, value_matcher, "is OK and holds a value that matches") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(value_matcher, *arg, result_listener);
}

}  // namespace jaring::testing

#define JARING_TESTING_CONCAT_IMPL(a, b) a##b
#define JARING_TESTING_CONCAT(a, b) JARING_TESTING_CONCAT_IMPL(a, b)

#define ASSERT_OK(expr) ASSERT_THAT((expr), ::jaring::testing::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::jaring::testing::IsOk())
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL(JARING_TESTING_CONCAT(jaring_t_sor_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  ASSERT_TRUE(tmp.ok()) << tmp.status();          \
  lhs = std::move(tmp).value()
