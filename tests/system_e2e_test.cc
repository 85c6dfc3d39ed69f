// The whole system, end to end, two ways, with TLS and signed tokens on:
//
//   (a) one `jaring serve` with every service on the embedded log;
//   (b) four `jaring serve` processes on `jaring devbroker` (librdkafka's
//       mock Kafka cluster), one per service, each with its own data
//       directory (the ledger's also answers the audit, from replicas of its
//       own), and each of the four SIGKILLed once in the middle of the
//       scenario and restarted.
//
// The scenario: a registry and months of life (births, deaths, moves, DTSEN
// rounds) -> rule sets published -> decisions -> a budget and a BPNT cycle
// -> moment T -> a family's data-correction appeal upheld -> its corrected
// (eligible) decision -> a supplementary cycle that pays it -> the
// channel's statements -> reconciliation and closing -> the audit.
//
// Checked: (a) and (b) give the same answers (families, decisions,
// balances, cycles, the appeal, the family's ledger); neither lost or
// duplicated anything (every decision history is 1..n with distinct ids,
// the books balance and verify, every cycle agrees with its entitlements);
// `jaring replay --as-of T`, served with `jaring serve --replay`, reproduces
// the decisions and balances the live system gave at T (from the embedded
// log beside the running server, and from Kafka); no server log holds a NIK.
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "libs/ledger/channel_files.h"
#include "libs/testing/subprocess.h"
#include "tests/harness.h"
#include "tools/synth/csv.h"

namespace jaring {
namespace {

using namespace ::jaring::e2e;  // NOLINT: the harness
using ::testing::HasSubstr;
using json = nlohmann::json;

// X: decile 7 (above BPNT's limit of 4), two adults: its data-correction
// appeal brings it to decile 3. Y: decile 2 (BPNT from the start).
constexpr char kX[] = "5271011503220001";
constexpr char kXHead[] = "5271011506800021";
constexpr char kXWife[] = "5271014302820022";
constexpr char kY[] = "5271011503220002";
constexpr char kYHead[] = "5271012007790023";
constexpr char kServices[][12] = {"population", "eligibility", "appeals", "ledger"};

json Parse(const CtlResult& r) {
  json j = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << r;
  return j.is_discarded() ? json::object() : j;
}

// Where the services are, and what happens to them.
class Deployment {
 public:
  virtual ~Deployment() = default;
  // jaringctl's flags that say where each service is.
  virtual std::vector<std::string> Targets() const = 0;
  // Kills the process that serves `service` with SIGKILL and starts it
  // again on the same data (split only).
  virtual void KillAndRestart(const std::string& service) = 0;
  virtual bool split() const = 0;
  // `jaring replay` flags that name the live log.
  virtual std::vector<std::string> ReplaySource() const = 0;
  virtual std::string Logs() const = 0;
  virtual void Stop() = 0;
};

class SystemE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Decisions depend on the date (ages, the year of the stages): keep
    // both runs on one WIB day.
    const absl::Time now = absl::Now();
    const absl::Time midnight = absl::FromCivil(absl::CivilDay(WibDayOf(now)) + 1, Wib());
    if (midnight - now < absl::Minutes(8)) absl::SleepFor(midnight - now + absl::Seconds(5));

    certs_ = dir_.Sub("certs");
    ASSERT_EQ(std::system((std::string(JARING_SOURCE_DIR) + "/scripts/dev-certs.sh " + certs_ + " >/dev/null").c_str()),
              0);
    std::filesystem::create_directories(dir_.Sub("keys"));
    token_ = Jaring({"token", "--key", Key("auth"), "--role", "national", "--subject", "e2e-operator"});
    ASSERT_FALSE(token_.empty());
    while (!token_.empty() && token_.back() == '\n') token_.pop_back();

