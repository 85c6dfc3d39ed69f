#include "tools/bench/audit_bench.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "libs/base/clock.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/events/envelope.h"
#include "libs/events/topics.h"
#include "libs/ledger/channel_files.h"
#include "libs/rules/rules.h"
#include "nlohmann/json.hpp"
#include "rocksdb/db.h"
#include "services/audit/service.h"
#include "services/eligibility/service.h"
#include "services/ledger/service.h"
#include "services/population/service.h"
#include "tools/bench/synthetic.h"
#include "tools/bench/workspace.h"

namespace jaring::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

double SecondsSince(SteadyClock::time_point t) {
  return std::chrono::duration<double>(SteadyClock::now() - t).count();
}

int Fail(const absl::Status& st, const char* what) {
  std::fprintf(stderr, "jaring-bench audit: %s: %s\n", what, st.ToString().c_str());
  return 1;
}

// Keys under `prefix` in `db`, iterated with their values touched: the
// floor of any scan over them.
std::pair<int64_t, double> RawScan(rocksdb::DB* db, const std::string& prefix) {
  const auto t = SteadyClock::now();
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  int64_t n = 0;
  size_t bytes = 0;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    ++n;
    bytes += it->value().size();
  }
  if (bytes == 1) std::fprintf(stderr, " ");  // keeps the loop from being optimised away
  return {n, SecondsSince(t)};
}

// Every record of every partition of the topics, read without decoding.
absl::StatusOr<std::pair<int64_t, double>> RawRead(eventlog::EventLog& log, const std::vector<std::string>& topics) {
  const auto t = SteadyClock::now();
  std::vector<eventlog::Assignment> assignment;
  int64_t total = 0;
  for (const std::string& topic : topics) {
    JARING_ASSIGN_OR_RETURN(int32_t partitions, log.PartitionCount(topic));
    for (int32_t p = 0; p < partitions; ++p) {
      JARING_ASSIGN_OR_RETURN(int64_t end, log.EndOffset(topic, p));
      total += end;
      assignment.push_back({topic, p, 0});
    }
  }
  JARING_ASSIGN_OR_RETURN(std::unique_ptr<eventlog::Reader> reader, log.NewReader());
  JARING_RETURN_IF_ERROR(reader->Assign(assignment));
  int64_t read = 0;
  while (read < total) {
    JARING_ASSIGN_OR_RETURN(std::vector<eventlog::StoredRecord> recs, reader->Poll(4096, absl::Seconds(1)));
    if (recs.empty()) return absl::InternalError("raw read stalled");
    read += static_cast<int64_t>(recs.size());
  }
  return std::make_pair(read, SecondsSince(t));
}

}  // namespace

