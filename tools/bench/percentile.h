// Nearest-rank percentiles for the benchmarks' latency figures.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace jaring::bench {

// Nearest-rank percentile of sorted values; 0 when empty.
inline double Percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(q * static_cast<double>(sorted.size()) + 0.999999);
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

}  // namespace jaring::bench
