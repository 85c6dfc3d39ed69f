#include "tools/jaringctl/appeals_commands.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "jaring/v1/appeals_service.grpc.pb.h"
#include "libs/base/strings.h"
#include "libs/events/envelope.h"
#include "tools/jaringctl/output.h"

namespace jaring::ctl {
namespace {

// --- Input ---------------------------------------------------------------

int Bad(const absl::Status& st) { return BadArguments(std::string(st.message())); }

// Program ids are upper-case ("bpnt" is BPNT).
std::string ProgramId(const std::string& s) { return absl::AsciiStrToUpper(s); }

// --request-id, or a fresh random one.
std::string RequestId(const std::string& given) { return given.empty() ? events::RandomId() : given; }

// "on-behalf", "on_behalf" and "ON-BEHALF" are the same word.
std::string Word(const std::string& value) {
  std::string v = absl::AsciiStrToLower(value);
  std::replace(v.begin(), v.end(), '_', '-');
  return v;
}

absl::StatusOr<v1::AppealKind> ParseKind(std::string_view flag, const std::string& value) {
  const std::string v = Word(value);
  if (v == "inclusion" || v == "inclusion-request" || v == "usul") return v1::APPEAL_KIND_INCLUSION_REQUEST;
  if (v == "exclusion" || v == "exclusion-report" || v == "sanggah") return v1::APPEAL_KIND_EXCLUSION_REPORT;
  if (v == "correction" || v == "data-correction") return v1::APPEAL_KIND_DATA_CORRECTION;
  return absl::InvalidArgumentError(absl::StrCat(Av(flag), ": unknown kind \"", value,
                                                 "\" (inclusion, exclusion or correction)"));
}

absl::StatusOr<v1::FilerRelation> ParseFiler(const std::string& value) {
  const std::string v = Word(value);
  if (v == "member") return v1::FILER_RELATION_MEMBER;
  if (v == "on-behalf") return v1::FILER_RELATION_ON_BEHALF;
  if (v == "community") return v1::FILER_RELATION_COMMUNITY;
  if (v == "office") return v1::FILER_RELATION_OFFICE;
  return absl::InvalidArgumentError(
      absl::StrCat("--filer: unknown value \"", value, "\" (member, on-behalf, community or office)"));
}

absl::StatusOr<v1::AppealOutcome> ParseOutcome(std::string_view flag, const std::string& value) {
  const std::string v = Word(value);
  if (v == "upheld") return v1::APPEAL_OUTCOME_UPHELD;
  if (v == "rejected") return v1::APPEAL_OUTCOME_REJECTED;
  return absl::InvalidArgumentError(absl::StrCat(Av(flag), ": unknown value \"", value, "\" (upheld or rejected)"));
}

absl::StatusOr<v1::AppealState> ParseQueueState(const std::string& value) {
  const std::string v = Word(value);
  if (v == "filed") return v1::APPEAL_STATE_FILED;
  if (v == "assigned") return v1::APPEAL_STATE_ASSIGNED;
  if (v == "verified") return v1::APPEAL_STATE_VERIFIED;
  if (v == "decided") return v1::APPEAL_STATE_DECIDED;
  return absl::InvalidArgumentError(absl::StrCat(
      "--state: \"", value, "\" is not a state of the work queue (filed, assigned, verified or decided)"));
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot open ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
  return ss.str();
}

// A RecordCorrected in proto JSON from `path`; errors name `flag` and the
// file.
absl::StatusOr<v1::RecordCorrected> ReadCorrection(std::string_view flag, const std::string& path) {
  absl::StatusOr<std::string> text = ReadWholeFile(path);
  if (!text.ok()) return absl::InvalidArgumentError(absl::StrCat(Av(flag), ": ", text.status().message()));
  v1::RecordCorrected c;
  auto st = google::protobuf::util::JsonStringToMessage(*text, &c);
  if (!st.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Av(flag), ": ", path, " is not a RecordCorrected in proto JSON: ", st.ToString()));
  }
  return c;
}

// --- Output --------------------------------------------------------------

// The enum value's name without its type prefix, lower-case ("filed").
std::string Lower(const std::string& name, std::string_view prefix) {
  std::string_view v = name;
  if (v.substr(0, prefix.size()) == prefix) v.remove_prefix(prefix.size());
  return absl::AsciiStrToLower(Av(v));
}

// "inclusion", "exclusion", "correction"; "-" unset.
std::string KindShort(v1::AppealKind k) {
  switch (k) {
    case v1::APPEAL_KIND_INCLUSION_REQUEST:
      return "inclusion";
    case v1::APPEAL_KIND_EXCLUSION_REPORT:
      return "exclusion";
    case v1::APPEAL_KIND_DATA_CORRECTION:
      return "correction";
    default:
      return "-";
  }
}
std::string KindLong(v1::AppealKind k) {
  switch (k) {
    case v1::APPEAL_KIND_INCLUSION_REQUEST:
      return "inclusion request (usul)";
    case v1::APPEAL_KIND_EXCLUSION_REPORT:
      return "exclusion report (sanggah)";
    case v1::APPEAL_KIND_DATA_CORRECTION:
      return "data correction";
    default:
      return "all kinds";
  }
}
std::string StateName(v1::AppealState s) { return Lower(v1::AppealState_Name(s), "APPEAL_STATE_"); }
std::string OutcomeName(v1::AppealOutcome o) {
  return o == v1::APPEAL_OUTCOME_UNSPECIFIED ? "-" : Lower(v1::AppealOutcome_Name(o), "APPEAL_OUTCOME_");
}
std::string FilerName(v1::FilerRelation r) {
  switch (r) {
    case v1::FILER_RELATION_MEMBER:
      return "a member of the family";
    case v1::FILER_RELATION_ON_BEHALF:
      return "someone on the family's behalf";
    case v1::FILER_RELATION_COMMUNITY:
      return "a member of the community";
    case v1::FILER_RELATION_OFFICE:
      return "the office";
    default:
      return "(not shown)";
  }
}
std::string DeadlineName(v1::DeadlineKind k) { return Lower(v1::DeadlineKind_Name(k), "DEADLINE_KIND_"); }

std::string Or(const std::string& s, const char* dash = "-") { return s.empty() ? dash : s; }

bool IsSet(const google::protobuf::Timestamp& ts) { return ts.seconds() != 0 || ts.nanos() != 0; }

