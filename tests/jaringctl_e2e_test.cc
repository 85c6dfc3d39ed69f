// The real binaries end to end: `jaring serve` on the embedded log in a temp
// dir, and `jaringctl` run as a child process against it: synth -> import
// (twice: idempotent) -> replay-commands -> findings (= ground truth) ->
// queries with masked NIKs, error paths and exit codes, an import of a CSV
// with malformed rows. The server's stdout and stderr over the whole run must
// not hold a full NIK.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "google/protobuf/util/json_util.h"
#include "jaring/v1/population_service.pb.h"
#include "libs/testing/temp_dir.h"
#include "tools/synth/csv.h"

namespace jaring {
namespace {

using ::jaring::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// Forks and execs argv with stdin from /dev/null and stdout/stderr appended
// to the given files. Returns the child's pid (or -1).
pid_t Spawn(const std::vector<std::string>& argv, const std::string& out_path, const std::string& err_path) {
  pid_t pid = fork();
  if (pid == 0) {
    int in = open("/dev/null", O_RDONLY);
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    int err = err_path == out_path ? out : open(err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (in < 0 || out < 0 || err < 0) _exit(126);
    dup2(in, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

// Waits up to `limit` for `pid`; SIGKILLs it after that. Returns the raw
// wait status, or nullopt if it had to be killed.
std::optional<int> WaitFor(pid_t pid, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return std::nullopt;
}

struct CtlResult {
  int exit_code = -1;  // -1: killed (timeout) or did not exit normally
  std::string out;
  std::string err;
  std::string Both() const { return out + err; }
};

std::ostream& operator<<(std::ostream& os, const CtlResult& r) {
  return os << "exit " << r.exit_code << "\n--- stdout ---\n" << r.out << "--- stderr ---\n" << r.err;
}

// Runs jaringctl with `args` (no --target added) and captures everything.
CtlResult RunCtl(const TempDir& scratch, const std::vector<std::string>& args) {
  static int n = 0;
  ++n;
  const std::string out = scratch.Sub("ctl-" + std::to_string(n) + ".out");
  const std::string err = scratch.Sub("ctl-" + std::to_string(n) + ".err");
  std::vector<std::string> argv = {JARINGCTL_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  CtlResult r;
  pid_t pid = Spawn(argv, out, err);
  if (pid < 0) return r;
  std::optional<int> status = WaitFor(pid, std::chrono::seconds(120));
  if (status && WIFEXITED(*status)) r.exit_code = WEXITSTATUS(*status);
  r.out = ReadAll(out);
  r.err = ReadAll(err);
  return r;
}

// `jaring serve` with stdout and stderr going to one log file.
class Server {
 public:
  Server(const std::string& data_dir, const std::string& log_path) : log_path_(log_path) {
    pid_ = Spawn({JARING_BIN, "serve", "--data", data_dir, "--listen", "127.0.0.1:0"}, log_path, log_path);
  }
  ~Server() {
    if (pid_ > 0 && !stopped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  // Waits for "listening on HOST:PORT" (bounded); returns HOST:PORT.
  std::optional<std::string> WaitListening() {
    for (int i = 0; i < 6000; ++i) {  // 60 s
      const std::string log = ReadAll(log_path_);
      size_t at = log.find("listening on ");
      if (at != std::string::npos) {
        size_t begin = at + 13;
        size_t end = log.find_first_of(" \n", begin);
        if (end != std::string::npos) return log.substr(begin, end - begin);
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        stopped_ = true;
        return std::nullopt;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return std::nullopt;
  }

  // SIGTERM; the raw wait status, or nullopt if it had to be killed.
  std::optional<int> Stop() {
    if (stopped_) return std::nullopt;
    kill(pid_, SIGTERM);
    stopped_ = true;
    return WaitFor(pid_, std::chrono::seconds(30));
  }

  std::string Log() const { return ReadAll(log_path_); }

 private:
  std::string log_path_;
  pid_t pid_ = -1;
  bool stopped_ = false;
};

// A loopback port nothing listens on (bound, then released).
int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// The families of a registry CSV, via the product's reader.
std::vector<v1::RegisterFamilyRequest> ReadRegistry(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  synth::RegistryCsvReader reader(&in);
  std::vector<v1::RegisterFamilyRequest> out;
  std::vector<synth::CsvRowError> errors;
  for (int i = 0; i < 1000000; ++i) {
    auto next = reader.Next(&errors);
    EXPECT_TRUE(next.ok()) << next.status();
    if (!next.ok() || !next->has_value()) break;
    out.push_back((*next)->request);
  }
  EXPECT_TRUE(errors.empty()) << path << ": " << errors.size() << " malformed rows, first at line "
                              << errors.front().line << ": " << errors.front().message;
  return out;
}

std::string Mask(const std::string& nik) { return nik.substr(0, 4) + "**********" + nik.substr(14, 2); }

template <typename M>
M ParseProtoJson(const std::string& text) {
  M m;
  auto st = google::protobuf::util::JsonStringToMessage(text, &m);
  EXPECT_TRUE(st.ok()) << st.ToString() << "\n" << text;
  return m;
}

// Lines of a table whose first column is a 16-digit number (KK rows).
std::vector<std::string> KkRows(const std::string& out) {
  std::vector<std::string> rows;
  std::istringstream in(out);
  std::string line;
  static const std::regex kRow(R"(^\d{16}\s.*)");
  while (std::getline(in, line)) {
    if (std::regex_match(line, kRow)) rows.push_back(line.substr(0, 16));
  }
  return rows;
}

struct ImportSummary {
  int64_t rows = -1, families = -1, imported = -1, already = -1, rejected = -1, by_service = -1, in_file = -1;
};
// "import done: R rows, F families sent in S s; imported I, already imported A, rejected X (Y by the service, Z in
// the file)"
std::optional<ImportSummary> ParseImportSummary(const std::string& out) {
  static const std::regex kSummary(
      R"(import done: (\d+) rows, (\d+) families sent in [0-9.]+ s; imported (\d+), already imported (\d+), )"
      R"(rejected (\d+) \((\d+) by the service, (\d+) in the file\))");
  std::smatch m;
  if (!std::regex_search(out, m, kSummary)) return std::nullopt;
  ImportSummary s;
  s.rows = std::stoll(m[1]);
  s.families = std::stoll(m[2]);
  s.imported = std::stoll(m[3]);
  s.already = std::stoll(m[4]);
  s.rejected = std::stoll(m[5]);
  s.by_service = std::stoll(m[6]);
  s.in_file = std::stoll(m[7]);
  return s;
}

using FindingKey = std::pair<std::string, std::vector<std::string>>;  // kind name, sorted KKs

class JaringctlE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<Server>(dir_.Sub("data"), dir_.Sub("server.log"));
    auto target = server_->WaitListening();
    ASSERT_TRUE(target.has_value()) << "jaring serve did not start:\n" << server_->Log();
    target_ = *target;
  }
  void TearDown() override {
    if (server_ == nullptr) return;
    std::optional<int> status = server_->Stop();
    EXPECT_TRUE(status.has_value() && WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        << "jaring serve did not stop cleanly on SIGTERM\n"
        << server_->Log();
  }

  // jaringctl --target <server> args...
  CtlResult Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {"--target", target_});
    return RunCtl(dir_, args);
  }

  // Every NIK in `niks` that appears in full in `text`.
  static std::vector<std::string> FullNiksIn(const std::string& text, const std::set<std::string>& niks) {
    std::vector<std::string> found;
    static const std::regex kDigits(R"(\d{16,})");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), kDigits); it != std::sregex_iterator(); ++it) {
      const std::string run = it->str();
      for (size_t i = 0; i + 16 <= run.size(); ++i) {
        if (niks.count(run.substr(i, 16))) found.push_back(run.substr(i, 16));
      }
    }
    return found;
  }

  TempDir dir_;
  std::unique_ptr<Server> server_;
  std::string target_;
};

TEST_F(JaringctlE2eTest, SynthImportReplayFindingsAndQueries) {
  const std::string out_dir = dir_.Sub("synth");
  std::set<std::string> all_niks;  // every NIK this test sends, for the log check

  // synth --out: the three files.
  {
    CtlResult r = Ctl({"synth", "--regions", "52.71", "--families", "300", "--months", "6", "--seed", "7",
                       "--anomalies", "3", "--out", out_dir});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, HasSubstr("registry.csv"));
    for (const char* f : {"registry.csv", "events.jsonl", "ground_truth.jsonl"}) {
      EXPECT_TRUE(std::filesystem::exists(out_dir + "/" + f)) << f;
      EXPECT_GT(std::filesystem::file_size(out_dir + "/" + f), 0u) << f;
    }
  }
  const std::vector<v1::RegisterFamilyRequest> families = ReadRegistry(out_dir + "/registry.csv");
  ASSERT_GE(families.size(), 300u);
  for (const auto& f : families) {
    for (const auto& m : f.family().members()) all_niks.insert(m.nik());
  }
  int64_t csv_rows = 0;
  for (const auto& f : families) csv_rows += f.family().members_size();
  // The first family with at least two members, for the queries.
  const v1::FamilyRegistered* fam = &families.front().family();
  for (const auto& f : families) {
    if (f.family().members_size() >= 2 && f.family().region_code().rfind("52.71", 0) == 0) {
      fam = &f.family();
      break;
    }
  }
  const std::string kk = fam->kk_number();
  const std::string head = fam->head_nik();
  const std::string other = fam->members(fam->members_size() - 1).nik();

  // import: every family imported.
  {
    CtlResult r = Ctl({"import", out_dir + "/registry.csv"});
    ASSERT_EQ(r.exit_code, 0) << r;
    auto s = ParseImportSummary(r.out);
    ASSERT_TRUE(s.has_value()) << r;
    EXPECT_EQ(s->rows, csv_rows);
    EXPECT_EQ(s->families, static_cast<int64_t>(families.size()));
    EXPECT_EQ(s->imported, static_cast<int64_t>(families.size()));
    EXPECT_GE(s->imported, 300);
    EXPECT_EQ(s->already, 0);
    EXPECT_EQ(s->rejected, 0) << r;
    EXPECT_THAT(FullNiksIn(r.Both(), all_niks), ::testing::IsEmpty());
  }
  // The same file again: nothing new.
  {
    CtlResult r = Ctl({"import", out_dir + "/registry.csv"});
    ASSERT_EQ(r.exit_code, 0) << r;
    auto s = ParseImportSummary(r.out);
    ASSERT_TRUE(s.has_value()) << r;
    EXPECT_EQ(s->imported, 0) << r;
    EXPECT_EQ(s->already, static_cast<int64_t>(families.size())) << r;
    EXPECT_EQ(s->rejected, 0) << r;
  }

  // Queries on the registry as imported.
  {
    CtlResult r = Ctl({"family", "get", kk});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, HasSubstr(kk));
    EXPECT_THAT(r.out, HasSubstr(Mask(head)));
    EXPECT_THAT(r.out, Not(HasSubstr(head)));
    std::set<std::string> fam_niks;
    for (const auto& m : fam->members()) fam_niks.insert(m.nik());
    EXPECT_THAT(FullNiksIn(r.Both(), fam_niks), ::testing::IsEmpty()) << r;
    for (const auto& m : fam->members()) EXPECT_THAT(r.out, HasSubstr(m.full_name()));
  }
  {
    CtlResult r = Ctl({"member", "get", other});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, HasSubstr(Mask(other)));
    EXPECT_THAT(r.out, Not(HasSubstr(other)));
    EXPECT_THAT(r.out, ::testing::ContainsRegex("KK +" + kk));
  }

  // replay-commands: every line accepted.
  int64_t commands = 0;
  {
    std::ifstream in(out_dir + "/events.jsonl");
    std::string line;
    while (std::getline(in, line)) commands += !line.empty();
  }
  ASSERT_GT(commands, 300);
  {
    CtlResult r = Ctl({"replay-commands", out_dir + "/events.jsonl"});
    EXPECT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, HasSubstr("commands done: " + std::to_string(commands) + " sent, 0 failed")) << r;
  }

