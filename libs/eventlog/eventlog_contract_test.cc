// The EventLog contract (eventlog.h), run against every backend: the embedded
// log (RocksDB in a temp dir) and the Kafka log (librdkafka's mock cluster on
// loopback). A test here must hold for both; what only one backend can do is
// a harness trait, not a separate suite.
//
// Run one backend with --gtest_filter='*Embedded*' or '*Kafka*'.
#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "libs/base/clock.h"
#include "libs/base/hash.h"
#include "libs/base/status.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/eventlog/eventlog.h"
#include "libs/eventlog/kafka_log.h"
#include "libs/eventlog/mock_cluster.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/temp_dir.h"

namespace jaring::eventlog {
namespace {

using ::jaring::testing::IsOk;
using ::jaring::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

MATCHER_P(IsOkAndHolds, matcher, "is OK and holds a value that " +
                                      ::testing::DescribeMatcher<decltype(matcher)>(matcher)) {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(matcher, *arg, result_listener);
}

// 2023-11-14T22:13:20Z: the manual clock's start, in ms.
constexpr int64_t kClockStartMs = 1'700'000'000'000;
// A generous bound for waiting on records that must arrive; only reached
// when a test is about to fail.
constexpr absl::Duration kArrivalDeadline = absl::Seconds(20);
constexpr absl::Duration kPollTimeout = absl::Milliseconds(100);

// ---------------------------------------------------------------------------
// Harnesses. Each owns one backend: `log`, plus CreateTopic the way that
// backend's tests must create topics.

struct EmbeddedHarness {
  static constexpr const char* kName = "Embedded";
  // log->CreateTopic can create a topic that does not exist yet.
  static constexpr bool kLogCreatesTopics = true;

  absl::Status Start(Clock* clock) {
    EmbeddedLogOptions options;
    options.dir = dir.Sub("log");
    options.clock = clock;
    JARING_ASSIGN_OR_RETURN(log, OpenEmbeddedLog(options));
    return absl::OkStatus();
  }
  absl::Status CreateTopic(const std::string& topic, int32_t partitions) {
    return log->CreateTopic(topic, partitions);
  }

  ::jaring::testing::TempDir dir;
  std::unique_ptr<EventLog> log;
};

struct KafkaHarness {
  static constexpr const char* kName = "Kafka";
  // The mock broker does not implement the CreateTopics admin request.
  static constexpr bool kLogCreatesTopics = false;

  absl::Status Start(Clock* clock) {
    JARING_ASSIGN_OR_RETURN(cluster, MockCluster::Start(3));
    KafkaLogOptions options;
    options.bootstrap = cluster->bootstrap();
    options.append_timeout = absl::Seconds(15);
    options.clock = clock;
    JARING_ASSIGN_OR_RETURN(log, OpenKafkaLog(options));
    return absl::OkStatus();
  }
  absl::Status CreateTopic(const std::string& topic, int32_t partitions) {
    return cluster->CreateTopic(topic, partitions);
  }

  // Declared before `log`, so the log is destroyed first.
  std::unique_ptr<MockCluster> cluster;
  std::unique_ptr<EventLog> log;
};

class HarnessNames {
 public:
  template <typename H>
  static std::string GetName(int) {
    return H::kName;
  }
};

template <typename H>
class EventLogContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(harness_.Start(&clock_));
    ASSERT_NE(harness_.log, nullptr);
  }
  void TearDown() override { harness_.log.reset(); }

  EventLog& log() { return *harness_.log; }
  absl::Status CreateTopic(const std::string& topic, int32_t partitions) {
    return harness_.CreateTopic(topic, partitions);
  }

  ManualClock clock_{absl::FromUnixMillis(kClockStartMs)};
  H harness_;
};

using Harnesses = ::testing::Types<EmbeddedHarness, KafkaHarness>;
TYPED_TEST_SUITE(EventLogContractTest, Harnesses, HarnessNames);

// ---------------------------------------------------------------------------
// Helpers.

Record Rec(std::string key, std::string value, int64_t timestamp_ms = kNoTimestamp) {
  return Record{.key = std::move(key), .value = std::move(value), .timestamp_ms = timestamp_ms};
}

