#include "libs/family/fold.h"

#include <algorithm>
#include <limits>
#include <string>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
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

int64_t OccurredMs(const v1::Envelope& e) { return events::ToMillis(e.occurred_at()); }

FoldKey FoldKeyOf(const v1::Envelope& e, std::optional<int64_t> registered_ms) {
  const int64_t occurred = OccurredMs(e);
  return {EffectiveMs(occurred, registered_ms),
          e.has_family_registered() ? std::numeric_limits<int64_t>::min() : occurred};
}

namespace {

// Removes every member whose NIK is in `niks`, in one pass.
void RemoveMembers(v1::Family& family, const absl::flat_hash_set<std::string_view>& niks) {
  auto* members = family.mutable_members();
  int kept = 0;
  for (int i = 0; i < members->size(); ++i) {
    if (niks.contains(Sv(members->Get(i).member().nik()))) continue;
    if (kept != i) members->SwapElements(kept, i);
    ++kept;
  }
  members->DeleteSubrange(kept, members->size() - kept);
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

// The registration's members, in time linear in their number (a card may
// be large: docs/security.md, "Limits"); a NIK listed twice keeps its last
// entry, as adding them one by one would.
void Register(v1::Family& family, const v1::FamilyRegistered& r) {
  family.set_kk_number(r.kk_number());
  family.set_region_code(r.region_code());
  family.set_head_nik(r.head_nik());
  family.set_split_from_kk_number(r.split_from_kk_number());
  family.set_address(r.address());
  absl::flat_hash_map<std::string_view, int> at;
  at.reserve(static_cast<size_t>(r.members_size()));
  for (const v1::Member& m : r.members()) {
    auto [it, inserted] = at.try_emplace(Sv(m.nik()), family.members_size());
    v1::FamilyMember* fm = inserted ? family.add_members() : family.mutable_members(it->second);
    *fm->mutable_member() = m;
    fm->set_alive(true);
  }
}

constexpr std::string_view kBeforeRegistration = "reported before the family's registration";

bool IsPopulationPayload(const v1::Envelope& e) {
  switch (e.payload_case()) {
    case v1::Envelope::kFamilyRegistered:
    case v1::Envelope::kBirthRecorded:
    case v1::Envelope::kDeathRecorded:
    case v1::Envelope::kMemberMovedOut:
    case v1::Envelope::kMemberMovedIn:
    case v1::Envelope::kFamilySplit:
    case v1::Envelope::kHeadChanged:
    case v1::Envelope::kWelfareAssessed:
    case v1::Envelope::kMemberAttributesChanged:
    case v1::Envelope::kRecordCorrected:
      return true;
    default:
      return false;
  }
}

void Count(const v1::Envelope& e, v1::Family& family) {
  family.set_version(family.version() + 1);
  family.set_updated_at_ms(std::max(family.updated_at_ms(), events::ToMillis(e.recorded_at())));
}

void RecordConflict(const v1::Envelope& e, std::string_view reason, v1::Family& family) {
  v1::FoldConflict* c = family.add_conflicts();
  c->set_event_id(e.event_id());
  c->set_event_type(e.event_type().empty() ? std::string(events::PayloadTypeName(e)) : e.event_type());
  c->set_reason(std::string(reason));
}

// Checks `e` against `family`, then applies it. Returns the reason when `e`
// contradicts the state; `family` is then unchanged. Not for corrections.
absl::StatusOr<std::optional<std::string_view>> Step(const v1::Envelope& e, v1::Family& family) {
  using Reason = std::optional<std::string_view>;
  const bool registered = !family.kk_number().empty();
  if (!registered && !e.has_family_registered() && IsPopulationPayload(e)) return Reason(kBeforeRegistration);
  switch (e.payload_case()) {
    case v1::Envelope::kFamilyRegistered:
      if (registered) return Reason("the family is already registered");
      Register(family, e.family_registered());
      return Reason();
    case v1::Envelope::kBirthRecorded:
      AddMember(family, e.birth_recorded().child());
      return Reason();
    case v1::Envelope::kDeathRecorded: {
      v1::FamilyMember* m = FindMember(family, e.death_recorded().nik());
      if (m == nullptr) return Reason("death of a person not in the family");
      m->set_alive(false);
      *m->mutable_date_of_death() = e.death_recorded().date_of_death();
      return Reason();
    }
    case v1::Envelope::kMemberMovedOut:
      RemoveMembers(family, {Sv(e.member_moved_out().nik())});
      return Reason();
    case v1::Envelope::kMemberMovedIn:
      AddMember(family, e.member_moved_in().member());
      return Reason();
    case v1::Envelope::kFamilySplit: {
      absl::flat_hash_set<std::string_view> niks;
      for (const std::string& nik : e.family_split().member_niks()) niks.insert(Sv(nik));
      RemoveMembers(family, niks);
      return Reason();
    }
    case v1::Envelope::kHeadChanged: {
      const v1::HeadChanged& h = e.head_changed();
      v1::FamilyMember* head = FindMember(family, h.new_head_nik());
      if (head == nullptr) return Reason("new head is not in the family");
      if (v1::FamilyMember* old = FindMember(family, family.head_nik());
          old != nullptr && old != head && old->member().relationship() == v1::RELATIONSHIP_HEAD) {
        old->mutable_member()->set_relationship(v1::RELATIONSHIP_OTHER_RELATIVE);
      }
      head->mutable_member()->set_relationship(v1::RELATIONSHIP_HEAD);
      family.set_head_nik(h.new_head_nik());
      return Reason();
    }
    case v1::Envelope::kWelfareAssessed:
      *family.mutable_latest_assessment() = e.welfare_assessed();
      family.set_latest_assessment_event_id(e.event_id());
      return Reason();
    case v1::Envelope::kMemberAttributesChanged: {
      const v1::MemberAttributesChanged& c = e.member_attributes_changed();
      v1::FamilyMember* m = FindMember(family, c.nik());
      if (m == nullptr) return Reason("attributes of a person not in the family");
      m->mutable_member()->mutable_attributes()->MergeFrom(c.attributes());
      return Reason();
    }
    case v1::Envelope::kRecordCorrected:
      return Reason("corrects an event this family does not have");
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
    case v1::Envelope::PAYLOAD_NOT_SET:
      break;
  }
  return absl::DataLossError(absl::StrCat(events::PayloadTypeName(e), " ", e.event_id(), " for family ", e.key(),
                                          ": not a population event"));
}

absl::Status StepAndCount(const v1::Envelope& e, v1::Family& family) {
  absl::StatusOr<std::optional<std::string_view>> reason = Step(e, family);
  if (!reason.ok()) return reason.status();
  if (reason->has_value()) RecordConflict(e, **reason, family);
  Count(e, family);
  return absl::OkStatus();
}

bool Retracts(const v1::Envelope& target) { return target.has_birth_recorded() || target.has_death_recorded(); }

// The fold of one family's events (log order), rules 1-5 of fold.h.
class Folder {
 public:
  Folder(const std::vector<const v1::Envelope*>& events, std::optional<int64_t> as_of_ms)
      : events_(events), as_of_ms_(as_of_ms) {}

  // The family, unregistered (kk_number empty) when no FamilyRegistered
  // applies by as_of.
  absl::StatusOr<v1::Family> Run(size_t* last) {
    size_t reg = events_.size();
    for (size_t i = 0; i < events_.size(); ++i) {
      if (events_[i]->has_family_registered()) {
        reg = i;
        break;
      }
    }
    if (as_of_ms_ && reg < events_.size() && OccurredMs(*events_[reg]) > *as_of_ms_) return v1::Family();
    // A retried append may have stored an event twice: the first copy counts.
    absl::flat_hash_set<std::string_view> seen;

    // Rule 1: before the registration in log order, nothing applies.
    for (size_t i = 0; i < reg; ++i) {
      if (!seen.insert(Sv(events_[i]->event_id())).second) continue;
      if (as_of_ms_ && OccurredMs(*events_[i]) > *as_of_ms_) continue;
      if (!IsPopulationPayload(*events_[i])) return Step(*events_[i], family_).status();
      RecordConflict(*events_[i], kBeforeRegistration, family_);
      Include(i);
    }
    if (last != nullptr) *last = last_;
    if (reg == events_.size()) return std::move(family_);
    const int64_t registered_ms = OccurredMs(*events_[reg]);
    // Rule 4: corrections go with their targets (the first event with that
    // id earlier in log order, from the registration on).
    absl::flat_hash_map<std::string_view, size_t> by_id;
    std::vector<std::pair<FoldKey, size_t>> order;
    for (size_t i = reg; i < events_.size(); ++i) {
      const v1::Envelope& e = *events_[i];
      if (!seen.insert(Sv(e.event_id())).second) continue;
      if (e.has_record_corrected()) {
        auto it = by_id.find(Sv(e.record_corrected().corrected_event_id()));
        if (it != by_id.end()) {
          corrections_[it->second].push_back(i);
          by_id.emplace(Sv(e.event_id()), i);
          continue;
        }
      }
      by_id.emplace(Sv(e.event_id()), i);
      // The first registration sorts first; a later one is a conflict.
      FoldKey key = FoldKeyOf(e, registered_ms);
      if (e.has_family_registered() && i != reg) key.occurred_ms = OccurredMs(e);
      order.emplace_back(key, i);
    }
    std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
      return a.first < b.first || (!(b.first < a.first) && a.second < b.second);
    });
    for (const auto& [key, i] : order) {
      if (as_of_ms_ && key.effective_ms > *as_of_ms_) break;
      absl::Status st = Apply(i);
      if (!st.ok()) return st;
    }
    if (last != nullptr) *last = last_;
    return std::move(family_);
  }