  // findings --json: exactly the ground truth.
  std::set<FindingKey> want;
  std::map<FindingKey, std::string> want_nik;
  {
    std::ifstream in(out_dir + "/ground_truth.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      nlohmann::json j = nlohmann::json::parse(line);
      std::vector<std::string> kks = j.at("kk_numbers").get<std::vector<std::string>>();
      std::sort(kks.begin(), kks.end());
      FindingKey key{j.at("kind").get<std::string>(), kks};
      want.insert(key);
      want_nik[key] = j.value("nik", "");
    }
  }
  ASSERT_EQ(want.size(), 3u);
  {
    CtlResult r = Ctl({"--json", "findings", "--region", "52.71"});
    ASSERT_EQ(r.exit_code, 0) << r;
    auto resp = ParseProtoJson<v1::ListOverlapFindingsResponse>(r.out);
    std::set<FindingKey> got;
    for (const auto& f : resp.findings()) {
      std::vector<std::string> kks(f.kk_numbers().begin(), f.kk_numbers().end());
      std::sort(kks.begin(), kks.end());
      FindingKey key{v1::OverlapKind_Name(f.kind()), kks};
      got.insert(key);
      EXPECT_FALSE(f.resolved());
      if (want_nik.count(key) && !want_nik[key].empty()) {
        EXPECT_EQ(f.masked_nik(), Mask(want_nik[key]));
      }
    }
    EXPECT_EQ(resp.findings_size(), 3) << r;
    EXPECT_EQ(got, want) << r;
    EXPECT_TRUE(resp.next_page_token().empty());
  }
  // Human findings: masked NIKs only.
  {
    CtlResult r = Ctl({"findings", "--region", "52.71"});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, HasSubstr("DEAD_HEAD"));
    EXPECT_THAT(r.out, HasSubstr("NIK_IN_TWO_FAMILIES"));
    EXPECT_THAT(r.out, HasSubstr("FAMILY_IN_TWO_REGIONS"));
    EXPECT_THAT(FullNiksIn(r.Both(), all_niks), ::testing::IsEmpty()) << r;
  }

