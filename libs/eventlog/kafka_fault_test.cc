// Fault tests for the Kafka event log on librdkafka's mock cluster: injected
// Produce errors, brokers going down and up, leadership moving, latency,
// append timeouts, the timestamp-lookup fallback and Assign's range checks.
//
// The invariant checked after every fault: each acknowledged record is read
// back exactly once, at the position Append returned, and the records of one
// key come back in the order they were appended (every value carries the
// key's sequence number 0, 1, 2, ...). Records of a failed Append may or may
// not be there, but never twice and never out of order.
//
// Bounded loops only; no assertion on how fast anything is.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "libs/base/hash.h"
#include "libs/base/status.h"
#include "libs/eventlog/eventlog.h"
#include "libs/eventlog/kafka_log.h"
#include "libs/eventlog/mock_cluster.h"
#include "libs/testing/status_matchers.h"

namespace jaring::eventlog {
namespace {

using ::jaring::testing::StatusIs;
using ::testing::AnyOf;
using ::testing::HasSubstr;

constexpr char kTopic[] = "events";
constexpr int32_t kPartitions = 4;
constexpr int kKeys = 16;
constexpr int32_t kBrokers = 3;

std::string KeyName(int k) { return absl::StrCat("family-", k); }

// Tracks what one writer sent. Used by one thread at a time.
struct Ledger {
  using Id = std::pair<std::string, int64_t>;  // (key, sequence number)

  // Appends `n` records over the keys chosen by `batch_no` and records the
  // outcome. Returns Append's status.
  absl::Status AppendBatch(EventLog& log, int batch_no, int n) {
    std::vector<Record> records;
    std::vector<Id> ids;
    for (int i = 0; i < n; ++i) {
      // Deterministic spread, with repeated keys inside one batch.
      const std::string key = KeyName((batch_no * 7 + i * 3) % kKeys);
      const int64_t seq = next_seq[key]++;
      records.push_back(Record{key, absl::StrCat(key, "#", seq), kNoTimestamp});
      ids.emplace_back(key, seq);
    }
    absl::StatusOr<std::vector<Position>> positions = log.Append(kTopic, records);
    if (!positions.ok()) {
      for (const Id& id : ids) unacked.insert(id);
      failures.push_back(positions.status());
      return positions.status();
    }
    if (positions->size() != ids.size()) {
      return absl::InternalError("Append returned the wrong number of positions");
    }
    for (size_t i = 0; i < ids.size(); ++i) acked.emplace(ids[i], (*positions)[i]);
    ++acked_batches;
    return absl::OkStatus();
  }

