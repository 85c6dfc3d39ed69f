// The ledger over gRPC, with the population and eligibility services
// feeding it through the log: cycles pinned at their cutoff, budgets,
// the channel's files, reconciliation, late deaths, proofs and tampering.
#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <set>

#include "absl/strings/str_join.h"
#include "jaring/v1/ledger_service.grpc.pb.h"
#include "libs/ledger/channel_files.h"
#include "libs/ledger/merkle.h"
#include "libs/base/strings.h"
#include "rocksdb/db.h"
#include "services/eligibility/test_util.h"
#include "services/ledger/service.h"

namespace jaring::ledger_service {
namespace {

using ::testing::HasSubstr;

// PKH pays quarterly; BPNT every two months (rules/2026.1).
constexpr char kPeriod[] = "2026-Q4";
constexpr char kBpntPeriod[] = "2026-11/12";

std::string PeriodOf(const std::string& program) { return program == "BPNT" ? kBpntPeriod : kPeriod; }

class LedgerTest : public eligibility::EligibilityFixture {
 protected:
  void SetUp() override {
    EligibilityFixture::SetUp();
    StartLedger();
  }
  void TearDown() override {
    StopLedger();
    EligibilityFixture::TearDown();
  }
  // `log`: null for the fixture's log (a test may wrap it to inject faults).
  void StartLedger(eventlog::EventLog* log = nullptr, int append_chunk = 10000) {
    auto svc = LedgerServiceImpl::Create(log != nullptr ? log : log_.get(),
                                         {.store_dir = dir_.Sub("ledger"),
                                          .clock = &clock_,
                                          .scan_interval = absl::ZeroDuration(),
                                          .append_chunk = append_chunk});
    ASSERT_OK(svc.status());
    ledger_ = std::move(svc).value();
    grpc::ServerBuilder b;
    int port = 0;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    b.RegisterService(ledger_.get());
    ledger_server_ = b.BuildAndStart();
    ASSERT_NE(ledger_server_, nullptr);
    ledger_stub_ = v1::LedgerService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }
  void StopLedger() {
    if (ledger_server_) ledger_server_->Shutdown();
    ledger_server_.reset();
    ledger_stub_.reset();
    ledger_.reset();
  }
  // Everything reading the log stopped, for surgery on the log's files.
  void StopAll() {
    StopLedger();
    StopEligibility();
    StopService();
    log_.reset();
  }
  void StartAll() {
    auto log = eventlog::OpenEmbeddedLog({.dir = dir_.Sub("log"), .clock = &clock_});
    ASSERT_OK(log.status());
    log_ = std::move(log).value();
    StartService();
    StartEligibility();
    StartLedger();
  }

  // `n` generated families of Mataram at random deciles, rules published,
  // decisions settled. Returns the KK numbers.
  std::vector<std::string> Population(int n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<std::string> kks;
    for (int i = 1; i <= n; ++i) {
      v1::RegisterFamilyRequest r = GeneratedFamily(i, rng);
      EXPECT_TRUE(Register(r).ok());
      v1::RecordWelfareAssessmentResponse resp;
      EXPECT_TRUE(stub_->RecordWelfareAssessment(Ctx().get(),
                                                  Assess(r.family().kk_number(), 1 + static_cast<int>(rng() % 6),
                                                         absl::StrCat("assess-", i)),
                                                  &resp)
                      .ok());
      kks.push_back(r.family().kk_number());
    }
    Publish(Rules2026());
    Settle();
    return kks;
  }
  v1::AllocateBudgetResponse Allocate(const std::string& program, int64_t amount, const std::string& rid) {
    v1::AllocateBudgetRequest r;
    r.set_request_id(rid);
    r.set_program(program);
    r.set_region_prefix("52.71");
    r.set_period(PeriodOf(program));
    r.set_amount(amount);
    v1::AllocateBudgetResponse resp;
    grpc::Status st = ledger_stub_->AllocateBudget(Ctx().get(), r, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp;
  }
  v1::OpenCycleRequest Open(const std::string& program, bool dry_run = false) {
    v1::OpenCycleRequest r;
    r.set_program(program);
    r.set_period(PeriodOf(program));
    r.set_region_prefix("52.71");
    *r.mutable_cutoff() = events::ToProtoTime(Now());
    r.set_channel(v1::PAYMENT_CHANNEL_BANK);
    r.set_dry_run(dry_run);
    return r;
  }
  v1::OpenCycleResponse OpenOrDie(const v1::OpenCycleRequest& r) {
    v1::OpenCycleResponse resp;
    grpc::Status st = ledger_stub_->OpenCycle(Ctx().get(), r, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp;
  }
  std::string Export(const std::string& cycle_id, int64_t* instructions = nullptr) {
    v1::ExportInstructionsRequest r;
    r.set_cycle_id(cycle_id);
    auto ctx = Ctx();
    auto reader = ledger_stub_->ExportInstructions(ctx.get(), r);
    std::string csv;
    v1::ExportInstructionsResponse piece;
    while (reader->Read(&piece)) {
      csv += piece.data();
      if (instructions != nullptr && piece.instructions() > 0) *instructions = piece.instructions();
    }
    grpc::Status st = reader->Finish();
    EXPECT_TRUE(st.ok()) << st.error_message();
    return csv;
  }
  // FetchExport over gRPC: the file and its last message (totals, digest).
  std::string Fetch(const std::string& cycle_id, const std::string& export_id,
                    v1::FetchExportResponse* last = nullptr) {
    v1::FetchExportRequest r;
    r.set_cycle_id(cycle_id);
    r.set_export_id(export_id);
    auto ctx = Ctx();
    auto reader = ledger_stub_->FetchExport(ctx.get(), r);
    std::string csv;
    v1::FetchExportResponse piece;
    while (reader->Read(&piece)) {
      csv += piece.data();
      if (last != nullptr) *last = piece;
    }
    grpc::Status st = reader->Finish();
    EXPECT_TRUE(st.ok()) << st.error_message();
    return csv;
  }
  v1::GetCycleResponse Cycle(const std::string& cycle_id) {
    v1::GetCycleRequest gc;
    gc.set_cycle_id(cycle_id);
    v1::GetCycleResponse cycle;
    grpc::Status st = ledger_stub_->GetCycle(Ctx().get(), gc, &cycle);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return cycle;
  }
  // A statement paying every line of an instructions file.
  static std::string AllPaid(const ledger::ParsedInstructions& parsed) {
    std::vector<ledger::StatementLine> st;
    for (const auto& l : parsed.lines) {
      ledger::StatementLine line;
      line.reference = l.instruction.reference;
      line.status = ledger::StatementLine::Status::kPaid;
      line.amount = l.instruction.amount;
      line.channel_reference = "BRI";
      line.settled_on = absl::CivilDay(2026, 11, 24);
      st.push_back(line);
    }
    return ledger::WriteStatement(st);
  }
  // Edits, by hand, the value of the first key under `prefix` in the stopped
  // ledger's store.
  void EditFirst(std::string_view prefix, const std::function<void(std::string&)>& edit) {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir_.Sub("ledger"), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    const rocksdb::Slice p(prefix.data(), prefix.size());
    it->Seek(p);
    ASSERT_TRUE(it->Valid() && it->key().starts_with(p));
    std::string value = it->value().ToString();
    edit(value);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), it->key(), value).ok());
  }
  v1::ImportStatementResponse Import(const std::string& cycle_id, const std::string& csv) {
    auto ctx = Ctx();
    v1::ImportStatementResponse resp;
    auto writer = ledger_stub_->ImportStatement(ctx.get(), &resp);
    v1::ImportStatementRequest first;
    first.set_cycle_id(cycle_id);
    first.set_data(csv.substr(0, csv.size() / 2));
    writer->Write(first);
    v1::ImportStatementRequest second;
    second.set_data(csv.substr(csv.size() / 2));
    writer->Write(second);
    writer->WritesDone();
    grpc::Status st = writer->Finish();
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp;
  }
  std::map<std::string, int64_t> Balances(const std::string& prefix = "") {
    v1::ListAccountsRequest r;
    r.set_prefix(prefix);
    v1::ListAccountsResponse resp;
    EXPECT_TRUE(ledger_stub_->ListAccounts(Ctx().get(), r, &resp).ok());
    std::map<std::string, int64_t> out;
    for (const auto& a : resp.accounts()) out[a.account()] = a.balance();
    return out;
  }
  int64_t JournalSize() {
    int64_t total = 0;
    for (int p = 0; p < 4; ++p) total += log_->EndOffset(std::string(events::kLedgerTopic), p).value_or(0);
    return total;
  }
  v1::VerifyLedgerResponse Verify() {
    v1::VerifyLedgerResponse resp;
    grpc::Status st = ledger_stub_->VerifyLedger(Ctx().get(), v1::VerifyLedgerRequest(), &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp;
  }

  std::unique_ptr<LedgerServiceImpl> ledger_;
  std::unique_ptr<grpc::Server> ledger_server_;
  std::unique_ptr<v1::LedgerService::Stub> ledger_stub_;
};

// The fixture's log with the ledger topic's appends failing on demand: the
// next `fail_after` appends succeed, the ones after that fail (nothing
// appended) until `fail_after` is set back to -1.
class FlakyLog final : public eventlog::EventLog {
 public:
  explicit FlakyLog(eventlog::EventLog* log) : log_(log) {}
  absl::Status CreateTopic(std::string_view t, int32_t n) override { return log_->CreateTopic(t, n); }
  absl::StatusOr<int32_t> PartitionCount(std::string_view t) override { return log_->PartitionCount(t); }
  absl::StatusOr<std::vector<eventlog::Position>> Append(std::string_view topic,
                                                         std::span<const eventlog::Record> records) override {
    if (topic == events::kLedgerTopic && fail_after >= 0) {
      if (fail_after == 0) return absl::UnavailableError("injected: the bus did not acknowledge");
      --fail_after;
    }
    return log_->Append(topic, records);
  }
  absl::StatusOr<int64_t> BeginOffset(std::string_view t, int32_t p) override { return log_->BeginOffset(t, p); }
  absl::StatusOr<int64_t> EndOffset(std::string_view t, int32_t p) override { return log_->EndOffset(t, p); }
  absl::StatusOr<int64_t> OffsetForTimestamp(std::string_view t, int32_t p, int64_t ts) override {
    return log_->OffsetForTimestamp(t, p, ts);
  }
  absl::StatusOr<std::unique_ptr<eventlog::Reader>> NewReader() override { return log_->NewReader(); }
  std::string Describe() const override { return "flaky " + log_->Describe(); }