  // family get --json after a year of life.
  {
    CtlResult r = Ctl({"--json", "family", "get", kk});
    ASSERT_EQ(r.exit_code, 0) << r;
    nlohmann::json j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(j.is_discarded()) << r;
    ASSERT_TRUE(j.contains("family")) << r;
    ASSERT_TRUE(j["family"].contains("members")) << r;
    EXPECT_TRUE(j["family"]["members"].is_array());
    EXPECT_GE(j["family"]["members"].size(), 1u);
    auto resp = ParseProtoJson<v1::GetFamilyResponse>(r.out);
    EXPECT_EQ(resp.family().kk_number(), kk);
    // --json is the service's response unmasked: a control that FullNiksIn
    // finds NIKs where they are.
    EXPECT_THAT(FullNiksIn(r.out, all_niks), Not(::testing::IsEmpty())) << r;
    // Human output of the same family: the current head, masked.
    CtlResult h = Ctl({"family", "get", kk});
    ASSERT_EQ(h.exit_code, 0) << h;
    EXPECT_THAT(h.out, HasSubstr(Mask(resp.family().head_nik())));
    EXPECT_THAT(FullNiksIn(h.Both(), all_niks), ::testing::IsEmpty()) << h;
  }

  // family list: 5 rows and a next page token; the next page has 5 others.
  {
    CtlResult r = Ctl({"family", "list", "--region", "52.71", "--page-size", "5"});
    ASSERT_EQ(r.exit_code, 0) << r;
    std::vector<std::string> rows = KkRows(r.out);
    EXPECT_EQ(rows.size(), 5u) << r;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.out, m, std::regex(R"(more: --page-token (\S+))"))) << r;
    const std::string token = m[1];
    EXPECT_THAT(FullNiksIn(r.Both(), all_niks), ::testing::IsEmpty()) << r;
    CtlResult r2 = Ctl({"family", "list", "--region", "52.71", "--page-size", "5", "--page-token", token});
    ASSERT_EQ(r2.exit_code, 0) << r2;
    std::vector<std::string> rows2 = KkRows(r2.out);
    EXPECT_EQ(rows2.size(), 5u) << r2;
    for (const auto& k : rows2) EXPECT_EQ(std::count(rows.begin(), rows.end(), k), 0) << k << " on both pages";
  }

  // family history: the registration and the DTSEN assessment replayed.
  {
    CtlResult r = Ctl({"family", "history", kk});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, HasSubstr("FamilyRegistered"));
    EXPECT_THAT(r.out, HasSubstr("WelfareAssessed"));
    EXPECT_THAT(r.out, HasSubstr("DUKCAPIL"));
    EXPECT_THAT(FullNiksIn(r.Both(), all_niks), ::testing::IsEmpty()) << r;
  }

  // Errors from the service: exit 1 with the code and the field.
  {
    CtlResult r = Ctl({"family", "get", "123"});
    EXPECT_EQ(r.exit_code, 1) << r;
    EXPECT_THAT(r.err, HasSubstr("jaringctl: INVALID_ARGUMENT: kk_number")) << r;
  }
  {
    // A well-formed KK nobody registered.
    CtlResult r = Ctl({"family", "get", "5271010101200999"});
    EXPECT_EQ(r.exit_code, 1) << r;
    EXPECT_THAT(r.err, HasSubstr("jaringctl: NOT_FOUND")) << r;
  }

  // A CSV with malformed rows: each reported by line, the rest imported.
  // Families in Banyuwangi (35.10) so nothing collides with the synth set.
  const std::string header(synth::kCsvHeader);
  const std::string bad_csv = dir_.Sub("bad.csv");
  WriteFile(bad_csv,
            header + "\n" +
                // line 2-3: a good family of two
                "3510052009160001,35.10.05.2003,\"Jl. Mawar No. 1, RT 001/RW 002\",3510051303890001,Budi Santoso,L,"
                "1989-03-13,KEPALA_KELUARGA,,TIDAK,TIDAK_SEKOLAH,N,N,,2016-09-20,2026-01-01\n"
                "3510052009160001,35.10.05.2003,\"Jl. Mawar No. 1, RT 001/RW 002\",3510055809970002,Siti Aminah,P,"
                "1997-09-18,ISTRI,,TIDAK,TIDAK_SEKOLAH,N,N,,2016-09-20,2026-01-01\n"
                // line 4: month 13
                "3510051005180002,35.10.05.2003,,3510050211790003,\"Amaq \"\"Rudi\"\"\",L,1979-13-02,KEPALA_KELUARGA,,"
                "TIDAK,TIDAK_SEKOLAH,N,N,,2018-05-10,2026-01-01\n"
                // line 5: a good family of one
                "3510051104190003,35.10.05.2004,Dusun Krajan,3510051506800004,Ahmad Fauzi,L,1980-06-15,"
                "KEPALA_KELUARGA,,TIDAK,TIDAK_SEKOLAH,N,N,,2019-04-11,2026-01-01\n"
                // line 6: four columns
                "3510051201200004,35.10.05.2004,Dusun Krajan,3510050101800005\n"
                // line 7: well formed, but the NIK encodes 1980-06-15 and birth_date is 1980-06-16
                "3510051301210005,35.10.05.2004,Dusun Krajan,3510051506800006,Dewi Lestari,L,1980-06-16,"
                "KEPALA_KELUARGA,,TIDAK,TIDAK_SEKOLAH,N,N,,2021-01-13,2026-01-01\n");
  for (const char* n : {"3510051303890001", "3510055809970002", "3510050211790003", "3510051506800004",
                        "3510050101800005", "3510051506800006"}) {
    all_niks.insert(n);
  }
  {
    CtlResult r = Ctl({"import", bad_csv});
    EXPECT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, HasSubstr("line 4: INVALID_ARGUMENT: birth_date")) << r;
    EXPECT_THAT(r.out, HasSubstr("line 6: INVALID_ARGUMENT: expected 16 columns, got 4")) << r;
    EXPECT_THAT(r.out, ::testing::ContainsRegex("line 7: [A-Z_]+: .*nik")) << r;
    EXPECT_THAT(r.out, Not(HasSubstr("line 2:")));
    EXPECT_THAT(r.out, Not(HasSubstr("line 5:")));
    auto s = ParseImportSummary(r.out);
    ASSERT_TRUE(s.has_value()) << r;
    EXPECT_EQ(s->imported, 2) << r;
    EXPECT_EQ(s->rejected, 3) << r;
    EXPECT_EQ(s->by_service, 1) << r;
    EXPECT_EQ(s->in_file, 2) << r;
    // "Messages never echo a NIK or KK number" (docs/import-format.md).
    EXPECT_THAT(FullNiksIn(r.Both(), all_niks), ::testing::IsEmpty()) << r;
    CtlResult g = Ctl({"family", "get", "3510051104190003"});
    EXPECT_EQ(g.exit_code, 0) << g;
    CtlResult g2 = Ctl({"family", "get", "3510052009160001"});
    EXPECT_EQ(g2.exit_code, 0) << g2;
    EXPECT_THAT(g2.out, HasSubstr("Siti Aminah"));
    CtlResult g3 = Ctl({"family", "get", "3510051005180002"});
    EXPECT_EQ(g3.exit_code, 1) << g3;
    EXPECT_THAT(g3.err, HasSubstr("NOT_FOUND")) << g3;
  }
  // A wrong header: a bad argument, nothing sent.
  {
    const std::string no_header = dir_.Sub("no_header.csv");
    WriteFile(no_header, "kk,region\n1,2\n");
    CtlResult r = Ctl({"import", no_header});
    EXPECT_EQ(r.exit_code, 2) << r;
    EXPECT_THAT(r.err, HasSubstr("header")) << r;
  }

  // Personal data never reaches the server's logs (stdout + stderr so far;
  // TearDown stops it, so read after a stop).
  ASSERT_NE(server_, nullptr);
  std::optional<int> status = server_->Stop();
  EXPECT_TRUE(status.has_value() && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << server_->Log();
  const std::string log = server_->Log();
  EXPECT_THAT(log, HasSubstr("listening on "));  // the capture works
  const std::vector<std::string> leaked = FullNiksIn(log, all_niks);
  EXPECT_TRUE(leaked.empty()) << leaked.size() << " full NIKs in the server's output, e.g. " << leaked.front()
                              << "\n"
                              << log;
  server_.reset();
}

