// jaring-bench: Jaring's benchmarks. Each prints figures (or --json) and
// measures the raw limit in the same run, side by side.
//
//   jaring-bench replay [--events N] [--families F] [--json]
//   jaring-bench population [--families N] [--months M] [--clients C] [--json]
//   jaring-bench reeval [--families N] [--seed S] [--rules DIR] [--json]
//   jaring-bench eligibility [--families N] [--latency-events N] [--json]
//   jaring-bench ledger [--families N] [--clients C] [--json]
//   jaring-bench audit [--families N] [--json]
#include <cstdio>
#include <filesystem>
#include <random>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/events/envelope.h"
#include "libs/events/topics.h"
#include "libs/projection/projection.h"
#include "nlohmann/json.hpp"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "tools/bench/family_fold.h"
#include "tools/bench/raw_limits.h"
#include "tools/bench/population_bench.h"
#include "tools/bench/eligibility_bench.h"
#include "tools/bench/ledger_bench.h"
#include "tools/bench/audit_bench.h"
#include "tools/bench/reeval_bench.h"
#include "tools/bench/synthetic.h"

namespace jaring::bench {
namespace {

struct ReplayFlags {
  int64_t events = 200000;
  int64_t families = 0;  // 0: events / 10
  uint64_t seed = 42;
  size_t append_batch = 1000;
  size_t apply_batch = 10000000;  // the byte bound decides
  size_t apply_mib = 256;
  double backdated_percent = 100;
  bool log_order_fold = false;
  std::string dir;
  bool json = false;
};

double Seconds(absl::Time start) { return absl::ToDoubleSeconds(absl::Now() - start); }

uint64_t DirBytes(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) total += e.file_size();
  }
  return total;
}

