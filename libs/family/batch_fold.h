// Folding a population event into a projection's batch: the part that every
// service keeping its own copy of the families shares (eligibility, ledger).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "jaring/v1/population.pb.h"
#include "libs/projection/projection.h"

namespace jaring::family {

// Folds `event` into the family stored at `family_key` in `batch` (a
// v1::Family message, empty before the family's first event) and returns
// it. A correction finds the event it corrects through the store: the value
// at `seen_key(corrected id)` is the key of that event's stored envelope
// (each service writes both when it applies an event). The caller writes
// the event's own history and seen keys.
absl::StatusOr<v1::Family*> FoldIntoBatch(const projection::Event& event, projection::Batch& batch,
                                          const std::string& family_key,
                                          const std::function<std::string(std::string_view)>& seen_key);

}  // namespace jaring::family
