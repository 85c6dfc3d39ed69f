#include "tools/bench/eligibility_bench.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "libs/base/clock.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/events/envelope.h"
#include "libs/events/topics.h"
#include "libs/rules/rules.h"
#include "nlohmann/json.hpp"
#include "services/eligibility/service.h"
#include "tools/bench/percentile.h"
#include "tools/bench/workspace.h"

#ifndef JARING_RULES_DIR
#define JARING_RULES_DIR "rules"
#endif

namespace jaring::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

double SecondsSince(SteadyClock::time_point t) {
  return std::chrono::duration<double>(SteadyClock::now() - t).count();
}
double MillisSince(SteadyClock::time_point t) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - t).count();
}

int Fail(const absl::Status& st, const char* what) {
  std::fprintf(stderr, "jaring-bench eligibility: %s: %s\n", what, st.ToString().c_str());
  return 1;
}

int64_t TopicTotal(eventlog::EventLog& log, std::string_view topic, int partitions) {
  int64_t total = 0;
  for (int p = 0; p < partitions; ++p) total += log.EndOffset(topic, p).value_or(0);
  return total;
}

}  // namespace

int EligibilityBench(const EligibilityBenchFlags& flags) {
  absl::StatusOr<Workspace> workspace = OpenWorkspace("elig", flags.dir);
  if (!workspace.ok()) {
    if (!absl::IsFailedPrecondition(workspace.status())) return Fail(workspace.status(), "open log");
    std::fprintf(stderr, "jaring-bench eligibility: %s\n", std::string(workspace.status().message()).c_str());
    return 2;
  }
  const bool own_dir = workspace->owned;
  const std::filesystem::path dir = workspace->dir;
  std::unique_ptr<eventlog::EventLog> log = std::move(workspace->log);
  auto rules = rules::LoadRuleSet(flags.rules.empty() ? std::filesystem::path(JARING_RULES_DIR) / "2026.1"
                                                      : std::filesystem::path(flags.rules));
  if (!rules.ok()) return Fail(rules.status(), "rules");

  // 1. The population: one registration (a realistic card: parents, up to
  // four children of school age or younger, sometimes a grandparent, a
  // pregnancy, a severe disability) and one DTSEN assessment per family.
  std::mt19937_64 gen(flags.seed);
  auto pick = [&](int lo, int hi) { return lo + static_cast<int>(gen() % static_cast<uint64_t>(hi - lo + 1)); };
  std::vector<eventlog::Record> batch;
  int64_t population_events = 0;
  std::vector<std::string> kks;
  kks.reserve(static_cast<size_t>(flags.families));
  const absl::Time registered = absl::Now() - absl::Hours(48);
  for (int64_t i = 0; i < flags.families; ++i) {
    const std::string kk = absl::StrFormat("5271%012d", i + 1);
    const std::string region = absl::StrFormat("52.71.%02d.%04d", 1 + i % 6, 1001 + i % 40);
    v1::Envelope reg;
    reg.set_event_id(absl::StrCat("reg-", i));
    reg.set_key(kk);
    reg.set_region_code(region);
    *reg.mutable_occurred_at() = events::ToProtoTime(registered);
    *reg.mutable_recorded_at() = events::ToProtoTime(registered);
    v1::FamilyRegistered* r = reg.mutable_family_registered();
    r->set_kk_number(kk);
    r->set_region_code(region);
    int serial = 0;
    auto person = [&](int year, v1::Relationship rel) {
      v1::Member* m = r->add_members();
      m->set_nik(absl::StrFormat("%010d%06d", i + 1, ++serial));
      m->set_full_name("Warga");
      m->mutable_birth_date()->set_year(year);
      m->mutable_birth_date()->set_month(pick(1, 12));
      m->mutable_birth_date()->set_day(pick(1, 28));
      m->set_relationship(rel);
      return m;
    };
    r->set_head_nik(person(pick(1975, 1992), v1::RELATIONSHIP_HEAD)->nik());
    if (pick(1, 10) <= 8) {
      v1::Member* wife = person(pick(1980, 1995), v1::RELATIONSHIP_SPOUSE);
      if (pick(1, 100) <= 10) {
        wife->mutable_attributes()->set_pregnant(true);
        wife->mutable_attributes()->set_pregnancy_order(pick(1, 3));
      }
    }
    for (int c = pick(0, 4); c > 0; --c) {
      const int year = pick(2008, 2025);
      v1::Member* child = person(year, v1::RELATIONSHIP_CHILD);
      const int age = 2026 - year;
      const v1::SchoolLevel level = age < 4    ? v1::SCHOOL_LEVEL_NONE
                                    : age < 6  ? v1::SCHOOL_LEVEL_EARLY_CHILDHOOD
                                    : age < 12 ? v1::SCHOOL_LEVEL_PRIMARY
                                    : age < 15 ? v1::SCHOOL_LEVEL_JUNIOR_SECONDARY
                                               : v1::SCHOOL_LEVEL_SENIOR_SECONDARY;
      child->mutable_attributes()->set_school_level(level);
      child->mutable_attributes()->set_school_enrolled(level != v1::SCHOOL_LEVEL_NONE && pick(1, 100) <= 85);
    }
    if (pick(1, 100) <= 15) person(pick(1940, 1960), v1::RELATIONSHIP_PARENT);
    if (pick(1, 100) <= 5) {
      r->mutable_members(r->members_size() - 1)->mutable_attributes()->set_disability(v1::DISABILITY_SEVERE);
    }
    events::StampType(reg);
    batch.push_back(events::ToRecord(reg));
    v1::Envelope a = reg;
    a.set_event_id(absl::StrCat("assess-", i));
    a.set_source(v1::SOURCE_BPS_DTSEN);
    *a.mutable_occurred_at() = events::ToProtoTime(registered + absl::Hours(1));
    *a.mutable_recorded_at() = events::ToProtoTime(registered + absl::Hours(1));
    a.mutable_welfare_assessed()->set_round("2026-Q3");
    // Poorer deciles more often: 1-4 for about half the families.
    a.mutable_welfare_assessed()->set_decile(pick(1, 10) <= 5 ? pick(1, 4) : pick(1, 10));
    events::StampType(a);
    batch.push_back(events::ToRecord(a));
    kks.push_back(kk);
    if (batch.size() >= 10000) {
      if (auto st = log->Append(events::kPopulationTopic, batch).status(); !st.ok()) return Fail(st, "append");
      population_events += static_cast<int64_t>(batch.size());
      batch.clear();
    }
  }
  if (auto st = log->Append(events::kPopulationTopic, batch).status(); !st.ok()) return Fail(st, "append");
  population_events += static_cast<int64_t>(batch.size());

  // 2. Catch-up from an empty store. The service's clock is a manual one
  // (set to now) so that step 3 can move the date.
  ManualClock clock(absl::Now());
  auto t = SteadyClock::now();
  auto created = eligibility::EligibilityServiceImpl::Create(
      log.get(),
      {.store_dir = (dir / "eligibility").string(), .clock = &clock, .engine_interval = absl::ZeroDuration()});
  if (!created.ok()) return Fail(created.status(), "open eligibility");
  std::unique_ptr<eligibility::EligibilityServiceImpl> svc = std::move(created).value();
  const double catchup_s = SecondsSince(t);

  // 3. Full re-evaluation: publish, then settle by hand.
  v1::PublishRuleSetRequest pr;
  *pr.mutable_rule_set() = rules->rules;
  if (auto st = svc->PublishRuleSet(pr).status(); !st.ok()) return Fail(st, "publish");
  t = SteadyClock::now();
  if (auto st = svc->engine().Settle(); !st.ok()) return Fail(st, "settle");
  const double reeval_s = SecondsSince(t);
  const int64_t decisions = TopicTotal(*log, events::kEligibilityTopic, 8);

  // 3b. The next day: every family re-evaluated (ages move on), few change.
  clock.Advance(absl::Hours(24));
  t = SteadyClock::now();
  if (auto st = svc->engine().Settle(); !st.ok()) return Fail(st, "settle");
  const double date_s = SecondsSince(t);
  const int64_t date_decisions = TopicTotal(*log, events::kEligibilityTopic, 8) - decisions;

  // 3c. A stricter rule set takes effect: PKH up to decile 3.
  v1::RuleSet stricter = rules->rules;
  stricter.set_version(absl::StrCat(stricter.version(), "-bench"));
  *stricter.mutable_effective_from() = events::ToProtoTime(clock.Now() - absl::Minutes(1));
  for (auto& p : *stricter.mutable_programs()) {
    if (p.has_pkh()) p.mutable_pkh()->set_max_decile(3);
  }
  *pr.mutable_rule_set() = stricter;
  if (auto st = svc->PublishRuleSet(pr).status(); !st.ok()) return Fail(st, "publish");
  t = SteadyClock::now();
  if (auto st = svc->engine().Settle(); !st.ok()) return Fail(st, "settle");
  const double rule_s = SecondsSince(t);
  const int64_t rule_decisions = TopicTotal(*log, events::kEligibilityTopic, 8) - decisions - date_decisions;

  // 4. Event to decision, one at a time, with the engine on its own thread.
  svc->engine().Start(absl::Milliseconds(20));
  std::mt19937_64 rng(flags.seed + 1);
  std::vector<double> latency_ms, append_ms;
  for (int i = 0; i < flags.latency_events; ++i) {
    const std::string& kk = kks[rng() % kks.size()];
    v1::GetDecisionRequest q;
    q.set_kk_number(kk);
    q.set_program("BPNT");
    auto current = svc->GetDecision(q);
    if (!current.ok()) continue;  // e.g. a family whose only member died
    const int decile = current->decision().eligible() ? 9 : 2;  // flips BPNT either way
    v1::Envelope e;
    e.set_event_id(absl::StrCat("bench-assess-", i));
    e.set_key(kk);
    e.set_region_code(current->decision().region_code());
    const absl::Time now = clock.Now();
    *e.mutable_occurred_at() = events::ToProtoTime(now);
    *e.mutable_recorded_at() = events::ToProtoTime(now);
    e.set_source(v1::SOURCE_BPS_DTSEN);
    e.mutable_welfare_assessed()->set_round("2026-Q4");
    e.mutable_welfare_assessed()->set_decile(decile);
    events::StampType(e);
    const eventlog::Record rec = events::ToRecord(e);
    const int64_t before = TopicTotal(*log, events::kEligibilityTopic, 8);
    t = SteadyClock::now();
    if (auto st = log->Append(events::kPopulationTopic, std::span<const eventlog::Record>(&rec, 1)).status();
        !st.ok()) {
      return Fail(st, "append");
    }
    append_ms.push_back(MillisSince(t));
    while (TopicTotal(*log, events::kEligibilityTopic, 8) == before) {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
      if (MillisSince(t) > 30000) return Fail(absl::DeadlineExceededError("no decision after 30 s"), "latency");
    }
    latency_ms.push_back(MillisSince(t));
  }
  svc->engine().Stop();
  std::sort(latency_ms.begin(), latency_ms.end());
  std::sort(append_ms.begin(), append_ms.end());

  const double families_per_s = static_cast<double>(kks.size()) / reeval_s;
  const double catchup_events_per_s = static_cast<double>(population_events) / catchup_s;
  if (flags.json) {
    nlohmann::json j;
    j["families"] = kks.size();
    j["population_events"] = population_events;
    j["catchup_s"] = catchup_s;
    j["catchup_events_per_s"] = catchup_events_per_s;
    j["reevaluation_s"] = reeval_s;
    j["reevaluation_families_per_s"] = families_per_s;
    j["decisions_appended"] = decisions;
    j["date_change"] = {{"seconds", date_s},
                        {"families_per_s", static_cast<double>(kks.size()) / date_s},
                        {"decisions", date_decisions}};
    j["rule_change"] = {{"seconds", rule_s},
                        {"families_per_s", static_cast<double>(kks.size()) / rule_s},
                        {"decisions", rule_decisions}};
    j["event_to_decision_ms"] = {{"samples", latency_ms.size()},
                                 {"p50", Percentile(latency_ms, 0.5)},
                                 {"p99", Percentile(latency_ms, 0.99)},
                                 {"max", latency_ms.empty() ? 0 : latency_ms.back()}};
    j["raw_append_ms"] = {{"p50", Percentile(append_ms, 0.5)}, {"p99", Percentile(append_ms, 0.99)}};
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("eligibility, %zu families, %lld population events (embedded log, this machine)\n", kks.size(),
                static_cast<long long>(population_events));
    std::printf("  catch-up from an empty store           %10.0f events/s  (%.1f s)\n", catchup_events_per_s,
                catchup_s);
    std::printf("  first rule set: every family decided   %10.0f families/s (%.1f s, %lld decisions appended)\n",
                families_per_s, reeval_s, static_cast<long long>(decisions));
    std::printf("  the next day (ages move on)            %10.0f families/s (%.2f s, %lld decisions)\n",
                static_cast<double>(kks.size()) / date_s, date_s, static_cast<long long>(date_decisions));
    std::printf("  a stricter PKH rule takes effect       %10.0f families/s (%.2f s, %lld decisions)\n",
                static_cast<double>(kks.size()) / rule_s, rule_s, static_cast<long long>(rule_decisions));
    std::printf("  event to decision (%zu samples)         p50 %6.2f ms  p99 %6.2f ms  max %6.2f ms\n",
                latency_ms.size(), Percentile(latency_ms, 0.5), Percentile(latency_ms, 0.99),
                latency_ms.empty() ? 0.0 : latency_ms.back());
    std::printf("  raw: one durable append                p50 %6.2f ms  p99 %6.2f ms\n", Percentile(append_ms, 0.5),
                Percentile(append_ms, 0.99));
  }
  svc.reset();
  log.reset();
  if (own_dir) std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace jaring::bench
