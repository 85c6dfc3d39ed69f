#include "tools/bench/population_bench.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "jaring/v1/population_service.grpc.pb.h"
#include "libs/base/status.h"
#include "libs/base/strings.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/events/topics.h"
#include "libs/projection/projection.h"
#include "nlohmann/json.hpp"
#include "tools/bench/percentile.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "services/population/service.h"
#include "services/population/store.h"
#include "tools/bench/raw_limits.h"
#include "tools/synth/synth.h"

namespace jaring::bench {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}


std::vector<double> LoadAverage() {
  double l[3] = {0, 0, 0};
  if (getloadavg(l, 3) != 3) return {};
  return {l[0], l[1], l[2]};
}

void Step(const std::string& what) {
  std::fprintf(stderr, "jaring-bench population: %s\n", what.c_str());
  std::fflush(stderr);
}

// The family a life command acts on first (the one whose partition and lock
// it takes first).
std::string PrimaryKk(const synth::SynthCommand& c) {
  return std::visit(
      [](const auto& r) -> std::string {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, v1::MoveMemberRequest>) {
          return r.from_kk_number();
        } else {
          return r.kk_number();
        }
      },
      c);
}

// Sends one life command through its RPC; on success sets `*events` to the
// number of events it appended.
struct Sender {
  v1::PopulationService::Stub* stub;
  grpc::ClientContext* ctx;
  int* events;
#define JARING_BENCH_RPC(Name)                                   \
  grpc::Status operator()(const v1::Name##Request& r) {          \
    v1::Name##Response resp;                                     \
    grpc::Status st = stub->Name(ctx, r, &resp);                 \
    if (st.ok()) *events = resp.result().events_size();          \
    return st;                                                   \
  }
  JARING_BENCH_RPC(RecordBirth)
  JARING_BENCH_RPC(RecordDeath)
  JARING_BENCH_RPC(MoveMember)
  JARING_BENCH_RPC(SplitFamily)
  JARING_BENCH_RPC(ChangeHead)
  JARING_BENCH_RPC(RecordWelfareAssessment)
  JARING_BENCH_RPC(ChangeMemberAttributes)
  JARING_BENCH_RPC(CorrectRecord)
#undef JARING_BENCH_RPC
};

std::string CodeName(grpc::StatusCode code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

// One client thread's results.
struct ClientResult {
  std::vector<double> latency_ms;  // every call, in order
  std::vector<int> rpc;            // index into kRpcNames per call
  std::vector<grpc::StatusCode> code;
  int64_t events = 0;              // appended by accepted commands
  std::vector<std::string> first_errors;
};

constexpr std::string_view kRpcNames[] = {"RecordBirth", "RecordDeath", "MoveMember", "SplitFamily",
                                          "ChangeHead", "RecordWelfareAssessment", "ChangeMemberAttributes",
                                          "CorrectRecord"};

std::shared_ptr<grpc::Channel> NewChannel(const std::string& target) {
  grpc::ChannelArguments args;
  // Each client its own connection, as separate clients would have.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

struct RawFigures {
  double puts_per_s = 0;
  double puts_nowal_per_s = 0;
  double append_p50_ms = 0, append_p99_ms = 0, append_p999_ms = 0, append_mean_ms = 0;
};

// Sequential single-record Appends to a fresh embedded log (fsync each).
absl::Status RawAppends(const std::string& dir, int64_t n, size_t value_size, RawFigures* out) {
  JARING_ASSIGN_OR_RETURN(auto log, eventlog::OpenEmbeddedLog({.dir = dir}));
  JARING_RETURN_IF_ERROR(log->CreateTopic("bench.raw", 1));
  std::vector<double> ms;
  ms.reserve(static_cast<size_t>(n));
  std::string value(value_size, 'v');
  for (int64_t i = 0; i < n; ++i) {
    std::vector<eventlog::Record> one(1);
    one[0].key = absl::StrCat("k", i);
    one[0].value = value;
    const Clock::time_point t = Clock::now();
    absl::Status st = log->Append("bench.raw", one).status();
    ms.push_back(MillisSince(t));
    JARING_RETURN_IF_ERROR(st);
  }
  double sum = 0;
  for (double v : ms) sum += v;
  std::sort(ms.begin(), ms.end());
  out->append_p50_ms = Percentile(ms, 0.50);
  out->append_p99_ms = Percentile(ms, 0.99);
  out->append_p999_ms = Percentile(ms, 0.999);
  out->append_mean_ms = ms.empty() ? 0 : sum / static_cast<double>(ms.size());
  return absl::OkStatus();
}

struct Figures {
  std::vector<double> load_start, load_end;
  int64_t families = 0, members = 0;
  double generate_s = 0;
  // import
  int64_t import_rows = 0, import_imported = 0, import_rejected = 0;
  double import_s = 0;
  // life commands
  int64_t commands = 0, accepted = 0, rejected = 0, failed = 0, command_events = 0;
  std::map<std::string, int64_t> failed_by_code;
  double commands_s = 0;
  double p50 = 0, p99 = 0, p999 = 0, pmax = 0, pmean = 0;
  nlohmann::json by_rpc = nlohmann::json::object();
  // rebuild
  int64_t log_events = 0;
  double rebuild_s = 0;
  int64_t rebuild_keys = 0;
  size_t family_bytes_avg = 0, history_bytes_avg = 0;
  uint64_t log_bytes = 0;
  // raw
  RawFigures raw;
};

uint64_t DirBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec)) total += e.file_size(ec);
  }
  return total;
}

