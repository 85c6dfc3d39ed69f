#include "tools/jaringctl/eligibility_commands.h"

#include <cstdio>
#include <filesystem>
#include <memory>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "grpcpp/grpcpp.h"
#include "jaring/v1/eligibility_service.grpc.pb.h"
#include "libs/base/strings.h"
#include "libs/rules/rules.h"
#include "tools/jaringctl/output.h"

namespace jaring::ctl {
namespace {

namespace fs = std::filesystem;

// --- Input ---------------------------------------------------------------

int Bad(const absl::Status& st) { return BadArguments(std::string(st.message())); }

// Program ids are upper-case ("bpnt" is BPNT).
std::string ProgramId(const std::string& s) { return absl::AsciiStrToUpper(s); }

// Loads a rule set for publish or simulate. A load or validation error is
// printed as "jaringctl: <dir>/<file>: <field>: <reason>" and gives
// kExitBadArguments in *exit_code.
std::optional<rules::LoadedRuleSet> LoadOrExplain(const std::string& path, int* exit_code) {
  absl::StatusOr<rules::LoadedRuleSet> loaded = rules::LoadRuleSet(path);
  if (loaded.ok()) return std::move(*loaded);
  std::string message(loaded.status().message());
  if (loaded.status().code() == absl::StatusCode::kInvalidArgument) {
    // The loader names the file within the rule set; give its full path.
    std::error_code ec;
    const fs::path dir = fs::is_directory(path, ec) ? fs::path(path) : fs::path(path).parent_path();
    if (!dir.empty()) message = (dir / message).string();
  }
  *exit_code = BadArguments(absl::StrCat(message, " (nothing sent to the service)"));
  return std::nullopt;
}

// --- Output --------------------------------------------------------------

// "+Rp1.200.000", "-Rp1.200.000", "Rp0".
std::string RupiahDelta(int64_t delta) { return delta > 0 ? absl::StrCat("+", Rupiah(delta)) : Rupiah(delta); }

// The enum value's name without its type prefix ("RULE_SET").
std::string Short(const std::string& name, std::string_view prefix) {
  return name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
}
std::string TriggerName(v1::EvaluationTrigger t) {
  return Short(v1::EvaluationTrigger_Name(t), "EVALUATION_TRIGGER_");
}
std::string ReasonName(v1::ReasonCode c) { return Short(v1::ReasonCode_Name(c), "REASON_CODE_"); }
std::string RiskName(v1::RiskKind k) { return Short(v1::RiskKind_Name(k), "RISK_KIND_"); }

std::string YesNo(bool b) { return b ? "yes" : "no"; }

std::string Position(const v1::InputPosition& p) {
  return absl::StrCat(p.topic(), "[", p.partition(), "]@", p.offset());
}

std::string HashPrefix(const std::string& hash) { return hash.substr(0, 12); }

// --- Calls ---------------------------------------------------------------

template <typename Req, typename Resp>
using Rpc = grpc::Status (v1::EligibilityService::Stub::*)(grpc::ClientContext*, const Req&, Resp*);

// The eligibility stub next to a Client (deadlines and error mapping). The
// channel has the Client's settings; gRPC shares the connection.
class Service : public Remote<v1::EligibilityService> {
 public:
  using Remote::Remote;