    // One synthetic registry and its months of life, for both runs.
    CtlResult s = RunCtl(dir_, {"synth", "--regions", "52.71", "--families", "400", "--months", "6", "--seed", "5",
                                "--out", dir_.Sub("synth")});
    ASSERT_EQ(s.exit_code, 0) << s;
    auto row = [](const std::string& kk, const std::string& nik, const std::string& name, const std::string& sex,
                  const std::string& born, const std::string& relationship) {
      return kk + ",52.71.01.1001,Jl. Pejanggik " + kk.substr(15) + "," + nik + "," + name + "," + sex + "," + born +
             "," + relationship + ",,TIDAK,TIDAK_SEKOLAH,N,N,,2020-03-15,\n";
    };
    const std::string header = ReadAll(dir_.Sub("synth/registry.csv")).substr(0, ReadAll(dir_.Sub("synth/registry.csv")).find('\n') + 1);
    WriteFile(dir_.Sub("xy.csv"), header + row(kX, kXHead, "Lalu Ahmad", "L", "1980-06-15", "KEPALA_KELUARGA") +
                                      row(kX, kXWife, "Baiq Nur", "P", "1982-02-03", "ISTRI") +
                                      row(kY, kYHead, "Ketut Arsa", "L", "1979-07-20", "KEPALA_KELUARGA"));
    // Every NIK either run sends, for the log check, and every family.
    for (const std::string& file : {dir_.Sub("synth/registry.csv"), dir_.Sub("xy.csv")}) {
      std::ifstream in(file, std::ios::binary);
      synth::RegistryCsvReader reader(&in);
      std::vector<synth::CsvRowError> errors;
      while (true) {
        auto next = reader.Next(&errors);
        ASSERT_TRUE(next.ok()) << next.status();
        if (!next->has_value()) break;
        const v1::FamilyRegistered& f = (*next)->request.family();
        kks_.insert(f.kk_number());
        for (const v1::Member& m : f.members()) niks_.insert(m.nik());
      }
      ASSERT_TRUE(errors.empty()) << file;
    }
    ASSERT_GT(niks_.size(), 500u);

    // This month's BPNT period (two months) and the supplementary cycle's.
    const absl::CivilDay today = WibDayOf(now);
    const int first = (today.month() - 1) / 2 * 2 + 1;
    period_ = absl::StrFormat("%04d-%02d/%02d", today.year(), first, first + 1);
  }

  static absl::TimeZone Wib() { return absl::FixedTimeZone(7 * 3600); }
  static absl::CivilDay WibDayOf(absl::Time t) { return absl::ToCivilDay(t, Wib()); }

  std::string Key(const std::string& name) const { return dir_.Sub("keys/" + name + ".key"); }

  // The flags every server takes: TLS, the shared keys.
  std::vector<std::string> ServerFlags() const {
    return {"--tls-cert",   certs_ + "/server.pem", "--tls-key",    certs_ + "/server.key",
            "--auth-key",   Key("auth"),            "--appeals-key", Key("appeals"),
            "--export-key", Key("export")};
  }

