// A small deterministic generator of realistic population events for
// benchmarks: family cards with 2-7 members for a pilot region, then months
// of life (DTSEN rounds, births, attribute changes, deaths) spread over the
// families in time order.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "jaring/v1/envelope.pb.h"

namespace jaring::bench {

class SyntheticPopulation {
 public:
  // `backdated`: the share of events (0 to 1) whose occurred_at lies up to
  // 30 days before their report; the others are reported as they happen.
  // Backdated events of a family arrive out of event-time order, so the
  // fold re-folds the family (late reports).
  SyntheticPopulation(int64_t families, uint64_t seed, double backdated = 1.0);
  // The next event in time order; families are registered first (a registry
  // extract), then life events follow.
  v1::Envelope Next();
  int64_t families() const { return families_; }

 private:
  std::string Kk(int64_t family) const;
  std::string Nik(int64_t family, int member, bool female, int year) const;
  v1::Envelope Base(int64_t family);
  int64_t families_;
  int64_t emitted_ = 0;
  std::vector<uint8_t> members_;
  // Each family's members' NIKs, so that life events name real members.
  std::vector<std::vector<std::string>> niks_;
  std::mt19937_64 rng_;
  int64_t now_ms_;
  double backdated_;
};

}  // namespace jaring::bench
