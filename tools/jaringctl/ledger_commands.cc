#include "tools/jaringctl/ledger_commands.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "jaring/v1/envelope.pb.h"
#include "jaring/v1/ledger_service.grpc.pb.h"
#include "libs/base/clock.h"
#include "libs/base/strings.h"
#include "libs/events/envelope.h"
#include "libs/ledger/merkle.h"
#include "tools/jaringctl/output.h"
#include "tools/synth/csv.h"

namespace jaring::ctl {
namespace {

namespace fs = std::filesystem;

// --- Input ---------------------------------------------------------------

int Bad(const absl::Status& st) { return BadArguments(std::string(st.message())); }

// Program ids are upper-case ("bpnt" is BPNT).
std::string ProgramId(const std::string& s) { return absl::AsciiStrToUpper(s); }

// Whole rupiah: "2400000", "2.400.000" or "Rp2.400.000" (dots only between
// groups of three digits), above 0.
absl::StatusOr<int64_t> ParseAmount(std::string_view flag, const std::string& value) {
  auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat(Av(flag), ": \"", value,
                                                   "\" is not a whole number of rupiah above 0 (e.g. 2400000 or "
                                                   "2.400.000)"));
  };
  std::string_view v = value;
  if (v.size() >= 2 && (v[0] == 'R' || v[0] == 'r') && (v[1] == 'p' || v[1] == 'P')) v.remove_prefix(2);
  // Groups between dots: the first of 1-3 digits, every other of exactly 3.
  std::vector<std::string_view> groups;
  for (size_t at = 0;;) {
    const size_t dot = v.find('.', at);
    groups.push_back(v.substr(at, dot == std::string_view::npos ? std::string_view::npos : dot - at));
    if (dot == std::string_view::npos) break;
    at = dot + 1;
  }
  int64_t amount = 0;
  for (size_t i = 0; i < groups.size(); ++i) {
    const std::string_view grp = groups[i];
    if (grp.empty() || (groups.size() > 1 && (i == 0 ? grp.size() > 3 : grp.size() != 3))) return bad();
    for (char c : grp) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return bad();
      if (amount > (INT64_MAX - (c - '0')) / 10) {
        return absl::InvalidArgumentError(absl::StrCat(Av(flag), ": \"", value, "\" is too large"));
      }
      amount = amount * 10 + (c - '0');
    }
  }
  if (amount <= 0) return bad();
  return amount;
}

// --cutoff: "now", YYYY-MM-DD (the END of that WIB day: the decisions
// recorded by then) or RFC 3339.
absl::StatusOr<absl::Time> ParseCutoff(const std::string& value) {
  if (value == "now") return absl::Now();
  if (std::optional<absl::CivilDay> day = synth::ParseIsoDay(value)) {
    return WibStartOf(*day + 1) - absl::Milliseconds(1);
  }
  absl::Time t;
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, value, &t, &err)) return t;
  return absl::InvalidArgumentError(absl::StrCat(
      "--cutoff: \"", value, "\" is not \"now\", a date (YYYY-MM-DD) or an RFC 3339 time"));
}

absl::StatusOr<v1::PaymentChannel> ParseChannel(const std::string& value) {
  const std::string v = absl::AsciiStrToLower(value);
  if (v == "bank") return v1::PAYMENT_CHANNEL_BANK;
  if (v == "post") return v1::PAYMENT_CHANNEL_POST;
  return absl::InvalidArgumentError(absl::StrCat("--channel: unknown value \"", value, "\" (bank or post)"));
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot open ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
  return ss.str();
}