int AuditBench(const AuditBenchFlags& flags) {
  absl::StatusOr<Workspace> workspace = OpenWorkspace("audit", flags.dir);
  if (!workspace.ok()) {
    if (!absl::IsFailedPrecondition(workspace.status())) return Fail(workspace.status(), "open log");
    std::fprintf(stderr, "jaring-bench audit: %s\n", std::string(workspace.status().message()).c_str());
    return 2;
  }
  const bool own_dir = workspace->owned;
  const std::filesystem::path dir = workspace->dir;
  std::unique_ptr<eventlog::EventLog> log = std::move(workspace->log);
  auto rules = rules::LoadRuleSet(flags.rules.empty() ? std::filesystem::path(JARING_RULES_DIR) / "2026.1"
                                                      : std::filesystem::path(flags.rules));
  if (!rules.ok()) return Fail(rules.status(), "rules");

  // 1. The registry (synthetic cards), one DTSEN assessment per family and
  // `life_per_family - 1` reassessments spread over the families.
  SyntheticPopulation synth(flags.families, flags.seed);
  std::mt19937_64 rng(flags.seed + 1);
  std::vector<v1::Envelope> registrations;
  registrations.reserve(static_cast<size_t>(flags.families));
  std::vector<eventlog::Record> batch;
  int64_t population_events = 0;
  auto flush = [&]() -> absl::Status {
    if (batch.empty()) return absl::OkStatus();
    JARING_RETURN_IF_ERROR(log->Append(events::kPopulationTopic, batch).status());
    population_events += static_cast<int64_t>(batch.size());
    batch.clear();
    return absl::OkStatus();
  };
  const absl::Time start = absl::Now() - absl::Hours(72);
  int64_t seq = 0;
  auto assessment = [&](const v1::Envelope& reg, int decile, const std::string& round) {
    v1::Envelope a;
    a.set_event_id(events::DeterministicId("bench-assess", {absl::StrCat(seq++)}));
    a.set_key(reg.key());
    a.set_region_code(reg.region_code());
    a.set_source(v1::SOURCE_BPS_DTSEN);
    *a.mutable_occurred_at() = events::ToProtoTime(start + absl::Minutes(seq % 1000));
    *a.mutable_recorded_at() = events::ToProtoTime(start + absl::Minutes(seq % 1000));
    a.mutable_welfare_assessed()->set_round(round);
    a.mutable_welfare_assessed()->set_decile(decile);
    events::StampType(a);
    return events::ToRecord(a);
  };
  for (int64_t i = 0; i < flags.families; ++i) {
    v1::Envelope reg = synth.Next();
    *reg.mutable_occurred_at() = events::ToProtoTime(start - absl::Hours(24 * 365));
    *reg.mutable_recorded_at() = events::ToProtoTime(start);
    batch.push_back(events::ToRecord(reg));
    batch.push_back(assessment(reg, rng() % 2 == 0 ? 1 + static_cast<int>(rng() % 4) : 1 + static_cast<int>(rng() % 10),
                               "2026-Q3"));
    registrations.push_back(std::move(reg));
    if (batch.size() >= 10000) {
      if (auto st = flush(); !st.ok()) return Fail(st, "append");
    }
  }
  for (int64_t i = 0; i < flags.families * (flags.life_per_family - 1); ++i) {
    const v1::Envelope& reg = registrations[rng() % registrations.size()];
    batch.push_back(assessment(reg, 1 + static_cast<int>(rng() % 10), "2026-Q3"));
    if (batch.size() >= 10000) {
      if (auto st = flush(); !st.ok()) return Fail(st, "append");
    }
  }
  if (auto st = flush(); !st.ok()) return Fail(st, "append");

  // Decisions, then a BPNT cycle of the current two months, all paid.
  ManualClock clock(absl::Now());
  auto pop = population::PopulationServiceImpl::Create(log.get(), {.store_dir = (dir / "population").string(),
                                                                   .clock = &clock});
  if (!pop.ok()) return Fail(pop.status(), "open population");
  auto elig = eligibility::EligibilityServiceImpl::Create(
      log.get(), {.store_dir = (dir / "eligibility").string(), .clock = &clock, .engine_interval = absl::ZeroDuration()});
  if (!elig.ok()) return Fail(elig.status(), "open eligibility");
  v1::PublishRuleSetRequest pr;
  *pr.mutable_rule_set() = rules->rules;
  if (auto st = (*elig)->PublishRuleSet(pr).status(); !st.ok()) return Fail(st, "publish");
  if (auto st = (*elig)->engine().Settle(); !st.ok()) return Fail(st, "settle");
  auto ledger = ledger_service::LedgerServiceImpl::Create(
      log.get(), {.store_dir = (dir / "ledger").string(), .clock = &clock, .scan_interval = absl::ZeroDuration()});
  if (!ledger.ok()) return Fail(ledger.status(), "open ledger");
  const absl::CivilDay today = WibDay(clock.Now());
  const int first = (today.month() - 1) / 2 * 2 + 1;
  const std::string period = absl::StrFormat("%04d-%02d/%02d", today.year(), first, first + 1);
  v1::AllocateBudgetRequest budget;
  budget.set_request_id("bench");
  budget.set_program("BPNT");
  budget.set_region_prefix("52.71");
  budget.set_period(period);
  budget.set_amount(flags.families * 400000);
  if (auto st = (*ledger)->AllocateBudget(budget).status(); !st.ok()) return Fail(st, "budget");
  v1::OpenCycleRequest open;
  open.set_program("BPNT");
  open.set_period(period);
  open.set_region_prefix("52.71");
  *open.mutable_cutoff() = events::ToProtoTime(clock.Now());
  open.set_channel(v1::PAYMENT_CHANNEL_BANK);
  auto cycle = (*ledger)->OpenCycle(open);
  if (!cycle.ok()) return Fail(cycle.status(), "open cycle");
  v1::ExportInstructionsRequest ex;
  ex.set_cycle_id(cycle->cycle_id());
  auto exported = (*ledger)->ExportInstructions(ex);
  if (!exported.ok()) return Fail(exported.status(), "export");
  std::vector<ledger::StatementLine> lines;
  for (const auto& l : ledger::ParseInstructions(exported->csv).lines) {
    ledger::StatementLine s;
    s.reference = l.instruction.reference;
    s.amount = l.instruction.amount;
    s.channel_reference = absl::StrCat("B-", lines.size());
    s.settled_on = today;
    lines.push_back(std::move(s));
  }
  if (auto st = (*ledger)->ImportStatement(cycle->cycle_id(), ledger::WriteStatement(lines), "bench").status(); !st.ok()) {
    return Fail(st, "statement");
  }
  // One family in a hundred: every member dies before the cutoff,
  // reported after it.
  clock.Advance(absl::Hours(24));
  int64_t deaths = 0;
  for (size_t i = 0; i < registrations.size(); i += 100) {
    const v1::Envelope& reg = registrations[i];
    for (const v1::Member& m : reg.family_registered().members()) {
      v1::Envelope d;
      d.set_event_id(events::DeterministicId("bench-death", {m.nik()}));
      d.set_key(reg.key());
      d.set_region_code(reg.region_code());
      *d.mutable_occurred_at() = events::ToProtoTime(clock.Now() - absl::Hours(72));
      *d.mutable_recorded_at() = events::ToProtoTime(clock.Now());
      v1::DeathRecorded* dr = d.mutable_death_recorded();
      dr->set_nik(m.nik());
      const absl::CivilDay day = WibDay(clock.Now() - absl::Hours(72));
      dr->mutable_date_of_death()->set_year(static_cast<int32_t>(day.year()));
      dr->mutable_date_of_death()->set_month(day.month());
      dr->mutable_date_of_death()->set_day(day.day());
      events::StampType(d);
      batch.push_back(events::ToRecord(d));
      ++deaths;
    }
  }
  if (auto st = flush(); !st.ok()) return Fail(st, "append deaths");
  for (auto* p : {&(*pop)->projection(), &(*elig)->projection(), &(*ledger)->projection()}) {
    if (auto st = p->CatchUp(); !st.ok()) return Fail(st, "catch up");
  }

  nlohmann::json out;
  out["families"] = flags.families;
  out["population_events"] = population_events;
  out["deaths"] = deaths;
  auto row = [&](const std::string& name, int64_t items, double seconds, int64_t raw_items, double raw_seconds) {
    out["phases"][name] = {{"items", items},
                           {"seconds", seconds},
                           {"per_second", seconds > 0 ? items / seconds : 0},
                           {"raw_items", raw_items},
                           {"raw_per_second", raw_seconds > 0 ? raw_items / raw_seconds : 0},
                           {"ratio", raw_seconds > 0 && seconds > 0 ? (items / seconds) / (raw_items / raw_seconds) : 0}};
  };

  // 2. Replay as of now: each store built fresh, beside the live ones.
  projection::Bound bound;
  bound.recorded_at_ms = absl::ToUnixMillis(clock.Now());
  using Build = absl::Status (*)(eventlog::EventLog*, const std::string&, const projection::Bound&, projection::Stats*);
  const std::pair<const char*, Build> builds[] = {
      {"population", &population::PopulationServiceImpl::BuildAsOf},
      {"eligibility", &eligibility::EligibilityServiceImpl::BuildAsOf},
      {"ledger", &ledger_service::LedgerServiceImpl::BuildAsOf},
  };
  const std::vector<std::vector<std::string>> topics = {
      {std::string(events::kPopulationTopic), std::string(events::kAccessTopic)},
      {std::string(events::kPopulationTopic), std::string(events::kRulesTopic), std::string(events::kEligibilityTopic)},
      {std::string(events::kPopulationTopic), std::string(events::kEligibilityTopic), std::string(events::kLedgerTopic)}};
  for (size_t i = 0; i < 3; ++i) {
    auto t = SteadyClock::now();
    projection::Stats stats;
    if (auto st = builds[i].second(log.get(), (dir / "replay" / builds[i].first).string(), bound, &stats); !st.ok()) {
      return Fail(st, "replay");
    }
    const double s = SecondsSince(t);
    auto raw = RawRead(*log, topics[i]);
    if (!raw.ok()) return Fail(raw.status(), "raw read");
    row(absl::StrCat("replay ", builds[i].first), stats.events_applied, s, raw->first, raw->second);
  }

  // 3. The audit over the live stores.
  auto audit = audit::AuditServiceImpl::Create({.population = pop->get(),
                                                .eligibility = elig->get(),
                                                .ledger = ledger->get(),
                                                .export_key = "bench-export-key-0123456789abcdef",
                                                .clock = &clock});
  if (!audit.ok()) return Fail(audit.status(), "audit");
  rocksdb::DB* edb = (*elig)->projection().db();
  rocksdb::DB* ldb = (*ledger)->projection().db();
  rocksdb::DB* pdb = (*pop)->projection().db();
  const auto raw_decisions = RawScan(edb, "v/");
  const auto raw_entitlements = RawScan(ldb, "e/");
  const auto raw_people = RawScan(pdb, "n/");
  int64_t listed = 0, changes = 0, dead = 0, two = 0, cycles_checked = 0;
  {
    v1::ListEligibleOnRequest q;
    q.set_program("BPNT");
    *q.mutable_on() = events::ToProtoTime(clock.Now());
    auto t = SteadyClock::now();
    auto r = (*audit)->ListEligibleOn(q);
    if (!r.ok()) return Fail(r.status(), "eligible on");
    row("audit eligible on a date", raw_decisions.first, SecondsSince(t), raw_decisions.first, raw_decisions.second);
    listed = r->total_families();
  }
  {
    v1::ListEligibilityChangesRequest q;
    *q.mutable_from() = events::ToProtoTime(clock.Now() - absl::Hours(48));
    *q.mutable_to() = events::ToProtoTime(clock.Now());
    auto t = SteadyClock::now();
    auto r = (*audit)->ListEligibilityChanges(q);
    if (!r.ok()) return Fail(r.status(), "changes");
    row("audit entered and left", raw_decisions.first, SecondsSince(t), raw_decisions.first, raw_decisions.second);
    changes = r->changes_size();
  }
  {
    auto t = SteadyClock::now();
    auto r = (*audit)->ListPaymentsWithoutLivingMember(v1::ListPaymentsWithoutLivingMemberRequest());
    if (!r.ok()) return Fail(r.status(), "dead payments");
    row("audit payments without a living member", raw_entitlements.first, SecondsSince(t), raw_entitlements.first,
        raw_entitlements.second);
    dead = r->payments_size();
  }
  {
    auto t = SteadyClock::now();
    auto r = (*audit)->ListCycleDiscrepancies(v1::ListCycleDiscrepanciesRequest());
    if (!r.ok()) return Fail(r.status(), "cycles");
    row("audit cycle totals", raw_entitlements.first, SecondsSince(t), raw_entitlements.first,
        raw_entitlements.second);
    cycles_checked = r->cycles_checked();
  }
  {
    auto t = SteadyClock::now();
    auto r = (*audit)->ListPeopleInTwoPlaces(v1::ListPeopleInTwoPlacesRequest());
    if (!r.ok()) return Fail(r.status(), "people");
    row("audit people in two places", raw_people.first, SecondsSince(t), raw_people.first, raw_people.second);
    two = r->in_two_families();
  }
  int64_t checked = 0;
  {
    // 4. Re-evaluation with today's knowledge, one district.
    v1::ListEligibleOnRequest q;
    q.set_program("BPNT");
    *q.mutable_on() = events::ToProtoTime(clock.Now());
    q.set_region_prefix("52.71.01");
    q.set_check_current_knowledge(true);
    auto t = SteadyClock::now();
    auto r = (*audit)->ListEligibleOn(q);
    if (!r.ok()) return Fail(r.status(), "eligible on, checked");
    checked = r->total_families();
    row("audit eligible on a date, re-checked", checked, SecondsSince(t), 0, 0);
  }
  out["listed"] = listed;
  out["changes"] = changes;
  out["payments_without_living_member"] = dead;
  out["people_in_two_families"] = two;
  out["cycles_checked"] = cycles_checked;
  out["rechecked"] = checked;

  audit->reset();
  ledger->reset();
  elig->reset();
  pop->reset();
  log.reset();
  if (own_dir) std::filesystem::remove_all(dir);

  if (flags.json) {
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("jaring-bench audit: %lld families, %lld population events, %lld listed for BPNT, %lld payments to "
              "families with no living member, %lld entered/left\n\n",
              static_cast<long long>(flags.families), static_cast<long long>(population_events),
              static_cast<long long>(listed), static_cast<long long>(dead), static_cast<long long>(changes));
  std::printf("%-42s %12s %9s %14s %14s %7s\n", "phase", "items", "seconds", "items/s", "raw items/s", "ratio");
  for (const auto& [name, p] : out["phases"].items()) {
    std::printf("%-42s %12lld %9.2f %14.0f %14.0f %7.2f\n", name.c_str(), static_cast<long long>(p["items"].get<int64_t>()),
                p["seconds"].get<double>(), p["per_second"].get<double>(), p["raw_per_second"].get<double>(),
                p["ratio"].get<double>());
  }
  std::printf("\nraw: replay rows read the same topics record by record without decoding; audit rows iterate the "
              "same store keys with a plain RocksDB iterator.\n");
  return 0;
}

}  // namespace jaring::bench
