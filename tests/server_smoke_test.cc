// Starts the real `jaring` binary: `serve` on the embedded log answers gRPC
// health checks and shuts down cleanly on SIGTERM, keeping its data;
// `devbroker` gives several processes one Kafka-protocol broker.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <future>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "libs/eventlog/kafka_log.h"
#include "libs/events/topics.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/subprocess.h"
#include "libs/testing/temp_dir.h"

namespace jaring {
namespace {

using ::jaring::testing::Subprocess;
using ::jaring::testing::TempDir;

// grpc.health.v1.Health/Check with an empty request (overall health); the
// response SERVING is field 1 = 1, i.e. the bytes 08 01.
std::string HealthCheck(const std::string& target,
                        std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials()) {
  auto channel = grpc::CreateChannel(target, creds);
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::ByteBuffer request, response;
  grpc::Slice empty("", 0);
  request = grpc::ByteBuffer(&empty, 1);
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) { done.set_value(s); });
  grpc::Status s = done.get_future().get();
  if (!s.ok()) return "error: " + s.error_message();
  std::vector<grpc::Slice> slices;
  (void)response.Dump(&slices);
  std::string bytes;
  for (const auto& sl : slices) bytes.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
  return bytes;
}

TEST(ServerSmokeTest, ServeAnswersHealthChecksAndStopsCleanly) {
  TempDir dir;
  for (int run = 0; run < 2; ++run) {  // the second run reopens the same data
    Subprocess server({JARING_BIN, "serve", "--data", dir.Sub("data"), "--listen", "127.0.0.1:0"});
    auto topic_line = server.ReadUntil(std::string(events::kPopulationTopic));
    ASSERT_TRUE(topic_line.has_value());
    EXPECT_THAT(*topic_line, ::testing::HasSubstr(" 8 "));  // partitions
    auto line = server.ReadUntil("listening on ");
    ASSERT_TRUE(line.has_value());
    const std::string target = line->substr(13, line->find(' ', 13) - 13);
    EXPECT_EQ(HealthCheck(target), std::string("\x08\x01", 2)) << target;
    const int status = server.Stop(SIGTERM);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
}

TEST(ServerSmokeTest, DevbrokerIsSharedByOtherProcesses) {
  Subprocess broker({JARING_BIN, "devbroker", "--brokers", "1"});
  auto bootstrap = broker.ReadLine();
  ASSERT_TRUE(bootstrap.has_value());
  ASSERT_THAT(*bootstrap, ::testing::HasSubstr("127.0.0.1:"));
  ASSERT_OK_AND_ASSIGN(auto log, eventlog::OpenKafkaLog({.bootstrap = *bootstrap}));
  ASSERT_OK_AND_ASSIGN(int32_t partitions, log->PartitionCount(std::string(events::kPopulationTopic)));
  EXPECT_EQ(partitions, 8);
  std::vector<eventlog::Record> records = {{"5271010101260001", "a", 1000}, {"5271010101260001", "b", 1001}};
  ASSERT_OK_AND_ASSIGN(auto pos, log->Append(std::string(events::kPopulationTopic), records));
  ASSERT_EQ(pos.size(), 2u);
  EXPECT_EQ(pos[1].offset, pos[0].offset + 1);
  log.reset();
  const int status = broker.Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The "HOST:PORT" a server prints once it listens.
std::string ListeningTarget(Subprocess& server) {
  auto line = server.ReadUntil("listening on ");
  if (!line.has_value()) return "";
  return line->substr(13, line->find(' ', 13) - 13);
}

TEST(ServerSmokeTest, ServesTlsAndMutualTls) {
  TempDir dir;
  const std::string certs = dir.Sub("certs");
  ASSERT_EQ(std::system((std::string(JARING_SOURCE_DIR) + "/scripts/dev-certs.sh " + certs + " >/dev/null").c_str()), 0);
  grpc::SslCredentialsOptions trust;
  trust.pem_root_certs = ReadFile(certs + "/ca.pem");
  {
    Subprocess server({JARING_BIN, "serve", "--data", dir.Sub("data"), "--listen", "localhost:0", "--tls-cert",
                       certs + "/server.pem", "--tls-key", certs + "/server.key"});
    const std::string target = ListeningTarget(server);
    ASSERT_FALSE(target.empty());
    EXPECT_EQ(HealthCheck(target, grpc::SslCredentials(trust)), std::string("\x08\x01", 2));
    EXPECT_THAT(HealthCheck(target), ::testing::StartsWith("error:")) << "a plaintext client is not served";
    grpc::SslCredentialsOptions other;  // trusts the system's CAs, not ours
    EXPECT_THAT(HealthCheck(target, grpc::SslCredentials(other)), ::testing::StartsWith("error:"));
    EXPECT_EQ(server.Stop(SIGTERM), 0);
  }
  {
    Subprocess server({JARING_BIN, "serve", "--data", dir.Sub("data"), "--listen", "localhost:0", "--tls-cert",
                       certs + "/server.pem", "--tls-key", certs + "/server.key", "--tls-client-ca",
                       certs + "/ca.pem"});
    const std::string target = ListeningTarget(server);
    ASSERT_FALSE(target.empty());
    EXPECT_THAT(HealthCheck(target, grpc::SslCredentials(trust)), ::testing::StartsWith("error:"))
        << "mutual TLS: a client without a certificate is refused";
    grpc::SslCredentialsOptions mutual = trust;
    mutual.pem_cert_chain = ReadFile(certs + "/client.pem");
    mutual.pem_private_key = ReadFile(certs + "/client.key");
    EXPECT_EQ(HealthCheck(target, grpc::SslCredentials(mutual)), std::string("\x08\x01", 2));
    EXPECT_EQ(server.Stop(SIGTERM), 0);
  }
}

TEST(ServerSmokeTest, PlaintextOnlyOnLoopback) {
  TempDir dir;
  for (std::vector<std::string> extra : {std::vector<std::string>{}, std::vector<std::string>{"--plaintext"}}) {
    std::vector<std::string> argv = {JARING_BIN, "serve", "--data", dir.Sub("data"), "--listen", "0.0.0.0:0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    Subprocess server(argv);
    EXPECT_FALSE(server.ReadUntil("listening on ").has_value());
    const int status = server.Stop(SIGTERM);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status;
  }
}

TEST(ServerSmokeTest, ServesPrometheusMetricsHealthAndReadiness) {
  TempDir dir;
  Subprocess server({JARING_BIN, "serve", "--data", dir.Sub("data"), "--listen", "127.0.0.1:0", "--metrics",
                     "127.0.0.1:0"});
  const std::string target = ListeningTarget(server);
  ASSERT_FALSE(target.empty());
  auto line = server.ReadUntil("metrics on http://");
  ASSERT_TRUE(line.has_value());
  const std::string hostport = line->substr(18, line->find('/', 18) - 18);
  EXPECT_EQ(HealthCheck(target), std::string("\x08\x01", 2));
  httplib::Client http("http://" + hostport);
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics) << hostport;
  EXPECT_EQ(metrics->status, 200);
  const std::string& text = metrics->body;
  EXPECT_THAT(text, ::testing::HasSubstr("# TYPE jaring_grpc_requests_total counter\n"));
  EXPECT_THAT(text, ::testing::HasSubstr("jaring_grpc_requests_total{method=\"/grpc.health.v1.Health/Check\",code=\"OK\"} 1\n"));
  EXPECT_THAT(text, ::testing::HasSubstr("jaring_grpc_request_seconds_count{method=\"/grpc.health.v1.Health/Check\"} 1\n"));
  for (const char* service : {"population", "eligibility", "appeals", "ledger"}) {
    EXPECT_THAT(text, ::testing::HasSubstr(std::string("jaring_projection_lag_records{service=\"") + service))
        << service;
    EXPECT_THAT(text, ::testing::HasSubstr(std::string("jaring_projection_events_applied{service=\"") + service + "\"} 0"));
  }
  EXPECT_THAT(text, ::testing::HasSubstr(
                        "jaring_projection_lag_records{service=\"population\",topic=\"jaring.population.v1\",partition=\"0\"} 0\n"));
  EXPECT_THAT(text, ::testing::HasSubstr("# TYPE jaring_appeals gauge\n"));
  EXPECT_THAT(text, ::testing::HasSubstr("jaring_eligibility_engine_total{what=\"decisions_recorded\"} 0\n"));
  EXPECT_THAT(text, ::testing::HasSubstr("# TYPE jaring_cycle_rupiah gauge\n"));
  auto ready = http.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200) << ready->body;
  auto health = http.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(server.Stop(SIGTERM), 0);
}

// `jaring serve --config FILE`: a TOML section per command; the command line
// wins; a key that is no flag is refused before anything starts.
TEST(ServerSmokeTest, ConfigFileGivesTheFlags) {
  TempDir dir;
  {
    std::ofstream f(dir.Sub("jaring.toml"));
    f << "# a region's server\n[serve]\ndata = \"" << dir.Sub("from-config") << "\"\nlisten = \"127.0.0.1:0\"\n"
      << "services = [\"population\", \"ledger\"]\npublic-burst = 9\n";
  }
  Subprocess server({JARING_BIN, "serve", "--config", dir.Sub("jaring.toml")});
  std::vector<std::string> banner;
  while (auto line = server.ReadLine()) {
    banner.push_back(*line);
    if (line->rfind("listening on ", 0) == 0) break;
  }
  const std::string text = ::testing::PrintToString(banner);
  EXPECT_THAT(text, ::testing::HasSubstr("data directory: " + dir.Sub("from-config")));
  EXPECT_THAT(text, ::testing::HasSubstr("population:"));
  EXPECT_THAT(text, ::testing::HasSubstr("ledger:"));
  EXPECT_THAT(text, ::testing::Not(::testing::HasSubstr("eligibility:")));
  EXPECT_THAT(text, ::testing::HasSubstr("listening on 127.0.0.1:"));
  EXPECT_EQ(server.Stop(SIGTERM), 0);

  {
    std::ofstream f(dir.Sub("bad.toml"));
    f << "[serve]\nlisen = \"127.0.0.1:0\"\n";
  }
  Subprocess bad({"/bin/sh", "-c", std::string(JARING_BIN) + " serve --config " + dir.Sub("bad.toml") + " 2>&1"});
  std::string out;
  while (auto line = bad.ReadLine()) out += *line + "\n";
  EXPECT_THAT(out, ::testing::HasSubstr("lisen")) << out;
  const int status = bad.Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0) << out;
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("data"))) << "nothing was started";
}

