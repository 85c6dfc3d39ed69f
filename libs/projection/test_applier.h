// A test Applier whose state exposes any event applied twice or skipped:
// per key it keeps a count and a hash chained over the event ids, plus a
// count per event type. Shared by projection_test and the crash test.
#pragma once

#include <cstdint>
#include <string>

#include "jaring/v1/envelope.pb.h"
#include "libs/eventlog/eventlog.h"
#include "libs/projection/projection.h"

namespace jaring::projection_testing {

class ChainApplier final : public projection::Applier {
 public:
  absl::Status Apply(const projection::Event& event, projection::Batch& batch) override;
  // When set, Apply fails on the event with this id (kInternal).
  std::string fail_on_event_id;
};

// A welfare-assessment envelope for family `kk`, number `seq`, recorded at
// `recorded_ms`.
v1::Envelope MakeEvent(const std::string& kk, int64_t seq, int64_t recorded_ms);
eventlog::Record MakeRecord(const std::string& kk, int64_t seq, int64_t recorded_ms);

// "5271" + 12 digits: a KK-like key for family i.
std::string KkFor(int64_t i);

}  // namespace jaring::projection_testing
