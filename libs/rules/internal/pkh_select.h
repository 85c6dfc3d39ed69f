// The PKH component optimiser: each person counts at most once, and the
// family gets the allowed combination with the highest yearly total.
#pragma once

#include <cstdint>
#include <vector>

#include "jaring/v1/rules.pb.h"

namespace jaring::rules::rules_internal {

struct PkhOption {
  v1::PkhComponentKind kind;
  int64_t amount;  // > 0
};

// One living member's candidate components, in ascending kind order.
struct PkhPerson {
  std::vector<PkhOption> options;
};

struct PkhLimits {
  int max_components = 0;
  // EARLY_CHILD and the school kinds.
  int max_children = 0;
  // EARLY_CHILD.
  int max_under_six = 0;
};

bool IsChildKind(v1::PkhComponentKind kind);
bool IsUnderSixKind(v1::PkhComponentKind kind);

// Chooses at most one option per person so that the caps hold and the total
// is the highest. Ties go to the combination whose awards, listed in person
// order as (person, kind), are lexicographically smallest: earlier persons
// first, then lower kind numbers. Callers order persons by NIK, which makes
// the tie-break independent of the order of members on the card.
// Returns, per person, the index of the chosen option or -1.
// Exhaustive depth-first search with a bound; the number of components is
// capped, so the work stays small for any real family.
std::vector<int> SelectPkhComponents(const std::vector<PkhPerson>& persons, const PkhLimits& limits);

}  // namespace jaring::rules::rules_internal
