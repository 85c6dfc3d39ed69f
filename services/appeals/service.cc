#include "services/appeals/service.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <span>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/strings/ascii.h"
#include "libs/auth/guard.h"
#include "libs/base/coding.h"
#include "libs/base/grpc_status.h"
#include "libs/base/hash.h"
#include "libs/base/status.h"
#include "libs/base/strings.h"
#include "libs/events/envelope.h"
#include "libs/events/topics.h"
#include "libs/family/fold.h"
#include "libs/projection/rocks_error.h"
#include "rocksdb/db.h"
#include "services/population/validation.h"
#include "libs/validation/validation.h"

namespace jaring::appeals {

using population::TodayIn;

namespace {

absl::Status Invalid(std::string_view field, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(Av(field), ": ", Av(why)));
}
absl::Status Refused(std::string_view why) { return absl::FailedPreconditionError(Av(why)); }

constexpr std::string_view kUsedForAnotherRequest =
    "was already used for a different request; a retry repeats the request exactly, and a new request needs a new "
    "request_id";

// Free text of the appeals' commands (statements, findings, notes, labels):
// the shared text rules, several lines allowed, at most
// validation::kMaxLongText characters.
absl::Status ValidateText(std::string_view field, std::string_view text, bool required) {
  return validation::ValidateText(
      field, text, {.required = required, .max_chars = validation::kMaxLongText, .single_line = false});
}

absl::Status ValidateId(std::string_view field, std::string_view id) {
  if (id.empty()) return Invalid(field, "is required");
  if (id.size() > 128) return Invalid(field, "is longer than 128 characters");
  for (char c : id) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == ':')) {
      return Invalid(field, "use only letters, digits and . _ : -");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateProgram(std::string_view field, std::string_view program) {
  if (program.empty()) return Invalid(field, "is required");
  if (program.size() > 32) return Invalid(field, "is longer than 32 characters");
  for (char c : program) {
    if (!(absl::ascii_isupper(static_cast<unsigned char>(c)) || absl::ascii_isdigit(static_cast<unsigned char>(c)) ||
          c == '_')) {
      return Invalid(field, "is a program id such as PKH, BPNT, PBI_JK or BLT_DD");
    }
  }
  return absl::OkStatus();
}

std::string StateName(v1::AppealState s) {
  std::string n = v1::AppealState_Name(s);
  absl::string_view v = n;
  absl::ConsumePrefix(&v, "APPEAL_STATE_");
  return absl::AsciiStrToLower(v);
}


// "appeal X is <state>; <what> needs <allowed>": the FAILED_PRECONDITION of
// an illegal transition.
absl::Status IllegalTransition(const v1::Appeal& a, std::string_view what, std::string_view allowed) {
  return Refused(absl::StrCat("appeal ", a.appeal_id(), " is ", StateName(a.state()), "; ", Av(what), " needs ",
                              Av(allowed)));
}

bool Is(const v1::Appeal& a, std::initializer_list<v1::AppealState> states) {
  return std::find(states.begin(), states.end(), a.state()) != states.end();
}

std::string DescribeDecision(const v1::DecisionRef& d, std::string_view program) {
  return absl::StrCat(d.decision_id(), " (version ", d.version(), ", ", Av(program), " ",
                      d.eligible() ? "eligible" : "not eligible", ")");
}

template <typename M>
absl::StatusOr<M> Parse(std::string_view bytes, std::string_view what) {
  M m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError(absl::StrCat("appeals store: cannot parse ", Av(what)));
  }
  return m;
}


// The region code's prefixes, longest first: "52.71.03.1002", "52.71.03",
// "52.71", "52".
std::vector<std::string> RegionPrefixes(std::string_view region) {
  std::vector<std::string> out;
  std::string_view r = region;
  while (!r.empty()) {
    out.emplace_back(r);
    const size_t dot = r.rfind('.');
    if (dot == std::string_view::npos) break;
    r = r.substr(0, dot);
  }
  return out;
}

bool InRegion(std::string_view region, std::string_view prefix) {
  if (prefix.empty()) return true;
  return region.substr(0, prefix.size()) == prefix && (region.size() == prefix.size() || region[prefix.size()] == '.');
}

// The appeal as the family sees it: an exclusion report without who filed
// it or what they wrote.
v1::Appeal ForFamily(v1::Appeal a) {
  if (a.kind() == v1::APPEAL_KIND_EXCLUSION_REPORT) {
    a.clear_statement();
    a.set_filer_relation(v1::FILER_RELATION_UNSPECIFIED);
    auto& steps = *a.mutable_timeline();
    for (auto& s : steps) {
      if (s.step() == "filed") s.clear_actor();
    }
  }
  return a;
}

}  // namespace

// ---------------------------------------------------------------------------
// Keys

// ---------------------------------------------------------------------------
// Life cycle

AppealsServiceImpl::AppealsServiceImpl(eventlog::EventLog* log, ServiceOptions options)
    : log_(log), options_(std::move(options)), clock_(options_.clock ? options_.clock : Clock::Real()) {}

AppealsServiceImpl::~AppealsServiceImpl() {
  stop_.Notify();
  if (keeper_.joinable()) keeper_.join();
  if (projection_) projection_->Stop();
}

namespace {
projection::Options ProjectionOptions(const std::string& dir) {
  projection::Options po;
  po.dir = dir;
  po.topics = {std::string(events::kPopulationTopic), std::string(events::kRulesTopic),
               std::string(events::kEligibilityTopic), std::string(events::kAppealsTopic)};
  return po;
}
}  // namespace

absl::Status AppealsServiceImpl::BuildAsOf(eventlog::EventLog* log, const std::string& dir,
                                           const projection::Bound& bound, projection::Stats* stats) {
  AppealsApplier applier;
  return projection::BuildAsOf(log, &applier, ProjectionOptions(dir), bound, stats);
}

absl::StatusOr<std::unique_ptr<AppealsServiceImpl>> AppealsServiceImpl::Create(eventlog::EventLog* log,
                                                                               ServiceOptions options) {
  if (options.mode == projection::Mode::kWriter && options.filer_key.size() < 16) {
    return absl::InvalidArgumentError("filer_key: the key of filers' NIK hashes needs at least 16 bytes");
  }
  std::unique_ptr<AppealsServiceImpl> s(new AppealsServiceImpl(log, std::move(options)));
  projection::Options po = ProjectionOptions(s->options_.store_dir);
  JARING_ASSIGN_OR_RETURN(s->projection_, projection::OpenFor(s->options_.mode, log, &s->applier_, po));
  if (s->options_.mode != projection::Mode::kWriter) return s;  // reads only: no keeper, no outbox
  {
    // Corrections decided before a crash but never appended.
    absl::MutexLock l(&s->write_mu_);
    JARING_RETURN_IF_ERROR(s->FlushOutbox().status());
  }
  if (s->options_.tick_interval > absl::ZeroDuration()) {
    AppealsServiceImpl* self = s.get();
    s->keeper_ = std::thread([self] { self->RunKeeper(); });
  }
  return s;
}

void AppealsServiceImpl::RunKeeper() {
  while (!stop_.WaitForNotificationWithTimeout(options_.tick_interval)) {
    absl::StatusOr<int> n = Tick();
    if (!n.ok()) std::fprintf(stderr, "appeals: clock keeper: %s\n", n.status().ToString().c_str());
  }
}

absl::StatusOr<int> AppealsServiceImpl::Tick() {
  absl::MutexLock l(&write_mu_);
  // Everything appended so far (by this process or an earlier one) is
  // applied before deciding what is due, so nothing is escalated twice.
  JARING_RETURN_IF_ERROR(projection_->CatchUp());
  JARING_ASSIGN_OR_RETURN(int escalated, EscalateDue(absl::ToUnixMillis(clock_->Now())));
  JARING_ASSIGN_OR_RETURN(int corrected, FlushOutbox());
  return escalated + corrected;
}

absl::StatusOr<int> AppealsServiceImpl::EscalateDue(int64_t now_ms) {
  std::vector<std::pair<std::string, v1::DeadlineKind>> due;
  JARING_RETURN_IF_ERROR(projection::ScanPrefix(projection_->db(), keys::kPendingPrefix,
                              [&](std::string_view key, std::string_view) -> absl::StatusOr<bool> {
                                std::optional<DeadlineKey> d =
                                    DecodeDeadlineKey(key.substr(keys::kPendingPrefix.size()));
                                if (!d.has_value()) return absl::DataLossError("appeals store: bad pending key");
                                if (d->due_ms > now_ms) return false;
                                due.emplace_back(std::move(d->appeal_id), d->kind);
                                return true;
                              }));
  int appended = 0;
  for (const auto& [id, kind] : due) {
    JARING_ASSIGN_OR_RETURN(v1::Appeal a, ReadAppeal(id));
    JARING_RETURN_IF_ERROR(AppendAndApply(events::kAppealsTopic, {EscalationEnvelope(a, kind, now_ms)}));
    ++appended;
  }
  return appended;
}