  // `jaring ARGS`: its stdout ("" and a failure when it exits non-zero).
  std::string Jaring(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {JARING_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    static int n = 0;
    const std::string out = dir_.Sub("jaring-" + std::to_string(++n) + ".out");
    const std::string err = out + ".err";
    pid_t pid = Spawn(argv, out, err);
    std::optional<int> status = WaitFor(pid, std::chrono::seconds(300));
    const bool ok = status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0;
    EXPECT_TRUE(ok) << "jaring " << ::testing::PrintToString(args) << "\n" << ReadAll(out) << ReadAll(err);
    return ok ? ReadAll(out) : "";
  }

  CtlResult Ctl(const Deployment& d, std::vector<std::string> args) {
    std::vector<std::string> full = d.Targets();
    full.insert(full.end(), {"--tls-ca", certs_ + "/ca.pem", "--token", token_});
    full.insert(full.end(), args.begin(), args.end());
    return RunCtl(dir_, full);
  }
  // Ctl that must succeed.
  CtlResult Must(const Deployment& d, std::vector<std::string> args) {
    CtlResult r = Ctl(d, args);
    EXPECT_EQ(r.exit_code, 0) << ::testing::PrintToString(args) << "\n" << r;
    return r;
  }
  // Repeats `args` until `done` (bounded).
  CtlResult Poll(const Deployment& d, const std::vector<std::string>& args,
                 const std::function<bool(const CtlResult&)>& done) {
    CtlResult r;
    for (int i = 0; i < 600; ++i) {
      r = Ctl(d, args);
      if (r.exit_code == 0 && done(r)) return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "condition not reached within 60 s for " << ::testing::PrintToString(args) << "\n" << r;
    return r;
  }

  // Beneficiary totals of three programs, as the audit's stores see them,
  // once they have not moved for six polls (about three seconds): the engine
  // has settled and the audit's copies have caught up. (A restarted service
  // listens only after catching up with the log, and its engine then works
  // without pause, so a quiet stretch this long means done.)
  void Settle(const Deployment& d) {
    std::string last;
    int same = 0;
    for (int i = 0; i < 300 && same < 6; ++i) {
      std::string now;
      for (const char* program : {"PKH", "BPNT", "PBI_JK"}) {
        CtlResult r = Ctl(d, {"--json", "audit", "eligible", "--program", program, "--on", Now()});
        absl::StrAppend(&now, Parse(r).value("totalFamilies", std::string("0")), "/");
      }
      same = (now == last && now != "0/0/0/") ? same + 1 : 0;
      last = now;
      std::this_thread::sleep_for(std::chrono::milliseconds(400));
    }
    EXPECT_EQ(same, 6) << "decisions did not settle: " << last;
  }

  static std::string Now() { return absl::FormatTime("%Y-%m-%dT%H:%M:%E3S%Ez", absl::Now(), absl::UTCTimeZone()); }

  // The statement the channel returns for an instructions file: every line
  // paid, except the first `failed`.
  std::string Statement(const std::string& instructions_file, int failed) {
    ledger::ParsedInstructions parsed = ledger::ParseInstructions(ReadAll(instructions_file));
    EXPECT_TRUE(parsed.errors.empty());
    std::vector<ledger::StatementLine> lines;
    for (const auto& l : parsed.lines) {
      ledger::StatementLine s;
      s.reference = l.instruction.reference;
      s.amount = l.instruction.amount;
      s.status = static_cast<int>(lines.size()) < failed ? ledger::StatementLine::Status::kFailed
                                                           : ledger::StatementLine::Status::kPaid;
      s.channel_reference = absl::StrCat("POS-", lines.size());
      s.settled_on = WibDayOf(absl::Now());
      lines.push_back(s);
    }
    return ledger::WriteStatement(lines);
  }

  // A budget for the region, then a BPNT cycle of this period cut off now,
  // paid through the post: the OpenCycle response.
  json OpenBpntCycle(const Deployment& d, const std::string& region, const std::string& budget) {
    Must(d, {"budget", "allocate", "BPNT", "--region", region, "--period", period_, "--amount", budget});
    return Parse(Must(d, {"--json", "cycle", "open", "BPNT", "--period", period_, "--region", region, "--cutoff", "now",
                          "--channel", "post"}));
  }

  struct Outcome {
    json digest;
    std::string t;
    json at_t;
  };

  // The answers compared across deployments: timing-free (no ids, times or
  // log positions).
  json Digest(const Deployment& d) {
    json out;
    json families =
        Parse(Must(d, {"--json", "family", "list", "--region", "52.71", "--page-size", "1000"})).value("families", json::array());
    for (json& f : families) f.erase("updatedAtMs");
    out["families"] = families;
    for (const char* program : {"PKH", "BPNT", "PBI_JK"}) {
      json rows = json::array();
      const json answer =
          Parse(Must(d, {"--json", "audit", "eligible", "--program", program, "--on", Now(), "--identify"}));
      for (const json& f : answer.value("families", json::array())) {
        rows.push_back({f["family"]["kkNumber"], f.value("yearlyAmount", "0"), f["ruleVersion"], f.value("decile", 0),
                        f.value("components", 0), f["decisionVersion"], f["reasons"]});
      }
      out["eligible"][program] = rows;
    }
    out["accounts"] = Parse(Must(d, {"--json", "accounts"}));
    out["cycles"] = Parse(Must(d, {"--json", "audit", "cycles", "--all"}));
    json x_ledger = json::array();
    const json ledger = Parse(Must(d, {"--json", "ledger", "family", kX}));
    for (const json& e : ledger.value("entitlements", json::array())) {
      x_ledger.push_back({e["created"]["program"], e["created"]["period"], e["created"]["amount"], e["status"]});
    }
    out["x_ledger"] = x_ledger;
    json appeals = Parse(Must(d, {"--json", "appeals", "family", kX}));
    const json appeal = appeals["appeals"].is_array() && !appeals["appeals"].empty() ? appeals["appeals"][0] : json::object();
    const json resulting = appeal.value("resultingDecision", json::object());
    out["appeal"] = {appeal.value("kind", ""), appeal.value("state", ""), appeal.value("outcome", ""),
                     resulting.value("eligible", false), resulting.value("yearlyAmount", "0")};
    return out;
  }

  // Nothing lost, nothing twice: a family's decision history numbers its
  // versions 1..n with distinct ids (every eighth family, X and Y: the
  // versions of every listed family are compared across the deployments in
  // Digest); the books balance and verify; every cycle agrees with its
  // entitlements.
  void CheckIntegrity(const Deployment& d) {
    std::set<std::string> ids;
    int families_with_decisions = 0;
    std::set<std::string> sample = {kX, kY};
    int i = 0;
    for (const std::string& kk : kks_) {
      if (i++ % 8 == 0) sample.insert(kk);
    }
    for (const std::string& kk : sample) {
      const json history = Parse(Must(d, {"--json", "decisions", kk}));
      if (!history.contains("decisions")) continue;
      ++families_with_decisions;
      std::map<std::string, int64_t> last_version;
      for (const json& rd : history["decisions"]) {
        const json& dec = rd["decision"];
        EXPECT_TRUE(ids.insert(dec["decisionId"].get<std::string>()).second) << "decision recorded twice: " << dec;
        const int64_t v = std::stoll(dec["version"].get<std::string>());
        const std::string program = dec["program"].get<std::string>();
        EXPECT_EQ(v, last_version[program] + 1) << kk << " " << program;
        last_version[program] = v;
      }
    }
    EXPECT_GT(families_with_decisions, 20);
    CtlResult v = Must(d, {"--json", "verify-ledger"});
    EXPECT_EQ(Parse(v).value("ok", false), true) << v;
    CtlResult sum = Must(d, {"accounts"});  // exit 1 unless the balances sum to 0
    CtlResult cycles = Must(d, {"audit", "cycles"});  // exit 1 if a cycle disagrees
    EXPECT_THAT(cycles.out, HasSubstr("0 disagree")) << cycles;
  }

  Outcome Scenario(Deployment& d) {
    Outcome o;
    const absl::Time start = absl::Now();
    auto step = [&](const char* what) {
      std::cerr << (d.split() ? "[four processes] " : "[all in one] ") << what << " at "
                << absl::FormatDuration(absl::Trunc(absl::Now() - start, absl::Milliseconds(100))) << std::endl;
    };
    // The registry, and X and Y.
    Must(d, {"import", dir_.Sub("synth/registry.csv")});
    Must(d, {"import", dir_.Sub("xy.csv")});
    step("registry imported");

    // Months of life. Split: the population process is killed in the
    // middle; the replay of the commands is simply run again (each command
    // carries its request id: what was applied is answered, not re-applied).
    if (d.split()) {
      std::vector<std::string> argv = {JARINGCTL_BIN};
      for (const std::string& a : d.Targets()) argv.push_back(a);
      for (const std::string& a : {std::string("--tls-ca"), certs_ + "/ca.pem", std::string("--token"), token_,
                                   std::string("replay-commands"), dir_.Sub("synth/events.jsonl")}) {
        argv.push_back(a);
      }
      pid_t pid = Spawn(argv, dir_.Sub("replay-1.out"), dir_.Sub("replay-1.out"));
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      d.KillAndRestart("population");
      WaitFor(pid, std::chrono::seconds(120));
    }
    Must(d, {"replay-commands", dir_.Sub("synth/events.jsonl")});
    step("months of life replayed");
    Must(d, {"assess", "--kk", kX, "--round", "2026-Q3", "--decile", "7", "--request-id", "e2e-assess-x"});
    Must(d, {"assess", "--kk", kY, "--round", "2026-Q3", "--decile", "2", "--request-id", "e2e-assess-y"});

    // Rules; split: the eligibility process dies while its engine derives
    // the first decisions of every family.
    Must(d, {"rules", "publish", std::string(JARING_RULES_DIR) + "/2026.1"});
    if (d.split()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(150));
      d.KillAndRestart("eligibility");
    }
    Settle(d);
    step("decisions settled");

    // A budget and the BPNT cycle of Mataram; split: the ledger dies after
    // the instructions went out.
    const std::string cycle = OpenBpntCycle(d, "52.71", "900000000").value("cycleId", "");
    EXPECT_FALSE(cycle.empty());
    const std::string instructions = dir_.Sub(absl::StrCat("instructions-", d.split(), ".csv"));
    Must(d, {"cycle", "export", cycle, "--out", instructions});
    if (d.split()) d.KillAndRestart("ledger");

    step("first cycle exported");
    // Moment T: what the live system says then.
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    o.t = Now();
    for (const char* program : {"PKH", "BPNT"}) {
      o.at_t[program] = Parse(Must(d, {"--json", "audit", "eligible", "--program", program, "--on", o.t, "--identify"}));
    }
    o.at_t["accounts"] = Parse(Must(d, {"--json", "accounts"}));
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));