absl::Status Import(v1::PopulationService::Stub& stub, const std::vector<v1::ImportRequest>& rows, Figures& f) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::hours(2));
  const Clock::time_point start = Clock::now();
  std::unique_ptr<grpc::ClientReaderWriter<v1::ImportRequest, v1::ImportResponse>> stream = stub.Import(&ctx);
  v1::ImportProgress last;
  int64_t row_errors = 0;
  std::string first_error;
  // Progress comes back after every chunk; read it while writing.
  std::thread reader([&] {
    v1::ImportResponse resp;
    while (stream->Read(&resp)) {
      if (resp.has_row_error()) {
        if (row_errors++ == 0) {
          first_error = absl::StrCat("line ", resp.row_error().line(), ": ", resp.row_error().code(), ": ",
                                     resp.row_error().message());
        }
      } else if (resp.has_progress()) {
        last = resp.progress();
      }
    }
  });
  bool broken = false;
  for (const v1::ImportRequest& row : rows) {
    if (!stream->Write(row)) {
      broken = true;
      break;
    }
  }
  if (!broken) {
    v1::ImportRequest end;
    end.set_end(true);
    stream->Write(end);
  }
  stream->WritesDone();
  reader.join();
  grpc::Status st = stream->Finish();
  f.import_s = SecondsSince(start);
  if (!st.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(st.error_code()),
                        absl::StrCat("Import: ", st.error_message()));
  }
  if (!last.done()) return absl::InternalError("Import: the stream ended without a final progress");
  if (row_errors > 0) Step(absl::StrCat(row_errors, " import rows rejected; first: ", first_error));
  f.import_rows = last.rows();
  f.import_imported = last.imported();
  f.import_rejected = last.rejected();
  return absl::OkStatus();
}

