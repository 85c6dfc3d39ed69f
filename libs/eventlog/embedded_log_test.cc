// Embedded-log-only tests: reopening, kill -9 durability, the directory lock,
// group commit, and the embedded log's stricter argument checks. The shared
// EventLog contract is in eventlog_contract_test.cc.
#include "libs/eventlog/embedded_log.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
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
#include "libs/eventlog/eventlog.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/temp_dir.h"

extern char** environ;

namespace jaring::eventlog {
namespace {

using ::jaring::testing::StatusIs;
using ::jaring::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr int64_t kStartMs = 1'700'000'000'000;

absl::StatusOr<std::unique_ptr<EventLog>> Open(const std::string& dir, Clock* clock = nullptr) {
  EmbeddedLogOptions options;
  options.dir = dir;
  options.clock = clock;
  return OpenEmbeddedLog(options);
}

Record Rec(std::string key, std::string value, int64_t timestamp_ms = kNoTimestamp) {
  return Record{.key = std::move(key), .value = std::move(value), .timestamp_ms = timestamp_ms};
}

// Reads [0, EndOffset) of every partition of `topic`.
absl::StatusOr<std::vector<StoredRecord>> ReadAll(EventLog& log, const std::string& topic) {
  JARING_ASSIGN_OR_RETURN(int32_t partitions, log.PartitionCount(topic));
  std::vector<Assignment> assignment;
  size_t total = 0;
  for (int32_t p = 0; p < partitions; ++p) {
    JARING_ASSIGN_OR_RETURN(int64_t end, log.EndOffset(topic, p));
    total += static_cast<size_t>(end);
    assignment.push_back({.topic = topic, .partition = p, .offset = 0});
  }
  JARING_ASSIGN_OR_RETURN(std::unique_ptr<Reader> reader, log.NewReader());
  JARING_RETURN_IF_ERROR(reader->Assign(assignment));
  std::vector<StoredRecord> out;
  while (out.size() < total) {
    JARING_ASSIGN_OR_RETURN(std::vector<StoredRecord> batch,
                            reader->Poll(total - out.size(), absl::ZeroDuration()));
    if (batch.empty()) return absl::InternalError("records below EndOffset are not readable");
    for (StoredRecord& r : batch) out.push_back(std::move(r));
  }
  return out;
}

std::map<std::pair<int32_t, int64_t>, StoredRecord> ByPosition(std::vector<StoredRecord> v) {
  std::map<std::pair<int32_t, int64_t>, StoredRecord> m;
  for (StoredRecord& r : v) m.emplace(std::make_pair(r.partition, r.offset), std::move(r));
  return m;
}

// ---------------------------------------------------------------------------
// Opening.

TEST(EmbeddedLogTest, EmptyDirIsInvalidArgument) {
  EXPECT_THAT(Open(""), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(EmbeddedLogTest, SecondOpenOfTheSameDirIsUnavailable) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EventLog> log, Open(dir.Sub("log")));
  EXPECT_THAT(Open(dir.Sub("log")), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(log->Describe(), HasSubstr(dir.Sub("log")));
  log.reset();
  EXPECT_OK(Open(dir.Sub("log")).status());
}

TEST(EmbeddedLogTest, CorruptDirIsDataLoss) {
  TempDir dir;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<EventLog> log, Open(dir.Sub("log")));
    ASSERT_OK(log->CreateTopic("t", 1));
  }
  // Overwrite the MANIFEST with garbage.
  int manifests = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.Sub("log"))) {
    if (entry.path().filename().string().starts_with("MANIFEST-")) {
      std::ofstream(entry.path(), std::ios::trunc) << std::string(4096, '\x5a');
      ++manifests;
    }
  }
  ASSERT_GT(manifests, 0);
  EXPECT_THAT(Open(dir.Sub("log")), StatusIs(absl::StatusCode::kDataLoss));
}

// ---------------------------------------------------------------------------
// Embedded-only argument checks.