    // X's data-correction appeal, upheld with decile 3; split: the appeals
    // process dies right after the decision (its correction on the way to
    // population).
    CtlResult filed = Must(d, {"--json", "appeal", "file", "--kind", "correction", "--kk", kX, "--program", "BPNT",
                               "--filer", "member", "--filer-nik", kXHead, "--statement", "Desil kami salah",
                               "--request-id", "e2e-correction"});
    const std::string appeal = Parse(filed).value("appeal", json::object()).value("appealId", "");
    EXPECT_FALSE(appeal.empty()) << filed;
    Must(d, {"appeal", "assign", appeal, "--verifier", "V-07", "--request-id", "e2e-assign"});
    Must(d, {"appeal", "verify", appeal, "--verifier", "V-07", "--findings", "Rumah semi permanen", "--recommend",
             "upheld", "--request-id", "e2e-verify"});
    Must(d, {"appeal", "decide", appeal, "--outcome", "upheld", "--reason", "Temuan verifikasi membenarkan",
             "--decile", "3", "--round", "2026-Q3", "--request-id", "e2e-decide"});
    if (d.split()) d.KillAndRestart("appeals");
    Poll(d, {"--json", "appeal", "show", appeal}, [](const CtlResult& r) {
      const json a = Parse(r).value("appeal", json::object());
      return a.value("resultingDecision", json::object()).value("eligible", false);
    });
    Settle(d);
    step("appeal upheld, decision corrected");

