// The compact re-evaluation path: a flat encoding of what the rules read
// from a family, a rule set compiled for it, and the outcome of every
// program as a small comparable value.
//
// The eligibility service re-evaluates every family whenever a rule set
// takes effect or the date changes, and appends a decision only when a
// family's outcome changed. Evaluate() (evaluate.h) is the reference but
// builds full Decision protos (reasons in two languages, stages); this path
// computes only the outcome, without allocating per family, and is held to
// the reference by a property test (compact_test.cc):
//
//   for any family, any rule set that passed ValidateRuleSet and any date,
//   CompiledRules::Evaluate(view of EncodeCompactFamily(family), as_of)
//     == OutcomeFromDecisions(Evaluate(family, rules, as_of)).
//
// Typical use (one thread per shard; every object below is reused):
//
//   JARING_ASSIGN_OR_RETURN(CompiledRules compiled, CompiledRules::Compile(rules));
//   CompactFamilyView view;
//   Outcome outcome;
//   std::string encoded;
//   for (each stored family value `v` and stored outcome `old`) {
//     if (!view.Parse(v)) ...;              // corrupt record
//     compiled.Evaluate(view, as_of, &outcome);
//     EncodeOutcome(outcome, &encoded);
//     if (encoded != old) ...;              // the outcome changed: append a decision
//   }
//
// Formats (integers are LEB128 varints, signed ones zigzag-encoded, with no
// redundant bytes; strings are a varint length and the bytes):
//
//   family   := 0x01 kk round region decile:u8 count:varint member*
//     round    the DTSEN round of latest_assessment; "" without an assessment
//     decile   latest_assessment's decile when it is 1-10, else 0 (no assessment)
//     members  in byte order of their NIK, card order among equal NIKs (the
//              order in which the evaluator considers them); a NIK listed
//              twice is two members, as in the evaluator
//   member   := nik flags:u8 [birth:zigzag] sex:zigzag relationship:zigzag
//               disability:zigzag school_level:zigzag pregnancy_order:zigzag
//     flags    bit 0 alive, bit 1 birth date valid (then `birth` follows: days
//              since 1970-01-01), bit 2 school_enrolled, bit 3 pregnant; other
//              bits zero. An unset optional attribute is stored as 0 (false),
//              which is how the evaluator reads it. sex and relationship are
//              not read by today's rules; they are kept so that a rule on
//              them needs no new format.
//
//   outcome  := 0x01 count:varint program*
//   program  := program_id flags:u8 reason:zigzag yearly_amount:zigzag
//               awards:varint award*           (flags bit 0: eligible)
//   award    := kind:zigzag member_nik yearly_amount:zigzag
//
// Both encodings are canonical: equal values give equal bytes, so a stored
// outcome can be compared with a new one byte for byte.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/types/span.h"
#include "jaring/v1/eligibility.pb.h"
#include "jaring/v1/population.pb.h"
#include "jaring/v1/rules.pb.h"

namespace jaring::rules {

// The first byte of an encoded family and of an encoded outcome.
inline constexpr uint8_t kCompactFamilyVersion = 1;
inline constexpr uint8_t kOutcomeVersion = 1;

// ---------------------------------------------------------------- family

// Encodes what the rules read from `family` (format above). Pure; never
// fails: a missing or invalid birth date (30 February, year 0) is stored as
// unknown, as AgeInYears() reads it.
std::string EncodeCompactFamily(const v1::Family& family);

// One member of a parsed family. `nik` points into the parsed buffer.
struct CompactMember {
  std::string_view nik;
  // Days since 1970-01-01; kUnknownBirth when the birth date is missing or
  // invalid.
  int64_t birth_days = 0;
  int32_t sex = 0;           // v1::Sex value
  int32_t relationship = 0;  // v1::Relationship value
  int32_t disability = 0;    // v1::Disability value, 0 when unset
  int32_t school_level = 0;  // v1::SchoolLevel value, 0 when unset
  int32_t pregnancy_order = 0;  // 0 when unset
  bool alive = false;
  bool school_enrolled = false;  // set and true
  bool pregnant = false;         // set and true
};

inline constexpr int64_t kUnknownBirth = INT64_MAX;

// A parsed encoded family. Parse() decodes in place: the strings and NIKs
// point into the buffer given, which must outlive every use of the view
// until the next Parse(). The member table is reused, so once it has grown
// to the largest family, Parse() allocates nothing.
// Not thread-safe: one view per thread.
class CompactFamilyView {
 public:
  // Returns false (and leaves the view empty) when `encoded` is not a
  // well-formed family of kCompactFamilyVersion: truncated, trailing bytes,
  // unknown flag bits, decile above 10, members out of NIK order.
  bool Parse(std::string_view encoded);