// findings paged one at a time: the same findings as one page, each once.
// (A finding about two families is stored under each family's region code;
// a listing must still give it once, on whatever page.)
TEST_F(JaringctlE2eTest, FindingsPagedOneAtATimeListEachFindingOnce) {
  const std::string out_dir = dir_.Sub("synth");
  CtlResult r = Ctl({"synth", "--regions", "52.71", "--families", "60", "--months", "1", "--seed", "7",
                     "--anomalies", "3", "--out", out_dir});
  ASSERT_EQ(r.exit_code, 0) << r;
  r = Ctl({"import", out_dir + "/registry.csv"});
  ASSERT_EQ(r.exit_code, 0) << r;
  r = Ctl({"replay-commands", out_dir + "/events.jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r;
  r = Ctl({"--json", "findings", "--region", "52.71"});
  ASSERT_EQ(r.exit_code, 0) << r;
  std::set<std::string> finding_ids;
  const auto all = ParseProtoJson<v1::ListOverlapFindingsResponse>(r.out);
  for (const auto& f : all.findings()) finding_ids.insert(f.finding_id());
  ASSERT_EQ(finding_ids.size(), 3u) << r;
  std::vector<std::string> ids;
  std::string pages;
  std::string token;
  for (int page = 0; page < 20; ++page) {
    std::vector<std::string> args = {"--json", "findings", "--region", "52.71", "--page-size", "1"};
    if (!token.empty()) {
      args.push_back("--page-token");
      args.push_back(token);
    }
    CtlResult page_r = Ctl(args);
    ASSERT_EQ(page_r.exit_code, 0) << page_r;
    auto resp = ParseProtoJson<v1::ListOverlapFindingsResponse>(page_r.out);
    for (const auto& f : resp.findings()) {
      ids.push_back(f.finding_id());
      pages += "\n  page " + std::to_string(page + 1) + ": " + v1::OverlapKind_Name(f.kind()) + " " +
               f.finding_id() + " regions";
      for (const auto& rc : f.region_codes()) pages += " " + rc;
      pages += " (next_page_token " + resp.next_page_token() + ")";
    }
    token = resp.next_page_token();
    if (token.empty()) break;
  }
  EXPECT_TRUE(token.empty());
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()), finding_ids);
  EXPECT_EQ(ids.size(), finding_ids.size())
      << "BUG: with --page-size 1 a finding is listed on two pages (the service dedups findings stored under "
         "two region keys only within one page):"
      << pages;
}

