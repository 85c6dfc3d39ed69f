// The real binaries end to end: `jaring serve` on the embedded log in a temp
// dir, and `jaringctl` run as a child process against it: synth -> import
// (twice: idempotent) -> replay-commands -> findings (= ground truth) ->
// queries with masked NIKs, error paths and exit codes, an import of a CSV
// with malformed rows. The server's stdout and stderr over the whole run must
// not hold a full NIK. Further tests drive the eligibility commands (rules,
// decisions, movements, simulate), the ledger commands (budget, cycle,
// statement, accounts, proofs, verify-ledger) and the appeal commands (file,
// assign, verify, decide, show, window, withdraw, queue, stats) the same way.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
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
#include "jaring/v1/appeals_service.pb.h"
#include "jaring/v1/eligibility_service.pb.h"
#include "jaring/v1/ledger_service.pb.h"
#include "jaring/v1/population_service.pb.h"
#include "libs/testing/temp_dir.h"
#include "tests/harness.h"
#include "tools/synth/csv.h"

namespace jaring {
namespace {

using ::jaring::testing::TempDir;
using namespace ::jaring::e2e;  // NOLINT: the harness of every end-to-end test
using ::testing::HasSubstr;
using ::testing::Not;

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
  // TLS on, as in production: a development CA and server certificate
  // (scripts/dev-certs.sh), and a national operator's token signed with the
  // data directory's key (`jaring token`, run before the server starts).
  void SetUp() override {
    certs_ = dir_.Sub("certs");
    ASSERT_EQ(std::system((std::string(JARING_SOURCE_DIR) + "/scripts/dev-certs.sh " + certs_ + " >/dev/null").c_str()),
              0);
    token_ = IssueToken({"--role", "national", "--subject", "e2e-operator"});
    ASSERT_FALSE(token_.empty());
    server_ = std::make_unique<Server>(dir_.Sub("data"), dir_.Sub("server.log"),
                                       std::vector<std::string>{"--tls-cert", certs_ + "/server.pem", "--tls-key",
                                                                certs_ + "/server.key"},
                                       "localhost:0");
    auto target = server_->WaitListening();
    ASSERT_TRUE(target.has_value()) << "jaring serve did not start:\n" << server_->Log();
    target_ = *target;
    common_ = {"--tls-ca", certs_ + "/ca.pem", "--token", token_};
  }

  // `jaring token --data DATA args...`: the token it prints ("" on failure).
  std::string IssueToken(std::vector<std::string> args) {
    std::vector<std::string> argv = {JARING_BIN, "token", "--data", dir_.Sub("data")};
    argv.insert(argv.end(), args.begin(), args.end());
    static int n = 0;
    const std::string out = dir_.Sub("token-" + std::to_string(++n) + ".out");
    pid_t pid = Spawn(argv, out, out);
    std::optional<int> status = WaitFor(pid, std::chrono::seconds(30));
    std::string token = ReadAll(out);
    EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << token;
    while (!token.empty() && token.back() == '\n') token.pop_back();
    return status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0 ? token : "";
  }
  void TearDown() override {
    if (server_ == nullptr) return;
    std::optional<int> status = server_->Stop();
    EXPECT_TRUE(status.has_value() && WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        << "jaring serve did not stop cleanly on SIGTERM\n"
        << server_->Log();
  }

  // jaringctl --target <server> <common_> args...
  CtlResult Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), common_.begin(), common_.end());
    args.insert(args.begin(), {"--target", target_});
    return RunCtl(dir_, args);
  }
  // The same as another principal: TLS, and `token` ("" for the public).
  CtlResult CtlAs(const std::string& token, std::vector<std::string> args) {
    std::vector<std::string> full = {"--target", target_, "--tls-ca", certs_ + "/ca.pem"};
    if (!token.empty()) full.insert(full.end(), {"--token", token});
    full.insert(full.end(), args.begin(), args.end());
    return RunCtl(dir_, full);
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
  std::string certs_;
  std::string token_;
  // Flags every Ctl call carries (TLS and the token).
  std::vector<std::string> common_;
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

// --- Eligibility -------------------------------------------------------------

// The families of the eligibility scenario (Kota Mataram, 52.71.01.1001): a
// KK, its decile in the first DTSEN round and its members' NIKs.
struct EligibilityFamily {
  std::string kk;
  int decile;
  std::vector<std::string> niks;
};

// Today in WIB, "YYYY-MM-DD" (+ `days`).
std::string WibDate(int days = 0) {
  const time_t t = time(nullptr) + 7 * 3600 + days * 86400;
  tm parts{};
  gmtime_r(&t, &parts);
  char buf[16];
  strftime(buf, sizeof(buf), "%Y-%m-%d", &parts);
  return buf;
}

// Now as RFC 3339 UTC with microseconds.
std::string NowRfc3339() {
  const auto now = std::chrono::system_clock::now();
  const time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1000000;
  tm parts{};
  gmtime_r(&secs, &parts);
  char buf[32];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &parts);
  char out[48];
  snprintf(out, sizeof(out), "%s.%06lldZ", buf, static_cast<long long>(micros));
  return out;
}

// Copies the rule set directory `from` to `to_parent`/`version` with the
// manifest's version renamed and `edit` applied to each file's text.
void CopyRuleSet(const std::string& from, const std::string& to_parent, const std::string& version,
                 const std::function<std::string(const std::string& file, std::string text)>& edit) {
  const std::string to = to_parent + "/" + version;
  std::filesystem::create_directories(to);
  for (const auto& e : std::filesystem::directory_iterator(from)) {
    const std::string name = e.path().filename().string();
    std::string text = ReadAll(e.path().string());
    if (name == "ruleset.textproto") {
      const std::string from_version = std::filesystem::path(from).filename().string();
      const size_t at = text.find("version: \"" + from_version + "\"");
      if (at != std::string::npos) text.replace(at, from_version.size() + 11, "version: \"" + version + "\"");
    }
    WriteFile(to + "/" + name, edit(name, text));
  }
}

