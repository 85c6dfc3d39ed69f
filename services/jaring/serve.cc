#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "libs/auth/guard.h"
#include "libs/auth/keys.h"
#include "libs/base/status.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/eventlog/kafka_log.h"
#include "libs/events/topics.h"
#include "services/jaring/commands.h"
#include "services/jaring/metrics_http.h"
#include "services/appeals/service.h"
#include "services/eligibility/service.h"
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

absl::Status PrintContents(eventlog::EventLog& log) {
  std::printf("%-24s %10s %14s\n", "topic", "partitions", "events");
  for (const auto& topic : events::kDefaultTopics) {
    const std::string name(topic.name);
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

}  // namespace

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

absl::Status Serve(const ServeFlags& flags) {
  BlockTerminationSignals();  // before any thread starts
  std::string security;
  JARING_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials, ServerCredentials(flags, &security));

  std::unique_ptr<eventlog::EventLog> log;
  const std::filesystem::path data = std::filesystem::absolute(flags.data_dir);
  std::error_code ec;
  std::filesystem::create_directories(data, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot create ", data.string(), ": ", ec.message()));
  if (flags.kafka.empty()) {
    JARING_ASSIGN_OR_RETURN(log, eventlog::OpenEmbeddedLog({.dir = (data / "log").string()}));
  } else {
    JARING_ASSIGN_OR_RETURN(log, eventlog::OpenKafkaLog({.bootstrap = flags.kafka}));
  }
  for (const auto& topic : events::kDefaultTopics) {
    JARING_RETURN_IF_ERROR(log->CreateTopic(std::string(topic.name), topic.partitions));
  }
  std::printf("jaring %s\n", "0.1.0");
  std::printf("data directory: %s\n", data.c_str());
  std::printf("event log:      %s\n", log->Describe().c_str());
  if (flags.kafka.empty()) {
    std::printf("on disk:        %.1f MiB\n", static_cast<double>(DirectoryBytes(data)) / (1 << 20));
  }
  JARING_RETURN_IF_ERROR(PrintContents(*log));

  const std::filesystem::path stores = flags.kafka.empty() ? data : data / "kafka";
  auto wanted = [&](std::string_view name) {
    return flags.services.empty() ||
           std::find_if(flags.services.begin(), flags.services.end(), [&](const std::string& s) {
             return s == "all" || s == name;
           }) != flags.services.end();
  };
  std::unique_ptr<population::PopulationServiceImpl> population;
  if (wanted("population")) {
    JARING_ASSIGN_OR_RETURN(population, population::PopulationServiceImpl::Create(
                                            log.get(), {.store_dir = (stores / "population").string()}));
    std::printf("population:     %lld events applied at start, store %s\n",
                static_cast<long long>(population->projection().stats().events_applied),
                (stores / "population").c_str());
  }

  std::unique_ptr<eligibility::EligibilityServiceImpl> eligibility;
  if (wanted("eligibility")) {
    JARING_ASSIGN_OR_RETURN(eligibility, eligibility::EligibilityServiceImpl::Create(
                                             log.get(), {.store_dir = (stores / "eligibility").string()}));
    JARING_ASSIGN_OR_RETURN(eligibility::EvalContext ctx, eligibility->engine().CurrentContext());
    std::printf("eligibility:    %lld events applied at start, store %s, rules in force: %s\n",
                static_cast<long long>(eligibility->projection().stats().events_applied),
                (stores / "eligibility").c_str(), ctx.rules ? ctx.rules->rules.version().c_str() : "none yet");
  }

  std::unique_ptr<appeals::AppealsServiceImpl> appeals;
  if (wanted("appeals")) {
    // The key of filers' NIK hashes lives with the data, never in the log.
    std::string key_path = flags.appeals_key;
    if (key_path.empty()) {
      std::filesystem::create_directories(data / "keys", ec);
      key_path = (data / "keys" / "appeals-filer.key").string();
    }
    JARING_ASSIGN_OR_RETURN(std::string key, appeals::LoadOrCreateKey(key_path));
    JARING_ASSIGN_OR_RETURN(appeals, appeals::AppealsServiceImpl::Create(
                                         log.get(), {.store_dir = (stores / "appeals").string(), .filer_key = key}));
    std::printf("appeals:        %lld events applied at start, store %s\n",
                static_cast<long long>(appeals->projection().stats().events_applied), (stores / "appeals").c_str());
  }

  std::unique_ptr<ledger_service::LedgerServiceImpl> ledger;
  if (wanted("ledger")) {
    JARING_ASSIGN_OR_RETURN(ledger, ledger_service::LedgerServiceImpl::Create(
                                        log.get(), {.store_dir = (stores / "ledger").string()}));
    std::printf("ledger:         %lld events applied at start, store %s\n",
                static_cast<long long>(ledger->projection().stats().events_applied), (stores / "ledger").c_str());
  }

  // Metrics: gRPC calls (interceptor) and, at every scrape, how far each
  // projection is behind the log, and appeals by state.
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
  eventlog::EventLog* const log_ptr = log.get();
  // Total lag per service (the readiness check) as it was last collected.
  auto collect = [=]() -> std::string {
    std::string not_ready;
    for (const auto& w : watched) {
      applied->Set({w.name}, static_cast<double>(w.projection->stats().events_applied));
      for (const auto& [tp, next] : w.projection->NextOffsets()) {
        absl::StatusOr<int64_t> end = log_ptr->EndOffset(tp.first, tp.second);
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
  registry.AddCollector([=] {
    (void)collect();
    if (appeals_ptr != nullptr) {
      absl::StatusOr<std::map<v1::AppealState, int64_t>> counts = appeals_ptr->CountByState();
      if (counts.ok()) {
        for (const auto& [state, n] : *counts) appeal_states->Set({v1::AppealState_Name(state)}, static_cast<double>(n));
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
    ledger_service::LedgerServiceImpl* l = ledger.get();
    guard_options.resolvers.cycle_region = [l](std::string_view id) { return l->CycleRegion(id); };
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
  if (population) builder.RegisterService(population.get());
  if (eligibility) builder.RegisterService(eligibility.get());
  if (appeals) builder.RegisterService(appeals.get());
  if (ledger) builder.RegisterService(ledger.get());
  int port = 0;
  builder.AddListeningPort(flags.listen, credentials, &port);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", flags.listen));
  }
  const std::string host = flags.listen.substr(0, flags.listen.rfind(':'));
  std::printf("listening on %s:%d (%s; gRPC health and reflection; Ctrl-C stops)\n", host.c_str(), port,
              security.c_str());
  std::printf("access:         tokens signed with %s (audience %s), client certificates by OU; "
              "`jaring token --role national --subject ID` issues one\n",
              auth_key_path.c_str(), flags.audience.c_str());
  std::unique_ptr<MetricsEndpoint> metrics_http;
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
    std::printf("metrics on http://%s:%d/metrics (and /healthz, /readyz)\n", mhost.c_str(), metrics_http->port());
  }
  std::fflush(stdout);

  const int sig = WaitForTerminationSignal();
  std::printf("signal %d: shutting down\n", sig);
  std::fflush(stdout);
  metrics_http.reset();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(10));
  server->Wait();
  return absl::OkStatus();
}

}  // namespace jaring::server
