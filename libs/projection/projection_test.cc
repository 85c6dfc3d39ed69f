#include "libs/projection/projection.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "libs/base/hash.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/events/envelope.h"
#include "libs/projection/test_applier.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/temp_dir.h"
#include "rocksdb/db.h"

namespace jaring::projection {
namespace {

using ::jaring::projection_testing::ChainApplier;
using ::jaring::projection_testing::KkFor;
using ::jaring::projection_testing::MakeEvent;
using ::jaring::projection_testing::MakeRecord;
using ::jaring::testing::StatusIs;
using ::jaring::testing::TempDir;
using ::testing::HasSubstr;

constexpr char kTopic[] = "jaring.population.v1";
constexpr int64_t kT0 = 1767225600000;  // 2026-01-01

using Dump = std::vector<std::pair<std::string, std::string>>;

// The applier's own keys (runtime keys start with '\0').
Dump UserKeys(const Dump& all) {
  Dump out;
  for (const auto& kv : all) {
    if (kv.first.empty() || kv.first[0] != '\0') out.push_back(kv);
  }
  return out;
}

Dump DumpLive(rocksdb::DB* db) {
  Dump out;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) out.emplace_back(it->key().ToString(), it->value().ToString());
  return out;
}

class ProjectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = eventlog::OpenEmbeddedLog({.dir = dir_.Sub("log")});
    ASSERT_OK(log.status());
    log_ = std::move(log).value();
    ASSERT_OK(log_->CreateTopic(kTopic, 4));
  }

  Options Opts(const std::string& name) {
    Options o;
    o.dir = dir_.Sub(name);
    o.topics = {kTopic};
    o.max_batch_events = 64;
    o.poll_timeout = absl::Milliseconds(10);
    return o;
  }

  // Appends events seq [from, to) round-robin over `families` families.
  std::vector<eventlog::Position> AppendEvents(int from, int to, int families, int64_t t_ms = kT0) {
    std::vector<eventlog::Record> records;
    for (int i = from; i < to; ++i) records.push_back(MakeRecord(KkFor(i % families), i, t_ms + i));
    auto pos = log_->Append(kTopic, records);
    EXPECT_OK(pos.status());
    return pos.ok() ? *pos : std::vector<eventlog::Position>{};
  }

  absl::Status AppendRaw(const std::string& key, std::string value) {
    eventlog::Record r{key, std::move(value), kT0};
    return log_->Append(kTopic, std::span<const eventlog::Record>(&r, 1)).status();
  }

  TempDir dir_;
  std::unique_ptr<eventlog::EventLog> log_;
  ChainApplier applier_;
};

TEST_F(ProjectionTest, AppliesEventsAndStoresOffsetsWithState) {
  AppendEvents(0, 500, 37);
  ASSERT_OK_AND_ASSIGN(auto p, Projection::Open(log_.get(), &applier_, Opts("store")));
  ASSERT_OK(p->CatchUp());
  EXPECT_EQ(p->stats().events_applied, 500);
  int64_t total = 0;
  for (const auto& [tp, next] : p->NextOffsets()) {
    ASSERT_OK_AND_ASSIGN(int64_t end, log_->EndOffset(kTopic, tp.second));
    EXPECT_EQ(next, end);
    total += next;
  }
  EXPECT_EQ(total, 500);
  std::string v;
  ASSERT_TRUE(p->db()->Get(rocksdb::ReadOptions(), "type/jaring.v1.WelfareAssessed", &v).ok());
  EXPECT_EQ(v, "500");
  // Coalescing: many events per family per batch, far fewer key writes.
  EXPECT_LT(p->stats().keys_written, 500);
}