// "14 days", "1 day", "5 hours" (for "left" and "overdue by"): from a day
// on, rounded to the nearest day; below that, whole hours.
std::string Span(absl::Duration d) {
  if (d >= absl::Hours(24)) {
    const int64_t days = std::llround(absl::ToDoubleHours(d) / 24);
    return absl::StrCat(days, days == 1 ? " day" : " days");
  }
  const int64_t hours = absl::ToInt64Hours(d);
  if (hours >= 1) return absl::StrCat(hours, hours == 1 ? " hour" : " hours");
  return "less than an hour";
}

// How a deadline went: "pending (3 days left)", "pending, overdue by 2
// days", "met 2026-03-01 08:00 WIB", "BREACHED: ...", "stopped by the
// withdrawal ...".
std::string DeadlineStatus(const v1::AppealDeadline& d, const v1::Appeal& a, absl::Time now) {
  if (d.breached()) {
    std::string s = "BREACHED";
    if (d.has_met_at()) {
      absl::StrAppend(&s, ", reached late ", FormatTime(d.met_at()));
    } else {
      absl::StrAppend(&s, ", still pending");
    }
    if (!d.escalation_event_id().empty()) absl::StrAppend(&s, ", escalated");
    return s;
  }
  if (d.has_met_at()) {
    if (a.state() == v1::APPEAL_STATE_WITHDRAWN && IsSet(a.closed_at()) &&
        events::ToMillis(a.closed_at()) == events::ToMillis(d.met_at())) {
      return absl::StrCat("stopped by the withdrawal ", FormatTime(d.met_at()));
    }
    return absl::StrCat("met ", FormatTime(d.met_at()));
  }
  const absl::Duration left = events::FromProtoTime(d.due()) - now;
  if (left < absl::ZeroDuration()) return absl::StrCat("pending, overdue by ", Span(-left));
  return absl::StrCat("pending (", Span(left), " left)");
}

// The nearest deadline not yet reached, or nullptr.
const v1::AppealDeadline* NextDeadline(const v1::Appeal& a) {
  const v1::AppealDeadline* next = nullptr;
  for (const v1::AppealDeadline& d : a.deadlines()) {
    if (d.has_met_at()) continue;
    if (next == nullptr || events::ToMillis(d.due()) < events::ToMillis(next->due())) next = &d;
  }
  return next;
}

std::string DescribeRef(const v1::DecisionRef& d) {
  return absl::StrCat(d.decision_id(), " version ", d.version(), ": ",
                      d.eligible() ? absl::StrCat("eligible, ", Rupiah(d.yearly_amount()), " per year")
                                   : "not eligible");
}

// What a correction changes; NIKs masked.
std::string DescribeCorrection(const v1::RecordCorrected& c, const std::string& kk) {
  std::string what;
  switch (c.correction_case()) {
    case v1::RecordCorrected::kWelfareAssessment: {
      const v1::WelfareAssessed& w = c.welfare_assessment();
      what = absl::StrCat("welfare assessment: DTSEN round ", w.round(), ", decile ", w.decile(), ", PMT score ",
                          absl::StrFormat("%.6f", static_cast<double>(w.pmt_score_micros()) / 1e6));
      break;
    }
    case v1::RecordCorrected::kMember:
      what = absl::StrCat("member ", MaskNik(c.member().nik()), " (", c.member().full_name(), ")");
      break;
    case v1::RecordCorrected::kRetraction:
      what = "retraction: the event did not happen";
      break;
    default:
      what = "(nothing set)";
      break;
  }
  if (!c.corrected_event_id().empty()) absl::StrAppend(&what, "; corrects event ", c.corrected_event_id());
  return MaskNiksIn(what, kk);
}

void PrintJson(const google::protobuf::Message& m) { std::printf("%s\n", ToJson(m).c_str()); }

void PrintMore(const std::string& token) {
  if (!token.empty()) std::printf("\nmore: --page-token %s\n", token.c_str());
}

// The request id line of a write command: how to retry it safely.
void PrintRequestId(const std::string& request_id, bool given) {
  if (given) {
    std::printf("  request id          %s\n", request_id.c_str());
  } else {
    std::printf("  request id          %s (to retry this command safely, repeat it with --request-id %s)\n",
                request_id.c_str(), request_id.c_str());
  }
}

// The deadlines of an appeal as a table.
void PrintDeadlines(const v1::Appeal& a, absl::Time now) {
  Table t({"  DEADLINE", "DUE", "STATUS"});
  for (const v1::AppealDeadline& d : a.deadlines()) {
    t.Add({absl::StrCat("  ", DeadlineName(d.kind())), FormatTime(d.due()), DeadlineStatus(d, a, now)});
  }
  t.Print();
}

// The short summary a write command prints after the service answered.
void PrintSummary(const v1::Appeal& a) {
  const absl::Time now = absl::Now();
  std::printf("  kind                %s\n", KindLong(a.kind()).c_str());
  std::printf("  family              KK %s, region %s, program %s\n", a.kk_number().c_str(), a.region_code().c_str(),
              a.program().c_str());
  std::printf("  state               %s\n", StateName(a.state()).c_str());
  if (!a.verifier_id().empty()) std::printf("  verifier            %s\n", a.verifier_id().c_str());
  if (a.outcome() != v1::APPEAL_OUTCOME_UNSPECIFIED) {
    std::printf("  outcome             %s: %s\n", OutcomeName(a.outcome()).c_str(),
                MaskNiksIn(a.outcome_reason(), a.kk_number()).c_str());
  }
  for (const v1::AppealDeadline& d : a.deadlines()) {
    std::printf("  %-19s %s, %s\n", absl::StrCat(DeadlineName(d.kind()), " due").c_str(),
                FormatTime(d.due()).c_str(), DeadlineStatus(d, a, now).c_str());
  }
}

// --- Calls ---------------------------------------------------------------

using Stub = v1::AppealsService::Stub;
template <typename Req, typename Resp>
using Rpc = grpc::Status (Stub::*)(grpc::ClientContext*, const Req&, Resp*);

// The appeals stub next to a Client (deadlines and error mapping).
using Appeals = Remote<v1::AppealsService>;

