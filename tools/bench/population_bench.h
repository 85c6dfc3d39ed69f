// `jaring-bench population`: the population service measured end to end
// through gRPC, with the raw limits beside it in the same run.
//
// One run, bounded (every step ends by itself; the working directory is a
// temporary one, removed at the end, unless --dir names one):
//   1. An embedded log in DIR/log (jaring.population.v1, 8 partitions), the
//      PopulationServiceImpl on DIR/store, a gRPC server on 127.0.0.1:0 and
//      client stubs over loopback, all in this process.
//   2. A synthetic region (tools/synth) of `families` family cards and
//      `months` of life, generated before anything is timed.
//   3. Import: the registry through the Import stream, one ImportRequest per
//      family, then {end: true}. One event per family.
//   4. Life: the life commands through their RPCs from `clients` threads,
//      each with its own channel (own TCP connection). Commands are split by
//      the family they act on (a split's new family stays with its parent),
//      so a family's commands keep their order; a command that depends on
//      another thread's (a member moved in from a family handled elsewhere)
//      may be rejected and is counted, not retried.
//   5. Rebuild: the service stopped, projection::Rebuild with the population
//      applier into DIR/rebuild.
//   6. Raw limits: plain RocksDB WriteBatch puts (one per event in the log,
//      family keys, values of the average family record size), and one
//      record per embedded-log Append with fsync, sequentially, for latency.
//
// Not thread-safe; call from main.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace jaring::bench {

struct PopulationFlags {
  // Regency/city code of the synthetic region (tools/synth KnownRegions()).
  std::string region = "52.71";
  int64_t families = 130000;
  int months = 3;
  uint64_t seed = 42;
  // Concurrent client threads for the life commands.
  int clients = 8;
  // Send only the first N life commands (0: all generated).
  int64_t max_commands = 0;
  // Sequential single-record Appends for the raw latency figure.
  int64_t raw_appends = 2000;
  // Puts per raw WriteBatch.
  size_t raw_batch = 1000;
  // Per-RPC deadline of a life command, seconds.
  double command_deadline_s = 60;
  std::string dir;  // empty: a temporary directory, removed
  bool json = false;
};

// Runs the benchmark and prints the figures (or one JSON object) to stdout.
// Returns the process exit code: 0 on success, 1 when a step failed (the
// error on stderr), 2 for bad flags.
int PopulationBench(PopulationFlags flags);

}  // namespace jaring::bench