TEST(EmbeddedLogTest, TopicNamesMustBeKafkaLegal) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EventLog> log, Open(dir.Sub("log")));
  EXPECT_THAT(log->CreateTopic("has space", 1), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(log->CreateTopic("a/b", 1), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(log->CreateTopic(std::string(250, 'x'), 1),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_OK(log->CreateTopic(std::string(249, 'x'), 1));
  EXPECT_OK(log->CreateTopic("jaring.population.v1", 12));
  EXPECT_OK(log->CreateTopic("A-b_c.9", 1));
}

TEST(EmbeddedLogTest, NegativeTimestampIsInvalidAndNothingIsAppended) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EventLog> log, Open(dir.Sub("log")));
  ASSERT_OK(log->CreateTopic("t", 1));
  EXPECT_THAT(log->Append("t", std::vector<Record>{Rec("k", "v", 5), Rec("k", "v", -2)}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("records[1]")));
  ASSERT_OK_AND_ASSIGN(int64_t end, log->EndOffset("t", 0));
  EXPECT_EQ(end, 0);
}

TEST(EmbeddedLogTest, PollSharesMaxRecordsAcrossPartitions) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EventLog> log, Open(dir.Sub("log")));
  ASSERT_OK(log->CreateTopic("t", 4));
  std::vector<Record> records;
  for (int i = 0; i < 400; ++i) records.push_back(Rec(absl::StrCat("k", i), "v"));
  ASSERT_OK(log->Append("t", records).status());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Reader> reader, log->NewReader());
  std::vector<Assignment> all;
  for (int32_t p = 0; p < 4; ++p) all.push_back({.topic = "t", .partition = p, .offset = 0});
  ASSERT_OK(reader->Assign(all));
  ASSERT_OK_AND_ASSIGN(std::vector<StoredRecord> got, reader->Poll(40, absl::ZeroDuration()));
  ASSERT_THAT(got, SizeIs(40));
  std::map<int32_t, int> per_partition;
  for (const StoredRecord& r : got) ++per_partition[r.partition];
  EXPECT_THAT(per_partition, SizeIs(4));
  ASSERT_OK_AND_ASSIGN(got, reader->Poll(0, absl::ZeroDuration()));
  EXPECT_THAT(got, IsEmpty());
}

// ---------------------------------------------------------------------------
// Reopening.