std::vector<int64_t> EndOffsets(EventLog& log, const std::string& topic, int32_t partitions) {
  std::vector<int64_t> ends;
  for (int32_t p = 0; p < partitions; ++p) {
    auto end = log.EndOffset(topic, p);
    EXPECT_THAT(end, IsOk());
    ends.push_back(end.ok() ? *end : -1);
  }
  return ends;
}

std::vector<Assignment> AllPartitionsAt(const std::string& topic, int32_t partitions,
                                        int64_t offset) {
  std::vector<Assignment> a;
  for (int32_t p = 0; p < partitions; ++p) {
    a.push_back({.topic = topic, .partition = p, .offset = offset});
  }
  return a;
}

// Polls until `n` records arrived (or kArrivalDeadline passed), and returns
// what came. Stops at the first error.
absl::StatusOr<std::vector<StoredRecord>> ReadN(Reader& reader, size_t n,
                                                size_t max_per_poll = 1000) {
  std::vector<StoredRecord> out;
  const absl::Time deadline = absl::Now() + kArrivalDeadline;
  while (out.size() < n && absl::Now() < deadline) {
    JARING_ASSIGN_OR_RETURN(std::vector<StoredRecord> batch,
                            reader.Poll(std::min(max_per_poll, n - out.size()), kPollTimeout));
    for (StoredRecord& r : batch) out.push_back(std::move(r));
  }
  return out;
}

// Records by (partition, offset), checking that none repeats.
std::map<std::pair<int32_t, int64_t>, StoredRecord> ByPosition(
    const std::vector<StoredRecord>& records) {
  std::map<std::pair<int32_t, int64_t>, StoredRecord> m;
  for (const StoredRecord& r : records) {
    EXPECT_TRUE(m.emplace(std::make_pair(r.partition, r.offset), r).second)
        << "record " << r.partition << "@" << r.offset << " delivered twice";
  }
  return m;
}

// Every partition's records in offset order, dense from where they began.
void ExpectDensePerPartition(const std::vector<StoredRecord>& records) {
  std::map<int32_t, int64_t> last;
  for (const StoredRecord& r : records) {
    auto it = last.find(r.partition);
    if (it != last.end()) {
      EXPECT_EQ(r.offset, it->second + 1) << "partition " << r.partition;
      it->second = r.offset;
    } else {
      last[r.partition] = r.offset;
    }
  }
}

// ---------------------------------------------------------------------------
// Topics.

TYPED_TEST(EventLogContractTest, CreateTopicIsIdempotentForTheSameCount) {
  ASSERT_OK(this->CreateTopic("orders", 3));
  EXPECT_OK(this->log().CreateTopic("orders", 3));
  EXPECT_OK(this->log().CreateTopic("orders", 3));
  EXPECT_THAT(this->log().PartitionCount("orders"), IsOkAndHolds(3));
}

