// `jaring-bench audit`: oversight's tools measured in process, on the
// embedded log, with the raw limits beside them in the same run.
//
//   1. `families` synthetic family cards and `families * life_per_family`
//      life events (tools/bench/synthetic.h) appended to the log; the
//      eligibility service publishes rules/2026.1 and settles (a decision per
//      family and program that pays); the ledger opens a BPNT cycle for
//      every eligible family.
//   2. Replay: each of the population, eligibility and ledger stores built
//      as of now into a fresh directory (what `jaring replay` does), events
//      per second; raw limit: the same log read record by record without
//      decoding or applying.
//   3. The audit over the live stores: eligible on a date, entered and left,
//      payments without a living member, people in two places, cycle checks,
//      each as items scanned per second; raw limit: a plain RocksDB prefix
//      iteration over the same keys of the same store.
//   4. Eligible on a date with today's knowledge re-checked, over one
//      district: re-evaluations per second.
#pragma once

#include <cstdint>
#include <string>

namespace jaring::bench {

struct AuditBenchFlags {
  int64_t families = 100000;
  // Life events per family after the registry (DTSEN rounds, births, ...).
  int life_per_family = 3;
  uint64_t seed = 11;
  std::string rules;
  std::string dir;
  bool json = false;
};

int AuditBench(const AuditBenchFlags& flags);

}  // namespace jaring::bench