TEST_F(ProjectionTest, ResumesFromStoredOffsetsWithoutReapplying) {
  AppendEvents(0, 300, 11);
  {
    ASSERT_OK_AND_ASSIGN(auto p, Projection::Open(log_.get(), &applier_, Opts("store")));
    ASSERT_OK(p->CatchUp());
  }
  AppendEvents(300, 450, 11);
  ASSERT_OK_AND_ASSIGN(auto p, Projection::Open(log_.get(), &applier_, Opts("store")));
  ASSERT_OK(p->CatchUp());
  EXPECT_EQ(p->stats().events_applied, 150);
  const Dump live = DumpLive(p->db());
  p.reset();
  ASSERT_OK(Rebuild(log_.get(), &applier_, Opts("rebuilt")));
  ASSERT_OK_AND_ASSIGN(Dump rebuilt, DumpStore(dir_.Sub("rebuilt")));
  EXPECT_EQ(live, rebuilt);
}

TEST_F(ProjectionTest, RebuildRefusesANonEmptyDirectory) {
  AppendEvents(0, 10, 3);
  ASSERT_OK(Rebuild(log_.get(), &applier_, Opts("rebuilt")));
  EXPECT_THAT(Rebuild(log_.get(), &applier_, Opts("rebuilt")),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not empty")));
}

TEST_F(ProjectionTest, AsOfRecordedTimeMatchesTheStateThenAndLeavesLiveUntouched) {
  AppendEvents(0, 200, 13, kT0);  // recorded kT0 .. kT0+199
  ASSERT_OK_AND_ASSIGN(auto live, Projection::Open(log_.get(), &applier_, Opts("live")));
  ASSERT_OK(live->CatchUp());
  const Dump then = UserKeys(DumpLive(live->db()));
  // Later events, and one reported late: recorded before the cut although
  // appended after later ones. As-of is defined on recorded_at, not position.
  AppendEvents(200, 400, 13, kT0 + 100000);
  ASSERT_OK(AppendRaw(KkFor(5), MakeEvent(KkFor(5), 9999, kT0 + 150).SerializeAsString()));
  ASSERT_OK(live->CatchUp());
  const Dump live_before = DumpLive(live->db());

  Bound bound;
  bound.recorded_at_ms = kT0 + 199;
  ASSERT_OK(BuildAsOf(log_.get(), &applier_, Opts("asof"), bound));
  EXPECT_EQ(DumpLive(live->db()), live_before);  // live untouched
  ASSERT_OK_AND_ASSIGN(Dump asof, DumpStore(dir_.Sub("asof")));
  Dump asof_user = UserKeys(asof);
  EXPECT_NE(asof_user, then);  // the late report is included...
  // ...and without it the as-of state equals the state then.
  Bound before_late = bound;
  before_late.recorded_at_ms = kT0 + 149;
  ASSERT_OK(BuildAsOf(log_.get(), &applier_, Opts("asof2"), before_late));
  ASSERT_OK_AND_ASSIGN(Dump asof2, DumpStore(dir_.Sub("asof2")));
  Dump partial_then;
  {
    // Recompute "then" restricted to seq < 150 via an offsets-free second log.
    TempDir other;
    ASSERT_OK_AND_ASSIGN(auto log2, eventlog::OpenEmbeddedLog({.dir = other.Sub("log")}));
    ASSERT_OK(log2->CreateTopic(kTopic, 4));
    std::vector<eventlog::Record> rs;
    for (int i = 0; i < 150; ++i) rs.push_back(MakeRecord(KkFor(i % 13), i, kT0 + i));
    ASSERT_OK(log2->Append(kTopic, rs).status());
    Options o = Opts("x");
    o.dir = other.Sub("store");
    ASSERT_OK(Rebuild(log2.get(), &applier_, o));
    ASSERT_OK_AND_ASSIGN(Dump d, DumpStore(other.Sub("store")));
    partial_then = UserKeys(d);
  }
  EXPECT_EQ(UserKeys(asof2), partial_then);
  // A snapshot cannot be opened as a live projection.
  EXPECT_THAT(Projection::Open(log_.get(), &applier_, Opts("asof")).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("snapshot")));

  // It opens frozen: read-only, without a log, its bound and offsets intact.
  ASSERT_OK_AND_ASSIGN(auto frozen, Projection::OpenSnapshot(dir_.Sub("asof")));
  EXPECT_TRUE(frozen->frozen());
  EXPECT_THAT(frozen->SnapshotBound(), ::jaring::testing::IsOkAndHolds(absl::StrCat("recorded_at_ms<=", kT0 + 199)));
  EXPECT_EQ(UserKeys(DumpLive(frozen->db())), asof_user);
  const auto next = frozen->NextOffsets();
  int64_t total = 0;
  for (const auto& [tp, off] : next) {
    total += off;
    EXPECT_OK(frozen->WaitFor(tp.first, tp.second, off, absl::Seconds(1)));
    EXPECT_THAT(frozen->WaitFor(tp.first, tp.second, off + 1, absl::Seconds(1)),
                StatusIs(absl::StatusCode::kFailedPrecondition));
  }
  EXPECT_EQ(total, 401);  // every record was read; the later ones filtered out
  EXPECT_OK(frozen->CatchUp());
  EXPECT_FALSE(frozen->db()->Put(rocksdb::WriteOptions(), "k", "v").ok());
  EXPECT_THAT(Projection::OpenSnapshot(dir_.Sub("nothing-here")).status(), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(auto live_frozen_bound, live->SnapshotBound());
  EXPECT_EQ(live_frozen_bound, "");
}

TEST_F(ProjectionTest, AsOfOffsetsStopsEachPartitionAtItsBound) {
  AppendEvents(0, 120, 9);
  ASSERT_OK_AND_ASSIGN(auto live, Projection::Open(log_.get(), &applier_, Opts("live")));
  ASSERT_OK(live->CatchUp());
  const auto offsets_then = live->NextOffsets();
  const Dump then = UserKeys(DumpLive(live->db()));
  AppendEvents(120, 300, 9);
  Bound bound;
  bound.end_offsets = offsets_then;
  ASSERT_OK(BuildAsOf(log_.get(), &applier_, Opts("asof"), bound));
  ASSERT_OK_AND_ASSIGN(Dump asof, DumpStore(dir_.Sub("asof")));
  EXPECT_EQ(UserKeys(asof), then);
  Bound bad;
  bad.end_offsets[{"no.such.topic", 0}] = 1;
  EXPECT_THAT(BuildAsOf(log_.get(), &applier_, Opts("asof-bad"), bad),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no.such.topic")));
}

TEST_F(ProjectionTest, FollowerGivesReadYourWrites) {
  ASSERT_OK_AND_ASSIGN(auto p, Projection::Open(log_.get(), &applier_, Opts("store")));
  p->Start();
  for (int round = 0; round < 20; ++round) {
    auto pos = AppendEvents(round, round + 1, 1);
    ASSERT_EQ(pos.size(), 1u);
    ASSERT_OK(p->WaitFor(kTopic, pos[0].partition, pos[0].offset + 1, absl::Seconds(30)));
    std::string v;
    ASSERT_TRUE(p->db()->Get(rocksdb::ReadOptions(), "fam/" + KkFor(0), &v).ok());
    EXPECT_THAT(v, ::testing::StartsWith(absl::StrCat(round + 1, " ")));
  }
  EXPECT_THAT(p->WaitFor(kTopic, 0, 1000000, absl::Milliseconds(20)),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_THAT(p->WaitFor("other.topic", 0, 1, absl::Milliseconds(20)),
              StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK(p->CatchUp());
  p->Stop();
}

TEST_F(ProjectionTest, UndecodableBytesStopTheProjectionNamingTheRecord) {
  const std::string kk = KkFor(1);
  AppendEvents(0, 5, 1, kT0);  // all to KkFor(0)
  ASSERT_OK(AppendRaw(kk, MakeEvent(kk, 1, kT0).SerializeAsString()));
  ASSERT_OK(AppendRaw(kk, std::string("\x0a\x7f" "a", 3)));
  ASSERT_OK(AppendRaw(kk, MakeEvent(kk, 2, kT0).SerializeAsString()));
  const int32_t partition = PartitionForKey(kk, 4);
  ASSERT_OK_AND_ASSIGN(auto p, Projection::Open(log_.get(), &applier_, Opts("store")));
  const int64_t bad_offset = PartitionForKey(KkFor(0), 4) == partition ? 6 : 1;
  const std::string where = absl::StrCat(kTopic, "[", partition, "]@", bad_offset);
  EXPECT_THAT(p->CatchUp(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr(where)));
  EXPECT_THAT(p->status(), StatusIs(absl::StatusCode::kDataLoss));
  // The bad record was not consumed.
  EXPECT_LE((p->NextOffsets()[{kTopic, partition}]), bad_offset);
  // Reopening stops at the same place again: it is never skipped.
  p.reset();
  ASSERT_OK_AND_ASSIGN(p, Projection::Open(log_.get(), &applier_, Opts("store")));
  EXPECT_THAT(p->CatchUp(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr(where)));
}

TEST_F(ProjectionTest, UnknownPayloadsAreSkippedAndCounted) {
  v1::Envelope future = MakeEvent(KkFor(2), 1, kT0);
  future.clear_welfare_assessed();
  future.set_event_type("jaring.v1.FromTheFuture");
  std::string bytes = future.SerializeAsString();
  {
    google::protobuf::io::StringOutputStream out(&bytes);
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.WriteTag((99 << 3) | 2);
    coded.WriteVarint32(0);
  }
  ASSERT_OK(AppendRaw(KkFor(2), bytes));
  ASSERT_OK(AppendRaw(KkFor(2), bytes));
  AppendEvents(0, 10, 3);
  ASSERT_OK_AND_ASSIGN(auto p, Projection::Open(log_.get(), &applier_, Opts("store")));
  ASSERT_OK(p->CatchUp());
  EXPECT_EQ(p->stats().unknown_skipped, 2);
  EXPECT_EQ(p->stats().events_applied, 10);
  ASSERT_OK_AND_ASSIGN(auto skipped, p->SkippedUnknown());
  EXPECT_EQ(skipped, (std::map<std::string, int64_t>{{"jaring.v1.FromTheFuture", 2}}));
}

TEST_F(ProjectionTest, ApplierErrorDiscardsTheBatchAndStops) {
  AppendEvents(0, 20, 2);
  ChainApplier failing;
  failing.fail_on_event_id = MakeEvent(KkFor(10 % 2), 10, kT0 + 10).event_id();
  Options o = Opts("store");
  o.max_batch_events = 1000;
  ASSERT_OK_AND_ASSIGN(auto p, Projection::Open(log_.get(), &failing, o));
  EXPECT_THAT(p->CatchUp(), StatusIs(absl::StatusCode::kInternal, HasSubstr("refusing event")));
  for (const auto& [tp, next] : p->NextOffsets()) EXPECT_EQ(next, 0) << tp.second;
  EXPECT_TRUE(UserKeys(DumpLive(p->db())).empty());
}

TEST_F(ProjectionTest, StoreAheadOfItsLogIsRefused) {
  AppendEvents(0, 50, 5);
  ASSERT_OK(Rebuild(log_.get(), &applier_, Opts("store")));
  TempDir other;
  ASSERT_OK_AND_ASSIGN(auto empty_log, eventlog::OpenEmbeddedLog({.dir = other.Sub("log")}));
  ASSERT_OK(empty_log->CreateTopic(kTopic, 4));
  EXPECT_THAT(Projection::Open(empty_log.get(), &applier_, Opts("store")).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("another log")));
}

}  // namespace
}  // namespace jaring::projection
