// `jaring-bench reeval`: full re-evaluation of every family under a rule
// set, the eligibility service's job when a rule set takes effect or the
// date changes, with the raw RocksDB iteration limit beside it.
//
// One run, single-threaded, bounded (the working directory is a temporary
// one, removed at the end, unless --dir names one):
//   1. `families` synthetic families (a small deterministic generator here:
//      2-7 members, ages, schools, pregnancies, disabilities, deciles 1-10
//      weighted toward the poorer ones), at 15 March 2026, under the rule set
//      in `rules_dir` (rules/2026.1 by default).
//   2. Reference: libs/rules Evaluate() with explain = false over the first
//      `reference_families` of them, and a check that the compact outcome of
//      each equals the reference's (a mismatch fails the run).
//   3. Compact in memory: CompactFamilyView::Parse, CompiledRules::Evaluate
//      and EncodeOutcome over every pre-encoded family.
//   4. Through RocksDB: the encodings under k/<kk> in a fresh RocksDB
//      (DIR/reeval, flushed and compacted), then passes that merge-join
//      k/ and o/ with two iterators, decode, evaluate, compare with the
//      stored outcome and write the outcomes that changed to o/<kk>:
//      pass 1 with no outcome stored (every family changes), pass 2 after a
//      rule change (PKH max_decile one lower: 4 -> 3), pass 3 with the same
//      rules again (nothing changes). The store is flushed and compacted
//      between passes (untimed), and read once before pass 3 so that pass 3
//      and the raw pass find the same warm block cache.
//   5. Raw limit: the same two iterators over the same keys, no decoding.
//
// Not thread-safe; call from main.
#pragma once

#include <cstdint>
#include <string>

namespace jaring::bench {

struct ReevalFlags {
  int64_t families = 1000000;
  uint64_t seed = 42;
  // Families the (slower) reference evaluator runs over: the first ones.
  int64_t reference_families = 100000;
  // A rule set directory (or file); empty: rules/2026.1 of the source tree.
  std::string rules;
  std::string dir;  // empty: a temporary directory, removed
  bool json = false;
};

// Runs the benchmark and prints the figures (or one JSON object) to stdout.
// Returns the process exit code: 0 on success, 1 when a step failed or the
// compact path disagreed with the reference (the error on stderr), 2 for
// bad flags.
int ReevalBench(ReevalFlags flags);

}  // namespace jaring::bench
