#include "services/audit/service.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "libs/auth/guard.h"
#include "libs/auth/keys.h"
#include "libs/base/grpc_status.h"
#include "libs/base/status.h"
#include "libs/base/strings.h"
#include "libs/events/envelope.h"
#include "libs/projection/rocks_error.h"
#include "rocksdb/db.h"
#include "services/eligibility/service.h"
#include "services/eligibility/store.h"
#include "services/ledger/service.h"
#include "services/population/service.h"
#include "services/population/validation.h"

namespace jaring::audit {
namespace {

absl::Status Invalid(std::string_view field, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(Av(field), ": ", Av(why)));
}

absl::Status Needs(std::string_view service, std::string_view question) {
  return absl::FailedPreconditionError(absl::StrCat(Av(question), " needs the ", Av(service),
                                                    " service's store, which this process does not serve"));
}

absl::Status CheckRegion(std::string_view prefix) {
  if (prefix.empty()) return absl::OkStatus();
  return population::ValidateRegionPrefix("region_prefix", prefix);
}

bool InRegion(std::string_view region_code, std::string_view prefix) {
  return region_code.substr(0, prefix.size()) == prefix;
}

template <typename M>
absl::StatusOr<M> Parse(std::string_view bytes, std::string_view what) {
  M m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError(absl::StrCat("audit: ", Av(what), " does not parse"));
  }
  return m;
}

// One family's recorded decisions for one program, oldest first (the
// eligibility store's v/<kk>/<program>/<version> records).
struct DecisionTrail {
  std::string kk;
  std::string program;
  std::vector<v1::Envelope> versions;

  // The decision on record at `at_ms`: the last recorded at or before it.
  const v1::Envelope* OnRecord(int64_t at_ms) const {
    const v1::Envelope* found = nullptr;
    for (const v1::Envelope& e : versions) {
      if (events::ToMillis(e.recorded_at()) <= at_ms) found = &e;
    }
    return found;
  }
};

// Visits the decision trail of every (family, program) with recorded
// decisions, in KK order; `program` empty: every program.
absl::Status VisitTrails(rocksdb::DB* db, std::string_view program,
                         const std::function<absl::Status(const DecisionTrail&)>& visit) {
  DecisionTrail trail;
  auto flush = [&]() -> absl::Status {
    if (trail.versions.empty()) return absl::OkStatus();
    absl::Status st = visit(trail);
    trail.versions.clear();
    return st;
  };
  // Key: "v/" kk "/" program "/" BE64 version.
  JARING_RETURN_IF_ERROR(projection::ScanPrefix(db, "v/", [&](std::string_view key, std::string_view value) -> absl::StatusOr<bool> {
    const size_t kk_end = key.find('/', 2);
    if (kk_end == std::string_view::npos || key.size() < kk_end + 1 + 1 + 8) {
      return absl::DataLossError("audit: malformed decision key in the eligibility store");
    }
    const std::string_view kk = key.substr(2, kk_end - 2);
    const std::string_view prog = key.substr(kk_end + 1, key.size() - 8 - 1 - kk_end - 1);
    if (!program.empty() && prog != program) return true;
    if (kk != trail.kk || prog != trail.program) {
      JARING_RETURN_IF_ERROR(flush());
      trail.kk = std::string(kk);
      trail.program = std::string(prog);
    }
    JARING_ASSIGN_OR_RETURN(v1::Envelope e, Parse<v1::Envelope>(value, "a recorded decision"));
    if (!e.has_eligibility_decided()) return absl::DataLossError("audit: a decision record holds another event");
    trail.versions.push_back(std::move(e));
    return true;
  }));
  return flush();
}

}  // namespace

// ---------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<AuditServiceImpl>> AuditServiceImpl::Create(AuditOptions options) {
  if (options.export_key.size() < 16) {
    return absl::InvalidArgumentError("export_key: the key of audit references needs at least 16 bytes");
  }
  return std::unique_ptr<AuditServiceImpl>(new AuditServiceImpl(std::move(options)));
}

