#include "tools/jaringctl/audit_commands.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "jaring/v1/audit_service.grpc.pb.h"
#include "libs/events/envelope.h"
#include "tools/jaringctl/audit_report.h"
#include "tools/jaringctl/output.h"

namespace jaring::ctl {
namespace {

using Audit = Remote<v1::AuditService>;

void PrintJson(const google::protobuf::Message& m) { std::printf("%s\n", ToJson(m).c_str()); }

std::string FamilyCell(const v1::AuditFamily& f) { return f.kk_number().empty() ? f.kk_masked() : f.kk_number(); }

std::string Why(const google::protobuf::RepeatedPtrField<v1::Reason>& reasons) {
  std::string out;
  for (const v1::Reason& r : reasons) absl::StrAppend(&out, out.empty() ? "" : "; ", r.text_en());
  return out;
}

// Sets `*field` from a date flag; exit code 2 (with the message) when it
// does not parse.
std::optional<int> When(std::string_view flag, const std::string& value, DayEdge edge,
                        google::protobuf::Timestamp* field) {
  absl::StatusOr<absl::Time> t = ParseWhen(flag, value, edge);
  if (!t.ok()) return BadArguments(std::string(t.status().message()));
  *field = events::ToProtoTime(*t);
  return std::nullopt;
}

void PrintSource(const v1::GetAuditSourceResponse& s) {
  const char* kind = s.kind() == v1::AUDIT_SOURCE_KIND_REPLAY    ? "replay (frozen stores)"
                     : s.kind() == v1::AUDIT_SOURCE_KIND_REPLICA ? "read-only replica"
                                                                 : "live system";
  std::printf("source     %s\n", kind);
  std::printf("as of      %s%s\n", FormatTime(s.as_of()).c_str(),
              s.kind() == v1::AUDIT_SOURCE_KIND_REPLAY ? " (events recorded at or before it)" : " (now)");
  std::string services;
  for (const std::string& n : s.services()) absl::StrAppend(&services, services.empty() ? "" : ", ", n);
  std::printf("services   %s\n", services.c_str());
  for (const v1::ServiceEvents& e : s.events()) {
    std::printf("  %-12s %lld records of the log read", e.service().c_str(), static_cast<long long>(e.records_read()));
    if (e.filtered_out() > 0) std::printf(", %lld recorded later left out", static_cast<long long>(e.filtered_out()));
    std::printf("\n");
  }
}

// The answers `report` needs, asked one after the other.
grpc::Status Gather(Audit& audit, const AuditReportFlags& f, AuditReport* r) {
  grpc::Status st = audit.Call(&v1::AuditService::Stub::GetAuditSource, v1::GetAuditSourceRequest(), &r->source);
  if (!st.ok()) return st;
  for (const std::string& program : r->programs) {
    v1::ListEligibleOnRequest q;
    q.set_program(program);
    *q.mutable_on() = events::ToProtoTime(r->on);
    q.set_region_prefix(f.scope.region);
    q.set_check_current_knowledge(f.check);
    q.set_identify(f.scope.identify);
    r->eligible.emplace_back();
    st = audit.Call(&v1::AuditService::Stub::ListEligibleOn, q, &r->eligible.back());
    if (!st.ok()) return st;
  }
  v1::ListEligibilityChangesRequest c;
  *c.mutable_from() = events::ToProtoTime(r->from);
  *c.mutable_to() = events::ToProtoTime(r->to);
  c.set_region_prefix(f.scope.region);
  c.set_identify(f.scope.identify);
  st = audit.Call(&v1::AuditService::Stub::ListEligibilityChanges, c, &r->changes);
  if (!st.ok()) return st;
  v1::ListPaymentsWithoutLivingMemberRequest p;
  p.set_region_prefix(f.scope.region);
  p.set_identify(f.scope.identify);
  st = audit.Call(&v1::AuditService::Stub::ListPaymentsWithoutLivingMember, p, &r->payments);
  if (!st.ok()) return st;
  v1::ListPeopleInTwoPlacesRequest people;
  people.set_region_prefix(f.scope.region);
  people.set_identify(f.scope.identify);
  st = audit.Call(&v1::AuditService::Stub::ListPeopleInTwoPlaces, people, &r->people);
  if (!st.ok()) return st;
  v1::ListCycleDiscrepanciesRequest cycles;
  cycles.set_region_prefix(f.scope.region);
  cycles.set_include_consistent(true);
  return audit.Call(&v1::AuditService::Stub::ListCycleDiscrepancies, cycles, &r->cycles);
}

bool WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  return static_cast<bool>(out);
}

}  // namespace

