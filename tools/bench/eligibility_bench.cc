#include "tools/bench/eligibility_bench.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/base/clock.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/events/envelope.h"
#include "libs/events/topics.h"
#include "libs/rules/rules.h"
#include "nlohmann/json.hpp"
#include "services/eligibility/service.h"
#include "tools/bench/percentile.h"
#include "tools/bench/synthetic.h"

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
  const bool own_dir = flags.dir.empty();
  const std::filesystem::path dir =
      own_dir ? std::filesystem::temp_directory_path() / absl::StrCat("jaring-bench-elig-", getpid())
              : std::filesystem::path(flags.dir);
  if (std::filesystem::exists(dir) && !std::filesystem::is_empty(dir)) {
    std::fprintf(stderr, "jaring-bench eligibility: %s exists and is not empty\n", dir.c_str());
    return 2;
  }
  std::filesystem::create_directories(dir);
  auto opened = eventlog::OpenEmbeddedLog({.dir = (dir / "log").string()});
  if (!opened.ok()) return Fail(opened.status(), "open log");
  std::unique_ptr<eventlog::EventLog> log = std::move(opened).value();
  for (const auto& t : events::kDefaultTopics) {
    if (absl::Status st = log->CreateTopic(std::string(t.name), t.partitions); !st.ok()) return Fail(st, "topic");
  }
  auto rules = rules::LoadRuleSet(flags.rules.empty() ? std::filesystem::path(JARING_RULES_DIR) / "2026.1"
                                                      : std::filesystem::path(flags.rules));
  if (!rules.ok()) return Fail(rules.status(), "rules");

  // 1. The population: registrations, then two events per family of life.
  SyntheticPopulation synth(flags.families, flags.seed);
  std::vector<eventlog::Record> batch;
  int64_t population_events = 0;
  std::vector<std::string> kks;
  kks.reserve(static_cast<size_t>(flags.families));
  for (int64_t i = 0; i < flags.families * 3; ++i) {
    v1::Envelope e = synth.Next();
    if (e.has_family_registered()) kks.push_back(e.key());
    batch.push_back(events::ToRecord(e));
    if (batch.size() == 5000) {
      if (auto st = log->Append(events::kPopulationTopic, batch).status(); !st.ok()) return Fail(st, "append");
      population_events += static_cast<int64_t>(batch.size());
      batch.clear();
    }
  }
  if (auto st = log->Append(events::kPopulationTopic, batch).status(); !st.ok()) return Fail(st, "append");
  population_events += static_cast<int64_t>(batch.size());

  // 2. Catch-up from an empty store.
  auto t = SteadyClock::now();
  auto created = eligibility::EligibilityServiceImpl::Create(
      log.get(), {.store_dir = (dir / "eligibility").string(), .engine_interval = absl::ZeroDuration()});
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

  // 4. Event to decision, one at a time, with the engine on its own thread.
  svc->engine().Start(absl::Milliseconds(20));
  std::mt19937_64 rng(flags.seed);
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
    const absl::Time now = absl::Now();
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
    std::printf("  full re-evaluation through the service %10.0f families/s (%.1f s, %lld decisions appended)\n",
                families_per_s, reeval_s, static_cast<long long>(decisions));
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
