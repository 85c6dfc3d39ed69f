#include "libs/rules/internal/pkh_select.h"

#include <algorithm>

namespace jaring::rules::rules_internal {

bool IsChildKind(v1::PkhComponentKind kind) {
  return kind == v1::PKH_COMPONENT_KIND_EARLY_CHILD || kind == v1::PKH_COMPONENT_KIND_PRIMARY ||
         kind == v1::PKH_COMPONENT_KIND_JUNIOR_SECONDARY ||
         kind == v1::PKH_COMPONENT_KIND_SENIOR_SECONDARY;
}

bool IsUnderSixKind(v1::PkhComponentKind kind) { return kind == v1::PKH_COMPONENT_KIND_EARLY_CHILD; }

namespace {

struct Search {
  const std::vector<PkhPerson>& persons;
  const PkhLimits& limits;
  std::vector<int64_t> suffix_max;   // max option amount over persons[i..]
  std::vector<int> suffix_count;     // persons[i..] with at least one option
  std::vector<int> current;
  std::vector<int> best;
  int64_t best_total = 0;

  // Visits choices in lexicographic order of the award list (an option
  // before skipping the person, lower kinds first) and replaces the best
  // only on a strictly higher total, so the first best found wins ties.
  void Visit(size_t i, int64_t total, int count, int children, int under_six) {
    if (total > best_total) {
      best_total = total;
      best = current;
    }
    if (i == persons.size() || count >= limits.max_components) return;
    const int slots = std::min(limits.max_components - count, suffix_count[i]);
    if (total + slots * suffix_max[i] <= best_total) return;
    const std::vector<PkhOption>& options = persons[i].options;
    for (size_t k = 0; k < options.size(); ++k) {
      const bool child = IsChildKind(options[k].kind);
      const bool small = IsUnderSixKind(options[k].kind);
      if (child && children >= limits.max_children) continue;
      if (small && under_six >= limits.max_under_six) continue;
      current[i] = static_cast<int>(k);
      Visit(i + 1, total + options[k].amount, count + 1, children + (child ? 1 : 0),
            under_six + (small ? 1 : 0));
      current[i] = -1;
    }
    Visit(i + 1, total, count, children, under_six);
  }
};

}  // namespace

std::vector<int> SelectPkhComponents(const std::vector<PkhPerson>& persons, const PkhLimits& limits) {
  Search s{persons, limits, {}, {}, std::vector<int>(persons.size(), -1),
           std::vector<int>(persons.size(), -1), 0};
  s.suffix_max.assign(persons.size() + 1, 0);
  s.suffix_count.assign(persons.size() + 1, 0);
  for (size_t i = persons.size(); i-- > 0;) {
    int64_t m = 0;
    for (const PkhOption& o : persons[i].options) m = std::max(m, o.amount);
    s.suffix_max[i] = std::max(s.suffix_max[i + 1], m);
    s.suffix_count[i] = s.suffix_count[i + 1] + (persons[i].options.empty() ? 0 : 1);
  }
  s.Visit(0, 0, 0, 0, 0);
  return s.best;
}

}  // namespace jaring::rules::rules_internal
