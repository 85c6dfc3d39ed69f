// The embedded event log: a durable log in RocksDB inside one process.
//
// It owns its RocksDB directory exclusively (RocksDB's LOCK file): one
// process at a time. An Append that returned OK is on disk (the write-ahead
// log was fsynced), so it survives kill -9 and power loss. Concurrent appends
// are group-committed: one fsync covers every append waiting at that moment.
// The key layout is specified in docs/formats/embedded-log.md.
#pragma once

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
};

// Errors: kInvalidArgument for an empty dir; kUnavailable if the directory is
// locked by another process or cannot be opened; kDataLoss if it is corrupt.
absl::StatusOr<std::unique_ptr<EventLog>> OpenEmbeddedLog(const EmbeddedLogOptions& options);

}  // namespace jaring::eventlog