// Sends a transition (assign, verify, decide, close, withdraw) and prints
// what it did: "<verb> appeal ID" and the summary.
template <typename Req, typename Resp>
int Transition(const GlobalFlags& g, Rpc<Req, Resp> rpc, const Req& req, bool request_id_given,
               const std::string& verb) {
  Appeals s(g);
  Resp resp;
  grpc::Status st = s.Call(rpc, req, &resp);
  if (!st.ok()) return s.Fail(st);
  if (g.json) {
    PrintJson(resp);
    return kExitOk;
  }
  std::printf("%s appeal %s\n", verb.c_str(), resp.appeal().appeal_id().c_str());
  PrintSummary(resp.appeal());
  PrintRequestId(req.request_id(), request_id_given);
  return kExitOk;
}

}  // namespace

// --- Commands --------------------------------------------------------------

int RunAppealFile(const GlobalFlags& g, const AppealFileFlags& f) {
  absl::StatusOr<v1::AppealKind> kind = ParseKind("--kind", f.kind);
  if (!kind.ok()) return Bad(kind.status());
  absl::StatusOr<v1::FilerRelation> filer = ParseFiler(f.filer);
  if (!filer.ok()) return Bad(filer.status());
  if (*filer != v1::FILER_RELATION_OFFICE && f.filer_nik.empty()) {
    return BadArguments("--filer-nik: required unless --filer office (the service keeps only a keyed hash of it)");
  }
  if (*filer == v1::FILER_RELATION_OFFICE && !f.filer_nik.empty()) {
    return BadArguments("--filer-nik: not given when the office files (--filer office)");
  }
  if (f.decision_id.empty() && f.program.empty()) {
    return BadArguments("--program: required unless --decision names the decision contested");
  }
  v1::FileAppealRequest req;
  req.set_request_id(RequestId(f.request_id));
  req.set_actor(f.actor);
  req.set_kind(*kind);
  req.set_kk_number(f.kk);
  req.set_program(ProgramId(f.program));
  req.set_decision_id(f.decision_id);
  req.set_decision_version(f.decision_version);
  req.set_filer_relation(*filer);
  req.set_filer_nik(f.filer_nik);
  req.set_statement(f.statement);
  if (!f.proposed_file.empty()) {
    absl::StatusOr<v1::RecordCorrected> c = ReadCorrection("--proposed-correction-file", f.proposed_file);
    if (!c.ok()) return Bad(c.status());
    *req.mutable_proposed_correction() = *std::move(c);
  }
  Appeals s(g);
  v1::FileAppealResponse resp;
  grpc::Status st = s.Call(&Stub::FileAppeal, req, &resp);
  if (!st.ok()) return s.Fail(st);
  if (g.json) {
    PrintJson(resp);
    return kExitOk;
  }
  const v1::Appeal& a = resp.appeal();
  if (resp.existing()) {
    std::printf("existing appeal %s: nothing appended (an open %s of this family and program was filed before, "
                "or this request id was used already)\n",
                a.appeal_id().c_str(), KindShort(a.kind()).c_str());
  } else {
    std::printf("filed appeal %s\n", a.appeal_id().c_str());
  }
  PrintSummary(a);
  if (a.decision_id().empty()) {
    std::printf("  contested decision  none (no recorded %s decision for the family)\n", a.program().c_str());
  } else {
    std::printf("  contested decision  %s version %lld\n", a.decision_id().c_str(),
                static_cast<long long>(a.decision_version()));
  }
  if (!a.window_id().empty()) std::printf("  objection window    %s\n", a.window_id().c_str());
  PrintRequestId(req.request_id(), !f.request_id.empty());
  if (!resp.existing()) std::printf("\nnext: jaringctl appeal assign %s --verifier V\n", a.appeal_id().c_str());
  return kExitOk;
}

int RunAppealAssign(const GlobalFlags& g, const AppealAssignFlags& f) {
  v1::AssignAppealRequest req;
  req.set_request_id(RequestId(f.request_id));
  req.set_actor(f.actor);
  req.set_appeal_id(f.appeal_id);
  req.set_verifier_id(f.verifier);
  return Transition(g, &Stub::AssignAppeal, req, !f.request_id.empty(),
                    absl::StrCat("assigned verifier ", f.verifier, " to"));
}

int RunAppealVerify(const GlobalFlags& g, const AppealVerifyFlags& f) {
  absl::StatusOr<v1::AppealOutcome> rec = ParseOutcome("--recommend", f.recommend);
  if (!rec.ok()) return Bad(rec.status());
  v1::RecordVerificationRequest req;
  req.set_request_id(RequestId(f.request_id));
  req.set_actor(f.actor);
  req.set_appeal_id(f.appeal_id);
  req.set_verifier_id(f.verifier);
  req.set_findings(f.findings);
  for (const std::string& e : f.evidence) req.add_evidence_refs(e);
  req.set_recommendation(*rec);
  return Transition(g, &Stub::RecordVerification, req, !f.request_id.empty(),
                    absl::StrCat("recorded the verification (recommends ", OutcomeName(*rec), ") of"));
}