  std::map<std::string, int64_t> next_seq;
  std::map<Id, Position> acked;
  std::set<Id> unacked;
  std::vector<absl::Status> failures;
  int acked_batches = 0;
};

// Reads every partition of `topic` from its begin offset to its current end.
absl::StatusOr<std::vector<StoredRecord>> ReadAll(EventLog& log, const std::string& topic,
                                                  int32_t partitions) {
  std::vector<int64_t> next(partitions);
  std::vector<int64_t> end(partitions);
  std::vector<Assignment> assignment;
  for (int32_t p = 0; p < partitions; ++p) {
    JARING_ASSIGN_OR_RETURN(next[p], log.BeginOffset(topic, p));
    JARING_ASSIGN_OR_RETURN(end[p], log.EndOffset(topic, p));
    assignment.push_back(Assignment{topic, p, next[p]});
  }
  JARING_ASSIGN_OR_RETURN(std::unique_ptr<Reader> reader, log.NewReader());
  JARING_RETURN_IF_ERROR(reader->Assign(assignment));
  std::vector<StoredRecord> out;
  auto done = [&] {
    for (int32_t p = 0; p < partitions; ++p) {
      if (next[p] < end[p]) return false;
    }
    return true;
  };
  for (int round = 0; round < 300 && !done(); ++round) {
    JARING_ASSIGN_OR_RETURN(std::vector<StoredRecord> batch,
                            reader->Poll(1000, absl::Milliseconds(200)));
    for (StoredRecord& r : batch) {
      if (r.partition < 0 || r.partition >= partitions || r.offset != next[r.partition]) {
        return absl::InternalError(absl::StrCat("partition ", r.partition, ": got offset ",
                                                r.offset, ", expected ", next[r.partition]));
      }
      ++next[r.partition];
      out.push_back(std::move(r));
    }
  }
  if (!done()) return absl::DeadlineExceededError("ReadAll did not reach the end offsets");
  return out;
}

MATCHER_P(IsOkAndHolds, value, "is OK and holds " + ::testing::PrintToString(value)) {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  *result_listener << "holds " << ::testing::PrintToString(*arg);
  return *arg == value;
}

// Whether the log may hold a record twice.
//
// kForbidden: what a real broker guarantees for an idempotent producer.
// kFromLostResponses: librdkafka 2.0.2's mock checks producer sequence numbers
// only for transactional producers, so when a connection dies after the mock
// appended a batch but before the client read the response (broker down,
// injected disconnect with latency), the client's retry is appended again. A
// real broker drops such a retry as a duplicate sequence. Then the check is the
// reader's: dropping repeats by id (first occurrence wins) leaves every key in
// order with nothing acknowledged missing, and Append's position is one of the
// record's occurrences.
enum class Duplicates { kForbidden, kFromLostResponses };

// The invariant described at the top of the file.
void ExpectEveryAckedRecordOnceInKeyOrder(EventLog& log, const Ledger& ledger,
                                          Duplicates duplicates = Duplicates::kForbidden) {
  ASSERT_OK_AND_ASSIGN(std::vector<StoredRecord> records, ReadAll(log, kTopic, kPartitions));
  std::map<std::string, int64_t> last_seq;
  std::map<Ledger::Id, std::vector<Position>> seen;
  int repeats = 0;
  for (const StoredRecord& r : records) {
    std::vector<std::string> parts = absl::StrSplit(r.value, '#');
    ASSERT_EQ(parts.size(), 2u) << "partition " << r.partition << " offset " << r.offset;
    int64_t seq = 0;
    ASSERT_TRUE(absl::SimpleAtoi(parts[1], &seq));
    ASSERT_EQ(parts[0], r.key) << "offset " << r.offset;
    EXPECT_EQ(r.partition, PartitionForKey(r.key, kPartitions)) << r.key;
    const Ledger::Id id(r.key, seq);
    std::vector<Position>& occurrences = seen[id];
    occurrences.push_back(Position{r.partition, r.offset});
    if (occurrences.size() > 1) {
      ++repeats;
      EXPECT_EQ(duplicates, Duplicates::kFromLostResponses)
          << r.key << "#" << seq << " read twice (partition " << r.partition << " offset "
          << r.offset << ")";
      continue;  // the reader drops it by id
    }
    auto last = last_seq.find(r.key);
    if (last != last_seq.end()) {
      EXPECT_GT(seq, last->second)
          << r.key << ": out of order at partition " << r.partition << " offset " << r.offset;
    }
    last_seq[r.key] = seq;
    if (!ledger.acked.contains(id)) {
      EXPECT_TRUE(ledger.unacked.contains(id)) << r.key << "#" << seq << " was never sent";
    }
  }
  int lost = 0;
  for (const auto& [id, position] : ledger.acked) {
    auto it = seen.find(id);
    if (it == seen.end()) {
      ++lost;
      continue;
    }
    EXPECT_THAT(it->second, ::testing::Contains(position))
        << id.first << "#" << id.second << " is not where Append said";
  }
  EXPECT_EQ(lost, 0) << "acknowledged records missing from the log";
  if (repeats > 0) {
    std::printf("note: the mock stored %d retried record(s) twice; readers drop them by id\n",
                repeats);
  }
}

class KafkaFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(cluster_, MockCluster::Start(kBrokers));
    ASSERT_OK(cluster_->CreateTopic(kTopic, kPartitions));
  }
  void TearDown() override { log_.reset(); }

  void OpenLog(absl::Duration append_timeout,
               std::map<std::string, std::string> extra_config = {}) {
    KafkaLogOptions options;
    options.bootstrap = cluster_->bootstrap();
    options.append_timeout = append_timeout;
    options.request_timeout = absl::Seconds(5);
    options.extra_config = std::move(extra_config);
    ASSERT_OK_AND_ASSIGN(log_, OpenKafkaLog(options));
  }