absl::StatusOr<int> AppealsServiceImpl::FlushOutbox() {
  std::vector<v1::Envelope> pending;
  JARING_RETURN_IF_ERROR(projection::ScanPrefix(projection_->db(), keys::kOutboxPrefix,
                              [&](std::string_view, std::string_view value) -> absl::StatusOr<bool> {
                                JARING_ASSIGN_OR_RETURN(v1::Envelope e, Parse<v1::Envelope>(value, "outbox entry"));
                                pending.push_back(std::move(e));
                                return true;
                              }));
  const int n = static_cast<int>(pending.size());
  for (auto& e : pending) JARING_RETURN_IF_ERROR(AppendAndApply(events::kPopulationTopic, {std::move(e)}));
  return n;
}

// ---------------------------------------------------------------------------
// Helpers

absl::Status AppealsServiceImpl::CatchUpKey(std::string_view topic, std::string_view key) {
  JARING_RETURN_IF_ERROR(projection::RequireWriter(options_.mode, "appeals"));
  const std::string t(topic);
  JARING_ASSIGN_OR_RETURN(int32_t partitions, log_->PartitionCount(t));
  const int32_t p = PartitionForKey(key, partitions);
  JARING_ASSIGN_OR_RETURN(int64_t end, log_->EndOffset(t, p));
  return projection_->WaitFor(t, p, end, options_.apply_timeout);
}