int RunAppealDecide(const GlobalFlags& g, const AppealDecideFlags& f) {
  absl::StatusOr<v1::AppealOutcome> outcome = ParseOutcome("--outcome", f.outcome);
  if (!outcome.ok()) return Bad(outcome.status());
  const bool assessment = f.decile != 0 || !f.round.empty();
  const bool correcting = assessment || !f.correction_file.empty();
  if (assessment && f.decile == 0) return BadArguments("--decile: required with --round (1 to 10)");
  if (assessment && f.round.empty()) return BadArguments("--round: required with --decile (the DTSEN round, e.g. 2026-Q3)");
  if (assessment && (f.decile < 1 || f.decile > 10)) return BadArguments("--decile: must be 1 to 10");
  if (f.pmt_score_micros >= 0 && !assessment) return BadArguments("--pmt-score-micros: only with --decile and --round");
  if (!f.corrected_event.empty() && !correcting) {
    return BadArguments("--corrected-event: only with a correction (--decile/--round or --correction-file)");
  }
  if (correcting && *outcome != v1::APPEAL_OUTCOME_UPHELD) {
    return BadArguments(absl::StrCat(assessment ? "--decile" : "--correction-file",
                                     ": a rejected appeal changes no data (only --outcome upheld carries a "
                                     "correction)"));
  }
  v1::DecideAppealRequest req;
  req.set_request_id(RequestId(f.request_id));
  req.set_actor(f.actor);
  req.set_appeal_id(f.appeal_id);
  req.set_outcome(*outcome);
  req.set_reason(f.reason);
  if (assessment) {
    v1::WelfareAssessed* a = req.mutable_correction()->mutable_welfare_assessment();
    a->set_round(f.round);
    a->set_decile(f.decile);
    // Without a score: the middle of the decile's band, as `correct` does.
    a->set_pmt_score_micros(f.pmt_score_micros >= 0 ? f.pmt_score_micros
                                                    : (f.decile - 1) * int64_t{10'000'000} + 5'000'000);
  } else if (!f.correction_file.empty()) {
    absl::StatusOr<v1::RecordCorrected> c = ReadCorrection("--correction-file", f.correction_file);
    if (!c.ok()) return Bad(c.status());
    *req.mutable_correction() = *std::move(c);
  }
  if (!f.corrected_event.empty()) req.mutable_correction()->set_corrected_event_id(f.corrected_event);

  Appeals s(g);
  v1::DecideAppealResponse resp;
  grpc::Status st = s.Call(&Stub::DecideAppeal, req, &resp);
  if (!st.ok()) return s.Fail(st);
  if (g.json) {
    PrintJson(resp);
    return kExitOk;
  }
  const v1::Appeal& a = resp.appeal();
  std::printf("decided appeal %s: %s\n", a.appeal_id().c_str(), OutcomeName(a.outcome()).c_str());
  PrintSummary(a);
  if (!a.correction_event_id().empty()) {
    std::printf("  correction          %s\n", DescribeCorrection(a.correction(), a.kk_number()).c_str());
    std::printf("  correction event    %s on jaring.population.v1\n", a.correction_event_id().c_str());
  }
  PrintRequestId(req.request_id(), !f.request_id.empty());
  if (!a.correction_event_id().empty()) {
    std::printf("\neligibility re-derives the family's decisions from the corrected data; "
                "`jaringctl appeal show %s` shows the resulting decision once it is recorded\n",
                a.appeal_id().c_str());
  }
  return kExitOk;
}

int RunAppealClose(const GlobalFlags& g, const AppealCloseFlags& f) {
  v1::CloseAppealRequest req;
  req.set_request_id(RequestId(f.request_id));
  req.set_actor(f.actor);
  req.set_appeal_id(f.appeal_id);
  req.set_note(f.note);
  return Transition(g, &Stub::CloseAppeal, req, !f.request_id.empty(), "closed");
}

int RunAppealWithdraw(const GlobalFlags& g, const AppealWithdrawFlags& f) {
  v1::WithdrawAppealRequest req;
  req.set_request_id(RequestId(f.request_id));
  req.set_actor(f.actor);
  req.set_appeal_id(f.appeal_id);
  req.set_reason(f.reason);
  req.set_filer_nik(f.filer_nik);
  return Transition(g, &Stub::WithdrawAppeal, req, !f.request_id.empty(), "withdrew");
}

int RunAppealShow(const GlobalFlags& g, const AppealShowFlags& f) {
  Appeals s(g);
  v1::GetAppealRequest req;
  req.set_appeal_id(f.appeal_id);
  v1::GetAppealResponse resp;
  grpc::Status st = s.Call(&Stub::GetAppeal, req, &resp);
  if (!st.ok()) return s.Fail(st);
  if (g.json) {
    PrintJson(resp);
    return kExitOk;
  }
  const v1::Appeal& a = resp.appeal();
  const std::string& kk = a.kk_number();
  const absl::Time now = absl::Now();
  std::printf("appeal       %s\n", a.appeal_id().c_str());
  std::printf("kind         %s\n", KindLong(a.kind()).c_str());
  std::printf("state        %s%s\n", StateName(a.state()).c_str(), a.escalated() ? " (escalated)" : "");
  std::printf("family       KK %s, region %s\n", kk.c_str(), a.region_code().c_str());
  std::printf("program      %s\n", a.program().c_str());
  std::printf("filed        %s by %s\n", FormatTime(a.filed_at()).c_str(), FilerName(a.filer_relation()).c_str());
  if (!a.window_id().empty()) std::printf("window       objection window %s\n", a.window_id().c_str());
  std::printf("statement    %s\n", Or(MaskNiksIn(a.statement(), kk)).c_str());
  if (a.has_proposed_correction()) {
    std::printf("proposed     %s\n", DescribeCorrection(a.proposed_correction(), kk).c_str());
  }
  std::printf("verifier     %s\n", Or(a.verifier_id(), "not assigned").c_str());
  if (!a.findings().empty() || a.recommendation() != v1::APPEAL_OUTCOME_UNSPECIFIED) {
    std::printf("findings     %s\n", Or(MaskNiksIn(a.findings(), kk)).c_str());
    if (!a.evidence_refs().empty()) {
      std::printf("evidence     %s\n", MaskNiksIn(absl::StrJoin(a.evidence_refs(), ", "), kk).c_str());
    }
    std::printf("recommends   %s\n", OutcomeName(a.recommendation()).c_str());
  }
  if (a.outcome() != v1::APPEAL_OUTCOME_UNSPECIFIED) {
    std::printf("outcome      %s, %s: %s\n", OutcomeName(a.outcome()).c_str(), FormatTime(a.decided_at()).c_str(),
                MaskNiksIn(a.outcome_reason(), kk).c_str());
  } else {
    std::printf("outcome      not decided\n");
  }
  if (!a.correction_event_id().empty()) {
    std::printf("correction   %s\n", DescribeCorrection(a.correction(), kk).c_str());
    if (a.correction_offset() < 0) {
      std::printf("             event %s, not yet read back from jaring.population.v1\n",
                  a.correction_event_id().c_str());
    } else {
      std::printf("             event %s at jaring.population.v1[%d]@%lld\n", a.correction_event_id().c_str(),
                  a.correction_partition(), static_cast<long long>(a.correction_offset()));
    }
  }
  if (IsSet(a.closed_at())) {
    std::printf("%-12s %s\n", a.state() == v1::APPEAL_STATE_WITHDRAWN ? "withdrawn" : "closed",
                FormatTime(a.closed_at()).c_str());
  }

  std::printf("\ndecisions (%s)\n", a.program().c_str());
  if (a.decision_id().empty()) {
    std::printf("  contested  none (the family had no recorded %s decision when it filed)\n", a.program().c_str());
  } else {
    std::printf("  contested  %s version %lld\n", a.decision_id().c_str(),
                static_cast<long long>(a.decision_version()));
  }
  if (a.has_resulting_decision()) {
    std::printf("  resulting  %s (derived from the family's events up to jaring.population.v1[%d]@%lld)\n",
                DescribeRef(a.resulting_decision()).c_str(), a.resulting_decision().population_partition(),
                static_cast<long long>(a.resulting_decision().population_offset()));
  } else if (!a.correction_event_id().empty()) {
    std::printf("  resulting  none yet (eligibility records one when the correction changes the outcome)\n");
  } else {
    std::printf("  resulting  - (no correction)\n");
  }
  if (resp.has_current_decision()) {
    std::printf("  current    %s\n", DescribeRef(resp.current_decision()).c_str());
  } else {
    std::printf("  current    none recorded\n");
  }

  std::printf("\ndeadlines\n");
  PrintDeadlines(a, now);

  std::printf("\ntimeline\n");
  Table t({"  WHEN", "STEP", "ACTOR", "DETAIL"});
  for (const v1::AppealStep& step : a.timeline()) {
    t.Add({absl::StrCat("  ", FormatTime(step.occurred_at())), step.step(), Or(step.actor()),
           MaskNiksIn(step.detail(), kk)});
  }
  t.Print();
  return kExitOk;
}

