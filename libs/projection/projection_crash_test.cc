// The crash test: a child process applying a long stream is killed with
// SIGKILL at random moments, many times. After every kill the store must
// equal a clean build up to the offsets it says it applied (no event applied
// twice, none skipped, state and offsets committed together), and after the
// final catch-up it must equal a full rebuild, key by key and byte by byte.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <random>

#include "absl/strings/str_cat.h"
#include "libs/base/coding.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/projection/projection.h"
#include "libs/projection/test_applier.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/temp_dir.h"

namespace jaring::projection {
namespace {

using ::jaring::projection_testing::ChainApplier;
using ::jaring::projection_testing::KkFor;
using ::jaring::projection_testing::MakeRecord;
using Dump = std::vector<std::pair<std::string, std::string>>;

constexpr char kTopic[] = "crash";
constexpr int kPartitions = 4;
constexpr int kFamilies = 1500;
constexpr int kEventsPerRound = 3000;
constexpr int kRequiredKills = 50;
constexpr int kMaxRounds = 150;

struct Child {
  pid_t pid = -1;
  FILE* out = nullptr;
};

Child Spawn(const std::string& log_dir, const std::string& store_dir, bool wal) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    execl(JARING_CRASH_CHILD, JARING_CRASH_CHILD, log_dir.c_str(), store_dir.c_str(), wal ? "wal" : "nowal",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  return {pid, fdopen(fds[0], "r")};
}

// Everything but the snapshot marker that as-of builds add.
Dump Comparable(const Dump& all) {
  Dump out;
  for (const auto& kv : all) {
    if (kv.first != std::string("\0asof", 5)) out.push_back(kv);
  }
  return out;
}

// The next offset per partition that the store says it applied.
std::map<TopicPartition, int64_t> StoredOffsets(const Dump& dump) {
  std::map<TopicPartition, int64_t> out;
  const std::string prefix = std::string("\0o", 2) + kTopic + std::string(1, '\0');
  for (int p = 0; p < kPartitions; ++p) out[{kTopic, p}] = 0;
  for (const auto& [k, v] : dump) {
    if (k.rfind(prefix, 0) == 0 && k.size() == prefix.size() + 4 && v.size() == 8) {
      out[{kTopic, static_cast<int32_t>(DecodeFixed32BE(k.data() + prefix.size()))}] =
          static_cast<int64_t>(DecodeFixed64BE(v.data()));
    }
  }
  return out;
}

TEST(ProjectionCrashTest, StoreEqualsCleanBuildAfterEveryKill) {
  testing::TempDir dir;
  const std::string log_dir = dir.Sub("log");
  const std::string store_dir = dir.Sub("store");
  std::mt19937_64 rng(20261123);  // injected seed: the run is reproducible
  ChainApplier applier;
  Options options;
  options.topics = {kTopic};
  options.max_batch_events = 500;

  {
    ASSERT_OK_AND_ASSIGN(auto log, eventlog::OpenEmbeddedLog({.dir = log_dir}));
    ASSERT_OK(log->CreateTopic(kTopic, kPartitions));
  }
  int64_t seq = 0;
  int kills = 0;
  int rounds = 0;
  int checks = 0;
  // Kill delay range; adapts so that kills land while the child works.
  int64_t max_delay_us = 200000;
  for (; rounds < kMaxRounds && kills < kRequiredKills; ++rounds) {
    {
      ASSERT_OK_AND_ASSIGN(auto log, eventlog::OpenEmbeddedLog({.dir = log_dir}));
      std::vector<eventlog::Record> records;
      for (int i = 0; i < kEventsPerRound; ++i, ++seq) {
        records.push_back(MakeRecord(KkFor(static_cast<int64_t>(rng() % kFamilies)), seq, 1767225600000 + seq));
      }
      ASSERT_OK(log->Append(kTopic, records).status());
    }
    const bool wal = rounds % 3 != 2;  // mostly WAL, sometimes without
    Child child = Spawn(log_dir, store_dir, wal);
    ASSERT_GT(child.pid, 0);
    char line[64] = {0};
    ASSERT_NE(fgets(line, sizeof(line), child.out), nullptr) << "child did not start";
    ASSERT_STREQ(line, "ready\n");
    usleep(static_cast<useconds_t>(rng() % static_cast<uint64_t>(max_delay_us)));
    kill(child.pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(child.pid, &status, 0), child.pid);
    const bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    bool finished = fgets(line, sizeof(line), child.out) != nullptr && std::string(line) == "done\n";
    fclose(child.out);
    if (!killed) {
      ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child failed";
    }
    if (killed && !finished) {
      ++kills;
    } else {
      max_delay_us = std::max<int64_t>(max_delay_us / 2, 2000);
    }

    // After every kill: the store equals a clean build up to its own offsets.
    ASSERT_OK_AND_ASSIGN(Dump store, DumpStore(store_dir));
    ASSERT_OK_AND_ASSIGN(auto log, eventlog::OpenEmbeddedLog({.dir = log_dir}));
    Bound bound;
    bound.end_offsets = StoredOffsets(store);
    Options o = options;
    o.dir = dir.Sub(absl::StrCat("check", rounds));
    ASSERT_OK(BuildAsOf(log.get(), &applier, o, bound));
    ASSERT_OK_AND_ASSIGN(Dump clean, DumpStore(o.dir));
    ASSERT_EQ(Comparable(store), Comparable(clean)) << "round " << rounds << " after a kill";
    std::filesystem::remove_all(o.dir);
    ++checks;
  }
  EXPECT_GE(kills, kRequiredKills) << "only " << kills << " kills landed mid-stream in " << rounds << " rounds";

  // Final catch-up in a child that is left alone, then compare with a rebuild.
  Child child = Spawn(log_dir, store_dir, true);
  ASSERT_GT(child.pid, 0);
  int status = 0;
  ASSERT_EQ(waitpid(child.pid, &status, 0), child.pid);
  fclose(child.out);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_OK_AND_ASSIGN(auto log, eventlog::OpenEmbeddedLog({.dir = log_dir}));
  Options o = options;
  o.dir = dir.Sub("rebuild");
  ASSERT_OK(Rebuild(log.get(), &applier, o));
  ASSERT_OK_AND_ASSIGN(Dump store, DumpStore(store_dir));
  ASSERT_OK_AND_ASSIGN(Dump rebuilt, DumpStore(o.dir));
  EXPECT_EQ(store, rebuilt);
  int64_t total = 0;
  for (const auto& [tp, next] : StoredOffsets(store)) total += next;
  EXPECT_EQ(total, seq);
  std::printf("crash test: %d rounds, %d kills mid-stream, %d checks, %lld events\n", rounds, kills, checks,
              static_cast<long long>(seq));
}

}  // namespace
}  // namespace jaring::projection