  std::atomic<int> fail_after{-1};

 private:
  eventlog::EventLog* const log_;
};

int64_t Sum(const std::map<std::string, int64_t>& balances) {
  int64_t s = 0;
  for (const auto& [a, b] : balances) s += b;
  return s;
}

TEST_F(LedgerTest, ACycleFromDecisionsToReconciliation) {
  Population(40, 1);
  Allocate("BPNT", 100'000'000, "budget-1");
  const v1::OpenCycleResponse opened = OpenOrDie(Open("BPNT"));
  ASSERT_GT(opened.families(), 3);
  EXPECT_EQ(opened.total_amount(), opened.families() * 400000) << "BPNT stage of two months: Rp400,000";
  EXPECT_EQ(Sum(Balances()), 0);
  EXPECT_EQ(Balances("budget/")["budget/BPNT/52.71/2026-11/12"], -(100'000'000 - opened.total_amount()));

  // Opening it again appends nothing.
  const int64_t journal = JournalSize();
  const v1::OpenCycleResponse again = OpenOrDie(Open("BPNT"));
  EXPECT_TRUE(again.existing());
  EXPECT_EQ(again.families(), opened.families());
  EXPECT_EQ(JournalSize(), journal);

  int64_t instructed = 0;
  const std::string csv = Export(opened.cycle_id(), &instructed);
  EXPECT_EQ(instructed, opened.families());
  const ledger::ParsedInstructions parsed = ledger::ParseInstructions(csv);
  ASSERT_TRUE(parsed.errors.empty());
  ASSERT_EQ(static_cast<int64_t>(parsed.lines.size()), opened.families());
  for (const auto& l : parsed.lines) {
    EXPECT_EQ(l.instruction.amount, 400000);
    EXPECT_THAT(l.instruction.recipient_name, HasSubstr("*")) << "names are masked";
  }

  // The channel's statement: paid, failed, returned, and lines that match
  // nothing, disagree, or do not parse.
  std::vector<ledger::StatementLine> st;
  auto line = [&](int i, ledger::StatementLine::Status status, int64_t amount) {
    ledger::StatementLine l;
    l.reference = parsed.lines[i].instruction.reference;
    l.status = status;
    l.amount = amount;
    l.channel_reference = absl::StrCat("BRI-", i);
    l.settled_on = absl::CivilDay(2026, 11, 24);
    st.push_back(l);
  };
  for (size_t i = 3; i < parsed.lines.size(); ++i) line(static_cast<int>(i), ledger::StatementLine::Status::kPaid, 400000);
  line(0, ledger::StatementLine::Status::kFailed, 400000);
  line(1, ledger::StatementLine::Status::kReturned, 400000);
  line(2, ledger::StatementLine::Status::kPaid, 399000);  // disagrees
  std::string statement = ledger::WriteStatement(st);
  statement += "JRGNOSUCHREFERENCE00000,PAID,400000,BRI-X,2026-11-24\n";
  statement += "broken line without enough columns\n";
  const v1::ImportStatementResponse rec = Import(opened.cycle_id(), statement);
  EXPECT_EQ(rec.paid(), opened.families() - 3);
  EXPECT_EQ(rec.failed(), 1);
  EXPECT_EQ(rec.returned(), 1);
  ASSERT_EQ(rec.problems_size(), 3);
  std::set<std::string> problems;
  for (const auto& p : rec.problems()) problems.insert(p.message());
  EXPECT_THAT(absl::StrJoin(problems, "\n"), HasSubstr("disagrees with the instruction's Rp400.000"));
  EXPECT_THAT(absl::StrJoin(problems, "\n"), HasSubstr("matches no instruction"));
  EXPECT_THAT(absl::StrJoin(problems, "\n"), HasSubstr(absl::StrCat("line ", st.size() + 3)));
  EXPECT_EQ(Sum(Balances()), 0);

  // The same statement again changes nothing.
  const int64_t before_reimport = JournalSize();
  const v1::ImportStatementResponse again_rec = Import(opened.cycle_id(), statement);
  EXPECT_EQ(again_rec.already_applied(), opened.families() - 3 + 2);
  EXPECT_EQ(JournalSize(), before_reimport);

  // A later run instructs only the failed (and still unpaid) ones.
  int64_t retried = 0;
  const std::string retry = Export(opened.cycle_id(), &retried);
  const ledger::ParsedInstructions retry_lines = ledger::ParseInstructions(retry);
  // Only the failed one: the line whose amount disagreed left its
  // instruction outstanding (the channel must answer for it), not failed.
  ASSERT_EQ(retry_lines.lines.size(), 1u);
  EXPECT_EQ(retry_lines.lines[0].instruction.kk_number, parsed.lines[0].instruction.kk_number);
  EXPECT_NE(retry_lines.lines[0].instruction.reference, parsed.lines[0].instruction.reference);
  v1::GetCycleRequest gc;
  gc.set_cycle_id(opened.cycle_id());
  v1::GetCycleResponse cycle;
  ASSERT_GRPC_OK(ledger_stub_->GetCycle(Ctx().get(), gc, &cycle));
  EXPECT_EQ(cycle.paid(), opened.families() - 3);
  EXPECT_EQ(cycle.returned(), 1);
  EXPECT_EQ(cycle.entitled_amount(), opened.total_amount());
  EXPECT_EQ(cycle.outstanding(), 2);
  // The returned money is back in the budget; the paid in paid/.
  const auto b = Balances();
  EXPECT_EQ(b.at("budget/BPNT/52.71/2026-11/12"), -(100'000'000 - opened.total_amount() + 400000));
  EXPECT_EQ(b.at("paid/BPNT/52.71/2026-11/12"), -(opened.families() - 3) * 400000);
  EXPECT_TRUE(Verify().ok());
}

// A cycle whose opening append fails part way (batches of 4 here, of
// 10,000 in production) is incomplete: nothing can be exported from it or
// close it, a reopen appends exactly the missing entitlements, and no other
// cycle is opened before it is complete.
TEST_F(LedgerTest, AnInterruptedOpenIsIncompleteAndAReopenCompletesExactlyTheMissing) {
  Population(40, 7);
  Allocate("BPNT", 100'000'000, "budget-1");
  const v1::OpenCycleResponse dry = OpenOrDie(Open("BPNT", /*dry_run=*/true));
  ASSERT_GT(dry.families(), 9);
  StopLedger();
  FlakyLog flaky(log_.get());
  StartLedger(&flaky, /*append_chunk=*/4);
  flaky.fail_after = 2;  // the opening entry and 7 entitlements, then the bus fails
  v1::OpenCycleResponse resp;
  const grpc::Status failed = ledger_stub_->OpenCycle(Ctx().get(), Open("BPNT"), &resp);
  EXPECT_EQ(failed.error_code(), grpc::StatusCode::UNAVAILABLE) << failed.error_message();
  flaky.fail_after = -1;
  ASSERT_OK(ledger_->projection().CatchUp());

  v1::GetCycleRequest gc;
  gc.set_cycle_id(dry.cycle_id());
  v1::GetCycleResponse cycle;
  ASSERT_GRPC_OK(ledger_stub_->GetCycle(Ctx().get(), gc, &cycle));
  EXPECT_FALSE(cycle.complete());
  EXPECT_EQ(cycle.entitled_families(), 7);
  EXPECT_EQ(cycle.cycle().families(), dry.families());
  EXPECT_FALSE(cycle.cycle().entitlements_digest().empty());
  // Nothing leaves an incomplete cycle.
  {
    v1::ExportInstructionsRequest r;
    r.set_cycle_id(dry.cycle_id());
    auto ctx = Ctx();
    auto reader = ledger_stub_->ExportInstructions(ctx.get(), r);
    v1::ExportInstructionsResponse piece;
    while (reader->Read(&piece)) {
    }
    const grpc::Status st = reader->Finish();
    EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_THAT(st.error_message(), HasSubstr("is incomplete: 7 of"));
    v1::CloseCycleRequest cc;
    cc.set_cycle_id(dry.cycle_id());
    v1::CloseCycleResponse closed;
    EXPECT_EQ(ledger_stub_->CloseCycle(Ctx().get(), cc, &closed).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  }
  EXPECT_EQ(Sum(Balances()), 0);
  EXPECT_TRUE(Verify().ok());

  // The reopen (after a restart, as after a crash) completes it.
  StopLedger();
  StartLedger();
  const v1::OpenCycleResponse again = OpenOrDie(Open("BPNT"));
  EXPECT_TRUE(again.existing());
  EXPECT_EQ(again.resumed(), dry.families() - 7);
  EXPECT_EQ(again.families(), dry.families());
  EXPECT_EQ(again.total_amount(), dry.total_amount());
  ASSERT_GRPC_OK(ledger_stub_->GetCycle(Ctx().get(), gc, &cycle));
  EXPECT_TRUE(cycle.complete());
  EXPECT_EQ(cycle.entitled_families(), dry.families());
  EXPECT_EQ(cycle.entitled_amount(), dry.total_amount());
  const int64_t journal = JournalSize();
  const v1::OpenCycleResponse third = OpenOrDie(Open("BPNT"));
  EXPECT_EQ(third.resumed(), 0);
  EXPECT_EQ(JournalSize(), journal);
  int64_t instructed = 0;
  Export(dry.cycle_id(), &instructed);
  EXPECT_EQ(instructed, dry.families());
  EXPECT_EQ(Sum(Balances()), 0);
  EXPECT_TRUE(Verify().ok());
}

// An export is a recorded artifact: a reply nobody reads (a client that
// went away, a deadline) strands nothing; the file is fetched again, byte
// for byte, after a restart and from a store rebuilt from the log.
TEST_F(LedgerTest, AnExportWhoseReplyIsLostCanBeFetchedAgainByteForByte) {
  Population(30, 11);
  Allocate("BPNT", 100'000'000, "budget-1");
  const v1::OpenCycleResponse opened = OpenOrDie(Open("BPNT"));
  ASSERT_GT(opened.families(), 3);
  {
    // The reply is dropped: the caller never reads it.
    v1::ExportInstructionsRequest r;
    r.set_cycle_id(opened.cycle_id());
    ASSERT_OK(ledger_->ExportInstructions(r).status());
  }
  // Nothing is left to instruct, and that is not a new export.
  int64_t instructed = -1;
  const std::string empty = Export(opened.cycle_id(), &instructed);
  EXPECT_EQ(ledger::ParseInstructions(empty).lines.size(), 0u);
  v1::GetCycleResponse cycle = Cycle(opened.cycle_id());
  ASSERT_EQ(cycle.exports_size(), 1);
  const v1::ExportSummary x = cycle.exports(0);
  EXPECT_TRUE(x.complete());
  EXPECT_EQ(x.number(), 1);
  EXPECT_EQ(x.instructions(), opened.families());
  EXPECT_EQ(x.total_amount(), opened.total_amount());

  v1::FetchExportResponse last;
  const std::string first = Fetch(opened.cycle_id(), x.export_id(), &last);
  EXPECT_EQ(last.export_id(), x.export_id());
  EXPECT_EQ(last.instructions(), opened.families());
  EXPECT_EQ(last.total_amount(), opened.total_amount());
  EXPECT_EQ(last.csv_sha256(), ledger::ToHex(ledger::Sha256(first)));
  const ledger::ParsedInstructions parsed = ledger::ParseInstructions(first);
  ASSERT_TRUE(parsed.errors.empty());
  ASSERT_EQ(static_cast<int64_t>(parsed.lines.size()), opened.families());
  for (const auto& l : parsed.lines) EXPECT_THAT(l.instruction.recipient_name, HasSubstr("*"));
  EXPECT_EQ(Fetch(opened.cycle_id(), x.export_id()), first);

  // After a restart, and from a store rebuilt from the log alone.
  StopLedger();
  StartLedger();
  EXPECT_EQ(Fetch(opened.cycle_id(), x.export_id()), first);
  StopLedger();
  std::filesystem::remove_all(dir_.Sub("ledger"));
  StartLedger();
  ASSERT_OK(ledger_->projection().CatchUp());
  v1::FetchExportResponse again;
  EXPECT_EQ(Fetch(opened.cycle_id(), x.export_id(), &again), first);
  EXPECT_EQ(again.csv_sha256(), last.csv_sha256());

  // A statement for the fetched file settles it.
  EXPECT_EQ(Import(opened.cycle_id(), AllPaid(parsed)).paid(), opened.families());
  // Wrong ids are refused, naming the field.
  v1::FetchExportRequest bad;
  bad.set_cycle_id(opened.cycle_id());
  EXPECT_THAT(ledger_->FetchExport(bad).status().message(), HasSubstr("export_id"));
  bad.set_export_id("no-such-export");
  EXPECT_TRUE(absl::IsNotFound(ledger_->FetchExport(bad).status()));
  EXPECT_EQ(Sum(Balances()), 0);
  EXPECT_TRUE(Verify().ok());
}

// An export whose append stops part way is recorded with what it announced;
// fetching it (or exporting the cycle again) completes exactly the missing
// instructions, and the file is the same however often it is fetched.
TEST_F(LedgerTest, AnInterruptedExportIsCompletedByTheNextFetch) {
  Population(40, 12);
  Allocate("BPNT", 100'000'000, "budget-1");
  const v1::OpenCycleResponse opened = OpenOrDie(Open("BPNT"));
  ASSERT_GT(opened.families(), 9);
  StopLedger();
  FlakyLog flaky(log_.get());
  StartLedger(&flaky, /*append_chunk=*/4);
  flaky.fail_after = 1;  // the export's entry and 3 instructions, then the bus fails
  v1::ExportInstructionsRequest r;
  r.set_cycle_id(opened.cycle_id());
  EXPECT_TRUE(absl::IsUnavailable(ledger_->ExportInstructions(r).status()));
  flaky.fail_after = -1;
  ASSERT_OK(ledger_->projection().CatchUp());
  v1::GetCycleResponse cycle = Cycle(opened.cycle_id());
  ASSERT_EQ(cycle.exports_size(), 1);
  EXPECT_FALSE(cycle.exports(0).complete());
  EXPECT_EQ(cycle.exports(0).recorded(), 3);
  EXPECT_EQ(cycle.instructed(), 3);
  EXPECT_EQ(Sum(Balances()), 0);
  EXPECT_TRUE(Verify().ok());

  StopLedger();
  StartLedger();
  v1::FetchExportResponse last;
  const std::string csv = Fetch(opened.cycle_id(), cycle.exports(0).export_id(), &last);
  EXPECT_EQ(last.instructions(), opened.families());
  EXPECT_EQ(ledger::ParseInstructions(csv).lines.size(), static_cast<size_t>(opened.families()));
  EXPECT_EQ(Fetch(opened.cycle_id(), cycle.exports(0).export_id()), csv);
  cycle = Cycle(opened.cycle_id());
  EXPECT_TRUE(cycle.exports(0).complete());
  EXPECT_EQ(cycle.instructed(), opened.families());
  // Nothing is instructed twice.
  ASSERT_OK_AND_ASSIGN(LedgerServiceImpl::Export more, ledger_->ExportInstructions(r));
  EXPECT_EQ(more.instructions, 0);
  EXPECT_TRUE(more.export_id.empty());
  EXPECT_EQ(Cycle(opened.cycle_id()).exports_size(), 1);
  EXPECT_EQ(Sum(Balances()), 0);
  EXPECT_TRUE(Verify().ok());
}

// The journal's state machine comes from the log, not the store: an
// entitlement edited by hand in a stopped server's store (paid -> failed)
// gets no second instruction, a settlement edited back to instructed no
// second settlement, and verify-ledger names the edited entitlement.
TEST_F(LedgerTest, AStoreEditedByHandIsReportedAndNeverObeyed) {
  Population(20, 13);
  Allocate("BPNT", 100'000'000, "budget-1");
  const v1::OpenCycleResponse opened = OpenOrDie(Open("BPNT"));
  ASSERT_GT(opened.families(), 2);
  const std::string csv = Export(opened.cycle_id());
  const ledger::ParsedInstructions parsed = ledger::ParseInstructions(csv);
  const std::string statement = AllPaid(parsed);
  ASSERT_EQ(Import(opened.cycle_id(), statement).paid(), opened.families());
  const int64_t journal = JournalSize();
  const auto balances = Balances();

  for (const v1::EntitlementStatus edited : {v1::ENTITLEMENT_STATUS_FAILED, v1::ENTITLEMENT_STATUS_INSTRUCTED}) {
    SCOPED_TRACE(v1::EntitlementStatus_Name(edited));
    StopAll();
    std::string id;
    EditFirst("e/", [&](std::string& value) {
      v1::Entitlement ent;
      ASSERT_TRUE(ent.ParseFromString(value));
      ASSERT_EQ(ent.status(), v1::ENTITLEMENT_STATUS_PAID);
      id = ent.created().entitlement_id();
      ent.set_status(edited);
      value = ent.SerializeAsString();
    });
    StartAll();
    const v1::VerifyLedgerResponse v = Verify();
    EXPECT_FALSE(v.ok());
    EXPECT_THAT(v.first_break().what(), HasSubstr(id));
    EXPECT_THAT(v.first_break().what(), HasSubstr("the journal paid"));
    EXPECT_GE(v.first_break().offset(), 0) << "the entitlement's EntitlementCreated record";
    // No second instruction, no second settlement.
    int64_t instructed = -1;
    Export(opened.cycle_id(), &instructed);
    EXPECT_LE(instructed, 0);
    const v1::ImportStatementResponse again = Import(opened.cycle_id(), statement);
    EXPECT_EQ(again.paid(), 0);
    EXPECT_EQ(JournalSize(), journal);
    EXPECT_EQ(Balances(), balances) << "the edit moved no money";
    // Put it right: the store rebuilt from the log.
    StopLedger();
    std::filesystem::remove_all(dir_.Sub("ledger"));
    StartLedger();
    ASSERT_OK(ledger_->projection().CatchUp());
    EXPECT_TRUE(Verify().ok());
  }
}

// A second cycle is not opened over a family an incomplete one announced:
// the incomplete one is completed first.
TEST_F(LedgerTest, AnIncompleteCycleIsCompletedBeforeAnOverlappingOneOpens) {
  Population(30, 8);
  Allocate("BPNT", 100'000'000, "budget-1");
  v1::AllocateBudgetRequest ab;
  ab.set_request_id("budget-2");
  ab.set_program("BPNT");
  ab.set_region_prefix("52.71.01");
  ab.set_period(kBpntPeriod);
  ab.set_amount(100'000'000);
  v1::AllocateBudgetResponse abr;
  ASSERT_GRPC_OK(ledger_stub_->AllocateBudget(Ctx().get(), ab, &abr));
  StopLedger();
  FlakyLog flaky(log_.get());
  StartLedger(&flaky, /*append_chunk=*/3);
  flaky.fail_after = 1;
  v1::OpenCycleResponse resp;
  EXPECT_FALSE(ledger_stub_->OpenCycle(Ctx().get(), Open("BPNT"), &resp).ok());
  flaky.fail_after = -1;
  v1::OpenCycleRequest sub = Open("BPNT");
  sub.set_region_prefix("52.71.01");
  const v1::OpenCycleResponse second = OpenOrDie(sub);
  EXPECT_EQ(second.families(), 0) << "every family belongs to the first cycle";
  const v1::OpenCycleResponse first = OpenOrDie(Open("BPNT"));
  EXPECT_TRUE(first.existing());
  EXPECT_EQ(first.resumed(), 0) << "already completed before the second opened";
  EXPECT_EQ(second.skipped_already_entitled(), first.families());
  EXPECT_TRUE(Verify().ok());
}

// Checked money: no amount or balance past the documented maxima, so
// nothing can wrap at 2^63 (two allocations of 2^63 - 1 answered
// "available -Rp2").
TEST_F(LedgerTest, AmountsAndBalancesAreBounded) {
  v1::AllocateBudgetRequest r;
  r.set_request_id("huge");
  r.set_program("PKH");
  r.set_region_prefix("52.71");
  r.set_period(kPeriod);
  r.set_amount(std::numeric_limits<int64_t>::max());
  v1::AllocateBudgetResponse resp;
  const int64_t journal = JournalSize();
  grpc::Status st = ledger_stub_->AllocateBudget(Ctx().get(), r, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(), HasSubstr("amount: "));
  EXPECT_THAT(st.error_message(), HasSubstr("maximum per posting"));
  EXPECT_EQ(JournalSize(), journal);
  for (int i = 0; i < kMaxBalance / kMaxPosting; ++i) {
    r.set_request_id(absl::StrCat("max-", i));
    r.set_amount(kMaxPosting);
    ASSERT_GRPC_OK(ledger_stub_->AllocateBudget(Ctx().get(), r, &resp));
    EXPECT_GT(resp.available(), 0);
  }
  EXPECT_EQ(resp.available(), kMaxBalance);
  r.set_request_id("one-more");
  r.set_amount(1);
  const int64_t full = JournalSize();
  st = ledger_stub_->AllocateBudget(Ctx().get(), r, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(st.error_message(), HasSubstr("maximum balance"));
  EXPECT_EQ(JournalSize(), full);
  EXPECT_EQ(Sum(Balances()), 0);
  EXPECT_TRUE(Verify().ok());
}

TEST_F(LedgerTest, ACycleIsPinnedToItsCutoffAndNeverEntitlesTwice) {
  const std::vector<std::string> kks = Population(30, 2);
  Allocate("PKH", 1'000'000'000, "budget-1");
  const v1::OpenCycleRequest req = Open("PKH", /*dry_run=*/true);
  const v1::OpenCycleResponse first = OpenOrDie(req);
  ASSERT_GT(first.families(), 0);

  // Decisions change after the cutoff: everyone is reassessed at decile 9.
  SetNow(Now() + absl::Hours(2));
  for (size_t i = 0; i < kks.size(); ++i) {
    v1::RecordWelfareAssessmentResponse resp;
    ASSERT_GRPC_OK(stub_->RecordWelfareAssessment(Ctx().get(), Assess(kks[i], 9, absl::StrCat("late-", i)), &resp));
  }
  Settle();
  const v1::OpenCycleResponse later = OpenOrDie(req);  // same cutoff
  ASSERT_EQ(later.entitlements_size(), first.entitlements_size());
  for (int i = 0; i < first.entitlements_size(); ++i) {
    EXPECT_EQ(later.entitlements(i).SerializeAsString(), first.entitlements(i).SerializeAsString());
  }

  v1::OpenCycleRequest real = req;
  real.set_dry_run(false);
  const v1::OpenCycleResponse opened = OpenOrDie(real);
  EXPECT_EQ(opened.families(), first.families());
  // Another cycle of the same program and period over an overlapping
  // region entitles nobody twice.
  v1::OpenCycleRequest overlap = real;
  overlap.set_region_prefix("52.71.01");
  v1::AllocateBudgetRequest ab;
  ab.set_request_id("budget-2");
  ab.set_program("PKH");
  ab.set_region_prefix("52.71.01");
  ab.set_period(kPeriod);
  ab.set_amount(1'000'000'000);
  v1::AllocateBudgetResponse abr;
  ASSERT_GRPC_OK(ledger_stub_->AllocateBudget(Ctx().get(), ab, &abr));
  const v1::OpenCycleResponse second = OpenOrDie(overlap);
  EXPECT_EQ(second.families(), 0);
  EXPECT_EQ(second.skipped_already_entitled(), first.families());
  std::map<std::string, int> per_family;
  for (const auto& kk : kks) {
    v1::GetFamilyLedgerRequest q;
    q.set_kk_number(kk);
    v1::GetFamilyLedgerResponse fl;
    ASSERT_GRPC_OK(ledger_stub_->GetFamilyLedger(Ctx().get(), q, &fl));
    EXPECT_LE(fl.entitlements_size(), 1) << kk;
  }
}

TEST_F(LedgerTest, ACycleOverItsBudgetIsRefusedWithTheShortfall) {
  Population(20, 3);
  Allocate("BPNT", 800000, "small");
  const int64_t journal = JournalSize();
  v1::OpenCycleResponse resp;
  const grpc::Status st = ledger_stub_->OpenCycle(Ctx().get(), Open("BPNT"), &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(st.error_message(), HasSubstr("short by Rp"));
  EXPECT_THAT(st.error_message(), HasSubstr("Rp800.000 available"));
  EXPECT_EQ(JournalSize(), journal);

  v1::OpenCycleRequest bad = Open("BPNT");
  bad.clear_cutoff();
  EXPECT_EQ(ledger_stub_->OpenCycle(Ctx().get(), bad, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  bad = Open("BPNT");
  *bad.mutable_cutoff() = events::ToProtoTime(Now() + absl::Hours(1));
  const grpc::Status future = ledger_stub_->OpenCycle(Ctx().get(), bad, &resp);
  EXPECT_EQ(future.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(future.error_message(), HasSubstr("cutoff"));
}

TEST_F(LedgerTest, ALateDeathRaisesExactlyOneRecoveryClaimOfTheRightAmount) {
  // A one-person family at decile 2: BPNT.
  v1::RegisterFamilyRequest reg = Family2();
  reg.mutable_family()->set_region_code("52.71.01.1001");
  reg.mutable_family()->set_kk_number("5271011004180002");
  ASSERT_GRPC_OK(Register(reg));
  v1::RecordWelfareAssessmentResponse ar;
  ASSERT_GRPC_OK(stub_->RecordWelfareAssessment(Ctx().get(), Assess("5271011004180002", 2, "a"), &ar));
  Publish(Rules2026());
  Settle();
  Allocate("BPNT", 10'000'000, "b");
  const absl::Time cutoff = Now();
  const v1::OpenCycleResponse opened = OpenOrDie(Open("BPNT"));
  ASSERT_EQ(opened.families(), 1);
  const ledger::ParsedInstructions lines = ledger::ParseInstructions(Export(opened.cycle_id()));
  ASSERT_EQ(lines.lines.size(), 1u);
  ledger::StatementLine paid;
  paid.reference = lines.lines[0].instruction.reference;
  paid.amount = 400000;
  paid.channel_reference = "POS-1";
  paid.settled_on = absl::CivilDay(2026, 11, 25);
  ASSERT_EQ(Import(opened.cycle_id(), ledger::WriteStatement({paid})).paid(), 1);

  // A week later the death is reported: it happened before the cutoff.
  SetNow(Now() + absl::Hours(24 * 7));
  v1::RecordDeathRequest death = Death("5271011004180002", population::kHead2, D(2026, 11, 20), "death");
  SetTime(death.mutable_context(), cutoff - absl::Hours(24 * 3), std::nullopt);
  v1::RecordDeathResponse dr;
  ASSERT_GRPC_OK(stub_->RecordDeath(Ctx().get(), death, &dr));
  ASSERT_OK(ledger_->projection().CatchUp());
  ASSERT_OK_AND_ASSIGN(int64_t raised, ledger_->RaiseRecoveryClaims());
  EXPECT_EQ(raised, 1);
  ASSERT_OK_AND_ASSIGN(raised, ledger_->RaiseRecoveryClaims());
  EXPECT_EQ(raised, 0);
  StopLedger();
  StartLedger();
  ASSERT_OK_AND_ASSIGN(raised, ledger_->RaiseRecoveryClaims());
  EXPECT_EQ(raised, 0);

  v1::ListRecoveryClaimsResponse claims;
  ASSERT_GRPC_OK(ledger_stub_->ListRecoveryClaims(Ctx().get(), v1::ListRecoveryClaimsRequest(), &claims));
  ASSERT_EQ(claims.claims_size(), 1);
  EXPECT_EQ(claims.claims(0).amount(), 400000);
  EXPECT_EQ(claims.claims(0).kk_number(), "5271011004180002");
  EXPECT_FALSE(claims.claims(0).cause_event_id().empty());
  EXPECT_EQ(Balances("recovery/").at("recovery/BPNT/5271011004180002"), 400000);
  EXPECT_EQ(Sum(Balances()), 0);
  // A family dead at the cutoff gets no entitlement in a new cycle.
  v1::OpenCycleRequest next = Open("BPNT", true);
  next.set_period(kBpntPeriod);
  next.set_region_prefix("52.71.01");
  const v1::OpenCycleResponse dry = OpenOrDie(next);
  EXPECT_EQ(dry.families(), 0);
}

TEST_F(LedgerTest, ProofsVerifyAndTamperingIsFound) {
  const std::vector<std::string> kks = Population(25, 4);
  Allocate("BPNT", 100'000'000, "b");
  const v1::OpenCycleResponse opened = OpenOrDie(Open("BPNT"));
  Export(opened.cycle_id());
  v1::CloseCycleRequest cc;
  cc.set_cycle_id(opened.cycle_id());
  v1::CloseCycleResponse closed;
  ASSERT_GRPC_OK(ledger_stub_->CloseCycle(Ctx().get(), cc, &closed));
  EXPECT_EQ(closed.entries(), 2 + 2 * opened.families()) << "opened, the export, and per family an entitlement and an instruction";

  // A proof for one family verifies against the published root, and fails
  // when any byte of it changes.
  v1::GetFamilyLedgerResponse fl;
  std::string kk;
  for (const auto& k : kks) {
    v1::GetFamilyLedgerRequest q;
    q.set_kk_number(k);
    ASSERT_GRPC_OK(ledger_stub_->GetFamilyLedger(Ctx().get(), q, &fl));
    if (fl.entitlements_size() > 0) {
      kk = k;
      break;
    }
  }
  ASSERT_FALSE(kk.empty());
  v1::GetInclusionProofRequest pq;
  pq.set_cycle_id(opened.cycle_id());
  pq.set_kk_number(kk);
  v1::GetInclusionProofResponse proof;
  ASSERT_GRPC_OK(ledger_stub_->GetInclusionProof(Ctx().get(), pq, &proof));
  ASSERT_OK_AND_ASSIGN(ledger::InclusionProofBundle bundle, ledger::DecodeProof(proof.proof()));
  ASSERT_OK(ledger::VerifyProof(bundle));
  EXPECT_EQ(ledger::ToHex(bundle.root), closed.merkle_root());
  v1::Envelope entry;
  ASSERT_TRUE(entry.ParseFromString(bundle.entry));
  EXPECT_EQ(entry.ledger_entry().entitlement_created().kk_number(), kk) << "the proof shows the family's own entry";
  for (size_t i = 0; i < proof.proof().size(); i += 7) {
    std::string bad = proof.proof();
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    auto decoded = ledger::DecodeProof(bad);
    EXPECT_TRUE(!decoded.ok() || !ledger::VerifyProof(*decoded).ok()) << "byte " << i << " changed, still valid";
  }
  EXPECT_TRUE(Verify().ok());

  // Tamper with the store: one journal entry's bytes.
  StopAll();
  {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir_.Sub("ledger"), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    const std::string key = keys::Journal(0, 0).substr(0, 6);  // "j/" + BE32 partition 0 ... any partition
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    it->Seek("j/");
    ASSERT_TRUE(it->Valid() && it->key().starts_with("j/"));
    it->Next();  // the second entry of the first partition that has any
    std::string value = it->value().ToString();
    value[value.size() - 3] ^= 0x20;
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), it->key(), value).ok());
    (void)key;
  }
  StartAll();
  v1::VerifyLedgerResponse v = Verify();
  EXPECT_FALSE(v.ok());
  EXPECT_THAT(v.first_break().what(), HasSubstr("store's copy"));
}

TEST_F(LedgerTest, TamperingWithTheLogIsFound) {
  Population(15, 5);
  Allocate("BPNT", 100'000'000, "b");
  const v1::OpenCycleResponse opened = OpenOrDie(Open("BPNT"));
  ASSERT_GT(opened.families(), 2);
  ASSERT_TRUE(Verify().ok());
  StopAll();
  {
    // The embedded log's records: "r" BE32 topic-id BE32 partition BE64
    // offset (docs/formats/embedded-log.md). Change one byte of the value of
    // a record of the ledger topic in the middle of its partition.
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir_.Sub("log"), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::string topic_id;
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), absl::StrCat("m", jaring::Av(events::kLedgerTopic)), &topic_id).ok());
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    const std::string prefix = absl::StrCat("r", topic_id.substr(0, 4));
    it->Seek(prefix);
    ASSERT_TRUE(it->Valid() && it->key().starts_with(prefix));
    it->Next();
    it->Next();
    ASSERT_TRUE(it->Valid() && it->key().starts_with(prefix));
    std::string value = it->value().ToString();
    value[value.size() - 5] ^= 0x01;
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), it->key(), value).ok());
  }
  StartAll();
  v1::VerifyLedgerResponse v = Verify();
  EXPECT_FALSE(v.ok());
  EXPECT_FALSE(v.first_break().what().empty());
}

}  // namespace
}  // namespace jaring::ledger_service