absl::Status Life(const std::string& target, const std::vector<synth::SynthCommand>& commands,
                  const PopulationFlags& flags, Figures& f) {
  const int clients = flags.clients;
  // A family's commands go to one thread; a split's new family follows its
  // parent so its later commands come after the split.
  std::vector<std::vector<const synth::SynthCommand*>> work(static_cast<size_t>(clients));
  absl::flat_hash_map<std::string, int> owner;
  std::hash<std::string> hash;
  for (const synth::SynthCommand& c : commands) {
    const std::string kk = PrimaryKk(c);
    auto it = owner.find(kk);
    const int t = it != owner.end() ? it->second : static_cast<int>(hash(kk) % static_cast<size_t>(clients));
    if (const auto* split = std::get_if<v1::SplitFamilyRequest>(&c)) owner[split->new_kk_number()] = t;
    work[static_cast<size_t>(t)].push_back(&c);
  }

  std::vector<ClientResult> results(static_cast<size_t>(clients));
  std::vector<std::unique_ptr<v1::PopulationService::Stub>> stubs;
  for (int i = 0; i < clients; ++i) stubs.push_back(v1::PopulationService::NewStub(NewChannel(target)));
  const auto deadline = std::chrono::microseconds(static_cast<int64_t>(flags.command_deadline_s * 1e6));

  const Clock::time_point start = Clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      ClientResult& out = results[static_cast<size_t>(i)];
      v1::PopulationService::Stub* stub = stubs[static_cast<size_t>(i)].get();
      out.latency_ms.reserve(work[static_cast<size_t>(i)].size());
      for (const synth::SynthCommand* c : work[static_cast<size_t>(i)]) {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + deadline);
        int events = 0;
        const Clock::time_point t = Clock::now();
        grpc::Status st = std::visit(Sender{stub, &ctx, &events}, *c);
        out.latency_ms.push_back(MillisSince(t));
        out.rpc.push_back(static_cast<int>(c->index()));
        out.code.push_back(st.error_code());
        if (st.ok()) {
          out.events += events;
        } else if (out.first_errors.size() < 3) {
          out.first_errors.push_back(absl::StrCat(Av(synth::RpcName(*c)), ": ", CodeName(st.error_code()), ": ",
                                                  st.error_message()));
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  f.commands_s = SecondsSince(start);

  std::vector<double> all;
  std::vector<std::vector<double>> per_rpc(std::size(kRpcNames));
  std::vector<int64_t> rpc_rejected(std::size(kRpcNames), 0);
  double sum = 0;
  for (const ClientResult& r : results) {
    for (size_t i = 0; i < r.latency_ms.size(); ++i) {
      all.push_back(r.latency_ms[i]);
      sum += r.latency_ms[i];
      per_rpc[static_cast<size_t>(r.rpc[i])].push_back(r.latency_ms[i]);
      switch (r.code[i]) {
        case grpc::StatusCode::OK:
          f.accepted++;
          break;
        case grpc::StatusCode::FAILED_PRECONDITION:
          f.rejected++;
          rpc_rejected[static_cast<size_t>(r.rpc[i])]++;
          break;
        default:
          f.failed++;
          f.failed_by_code[CodeName(r.code[i])]++;
      }
    }
    f.command_events += r.events;
    for (const std::string& e : r.first_errors) Step(absl::StrCat("command not accepted: ", e));
  }
  f.commands = static_cast<int64_t>(all.size());
  std::sort(all.begin(), all.end());
  f.p50 = Percentile(all, 0.50);
  f.p99 = Percentile(all, 0.99);
  f.p999 = Percentile(all, 0.999);
  f.pmax = all.empty() ? 0 : all.back();
  f.pmean = all.empty() ? 0 : sum / static_cast<double>(all.size());
  for (size_t i = 0; i < per_rpc.size(); ++i) {
    if (per_rpc[i].empty()) continue;
    std::sort(per_rpc[i].begin(), per_rpc[i].end());
    f.by_rpc[std::string(kRpcNames[i])] = {
        {"count", per_rpc[i].size()},
        {"rejected", rpc_rejected[i]},
        {"p50_ms", Percentile(per_rpc[i], 0.50)},
        {"p99_ms", Percentile(per_rpc[i], 0.99)},
    };
  }
  return absl::OkStatus();
}

absl::Status Run(const PopulationFlags& flags, Figures& f) {
  const std::string topic(events::kPopulationTopic);

  // Generate everything before anything is timed.
  Step(absl::StrCat("generating ", flags.families, " families of ", flags.region, " and ", flags.months,
                    " months of life"));
  Clock::time_point t = Clock::now();
  synth::SynthOptions so;
  so.regions = {flags.region};
  so.families = flags.families;
  so.months = flags.months;
  so.seed = flags.seed;
  so.now = absl::Now();
  JARING_ASSIGN_OR_RETURN(std::unique_ptr<synth::Generator> gen, synth::Generator::Create(so));
  std::vector<v1::ImportRequest> rows;
  rows.reserve(static_cast<size_t>(flags.families));
  JARING_RETURN_IF_ERROR(gen->Registry([&](const v1::RegisterFamilyRequest& r) {
    v1::ImportRequest& row = rows.emplace_back();
    row.set_line(static_cast<int64_t>(rows.size()));
    *row.mutable_family() = r;
    return absl::OkStatus();
  }));
  std::vector<synth::SynthCommand> commands;
  JARING_RETURN_IF_ERROR(gen->Life([&](const synth::SynthCommand& c) {
    if (flags.max_commands <= 0 || static_cast<int64_t>(commands.size()) < flags.max_commands) {
      commands.push_back(c);
    }
    return absl::OkStatus();
  }));
  f.families = gen->stats().families_registered;
  f.members = gen->stats().members_registered;
  f.generate_s = SecondsSince(t);
  gen.reset();

  // The service, its log and a gRPC server on loopback.
  JARING_ASSIGN_OR_RETURN(std::unique_ptr<eventlog::EventLog> log,
                          eventlog::OpenEmbeddedLog({.dir = flags.dir + "/log"}));
  JARING_RETURN_IF_ERROR(log->CreateTopic(topic, 8));
  JARING_RETURN_IF_ERROR(log->CreateTopic(std::string(events::kAccessTopic), 4));
  {
    JARING_ASSIGN_OR_RETURN(std::unique_ptr<population::PopulationServiceImpl> service,
                            population::PopulationServiceImpl::Create(log.get(), {.store_dir = flags.dir + "/store"}));
    grpc::ServerBuilder builder;
    builder.RegisterService(service.get());
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    if (server == nullptr || port == 0) return absl::UnavailableError("cannot listen on 127.0.0.1:0");
    const std::string target = absl::StrCat("127.0.0.1:", port);

    Step(absl::StrCat("importing ", rows.size(), " families through Import on ", target));
    {
      auto stub = v1::PopulationService::NewStub(NewChannel(target));
      JARING_RETURN_IF_ERROR(Import(*stub, rows, f));
    }
    rows.clear();
    rows.shrink_to_fit();

    Step(absl::StrCat("sending ", commands.size(), " life commands from ", flags.clients, " clients"));
    JARING_RETURN_IF_ERROR(Life(target, commands, flags, f));
    commands.clear();
    commands.shrink_to_fit();

    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(10));
    server->Wait();
    JARING_RETURN_IF_ERROR(service->projection().status());
  }  // the service (and its projection follower) stops here

  JARING_ASSIGN_OR_RETURN(int32_t partitions, log->PartitionCount(topic));
  for (int32_t p = 0; p < partitions; ++p) {
    JARING_ASSIGN_OR_RETURN(int64_t end, log->EndOffset(topic, p));
    JARING_ASSIGN_OR_RETURN(int64_t begin, log->BeginOffset(topic, p));
    f.log_events += end - begin;
  }
  f.log_bytes = DirBytes(flags.dir + "/log");

  Step(absl::StrCat("rebuilding the population projection from ", f.log_events, " events"));
  population::PopulationApplier applier;
  projection::Options opts;
  opts.dir = flags.dir + "/rebuild";
  opts.topics = {topic};
  opts.max_batch_events = 10000000;  // the byte bound decides, as in `replay`
  opts.max_batch_bytes = 256u << 20;
  t = Clock::now();
  JARING_RETURN_IF_ERROR(projection::Rebuild(log.get(), &applier, opts));
  f.rebuild_s = SecondsSince(t);
  log.reset();

  {
    JARING_ASSIGN_OR_RETURN(auto dump, projection::DumpStore(opts.dir));
    uint64_t fam_bytes = 0, fams = 0, hist_bytes = 0, hists = 0;
    for (const auto& [k, v] : dump) {
      if (!k.empty() && k[0] != '\0') f.rebuild_keys++;
      if (k.rfind("f/", 0) == 0) {
        fam_bytes += v.size();
        ++fams;
      } else if (k.rfind("h/", 0) == 0) {
        hist_bytes += v.size();
        ++hists;
      }
    }
    f.family_bytes_avg = fams ? fam_bytes / fams : 300;
    f.history_bytes_avg = hists ? hist_bytes / hists : 600;
  }

  Step(absl::StrCat("raw limits: ", f.log_events, " RocksDB puts; ", flags.raw_appends, " single Appends"));
  JARING_ASSIGN_OR_RETURN(double raw_s, RawPuts(flags.dir + "/raw", true, f.log_events, f.families,
                                                f.family_bytes_avg, flags.raw_batch, flags.seed, "f/"));
  JARING_ASSIGN_OR_RETURN(double raw_nowal_s, RawPuts(flags.dir + "/raw-nowal", false, f.log_events, f.families,
                                                      f.family_bytes_avg, flags.raw_batch, flags.seed, "f/"));
  f.raw.puts_per_s = static_cast<double>(f.log_events) / raw_s;
  f.raw.puts_nowal_per_s = static_cast<double>(f.log_events) / raw_nowal_s;
  // An envelope is about a history entry's size (the entry holds it).
  JARING_RETURN_IF_ERROR(RawAppends(flags.dir + "/rawlog", flags.raw_appends, f.history_bytes_avg, &f.raw));
  return absl::OkStatus();
}