  // Puts partition p's leader on broker (p % kBrokers) + 1, so each broker
  // leads a known set of partitions.
  void SpreadLeaders() {
    for (int32_t p = 0; p < kPartitions; ++p) {
      ASSERT_OK(cluster_->SetPartitionLeader(kTopic, p, p % kBrokers + 1));
    }
  }

  std::unique_ptr<MockCluster> cluster_;  // outlives log_
  std::unique_ptr<EventLog> log_;
};

// Runs Ledger::AppendBatch on a thread until told to stop (or a bound).
class Appender {
 public:
  explicit Appender(EventLog& log)
      : thread_([this, &log] {
          for (int batch = 0; batch < 5000 && !stop_.load(); ++batch) {
            (void)ledger_.AppendBatch(log, batch, 5);
            acked_batches_.store(ledger_.acked_batches);
            absl::SleepFor(absl::Milliseconds(2));
          }
        }) {}
  ~Appender() { Stop(); }

  int acked_batches() const { return acked_batches_.load(); }
  // Waits (bounded) until `more` further batches are acknowledged.
  bool WaitForMoreAcks(int more, absl::Duration limit) {
    const int target = acked_batches() + more;
    const absl::Time deadline = absl::Now() + limit;
    while (acked_batches() < target && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    return acked_batches() >= target;
  }
  // Joins the thread; after this the ledger is stable.
  const Ledger& Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
    return ledger_;
  }

 private:
  Ledger ledger_;
  std::atomic<bool> stop_{false};
  std::atomic<int> acked_batches_{0};
  std::thread thread_;
};

void ExpectFailuresAreClear(const Ledger& ledger) {
  for (const absl::Status& s : ledger.failures) {
    EXPECT_THAT(s, AnyOf(StatusIs(absl::StatusCode::kDeadlineExceeded),
                         StatusIs(absl::StatusCode::kUnavailable)));
    EXPECT_THAT(std::string(s.message()), HasSubstr(kTopic));
  }
}

// ---------------------------------------------------------------------------
// 1. Injected Produce errors in the middle of a stream of appends.

// Appends kBatches batches of 8, pushing `faults[i]` before batch 10 * i + 5.
void AppendThroughFaults(EventLog& log, MockCluster& cluster,
                         const std::vector<std::pair<int, rd_kafka_resp_err_t>>& faults,
                         Ledger& ledger) {
  const int batches = static_cast<int>(faults.size()) * 10 + 10;
  for (int batch = 0; batch < batches; ++batch) {
    if (batch % 10 == 5 && batch / 10 < static_cast<int>(faults.size())) {
      const auto& [count, error] = faults[batch / 10];
      cluster.FailNextProduceRequests(count, error);
    }
    // Retriable errors are retried inside the idempotent producer: every
    // Append is acknowledged.
    ASSERT_OK(ledger.AppendBatch(log, batch, 8)) << "batch " << batch;
  }
  cluster.ClearProduceErrors();
  EXPECT_EQ(ledger.acked.size(), static_cast<size_t>(batches * 8));
}

TEST_F(KafkaFaultTest, InjectedProduceErrorsLoseNothingAndDuplicateNothing) {
  // Error responses: the mock does not apply the failed request, so the
  // retries leave exactly one copy of each record.
  OpenLog(absl::Seconds(20));
  Ledger ledger;
  AppendThroughFaults(*log_, *cluster_,
                      {
                          {2, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION},
                          {3, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT},
                          {3, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS},
                          {2, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE},
                          {1, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND},
                      },
                      ledger);
  ExpectEveryAckedRecordOnceInKeyOrder(*log_, ledger);
}

TEST_F(KafkaFaultTest, InjectedDisconnectsLoseNothing) {
  // _TRANSPORT: the broker closes the connection instead of answering.
  // Responses to other requests on that connection may be lost with it (see
  // Duplicates::kFromLostResponses).
  OpenLog(absl::Seconds(20));
  Ledger ledger;
  AppendThroughFaults(*log_, *cluster_,
                      {
                          {1, RD_KAFKA_RESP_ERR__TRANSPORT},
                          {2, RD_KAFKA_RESP_ERR__TRANSPORT},
                          {1, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION},
                          {3, RD_KAFKA_RESP_ERR__TRANSPORT},
                      },
                      ledger);
  ExpectEveryAckedRecordOnceInKeyOrder(*log_, ledger, Duplicates::kFromLostResponses);
}

