// A benchmark's working directory with an embedded log that holds every
// Jaring topic (libs/events/topics.h): the start of the eligibility, ledger
// and audit benchmarks.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "libs/eventlog/eventlog.h"

namespace jaring::bench {

struct Workspace {
  std::filesystem::path dir;
  // A temporary directory made here, for the benchmark to remove when done.
  bool owned = false;
  std::unique_ptr<eventlog::EventLog> log;  // DIR/log, every topic created
};

// `dir` empty: a fresh directory under the system's temporary directory,
// named after `bench`. Errors: kFailedPrecondition when `dir` exists and is
// not empty (a benchmark starts from nothing); the log's errors otherwise.
absl::StatusOr<Workspace> OpenWorkspace(std::string_view bench, const std::string& dir);

}  // namespace jaring::bench