double PerSecond(int64_t n, double s) { return s > 0 ? static_cast<double>(n) / s : 0; }

void Print(const PopulationFlags& flags, const Figures& f) {
  const double import_per_s = PerSecond(f.import_imported, f.import_s);
  const double rebuild_per_s = PerSecond(f.log_events, f.rebuild_s);
  if (flags.json) {
    nlohmann::json j = {
        {"bench", "population"},
        {"region", flags.region},
        {"months", flags.months},
        {"seed", flags.seed},
        {"clients", flags.clients},
        {"families", f.families},
        {"members", f.members},
        {"import_seconds", f.import_s},
        {"import_families_per_s", PerSecond(f.import_rows, f.import_s)},
        {"import_events_per_s", import_per_s},
        {"import_rejected", f.import_rejected},
        {"commands", f.commands},
        {"commands_accepted", f.accepted},
        {"commands_seconds", f.commands_s},
        {"commands_per_s", PerSecond(f.commands, f.commands_s)},
        {"command_events", f.command_events},
        {"command_events_per_s", PerSecond(f.command_events, f.commands_s)},
        {"latency_p50_ms", f.p50},
        {"latency_p99_ms", f.p99},
        {"latency_p999_ms", f.p999},
        {"latency_max_ms", f.pmax},
        {"latency_mean_ms", f.pmean},
        {"rejected", f.rejected},
        {"failed", f.failed},
        {"failed_by_code", f.failed_by_code},
        {"by_rpc", f.by_rpc},
        {"log_events", f.log_events},
        {"log_bytes", f.log_bytes},
        {"rebuild_seconds", f.rebuild_s},
        {"rebuild_events_per_s", rebuild_per_s},
        {"rebuild_keys", f.rebuild_keys},
        {"family_record_bytes_avg", f.family_bytes_avg},
        {"history_entry_bytes_avg", f.history_bytes_avg},
        {"raw_puts_per_s", f.raw.puts_per_s},
        {"raw_puts_nowal_per_s", f.raw.puts_nowal_per_s},
        {"raw_appends", flags.raw_appends},
        {"raw_append_p50_ms", f.raw.append_p50_ms},
        {"raw_append_p99_ms", f.raw.append_p99_ms},
        {"raw_append_p999_ms", f.raw.append_p999_ms},
        {"raw_append_mean_ms", f.raw.append_mean_ms},
        {"load_average", f.load_start},
        {"load_average_end", f.load_end},
    };
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf("population: %s, %lld families (%lld members), %d months of life, %d clients\n", flags.region.c_str(),
              static_cast<long long>(f.families), static_cast<long long>(f.members), flags.months, flags.clients);
  std::printf("  load average at start / end             %.2f / %.2f\n", f.load_start.empty() ? 0 : f.load_start[0],
              f.load_end.empty() ? 0 : f.load_end[0]);
  std::printf("  import through gRPC                     %12.0f families/s = events/s  (%.2f s, %lld rejected)\n",
              import_per_s, f.import_s, static_cast<long long>(f.import_rejected));
  std::printf("  life commands, %2d clients               %12.0f commands/s  (%lld in %.2f s, %lld events)\n",
              flags.clients, PerSecond(f.commands, f.commands_s), static_cast<long long>(f.commands), f.commands_s,
              static_cast<long long>(f.command_events));
  std::printf("    latency p50 / p99 / p99.9 / max       %8.2f / %.2f / %.2f / %.2f ms\n", f.p50, f.p99, f.p999,
              f.pmax);
  std::printf("    rejected (FAILED_PRECONDITION)        %12lld   other errors %lld\n",
              static_cast<long long>(f.rejected), static_cast<long long>(f.failed));
  for (const auto& [name, r] : f.by_rpc.items()) {
    std::printf("    %-26s %8lld  p50 %7.2f ms  p99 %7.2f ms  rejected %lld\n", name.c_str(),
                static_cast<long long>(r.at("count").get<int64_t>()), r.at("p50_ms").get<double>(),
                r.at("p99_ms").get<double>(), static_cast<long long>(r.at("rejected").get<int64_t>()));
  }
  std::printf("  rebuild population projection           %12.0f events/s  (%lld events, %.2f s, %lld keys)\n",
              rebuild_per_s, static_cast<long long>(f.log_events), f.rebuild_s,
              static_cast<long long>(f.rebuild_keys));
  std::printf("  raw RocksDB WriteBatch puts (WAL)       %12.0f puts/s  (%zu B values)\n", f.raw.puts_per_s,
              f.family_bytes_avg);
  std::printf("  raw RocksDB WriteBatch puts (no WAL)    %12.0f puts/s\n", f.raw.puts_nowal_per_s);
  std::printf("  raw Append of 1 record, fsync, p50/p99  %8.2f / %.2f ms  (%lld appends)\n", f.raw.append_p50_ms,
              f.raw.append_p99_ms, static_cast<long long>(flags.raw_appends));
  std::printf("  log on disk                             %12.1f MiB\n", static_cast<double>(f.log_bytes) / (1 << 20));
}

}  // namespace

