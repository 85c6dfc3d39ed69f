// `jaring-bench eligibility`: the eligibility service measured in process,
// on the embedded log, with the raw limit beside it in the same run.
//
//   1. An embedded log (all topics) in DIR/log; `families` synthetic family
//      cards and their life events (tools/bench/synthetic.h) appended
//      directly, as the population service would have.
//   2. Catch-up: EligibilityServiceImpl opened on an empty store, reading
//      every population event (events/s).
//   3. Full re-evaluation through the service: the rule set published, then
//      the engine settled by hand (families/s, decisions appended), the
//      path a rule set taking effect follows.
//   4. Event to decision: the engine running on its own thread; one
//      reassessment at a time that changes BPNT eligibility is appended, and
//      the time until its decision is on the log is measured (p50, p99,
//      max). Beside it: the durable single-record append alone (the floor of
//      the event-to-decision delay: the event's append plus the decision's).
#pragma once

#include <cstdint>
#include <string>

namespace jaring::bench {

struct EligibilityBenchFlags {
  int64_t families = 100000;
  // Reassessments timed one at a time.
  int latency_events = 1000;
  uint64_t seed = 7;
  // Rule set directory; default: the repository's rules/2026.1.
  std::string rules;
  std::string dir;
  bool json = false;
};

int EligibilityBench(const EligibilityBenchFlags& flags);

}  // namespace jaring::bench