// `text` with its one occurrence of `from` replaced (EXPECTs there is one).
std::string ReplaceOnce(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "\"" << from << "\" not in:\n" << text;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

class JaringctlEligibilityE2eTest : public JaringctlE2eTest {
 protected:
  // Runs `probe` until `done` holds for its output (bounded: 30 s); returns
  // the last result. No assertion on how long it took.
  CtlResult PollCtl(const std::vector<std::string>& args, const std::function<bool(const CtlResult&)>& done) {
    CtlResult r;
    for (int i = 0; i < 300; ++i) {
      r = Ctl(args);
      if (r.exit_code == 0 && done(r)) return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "condition not reached within 30 s for " << ::testing::PrintToString(args) << "\n" << r;
    return r;
  }

  v1::ListBeneficiariesResponse Beneficiaries(const std::string& program) {
    CtlResult r = Ctl({"--json", "beneficiaries", program, "--region", "52", "--all"});
    EXPECT_EQ(r.exit_code, 0) << r;
    return ParseProtoJson<v1::ListBeneficiariesResponse>(r.out);
  }

  static std::set<std::string> Kks(const v1::ListBeneficiariesResponse& resp) {
    std::set<std::string> out;
    for (const auto& b : resp.beneficiaries()) out.insert(b.kk_number());
    return out;
  }
};

// A small population with DTSEN deciles, rule set 2026.1 published through
// jaringctl, and every eligibility command against it: decisions and their
// explanations, history, beneficiaries, a reassessment's movements and
// exclusion risks, a draft simulated and then published (the beneficiaries
// move by exactly the simulated delta), and a rule set that does not load.
TEST_F(JaringctlEligibilityE2eTest, PublishDecideExplainMoveSimulateAndPublishADraft) {
  // A: decile 2, two adults (BPNT, PBI-JK). B: decile 6 (nothing). C: decile
  // 4 (BPNT, PBI-JK). D: decile 3. E: decile 1 with a member over 60 (PKH
  // elderly, BPNT, PBI-JK; BLT-DD excluded by PKH). F: decile 1, one adult
  // (BPNT, PBI-JK; BLT-DD excluded by BPNT).
  const EligibilityFamily A{"5271011503200001", 2, {"5271011506800001", "5271014302820002"}};
  const EligibilityFamily B{"5271011503200002", 6, {"5271011001750003"}};
  const EligibilityFamily C{"5271011503200003", 4, {"5271012007790004"}};
  const EligibilityFamily D{"5271011503200004", 3, {"5271014511850005"}};
  const EligibilityFamily E{"5271011503200005", 1, {"5271011204850006", "5271015708500007"}};
  const EligibilityFamily F{"5271011503200006", 1, {"5271010909900008"}};
  std::set<std::string> all_niks;
  for (const auto* f : {&A, &B, &C, &D, &E, &F}) all_niks.insert(f->niks.begin(), f->niks.end());

  const std::string csv = dir_.Sub("mataram.csv");
  auto row = [](const EligibilityFamily& f, size_t member, const std::string& name, const std::string& sex,
                const std::string& born, const std::string& relationship) {
    return f.kk + ",52.71.01.1001,Jl. Pejanggik " + f.kk.substr(15) + "," + f.niks[member] + "," + name + "," + sex +
           "," + born + "," + relationship + ",,TIDAK,TIDAK_SEKOLAH,N,N,,2020-03-15,\n";
  };
  WriteFile(csv, std::string(synth::kCsvHeader) + "\n" +                                 //
                     row(A, 0, "Lalu Ahmad", "L", "1980-06-15", "KEPALA_KELUARGA") +      //
                     row(A, 1, "Baiq Nur", "P", "1982-02-03", "ISTRI") +                  //
                     row(B, 0, "Made Wirawan", "L", "1975-01-10", "KEPALA_KELUARGA") +    //
                     row(C, 0, "Ketut Arsa", "L", "1979-07-20", "KEPALA_KELUARGA") +      //
                     row(D, 0, "Siti Rahmah", "P", "1985-11-05", "KEPALA_KELUARGA") +     //
                     row(E, 0, "Muhammad Zaini", "L", "1985-04-12", "KEPALA_KELUARGA") +  //
                     row(E, 1, "Inaq Sumiati", "P", "1950-08-17", "ORANG_TUA") +          //
                     row(F, 0, "Rizal Hakim", "L", "1990-09-09", "KEPALA_KELUARGA"));
  {
    CtlResult r = Ctl({"import", csv});
    ASSERT_EQ(r.exit_code, 0) << r;
    auto s = ParseImportSummary(r.out);
    ASSERT_TRUE(s.has_value()) << r;
    ASSERT_EQ(s->imported, 6) << r;
  }
  for (const auto* f : {&A, &B, &C, &D, &E, &F}) {
    CtlResult r = Ctl({"assess", "--kk", f->kk, "--round", "2026-Q3", "--decile", std::to_string(f->decile)});
    ASSERT_EQ(r.exit_code, 0) << r;
  }

  // Before any rule set: nothing in force, a decision is FAILED_PRECONDITION.
  {
    CtlResult r = Ctl({"rules", "list"});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, HasSubstr("no rule set published")) << r;
    // (NOT_FOUND until the eligibility service has read the family.)
    CtlResult d;
    for (int i = 0; i < 300; ++i) {
      d = Ctl({"decision", A.kk, "BPNT"});
      if (d.err.find("NOT_FOUND") == std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_EQ(d.exit_code, 1) << d;
    EXPECT_THAT(d.err, HasSubstr("jaringctl: FAILED_PRECONDITION: no rule set was in force")) << d;
  }

  // rules publish rules/2026.1 (again: deduplicated).
  const std::string rules_dir = std::string(JARING_RULES_DIR) + "/2026.1";
  {
    CtlResult r = Ctl({"rules", "publish", rules_dir});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, HasSubstr("published rule set 2026.1")) << r;
    EXPECT_THAT(r.out, HasSubstr("effective from  2026-01-01 00:00 WIB")) << r;
    EXPECT_THAT(r.out, ::testing::ContainsRegex("content hash +[0-9a-f]{64}")) << r;
    EXPECT_THAT(r.out, HasSubstr("jaring.rules.v1[0]@0")) << r;
    EXPECT_THAT(r.out, HasSubstr("in force now    yes")) << r;
    CtlResult again = Ctl({"--json", "rules", "publish", rules_dir});
    ASSERT_EQ(again.exit_code, 0) << again;
    auto resp = ParseProtoJson<v1::PublishRuleSetResponse>(again.out);
    EXPECT_TRUE(resp.deduplicated()) << again;
    EXPECT_EQ(resp.offset(), 0) << again;
  }

  // A rule set that does not load: exit 2 naming the file and the field,
  // nothing published.
  {
    CopyRuleSet(rules_dir, dir_.Sub("bad"), "2026.9", [](const std::string& file, std::string text) {
      return file == "bpnt.textproto" ? ReplaceOnce(text, "max_decile: 4", "max_decile: 11") : text;
    });
    CtlResult r = Ctl({"rules", "publish", dir_.Sub("bad/2026.9")});
    EXPECT_EQ(r.exit_code, 2) << r;
    EXPECT_THAT(r.err, HasSubstr("2026.9/bpnt.textproto: bpnt.max_decile: must be from 1 to 10 (is 11)")) << r;
    CtlResult sim = Ctl({"simulate", dir_.Sub("bad/2026.9")});
    EXPECT_EQ(sim.exit_code, 2) << sim;
    EXPECT_THAT(sim.err, HasSubstr("bpnt.max_decile")) << sim;
    CtlResult missing = Ctl({"rules", "publish", dir_.Sub("no-such-rules")});
    EXPECT_EQ(missing.exit_code, 2) << missing;
    EXPECT_THAT(missing.err, HasSubstr("does not exist")) << missing;
    CtlResult list = Ctl({"--json", "rules", "list"});
    ASSERT_EQ(list.exit_code, 0) << list;
    auto resp = ParseProtoJson<v1::ListRuleSetsResponse>(list.out);
    ASSERT_EQ(resp.rule_sets_size(), 1) << list;
    EXPECT_EQ(resp.rule_sets(0).version(), "2026.1");
    EXPECT_TRUE(resp.rule_sets(0).in_force());
    EXPECT_EQ(resp.evaluating_version(), "2026.1");
  }

  // The engine decides in the background: BPNT pays A, C, D, E and F.
  {
    CtlResult r = PollCtl({"--json", "beneficiaries", "BPNT", "--region", "52"}, [](const CtlResult& r) {
      return ParseProtoJson<v1::ListBeneficiariesResponse>(r.out).total_families() == 5;
    });
    auto resp = ParseProtoJson<v1::ListBeneficiariesResponse>(r.out);
    EXPECT_EQ(resp.total_yearly_amount(), 5 * 2'400'000) << r;
    EXPECT_EQ(Kks(resp), (std::set<std::string>{A.kk, C.kk, D.kk, E.kk, F.kk})) << r;
    // PKH pays E (one elderly component); the whole engine pass is done when
    // PBI-JK lists its five families too.
    PollCtl({"--json", "beneficiaries", "PBI_JK", "--region", "52"}, [](const CtlResult& r) {
      return ParseProtoJson<v1::ListBeneficiariesResponse>(r.out).total_families() == 5;
    });
    PollCtl({"--json", "beneficiaries", "PKH", "--region", "52"}, [](const CtlResult& r) {
      return ParseProtoJson<v1::ListBeneficiariesResponse>(r.out).total_families() == 1;
    });
  }
  {
    // Human output: a table, the totals in rupiah; pages of two.
    CtlResult r = Ctl({"beneficiaries", "BPNT", "--region", "52.71", "--page-size", "2"});
    ASSERT_EQ(r.exit_code, 0) << r;
    const std::vector<std::string> rows = KkRows(r.out);
    ASSERT_EQ(rows.size(), 2u) << r;
    EXPECT_EQ(rows[0], A.kk) << r;  // by KK number
    EXPECT_THAT(r.out, HasSubstr("total BPNT in 52.71: 5 families, Rp12.000.000 per year")) << r;
    EXPECT_THAT(r.out, HasSubstr("more: --page-token")) << r;
    CtlResult all = Ctl({"beneficiaries", "bpnt", "--region", "52.71", "--page-size", "2", "--all"});
    ASSERT_EQ(all.exit_code, 0) << all;
    EXPECT_EQ(KkRows(all.out).size(), 5u) << all;
    EXPECT_THAT(all.out, Not(HasSubstr("more:"))) << all;
  }
  {
    CtlResult r = Ctl({"rules", "list"});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, ::testing::ContainsRegex("2026\\.1 +[0-9a-f]{12} +2026-01-01 00:00 WIB")) << r;
    EXPECT_THAT(r.out, HasSubstr("the engine evaluates with 2026.1 on " + WibDate())) << r;
  }

  // decision: B's decile is above BPNT's limit; A is paid Rp2.400.000.
  {
    CtlResult r = Ctl({"decision", B.kk, "BPNT"});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, HasSubstr("eligible    no")) << r;
    EXPECT_THAT(r.out, HasSubstr("DECILE_ABOVE_LIMIT")) << r;
    EXPECT_THAT(r.out, HasSubstr("Desil 6 di atas batas 4")) << r;
    EXPECT_THAT(r.out, HasSubstr("Decile 6 is above the limit of 4")) << r;
    EXPECT_THAT(r.out, HasSubstr("recorded    none")) << r;
  }
  {
    CtlResult r = Ctl({"decision", A.kk, "bpnt"});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, HasSubstr("eligible    yes")) << r;
    EXPECT_THAT(r.out, HasSubstr("yearly      Rp2.400.000")) << r;
    EXPECT_THAT(r.out, HasSubstr("decile      2 (DTSEN round 2026-Q3)")) << r;
    EXPECT_THAT(r.out, HasSubstr("rules       2026.1")) << r;
    EXPECT_THAT(r.out, ::testing::ContainsRegex("decision    \\S+ version 1")) << r;
    EXPECT_THAT(r.out, HasSubstr("recorded    agrees")) << r;
    EXPECT_THAT(r.out, HasSubstr("Rp400.000")) << r;  // six stages of two months
    EXPECT_THAT(r.out, HasSubstr("jaring.rules.v1[0]@0")) << r;
    CtlResult j = Ctl({"--json", "decision", A.kk, "BPNT"});
    ASSERT_EQ(j.exit_code, 0) << j;
    auto resp = ParseProtoJson<v1::GetDecisionResponse>(j.out);
    EXPECT_TRUE(resp.decision().eligible());
    EXPECT_EQ(resp.decision().yearly_amount(), 2'400'000);
    EXPECT_EQ(resp.decision().stages_size(), 6);
    EXPECT_TRUE(resp.recorded_agrees());
    EXPECT_EQ(resp.decision().clauses_size(), 0);
  }
  {
    // As of yesterday (the end of it) A had no assessment yet.
    CtlResult r = Ctl({"decision", A.kk, "BPNT", "--as-of", WibDate(-1)});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, HasSubstr("NO_ASSESSMENT")) << r;
    EXPECT_THAT(r.out, HasSubstr("as of       " + WibDate(-1))) << r;
  }
  {
    // PKH for E: the elderly component, its member masked.
    CtlResult r = Ctl({"decision", E.kk, "PKH"});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, HasSubstr("yearly      Rp2.400.000")) << r;
    std::string masked = Mask(E.niks[1]);
    masked = masked.substr(0, 4) + "[*]{10}" + masked.substr(14);
    EXPECT_THAT(r.out, ::testing::ContainsRegex("ELDERLY +" + masked + " +Rp2\\.400\\.000")) << r;
    EXPECT_THAT(FullNiksIn(r.Both(), all_niks), ::testing::IsEmpty()) << r;
  }

  // explain: every clause with its inputs and PASS/FAIL; NIKs masked.
  {
    CtlResult r = Ctl({"explain", B.kk, "BPNT"});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, HasSubstr("FAIL  bpnt.decile")) << r;
    EXPECT_THAT(r.out, HasSubstr("inputs: decile=6 max_decile=4")) << r;
    EXPECT_THAT(r.out, HasSubstr("PASS  bpnt.assessment")) << r;
    EXPECT_THAT(r.out, HasSubstr("Desil 6 di atas batas 4")) << r;
    CtlResult p = Ctl({"explain", E.kk, "PKH"});
    ASSERT_EQ(p.exit_code, 0) << p;
    EXPECT_THAT(p.out, HasSubstr("PASS  pkh.component.elderly:" + Mask(E.niks[1]))) << p;
    EXPECT_THAT(p.out, HasSubstr("FAIL  pkh.component.elderly:" + Mask(E.niks[0]))) << p;
    EXPECT_THAT(p.out, HasSubstr("awarded=true")) << p;
    EXPECT_THAT(FullNiksIn(p.Both(), all_niks), ::testing::IsEmpty()) << p;
    CtlResult j = Ctl({"--json", "explain", B.kk, "BPNT"});
    ASSERT_EQ(j.exit_code, 0) << j;
    auto resp = ParseProtoJson<v1::GetDecisionResponse>(j.out);
    EXPECT_GT(resp.decision().clauses_size(), 0) << j;
  }

  // decisions: what the engine recorded for A (BPNT and PBI-JK, after the
  // rule set took effect).
  {
    CtlResult r = Ctl({"decisions", A.kk});
    ASSERT_EQ(r.exit_code, 0) << r;
    // The first rule set re-evaluates every family (RULE_SET), unless the
    // engine had not yet seen the assessment (then POPULATION_EVENT).
    EXPECT_THAT(r.out, ::testing::ContainsRegex("BPNT +1 +yes +Rp2\\.400\\.000 +(RULE_SET|POPULATION_EVENT) +"
                                                "2026\\.1 +Layak"))
        << r;
    EXPECT_THAT(r.out, ::testing::ContainsRegex("PBI_JK +1 +yes +Rp1\\.008\\.000")) << r;
    EXPECT_THAT(r.out, Not(HasSubstr("PKH"))) << r;
    CtlResult b = Ctl({"decisions", B.kk});
    ASSERT_EQ(b.exit_code, 0) << b;
    EXPECT_THAT(b.out, HasSubstr("no recorded decision")) << b;
  }
  {
    CtlResult r = Ctl({"risks", "--region", "52"});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, HasSubstr("no risks")) << r;
  }

  // A reassessment: A rises to decile 7 (leaves BPNT and PBI-JK), B drops to
  // decile 3 (enters both).
  const std::string before_reassessment = NowRfc3339();
  {
    CtlResult r = Ctl({"assess", "--kk", A.kk, "--round", "2026-Q4", "--decile", "7"});
    ASSERT_EQ(r.exit_code, 0) << r;
    r = Ctl({"assess", "--kk", B.kk, "--round", "2026-Q4", "--decile", "3"});
    ASSERT_EQ(r.exit_code, 0) << r;
  }
  {
    CtlResult r = PollCtl({"--json", "risks", "--region", "52", "--kind", "exclusion"}, [](const CtlResult& r) {
      return ParseProtoJson<v1::ListEligibilityRisksResponse>(r.out).total_exclusion() == 2;
    });
    auto resp = ParseProtoJson<v1::ListEligibilityRisksResponse>(r.out);
    std::set<std::string> programs;
    for (const auto& risk : resp.risks()) {
      EXPECT_EQ(risk.kk_number(), A.kk);
      EXPECT_EQ(risk.kind(), v1::RISK_KIND_EXCLUSION);
      EXPECT_EQ(risk.trigger(), v1::EVALUATION_TRIGGER_POPULATION_EVENT);
      programs.insert(risk.program());
    }
    EXPECT_EQ(programs, (std::set<std::string>{"BPNT", "PBI_JK"})) << r;
    PollCtl({"--json", "beneficiaries", "BPNT", "--region", "52"}, [&](const CtlResult& r) {
      return Kks(ParseProtoJson<v1::ListBeneficiariesResponse>(r.out)) ==
             std::set<std::string>{B.kk, C.kk, D.kk, E.kk, F.kk};
    });
    PollCtl({"--json", "beneficiaries", "PBI_JK", "--region", "52"}, [&](const CtlResult& r) {
      return Kks(ParseProtoJson<v1::ListBeneficiariesResponse>(r.out)) ==
             std::set<std::string>{B.kk, C.kk, D.kk, E.kk, F.kk};
    });
  }
  {
    CtlResult r = Ctl({"risks", "--region", "52.71", "--program", "BPNT", "--kind", "exclusion"});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, ::testing::ContainsRegex("EXCLUSION +" + A.kk + " +52\\.71\\.01\\.1001 +BPNT +7 +4 +"
                                                "Rp2\\.400\\.000 .*POPULATION_EVENT +Desil 7 di atas batas 4"))
        << r;
    EXPECT_THAT(r.out, HasSubstr("1 exclusion risk(s)")) << r;
    CtlResult since = Ctl({"--json", "risks", "--region", "52", "--since", WibDate(1)});
    ASSERT_EQ(since.exit_code, 0) << since;
    EXPECT_EQ(ParseProtoJson<v1::ListEligibilityRisksResponse>(since.out).total_exclusion(), 0) << since;
  }
  {
    CtlResult r = Ctl({"decisions", A.kk, "--program", "BPNT"});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, ::testing::ContainsRegex("BPNT +1 +yes +Rp2\\.400\\.000 ")) << r;
    EXPECT_THAT(r.out, ::testing::ContainsRegex("BPNT +2 +no +Rp0 +POPULATION_EVENT +2026\\.1 +Desil 7 di atas "
                                                "batas 4"))
        << r;
    EXPECT_THAT(r.out, Not(HasSubstr("PBI_JK"))) << r;
  }

  // movements between a time before the reassessment and the end of today.
  {
    CtlResult r = Ctl({"--json", "movements", "--region", "52", "--from", before_reassessment, "--to", WibDate()});
    ASSERT_EQ(r.exit_code, 0) << r;
    auto resp = ParseProtoJson<v1::ListDecileMovementsResponse>(r.out);
    EXPECT_EQ(resp.families(), 6) << r;
    EXPECT_EQ(resp.moved_up(), 1) << r;
    EXPECT_EQ(resp.moved_down(), 1) << r;
    EXPECT_EQ(resp.unchanged(), 4) << r;
    EXPECT_EQ(resp.not_comparable(), 0) << r;
    std::map<std::string, std::pair<int64_t, int64_t>> totals;
    for (const auto& t : resp.program_totals()) totals[t.program()] = {t.entered(), t.left()};
    EXPECT_EQ(totals["BPNT"], (std::pair<int64_t, int64_t>{1, 1})) << r;
    EXPECT_EQ(totals["PBI_JK"], (std::pair<int64_t, int64_t>{1, 1})) << r;
    ASSERT_EQ(resp.movements_size(), 2) << r;
    for (const auto& m : resp.movements()) {
      if (m.kk_number() == A.kk) {
        EXPECT_EQ(m.delta(), 5);
        EXPECT_EQ(m.round_after(), "2026-Q4");
      } else {
        EXPECT_EQ(m.kk_number(), B.kk);
        EXPECT_EQ(m.delta(), -3);
      }
    }
    CtlResult h = Ctl({"movements", "--region", "52", "--from", before_reassessment, "--to", WibDate(),
                       "--include-unchanged"});
    ASSERT_EQ(h.exit_code, 0) << h;
    EXPECT_THAT(h.out, HasSubstr("6 families in 52: moved up 1, moved down 1, unchanged 4, not comparable 0")) << h;
    EXPECT_THAT(h.out, ::testing::ContainsRegex(A.kk + " +52\\.71\\.01\\.1001 +2 +7 +\\+5 +2026-Q3->2026-Q4 +"
                                                "BPNT left \\(Rp2\\.400\\.000\\); PBI_JK left \\(Rp1\\.008\\.000\\)"))
        << h;
    EXPECT_THAT(h.out, ::testing::ContainsRegex(B.kk + " +52\\.71\\.01\\.1001 +6 +3 +-3 +2026-Q3->2026-Q4 +"
                                                "BPNT entered \\(Rp2\\.400\\.000\\)"))
        << h;
    EXPECT_EQ(KkRows(h.out).size(), 6u) << h;
  }
  // ... and between the two DTSEN rounds: only A and B were reassessed.
  {
    CtlResult r = Ctl({"--json", "movements", "--region", "52", "--from-round", "2026-Q3", "--to-round", "2026-Q4"});
    ASSERT_EQ(r.exit_code, 0) << r;
    auto resp = ParseProtoJson<v1::ListDecileMovementsResponse>(r.out);
    EXPECT_EQ(resp.families(), 6) << r;
    EXPECT_EQ(resp.moved_up(), 1) << r;
    EXPECT_EQ(resp.moved_down(), 1) << r;
    EXPECT_EQ(resp.not_comparable(), 4) << r;
  }

  // simulate a draft: BPNT up to decile 3 (C leaves), BLT-DD no longer
  // excluded by BPNT (F, decile 1 without PKH, enters). Nothing appended.
  CopyRuleSet(rules_dir, dir_.Sub("draft"), "2026.2", [](const std::string& file, std::string text) {
    if (file == "bpnt.textproto") return ReplaceOnce(text, "max_decile: 4", "max_decile: 3");
    if (file == "blt_dd.textproto") return ReplaceOnce(text, "excluded_if_eligible_for: \"BPNT\"\n", "");
    return text;
  });
  const std::string draft = dir_.Sub("draft/2026.2");
  v1::SimulateResponse sim;
  {
    CtlResult r = Ctl({"--json", "simulate", draft, "--region", "52"});
    ASSERT_EQ(r.exit_code, 0) << r;
    sim = ParseProtoJson<v1::SimulateResponse>(r.out);
    EXPECT_EQ(sim.current_version(), "2026.1");
    EXPECT_EQ(sim.families(), 6);
    EXPECT_EQ(sim.entering_total(), 1) << r;
    EXPECT_EQ(sim.leaving_total(), 1) << r;
    ASSERT_EQ(sim.entering_size(), 1) << r;
    ASSERT_EQ(sim.leaving_size(), 1) << r;
    EXPECT_EQ(sim.entering(0).kk_number(), F.kk);
    EXPECT_EQ(sim.entering(0).program(), "BLT_DD");
    EXPECT_EQ(sim.entering(0).yearly_amount_after(), 3'600'000);
    EXPECT_EQ(sim.leaving(0).kk_number(), C.kk);
    EXPECT_EQ(sim.leaving(0).program(), "BPNT");
    EXPECT_EQ(sim.amount_changed_total(), 0);

    CtlResult h = Ctl({"simulate", draft, "--region", "52", "--depth", "3", "--max-families", "1"});
    ASSERT_EQ(h.exit_code, 0) << h;
    EXPECT_THAT(h.out, HasSubstr("simulation of draft 2026.2")) << h;
    EXPECT_THAT(h.out, HasSubstr("against 2026.1 in force, 6 families in 52")) << h;
    EXPECT_THAT(h.out, ::testing::ContainsRegex("BPNT +all +5 +4 +0 +1 +Rp12\\.000\\.000 +Rp9\\.600\\.000 +"
                                                "-Rp2\\.400\\.000"))
        << h;
    EXPECT_THAT(h.out, ::testing::ContainsRegex("BLT_DD +52\\.71\\.01 +0 +1 +1 +0 +Rp0 +Rp3\\.600\\.000 +"
                                                "\\+Rp3\\.600\\.000"))
        << h;
    EXPECT_THAT(h.out, ::testing::ContainsRegex(F.kk + " +52\\.71\\.01\\.1001 +BLT_DD +- +Rp3\\.600\\.000")) << h;
    EXPECT_THAT(h.out, HasSubstr("nothing was appended")) << h;
  }
  // The rules and the beneficiaries are as they were.
  std::map<std::string, v1::ListBeneficiariesResponse> before;
  for (const auto& row : sim.rows()) {
    if (!row.region().empty()) continue;
    before[row.program()] = Beneficiaries(row.program());
    EXPECT_EQ(before[row.program()].total_families(), row.families_before()) << row.program();
    EXPECT_EQ(before[row.program()].total_yearly_amount(), row.yearly_cost_before()) << row.program();
  }
  ASSERT_EQ(before.size(), 4u);
  {
    CtlResult list = Ctl({"--json", "rules", "list"});
    ASSERT_EQ(list.exit_code, 0) << list;
    EXPECT_EQ(ParseProtoJson<v1::ListRuleSetsResponse>(list.out).rule_sets_size(), 1) << list;
  }

  // Publish the draft from today: the beneficiaries move by exactly the
  // simulated delta.
  {
    CtlResult r = Ctl({"rules", "publish", draft, "--effective-from", WibDate(), "--actor", "e2e"});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, HasSubstr("published rule set 2026.2")) << r;
    EXPECT_THAT(r.out, HasSubstr("effective from  " + WibDate() + " 00:00 WIB")) << r;
    EXPECT_THAT(r.out, HasSubstr("jaring.rules.v1[0]@1")) << r;
    EXPECT_THAT(r.out, HasSubstr("in force now    yes")) << r;
  }
  for (const auto& row : sim.rows()) {
    if (!row.region().empty()) continue;
    CtlResult r = PollCtl({"--json", "beneficiaries", row.program(), "--region", "52"}, [&](const CtlResult& r) {
      auto resp = ParseProtoJson<v1::ListBeneficiariesResponse>(r.out);
      return resp.total_families() == row.families_after() && resp.total_yearly_amount() == row.yearly_cost_after();
    });
    auto after = ParseProtoJson<v1::ListBeneficiariesResponse>(r.out);
    EXPECT_EQ(after.total_families() - before[row.program()].total_families(), row.entering() - row.leaving())
        << row.program();
    EXPECT_EQ(after.total_yearly_amount() - before[row.program()].total_yearly_amount(), row.yearly_cost_delta())
        << row.program();
  }
  EXPECT_EQ(Kks(Beneficiaries("BLT_DD")), std::set<std::string>{F.kk});
  EXPECT_EQ(Kks(Beneficiaries("BPNT")), (std::set<std::string>{B.kk, D.kk, E.kk, F.kk}));
  {
    CtlResult list = Ctl({"--json", "rules", "list"});
    ASSERT_EQ(list.exit_code, 0) << list;
    auto resp = ParseProtoJson<v1::ListRuleSetsResponse>(list.out);
    ASSERT_EQ(resp.rule_sets_size(), 2) << list;
    EXPECT_FALSE(resp.rule_sets(0).in_force());
    EXPECT_TRUE(resp.rule_sets(1).in_force());
    EXPECT_EQ(resp.evaluating_version(), "2026.2");
    CtlResult d = Ctl({"decisions", C.kk, "--program", "BPNT"});
    ASSERT_EQ(d.exit_code, 0) << d;
    EXPECT_THAT(d.out, ::testing::ContainsRegex("BPNT +2 +no +Rp0 +RULE_SET +2026\\.2 +Desil 4 di atas batas 3")) << d;
  }
}

