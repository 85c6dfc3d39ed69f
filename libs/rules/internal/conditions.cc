#include "libs/rules/internal/conditions.h"

#include <string>

namespace jaring::rules::rules_internal {
namespace {

bool Digits(std::string_view s) {
  for (char ch : s) {
    if (ch < '0' || ch > '9') return false;
  }
  return true;
}

// The widths of the dotted parts of a region code: province, regency/city,
// district, village.
constexpr size_t kPartWidth[] = {2, 2, 2, 4};

}  // namespace

bool IsRegionPrefix(std::string_view prefix) {
  size_t part = 0;
  for (;;) {
    if (part == 4) return false;
    const size_t dot = prefix.find('.');
    const std::string_view head = prefix.substr(0, dot);
    if (head.size() != kPartWidth[part] || !Digits(head)) return false;
    if (dot == std::string_view::npos) return true;
    prefix.remove_prefix(dot + 1);
    ++part;
  }
}

bool RegionWithin(std::string_view code, std::string_view prefix) {
  if (prefix.empty() || code.substr(0, prefix.size()) != prefix) return false;
  return code.size() == prefix.size() || code[prefix.size()] == '.';
}

v1::VillageType VillageTypeOf(std::string_view code) {
  // "PP.RR.DD.VVVV": 13 characters, the village part from index 9.
  if (code.size() != 13 || !IsRegionPrefix(code)) return v1::VILLAGE_TYPE_UNSPECIFIED;
  switch (code[9]) {
    case '1':
      return v1::VILLAGE_TYPE_KELURAHAN;
    case '2':
      return v1::VILLAGE_TYPE_DESA;
    default:
      return v1::VILLAGE_TYPE_UNSPECIFIED;
  }
}

bool RegionMeets(const v1::RegionCondition& condition, std::string_view code) {
  if (condition.village_type() != v1::VILLAGE_TYPE_UNSPECIFIED &&
      VillageTypeOf(code) != condition.village_type()) {
    return false;
  }
  if (condition.region_prefixes().empty()) return true;
  for (const std::string& prefix : condition.region_prefixes()) {
    if (RegionWithin(code, prefix)) return true;
  }
  return false;
}

std::vector<int> EvaluationOrder(const v1::RuleSet& rules) {
  const int n = rules.programs_size();
  std::vector<bool> placed(n, false);
  std::vector<int> order;
  order.reserve(n);
  auto pending = [&](int i, const std::string& other) {
    for (int j = 0; j < n; ++j) {
      if (j != i && !placed[j] && rules.programs(j).program_id() == other) return true;
    }
    return false;
  };
  while (static_cast<int>(order.size()) < n) {
    bool progress = false;
    for (int i = 0; i < n; ++i) {
      if (placed[i]) continue;
      bool ready = true;
      for (const std::string& other : rules.programs(i).excluded_if_eligible_for()) ready = ready && !pending(i, other);
      for (const std::string& other : rules.programs(i).excluded_if_receiving()) ready = ready && !pending(i, other);
      if (!ready) continue;
      placed[i] = true;
      order.push_back(i);
      progress = true;
    }
    if (!progress) {
      for (int i = 0; i < n; ++i) {
        if (!placed[i]) {
          placed[i] = true;
          order.push_back(i);
          break;
        }
      }
    }
  }
  return order;
}

}  // namespace jaring::rules::rules_internal