int RunAuditSource(const GlobalFlags& g) {
  Audit audit(g);
  v1::GetAuditSourceResponse s;
  grpc::Status st = audit.Call(&v1::AuditService::Stub::GetAuditSource, v1::GetAuditSourceRequest(), &s);
  if (!st.ok()) return audit.Fail(st);
  if (g.json) {
    PrintJson(s);
  } else {
    PrintSource(s);
  }
  return kExitOk;
}

int RunAuditEligible(const GlobalFlags& g, const AuditEligibleFlags& f) {
  v1::ListEligibleOnRequest q;
  q.set_program(f.program);
  if (auto bad = When("--on", f.on, DayEdge::kEnd, q.mutable_on())) return *bad;
  q.set_region_prefix(f.scope.region);
  q.set_check_current_knowledge(f.check);
  q.set_identify(f.scope.identify);
  Audit audit(g);
  v1::ListEligibleOnResponse r;
  grpc::Status st = audit.Call(&v1::AuditService::Stub::ListEligibleOn, q, &r);
  if (!st.ok()) return audit.Fail(st);
  if (g.json) {
    PrintJson(r);
  } else if (f.scope.csv) {
    std::fputs(EligibleCsv(f.program, r).c_str(), stdout);
  } else {
    std::printf("%s on record as eligible for %s on %s: %s a year\n", Families(r.total_families()).c_str(),
                f.program.c_str(), FormatTime(q.on()).c_str(), Rupiah(r.total_yearly_amount()).c_str());
    for (const v1::VersionCount& v : r.rule_versions()) {
      std::printf("  under rule set %s: %s\n", v.version().c_str(), Families(v.families()).c_str());
    }
    if (f.check) {
      std::printf("  today's knowledge of those families disagrees for %s\n", Families(r.disagreeing_now()).c_str());
    }
    if (r.families_size() > 0) {
      std::printf("\n");
      Table t({"FAMILY", "REF", "REGION", "DECILE", "RULES", "RP/YEAR", "DECISION", "WHY", f.check ? "AGREES NOW" : ""});
      for (const v1::EligibleFamily& e : r.families()) {
        t.Add({FamilyCell(e.family()), e.family().family_ref(), e.family().region_code(), absl::StrCat(e.decile()),
               e.rule_version(), Rupiah(e.yearly_amount()), absl::StrCat(e.decision_id(), " v", e.decision_version()),
               Why(e.reasons()),
               !f.check ? "" : e.agrees_now() ? "yes" : absl::StrCat("NO: ", Why(e.reasons_now()))});
      }
      t.Print();
    }
  }
  return kExitOk;
}

int RunAuditChanges(const GlobalFlags& g, const AuditChangesFlags& f) {
  v1::ListEligibilityChangesRequest q;
  if (auto bad = When("--from", f.from, DayEdge::kEnd, q.mutable_from())) return *bad;
  if (auto bad = When("--to", f.to, DayEdge::kEnd, q.mutable_to())) return *bad;
  q.set_program(f.program);
  q.set_region_prefix(f.scope.region);
  q.set_identify(f.scope.identify);
  Audit audit(g);
  v1::ListEligibilityChangesResponse r;
  grpc::Status st = audit.Call(&v1::AuditService::Stub::ListEligibilityChanges, q, &r);
  if (!st.ok()) return audit.Fail(st);
  if (g.json) {
    PrintJson(r);
  } else if (f.scope.csv) {
    std::fputs(ChangesCsv(r).c_str(), stdout);
  } else {
    std::printf("between %s and %s (decisions on record at the end of each day):\n", FormatTime(q.from()).c_str(),
                FormatTime(q.to()).c_str());
    Table totals({"PROGRAM", "ELIGIBLE BEFORE", "ELIGIBLE AFTER", "ENTERED", "LEFT"});
    for (const v1::ProgramChangeTotals& t : r.totals()) {
      totals.Add({t.program(), absl::StrCat(t.eligible_from()), absl::StrCat(t.eligible_to()),
                  absl::StrCat(t.entered()), absl::StrCat(t.left())});
    }
    totals.Print();
    if (r.changes_size() > 0) {
      std::printf("\n");
      Table t({"FAMILY", "REF", "REGION", "PROGRAM", "CHANGE", "RP/YEAR BEFORE", "AFTER", "TRIGGER", "WHY"});
      for (const v1::EligibilityChange& c : r.changes()) {
        t.Add({FamilyCell(c.family()), c.family().family_ref(), c.family().region_code(), c.program(),
               c.entered() ? "entered" : "left", Rupiah(c.yearly_amount_before()), Rupiah(c.yearly_amount_after()),
               v1::EvaluationTrigger_Name(c.trigger()), Why(c.reasons())});
      }
      t.Print();
    }
  }
  return kExitOk;
}