int Replay(ReplayFlags f) {
  if (f.events <= 0 || f.append_batch == 0 || f.apply_batch == 0) {
    std::fprintf(stderr, "jaring-bench replay: --events, --append-batch and --apply-batch must be positive\n");
    return 2;
  }
  if (f.families <= 0) f.families = std::max<int64_t>(1, f.events / 10);
  const bool own_dir = f.dir.empty();
  if (!own_dir && std::filesystem::exists(f.dir)) {
    std::fprintf(stderr, "jaring-bench replay: --dir %s exists; give a new directory\n", f.dir.c_str());
    return 2;
  }
  if (own_dir) {
    std::string tmpl = std::filesystem::temp_directory_path().string() + "/jaring-bench-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) return 1;
    f.dir = tmpl;
  }
  const std::string topic(events::kPopulationTopic);
  auto log_or = eventlog::OpenEmbeddedLog({.dir = f.dir + "/log"});
  if (!log_or.ok()) {
    std::fprintf(stderr, "%s\n", log_or.status().ToString().c_str());
    return 1;
  }
  auto log = std::move(log_or).value();
  for (const auto& [name, partitions] : {std::pair<std::string, int>{topic, 8}, {std::string(events::kAccessTopic), 4}}) {
    if (auto st = log->CreateTopic(name, partitions); !st.ok()) {
      std::fprintf(stderr, "%s\n", st.ToString().c_str());
      return 1;
    }
  }

  // 1. Append N events (durable group commit, one fsync per batch).
  SyntheticPopulation synth(f.families, f.seed, f.backdated_percent / 100.0);
  double append_s = 0;
  uint64_t event_bytes = 0;
  std::vector<eventlog::Record> batch;
  batch.reserve(f.append_batch);
  for (int64_t i = 0; i < f.events;) {
    batch.clear();
    for (; i < f.events && batch.size() < f.append_batch; ++i) {
      batch.push_back(events::ToRecord(synth.Next()));
      event_bytes += batch.back().value.size();
    }
    const absl::Time t = absl::Now();
    auto pos = log->Append(topic, batch);
    append_s += Seconds(t);
    if (!pos.ok()) {
      std::fprintf(stderr, "append: %s\n", pos.status().ToString().c_str());
      return 1;
    }
  }

  // 2. Rebuild the family projection from the log into a fresh store.
  FamilyFold fold(f.log_order_fold);
  projection::Options opts;
  opts.dir = f.dir + "/rebuild";
  opts.topics = {topic};
  opts.max_batch_events = f.apply_batch;
  opts.max_batch_bytes = f.apply_mib << 20;
  absl::Time t = absl::Now();
  if (auto st = projection::Rebuild(log.get(), &fold, opts); !st.ok()) {
    std::fprintf(stderr, "rebuild: %s\n", st.ToString().c_str());
    return 1;
  }
  const double replay_s = Seconds(t);

  // Typical family record size, for the raw comparison.
  uint64_t value_bytes = 0, values = 0;
  {
    auto dump = projection::DumpStore(opts.dir);
    if (dump.ok()) {
      for (const auto& [k, v] : *dump) {
        if (k.rfind("fam/", 0) == 0) {
          value_bytes += v.size();
          ++values;
        }
      }
    }
  }
  const size_t value_size = values ? value_bytes / values : 300;

  // 3. The raw limit: plain RocksDB WriteBatch puts, one per event, of
  //    comparable keys (family keys in random order) and values; once with
  //    RocksDB's defaults (WAL on, no fsync), once without the WAL as the
  //    rebuild writes.
  auto raw_s = RawPuts(f.dir + "/raw", true, f.events, f.families, value_size, f.append_batch, f.seed, "fam/");
  auto raw_nowal_s =
      RawPuts(f.dir + "/raw-nowal", false, f.events, f.families, value_size, f.append_batch, f.seed, "fam/");
  if (!raw_s.ok() || !raw_nowal_s.ok()) {
    std::fprintf(stderr, "raw puts: %s\n", (raw_s.ok() ? raw_nowal_s.status() : raw_s.status()).ToString().c_str());
    return 1;
  }

  const double events_per_s = static_cast<double>(f.events) / replay_s;
  const double raw_per_s = static_cast<double>(f.events) / *raw_s;
  const double raw_nowal_per_s = static_cast<double>(f.events) / *raw_nowal_s;
  const double append_per_s = static_cast<double>(f.events) / append_s;
  const uint64_t log_bytes = DirBytes(f.dir + "/log");
  if (f.json) {
    nlohmann::json j = {
        {"bench", "replay"},
        {"events", f.events},
        {"families", f.families},
        {"event_bytes_avg", event_bytes / static_cast<uint64_t>(f.events)},
        {"family_record_bytes_avg", value_size},
        {"append_events_per_s", append_per_s},
        {"events_per_s", events_per_s},
        {"raw_puts_per_s", raw_per_s},
        {"raw_puts_nowal_per_s", raw_nowal_per_s},
        {"ratio", events_per_s / raw_per_s},
        {"ratio_nowal", events_per_s / raw_nowal_per_s},
        {"apply_batch_events", f.apply_batch},
        {"apply_batch_mib", f.apply_mib},
        {"replay_seconds", replay_s},
        {"backdated_percent", f.backdated_percent},
        {"fold", f.log_order_fold ? "log order (baseline)" : "event time"},
        {"events_in_order", fold.in_order()},
        {"late_reports", fold.late()},
        {"fold_us_per_in_order_event", fold.in_order() ? fold.in_order_seconds() * 1e6 / static_cast<double>(fold.in_order()) : 0.0},
        {"fold_us_per_late_report", fold.late() ? fold.late_seconds() * 1e6 / static_cast<double>(fold.late()) : 0.0},
        {"log_bytes", log_bytes},
    };
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("replay: %lld events, %lld families (event %llu B, family record %zu B)\n",
                static_cast<long long>(f.events), static_cast<long long>(f.families),
                static_cast<unsigned long long>(event_bytes / static_cast<uint64_t>(f.events)), value_size);
    std::printf("  append to embedded log (fsync per %zu)  %12.0f events/s\n", f.append_batch, append_per_s);
    std::printf("  rebuild projection from the log       %12.0f events/s  (%.2f s)\n", events_per_s, replay_s);
    std::printf("  events folded in order / late reports %12lld %lld (%.0f%% backdated)\n",
                static_cast<long long>(fold.in_order()), static_cast<long long>(fold.late()), f.backdated_percent);
    std::printf("  fold per event in order / per late    %12.2f %.2f us\n",
                fold.in_order() ? fold.in_order_seconds() * 1e6 / static_cast<double>(fold.in_order()) : 0.0,
                fold.late() ? fold.late_seconds() * 1e6 / static_cast<double>(fold.late()) : 0.0);
    std::printf("  raw RocksDB WriteBatch puts (WAL)     %12.0f puts/s\n", raw_per_s);
    std::printf("  raw RocksDB WriteBatch puts (no WAL)  %12.0f puts/s\n", raw_nowal_per_s);
    std::printf("  ratio rebuild / raw (WAL, no WAL)     %12.2f %6.2f\n", events_per_s / raw_per_s,
                events_per_s / raw_nowal_per_s);
    std::printf("  log on disk                           %12.1f MiB\n", static_cast<double>(log_bytes) / (1 << 20));
  }
  log.reset();
  if (own_dir) std::filesystem::remove_all(f.dir);
  return 0;
}

}  // namespace
}  // namespace jaring::bench

