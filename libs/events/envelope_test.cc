#include "libs/events/envelope.h"
#include "libs/events/topics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "libs/testing/status_matchers.h"

namespace jaring::events {
namespace {

using ::jaring::testing::StatusIs;
using ::testing::HasSubstr;

eventlog::StoredRecord At(std::string value) {
  eventlog::StoredRecord r;
  r.topic = std::string(kPopulationTopic);
  r.partition = 3;
  r.offset = 1234;
  r.value = std::move(value);
  return r;
}

v1::Envelope Sample() {
  v1::Envelope e;
  e.set_event_id("e1");
  e.set_key("5271010101260001");
  e.set_region_code("52.71.01.1001");
  *e.mutable_occurred_at() = ToProtoTime(absl::FromUnixSeconds(1767225600));
  *e.mutable_recorded_at() = ToProtoTime(absl::FromUnixSeconds(1767312000) + absl::Milliseconds(250));
  auto* w = e.mutable_welfare_assessed();
  w->set_round("2026-Q1");
  w->set_decile(3);
  StampType(e);
  return e;
}

TEST(EnvelopeTest, RoundTripsThroughARecord) {
  v1::Envelope e = Sample();
  EXPECT_EQ(e.event_type(), "jaring.v1.WelfareAssessed");
  EXPECT_EQ(e.schema_version(), kSchemaVersion);
  eventlog::Record r = ToRecord(e);
  EXPECT_EQ(r.key, "5271010101260001");
  EXPECT_EQ(r.timestamp_ms, 1767312000250);
  ASSERT_OK_AND_ASSIGN(v1::Envelope back, DecodeEnvelope(At(r.value)));
  EXPECT_EQ(back.SerializeAsString(), e.SerializeAsString());
  EXPECT_TRUE(HasKnownPayload(back));
}

TEST(EnvelopeTest, UndecodableBytesNameTopicPartitionAndOffset) {
  // Field 1 (string) announcing 127 bytes but ending after one.
  EXPECT_THAT(DecodeEnvelope(At(std::string("\x0a\x7f" "a", 3))),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("jaring.population.v1[3]@1234")));
}

TEST(EnvelopeTest, PayloadFromANewerBuildIsRecognisedAsUnknown) {
  // A newer build adds payload field 99 to the oneof; we encode it by hand.
  v1::Envelope e = Sample();
  e.clear_welfare_assessed();
  e.set_event_type("jaring.v1.SomethingNew");
  std::string bytes = e.SerializeAsString();
  {
    google::protobuf::io::StringOutputStream out(&bytes);
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.WriteTag((99 << 3) | 2);
    coded.WriteVarint32(3);
    coded.WriteRaw("\x08\x01\x10", 3);
  }
  bytes.resize(bytes.size());  // CodedOutputStream appended on destruction
  ASSERT_OK_AND_ASSIGN(v1::Envelope back, DecodeEnvelope(At(bytes)));
  EXPECT_FALSE(HasKnownPayload(back));
  EXPECT_EQ(PayloadTypeName(back), "jaring.v1.SomethingNew");
  EXPECT_EQ(back.key(), "5271010101260001");
}

TEST(EnvelopeTest, DeterministicIdsAreStableAndSeparateTheirParts) {
  const std::string id = DeterministicId("decision", {"jaring.population.v1[3]@1234", "pkh-2026.1"});
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(id, DeterministicId("decision", {"jaring.population.v1[3]@1234", "pkh-2026.1"}));
  // Pinned: this value is part of the on-log contract.
  EXPECT_EQ(DeterministicId("k", {"a", "b"}), "891ff25f98e2f00a6c9009aed968117d");  // sha256("k\0a\0b")[:16]
  EXPECT_NE(DeterministicId("k", {"ab", ""}), DeterministicId("k", {"a", "b"}));
  EXPECT_NE(DeterministicId("k", {"a"}), DeterministicId("j", {"a"}));
  EXPECT_NE(RandomId(), RandomId());
}

TEST(EnvelopeTest, ProtoTimeConversionsHandleMillisAndNegatives) {
  const absl::Time t = absl::FromUnixMillis(-1500);
  auto ts = ToProtoTime(t);
  EXPECT_EQ(ts.seconds(), -2);
  EXPECT_EQ(ts.nanos(), 500000000);
  EXPECT_EQ(FromProtoTime(ts), t);
}

}  // namespace
}  // namespace jaring::events