 private:
  void Include(size_t i) {
    Count(*events_[i], family_);
    if (last_ == events_.size() || i > last_) last_ = i;
  }

  // Applies event i, then the corrections of it (recursively).
  absl::Status Apply(size_t i) {
    const v1::Envelope& e = *events_[i];
    const std::vector<size_t>* corrections = nullptr;
    if (auto it = corrections_.find(i); it != corrections_.end()) corrections = &it->second;
    bool retracted = false;
    if (corrections != nullptr && Retracts(e)) {
      for (size_t c : *corrections) retracted = retracted || events_[c]->record_corrected().has_retraction();
    }
    if (retracted) {
      Include(i);  // folded as if it never happened
    } else if (auto target = corrector_target_.find(i); target != corrector_target_.end()) {
      ApplyCorrection(e, *target->second);
      Include(i);
    } else {
      absl::StatusOr<std::optional<std::string_view>> reason = Step(e, family_);
      if (!reason.ok()) return reason.status();
      if (reason->has_value()) RecordConflict(e, **reason, family_);
      Include(i);
    }
    if (corrections == nullptr) return absl::OkStatus();
    for (size_t c : *corrections) {
      const v1::Envelope& ce = *events_[c];
      if (ce.record_corrected().has_retraction() && Retracts(e)) {
        Include(c);
        continue;
      }
      corrector_target_[c] = &e;
      absl::Status st = Apply(c);
      if (!st.ok()) return st;
    }
    return absl::OkStatus();
  }

