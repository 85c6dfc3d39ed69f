#include "libs/validation/validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "jaring/v1/population.pb.h"
#include "jaring/v1/population_service.pb.h"
#include "libs/testing/status_matchers.h"

namespace jaring::validation {
namespace {

using ::testing::HasSubstr;

#define EXPECT_INVALID(expr, substr)                                          \
  do {                                                                        \
    const absl::Status st_ = (expr);                                          \
    EXPECT_EQ(st_.code(), absl::StatusCode::kInvalidArgument) << st_;         \
    EXPECT_THAT(std::string(st_.message()), HasSubstr(substr));               \
  } while (0)

TEST(Text, AcceptsLettersOfEveryScript) {
  EXPECT_OK(ValidateName("n", "Siti Rahmawati"));
  EXPECT_OK(ValidateName("n", "\xC3\x91oman \xC3\x89" "bert"));  // Ñoman Ébert
  EXPECT_OK(ValidateName("n", "\xE4\xBD\x95"));                   // a CJK letter
  EXPECT_OK(ValidateName("n", "\xF0\x9F\x98\x80"));               // an emoji (4 bytes)
  EXPECT_OK(ValidateText("s", "line one\nline two\tend", {.required = true, .max_chars = 100, .single_line = false}));
  EXPECT_OK(ValidateText("s", "", {.required = false}));
}

TEST(Text, RefusesControlCharactersNamingThem) {
  EXPECT_INVALID(ValidateName("family.members[0].full_name", std::string("Ani\0Budi", 8)),
                 "family.members[0].full_name: contains a control character U+0000 (at character 4)");
  EXPECT_INVALID(ValidateName("n", std::string(1, '\0')), "U+0000");
  EXPECT_INVALID(ValidateName("n", "Ani\x1b[31m"), "U+001B");
  EXPECT_INVALID(ValidateName("n", "Ani\a"), "U+0007");
  EXPECT_INVALID(ValidateName("n", "Ani\x7f"), "U+007F");
  EXPECT_INVALID(ValidateName("n", "Ani\xC2\x85"), "U+0085");  // C1 NEL
  EXPECT_INVALID(ValidateName("n", "two\nlines"), "U+000A");
}

TEST(Text, RefusesInvalidUtf8) {
  EXPECT_INVALID(ValidateName("n", "Ani\xC3"), "is not valid UTF-8 (at byte 3)");
  EXPECT_INVALID(ValidateName("n", "\xC0\xAF"), "not valid UTF-8");           // overlong '/'
  EXPECT_INVALID(ValidateName("n", "\xED\xA0\x80"), "not valid UTF-8");       // a surrogate
  EXPECT_INVALID(ValidateName("n", "\xF4\x90\x80\x80"), "not valid UTF-8");   // past U+10FFFF
  EXPECT_INVALID(ValidateName("n", "\xFF"), "not valid UTF-8");
}

TEST(Text, RefusesOnlyInvisibleCharacters) {
  EXPECT_INVALID(ValidateName("n", "\xE2\x80\x8B\xE2\x80\x8B"), "has only invisible characters");  // ZWSP ZWSP
  EXPECT_INVALID(ValidateName("n", "   "), "has only invisible characters");
  EXPECT_INVALID(ValidateName("n", "\xEF\xBB\xBF\xC2\xA0"), "has only invisible characters");  // BOM NBSP
  EXPECT_INVALID(ValidateText("s", " ", {.required = false}), "has only invisible characters");
  EXPECT_INVALID(ValidateName("n", ""), "is required");
}

TEST(Text, CountsCodePointsNotBytes) {
  std::string name;
  for (int i = 0; i < kMaxNameChars; ++i) name += "\xC3\xA9";  // é, 2 bytes each
  EXPECT_OK(ValidateName("n", name));
  EXPECT_INVALID(ValidateName("n", name + "a"), "is longer than 128 characters (129)");
  EXPECT_INVALID(ValidateName("n", std::string(20 << 20, 'a')), "is longer than 128 characters");
}

TEST(Utf8, SequenceLengthNeverSplitsALetter) {
  EXPECT_EQ(Utf8SequenceLength("\xC3\x91oman"), 2u);
  EXPECT_EQ(Utf8SequenceLength("\xE4\xBD\x95"), 3u);
  EXPECT_EQ(Utf8SequenceLength("\xF0\x9F\x98\x80"), 4u);
  EXPECT_EQ(Utf8SequenceLength("a"), 1u);
  EXPECT_EQ(Utf8SequenceLength("\xFF"), 1u);
  EXPECT_EQ(Utf8SequenceLength(""), 0u);
  EXPECT_TRUE(IsValidUtf8("\xC3\x91"));
  EXPECT_FALSE(IsValidUtf8("\xC3"));
}

TEST(RequestId, Format) {
  EXPECT_OK(ValidateRequestId("context.request_id", "reg-0001:a_b.c"));
  EXPECT_INVALID(ValidateRequestId("context.request_id", ""), "context.request_id: is required");
  EXPECT_INVALID(ValidateRequestId("context.request_id", "a/b"), "character 2 ('/') is not allowed");
  EXPECT_INVALID(ValidateRequestId("context.request_id", std::string(129, 'a')), "at most 128 characters, got 129");
}

TEST(RequestDigest, SameFieldsSameDigest) {
  v1::RegisterFamilyRequest a;
  a.mutable_context()->set_request_id("r1");
  a.mutable_family()->set_kk_number("5271011503200001");
  v1::RegisterFamilyRequest b = a;
  EXPECT_EQ(RequestDigest(a), RequestDigest(b));
  b.mutable_family()->set_kk_number("5271011503200002");
  EXPECT_NE(RequestDigest(a), RequestDigest(b));
  EXPECT_EQ(RequestDigest(a).size(), 32u);
}

TEST(Enum, KnownValuesOnly) {
  const auto* rel = v1::Relationship_descriptor();
  EXPECT_OK(ValidateEnum("relationship", v1::RELATIONSHIP_CHILD, rel, false));
  EXPECT_OK(ValidateEnum("relationship", 0, rel, true));
  EXPECT_INVALID(ValidateEnum("relationship", 0, rel, false), "relationship: is required");
  EXPECT_INVALID(ValidateEnum("relationship", 99, rel, true), "relationship: 99 is not a known value (RELATIONSHIP_HEAD");
  EXPECT_INVALID(ValidateEnum("change.attributes.school_level", -5, v1::SchoolLevel_descriptor(), true),
                 "-5 is not a known value");
}

TEST(Time, BoundedAndNamed) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(absl::FromCivil(absl::CivilDay(2026, 11, 23), absl::UTCTimeZone())));
  EXPECT_OK(ValidateTimestamp("context.occurred_at", ts));
  ts.set_seconds(absl::ToUnixSeconds(MinTime()) - 1);
  EXPECT_INVALID(ValidateTimestamp("context.occurred_at", ts), "context.occurred_at: is before 1900-01-01");
  ts.set_seconds(absl::ToUnixSeconds(MaxTime()) + 1);
  EXPECT_INVALID(ValidateTimestamp("rule_set.effective_from", ts), "rule_set.effective_from: is after 9999-12-31");
  ts.set_seconds(0);
  ts.set_nanos(-1);
  EXPECT_INVALID(ValidateTimestamp("t", ts), "nanos");
}

TEST(Amount, Bounds) {
  EXPECT_OK(ValidateAmount("amount", 5, 1, 10));
  EXPECT_INVALID(ValidateAmount("amount", 0, 1, 10), "amount: is 0, less than the minimum 1");
  EXPECT_INVALID(ValidateAmount("amount", 11, 1, 10), "more than the maximum 10");
}

}  // namespace
}  // namespace jaring::validation