int RunAuditPayments(const GlobalFlags& g, const AuditScopeFlags& f) {
  v1::ListPaymentsWithoutLivingMemberRequest q;
  q.set_region_prefix(f.region);
  q.set_identify(f.identify);
  Audit audit(g);
  v1::ListPaymentsWithoutLivingMemberResponse r;
  grpc::Status st = audit.Call(&v1::AuditService::Stub::ListPaymentsWithoutLivingMember, q, &r);
  if (!st.ok()) return audit.Fail(st);
  if (g.json) {
    PrintJson(r);
  } else if (f.csv) {
    std::fputs(PaymentsCsv(r).c_str(), stdout);
  } else {
    std::printf("%d payments to families with no living member at the cycle's cutoff: %s (not yet claimed back: %s)\n",
                r.payments_size(), Rupiah(r.total_amount()).c_str(), Rupiah(r.unclaimed_amount()).c_str());
    if (r.payments_size() > 0) {
      Table t({"FAMILY", "REF", "PROGRAM", "PERIOD", "AMOUNT", "CUTOFF", "SETTLED", "RECOVERY CLAIM"});
      for (const v1::PaymentWithoutLivingMember& p : r.payments()) {
        t.Add({FamilyCell(p.family()), p.family().family_ref(), p.program(), p.period(), Rupiah(p.amount()),
               FormatTime(p.cutoff()), p.settled_on(), p.recovery_claim_id().empty() ? "none yet" : p.recovery_claim_id()});
      }
      t.Print();
    }
  }
  return r.unclaimed_amount() > 0 ? kExitServiceError : kExitOk;
}

int RunAuditPeople(const GlobalFlags& g, const AuditScopeFlags& f) {
  v1::ListPeopleInTwoPlacesRequest q;
  q.set_region_prefix(f.region);
  q.set_identify(f.identify);
  Audit audit(g);
  v1::ListPeopleInTwoPlacesResponse r;
  grpc::Status st = audit.Call(&v1::AuditService::Stub::ListPeopleInTwoPlaces, q, &r);
  if (!st.ok()) return audit.Fail(st);
  if (g.json) {
    PrintJson(r);
  } else if (f.csv) {
    std::fputs(PeopleCsv(r).c_str(), stdout);
  } else {
    std::printf("%lld people listed alive in two families; %lld of them in two regencies/cities\n",
                static_cast<long long>(r.in_two_families()), static_cast<long long>(r.in_two_regions()));
    if (r.people_size() > 0) {
      Table t({"PERSON", "NIK", "NAME", "FAMILIES", "TWO REGIONS"});
      for (const v1::PersonInTwoPlaces& p : r.people()) {
        std::string families;
        for (const v1::AuditFamily& fam : p.families()) {
          absl::StrAppend(&families, families.empty() ? "" : " ", FamilyCell(fam), " (", fam.region_code(), ")");
        }
        t.Add({p.person_ref(), p.nik_masked(), p.name_masked(), families, p.two_regions() ? "yes" : "no"});
      }
      t.Print();
    }
  }
  return kExitOk;
}

