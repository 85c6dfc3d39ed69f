// Text helpers of the evaluator: rupiah amounts and payment period labels.
// Their output is part of decisions (reasons, stage labels): changing it
// changes decisions, so treat it like a format.
#pragma once

#include <cstdint>
#include <string>

namespace jaring::rules::rules_internal {

// "Rp7.800.000" (Indonesian grouping) and "Rp7,800,000" (English).
std::string RupiahId(int64_t amount);
std::string RupiahEn(int64_t amount);

// The label of the payment period of `year` that starts at `first_month`
// (1-12) and lasts `month_count` months (a divisor of 12):
// 12 -> "2026", 6 -> "2026-H1", 3 -> "2026-Q1", 1 -> "2026-03",
// otherwise "2026-01/02" (first and last month).
std::string PeriodLabel(int year, int first_month, int month_count);

}  // namespace jaring::rules::rules_internal
