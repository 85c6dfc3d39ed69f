// The eligibility evaluator: a family's state and a rule set in, one
// decision per program out. Pure and deterministic: the same family, rules,
// date and options always give the same decisions, byte for byte. It reads
// no clock, no environment and no global state, and is safe to call from
// any number of threads at once.
#pragma once

#include <string_view>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/types/span.h"
#include "jaring/v1/eligibility.pb.h"
#include "jaring/v1/population.pb.h"
#include "jaring/v1/rules.pb.h"

namespace jaring::rules {

// Whether a family receives a program at the evaluation date, as known to
// the caller (its decision in force there).
struct ProgramReceipt {
  std::string_view program;
  bool receiving = false;
};

struct EvaluateOptions {
  // The rule set's content hash to stamp on decisions. Empty: computed with
  // ContentHash(rules) on every call (a SHA-256 of the whole rule set), so
  // callers that evaluate many families pass the hash they hold.
  std::string_view rule_hash;
  // When false, decisions carry no clauses (explain); every other field is
  // the same. For bulk re-evaluation.
  bool explain = true;
  // Receipts for excluded_if_receiving. A program named here is taken as
  // received (or not) as given; any other program a rule reads is received
  // when this evaluation's final decision for it is eligible, which is the
  // decision the eligibility engine records for that date (docs/rules.md
  // "Exclusions"). The engine passes none. For what-if questions and for
  // receipts known outside these rules; the compact path (compact.h) has
  // no such input.
  absl::Span<const ProgramReceipt> receipts;
};

// Evaluates every program of `rules` for `family` at `as_of` and returns one
// decision per program, in the order of rules.programs(). `rules` must have
// passed ValidateRuleSet; for a rule set that did not, the decisions are
// unspecified (but the call does not crash).
//
// - Ages are completed years at `as_of` from birth_date (a birthday on
//   29 February falls on 1 March in other years). Only alive members count.
// - The decile and DTSEN round are those of family.latest_assessment(); a
//   family without an assessment (decile outside 1-10) is eligible for no
//   program (NO_ASSESSMENT).
// - Programs are evaluated in dependency order of excluded_if_eligible_for
//   and excluded_if_receiving, so a program's exclusions see the final
//   decisions of this evaluation.
// - A program with a region condition is only for families whose region
//   code meets it (REGION_NOT_COVERED).
// - Stages cover the calendar year of `as_of`.
// - `inputs` is left empty: the caller knows which records it read.
std::vector<v1::Decision> Evaluate(const v1::Family& family, const v1::RuleSet& rules,
                                   absl::CivilDay as_of, const EvaluateOptions& options = {});

// Age in completed years at `as_of`, or -1 when the birth date is missing,
// invalid or after `as_of`.
int AgeInYears(const v1::Date& birth_date, absl::CivilDay as_of);

}  // namespace jaring::rules