absl::Status AppealsServiceImpl::AppendAndApply(std::string_view topic, std::vector<v1::Envelope> envelopes) {
  JARING_RETURN_IF_ERROR(projection::RequireWriter(options_.mode, "appeals"));
  std::vector<eventlog::Record> records;
  for (auto& e : envelopes) {
    events::StampType(e);
    records.push_back(events::ToRecord(e));
  }
  JARING_ASSIGN_OR_RETURN(std::vector<eventlog::Position> pos, log_->Append(std::string(topic), records));
  for (const auto& p : pos) {
    JARING_RETURN_IF_ERROR(projection_->WaitFor(topic, p.partition, p.offset + 1, options_.apply_timeout));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Appeal> AppealsServiceImpl::ReadAppeal(std::string_view appeal_id) {
  JARING_ASSIGN_OR_RETURN(std::optional<v1::Appeal> a, ReadMessage<v1::Appeal>(projection_->db(), keys::Appeal(appeal_id)));
  if (!a.has_value()) return absl::NotFoundError(absl::StrCat("appeal_id: no appeal ", Av(appeal_id)));
  return *std::move(a);
}

absl::StatusOr<std::optional<v1::Appeal>> AppealsServiceImpl::Retried(std::string_view request_id) {
  JARING_ASSIGN_OR_RETURN(std::optional<std::string> made, ReadRaw(projection_->db(), keys::Request(request_id)));
  if (!made.has_value() || !absl::StartsWith(*made, "a/")) return std::nullopt;
  return ReadMessage<v1::Appeal>(projection_->db(), *made);
}

absl::StatusOr<AppealsServiceImpl::Who> AppealsServiceImpl::WhoOf(std::string_view request_id,
                                                                  std::string_view label,
                                                                  const auth::Principal& caller) {
  JARING_RETURN_IF_ERROR(validation::ValidateRequestId("request_id", request_id));
  JARING_RETURN_IF_ERROR(validation::ValidateText("actor", label, {.required = true}));
  std::string actor = auth::ActorId(caller);
  if (actor.empty()) actor = std::string(label);
  return Who{auth::ScopedRequestId(auth::RequestScope(caller), request_id), std::move(actor), std::string(label)};
}

absl::StatusOr<AppealsServiceImpl::Loaded> AppealsServiceImpl::LoadForCommand(const Who& who,
                                                                              std::string_view appeal_id) {
  const std::string_view request_id = who.request_id;
  JARING_RETURN_IF_ERROR(ValidateId("appeal_id", appeal_id));
  JARING_ASSIGN_OR_RETURN(v1::Appeal a, ReadAppeal(appeal_id));
  JARING_RETURN_IF_ERROR(CatchUpKey(events::kAppealsTopic, a.kk_number()));
  JARING_ASSIGN_OR_RETURN(std::optional<v1::Appeal> retried, Retried(request_id));
  if (retried.has_value()) {
    if (retried->appeal_id() != appeal_id) {
      return Invalid("request_id", kUsedForAnotherRequest);
    }
    return Loaded{*std::move(retried), true};
  }
  JARING_ASSIGN_OR_RETURN(a, ReadAppeal(appeal_id));
  return Loaded{std::move(a), false};
}

v1::Envelope AppealsServiceImpl::NewEnvelope(const v1::Appeal& appeal, const Who& who, absl::Time now) const {
  const std::string_view request_id = who.request_id;
  v1::Envelope e;
  e.set_event_id(events::DeterministicId("appeal-command", {request_id}));
  e.set_key(appeal.kk_number());
  e.set_region_code(appeal.region_code());
  *e.mutable_occurred_at() = events::ToProtoTime(now);
  *e.mutable_recorded_at() = events::ToProtoTime(now);
  e.set_source(v1::SOURCE_DINSOS);
  e.set_actor(who.actor);
  e.set_actor_label(who.label);
  e.set_correlation_id(appeal.appeal_id());
  e.set_request_id(std::string(request_id));
  return e;
}

absl::StatusOr<v1::AppealPolicySet> AppealsServiceImpl::PolicyFor(std::string_view region_code, v1::AppealKind kind) {
  for (const std::string& prefix : RegionPrefixes(region_code)) {
    JARING_ASSIGN_OR_RETURN(std::optional<v1::AppealPolicySet> p,
                            ReadMessage<v1::AppealPolicySet>(projection_->db(), keys::Policy(prefix, kind)));
    if (p.has_value()) return *std::move(p);
  }
  v1::AppealPolicySet d;
  d.set_kind(kind);
  d.set_verification_days(kDefaultVerificationDays);
  d.set_decision_days(kDefaultDecisionDays);
  d.set_objection_window_days(kDefaultObjectionWindowDays);
  return d;
}

// ---------------------------------------------------------------------------
// Commands

absl::StatusOr<v1::FileAppealResponse> AppealsServiceImpl::FileAppeal(const v1::FileAppealRequest& r,
    const auth::Principal& caller) {
  JARING_ASSIGN_OR_RETURN(const Who who, WhoOf(r.request_id(), r.actor(), caller));
  const absl::Time now = clock_->Now();
  const absl::CivilDay today = TodayIn(now);
  if (r.kind() == v1::APPEAL_KIND_UNSPECIFIED || !v1::AppealKind_IsValid(r.kind())) {
    return Invalid("kind", "is inclusion_request, exclusion_report or data_correction");
  }
  JARING_RETURN_IF_ERROR(population::ValidateKkNumber("kk_number", r.kk_number(), today));
  // An exclusion report names the decision that lists the family. A data
  // correction names the decision it contests, or only the program when the
  // family has no recorded decision for it (checked below). An inclusion
  // request names the program.
  const bool names_decision = !r.decision_id().empty();
  if (r.kind() == v1::APPEAL_KIND_INCLUSION_REQUEST && names_decision) {
    return Invalid("decision_id", "an inclusion request names the family and program, not a decision");
  }
  if (r.kind() == v1::APPEAL_KIND_EXCLUSION_REPORT && !names_decision) {
    return Invalid("decision_id", "is required for an exclusion report: name the decision that lists the family");
  }
  if (names_decision) {
    JARING_RETURN_IF_ERROR(ValidateId("decision_id", r.decision_id()));
    if (r.decision_version() <= 0) return Invalid("decision_version", "is required (1 or more)");
    if (!r.program().empty()) JARING_RETURN_IF_ERROR(ValidateProgram("program", r.program()));
  } else {
    JARING_RETURN_IF_ERROR(ValidateProgram("program", r.program()));
  }
  if (r.filer_relation() == v1::FILER_RELATION_UNSPECIFIED || !v1::FilerRelation_IsValid(r.filer_relation())) {
    return Invalid("filer_relation", "is member, on_behalf, community or office");
  }
  if (r.filer_relation() == v1::FILER_RELATION_OFFICE) {
    if (!r.filer_nik().empty()) return Invalid("filer_nik", "is not given when the office files");
  } else {
    JARING_RETURN_IF_ERROR(population::ValidateNik("filer_nik", r.filer_nik(), today));
  }
  if (r.kind() == v1::APPEAL_KIND_EXCLUSION_REPORT && r.filer_relation() == v1::FILER_RELATION_MEMBER) {
    return Invalid("filer_relation", "a family does not report itself; file a data correction");
  }
  if (r.kind() != v1::APPEAL_KIND_EXCLUSION_REPORT && r.filer_relation() == v1::FILER_RELATION_COMMUNITY) {
    return Invalid("filer_relation", "community members file exclusion reports; use on_behalf for a family");
  }
  JARING_RETURN_IF_ERROR(ValidateText("statement", r.statement(), true));
  if (r.has_proposed_correction() && r.kind() != v1::APPEAL_KIND_DATA_CORRECTION) {
    return Invalid("proposed_correction", "only a data correction proposes one");
  }

  absl::MutexLock l(&write_mu_);
  for (std::string_view topic :
       {events::kPopulationTopic, events::kRulesTopic, events::kEligibilityTopic, events::kAppealsTopic}) {
    JARING_RETURN_IF_ERROR(CatchUpKey(topic, r.kk_number()));
  }
  rocksdb::DB* db = projection_->db();
  JARING_ASSIGN_OR_RETURN(std::optional<v1::Appeal> retried, Retried(who.request_id));
  if (retried.has_value()) {
    // A retry repeats the request; another request under the same id is
    // refused (and says nothing of the appeal it made).
    JARING_ASSIGN_OR_RETURN(std::optional<std::string> filer, ReadRaw(db, keys::Filer(retried->appeal_id())));
    const bool same =
        retried->kk_number() == r.kk_number() && retried->kind() == r.kind() &&
        retried->filer_relation() == r.filer_relation() && retried->statement() == r.statement() &&
        (r.program().empty() || retried->program() == r.program()) &&
        (r.decision_id().empty() || retried->decision_id() == r.decision_id()) &&
        retried->proposed_correction().SerializeAsString() == r.proposed_correction().SerializeAsString() &&
        (r.filer_nik().empty() ? !filer.has_value() || filer->empty()
                               : filer.value_or("") == FilerHash(options_.filer_key, r.filer_nik()));
    if (!same) return Invalid("request_id", kUsedForAnotherRequest);
    v1::FileAppealResponse resp;
    *resp.mutable_appeal() = *std::move(retried);
    resp.set_existing(true);
    return resp;
  }
  JARING_ASSIGN_OR_RETURN(std::optional<v1::Family> family, ReadMessage<v1::Family>(db, keys::Family(r.kk_number())));
  if (!family.has_value() || family->kk_number().empty()) {
    return absl::NotFoundError(absl::StrCat("kk_number: family ", r.kk_number(),
                                            " is not registered; register it with the population service first"));
  }
  if (r.filer_relation() == v1::FILER_RELATION_MEMBER && family::FindMember(*family, r.filer_nik()) == nullptr) {
    return Invalid("filer_nik", "is not a member of the family; use on_behalf");
  }

  // The decision contested.
  std::string program = r.program();
  std::optional<v1::DecisionRef> contested;
  if (names_decision) {
    JARING_ASSIGN_OR_RETURN(std::optional<std::string> where, ReadRaw(db, keys::DecisionById(r.decision_id())));
    std::string current_note;
    if (!where.has_value()) {
      std::vector<std::string> current;
      JARING_RETURN_IF_ERROR(projection::ScanPrefix(db, absl::StrCat("d/", r.kk_number(), "/"),
                                  [&](std::string_view key, std::string_view value) -> absl::StatusOr<bool> {
                                    JARING_ASSIGN_OR_RETURN(auto d, Parse<v1::DecisionRef>(value, "decision"));
                                    const std::string_view prog = key.substr(key.rfind('/') + 1);
                                    current.push_back(DescribeDecision(d, prog));
                                    return true;
                                  }));
      return absl::NotFoundError(absl::StrCat(
          "decision_id: no decision ", r.decision_id(), " is known for family ", r.kk_number(),
          current.empty() ? "; the family has no recorded decision"
                          : absl::StrCat("; its current decisions are ", absl::StrJoin(current, ", "))));
    }
    // v/<kk>/<program>/<version>
    const std::string_view vkey = *where;
    const std::string kk_part = absl::StrCat("v/", r.kk_number(), "/");
    if (!absl::StartsWith(Av(vkey), kk_part)) {
      return Invalid("decision_id", absl::StrCat("decision ", r.decision_id(), " is about another family"));
    }
    const std::string decided_program(vkey.substr(kk_part.size(), vkey.size() - kk_part.size() - 9));
    if (!program.empty() && program != decided_program) {
      return Invalid("program", absl::StrCat("decision ", r.decision_id(), " is about ", decided_program));
    }
    program = decided_program;
    JARING_ASSIGN_OR_RETURN(std::optional<v1::DecisionRef> named, ReadMessage<v1::DecisionRef>(db, *where));
    JARING_ASSIGN_OR_RETURN(std::optional<v1::DecisionRef> current,
                            ReadMessage<v1::DecisionRef>(db, keys::Decision(r.kk_number(), program)));
    if (!named.has_value() || !current.has_value()) return absl::DataLossError("appeals store: decision index broken");
    if (named->version() != r.decision_version()) {
      return Invalid("decision_version", absl::StrCat("decision ", r.decision_id(), " is version ", named->version(),
                                                      ", not ", r.decision_version()));
    }
    if (current->version() != named->version()) {
      return Refused(absl::StrCat("decision ", r.decision_id(), " (version ", named->version(),
                                  ") is superseded; the current decision is ", DescribeDecision(*current, program),
                                  ": file against that one"));
    }
    if (r.kind() == v1::APPEAL_KIND_EXCLUSION_REPORT && !current->eligible()) {
      return Refused(absl::StrCat("decision ", DescribeDecision(*current, program),
                                  " does not list the family; there is nothing to report"));
    }
    contested = *current;
  } else {
    JARING_ASSIGN_OR_RETURN(std::optional<std::string> known, ReadRaw(db, keys::Program(program)));
    if (!known.has_value()) {
      std::vector<std::string> programs;
      JARING_RETURN_IF_ERROR(projection::ScanPrefix(db, keys::kProgramPrefix, [&](std::string_view key, std::string_view) {
        programs.emplace_back(key.substr(keys::kProgramPrefix.size()));
        return absl::StatusOr<bool>(true);
      }));
      return Invalid("program", absl::StrCat("no published rule set has program ", program, " (known: ",
                                             programs.empty() ? "none yet" : absl::StrJoin(programs, ", "), ")"));
    }
    JARING_ASSIGN_OR_RETURN(std::optional<v1::DecisionRef> current,
                            ReadMessage<v1::DecisionRef>(db, keys::Decision(r.kk_number(), program)));
    if (current.has_value() && r.kind() == v1::APPEAL_KIND_DATA_CORRECTION) {
      return Invalid("decision_id", absl::StrCat("name the decision contested: the current one is ",
                                                 DescribeDecision(*current, program)));
    }
    if (current.has_value() && current->eligible()) {
      return Refused(absl::StrCat("family ", r.kk_number(), " is already eligible: ",
                                  DescribeDecision(*current, program)));
    }
    if (current.has_value()) contested = *current;
  }

  // One open appeal per (family, program, kind).
  JARING_ASSIGN_OR_RETURN(std::optional<std::string> open, ReadRaw(db, keys::Open(r.kk_number(), program, r.kind())));
  if (open.has_value()) {
    v1::FileAppealResponse resp;
    JARING_ASSIGN_OR_RETURN(*resp.mutable_appeal(), ReadAppeal(*open));
    resp.set_existing(true);
    return resp;
  }

  // An exclusion report needs an open objection window.
  std::string window_id;
  if (r.kind() == v1::APPEAL_KIND_EXCLUSION_REPORT) {
    const int64_t now_ms = absl::ToUnixMillis(now);
    std::string last_closed;
    for (const std::string& prefix : RegionPrefixes(family->region_code())) {
      JARING_RETURN_IF_ERROR(projection::ScanPrefix(db, keys::WindowIndexPrefix(prefix, program),
                                  [&](std::string_view key, std::string_view) -> absl::StatusOr<bool> {
                                    const std::string_view id = key.substr(key.rfind('/') + 1);
                                    JARING_ASSIGN_OR_RETURN(auto w, ReadMessage<v1::ObjectionWindowOpened>(
                                                                        db, keys::Window(id)));
                                    if (!w.has_value()) return true;
                                    const int64_t opens = events::ToMillis(w->opens_at());
                                    const int64_t closes = events::ToMillis(w->closes_at());
                                    if (opens <= now_ms && now_ms < closes) {
                                      window_id = w->window_id();
                                      return false;
                                    }
                                    if (closes <= now_ms) {
                                      last_closed = absl::StrCat(" (the last one, ", w->window_id(), ", closed at ",
                                                                 absl::FormatTime(absl::FromUnixMillis(closes)), ")");
                                    }
                                    return true;
                                  }));
      if (!window_id.empty()) break;
    }
    if (window_id.empty()) {
      return Refused(absl::StrCat("no objection window for ", program, " is open in region ", family->region_code(),
                                  " now", last_closed, "; exclusion reports are accepted after an announcement"));
    }
  }

  JARING_ASSIGN_OR_RETURN(v1::AppealPolicySet policy, PolicyFor(family->region_code(), r.kind()));
  v1::Appeal shell;
  shell.set_appeal_id(events::DeterministicId("appeal", {who.request_id}));
  shell.set_kk_number(r.kk_number());
  shell.set_region_code(family->region_code());
  v1::Envelope e = NewEnvelope(shell, who, now);
  if (r.filer_relation() != v1::FILER_RELATION_OFFICE) e.set_source(v1::SOURCE_FAMILY);
  v1::AppealFiled* f = e.mutable_appeal_filed();
  f->set_appeal_id(shell.appeal_id());
  f->set_kind(r.kind());
  f->set_kk_number(r.kk_number());
  f->set_region_code(family->region_code());
  f->set_program(program);
  if (contested.has_value()) {
    f->set_decision_id(contested->decision_id());
    f->set_decision_version(contested->version());
  }
  f->set_filer_relation(r.filer_relation());
  if (!r.filer_nik().empty()) f->set_filer_hash(FilerHash(options_.filer_key, r.filer_nik()));
  f->set_statement(r.statement());
  if (r.has_proposed_correction()) *f->mutable_proposed_correction() = r.proposed_correction();
  *f->mutable_verification_due() = events::ToProtoTime(now + absl::Hours(24) * policy.verification_days());
  *f->mutable_decision_due() = events::ToProtoTime(now + absl::Hours(24) * policy.decision_days());
  f->set_window_id(window_id);
  // The filer is not named on the event of an exclusion report.
  // The principal (the office that took the report) is still recorded.
  if (r.kind() == v1::APPEAL_KIND_EXCLUSION_REPORT && r.filer_relation() != v1::FILER_RELATION_OFFICE) {
    if (auth::ActorId(caller).empty()) e.set_actor("reporter");
    e.clear_actor_label();
  }
  JARING_RETURN_IF_ERROR(AppendAndApply(events::kAppealsTopic, {std::move(e)}));
  v1::FileAppealResponse resp;
  JARING_ASSIGN_OR_RETURN(*resp.mutable_appeal(), ReadAppeal(shell.appeal_id()));
  return resp;
}

absl::StatusOr<v1::Appeal> AppealsServiceImpl::AssignAppeal(const v1::AssignAppealRequest& r,
    const auth::Principal& caller) {
  JARING_ASSIGN_OR_RETURN(const Who who, WhoOf(r.request_id(), r.actor(), caller));
  JARING_RETURN_IF_ERROR(ValidateId("verifier_id", r.verifier_id()));
  absl::MutexLock l(&write_mu_);
  JARING_ASSIGN_OR_RETURN(Loaded loaded, LoadForCommand(who, r.appeal_id()));
  if (loaded.retry) return loaded.appeal;
  const v1::Appeal& a = loaded.appeal;
  if (!Is(a, {v1::APPEAL_STATE_FILED, v1::APPEAL_STATE_ASSIGNED})) {
    return IllegalTransition(a, "assigning a verifier", "filed or assigned");
  }
  v1::Envelope e = NewEnvelope(a, who, clock_->Now());
  e.mutable_appeal_assigned()->set_appeal_id(a.appeal_id());
  e.mutable_appeal_assigned()->set_verifier_id(r.verifier_id());
  JARING_RETURN_IF_ERROR(AppendAndApply(events::kAppealsTopic, {std::move(e)}));
  return ReadAppeal(a.appeal_id());
}

absl::StatusOr<v1::Appeal> AppealsServiceImpl::RecordVerification(const v1::RecordVerificationRequest& r,
    const auth::Principal& caller) {
  JARING_ASSIGN_OR_RETURN(const Who who, WhoOf(r.request_id(), r.actor(), caller));
  JARING_RETURN_IF_ERROR(ValidateId("verifier_id", r.verifier_id()));
  JARING_RETURN_IF_ERROR(ValidateText("findings", r.findings(), true));
  for (int i = 0; i < r.evidence_refs_size(); ++i) {
    JARING_RETURN_IF_ERROR(ValidateText(absl::StrCat("evidence_refs[", i, "]"), r.evidence_refs(i), true));
  }
  if (!v1::AppealOutcome_IsValid(r.recommendation())) return Invalid("recommendation", "is upheld or rejected");
  absl::MutexLock l(&write_mu_);
  JARING_ASSIGN_OR_RETURN(Loaded loaded, LoadForCommand(who, r.appeal_id()));
  if (loaded.retry) return loaded.appeal;
  const v1::Appeal& a = loaded.appeal;
  if (!Is(a, {v1::APPEAL_STATE_ASSIGNED})) return IllegalTransition(a, "recording a verification", "assigned");
  if (a.verifier_id() != r.verifier_id()) {
    return Refused(absl::StrCat("appeal ", a.appeal_id(), " is assigned to verifier ", a.verifier_id(), ", not ",
                                r.verifier_id()));
  }
  v1::Envelope e = NewEnvelope(a, who, clock_->Now());
  e.set_source(v1::SOURCE_FIELD_VERIFIER);
  v1::AppealVerified* v = e.mutable_appeal_verified();
  v->set_appeal_id(a.appeal_id());
  v->set_verifier_id(r.verifier_id());
  v->set_findings(r.findings());
  *v->mutable_evidence_refs() = r.evidence_refs();
  v->set_recommendation(r.recommendation());
  JARING_RETURN_IF_ERROR(AppendAndApply(events::kAppealsTopic, {std::move(e)}));
  return ReadAppeal(a.appeal_id());
}

absl::StatusOr<v1::Appeal> AppealsServiceImpl::DecideAppeal(const v1::DecideAppealRequest& r,
    const auth::Principal& caller) {
  JARING_ASSIGN_OR_RETURN(const Who who, WhoOf(r.request_id(), r.actor(), caller));
  if (r.outcome() == v1::APPEAL_OUTCOME_UNSPECIFIED || !v1::AppealOutcome_IsValid(r.outcome())) {
    return Invalid("outcome", "is upheld or rejected");
  }
  JARING_RETURN_IF_ERROR(ValidateText("reason", r.reason(), true));
  const bool correcting = r.has_correction();
  if (correcting && r.outcome() != v1::APPEAL_OUTCOME_UPHELD) {
    return Invalid("correction", "a rejected appeal changes nothing but its own state");
  }
  const absl::Time now = clock_->Now();
  const absl::CivilDay today = TodayIn(now);
  v1::RecordCorrected c = r.correction();
  if (correcting) {
    switch (c.correction_case()) {
      case v1::RecordCorrected::kMember:
        JARING_RETURN_IF_ERROR(population::ValidateMember("correction.member", c.member(), today));
        break;
      case v1::RecordCorrected::kWelfareAssessment:
        JARING_RETURN_IF_ERROR(population::ValidateAssessment("correction.welfare_assessment", c.welfare_assessment()));
        break;
      case v1::RecordCorrected::kRetraction:
        if (c.corrected_event_id().empty()) {
          return Invalid("correction.corrected_event_id", "name the birth or death to retract");
        }
        break;
      case v1::RecordCorrected::CORRECTION_NOT_SET:
        return Invalid("correction", "set member, welfare_assessment or retraction");
    }
  }

  absl::MutexLock l(&write_mu_);
  JARING_ASSIGN_OR_RETURN(Loaded loaded, LoadForCommand(who, r.appeal_id()));
  if (loaded.retry) return loaded.appeal;
  const v1::Appeal& a = loaded.appeal;
  if (!Is(a, {v1::APPEAL_STATE_VERIFIED})) return IllegalTransition(a, "a decision", "verified (a field verification first)");
  if (r.outcome() == v1::APPEAL_OUTCOME_UPHELD && a.kind() == v1::APPEAL_KIND_DATA_CORRECTION && !correcting) {
    return Invalid("correction", "an upheld data correction says what is corrected");
  }

  if (correcting) {
    rocksdb::DB* db = projection_->db();
    JARING_RETURN_IF_ERROR(CatchUpKey(events::kPopulationTopic, a.kk_number()));
    JARING_ASSIGN_OR_RETURN(std::optional<v1::Family> f, ReadMessage<v1::Family>(db, keys::Family(a.kk_number())));
    if (!f.has_value()) return absl::DataLossError("appeals store: the appeal's family is missing");
    if (c.corrected_event_id().empty()) {
      if (c.has_welfare_assessment()) {
        if (f->latest_assessment_event_id().empty()) {
          return Refused(absl::StrCat("family ", a.kk_number(), " has no welfare assessment to correct"));
        }
        c.set_corrected_event_id(f->latest_assessment_event_id());
      } else {
        JARING_ASSIGN_OR_RETURN(std::optional<std::string> last, ReadRaw(db, keys::LastEvent(a.kk_number())));
        c.set_corrected_event_id(last.value_or(""));
      }
    }
    JARING_ASSIGN_OR_RETURN(std::optional<v1::Envelope> target,
                            ReadMessage<v1::Envelope>(db, keys::FamilyEvent(a.kk_number(), c.corrected_event_id())));
    if (!target.has_value()) {
      return Refused(absl::StrCat("correction.corrected_event_id: ", c.corrected_event_id(),
                                  " is not an event of family ", a.kk_number()));
    }
    if (c.has_member()) {
      const v1::FamilyMember* m = family::FindMember(*f, c.member().nik());
      if (m == nullptr) {
        return Refused(absl::StrCat("correction.member.nik: not a member of family ", a.kk_number(),
                                    " (corrections match by NIK)"));
      }
      if (c.member().relationship() == v1::RELATIONSHIP_HEAD && c.member().nik() != f->head_nik()) {
        return Refused("correction.member.relationship: a change of head is a population command (ChangeHead)");
      }
    } else if (c.has_welfare_assessment()) {
      if (!target->has_welfare_assessed()) {
        return Refused("correction.welfare_assessment: the corrected event is not a welfare assessment");
      }
      if (c.corrected_event_id() != f->latest_assessment_event_id()) {
        return Refused(absl::StrCat("correction.corrected_event_id: a later assessment (",
                                    f->latest_assessment_event_id(), ") replaced this one; correct that one"));
      }
    } else if (c.has_retraction()) {
      if (!target->has_death_recorded() && !target->has_birth_recorded()) {
        return Refused("correction.retraction: only a recorded birth or death can be retracted");
      }
      if (target->has_birth_recorded() && family::FindMember(*f, target->birth_recorded().child().nik()) == nullptr) {
        return Refused("correction.retraction: the child is no longer in this family");
      }
    }
    c.set_appeal_id(a.appeal_id());
    c.set_reason(absl::StrCat("appeal ", a.appeal_id(), ": ", r.reason()));
  }

  v1::Envelope e = NewEnvelope(a, who, now);
  v1::AppealDecided* d = e.mutable_appeal_decided();
  d->set_appeal_id(a.appeal_id());
  d->set_outcome(r.outcome());
  d->set_reason(r.reason());
  if (correcting) {
    *d->mutable_correction() = c;
    d->set_correction_event_id(CorrectionEventId(a.appeal_id()));
  }
  JARING_RETURN_IF_ERROR(AppendAndApply(events::kAppealsTopic, {std::move(e)}));
  // The correction goes to population now (and again after a crash, until
  // the projection has read it back).
  if (correcting) JARING_RETURN_IF_ERROR(FlushOutbox().status());
  return ReadAppeal(a.appeal_id());
}

absl::StatusOr<v1::Appeal> AppealsServiceImpl::CloseAppeal(const v1::CloseAppealRequest& r,
    const auth::Principal& caller) {
  JARING_ASSIGN_OR_RETURN(const Who who, WhoOf(r.request_id(), r.actor(), caller));
  JARING_RETURN_IF_ERROR(ValidateText("note", r.note(), false));
  absl::MutexLock l(&write_mu_);
  JARING_ASSIGN_OR_RETURN(Loaded loaded, LoadForCommand(who, r.appeal_id()));
  if (loaded.retry) return loaded.appeal;
  const v1::Appeal& a = loaded.appeal;
  if (!Is(a, {v1::APPEAL_STATE_DECIDED})) return IllegalTransition(a, "closing", "decided");
  v1::Envelope e = NewEnvelope(a, who, clock_->Now());
  e.mutable_appeal_closed()->set_appeal_id(a.appeal_id());
  e.mutable_appeal_closed()->set_note(r.note());
  JARING_RETURN_IF_ERROR(AppendAndApply(events::kAppealsTopic, {std::move(e)}));
  return ReadAppeal(a.appeal_id());
}

absl::StatusOr<v1::Appeal> AppealsServiceImpl::WithdrawAppeal(const v1::WithdrawAppealRequest& r,
    const auth::Principal& caller) {
  JARING_ASSIGN_OR_RETURN(const Who who, WhoOf(r.request_id(), r.actor(), caller));
  JARING_RETURN_IF_ERROR(ValidateText("reason", r.reason(), true));
  absl::MutexLock l(&write_mu_);
  JARING_ASSIGN_OR_RETURN(Loaded loaded, LoadForCommand(who, r.appeal_id()));
  if (loaded.retry) return loaded.appeal;
  const v1::Appeal& a = loaded.appeal;
  if (!Is(a, {v1::APPEAL_STATE_FILED, v1::APPEAL_STATE_ASSIGNED, v1::APPEAL_STATE_VERIFIED})) {
    return IllegalTransition(a, "withdrawing", "filed, assigned or verified (not yet decided)");
  }
  // Only the filer withdraws: the NIK must hash to the kept hash.
  if (a.filer_relation() == v1::FILER_RELATION_OFFICE) {
    if (!r.filer_nik().empty()) return Invalid("filer_nik", "the office filed this appeal; leave it empty");
  } else {
    if (r.filer_nik().empty()) return Invalid("filer_nik", "only the filer withdraws: give the filer's NIK");
    JARING_ASSIGN_OR_RETURN(std::optional<std::string> hash, ReadRaw(projection_->db(), keys::Filer(a.appeal_id())));
    if (hash.value_or("") != FilerHash(options_.filer_key, r.filer_nik())) {
      return absl::PermissionDeniedError("filer_nik: this is not the NIK of whoever filed the appeal");
    }
  }
  v1::Envelope e = NewEnvelope(a, who, clock_->Now());
  e.mutable_appeal_withdrawn()->set_appeal_id(a.appeal_id());
  e.mutable_appeal_withdrawn()->set_reason(r.reason());
  JARING_RETURN_IF_ERROR(AppendAndApply(events::kAppealsTopic, {std::move(e)}));
  return ReadAppeal(a.appeal_id());
}

absl::StatusOr<v1::AppealPolicySet> AppealsServiceImpl::SetAppealPolicy(const v1::SetAppealPolicyRequest& r,
    const auth::Principal& caller) {
  JARING_ASSIGN_OR_RETURN(const Who who, WhoOf(r.request_id(), r.actor(), caller));
  const v1::AppealPolicySet& p = r.policy();
  JARING_RETURN_IF_ERROR(population::ValidateRegionPrefix("policy.region_prefix", p.region_prefix()));
  if (p.kind() == v1::APPEAL_KIND_UNSPECIFIED || !v1::AppealKind_IsValid(p.kind())) {
    return Invalid("policy.kind", "is inclusion_request, exclusion_report or data_correction");
  }
  if (p.verification_days() < 1 || p.verification_days() > 365) return Invalid("policy.verification_days", "is 1 to 365");
  if (p.decision_days() < p.verification_days() || p.decision_days() > 365) {
    return Invalid("policy.decision_days", "is at least verification_days and at most 365");
  }
  if (p.objection_window_days() < 0 || p.objection_window_days() > 365) {
    return Invalid("policy.objection_window_days", "is 0 to 365");
  }
  absl::MutexLock l(&write_mu_);
  const std::string key = absl::StrCat("policy/", p.region_prefix());
  JARING_RETURN_IF_ERROR(CatchUpKey(events::kAppealsTopic, key));
  JARING_ASSIGN_OR_RETURN(std::optional<std::string> made, ReadRaw(projection_->db(), keys::Request(who.request_id)));
  if (made.has_value() && *made != keys::Policy(p.region_prefix(), p.kind())) {
    return Invalid("request_id", kUsedForAnotherRequest);
  }
  if (!made.has_value()) {
    v1::Envelope e;
    e.set_event_id(events::DeterministicId("appeal-command", {who.request_id}));
    e.set_key(key);
    *e.mutable_occurred_at() = events::ToProtoTime(clock_->Now());
    *e.mutable_recorded_at() = e.occurred_at();
    e.set_source(v1::SOURCE_DINSOS);
    e.set_actor(who.actor);
    e.set_actor_label(who.label);
    e.set_request_id(who.request_id);
    *e.mutable_appeal_policy_set() = p;
    JARING_RETURN_IF_ERROR(AppendAndApply(events::kAppealsTopic, {std::move(e)}));
  }
  JARING_ASSIGN_OR_RETURN(std::optional<v1::AppealPolicySet> stored,
                          ReadMessage<v1::AppealPolicySet>(projection_->db(), keys::Policy(p.region_prefix(), p.kind())));
  if (!stored.has_value()) return absl::InternalError("policy not applied");
  return *std::move(stored);
}

absl::StatusOr<v1::ObjectionWindowOpened> AppealsServiceImpl::OpenObjectionWindow(
    const v1::OpenObjectionWindowRequest& r, const auth::Principal& caller) {
  JARING_ASSIGN_OR_RETURN(const Who who, WhoOf(r.request_id(), r.actor(), caller));
  JARING_RETURN_IF_ERROR(population::ValidateRegionPrefix("region_prefix", r.region_prefix()));
  JARING_RETURN_IF_ERROR(ValidateProgram("program", r.program()));
  JARING_RETURN_IF_ERROR(ValidateText("announcement", r.announcement(), true));
  if (r.days() < 0 || r.days() > 365) return Invalid("days", "is 1 to 365 (0: the policy's window)");
  const absl::Time now = clock_->Now();
  absl::MutexLock l(&write_mu_);
  const std::string key = absl::StrCat("window/", r.region_prefix());
  JARING_RETURN_IF_ERROR(CatchUpKey(events::kAppealsTopic, key));
  JARING_ASSIGN_OR_RETURN(std::optional<std::string> made, ReadRaw(projection_->db(), keys::Request(who.request_id)));
  std::string window_key;
  if (made.has_value()) {
    window_key = *made;
    // A retry repeats the request: the same region, program, announcement,
    // length and opening.
    JARING_ASSIGN_OR_RETURN(std::optional<v1::ObjectionWindowOpened> earlier,
                            ReadMessage<v1::ObjectionWindowOpened>(projection_->db(), window_key));
    const bool same =
        earlier.has_value() && earlier->region_prefix() == r.region_prefix() && earlier->program() == r.program() &&
        earlier->announcement() == r.announcement() &&
        (r.days() == 0 ||
         events::FromProtoTime(earlier->closes_at()) - events::FromProtoTime(earlier->opens_at()) ==
             absl::Hours(24) * r.days()) &&
        (!r.has_opens_at() || events::ToMillis(earlier->opens_at()) == events::ToMillis(r.opens_at()));
    if (!same) return Invalid("request_id", kUsedForAnotherRequest);
  } else {
    int32_t days = r.days();
    if (days == 0) {
      JARING_ASSIGN_OR_RETURN(v1::AppealPolicySet p, PolicyFor(r.region_prefix(), v1::APPEAL_KIND_EXCLUSION_REPORT));
      days = p.objection_window_days();
    }
    const absl::Time opens = r.has_opens_at() ? events::FromProtoTime(r.opens_at()) : now;
    v1::Envelope e;
    e.set_event_id(events::DeterministicId("appeal-command", {who.request_id}));
    e.set_key(key);
    *e.mutable_occurred_at() = events::ToProtoTime(now);
    *e.mutable_recorded_at() = e.occurred_at();
    e.set_source(v1::SOURCE_DINSOS);
    e.set_actor(who.actor);
    e.set_actor_label(who.label);
    e.set_request_id(who.request_id);
    v1::ObjectionWindowOpened* w = e.mutable_objection_window_opened();
    w->set_window_id(events::DeterministicId("objection-window", {who.request_id}).substr(0, 16));
    w->set_region_prefix(r.region_prefix());
    w->set_program(r.program());
    *w->mutable_opens_at() = events::ToProtoTime(opens);
    *w->mutable_closes_at() = events::ToProtoTime(opens + absl::Hours(24) * days);
    w->set_announcement(r.announcement());
    window_key = keys::Window(w->window_id());
    JARING_RETURN_IF_ERROR(AppendAndApply(events::kAppealsTopic, {std::move(e)}));
  }
  JARING_ASSIGN_OR_RETURN(std::optional<v1::ObjectionWindowOpened> w,
                          ReadMessage<v1::ObjectionWindowOpened>(projection_->db(), window_key));
  if (!w.has_value()) return absl::InternalError("window not applied");
  return *std::move(w);
}

// ---------------------------------------------------------------------------
// Queries

absl::StatusOr<v1::GetAppealResponse> AppealsServiceImpl::GetAppeal(const v1::GetAppealRequest& r) {
  JARING_RETURN_IF_ERROR(ValidateId("appeal_id", r.appeal_id()));
  v1::GetAppealResponse resp;
  JARING_ASSIGN_OR_RETURN(*resp.mutable_appeal(), ReadAppeal(r.appeal_id()));
  JARING_ASSIGN_OR_RETURN(std::optional<v1::DecisionRef> current,
                          ReadMessage<v1::DecisionRef>(projection_->db(),
                                                       keys::Decision(resp.appeal().kk_number(), resp.appeal().program())));
  if (current.has_value()) *resp.mutable_current_decision() = *std::move(current);
  return resp;
}

absl::StatusOr<v1::ListFamilyAppealsResponse> AppealsServiceImpl::ListFamilyAppeals(
    const v1::ListFamilyAppealsRequest& r) {
  JARING_RETURN_IF_ERROR(population::ValidateKkNumber("kk_number", r.kk_number(), TodayIn(clock_->Now())));
  v1::ListFamilyAppealsResponse resp;
  rocksdb::DB* db = projection_->db();
  JARING_RETURN_IF_ERROR(projection::ScanPrefix(db, keys::FamilyAppealsPrefix(r.kk_number()),
                              [&](std::string_view key, std::string_view) -> absl::StatusOr<bool> {
                                const std::string_view id = key.substr(keys::FamilyAppealsPrefix(r.kk_number()).size() + 8);
                                JARING_ASSIGN_OR_RETURN(v1::Appeal a, ReadAppeal(id));
                                *resp.add_appeals() = ForFamily(std::move(a));
                                return true;
                              }));
  return resp;
}

absl::StatusOr<v1::ListWorkQueueResponse> AppealsServiceImpl::ListWorkQueue(const v1::ListWorkQueueRequest& r) {
  JARING_RETURN_IF_ERROR(population::ValidateRegionPrefix("region_prefix", r.region_prefix()));
  if (!v1::AppealState_IsValid(r.state())) return Invalid("state", "is not an appeal state");
  if (r.state() == v1::APPEAL_STATE_CLOSED || r.state() == v1::APPEAL_STATE_WITHDRAWN) {
    return Invalid("state", "the work queue holds open appeals (filed, assigned, verified, decided)");
  }
  const int page = r.page_size() <= 0 ? 100 : std::min(r.page_size(), 1000);
  std::string start;
  if (!r.page_token().empty()) {
    std::string raw;
    if (!absl::WebSafeBase64Unescape(r.page_token(), &raw) || !absl::StartsWith(raw, Av(keys::kQueuePrefix))) {
      return Invalid("page_token", "is not a token this service returned");
    }
    start = raw;
  }
  v1::ListWorkQueueResponse resp;
  JARING_RETURN_IF_ERROR(projection::ScanPrefix(projection_->db(), keys::kQueuePrefix,
                              [&](std::string_view key, std::string_view) -> absl::StatusOr<bool> {
                                if (resp.appeals_size() >= page) {
                                  resp.set_next_page_token(absl::WebSafeBase64Escape(Av(key)));
                                  return false;
                                }
                                const std::string_view id = key.substr(keys::kQueuePrefix.size() + 8);
                                JARING_ASSIGN_OR_RETURN(v1::Appeal a, ReadAppeal(id));
                                if (!InRegion(a.region_code(), r.region_prefix())) return true;
                                if (r.state() != v1::APPEAL_STATE_UNSPECIFIED && a.state() != r.state()) return true;
                                *resp.add_appeals() = std::move(a);
                                return true;
                              },
                              start));
  return resp;
}

absl::StatusOr<v1::ListBreachesResponse> AppealsServiceImpl::ListBreaches(const v1::ListBreachesRequest& r) {
  JARING_RETURN_IF_ERROR(population::ValidateRegionPrefix("region_prefix", r.region_prefix()));
  const int64_t from = r.has_from() ? events::ToMillis(r.from()) : std::numeric_limits<int64_t>::min();
  const int64_t to = r.has_to() ? events::ToMillis(r.to()) : std::numeric_limits<int64_t>::max();
  v1::ListBreachesResponse resp;
  JARING_RETURN_IF_ERROR(projection::ScanPrefix(projection_->db(), keys::kBreachPrefix,
                              [&](std::string_view key, std::string_view) -> absl::StatusOr<bool> {
                                std::optional<DeadlineKey> k = DecodeDeadlineKey(key.substr(keys::kBreachPrefix.size()));
                                if (!k.has_value()) return absl::DataLossError("appeals store: bad breach key");
                                if (k->due_ms < from) return true;
                                if (k->due_ms >= to) return false;
                                JARING_ASSIGN_OR_RETURN(v1::Appeal a, ReadAppeal(k->appeal_id));
                                if (!InRegion(a.region_code(), r.region_prefix())) return true;
                                const v1::DeadlineKind kind = k->kind;
                                for (const auto& d : a.deadlines()) {
                                  if (d.kind() != kind) continue;
                                  v1::Breach* b = resp.add_breaches();
                                  b->set_appeal_id(a.appeal_id());
                                  b->set_kind(a.kind());
                                  b->set_region_code(a.region_code());
                                  b->set_program(a.program());
                                  b->set_deadline(d.kind());
                                  *b->mutable_due() = d.due();
                                  if (d.has_met_at()) *b->mutable_met_at() = d.met_at();
                                  b->set_escalation_event_id(d.escalation_event_id());
                                  b->set_state(a.state());
                                }
                                return true;
                              }));
  return resp;
}

absl::StatusOr<v1::GetAppealStatsResponse> AppealsServiceImpl::GetAppealStats(const v1::GetAppealStatsRequest& r) {
  JARING_RETURN_IF_ERROR(population::ValidateRegionPrefix("region_prefix", r.region_prefix()));
  const int64_t from = r.has_from() ? events::ToMillis(r.from()) : std::numeric_limits<int64_t>::min();
  const int64_t to = r.has_to() ? events::ToMillis(r.to()) : std::numeric_limits<int64_t>::max();
  std::map<int, v1::AppealStats> rows;
  std::map<int, std::vector<double>> days;
  for (int k : {1, 2, 3, 0}) rows[k].set_kind(static_cast<v1::AppealKind>(k));
  JARING_RETURN_IF_ERROR(projection::ScanPrefix(projection_->db(), keys::RegionPrefix(r.region_prefix()),
                              [&](std::string_view key, std::string_view) -> absl::StatusOr<bool> {
                                const std::string_view rest = key.substr(2);  // "<region>/<id>"
                                const size_t slash = rest.rfind('/');
                                if (!InRegion(rest.substr(0, slash), r.region_prefix())) return true;
                                JARING_ASSIGN_OR_RETURN(v1::Appeal a, ReadAppeal(rest.substr(slash + 1)));
                                const int64_t filed = events::ToMillis(a.filed_at());
                                if (filed < from || filed >= to) return true;
                                for (int k : {static_cast<int>(a.kind()), 0}) {
                                  v1::AppealStats& s = rows[k];
                                  s.set_filed(s.filed() + 1);
                                  if (a.outcome() == v1::APPEAL_OUTCOME_UPHELD) s.set_upheld(s.upheld() + 1);
                                  if (a.outcome() == v1::APPEAL_OUTCOME_REJECTED) s.set_rejected(s.rejected() + 1);
                                  if (a.state() == v1::APPEAL_STATE_WITHDRAWN) s.set_withdrawn(s.withdrawn() + 1);
                                  if (a.outcome() == v1::APPEAL_OUTCOME_UNSPECIFIED &&
                                      a.state() != v1::APPEAL_STATE_WITHDRAWN) {
                                    s.set_open(s.open() + 1);
                                  }
                                  if (a.escalated()) s.set_escalated(s.escalated() + 1);
                                  if (a.has_decided_at()) {
                                    days[k].push_back(static_cast<double>(events::ToMillis(a.decided_at()) - filed) /
                                                      86400000.0);
                                  }
                                }
                                return true;
                              }));
  v1::GetAppealStatsResponse resp;
  for (int k : {1, 2, 3, 0}) {
    v1::AppealStats s = rows[k];
    std::vector<double>& d = days[k];
    if (!d.empty()) {
      std::sort(d.begin(), d.end());
      const size_t n = d.size();
      s.set_median_days_to_decision(n % 2 ? d[n / 2] : (d[n / 2 - 1] + d[n / 2]) / 2);
    }
    *resp.add_stats() = s;
  }
  return resp;
}

absl::StatusOr<v1::ListObjectionWindowsResponse> AppealsServiceImpl::ListObjectionWindows(
    const v1::ListObjectionWindowsRequest& r) {
  if (!r.region_prefix().empty()) {
    JARING_RETURN_IF_ERROR(population::ValidateRegionPrefix("region_prefix", r.region_prefix()));
  }
  v1::ListObjectionWindowsResponse resp;
  JARING_RETURN_IF_ERROR(projection::ScanPrefix(projection_->db(), "w/", [&](std::string_view, std::string_view value) -> absl::StatusOr<bool> {
    JARING_ASSIGN_OR_RETURN(auto w, Parse<v1::ObjectionWindowOpened>(value, "window"));
    // Windows that cover the prefix, or lie within it.
    if (r.region_prefix().empty() || InRegion(r.region_prefix(), w.region_prefix()) ||
        InRegion(w.region_prefix(), r.region_prefix())) {
      *resp.add_windows() = std::move(w);
    }
    return true;
  }));
  std::sort(resp.mutable_windows()->begin(), resp.mutable_windows()->end(),
            [](const auto& a, const auto& b) { return events::ToMillis(a.opens_at()) < events::ToMillis(b.opens_at()); });
  return resp;
}

absl::StatusOr<std::map<v1::AppealState, int64_t>> AppealsServiceImpl::CountByState() {
  std::map<v1::AppealState, int64_t> counts;
  JARING_RETURN_IF_ERROR(projection::ScanPrefix(projection_->db(), "a/", [&](std::string_view, std::string_view value) -> absl::StatusOr<bool> {
    JARING_ASSIGN_OR_RETURN(auto a, Parse<v1::Appeal>(value, "appeal"));
    ++counts[a.state()];
    return true;
  }));
  return counts;
}

// ---------------------------------------------------------------------------
// gRPC

namespace {
template <typename Resp>
grpc::Status ReplyAppeal(absl::StatusOr<v1::Appeal> a, Resp* out) {
  if (!a.ok()) return ToGrpc(a.status());
  *out->mutable_appeal() = *std::move(a);
  return grpc::Status::OK;
}
}  // namespace

absl::StatusOr<v1::LookupFamilyStatusResponse> AppealsServiceImpl::LookupFamilyStatus(
    const v1::LookupFamilyStatusRequest& r) {
  JARING_RETURN_IF_ERROR(population::ValidateKkNumber("kk_number", r.kk_number(), TodayIn(clock_->Now())));
  JARING_RETURN_IF_ERROR(population::ValidateNik("nik", r.nik(), TodayIn(clock_->Now())));
  rocksdb::DB* db = projection_->db();
  // One answer for "no such family" and "not a living member": the lookup
  // tells nobody whether a KK number exists.
  const absl::Status not_found =
      absl::NotFoundError("kk_number, nik: no family with this KK number has a living member with this NIK");
  JARING_ASSIGN_OR_RETURN(std::optional<v1::Family> family, ReadMessage<v1::Family>(db, keys::Family(r.kk_number())));
  if (!family.has_value()) return not_found;
  bool member = false;
  for (const v1::FamilyMember& m : family->members()) member = member || (m.alive() && m.member().nik() == r.nik());
  if (!member) return not_found;

  v1::LookupFamilyStatusResponse resp;
  resp.set_masked_kk_number(auth::MaskNumber(family->kk_number()));
  resp.set_region_code(family->region_code());
  for (const v1::FamilyMember& m : family->members()) {
    auto* out = resp.add_members();
    out->set_masked_name(auth::MaskName(m.member().full_name()));
    out->set_relationship(m.member().relationship());
    out->set_alive(m.alive());
  }
  JARING_RETURN_IF_ERROR(projection::ScanPrefix(db, keys::kProgramPrefix, [&](std::string_view key, std::string_view) -> absl::StatusOr<bool> {
    const std::string program(key.substr(keys::kProgramPrefix.size()));
    JARING_ASSIGN_OR_RETURN(std::optional<v1::DecisionRef> d,
                            ReadMessage<v1::DecisionRef>(db, keys::Decision(r.kk_number(), program)));
    if (!d.has_value()) return true;
    auto* p = resp.add_programs();
    p->set_program(program);
    p->set_eligible(d->eligible());
    p->set_yearly_amount(d->yearly_amount());
    p->set_decision_id(d->decision_id());
    p->set_decision_version(d->version());
    return true;
  }));
  v1::ListFamilyAppealsRequest family_appeals;
  family_appeals.set_kk_number(r.kk_number());
  JARING_ASSIGN_OR_RETURN(v1::ListFamilyAppealsResponse appeals, ListFamilyAppeals(family_appeals));
  for (const v1::Appeal& a : appeals.appeals()) {
    auto* out = resp.add_appeals();
    out->set_appeal_id(a.appeal_id());
    out->set_program(a.program());
    out->set_kind(a.kind());
    out->set_state(a.state());
    *out->mutable_filed_at() = a.filed_at();
    out->set_outcome(a.outcome());
  }
  return resp;
}

absl::StatusOr<std::optional<auth::AppealFacts>> AppealsServiceImpl::AppealFacts(std::string_view appeal_id) {
  JARING_ASSIGN_OR_RETURN(std::optional<v1::Appeal> a, ReadMessage<v1::Appeal>(projection_->db(), keys::Appeal(appeal_id)));
  if (!a.has_value()) return std::nullopt;
  return auth::AppealFacts{a->kk_number(), a->region_code(), a->verifier_id()};
}

absl::StatusOr<bool> AppealsServiceImpl::VerifierHasFamily(std::string_view verifier, std::string_view kk) {
  bool found = false;
  rocksdb::DB* db = projection_->db();
  const std::string prefix = keys::FamilyAppealsPrefix(kk);
  JARING_RETURN_IF_ERROR(projection::ScanPrefix(db, prefix, [&](std::string_view key, std::string_view) -> absl::StatusOr<bool> {
    JARING_ASSIGN_OR_RETURN(v1::Appeal a, ReadAppeal(key.substr(prefix.size() + 8)));
    const bool open = a.state() != v1::APPEAL_STATE_CLOSED && a.state() != v1::APPEAL_STATE_WITHDRAWN;
    found = open && a.verifier_id() == verifier;
    return !found;
  }));
  return found;
}

grpc::Status AppealsServiceImpl::FileAppeal(grpc::ServerContext* context, const v1::FileAppealRequest* r,
                                            v1::FileAppealResponse* resp) {
  JARING_AUTHORIZE(context);
  return Reply(FileAppeal(*r, auth::CallPrincipal(context)), resp);
}
grpc::Status AppealsServiceImpl::AssignAppeal(grpc::ServerContext* context, const v1::AssignAppealRequest* r,
                                              v1::AssignAppealResponse* resp) {
  JARING_AUTHORIZE(context);
  return ReplyAppeal(AssignAppeal(*r, auth::CallPrincipal(context)), resp);
}
grpc::Status AppealsServiceImpl::RecordVerification(grpc::ServerContext* context, const v1::RecordVerificationRequest* r,
                                                    v1::RecordVerificationResponse* resp) {
  JARING_AUTHORIZE(context);
  return ReplyAppeal(RecordVerification(*r, auth::CallPrincipal(context)), resp);
}
grpc::Status AppealsServiceImpl::DecideAppeal(grpc::ServerContext* context, const v1::DecideAppealRequest* r,
                                              v1::DecideAppealResponse* resp) {
  JARING_AUTHORIZE(context);
  return ReplyAppeal(DecideAppeal(*r, auth::CallPrincipal(context)), resp);
}
grpc::Status AppealsServiceImpl::CloseAppeal(grpc::ServerContext* context, const v1::CloseAppealRequest* r,
                                             v1::CloseAppealResponse* resp) {
  JARING_AUTHORIZE(context);
  return ReplyAppeal(CloseAppeal(*r, auth::CallPrincipal(context)), resp);
}
grpc::Status AppealsServiceImpl::WithdrawAppeal(grpc::ServerContext* context, const v1::WithdrawAppealRequest* r,
                                                v1::WithdrawAppealResponse* resp) {
  JARING_AUTHORIZE(context);
  return ReplyAppeal(WithdrawAppeal(*r, auth::CallPrincipal(context)), resp);
}
grpc::Status AppealsServiceImpl::SetAppealPolicy(grpc::ServerContext* context, const v1::SetAppealPolicyRequest* r,
                                                 v1::SetAppealPolicyResponse* resp) {
  JARING_AUTHORIZE(context);
  absl::StatusOr<v1::AppealPolicySet> p = SetAppealPolicy(*r, auth::CallPrincipal(context));
  if (!p.ok()) return ToGrpc(p.status());
  *resp->mutable_policy() = *std::move(p);
  return grpc::Status::OK;
}
grpc::Status AppealsServiceImpl::OpenObjectionWindow(grpc::ServerContext* context, const v1::OpenObjectionWindowRequest* r,
                                                     v1::OpenObjectionWindowResponse* resp) {
  JARING_AUTHORIZE(context);
  absl::StatusOr<v1::ObjectionWindowOpened> w = OpenObjectionWindow(*r, auth::CallPrincipal(context));
  if (!w.ok()) return ToGrpc(w.status());
  *resp->mutable_window() = *std::move(w);
  return grpc::Status::OK;
}
grpc::Status AppealsServiceImpl::GetAppeal(grpc::ServerContext* context, const v1::GetAppealRequest* r,
                                           v1::GetAppealResponse* resp) {
  JARING_AUTHORIZE(context);
  return Reply(GetAppeal(*r), resp);
}
grpc::Status AppealsServiceImpl::ListFamilyAppeals(grpc::ServerContext* context, const v1::ListFamilyAppealsRequest* r,
                                                   v1::ListFamilyAppealsResponse* resp) {
  JARING_AUTHORIZE(context);
  return Reply(ListFamilyAppeals(*r), resp);
}
grpc::Status AppealsServiceImpl::ListWorkQueue(grpc::ServerContext* context, const v1::ListWorkQueueRequest* r,
                                               v1::ListWorkQueueResponse* resp) {
  JARING_AUTHORIZE(context);
  return Reply(ListWorkQueue(*r), resp);
}
grpc::Status AppealsServiceImpl::ListBreaches(grpc::ServerContext* context, const v1::ListBreachesRequest* r,
                                              v1::ListBreachesResponse* resp) {
  JARING_AUTHORIZE(context);
  return Reply(ListBreaches(*r), resp);
}
grpc::Status AppealsServiceImpl::GetAppealStats(grpc::ServerContext* context, const v1::GetAppealStatsRequest* r,
                                                v1::GetAppealStatsResponse* resp) {
  JARING_AUTHORIZE(context);
  return Reply(GetAppealStats(*r), resp);
}
grpc::Status AppealsServiceImpl::ListObjectionWindows(grpc::ServerContext* context, const v1::ListObjectionWindowsRequest* r,
                                                      v1::ListObjectionWindowsResponse* resp) {
  JARING_AUTHORIZE(context);
  return Reply(ListObjectionWindows(*r), resp);
}
grpc::Status AppealsServiceImpl::LookupFamilyStatus(grpc::ServerContext* context, const v1::LookupFamilyStatusRequest* r,
                                                    v1::LookupFamilyStatusResponse* out) {
  JARING_AUTHORIZE(context);
  return Reply(LookupFamilyStatus(*r), out);
}
}  // namespace jaring::appeals
