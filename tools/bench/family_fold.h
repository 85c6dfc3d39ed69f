// A fold of population events into jaring.v1.Family records, keyed
// "fam/<kk>". The benchmark's stand-in for the population service's
// projection: the same shape of work (read family, change, write back).
#pragma once

#include "libs/projection/projection.h"

namespace jaring::bench {

class FamilyFold final : public projection::Applier {
 public:
  absl::Status Apply(const projection::Event& event, projection::Batch& batch) override;
};

}  // namespace jaring::bench
