// The raw limit every benchmark prints beside its own figure: plain RocksDB
// WriteBatch puts of family-shaped keys and values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace jaring::bench {

// `records` puts into a fresh RocksDB at `dir` (default options), to keys
// `key_prefix` + a 16-digit KK-like number drawn among `families`, values
// of `value_size` random letters, `batch` puts per write, with or without
// the WAL (without: flushed at the end). Returns the seconds taken.
// Errors: kUnavailable when RocksDB cannot open or write.
absl::StatusOr<double> RawPuts(const std::string& dir, bool wal, int64_t records, int64_t families,
                               size_t value_size, size_t batch, uint64_t seed, const std::string& key_prefix);

}  // namespace jaring::bench
