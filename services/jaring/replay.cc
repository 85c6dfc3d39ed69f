// jaring replay: every projection rebuilt as of a moment into a directory
// of its own, without touching the live system.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/base/clock.h"
#include "libs/base/log.h"
#include "libs/base/status.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/eventlog/kafka_log.h"
#include "services/appeals/service.h"
#include "services/eligibility/service.h"
#include "services/jaring/commands.h"
#include "services/ledger/service.h"
#include "services/population/service.h"
#include "tools/synth/csv.h"

namespace jaring::server {

absl::StatusOr<absl::Time> ParseInstant(const std::string& flag, const std::string& text, bool end_of_day) {
  if (text.empty()) return absl::InvalidArgumentError(absl::StrCat(flag, ": is required (YYYY-MM-DD or RFC 3339)"));
  if (std::optional<absl::Time> t = synth::ParseInstant(text, end_of_day)) return *t;
  return absl::InvalidArgumentError(
      absl::StrCat(flag, ": ", text, " is neither YYYY-MM-DD nor an RFC 3339 time (2026-03-01T00:00:00+07:00)"));
}

absl::StatusOr<eventlog::KafkaLogOptions> KafkaOptions(const std::string& bootstrap,
                                                       const std::vector<std::string>& settings, int fetch_wait_ms) {
  eventlog::KafkaLogOptions o;
  o.bootstrap = bootstrap;
  o.fetch_wait = absl::Milliseconds(fetch_wait_ms);
  for (const std::string& s : settings) {
    const size_t eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError(absl::StrCat("--kafka-option: ", s, " is not KEY=VALUE"));
    }
    o.extra_config[s.substr(0, eq)] = s.substr(eq + 1);
  }
  return o;
}

absl::Status Replay(const ReplayFlags& flags) {
  JARING_ASSIGN_OR_RETURN(absl::Time as_of, ParseInstant("--as-of", flags.as_of, true));
  if (flags.out.empty()) return absl::InvalidArgumentError("--out: is required (a new directory)");
  const std::filesystem::path out = std::filesystem::absolute(flags.out);
  std::error_code ec;
  if (std::filesystem::exists(out, ec) && !std::filesystem::is_empty(out, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("--out: ", out.string(), " is not empty; a replay writes a fresh directory"));
  }
  if (as_of > absl::Now()) {
    return absl::InvalidArgumentError(absl::StrCat("--as-of: ", flags.as_of, " is in the future"));
  }
  auto wanted = [&](std::string_view name) {
    return flags.services.empty() ||
           std::find_if(flags.services.begin(), flags.services.end(),
                        [&](const std::string& s) { return s == "all" || s == name; }) != flags.services.end();
  };

  // The live log, read-only: an embedded log beside its running owner, or
  // Kafka as a plain reader (no consumer group, nothing committed).
  std::unique_ptr<eventlog::EventLog> log;
  if (flags.kafka.empty()) {
    JARING_ASSIGN_OR_RETURN(
        log, eventlog::OpenEmbeddedLog(
                 {.dir = (std::filesystem::absolute(flags.data_dir) / "log").string(), .read_only = true}));
  } else {
    JARING_ASSIGN_OR_RETURN(eventlog::KafkaLogOptions options, KafkaOptions(flags.kafka, flags.kafka_options, 100));
    JARING_ASSIGN_OR_RETURN(log, eventlog::OpenKafkaLog(options));
  }
  const std::string as_of_text = absl::FormatTime("%Y-%m-%dT%H:%M:%E3S%Ez", as_of, WibTimeZone());
  std::printf("replaying %s as of %s (events recorded at or before it)\ninto %s\n", log->Describe().c_str(),
              as_of_text.c_str(), out.c_str());
  std::fflush(stdout);
  std::filesystem::create_directories(out, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot create ", out.string(), ": ", ec.message()));

  projection::Bound bound;
  bound.recorded_at_ms = absl::ToUnixMillis(as_of);
  using Build = absl::Status (*)(eventlog::EventLog*, const std::string&, const projection::Bound&, projection::Stats*);
  const std::pair<std::string_view, Build> builds[] = {
      {"population", &population::PopulationServiceImpl::BuildAsOf},
      {"eligibility", &eligibility::EligibilityServiceImpl::BuildAsOf},
      {"appeals", &appeals::AppealsServiceImpl::BuildAsOf},
      {"ledger", &ledger_service::LedgerServiceImpl::BuildAsOf},
  };
  nlohmann::json manifest;
  manifest["as_of"] = as_of_text;
  manifest["as_of_ms"] = absl::ToUnixMillis(as_of);
  manifest["source"] = log->Describe();
  manifest["built_at"] = absl::FormatTime(absl::RFC3339_sec, absl::Now(), absl::UTCTimeZone());
  for (const auto& [name, build] : builds) {
    if (!wanted(name)) continue;
    const absl::Time start = absl::Now();
    projection::Stats stats;
    JARING_RETURN_IF_ERROR(build(log.get(), (out / name).string(), bound, &stats));
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
    std::printf("  %-12s %10lld events applied, %8lld recorded later left out  (%.1f s)\n",
                std::string(name).c_str(), static_cast<long long>(stats.events_applied),
                static_cast<long long>(stats.filtered_out), seconds);
    std::fflush(stdout);
    manifest["services"][std::string(name)] = {{"events_applied", stats.events_applied},
                                               {"filtered_out", stats.filtered_out},
                                               {"unknown_skipped", stats.unknown_skipped}};
    log::Info("replay_built", {{"service", name},
                               {"events_applied", std::to_string(stats.events_applied)},
                               {"filtered_out", std::to_string(stats.filtered_out)}});
  }
  {
    // Written last: a directory with REPLAY.json is a finished replay.
    const std::filesystem::path tmp = out / "REPLAY.json.tmp";
    std::ofstream f(tmp);
    f << manifest.dump(2) << "\n";
    f.close();
    if (!f) return absl::UnavailableError(absl::StrCat("cannot write ", tmp.string()));
    std::filesystem::rename(tmp, out / "REPLAY.json", ec);
    if (ec) return absl::UnavailableError(absl::StrCat("cannot write REPLAY.json: ", ec.message()));
  }
  std::printf("\nServe it (reads and audit only; the live system is untouched), with the live system's keys\n"
              "(tokens, audit references: DATA/keys, or --auth-key and --export-key) and its TLS flags:\n"
              "  jaring serve --replay %s --data %s --listen 127.0.0.1:7710 [--tls-cert ... --tls-key ...]\n"
              "then ask it, e.g.:\n"
              "  jaringctl --target 127.0.0.1:7710 audit source\n"
              "  jaringctl --target 127.0.0.1:7710 audit report --on %s --out audit-report\n",
              out.c_str(), std::filesystem::absolute(flags.data_dir).c_str(),
              absl::FormatCivilTime(WibDay(as_of)).c_str());
  return absl::OkStatus();
}

}  // namespace jaring::server