  // Every page from req.page_token on (only the first unless `all`) merged
  // into *out by `merge(page, out)`; out->next_page_token is the last
  // page's. Totals are those of the first page.
  template <typename Req, typename Resp, typename Merge>
  grpc::Status Pages(Rpc<Req, Resp> rpc, Req req, bool all, Resp* out, Merge merge) {
    for (int page = 0;; ++page) {
      Resp resp;
      grpc::Status st = Call(rpc, req, &resp);
      if (!st.ok()) return st;
      if (page == 0) {
        *out = resp;
      } else {
        merge(resp, out);
        out->set_next_page_token(resp.next_page_token());
      }
      if (!all || resp.next_page_token().empty()) return grpc::Status::OK;
      if (resp.next_page_token() == req.page_token()) {
        return grpc::Status(grpc::StatusCode::INTERNAL,
                            absl::StrCat("the service returned the same page token twice (", req.page_token(),
                                         "); stopped after ", page + 1, " pages"));
      }
      req.set_page_token(resp.next_page_token());
    }
  }
};

using Stub = v1::EligibilityService::Stub;

void PrintJson(const google::protobuf::Message& m) { std::printf("%s\n", ToJson(m).c_str()); }

void PrintMore(const std::string& token) {
  if (!token.empty()) std::printf("\nmore: --page-token %s (or --all)\n", token.c_str());
}

// --- Decisions -------------------------------------------------------------

void PrintDecision(const v1::GetDecisionResponse& resp, bool explain) {
  const v1::Decision& d = resp.decision();
  const std::string& kk = d.kk_number();
  std::printf("KK          %s\n", kk.c_str());
  std::printf("program     %s\n", d.program().c_str());
  std::printf("region      %s\n", d.region_code().empty() ? "-" : d.region_code().c_str());
  std::printf("as of       %s\n", FormatDate(d.as_of()).c_str());
  std::printf("eligible    %s\n", d.eligible() ? "yes (layak)" : "no (tidak layak)");
  std::printf("yearly      %s\n", Rupiah(d.yearly_amount()).c_str());
  std::printf("decile      %s\n", d.decile() == 0 ? "- (no DTSEN assessment)"
                                                   : absl::StrCat(d.decile(), " (DTSEN round ",
                                                                  d.dtsen_round().empty() ? "-" : d.dtsen_round(), ")")
                                                         .c_str());
  std::printf("rules       %s (hash %s)\n", d.rule_version().c_str(), HashPrefix(d.rule_hash()).c_str());
  if (d.has_pbi_jk()) {
    std::printf("PBI-JK      priority %s, %d member(s) covered at %s per member per month\n",
                Short(v1::PbiJkPriority_Name(d.pbi_jk().priority()), "PBI_JK_PRIORITY_").c_str(),
                d.pbi_jk().covered_members(), Rupiah(d.pbi_jk().premium_per_member_monthly()).c_str());
  }
  std::vector<std::string> inputs;
  for (const v1::InputPosition& p : d.inputs()) inputs.push_back(Position(p));
  std::printf("inputs      %s\n", inputs.empty() ? "-" : absl::StrJoin(inputs, ", ").c_str());
  std::printf("decision    %s\n", d.decision_id().empty()
                                      ? "- (not recorded with this outcome)"
                                      : absl::StrCat(d.decision_id(), " version ", d.version()).c_str());
  if (resp.has_recorded()) {
    const v1::Decision& r = resp.recorded();
    if (resp.recorded_agrees()) {
      std::printf("recorded    agrees (recorded %s)\n", FormatTime(resp.recorded_at()).c_str());
    } else {
      std::printf("recorded    DISAGREES: decision %s version %lld recorded %s says eligible %s, %s a year%s%s\n",
                  r.decision_id().c_str(), static_cast<long long>(r.version()),
                  FormatTime(resp.recorded_at()).c_str(), YesNo(r.eligible()).c_str(),
                  Rupiah(r.yearly_amount()).c_str(), r.reasons_size() > 0 ? ": " : "",
                  r.reasons_size() > 0 ? MaskNiksIn(r.reasons(0).text_id(), kk).c_str() : "");
      std::printf("            (the engine has not recorded the latest inputs yet, or they changed after "
                  "--as-known-at)\n");
    }
  } else {
    std::printf("recorded    none%s\n", d.eligible() ? " yet (the engine records a decision shortly after its inputs)"
                                                     : " (a family is not eligible until a decision says so)");
  }

  std::printf("\nreasons\n");
  for (const v1::Reason& r : d.reasons()) {
    std::printf("  %-22s id: %s\n", ReasonName(r.code()).c_str(), MaskNiksIn(r.text_id(), kk).c_str());
    std::printf("  %-22s en: %s\n", "", MaskNiksIn(r.text_en(), kk).c_str());
  }
  if (d.stages_size() > 0) {
    std::printf("\nstages\n");
    Table t({"  PERIOD", "AMOUNT", "MONTHS"});
    for (const v1::StagePayment& s : d.stages()) {
      const int last = s.first_month() + s.month_count() - 1;
      t.Add({absl::StrCat("  ", s.period()), Rupiah(s.amount()),
             last <= s.first_month() ? absl::StrCat(s.first_month()) : absl::StrCat(s.first_month(), "-", last)});
    }
    t.Print();
  }
  if (d.components_size() > 0) {
    std::printf("\ncomponents\n");
    Table t({"  KIND", "MEMBER", "YEARLY"});
    for (const v1::ComponentAward& c : d.components()) {
      t.Add({absl::StrCat("  ", Short(v1::PkhComponentKind_Name(c.kind()), "PKH_COMPONENT_KIND_")),
             MaskNik(c.member_nik()), Rupiah(c.yearly_amount())});
    }
    t.Print();
  }
  if (explain) {
    std::printf("\nclauses (%d)\n", d.clauses_size());
    for (const v1::ClauseResult& c : d.clauses()) {
      std::vector<std::string> in;
      for (const v1::ClauseInput& i : c.inputs()) {
        in.push_back(absl::StrCat(i.key(), "=", i.value().empty() ? "\"\"" : MaskNiksIn(i.value(), kk)));
      }
      std::printf("  %s  %s\n", c.passed() ? "PASS" : "FAIL", MaskNiksIn(c.clause_id(), kk).c_str());
      std::printf("        id: %s\n", c.description_id().c_str());
      std::printf("        en: %s\n", c.description_en().c_str());
      std::printf("        inputs: %s\n", in.empty() ? "-" : absl::StrJoin(in, " ").c_str());
    }
  }
}

// --- Registration helpers ----------------------------------------------------

void AddPaging(CLI::App* cmd, int& page_size, std::string& page_token, bool& all, const std::string& what) {
  cmd->add_option("--page-size", page_size, absl::StrCat(what, " per page, 1-1000 (service default when 0)"))
      ->check(CLI::Range(0, 1000));
  cmd->add_option("--page-token", page_token, "From a previous page");
  cmd->add_flag("--all", all, "Fetch every page (from --page-token, if given) and print them as one");
}

}  // namespace

// --- Rule sets -------------------------------------------------------------

int RunRulesPublish(const GlobalFlags& g, const RulesPublishFlags& f) {
  int code = kExitOk;
  std::optional<rules::LoadedRuleSet> loaded = LoadOrExplain(f.path, &code);
  if (!loaded) return code;
  v1::PublishRuleSetRequest req;
  *req.mutable_rule_set() = std::move(loaded->rules);
  absl::Status when = SetTime("--effective-from", f.effective_from, DayEdge::kStart,
                              [&] { return req.mutable_rule_set()->mutable_effective_from(); });
  if (!when.ok()) return Bad(when);
  req.set_actor(f.actor);
  Service s(g);
  v1::PublishRuleSetResponse resp;
  grpc::Status st = s.Call(&Stub::PublishRuleSet, req, &resp);
  if (!st.ok()) return s.Fail(st);
  if (g.json) {
    PrintJson(resp);
    return kExitOk;
  }
  const v1::RuleSet& rs = req.rule_set();
  std::vector<std::string> programs;
  for (const v1::ProgramRules& p : rs.programs()) programs.push_back(p.program_id());
  if (resp.deduplicated()) {
    std::printf("rule set %s was already published with this content (deduplicated): nothing appended\n",
                rs.version().c_str());
  } else {
    std::printf("published rule set %s\n", rs.version().c_str());
  }
  std::printf("  programs        %s\n", absl::StrJoin(programs, ", ").c_str());
  std::printf("  effective from  %s\n", FormatTime(rs.effective_from()).c_str());
  std::printf("  content hash    %s\n", resp.content_hash().c_str());
  std::printf("  offset          jaring.rules.v1[0]@%lld\n", static_cast<long long>(resp.offset()));
  // What the engine evaluates with now: a rule set effective in the future,
  // or before a later one, is not in force.
  v1::ListRuleSetsResponse list;
  if (s.Call(&Stub::ListRuleSets, v1::ListRuleSetsRequest(), &list).ok()) {
    std::printf("  in force now    %s\n",
                list.evaluating_version() == rs.version()
                    ? "yes"
                    : absl::StrCat("no (the engine evaluates with ",
                                   list.evaluating_version().empty() ? "none" : list.evaluating_version(), " on ",
                                   FormatDate(list.evaluating_date()), ")")
                          .c_str());
  }
  return kExitOk;
}

int RunRulesList(const GlobalFlags& g, const RulesListFlags&) {
  Service s(g);
  v1::ListRuleSetsResponse resp;
  grpc::Status st = s.Call(&Stub::ListRuleSets, v1::ListRuleSetsRequest(), &resp);
  if (!st.ok()) return s.Fail(st);
  if (g.json) {
    PrintJson(resp);
    return kExitOk;
  }
  if (resp.rule_sets().empty()) {
    std::printf("no rule set published\n");
  } else {
    Table t({"VERSION", "HASH", "EFFECTIVE FROM", "PUBLISHED AT", "OFFSET", "IN FORCE", "PROGRAMS"});
    for (const v1::PublishedRuleSet& r : resp.rule_sets()) {
      t.Add({r.version(), HashPrefix(r.content_hash()), FormatTime(r.effective_from()), FormatTime(r.published_at()),
             absl::StrCat(r.offset()), YesNo(r.in_force()), absl::StrJoin(r.programs(), ",")});
    }
    t.Print();
    std::printf("\n");
  }
  if (resp.evaluating_version().empty()) {
    std::printf("no rule set in force on %s: the engine decides nothing\n",
                FormatDate(resp.evaluating_date()).c_str());
  } else {
    std::printf("the engine evaluates with %s on %s\n", resp.evaluating_version().c_str(),
                FormatDate(resp.evaluating_date()).c_str());
  }
  return kExitOk;
}

// --- Decisions -------------------------------------------------------------

int RunDecision(const GlobalFlags& g, const DecisionFlags& f, bool explain) {
  v1::GetDecisionRequest req;
  req.set_kk_number(f.kk);
  req.set_program(ProgramId(f.program));
  req.set_explain(explain);
  absl::Status when = SetTime("--as-of", f.as_of, DayEdge::kEnd, [&] { return req.mutable_as_of(); });
  if (when.ok()) {
    when = SetTime("--as-known-at", f.as_known_at, DayEdge::kEnd, [&] { return req.mutable_as_known_at(); });
  }
  if (!when.ok()) return Bad(when);
  Service s(g);
  v1::GetDecisionResponse resp;
  grpc::Status st = s.Call(&Stub::GetDecision, req, &resp);
  if (!st.ok()) return s.Fail(st);
  if (g.json) {
    PrintJson(resp);
  } else {
    PrintDecision(resp, explain);
  }
  return kExitOk;
}

int RunDecisionHistory(const GlobalFlags& g, const DecisionHistoryFlags& f) {
  v1::GetDecisionHistoryRequest req;
  req.set_kk_number(f.kk);
  req.set_program(ProgramId(f.program));
  Service s(g);
  v1::GetDecisionHistoryResponse resp;
  grpc::Status st = s.Call(&Stub::GetDecisionHistory, req, &resp);
  if (!st.ok()) return s.Fail(st);
  if (g.json) {
    PrintJson(resp);
    return kExitOk;
  }
  if (resp.decisions().empty()) {
    std::printf("no recorded decision for %s%s (a family is not eligible until a decision says so)\n",
                f.kk.c_str(), f.program.empty() ? "" : absl::StrCat(" and ", req.program()).c_str());
    return kExitOk;
  }
  Table t({"RECORDED", "PROGRAM", "VERSION", "ELIGIBLE", "YEARLY", "TRIGGER", "RULES", "REASON"});
  for (const v1::RecordedDecision& r : resp.decisions()) {
    const v1::Decision& d = r.decision();
    t.Add({FormatTime(r.recorded_at()), d.program(), absl::StrCat(d.version()), YesNo(d.eligible()),
           Rupiah(d.yearly_amount()), TriggerName(r.trigger()), d.rule_version(),
           d.reasons_size() > 0 ? MaskNiksIn(d.reasons(0).text_id(), f.kk) : "-"});
  }
  t.Print();
  return kExitOk;
}

// --- Region queries --------------------------------------------------------

int RunBeneficiaries(const GlobalFlags& g, const BeneficiariesFlags& f) {
  v1::ListBeneficiariesRequest req;
  req.set_program(ProgramId(f.program));
  req.set_region_prefix(f.region);
  req.set_page_size(f.page_size);
  req.set_page_token(f.page_token);
  Service s(g);
  v1::ListBeneficiariesResponse resp;
  grpc::Status st = s.Pages(&Stub::ListBeneficiaries, req, f.all, &resp,
                            [](const v1::ListBeneficiariesResponse& page, v1::ListBeneficiariesResponse* out) {
                              out->mutable_beneficiaries()->MergeFrom(page.beneficiaries());
                            });
  if (!st.ok()) return s.Fail(st);
  if (g.json) {
    PrintJson(resp);
    return kExitOk;
  }
  if (resp.beneficiaries().empty()) {
    std::printf("no beneficiaries%s\n", f.page_token.empty() ? "" : " on this page");
  } else {
    Table t({"KK", "REGION", "DECILE", "YEARLY", "COMPONENTS", "DECISION", "VERSION"});
    for (const v1::Beneficiary& b : resp.beneficiaries()) {
      t.Add({b.kk_number(), b.region_code(), b.decile() == 0 ? "-" : absl::StrCat(b.decile()),
             Rupiah(b.yearly_amount()), b.components() == 0 ? "-" : absl::StrCat(b.components()), b.decision_id(),
             absl::StrCat(b.decision_version())});
    }
    t.Print();
  }
  std::printf("\ntotal %s in %s: %s, %s per year\n", req.program().c_str(), f.region.c_str(),
              Families(resp.total_families()).c_str(), Rupiah(resp.total_yearly_amount()).c_str());
  PrintMore(resp.next_page_token());
  return kExitOk;
}

int RunMovements(const GlobalFlags& g, const MovementsFlags& f) {
  const bool by_time = !f.from.empty() || !f.to.empty();
  const bool by_round = !f.from_round.empty() || !f.to_round.empty();
  if (by_time == by_round) return BadArguments("give either --from and --to, or --from-round and --to-round");
  v1::ListDecileMovementsRequest req;
  req.set_region_prefix(f.region);
  if (by_time) {
    if (f.from.empty()) return BadArguments("--from: required with --to");
    if (f.to.empty()) return BadArguments("--to: required with --from");
    absl::Status when = SetTime("--from", f.from, DayEdge::kStart, [&] { return req.mutable_from_time(); });
    if (when.ok()) when = SetTime("--to", f.to, DayEdge::kEnd, [&] { return req.mutable_to_time(); });
    if (!when.ok()) return Bad(when);
  } else {
    if (f.from_round.empty()) return BadArguments("--from-round: required with --to-round");
    if (f.to_round.empty()) return BadArguments("--to-round: required with --from-round");
    req.set_from_round(f.from_round);
    req.set_to_round(f.to_round);
  }
  req.set_include_unchanged(f.include_unchanged);
  req.set_page_size(f.page_size);
  req.set_page_token(f.page_token);
  Service s(g);
  v1::ListDecileMovementsResponse resp;
  grpc::Status st = s.Pages(&Stub::ListDecileMovements, req, f.all, &resp,
                            [](const v1::ListDecileMovementsResponse& page, v1::ListDecileMovementsResponse* out) {
                              out->mutable_movements()->MergeFrom(page.movements());
                            });
  if (!st.ok()) return s.Fail(st);
  if (g.json) {
    PrintJson(resp);
    return kExitOk;
  }
  std::printf("%s in %s: moved up %lld, moved down %lld, unchanged %lld, not comparable %lld "
              "(no assessment at one end)\n",
              Families(resp.families()).c_str(), f.region.c_str(), static_cast<long long>(resp.moved_up()),
              static_cast<long long>(resp.moved_down()), static_cast<long long>(resp.unchanged()),
              static_cast<long long>(resp.not_comparable()));
  for (const v1::ProgramMovementTotals& p : resp.program_totals()) {
    std::printf("  %-8s entered %lld, left %lld\n", p.program().c_str(), static_cast<long long>(p.entered()),
                static_cast<long long>(p.left()));
  }
  std::printf("\n");
  if (resp.movements().empty()) {
    std::printf("no movements%s\n", f.include_unchanged ? "" : " (--include-unchanged lists every family)");
  } else {
    Table t({"KK", "REGION", "BEFORE", "AFTER", "DELTA", "ROUNDS", "PROGRAMS"});
    for (const v1::DecileMovement& m : resp.movements()) {
      std::vector<std::string> programs;
      for (const v1::ProgramChange& c : m.programs()) {
        if (c.eligible_before() && c.eligible_after()) {
          programs.push_back(absl::StrCat(c.program(), " ", Rupiah(c.yearly_amount_before()), " -> ",
                                          Rupiah(c.yearly_amount_after())));
        } else if (c.eligible_after()) {
          programs.push_back(absl::StrCat(c.program(), " entered (", Rupiah(c.yearly_amount_after()), ")"));
        } else {
          programs.push_back(absl::StrCat(c.program(), " left (", Rupiah(c.yearly_amount_before()), ")"));
        }
      }
      t.Add({m.kk_number(), m.region_code(), m.decile_before() == 0 ? "-" : absl::StrCat(m.decile_before()),
             m.decile_after() == 0 ? "-" : absl::StrCat(m.decile_after()),
             m.decile_before() == 0 || m.decile_after() == 0 ? "-" : absl::StrFormat("%+d", m.delta()),
             absl::StrCat(m.round_before().empty() ? "-" : m.round_before(), "->",
                          m.round_after().empty() ? "-" : m.round_after()),
             programs.empty() ? "-" : absl::StrJoin(programs, "; ")});
    }
    t.Print();
  }
  PrintMore(resp.next_page_token());
  return kExitOk;
}

int RunRisks(const GlobalFlags& g, const RisksFlags& f) {
  v1::ListEligibilityRisksRequest req;
  req.set_region_prefix(f.region);
  req.set_program(ProgramId(f.program));
  const std::string kind = absl::AsciiStrToLower(f.kind);
  if (kind == "inclusion") {
    req.set_kind(v1::RISK_KIND_INCLUSION);
  } else if (kind == "exclusion") {
    req.set_kind(v1::RISK_KIND_EXCLUSION);
  } else if (!kind.empty()) {
    return BadArguments(absl::StrCat("--kind: unknown value \"", f.kind, "\" (inclusion or exclusion)"));
  }
  absl::Status when = SetTime("--since", f.since, DayEdge::kStart, [&] { return req.mutable_since(); });
  if (!when.ok()) return Bad(when);
  req.set_page_size(f.page_size);
  req.set_page_token(f.page_token);
  Service s(g);
  v1::ListEligibilityRisksResponse resp;
  grpc::Status st = s.Pages(&Stub::ListEligibilityRisks, req, f.all, &resp,
                            [](const v1::ListEligibilityRisksResponse& page, v1::ListEligibilityRisksResponse* out) {
                              out->mutable_risks()->MergeFrom(page.risks());
                            });
  if (!st.ok()) return s.Fail(st);
  if (g.json) {
    PrintJson(resp);
    return kExitOk;
  }
  if (resp.risks().empty()) {
    std::printf("no risks\n");
  } else {
    Table t({"KIND", "KK", "REGION", "PROGRAM", "DECILE", "LIMIT", "AT STAKE", "CHANGED", "TRIGGER", "REASON"});
    for (const v1::EligibilityRisk& r : resp.risks()) {
      t.Add({RiskName(r.kind()), r.kk_number(), r.region_code(), r.program(),
             r.decile() == 0 ? "-" : absl::StrCat(r.decile()),
             r.decile_limit() == 0 ? "-" : absl::StrCat(r.decile_limit()), Rupiah(r.yearly_amount()),
             FormatTime(r.changed_at()), r.kind() == v1::RISK_KIND_EXCLUSION ? TriggerName(r.trigger()) : "-",
             MaskNiksIn(r.reason().text_id(), r.kk_number())});
    }
    t.Print();
  }
  std::printf("\ntotal in %s: %lld exclusion risk(s) (verify before the family loses its assistance), "
              "%lld inclusion risk(s) (still listed, excluded by the rules in force)\n",
              f.region.c_str(), static_cast<long long>(resp.total_exclusion()),
              static_cast<long long>(resp.total_inclusion()));
  PrintMore(resp.next_page_token());
  return kExitOk;
}

int RunSimulate(const GlobalFlags& g, const SimulateFlags& f) {
  int code = kExitOk;
  std::optional<rules::LoadedRuleSet> loaded = LoadOrExplain(f.path, &code);
  if (!loaded) return code;
  v1::SimulateRequest req;
  const std::string version = loaded->rules.version();
  *req.mutable_draft() = std::move(loaded->rules);
  req.set_region_prefix(f.region);
  absl::Status when = SetTime("--as-of", f.as_of, DayEdge::kEnd, [&] { return req.mutable_as_of(); });
  if (!when.ok()) return Bad(when);
  req.set_region_depth(f.depth);
  req.set_max_families(f.max_families);
  Service s(g);
  v1::SimulateResponse resp;
  grpc::Status st = s.Call(&Stub::Simulate, req, &resp);
  if (!st.ok()) return s.Fail(st);
  if (g.json) {
    PrintJson(resp);
    return kExitOk;
  }
  std::printf("simulation of draft %s (hash %s) against %s in force, %s in %s, as of %s\n\n",
              version.c_str(), HashPrefix(resp.draft_hash()).c_str(),
              resp.current_version().empty() ? "no rule set" : resp.current_version().c_str(),
              Families(resp.families()).c_str(), f.region.empty() ? "every region" : f.region.c_str(),
              f.as_of.empty() ? "now" : f.as_of.c_str());
  const std::vector<std::string> headers = {"PROGRAM", "REGION", "FAMILIES BEFORE", "AFTER", "ENTERING",
                                            "LEAVING", "YEARLY COST BEFORE", "AFTER", "DELTA"};
  Table totals(headers), regions(headers);
  for (const v1::SimulationRow& r : resp.rows()) {
    std::vector<std::string> row = {r.program(),
                                    r.region().empty() ? "all" : r.region(),
                                    absl::StrCat(r.families_before()),
                                    absl::StrCat(r.families_after()),
                                    absl::StrCat(r.entering()),
                                    absl::StrCat(r.leaving()),
                                    Rupiah(r.yearly_cost_before()),
                                    Rupiah(r.yearly_cost_after()),
                                    RupiahDelta(r.yearly_cost_delta())};
    (r.region().empty() ? totals : regions).Add(std::move(row));
  }
  std::printf("per program\n");
  totals.Print();
  std::printf("\nper region\n");
  regions.Print();
  auto changes = [&](const char* what, const google::protobuf::RepeatedPtrField<v1::SimulatedChange>& list,
                     int64_t total) {
    std::printf("\n%s: %lld", what, static_cast<long long>(total));
    if (static_cast<int64_t>(list.size()) < total) std::printf(" (first %d listed; --max-families)", list.size());
    std::printf("\n");
    if (list.empty()) return;
    Table t({"  KK", "REGION", "PROGRAM", "YEARLY BEFORE", "YEARLY AFTER"});
    for (const v1::SimulatedChange& c : list) {
      t.Add({absl::StrCat("  ", c.kk_number()), c.region_code(), c.program(),
             c.eligible_before() ? Rupiah(c.yearly_amount_before()) : "-",
             c.eligible_after() ? Rupiah(c.yearly_amount_after()) : "-"});
    }
    t.Print();
  };
  changes("entering (eligible under the draft only)", resp.entering(), resp.entering_total());
  changes("leaving (eligible under the rules in force only)", resp.leaving(), resp.leaving_total());
  std::printf("\nstaying eligible with another amount: %lld\n", static_cast<long long>(resp.amount_changed_total()));
  std::printf("\nnothing was appended: a simulation publishes nothing and changes no decision "
              "(publish with `jaringctl rules publish %s`)\n",
              f.path.c_str());
  return kExitOk;
}

// --- Registration ------------------------------------------------------------

EligibilityCommands::EligibilityCommands(CLI::App& app) {
  CLI::App* rules = app.add_subcommand("rules", "Rule sets (aturan): publish, list");
  rules->require_subcommand(1);
  publish_cmd_ = rules->add_subcommand(
      "publish", "Load a rule set (directory rules/<version>/ or one RuleSet file), validate it and publish it on "
                 "jaring.rules.v1; an invalid rule set is reported with its file and field and nothing is sent");
  publish_cmd_->add_option("path", publish_.path, "Rule set directory or file")->required();
  publish_cmd_->add_option("--effective-from", publish_.effective_from,
                           "Override effective_from: YYYY-MM-DD (00:00 WIB, the start of that day) or RFC 3339");
  publish_cmd_->add_option("--actor", publish_.actor, "Principal id recorded on the event (never a NIK)")
      ->capture_default_str();
  list_cmd_ = rules->add_subcommand("list", "Published rule sets and the one the engine evaluates with now");

  const std::string as_of_help =
      "Event time: what had happened by then, under the rules in force then. YYYY-MM-DD (the END of that day, "
      "23:59:59.999 WIB) or RFC 3339; default now";
  const std::string as_known_help =
      "Record time: only what Jaring had been told by then. YYYY-MM-DD (the END of that day, 23:59:59.999 WIB) or "
      "RFC 3339; default now";
  auto decision_flags = [&](CLI::App* cmd, DecisionFlags& d) {
    cmd->add_option("kk", d.kk, "KK number (16 digits)")->required();
    cmd->add_option("program", d.program, "Program id of the rule set: PKH, BPNT, PBI_JK, BLT_DD")->required();
    cmd->add_option("--as-of", d.as_of, as_of_help);
    cmd->add_option("--as-known-at", d.as_known_at, as_known_help);
  };
  decision_cmd_ = app.add_subcommand(
      "decision", "The eligibility decision for a family and a program: outcome, amount, stages, reasons");
  decision_flags(decision_cmd_, decision_);
  explain_cmd_ = app.add_subcommand("explain", "A decision with every rule clause: inputs and PASS/FAIL");
  decision_flags(explain_cmd_, explain_);

  history_cmd_ = app.add_subcommand("decisions", "The decisions recorded for a family, oldest first");
  history_cmd_->add_option("kk", history_.kk, "KK number (16 digits)")->required();
  history_cmd_->add_option("--program", history_.program, "Only this program");

  beneficiaries_cmd_ = app.add_subcommand(
      "beneficiaries", "The families a program currently pays in a region (recorded decisions), with totals");
  beneficiaries_cmd_->add_option("program", beneficiaries_.program, "Program id: PKH, BPNT, PBI_JK, BLT_DD")
      ->required();
  beneficiaries_cmd_->add_option("--region", beneficiaries_.region, "Region code prefix, e.g. 52 or 52.71")
      ->required();
  AddPaging(beneficiaries_cmd_, beneficiaries_.page_size, beneficiaries_.page_token, beneficiaries_.all,
            "Families");

  movements_cmd_ = app.add_subcommand(
      "movements", "Who moved up or down in DTSEN deciles between two dates or two rounds, and what it did to "
                   "their eligibility");
  movements_cmd_->add_option("--region", movements_.region, "Region code prefix, e.g. 52.71")->required();
  movements_cmd_->add_option("--from", movements_.from,
                             "First date: YYYY-MM-DD (the START of that day, 00:00 WIB) or RFC 3339");
  movements_cmd_->add_option("--to", movements_.to,
                             "Second date: YYYY-MM-DD (the END of that day, 23:59:59.999 WIB) or RFC 3339");
  movements_cmd_->add_option("--from-round", movements_.from_round, "First DTSEN round, e.g. 2026-Q1");
  movements_cmd_->add_option("--to-round", movements_.to_round, "Second DTSEN round, e.g. 2026-Q2");
  movements_cmd_->add_flag("--include-unchanged", movements_.include_unchanged,
                           "Also list families whose decile and eligibility did not change");
  AddPaging(movements_cmd_, movements_.page_size, movements_.page_token, movements_.all, "Families");

  risks_cmd_ = app.add_subcommand(
      "risks", "Exclusion risks (a recent data change removed a family from a program) and inclusion risks "
               "(still listed, excluded by the rules in force)");
  risks_cmd_->add_option("--region", risks_.region, "Region code prefix, e.g. 52.71")->required();
  risks_cmd_->add_option("--program", risks_.program, "Only this program");
  risks_cmd_->add_option("--kind", risks_.kind, "inclusion or exclusion; default both");
  risks_cmd_->add_option("--since", risks_.since,
                         "Exclusion risks recorded from this time: YYYY-MM-DD (the START of that day, 00:00 WIB) "
                         "or RFC 3339; default 90 days ago");
  AddPaging(risks_cmd_, risks_.page_size, risks_.page_token, risks_.all, "Families");

  simulate_cmd_ = app.add_subcommand(
      "simulate", "What-if: evaluate a draft rule set (directory or file, loaded like `rules publish`) against "
                  "the rules in force; appends nothing");
  simulate_cmd_->add_option("path", simulate_.path, "Draft rule set directory or file")->required();
  simulate_cmd_->add_option("--region", simulate_.region, "Region code prefix; default every region");
  simulate_cmd_->add_option("--as-of", simulate_.as_of,
                            "Evaluate at: YYYY-MM-DD (the END of that day, 23:59:59.999 WIB) or RFC 3339; default "
                            "now");
  simulate_cmd_->add_option("--depth", simulate_.depth,
                            "Rows per region at this depth: 1 province, 2 regency/city (default), 3 district, "
                            "4 village")
      ->check(CLI::Range(1, 4));
  simulate_cmd_->add_option("--max-families", simulate_.max_families,
                            "List at most this many entering and leaving families (default 1000; counts are "
                            "always complete)")
      ->check(CLI::PositiveNumber);
}

std::optional<int> EligibilityCommands::Run(const GlobalFlags& g) const {
  if (*publish_cmd_) return RunRulesPublish(g, publish_);
  if (*list_cmd_) return RunRulesList(g, list_);
  if (*decision_cmd_) return RunDecision(g, decision_, /*explain=*/false);
  if (*explain_cmd_) return RunDecision(g, explain_, /*explain=*/true);
  if (*history_cmd_) return RunDecisionHistory(g, history_);
  if (*beneficiaries_cmd_) return RunBeneficiaries(g, beneficiaries_);
  if (*movements_cmd_) return RunMovements(g, movements_);
  if (*risks_cmd_) return RunRisks(g, risks_);
  if (*simulate_cmd_) return RunSimulate(g, simulate_);
  return std::nullopt;
}

}  // namespace jaring::ctl