TEST(JaringctlE2eNoServerTest, UnreachableTargetExits3WithAHint) {
  TempDir dir_;
  const std::string target = "127.0.0.1:" + std::to_string(ClosedPort());
  CtlResult r = RunCtl(dir_, {"--target", target, "--timeout", "10", "family", "get", "5271010101200999"});
  EXPECT_EQ(r.exit_code, 3) << r;
  EXPECT_THAT(r.err, HasSubstr("jaringctl: UNAVAILABLE")) << r;
  EXPECT_THAT(r.err, HasSubstr("hint")) << r;
  EXPECT_THAT(r.err, HasSubstr(target)) << r;
}

// Rejected before any call: a target nobody listens on would give exit 3.
TEST(JaringctlE2eNoServerTest, BadArgumentsExit2) {
  TempDir dir_;
  const std::string target_ = "127.0.0.1:" + std::to_string(ClosedPort());
  const std::vector<std::vector<std::string>> cases = {
      {"frobnicate"},                                        // unknown command
      {"family"},                                            // missing subcommand
      {"family", "get"},                                     // missing KK
      {"findings"},                                          // --region is required
      {"import", dir_.Sub("does-not-exist.csv")},            // no such file
      {"synth", "--families", "0", "--out", dir_.Sub("x")},  // not a positive number
      {"synth", "--regions", "99.99", "--out", dir_.Sub("y")},  // unknown region
      {"death", "--kk", "5271010101200999", "--nik", "5271010101200001", "--date", "kemarin"},  // bad date
  };
  for (const auto& args : cases) {
    std::vector<std::string> full = {"--target", target_};
    full.insert(full.end(), args.begin(), args.end());
    CtlResult r = RunCtl(dir_, full);
    EXPECT_EQ(r.exit_code, 2) << ::testing::PrintToString(args) << "\n" << r;
  }
  // --help is not an error.
  CtlResult help = RunCtl(dir_, {"--help"});
  EXPECT_EQ(help.exit_code, 0) << help;
  EXPECT_THAT(help.Both(), HasSubstr("Exit codes"));
}

}  // namespace
}  // namespace jaring