int RunAppealsFamily(const GlobalFlags& g, const AppealsFamilyFlags& f) {
  Appeals s(g);
  v1::ListFamilyAppealsRequest req;
  req.set_kk_number(f.kk);
  v1::ListFamilyAppealsResponse resp;
  grpc::Status st = s.Call(&Stub::ListFamilyAppeals, req, &resp);
  if (!st.ok()) return s.Fail(st);
  if (g.json) {
    PrintJson(resp);
    return kExitOk;
  }
  if (resp.appeals().empty()) {
    std::printf("KK %s: no appeals\n", f.kk.c_str());
    return kExitOk;
  }
  std::printf("KK %s: %d appeal(s), oldest first\n\n", f.kk.c_str(), resp.appeals_size());
  Table t({"APPEAL", "KIND", "PROGRAM", "STATE", "FILED", "OUTCOME", "RESULTING DECISION"});
  for (const v1::Appeal& a : resp.appeals()) {
    t.Add({a.appeal_id(), KindShort(a.kind()), a.program(), StateName(a.state()), FormatTime(a.filed_at()),
           OutcomeName(a.outcome()),
           a.has_resulting_decision()
               ? absl::StrCat(a.resulting_decision().decision_id(), " (",
                              a.resulting_decision().eligible() ? "eligible" : "not eligible", ")")
               : "-"});
  }
  t.Print();
  return kExitOk;
}

int RunAppealsQueue(const GlobalFlags& g, const AppealsQueueFlags& f) {
  v1::ListWorkQueueRequest req;
  req.set_region_prefix(f.region);
  if (!f.state.empty()) {
    absl::StatusOr<v1::AppealState> state = ParseQueueState(f.state);
    if (!state.ok()) return Bad(state.status());
    req.set_state(*state);
  }
  req.set_page_size(f.limit);
  req.set_page_token(f.page_token);
  Appeals s(g);
  v1::ListWorkQueueResponse resp;
  grpc::Status st = s.Call(&Stub::ListWorkQueue, req, &resp);
  if (!st.ok()) return s.Fail(st);
  if (g.json) {
    PrintJson(resp);
    return kExitOk;
  }
  if (resp.appeals().empty()) {
    std::printf("no open appeals%s in %s\n", f.state.empty() ? "" : absl::StrCat(" ", Word(f.state)).c_str(),
                f.region.c_str());
  } else {
    const absl::Time now = absl::Now();
    Table t({"APPEAL", "KK", "REGION", "KIND", "PROGRAM", "STATE", "NEXT DEADLINE", "DUE", "STATUS", "VERIFIER"});
    for (const v1::Appeal& a : resp.appeals()) {
      const v1::AppealDeadline* next = NextDeadline(a);
      t.Add({a.appeal_id(), a.kk_number(), a.region_code(), KindShort(a.kind()), a.program(), StateName(a.state()),
             next ? DeadlineName(next->kind()) : "none (decided: close it)", next ? FormatTime(next->due()) : "-",
             next ? DeadlineStatus(*next, a, now) : "-", Or(a.verifier_id())});
    }
    t.Print();
    std::printf("\n%d appeal(s) in %s, nearest deadline first\n", resp.appeals_size(), f.region.c_str());
  }
  PrintMore(resp.next_page_token());
  return kExitOk;
}

int RunAppealsBreaches(const GlobalFlags& g, const AppealsRangeFlags& f) {
  v1::ListBreachesRequest req;
  req.set_region_prefix(f.region);
  absl::Status when = SetTime("--from", f.from, DayEdge::kStart, [&] { return req.mutable_from(); });
  if (when.ok()) when = SetTime("--to", f.to, DayEdge::kEnd, [&] { return req.mutable_to(); });
  if (!when.ok()) return Bad(when);
  Appeals s(g);
  v1::ListBreachesResponse resp;
  grpc::Status st = s.Call(&Stub::ListBreaches, req, &resp);
  if (!st.ok()) return s.Fail(st);
  if (g.json) {
    PrintJson(resp);
    return kExitOk;
  }
  if (resp.breaches().empty()) {
    std::printf("no breached deadlines in %s\n", f.region.c_str());
    return kExitOk;
  }
  Table t({"APPEAL", "KIND", "REGION", "PROGRAM", "DEADLINE", "DUE", "REACHED", "STATE", "ESCALATION"});
  for (const v1::Breach& b : resp.breaches()) {
    t.Add({b.appeal_id(), KindShort(b.kind()), b.region_code(), b.program(), DeadlineName(b.deadline()),
           FormatTime(b.due()), b.has_met_at() ? FormatTime(b.met_at()) : "still pending", StateName(b.state()),
           Or(b.escalation_event_id())});
  }
  t.Print();
  std::printf("\n%d breached deadline(s) in %s, by due time\n", resp.breaches_size(), f.region.c_str());
  return kExitOk;
}