    // A supplementary BPNT cycle for X's district pays X alone (the others
    // are entitled in the first cycle already), from the district's own
    // budget; the channel's statements come back (one failure in the
    // first), the cycles are closed.
    const json supplementary = OpenBpntCycle(d, "52.71.01", "10000000");
    const std::string cycle2 = supplementary.value("cycleId", "");
    EXPECT_EQ(supplementary.value("families", "0"), "1") << supplementary;
    const std::string instructions2 = dir_.Sub(absl::StrCat("instructions2-", d.split(), ".csv"));
    Must(d, {"cycle", "export", cycle2, "--out", instructions2});
    WriteFile(instructions + ".statement", Statement(instructions, 1));
    WriteFile(instructions2 + ".statement", Statement(instructions2, 0));
    CtlResult rec = Must(d, {"--json", "cycle", "import", cycle, instructions + ".statement"});
    EXPECT_EQ(Parse(rec).value("failed", "0"), "1") << rec;
    Must(d, {"cycle", "import", cycle2, instructions2 + ".statement"});
    Must(d, {"cycle", "close", cycle});
    Must(d, {"cycle", "close", cycle2});

    step("cycles reconciled and closed");
    CheckIntegrity(d);
    o.digest = Digest(d);
    step("checked");
    return o;
  }

  // `jaring replay --as-of T` into a new directory, served read-only: the
  // decisions and balances the live system gave at T.
  void CheckReplay(const Deployment& d, const Outcome& o, const std::string& name) {
    const std::string out = dir_.Sub("replay-" + name);
    std::vector<std::string> args = {"replay", "--as-of", o.t, "--out", out};
    for (const std::string& a : d.ReplaySource()) args.push_back(a);
    const std::string printed = Jaring(args);
    EXPECT_THAT(printed, HasSubstr("ledger")) << printed;
    std::vector<std::string> flags = ServerFlags();
    flags.insert(flags.end(), {"--replay", out});
    Server replay(dir_.Sub("replay-data-" + name), dir_.Sub("replay-" + name + ".log"), flags, "localhost:0");
    std::optional<std::string> target = replay.WaitListening();
    ASSERT_TRUE(target.has_value()) << replay.Log();
    struct At final : Deployment {
      std::string target;
      std::vector<std::string> Targets() const override { return {"--target", target}; }
      void KillAndRestart(const std::string&) override {}
      bool split() const override { return false; }
      std::vector<std::string> ReplaySource() const override { return {}; }
      std::string Logs() const override { return ""; }
      void Stop() override {}
    } at;
    at.target = *target;
    const json source = Parse(Must(at, {"--json", "audit", "source"}));
    EXPECT_EQ(source["kind"], "AUDIT_SOURCE_KIND_REPLAY") << source;
    for (const char* program : {"PKH", "BPNT"}) {
      const json answer =
          Parse(Must(at, {"--json", "audit", "eligible", "--program", program, "--on", o.t, "--identify"}));
      EXPECT_EQ(answer, o.at_t[program]) << program << " on " << o.t;
      EXPECT_GT(std::stoll(answer.value("totalFamilies", std::string("0"))), 10) << answer;
    }
    EXPECT_EQ(Parse(Must(at, {"--json", "accounts"})), o.at_t["accounts"]);
    // Oversight's report from it: Markdown, HTML and CSV, with masked and
    // keyed identities only.
    const std::string report = dir_.Sub("report-" + name);
    CtlResult made = Must(at, {"audit", "report", "--on", o.t, "--out", report});
    std::string files;
    for (const char* file : {"report.md", "report.html", "eligible-BPNT.csv", "changes.csv", "cycles.csv",
                             "people-in-two-places.csv", "payments-without-living-member.csv"}) {
      const std::string text = ReadAll(report + "/" + file);
      EXPECT_FALSE(text.empty()) << file << "\n" << made;
      files += text;
    }
    EXPECT_THAT(files, HasSubstr("a replay as of")) << made;
    EXPECT_THAT(files, HasSubstr("<svg")) << "the HTML report has its charts";
    CheckNoNikIn(files, "an audit report");
    // The replay only reads.
    CtlResult write = Ctl(at, {"budget", "allocate", "PKH", "--region", "52.71", "--period", "2026-Q4", "--amount", "1"});
    EXPECT_EQ(write.exit_code, 1) << write;
    EXPECT_THAT(write.err, HasSubstr("only reads")) << write;
    EXPECT_THAT(replay.Stop(), ::testing::Optional(0)) << replay.Log();
    logs_ += replay.Log();
  }

  void CheckNoNikIn(const std::string& logs, const std::string& where = "a server log") {
    static const std::regex kDigits(R"(\d{16,})");
    int found = 0;
    for (auto it = std::sregex_iterator(logs.begin(), logs.end(), kDigits); it != std::sregex_iterator(); ++it) {
      const std::string run = it->str();
      for (size_t i = 0; i + 16 <= run.size(); ++i) {
        if (niks_.count(run.substr(i, 16)) && ++found <= 3) ADD_FAILURE() << "a NIK in " << where << ": " << run;
      }
    }
    EXPECT_EQ(found, 0);
  }

  TempDir dir_;
  std::string certs_, token_, period_;
  std::set<std::string> niks_, kks_;
  std::string logs_;
};

