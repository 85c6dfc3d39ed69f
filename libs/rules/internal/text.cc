#include "libs/rules/internal/text.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace jaring::rules::rules_internal {
namespace {

std::string Group(int64_t amount, char sep) {
  const bool negative = amount < 0;
  // Via unsigned so that INT64_MIN has a magnitude.
  uint64_t v = negative ? 0 - static_cast<uint64_t>(amount) : static_cast<uint64_t>(amount);
  std::string digits = absl::StrCat(v);
  std::string out;
  const size_t n = digits.size();
  for (size_t i = 0; i < n; ++i) {
    if (i > 0 && (n - i) % 3 == 0) out.push_back(sep);
    out.push_back(digits[i]);
  }
  return absl::StrCat(negative ? "-Rp" : "Rp", out);
}

}  // namespace

std::string RupiahId(int64_t amount) { return Group(amount, '.'); }
std::string RupiahEn(int64_t amount) { return Group(amount, ','); }

std::string PeriodLabel(int year, int first_month, int month_count) {
  switch (month_count) {
    case 12:
      return absl::StrFormat("%04d", year);
    case 6:
      return absl::StrFormat("%04d-H%d", year, (first_month - 1) / 6 + 1);
    case 3:
      return absl::StrFormat("%04d-Q%d", year, (first_month - 1) / 3 + 1);
    case 1:
      return absl::StrFormat("%04d-%02d", year, first_month);
    default:
      return absl::StrFormat("%04d-%02d/%02d", year, first_month, first_month + month_count - 1);
  }
}

}  // namespace jaring::rules::rules_internal
