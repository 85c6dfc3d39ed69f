#include "tools/bench/synthetic.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/events/envelope.h"

namespace jaring::bench {
namespace {
constexpr int64_t kStartMs = 1767225600000;  // 2026-01-01
const char* kNames[] = {"Siti", "Ahmad", "Nur", "Budi", "Dewi", "Lalu", "Baiq", "Made", "Wayan", "Rina"};
}  // namespace

SyntheticPopulation::SyntheticPopulation(int64_t families, uint64_t seed, double backdated)
    : families_(families), members_(static_cast<size_t>(families), 0), niks_(static_cast<size_t>(families)),
      rng_(seed), now_ms_(kStartMs),
      backdated_(backdated) {}

std::string SyntheticPopulation::Kk(int64_t family) const {
  // Kota Mataram (52.71), registration date 010126 style, serial.
  return absl::StrFormat("527101%06d%04d", 10126 + family / 10000 % 100, family % 10000);
}

std::string SyntheticPopulation::Nik(int64_t family, int member, bool female, int year) const {
  const int day = 1 + static_cast<int>((family + member) % 28) + (female ? 40 : 0);
  return absl::StrFormat("527101%02d%02d%02d%04d", day, 1 + member % 12, year % 100,
                         (family * 8 + member) % 10000);
}

v1::Envelope SyntheticPopulation::Base(int64_t family) {
  v1::Envelope e;
  e.set_event_id(events::DeterministicId("bench", {absl::StrCat(emitted_)}));
  e.set_key(Kk(family));
  e.set_region_code(absl::StrFormat("52.71.%02d.%04d", 1 + family % 6, 1001 + family % 50));
  now_ms_ += 1 + static_cast<int64_t>(rng_() % 3);
  const bool backdated = backdated_ >= 1.0 || static_cast<double>(rng_() % 1000000) < backdated_ * 1e6;
  const int64_t back_ms = backdated ? 86400000LL * static_cast<int64_t>(rng_() % 30) : 0;
  *e.mutable_occurred_at() = events::ToProtoTime(absl::FromUnixMillis(now_ms_ - back_ms));
  *e.mutable_recorded_at() = events::ToProtoTime(absl::FromUnixMillis(now_ms_));
  e.set_source(v1::SOURCE_DUKCAPIL);
  e.set_actor("dukcapil-feed");
  e.set_correlation_id(e.event_id());
  return e;
}

v1::Envelope SyntheticPopulation::Next() {
  v1::Envelope e;
  if (emitted_ < families_) {
    const int64_t f = emitted_;
    e = Base(f);
    auto* reg = e.mutable_family_registered();
    reg->set_kk_number(e.key());
    reg->set_region_code(e.region_code());
    reg->set_address(absl::StrCat("Jl. Pejanggik No. ", f % 300, ", Mataram"));
    const int n = 2 + static_cast<int>(rng_() % 6);
    members_[static_cast<size_t>(f)] = static_cast<uint8_t>(n);
    for (int m = 0; m < n; ++m) {
      auto* mem = reg->add_members();
      const bool female = m == 1 || (m > 1 && rng_() % 2 == 0);
      const int year = m < 2 ? 1970 + static_cast<int>(rng_() % 30) : 2005 + static_cast<int>(rng_() % 20);
      mem->set_nik(Nik(f, m, female, year));
      niks_[static_cast<size_t>(f)].push_back(mem->nik());
      mem->set_full_name(absl::StrCat(kNames[rng_() % 10], " ", kNames[rng_() % 10]));
      mem->set_sex(female ? v1::SEX_FEMALE : v1::SEX_MALE);
      mem->mutable_birth_date()->set_year(year);
      mem->mutable_birth_date()->set_month(1 + m % 12);
      mem->mutable_birth_date()->set_day(1 + static_cast<int>((f + m) % 28));
      mem->set_relationship(m == 0 ? v1::RELATIONSHIP_HEAD : m == 1 ? v1::RELATIONSHIP_SPOUSE : v1::RELATIONSHIP_CHILD);
      if (m >= 2) {
        mem->mutable_attributes()->set_school_level(v1::SCHOOL_LEVEL_PRIMARY);
        mem->mutable_attributes()->set_school_enrolled(true);
      }
    }
    reg->set_head_nik(reg->members(0).nik());
  } else {
    const int64_t f = static_cast<int64_t>(rng_() % static_cast<uint64_t>(families_));
    e = Base(f);
    const int kind = static_cast<int>(rng_() % 100);
    const int n = members_[static_cast<size_t>(f)];
    if (kind < 55) {
      auto* w = e.mutable_welfare_assessed();
      w->set_round(absl::StrCat("2026-Q", 1 + (emitted_ / 1000000) % 4));
      w->set_decile(1 + static_cast<int>(rng_() % 10));
      w->set_pmt_score_micros(static_cast<int64_t>(rng_() % 100000000));
      e.set_source(v1::SOURCE_BPS_DTSEN);
    } else if (kind < 85) {
      auto* c = e.mutable_member_attributes_changed();
      c->set_nik(niks_[static_cast<size_t>(f)][rng_() % static_cast<uint64_t>(n)]);
      c->mutable_attributes()->set_school_level(v1::SCHOOL_LEVEL_JUNIOR_SECONDARY);
      c->mutable_attributes()->set_school_enrolled(rng_() % 5 != 0);
      e.set_source(v1::SOURCE_DINSOS);
    } else if (kind < 97 && n < 12) {
      auto* b = e.mutable_birth_recorded();
      auto* child = b->mutable_child();
      const bool female = rng_() % 2 == 0;
      child->set_nik(Nik(f, n, female, 2026));
      niks_[static_cast<size_t>(f)].push_back(child->nik());
      child->set_full_name(absl::StrCat("Bayi ", kNames[rng_() % 10]));
      child->set_sex(female ? v1::SEX_FEMALE : v1::SEX_MALE);
      child->mutable_birth_date()->set_year(2026);
      child->mutable_birth_date()->set_month(1 + static_cast<int>(rng_() % 12));
      child->mutable_birth_date()->set_day(1 + static_cast<int>(rng_() % 28));
      child->set_relationship(v1::RELATIONSHIP_CHILD);
      b->set_mother_nik(niks_[static_cast<size_t>(f)][1 % niks_[static_cast<size_t>(f)].size()]);
      members_[static_cast<size_t>(f)] = static_cast<uint8_t>(n + 1);
    } else {
      auto* d = e.mutable_death_recorded();
      d->set_nik(niks_[static_cast<size_t>(f)][rng_() % static_cast<uint64_t>(n)]);
      d->mutable_date_of_death()->set_year(2026);
      d->mutable_date_of_death()->set_month(1 + static_cast<int>(rng_() % 12));
      d->mutable_date_of_death()->set_day(1 + static_cast<int>(rng_() % 28));
    }
  }
  events::StampType(e);
  ++emitted_;
  return e;
}

}  // namespace jaring::bench