// (a) Everything in one process on the embedded log.
class AllInOne final : public Deployment {
 public:
  AllInOne(const std::string& data, const std::string& log, std::vector<std::string> flags)
      : data_(data), server_(data, log, std::move(flags), "localhost:0") {
    std::optional<std::string> t = server_.WaitListening();
    EXPECT_TRUE(t.has_value()) << server_.Log();
    target_ = t.value_or("");
  }
  std::vector<std::string> Targets() const override { return {"--target", target_}; }
  void KillAndRestart(const std::string&) override {}
  bool split() const override { return false; }
  std::vector<std::string> ReplaySource() const override { return {"--data", data_}; }
  std::string Logs() const override { return server_.Log(); }
  void Stop() override { EXPECT_THAT(server_.Stop(), ::testing::Optional(0)) << server_.Log(); }

 private:
  std::string data_;
  Server server_;
  std::string target_;
};

// (b) One process per service on a shared Kafka-protocol broker.
class FourProcesses final : public Deployment {
 public:
  FourProcesses(const TempDir& dir, std::vector<std::string> flags) : dir_(dir), flags_(std::move(flags)) {
    broker_ = std::make_unique<testing::Subprocess>(std::vector<std::string>{JARING_BIN, "devbroker", "--brokers", "1"});
    std::optional<std::string> line = broker_->ReadLine();
    EXPECT_TRUE(line.has_value() && !line->empty()) << "devbroker printed no bootstrap list";
    bootstrap_ = line.value_or("");
    for (const char* s : kServices) Start(s);
  }
  ~FourProcesses() override {
    for (auto& [name, p] : processes_) p.server.reset();
  }
  std::vector<std::string> Targets() const override {
    const std::string& ledger = processes_.at("ledger").target;
    return {"--target", ledger, "--population-target", processes_.at("population").target,
            "--eligibility-target", processes_.at("eligibility").target, "--appeals-target",
            processes_.at("appeals").target, "--ledger-target", ledger, "--audit-target", ledger};
  }
  void KillAndRestart(const std::string& service) override {
    Process& p = processes_.at(service);
    p.server->Kill();
    logs_ += p.server->Log();
    Start(service);
    ++kills_[service];
  }
  bool split() const override { return true; }
  std::vector<std::string> ReplaySource() const override { return {"--kafka", bootstrap_}; }
  std::string Logs() const override {
    std::string all = logs_;
    for (const auto& [name, p] : processes_) all += p.server->Log();
    return all;
  }
  void Stop() override {
    for (auto& [name, p] : processes_) EXPECT_THAT(p.server->Stop(), ::testing::Optional(0)) << p.server->Log();
  }
  const std::map<std::string, int>& kills() const { return kills_; }

