// The clock seam. Production code asks a Clock for "now"; tests inject a
// ManualClock and move time by hand (Envoy's TimeSource, LevelDB's Env).
#pragma once

#include <atomic>
#include <cstdint>

#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace jaring {

// Thread-safe: Now() may be called from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;

  // The process-wide real clock. Never null, never destroyed.
  static Clock* Real();
};

// A clock that only moves when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(absl::Time start) : micros_(absl::ToUnixMicros(start)) {}
  absl::Time Now() const override { return absl::FromUnixMicros(micros_.load()); }
  void Set(absl::Time t) { micros_.store(absl::ToUnixMicros(t)); }
  void Advance(absl::Duration d) { micros_.fetch_add(absl::ToInt64Microseconds(d)); }

 private:
  std::atomic<int64_t> micros_;
};

// The real clock moved by a fixed offset: it starts at `start` when made and
// runs at real speed (jaring serve --clock-start, for drills and tests that
// need a known date). Thread-safe.
class OffsetClock final : public Clock {
 public:
  explicit OffsetClock(absl::Time start) : offset_(start - absl::Now()) {}
  absl::Time Now() const override { return absl::Now() + offset_; }

 private:
  const absl::Duration offset_;
};

// Indonesia's calendar days are taken in WIB (UTC+7, no DST) everywhere in
// Jaring: "today", "the decision as of 1 March", the date a rule set takes
// effect. One zone for the whole country keeps answers reproducible; at most
// two hours separate it from WITA and WIT, and no date rule of the programs
// depends on the hour.
inline absl::TimeZone WibTimeZone() { return absl::FixedTimeZone(7 * 3600); }

// The calendar day in WIB at `t`.
inline absl::CivilDay WibDay(absl::Time t) { return absl::ToCivilDay(t, WibTimeZone()); }

// The first instant of `day` in WIB.
inline absl::Time WibStartOf(absl::CivilDay day) { return absl::FromCivil(day, WibTimeZone()); }

}  // namespace jaring