TYPED_TEST(EventLogContractTest, CreateTopicWithAnotherCountIsAlreadyExists) {
  ASSERT_OK(this->CreateTopic("orders", 3));
  EXPECT_THAT(this->log().CreateTopic("orders", 4), StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(this->log().CreateTopic("orders", 1), StatusIs(absl::StatusCode::kAlreadyExists));
  ASSERT_OK_AND_ASSIGN(int32_t count, this->log().PartitionCount("orders"));
  EXPECT_EQ(count, 3);
}

TYPED_TEST(EventLogContractTest, CreateTopicRejectsBadArguments) {
  EXPECT_THAT(this->log().CreateTopic("", 1), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(this->log().CreateTopic("bad", 0), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(this->log().CreateTopic("bad", -3), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(this->log().PartitionCount("bad"), StatusIs(absl::StatusCode::kNotFound));
}

TYPED_TEST(EventLogContractTest, CreateTopicThroughTheLog) {
  if (!TypeParam::kLogCreatesTopics) GTEST_SKIP() << "backend creates topics out of band";
  ASSERT_OK(this->log().CreateTopic("fresh", 5));
  EXPECT_THAT(this->log().PartitionCount("fresh"), IsOkAndHolds(5));
  ASSERT_OK_AND_ASSIGN(std::vector<Position> pos,
                       this->log().Append("fresh", std::vector<Record>{Rec("k", "v")}));
  EXPECT_THAT(pos, ElementsAre(Position{PartitionForKey("k", 5), 0}));
}

TYPED_TEST(EventLogContractTest, UnknownTopicIsNotFoundEverywhere) {
  EventLog& log = this->log();
  EXPECT_THAT(log.PartitionCount("nope"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(log.Append("nope", std::vector<Record>{Rec("k", "v")}),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(log.EndOffset("nope", 0), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(log.BeginOffset("nope", 0), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(log.OffsetForTimestamp("nope", 0, 0), StatusIs(absl::StatusCode::kNotFound));
}

TYPED_TEST(EventLogContractTest, UnknownPartitionIsNotFound) {
  ASSERT_OK(this->CreateTopic("orders", 2));
  EXPECT_THAT(this->log().EndOffset("orders", 2), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(this->log().EndOffset("orders", -1), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(this->log().BeginOffset("orders", 7), StatusIs(absl::StatusCode::kNotFound));
}

// ---------------------------------------------------------------------------
// Append.

TYPED_TEST(EventLogContractTest, AppendReturnsOnePositionPerRecordInKeyPartition) {
  constexpr int32_t kPartitions = 4;
  ASSERT_OK(this->CreateTopic("orders", kPartitions));
  std::vector<Record> records;
  for (int i = 0; i < 40; ++i) records.push_back(Rec(absl::StrCat("family-", i % 10), "v"));

  ASSERT_OK_AND_ASSIGN(std::vector<Position> pos, this->log().Append("orders", records));
  ASSERT_THAT(pos, SizeIs(records.size()));
  std::vector<int64_t> expected_next(kPartitions, 0);
  for (size_t i = 0; i < records.size(); ++i) {
    const int32_t p = PartitionForKey(records[i].key, kPartitions);
    EXPECT_EQ(pos[i].partition, p) << "records[" << i << "]";
    EXPECT_EQ(pos[i].offset, expected_next[p]++) << "records[" << i << "]";
  }
  EXPECT_EQ(EndOffsets(this->log(), "orders", kPartitions), expected_next);
  for (int32_t p = 0; p < kPartitions; ++p) {
    EXPECT_THAT(this->log().BeginOffset("orders", p), IsOkAndHolds(0));
  }

  // A second append continues where the first ended.
  ASSERT_OK_AND_ASSIGN(pos, this->log().Append("orders", std::vector<Record>{Rec("family-3", "w")}));
  const int32_t p3 = PartitionForKey("family-3", kPartitions);
  EXPECT_THAT(pos, ElementsAre(Position{p3, expected_next[p3]}));
  EXPECT_THAT(this->log().EndOffset("orders", p3), IsOkAndHolds(expected_next[p3] + 1));
}

TYPED_TEST(EventLogContractTest, EmptyAppendIsOkAndAppendsNothing) {
  ASSERT_OK(this->CreateTopic("orders", 2));
  ASSERT_OK_AND_ASSIGN(std::vector<Position> pos,
                       this->log().Append("orders", std::span<const Record>()));
  EXPECT_THAT(pos, IsEmpty());
  EXPECT_THAT(EndOffsets(this->log(), "orders", 2), ElementsAre(0, 0));
}

TYPED_TEST(EventLogContractTest, EmptyKeyIsInvalidAndNothingIsAppended) {
  constexpr int32_t kPartitions = 3;
  ASSERT_OK(this->CreateTopic("orders", kPartitions));
  std::vector<Record> first;
  for (int i = 0; i < 9; ++i) first.push_back(Rec(absl::StrCat("k", i), "v"));
  ASSERT_OK(this->log().Append("orders", first).status());
  const std::vector<int64_t> before = EndOffsets(this->log(), "orders", kPartitions);

  std::vector<Record> bad = {Rec("a", "1"), Rec("b", "2"), Rec("c", "3"), Rec("", "4"),
                             Rec("d", "5")};
  EXPECT_THAT(this->log().Append("orders", bad),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("records[3]")));
  EXPECT_EQ(EndOffsets(this->log(), "orders", kPartitions), before);

  // The log still works, and the rejected records never show up.
  ASSERT_OK(this->log().Append("orders", std::vector<Record>{Rec("z", "after")}).status());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Reader> reader, this->log().NewReader());
  ASSERT_OK(reader->Assign(AllPartitionsAt("orders", kPartitions, 0)));
  ASSERT_OK_AND_ASSIGN(std::vector<StoredRecord> got, ReadN(*reader, 10));
  ASSERT_THAT(got, SizeIs(10));
  for (const StoredRecord& r : got) EXPECT_NE(r.value, "1") << r.key;
}

// ---------------------------------------------------------------------------
// Reading.

TYPED_TEST(EventLogContractTest, ReadFromTheBeginningReturnsEveryRecordOnce) {
  constexpr int32_t kPartitions = 3;
  ASSERT_OK(this->CreateTopic("orders", kPartitions));
  std::vector<Record> records;
  for (int i = 0; i < 60; ++i) {
    records.push_back(Rec(absl::StrCat("k", i % 7), absl::StrCat("value-", i), 1000 + i));
  }
  ASSERT_OK_AND_ASSIGN(std::vector<Position> pos, this->log().Append("orders", records));

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Reader> reader, this->log().NewReader());
  ASSERT_OK(reader->Assign(AllPartitionsAt("orders", kPartitions, 0)));
  ASSERT_OK_AND_ASSIGN(std::vector<StoredRecord> got, ReadN(*reader, records.size(), 7));
  ASSERT_THAT(got, SizeIs(records.size()));
  ExpectDensePerPartition(got);
  auto by_pos = ByPosition(got);
  for (size_t i = 0; i < records.size(); ++i) {
    auto it = by_pos.find({pos[i].partition, pos[i].offset});
    ASSERT_NE(it, by_pos.end()) << "records[" << i << "] not read";
    EXPECT_EQ(it->second.topic, "orders");
    EXPECT_EQ(it->second.key, records[i].key);
    EXPECT_EQ(it->second.value, records[i].value);
    EXPECT_EQ(it->second.timestamp_ms, records[i].timestamp_ms);
  }
  // Nothing more, nothing again.
  ASSERT_OK_AND_ASSIGN(std::vector<StoredRecord> more,
                       reader->Poll(100, absl::Milliseconds(50)));
  EXPECT_THAT(more, IsEmpty());
}

TYPED_TEST(EventLogContractTest, PollReturnsAtMostMaxRecordsAndContinues) {
  ASSERT_OK(this->CreateTopic("orders", 1));
  std::vector<Record> records;
  for (int i = 0; i < 10; ++i) records.push_back(Rec("k", absl::StrCat(i)));
  ASSERT_OK(this->log().Append("orders", records).status());

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Reader> reader, this->log().NewReader());
  ASSERT_OK(reader->Assign({{.topic = "orders", .partition = 0, .offset = 0}}));
  std::vector<StoredRecord> got;
  const absl::Time deadline = absl::Now() + kArrivalDeadline;
  while (got.size() < 10 && absl::Now() < deadline) {
    ASSERT_OK_AND_ASSIGN(std::vector<StoredRecord> batch, reader->Poll(3, kPollTimeout));
    EXPECT_LE(batch.size(), 3u);
    for (StoredRecord& r : batch) got.push_back(std::move(r));
  }
  ASSERT_THAT(got, SizeIs(10));
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(got[i].offset, i);
    EXPECT_EQ(got[i].value, absl::StrCat(i));
  }
}

TYPED_TEST(EventLogContractTest, ReadFromAMiddleOffset) {
  ASSERT_OK(this->CreateTopic("orders", 1));
  std::vector<Record> records;
  for (int i = 0; i < 10; ++i) records.push_back(Rec("k", absl::StrCat("v", i)));
  ASSERT_OK(this->log().Append("orders", records).status());

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Reader> reader, this->log().NewReader());
  ASSERT_OK(reader->Assign({{.topic = "orders", .partition = 0, .offset = 4}}));
  ASSERT_OK_AND_ASSIGN(std::vector<StoredRecord> got, ReadN(*reader, 6));
  ASSERT_THAT(got, SizeIs(6));
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(got[i].offset, 4 + i);
    EXPECT_EQ(got[i].value, absl::StrCat("v", 4 + i));
  }

  // Assign replaces the whole assignment: back to the start.
  ASSERT_OK(reader->Assign({{.topic = "orders", .partition = 0, .offset = 0}}));
  ASSERT_OK_AND_ASSIGN(got, ReadN(*reader, 10));
  ASSERT_THAT(got, SizeIs(10));
  EXPECT_EQ(got.front().offset, 0);
  EXPECT_EQ(got.back().offset, 9);
}

TYPED_TEST(EventLogContractTest, AssignValidatesTopicPartitionAndOffset) {
  ASSERT_OK(this->CreateTopic("orders", 2));
  ASSERT_OK(this->log().Append("orders", std::vector<Record>{Rec("k", "v"), Rec("k", "w")})
                .status());
  const int32_t p = PartitionForKey("k", 2);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Reader> reader, this->log().NewReader());

  EXPECT_THAT(reader->Assign({{.topic = "nope", .partition = 0, .offset = 0}}),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(reader->Assign({{.topic = "orders", .partition = 2, .offset = 0}}),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(reader->Assign({{.topic = "orders", .partition = p, .offset = 3}}),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(reader->Assign({{.topic = "orders", .partition = p, .offset = -1}}),
              StatusIs(absl::StatusCode::kOutOfRange));
  // [BeginOffset, EndOffset] inclusive.
  EXPECT_OK(reader->Assign({{.topic = "orders", .partition = p, .offset = 2}}));
  EXPECT_OK(reader->Assign({{.topic = "orders", .partition = p, .offset = 0}}));
  EXPECT_OK(reader->Assign({}));
}

TYPED_TEST(EventLogContractTest, OffsetForTimestampIsTheFirstRecordAtOrAfter) {
  ASSERT_OK(this->CreateTopic("orders", 1));
  EXPECT_THAT(this->log().OffsetForTimestamp("orders", 0, kClockStartMs), IsOkAndHolds(0));
  // Timestamps are not monotonic: 1000 3000 2000 4000 4000 5000 (+ base).
  constexpr int64_t kBase = kClockStartMs;
  std::vector<Record> records;
  for (int64_t t : {1000, 3000, 2000, 4000, 4000, 5000}) records.push_back(Rec("k", "v", kBase + t));
  ASSERT_OK(this->log().Append("orders", records).status());

  auto at = [&](int64_t t) { return this->log().OffsetForTimestamp("orders", 0, t); };
  EXPECT_THAT(at(0), IsOkAndHolds(0));
  EXPECT_THAT(at(kBase + 1000), IsOkAndHolds(0));
  EXPECT_THAT(at(kBase + 1001), IsOkAndHolds(1));
  EXPECT_THAT(at(kBase + 2000), IsOkAndHolds(1));
  EXPECT_THAT(at(kBase + 3000), IsOkAndHolds(1));
  EXPECT_THAT(at(kBase + 3500), IsOkAndHolds(3));
  EXPECT_THAT(at(kBase + 4000), IsOkAndHolds(3));
  EXPECT_THAT(at(kBase + 4001), IsOkAndHolds(5));
  EXPECT_THAT(at(kBase + 5000), IsOkAndHolds(5));
  // After every record: EndOffset.
  EXPECT_THAT(at(kBase + 5001), IsOkAndHolds(6));
  EXPECT_THAT(at(kBase + 1'000'000), IsOkAndHolds(6));
  EXPECT_THAT(this->log().OffsetForTimestamp("orders", 1, 0),
              StatusIs(absl::StatusCode::kNotFound));
}

TYPED_TEST(EventLogContractTest, ReadFromATimestamp) {
  constexpr int32_t kPartitions = 2;
  ASSERT_OK(this->CreateTopic("orders", kPartitions));
  std::vector<Record> records;
  for (int i = 0; i < 20; ++i) {
    records.push_back(Rec(absl::StrCat("k", i % 4), absl::StrCat(i), kClockStartMs + 10 * i));
  }
  ASSERT_OK(this->log().Append("orders", records).status());

  // Everything at or after +100 ms: records 10..19.
  std::vector<Assignment> assignment;
  for (int32_t p = 0; p < kPartitions; ++p) {
    ASSERT_OK_AND_ASSIGN(int64_t offset,
                         this->log().OffsetForTimestamp("orders", p, kClockStartMs + 100));
    assignment.push_back({.topic = "orders", .partition = p, .offset = offset});
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Reader> reader, this->log().NewReader());
  ASSERT_OK(reader->Assign(assignment));
  ASSERT_OK_AND_ASSIGN(std::vector<StoredRecord> got, ReadN(*reader, 10));
  std::set<std::string> values;
  for (const StoredRecord& r : got) {
    EXPECT_GE(r.timestamp_ms, kClockStartMs + 100);
    values.insert(r.value);
  }
  EXPECT_EQ(values, (std::set<std::string>{"10", "11", "12", "13", "14", "15", "16", "17", "18",
                                           "19"}));
  ASSERT_OK_AND_ASSIGN(std::vector<StoredRecord> more, reader->Poll(10, absl::Milliseconds(50)));
  EXPECT_THAT(more, IsEmpty());
}

TYPED_TEST(EventLogContractTest, KeysValuesAndTimestampsRoundTripExactly) {
  ASSERT_OK(this->CreateTopic("blobs", 1));
  std::string binary("\0\x01\xff\0zero\0", 9);
  std::string big(100 * 1024, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131 + 7) % 256);
  std::vector<Record> records = {
      Rec(std::string("key\0with-nul", 12), binary, kClockStartMs - 86'400'000),
      // 1 ms after the epoch (not 0: librdkafka reads timestamp 0 as "now").
      Rec("big", big, 1),
      Rec("empty-value", "", kClockStartMs + 1),
      Rec("\xe2\x82\xac-utf8", "\xf0\x9f\x98\x80", 253'402'300'799'999),  // 9999-12-31
  };
  ASSERT_OK(this->log().Append("blobs", records).status());

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Reader> reader, this->log().NewReader());
  ASSERT_OK(reader->Assign({{.topic = "blobs", .partition = 0, .offset = 0}}));
  ASSERT_OK_AND_ASSIGN(std::vector<StoredRecord> got, ReadN(*reader, records.size()));
  ASSERT_THAT(got, SizeIs(records.size()));
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(got[i].topic, "blobs");
    EXPECT_EQ(got[i].partition, 0);
    EXPECT_EQ(got[i].offset, static_cast<int64_t>(i));
    EXPECT_EQ(got[i].key, records[i].key) << i;
    EXPECT_TRUE(got[i].value == records[i].value) << "value of records[" << i << "] differs";
    EXPECT_EQ(got[i].timestamp_ms, records[i].timestamp_ms) << i;
  }
}

TYPED_TEST(EventLogContractTest, NoTimestampMeansNowByTheLogsClock) {
  ASSERT_OK(this->CreateTopic("orders", 1));
  ASSERT_OK(this->log().Append("orders", std::vector<Record>{Rec("k", "a")}).status());
  this->clock_.Advance(absl::Seconds(42));
  ASSERT_OK(this->log()
                .Append("orders", std::vector<Record>{Rec("k", "b"), Rec("k", "c", 1234)})
                .status());

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Reader> reader, this->log().NewReader());
  ASSERT_OK(reader->Assign({{.topic = "orders", .partition = 0, .offset = 0}}));
  ASSERT_OK_AND_ASSIGN(std::vector<StoredRecord> got, ReadN(*reader, 3));
  ASSERT_THAT(got, SizeIs(3));
  EXPECT_EQ(got[0].timestamp_ms, kClockStartMs);
  EXPECT_EQ(got[1].timestamp_ms, kClockStartMs + 42'000);
  EXPECT_EQ(got[2].timestamp_ms, 1234);
}

TYPED_TEST(EventLogContractTest, RecordsOfOneKeyKeepAppendOrder) {
  constexpr int32_t kPartitions = 3;
  ASSERT_OK(this->CreateTopic("orders", kPartitions));
  constexpr int kKeys = 6;
  constexpr int kPerKey = 30;
  for (int round = 0; round < kPerKey; round += 5) {
    std::vector<Record> batch;
    for (int i = round; i < round + 5; ++i) {
      for (int k = 0; k < kKeys; ++k) batch.push_back(Rec(absl::StrCat("key", k), absl::StrCat(i)));
    }
    ASSERT_OK(this->log().Append("orders", batch).status());
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Reader> reader, this->log().NewReader());
  ASSERT_OK(reader->Assign(AllPartitionsAt("orders", kPartitions, 0)));
  ASSERT_OK_AND_ASSIGN(std::vector<StoredRecord> got, ReadN(*reader, kKeys * kPerKey, 11));
  ASSERT_THAT(got, SizeIs(kKeys * kPerKey));
  std::map<std::string, int> next_seq;
  for (const StoredRecord& r : got) {
    EXPECT_EQ(std::stoi(r.value), next_seq[r.key]++) << r.key;
  }
}

TYPED_TEST(EventLogContractTest, TwoTopicsDoNotMix) {
  ASSERT_OK(this->CreateTopic("apples", 2));
  ASSERT_OK(this->CreateTopic("pears", 2));
  ASSERT_OK(this->log()
                .Append("apples", std::vector<Record>{Rec("a1", "apple"), Rec("a2", "apple"),
                                                      Rec("a3", "apple")})
                .status());
  ASSERT_OK(this->log().Append("pears", std::vector<Record>{Rec("p1", "pear")}).status());

  std::vector<int64_t> apples = EndOffsets(this->log(), "apples", 2);
  std::vector<int64_t> pears = EndOffsets(this->log(), "pears", 2);
  EXPECT_EQ(apples[0] + apples[1], 3);
  EXPECT_EQ(pears[0] + pears[1], 1);

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Reader> reader, this->log().NewReader());
  ASSERT_OK(reader->Assign(AllPartitionsAt("pears", 2, 0)));
  ASSERT_OK_AND_ASSIGN(std::vector<StoredRecord> got, ReadN(*reader, 1));
  ASSERT_THAT(got, SizeIs(1));
  EXPECT_EQ(got[0].topic, "pears");
  EXPECT_EQ(got[0].value, "pear");
  ASSERT_OK_AND_ASSIGN(got, reader->Poll(10, absl::Milliseconds(50)));
  EXPECT_THAT(got, IsEmpty());

  // Both topics in one assignment.
  std::vector<Assignment> both = AllPartitionsAt("apples", 2, 0);
  for (const Assignment& a : AllPartitionsAt("pears", 2, 0)) both.push_back(a);
  ASSERT_OK(reader->Assign(both));
  ASSERT_OK_AND_ASSIGN(got, ReadN(*reader, 4));
  ASSERT_THAT(got, SizeIs(4));
  for (const StoredRecord& r : got) {
    EXPECT_EQ(r.value, r.topic == "apples" ? "apple" : "pear") << r.topic;
  }
}

// ---------------------------------------------------------------------------
// Tailing and concurrency.

TYPED_TEST(EventLogContractTest, PollReturnsEmptyAfterTheTimeoutWhenNothingArrives) {
  ASSERT_OK(this->CreateTopic("orders", 2));
  ASSERT_OK(this->log().Append("orders", std::vector<Record>{Rec("k", "v")}).status());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Reader> reader, this->log().NewReader());
  std::vector<Assignment> at_end;
  for (int32_t p = 0; p < 2; ++p) {
    ASSERT_OK_AND_ASSIGN(int64_t end, this->log().EndOffset("orders", p));
    at_end.push_back({.topic = "orders", .partition = p, .offset = end});
  }
  ASSERT_OK(reader->Assign(at_end));
  ASSERT_OK_AND_ASSIGN(std::vector<StoredRecord> got, reader->Poll(10, absl::Milliseconds(50)));
  EXPECT_THAT(got, IsEmpty());
  ASSERT_OK_AND_ASSIGN(got, reader->Poll(10, absl::ZeroDuration()));
  EXPECT_THAT(got, IsEmpty());
}

TYPED_TEST(EventLogContractTest, ReaderAtTheEndReceivesLaterAppends) {
  constexpr int32_t kPartitions = 3;
  ASSERT_OK(this->CreateTopic("orders", kPartitions));
  ASSERT_OK(this->log().Append("orders", std::vector<Record>{Rec("old", "old")}).status());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Reader> reader, this->log().NewReader());
  std::vector<Assignment> at_end;
  for (int32_t p = 0; p < kPartitions; ++p) {
    ASSERT_OK_AND_ASSIGN(int64_t end, this->log().EndOffset("orders", p));
    at_end.push_back({.topic = "orders", .partition = p, .offset = end});
  }
  ASSERT_OK(reader->Assign(at_end));

  EventLog& log = this->log();
  absl::Status append_status;
  std::thread appender([&] {
    // Let the reader start waiting first (not an assertion: the test passes
    // either way).
    absl::SleepFor(absl::Milliseconds(30));
    for (int i = 0; i < 10 && append_status.ok(); ++i) {
      append_status =
          log.Append("orders", std::vector<Record>{Rec(absl::StrCat("new", i), "new")}).status();
    }
  });
  auto got = ReadN(*reader, 10);
  appender.join();
  ASSERT_OK(append_status);
  ASSERT_OK(got.status());
  ASSERT_THAT(*got, SizeIs(10));
  for (const StoredRecord& r : *got) EXPECT_EQ(r.value, "new") << r.key;
}