  std::string_view kk_number() const { return kk_number_; }
  std::string_view region_code() const { return region_code_; }
  // The DTSEN round of the assessment; "" without one.
  std::string_view dtsen_round() const { return dtsen_round_; }
  // 1-10, or 0 when the family has no assessment.
  int decile() const { return decile_; }
  // In NIK order (card order among equal NIKs).
  absl::Span<const CompactMember> members() const { return members_; }
  int living_members() const { return living_; }

 private:
  std::string_view kk_number_, region_code_, dtsen_round_;
  int decile_ = 0;
  int living_ = 0;
  std::vector<CompactMember> members_;
};

// ---------------------------------------------------------------- outcome

// A PKH component awarded to one member.
struct OutcomeAward {
  v1::PkhComponentKind kind = v1::PKH_COMPONENT_KIND_UNSPECIFIED;
  int64_t yearly_amount = 0;
  // The member's NIK: Outcome::nik(award).
  uint32_t nik_offset = 0;
  uint32_t nik_size = 0;
};

// What one program decided for the family.
struct ProgramOutcome {
  // The program_id: Outcome::program_id(program).
  uint32_t id_offset = 0;
  uint32_t id_size = 0;
  bool eligible = false;
  int64_t yearly_amount = 0;
  // The code of the decision's first reason (ELIGIBLE, NO_COMPONENT,
  // EXCLUDED_BY_PROGRAM, DECILE_ABOVE_LIMIT, ...).
  v1::ReasonCode reason = v1::REASON_CODE_UNSPECIFIED;
  // Outcome::awards[first_award, first_award + award_count): the awarded
  // components in the decision's order (NIK order). PKH only.
  uint32_t first_award = 0;
  uint32_t award_count = 0;
};

// The outcome of one family under one rule set: per program, in rule-set
// order, what a decision's money depends on. Two outcomes are equal when
// every program has the same id, eligibility, yearly amount, first reason
// code and awards (kind, member NIK, yearly amount), in the same order.
// Stages (their layout follows the rules and the year of the date), reason
// sentences, the PBI-JK priority, decile, round and rule version are not
// part of it. A value type; Clear() keeps the capacity for reuse.
struct Outcome {
  std::vector<ProgramOutcome> programs;
  std::vector<OutcomeAward> awards;
  // Program ids and award NIKs, referred to by offset.
  std::string text;

  std::string_view program_id(const ProgramOutcome& p) const {
    return std::string_view(text).substr(p.id_offset, p.id_size);
  }
  std::string_view nik(const OutcomeAward& a) const {
    return std::string_view(text).substr(a.nik_offset, a.nik_size);
  }
  absl::Span<const OutcomeAward> awards_of(const ProgramOutcome& p) const {
    return absl::MakeConstSpan(awards).subspan(p.first_award, p.award_count);
  }
  void Clear() {
    programs.clear();
    awards.clear();
    text.clear();
  }
};

bool operator==(const Outcome& a, const Outcome& b);
inline bool operator!=(const Outcome& a, const Outcome& b) { return !(a == b); }

// Replaces `*dst` with the canonical encoding of `outcome` (format above);
// reuses its capacity.
void EncodeOutcome(const Outcome& outcome, std::string* dst);
std::string EncodeOutcome(const Outcome& outcome);

// Decodes an encoded outcome into `*out` (reusing its capacity).
// kInvalidArgument naming the field when `encoded` is not a well-formed,
// canonical outcome of kOutcomeVersion ("outcome: programs[1].awards[0].nik:
// truncated"); `*out` is then unspecified.
absl::Status DecodeOutcome(std::string_view encoded, Outcome* out);

// The outcome of decisions made by the reference Evaluate() (or stored by
// the service), in their order: what the service stores for the decisions
// it appended.
void OutcomeFromDecisions(absl::Span<const v1::Decision> decisions, Outcome* out);
Outcome OutcomeFromDecisions(absl::Span<const v1::Decision> decisions);

// ---------------------------------------------------------------- rules

// A rule set compiled for the compact path: program order with exclusions
// resolved, PKH components sorted by kind with their age bounds, PBI-JK
// coverage by decile. Immutable after Compile(); Evaluate() may be called
// from any number of threads at once. Independent of the RuleSet it was
// compiled from (which may be destroyed).
class CompiledRules {
 public:
  // Errors: kInvalidArgument when `rules` does not pass ValidateRuleSet (the
  // same message).
  static absl::StatusOr<CompiledRules> Compile(const v1::RuleSet& rules);

