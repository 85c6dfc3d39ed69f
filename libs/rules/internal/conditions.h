// What every program's evaluation shares between the reference evaluator
// (evaluate.cc), the compact path (compact.cc) and validation (rules.cc):
// the region condition and the order in which programs are evaluated.
#pragma once

#include <string_view>
#include <vector>

#include "jaring/v1/rules.pb.h"

namespace jaring::rules::rules_internal {

// Whether `prefix` is a region prefix a RegionCondition may hold: whole
// dotted parts of PP.RR.DD.VVVV ("52", "52.71", "52.71.01", "52.71.01.2001").
bool IsRegionPrefix(std::string_view prefix);

// Whether the region code `code` lies within `prefix` (equal to it, or
// continuing it with a '.').
bool RegionWithin(std::string_view code, std::string_view prefix);

// The village type of a region code PP.RR.DD.VVVV: the first digit of VVVV,
// 1 kelurahan, 2 desa; VILLAGE_TYPE_UNSPECIFIED when the code is not of that
// form or the digit is another one.
v1::VillageType VillageTypeOf(std::string_view code);

// Whether a family with region code `code` meets `condition` (true when no
// field of it is set).
bool RegionMeets(const v1::RegionCondition& condition, std::string_view code);

// Program indexes in evaluation order: a program comes after every program
// it reads (excluded_if_eligible_for, excluded_if_receiving), and otherwise
// in rule-set order. A rule set that failed validation (a cycle) still
// terminates: when nothing is ready, the first pending program goes next.
std::vector<int> EvaluationOrder(const v1::RuleSet& rules);

}  // namespace jaring::rules::rules_internal
