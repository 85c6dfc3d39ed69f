// The fold of population events into a family's state: the single
// definition of what each event does to a family card. The live projection,
// point-in-time queries ("as known on", "as it was on") and rebuilds all use
// it, so they cannot disagree.
#pragma once

#include <functional>
#include <string_view>

#include "absl/status/status.h"
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

}  // namespace jaring::family
