// The fold of population events into a family's state: the single
// definition of what each event does to a family card. The live projection,
// point-in-time queries ("as known on", "as it was on") and rebuilds all use
// it, so they cannot disagree.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "jaring/v1/envelope.pb.h"
#include "jaring/v1/population.pb.h"

namespace jaring::family {

// Finds an earlier event of the same family by event_id (for corrections);
// returns null if unknown.
using EventLookup = std::function<const v1::Envelope*(std::string_view event_id)>;

// Applies `event` (keyed by the family's KK number) to `family`, which is
// empty before the family's first event. Deterministic. Increments
// family->version and sets updated_at_ms.
//
// Errors: kDataLoss when the event contradicts the state it is applied to in
// a way validation would have refused (e.g. a birth into an unregistered
// family); the projection runtime stops on it, naming the record.
absl::Status ApplyToFamily(const v1::Envelope& event, const EventLookup& lookup, v1::Family* family);

// The member with `nik` in `family`, or null.
v1::FamilyMember* FindMember(v1::Family& family, std::string_view nik);
const v1::FamilyMember* FindMember(const v1::Family& family, std::string_view nik);

// One event of a family and where it is on jaring.population.v1.
struct FamilyEvent {
  int32_t partition = 0;
  int64_t offset = -1;
  v1::Envelope event;
};

// The family folded from its events (in partition order), keeping only
// those that happened at or before `as_of_ms` (all when nullopt); the
// caller filters by recorded_at for "as known at". `*last` (if given) is set
// to the last event folded. nullopt when the family was not registered then.
// Corrections find their target among `events`.
absl::StatusOr<std::optional<v1::Family>> FoldAsOf(const std::vector<FamilyEvent>& events,
                                                    std::optional<int64_t> as_of_ms,
                                                    const FamilyEvent** last = nullptr);

}  // namespace jaring::family