AuditServiceImpl::AuditServiceImpl(AuditOptions options)
    : options_(std::move(options)), clock_(options_.clock != nullptr ? options_.clock : Clock::Real()) {}

std::string AuditServiceImpl::Ref(std::string_view value) const {
  return auth::KeyedHash(options_.export_key, value).substr(0, 16);
}

v1::AuditFamily AuditServiceImpl::Family(const std::string& kk, const std::string& region_code, bool identify) const {
  v1::AuditFamily f;
  f.set_family_ref(Ref(kk));
  f.set_kk_masked(auth::MaskNumber(kk));
  if (identify) f.set_kk_number(kk);
  f.set_region_code(region_code);
  return f;
}

absl::StatusOr<v1::GetAuditSourceResponse> AuditServiceImpl::GetAuditSource() const {
  v1::GetAuditSourceResponse s;
  s.set_kind(options_.kind);
  *s.mutable_as_of() = events::ToProtoTime(clock_->Now());
  for (const std::string& name : options_.services) s.add_services(name);
  auto add = [&](std::string_view name, const projection::Projection& p) {
    v1::ServiceEvents* e = s.add_events();
    e->set_service(std::string(name));
    e->set_records_read(p.RecordsRead());
    auto it = options_.filtered_out.find(std::string(name));
    e->set_filtered_out(it != options_.filtered_out.end() ? it->second : p.stats().filtered_out);
  };
  if (options_.population) add("population", options_.population->projection());
  if (options_.eligibility) add("eligibility", options_.eligibility->projection());
  if (options_.ledger) add("ledger", options_.ledger->projection());
  return s;
}

// ------------------------------------------------------------- eligibility

absl::StatusOr<v1::ListEligibleOnResponse> AuditServiceImpl::ListEligibleOn(const v1::ListEligibleOnRequest& r) const {
  if (r.program().empty()) return Invalid("program", "is required (PKH, BPNT, PBI_JK, BLT_DD)");
  if (!r.has_on()) return Invalid("on", "is required");
  JARING_RETURN_IF_ERROR(CheckRegion(r.region_prefix()));
  if (options_.eligibility == nullptr) return Needs("eligibility", "who was eligible");
  const int64_t now_ms = absl::ToUnixMillis(clock_->Now());
  const int64_t on_ms = std::min(events::ToMillis(r.on()), now_ms);
  v1::ListEligibleOnResponse resp;
  std::map<std::string, int64_t> versions;
  JARING_RETURN_IF_ERROR(VisitTrails(
      options_.eligibility->projection().db(), r.program(), [&](const DecisionTrail& t) -> absl::Status {
        const v1::Envelope* e = t.OnRecord(on_ms);
        if (e == nullptr) return absl::OkStatus();
        const v1::EligibilityDecided& ed = e->eligibility_decided();
        const v1::Decision& d = ed.decision();
        if (!d.eligible() || !InRegion(d.region_code(), r.region_prefix())) return absl::OkStatus();
        v1::EligibleFamily* row = resp.add_families();
        *row->mutable_family() = Family(t.kk, d.region_code(), r.identify());
        row->set_decision_id(d.decision_id());
        row->set_decision_version(d.version());
        row->set_rule_version(d.rule_version());
        row->set_rule_hash(d.rule_hash());
        row->set_dtsen_round(d.dtsen_round());
        row->set_decile(d.decile());
        row->set_yearly_amount(d.yearly_amount());
        row->set_components(eligibility::BeneficiaryComponents(d));
        row->set_trigger(ed.trigger());
        *row->mutable_recorded_at() = e->recorded_at();
        *row->mutable_reasons() = d.reasons();
        resp.set_total_families(resp.total_families() + 1);
        resp.set_total_yearly_amount(resp.total_yearly_amount() + d.yearly_amount());
        versions[d.rule_version()]++;
        if (r.check_current_knowledge()) {
          v1::GetDecisionRequest q;
          q.set_kk_number(t.kk);
          q.set_program(t.program);
          *q.mutable_as_of() = events::ToProtoTime(absl::FromUnixMillis(on_ms));
          *q.mutable_as_known_at() = events::ToProtoTime(absl::FromUnixMillis(now_ms));
          absl::StatusOr<v1::GetDecisionResponse> now = options_.eligibility->GetDecision(q);
          row->set_checked(true);
          if (now.ok()) {
            const v1::Decision& n = now->decision();
            row->set_agrees_now(n.eligible() && n.yearly_amount() == d.yearly_amount());
            if (!row->agrees_now()) *row->mutable_reasons_now() = n.reasons();
          } else if (absl::IsNotFound(now.status()) || absl::IsFailedPrecondition(now.status())) {
            // As known now, the family did not exist then, or no rules were.
            row->set_agrees_now(false);
            v1::Reason* why = row->add_reasons_now();
            why->set_text_en(std::string(now.status().message()));
            why->set_text_id(std::string(now.status().message()));
          } else {
            return now.status();
          }
          if (!row->agrees_now()) resp.set_disagreeing_now(resp.disagreeing_now() + 1);
        }
        return absl::OkStatus();
      }));
  for (const auto& [version, n] : versions) {
    v1::VersionCount* v = resp.add_rule_versions();
    v->set_version(version);
    v->set_families(n);
  }
  return resp;
}

