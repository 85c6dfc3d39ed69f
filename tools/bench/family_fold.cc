#include "tools/bench/family_fold.h"

#include "libs/base/status.h"
#include "libs/events/envelope.h"

namespace jaring::bench {
namespace {
v1::FamilyMember* FindMember(v1::Family& f, const std::string& nik) {
  for (auto& m : *f.mutable_members()) {
    if (m.member().nik() == nik) return &m;
  }
  return nullptr;
}
}  // namespace

absl::Status FamilyFold::Apply(const projection::Event& event, projection::Batch& batch) {
  const v1::Envelope& e = event.envelope;
  const std::string key = "fam/" + e.key();
  JARING_ASSIGN_OR_RETURN(v1::Family * f, batch.Mutable<v1::Family>(key));
  v1::Family& family = *f;
  switch (e.payload_case()) {
    case v1::Envelope::kFamilyRegistered: {
      const auto& r = e.family_registered();
      family.set_kk_number(r.kk_number());
      family.set_region_code(r.region_code());
      family.set_head_nik(r.head_nik());
      family.set_split_from_kk_number(r.split_from_kk_number());
      family.clear_members();
      for (const auto& m : r.members()) {
        auto* fm = family.add_members();
        *fm->mutable_member() = m;
        fm->set_alive(true);
      }
      break;
    }
    case v1::Envelope::kBirthRecorded: {
      auto* fm = family.add_members();
      *fm->mutable_member() = e.birth_recorded().child();
      fm->set_alive(true);
      break;
    }
    case v1::Envelope::kDeathRecorded:
      if (auto* m = FindMember(family, e.death_recorded().nik())) {
        m->set_alive(false);
        *m->mutable_date_of_death() = e.death_recorded().date_of_death();
      }
      break;
    case v1::Envelope::kMemberAttributesChanged:
      if (auto* m = FindMember(family, e.member_attributes_changed().nik())) {
        m->mutable_member()->mutable_attributes()->MergeFrom(e.member_attributes_changed().attributes());
      }
      break;
    case v1::Envelope::kWelfareAssessed:
      *family.mutable_latest_assessment() = e.welfare_assessed();
      break;
    default:
      break;
  }
  family.set_version(family.version() + 1);
  family.set_updated_at_ms(events::ToMillis(e.recorded_at()));
  return absl::OkStatus();
}

}  // namespace jaring::bench
