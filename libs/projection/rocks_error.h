// A RocksDB status as an absl::Status, for services reading their own
// projection store. NotFound is OK here: readers test the RocksDB status for
// it themselves. Corruption is DATA_LOSS (rebuild the store from the log);
// anything else UNAVAILABLE.
#pragma once

#include "absl/status/status.h"
#include "rocksdb/status.h"

namespace jaring::projection {

inline absl::Status RocksError(const rocksdb::Status& s) {
  if (s.ok() || s.IsNotFound()) return absl::OkStatus();
  if (s.IsCorruption()) return absl::DataLossError(s.ToString());
  return absl::UnavailableError(s.ToString());
}

}  // namespace jaring::projection