TEST_F(KafkaFaultTest, InjectedErrorsUnderConcurrentAppenders) {
  OpenLog(absl::Seconds(20));
  // Two writers with key spaces of their own ("w1-..." and "w2-...").
  Ledger a;
  Ledger b;
  std::vector<absl::Status> errors_a, errors_b;
  auto run = [&](Ledger& ledger, std::vector<absl::Status>& errors, int salt) {
    for (int batch = 0; batch < 40; ++batch) {
      std::vector<Record> records;
      std::vector<Ledger::Id> ids;
      for (int i = 0; i < 6; ++i) {
        const std::string key = absl::StrCat("w", salt, "-", KeyName((batch + i) % kKeys));
        const int64_t seq = ledger.next_seq[key]++;
        records.push_back(Record{key, absl::StrCat(key, "#", seq), kNoTimestamp});
        ids.emplace_back(key, seq);
      }
      absl::StatusOr<std::vector<Position>> pos = log_->Append(kTopic, records);
      if (!pos.ok()) {
        errors.push_back(pos.status());
        for (const auto& id : ids) ledger.unacked.insert(id);
        continue;
      }
      for (size_t i = 0; i < ids.size(); ++i) ledger.acked.emplace(ids[i], (*pos)[i]);
    }
  };
  std::thread ta([&] { run(a, errors_a, 1); });
  std::thread tb([&] { run(b, errors_b, 2); });
  for (int i = 0; i < 6; ++i) {
    cluster_->FailNextProduceRequests(
        2, i % 2 ? RD_KAFKA_RESP_ERR__TRANSPORT : RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
    absl::SleepFor(absl::Milliseconds(30));
  }
  ta.join();
  tb.join();
  cluster_->ClearProduceErrors();
  EXPECT_THAT(errors_a, ::testing::IsEmpty());
  EXPECT_THAT(errors_b, ::testing::IsEmpty());
  Ledger both;
  both.acked = a.acked;
  both.acked.insert(b.acked.begin(), b.acked.end());
  both.unacked = a.unacked;
  both.unacked.insert(b.unacked.begin(), b.unacked.end());
  ExpectEveryAckedRecordOnceInKeyOrder(*log_, both, Duplicates::kFromLostResponses);
}

// ---------------------------------------------------------------------------
// 2. Brokers going down and up, leadership moving, latency.

TEST_F(KafkaFaultTest, LeaderBrokerDownAndUpDuringAppends) {
  SpreadLeaders();
  OpenLog(absl::Seconds(20));
  Appender appender(*log_);
  ASSERT_TRUE(appender.WaitForMoreAcks(10, absl::Seconds(10)));
  // Broker 1 leads partitions 0 and 3.
  ASSERT_OK(cluster_->SetBrokerDown(1));
  absl::SleepFor(absl::Milliseconds(1500));
  ASSERT_OK(cluster_->SetBrokerUp(1));
  // Appends go on after the broker is back.
  EXPECT_TRUE(appender.WaitForMoreAcks(20, absl::Seconds(20)));
  const Ledger& ledger = appender.Stop();
  ExpectFailuresAreClear(ledger);
  ExpectEveryAckedRecordOnceInKeyOrder(*log_, ledger, Duplicates::kFromLostResponses);
}

TEST_F(KafkaFaultTest, TwoBrokersDownThenLeadershipMovesDuringAppends) {
  SpreadLeaders();
  OpenLog(absl::Seconds(20));
  Appender appender(*log_);
  ASSERT_TRUE(appender.WaitForMoreAcks(10, absl::Seconds(10)));
  ASSERT_OK(cluster_->SetBrokerDown(1));
  ASSERT_OK(cluster_->SetBrokerDown(2));
  absl::SleepFor(absl::Milliseconds(1000));
  // Broker 3 takes over every partition while 1 and 2 are still down.
  for (int32_t p = 0; p < kPartitions; ++p) {
    ASSERT_OK(cluster_->SetPartitionLeader(kTopic, p, 3));
  }
  EXPECT_TRUE(appender.WaitForMoreAcks(10, absl::Seconds(20)));
  ASSERT_OK(cluster_->SetBrokerUp(1));
  ASSERT_OK(cluster_->SetBrokerUp(2));
  // And back to the spread while appends run.
  SpreadLeaders();
  EXPECT_TRUE(appender.WaitForMoreAcks(20, absl::Seconds(20)));
  const Ledger& ledger = appender.Stop();
  ExpectFailuresAreClear(ledger);
  ExpectEveryAckedRecordOnceInKeyOrder(*log_, ledger, Duplicates::kFromLostResponses);
}

TEST_F(KafkaFaultTest, InjectedLatencyDuringAppends) {
  OpenLog(absl::Seconds(20));
  Appender appender(*log_);
  ASSERT_TRUE(appender.WaitForMoreAcks(10, absl::Seconds(10)));
  ASSERT_OK(cluster_->SetBrokerRtt(MockCluster::kAllBrokers, 300));
  EXPECT_TRUE(appender.WaitForMoreAcks(5, absl::Seconds(20)));
  ASSERT_OK(cluster_->SetBrokerRtt(2, 0));
  EXPECT_TRUE(appender.WaitForMoreAcks(3, absl::Seconds(20)));
  ASSERT_OK(cluster_->SetBrokerRtt(MockCluster::kAllBrokers, 0));
  EXPECT_TRUE(appender.WaitForMoreAcks(10, absl::Seconds(20)));
  const Ledger& ledger = appender.Stop();
  EXPECT_THAT(ledger.failures, ::testing::IsEmpty());
  ExpectEveryAckedRecordOnceInKeyOrder(*log_, ledger);
}

TEST_F(KafkaFaultTest, DisconnectsWithLatencyLoseNothing) {
  // With 300 ms of latency, responses are still on their way when the
  // injected disconnect closes the connection: the client retries batches the
  // mock already appended (see Duplicates::kFromLostResponses).
  OpenLog(absl::Seconds(20));
  Appender appender(*log_);
  ASSERT_TRUE(appender.WaitForMoreAcks(10, absl::Seconds(10)));
  ASSERT_OK(cluster_->SetBrokerRtt(MockCluster::kAllBrokers, 300));
  EXPECT_TRUE(appender.WaitForMoreAcks(3, absl::Seconds(20)));
  cluster_->FailNextProduceRequests(2, RD_KAFKA_RESP_ERR__TRANSPORT);
  EXPECT_TRUE(appender.WaitForMoreAcks(3, absl::Seconds(20)));
  ASSERT_OK(cluster_->SetBrokerRtt(MockCluster::kAllBrokers, 0));
  EXPECT_TRUE(appender.WaitForMoreAcks(10, absl::Seconds(20)));
  const Ledger& ledger = appender.Stop();
  EXPECT_THAT(ledger.failures, ::testing::IsEmpty());
  ExpectEveryAckedRecordOnceInKeyOrder(*log_, ledger, Duplicates::kFromLostResponses);
}

// ---------------------------------------------------------------------------
// 3. Append timeout.

TEST_F(KafkaFaultTest, AppendTimesOutWhenAllBrokersAreDownAndRecovers) {
  OpenLog(absl::Seconds(1));
  Ledger ledger;
  ASSERT_OK(ledger.AppendBatch(*log_, 0, 4));  // metadata is cached now
  ASSERT_OK(cluster_->SetBrokerDown(MockCluster::kAllBrokers));

  const absl::Time start = absl::Now();
  absl::Status down = ledger.AppendBatch(*log_, 1, 4);
  const absl::Duration took = absl::Now() - start;
  EXPECT_THAT(down, AnyOf(StatusIs(absl::StatusCode::kDeadlineExceeded),
                          StatusIs(absl::StatusCode::kUnavailable)));
  EXPECT_THAT(std::string(down.message()), HasSubstr(kTopic));
  // Bounded: append_timeout plus librdkafka's timeout scan, far from forever.
  EXPECT_LT(took, absl::Seconds(30));

  // A topic whose partition count is not cached needs metadata: also bounded.
  ASSERT_OK(cluster_->CreateTopic("other", 2));
  EXPECT_THAT(log_->Append("other", std::vector<Record>{Record{"k", "v", kNoTimestamp}}),
              AnyOf(StatusIs(absl::StatusCode::kDeadlineExceeded),
                    StatusIs(absl::StatusCode::kUnavailable)));

  // The producer is not broken: once brokers return, appends succeed again.
  ASSERT_OK(cluster_->SetBrokerUp(MockCluster::kAllBrokers));
  absl::Status recovered;
  for (int attempt = 0; attempt < 20; ++attempt) {
    recovered = ledger.AppendBatch(*log_, 2 + attempt, 4);
    if (recovered.ok()) break;
  }
  ASSERT_OK(recovered);
  ExpectEveryAckedRecordOnceInKeyOrder(*log_, ledger, Duplicates::kFromLostResponses);
}

// ---------------------------------------------------------------------------
// 4. OffsetForTimestamp: librdkafka 2.0.2's mock answers -1, so this runs
// the scanning fallback.

TEST_F(KafkaFaultTest, OffsetForTimestampFallbackScansThePartition) {
  ASSERT_OK(cluster_->CreateTopic("times", 1));
  OpenLog(absl::Seconds(20));
  EXPECT_THAT(log_->OffsetForTimestamp("times", 0, 1000), IsOkAndHolds(0));  // empty: EndOffset

  // Timestamps are not monotonic: the answer is the first offset at or after T.
  const std::vector<int64_t> ts = {1000, 3000, 2000, 2000, 4000, 3500};
  std::vector<Record> records;
  for (size_t i = 0; i < ts.size(); ++i) {
    records.push_back(Record{absl::StrCat("k", i), absl::StrCat("v", i), ts[i]});
  }
  ASSERT_OK(log_->Append("times", records).status());

  const struct {
    int64_t t;
    int64_t want;
  } cases[] = {
      {kNoTimestamp, 0},
      {1, 0},
      {1000, 0},
      {1001, 1},
      {2000, 1},
      {3000, 1},
      {3001, 4},
      {3500, 4},
      {4000, 4},
      {4001, 6},
      {1'000'000'000'000, 6},
  };
  for (const auto& c : cases) {
    EXPECT_THAT(log_->OffsetForTimestamp("times", 0, c.t), IsOkAndHolds(c.want)) << "T=" << c.t;
  }
  EXPECT_THAT(log_->OffsetForTimestamp("times", 1, 1000), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(log_->OffsetForTimestamp("nope", 0, 1000), StatusIs(absl::StatusCode::kNotFound));
}

// ---------------------------------------------------------------------------
// 5. Assign's checks.

TEST_F(KafkaFaultTest, AssignOutsideTheWatermarksIsOutOfRange) {
  OpenLog(absl::Seconds(20));
  Ledger ledger;
  ASSERT_OK(ledger.AppendBatch(*log_, 0, 12));
  ASSERT_OK_AND_ASSIGN(const int64_t end, log_->EndOffset(kTopic, 0));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Reader> reader, log_->NewReader());
  EXPECT_THAT(reader->Assign({{kTopic, 0, end + 1}}),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("partition 0")));
  EXPECT_THAT(reader->Assign({{kTopic, 0, -1}}), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(reader->Assign({{kTopic, 0, 1'000'000}}), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(reader->Assign({{kTopic, kPartitions, 0}}), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(reader->Assign({{"nope", 0, 0}}), StatusIs(absl::StatusCode::kNotFound));
  // The end itself is a valid position: only later records come.
  EXPECT_OK(reader->Assign({{kTopic, 0, end}}));
}

TEST_F(KafkaFaultTest, RecordsDroppedByRetentionAreOutOfRangeOnAssign) {
  // The mock keeps about 5 MiB per partition and drops older records.
  ASSERT_OK(cluster_->CreateTopic("big", 1));
  OpenLog(absl::Seconds(30));
  const std::string blob(256 * 1024, 'x');
  int64_t begin = 0;
  for (int round = 0; round < 12 && begin == 0; ++round) {
    std::vector<Record> records(8, Record{"k", blob, kNoTimestamp});
    ASSERT_OK(log_->Append("big", records).status());
    ASSERT_OK_AND_ASSIGN(begin, log_->BeginOffset("big", 0));
  }
  if (begin == 0) GTEST_SKIP() << "this mock kept 24 MiB; retention not exercised";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Reader> reader, log_->NewReader());
  EXPECT_THAT(reader->Assign({{"big", 0, 0}}),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("'big' partition 0")));
  ASSERT_OK(reader->Assign({{"big", 0, begin}}));
  ASSERT_OK_AND_ASSIGN(std::vector<StoredRecord> got, reader->Poll(1, absl::Seconds(10)));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].offset, begin);
}