TEST(EmbeddedLogTest, ReadOnlyOpenBesideTheOwnerSeesWhatWasAcknowledgedAndWritesNothing) {
  TempDir dir;
  EmbeddedLogOptions ro;
  ro.dir = dir.Sub("log");
  ro.read_only = true;
  EXPECT_THAT(OpenEmbeddedLog(ro), StatusIs(absl::StatusCode::kNotFound));

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EventLog> owner, Open(dir.Sub("log")));
  ASSERT_OK(owner->CreateTopic("many", 3));
  std::vector<Record> records;
  for (int i = 0; i < 40; ++i) records.push_back(Rec(absl::StrCat("k", i % 7), absl::StrCat(i)));
  ASSERT_OK(owner->Append("many", records).status());
  ASSERT_OK_AND_ASSIGN(std::vector<StoredRecord> expected, ReadAll(*owner, "many"));

  // The owner keeps the log open (and its records in the write-ahead log):
  // a read-only open beside it sees every acknowledged record.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EventLog> reader, OpenEmbeddedLog(ro));
  EXPECT_THAT(reader->Describe(), HasSubstr("read-only"));
  ASSERT_OK_AND_ASSIGN(std::vector<StoredRecord> seen, ReadAll(*reader, "many"));
  auto a = ByPosition(expected);
  auto b = ByPosition(seen);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [pos, rec] : a) EXPECT_EQ(b.at(pos).value, rec.value);

  // It writes nothing, and what the owner appends later is not in its view.
  EXPECT_THAT(reader->Append("many", records), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(reader->CreateTopic("other", 1), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_OK(reader->CreateTopic("many", 3));  // exists: nothing to write
  std::vector<int64_t> ends;
  for (int32_t p = 0; p < 3; ++p) ends.push_back(*reader->EndOffset("many", p));
  ASSERT_OK(owner->Append("many", records).status());
  for (int32_t p = 0; p < 3; ++p) EXPECT_EQ(*reader->EndOffset("many", p), ends[p]);
  reader.reset();
  ASSERT_OK_AND_ASSIGN(std::vector<StoredRecord> all, ReadAll(*owner, "many"));
  EXPECT_THAT(all, SizeIs(80));
}

TEST(EmbeddedLogTest, ReopenKeepsTopicsOffsetsRecordsAndTheTimeIndex) {
  TempDir dir;
  ManualClock clock(absl::FromUnixMillis(kStartMs));
  std::vector<int64_t> ends;
  std::vector<StoredRecord> before;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<EventLog> log, Open(dir.Sub("log"), &clock));
    ASSERT_OK(log->CreateTopic("many", 3));
    ASSERT_OK(log->CreateTopic("one", 1));
    std::vector<Record> records;
    for (int i = 0; i < 50; ++i) records.push_back(Rec(absl::StrCat("k", i % 9), absl::StrCat(i)));
    ASSERT_OK(log->Append("many", records).status());
    // Non-monotonic timestamps: 1000 3000 2000 4000 4000 5000.
    records.clear();
    for (int64_t t : {1000, 3000, 2000, 4000, 4000, 5000}) records.push_back(Rec("k", "v", t));
    ASSERT_OK(log->Append("one", records).status());
    for (int32_t p = 0; p < 3; ++p) ends.push_back(*log->EndOffset("many", p));
    ASSERT_OK_AND_ASSIGN(before, ReadAll(*log, "many"));
  }

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EventLog> log, Open(dir.Sub("log"), &clock));
  EXPECT_EQ(*log->PartitionCount("many"), 3);
  EXPECT_EQ(*log->PartitionCount("one"), 1);
  for (int32_t p = 0; p < 3; ++p) EXPECT_EQ(*log->EndOffset("many", p), ends[p]);
  EXPECT_EQ(*log->EndOffset("one", 0), 6);
  EXPECT_THAT(log->CreateTopic("many", 4), StatusIs(absl::StatusCode::kAlreadyExists));

  // Records survive exactly.
  ASSERT_OK_AND_ASSIGN(std::vector<StoredRecord> after, ReadAll(*log, "many"));
  auto b = ByPosition(before);
  auto a = ByPosition(after);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [pos, r] : b) {
    EXPECT_EQ(a[pos].key, r.key);
    EXPECT_EQ(a[pos].value, r.value);
    EXPECT_EQ(a[pos].timestamp_ms, r.timestamp_ms);
    EXPECT_EQ(r.timestamp_ms, kStartMs);
  }

  // The time index survives.
  EXPECT_EQ(*log->OffsetForTimestamp("one", 0, 2000), 1);
  EXPECT_EQ(*log->OffsetForTimestamp("one", 0, 4500), 5);
  EXPECT_EQ(*log->OffsetForTimestamp("one", 0, 5001), 6);

  // Appends continue at the right offsets, and the running maximum
  // timestamp was recovered: 4500 < 5000 must not enter the index.
  ASSERT_OK_AND_ASSIGN(std::vector<Position> pos,
                       log->Append("one", std::vector<Record>{Rec("k", "v", 4500),
                                                              Rec("k", "v", 6000)}));
  EXPECT_EQ(pos[0].offset, 6);
  EXPECT_EQ(pos[1].offset, 7);
  EXPECT_EQ(*log->OffsetForTimestamp("one", 0, 4400), 5);
  EXPECT_EQ(*log->OffsetForTimestamp("one", 0, 5500), 7);
  EXPECT_EQ(*log->OffsetForTimestamp("one", 0, 6001), 8);

  // A topic created after reopening does not collide with the old ones.
  ASSERT_OK(log->CreateTopic("later", 3));
  std::vector<Record> records;
  for (int i = 0; i < 20; ++i) records.push_back(Rec(absl::StrCat("k", i % 9), "later"));
  ASSERT_OK(log->Append("later", records).status());
  for (int32_t p = 0; p < 3; ++p) EXPECT_EQ(*log->EndOffset("many", p), ends[p]);
  ASSERT_OK_AND_ASSIGN(after, ReadAll(*log, "many"));
  EXPECT_EQ(after.size(), before.size());
  for (const StoredRecord& r : after) EXPECT_NE(r.value, "later");
}