int PopulationBench(PopulationFlags flags) {
  if (flags.families <= 0 || flags.months < 0 || flags.clients <= 0 || flags.raw_appends <= 0 ||
      flags.raw_batch == 0 || flags.command_deadline_s <= 0) {
    std::fprintf(stderr,
                 "jaring-bench population: --families, --clients, --raw-appends, --raw-batch and "
                 "--deadline must be positive, --months at least 0\n");
    return 2;
  }
  const bool own_dir = flags.dir.empty();
  if (!own_dir && std::filesystem::exists(flags.dir)) {
    std::fprintf(stderr, "jaring-bench population: --dir %s exists; give a new directory\n", flags.dir.c_str());
    return 2;
  }
  if (own_dir) {
    std::string tmpl = std::filesystem::temp_directory_path().string() + "/jaring-bench-pop-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      std::perror("mkdtemp");
      return 1;
    }
    flags.dir = tmpl;
  } else {
    std::filesystem::create_directories(flags.dir);
  }
  Figures f;
  f.load_start = LoadAverage();
  absl::Status st = Run(flags, f);
  f.load_end = LoadAverage();
  if (own_dir) {
    std::error_code ec;
    std::filesystem::remove_all(flags.dir, ec);
  }
  if (!st.ok()) {
    std::fprintf(stderr, "jaring-bench population: %s\n", st.ToString().c_str());
    return 1;
  }
  Print(flags, f);
  return 0;
}

}  // namespace jaring::bench