absl::StatusOr<v1::ListEligibilityChangesResponse> AuditServiceImpl::ListEligibilityChanges(
    const v1::ListEligibilityChangesRequest& r) const {
  if (!r.has_from()) return Invalid("from", "is required");
  if (!r.has_to()) return Invalid("to", "is required");
  JARING_RETURN_IF_ERROR(CheckRegion(r.region_prefix()));
  const int64_t now_ms = absl::ToUnixMillis(clock_->Now());
  const int64_t from_ms = std::min(events::ToMillis(r.from()), now_ms);
  const int64_t to_ms = std::min(events::ToMillis(r.to()), now_ms);
  if (events::ToMillis(r.from()) > events::ToMillis(r.to())) return Invalid("to", "is before from");
  if (options_.eligibility == nullptr) return Needs("eligibility", "who entered and left");
  v1::ListEligibilityChangesResponse resp;
  std::map<std::string, v1::ProgramChangeTotals> totals;
  JARING_RETURN_IF_ERROR(VisitTrails(
      options_.eligibility->projection().db(), r.program(), [&](const DecisionTrail& t) -> absl::Status {
        const v1::Envelope* before = t.OnRecord(from_ms);
        const v1::Envelope* after = t.OnRecord(to_ms);
        if (after == nullptr) return absl::OkStatus();
        const v1::Decision& da = after->eligibility_decided().decision();
        if (!InRegion(da.region_code(), r.region_prefix())) return absl::OkStatus();
        const bool was = before != nullptr && before->eligibility_decided().decision().eligible();
        const bool is = da.eligible();
        v1::ProgramChangeTotals& tot = totals[t.program];
        tot.set_program(t.program);
        if (was) tot.set_eligible_from(tot.eligible_from() + 1);
        if (is) tot.set_eligible_to(tot.eligible_to() + 1);
        if (was == is) return absl::OkStatus();
        v1::EligibilityChange* c = resp.add_changes();
        *c->mutable_family() = Family(t.kk, da.region_code(), r.identify());
        c->set_program(t.program);
        c->set_entered(is);
        c->set_yearly_amount_before(was ? before->eligibility_decided().decision().yearly_amount() : 0);
        c->set_yearly_amount_after(da.yearly_amount());
        c->set_decision_id(da.decision_id());
        c->set_decision_version(da.version());
        c->set_rule_version(da.rule_version());
        c->set_trigger(after->eligibility_decided().trigger());
        *c->mutable_recorded_at() = after->recorded_at();
        *c->mutable_reasons() = da.reasons();
        if (is) {
          tot.set_entered(tot.entered() + 1);
        } else {
          tot.set_left(tot.left() + 1);
        }
        return absl::OkStatus();
      }));
  for (auto& [program, t] : totals) *resp.add_totals() = std::move(t);
  return resp;
}

