// ValidateRuleSet with the name rule-set-level errors start with (the
// manifest's file name when loading a directory).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "jaring/v1/rules.pb.h"

namespace jaring::rules::rules_internal {

absl::Status ValidateRuleSetAt(const v1::RuleSet& rules, const std::vector<std::string>& program_origins,
                               std::string_view top_origin);

}  // namespace jaring::rules::rules_internal
