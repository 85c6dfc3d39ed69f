// The topics of Jaring (docs/events.md). Retention: forever.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace jaring::events {

// KK changes, keyed by KK number.
inline constexpr std::string_view kPopulationTopic = "jaring.population.v1";
// Published rule sets.
inline constexpr std::string_view kRulesTopic = "jaring.rules.v1";
// Eligibility decisions, keyed by KK number.
inline constexpr std::string_view kEligibilityTopic = "jaring.eligibility.v1";
inline constexpr std::string_view kAppealsTopic = "jaring.appeals.v1";
inline constexpr std::string_view kLedgerTopic = "jaring.ledger.v1";
// Who looked at what (FamilyDataAccessed), keyed by KK number or region.
inline constexpr std::string_view kAccessTopic = "jaring.access.v1";

struct TopicDefault {
  std::string_view name;
  int32_t partitions;
};

// Partition counts a new deployment creates. A topic's partition count never
// changes after creation (it would move families between partitions).
inline constexpr std::array<TopicDefault, 6> kDefaultTopics = {{
    {kPopulationTopic, 8},
    {kRulesTopic, 1},
    {kEligibilityTopic, 8},
    {kAppealsTopic, 4},
    {kLedgerTopic, 4},
    {kAccessTopic, 4},
}};

}  // namespace jaring::events
