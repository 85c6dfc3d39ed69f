// The fold of population events into a family's state: the single
// definition of what each event does to a family card, and in which order.
// The live projections, point-in-time queries ("as known on", "as it was
// on") and rebuilds all use it, so they cannot disagree.
//
// Order (design.md, "Time and order"; docs/events.md, "Event time"): the
// events of a family fold in event-time order, not in the order they were
// reported. Precisely, for the events of one family in log order:
//
//   1. The family exists from its first FamilyRegistered in log order, at
//      that event's occurred_at (R). Events before it in log order cannot
//      apply (nothing to apply them to): each is a recorded conflict.
//   2. Every other event has the effective time max(occurred_at, R): an
//      event cannot take effect before the card it changes existed.
//   3. Events fold by (effective time, occurred_at, log position), the
//      registration first. So a DTSEN round or a pregnancy reported late
//      takes its place where it happened, and a newer fact reported earlier
//      stays the latest, even when both are dated before the registration.
//   4. A correction (RecordCorrected) applies immediately after the event
//      it corrects, wherever that event falls, and as of any date at which
//      that event applies: it says what the event should have said. A
//      retraction removes the birth or death it retracts from the fold
//      altogether. A correction whose target is not an earlier event of
//      the family is a conflict.
//   5. An event that contradicts the state it folds into (a death of a
//      person not in the card, a second registration, a new head who is not
//      a member) changes nothing and is recorded in Family.conflicts with
//      the reason. The fold never fails on a contradiction: the log cannot
//      be edited, so a reader that stopped on one would stop for good.
//
// Family.version counts the family's events folded (conflicts included),
// Family.updated_at_ms is the latest recorded_at among them.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "jaring/v1/envelope.pb.h"
#include "jaring/v1/population.pb.h"

namespace jaring::family {

// The member with `nik` in `family`, or null.
v1::FamilyMember* FindMember(v1::Family& family, std::string_view nik);
const v1::FamilyMember* FindMember(const v1::Family& family, std::string_view nik);

// occurred_at of `e`, ms since epoch.
int64_t OccurredMs(const v1::Envelope& e);

// The effective event time (rule 2) of an event with occurred_at
// `occurred_ms` in a family registered at `registered_ms` (nullopt: not
// registered).
inline int64_t EffectiveMs(int64_t occurred_ms, std::optional<int64_t> registered_ms) {
  return registered_ms && *registered_ms > occurred_ms ? *registered_ms : occurred_ms;
}

// Where an event sorts in the fold (rule 3, without the log position that
// breaks the remaining ties).
struct FoldKey {
  int64_t effective_ms = 0;
  int64_t occurred_ms = 0;  // the registration sorts first at its time
  friend bool operator<(const FoldKey& a, const FoldKey& b) {
    return a.effective_ms != b.effective_ms ? a.effective_ms < b.effective_ms : a.occurred_ms < b.occurred_ms;
  }
};
FoldKey FoldKeyOf(const v1::Envelope& e, std::optional<int64_t> registered_ms);

// Folds `e` into `family` as the family's latest event in event time and in
// log order (the incremental path). `e` must not be a RecordCorrected
// (corrections re-fold: FoldAsOf). A contradiction is recorded as a
// conflict. Errors: kDataLoss when `e` is not a population event at all
// (an event on the wrong topic: bytes the fold cannot interpret).
absl::Status FoldLatest(const v1::Envelope& e, v1::Family* family);

// One event of a family and where it is on jaring.population.v1.
struct FamilyEvent {
  int32_t partition = 0;
  int64_t offset = -1;
  v1::Envelope event;
};

// The family folded from its events (given in log order), keeping those
// whose effective time is at or before `as_of_ms` (all when nullopt); the
// caller filters by recorded_at for "as known at". `*last` (if given) is set
// to the folded event latest in log order. nullopt when the family was not
// registered at `as_of_ms`. Errors: as FoldLatest.
absl::StatusOr<std::optional<v1::Family>> FoldAsOf(const std::vector<FamilyEvent>& events,
                                                    std::optional<int64_t> as_of_ms,
                                                    const FamilyEvent** last = nullptr);

// The same over envelopes only (log order).
absl::StatusOr<std::optional<v1::Family>> FoldEnvelopes(const std::vector<const v1::Envelope*>& events,
                                                         std::optional<int64_t> as_of_ms, size_t* last = nullptr);

// Every event (log order), unregistered (kk_number empty, conflicts only)
// when no registration is among them: what a projection stores for the
// family after a re-fold.
absl::StatusOr<v1::Family> FoldAll(const std::vector<const v1::Envelope*>& events);

}  // namespace jaring::family