// --clock-start moves the services' clock: the audit's "now" is that day.
TEST(ServerSmokeTest, ClockStartSetsTheServicesClock) {
  TempDir dir;
  Subprocess server({JARING_BIN, "serve", "--data", dir.Sub("data"), "--listen", "127.0.0.1:0", "--clock-start",
                     "2026-03-01"});
  std::string clock_line;
  while (auto line = server.ReadLine()) {
    if (line->rfind("clock:", 0) == 0) clock_line = *line;
    if (line->rfind("listening on ", 0) == 0) break;
  }
  EXPECT_THAT(clock_line, ::testing::HasSubstr("starts at 2026-02-28T17:0")) << "00:00 WIB is 17:00 UTC";
  EXPECT_EQ(server.Stop(SIGTERM), 0);
}

// A replica follows Kafka and only reads; on the embedded log there is none.
TEST(ServerSmokeTest, ReadOnlyReplicaFollowsKafkaAndRefusesWrites) {
  TempDir dir;
  {
    Subprocess refused({"/bin/sh", "-c", std::string(JARING_BIN) + " serve --read-only --data " + dir.Sub("x") +
                                             " --listen 127.0.0.1:0 2>&1"});
    std::string out;
    while (auto line = refused.ReadLine()) out += *line + "\n";
    EXPECT_THAT(out, ::testing::HasSubstr("--read-only: a replica follows Kafka")) << out;
    const int status = refused.Stop(SIGTERM);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status;
  }
  Subprocess broker({JARING_BIN, "devbroker", "--brokers", "1"});
  auto bootstrap = broker.ReadLine();
  ASSERT_TRUE(bootstrap.has_value());
  const std::vector<std::string> kafka = {"--kafka", *bootstrap, "--kafka-fetch-wait", "10"};
  std::vector<std::string> writer_argv = {JARING_BIN, "serve", "population", "--data", dir.Sub("w"), "--listen",
                                          "127.0.0.1:0"};
  writer_argv.insert(writer_argv.end(), kafka.begin(), kafka.end());
  Subprocess writer(writer_argv);
  const std::string w = ListeningTarget(writer);
  ASSERT_FALSE(w.empty());
  std::vector<std::string> replica_argv = {JARING_BIN,          "serve",       "population", "--read-only",
                                           "--data",            dir.Sub("r"),  "--listen",   "127.0.0.1:0",
                                           "--auth-key",        dir.Sub("w/keys/auth.key")};
  replica_argv.insert(replica_argv.end(), kafka.begin(), kafka.end());
  Subprocess replica(replica_argv);
  const std::string r = ListeningTarget(replica);
  ASSERT_FALSE(r.empty());

  auto ctl = [&](const std::vector<std::string>& args) {
    std::string cmd = std::string(JARING_BIN) + " token --data " + dir.Sub("w") +
                      " --role national --subject smoke > " + dir.Sub("token") + " && " + JARINGCTL_BIN +
                      " --token-file " + dir.Sub("token");
    for (const std::string& a : args) cmd += " '" + a + "'";
    Subprocess p({"/bin/sh", "-c", cmd + " 2>&1"});
    std::string out;
    while (auto line = p.ReadLine()) out += *line + "\n";
    const int status = p.Stop(SIGTERM);
    return std::make_pair(WIFEXITED(status) ? WEXITSTATUS(status) : -1, out);
  };
  {
    std::ofstream f(dir.Sub("one.csv"));
    f << "kk_number,region_code,address,nik,full_name,sex,birth_date,relationship,mother_nik,disability,school_level,"
         "school_enrolled,pregnant,pregnancy_order,occurred_at,recorded_at\n"
         "5271011503220001,52.71.01.1001,Jl. Pejanggik 1,5271011506800021,Lalu Ahmad,L,1980-06-15,KEPALA_KELUARGA,,"
         "TIDAK,TIDAK_SEKOLAH,N,N,,2020-03-15,\n";
  }
  auto imported = ctl({"--target", w, "import", dir.Sub("one.csv")});
  ASSERT_EQ(imported.first, 0) << imported.second;
  std::pair<int, std::string> got;
  for (int i = 0; i < 100; ++i) {  // the replica catches up
    got = ctl({"--target", r, "family", "get", "5271011503220001"});
    if (got.first == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(got.first, 0) << got.second;
  EXPECT_THAT(got.second, ::testing::HasSubstr("5271011503220001"));
  auto refused = ctl({"--target", r, "assess", "--kk", "5271011503220001", "--round", "2026-Q3", "--decile", "3"});
  EXPECT_EQ(refused.first, 1) << refused.second;
  EXPECT_THAT(refused.second, ::testing::HasSubstr("FAILED_PRECONDITION: this server only reads")) << refused.second;
  EXPECT_EQ(replica.Stop(SIGTERM), 0);
  EXPECT_EQ(writer.Stop(SIGTERM), 0);
}

}  // namespace
}  // namespace jaring