// ---------------------------------------------------------------------------
// Group commit.

TEST(EmbeddedLogTest, ConcurrentAppendsAreGroupCommittedWithDenseOffsets) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EventLog> log, Open(dir.Sub("log")));
  constexpr int32_t kPartitions = 3;
  constexpr int kThreads = 16;
  constexpr int kAppends = 40;
  constexpr int kRecords = 5;
  ASSERT_OK(log->CreateTopic("t", kPartitions));

  std::vector<std::vector<Position>> positions(kThreads);
  std::vector<absl::Status> status(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int a = 0; a < kAppends; ++a) {
        std::vector<Record> batch;
        for (int i = 0; i < kRecords; ++i) {
          batch.push_back(Rec(absl::StrCat("t", t, "-", i), absl::StrCat(t, ":", a, ":", i)));
        }
        auto pos = log->Append("t", batch);
        if (!pos.ok()) {
          status[t] = pos.status();
          return;
        }
        positions[t].insert(positions[t].end(), pos->begin(), pos->end());
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (const absl::Status& s : status) ASSERT_OK(s);

  std::vector<std::set<int64_t>> offsets(kPartitions);
  for (const auto& v : positions) {
    for (const Position& p : v) {
      EXPECT_TRUE(offsets[p.partition].insert(p.offset).second) << p.partition << "@" << p.offset;
    }
  }
  int64_t total = 0;
  for (int32_t p = 0; p < kPartitions; ++p) {
    const int64_t end = *log->EndOffset("t", p);
    total += end;
    EXPECT_EQ(static_cast<int64_t>(offsets[p].size()), end);
    if (!offsets[p].empty()) {
      EXPECT_EQ(*offsets[p].begin(), 0);
      EXPECT_EQ(*offsets[p].rbegin(), end - 1);  // unique + count + bounds = dense
    }
  }
  EXPECT_EQ(total, kThreads * kAppends * kRecords);

  ASSERT_OK_AND_ASSIGN(EmbeddedLogStats stats, GetEmbeddedLogStats(*log));
  EXPECT_EQ(stats.appends, kThreads * kAppends);
  EXPECT_EQ(stats.records, kThreads * kAppends * kRecords);
  EXPECT_GE(stats.write_groups, 1);
  EXPECT_LE(stats.write_groups, stats.appends);
  std::printf("group commit: %lld appends in %lld writes\n", static_cast<long long>(stats.appends),
              static_cast<long long>(stats.write_groups));

  ASSERT_OK_AND_ASSIGN(std::vector<StoredRecord> all, ReadAll(*log, "t"));
  EXPECT_THAT(all, SizeIs(static_cast<size_t>(total)));
}

// ---------------------------------------------------------------------------
// kill -9.
//
// The parent re-executes this test binary (fork + execve of /proc/self/exe,
// so the child starts with no inherited RocksDB threads) with
// --gtest_filter=EmbeddedLogCrashChild.Appends and the environment below.
// The child appends batches forever and, after each Append returned OK,
// writes one AckRecord per record to a pipe. The parent SIGKILLs it at a
// random moment, then reopens the log and checks every acknowledged record.

constexpr char kCrashDirEnv[] = "JARING_EMBEDDED_CRASH_DIR";
constexpr char kCrashFdEnv[] = "JARING_EMBEDDED_CRASH_FD";
constexpr char kCrashRoundEnv[] = "JARING_EMBEDDED_CRASH_ROUND";
constexpr char kCrashTopic[] = "crash";
constexpr int32_t kCrashPartitions = 4;