// ------------------------------------------------------------------ ledger

absl::StatusOr<v1::ListPaymentsWithoutLivingMemberResponse> AuditServiceImpl::ListPaymentsWithoutLivingMember(
    const v1::ListPaymentsWithoutLivingMemberRequest& r) const {
  JARING_RETURN_IF_ERROR(CheckRegion(r.region_prefix()));
  if (options_.ledger == nullptr) return Needs("ledger", "payments to families with no living member");
  rocksdb::DB* db = options_.ledger->projection().db();
  const int64_t now_ms = absl::ToUnixMillis(clock_->Now());
  std::map<std::string, v1::GetCycleResponse> cycles;
  JARING_ASSIGN_OR_RETURN(std::vector<v1::GetCycleResponse> all_cycles, options_.ledger->ListCycles());
  for (v1::GetCycleResponse& c : all_cycles) cycles.emplace(c.cycle_id(), std::move(c));
  v1::ListPaymentsWithoutLivingMemberResponse resp;
  JARING_RETURN_IF_ERROR(projection::ScanPrefix(db, "e/", [&](std::string_view, std::string_view value) -> absl::StatusOr<bool> {
    JARING_ASSIGN_OR_RETURN(v1::Entitlement ent, Parse<v1::Entitlement>(value, "an entitlement"));
    if (ent.status() != v1::ENTITLEMENT_STATUS_PAID) return true;
    const v1::EntitlementCreated& c = ent.created();
    if (!InRegion(c.region_code(), r.region_prefix())) return true;
    auto it = cycles.find(ent.cycle_id());
    if (it == cycles.end()) {
      return absl::DataLossError(absl::StrCat("audit: cycle ", ent.cycle_id(), " of an entitlement is missing"));
    }
    const int64_t cutoff_ms = events::ToMillis(it->second.cycle().cutoff());
    JARING_ASSIGN_OR_RETURN(bool alive, ledger_service::HadLivingMember(db, c.kk_number(), cutoff_ms, now_ms));
    if (alive) return true;
    v1::PaymentWithoutLivingMember* p = resp.add_payments();
    *p->mutable_family() = Family(c.kk_number(), c.region_code(), r.identify());
    p->set_cycle_id(ent.cycle_id());
    p->set_program(c.program());
    p->set_period(c.period());
    p->set_entitlement_id(c.entitlement_id());
    p->set_amount(c.amount());
    *p->mutable_cutoff() = it->second.cycle().cutoff();
    p->set_settled_on(ent.settled_on());
    const std::string claim_id = ledger_service::RecoveryClaimId(c.entitlement_id());
    JARING_ASSIGN_OR_RETURN(std::optional<std::string> claim, ledger_service::Read(db, ledger_service::keys::Claim(claim_id)));
    if (claim) p->set_recovery_claim_id(claim_id);
    resp.set_total_amount(resp.total_amount() + c.amount());
    if (!claim) resp.set_unclaimed_amount(resp.unclaimed_amount() + c.amount());
    return true;
  }));
  return resp;
}

