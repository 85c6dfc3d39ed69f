// The embedded event log: a durable log in RocksDB inside one process.
//
// It owns its RocksDB directory exclusively (RocksDB's LOCK file): one
// process at a time. An Append that returned OK is on disk (the write-ahead
// log was fsynced), so it survives kill -9 and power loss. Concurrent appends
// are group-committed: one fsync covers every append waiting at that moment.
// The key layout is specified in docs/formats/embedded-log.md.
//
// Beyond the EventLog contract:
//   - Topic names are Kafka-legal: 1..249 characters from [a-zA-Z0-9._-]
//     (so a topic can move to Kafka unchanged); others are kInvalidArgument.
//   - Record timestamps must be > 0 or kNoTimestamp (Kafka rejects negative
//     timestamps too); others are kInvalidArgument, naming the record.
//   - Append errors: kUnavailable when RocksDB failed the write (nothing of
//     the failed group is visible; RocksDB usually refuses further writes
//     until the log is reopened).
//   - Readers see a record only after the group that wrote it was durably
//     committed; Poll wakes as soon as a commit makes records available.
//   - Destroying the log while a Reader is alive or an Append is running is
//     a caller bug and stops the process (JARING_RELEASE_ASSERT).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "libs/base/clock.h"
#include "libs/eventlog/eventlog.h"

namespace jaring::eventlog {

struct EmbeddedLogOptions {
  // Directory of the RocksDB database; created if missing.
  std::string dir;
  // Stamps records appended with kNoTimestamp. Not owned; must outlive the
  // log. Null means Clock::Real().
  Clock* clock = nullptr;
  // fsync before an Append returns. Only benchmarks that measure the cost of
  // durability turn this off.
  bool sync = true;
  // Opens the log read-only, beside the process that owns it (a RocksDB
  // secondary instance): it sees every record acknowledged before the open
  // and nothing after. Append and CreateTopic of a new topic are
  // kFailedPrecondition. `jaring replay` reads a live log this way.
  bool read_only = false;
  // Where a read-only open keeps its own small files (RocksDB's info log);
  // empty: a fresh directory under the system's temp directory, removed
  // when the log is closed.
  std::string secondary_dir;
};

// Errors: kInvalidArgument for an empty dir; kUnavailable if the directory is
// locked by another process or cannot be opened; kDataLoss if it is corrupt.
// kFailedPrecondition if the directory holds a newer format version.
// kNotFound for a read-only open of a directory that holds no log.
absl::StatusOr<std::unique_ptr<EventLog>> OpenEmbeddedLog(const EmbeddedLogOptions& options);

// Counters since the log was opened, for tests and benchmarks.
struct EmbeddedLogStats {
  int64_t appends = 0;       // Append calls that wrote at least one record
  int64_t records = 0;       // records written
  int64_t write_groups = 0;  // RocksDB writes (each one fsync when sync=true)
};

// Errors: kInvalidArgument if `log` was not made by OpenEmbeddedLog.
absl::StatusOr<EmbeddedLogStats> GetEmbeddedLogStats(const EventLog& log);

}  // namespace jaring::eventlog
