// The eligibility service's projection: its own copy of every family (folded
// from jaring.population.v1 with the one shared fold), every published rule
// set (jaring.rules.v1), and every decision it has recorded
// (jaring.eligibility.v1). Reading its own output back is what makes
// decisions exactly-once: whatever reached the log is in the store after a
// restart, so re-deriving it finds nothing to append (docs/eligibility.md).
//
// Key layout (docs/formats/eligibility-store.md):
//   f/<kk>                          v1::Family, folded
//   t/<kk>                          v1::FamilyTimeline (its h/ keys, for
//                                   re-folding after a late report)
//   k/<kk>                          the family for the compact evaluator and
//                                   the digests of its recorded decisions
//                                   (outcome.h)
//   p/<kk>                          position of the family's last event:
//                                   BE32 partition, BE64 offset
//   h/<kk>/<BE32 p><BE64 o>         the family's population envelopes (as-of)
//   g/<region code>/<kk>            "" (families by region)
//   c/<BE32 p><BE64 o>              <kk>: changes not yet evaluated (the
//                                   deriver deletes them once evaluated)
//   i/<event id>                    "" (every event applied: drops a record a
//                                   retried append stored twice)
//   R/<BE64 offset>                 RuleSetPublished envelope
//   d/<kk>/<program>                the family's current recorded decision
//                                   (EligibilityDecided envelope)
//   v/<kk>/<program>/<BE64 version> every recorded decision
//   b/<program>/<region>/<kk>       v1::Beneficiary (recorded eligible)
//   x/...                           the deriver's own progress (never
//                                   written by the applier)
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "jaring/v1/eligibility_service.pb.h"
#include "jaring/v1/envelope.pb.h"
#include "libs/family/fold.h"
#include "libs/projection/projection.h"
#include "libs/rules/rules.h"

namespace rocksdb {
class DB;
class Snapshot;
}  // namespace rocksdb

namespace jaring::eligibility {

namespace keys {
std::string Family(std::string_view kk);
std::string Timeline(std::string_view kk);
inline constexpr std::string_view kCompactPrefix = "k/";
std::string Compact(std::string_view kk);
std::string Position(std::string_view kk);
std::string HistoryPrefix(std::string_view kk);
std::string History(std::string_view kk, int32_t partition, int64_t offset);
std::string RegionPrefix(std::string_view region_prefix);
std::string Region(std::string_view region, std::string_view kk);
inline constexpr std::string_view kChangePrefix = "c/";
std::string Change(int32_t partition, int64_t offset);
std::string EventSeen(std::string_view event_id);
inline constexpr std::string_view kRulePrefix = "R/";
std::string Rule(int64_t offset);
std::string DecisionPrefix(std::string_view kk);
std::string Decision(std::string_view kk, std::string_view program);
std::string VersionPrefix(std::string_view kk);
std::string Version(std::string_view kk, std::string_view program, int64_t version);
std::string BeneficiaryPrefix(std::string_view program, std::string_view region_prefix);
std::string Beneficiary(std::string_view program, std::string_view region, std::string_view kk);
}  // namespace keys

// The position of a family's last population event.
struct FamilyPosition {
  int32_t partition = 0;
  int64_t offset = -1;
};
std::string EncodePosition(const FamilyPosition& p);
std::optional<FamilyPosition> DecodePosition(std::string_view bytes);

// Applies the three topics. Deterministic per partition, whatever the
// interleaving of partitions and topics: every key it writes depends on one
// family's partition, or on the rules topic's single partition.
class EligibilityApplier final : public projection::Applier {
 public:
  absl::Status Apply(const projection::Event& event, projection::Batch& batch) override;

 private:
  absl::Status ApplyPopulation(const projection::Event& event, projection::Batch& batch);
  absl::Status ApplyDecision(const projection::Event& event, projection::Batch& batch);
};

// One published rule set as the store holds it.
struct PublishedRules {
  std::string event_id;
  int64_t offset = 0;
  int64_t recorded_at_ms = 0;
  int64_t effective_from_ms = 0;
  std::string hash;
  v1::RuleSet rules;
};

// Every published rule set, oldest first.
absl::StatusOr<std::vector<std::shared_ptr<const PublishedRules>>> LoadPublishedRules(rocksdb::DB* db);

// The rule set in force at `at_ms` as known at `known_at_ms`: among those
// recorded at or before known_at_ms whose effective_from is at or before
// at_ms, the one with the latest effective_from (the later published on a
// tie). Null when none.
std::shared_ptr<const PublishedRules> RuleSetInForce(
    const std::vector<std::shared_ptr<const PublishedRules>>& published, int64_t at_ms, int64_t known_at_ms);

using family::FamilyEvent;

// A family's population events in partition order, optionally only those
// recorded at or before `known_at_ms`.
absl::StatusOr<std::vector<FamilyEvent>> FamilyEvents(rocksdb::DB* db, const rocksdb::Snapshot* snapshot,
                                                      std::string_view kk, std::optional<int64_t> known_at_ms);

// family::FoldAsOf, with the position of the last event folded.
absl::StatusOr<std::optional<v1::Family>> FoldFamily(const std::vector<FamilyEvent>& events,
                                                      std::optional<int64_t> as_of_ms,
                                                      FamilyPosition* last = nullptr);

// What Beneficiary.components counts for a decision: PKH, the components
// awarded; PBI-JK, the members covered.
int32_t BeneficiaryComponents(const v1::Decision& d);

// The recorded decision (EligibilityDecided envelope) at `key`, if any.
absl::StatusOr<std::optional<v1::Envelope>> ReadEnvelope(rocksdb::DB* db, const rocksdb::Snapshot* snapshot,
                                                         std::string_view key);

}  // namespace jaring::eligibility
