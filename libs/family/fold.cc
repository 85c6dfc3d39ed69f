#include "libs/family/fold.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "libs/base/strings.h"
#include "libs/events/envelope.h"

namespace jaring::family {

v1::FamilyMember* FindMember(v1::Family& family, std::string_view nik) {
  for (auto& m : *family.mutable_members()) {
    if (Sv(m.member().nik()) == nik) return &m;
  }
  return nullptr;
}

const v1::FamilyMember* FindMember(const v1::Family& family, std::string_view nik) {
  for (const auto& m : family.members()) {
    if (Sv(m.member().nik()) == nik) return &m;
  }
  return nullptr;
}

namespace {

void RemoveMember(v1::Family& family, std::string_view nik) {
  auto* members = family.mutable_members();
  for (int i = 0; i < members->size(); ++i) {
    if (Sv(members->Get(i).member().nik()) == nik) {
      members->DeleteSubrange(i, 1);
      return;
    }
  }
}

void AddMember(v1::Family& family, const v1::Member& member) {
  if (v1::FamilyMember* existing = FindMember(family, member.nik())) {
    *existing->mutable_member() = member;
    existing->set_alive(true);
    existing->clear_date_of_death();
    return;
  }
  v1::FamilyMember* fm = family.add_members();
  *fm->mutable_member() = member;
  fm->set_alive(true);
}

absl::Status Contradiction(const v1::Envelope& e, std::string_view what) {
  return absl::DataLossError(absl::StrCat(e.event_type(), " ", e.event_id(), " for family ", e.key(), ": ", Av(what)));
}

absl::Status ApplyCorrection(const v1::Envelope& e, const EventLookup& lookup, v1::Family& family) {
  const v1::RecordCorrected& c = e.record_corrected();
  const v1::Envelope* target = lookup(c.corrected_event_id());
  if (target == nullptr) return Contradiction(e, "corrects an event this family does not have");
  switch (c.correction_case()) {
    case v1::RecordCorrected::kMember: {
      v1::FamilyMember* m = FindMember(family, c.member().nik());
      if (m != nullptr) *m->mutable_member() = c.member();
      return absl::OkStatus();
    }
    case v1::RecordCorrected::kWelfareAssessment:
      if (family.latest_assessment_event_id() == c.corrected_event_id()) {
        *family.mutable_latest_assessment() = c.welfare_assessment();
      }
      return absl::OkStatus();
    case v1::RecordCorrected::kRetraction:
      if (target->has_death_recorded()) {
        if (v1::FamilyMember* m = FindMember(family, target->death_recorded().nik())) {
          m->set_alive(true);
          m->clear_date_of_death();
        }
        return absl::OkStatus();
      }
      if (target->has_birth_recorded()) {
        RemoveMember(family, target->birth_recorded().child().nik());
        return absl::OkStatus();
      }
      return Contradiction(e, "retracts an event that is neither a birth nor a death");
    case v1::RecordCorrected::CORRECTION_NOT_SET:
      break;
  }
  return Contradiction(e, "correction without content");
}

}  // namespace

absl::Status ApplyToFamily(const v1::Envelope& e, const EventLookup& lookup, v1::Family* family) {
  const bool registered = !family->kk_number().empty();
  if (!registered && !e.has_family_registered()) {
    return Contradiction(e, "the family is not registered");
  }
  switch (e.payload_case()) {
    case v1::Envelope::kFamilyRegistered: {
      if (registered) return Contradiction(e, "the family is already registered");
      const v1::FamilyRegistered& r = e.family_registered();
      family->set_kk_number(r.kk_number());
      family->set_region_code(r.region_code());
      family->set_head_nik(r.head_nik());
      family->set_split_from_kk_number(r.split_from_kk_number());
      family->set_address(r.address());
      for (const v1::Member& m : r.members()) AddMember(*family, m);
      break;
    }
    case v1::Envelope::kBirthRecorded:
      AddMember(*family, e.birth_recorded().child());
      break;
    case v1::Envelope::kDeathRecorded: {
      v1::FamilyMember* m = FindMember(*family, e.death_recorded().nik());
      if (m == nullptr) return Contradiction(e, "death of a person not in the family");
      m->set_alive(false);
      *m->mutable_date_of_death() = e.death_recorded().date_of_death();
      break;
    }
    case v1::Envelope::kMemberMovedOut:
      RemoveMember(*family, e.member_moved_out().nik());
      break;
    case v1::Envelope::kMemberMovedIn:
      AddMember(*family, e.member_moved_in().member());
      break;
    case v1::Envelope::kFamilySplit:
      for (const std::string& nik : e.family_split().member_niks()) RemoveMember(*family, nik);
      break;
    case v1::Envelope::kHeadChanged: {
      const v1::HeadChanged& h = e.head_changed();
      if (v1::FamilyMember* old = FindMember(*family, family->head_nik());
          old != nullptr && old->member().relationship() == v1::RELATIONSHIP_HEAD) {
        old->mutable_member()->set_relationship(v1::RELATIONSHIP_OTHER_RELATIVE);
      }
      v1::FamilyMember* head = FindMember(*family, h.new_head_nik());
      if (head == nullptr) return Contradiction(e, "new head is not in the family");
      head->mutable_member()->set_relationship(v1::RELATIONSHIP_HEAD);
      family->set_head_nik(h.new_head_nik());
      break;
    }
    case v1::Envelope::kWelfareAssessed:
      *family->mutable_latest_assessment() = e.welfare_assessed();
      family->set_latest_assessment_event_id(e.event_id());
      break;
    case v1::Envelope::kMemberAttributesChanged: {
      const v1::MemberAttributesChanged& c = e.member_attributes_changed();
      v1::FamilyMember* m = FindMember(*family, c.nik());
      if (m == nullptr) return Contradiction(e, "attributes of a person not in the family");
      m->mutable_member()->mutable_attributes()->MergeFrom(c.attributes());
      break;
    }
    case v1::Envelope::kRecordCorrected: {
      absl::Status st = ApplyCorrection(e, lookup, *family);
      if (!st.ok()) return st;
      break;
    }
    case v1::Envelope::kRuleSetPublished:
    case v1::Envelope::kEligibilityDecided:
    case v1::Envelope::kLedgerEntry:
    case v1::Envelope::kAppealFiled:
    case v1::Envelope::kAppealAssigned:
    case v1::Envelope::kAppealVerified:
    case v1::Envelope::kAppealDecided:
    case v1::Envelope::kAppealClosed:
    case v1::Envelope::kAppealWithdrawn:
    case v1::Envelope::kAppealEscalated:
    case v1::Envelope::kAppealPolicySet:
    case v1::Envelope::kObjectionWindowOpened:
    case v1::Envelope::kFamilyDataAccessed:
      return Contradiction(e, "not a population event");
    case v1::Envelope::PAYLOAD_NOT_SET:
      return Contradiction(e, "no payload");
  }
  family->set_version(family->version() + 1);
  family->set_updated_at_ms(events::ToMillis(e.recorded_at()));
  return absl::OkStatus();
}

absl::StatusOr<std::optional<v1::Family>> FoldAsOf(const std::vector<FamilyEvent>& events,
                                                    std::optional<int64_t> as_of_ms, const FamilyEvent** last) {
  std::map<std::string, const v1::Envelope*, std::less<>> by_id;
  const EventLookup lookup = [&](std::string_view id) -> const v1::Envelope* {
    auto it = by_id.find(id);
    return it == by_id.end() ? nullptr : it->second;
  };
  v1::Family family;
  for (const FamilyEvent& fe : events) {
    const v1::Envelope& e = fe.event;
    by_id[e.event_id()] = &e;
    if (as_of_ms && events::ToMillis(e.occurred_at()) > *as_of_ms) continue;
    if (family.kk_number().empty() && !e.has_family_registered()) continue;
    absl::Status st = ApplyToFamily(e, lookup, &family);
    if (!st.ok()) return st;
    if (last != nullptr) *last = &fe;
  }
  if (family.kk_number().empty()) return std::nullopt;
  return family;
}

}  // namespace jaring::family
