// The benchmark's family projection: the shared fold (libs/family), applied
// the way the services' projections apply it (family record, timeline and
// one stored envelope per event, a late report re-folding its family), with
// the time spent in the fold split between events folded in order and late
// reports.
#pragma once

#include <cstdint>

#include "libs/projection/projection.h"

namespace jaring::bench {

class FamilyFold final : public projection::Applier {
 public:
  // `log_order`: fold every event on top of the stored family in log order
  // without a timeline, as the projections did before the event-time fold
  // (docs/rfcs/2026-12-04-event-time-fold.md): the baseline the benchmark
  // compares against.
  explicit FamilyFold(bool log_order = false) : log_order_(log_order) {}
  absl::Status Apply(const projection::Event& event, projection::Batch& batch) override;

  int64_t in_order() const { return in_order_; }
  int64_t late() const { return late_; }
  double in_order_seconds() const { return in_order_s_; }
  double late_seconds() const { return late_s_; }

 private:
  bool log_order_;
  int64_t in_order_ = 0;
  int64_t late_ = 0;
  double in_order_s_ = 0;
  double late_s_ = 0;
};

}  // namespace jaring::bench