int RunAppealsStats(const GlobalFlags& g, const AppealsRangeFlags& f) {
  v1::GetAppealStatsRequest req;
  req.set_region_prefix(f.region);
  absl::Status when = SetTime("--from", f.from, DayEdge::kStart, [&] { return req.mutable_from(); });
  if (when.ok()) when = SetTime("--to", f.to, DayEdge::kEnd, [&] { return req.mutable_to(); });
  if (!when.ok()) return Bad(when);
  Appeals s(g);
  v1::GetAppealStatsResponse resp;
  grpc::Status st = s.Call(&Stub::GetAppealStats, req, &resp);
  if (!st.ok()) return s.Fail(st);
  if (g.json) {
    PrintJson(resp);
    return kExitOk;
  }
  std::printf("appeals filed in %s%s\n\n", f.region.c_str(),
              f.from.empty() && f.to.empty()
                  ? ""
                  : absl::StrCat(" from ", f.from.empty() ? "the start" : f.from, " to ",
                                 f.to.empty() ? "now" : f.to)
                        .c_str());
  Table t({"KIND", "FILED", "UPHELD", "REJECTED", "WITHDRAWN", "OPEN", "ESCALATED", "MEDIAN DAYS TO DECISION"});
  for (const v1::AppealStats& r : resp.stats()) {
    t.Add({r.kind() == v1::APPEAL_KIND_UNSPECIFIED ? "total" : KindShort(r.kind()), absl::StrCat(r.filed()),
           absl::StrCat(r.upheld()), absl::StrCat(r.rejected()), absl::StrCat(r.withdrawn()), absl::StrCat(r.open()),
           absl::StrCat(r.escalated()),
           r.upheld() + r.rejected() > 0 ? absl::StrFormat("%.1f", r.median_days_to_decision()) : "-"});
  }
  t.Print();
  return kExitOk;
}

int RunAppealPolicySet(const GlobalFlags& g, const AppealPolicyFlags& f) {
  absl::StatusOr<v1::AppealKind> kind = ParseKind("--kind", f.kind);
  if (!kind.ok()) return Bad(kind.status());
  v1::SetAppealPolicyRequest req;
  req.set_request_id(RequestId(f.request_id));
  req.set_actor(f.actor);
  v1::AppealPolicySet* p = req.mutable_policy();
  p->set_region_prefix(f.region);
  p->set_kind(*kind);
  p->set_verification_days(f.verification_days);
  p->set_decision_days(f.decision_days);
  p->set_objection_window_days(f.objection_window_days);
  Appeals s(g);
  v1::SetAppealPolicyResponse resp;
  grpc::Status st = s.Call(&Stub::SetAppealPolicy, req, &resp);
  if (!st.ok()) return s.Fail(st);
  if (g.json) {
    PrintJson(resp);
    return kExitOk;
  }
  const v1::AppealPolicySet& got = resp.policy();
  std::printf("policy for %ss in %s (and the regions under it without a longer prefix of their own)\n",
              KindShort(got.kind()).c_str(), got.region_prefix().c_str());
  std::printf("  verified within     %d days of filing\n", got.verification_days());
  std::printf("  decided within      %d days of filing\n", got.decision_days());
  if (got.kind() == v1::APPEAL_KIND_EXCLUSION_REPORT) {
    std::printf("  objection windows   %d days\n", got.objection_window_days());
  }
  std::printf("  (appeals filed from now on; an appeal keeps the deadlines it was filed with)\n");
  PrintRequestId(req.request_id(), !f.request_id.empty());
  return kExitOk;
}

int RunAppealWindowOpen(const GlobalFlags& g, const AppealWindowOpenFlags& f) {
  v1::OpenObjectionWindowRequest req;
  req.set_request_id(RequestId(f.request_id));
  req.set_actor(f.actor);
  req.set_region_prefix(f.region);
  req.set_program(ProgramId(f.program));
  req.set_days(f.days);
  req.set_announcement(f.announcement);
  absl::Status when = SetTime("--opens-at", f.opens_at, DayEdge::kStart, [&] { return req.mutable_opens_at(); });
  if (!when.ok()) return Bad(when);
  Appeals s(g);
  v1::OpenObjectionWindowResponse resp;
  grpc::Status st = s.Call(&Stub::OpenObjectionWindow, req, &resp);
  if (!st.ok()) return s.Fail(st);
  if (g.json) {
    PrintJson(resp);
    return kExitOk;
  }
  const v1::ObjectionWindowOpened& w = resp.window();
  std::printf("objection window %s for %s in %s\n", w.window_id().c_str(), w.program().c_str(),
              w.region_prefix().c_str());
  std::printf("  opens               %s\n", FormatTime(w.opens_at()).c_str());
  std::printf("  closes              %s\n", FormatTime(w.closes_at()).c_str());
  std::printf("  announcement        %s\n", w.announcement().c_str());
  PrintRequestId(req.request_id(), !f.request_id.empty());
  std::printf("\nexclusion reports (appeal file --kind exclusion) against %s decisions in %s are accepted while it "
              "is open\n",
              w.program().c_str(), w.region_prefix().c_str());
  return kExitOk;
}

int RunAppealWindows(const GlobalFlags& g, const AppealWindowsFlags& f) {
  v1::ListObjectionWindowsRequest req;
  req.set_region_prefix(f.region);
  Appeals s(g);
  v1::ListObjectionWindowsResponse resp;
  grpc::Status st = s.Call(&Stub::ListObjectionWindows, req, &resp);
  if (!st.ok()) return s.Fail(st);
  if (g.json) {
    PrintJson(resp);
    return kExitOk;
  }
  if (resp.windows().empty()) {
    std::printf("no objection windows%s\n", f.region.empty() ? "" : absl::StrCat(" for ", f.region).c_str());
    return kExitOk;
  }
  const absl::Time now = absl::Now();
  Table t({"WINDOW", "REGION", "PROGRAM", "OPENS", "CLOSES", "NOW", "ANNOUNCEMENT"});
  for (const v1::ObjectionWindowOpened& w : resp.windows()) {
    const absl::Time opens = events::FromProtoTime(w.opens_at());
    const absl::Time closes = events::FromProtoTime(w.closes_at());
    const char* status = now < opens ? "not yet open" : (now < closes ? "open" : "closed");
    t.Add({w.window_id(), w.region_prefix(), w.program(), FormatTime(w.opens_at()), FormatTime(w.closes_at()), status,
           w.announcement()});
  }
  t.Print();
  return kExitOk;
}

// --- Registration ------------------------------------------------------------