  // What a correction (member or assessment) says the target should have
  // said, applied right after it.
  void ApplyCorrection(const v1::Envelope& e, const v1::Envelope& target) {
    const v1::RecordCorrected& c = e.record_corrected();
    switch (c.correction_case()) {
      case v1::RecordCorrected::kMember:
        if (v1::FamilyMember* m = FindMember(family_, c.member().nik())) *m->mutable_member() = c.member();
        return;
      case v1::RecordCorrected::kWelfareAssessment:
        if (family_.latest_assessment_event_id() == target.event_id()) {
          *family_.mutable_latest_assessment() = c.welfare_assessment();
        }
        return;
      case v1::RecordCorrected::kRetraction:
        RecordConflict(e, "retracts an event that is neither a birth nor a death", family_);
        return;
      case v1::RecordCorrected::CORRECTION_NOT_SET:
        break;
    }
    RecordConflict(e, "correction without content", family_);
  }

  const std::vector<const v1::Envelope*>& events_;
  const std::optional<int64_t> as_of_ms_;
  v1::Family family_;
  absl::flat_hash_map<size_t, std::vector<size_t>> corrections_;
  absl::flat_hash_map<size_t, const v1::Envelope*> corrector_target_;
  size_t last_ = events_.size();
};

}  // namespace

absl::Status FoldLatest(const v1::Envelope& e, v1::Family* family) { return StepAndCount(e, *family); }

absl::StatusOr<std::optional<v1::Family>> FoldEnvelopes(const std::vector<const v1::Envelope*>& events,
                                                         std::optional<int64_t> as_of_ms, size_t* last) {
  absl::StatusOr<v1::Family> family = Folder(events, as_of_ms).Run(last);
  if (!family.ok()) return family.status();
  if (family->kk_number().empty()) return std::nullopt;
  return std::optional<v1::Family>(*std::move(family));
}

absl::StatusOr<v1::Family> FoldAll(const std::vector<const v1::Envelope*>& events) {
  return Folder(events, std::nullopt).Run(nullptr);
}

absl::StatusOr<std::optional<v1::Family>> FoldAsOf(const std::vector<FamilyEvent>& events,
                                                    std::optional<int64_t> as_of_ms, const FamilyEvent** last) {
  std::vector<const v1::Envelope*> envelopes;
  envelopes.reserve(events.size());
  for (const FamilyEvent& fe : events) envelopes.push_back(&fe.event);
  size_t at = events.size();
  absl::StatusOr<std::optional<v1::Family>> family = FoldEnvelopes(envelopes, as_of_ms, &at);
  if (family.ok() && last != nullptr) *last = at < events.size() ? &events[at] : nullptr;
  return family;
}

}  // namespace jaring::family