// Writes `text` to `path` (replacing it unless `exclusive`, which refuses an
// existing file). An error message names the file.
absl::Status WriteWholeFile(const std::string& path, const std::string& text, bool exclusive) {
  std::FILE* f = std::fopen(path.c_str(), exclusive ? "wbx" : "wb");
  if (f == nullptr) return absl::UnavailableError(absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  const size_t n = std::fwrite(text.data(), 1, text.size(), f);
  const bool ok = n == text.size() && std::fclose(f) == 0;
  if (!ok) return absl::UnavailableError(absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  return absl::OkStatus();
}

// --- Output --------------------------------------------------------------

// The enum value's name without its type prefix, lower-case ("paid").
std::string Lower(const std::string& name, std::string_view prefix) {
  std::string_view v = name;
  if (absl::StartsWith(Av(v), Av(prefix))) v.remove_prefix(prefix.size());
  return absl::AsciiStrToLower(Av(v));
}
std::string StatusName(v1::EntitlementStatus s) {
  return Lower(v1::EntitlementStatus_Name(s), "ENTITLEMENT_STATUS_");
}
std::string ChannelName(v1::PaymentChannel c) { return Lower(v1::PaymentChannel_Name(c), "PAYMENT_CHANNEL_"); }
std::string ComponentName(v1::PkhComponentKind k) {
  std::string n = v1::PkhComponentKind_Name(k);
  return n.rfind("PKH_COMPONENT_KIND_", 0) == 0 ? n.substr(19) : n;
}

std::string Or(const std::string& s, const char* dash = "-") { return s.empty() ? dash : s; }

void PrintJson(const google::protobuf::Message& m) { std::printf("%s\n", ToJson(m).c_str()); }

// --- Calls ---------------------------------------------------------------

using Stub = v1::LedgerService::Stub;
template <typename Req, typename Resp>
using Rpc = grpc::Status (Stub::*)(grpc::ClientContext*, const Req&, Resp*);

// The ledger stub next to a Client (deadlines and error mapping).
using Ledger = Remote<v1::LedgerService>;

// --- Budgets and cycles ----------------------------------------------------

void PrintOpened(const CycleOpenFlags& f, const v1::OpenCycleRequest& req, const v1::OpenCycleResponse& resp) {
  const std::string what = absl::StrCat(req.program(), " ", req.period(), " in ", req.region_prefix());
  if (resp.existing()) {
    std::printf("cycle %s (%s) was opened before: nothing appended\n", resp.cycle_id().c_str(), what.c_str());
    std::printf("  families          %lld\n", static_cast<long long>(resp.families()));
    std::printf("  total             %s\n", Rupiah(resp.total_amount()).c_str());
    std::printf("  (its entitlements were fixed when it was opened, at its own cutoff; this --cutoff and "
                "--channel were not used: see `jaringctl cycle show %s`)\n",
                resp.cycle_id().c_str());
    return;
  }
  if (f.dry_run) {
    std::printf("dry run, nothing appended: cycle %s (%s), cutoff %s, channel %s would pay\n",
                resp.cycle_id().c_str(), what.c_str(), FormatTime(req.cutoff()).c_str(),
                ChannelName(req.channel()).c_str());
  } else {
    std::printf("opened cycle %s (%s), cutoff %s, channel %s\n", resp.cycle_id().c_str(), what.c_str(),
                FormatTime(req.cutoff()).c_str(), ChannelName(req.channel()).c_str());
  }
  std::printf("  families          %lld\n", static_cast<long long>(resp.families()));
  std::printf("  total             %s\n", Rupiah(resp.total_amount()).c_str());
  std::printf("  budget available  %s before the cycle, %s after\n", Rupiah(resp.budget_available()).c_str(),
              Rupiah(resp.budget_available() - resp.total_amount()).c_str());
  std::printf("  skipped           %lld without a living member at the cutoff, %lld without a stage payment in %s, "
              "%lld already entitled (in another cycle of %s %s)\n",
              static_cast<long long>(resp.skipped_no_living_member()), static_cast<long long>(resp.skipped_no_stage()),
              req.period().c_str(), static_cast<long long>(resp.skipped_already_entitled()), req.program().c_str(),
              req.period().c_str());
  if (f.dry_run) {
    if (!resp.entitlements().empty()) {
      std::printf("\n");
      Table t({"KK", "REGION", "AMOUNT", "DECISION"});
      for (const v1::CycleEntitlement& e : resp.entitlements()) {
        t.Add({e.kk_number(), e.region_code(), Rupiah(e.amount()), e.decision_id()});
      }
      t.Print();
    }
  } else {
    std::printf("\nnext: jaringctl cycle export %s --out FILE\n", resp.cycle_id().c_str());
  }
}

void PrintCycle(const v1::GetCycleResponse& c) {
  const v1::CycleOpened& o = c.cycle();
  std::printf("cycle        %s\n", c.cycle_id().c_str());
  std::printf("program      %s\n", o.program().c_str());
  std::printf("period       %s\n", o.period().c_str());
  std::printf("region       %s\n", o.region_prefix().c_str());
  std::printf("cutoff       %s\n", FormatTime(o.cutoff()).c_str());
  std::printf("channel      %s\n", ChannelName(o.channel()).c_str());
  if (c.closed()) {
    std::printf("state        closed: Merkle root %s over %lld entries\n", c.merkle_root().c_str(),
                static_cast<long long>(c.entries()));
  } else {
    std::printf("state        open (%lld journal entries so far, ledger partition %d)\n",
                static_cast<long long>(c.entries()), c.partition());
  }
  std::printf("families     %lld\n", static_cast<long long>(o.families()));
  std::printf("cycle total  %s\n", Rupiah(o.total_amount()).c_str());
  if (c.entitled_amount() == o.total_amount()) {
    std::printf("entitled     %s (agrees with the cycle total)\n", Rupiah(c.entitled_amount()).c_str());
  } else {
    const std::string warning = absl::StrCat(
        "!!! entitled ", Rupiah(c.entitled_amount()), " DISAGREES with the cycle total ", Rupiah(o.total_amount()),
        " (difference ", Rupiah(c.entitled_amount() - o.total_amount()),
        "): the ledger is inconsistent; run `jaringctl verify-ledger` and do not pay from this cycle !!!");
    std::printf("entitled     %s\n%s\n", Rupiah(c.entitled_amount()).c_str(), warning.c_str());
    std::fprintf(stderr, "jaringctl: %s\n", warning.c_str());
  }
  std::printf("payments     instructed %lld (attempts), paid %lld, failed %lld, returned %lld, outstanding %lld\n",
              static_cast<long long>(c.instructed()), static_cast<long long>(c.paid()),
              static_cast<long long>(c.failed()), static_cast<long long>(c.returned()),
              static_cast<long long>(c.outstanding()));
  std::printf("amounts      paid %s, returned %s, not yet paid %s\n", Rupiah(c.paid_amount()).c_str(),
              Rupiah(c.returned_amount()).c_str(),
              Rupiah(c.entitled_amount() - c.paid_amount() - c.returned_amount()).c_str());

  std::printf("\nby region\n");
  Table regions({"  REGION", "FAMILIES", "AMOUNT"});
  int64_t families = 0;
  for (const v1::RegionTotal& r : c.regions()) {
    regions.Add({absl::StrCat("  ", r.region_code()), absl::StrCat(r.families()), Rupiah(r.amount())});
    families += r.families();
  }
  if (regions.empty()) {
    std::printf("  no entitlements\n");
  } else {
    regions.Print();
  }
  if (families != o.families()) {
    std::printf("!!! the regions hold %lld entitlements, the cycle says %lld families !!!\n",
                static_cast<long long>(families), static_cast<long long>(o.families()));
  }
  if (!c.components().empty()) {
    std::printf("\nby PKH component (families with at least one)\n");
    Table t({"  COMPONENT", "FAMILIES"});
    for (const v1::ComponentTotal& k : c.components()) {
      t.Add({absl::StrCat("  ", ComponentName(k.kind())), absl::StrCat(k.families())});
    }
    t.Print();
  }
}

// --- Proofs ----------------------------------------------------------------

// The ledger entry a proof carries: its leaf is the journal record's bytes,
// an Envelope holding the LedgerEntry (a bare LedgerEntry is read too).
std::optional<v1::LedgerEntry> EntryOf(const std::string& bytes) {
  v1::Envelope env;
  if (env.ParseFromString(bytes) && env.has_ledger_entry()) return env.ledger_entry();
  v1::LedgerEntry le;
  if (le.ParseFromString(bytes) && le.kind_case() != v1::LedgerEntry::KIND_NOT_SET) return le;
  return std::nullopt;
}

google::protobuf::Value JsonValue(const google::protobuf::Message& m) {
  google::protobuf::Value v;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(m, &json);
  (void)google::protobuf::util::JsonStringToMessage(json, &v);
  return v;
}

}  // namespace

int RunBudgetAllocate(const GlobalFlags& g, const BudgetAllocateFlags& f) {
  absl::StatusOr<int64_t> amount = ParseAmount("--amount", f.amount);
  if (!amount.ok()) return Bad(amount.status());
  v1::AllocateBudgetRequest req;
  req.set_program(ProgramId(f.program));
  req.set_region_prefix(f.region);
  req.set_period(f.period);
  req.set_amount(*amount);
  req.set_actor(f.actor);
  // The same command twice is one allocation.
  req.set_request_id(f.request_id.empty() ? absl::StrCat("jaringctl-budget:", req.program(), ":", f.region, ":",
                                                         f.period, ":", *amount)
                                          : f.request_id);
  Ledger s(g);
  v1::AllocateBudgetResponse resp;
  grpc::Status st = s.Call(&Stub::AllocateBudget, req, &resp);
  if (!st.ok()) return s.Fail(st);
  if (g.json) {
    PrintJson(resp);
    return kExitOk;
  }
  const std::string budget = absl::StrCat(req.program(), " ", req.region_prefix(), " ", req.period());
  if (resp.deduplicated()) {
    std::printf("already allocated (deduplicated): request %s was applied before, nothing appended%s\n",
                req.request_id().c_str(),
                f.request_id.empty() ? " (to add the same amount again, give another --request-id)" : "");
  } else {
    std::printf("allocated %s to budget %s (request %s)\n", Rupiah(*amount).c_str(), budget.c_str(),
                req.request_id().c_str());
  }
  std::printf("available %s in budget %s\n", Rupiah(resp.available()).c_str(), budget.c_str());
  return kExitOk;
}

int RunCycleOpen(const GlobalFlags& g, const CycleOpenFlags& f) {
  v1::OpenCycleRequest req;
  req.set_program(ProgramId(f.program));
  req.set_period(f.period);
  req.set_region_prefix(f.region);
  absl::StatusOr<absl::Time> cutoff = ParseCutoff(f.cutoff);
  if (!cutoff.ok()) return Bad(cutoff.status());
  *req.mutable_cutoff() = events::ToProtoTime(*cutoff);
  absl::StatusOr<v1::PaymentChannel> channel = ParseChannel(f.channel);
  if (!channel.ok()) return Bad(channel.status());
  req.set_channel(*channel);
  req.set_dry_run(f.dry_run);
  req.set_actor(f.actor);
  Ledger s(g);
  v1::OpenCycleResponse resp;
  grpc::Status st = s.Call(&Stub::OpenCycle, req, &resp);
  if (!st.ok()) {
    const int code = s.Fail(st);
    if (st.error_code() == grpc::StatusCode::FAILED_PRECONDITION && absl::StrContains(st.error_message(), "short")) {
      std::fprintf(stderr,
                   "jaringctl: nothing was appended%s; allocate the difference with `jaringctl budget allocate %s "
                   "--region %s --period %s --amount RUPIAH` and open the cycle again\n",
                   f.dry_run ? " (the service refuses a dry run too while the budget is short)" : "",
                   req.program().c_str(), req.region_prefix().c_str(), req.period().c_str());
    }
    return code;
  }
  if (g.json) {
    PrintJson(resp);
  } else {
    PrintOpened(f, req, resp);
  }
  return kExitOk;
}

int RunCycleExport(const GlobalFlags& g, const CycleExportFlags& f) {
  std::error_code ec;
  if (fs::exists(f.out, ec)) {
    return BadArguments(absl::StrCat("--out: ", f.out,
                                     " exists; refusing to overwrite it (each export instructs its payments once and "
                                     "cannot be fetched again: keep every file)"));
  }
  const fs::path parent = fs::path(f.out).parent_path();
  if (!parent.empty() && !fs::is_directory(parent, ec)) {
    return BadArguments(absl::StrCat("--out: directory ", parent.string(), " does not exist"));
  }
  v1::ExportInstructionsRequest req;
  req.set_cycle_id(f.cycle_id);
  req.set_actor(f.actor);
  Ledger s(g);
  grpc::ClientContext ctx;
  s.Prepare(&ctx, /*stream=*/true);
  std::unique_ptr<grpc::ClientReader<v1::ExportInstructionsResponse>> reader = s.stub().ExportInstructions(&ctx, req);
  std::string csv;
  v1::ExportInstructionsResponse piece, totals;
  while (reader->Read(&piece)) {
    csv += piece.data();
    if (piece.instructions() > 0 || piece.total_amount() > 0) {
      totals.set_instructions(piece.instructions());
      totals.set_total_amount(piece.total_amount());
    }
  }
  grpc::Status st = reader->Finish();
  if (!st.ok()) {
    const int code = s.Fail(st);
    if (!csv.empty()) {
      std::fprintf(stderr, "jaringctl: the export broke off after %zu bytes; nothing was written to %s\n", csv.size(),
                   f.out.c_str());
    }
    return code;
  }
  absl::Status written = WriteWholeFile(f.out, csv, /*exclusive=*/true);
  if (!written.ok()) {
    std::fprintf(stderr,
                 "jaringctl: %s\njaringctl: the service has recorded %lld instruction(s) (%s) for cycle %s that are "
                 "now in no file; the CSV follows on stdout\n",
                 std::string(written.message()).c_str(), static_cast<long long>(totals.instructions()),
                 Rupiah(totals.total_amount()).c_str(), f.cycle_id.c_str());
    std::fwrite(csv.data(), 1, csv.size(), stdout);
    return kExitServiceError;
  }
  if (g.json) {
    PrintJson(totals);
    return kExitOk;
  }
  if (totals.instructions() == 0) {
    std::printf("nothing to instruct in cycle %s: every entitlement is instructed, paid or returned already "
                "(%s has the header only)\n",
                f.cycle_id.c_str(), f.out.c_str());
  } else {
    std::printf("exported %lld instruction(s), total %s, to %s\n", static_cast<long long>(totals.instructions()),
                Rupiah(totals.total_amount()).c_str(), f.out.c_str());
    std::printf("next: send it to the channel; import its statement with `jaringctl cycle import %s FILE`\n",
                f.cycle_id.c_str());
  }
  return kExitOk;
}

int RunCycleImport(const GlobalFlags& g, const CycleImportFlags& f) {
  absl::StatusOr<std::string> csv = ReadWholeFile(f.file);
  if (!csv.ok()) return Bad(csv.status());
  Ledger s(g);
  grpc::ClientContext ctx;
  s.Prepare(&ctx, /*stream=*/true);
  v1::ImportStatementResponse resp;
  std::unique_ptr<grpc::ClientWriter<v1::ImportStatementRequest>> writer = s.stub().ImportStatement(&ctx, &resp);
  constexpr size_t kChunk = 1 << 20;
  size_t at = 0;
  do {
    v1::ImportStatementRequest piece;
    if (at == 0) {
      piece.set_cycle_id(f.cycle_id);
      piece.set_actor(f.actor);
    }
    piece.set_data(csv->substr(at, kChunk));
    at += kChunk;
    if (!writer->Write(piece)) break;  // the reason comes from Finish()
  } while (at < csv->size());
  writer->WritesDone();
  grpc::Status st = writer->Finish();
  if (!st.ok()) return s.Fail(st);
  if (g.json) {
    PrintJson(resp);
    return kExitOk;
  }
  const int64_t applied = resp.paid() + resp.failed() + resp.returned() + resp.already_applied();
  const int64_t not_applied = resp.lines() - applied;
  std::printf("statement %s for cycle %s: %lld line(s)\n", f.file.c_str(), f.cycle_id.c_str(),
              static_cast<long long>(resp.lines()));
  std::printf("  paid             %lld (%s)\n", static_cast<long long>(resp.paid()),
              Rupiah(resp.paid_amount()).c_str());
  std::printf("  failed           %lld (can be instructed again: `jaringctl cycle export`)\n",
              static_cast<long long>(resp.failed()));
  std::printf("  returned         %lld (the money went back to the budget)\n", static_cast<long long>(resp.returned()));
  std::printf("  already applied  %lld (by an earlier import of the same lines)\n",
              static_cast<long long>(resp.already_applied()));
  std::printf("  not applied      %lld\n", static_cast<long long>(not_applied));
  std::vector<v1::StatementProblem> problems(resp.problems().begin(), resp.problems().end());
  std::stable_sort(problems.begin(), problems.end(),
                   [](const v1::StatementProblem& a, const v1::StatementProblem& b) {
                     return a.line_number() < b.line_number();
                   });
  if (!problems.empty()) {
    std::printf("\nproblems (%zu)\n", problems.size());
    for (const v1::StatementProblem& p : problems) {
      const std::string prefix = absl::StrCat("line ", p.line_number(), ": ");
      std::printf("  %s%s\n", absl::StartsWith(p.message(), prefix) ? "" : prefix.c_str(), p.message().c_str());
    }
  }
  std::printf("\n");
  if (not_applied > 0 || !problems.empty()) {
    std::printf("%lld of %lld line(s) were NOT applied: nothing was recorded for them. Settle them with the "
                "channel and import a statement with the corrected lines.\n",
                static_cast<long long>(std::max<int64_t>(not_applied, static_cast<int64_t>(problems.size()))),
                static_cast<long long>(resp.lines()));
  } else {
    std::printf("every line applied\n");
  }
  return kExitOk;
}

int RunCycleClose(const GlobalFlags& g, const CycleCloseFlags& f) {
  Ledger s(g);
  v1::GetCycleRequest get;
  get.set_cycle_id(f.cycle_id);
  v1::GetCycleResponse before;
  grpc::Status st = s.Call(&Stub::GetCycle, get, &before);
  if (!st.ok()) return s.Fail(st);
  if (!before.closed() && before.outstanding() > 0) {
    std::fprintf(stderr,
                 "jaringctl: warning: %lld payment(s) of cycle %s are still outstanding (instructed, in no statement "
                 "yet); a closed cycle takes no statement\n",
                 static_cast<long long>(before.outstanding()), f.cycle_id.c_str());
  }
  v1::CloseCycleRequest req;
  req.set_cycle_id(f.cycle_id);
  req.set_actor(f.actor);
  v1::CloseCycleResponse resp;
  st = s.Call(&Stub::CloseCycle, req, &resp);
  if (!st.ok()) return s.Fail(st);
  if (g.json) {
    PrintJson(resp);
    return kExitOk;
  }
  std::printf("%s cycle %s\n", before.closed() ? "already closed (nothing appended):" : "closed", f.cycle_id.c_str());
  std::printf("  Merkle root  %s\n", resp.merkle_root().c_str());
  std::printf("  entries      %lld\n", static_cast<long long>(resp.entries()));
  std::printf("publish the root and the entry count: a family checks its proof against both\n"
              "(jaringctl proof %s KK --out FILE; jaringctl verify-proof FILE --root ROOT --entries N)\n",
              f.cycle_id.c_str());
  return kExitOk;
}

int RunCycleShow(const GlobalFlags& g, const CycleShowFlags& f) {
  Ledger s(g);
  v1::GetCycleRequest req;
  req.set_cycle_id(f.cycle_id);
  v1::GetCycleResponse resp;
  grpc::Status st = s.Call(&Stub::GetCycle, req, &resp);
  if (!st.ok()) return s.Fail(st);
  if (g.json) {
    PrintJson(resp);
  } else {
    PrintCycle(resp);
  }
  return kExitOk;
}

int RunAccounts(const GlobalFlags& g, const AccountsFlags& f) {
  Ledger s(g);
  v1::ListAccountsRequest req;
  req.set_prefix(f.prefix);
  v1::ListAccountsResponse resp;
  grpc::Status st = s.Call(&Stub::ListAccounts, req, &resp);
  if (!st.ok()) return s.Fail(st);
  const bool unbalanced = f.prefix.empty() && resp.sum() != 0;
  if (g.json) {
    PrintJson(resp);
  } else if (resp.accounts().empty()) {
    std::printf("no accounts%s\n", f.prefix.empty() ? "" : absl::StrCat(" under ", f.prefix).c_str());
  } else {
    Table t({"ACCOUNT", "BALANCE"});
    for (const v1::AccountBalance& a : resp.accounts()) t.Add({a.account(), Rupiah(a.balance())});
    t.Print();
    std::printf("\n%d account(s)%s, sum %s%s\n", resp.accounts_size(),
                f.prefix.empty() ? "" : absl::StrCat(" under ", f.prefix).c_str(), Rupiah(resp.sum()).c_str(),
                f.prefix.empty() ? (unbalanced ? "" : " (balanced: debits equal credits)")
                                 : " (only the sum over all accounts must be Rp0)");
    std::printf("balances are debits minus credits: the money a budget has available is a credit (negative)\n");
  }
  if (unbalanced) {
    std::fprintf(stderr,
                 "jaringctl: the balances of all accounts sum to %s, not Rp0: the ledger does not balance; run "
                 "`jaringctl verify-ledger`\n",
                 Rupiah(resp.sum()).c_str());
    return kExitServiceError;
  }
  return kExitOk;
}

int RunFamilyLedger(const GlobalFlags& g, const FamilyLedgerFlags& f) {
  Ledger s(g);
  v1::GetFamilyLedgerRequest req;
  req.set_kk_number(f.kk);
  v1::GetFamilyLedgerResponse resp;
  grpc::Status st = s.Call(&Stub::GetFamilyLedger, req, &resp);
  if (!st.ok()) return s.Fail(st);
  if (g.json) {
    PrintJson(resp);
    return kExitOk;
  }
  std::printf("KK %s: %d entitlement(s), %d recovery claim(s)\n\n", f.kk.c_str(), resp.entitlements_size(),
              resp.recovery_claims_size());
  if (resp.entitlements().empty()) {
    std::printf("no entitlements (the family is in no payment cycle)\n");
  } else {
    Table t({"PROGRAM", "PERIOD", "REGION", "AMOUNT", "STATUS", "REFERENCE", "ATTEMPTS", "CHANNEL REF", "SETTLED",
             "CYCLE"});
    for (const v1::Entitlement& e : resp.entitlements()) {
      const v1::EntitlementCreated& c = e.created();
      t.Add({c.program(), c.period(), c.region_code(), Rupiah(c.amount()), StatusName(e.status()), Or(e.reference()),
             absl::StrCat(e.attempts()), Or(e.channel_reference()), Or(e.settled_on()), e.cycle_id()});
    }
    t.Print();
  }
  if (!resp.recovery_claims().empty()) {
    int64_t total = 0;
    std::printf("\nrecovery claims (paid although the family had no living member at the cycle's cutoff)\n");
    Table t({"  CLAIM", "AMOUNT", "ENTITLEMENT", "CAUSE EVENT"});
    for (const v1::RecoveryClaimRaised& c : resp.recovery_claims()) {
      t.Add({absl::StrCat("  ", c.claim_id()), Rupiah(c.amount()), c.entitlement_id(), Or(c.cause_event_id())});
      total += c.amount();
    }
    t.Print();
    std::printf("  total to recover: %s\n", Rupiah(total).c_str());
  }
  return kExitOk;
}

int RunClaims(const GlobalFlags& g, const ClaimsFlags& f) {
  Ledger s(g);
  v1::ListRecoveryClaimsRequest req;
  req.set_region_prefix(f.region);
  v1::ListRecoveryClaimsResponse resp;
  grpc::Status st = s.Call(&Stub::ListRecoveryClaims, req, &resp);
  if (!st.ok()) return s.Fail(st);
  if (g.json) {
    PrintJson(resp);
    return kExitOk;
  }
  const std::string where = f.region.empty() ? "every region" : f.region;
  if (resp.claims().empty()) {
    std::printf("no recovery claims in %s\n", where.c_str());
    return kExitOk;
  }
  Table t({"KK", "AMOUNT", "CLAIM", "ENTITLEMENT", "CAUSE EVENT"});
  for (const v1::RecoveryClaimRaised& c : resp.claims()) {
    t.Add({c.kk_number(), Rupiah(c.amount()), c.claim_id(), c.entitlement_id(), Or(c.cause_event_id())});
  }
  t.Print();
  std::printf("\ntotal in %s: %d open recovery claim(s), %s to recover\n", where.c_str(), resp.claims_size(),
              Rupiah(resp.total_amount()).c_str());
  return kExitOk;
}

int RunProof(const GlobalFlags& g, const ProofFlags& f) {
  Ledger s(g);
  v1::GetInclusionProofRequest req;
  req.set_cycle_id(f.cycle_id);
  req.set_kk_number(f.kk);
  v1::GetInclusionProofResponse resp;
  grpc::Status st = s.Call(&Stub::GetInclusionProof, req, &resp);
  if (!st.ok()) return s.Fail(st);
  absl::Status written = WriteWholeFile(f.out, resp.proof(), /*exclusive=*/false);
  if (!written.ok()) return BadArguments(absl::StrCat("--out: ", written.message()));
  if (g.json) {
    PrintJson(resp);
    return kExitOk;
  }
  absl::StatusOr<ledger::InclusionProofBundle> proof = ledger::DecodeProof(resp.proof());
  if (proof.ok()) {
    std::printf("wrote the proof of family %s in cycle %s to %s: leaf %llu of %llu, root %s\n", f.kk.c_str(),
                f.cycle_id.c_str(), f.out.c_str(), static_cast<unsigned long long>(proof->index),
                static_cast<unsigned long long>(proof->tree_size), ledger::ToHex(proof->root).c_str());
  } else {
    std::printf("wrote the proof of family %s in cycle %s to %s\n", f.kk.c_str(), f.cycle_id.c_str(),
                f.out.c_str());
    std::fprintf(stderr, "jaringctl: warning: the proof the service sent does not decode: %s\n",
                 std::string(proof.status().message()).c_str());
  }
  std::printf("check it: jaringctl verify-proof %s --cycle %s\n", f.out.c_str(), f.cycle_id.c_str());
  return kExitOk;
}

int RunVerifyProof(const GlobalFlags& g, const VerifyProofFlags& f) {
  // The published root and size, when given or fetched.
  std::optional<ledger::Hash> published_root;
  uint64_t published_size = 0;
  std::string compared_with = "none";
  if (!f.root.empty()) {
    published_root = ledger::HashFromHex(absl::AsciiStrToLower(f.root));
    if (!published_root) return BadArguments(absl::StrCat("--root: \"", f.root, "\" is not 64 hex digits"));
    if (f.entries < 1) return BadArguments("--entries: the cycle's entry count, 1 or more");
    published_size = static_cast<uint64_t>(f.entries);
    compared_with = "root";
  }
  absl::StatusOr<std::string> text = ReadWholeFile(f.file);
  if (!text.ok()) return Bad(text.status());
  if (!f.cycle.empty()) {
    Ledger s(g);
    v1::GetCycleRequest req;
    req.set_cycle_id(f.cycle);
    v1::GetCycleResponse cycle;
    grpc::Status st = s.Call(&Stub::GetCycle, req, &cycle);
    if (!st.ok()) return s.Fail(st);
    if (!cycle.closed()) {
      std::fprintf(stderr, "jaringctl: FAILED_PRECONDITION: cycle %s is open: it has no published root yet\n",
                   f.cycle.c_str());
      return kExitServiceError;
    }
    published_root = ledger::HashFromHex(cycle.merkle_root());
    if (!published_root) {
      std::fprintf(stderr, "jaringctl: DATA_LOSS: the service's root of cycle %s is not a hash: \"%s\"\n",
                   f.cycle.c_str(), cycle.merkle_root().c_str());
      return kExitServiceError;
    }
    published_size = static_cast<uint64_t>(cycle.entries());
    compared_with = "cycle";
  }

  absl::StatusOr<ledger::InclusionProofBundle> proof = ledger::DecodeProof(*text);
  absl::Status verdict = proof.status();
  std::optional<v1::LedgerEntry> entry;
  if (proof.ok()) {
    verdict = published_root ? ledger::VerifyProofAgainst(*proof, published_size, *published_root)
                             : ledger::VerifyProof(*proof);
    entry = EntryOf(proof->entry);
    if (verdict.ok() && !entry) verdict = absl::DataLossError("the proof's entry is not a ledger entry");
    if (verdict.ok() && !f.cycle.empty() && entry->cycle_id() != f.cycle) {
      verdict = absl::DataLossError(absl::StrCat("the entry belongs to cycle ", entry->cycle_id(), ", not ", f.cycle));
    }
  }

  if (g.json) {
    google::protobuf::Struct out;
    auto& fields = *out.mutable_fields();
    fields["ok"].set_bool_value(verdict.ok());
    fields["comparedWith"].set_string_value(compared_with);
    if (!verdict.ok()) {
      fields["error"].set_string_value(absl::StrCat(absl::StatusCodeToString(verdict.code()), ": ",
                                                    verdict.message()));
    }
    if (proof.ok()) {
      fields["index"].set_number_value(static_cast<double>(proof->index));
      fields["treeSize"].set_number_value(static_cast<double>(proof->tree_size));
      fields["root"].set_string_value(ledger::ToHex(proof->root));
    }
    if (entry) fields["entry"] = JsonValue(*entry);
    PrintJson(out);
    return verdict.ok() ? kExitOk : kExitServiceError;
  }

  std::printf("proof      %s\n", f.file.c_str());
  if (entry && entry->has_entitlement_created()) {
    const v1::EntitlementCreated& c = entry->entitlement_created();
    std::printf("family     KK %s, region %s\n", c.kk_number().c_str(), c.region_code().c_str());
    std::printf("entitled   %s %s: %s\n", c.program().c_str(), c.period().c_str(), Rupiah(c.amount()).c_str());
    std::printf("decision   %s version %lld\n", c.decision_id().c_str(), static_cast<long long>(c.decision_version()));
    std::printf("cycle      %s (journal sequence %lld)\n", entry->cycle_id().c_str(),
                static_cast<long long>(entry->sequence()));
  } else if (entry) {
    std::printf("entry      a %s entry of cycle %s (not an entitlement)\n",
                entry->GetDescriptor()->FindFieldByNumber(entry->kind_case())->name().c_str(),
                entry->cycle_id().c_str());
  }
  if (proof.ok()) {
    std::printf("leaf       %llu of %llu\n", static_cast<unsigned long long>(proof->index),
                static_cast<unsigned long long>(proof->tree_size));
    std::printf("root       %s\n", ledger::ToHex(proof->root).c_str());
  }
  if (compared_with == "cycle") {
    std::printf("published  root %s over %llu entries (cycle %s, from the service)\n",
                ledger::ToHex(*published_root).c_str(), static_cast<unsigned long long>(published_size),
                f.cycle.c_str());
  } else if (compared_with == "root") {
    std::printf("published  root %s over %llu entries (--root, --entries)\n", ledger::ToHex(*published_root).c_str(),
                static_cast<unsigned long long>(published_size));
  }
  if (!verdict.ok()) {
    std::printf("FAILED\n");
    std::fprintf(stderr, "jaringctl: %s: %s\n", absl::StatusCodeToString(verdict.code()).c_str(),
                 std::string(verdict.message()).c_str());
    return kExitServiceError;
  }
  std::printf("OK: the entry is in the tree of that root%s\n",
              published_root ? " and the root and size are the published ones" : "");
  if (!published_root) {
    std::fprintf(stderr,
                 "jaringctl: warning: the root was NOT compared with a published one: this shows only that the entry "
                 "is in the tree the file itself names. Give --cycle CYCLE_ID (asks the service) or --root HEX "
                 "--entries N (the cycle's published root and entry count).\n");
  }
  return kExitOk;
}

int RunVerifyLedger(const GlobalFlags& g, const VerifyLedgerFlags&) {
  Ledger s(g);
  v1::VerifyLedgerResponse resp;
  grpc::Status st = s.Call(&Stub::VerifyLedger, v1::VerifyLedgerRequest(), &resp);
  if (!st.ok()) return s.Fail(st);
  if (g.json) {
    PrintJson(resp);
  } else if (resp.ok()) {
    std::printf("ledger OK: %lld journal entries checked (hash links, balanced postings, the store's copy), %lld "
                "closed cycle(s) with their Merkle roots recomputed, every account balance matches the journal\n",
                static_cast<long long>(resp.entries()), static_cast<long long>(resp.cycles_checked()));
  } else {
    const v1::LedgerBreak& b = resp.first_break();
    const std::string where =
        b.partition() < 0 ? "in the service's store"
                          : absl::StrCat("at jaring.ledger.v1[", b.partition(), "]@", b.offset());
    std::printf("ledger BROKEN %s: %s\n", where.c_str(), b.what().c_str());
    std::printf("(checked %lld entries and %lld closed cycle(s) before the first break)\n",
                static_cast<long long>(resp.entries()), static_cast<long long>(resp.cycles_checked()));
  }
  return resp.ok() ? kExitOk : kExitServiceError;
}

// --- Registration ------------------------------------------------------------

LedgerCommands::LedgerCommands(CLI::App& app) {
  const std::string actor_help = "Principal id recorded on the entries (never a NIK)";

  CLI::App* budget = app.add_subcommand("budget", "Budgets of the disbursement ledger");
  budget->require_subcommand(1);
  allocate_cmd_ = budget->add_subcommand(
      "allocate", "Allocate rupiah to a program's budget for a region prefix and a period (what cycles pay from)");
  allocate_cmd_->add_option("program", allocate_.program, "Program id: PKH, BPNT, ...")->required();
  allocate_cmd_->add_option("--region", allocate_.region, "Region code prefix the budget covers, e.g. 52.71 (a "
                                                          "cycle pays from the budget of exactly its own prefix)")
      ->required();
  allocate_cmd_->add_option("--period", allocate_.period,
                            "Stage period of the program's decisions: 2026-Q4 (PKH), 2026-11/12 (BPNT)")
      ->required();
  allocate_cmd_->add_option("--amount", allocate_.amount, "Whole rupiah: 2400000, 2.400.000 or Rp2.400.000")
      ->required();
  allocate_cmd_->add_option("--request-id", allocate_.request_id,
                            "Idempotency key; default: derived from program, region, period and amount, so "
                            "repeating the command allocates once");
  allocate_cmd_->add_option("--actor", allocate_.actor, actor_help)->capture_default_str();

  CLI::App* cycle = app.add_subcommand("cycle", "Payment cycles: open, export, import, close, show");
  cycle->require_subcommand(1);
  open_cmd_ = cycle->add_subcommand(
      "open", "Open a payment cycle: the families eligible by the decisions recorded by --cutoff, paid from the "
              "budget of the same program, region and period (refused, nothing appended, when it is short)");
  open_cmd_->add_option("program", open_.program, "Program id: PKH, BPNT, ...")->required();
  open_cmd_->add_option("--period", open_.period, "Stage period: 2026-Q4 (PKH), 2026-11/12 (BPNT)")->required();
  open_cmd_->add_option("--region", open_.region, "Region code prefix, e.g. 52.71")->required();
  open_cmd_->add_option("--cutoff", open_.cutoff,
                        "Decisions recorded by then count: \"now\", YYYY-MM-DD (the END of that day, 23:59:59.999 "
                        "WIB; so not today) or RFC 3339; not in the future")
      ->required();
  open_cmd_->add_option("--channel", open_.channel, "bank (Himbara, KKS account) or post (PT Pos)")->required();
  open_cmd_->add_flag("--dry-run", open_.dry_run, "Compute the cycle and list its families; append nothing");
  open_cmd_->add_option("--actor", open_.actor, actor_help)->capture_default_str();

  export_cmd_ = cycle->add_subcommand(
      "export", "Instruct every payment of the cycle not yet instructed or paid (failed ones again) and write the "
                "channel's CSV file");
  export_cmd_->add_option("cycle_id", export_.cycle_id, "Cycle id (from `cycle open`)")->required();
  export_cmd_->add_option("--out", export_.out, "The instructions CSV to write (must not exist)")->required();
  export_cmd_->add_option("--actor", export_.actor, actor_help)->capture_default_str();

  import_cmd_ = cycle->add_subcommand(
      "import", "Import the channel's statement CSV and print the reconciliation: every line not applied is listed "
                "with its line number");
  import_cmd_->add_option("cycle_id", import_.cycle_id, "Cycle id")->required();
  import_cmd_->add_option("file", import_.file, "statement.csv (reference,status,amount,channel_reference,"
                                                "settled_on)")
      ->required()
      ->check(CLI::ExistingFile);
  import_cmd_->add_option("--actor", import_.actor, actor_help)->capture_default_str();

  close_cmd_ = cycle->add_subcommand(
      "close", "Close a cycle: fixes its entries in a Merkle root (no statement can be imported afterwards)");
  close_cmd_->add_option("cycle_id", close_.cycle_id, "Cycle id")->required();
  close_cmd_->add_option("--actor", close_.actor, actor_help)->capture_default_str();

  show_cmd_ = cycle->add_subcommand("show", "A cycle: totals, payments, by region and PKH component, its root");
  show_cmd_->add_option("cycle_id", show_.cycle_id, "Cycle id")->required();

  accounts_cmd_ = app.add_subcommand("accounts", "Ledger account balances and their sum (Rp0 over all accounts)");
  accounts_cmd_->add_option("--prefix", accounts_.prefix, "Only accounts starting with this: budget/, payable/BPNT/, "
                                                          "...");

  CLI::App* ledger = app.add_subcommand("ledger", "A family's side of the disbursement ledger");
  ledger->require_subcommand(1);
  family_cmd_ = ledger->add_subcommand(
      "family", "A family's entitlements (status, references, attempts) and recovery claims");
  family_cmd_->add_option("kk", family_.kk, "KK number (16 digits)")->required();

  claims_cmd_ = app.add_subcommand(
      "claims", "Recovery claims: payments to families that had no living member at the cycle's cutoff");
  claims_cmd_->add_option("--region", claims_.region, "Region code prefix; default every region");

  proof_cmd_ = app.add_subcommand("proof", "Write a family's inclusion proof in a closed cycle");
  proof_cmd_->add_option("cycle_id", proof_.cycle_id, "Cycle id (closed)")->required();
  proof_cmd_->add_option("kk", proof_.kk, "KK number (16 digits)")->required();
  proof_cmd_->add_option("--out", proof_.out, "The proof file to write")->required();

  verify_proof_cmd_ = app.add_subcommand(
      "verify-proof", "Check an inclusion proof file offline; against the published root with --root/--entries, "
                      "or the root the service publishes with --cycle");
  verify_proof_cmd_->add_option("file", verify_proof_.file, "The proof file")->required()->check(CLI::ExistingFile);
  CLI::Option* root = verify_proof_cmd_->add_option("--root", verify_proof_.root,
                                                    "The cycle's published Merkle root (64 hex digits)");
  CLI::Option* entries = verify_proof_cmd_->add_option("--entries", verify_proof_.entries,
                                                       "The cycle's published entry count (with --root)");
  CLI::Option* cycle_opt = verify_proof_cmd_->add_option(
      "--cycle", verify_proof_.cycle, "Fetch the published root and entry count of this cycle from the service");
  root->needs(entries);
  entries->needs(root);
  cycle_opt->excludes(root);
  cycle_opt->excludes(entries);

  verify_ledger_cmd_ = app.add_subcommand(
      "verify-ledger", "Replay the journal from the log: hash links, balances, closed cycles' roots, and the "
                       "service's store; prints the first break");
}

std::optional<int> LedgerCommands::Run(const GlobalFlags& g) const {
  if (*allocate_cmd_) return RunBudgetAllocate(g, allocate_);
  if (*open_cmd_) return RunCycleOpen(g, open_);
  if (*export_cmd_) return RunCycleExport(g, export_);
  if (*import_cmd_) return RunCycleImport(g, import_);
  if (*close_cmd_) return RunCycleClose(g, close_);
  if (*show_cmd_) return RunCycleShow(g, show_);
  if (*accounts_cmd_) return RunAccounts(g, accounts_);
  if (*family_cmd_) return RunFamilyLedger(g, family_);
  if (*claims_cmd_) return RunClaims(g, claims_);
  if (*proof_cmd_) return RunProof(g, proof_);
  if (*verify_proof_cmd_) return RunVerifyProof(g, verify_proof_);
  if (*verify_ledger_cmd_) return RunVerifyLedger(g, verify_ledger_);
  return std::nullopt;
}

}  // namespace jaring::ctl