namespace jaring::ledger_service {
namespace {

// Generated histories of budgets, cycles, exports, statements (with
// retries and repeats), restarts and late deaths. After every step the
// postings sum to zero and no family has two entitlements for one program
// and period; at the end a store rebuilt from the log is identical.
TEST_F(LedgerTest, GeneratedHistoriesKeepTheBooksAndRebuildIdentically) {
  for (uint64_t seed : {11u, 12u, 13u}) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    if (seed != 11u) {
      StopAll();
      std::filesystem::remove_all(dir_.Sub("log"));
      std::filesystem::remove_all(dir_.Sub("store"));
      std::filesystem::remove_all(dir_.Sub("eligibility"));
      std::filesystem::remove_all(dir_.Sub("ledger"));
      SetNow(Day(2026, 11, 23));
      auto log = eventlog::OpenEmbeddedLog({.dir = dir_.Sub("log"), .clock = &clock_});
      ASSERT_OK(log.status());
      log_ = std::move(log).value();
      for (const auto& t : events::kDefaultTopics) ASSERT_OK(log_->CreateTopic(std::string(t.name), t.partitions));
      StartService();
      StartEligibility();
      StartLedger();
    }
    std::mt19937_64 rng(seed);
    const std::vector<std::string> kks = Population(24, seed);
    const std::vector<std::pair<std::string, std::string>> cycles = {
        {"PKH", "2026-Q3"}, {"PKH", "2026-Q4"}, {"BPNT", "2026-09/10"}, {"BPNT", "2026-11/12"}};
    std::map<std::string, std::string> opened;  // program/period -> cycle id
    for (int step = 0; step < 60; ++step) {
      const auto& [program, period] = cycles[rng() % cycles.size()];
      const std::string name = absl::StrCat(program, "/", period);
      // A cycle not yet opened is funded (sometimes too little) and opened
      // first; afterwards anything may happen to it.
      const uint64_t op = !opened.contains(name) ? (rng() % 2) : 1 + rng() % 7;
      switch (op) {
        case 0: {
          v1::AllocateBudgetRequest r;
          r.set_request_id(absl::StrCat("budget-", seed, "-", rng() % 6));  // repeats are deduplicated
          r.set_program(program);
          r.set_region_prefix("52.71");
          r.set_period(period);
          r.set_amount(1'000'000 * static_cast<int64_t>(1 + rng() % 60));
          v1::AllocateBudgetResponse resp;
          ASSERT_GRPC_OK(ledger_stub_->AllocateBudget(Ctx().get(), r, &resp));
          break;
        }
        case 1:
        case 7: {
          v1::OpenCycleRequest r = Open(program);
          r.set_period(period);
          v1::OpenCycleResponse resp;
          const grpc::Status st = ledger_stub_->OpenCycle(Ctx().get(), r, &resp);
          if (st.ok()) {
            opened[name] = resp.cycle_id();
          } else {
            ASSERT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << st.error_message();
          }
          break;
        }
        case 2:
          if (opened.contains(name)) {
            v1::ExportInstructionsRequest r;
            r.set_cycle_id(opened[name]);
            auto ctx = Ctx();
            auto reader = ledger_stub_->ExportInstructions(ctx.get(), r);
            v1::ExportInstructionsResponse piece;
            while (reader->Read(&piece)) {
            }
            const grpc::Status st = reader->Finish();
            ASSERT_TRUE(st.ok() || st.error_code() == grpc::StatusCode::FAILED_PRECONDITION) << st.error_message();
          }
          break;
        case 3:
          if (opened.contains(name)) {
            // A statement for every outstanding instruction, random outcomes;
            // sometimes sent twice.
            std::vector<ledger::StatementLine> lines;
            for (const auto& kk : kks) {
              v1::GetFamilyLedgerRequest q;
              q.set_kk_number(kk);
              v1::GetFamilyLedgerResponse fl;
              ASSERT_GRPC_OK(ledger_stub_->GetFamilyLedger(Ctx().get(), q, &fl));
              for (const auto& e : fl.entitlements()) {
                if (e.cycle_id() != opened[name] || e.status() != v1::ENTITLEMENT_STATUS_INSTRUCTED) continue;
                ledger::StatementLine l;
                l.reference = e.reference();
                const int pick = static_cast<int>(rng() % 10);
                l.status = pick < 7   ? ledger::StatementLine::Status::kPaid
                           : pick < 9 ? ledger::StatementLine::Status::kFailed
                                      : ledger::StatementLine::Status::kReturned;
                l.amount = e.created().amount();
                l.channel_reference = absl::StrCat("CH-", step, "-", kk);
                l.settled_on = absl::CivilDay(2026, 11, 24);
                lines.push_back(l);
              }
            }
            const std::string csv = ledger::WriteStatement(lines);
            v1::ImportStatementResponse first;
            auto ctx = Ctx();
            auto w = ledger_stub_->ImportStatement(ctx.get(), &first);
            v1::ImportStatementRequest piece;
            piece.set_cycle_id(opened[name]);
            piece.set_data(csv);
            w->Write(piece);
            w->WritesDone();
            const grpc::Status st = w->Finish();
            ASSERT_TRUE(st.ok() || st.error_code() == grpc::StatusCode::FAILED_PRECONDITION) << st.error_message();
            if (st.ok() && rng() % 3 == 0) {
              const int64_t before = JournalSize();
              const v1::ImportStatementResponse again = Import(opened[name], csv);
              EXPECT_EQ(JournalSize(), before) << "a repeated statement appended";
              EXPECT_EQ(again.already_applied(), static_cast<int64_t>(lines.size()));
            }
          }
          break;
        case 4:
          if (opened.contains(name) && rng() % 3 == 0) {
            v1::CloseCycleRequest r;
            r.set_cycle_id(opened[name]);
            v1::CloseCycleResponse resp;
            ASSERT_GRPC_OK(ledger_stub_->CloseCycle(Ctx().get(), r, &resp));
          }
          break;
        case 5: {  // a late death of a whole (small) family, then the scan
          const std::string& kk = kks[rng() % kks.size()];
          const v1::Family f = GetFamilyOrDie(kk);
          for (const auto& m : f.members()) {
            if (!m.alive()) continue;
            v1::RecordDeathRequest d = Death(kk, m.member().nik(), D(2026, 6, 1), absl::StrCat("death-", step, m.member().nik()));
            SetTime(d.mutable_context(), Day(2026, 6, 1), std::nullopt);
            v1::RecordDeathResponse dr;
            const grpc::Status st = stub_->RecordDeath(Ctx().get(), d, &dr);
            ASSERT_TRUE(st.ok() || st.error_code() == grpc::StatusCode::FAILED_PRECONDITION) << st.error_message();
          }
          ASSERT_OK(ledger_->projection().CatchUp());
          ASSERT_OK(ledger_->RaiseRecoveryClaims().status());
          break;
        }
        default:  // a restart
          StopLedger();
          StartLedger();
      }
      ASSERT_EQ(Sum(Balances()), 0) << "step " << step;
    }
    // Then every open cycle is paid out in full, and a late death found.
    for (const auto& [name, cycle_id] : opened) {
      v1::GetCycleRequest gc;
      gc.set_cycle_id(cycle_id);
      v1::GetCycleResponse cycle;
      ASSERT_GRPC_OK(ledger_stub_->GetCycle(Ctx().get(), gc, &cycle));
      if (cycle.closed()) continue;
      const ledger::ParsedInstructions lines = ledger::ParseInstructions(Export(cycle_id));
      std::vector<ledger::StatementLine> st;
      for (const auto& l : lines.lines) {
        ledger::StatementLine sl;
        sl.reference = l.instruction.reference;
        sl.amount = l.instruction.amount;
        sl.channel_reference = "FINAL";
        sl.settled_on = absl::CivilDay(2026, 11, 24);
        st.push_back(sl);
      }
      if (!st.empty()) Import(cycle_id, ledger::WriteStatement(st));
      ASSERT_EQ(Sum(Balances()), 0);
    }
    // At most one entitlement per (family, program, period); at most one
    // claim per entitlement.
    int64_t entitlements = 0, claims = 0, paid = 0;
    for (const auto& kk : kks) {
      v1::GetFamilyLedgerRequest q;
      q.set_kk_number(kk);
      v1::GetFamilyLedgerResponse fl;
      ASSERT_GRPC_OK(ledger_stub_->GetFamilyLedger(Ctx().get(), q, &fl));
      std::set<std::string> seen;
      for (const auto& e : fl.entitlements()) {
        EXPECT_TRUE(seen.insert(absl::StrCat(e.created().program(), "/", e.created().period())).second) << kk;
      }
      std::set<std::string> claimed;
      for (const auto& c : fl.recovery_claims()) EXPECT_TRUE(claimed.insert(c.entitlement_id()).second) << kk;
      entitlements += fl.entitlements_size();
      claims += fl.recovery_claims_size();
      for (const auto& e : fl.entitlements()) paid += e.status() == v1::ENTITLEMENT_STATUS_PAID;
    }
    std::printf("seed %llu: %lld entitlements, %lld paid, %lld recovery claims, %zu cycles\n",
                static_cast<unsigned long long>(seed), static_cast<long long>(entitlements),
                static_cast<long long>(paid), static_cast<long long>(claims), opened.size());
    EXPECT_GT(paid, 0) << "the generated history must pay someone to mean anything";
    EXPECT_TRUE(Verify().ok()) << Verify().first_break().what();

    // A rebuild from the log gives the same balances, cycles and roots.
    StopLedger();
    LedgerApplier applier;
    projection::Options o;
    o.dir = dir_.Sub(absl::StrCat("rebuilt-", seed));
    o.topics = {std::string(events::kPopulationTopic), std::string(events::kEligibilityTopic),
                std::string(events::kLedgerTopic)};
    ASSERT_OK(projection::Rebuild(log_.get(), &applier, o));
    ASSERT_OK_AND_ASSIGN(auto live, projection::DumpStore(dir_.Sub("ledger")));
    ASSERT_OK_AND_ASSIGN(auto rebuilt, projection::DumpStore(o.dir));
    auto derived = [](const std::vector<std::pair<std::string, std::string>>& all) {
      std::vector<std::pair<std::string, std::string>> out;
      for (const auto& kv : all) {
        if (kv.first.rfind("c/", 0) == 0) continue;  // deaths already checked (the scanner's progress)
        out.push_back(kv);
      }
      return out;
    };
    EXPECT_TRUE(derived(live) == derived(rebuilt)) << "the live ledger store differs from a rebuild";
    StartLedger();
  }
}

}  // namespace
}  // namespace jaring::ledger_service