struct AckRecord {
  int32_t round;
  int32_t partition;
  int64_t seq;
  int64_t offset;
};

std::string CrashKey(int64_t seq) { return absl::StrCat("family-", seq % 13); }
std::string CrashValue(int32_t round, int64_t seq) {
  return absl::StrCat("r", round, "s", seq, ":",
                      std::string(static_cast<size_t>((seq * 37) % 400), static_cast<char>('a' + seq % 26)));
}

bool WriteAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

TEST(EmbeddedLogCrashChild, Appends) {
  const char* dir = std::getenv(kCrashDirEnv);
  if (dir == nullptr) GTEST_SKIP() << "runs only as the child of KillNineLosesNoAcknowledgedRecord";
  const int fd = std::atoi(std::getenv(kCrashFdEnv));
  const int32_t round = std::atoi(std::getenv(kCrashRoundEnv));
  auto log = Open(dir);
  if (!log.ok()) {
    std::fprintf(stderr, "crash child: %s\n", log.status().ToString().c_str());
    _exit(2);
  }
  if (!(*log)->CreateTopic(kCrashTopic, kCrashPartitions).ok()) _exit(3);
  std::mt19937_64 rng(static_cast<uint64_t>(round) * 7919 + 1);
  int64_t seq = 0;
  std::vector<Record> batch;
  std::vector<AckRecord> acks;
  while (true) {
    batch.clear();
    const int n = 1 + static_cast<int>(rng() % 64);
    const int64_t first = seq;
    for (int i = 0; i < n; ++i, ++seq) batch.push_back(Rec(CrashKey(seq), CrashValue(round, seq)));
    auto pos = (*log)->Append(kCrashTopic, batch);
    if (!pos.ok()) {
      std::fprintf(stderr, "crash child: %s\n", pos.status().ToString().c_str());
      _exit(4);
    }
    acks.clear();
    for (int i = 0; i < n; ++i) {
      acks.push_back({round, (*pos)[i].partition, first + i, (*pos)[i].offset});
    }
    if (!WriteAll(fd, reinterpret_cast<const char*>(acks.data()), acks.size() * sizeof(AckRecord))) {
      _exit(5);
    }
  }
}

// Runs one child until it is killed; returns the acknowledgements it sent.
void RunAndKillChild(const std::string& dir, int32_t round, absl::Duration run_after_first_ack,
                     std::vector<AckRecord>* acks) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const int devnull = open("/dev/null", O_WRONLY);
  ASSERT_GE(devnull, 0);

  // Everything the child needs, built before fork (only async-signal-safe
  // calls between fork and execve).
  std::string exe = "/proc/self/exe";
  std::string filter = "--gtest_filter=EmbeddedLogCrashChild.Appends";
  std::vector<char*> argv = {exe.data(), filter.data(), nullptr};
  std::vector<std::string> env_strings = {absl::StrCat(kCrashDirEnv, "=", dir),
                                          absl::StrCat(kCrashFdEnv, "=", fds[1]),
                                          absl::StrCat(kCrashRoundEnv, "=", round)};
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!std::string_view(*e).starts_with("JARING_EMBEDDED_CRASH_")) envp.push_back(*e);
  }
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    dup2(devnull, STDOUT_FILENO);
    execve(exe.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  close(fds[1]);
  close(devnull);

  std::string buffer;
  char chunk[1 << 16];
  absl::Time kill_at = absl::InfiniteFuture();
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  bool killed = false;
  while (true) {
    const absl::Time now = absl::Now();
    if (!killed && (now >= kill_at || now >= give_up)) {
      kill(pid, SIGKILL);
      killed = true;
    }
    const absl::Time wake = killed ? absl::InfiniteFuture() : std::min(kill_at, give_up);
    const int timeout_ms =
        wake == absl::InfiniteFuture()
            ? -1
            : static_cast<int>(std::max<int64_t>(0, absl::ToInt64Milliseconds(wake - now) + 1));
    pollfd pfd{.fd = fds[0], .events = POLLIN, .revents = 0};
    const int ready = ::poll(&pfd, 1, timeout_ms);
    if (ready < 0 && errno == EINTR) continue;
    ASSERT_GE(ready, 0);
    if (ready == 0) continue;
    const ssize_t n = read(fds[0], chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: the child is gone
    buffer.append(chunk, static_cast<size_t>(n));
    if (kill_at == absl::InfiniteFuture() && buffer.size() >= sizeof(AckRecord)) {
      kill_at = absl::Now() + run_after_first_ack;
    }
  }
  close(fds[0]);
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL)
      << "the child ended by itself (exit status "
      << (WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1) << ") in round " << round;
  ASSERT_LT(absl::Now(), give_up) << "the child never acknowledged an append";

  // A record cut off by the kill was never fully reported: drop it.
  const size_t complete = buffer.size() / sizeof(AckRecord);
  const size_t first = acks->size();
  acks->resize(first + complete);
  std::memcpy(acks->data() + first, buffer.data(), complete * sizeof(AckRecord));
}

