// Folding a population event into a projection's batch: the part that every
// service keeping its own copy of the families shares (population,
// eligibility, appeals, ledger).
//
// Incremental, and equal to a from-scratch fold (fold.h) after every event:
// an event that is the family's latest in event time is folded on top of
// the stored family; a late one (an effective time before what the family
// already holds) or a correction re-folds this family alone from its stored
// events, in event-time order. The family's timeline (v1::FamilyTimeline)
// lists where each of its events is stored, so a re-fold reads only them.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "jaring/v1/population.pb.h"
#include "libs/projection/projection.h"

namespace jaring::family {

struct FoldKeys {
  std::string family;    // v1::Family, folded
  std::string timeline;  // v1::FamilyTimeline of the family
  // Where the caller stores this event (it writes it after the call); a
  // re-fold reads the family's earlier events from their keys.
  std::string event;
};

// Turns the bytes a caller stored at a timeline key back into the event
// (false if they do not parse). Unset: the bytes are the envelope itself.
using StoredEventParser = std::function<bool(std::string_view bytes, v1::Envelope* out)>;

struct Folded {
  v1::Family* family = nullptr;  // in the batch
  // The event arrived out of event-time order (or corrects an earlier one),
  // so the family was re-folded from its history: a late report.
  bool refolded = false;
};

// Folds `event` into the family at `keys.family` (empty before its first
// event) and appends it to the family's timeline. Errors: kDataLoss when a
// stored event of the family is missing or does not parse, or `event` is not
// a population event.
absl::StatusOr<Folded> FoldIntoBatch(const projection::Event& event, projection::Batch& batch, const FoldKeys& keys,
                                     const StoredEventParser& parse = {});

// Whether `e`, appended now, would fold on top of the family as its latest
// event (false: a late report or a correction, which re-folds the family).
bool FoldsAsLatest(const v1::FamilyTimeline& timeline, const v1::Envelope& e);

// Whether `last_event`, the family's latest event in log order, was a late
// report: its effective time is before the latest one the family holds.
bool LastWasLate(const v1::FamilyTimeline& timeline, const v1::Envelope& last_event);

}  // namespace jaring::family