int main(int argc, char** argv) {
  CLI::App app{"jaring-bench: Jaring's benchmarks (figures, or --json)"};
  app.require_subcommand(1);
  jaring::bench::ReplayFlags replay;
  CLI::App* r = app.add_subcommand("replay", "Append population events to the embedded log, rebuild a projection "
                                             "from them, and compare with raw RocksDB puts");
  r->add_option("--events", replay.events, "Events to append and replay")->capture_default_str();
  r->add_option("--families", replay.families, "Families (default events/10)");
  r->add_option("--seed", replay.seed, "Generator seed")->capture_default_str();
  r->add_option("--append-batch", replay.append_batch, "Records per Append")->capture_default_str();
  r->add_option("--apply-batch", replay.apply_batch, "Events per projection batch")->capture_default_str();
  r->add_option("--apply-mib", replay.apply_mib, "Memory bound of one projection batch, MiB")->capture_default_str();
  r->add_option("--backdated", replay.backdated_percent,
                "Percent of events reported up to 30 days after they happened (late reports re-fold their family)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100.0));
  r->add_flag("--log-order-fold", replay.log_order_fold,
             "Baseline: fold in log order without timelines, as projections did before the event-time fold");
  r->add_option("--dir", replay.dir, "Working directory, must not exist (default: a temporary one, removed)");
  r->add_flag("--json", replay.json, "Print JSON");

  jaring::bench::PopulationFlags pop;
  CLI::App* p = app.add_subcommand("population", "The population service through gRPC: import, life commands under "
                                                 "load, projection rebuild, with raw RocksDB and log limits");
  p->add_option("--region", pop.region, "Regency/city code of the synthetic region")->capture_default_str();
  p->add_option("--families", pop.families, "Family cards in the registry extract")->capture_default_str();
  p->add_option("--months", pop.months, "Months of life after the extract")->capture_default_str();
  p->add_option("--seed", pop.seed, "Generator seed")->capture_default_str();
  p->add_option("--clients", pop.clients, "Concurrent client threads for the life commands")->capture_default_str();
  p->add_option("--max-commands", pop.max_commands, "Send only the first N life commands (0: all)")
      ->capture_default_str();
  p->add_option("--raw-appends", pop.raw_appends, "Single-record Appends for the raw latency")->capture_default_str();
  p->add_option("--raw-batch", pop.raw_batch, "Puts per raw WriteBatch")->capture_default_str();
  p->add_option("--deadline", pop.command_deadline_s, "Deadline of one life command, seconds")->capture_default_str();
  p->add_option("--dir", pop.dir, "Working directory, must not exist (default: a temporary one, removed)");
  p->add_flag("--json", pop.json, "Print JSON");

  jaring::bench::ReevalFlags reeval;
  CLI::App* e = app.add_subcommand("reeval", "Re-evaluate every family under a rule set: the reference evaluator, "
                                             "the compact path in memory and through RocksDB, and raw iteration");
  e->add_option("--families", reeval.families, "Families to generate and re-evaluate")->capture_default_str();
  e->add_option("--reference-families", reeval.reference_families,
                "Families the reference evaluator runs over (the first ones)")
      ->capture_default_str();
  e->add_option("--seed", reeval.seed, "Generator seed")->capture_default_str();
  e->add_option("--rules", reeval.rules, "Rule set directory (default: rules/2026.1 of the source tree)");
  e->add_option("--dir", reeval.dir, "Working directory, must not exist (default: a temporary one, removed)");
  e->add_flag("--json", reeval.json, "Print JSON");

  jaring::bench::EligibilityBenchFlags elig;
  CLI::App* el = app.add_subcommand("eligibility", "The eligibility service in process: catch-up, full "
                                                   "re-evaluations through the engine, event-to-decision delay");
  el->add_option("--families", elig.families, "Synthetic families")->capture_default_str();
  el->add_option("--latency-events", elig.latency_events, "Reassessments timed one at a time")->capture_default_str();
  el->add_option("--seed", elig.seed, "Generator seed")->capture_default_str();
  el->add_option("--rules", elig.rules, "Rule set directory (default: rules/2026.1 of the source tree)");
  el->add_option("--dir", elig.dir, "Working directory, must not exist (default: a temporary one, removed)");
  el->add_flag("--json", elig.json, "Print JSON");

  jaring::bench::LedgerBenchFlags ledger;
  CLI::App* lg = app.add_subcommand("ledger", "The ledger in process: small commands with group commit, and a whole "
                                              "cycle (open, export, statement, close) for every family");
  lg->add_option("--families", ledger.families, "Families in the cycle")->capture_default_str();
  lg->add_option("--clients", ledger.clients, "Threads sending small commands")->capture_default_str();
  lg->add_option("--commands", ledger.commands, "Small commands per thread")->capture_default_str();
  lg->add_option("--dir", ledger.dir, "Working directory, must not exist (default: a temporary one, removed)");
  lg->add_flag("--json", ledger.json, "Print JSON");
  jaring::bench::AuditBenchFlags audit;
  CLI::App* au = app.add_subcommand("audit", "Oversight: replay of each store as of now, and the audit's questions "
                                             "over the live stores, beside raw log reads and store scans");
  au->add_option("--families", audit.families, "Synthetic families")->capture_default_str();
  au->add_option("--life", audit.life_per_family, "Assessments per family")->capture_default_str();
  au->add_option("--seed", audit.seed, "Generator seed")->capture_default_str();
  au->add_option("--rules", audit.rules, "Rule set directory (default: rules/2026.1 of the source tree)");
  au->add_option("--dir", audit.dir, "Working directory, must not exist (default: a temporary one, removed)");
  au->add_flag("--json", audit.json, "Print JSON");
  CLI11_PARSE(app, argc, argv);
  if (*au) return jaring::bench::AuditBench(audit);
  if (*r) return jaring::bench::Replay(replay);
  if (*p) return jaring::bench::PopulationBench(pop);
  if (*e) return jaring::bench::ReevalBench(reeval);
  if (*el) return jaring::bench::EligibilityBench(elig);
  if (*lg) return jaring::bench::LedgerBench(ledger);
  return 0;
}