int RunAuditCycles(const GlobalFlags& g, const AuditCyclesFlags& f) {
  v1::ListCycleDiscrepanciesRequest q;
  q.set_region_prefix(f.scope.region);
  q.set_include_consistent(f.all);
  Audit audit(g);
  v1::ListCycleDiscrepanciesResponse r;
  grpc::Status st = audit.Call(&v1::AuditService::Stub::ListCycleDiscrepancies, q, &r);
  if (!st.ok()) return audit.Fail(st);
  if (g.json) {
    PrintJson(r);
  } else if (f.scope.csv) {
    std::fputs(CyclesCsv(r).c_str(), stdout);
  } else {
    std::printf("%lld cycles checked; %lld disagree with their entitlements\n",
                static_cast<long long>(r.cycles_checked()), static_cast<long long>(r.cycles_disagreeing()));
    if (r.cycles_size() > 0) {
      Table t({"CYCLE", "PROGRAM", "PERIOD", "REGION", "FAMILIES", "TOTAL", "ENTITLED", "PAID (NET)", "PROBLEMS"});
      for (const v1::CycleCheck& c : r.cycles()) {
        std::string problems;
        for (const std::string& p : c.problems()) absl::StrAppend(&problems, problems.empty() ? "" : "; ", p);
        t.Add({c.cycle_id(), c.program(), c.period(), c.region_prefix(), absl::StrCat(c.families()),
               Rupiah(c.total_amount()), Rupiah(c.entitled_amount()), Rupiah(c.paid_amount()),
               problems.empty() ? "consistent" : problems});
      }
      t.Print();
    }
  }
  return r.cycles_disagreeing() > 0 ? kExitServiceError : kExitOk;
}

int RunAuditReport(const GlobalFlags& g, const AuditReportFlags& f) {
  const std::filesystem::path out(f.out);
  std::error_code ec;
  if (std::filesystem::exists(out, ec) && !std::filesystem::is_empty(out, ec)) {
    return BadArguments(absl::StrCat("--out: ", f.out, " is not empty; a report goes into a new directory"));
  }
  AuditReport report;
  report.region = f.scope.region;
  for (absl::string_view p : absl::StrSplit(f.programs, ',', absl::SkipEmpty())) report.programs.emplace_back(p);
  if (report.programs.empty()) return BadArguments("--programs: name at least one (PKH,BPNT,PBI_JK,BLT_DD)");
  absl::StatusOr<absl::Time> on = ParseWhen("--on", f.on, DayEdge::kEnd);
  if (!on.ok()) return BadArguments(std::string(on.status().message()));
  report.on = *on;
  absl::StatusOr<absl::Time> to = f.to.empty() ? on : ParseWhen("--to", f.to, DayEdge::kEnd);
  if (!to.ok()) return BadArguments(std::string(to.status().message()));
  absl::StatusOr<absl::Time> from =
      f.from.empty() ? absl::StatusOr<absl::Time>(*to - absl::Hours(24 * 91)) : ParseWhen("--from", f.from, DayEdge::kEnd);
  if (!from.ok()) return BadArguments(std::string(from.status().message()));
  report.to = *to;
  report.from = *from;

  Audit audit(g);
  grpc::Status st = Gather(audit, f, &report);
  if (!st.ok()) return audit.Fail(st);
  std::filesystem::create_directories(out, ec);
  if (ec) return BadArguments(absl::StrCat("--out: cannot create ", f.out, ": ", ec.message()));
  std::vector<std::string> written;
  auto write = [&](const std::string& name, const std::string& text) {
    if (!WriteFile(out / name, text)) return false;
    written.push_back((out / name).string());
    return true;
  };
  bool ok = write("report.md", RenderMarkdown(report)) && write("report.html", RenderHtml(report));
  for (const auto& [name, text] : RenderCsv(report)) ok = ok && write(name, text);
  if (!ok) {
    std::fprintf(stderr, "jaringctl: cannot write into %s\n", f.out.c_str());
    return kExitServiceError;
  }
  if (g.json) {
    std::printf("{\"files\": [");
    for (size_t i = 0; i < written.size(); ++i) std::printf("%s\"%s\"", i ? ", " : "", written[i].c_str());
    std::printf("]}\n");
    return kExitOk;
  }
  PrintSource(report.source);
  std::printf("\n");
  for (size_t i = 0; i < report.programs.size(); ++i) {
    std::printf("%-8s %s eligible on %s, %s a year\n", report.programs[i].c_str(),
                Families(report.eligible[i].total_families()).c_str(), FormatTime(events::ToProtoTime(report.on)).c_str(),
                Rupiah(report.eligible[i].total_yearly_amount()).c_str());
  }
  std::printf("payments without a living member: %d; people in two families: %lld; cycles disagreeing: %lld of %lld\n",
              report.payments.payments_size(), static_cast<long long>(report.people.in_two_families()),
              static_cast<long long>(report.cycles.cycles_disagreeing()),
              static_cast<long long>(report.cycles.cycles_checked()));
  std::printf("\nwritten:\n");
  for (const std::string& w : written) std::printf("  %s\n", w.c_str());
  return kExitOk;
}