absl::StatusOr<v1::ListCycleDiscrepanciesResponse> AuditServiceImpl::ListCycleDiscrepancies(
    const v1::ListCycleDiscrepanciesRequest& r) const {
  JARING_RETURN_IF_ERROR(CheckRegion(r.region_prefix()));
  if (options_.ledger == nullptr) return Needs("ledger", "cycle totals");
  rocksdb::DB* db = options_.ledger->projection().db();
  v1::ListCycleDiscrepanciesResponse resp;
  JARING_ASSIGN_OR_RETURN(std::vector<v1::GetCycleResponse> cycles, options_.ledger->ListCycles());
  for (const v1::GetCycleResponse& cycle : cycles) {
    // A national cycle ("") belongs to every region; a regional one to its prefix.
    const std::string& prefix = cycle.cycle().region_prefix();
    if (!r.region_prefix().empty() && !InRegion(prefix, r.region_prefix()) && !InRegion(r.region_prefix(), prefix)) {
      continue;
    }
    v1::CycleCheck check;
    check.set_cycle_id(cycle.cycle_id());
    check.set_program(cycle.cycle().program());
    check.set_period(cycle.cycle().period());
    check.set_region_prefix(cycle.cycle().region_prefix());
    check.set_closed(cycle.closed());
    check.set_families(cycle.cycle().families());
    check.set_total_amount(cycle.cycle().total_amount());
    check.set_paid_amount(cycle.paid_amount() - cycle.returned_amount());
    std::set<std::string> seen_families;
    JARING_RETURN_IF_ERROR(projection::ScanPrefix(db, ledger_service::keys::CycleFamilyPrefix(cycle.cycle_id()),
                                [&](std::string_view, std::string_view id) -> absl::StatusOr<bool> {
                                  JARING_ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                                                          ledger_service::Read(db, ledger_service::keys::Entitlement(id)));
                                  if (!bytes) {
                                    check.set_misfiled(check.misfiled() + 1);
                                    return true;
                                  }
                                  JARING_ASSIGN_OR_RETURN(v1::Entitlement ent,
                                                          Parse<v1::Entitlement>(*bytes, "an entitlement"));
                                  const v1::EntitlementCreated& c = ent.created();
                                  if (ent.cycle_id() != cycle.cycle_id() || c.program() != cycle.cycle().program() ||
                                      c.period() != cycle.cycle().period() ||
                                      !seen_families.insert(c.kk_number()).second) {
                                    check.set_misfiled(check.misfiled() + 1);
                                  }
                                  check.set_entitlements(check.entitlements() + 1);
                                  check.set_entitled_amount(check.entitled_amount() + c.amount());
                                  if (ent.status() == v1::ENTITLEMENT_STATUS_PAID) {
                                    check.set_settled_amount(check.settled_amount() + c.amount());
                                  }
                                  return true;
                                }));
    if (check.entitlements() != check.families()) {
      check.add_problems(absl::StrCat("the cycle names ", check.families(), " families; ", check.entitlements(),
                                      " entitlements are recorded"));
    }
    if (check.entitled_amount() != check.total_amount()) {
      check.add_problems(absl::StrCat("the cycle totals Rp", check.total_amount(), "; its entitlements add up to Rp",
                                      check.entitled_amount()));
    }
    if (check.settled_amount() != check.paid_amount()) {
      check.add_problems(absl::StrCat("the channel's statements settled Rp", check.paid_amount(),
                                      " net of returns; the entitlements marked paid add up to Rp",
                                      check.settled_amount()));
    }
    if (check.misfiled() > 0) {
      check.add_problems(absl::StrCat(check.misfiled(),
                                      " entitlements belong to another cycle, program or period, or repeat a family"));
    }
    resp.set_cycles_checked(resp.cycles_checked() + 1);
    if (!check.problems().empty()) resp.set_cycles_disagreeing(resp.cycles_disagreeing() + 1);
    if (!check.problems().empty() || r.include_consistent()) *resp.add_cycles() = std::move(check);
  }
  return resp;
}

// -------------------------------------------------------------- population