// --- Ledger ------------------------------------------------------------------

// The lines of a CSV file of ours (the channel files: "\r\n" line ends, no
// quoted fields in these tests), each split at its commas; the header first.
std::vector<std::vector<std::string>> CsvRows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    EXPECT_EQ(line.find('"'), std::string::npos) << line;
    std::vector<std::string> fields;
    std::string field;
    std::istringstream fin(line);
    while (std::getline(fin, field, ',')) fields.push_back(field);
    if (line.back() == ',') fields.push_back("");
    rows.push_back(fields);
  }
  return rows;
}

// A statement in the channel's format (libs/ledger/README.md, "Channel
// statement"): the header, then `lines` as they are, "\r\n" line ends.
std::string Statement(const std::vector<std::string>& lines) {
  std::string out = "reference,status,amount,channel_reference,settled_on\r\n";
  for (const auto& l : lines) out += l + "\r\n";
  return out;
}

// The value after "<label> " on a line of `out` (up to the end of the word).
std::string Word(const std::string& out, const std::string& label) {
  std::smatch m;
  if (!std::regex_search(out, m, std::regex(label + R"(\s+(\S+))"))) return "";
  return m[1];
}

using JaringctlLedgerE2eTest = JaringctlEligibilityE2eTest;

// Budget, cycle, channel files, reconciliation, closing, proofs and the
// journal check, all through jaringctl: six families of Mataram, five of
// them BPNT beneficiaries (Rp400.000 for the two months 11/12).
TEST_F(JaringctlLedgerE2eTest, BudgetCycleStatementCloseProofAndVerify) {
  const std::vector<EligibilityFamily> families = {
      {"5271011503210001", 1, {"5271011506800011"}}, {"5271011503210002", 1, {"5271014302820012"}},
      {"5271011503210003", 2, {"5271012007790013"}}, {"5271011503210004", 3, {"5271014511850014"}},
      {"5271011503210005", 4, {"5271011204850015"}}, {"5271011503210006", 6, {"5271011001750016"}},
  };
  const std::vector<std::vector<std::string>> people = {
      {"Lalu Ahmad", "L", "1980-06-15"},   {"Baiq Nur", "P", "1982-02-03"},    {"Ketut Arsa", "L", "1979-07-20"},
      {"Siti Rahmah", "P", "1985-11-05"},  {"Muhammad Zaini", "L", "1985-04-12"}, {"Made Wirawan", "L", "1975-01-10"},
  };
  std::set<std::string> all_niks;
  std::string csv = std::string(synth::kCsvHeader) + "\n";
  for (size_t i = 0; i < families.size(); ++i) {
    const EligibilityFamily& f = families[i];
    all_niks.insert(f.niks[0]);
    csv += f.kk + ",52.71.01.1001,Jl. Pejanggik " + f.kk.substr(15) + "," + f.niks[0] + "," + people[i][0] + "," +
           people[i][1] + "," + people[i][2] + ",KEPALA_KELUARGA,,TIDAK,TIDAK_SEKOLAH,N,N,,2020-03-15,\n";
  }
  WriteFile(dir_.Sub("families.csv"), csv);
  {
    CtlResult r = Ctl({"import", dir_.Sub("families.csv")});
    ASSERT_EQ(r.exit_code, 0) << r;
    auto s = ParseImportSummary(r.out);
    ASSERT_TRUE(s.has_value()) << r;
    ASSERT_EQ(s->imported, 6) << r;
  }
  for (const auto& f : families) {
    CtlResult r = Ctl({"assess", "--kk", f.kk, "--round", "2026-Q3", "--decile", std::to_string(f.decile)});
    ASSERT_EQ(r.exit_code, 0) << r;
  }
  {
    CtlResult r = Ctl({"rules", "publish", std::string(JARING_RULES_DIR) + "/2026.1"});
    ASSERT_EQ(r.exit_code, 0) << r;
  }
  // BPNT pays stages of the decision's year: the last two months of this one.
  const std::string period = WibDate().substr(0, 4) + "-11/12";
  PollCtl({"--json", "beneficiaries", "BPNT", "--region", "52.71"}, [](const CtlResult& r) {
    auto resp = ParseProtoJson<v1::ListBeneficiariesResponse>(r.out);
    return resp.total_families() == 5 && resp.total_yearly_amount() == 5 * 2'400'000;
  });
  // A budget too small for the five families.
  {
    CtlResult r = Ctl({"budget", "allocate", "BPNT", "--region", "52.71", "--period", period, "--amount",
                       "Rp1.500.000"});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, HasSubstr("allocated Rp1.500.000 to budget BPNT 52.71 " + period)) << r;
    EXPECT_THAT(r.out, HasSubstr("available Rp1.500.000")) << r;
    // The same command again: one allocation.
    CtlResult again = Ctl({"--json", "budget", "allocate", "BPNT", "--region", "52.71", "--period", period,
                           "--amount", "1500000"});
    ASSERT_EQ(again.exit_code, 0) << again;
    auto resp = ParseProtoJson<v1::AllocateBudgetResponse>(again.out);
    EXPECT_TRUE(resp.deduplicated()) << again;
    EXPECT_EQ(resp.available(), 1'500'000) << again;
  }
  // A dry run answers even with the budget short: it shows what the cycle
  // needs (the ledger reads every decision on the log before answering).
  const std::string shortfall = "jaringctl: FAILED_PRECONDITION: budget budget/BPNT/52.71/" + period +
                                " has Rp1.500.000 available; the cycle needs Rp2.000.000 for 5 families: short by "
                                "Rp500.000";
  {
    CtlResult r = Ctl({"--json", "cycle", "open", "BPNT", "--period", period, "--region", "52.71", "--cutoff",
                       "now", "--channel", "bank", "--dry-run"});
    ASSERT_EQ(r.exit_code, 0) << r;
    auto resp = ParseProtoJson<v1::OpenCycleResponse>(r.out);
    EXPECT_EQ(resp.families(), 5) << r;
    EXPECT_EQ(resp.total_amount(), 2'000'000) << r;
    EXPECT_EQ(resp.budget_available(), 1'500'000) << r;
  }
  // Open it for real: refused, nothing appended.
  const std::string cutoff = NowRfc3339();
  const std::vector<std::string> open = {"cycle", "open",     "BPNT", "--period",  period, "--region",
                                         "52.71", "--cutoff", cutoff, "--channel", "bank"};
  {
    CtlResult before = Ctl({"--json", "accounts"});
    ASSERT_EQ(before.exit_code, 0) << before;
    CtlResult r = Ctl(open);
    EXPECT_EQ(r.exit_code, 1) << r;
    EXPECT_THAT(r.err, HasSubstr(shortfall)) << r;
    EXPECT_THAT(r.err, HasSubstr("nothing was appended")) << r;
    CtlResult after = Ctl({"--json", "accounts"});
    ASSERT_EQ(after.exit_code, 0) << after;
    EXPECT_EQ(after.out, before.out);
  }
  {
    CtlResult r = Ctl({"budget", "allocate", "BPNT", "--region", "52.71", "--period", period, "--amount", "1.000.000"});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, HasSubstr("available Rp2.500.000")) << r;
  }
  std::string cycle_id;
  {
    CtlResult r = Ctl({"--json", "cycle", "open", "BPNT", "--period", period, "--region", "52.71", "--cutoff", cutoff,
                       "--channel", "bank", "--dry-run"});
    ASSERT_EQ(r.exit_code, 0) << r;
    auto resp = ParseProtoJson<v1::OpenCycleResponse>(r.out);
    EXPECT_EQ(resp.families(), 5) << r;
    EXPECT_EQ(resp.total_amount(), 2'000'000) << r;
    EXPECT_EQ(resp.budget_available(), 2'500'000) << r;
    EXPECT_EQ(resp.entitlements_size(), 5) << r;
    cycle_id = resp.cycle_id();
    ASSERT_FALSE(cycle_id.empty()) << r;
    CtlResult h = Ctl({"cycle", "open", "bpnt", "--period", period, "--region", "52.71", "--cutoff", cutoff,
                       "--channel", "post", "--dry-run"});
    ASSERT_EQ(h.exit_code, 0) << h;
    EXPECT_THAT(h.out, HasSubstr("dry run, nothing appended")) << h;
    EXPECT_THAT(h.out, ::testing::ContainsRegex("families +5")) << h;
    EXPECT_THAT(h.out, ::testing::ContainsRegex("total +Rp2\\.000\\.000")) << h;
    EXPECT_EQ(KkRows(h.out).size(), 5u) << h;
    EXPECT_THAT(h.out, Not(HasSubstr(families[5].kk))) << h;
    // Nothing was appended by the refused open nor the dry runs.
    CtlResult show = Ctl({"cycle", "show", cycle_id});
    EXPECT_EQ(show.exit_code, 1) << show;
    EXPECT_THAT(show.err, HasSubstr("jaringctl: NOT_FOUND: cycle_id")) << show;
  }
  {
    CtlResult r = Ctl(open);
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, HasSubstr("opened cycle " + cycle_id + " (BPNT " + period + " in 52.71)")) << r;
    EXPECT_THAT(r.out, ::testing::ContainsRegex("families +5\n")) << r;
    EXPECT_THAT(r.out, ::testing::ContainsRegex("total +Rp2\\.000\\.000\n")) << r;
    EXPECT_THAT(r.out, HasSubstr("budget available  Rp2.500.000 before the cycle, Rp500.000 after")) << r;
    EXPECT_THAT(r.out, HasSubstr("skipped           0 without a living member")) << r;
    // Opening it again appends nothing.
    CtlResult again = Ctl({"--json", "cycle", "open", "BPNT", "--period", period, "--region", "52.71", "--cutoff",
                           "now", "--channel", "bank"});
    ASSERT_EQ(again.exit_code, 0) << again;
    auto resp = ParseProtoJson<v1::OpenCycleResponse>(again.out);
    EXPECT_TRUE(resp.existing()) << again;
    EXPECT_EQ(resp.cycle_id(), cycle_id);
    EXPECT_EQ(resp.families(), 5);
  }

  // export: the channel's file.
  const std::string instructions = dir_.Sub("instructions.csv");
  std::vector<std::vector<std::string>> rows;
  {
    CtlResult r = Ctl({"cycle", "export", cycle_id, "--out", instructions});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, HasSubstr("exported 5 instruction(s), total Rp2.000.000, to " + instructions)) << r;
    const std::string text = ReadAll(instructions);
    rows = CsvRows(text);
    ASSERT_EQ(rows.size(), 6u) << text;
    EXPECT_EQ(rows[0], (std::vector<std::string>{"reference", "kk_number", "region_code", "recipient_name", "program",
                                                 "period", "amount"}));
    std::set<std::string> kks;
    for (size_t i = 1; i < rows.size(); ++i) {
      ASSERT_EQ(rows[i].size(), 7u) << text;
      kks.insert(rows[i][1]);
      EXPECT_EQ(rows[i][4], "BPNT");
      EXPECT_EQ(rows[i][5], period);
      EXPECT_EQ(rows[i][6], "400000");
    }
    EXPECT_EQ(kks.size(), 5u) << text;
    EXPECT_EQ(kks.count(families[5].kk), 0u) << text;
    EXPECT_THAT(text, Not(HasSubstr("Lalu Ahmad"))) << text;  // names masked
    EXPECT_THAT(FullNiksIn(text, all_niks), ::testing::IsEmpty());
    // An existing file is never overwritten: nothing is asked of the service.
    CtlResult again = Ctl({"cycle", "export", cycle_id, "--out", instructions});
    EXPECT_EQ(again.exit_code, 2) << again;
    EXPECT_THAT(again.err, HasSubstr("--out: " + instructions + " exists")) << again;
  }

  // The statement: three paid, one failed, one with a wrong amount, one
  // malformed line.
  const std::string today = WibDate();
  const std::string statement = dir_.Sub("statement.csv");
  WriteFile(statement, Statement({
                           rows[1][0] + ",PAID,400000,BRI-0001," + today,    // line 2
                           rows[2][0] + ",PAID,400000,BRI-0002," + today,    // line 3
                           rows[3][0] + ",paid,400000,BRI-0003," + today,    // line 4
                           rows[4][0] + ",FAILED,400000,BRI-REJ-4," + today,  // line 5
                           rows[5][0] + ",PAID,40000,BRI-0005," + today,     // line 6: wrong amount
                           "JRG-SOMETHING,PAID,400000",                      // line 7: malformed
                       }));
  {
    CtlResult r = Ctl({"cycle", "import", cycle_id, statement});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, HasSubstr(": 6 line(s)")) << r;
    EXPECT_THAT(r.out, ::testing::ContainsRegex("paid +3 \\(Rp1\\.200\\.000\\)")) << r;
    EXPECT_THAT(r.out, ::testing::ContainsRegex("failed +1 ")) << r;
    EXPECT_THAT(r.out, ::testing::ContainsRegex("returned +0 ")) << r;
    EXPECT_THAT(r.out, ::testing::ContainsRegex("already applied +0 ")) << r;
    EXPECT_THAT(r.out, ::testing::ContainsRegex("not applied +2\n")) << r;
    EXPECT_THAT(r.out, HasSubstr("line 6: amount Rp40.000 disagrees with the instruction's Rp400.000")) << r;
    EXPECT_THAT(r.out, HasSubstr("line 7: expected 5 columns")) << r;
    EXPECT_THAT(r.out, HasSubstr("2 of 6 line(s) were NOT applied")) << r;
    // The same statement again: what was applied is not applied twice.
    CtlResult again = Ctl({"--json", "cycle", "import", cycle_id, statement});
    ASSERT_EQ(again.exit_code, 0) << again;
    auto resp = ParseProtoJson<v1::ImportStatementResponse>(again.out);
    EXPECT_EQ(resp.lines(), 6) << again;
    EXPECT_EQ(resp.paid(), 0) << again;
    EXPECT_EQ(resp.already_applied(), 4) << again;
    ASSERT_EQ(resp.problems_size(), 2) << again;
    std::set<int> lines;
    for (const auto& p : resp.problems()) lines.insert(p.line_number());
    EXPECT_EQ(lines, (std::set<int>{6, 7})) << again;
  }
  {
    CtlResult r = Ctl({"--json", "accounts"});
    ASSERT_EQ(r.exit_code, 0) << r;
    auto resp = ParseProtoJson<v1::ListAccountsResponse>(r.out);
    EXPECT_GT(resp.accounts_size(), 5) << r;
    int64_t sum = 0;
    for (const auto& a : resp.accounts()) sum += a.balance();
    EXPECT_EQ(sum, 0) << r;
    EXPECT_EQ(resp.sum(), 0) << r;
    CtlResult h = Ctl({"accounts", "--prefix", "budget/"});
    ASSERT_EQ(h.exit_code, 0) << h;
    EXPECT_THAT(h.out, ::testing::ContainsRegex("budget/BPNT/52\\.71/" + period.substr(0, 4) + "-11/12 +-Rp500\\.000"))
        << h;
    CtlResult all = Ctl({"accounts"});
    ASSERT_EQ(all.exit_code, 0) << all;
    EXPECT_THAT(all.out, HasSubstr("sum Rp0 (balanced")) << all;
  }
  {
    CtlResult r = Ctl({"cycle", "show", cycle_id});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, ::testing::ContainsRegex("program +BPNT\n")) << r;
    EXPECT_THAT(r.out, ::testing::ContainsRegex("channel +bank\n")) << r;
    EXPECT_THAT(r.out, HasSubstr("entitled     Rp2.000.000 (agrees with the cycle total)")) << r;
    EXPECT_THAT(r.out, HasSubstr("instructed 5 (attempts), paid 3, failed 1, returned 0, outstanding 1")) << r;
    EXPECT_THAT(r.out, ::testing::ContainsRegex("52\\.71\\.01\\.1001 +5 +Rp2\\.000\\.000")) << r;
    EXPECT_THAT(r.out, Not(HasSubstr("DISAGREES"))) << r;
  }

  // A retry run: the failed payment is instructed again; its statement and
  // the corrected line settle the cycle.
  {
    const std::string retry = dir_.Sub("retry.csv");
    CtlResult r = Ctl({"cycle", "export", cycle_id, "--out", retry});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, HasSubstr("exported 1 instruction(s), total Rp400.000")) << r;
    auto retry_rows = CsvRows(ReadAll(retry));
    ASSERT_EQ(retry_rows.size(), 2u);
    EXPECT_EQ(retry_rows[1][1], rows[4][1]);  // the family whose payment failed
    EXPECT_NE(retry_rows[1][0], rows[4][0]);  // a new reference
    const std::string second = dir_.Sub("statement-2.csv");
    WriteFile(second, Statement({retry_rows[1][0] + ",PAID,400000,BRI-0006," + today,
                                 rows[5][0] + ",PAID,400000,BRI-0005," + today}));
    CtlResult imp = Ctl({"cycle", "import", cycle_id, second});
    ASSERT_EQ(imp.exit_code, 0) << imp;
    EXPECT_THAT(imp.out, ::testing::ContainsRegex("paid +2 \\(Rp800\\.000\\)")) << imp;
    EXPECT_THAT(imp.out, HasSubstr("every line applied")) << imp;
    CtlResult fam = Ctl({"ledger", "family", rows[4][1]});
    ASSERT_EQ(fam.exit_code, 0) << fam;
    EXPECT_THAT(fam.out, ::testing::ContainsRegex("BPNT +" + period.substr(0, 4) + "-11/12 +52\\.71\\.01\\.1001 +"
                                                  "Rp400\\.000 +paid +" + retry_rows[1][0] + " +2 +BRI-0006 +" +
                                                  today))
        << fam;
    EXPECT_THAT(FullNiksIn(fam.Both(), all_niks), ::testing::IsEmpty()) << fam;
  }

  // close: the root and the entry count.
  std::string root;
  std::string entries;
  {
    CtlResult r = Ctl({"cycle", "close", cycle_id});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.err, Not(HasSubstr("outstanding"))) << r;
    root = Word(r.out, "Merkle root");
    entries = Word(r.out, "entries");
    EXPECT_THAT(root, ::testing::MatchesRegex("[0-9a-f]{64}")) << r;
    auto show = ParseProtoJson<v1::GetCycleResponse>(Ctl({"--json", "cycle", "show", cycle_id}).out);
    EXPECT_TRUE(show.closed());
    EXPECT_EQ(show.merkle_root(), root);
    EXPECT_EQ(std::to_string(show.entries()), entries);
    EXPECT_EQ(show.paid(), 5);
    EXPECT_EQ(show.outstanding(), 0);
    CtlResult h = Ctl({"cycle", "show", cycle_id});
    EXPECT_THAT(h.out, HasSubstr("closed: Merkle root " + root + " over " + entries + " entries")) << h;
    // A closed cycle takes no statement.
    CtlResult imp = Ctl({"cycle", "import", cycle_id, statement});
    EXPECT_EQ(imp.exit_code, 1) << imp;
    EXPECT_THAT(imp.err, HasSubstr("FAILED_PRECONDITION")) << imp;
  }

  // proof for one family, checked against the published root.
  const std::string& kk = rows[1][1];
  const std::string proof = dir_.Sub("proof.txt");
  {
    CtlResult r = Ctl({"proof", cycle_id, kk, "--out", proof});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(ReadAll(proof), ::testing::StartsWith("jaring-ledger-proof v1\n"));
    CtlResult v = Ctl({"verify-proof", proof, "--cycle", cycle_id});
    EXPECT_EQ(v.exit_code, 0) << v;
    EXPECT_THAT(v.out, HasSubstr("family     KK " + kk)) << v;
    EXPECT_THAT(v.out, HasSubstr("entitled   BPNT " + period + ": Rp400.000")) << v;
    EXPECT_THAT(v.out, HasSubstr("OK: the entry is in the tree of that root and the root and size are the published "
                                 "ones"))
        << v;
    EXPECT_THAT(v.err, Not(HasSubstr("warning"))) << v;
    // Offline, with the published root and count.
    CtlResult offline = RunCtl(dir_, {"verify-proof", proof, "--root", root, "--entries", entries});
    EXPECT_EQ(offline.exit_code, 0) << offline;
    CtlResult json = RunCtl(dir_, {"--json", "verify-proof", proof, "--root", root, "--entries", entries});
    EXPECT_EQ(json.exit_code, 0) << json;
    nlohmann::json j = nlohmann::json::parse(json.out, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(j.is_discarded()) << json;
    EXPECT_EQ(j.value("ok", false), true) << json;
    EXPECT_EQ(j["entry"]["entitlementCreated"].value("kkNumber", ""), kk) << json;
    // Another entry count: refused.
    CtlResult size = RunCtl(dir_, {"verify-proof", proof, "--root", root, "--entries",
                                   std::to_string(std::stoll(entries) + 1)});
    EXPECT_EQ(size.exit_code, 1) << size;
    // Without a published root: OK, with a warning.
    CtlResult alone = RunCtl(dir_, {"verify-proof", proof});
    EXPECT_EQ(alone.exit_code, 0) << alone;
    EXPECT_THAT(alone.err, HasSubstr("warning: the root was NOT compared with a published one")) << alone;
    // One byte changed: refused.
    std::string text = ReadAll(proof);
    const size_t at = text.find("\nroot ") + 6;  // a hex digit of the root: still well formed
    ASSERT_LT(at, text.size());
    text[at] = text[at] == '0' ? '1' : '0';
    const std::string tampered = dir_.Sub("proof-tampered.txt");
    WriteFile(tampered, text);
    CtlResult bad = Ctl({"verify-proof", tampered, "--cycle", cycle_id});
    EXPECT_EQ(bad.exit_code, 1) << bad;
    EXPECT_THAT(bad.out, HasSubstr("FAILED")) << bad;
    EXPECT_THAT(bad.err, HasSubstr("jaringctl: DATA_LOSS")) << bad;
    CtlResult bad_alone = RunCtl(dir_, {"verify-proof", tampered});
    EXPECT_EQ(bad_alone.exit_code, 1) << bad_alone;
    // An open or unknown cycle has no proof.
    CtlResult unknown = Ctl({"proof", "no-such-cycle", kk, "--out", dir_.Sub("p2.txt")});
    EXPECT_EQ(unknown.exit_code, 1) << unknown;
    EXPECT_THAT(unknown.err, HasSubstr("NOT_FOUND")) << unknown;
  }

  // A death reported late: the family was paid although its only member had
  // died before the cutoff; the ledger raises a recovery claim.
  {
    std::string nik;
    for (const auto& f : families) {
      if (f.kk == kk) nik = f.niks[0];
    }
    ASSERT_FALSE(nik.empty()) << kk;
    CtlResult r = Ctl({"death", "--kk", kk, "--nik", nik, "--date", WibDate(-1)});
    ASSERT_EQ(r.exit_code, 0) << r;
    CtlResult c = PollCtl({"--json", "claims", "--region", "52.71"}, [](const CtlResult& r) {
      return ParseProtoJson<v1::ListRecoveryClaimsResponse>(r.out).claims_size() == 1;
    });
    auto resp = ParseProtoJson<v1::ListRecoveryClaimsResponse>(c.out);
    EXPECT_EQ(resp.total_amount(), 400'000) << c;
    ASSERT_EQ(resp.claims_size(), 1) << c;
    EXPECT_EQ(resp.claims(0).kk_number(), kk) << c;
    CtlResult h = Ctl({"claims"});
    ASSERT_EQ(h.exit_code, 0) << h;
    EXPECT_THAT(h.out, HasSubstr("1 open recovery claim(s), Rp400.000 to recover")) << h;
    CtlResult f = Ctl({"ledger", "family", kk});
    ASSERT_EQ(f.exit_code, 0) << f;
    EXPECT_THAT(f.out, HasSubstr("total to recover: Rp400.000")) << f;
    CtlResult none = Ctl({"claims", "--region", "35"});
    ASSERT_EQ(none.exit_code, 0) << none;
    EXPECT_THAT(none.out, HasSubstr("no recovery claims in 35")) << none;
  }

  {
    CtlResult r = Ctl({"verify-ledger"});
    EXPECT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, HasSubstr("ledger OK")) << r;
    EXPECT_THAT(r.out, HasSubstr("1 closed cycle(s)")) << r;
    CtlResult j = Ctl({"--json", "verify-ledger"});
    ASSERT_EQ(j.exit_code, 0) << j;
    auto resp = ParseProtoJson<v1::VerifyLedgerResponse>(j.out);
    EXPECT_TRUE(resp.ok());
    EXPECT_GT(resp.entries(), std::stoll(entries));
  }

  // Bad arguments (exit 2) and an unknown cycle (NOT_FOUND, exit 1).
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"cycle", "open", "BPNT", "--region", "52.71", "--cutoff", "now", "--channel", "bank"},
           {"cycle", "open", "BPNT", "--period", period, "--region", "52.71", "--cutoff", "now", "--channel", "ship"},
           {"cycle", "open", "BPNT", "--period", period, "--region", "52.71", "--cutoff", "kemarin", "--channel",
            "bank"},
           {"budget", "allocate", "BPNT", "--region", "52.71", "--period", period, "--amount", "12a"},
           {"budget", "allocate", "BPNT", "--region", "52.71", "--period", period, "--amount", "1.5"},
       }) {
    CtlResult r = Ctl(args);
    EXPECT_EQ(r.exit_code, 2) << ::testing::PrintToString(args) << "\n" << r;
  }
  {
    CtlResult r = Ctl({"cycle", "open", "BPNT", "--period", period, "--region", "52.71", "--cutoff", "now",
                       "--channel", "ship"});
    EXPECT_THAT(r.err, HasSubstr("--channel: unknown value \"ship\" (bank or post)")) << r;
  }
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"cycle", "show", "no-such-cycle"},
           {"cycle", "close", "no-such-cycle"},
           {"cycle", "export", "no-such-cycle", "--out", dir_.Sub("none.csv")},
           {"cycle", "import", "no-such-cycle", statement},
           {"verify-proof", proof, "--cycle", "no-such-cycle"},
       }) {
    CtlResult r = Ctl(args);
    EXPECT_EQ(r.exit_code, 1) << ::testing::PrintToString(args) << "\n" << r;
    EXPECT_THAT(r.err, HasSubstr("jaringctl: NOT_FOUND: cycle_id: no cycle no-such-cycle"))
        << ::testing::PrintToString(args) << "\n"
        << r;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("none.csv")));
}