AuditCommands::AuditCommands(CLI::App& app) {
  CLI::App* audit = app.add_subcommand(
      "audit", "Oversight's questions, answered by the live system or by a replay (jaring serve --replay)");
  audit->require_subcommand(1);
  auto scope = [](CLI::App* cmd, AuditScopeFlags& s, bool listing = true) {
    cmd->add_option("--region", s.region, "Region code prefix (default: every region)");
    cmd->add_flag("--identify", s.identify, "Full KK numbers (default: masked, with a keyed reference)");
    if (listing) cmd->add_flag("--csv", s.csv, "The listing as CSV");
  };
  source_cmd_ = audit->add_subcommand("source", "Where the answers come from: live, replica or a replay as of when");

  eligible_cmd_ = audit->add_subcommand("eligible", "Families on record as eligible for a program on a date, and why");
  eligible_cmd_->add_option("--program", eligible_.program, "PKH, BPNT, PBI_JK or BLT_DD")->required();
  eligible_cmd_->add_option("--on", eligible_.on, "The date (its end, WIB) or an RFC 3339 time")->required();
  eligible_cmd_->add_flag("--check", eligible_.check,
                          "Also say whether today's knowledge of each family, as of that date, agrees");
  scope(eligible_cmd_, eligible_.scope);

  changes_cmd_ = audit->add_subcommand("changes", "Families that entered or left each program between two dates");
  changes_cmd_->add_option("--from", changes_.from, "First date (its end, WIB)")->required();
  changes_cmd_->add_option("--to", changes_.to, "Second date (its end, WIB)")->required();
  changes_cmd_->add_option("--program", changes_.program, "One program (default: every program)");
  scope(changes_cmd_, changes_.scope);

  payments_cmd_ = audit->add_subcommand(
      "dead-payments", "Payments to families with no living member at the cycle's cutoff (exit 1 if any unclaimed)");
  scope(payments_cmd_, payments_);

  people_cmd_ = audit->add_subcommand("duplicates", "One person listed alive in two families, or in two regions");
  scope(people_cmd_, people_);

  cycles_cmd_ = audit->add_subcommand("cycles",
                                      "Cycles whose totals disagree with their entitlements (exit 1 if any)");
  cycles_cmd_->add_flag("--all", cycles_.all, "List the consistent cycles too");
  scope(cycles_cmd_, cycles_.scope);

  report_cmd_ = audit->add_subcommand("report", "Every question at once, into report.md, report.html and CSV files");
  report_cmd_->add_option("--on", report_.on, "The date of the eligibility listing")->required();
  report_cmd_->add_option("--from", report_.from, "Start of the entered/left window (default: 91 days before --to)");
  report_cmd_->add_option("--to", report_.to, "End of the entered/left window (default: --on)");
  report_cmd_->add_option("--programs", report_.programs, "Comma-separated programs")->capture_default_str();
  report_cmd_->add_flag("!--no-check", report_.check, "Skip re-evaluating each listed family with today's knowledge");
  report_cmd_->add_option("--out", report_.out, "A new directory for the files")->required();
  scope(report_cmd_, report_.scope, false);
}

std::optional<int> AuditCommands::Run(const GlobalFlags& g) const {
  if (*source_cmd_) return RunAuditSource(g);
  if (*eligible_cmd_) return RunAuditEligible(g, eligible_);
  if (*changes_cmd_) return RunAuditChanges(g, changes_);
  if (*payments_cmd_) return RunAuditPayments(g, payments_);
  if (*people_cmd_) return RunAuditPeople(g, people_);
  if (*cycles_cmd_) return RunAuditCycles(g, cycles_);
  if (*report_cmd_) return RunAuditReport(g, report_);
  return std::nullopt;
}

}  // namespace jaring::ctl