TEST(EmbeddedLogTest, KillNineLosesNoAcknowledgedRecord) {
  constexpr int kRounds = 20;
  TempDir dir;
  const std::string log_dir = dir.Sub("log");
  std::mt19937_64 rng(20240601);
  // (partition, offset) -> (round, seq) of every acknowledged record so far.
  std::map<std::pair<int32_t, int64_t>, std::pair<int32_t, int64_t>> acked;

  for (int32_t round = 0; round < kRounds; ++round) {
    std::vector<AckRecord> acks;
    const absl::Duration run = absl::Milliseconds(static_cast<int64_t>(rng() % 150));
    ASSERT_NO_FATAL_FAILURE(RunAndKillChild(log_dir, round, run, &acks));
    ASSERT_FALSE(acks.empty());
    for (const AckRecord& a : acks) {
      ASSERT_EQ(a.round, round);
      ASSERT_EQ(a.partition, PartitionForKey(CrashKey(a.seq), kCrashPartitions));
      ASSERT_TRUE(acked.emplace(std::make_pair(a.partition, a.offset),
                                std::make_pair(a.round, a.seq))
                      .second)
          << "offset " << a.partition << "@" << a.offset << " acknowledged twice (round "
          << round << ")";
    }

    ASSERT_OK_AND_ASSIGN(std::unique_ptr<EventLog> log, Open(log_dir));
    std::map<int32_t, int64_t> max_acked;
    for (const auto& [pos, who] : acked) {
      max_acked[pos.first] = std::max(max_acked[pos.first], pos.second);
    }
    for (int32_t p = 0; p < kCrashPartitions; ++p) {
      ASSERT_OK_AND_ASSIGN(int64_t end, log->EndOffset(kCrashTopic, p));
      if (max_acked.count(p) > 0) {
        ASSERT_GT(end, max_acked[p]) << "partition " << p;
      }
    }
    // ReadAll fails on any gap below EndOffset.
    ASSERT_OK_AND_ASSIGN(std::vector<StoredRecord> records, ReadAll(*log, kCrashTopic));
    std::set<std::string> values;
    size_t found = 0;
    for (const StoredRecord& r : records) {
      ASSERT_TRUE(values.insert(r.value).second) << "record duplicated: " << r.value.substr(0, 20);
      auto it = acked.find({r.partition, r.offset});
      if (it == acked.end()) continue;  // appended but killed before it was reported
      ++found;
      ASSERT_EQ(r.key, CrashKey(it->second.second)) << r.partition << "@" << r.offset;
      ASSERT_EQ(r.value, CrashValue(it->second.first, it->second.second))
          << r.partition << "@" << r.offset;
    }
    ASSERT_EQ(found, acked.size()) << "round " << round;
  }
  std::printf("kill -9: %zu acknowledged records over %d kills all present\n", acked.size(),
              kRounds);
}

}  // namespace
}  // namespace jaring::eventlog
