#include "services/appeals/store.h"

#include <algorithm>
#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/base/coding.h"
#include "libs/base/status.h"
#include "libs/base/strings.h"
#include "libs/events/envelope.h"
#include "libs/events/topics.h"
#include "libs/family/batch_fold.h"
#include "libs/projection/rocks_error.h"
#include "rocksdb/db.h"

namespace jaring::appeals {

namespace keys {
namespace {
std::string Be64(int64_t v) {
  std::string s;
  PutOrderedInt64(&s, v);
  return s;
}
std::string KindName(v1::AppealKind kind) { return std::to_string(static_cast<int>(kind)); }
}  // namespace

std::string Seen(std::string_view event_id) { return absl::StrCat("i/", Av(event_id)); }
std::string Family(std::string_view kk) { return absl::StrCat("f/", Av(kk)); }
std::string Timeline(std::string_view kk) { return absl::StrCat("t/", Av(kk)); }
std::string FamilyEvent(std::string_view kk, std::string_view event_id) {
  return absl::StrCat("h/", Av(kk), "/", Av(event_id));
}
std::string LastEvent(std::string_view kk) { return absl::StrCat("l/", Av(kk)); }
std::string CorrectionAt(std::string_view appeal_id) { return absl::StrCat("x/", Av(appeal_id)); }
std::string Decision(std::string_view kk, std::string_view program) {
  return absl::StrCat("d/", Av(kk), "/", Av(program));
}
std::string DecisionVersionPrefix(std::string_view kk, std::string_view program) {
  return absl::StrCat("v/", Av(kk), "/", Av(program), "/");
}
std::string DecisionVersion(std::string_view kk, std::string_view program, int64_t version) {
  return absl::StrCat(DecisionVersionPrefix(kk, program), Be64(version));
}
std::string DecisionById(std::string_view decision_id) { return absl::StrCat("D/", Av(decision_id)); }
std::string Program(std::string_view program) { return absl::StrCat(Av(kProgramPrefix), Av(program)); }
std::string Appeal(std::string_view appeal_id) { return absl::StrCat("a/", Av(appeal_id)); }
std::string Filer(std::string_view appeal_id) { return absl::StrCat("k/", Av(appeal_id)); }
std::string Open(std::string_view kk, std::string_view program, v1::AppealKind kind) {
  return absl::StrCat("o/", Av(kk), "/", Av(program), "/", KindName(kind));
}
std::string FamilyAppealsPrefix(std::string_view kk) { return absl::StrCat("F/", Av(kk), "/"); }
std::string RegionPrefix(std::string_view region_prefix) { return absl::StrCat("r/", Av(region_prefix)); }
std::string Pending(int64_t due_ms, std::string_view appeal_id, v1::DeadlineKind kind) {
  return absl::StrCat(Av(kPendingPrefix), Be64(due_ms), Av(appeal_id), "/", static_cast<int>(kind));
}
std::string BreachKey(int64_t due_ms, std::string_view appeal_id, v1::DeadlineKind kind) {
  return absl::StrCat(Av(kBreachPrefix), Be64(due_ms), Av(appeal_id), "/", static_cast<int>(kind));
}
std::string Outbox(std::string_view appeal_id) { return absl::StrCat(Av(kOutboxPrefix), Av(appeal_id)); }
std::string Request(std::string_view request_id) { return absl::StrCat("Q/", Av(request_id)); }
std::string Policy(std::string_view region_prefix, v1::AppealKind kind) {
  return absl::StrCat("y/", Av(region_prefix), "/", KindName(kind));
}
std::string Window(std::string_view window_id) { return absl::StrCat("w/", Av(window_id)); }
std::string WindowIndexPrefix(std::string_view region_prefix, std::string_view program) {
  return absl::StrCat("W/", Av(region_prefix), "/", Av(program), "/");
}

// Keys that are only ever written here.
std::string FamilyAppeal(std::string_view kk, int64_t filed_ms, std::string_view appeal_id) {
  return absl::StrCat(FamilyAppealsPrefix(kk), Be64(filed_ms), Av(appeal_id));
}
std::string Region(std::string_view region, std::string_view appeal_id) {
  return absl::StrCat(RegionPrefix(region), "/", Av(appeal_id));
}
std::string Queue(int64_t due_ms, std::string_view appeal_id) {
  return absl::StrCat(Av(kQueuePrefix), Be64(due_ms), Av(appeal_id));
}
std::string Awaiting(std::string_view kk, std::string_view program) {
  return absl::StrCat("L/", Av(kk), "/", Av(program));
}
}  // namespace keys

std::optional<DeadlineKey> DecodeDeadlineKey(std::string_view rest) {
  if (rest.size() < 10) return std::nullopt;
  const std::string_view tail = rest.substr(8);
  const size_t slash = tail.rfind('/');
  int kind = 0;
  if (slash == std::string_view::npos || !absl::SimpleAtoi(Av(tail.substr(slash + 1)), &kind)) return std::nullopt;
  return DeadlineKey{DecodeOrderedInt64(rest.data()), std::string(tail.substr(0, slash)),
                     static_cast<v1::DeadlineKind>(kind)};
}

std::string CorrectionEventId(std::string_view appeal_id) {
  return events::DeterministicId("appeal-correction", {appeal_id});
}

v1::Envelope CorrectionEnvelope(const v1::Envelope& decided, std::string_view kk, std::string_view region) {
  const v1::AppealDecided& d = decided.appeal_decided();
  v1::Envelope e;
  e.set_event_id(d.correction_event_id());
  e.set_key(std::string(kk));
  e.set_region_code(std::string(region));
  *e.mutable_occurred_at() = decided.occurred_at();
  *e.mutable_recorded_at() = decided.recorded_at();
  e.set_source(v1::SOURCE_DINSOS);
  e.set_actor(decided.actor());
  e.set_causation_id(decided.event_id());
  e.set_correlation_id(d.appeal_id());
  e.set_request_id(absl::StrCat("appeal:", d.appeal_id()));
  *e.mutable_record_corrected() = d.correction();
  events::StampType(e);
  return e;
}

v1::Envelope EscalationEnvelope(const v1::Appeal& appeal, v1::DeadlineKind kind, int64_t now_ms) {
  v1::Envelope e;
  e.set_event_id(events::DeterministicId("appeal-escalated", {appeal.appeal_id(), std::to_string(kind)}));
  e.set_key(appeal.kk_number());
  e.set_region_code(appeal.region_code());
  e.set_source(v1::SOURCE_SYSTEM);
  e.set_actor("jaring-appeals");
  e.set_correlation_id(appeal.appeal_id());
  auto* esc = e.mutable_appeal_escalated();
  esc->set_appeal_id(appeal.appeal_id());
  esc->set_deadline(kind);
  esc->set_state(appeal.state());
  for (const auto& d : appeal.deadlines()) {
    if (d.kind() == kind) {
      *esc->mutable_due() = d.due();
      *e.mutable_occurred_at() = d.due();
    }
  }
  *e.mutable_recorded_at() = events::ToProtoTime(absl::FromUnixMillis(std::max(now_ms, events::ToMillis(e.occurred_at()))));
  events::StampType(e);
  return e;
}

std::optional<int64_t> NearestPendingDue(const v1::Appeal& appeal) {
  if (appeal.state() == v1::APPEAL_STATE_CLOSED || appeal.state() == v1::APPEAL_STATE_WITHDRAWN) return std::nullopt;
  std::optional<int64_t> nearest;
  for (const auto& d : appeal.deadlines()) {
    if (d.has_met_at()) continue;
    const int64_t due = events::ToMillis(d.due());
    if (!nearest || due < *nearest) nearest = due;
  }
  return nearest;
}

namespace {

constexpr int64_t kNoDeadline = std::numeric_limits<int64_t>::max();

bool IsOpen(v1::AppealState s) { return s != v1::APPEAL_STATE_CLOSED && s != v1::APPEAL_STATE_WITHDRAWN; }

// The work-queue key of an appeal in its current state (nullopt when it is
// not in the queue).
std::optional<std::string> QueueKey(const v1::Appeal& a) {
  if (!IsOpen(a.state())) return std::nullopt;
  return keys::Queue(NearestPendingDue(a).value_or(kNoDeadline), a.appeal_id());
}

v1::DecisionRef RefOf(const v1::Decision& d) {
  v1::DecisionRef ref;
  ref.set_decision_id(d.decision_id());
  ref.set_version(d.version());
  ref.set_eligible(d.eligible());
  ref.set_yearly_amount(d.yearly_amount());
  ref.set_population_partition(-1);
  ref.set_population_offset(-1);
  for (const auto& in : d.inputs()) {
    if (in.topic() == events::kPopulationTopic) {
      ref.set_population_partition(in.partition());
      ref.set_population_offset(in.offset());
    }
  }
  return ref;
}

// The appeals of a family and program that wait for the decision their
// correction produces (a short list, usually empty).
absl::StatusOr<std::vector<std::string>> AwaitingList(projection::Batch& batch, std::string_view kk,
                                                      std::string_view program) {
  std::vector<std::string> ids;
  JARING_ASSIGN_OR_RETURN(std::optional<std::string> list, batch.Get(keys::Awaiting(kk, program)));
  if (list.has_value()) {
    for (std::string_view rest = *list; !rest.empty();) {
      const size_t nl = rest.find('\n');
      ids.emplace_back(rest.substr(0, nl));
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    }
  }
  return ids;
}

void PutAwaitingList(projection::Batch& batch, std::string_view kk, std::string_view program,
                     const std::vector<std::string>& ids) {
  if (ids.empty()) {
    batch.Delete(keys::Awaiting(kk, program));
    return;
  }
  std::string list;
  for (const auto& id : ids) absl::StrAppend(&list, list.empty() ? "" : "\n", id);
  batch.Put(keys::Awaiting(kk, program), list);
}

// Links an upheld appeal with a correction to the first decision for its
// family and program derived from data that includes the correction.
absl::Status TryLinkResult(projection::Batch& batch, std::string_view appeal_id) {
  {
    // Mutable would create the record: look first.
    JARING_ASSIGN_OR_RETURN(std::optional<std::string> present, batch.Get(keys::Appeal(appeal_id)));
    if (!present.has_value()) return absl::OkStatus();
  }
  JARING_ASSIGN_OR_RETURN(v1::Appeal * a, batch.Mutable<v1::Appeal>(keys::Appeal(appeal_id)));
  if (a->appeal_id().empty() || a->correction_event_id().empty() || a->has_resulting_decision()) {
    return absl::OkStatus();
  }
  if (a->correction_offset() < 0) {
    JARING_ASSIGN_OR_RETURN(std::optional<std::string> at, batch.Get(keys::CorrectionAt(appeal_id)));
    if (!at.has_value() || at->size() != 12) return absl::OkStatus();
    a->set_correction_partition(static_cast<int32_t>(DecodeFixed32BE(at->data())));
    a->set_correction_offset(static_cast<int64_t>(DecodeFixed64BE(at->data() + 4)));
  }
  // Decisions are few per family and program: read the versions in order.
  for (int64_t version = 1;; ++version) {
    JARING_ASSIGN_OR_RETURN(std::optional<std::string> raw,
                            batch.Get(keys::DecisionVersion(a->kk_number(), a->program(), version)));
    if (!raw.has_value()) break;
    v1::DecisionRef ref;
    if (!ref.ParseFromString(*raw)) return absl::DataLossError("appeals store: corrupt decision version");
    if (ref.population_partition() == a->correction_partition() &&
        ref.population_offset() >= a->correction_offset()) {
      *a->mutable_resulting_decision() = ref;
      JARING_ASSIGN_OR_RETURN(std::vector<std::string> ids, AwaitingList(batch, a->kk_number(), a->program()));
      std::erase(ids, std::string(appeal_id));
      PutAwaitingList(batch, a->kk_number(), a->program(), ids);
      break;
    }
  }
  return absl::OkStatus();
}

v1::AppealStep* AddStep(v1::Appeal* a, const v1::Envelope& e, std::string_view step, std::string detail) {
  v1::AppealStep* s = a->add_timeline();
  s->set_event_id(e.event_id());
  s->set_step(std::string(step));
  *s->mutable_occurred_at() = e.occurred_at();
  *s->mutable_recorded_at() = e.recorded_at();
  s->set_actor(e.actor());
  s->set_detail(std::move(detail));
  return s;
}

// The step a deadline waits for was reached at `at`.
void MeetDeadline(projection::Batch& batch, v1::Appeal* a, v1::DeadlineKind kind,
                  const google::protobuf::Timestamp& at) {
  for (auto& d : *a->mutable_deadlines()) {
    if (d.kind() != kind || d.has_met_at()) continue;
    *d.mutable_met_at() = at;
    const int64_t due = events::ToMillis(d.due());
    batch.Delete(keys::Pending(due, a->appeal_id(), kind));
    if (events::ToMillis(at) > due && !d.breached()) {
      d.set_breached(true);
      batch.Put(keys::BreachKey(due, a->appeal_id(), kind), "");
    }
  }
}

std::string OutcomeName(v1::AppealOutcome o) {
  switch (o) {
    case v1::APPEAL_OUTCOME_UPHELD:
      return "upheld";
    case v1::APPEAL_OUTCOME_REJECTED:
      return "rejected";
    default:
      return "no recommendation";
  }
}

}  // namespace

absl::Status AppealsApplier::Apply(const projection::Event& event, projection::Batch& batch) {
  const v1::Envelope& e = event.envelope;
  const std::string seen = keys::Seen(e.event_id());
  JARING_ASSIGN_OR_RETURN(std::optional<std::string> already, batch.Get(seen));
  if (already.has_value()) return absl::OkStatus();
  const std::string_view topic = event.record.topic;
  if (topic == events::kPopulationTopic) return ApplyPopulation(event, batch);
  batch.Put(seen, "");
  if (topic == events::kEligibilityTopic) return ApplyDecision(event, batch);
  if (topic == events::kRulesTopic) {
    // Only the programs' ids: what an inclusion request may name.
    if (e.has_rule_set_published()) {
      for (const auto& p : e.rule_set_published().rule_set().programs()) batch.Put(keys::Program(p.program_id()), "");
    }
    return absl::OkStatus();
  }
  if (topic == events::kAppealsTopic) return ApplyAppeal(event, batch);
  return absl::InternalError(absl::StrCat("appeals: unexpected topic ", Av(topic)));
}

absl::Status AppealsApplier::ApplyPopulation(const projection::Event& event, projection::Batch& batch) {
  const v1::Envelope& e = event.envelope;
  const std::string& kk = e.key();
  // The whole envelope: a late report re-folds the family from its events.
  const std::string stored = keys::FamilyEvent(kk, e.event_id());
  JARING_RETURN_IF_ERROR(
      family::FoldIntoBatch(event, batch, {keys::Family(kk), keys::Timeline(kk), stored}).status());
  batch.Put(stored, event.record.value);
  batch.Put(keys::Seen(e.event_id()), stored);
  batch.Put(keys::LastEvent(kk), e.event_id());
  if (e.has_record_corrected() && !e.record_corrected().appeal_id().empty()) {
    const std::string& appeal_id = e.record_corrected().appeal_id();
    std::string at;
    PutFixed32BE(&at, static_cast<uint32_t>(event.record.partition));
    PutFixed64BE(&at, static_cast<uint64_t>(event.record.offset));
    batch.Put(keys::CorrectionAt(appeal_id), at);
    batch.Delete(keys::Outbox(appeal_id));
    JARING_RETURN_IF_ERROR(TryLinkResult(batch, appeal_id));
  }
  return absl::OkStatus();
}

absl::Status AppealsApplier::ApplyDecision(const projection::Event& event, projection::Batch& batch) {
  const v1::Envelope& e = event.envelope;
  if (!e.has_eligibility_decided()) {
    return absl::DataLossError(absl::StrCat("a ", events::PayloadTypeName(e), " on the eligibility topic"));
  }
  const v1::Decision& d = e.eligibility_decided().decision();
  const v1::DecisionRef ref = RefOf(d);
  const std::string bytes = ref.SerializeAsString();
  const std::string version_key = keys::DecisionVersion(d.kk_number(), d.program(), d.version());
  batch.Put(version_key, bytes);
  batch.Put(keys::DecisionById(d.decision_id()), version_key);
  batch.Put(keys::Program(d.program()), "");
  const std::string current_key = keys::Decision(d.kk_number(), d.program());
  JARING_ASSIGN_OR_RETURN(v1::DecisionRef * current, batch.Mutable<v1::DecisionRef>(current_key));
  if (current->version() < d.version()) *current = ref;
  // Appeals waiting for the decision their correction produces.
  JARING_ASSIGN_OR_RETURN(std::vector<std::string> waiting, AwaitingList(batch, d.kk_number(), d.program()));
  for (const std::string& id : waiting) JARING_RETURN_IF_ERROR(TryLinkResult(batch, id));
  return absl::OkStatus();
}

absl::Status AppealsApplier::ApplyAppeal(const projection::Event& event, projection::Batch& batch) {
  const v1::Envelope& e = event.envelope;
  if (!e.request_id().empty()) {
    // Q/ maps a request to what it made, for retries.
    std::string made;
    switch (e.payload_case()) {
      case v1::Envelope::kAppealPolicySet:
        made = keys::Policy(e.appeal_policy_set().region_prefix(), e.appeal_policy_set().kind());
        break;
      case v1::Envelope::kObjectionWindowOpened:
        made = keys::Window(e.objection_window_opened().window_id());
        break;
      default:
        break;
    }
    if (!made.empty()) batch.Put(keys::Request(e.request_id()), made);
  }
  switch (e.payload_case()) {
    case v1::Envelope::kAppealPolicySet: {
      const v1::AppealPolicySet& p = e.appeal_policy_set();
      batch.Put(keys::Policy(p.region_prefix(), p.kind()), p.SerializeAsString());
      return absl::OkStatus();
    }
    case v1::Envelope::kObjectionWindowOpened: {
      const v1::ObjectionWindowOpened& w = e.objection_window_opened();
      batch.Put(keys::Window(w.window_id()), w.SerializeAsString());
      batch.Put(absl::StrCat(keys::WindowIndexPrefix(w.region_prefix(), w.program()), w.window_id()), "");
      return absl::OkStatus();
    }
    default:
      break;
  }

  std::string appeal_id;
  switch (e.payload_case()) {
    case v1::Envelope::kAppealFiled: appeal_id = e.appeal_filed().appeal_id(); break;
    case v1::Envelope::kAppealAssigned: appeal_id = e.appeal_assigned().appeal_id(); break;
    case v1::Envelope::kAppealVerified: appeal_id = e.appeal_verified().appeal_id(); break;
    case v1::Envelope::kAppealDecided: appeal_id = e.appeal_decided().appeal_id(); break;
    case v1::Envelope::kAppealClosed: appeal_id = e.appeal_closed().appeal_id(); break;
    case v1::Envelope::kAppealWithdrawn: appeal_id = e.appeal_withdrawn().appeal_id(); break;
    case v1::Envelope::kAppealEscalated: appeal_id = e.appeal_escalated().appeal_id(); break;
    default:
      return absl::DataLossError(absl::StrCat("a ", events::PayloadTypeName(e), " on the appeals topic"));
  }
  if (!e.request_id().empty()) batch.Put(keys::Request(e.request_id()), keys::Appeal(appeal_id));

  bool existed = false;
  JARING_ASSIGN_OR_RETURN(v1::Appeal * a, batch.Mutable<v1::Appeal>(keys::Appeal(appeal_id), &existed));
  if (existed == e.has_appeal_filed()) {
    if (existed) return absl::OkStatus();  // filed again under the same id: the first stands
    return absl::DataLossError(absl::StrCat(events::PayloadTypeName(e), " for appeal ", appeal_id,
                                            " that was never filed"));
  }
  const std::optional<std::string> queue_before = existed ? QueueKey(*a) : std::nullopt;

  switch (e.payload_case()) {
    case v1::Envelope::kAppealFiled: {
      const v1::AppealFiled& f = e.appeal_filed();
      a->set_appeal_id(f.appeal_id());
      a->set_kind(f.kind());
      a->set_state(v1::APPEAL_STATE_FILED);
      a->set_kk_number(f.kk_number());
      a->set_region_code(f.region_code());
      a->set_program(f.program());
      a->set_decision_id(f.decision_id());
      a->set_decision_version(f.decision_version());
      a->set_filer_relation(f.filer_relation());
      a->set_statement(f.statement());
      if (f.has_proposed_correction()) *a->mutable_proposed_correction() = f.proposed_correction();
      a->set_correction_partition(-1);
      a->set_correction_offset(-1);
      a->set_window_id(f.window_id());
      *a->mutable_filed_at() = e.occurred_at();
      for (auto [kind, due] : {std::pair{v1::DEADLINE_KIND_VERIFICATION, &f.verification_due()},
                               std::pair{v1::DEADLINE_KIND_DECISION, &f.decision_due()}}) {
        v1::AppealDeadline* d = a->add_deadlines();
        d->set_kind(kind);
        *d->mutable_due() = *due;
        batch.Put(keys::Pending(events::ToMillis(*due), appeal_id, kind), "");
      }
      batch.Put(keys::Open(f.kk_number(), f.program(), f.kind()), appeal_id);
      batch.Put(keys::FamilyAppeal(f.kk_number(), events::ToMillis(e.occurred_at()), appeal_id), "");
      batch.Put(keys::Region(f.region_code(), appeal_id), "");
      if (!f.filer_hash().empty()) batch.Put(keys::Filer(appeal_id), f.filer_hash());
      AddStep(a, e, "filed", absl::StrCat(v1::AppealKind_Name(f.kind()), " for ", f.program()));
      break;
    }
    case v1::Envelope::kAppealAssigned:
      a->set_state(v1::APPEAL_STATE_ASSIGNED);
      a->set_verifier_id(e.appeal_assigned().verifier_id());
      AddStep(a, e, "assigned", absl::StrCat("assigned to verifier ", e.appeal_assigned().verifier_id()));
      break;
    case v1::Envelope::kAppealVerified: {
      const v1::AppealVerified& v = e.appeal_verified();
      a->set_state(v1::APPEAL_STATE_VERIFIED);
      a->set_findings(v.findings());
      a->mutable_evidence_refs()->CopyFrom(v.evidence_refs());
      a->set_recommendation(v.recommendation());
      MeetDeadline(batch, a, v1::DEADLINE_KIND_VERIFICATION, e.occurred_at());
      AddStep(a, e, "verified", absl::StrCat("verified by ", v.verifier_id(), ", recommends ",
                                             OutcomeName(v.recommendation())));
      break;
    }
    case v1::Envelope::kAppealDecided: {
      const v1::AppealDecided& d = e.appeal_decided();
      a->set_state(v1::APPEAL_STATE_DECIDED);
      a->set_outcome(d.outcome());
      a->set_outcome_reason(d.reason());
      *a->mutable_decided_at() = e.occurred_at();
      MeetDeadline(batch, a, v1::DEADLINE_KIND_VERIFICATION, e.occurred_at());
      MeetDeadline(batch, a, v1::DEADLINE_KIND_DECISION, e.occurred_at());
      AddStep(a, e, "decided", absl::StrCat(OutcomeName(d.outcome()), ": ", d.reason()));
      if (!d.correction_event_id().empty()) {
        *a->mutable_correction() = d.correction();
        a->set_correction_event_id(d.correction_event_id());
        JARING_ASSIGN_OR_RETURN(std::optional<std::string> at, batch.Get(keys::CorrectionAt(appeal_id)));
        if (!at.has_value()) {
          batch.Put(keys::Outbox(appeal_id), CorrectionEnvelope(e, a->kk_number(), a->region_code()).SerializeAsString());
        }
        JARING_ASSIGN_OR_RETURN(std::vector<std::string> ids, AwaitingList(batch, a->kk_number(), a->program()));
        ids.push_back(appeal_id);
        PutAwaitingList(batch, a->kk_number(), a->program(), ids);
      }
      break;
    }
    case v1::Envelope::kAppealClosed:
      a->set_state(v1::APPEAL_STATE_CLOSED);
      *a->mutable_closed_at() = e.occurred_at();
      AddStep(a, e, "closed", e.appeal_closed().note());
      break;
    case v1::Envelope::kAppealWithdrawn:
      a->set_state(v1::APPEAL_STATE_WITHDRAWN);
      *a->mutable_closed_at() = e.occurred_at();
      // Withdrawal stops the clocks.
      MeetDeadline(batch, a, v1::DEADLINE_KIND_VERIFICATION, e.occurred_at());
      MeetDeadline(batch, a, v1::DEADLINE_KIND_DECISION, e.occurred_at());
      AddStep(a, e, "withdrawn", e.appeal_withdrawn().reason());
      break;
    case v1::Envelope::kAppealEscalated: {
      const v1::AppealEscalated& x = e.appeal_escalated();
      for (auto& d : *a->mutable_deadlines()) {
        if (d.kind() != x.deadline() || !d.escalation_event_id().empty()) continue;
        d.set_escalation_event_id(e.event_id());
        const int64_t due = events::ToMillis(d.due());
        batch.Delete(keys::Pending(due, appeal_id, d.kind()));
        if (!d.breached()) {
          d.set_breached(true);
          batch.Put(keys::BreachKey(due, appeal_id, d.kind()), "");
        }
        a->set_escalated(true);
        AddStep(a, e, "escalated", absl::StrCat(v1::DeadlineKind_Name(d.kind()), " deadline passed in state ",
                                                v1::AppealState_Name(x.state())));
      }
      break;
    }
    default:
      break;
  }

  if (!IsOpen(a->state())) batch.Delete(keys::Open(a->kk_number(), a->program(), a->kind()));
  const std::optional<std::string> queue_after = QueueKey(*a);
  if (queue_before != queue_after) {
    if (queue_before) batch.Delete(*queue_before);
    if (queue_after) batch.Put(*queue_after, "");
  }
  if (e.has_appeal_decided()) JARING_RETURN_IF_ERROR(TryLinkResult(batch, appeal_id));
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> ReadRaw(rocksdb::DB* db, std::string_view key) {
  std::string value;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return projection::RocksError(s);
  return value;
}

}  // namespace jaring::appeals