  // Replaces `*out` with the outcome of `family` at `as_of`: equal to
  // OutcomeFromDecisions(Evaluate(family, rules, as_of)) for the family the
  // view was encoded from. Allocates nothing once `out` has the capacity of
  // an earlier outcome of this rule set, unless the family has more than
  // 64 members with a PKH candidate component. When each PKH candidate at
  // their highest amount fits the caps (almost every family) that is the
  // award; otherwise the reference's depth-first search runs, whose work
  // grows with the number of candidates to the power max_components (a
  // card of 200 candidates under caps of 4 takes about 0.3 s).
  void Evaluate(const CompactFamilyView& family, absl::CivilDay as_of, Outcome* out) const;

  size_t program_count() const { return programs_.size(); }
  // Rule-set order.
  std::string_view program_id(size_t i) const;

  // Ages (completed years) the compiled bounds can compare with: 0-150 and
  // a maximum + 1.
  static constexpr int kMaxThresholdAge = 151;

 private:
  enum class Type : uint8_t { kNone, kPkh, kMonthly, kPbiJk };
  // What a PKH component tests besides the age bounds.
  enum class Test : uint8_t { kNone, kPregnancy, kDisability, kSchool };
  struct Component {
    v1::PkhComponentKind kind = v1::PKH_COMPONENT_KIND_UNSPECIFIED;
    int64_t amount = 0;
    Test test = Test::kNone;
    // With age bounds: the birth date must be on or before the threshold
    // of threshold_ages_[lo] (age >= min, or at least a known age) and, when
    // hi >= 0, after that of threshold_ages_[hi] (age <= max).
    bool bounded = false;
    int lo = -1;
    int hi = -1;
    int32_t school_level = 0;
    bool enrolment_required = false;
    bool child = false;      // counts for max_children
    bool under_six = false;  // counts for max_under_six
  };
  struct Program {
    uint32_t id_offset = 0;
    uint32_t id_size = 0;
    Type type = Type::kNone;
    int max_decile = 0;  // PKH, BPNT, BLT-DD
    int64_t monthly_amount = 0;  // BPNT, BLT-DD
    int64_t premium_monthly = 0;  // PBI-JK
    bool covered[11] = {};       // PBI-JK, by decile
    // PKH: components in ascending kind order (the optimiser's order).
    std::vector<Component> components;
    int max_components = 0, max_children = 0, max_under_six = 0, max_pregnancy_order = 0;
    // Programs (rule-set indexes, evaluated before this one) whose
    // eligibility (EXCLUDED_BY_PROGRAM) or receipt (RECEIVING_PROGRAM)
    // excludes this one, in the order of the reasons the evaluator gives.
    std::vector<std::pair<int, v1::ReasonCode>> excluded_by;
    // The region condition, when the program has one.
    bool has_region = false;
    v1::RegionCondition region;
  };

  struct Search;  // the PKH optimiser

  CompiledRules() = default;
  void EvaluatePkh(const Program& p, const CompactFamilyView& family, const int64_t* thresholds,
                   Outcome* out, ProgramOutcome* po) const;

  std::vector<Program> programs_;  // rule-set order
  std::vector<int> order_;         // evaluation order (dependency order of exclusions)
  // Distinct ages (completed years) that component bounds compare with;
  // components refer to them by index.
  std::vector<int> threshold_ages_;
  // Every program id, concatenated in rule-set order: Outcome::text starts
  // with it.
  std::string ids_text_;
};

}  // namespace jaring::rules
