#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/auth/guard.h"
#include "libs/auth/keys.h"
#include "libs/base/log.h"
#include "libs/base/strings.h"
#include "libs/base/status.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/eventlog/kafka_log.h"
#include "libs/events/envelope.h"
#include "libs/events/topics.h"
#include "services/appeals/service.h"
#include "services/audit/service.h"
#include "services/eligibility/service.h"
#include "services/jaring/commands.h"
#include "services/jaring/metrics_http.h"
#include "services/ledger/service.h"
#include "services/population/service.h"

namespace jaring::server {
namespace {

uint64_t DirectoryBytes(const std::filesystem::path& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  }
  return total;
}

absl::StatusOr<std::string> ReadPem(const std::string& flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(flag, ": cannot read ", path));
  std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (pem.find("-----BEGIN ") == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": ", path, " is not PEM"));
  }
  return pem;
}

// TLS from the flags, or plaintext on loopback only.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const ServeFlags& flags,
                                                                          std::string* described) {
  const std::string host = flags.listen.substr(0, flags.listen.rfind(':'));
  const bool tls = !flags.tls_cert.empty() || !flags.tls_key.empty();
  if (tls && flags.plaintext) return absl::InvalidArgumentError("--plaintext: conflicts with --tls-cert/--tls-key");
  if (!tls) {
    if (!flags.tls_client_ca.empty()) return absl::InvalidArgumentError("--tls-client-ca: needs --tls-cert and --tls-key");
    if (!IsLoopbackHost(host)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--listen: ", flags.listen, " is not a loopback address; serve it with TLS (--tls-cert, --tls-key; "
          "scripts/dev-certs.sh makes a development CA): plaintext is only for loopback"));
    }
    *described = "plaintext (loopback only)";
    return grpc::InsecureServerCredentials();
  }
  if (flags.tls_cert.empty()) return absl::InvalidArgumentError("--tls-cert: is required with --tls-key");
  if (flags.tls_key.empty()) return absl::InvalidArgumentError("--tls-key: is required with --tls-cert");
  grpc::SslServerCredentialsOptions options;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  JARING_ASSIGN_OR_RETURN(pair.cert_chain, ReadPem("--tls-cert", flags.tls_cert));
  JARING_ASSIGN_OR_RETURN(pair.private_key, ReadPem("--tls-key", flags.tls_key));
  options.pem_key_cert_pairs.push_back(std::move(pair));
  if (!flags.tls_client_ca.empty()) {
    JARING_ASSIGN_OR_RETURN(options.pem_root_certs, ReadPem("--tls-client-ca", flags.tls_client_ca));
    options.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
    *described = "mutual TLS (client certificates required)";
  } else {
    *described = "TLS";
  }
  return grpc::SslServerCredentials(options);
}

absl::Status PrintContents(eventlog::EventLog& log, bool all_topics) {
  std::printf("%-24s %10s %14s\n", "topic", "partitions", "events");
  for (const auto& topic : events::kDefaultTopics) {
    const std::string name(topic.name);
    if (!all_topics && topic.name != events::kAccessTopic) continue;
    JARING_ASSIGN_OR_RETURN(int32_t partitions, log.PartitionCount(name));
    int64_t events = 0;
    for (int32_t p = 0; p < partitions; ++p) {
      JARING_ASSIGN_OR_RETURN(int64_t begin, log.BeginOffset(name, p));
      JARING_ASSIGN_OR_RETURN(int64_t end, log.EndOffset(name, p));
      events += end - begin;
    }
    std::printf("%-24s %10d %14lld\n", name.c_str(), partitions, static_cast<long long>(events));
  }
  return absl::OkStatus();
}

// What `jaring replay` wrote in REPLAY.json.
struct ReplayManifest {
  int64_t as_of_ms = 0;
  std::string as_of;
  std::string source;
  std::map<std::string, int64_t> filtered_out;
};