TEST_F(KafkaFaultTest, PositionDroppedByRetentionIsDataLossOnPoll) {
  ASSERT_OK(cluster_->CreateTopic("big", 1));
  // A small prefetch queue, so the reader stops fetching ahead while the
  // writer pushes its position out of the mock's ~5 MiB window.
  OpenLog(absl::Seconds(30), {{"queued.max.messages.kbytes", "1024"}});
  const std::string blob(256 * 1024, 'x');
  ASSERT_OK(log_->Append("big", std::vector<Record>(4, Record{"k", blob, kNoTimestamp})).status());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Reader> reader, log_->NewReader());
  ASSERT_OK(reader->Assign({{"big", 0, 0}}));
  ASSERT_OK_AND_ASSIGN(std::vector<StoredRecord> first, reader->Poll(1, absl::Seconds(10)));
  ASSERT_EQ(first.size(), 1u);

  int64_t begin = 0;
  for (int round = 0; round < 12 && begin < 40; ++round) {
    ASSERT_OK(
        log_->Append("big", std::vector<Record>(8, Record{"k", blob, kNoTimestamp})).status());
    ASSERT_OK_AND_ASSIGN(begin, log_->BeginOffset("big", 0));
  }
  if (begin < 40) GTEST_SKIP() << "this mock kept 24 MiB; retention not exercised";

  // The reader drains what it had prefetched, then must stop with kDataLoss
  // rather than jump to what is left.
  absl::Status status;
  int64_t next = 1;
  for (int i = 0; i < 100 && status.ok(); ++i) {
    absl::StatusOr<std::vector<StoredRecord>> got = reader->Poll(100, absl::Milliseconds(200));
    status = got.status();
    if (!got.ok()) break;
    for (const StoredRecord& r : *got) {
      ASSERT_EQ(r.offset, next) << "the reader skipped records";
      ++next;
    }
  }
  EXPECT_LT(next, begin);
  EXPECT_THAT(status,
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("'big' partition 0 at offset")));
}