TYPED_TEST(EventLogContractTest, ConcurrentAppendsAreEachReadExactlyOnce) {
  constexpr int32_t kPartitions = 4;
  constexpr int kThreads = 4;
  constexpr int kAppendsPerThread = 20;
  constexpr int kRecordsPerAppend = 8;
  constexpr int kKeysPerThread = 3;
  ASSERT_OK(this->CreateTopic("orders", kPartitions));

  struct Acked {
    std::string key;
    std::string value;
    Position pos;
  };
  std::vector<std::vector<Acked>> acked(kThreads);
  std::vector<absl::Status> status(kThreads);
  EventLog& log = this->log();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      int seq = 0;
      for (int a = 0; a < kAppendsPerThread; ++a) {
        std::vector<Record> batch;
        for (int i = 0; i < kRecordsPerAppend; ++i, ++seq) {
          batch.push_back(Rec(absl::StrCat("t", t, "-k", seq % kKeysPerThread),
                              absl::StrCat(t, ":", seq)));
        }
        auto pos = log.Append("orders", batch);
        if (!pos.ok()) {
          status[t] = pos.status();
          return;
        }
        for (size_t i = 0; i < batch.size(); ++i) {
          acked[t].push_back({batch[i].key, batch[i].value, (*pos)[i]});
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) ASSERT_OK(status[t]) << "thread " << t;

  constexpr size_t kTotal = kThreads * kAppendsPerThread * kRecordsPerAppend;
  std::set<std::pair<int32_t, int64_t>> positions;
  for (const auto& v : acked) {
    for (const Acked& a : v) {
      EXPECT_TRUE(positions.insert({a.pos.partition, a.pos.offset}).second)
          << "position " << a.pos.partition << "@" << a.pos.offset << " given twice";
    }
  }
  // Offsets are dense: the end offsets add up to the total.
  int64_t sum = 0;
  for (int64_t e : EndOffsets(log, "orders", kPartitions)) sum += e;
  EXPECT_EQ(sum, static_cast<int64_t>(kTotal));

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Reader> reader, log.NewReader());
  ASSERT_OK(reader->Assign(AllPartitionsAt("orders", kPartitions, 0)));
  ASSERT_OK_AND_ASSIGN(std::vector<StoredRecord> got, ReadN(*reader, kTotal, 50));
  ASSERT_THAT(got, SizeIs(kTotal));
  ExpectDensePerPartition(got);
  auto by_pos = ByPosition(got);
  for (const auto& v : acked) {
    for (const Acked& a : v) {
      auto it = by_pos.find({a.pos.partition, a.pos.offset});
      ASSERT_NE(it, by_pos.end());
      EXPECT_EQ(it->second.key, a.key);
      EXPECT_EQ(it->second.value, a.value);
    }
  }
  // Per key, sequence numbers come in increasing order.
  std::map<std::string, int> last_seq;
  for (const StoredRecord& r : got) {
    const int seq = std::stoi(r.value.substr(r.value.find(':') + 1));
    auto [it, inserted] = last_seq.emplace(r.key, seq);
    if (!inserted) {
      EXPECT_GT(seq, it->second) << r.key;
      it->second = seq;
    }
  }
  ASSERT_OK_AND_ASSIGN(got, reader->Poll(100, absl::Milliseconds(50)));
  EXPECT_THAT(got, IsEmpty());
}

}  // namespace
}  // namespace jaring::eventlog