AppealsCommands::AppealsCommands(CLI::App& app) {
  const std::string actor_help = "Principal id recorded on the event (never a NIK)";
  const std::string rid_help = "Idempotency key; default: a random one (a retry with the same id appends nothing)";
  const std::string region_help = "Region code prefix, e.g. 52 or 52.71";

  CLI::App* appeal = app.add_subcommand(
      "appeal", "Appeals: usul (inclusion requests), sanggah (exclusion reports) and data corrections");
  appeal->require_subcommand(1);

  file_cmd_ = appeal->add_subcommand(
      "file", "File an appeal: prints its id, state and deadlines (\"existing\" when an open one of the same family, "
              "program and kind was returned)");
  file_cmd_->add_option("--kind", file_.kind, "inclusion (usul), exclusion (sanggah) or correction (data)")
      ->required();
  file_cmd_->add_option("--kk", file_.kk, "KK number of the family the appeal is about")->required();
  file_cmd_->add_option("--program", file_.program,
                        "Program id (PKH, BPNT, PBI_JK, BLT_DD); required unless --decision names the decision");
  CLI::Option* decision = file_cmd_->add_option(
      "--decision", file_.decision_id, "The decision contested (required for an exclusion report, and for a data "
                                       "correction when the family has a recorded decision for the program)");
  CLI::Option* version = file_cmd_->add_option("--decision-version", file_.decision_version,
                                               "Its version, as the filer saw it (with --decision)")
                             ->check(CLI::PositiveNumber);
  decision->needs(version);
  version->needs(decision);
  file_cmd_->add_option("--filer", file_.filer, "Who files: member, on-behalf, community or office")->required();
  file_cmd_->add_option("--filer-nik", file_.filer_nik,
                        "The filer's NIK (unless --filer office); the service keeps only a keyed hash of it");
  file_cmd_->add_option("--statement", file_.statement, "What the filer says")->required();
  file_cmd_->add_option("--proposed-correction-file", file_.proposed_file,
                        "A data correction's proposal: a RecordCorrected in proto JSON")
      ->check(CLI::ExistingFile);
  file_cmd_->add_option("--request-id", file_.request_id,
                        "Idempotency key; default: a random one, printed, so a filing can be retried without filing "
                        "twice");
  file_cmd_->add_option("--actor", file_.actor, actor_help)->capture_default_str();

  assign_cmd_ = appeal->add_subcommand("assign", "Assign (or reassign) a field verifier to a filed appeal");
  assign_cmd_->add_option("appeal_id", assign_.appeal_id, "Appeal id")->required();
  assign_cmd_->add_option("--verifier", assign_.verifier, "The field verifier's officer id (not a NIK)")->required();
  assign_cmd_->add_option("--request-id", assign_.request_id, rid_help);
  assign_cmd_->add_option("--actor", assign_.actor, actor_help)->capture_default_str();

  verify_cmd_ = appeal->add_subcommand("verify", "Record the assigned verifier's field verification");
  verify_cmd_->add_option("appeal_id", verify_.appeal_id, "Appeal id")->required();
  verify_cmd_->add_option("--verifier", verify_.verifier, "The verifier the appeal is assigned to")->required();
  verify_cmd_->add_option("--findings", verify_.findings, "What the field visit found")->required();
  verify_cmd_->add_option("--evidence", verify_.evidence,
                          "A reference to evidence kept elsewhere (document number, photo id); repeatable")
      ->allow_extra_args(false);  // one reference per --evidence, so the appeal id is never taken for one
  verify_cmd_->add_option("--recommend", verify_.recommend, "upheld or rejected")->required();
  verify_cmd_->add_option("--request-id", verify_.request_id, rid_help);
  verify_cmd_->add_option("--actor", verify_.actor, actor_help)->capture_default_str();

  decide_cmd_ = appeal->add_subcommand(
      "decide", "Decide a verified appeal; an upheld one that changes data carries the correction appended to "
                "jaring.population.v1");
  decide_cmd_->add_option("appeal_id", decide_.appeal_id, "Appeal id")->required();
  decide_cmd_->add_option("--outcome", decide_.outcome, "upheld or rejected")->required();
  decide_cmd_->add_option("--reason", decide_.reason, "Why")->required();
  CLI::Option* decile =
      decide_cmd_->add_option("--decile", decide_.decile, "Correction: the family's DTSEN decile (1-10), with --round");
  CLI::Option* round =
      decide_cmd_->add_option("--round", decide_.round, "Correction: the DTSEN round, e.g. 2026-Q3, with --decile");
  CLI::Option* pmt = decide_cmd_->add_option("--pmt-score-micros", decide_.pmt_score_micros,
                                             "Correction: the PMT score in millionths; default the middle of the "
                                             "decile");
  CLI::Option* file = decide_cmd_->add_option("--correction-file", decide_.correction_file,
                                              "Correction: a RecordCorrected in proto JSON (member, "
                                              "welfare_assessment or retraction)")
                          ->check(CLI::ExistingFile);
  decide_cmd_->add_option("--corrected-event", decide_.corrected_event,
                          "The event corrected; default the family's latest assessment (or latest event for a "
                          "member correction)");
  file->excludes(decile);
  file->excludes(round);
  file->excludes(pmt);
  decide_cmd_->add_option("--request-id", decide_.request_id, rid_help);
  decide_cmd_->add_option("--actor", decide_.actor, actor_help)->capture_default_str();

  close_cmd_ = appeal->add_subcommand("close", "Close a decided appeal (the outcome was communicated)");
  close_cmd_->add_option("appeal_id", close_.appeal_id, "Appeal id")->required();
  close_cmd_->add_option("--note", close_.note, "A note, e.g. how the family was told");
  close_cmd_->add_option("--request-id", close_.request_id, rid_help);
  close_cmd_->add_option("--actor", close_.actor, actor_help)->capture_default_str();

  withdraw_cmd_ = appeal->add_subcommand("withdraw", "Withdraw an appeal not yet decided (only the filer does)");
  withdraw_cmd_->add_option("appeal_id", withdraw_.appeal_id, "Appeal id")->required();
  withdraw_cmd_->add_option("--reason", withdraw_.reason, "Why")->required();
  withdraw_cmd_->add_option("--filer-nik", withdraw_.filer_nik,
                            "The filer's NIK (checked against the kept hash); not given when the office filed");
  withdraw_cmd_->add_option("--request-id", withdraw_.request_id, rid_help);
  withdraw_cmd_->add_option("--actor", withdraw_.actor, actor_help)->capture_default_str();

  show_cmd_ = appeal->add_subcommand(
      "show", "An appeal: its timeline, deadlines (due, met, breached), and the contested, resulting and current "
              "decisions");
  show_cmd_->add_option("appeal_id", show_.appeal_id, "Appeal id")->required();

  CLI::App* policy = appeal->add_subcommand("policy", "Deadline policies of a region");
  policy->require_subcommand(1);
  policy_set_cmd_ = policy->add_subcommand(
      "set", "Set the deadlines for appeals of one kind in a region prefix (the longest matching prefix wins)");
  policy_set_cmd_->add_option("--region", policy_.region, "Region code prefix: PP, PP.RR, PP.RR.DD or a full code")
      ->required();
  policy_set_cmd_->add_option("--kind", policy_.kind, "inclusion, exclusion or correction")->required();
  policy_set_cmd_->add_option("--verification-days", policy_.verification_days, "Days from filing to verify (1-365)")
      ->required();
  policy_set_cmd_->add_option("--decision-days", policy_.decision_days,
                              "Days from filing to decide (at least --verification-days, at most 365)")
      ->required();
  policy_set_cmd_->add_option("--objection-window-days", policy_.objection_window_days,
                              "How long objection windows opened in the region last (exclusion reports; 0-365)")
      ->capture_default_str();
  policy_set_cmd_->add_option("--request-id", policy_.request_id, rid_help);
  policy_set_cmd_->add_option("--actor", policy_.actor, actor_help)->capture_default_str();

  CLI::App* window = appeal->add_subcommand("window", "Objection windows (masa sanggah)");
  window->require_subcommand(1);
  window_open_cmd_ = window->add_subcommand(
      "open", "A list of beneficiaries was announced: accept exclusion reports for the region and program");
  window_open_cmd_->add_option("--region", window_open_.region, region_help)->required();
  window_open_cmd_->add_option("--program", window_open_.program, "Program id: PKH, BPNT, PBI_JK, BLT_DD")->required();
  window_open_cmd_->add_option("--announcement", window_open_.announcement,
                               "What was announced, e.g. \"Daftar penerima BPNT 2026 tahap 2\"")
      ->required();
  window_open_cmd_->add_option("--days", window_open_.days,
                               "How long it stays open (1-365); default the policy's objection window (30 days)")
      ->check(CLI::Range(1, 365));
  window_open_cmd_->add_option("--opens-at", window_open_.opens_at,
                               "YYYY-MM-DD (the START of that day, 00:00 WIB) or RFC 3339; default now");
  window_open_cmd_->add_option("--request-id", window_open_.request_id, rid_help);
  window_open_cmd_->add_option("--actor", window_open_.actor, actor_help)->capture_default_str();

  windows_cmd_ = appeal->add_subcommand("windows", "Objection windows covering or within a region, by opening time");
  windows_cmd_->add_option("--region", windows_.region, "Region code prefix; default every region");

  CLI::App* appeals = app.add_subcommand("appeals", "Lists of appeals: a family's, the work queue, breaches, stats");
  appeals->require_subcommand(1);
  family_cmd_ = appeals->add_subcommand(
      "family", "A family's appeals, oldest first (an exclusion report shows neither its filer nor its statement)");
  family_cmd_->add_option("kk", family_.kk, "KK number (16 digits)")->required();

  queue_cmd_ = appeals->add_subcommand("queue", "Open appeals of a region, nearest pending deadline first");
  queue_cmd_->add_option("--region", queue_.region, region_help)->required();
  queue_cmd_->add_option("--state", queue_.state, "Only this state: filed, assigned, verified or decided");
  queue_cmd_->add_option("--limit", queue_.limit, "Appeals per page (1-1000; default 100)")
      ->check(CLI::Range(1, 1000));
  queue_cmd_->add_option("--page-token", queue_.page_token, "From a previous page");

  const std::string from_help = "From: YYYY-MM-DD (the START of that day, 00:00 WIB) or RFC 3339";
  const std::string to_help = "To: YYYY-MM-DD (the END of that day, 23:59:59.999 WIB) or RFC 3339";
  breaches_cmd_ = appeals->add_subcommand(
      "breaches", "Deadlines passed before their step was reached (escalated, or reached late), by due time");
  breaches_cmd_->add_option("--region", breaches_.region, region_help)->required();
  breaches_cmd_->add_option("--from", breaches_.from, absl::StrCat(from_help, "; deadlines due from then"));
  breaches_cmd_->add_option("--to", breaches_.to, absl::StrCat(to_help, "; deadlines due before then"));

  stats_cmd_ = appeals->add_subcommand(
      "stats", "Per kind and in total: filed, upheld, rejected, withdrawn, open, escalated, median days to decision");
  stats_cmd_->add_option("--region", stats_.region, region_help)->required();
  stats_cmd_->add_option("--from", stats_.from, absl::StrCat(from_help, "; appeals filed from then"));
  stats_cmd_->add_option("--to", stats_.to, absl::StrCat(to_help, "; appeals filed before then"));
}

std::optional<int> AppealsCommands::Run(const GlobalFlags& g) const {
  if (*file_cmd_) return RunAppealFile(g, file_);
  if (*assign_cmd_) return RunAppealAssign(g, assign_);
  if (*verify_cmd_) return RunAppealVerify(g, verify_);
  if (*decide_cmd_) return RunAppealDecide(g, decide_);
  if (*close_cmd_) return RunAppealClose(g, close_);
  if (*withdraw_cmd_) return RunAppealWithdraw(g, withdraw_);
  if (*show_cmd_) return RunAppealShow(g, show_);
  if (*policy_set_cmd_) return RunAppealPolicySet(g, policy_);
  if (*window_open_cmd_) return RunAppealWindowOpen(g, window_open_);
  if (*windows_cmd_) return RunAppealWindows(g, windows_);
  if (*family_cmd_) return RunAppealsFamily(g, family_);
  if (*queue_cmd_) return RunAppealsQueue(g, queue_);
  if (*breaches_cmd_) return RunAppealsBreaches(g, breaches_);
  if (*stats_cmd_) return RunAppealsStats(g, stats_);
  return std::nullopt;
}

}  // namespace jaring::ctl