absl::StatusOr<ReplayManifest> ReadManifest(const std::filesystem::path& dir) {
  std::ifstream in(dir / "REPLAY.json");
  if (!in) {
    return absl::NotFoundError(absl::StrCat("--replay: ", dir.string(), " holds no REPLAY.json (make one with `jaring "
                                            "replay --as-of T --out DIR`)"));
  }
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.contains("as_of_ms") || !j["as_of_ms"].is_number_integer()) {
    return absl::DataLossError(absl::StrCat("--replay: ", (dir / "REPLAY.json").string(), " does not parse"));
  }
  ReplayManifest m;
  m.as_of_ms = j["as_of_ms"].get<int64_t>();
  m.as_of = j.value("as_of", "");
  m.source = j.value("source", "");
  if (j.contains("services") && j["services"].is_object()) {
    for (const auto& [name, counts] : j["services"].items()) {
      if (counts.is_object()) m.filtered_out[name] = counts.value("filtered_out", int64_t{0});
    }
  }
  return m;
}

constexpr std::string_view kServiceNames[] = {"population", "eligibility", "appeals", "ledger"};

}  // namespace

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

absl::Status Serve(const ServeFlags& flags) {
  BlockTerminationSignals();  // before any thread starts
  const bool replay = !flags.replay.empty();
  if (replay && !flags.kafka.empty()) {
    return absl::InvalidArgumentError("--replay: a replay's stores are frozen and read no log; drop --kafka");
  }
  if (replay && !flags.clock_start.empty()) {
    return absl::InvalidArgumentError("--clock-start: a replay's clock stands at the replay's moment");
  }
  if (flags.read_only && !replay && flags.kafka.empty()) {
    return absl::InvalidArgumentError(
        "--read-only: a replica follows Kafka (--kafka); an embedded log has one owner, which serves reads itself "
        "(and `jaring replay` reads it beside that owner)");
  }
  const projection::Mode mode =
      replay ? projection::Mode::kSnapshot : flags.read_only ? projection::Mode::kReplica : projection::Mode::kWriter;
  std::string security;
  JARING_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials, ServerCredentials(flags, &security));

  const std::filesystem::path data = std::filesystem::absolute(flags.data_dir);
  std::error_code ec;
  std::filesystem::create_directories(data, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot create ", data.string(), ": ", ec.message()));

  // The services' clock: real; moved (--clock-start); or stopped at a
  // replay's moment.
  std::unique_ptr<Clock> owned_clock;
  Clock* clock = Clock::Real();
  std::filesystem::path stores = flags.kafka.empty() ? data : data / "kafka";
  std::string read_only_reason;
  ReplayManifest manifest;
  if (replay) {
    stores = std::filesystem::absolute(flags.replay);
    JARING_ASSIGN_OR_RETURN(manifest, ReadManifest(stores));
    owned_clock = std::make_unique<ManualClock>(absl::FromUnixMillis(manifest.as_of_ms));
    clock = owned_clock.get();
    read_only_reason = absl::StrCat("a replay as of ", manifest.as_of);
  } else if (!flags.clock_start.empty()) {
    JARING_ASSIGN_OR_RETURN(absl::Time start, ParseInstant("--clock-start", flags.clock_start, false));
    owned_clock = std::make_unique<OffsetClock>(start);
    clock = owned_clock.get();
  }
  if (mode == projection::Mode::kReplica) read_only_reason = "a read-only replica that follows the log";

  // The log: the system of record, or for a replay only where its reads
  // are recorded (the live log is never touched).
  std::unique_ptr<eventlog::EventLog> log;
  if (replay) {
    JARING_ASSIGN_OR_RETURN(log, eventlog::OpenEmbeddedLog({.dir = (stores / "access-log").string()}));
    for (const auto& topic : events::kDefaultTopics) {
      if (topic.name == events::kAccessTopic) {
        JARING_RETURN_IF_ERROR(log->CreateTopic(std::string(topic.name), topic.partitions));
      }
    }
  } else {
    if (flags.kafka.empty()) {
      JARING_ASSIGN_OR_RETURN(log, eventlog::OpenEmbeddedLog({.dir = (data / "log").string(), .clock = clock}));
    } else {
      JARING_ASSIGN_OR_RETURN(eventlog::KafkaLogOptions options,
                              KafkaOptions(flags.kafka, flags.kafka_options, flags.kafka_fetch_wait_ms));
      options.clock = clock;
      JARING_ASSIGN_OR_RETURN(log, eventlog::OpenKafkaLog(options));
    }
    for (const auto& topic : events::kDefaultTopics) {
      JARING_RETURN_IF_ERROR(log->CreateTopic(std::string(topic.name), topic.partitions));
    }
  }
  std::printf("jaring %s\n", "0.1.0");
  std::printf("data directory: %s\n", data.c_str());
  if (replay) {
    std::printf("replay:         %s as of %s (from %s); reads only\n", stores.c_str(), manifest.as_of.c_str(),
                manifest.source.c_str());
  }
  std::printf("event log:      %s\n", log->Describe().c_str());
  if (flags.kafka.empty() && !replay) {
    std::printf("on disk:        %.1f MiB\n", static_cast<double>(DirectoryBytes(data)) / (1 << 20));
  }
  if (owned_clock != nullptr && !replay) {
    std::printf("clock:          starts at %s (--clock-start)\n",
                absl::FormatTime(absl::RFC3339_sec, clock->Now(), absl::UTCTimeZone()).c_str());
  }
  JARING_RETURN_IF_ERROR(PrintContents(*log, !replay));

  // Which services are served, and which stores are opened only for the
  // audit (as replicas, or frozen in a replay).
  auto named = [&](std::string_view name) {
    return std::find(flags.services.begin(), flags.services.end(), name) != flags.services.end();
  };
  const bool all = flags.services.empty() || named("all");
  auto served = [&](std::string_view name) {
    if (replay && all && name != "audit") return std::filesystem::exists(stores / name / "CURRENT", ec);
    return all || named(name);
  };
  const bool audit_wanted = served("audit");
  auto open_mode = [&](std::string_view name) -> std::optional<projection::Mode> {
    if (served(name)) return mode;
    if (audit_wanted && name != "appeals") return replay ? projection::Mode::kSnapshot : projection::Mode::kReplica;
    return std::nullopt;
  };
  auto store_dir = [&](std::string_view name) {
    // Copies for the audit alone keep apart from a writer's store in the
    // same data directory.
    if (!served(name) && !replay) return (stores / absl::StrCat("audit-", Av(name))).string();
    return (stores / name).string();
  };
  // The log the services read: none for a replay (its log holds only reads).
  eventlog::EventLog* const service_log = replay ? nullptr : log.get();
  auto describe = [&](std::string_view name, const projection::Projection& p, std::string_view extra) {
    std::printf("%-15s %s (%s), store %s%s\n", absl::StrCat(Av(name), ":").c_str(),
                p.frozen() ? absl::StrCat("frozen after ", p.RecordsRead(), " records of the log").c_str()
                           : absl::StrCat(p.stats().events_applied, " events applied at start").c_str(),
                std::string(ModeName(served(name) ? mode : *open_mode(name))).c_str(), store_dir(name).c_str(),
                std::string(extra).c_str());
  };

  std::unique_ptr<population::PopulationServiceImpl> population;
  if (auto m = open_mode("population")) {
    JARING_ASSIGN_OR_RETURN(population, population::PopulationServiceImpl::Create(
                                            service_log, {.store_dir = store_dir("population"), .clock = clock, .mode = *m}));
    describe("population", population->projection(), "");
  }

  std::unique_ptr<eligibility::EligibilityServiceImpl> eligibility;
  if (auto m = open_mode("eligibility")) {
    JARING_ASSIGN_OR_RETURN(eligibility, eligibility::EligibilityServiceImpl::Create(
                                             service_log, {.store_dir = store_dir("eligibility"), .clock = clock, .mode = *m}));
    JARING_ASSIGN_OR_RETURN(eligibility::EvalContext ctx, eligibility->engine().CurrentContext());
    describe("eligibility", eligibility->projection(),
             absl::StrCat(", rules in force: ", ctx.rules ? ctx.rules->rules.version() : "none yet"));
  }

  std::unique_ptr<appeals::AppealsServiceImpl> appeals;
  if (auto m = open_mode("appeals")) {
    // The key of filers' NIK hashes lives with the data, never in the log;
    // only a writer hashes.
    std::string key;
    if (*m == projection::Mode::kWriter) {
      std::string key_path = flags.appeals_key;
      if (key_path.empty()) {
        std::filesystem::create_directories(data / "keys", ec);
        key_path = (data / "keys" / "appeals-filer.key").string();
      }
      JARING_ASSIGN_OR_RETURN(key, appeals::LoadOrCreateKey(key_path));
    }
    JARING_ASSIGN_OR_RETURN(appeals, appeals::AppealsServiceImpl::Create(
                                         service_log, {.store_dir = store_dir("appeals"),
                                                       .filer_key = key,
                                                       .clock = clock,
                                                       .mode = *m}));
    describe("appeals", appeals->projection(), "");
  }

  std::unique_ptr<ledger_service::LedgerServiceImpl> ledger;
  if (auto m = open_mode("ledger")) {
    JARING_ASSIGN_OR_RETURN(ledger, ledger_service::LedgerServiceImpl::Create(
                                        service_log, {.store_dir = store_dir("ledger"), .clock = clock, .mode = *m}));
    describe("ledger", ledger->projection(), "");
  }

  std::vector<std::string> service_names;
  for (std::string_view name : kServiceNames) {
    if (served(name)) service_names.emplace_back(name);
  }
  std::unique_ptr<audit::AuditServiceImpl> audit;
  if (audit_wanted) {
    std::string key_path = flags.export_key;
    if (key_path.empty()) {
      std::filesystem::create_directories(data / "keys", ec);
      key_path = (data / "keys" / "export.key").string();
    }
    JARING_ASSIGN_OR_RETURN(std::string key, auth::LoadOrCreateKey(key_path));
    JARING_ASSIGN_OR_RETURN(audit, audit::AuditServiceImpl::Create(
                                       {.population = population.get(),
                                        .eligibility = eligibility.get(),
                                        .ledger = ledger.get(),
                                        .services = service_names,
                                        .export_key = key,
                                        .clock = clock,
                                        .kind = replay ? v1::AUDIT_SOURCE_KIND_REPLAY
                                                : mode == projection::Mode::kReplica ? v1::AUDIT_SOURCE_KIND_REPLICA
                                                                                     : v1::AUDIT_SOURCE_KIND_LIVE,
                                        .filtered_out = manifest.filtered_out}));
    std::printf("audit:          over %s; references keyed with %s\n",
                absl::StrJoin(std::vector<std::string>{population ? "population" : "", eligibility ? "eligibility" : "",
                                                       ledger ? "ledger" : ""},
                              " ")
                    .c_str(),
                key_path.c_str());
    service_names.push_back("audit");
  }
  if (service_names.empty()) {
    return absl::InvalidArgumentError(
        replay ? absl::StrCat("--replay: ", stores.string(), " holds no store of the services named")
               : std::string("services: none to serve"));
  }

  // Metrics: gRPC calls (interceptor) and, at every scrape, how far each
  // projection is behind the log, the engine's work, appeals by state and
  // every cycle's totals.
  metrics::Registry registry;
  struct Watched {
    const char* name;
    projection::Projection* projection;
  };
  std::vector<Watched> watched;
  if (population) watched.push_back({"population", &population->projection()});
  if (eligibility) watched.push_back({"eligibility", &eligibility->projection()});
  if (appeals) watched.push_back({"appeals", &appeals->projection()});
  if (ledger) watched.push_back({"ledger", &ledger->projection()});
  metrics::Gauge* applied = registry.AddGauge("jaring_projection_events_applied",
                                              "Events a service's projection has applied since it opened", {"service"});
  metrics::Gauge* lag = registry.AddGauge("jaring_projection_lag_records",
                                          "Records on the log a projection has not applied yet",
                                          {"service", "topic", "partition"});
  metrics::Gauge* end_offsets =
      registry.AddGauge("jaring_topic_end_offset", "Next offset of each topic partition (records ever appended)",
                        {"topic", "partition"});
  metrics::Gauge* appeal_states = registry.AddGauge("jaring_appeals", "Appeals by state", {"state"});
  metrics::Gauge* engine_work = registry.AddGauge(
      "jaring_eligibility_engine_total",
      "The decision engine's work since start: families evaluated, decisions recorded, full re-evaluations", {"what"});
  metrics::Gauge* cycle_families =
      registry.AddGauge("jaring_cycle_families", "Families entitled in a payment cycle", {"program", "period", "region"});
  metrics::Gauge* cycle_rupiah = registry.AddGauge(
      "jaring_cycle_rupiah", "A payment cycle's money: entitled, paid (settled), returned",
      {"program", "period", "region", "kind"});
  // Total lag per service (the readiness check) as it was last collected.
  auto collect = [=]() -> std::string {
    std::string not_ready;
    for (const auto& w : watched) {
      applied->Set({w.name}, static_cast<double>(w.projection->stats().events_applied));
      if (service_log == nullptr) continue;  // a replay has no log to lag behind
      for (const auto& [tp, next] : w.projection->NextOffsets()) {
        absl::StatusOr<int64_t> end = service_log->EndOffset(tp.first, tp.second);
        if (!end.ok()) continue;
        const std::string partition = std::to_string(tp.second);
        end_offsets->Set({tp.first, partition}, static_cast<double>(*end));
        lag->Set({w.name, tp.first, partition}, static_cast<double>(*end - next));
        if (*end > next) absl::StrAppend(&not_ready, w.name, " is ", *end - next, " behind on ", tp.first, "[", partition, "]\n");
      }
      if (!w.projection->status().ok()) {
        absl::StrAppend(&not_ready, w.name, " stopped: ", w.projection->status().ToString(), "\n");
      }
    }
    return not_ready;
  };
  appeals::AppealsServiceImpl* const appeals_ptr = appeals.get();
  eligibility::EligibilityServiceImpl* const eligibility_ptr = eligibility.get();
  ledger_service::LedgerServiceImpl* const ledger_ptr = ledger.get();
  registry.AddCollector([=] {
    (void)collect();
    if (appeals_ptr != nullptr) {
      absl::StatusOr<std::map<v1::AppealState, int64_t>> counts = appeals_ptr->CountByState();
      if (counts.ok()) {
        for (const auto& [state, n] : *counts) appeal_states->Set({v1::AppealState_Name(state)}, static_cast<double>(n));
      }
    }
    if (eligibility_ptr != nullptr) {
      const eligibility::EngineStats s = eligibility_ptr->engine().stats();
      engine_work->Set({"families_evaluated"}, static_cast<double>(s.families_evaluated));
      engine_work->Set({"decisions_recorded"}, static_cast<double>(s.decisions_appended));
      engine_work->Set({"full_reevaluations"}, static_cast<double>(s.full_reevaluations));
    }
    if (ledger_ptr != nullptr) {
      absl::StatusOr<std::vector<v1::GetCycleResponse>> cycles = ledger_ptr->ListCycles();
      if (cycles.ok()) {
        for (const v1::GetCycleResponse& c : *cycles) {
          const std::string& program = c.cycle().program();
          const std::string& period = c.cycle().period();
          const std::string& region = c.cycle().region_prefix();
          cycle_families->Set({program, period, region}, static_cast<double>(c.cycle().families()));
          cycle_rupiah->Set({program, period, region, "entitled"}, static_cast<double>(c.entitled_amount()));
          cycle_rupiah->Set({program, period, region, "paid"}, static_cast<double>(c.paid_amount()));
          cycle_rupiah->Set({program, period, region, "returned"}, static_cast<double>(c.returned_amount()));
        }
      }
    }
  });

  // The guard: every RPC authenticated and authorized (libs/auth), reads of
  // families' data recorded on jaring.access.v1.
  std::string auth_key_path = flags.auth_key;
  if (auth_key_path.empty()) {
    std::filesystem::create_directories(data / "keys", ec);
    auth_key_path = (data / "keys" / "auth.key").string();
  }
  auth::GuardOptions guard_options;
  JARING_ASSIGN_OR_RETURN(guard_options.token_key, auth::LoadOrCreateKey(auth_key_path));
  guard_options.audience = flags.audience;
  guard_options.access_log = log.get();
  guard_options.public_burst = flags.public_burst;
  guard_options.public_refill = absl::Seconds(flags.public_refill_seconds);
  guard_options.read_only = read_only_reason;
  if (population) {
    population::PopulationServiceImpl* p = population.get();
    guard_options.resolvers.member_family = [p](std::string_view nik) { return p->MemberFamily(nik); };
  }
  if (appeals) {
    guard_options.resolvers.appeal = [appeals_ptr](std::string_view id) { return appeals_ptr->AppealFacts(id); };
    guard_options.resolvers.verifier_family = [appeals_ptr](std::string_view verifier, std::string_view kk) {
      return appeals_ptr->VerifierHasFamily(verifier, kk);
    };
  }
  if (ledger) {
    guard_options.resolvers.cycle_region = [ledger_ptr](std::string_view id) { return ledger_ptr->CycleRegion(id); };
  }
  auth::Guard guard(std::move(guard_options));

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
    interceptors.push_back(guard.InterceptorFactory());
    interceptors.push_back(GrpcMetricsInterceptor(registry));
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
  }
  if (population && served("population")) builder.RegisterService(population.get());
  if (eligibility && served("eligibility")) builder.RegisterService(eligibility.get());
  if (appeals && served("appeals")) builder.RegisterService(appeals.get());
  if (ledger && served("ledger")) builder.RegisterService(ledger.get());
  if (audit) builder.RegisterService(audit.get());
  int port = 0;
  builder.AddListeningPort(flags.listen, credentials, &port);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", flags.listen));
  }
  const std::string host = flags.listen.substr(0, flags.listen.rfind(':'));
  const std::string address = absl::StrCat(host, ":", port);
  std::printf("listening on %s (%s; gRPC health and reflection; Ctrl-C stops)\n", address.c_str(), security.c_str());
  std::printf("access:         tokens signed with %s (audience %s), client certificates by OU; "
              "`jaring token --role national --subject ID` issues one\n",
              auth_key_path.c_str(), flags.audience.c_str());
  std::unique_ptr<MetricsEndpoint> metrics_http;
  std::string metrics_address;
  if (!flags.metrics.empty()) {
    // Ready once every projection has caught up with the log since start;
    // after that only a stopped projection makes it unready (a busy import
    // must not take the eligibility service out of its load balancer).
    auto caught_up = std::make_shared<std::atomic<bool>>(false);
    auto ready = [collect, caught_up, watched]() -> std::string {
      std::string stopped;
      for (const auto& w : watched) {
        if (!w.projection->status().ok()) {
          absl::StrAppend(&stopped, w.name, " stopped: ", w.projection->status().ToString(), "\n");
        }
      }
      if (!stopped.empty()) return stopped;
      if (caught_up->load()) return "";
      std::string behind = collect();
      if (behind.empty()) caught_up->store(true);
      return behind;
    };
    JARING_ASSIGN_OR_RETURN(metrics_http, MetricsEndpoint::Start(flags.metrics, &registry, ready));
    const std::string mhost = flags.metrics.substr(0, flags.metrics.rfind(':'));
    metrics_address = absl::StrCat(mhost, ":", metrics_http->port());
    std::printf("metrics on http://%s/metrics (and /healthz, /readyz)\n", metrics_address.c_str());
  }
  std::fflush(stdout);
  const std::string services_text = absl::StrJoin(service_names, ",");
  log::Info("serving", {{"listen", address},
                        {"security", security},
                        {"services", services_text},
                        {"mode", ModeName(mode)},
                        {"log", replay ? std::string("replay") : log->Describe()},
                        {"metrics", metrics_address}});

  const int sig = WaitForTerminationSignal();
  std::printf("signal %d: shutting down\n", sig);
  std::fflush(stdout);
  log::Info("shutting_down", {{"signal", std::to_string(sig)}});
  // Stop accepting; calls in flight get 10 s to finish; then every service
  // stops its background work and its projection, which commits what it
  // applied (destructors, in reverse order of creation).
  metrics_http.reset();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(10));
  server->Wait();
  audit.reset();
  ledger.reset();
  appeals.reset();
  eligibility.reset();
  population.reset();
  log::Info("stopped", {{"services", services_text}});
  return absl::OkStatus();
}

}  // namespace jaring::server