// --- Appeals -----------------------------------------------------------------

using JaringctlAppealsE2eTest = JaringctlEligibilityE2eTest;

// The appeals commands against a real `jaring serve`: a family of Mataram
// whose decile is above BPNT's limit files a data correction, which is
// assigned, verified and upheld with a corrected decile; eligibility
// re-derives on its own until the appeal shows the resulting (eligible)
// decision. Then an objection window, a neighbour's exclusion report against
// that decision, an illegal transition (exit 1, FAILED_PRECONDITION), its
// withdrawal by the reporter only, the work queue, stats, breaches, a
// policy, and bad arguments (exit 2 naming the flag, nothing sent).
TEST_F(JaringctlAppealsE2eTest, CorrectionUpheldExclusionReportWithdrawnQueueAndStats) {
  // X: decile 7 (above BPNT's limit of 4: no BPNT decision), two adults. Y:
  // decile 2 (BPNT), so the engine has visibly run.
  const EligibilityFamily X{"5271011503220001", 7, {"5271011506800021", "5271014302820022"}};
  const EligibilityFamily Y{"5271011503220002", 2, {"5271012007790023"}};
  const std::string neighbour = "5271011708800031";  // reports X; not in any family here
  std::set<std::string> all_niks = {neighbour};
  for (const auto* f : {&X, &Y}) all_niks.insert(f->niks.begin(), f->niks.end());
  {
    auto row = [](const EligibilityFamily& f, size_t member, const std::string& name, const std::string& sex,
                  const std::string& born, const std::string& relationship) {
      return f.kk + ",52.71.01.1001,Jl. Pejanggik " + f.kk.substr(15) + "," + f.niks[member] + "," + name + "," +
             sex + "," + born + "," + relationship + ",,TIDAK,TIDAK_SEKOLAH,N,N,,2020-03-15,\n";
    };
    WriteFile(dir_.Sub("appeals.csv"), std::string(synth::kCsvHeader) + "\n" +                   //
                                           row(X, 0, "Lalu Ahmad", "L", "1980-06-15", "KEPALA_KELUARGA") +  //
                                           row(X, 1, "Baiq Nur", "P", "1982-02-03", "ISTRI") +              //
                                           row(Y, 0, "Ketut Arsa", "L", "1979-07-20", "KEPALA_KELUARGA"));
    CtlResult r = Ctl({"import", dir_.Sub("appeals.csv")});
    ASSERT_EQ(r.exit_code, 0) << r;
    auto s = ParseImportSummary(r.out);
    ASSERT_TRUE(s.has_value()) << r;
    ASSERT_EQ(s->imported, 2) << r;
    for (const auto* f : {&X, &Y}) {
      CtlResult a = Ctl({"assess", "--kk", f->kk, "--round", "2026-Q3", "--decile", std::to_string(f->decile)});
      ASSERT_EQ(a.exit_code, 0) << a;
    }
    CtlResult p = Ctl({"rules", "publish", std::string(JARING_RULES_DIR) + "/2026.1"});
    ASSERT_EQ(p.exit_code, 0) << p;
  }
  // The engine decides on its own: BPNT lists Y only.
  {
    CtlResult r = PollCtl({"--json", "beneficiaries", "BPNT", "--region", "52.71"}, [](const CtlResult& r) {
      return ParseProtoJson<v1::ListBeneficiariesResponse>(r.out).total_families() == 1;
    });
    EXPECT_EQ(Kks(ParseProtoJson<v1::ListBeneficiariesResponse>(r.out)), std::set<std::string>{Y.kk}) << r;
    CtlResult d = Ctl({"decision", X.kk, "BPNT"});
    ASSERT_EQ(d.exit_code, 0) << d;
    EXPECT_THAT(d.out, HasSubstr("eligible    no")) << d;
    EXPECT_THAT(d.out, HasSubstr("recorded    none")) << d;
  }

  // appeal file: a data correction by the head; X has no BPNT decision, so
  // it names the program. The random request id is printed; repeating the
  // command with it files nothing more.
  std::string correction_id;
  {
    CtlResult r = Ctl({"appeal", "file", "--kind", "correction", "--kk", X.kk, "--program", "bpnt", "--filer",
                       "member", "--filer-nik", X.niks[0], "--statement",
                       "Desil kami salah: rumah kami semi permanen, kepala keluarga buruh harian"});
    ASSERT_EQ(r.exit_code, 0) << r;
    correction_id = Word(r.out, "filed appeal");
    ASSERT_FALSE(correction_id.empty()) << r;
    EXPECT_THAT(r.out, HasSubstr("kind                data correction")) << r;
    EXPECT_THAT(r.out, HasSubstr("family              KK " + X.kk + ", region 52.71.01.1001, program BPNT")) << r;
    EXPECT_THAT(r.out, ::testing::ContainsRegex("state +filed")) << r;
    EXPECT_THAT(r.out, ::testing::ContainsRegex("verification due +[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{5} WIB, pending "
                                                "\\(14 days left\\)"))
        << r;
    EXPECT_THAT(r.out, ::testing::ContainsRegex("decision due +[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{5} WIB, pending "
                                                "\\(30 days left\\)"))
        << r;
    EXPECT_THAT(r.out, HasSubstr("contested decision  none")) << r;
    const std::string rid = Word(r.out, "request id");
    ASSERT_FALSE(rid.empty()) << r;
    EXPECT_THAT(r.out, HasSubstr("--request-id " + rid)) << r;
    EXPECT_THAT(FullNiksIn(r.Both(), all_niks), ::testing::IsEmpty()) << r;

    CtlResult again = Ctl({"appeal", "file", "--kind", "correction", "--kk", X.kk, "--program", "bpnt", "--filer",
                           "member", "--filer-nik", X.niks[0], "--statement",
                           "Desil kami salah: rumah kami semi permanen, kepala keluarga buruh harian", "--request-id",
                           rid});
    ASSERT_EQ(again.exit_code, 0) << again;
    EXPECT_THAT(again.out, HasSubstr("existing appeal " + correction_id + ": nothing appended")) << again;
    // The same id with another statement is another request: refused, naming
    // request_id, and nothing of the first appeal is told.
    CtlResult other = Ctl({"appeal", "file", "--kind", "correction", "--kk", X.kk, "--program", "bpnt", "--filer",
                           "member", "--filer-nik", X.niks[0], "--statement", "Desil kami salah", "--request-id", rid});
    EXPECT_EQ(other.exit_code, 1) << other;
    EXPECT_THAT(other.err, HasSubstr("INVALID_ARGUMENT: request_id")) << other;
    EXPECT_THAT(other.Both(), Not(HasSubstr(correction_id))) << other;
    // Another request id, the same family, program and kind: the open one.
    CtlResult j = Ctl({"--json", "appeal", "file", "--kind", "data-correction", "--kk", X.kk, "--program", "BPNT",
                       "--filer", "member", "--filer-nik", X.niks[0], "--statement", "Desil kami salah"});
    ASSERT_EQ(j.exit_code, 0) << j;
    auto resp = ParseProtoJson<v1::FileAppealResponse>(j.out);
    EXPECT_TRUE(resp.existing()) << j;
    EXPECT_EQ(resp.appeal().appeal_id(), correction_id) << j;
    EXPECT_EQ(resp.appeal().kind(), v1::APPEAL_KIND_DATA_CORRECTION) << j;
  }
  {
    CtlResult r = Ctl({"appeal", "assign", correction_id, "--verifier", "V-07"});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, HasSubstr("assigned verifier V-07 to appeal " + correction_id)) << r;
    EXPECT_THAT(r.out, ::testing::ContainsRegex("state +assigned")) << r;
  }
  {
    CtlResult r = Ctl({"--json", "appeal", "verify", correction_id, "--verifier", "V-07", "--findings",
                       "Kunjungan lapangan: rumah semi permanen", "--evidence", "FOTO-2026-11-001", "--evidence",
                       "BA-VERIF-17", "--recommend", "upheld"});
    ASSERT_EQ(r.exit_code, 0) << r;
    auto resp = ParseProtoJson<v1::RecordVerificationResponse>(r.out);
    EXPECT_EQ(resp.appeal().state(), v1::APPEAL_STATE_VERIFIED) << r;
    EXPECT_EQ(std::vector<std::string>(resp.appeal().evidence_refs().begin(), resp.appeal().evidence_refs().end()),
              (std::vector<std::string>{"FOTO-2026-11-001", "BA-VERIF-17"}))
        << r;
    EXPECT_EQ(resp.appeal().recommendation(), v1::APPEAL_OUTCOME_UPHELD) << r;
  }
  {
    CtlResult r = Ctl({"appeal", "decide", correction_id, "--outcome", "upheld", "--reason",
                       "Temuan verifikasi membenarkan", "--decile", "3", "--round", "2026-Q3"});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, HasSubstr("decided appeal " + correction_id + ": upheld")) << r;
    EXPECT_THAT(r.out, HasSubstr("welfare assessment: DTSEN round 2026-Q3, decile 3")) << r;
    EXPECT_THAT(r.out, HasSubstr("on jaring.population.v1")) << r;
  }
  // The correction flows into population, eligibility re-derives, and the
  // appeal points at the resulting decision.
  v1::DecisionRef resulting;
  {
    CtlResult r = PollCtl({"--json", "appeal", "show", correction_id}, [](const CtlResult& r) {
      auto resp = ParseProtoJson<v1::GetAppealResponse>(r.out);
      return resp.appeal().has_resulting_decision() && resp.appeal().resulting_decision().eligible();
    });
    auto resp = ParseProtoJson<v1::GetAppealResponse>(r.out);
    const v1::Appeal& a = resp.appeal();
    resulting = a.resulting_decision();
    EXPECT_EQ(a.state(), v1::APPEAL_STATE_DECIDED) << r;
    EXPECT_EQ(a.outcome(), v1::APPEAL_OUTCOME_UPHELD) << r;
    EXPECT_EQ(resulting.yearly_amount(), 2'400'000) << r;
    EXPECT_GE(a.correction_offset(), 0) << r;
    EXPECT_EQ(resp.current_decision().decision_id(), resulting.decision_id()) << r;
    ASSERT_EQ(a.deadlines_size(), 2) << r;
    for (const auto& d : a.deadlines()) {
      EXPECT_TRUE(d.has_met_at()) << r;
      EXPECT_FALSE(d.breached()) << r;
    }
    std::vector<std::string> steps;
    for (const auto& s : a.timeline()) steps.push_back(s.step());
    EXPECT_EQ(steps, (std::vector<std::string>{"filed", "assigned", "verified", "decided"})) << r;
    // eligibility agrees.
    CtlResult d = Ctl({"decision", X.kk, "BPNT"});
    ASSERT_EQ(d.exit_code, 0) << d;
    EXPECT_THAT(d.out, HasSubstr("eligible    yes")) << d;
    EXPECT_THAT(d.out, HasSubstr("decile      3 (DTSEN round 2026-Q3)")) << d;
  }
  {
    // Human output: deadlines met, the decisions, the timeline; NIKs masked.
    CtlResult r = Ctl({"appeal", "show", correction_id});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, HasSubstr("state        decided")) << r;
    EXPECT_THAT(r.out, HasSubstr("filed        ")) << r;
    EXPECT_THAT(r.out, HasSubstr("by a member of the family")) << r;
    EXPECT_THAT(r.out, HasSubstr("contested  none")) << r;
    EXPECT_THAT(r.out, HasSubstr("resulting  " + resulting.decision_id() + " version " +
                                 std::to_string(resulting.version()) + ": eligible, Rp2.400.000 per year"))
        << r;
    EXPECT_THAT(r.out, HasSubstr("current    " + resulting.decision_id())) << r;
    EXPECT_THAT(r.out, ::testing::ContainsRegex("verification +\\S+ \\S+ WIB +met ")) << r;
    EXPECT_THAT(r.out, ::testing::ContainsRegex("decision +\\S+ \\S+ WIB +met ")) << r;
    // The actor is who the token proves, not the client's label.
    EXPECT_THAT(r.out, ::testing::ContainsRegex("assigned +national:e2e-operator +assigned to verifier V-07")) << r;
    EXPECT_THAT(r.out, HasSubstr("jaring.population.v1[")) << r;
    EXPECT_THAT(FullNiksIn(r.Both(), all_niks), ::testing::IsEmpty()) << r;
  }

  // An objection window for BPNT in Mataram, then a neighbour's exclusion
  // report against the decision the correction produced.
  std::string window_id;
  {
    CtlResult r = Ctl({"appeal", "window", "open", "--region", "52.71", "--program", "bpnt", "--announcement",
                       "Daftar penerima BPNT 2026 tahap 2", "--days", "14"});
    ASSERT_EQ(r.exit_code, 0) << r;
    window_id = Word(r.out, "objection window");
    ASSERT_FALSE(window_id.empty()) << r;
    EXPECT_THAT(r.out, HasSubstr("for BPNT in 52.71")) << r;
    CtlResult w = Ctl({"appeal", "windows", "--region", "52.71.01"});
    ASSERT_EQ(w.exit_code, 0) << w;
    EXPECT_THAT(w.out, ::testing::ContainsRegex(window_id + " +52\\.71 +BPNT .* open +Daftar penerima BPNT")) << w;
  }
  std::string report_id;
  {
    CtlResult r = Ctl({"--json", "appeal", "file", "--kind", "exclusion", "--kk", X.kk, "--decision",
                       resulting.decision_id(), "--decision-version", std::to_string(resulting.version()), "--filer",
                       "community", "--filer-nik", neighbour, "--statement", "Keluarga ini memiliki toko"});
    ASSERT_EQ(r.exit_code, 0) << r;
    auto resp = ParseProtoJson<v1::FileAppealResponse>(r.out);
    EXPECT_FALSE(resp.existing()) << r;
    report_id = resp.appeal().appeal_id();
    EXPECT_EQ(resp.appeal().kind(), v1::APPEAL_KIND_EXCLUSION_REPORT) << r;
    EXPECT_EQ(resp.appeal().program(), "BPNT") << r;
    EXPECT_EQ(resp.appeal().window_id(), window_id) << r;
    EXPECT_EQ(resp.appeal().decision_id(), resulting.decision_id()) << r;
  }

  // The work queue: the report (pending deadlines) before the decided
  // correction (none pending).
  {
    CtlResult r = Ctl({"--json", "appeals", "queue", "--region", "52.71"});
    ASSERT_EQ(r.exit_code, 0) << r;
    auto resp = ParseProtoJson<v1::ListWorkQueueResponse>(r.out);
    ASSERT_EQ(resp.appeals_size(), 2) << r;
    EXPECT_EQ(resp.appeals(0).appeal_id(), report_id) << r;
    EXPECT_EQ(resp.appeals(1).appeal_id(), correction_id) << r;
    EXPECT_TRUE(resp.next_page_token().empty()) << r;
    CtlResult filed = Ctl({"--json", "appeals", "queue", "--region", "52.71", "--state", "filed"});
    ASSERT_EQ(filed.exit_code, 0) << filed;
    auto only = ParseProtoJson<v1::ListWorkQueueResponse>(filed.out);
    ASSERT_EQ(only.appeals_size(), 1) << filed;
    EXPECT_EQ(only.appeals(0).appeal_id(), report_id) << filed;
    CtlResult h = Ctl({"appeals", "queue", "--region", "52.71", "--limit", "1"});
    ASSERT_EQ(h.exit_code, 0) << h;
    EXPECT_THAT(h.out, ::testing::ContainsRegex(report_id + " +" + X.kk + " +52\\.71\\.01\\.1001 +exclusion +BPNT +"
                                                "filed +verification"))
        << h;
    EXPECT_THAT(h.out, Not(HasSubstr(correction_id))) << h;
    const std::string token = Word(h.out, "more: --page-token");
    ASSERT_FALSE(token.empty()) << h;
    CtlResult next = Ctl({"appeals", "queue", "--region", "52.71", "--limit", "1", "--page-token", token});
    ASSERT_EQ(next.exit_code, 0) << next;
    EXPECT_THAT(next.out, ::testing::ContainsRegex(correction_id + " .* decided +none")) << next;
    EXPECT_THAT(next.out, Not(HasSubstr("more:"))) << next;
  }

  // Closing a filed appeal is an illegal transition: exit 1, nothing
  // appended.
  {
    CtlResult r = Ctl({"appeal", "close", report_id, "--note", "selesai"});
    EXPECT_EQ(r.exit_code, 1) << r;
    EXPECT_THAT(r.err, HasSubstr("jaringctl: FAILED_PRECONDITION: appeal " + report_id + " is filed; closing needs "
                                 "decided"))
        << r;
    CtlResult show = Ctl({"--json", "appeal", "show", report_id});
    ASSERT_EQ(show.exit_code, 0) << show;
    EXPECT_EQ(ParseProtoJson<v1::GetAppealResponse>(show.out).appeal().timeline_size(), 1) << show;
  }
  // Only the reporter withdraws it.
  {
    CtlResult wrong = Ctl({"appeal", "withdraw", report_id, "--reason", "Salah paham", "--filer-nik", X.niks[0]});
    EXPECT_EQ(wrong.exit_code, 1) << wrong;
    EXPECT_THAT(wrong.err, HasSubstr("jaringctl: PERMISSION_DENIED: filer_nik")) << wrong;
    EXPECT_THAT(FullNiksIn(wrong.Both(), all_niks), ::testing::IsEmpty()) << wrong;
    CtlResult r = Ctl({"appeal", "withdraw", report_id, "--reason", "Pelapor mencabut sanggahan", "--filer-nik",
                       neighbour});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, HasSubstr("withdrew appeal " + report_id)) << r;
    EXPECT_THAT(r.out, ::testing::ContainsRegex("state +withdrawn")) << r;
    EXPECT_THAT(r.out, HasSubstr("stopped by the withdrawal")) << r;
    EXPECT_THAT(FullNiksIn(r.Both(), all_niks), ::testing::IsEmpty()) << r;
  }
  // The family's appeals: the report shows neither its filer nor its
  // statement.
  {
    CtlResult r = Ctl({"--json", "appeals", "family", X.kk});
    ASSERT_EQ(r.exit_code, 0) << r;
    auto resp = ParseProtoJson<v1::ListFamilyAppealsResponse>(r.out);
    ASSERT_EQ(resp.appeals_size(), 2) << r;
    EXPECT_EQ(resp.appeals(0).appeal_id(), correction_id) << r;
    EXPECT_EQ(resp.appeals(1).appeal_id(), report_id) << r;
    EXPECT_EQ(resp.appeals(1).statement(), "") << r;
    EXPECT_THAT(r.out, Not(HasSubstr("toko"))) << r;
    CtlResult h = Ctl({"appeals", "family", X.kk});
    ASSERT_EQ(h.exit_code, 0) << h;
    EXPECT_THAT(h.out, ::testing::ContainsRegex(correction_id + " +correction +BPNT +decided .* upheld +" +
                                                resulting.decision_id() + " \\(eligible\\)"))
        << h;
    EXPECT_THAT(h.out, ::testing::ContainsRegex(report_id + " +exclusion +BPNT +withdrawn")) << h;
  }

  // Stats per kind and in total (kinds in proto order, then the total).
  {
    CtlResult r = Ctl({"--json", "appeals", "stats", "--region", "52.71"});
    ASSERT_EQ(r.exit_code, 0) << r;
    auto resp = ParseProtoJson<v1::GetAppealStatsResponse>(r.out);
    ASSERT_EQ(resp.stats_size(), 4) << r;
    std::map<int, v1::AppealStats> by_kind;
    for (const auto& s : resp.stats()) by_kind[s.kind()] = s;
    const v1::AppealStats& incl = by_kind[v1::APPEAL_KIND_INCLUSION_REQUEST];
    const v1::AppealStats& excl = by_kind[v1::APPEAL_KIND_EXCLUSION_REPORT];
    const v1::AppealStats& corr = by_kind[v1::APPEAL_KIND_DATA_CORRECTION];
    const v1::AppealStats& total = by_kind[v1::APPEAL_KIND_UNSPECIFIED];
    EXPECT_EQ(incl.filed(), 0) << r;
    EXPECT_EQ(excl.filed(), 1) << r;
    EXPECT_EQ(excl.withdrawn(), 1) << r;
    EXPECT_EQ(excl.open(), 0) << r;
    EXPECT_EQ(corr.filed(), 1) << r;
    EXPECT_EQ(corr.upheld(), 1) << r;
    EXPECT_EQ(corr.rejected(), 0) << r;
    EXPECT_EQ(corr.open(), 0) << r;
    EXPECT_GE(corr.median_days_to_decision(), 0.0) << r;
    EXPECT_LT(corr.median_days_to_decision(), 1.0) << r;
    EXPECT_EQ(total.filed(), 2) << r;
    EXPECT_EQ(total.upheld(), 1) << r;
    EXPECT_EQ(total.withdrawn(), 1) << r;
    EXPECT_EQ(total.open(), 0) << r;
    EXPECT_EQ(total.escalated(), 0) << r;
    // Filed from tomorrow on: none.
    CtlResult later = Ctl({"--json", "appeals", "stats", "--region", "52.71", "--from", WibDate(1)});
    ASSERT_EQ(later.exit_code, 0) << later;
    const auto none = ParseProtoJson<v1::GetAppealStatsResponse>(later.out);
    EXPECT_EQ(none.stats_size(), 4) << later;
    for (const auto& s : none.stats()) EXPECT_EQ(s.filed(), 0) << later;
    CtlResult h = Ctl({"appeals", "stats", "--region", "52.71", "--to", WibDate()});
    ASSERT_EQ(h.exit_code, 0) << h;
    EXPECT_THAT(h.out, ::testing::ContainsRegex("correction +1 +1 +0 +0 +0 +0 +0\\.0")) << h;
    EXPECT_THAT(h.out, ::testing::ContainsRegex("total +2 +1 +0 +1 +0 +0 ")) << h;
  }
  {
    CtlResult r = Ctl({"appeals", "breaches", "--region", "52"});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, HasSubstr("no breached deadlines in 52")) << r;
  }
  // The correction's outcome was communicated: closed, and out of the queue.
  {
    CtlResult r = Ctl({"appeal", "close", correction_id, "--note", "Hasil disampaikan kepada keluarga"});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, HasSubstr("closed appeal " + correction_id)) << r;
    CtlResult q = Ctl({"appeals", "queue", "--region", "52.71"});
    ASSERT_EQ(q.exit_code, 0) << q;
    EXPECT_THAT(q.out, HasSubstr("no open appeals in 52.71")) << q;
  }
  // A policy: inclusion requests in Mataram are verified within 7 days.
  {
    CtlResult r = Ctl({"appeal", "policy", "set", "--region", "52.71", "--kind", "inclusion", "--verification-days",
                       "7", "--decision-days", "21"});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(r.out, HasSubstr("policy for inclusions in 52.71")) << r;
    EXPECT_THAT(r.out, HasSubstr("verified within     7 days")) << r;
    CtlResult f = Ctl({"--json", "appeal", "file", "--kind", "inclusion", "--kk", X.kk, "--program", "PKH",
                       "--filer", "on-behalf", "--filer-nik", neighbour, "--statement", "Ada lansia di rumah ini"});
    ASSERT_EQ(f.exit_code, 0) << f;
    const v1::Appeal a = ParseProtoJson<v1::FileAppealResponse>(f.out).appeal();
    ASSERT_EQ(a.deadlines_size(), 2) << f;
    for (const auto& d : a.deadlines()) {
      const int64_t days = (d.due().seconds() - a.filed_at().seconds()) / 86400;
      EXPECT_EQ(days, d.kind() == v1::DEADLINE_KIND_VERIFICATION ? 7 : 21) << f;
    }
  }

  // Bad arguments: exit 2 naming the flag, nothing sent; the service's own
  // refusals of a field are exit 1 naming the field.
  for (const auto& [args, flag] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"appeal", "file", "--kind", "sideways", "--kk", X.kk, "--program", "BPNT", "--filer", "member",
             "--filer-nik", X.niks[0], "--statement", "x"},
            "--kind: unknown kind \"sideways\""},
           {{"appeal", "file", "--kind", "inclusion", "--kk", X.kk, "--program", "PKH", "--filer", "member",
             "--statement", "x"},
            "--filer-nik: required"},
           {{"appeal", "file", "--kind", "exclusion", "--kk", X.kk, "--decision", "d1", "--filer", "community",
             "--filer-nik", neighbour, "--statement", "x"},
            "--decision-version"},
           {{"appeal", "decide", correction_id, "--outcome", "upheld", "--reason", "r", "--decile", "3"},
            "--round: required with --decile"},
           {{"appeal", "decide", correction_id, "--outcome", "maybe", "--reason", "r"}, "--outcome: unknown value"},
           {{"appeal", "decide", correction_id, "--outcome", "rejected", "--reason", "r", "--decile", "3", "--round",
             "2026-Q3"},
            "--decile: a rejected appeal changes no data"},
           {{"appeal", "verify", correction_id, "--verifier", "V-07", "--findings", "f", "--recommend", "perhaps"},
            "--recommend"},
           {{"appeals", "queue", "--region", "52.71", "--state", "closed"}, "--state"},
           {{"appeals", "queue", "--region", "52.71", "--limit", "0"}, "--limit"},
           {{"appeals", "stats", "--region", "52.71", "--from", "kemarin"}, "--from: \"kemarin\" is not a date"},
           {{"appeals", "breaches", "--region", "52.71", "--to", "2026-13-01"}, "--to"},
           {{"appeal", "window", "open", "--region", "52.71", "--program", "BPNT", "--announcement", "a",
             "--opens-at", "besok"},
            "--opens-at"},
           {{"appeal", "policy", "set", "--region", "52.71", "--kind", "all", "--verification-days", "7",
             "--decision-days", "21"},
            "--kind"},
           {{"appeal"}, "subcommand"},
       }) {
    CtlResult r = Ctl(args);
    EXPECT_EQ(r.exit_code, 2) << ::testing::PrintToString(args) << "\n" << r;
    EXPECT_THAT(r.err, HasSubstr(flag)) << ::testing::PrintToString(args) << "\n" << r;
  }
  {
    CtlResult r = Ctl({"appeal", "file", "--kind", "inclusion", "--kk", "5271", "--program", "PKH", "--filer",
                       "office", "--statement", "x"});
    EXPECT_EQ(r.exit_code, 1) << r;
    EXPECT_THAT(r.err, HasSubstr("jaringctl: INVALID_ARGUMENT: kk_number")) << r;
    CtlResult missing = Ctl({"appeal", "show", "no-such-appeal"});
    EXPECT_EQ(missing.exit_code, 1) << missing;
    EXPECT_THAT(missing.err, HasSubstr("jaringctl: NOT_FOUND: appeal_id: no appeal no-such-appeal")) << missing;
  }

  // No full NIK (the filers' included) in the server's output.
  ASSERT_NE(server_, nullptr);
  std::optional<int> status = server_->Stop();
  EXPECT_TRUE(status.has_value() && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << server_->Log();
  const std::string log = server_->Log();
  const std::vector<std::string> leaked = FullNiksIn(log, all_niks);
  EXPECT_TRUE(leaked.empty()) << leaked.size() << " full NIKs in the server's output\n" << log;
  server_.reset();
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
      {"rules"},                                                                 // missing subcommand
      {"rules", "publish", dir_.Sub("no-such-rules")},                           // nothing to load
      {"decision", "5271010101200999"},                                          // missing PROGRAM
      {"decision", "5271010101200999", "BPNT", "--as-of", "kemarin"},            // bad date
      {"explain", "5271010101200999", "BPNT", "--as-known-at", "2026-13-01"},    // bad date
      {"beneficiaries", "BPNT"},                                                 // --region is required
      {"beneficiaries", "BPNT", "--region", "52", "--page-size", "5000"},        // out of range
      {"movements", "--region", "52"},                                           // no dates, no rounds
      {"movements", "--region", "52", "--from", "2026-01-01"},                   // --to missing
      {"movements", "--region", "52", "--from", "2026-01-01", "--to", "2026-02-01", "--from-round", "2026-Q1",
       "--to-round", "2026-Q2"},                                                 // both kinds
      {"risks", "--region", "52", "--kind", "both"},                             // unknown kind
      {"simulate", std::string(JARING_RULES_DIR) + "/2026.1", "--depth", "5"},  // depth 1-4
      {"cycle", "open", "BPNT", "--region", "52.71", "--cutoff", "now", "--channel", "bank"},  // --period missing
      {"cycle", "open", "BPNT", "--period", "2026-11/12", "--region", "52.71", "--cutoff", "now", "--channel",
       "ship"},                                                                      // bank or post
      {"budget", "allocate", "BPNT", "--region", "52.71", "--period", "2026-11/12", "--amount", "-5"},  // amount
      {"cycle", "import", "c1", dir_.Sub("no-statement.csv")},                      // no such file
      {"verify-proof", dir_.Sub("no-proof.txt")},                                   // no such file
      {"cycle"},                                                                     // missing subcommand
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

// Roles end to end (libs/auth): the public sees one family's masked status
// given a member's NIK and nothing else; a regional office reads only its
// region; oversight reads but does not write; every read of a family is on
// record for oversight (`jaringctl access`), and no NIK reaches the log.
TEST_F(JaringctlAppealsE2eTest, RolesPublicStatusAndWhoLookedAtWhat) {
  const EligibilityFamily X{"5271011503220001", 7, {"5271011506800021", "5271014302820022"}};
  const std::string outsider = "5271012007790023";
  {
    WriteFile(dir_.Sub("roles.csv"),
              std::string(synth::kCsvHeader) + "\n" + X.kk + ",52.71.01.1001,Jl. Pejanggik 1," + X.niks[0] +
                  ",Lalu Ahmad,L,1980-06-15,KEPALA_KELUARGA,,TIDAK,TIDAK_SEKOLAH,N,N,,2020-03-15,\n" + X.kk +
                  ",52.71.01.1001,Jl. Pejanggik 1," + X.niks[1] +
                  ",Baiq Nur,P,1982-02-03,ISTRI,,TIDAK,TIDAK_SEKOLAH,N,N,,2020-03-15,\n");
    CtlResult r = Ctl({"import", dir_.Sub("roles.csv")});
    ASSERT_EQ(r.exit_code, 0) << r;
  }
  const std::string mataram = IssueToken({"--role", "regional", "--subject", "dinsos-mataram", "--region", "52.71"});
  const std::string lombok_barat =
      IssueToken({"--role", "regional", "--subject", "dinsos-lobar", "--region", "52.01"});
  const std::string oversight = IssueToken({"--role", "oversight", "--subject", "bpk-ntb"});

  // The public: its own family's status, masked; a wrong NIK is NOT_FOUND,
  // and anything else is refused with a hint.
  CtlResult mine = CtlAs("", {"status", X.kk, X.niks[1]});
  ASSERT_EQ(mine.exit_code, 0) << mine;
  EXPECT_THAT(mine.out, HasSubstr("527101******0001")) << mine;
  EXPECT_THAT(mine.out, HasSubstr("L*** A****")) << mine;
  EXPECT_THAT(mine.out, HasSubstr("B*** N**")) << mine;
  EXPECT_THAT(mine.out, Not(HasSubstr("Lalu"))) << mine;
  EXPECT_THAT(mine.out, Not(HasSubstr(X.niks[0]))) << mine;
  CtlResult wrong = CtlAs("", {"status", X.kk, outsider});
  EXPECT_EQ(wrong.exit_code, 1) << wrong;
  EXPECT_THAT(wrong.err, HasSubstr("NOT_FOUND")) << wrong;
  CtlResult nosy = CtlAs("", {"family", "get", X.kk});
  EXPECT_EQ(nosy.exit_code, 1) << nosy;
  EXPECT_THAT(nosy.err, HasSubstr("PERMISSION_DENIED")) << nosy;
  EXPECT_THAT(nosy.err, HasSubstr("hint: no token was sent")) << nosy;

  // Regional offices: Mataram reads its family; Lombok Barat may not.
  CtlResult own = CtlAs(mataram, {"family", "get", X.kk});
  EXPECT_EQ(own.exit_code, 0) << own;
  CtlResult other = CtlAs(lombok_barat, {"family", "get", X.kk});
  EXPECT_EQ(other.exit_code, 1) << other;
  EXPECT_THAT(other.err, HasSubstr("PERMISSION_DENIED: kk_number: the family is outside region 52.01")) << other;
  CtlResult other_write = CtlAs(lombok_barat, {"assess", "--kk", X.kk, "--round", "2026-Q3", "--decile", "1"});
  EXPECT_EQ(other_write.exit_code, 1) << other_write;

  // Oversight reads everything and changes nothing.
  CtlResult read = CtlAs(oversight, {"family", "get", X.kk});
  EXPECT_EQ(read.exit_code, 0) << read;
  CtlResult publish = CtlAs(oversight, {"rules", "publish", std::string(JARING_RULES_DIR) + "/2026.1"});
  EXPECT_EQ(publish.exit_code, 1) << publish;
  EXPECT_THAT(publish.err, HasSubstr("oversight reads and replays")) << publish;

  // Who looked at X: the public's lookups (right and wrong NIK), Mataram,
  // oversight; not Lombok Barat (refused, so it read nothing).
  CtlResult who = CtlAs(oversight, {"--json", "access", "--kk", X.kk});
  ASSERT_EQ(who.exit_code, 0) << who;
  const auto records = ParseProtoJson<v1::ListAccessRecordsResponse>(who.out);
  std::multiset<std::string> readers;
  for (const auto& r : records.records()) readers.insert(r.read().role() + ":" + r.read().subject());
  EXPECT_EQ(readers.count("public:"), 2u) << who;
  EXPECT_GE(readers.count("regional:dinsos-mataram"), 1u) << who;
  EXPECT_GE(readers.count("oversight:bpk-ntb"), 1u) << who;
  EXPECT_EQ(readers.count("regional:dinsos-lobar"), 0u) << who;
  CtlResult by_subject = CtlAs(oversight, {"access", "--subject", "dinsos-mataram"});
  EXPECT_EQ(by_subject.exit_code, 0) << by_subject;
  EXPECT_THAT(by_subject.out, HasSubstr("/jaring.v1.PopulationService/GetFamily")) << by_subject;
  CtlResult not_for_regions = CtlAs(mataram, {"access", "--kk", X.kk});
  EXPECT_EQ(not_for_regions.exit_code, 1) << not_for_regions;

  // The refusals are logged, without any NIK or KK number.
  ASSERT_NE(server_, nullptr);
  std::optional<int> status = server_->Stop();
  EXPECT_TRUE(status.has_value() && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << server_->Log();
  const std::string log = server_->Log();
  EXPECT_THAT(log, HasSubstr("\"event\":\"permission_denied\"")) << log;
  EXPECT_THAT(log, HasSubstr("\"subject\":\"dinsos-lobar\"")) << log;
  EXPECT_THAT(log, Not(HasSubstr(X.kk))) << log;
  EXPECT_TRUE(FullNiksIn(log, {X.niks[0], X.niks[1], outsider}).empty()) << log;
  server_.reset();
}

// jaringctl over mutual TLS (certificates from scripts/dev-certs.sh): with
// the CA and its client certificate it is served; without TLS, or with TLS
// but no client certificate, the server is unreachable (exit 3).
class JaringctlTlsE2eTest : public JaringctlE2eTest {
 protected:
  void SetUp() override {
    certs_ = dir_.Sub("certs");
    ASSERT_EQ(std::system((std::string(JARING_SOURCE_DIR) + "/scripts/dev-certs.sh " + certs_ + " >/dev/null").c_str()),
              0);
    server_ = std::make_unique<Server>(dir_.Sub("data"), dir_.Sub("server.log"),
                                       std::vector<std::string>{"--tls-cert", certs_ + "/server.pem", "--tls-key",
                                                                certs_ + "/server.key", "--tls-client-ca",
                                                                certs_ + "/ca.pem"},
                                       "localhost:0");
    auto target = server_->WaitListening();
    ASSERT_TRUE(target.has_value()) << "jaring serve did not start:\n" << server_->Log();
    target_ = *target;
    common_.clear();  // each call below says how it connects
  }
};

TEST_F(JaringctlTlsE2eTest, MutualTlsServesOnlyClientsWithACertificate) {
  EXPECT_THAT(server_->Log(), HasSubstr("mutual TLS"));
  CtlResult ok = Ctl({"--tls-ca", certs_ + "/ca.pem", "--tls-cert", certs_ + "/client.pem", "--tls-key",
                      certs_ + "/client.key", "rules", "list"});
  EXPECT_EQ(ok.exit_code, 0) << ok.Both();
  CtlResult plain = Ctl({"--timeout", "5", "rules", "list"});
  EXPECT_EQ(plain.exit_code, 3) << plain.Both();
  CtlResult no_cert = Ctl({"--timeout", "5", "--tls-ca", certs_ + "/ca.pem", "rules", "list"});
  EXPECT_EQ(no_cert.exit_code, 3) << no_cert.Both();
  // The certificate's OU is the role: oversight may read, not publish.
  const std::vector<std::string> as_oversight = {"--tls-ca", certs_ + "/ca.pem", "--tls-cert",
                                                 certs_ + "/oversight.pem", "--tls-key", certs_ + "/oversight.key"};
  std::vector<std::string> list = as_oversight, publish = as_oversight;
  list.push_back("rules");
  list.push_back("list");
  publish.insert(publish.end(), {"rules", "publish", std::string(JARING_RULES_DIR) + "/2026.1"});
  CtlResult oversight_list = Ctl(list);
  EXPECT_EQ(oversight_list.exit_code, 0) << oversight_list;
  CtlResult oversight_publish = Ctl(publish);
  EXPECT_EQ(oversight_publish.exit_code, 1) << oversight_publish;
  EXPECT_THAT(oversight_publish.err, HasSubstr("PERMISSION_DENIED")) << oversight_publish;
  CtlResult bad = Ctl({"--tls-cert", certs_ + "/client.pem", "rules", "list"});
  EXPECT_EQ(bad.exit_code, 2) << "a client certificate without its key and CA is a bad argument\n" << bad.Both();
}

}  // namespace
}  // namespace jaring