// ---------------------------------------------------------------------------
// Kafka-specific behaviour and the mock's own errors.

TEST_F(KafkaFaultTest, CreateTopicOnTheMockIsFailedPreconditionUnlessItExists) {
  OpenLog(absl::Seconds(20));
  EXPECT_THAT(log_->CreateTopic("fresh", 3), StatusIs(absl::StatusCode::kFailedPrecondition,
                                                      HasSubstr("MockCluster::CreateTopic")));
  EXPECT_OK(log_->CreateTopic(kTopic, kPartitions));
  EXPECT_THAT(log_->CreateTopic(kTopic, kPartitions + 1),
              StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST_F(KafkaFaultTest, FullLocalQueueIsWaitedOut) {
  // A tiny local queue: Append must poll and retry instead of failing.
  OpenLog(absl::Seconds(20), {{"queue.buffering.max.messages", "5"}});
  Ledger ledger;
  ASSERT_OK(ledger.AppendBatch(*log_, 0, 200));
  ExpectEveryAckedRecordOnceInKeyOrder(*log_, ledger);
}

TEST_F(KafkaFaultTest, TimestampZeroIsRefusedBeforeAnythingIsSent) {
  OpenLog(absl::Seconds(20));
  std::vector<Record> records = {Record{"a", "1", 5}, Record{"b", "2", 0}};
  EXPECT_THAT(log_->Append(kTopic, records),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("records[1]")));
  for (int32_t p = 0; p < kPartitions; ++p)
    EXPECT_THAT(log_->EndOffset(kTopic, p), IsOkAndHolds(0));
}

TEST_F(KafkaFaultTest, MockClusterRejectsUnknownBrokersAndTopics) {
  EXPECT_THAT(cluster_->SetBrokerDown(0), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(cluster_->SetBrokerUp(kBrokers + 1), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(cluster_->SetBrokerRtt(9, 10), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(cluster_->SetPartitionLeader(kTopic, 0, 9), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(cluster_->SetPartitionLeader("nope", 0, 1), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(cluster_->CreateTopic(kTopic, kPartitions),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(cluster_->CreateTopic("x", 0), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(MockCluster::Start(0), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace jaring::eventlog