absl::StatusOr<v1::ListPeopleInTwoPlacesResponse> AuditServiceImpl::ListPeopleInTwoPlaces(
    const v1::ListPeopleInTwoPlacesRequest& r) const {
  JARING_RETURN_IF_ERROR(CheckRegion(r.region_prefix()));
  if (options_.population == nullptr) return Needs("population", "people in two places");
  const population::PopulationReader& reader = options_.population->reader();
  v1::ListPeopleInTwoPlacesResponse resp;
  JARING_RETURN_IF_ERROR(projection::ScanPrefix(options_.population->projection().db(), "n/",
                              [&](std::string_view key, std::string_view value) -> absl::StatusOr<bool> {
    std::optional<population::MembershipList> list = population::MembershipList::Decode(value);
    if (!list) return absl::DataLossError("audit: a membership list in the population store does not parse");
    std::set<std::string> families;
    for (const population::Membership& m : list->memberships) {
      if (m.alive) families.insert(m.kk_number);
    }
    if (families.size() < 2) return true;
    const std::string nik(key.substr(2));
    v1::PersonInTwoPlaces person;
    person.set_person_ref(Ref(nik));
    person.set_nik_masked(auth::MaskNumber(nik));
    std::set<std::string> regencies;
    bool in_region = r.region_prefix().empty();
    for (const std::string& kk : families) {
      absl::StatusOr<v1::Family> f = reader.GetFamily(kk);
      if (!f.ok()) return f.status();
      for (const v1::FamilyMember& m : f->members()) {
        if (m.member().nik() == nik && person.name_masked().empty()) {
          person.set_name_masked(auth::MaskName(m.member().full_name()));
        }
      }
      regencies.insert(f->region_code().substr(0, 5));  // PP.RR
      in_region = in_region || InRegion(f->region_code(), r.region_prefix());
      *person.add_families() = Family(kk, f->region_code(), r.identify());
    }
    if (!in_region) return true;
    person.set_two_regions(regencies.size() > 1);
    resp.set_in_two_families(resp.in_two_families() + 1);
    if (person.two_regions()) resp.set_in_two_regions(resp.in_two_regions() + 1);
    *resp.add_people() = std::move(person);
    return true;
  }));
  return resp;
}

// --------------------------------------------------------------- handlers

grpc::Status AuditServiceImpl::GetAuditSource(grpc::ServerContext* context, const v1::GetAuditSourceRequest*,
                                              v1::GetAuditSourceResponse* out) {
  JARING_AUTHORIZE(context);
  return Reply(GetAuditSource(), out);
}
grpc::Status AuditServiceImpl::ListEligibleOn(grpc::ServerContext* context, const v1::ListEligibleOnRequest* r,
                                              v1::ListEligibleOnResponse* out) {
  JARING_AUTHORIZE(context);
  return Reply(ListEligibleOn(*r), out);
}
grpc::Status AuditServiceImpl::ListEligibilityChanges(grpc::ServerContext* context,
                                                      const v1::ListEligibilityChangesRequest* r,
                                                      v1::ListEligibilityChangesResponse* out) {
  JARING_AUTHORIZE(context);
  return Reply(ListEligibilityChanges(*r), out);
}
grpc::Status AuditServiceImpl::ListPaymentsWithoutLivingMember(grpc::ServerContext* context,
                                                               const v1::ListPaymentsWithoutLivingMemberRequest* r,
                                                               v1::ListPaymentsWithoutLivingMemberResponse* out) {
  JARING_AUTHORIZE(context);
  return Reply(ListPaymentsWithoutLivingMember(*r), out);
}
grpc::Status AuditServiceImpl::ListPeopleInTwoPlaces(grpc::ServerContext* context,
                                                     const v1::ListPeopleInTwoPlacesRequest* r,
                                                     v1::ListPeopleInTwoPlacesResponse* out) {
  JARING_AUTHORIZE(context);
  return Reply(ListPeopleInTwoPlaces(*r), out);
}
grpc::Status AuditServiceImpl::ListCycleDiscrepancies(grpc::ServerContext* context,
                                                      const v1::ListCycleDiscrepanciesRequest* r,
                                                      v1::ListCycleDiscrepanciesResponse* out) {
  JARING_AUTHORIZE(context);
  return Reply(ListCycleDiscrepancies(*r), out);
}

}  // namespace jaring::audit
