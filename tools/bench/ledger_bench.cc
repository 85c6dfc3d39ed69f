#include "tools/bench/ledger_bench.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/events/envelope.h"
#include "libs/events/topics.h"
#include "libs/ledger/channel_files.h"
#include "nlohmann/json.hpp"
#include "services/ledger/service.h"
#include "tools/bench/raw_limits.h"
#include "tools/bench/workspace.h"

namespace jaring::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

double SecondsSince(SteadyClock::time_point t) {
  return std::chrono::duration<double>(SteadyClock::now() - t).count();
}

int Fail(const absl::Status& st, const char* what) {
  std::fprintf(stderr, "jaring-bench ledger: %s: %s\n", what, st.ToString().c_str());
  return 1;
}

constexpr char kPeriod[] = "2026-11/12";
constexpr int64_t kStage = 400000;

std::string Kk(int64_t i) { return absl::StrFormat("5271%012d", i + 1); }

}  // namespace

int LedgerBench(const LedgerBenchFlags& flags) {
  absl::StatusOr<Workspace> workspace = OpenWorkspace("ledger", flags.dir);
  if (!workspace.ok()) {
    if (!absl::IsFailedPrecondition(workspace.status())) return Fail(workspace.status(), "open log");
    std::fprintf(stderr, "jaring-bench ledger: %s\n", std::string(workspace.status().message()).c_str());
    return 2;
  }
  const bool own_dir = workspace->owned;
  const std::filesystem::path dir = workspace->dir;
  std::unique_ptr<eventlog::EventLog> log = std::move(workspace->log);

  // 1. Families and their decisions, appended directly.
  const absl::Time before = absl::Now() - absl::Hours(1);
  std::vector<eventlog::Record> pop, dec;
  auto flush = [&](std::vector<eventlog::Record>& v, std::string_view topic) -> absl::Status {
    if (v.empty()) return absl::OkStatus();
    absl::Status st = log->Append(topic, v).status();
    v.clear();
    return st;
  };
  for (int64_t i = 0; i < flags.families; ++i) {
    const std::string kk = Kk(i);
    const std::string region = absl::StrFormat("52.71.%02d.%04d", 1 + i % 6, 1001 + i % 40);
    v1::Envelope f;
    f.set_event_id(absl::StrCat("reg-", i));
    f.set_key(kk);
    f.set_region_code(region);
    *f.mutable_occurred_at() = events::ToProtoTime(before - absl::Hours(24));
    *f.mutable_recorded_at() = events::ToProtoTime(before - absl::Hours(24));
    v1::FamilyRegistered* r = f.mutable_family_registered();
    r->set_kk_number(kk);
    r->set_region_code(region);
    v1::Member* head = r->add_members();
    head->set_nik(absl::StrFormat("5271011203%06d", i % 1000000));
    head->set_full_name("Lalu Ahmad Fauzi");
    head->set_relationship(v1::RELATIONSHIP_HEAD);
    r->set_head_nik(head->nik());
    events::StampType(f);
    pop.push_back(events::ToRecord(f));

    v1::Envelope d;
    d.set_event_id(absl::StrCat("decision-", i));
    d.set_key(kk);
    d.set_region_code(region);
    *d.mutable_occurred_at() = events::ToProtoTime(before);
    *d.mutable_recorded_at() = events::ToProtoTime(before);
    v1::Decision* decision = d.mutable_eligibility_decided()->mutable_decision();
    decision->set_kk_number(kk);
    decision->set_program("BPNT");
    decision->set_eligible(true);
    decision->set_yearly_amount(6 * kStage);
    decision->set_region_code(region);
    decision->set_decision_id(d.event_id());
    decision->set_version(1);
    v1::StagePayment* stage = decision->add_stages();
    stage->set_period(kPeriod);
    stage->set_amount(kStage);
    events::StampType(d);
    dec.push_back(events::ToRecord(d));
    if (pop.size() == 10000) {
      if (auto st = flush(pop, events::kPopulationTopic); !st.ok()) return Fail(st, "append");
      if (auto st = flush(dec, events::kEligibilityTopic); !st.ok()) return Fail(st, "append");
    }
  }
  if (auto st = flush(pop, events::kPopulationTopic); !st.ok()) return Fail(st, "append");
  if (auto st = flush(dec, events::kEligibilityTopic); !st.ok()) return Fail(st, "append");

  auto t = SteadyClock::now();
  auto created = ledger_service::LedgerServiceImpl::Create(
      log.get(), {.store_dir = (dir / "ledger").string(), .scan_interval = absl::ZeroDuration()});
  if (!created.ok()) return Fail(created.status(), "open ledger");
  std::unique_ptr<ledger_service::LedgerServiceImpl> svc = std::move(created).value();
  const double catchup_s = SecondsSince(t);

  // 2. Small commands from several clients: one entry, one fsync each
  // (group commit lets concurrent ones share it).
  std::atomic<int64_t> failures{0};
  t = SteadyClock::now();
  {
    std::vector<std::thread> threads;
    for (int c = 0; c < flags.clients; ++c) {
      threads.emplace_back([&, c] {
        for (int i = 0; i < flags.commands; ++i) {
          v1::AllocateBudgetRequest r;
          r.set_request_id(absl::StrCat("bench-", c, "-", i));
          r.set_program("BPNT");
          r.set_region_prefix(absl::StrCat("52.", 10 + c));
          r.set_period(kPeriod);
          r.set_amount(1000);
          if (!svc->AllocateBudget(r).ok()) failures++;
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  const double small_s = SecondsSince(t);
  const int64_t small_entries = static_cast<int64_t>(flags.clients) * flags.commands;

  // 3. One cycle for every family.
  v1::AllocateBudgetRequest budget;
  budget.set_request_id("bench-budget");
  budget.set_program("BPNT");
  budget.set_region_prefix("52.71");
  budget.set_period(kPeriod);
  budget.set_amount(flags.families * kStage);
  if (auto st = svc->AllocateBudget(budget).status(); !st.ok()) return Fail(st, "budget");
  v1::OpenCycleRequest open;
  open.set_program("BPNT");
  open.set_period(kPeriod);
  open.set_region_prefix("52.71");
  *open.mutable_cutoff() = events::ToProtoTime(absl::Now());
  open.set_channel(v1::PAYMENT_CHANNEL_BANK);
  t = SteadyClock::now();
  auto cycle = svc->OpenCycle(open);
  if (!cycle.ok()) return Fail(cycle.status(), "open cycle");
  const double open_s = SecondsSince(t);

  v1::ExportInstructionsRequest ex;
  ex.set_cycle_id(cycle->cycle_id());
  t = SteadyClock::now();
  auto exported = svc->ExportInstructions(ex);
  if (!exported.ok()) return Fail(exported.status(), "export");
  const double export_s = SecondsSince(t);

  const ledger::ParsedInstructions instructions = ledger::ParseInstructions(exported->csv);
  std::vector<ledger::StatementLine> lines;
  lines.reserve(instructions.lines.size());
  for (const auto& l : instructions.lines) {
    ledger::StatementLine s;
    s.reference = l.instruction.reference;
    s.amount = l.instruction.amount;
    s.channel_reference = "BANK";
    s.settled_on = absl::CivilDay(2026, 11, 30);
    lines.push_back(std::move(s));
  }
  const std::string statement = ledger::WriteStatement(lines);
  t = SteadyClock::now();
  auto reconciled = svc->ImportStatement(cycle->cycle_id(), statement, "bench");
  if (!reconciled.ok()) return Fail(reconciled.status(), "import");
  const double import_s = SecondsSince(t);

  v1::CloseCycleRequest close;
  close.set_cycle_id(cycle->cycle_id());
  t = SteadyClock::now();
  auto closed = svc->CloseCycle(close);
  if (!closed.ok()) return Fail(closed.status(), "close");
  const double close_s = SecondsSince(t);

  t = SteadyClock::now();
  auto verified = svc->VerifyLedger(v1::VerifyLedgerRequest());
  if (!verified.ok() || !verified->ok()) return Fail(absl::DataLossError("ledger does not verify"), "verify");
  const double verify_s = SecondsSince(t);
  const int64_t journal = verified->entries();
  svc.reset();

  // 4. Raw limits for the same number of records.
  const int64_t cycle_entries = 2 * cycle->families() + reconciled->paid() + 2;
  auto raw = RawPuts((dir / "raw").string(), /*wal=*/true, cycle_entries, flags.families, 400, 10000, 1, "j/");
  if (!raw.ok()) return Fail(raw.status(), "raw puts");
  std::vector<eventlog::Record> rec(10000);
  for (auto& r : rec) {
    r.key = "raw";
    r.value = std::string(400, 'x');
    r.timestamp_ms = absl::ToUnixMillis(absl::Now());
  }
  if (auto st = log->CreateTopic("bench.raw", 4); !st.ok()) return Fail(st, "topic");
  t = SteadyClock::now();
  for (int64_t done = 0; done < cycle_entries; done += static_cast<int64_t>(rec.size())) {
    if (auto st = log->Append("bench.raw", rec).status(); !st.ok()) return Fail(st, "raw append");
  }
  const double raw_append_s = SecondsSince(t);

  const double cycle_s = open_s + export_s + import_s + close_s;
  const double postings = 2.0 * static_cast<double>(journal);
  if (flags.json) {
    nlohmann::json j;
    j["families"] = flags.families;
    j["catchup_s"] = catchup_s;
    j["small_commands"] = {{"clients", flags.clients},
                           {"entries", small_entries},
                           {"failures", failures.load()},
                           {"entries_per_s", static_cast<double>(small_entries) / small_s},
                           {"postings_per_s", 2.0 * static_cast<double>(small_entries) / small_s}};
    j["cycle"] = {{"families", cycle->families()},
                  {"open_s", open_s},
                  {"export_s", export_s},
                  {"import_s", import_s},
                  {"close_s", close_s},
                  {"total_s", cycle_s},
                  {"families_per_s", static_cast<double>(cycle->families()) / cycle_s},
                  {"paid", reconciled->paid()},
                  {"merkle_root", closed->merkle_root()}};
    j["journal_entries"] = journal;
    j["postings_per_s_in_cycle"] = (postings - 2.0 * static_cast<double>(small_entries)) / cycle_s;
    j["verify_s"] = verify_s;
    j["raw"] = {{"records", cycle_entries},
                {"rocksdb_puts_per_s", static_cast<double>(cycle_entries) / *raw},
                {"log_appends_per_s", static_cast<double>(cycle_entries) / raw_append_s}};
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("ledger, %lld families (embedded log, this machine)\n", static_cast<long long>(flags.families));
    std::printf("  catch-up from an empty store         %8.1f s\n", catchup_s);
    std::printf("  small commands, %d clients           %10.0f entries/s  %10.0f postings/s  (%lld failed)\n",
                flags.clients, static_cast<double>(small_entries) / small_s,
                2.0 * static_cast<double>(small_entries) / small_s, static_cast<long long>(failures.load()));
    std::printf("  cycle for %lld families: open %.1f s, export %.1f s, import %.1f s, close %.1f s\n",
                static_cast<long long>(cycle->families()), open_s, export_s, import_s, close_s);
    std::printf("  whole cycle                          %10.0f families/s (%.1f s)\n",
                static_cast<double>(cycle->families()) / cycle_s, cycle_s);
    std::printf("  journal entries in the cycle         %10.0f entries/s  %10.0f postings/s\n",
                static_cast<double>(cycle_entries) / cycle_s, 2.0 * static_cast<double>(cycle_entries) / cycle_s);
    std::printf("  verify the whole journal             %8.1f s (%lld entries)\n", verify_s,
                static_cast<long long>(journal));
    std::printf("  raw: RocksDB puts (WAL)              %10.0f records/s\n",
                static_cast<double>(cycle_entries) / *raw);
    std::printf("  raw: embedded log appends (fsync)    %10.0f records/s\n",
                static_cast<double>(cycle_entries) / raw_append_s);
  }
  log.reset();
  if (own_dir) std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace jaring::bench