 private:
  struct Process {
    std::unique_ptr<Server> server;
    std::string target;
    int starts = 0;
  };
  void Start(const std::string& service) {
    Process& p = processes_[service];
    std::vector<std::string> args = {service};
    if (service == "ledger") args.push_back("audit");  // oversight's questions, from copies of its own
    // The mock broker answers a fetch only when its wait is over: a short
    // one keeps a command's read-your-writes quick.
    args.insert(args.end(), {"--kafka", bootstrap_, "--kafka-fetch-wait", "10"});
    args.insert(args.end(), flags_.begin(), flags_.end());
    // Each start logs to its own file, so the listening line read is its own.
    p.server = std::make_unique<Server>(dir_.Sub("b-" + service), dir_.Sub(absl::StrCat("b-", service, "-", ++p.starts, ".log")),
                                        args, "localhost:0");
    std::optional<std::string> t = p.server->WaitListening();
    EXPECT_TRUE(t.has_value()) << p.server->Log();
    p.target = t.value_or("");
  }

  const TempDir& dir_;
  std::vector<std::string> flags_;
  std::unique_ptr<testing::Subprocess> broker_;
  std::string bootstrap_;
  std::map<std::string, Process> processes_;
  std::map<std::string, int> kills_;
  std::string logs_;
};

TEST_F(SystemE2eTest, AllInOneAndFourProcessesOnKafkaAgreeSurviveKillsAndReplay) {
  Outcome a, b;
  {
    AllInOne one(dir_.Sub("a"), dir_.Sub("a.log"), ServerFlags());
    a = Scenario(one);
    if (HasFatalFailure()) return;
    CheckReplay(one, a, "a");  // beside the running server, from its embedded log
    one.Stop();
    logs_ += one.Logs();
    // Structured lines for the log shipper: serving, shutting down, stopped.
    for (const char* event : {"\"event\":\"serving\"", "\"event\":\"shutting_down\"", "\"event\":\"stopped\""}) {
      EXPECT_THAT(one.Logs(), HasSubstr(event));
    }
  }
  {
    FourProcesses four(dir_, ServerFlags());
    b = Scenario(four);
    if (HasFatalFailure()) return;
    for (const char* s : kServices) EXPECT_EQ(four.kills().count(s), 1u) << s << " was not killed";
    CheckReplay(four, b, "b");  // from Kafka
    four.Stop();
    logs_ += four.Logs();
  }

  // The same answers, however the services were deployed and killed.
  // JARING_E2E_KEEP=DIR keeps both digests there, for a diff.
  if (const char* keep = std::getenv("JARING_E2E_KEEP")) {
    WriteFile(std::string(keep) + "/digest-a.json", a.digest.dump(1));
    WriteFile(std::string(keep) + "/digest-b.json", b.digest.dump(1));
  }
  for (const char* part : {"families", "eligible", "accounts", "cycles", "x_ledger", "appeal"}) {
    EXPECT_EQ(a.digest[part], b.digest[part]) << part << "\n(a) " << a.digest[part].dump().substr(0, 3000) << "\n(b) "
                                              << b.digest[part].dump().substr(0, 3000);
  }
  EXPECT_GT(a.digest["families"].size(), 250u);
  EXPECT_EQ(a.digest["appeal"][1], "APPEAL_STATE_DECIDED");
  EXPECT_EQ(a.digest["x_ledger"].size(), 1u) << a.digest["x_ledger"];
  CheckNoNikIn(logs_);
}

}  // namespace
}  // namespace jaring
