// Every role against every RPC of every service, over real gRPC through the
// guard (libs/auth), with all four services in one server on the embedded
// log: a family of Kota Mataram (52.71) with an appeal assigned to verifier
// petugas-7 and a BPNT cycle of 52.71. The expectations below are written
// out by hand, independently of libs/auth/policy.cc; a method added to a
// service without a row here fails the test.
//
// Roles: N national, O oversight, R regional office of 52.71, X regional
// office of 52.03 (another region), V verifier petugas-7 (assigned), W
// verifier petugas-9 (not assigned), P the public (no credential).
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/client_unary_call.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "libs/auth/guard.h"
#include "libs/auth/token.h"
#include "services/appeals/service.h"
#include "services/audit/service.h"
#include "services/eligibility/test_util.h"
#include "services/ledger/service.h"

namespace jaring {
namespace {

using ::testing::HasSubstr;
using population::kChild1;
using population::kHead1;
using population::kKk1;
using population::kWife1;

const std::string kTokenKey = "table-test-token-key-0123456789ab";

// Who may call what: roles allowed per method (short name).
const std::map<std::string, std::string>& Expected() {
  static const auto* table = new std::map<std::string, std::string>{
      // Population
      {"PopulationService/RegisterFamily", "NR"},
      {"PopulationService/RecordBirth", "NR"},
      {"PopulationService/RecordDeath", "NR"},
      {"PopulationService/MoveMember", "NR"},
      {"PopulationService/SplitFamily", "NR"},
      {"PopulationService/ChangeHead", "NR"},
      {"PopulationService/RecordWelfareAssessment", "NR"},
      {"PopulationService/ChangeMemberAttributes", "NR"},
      {"PopulationService/CorrectRecord", "NR"},
      {"PopulationService/Import", "NR"},
      {"PopulationService/GetFamily", "NORV"},
      {"PopulationService/GetMember", "NOR"},
      {"PopulationService/ListFamilies", "NOR"},
      {"PopulationService/GetFamilyHistory", "NORV"},
      {"PopulationService/ListOverlapFindings", "NOR"},
      {"PopulationService/ListAccessRecords", "NO"},
      // Eligibility
      {"EligibilityService/PublishRuleSet", "N"},
      {"EligibilityService/ListRuleSets", "NORX"},
      {"EligibilityService/GetDecision", "NORV"},
      {"EligibilityService/GetDecisionHistory", "NORV"},
      {"EligibilityService/ListBeneficiaries", "NOR"},
      {"EligibilityService/ListDecileMovements", "NOR"},
      {"EligibilityService/ListEligibilityRisks", "NOR"},
      {"EligibilityService/Simulate", "NOR"},
      // Appeals
      {"AppealsService/FileAppeal", "NR"},
      {"AppealsService/AssignAppeal", "NR"},
      {"AppealsService/RecordVerification", "NRV"},
      {"AppealsService/DecideAppeal", "NR"},
      {"AppealsService/CloseAppeal", "NR"},
      {"AppealsService/WithdrawAppeal", "NR"},
      {"AppealsService/SetAppealPolicy", "N"},
      {"AppealsService/OpenObjectionWindow", "NR"},
      {"AppealsService/GetAppeal", "NORV"},
      {"AppealsService/ListFamilyAppeals", "NORV"},
      {"AppealsService/ListWorkQueue", "NOR"},
      {"AppealsService/ListBreaches", "NOR"},
      {"AppealsService/GetAppealStats", "NOR"},
      {"AppealsService/ListObjectionWindows", "NOR"},
      {"AppealsService/LookupFamilyStatus", "NORXVWP"},
      // Ledger
      {"LedgerService/AllocateBudget", "NR"},
      {"LedgerService/OpenCycle", "NR"},
      {"LedgerService/ExportInstructions", "NR"},
      {"LedgerService/FetchExport", "NR"},
      {"LedgerService/ImportStatement", "NR"},
      {"LedgerService/CloseCycle", "NR"},
      {"LedgerService/GetCycle", "NOR"},
      {"LedgerService/ListAccounts", "NO"},
      {"LedgerService/GetFamilyLedger", "NORV"},
      {"LedgerService/ListRecoveryClaims", "NOR"},
      {"LedgerService/GetInclusionProof", "NOR"},
      {"LedgerService/VerifyLedger", "NO"},
      // Audit
      {"AuditService/GetAuditSource", "NORX"},
      {"AuditService/ListEligibleOn", "NOR"},
      {"AuditService/ListEligibilityChanges", "NOR"},
      {"AuditService/ListPaymentsWithoutLivingMember", "NOR"},
      {"AuditService/ListPeopleInTwoPlaces", "NOR"},
      {"AuditService/ListCycleDiscrepancies", "NOR"},
  };
  return *table;
}

class AuthTableTest : public eligibility::EligibilityFixture {
 protected:
  void SetUp() override {
    EligibilityFixture::SetUp();
    // The family, its decile, the rules, decisions.
    ASSERT_GRPC_OK(Register(Family1()));
    v1::RecordWelfareAssessmentResponse assessed;
    ASSERT_GRPC_OK(stub_->RecordWelfareAssessment(Ctx().get(), Assess(kKk1, 2, "assess-1"), &assessed));
    Publish(Rules2026());
    Settle();

    auto appeals = appeals::AppealsServiceImpl::Create(
        log_.get(), {.store_dir = dir_.Sub("appeals"), .filer_key = "table-test-filer-key-0123456789",
                     .clock = &clock_, .tick_interval = absl::ZeroDuration()});
    ASSERT_OK(appeals.status());
    appeals_ = std::move(appeals).value();
    auto ledger = ledger_service::LedgerServiceImpl::Create(
        log_.get(), {.store_dir = dir_.Sub("ledger"), .clock = &clock_, .scan_interval = absl::ZeroDuration()});
    ASSERT_OK(ledger.status());
    ledger_ = std::move(ledger).value();

    v1::FileAppealRequest file;
    file.set_request_id("file-1");
    file.set_actor("loket-mataram");
    file.set_kind(v1::APPEAL_KIND_DATA_CORRECTION);
    file.set_kk_number(kKk1);
    file.set_program("BPNT");
    const std::vector<v1::RecordedDecision> bpnt = HistoryOf(kKk1, "BPNT");
    ASSERT_FALSE(bpnt.empty());
    file.set_decision_id(bpnt.back().decision().decision_id());
    file.set_decision_version(bpnt.back().decision().version());
    file.set_filer_relation(v1::FILER_RELATION_MEMBER);
    file.set_filer_nik(kHead1);
    file.set_statement("Data kami salah");
    auto filed = appeals_->FileAppeal(file);
    ASSERT_OK(filed.status());
    appeal_id_ = filed->appeal().appeal_id();
    v1::AssignAppealRequest assign;
    assign.set_request_id("assign-1");
    assign.set_actor("kepala-bidang");
    assign.set_appeal_id(appeal_id_);
    assign.set_verifier_id("petugas-7");
    ASSERT_OK(appeals_->AssignAppeal(assign).status());

    v1::AllocateBudgetRequest budget;
    budget.set_request_id("budget-1");
    budget.set_program("BPNT");
    budget.set_region_prefix("52.71");
    budget.set_period("2026-11/12");
    budget.set_amount(100'000'000);
    budget.set_actor("kemensos");
    ASSERT_OK(ledger_->AllocateBudget(budget).status());
    v1::OpenCycleRequest open;
    open.set_program("BPNT");
    open.set_period("2026-11/12");
    open.set_region_prefix("52.71");
    *open.mutable_cutoff() = events::ToProtoTime(clock_.Now());
    open.set_channel(v1::PAYMENT_CHANNEL_BANK);
    open.set_actor("kemensos");
    auto opened = ledger_->OpenCycle(open);
    ASSERT_OK(opened.status());
    cycle_id_ = opened->cycle_id();
    auto audit = audit::AuditServiceImpl::Create({.population = service_.get(),
                                                  .eligibility = elig_.get(),
                                                  .ledger = ledger_.get(),
                                                  .services = {"population", "eligibility", "appeals", "ledger"},
                                                  .export_key = "table-test-export-key-0123456789",
                                                  .clock = &clock_});
    ASSERT_OK(audit.status());
    audit_ = std::move(audit).value();

    // The guarded server with all four services.
    auth::GuardOptions o;
    o.token_key = kTokenKey;
    o.clock = &clock_;
    o.access_log = log_.get();
    o.log = [this](const std::string& line) {
      absl::MutexLock l(&log_mu_);
      guard_log_.push_back(line);
    };
    population::PopulationServiceImpl* p = service_.get();
    appeals::AppealsServiceImpl* a = appeals_.get();
    ledger_service::LedgerServiceImpl* l = ledger_.get();
    o.resolvers.member_family = [p](std::string_view nik) { return p->MemberFamily(nik); };
    o.resolvers.appeal = [a](std::string_view id) { return a->AppealFacts(id); };
    o.resolvers.verifier_family = [a](std::string_view v, std::string_view kk) { return a->VerifierHasFamily(v, kk); };
    o.resolvers.cycle_region = [l](std::string_view id) { return l->CycleRegion(id); };
    guard_ = std::make_unique<auth::Guard>(std::move(o));
    grpc::ServerBuilder b;
    int port = 0;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    b.RegisterService(service_.get());
    b.RegisterService(elig_.get());
    b.RegisterService(appeals_.get());
    b.RegisterService(ledger_.get());
    b.RegisterService(audit_.get());
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
    interceptors.push_back(guard_->InterceptorFactory());
    b.experimental().SetInterceptorCreators(std::move(interceptors));
    guarded_ = b.BuildAndStart();
    ASSERT_NE(guarded_, nullptr);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());

    tokens_['N'] = Token(auth::Role::kNational, "kemensos-ops");
    tokens_['O'] = Token(auth::Role::kOversight, "bpk-ri");
    tokens_['R'] = Token(auth::Role::kRegional, "dinsos-mataram", "52.71");
    tokens_['X'] = Token(auth::Role::kRegional, "dinsos-lotim", "52.03");
    tokens_['V'] = Token(auth::Role::kVerifier, "petugas-7");
    tokens_['W'] = Token(auth::Role::kVerifier, "petugas-9");
    tokens_['P'] = "";
  }
  void TearDown() override {
    if (guarded_) guarded_->Shutdown();
    guarded_.reset();
    guard_.reset();
    audit_.reset();
    ledger_.reset();
    appeals_.reset();
    EligibilityFixture::TearDown();
  }

  std::string Token(auth::Role role, std::string subject, std::string region = "",
                    absl::Duration valid_for = absl::Hours(8), std::string audience = "jaring") {
    auth::TokenClaims c;
    c.principal = {role, std::move(subject), std::move(region), "token"};
    c.audience = std::move(audience);
    c.issued_at = clock_.Now() - absl::Hours(1);
    c.expires_at = c.issued_at + valid_for;
    auto t = auth::MintToken(c, kTokenKey);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? *t : "";
  }

  // The request for `method`: every field that names a family, member,
  // region, appeal or cycle points at the seeded ones.
  void Fill(google::protobuf::Message* m, int depth = 0) {
    const auto* d = m->GetDescriptor();
    const auto* r = m->GetReflection();
    for (int i = 0; i < d->field_count(); ++i) {
      const auto* f = d->field(i);
      if (f->is_repeated()) continue;
      if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE && f->name() == "family" && depth < 3) {
        Fill(r->MutableMessage(m, f), depth + 1);
      }
      if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_STRING) continue;
      const std::string& n = f->name();
      if (n == "kk_number" || n == "from_kk_number" || n == "to_kk_number") r->SetString(m, f, kKk1);
      if (n == "region_prefix") r->SetString(m, f, "52.71");
      if (n == "appeal_id") r->SetString(m, f, appeal_id_);
      if (n == "cycle_id") r->SetString(m, f, cycle_id_);
      if (n == "nik") r->SetString(m, f, kHead1);
    }
  }

  static void Authorize(grpc::ClientContext* ctx, const std::string& token) {
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  }

  // One call of `method` as the holder of `token`.
  grpc::Status Call(const google::protobuf::MethodDescriptor* method, const std::string& token) {
    std::unique_ptr<google::protobuf::Message> req(
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(method->input_type())->New());
    Fill(req.get());
    const std::string path = "/" + method->service()->full_name() + "/" + method->name();
    grpc::ClientContext ctx;
    Authorize(&ctx, token);
    if (!method->client_streaming() && !method->server_streaming()) {
      const std::string bytes = req->SerializeAsString();
      grpc::Slice slice(bytes);
      grpc::ByteBuffer in(&slice, 1), out;
      return grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
          channel_.get(), grpc::internal::RpcMethod(path.c_str(), grpc::internal::RpcMethod::NORMAL_RPC), &ctx, in,
          &out);
    }
    if (method->name() == "Import") {
      auto stub = v1::PopulationService::NewStub(channel_);
      auto stream = stub->Import(&ctx);
      v1::ImportRequest row = static_cast<const v1::ImportRequest&>(*req);
      row.set_line(1);
      stream->Write(row);
      v1::ImportRequest end;
      end.set_end(true);
      stream->Write(end);
      stream->WritesDone();
      v1::ImportResponse resp;
      while (stream->Read(&resp)) {
      }
      return stream->Finish();
    }
    if (method->name() == "ImportStatement") {
      auto stub = v1::LedgerService::NewStub(channel_);
      v1::ImportStatementResponse resp;
      auto stream = stub->ImportStatement(&ctx, &resp);
      stream->Write(static_cast<const v1::ImportStatementRequest&>(*req));
      stream->WritesDone();
      return stream->Finish();
    }
    if (method->name() == "ExportInstructions") {
      auto stub = v1::LedgerService::NewStub(channel_);
      auto stream = stub->ExportInstructions(&ctx, static_cast<const v1::ExportInstructionsRequest&>(*req));
      v1::ExportInstructionsResponse resp;
      while (stream->Read(&resp)) {
      }
      return stream->Finish();
    }
    if (method->name() == "FetchExport") {
      auto stub = v1::LedgerService::NewStub(channel_);
      auto stream = stub->FetchExport(&ctx, static_cast<const v1::FetchExportRequest&>(*req));
      v1::FetchExportResponse resp;
      while (stream->Read(&resp)) {
      }
      return stream->Finish();
    }
    ADD_FAILURE() << "no way to call streaming method " << path;
    return grpc::Status::CANCELLED;
  }

  static std::vector<const google::protobuf::MethodDescriptor*> AllMethods() {
    std::vector<const google::protobuf::MethodDescriptor*> out;
    for (const auto* file : {v1::GetFamilyRequest::descriptor()->file(), v1::GetDecisionRequest::descriptor()->file(),
                             v1::GetAppealRequest::descriptor()->file(), v1::GetCycleRequest::descriptor()->file(),
                             v1::ListEligibleOnRequest::descriptor()->file()}) {
      for (int s = 0; s < file->service_count(); ++s) {
        for (int m = 0; m < file->service(s)->method_count(); ++m) out.push_back(file->service(s)->method(m));
      }
    }
    return out;
  }

  std::vector<std::string> GuardLog() {
    absl::MutexLock l(&log_mu_);
    return guard_log_;
  }

  std::unique_ptr<appeals::AppealsServiceImpl> appeals_;
  std::unique_ptr<ledger_service::LedgerServiceImpl> ledger_;
  std::unique_ptr<audit::AuditServiceImpl> audit_;
  std::unique_ptr<auth::Guard> guard_;
  std::unique_ptr<grpc::Server> guarded_;
  std::shared_ptr<grpc::Channel> channel_;
  std::map<char, std::string> tokens_;
  std::string appeal_id_, cycle_id_;
  absl::Mutex log_mu_;
  std::vector<std::string> guard_log_;
};

bool Refused(const grpc::Status& st) {
  return st.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
         st.error_code() == grpc::StatusCode::UNAUTHENTICATED;
}

TEST_F(AuthTableTest, EveryRoleAgainstEveryRpc) {
  const auto methods = AllMethods();
  std::set<std::string> seen;
  int calls = 0;
  for (const auto* method : methods) {
    const std::string name = method->service()->name() + "/" + method->name();
    seen.insert(name);
    auto row = Expected().find(name);
    ASSERT_NE(row, Expected().end()) << name << " has no row in this test's table";
    for (const char role : std::string("NORXVWP")) {
      const bool allowed = row->second.find(role) != std::string::npos;
      const grpc::Status st = Call(method, tokens_[role]);
      ++calls;
      if (allowed) {
        EXPECT_FALSE(Refused(st)) << role << " should be allowed " << name << ": " << st.error_message();
      } else {
        EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED)
            << role << " should be refused " << name << " (got " << st.error_code() << ": " << st.error_message()
            << ")";
      }
    }
  }
  EXPECT_EQ(seen.size(), Expected().size()) << "a row of this table names no method";
  EXPECT_EQ(calls, static_cast<int>(Expected().size()) * 7);

  // Refusals are logged, one JSON line each, without personal data.
  const std::vector<std::string> lines = GuardLog();
  EXPECT_GT(lines.size(), 100u);
  for (const std::string& line : lines) {
    EXPECT_THAT(line, HasSubstr("\"event\":\"permission_denied\""));
    for (const char* secret : {kHead1, kWife1, kChild1, kKk1, "Lalu Ahmad", "Baiq Siti"}) {
      EXPECT_THAT(line, ::testing::Not(HasSubstr(secret))) << line;
    }
  }
}

TEST_F(AuthTableTest, CrossRegionWritesChangeNothing) {
  v1::RecordWelfareAssessmentRequest r = Assess(kKk1, 9, "assess-from-lotim");
  grpc::ClientContext ctx;
  Authorize(&ctx, tokens_['X']);
  v1::RecordWelfareAssessmentResponse resp;
  auto stub = v1::PopulationService::NewStub(channel_);
  const grpc::Status st = stub->RecordWelfareAssessment(&ctx, r, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(st.error_message(), HasSubstr("kk_number: the family is outside region 52.03"));
  auto family = service_->reader().GetFamily(kKk1);
  ASSERT_OK(family.status());
  EXPECT_EQ(family->latest_assessment().decile(), 2) << "the refused assessment was applied";
  // The same from Mataram goes through.
  grpc::ClientContext ok_ctx;
  Authorize(&ok_ctx, tokens_['R']);
  v1::RecordWelfareAssessmentRequest mine = Assess(kKk1, 3, "assess-from-mataram");
  ASSERT_GRPC_OK(stub->RecordWelfareAssessment(&ok_ctx, mine, &resp));
}

TEST_F(AuthTableTest, ExpiredTamperedWrongAudienceAndForeignTokens) {
  auto stub = v1::PopulationService::NewStub(channel_);
  v1::GetFamilyRequest req;
  req.set_kk_number(kKk1);
  auto get = [&](const std::string& token) {
    grpc::ClientContext ctx;
    Authorize(&ctx, token);
    v1::GetFamilyResponse resp;
    return stub->GetFamily(&ctx, req, &resp);
  };
  EXPECT_TRUE(get(tokens_['N']).ok());
  const grpc::Status expired = get(Token(auth::Role::kNational, "ops", "", absl::Hours(1)));
  EXPECT_EQ(expired.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(expired.error_message(), HasSubstr("expired at"));
  std::string tampered = tokens_['O'];
  const std::string forged = Token(auth::Role::kNational, "bpk-ri");
  tampered = forged.substr(0, forged.rfind('.')) + tampered.substr(tampered.rfind('.'));
  const grpc::Status t = get(tampered);
  EXPECT_EQ(t.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(t.error_message(), HasSubstr("signature does not verify"));
  const grpc::Status aud = get(Token(auth::Role::kNational, "ops", "", absl::Hours(10), "jaring-staging"));
  EXPECT_EQ(aud.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(aud.error_message(), HasSubstr("audience"));
  auth::TokenClaims c;
  c.principal = {auth::Role::kNational, "ops", "", "token"};
  c.audience = "jaring";
  c.issued_at = clock_.Now();
  c.expires_at = clock_.Now() + absl::Hours(1);
  const grpc::Status foreign = get(*auth::MintToken(c, "another-deployment-key-0123456789"));
  EXPECT_EQ(foreign.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  const grpc::Status garbage = get("not-a-token");
  EXPECT_EQ(garbage.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AuthTableTest, PublicLookupMaskedWrongNikNotFoundAndRateLimited) {
  auto stub = v1::AppealsService::NewStub(channel_);
  auto lookup = [&](const std::string& nik, v1::LookupFamilyStatusResponse* resp) {
    grpc::ClientContext ctx;
    Authorize(&ctx, "");
    v1::LookupFamilyStatusRequest req;
    req.set_kk_number(kKk1);
    req.set_nik(nik);
    return stub->LookupFamilyStatus(&ctx, req, resp);
  };
  v1::LookupFamilyStatusResponse resp;
  ASSERT_GRPC_OK(lookup(kWife1, &resp));
  EXPECT_EQ(resp.masked_kk_number(), "527101******0001");
  ASSERT_EQ(resp.members_size(), 3);
  EXPECT_EQ(resp.members(0).masked_name(), "L*** A****");
  EXPECT_THAT(resp.DebugString(), ::testing::Not(HasSubstr(kHead1)));
  EXPECT_THAT(resp.DebugString(), ::testing::Not(HasSubstr("Ahmad")));
  bool bpnt = false;
  for (const auto& p : resp.programs()) bpnt = bpnt || (p.program() == "BPNT" && p.eligible());
  EXPECT_TRUE(bpnt) << resp.DebugString();
  ASSERT_EQ(resp.appeals_size(), 1);
  EXPECT_EQ(resp.appeals(0).appeal_id(), appeal_id_);

  v1::LookupFamilyStatusResponse none;
  const grpc::Status wrong = lookup(population::kOutsider, &none);
  EXPECT_EQ(wrong.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(none.members_size(), 0);
  v1::GetFamilyRequest family;
  family.set_kk_number("5271011503209999");  // no such family: the same answer
  v1::LookupFamilyStatusRequest unknown;
  unknown.set_kk_number("5271011503209999");
  unknown.set_nik(kWife1);
  grpc::ClientContext ctx;
  Authorize(&ctx, "");
  const grpc::Status missing = stub->LookupFamilyStatus(&ctx, unknown, &none);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(missing.error_message(), wrong.error_message());

  // Five in a row per address (three used), then refused until time passes.
  EXPECT_TRUE(lookup(kWife1, &resp).ok());
  EXPECT_TRUE(lookup(kWife1, &resp).ok());
  const grpc::Status limited = lookup(kWife1, &resp);
  EXPECT_EQ(limited.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  clock_.Advance(absl::Seconds(13));
  EXPECT_TRUE(lookup(kWife1, &resp).ok());
  // Signed-in callers are not limited.
  for (int i = 0; i < 8; ++i) {
    grpc::ClientContext c;
    Authorize(&c, tokens_['R']);
    v1::LookupFamilyStatusRequest req;
    req.set_kk_number(kKk1);
    req.set_nik(kWife1);
    EXPECT_TRUE(stub->LookupFamilyStatus(&c, req, &resp).ok());
  }
}

TEST_F(AuthTableTest, ReadsAreRecordedForOversight) {
  auto population = v1::PopulationService::NewStub(channel_);
  {
    grpc::ClientContext ctx;
    Authorize(&ctx, tokens_['R']);
    v1::GetFamilyRequest req;
    req.set_kk_number(kKk1);
    v1::GetFamilyResponse resp;
    ASSERT_GRPC_OK(population->GetFamily(&ctx, req, &resp));
  }
  {
    grpc::ClientContext ctx;
    Authorize(&ctx, tokens_['V']);
    v1::GetMemberRequest req;
    req.set_nik(kHead1);
    v1::GetMemberResponse resp;
    EXPECT_EQ(population->GetMember(&ctx, req, &resp).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext ctx;
    Authorize(&ctx, tokens_['O']);
    v1::ListFamiliesRequest req;
    req.set_region_prefix("52.71");
    v1::ListFamiliesResponse resp;
    ASSERT_GRPC_OK(population->ListFamilies(&ctx, req, &resp));
  }
  ASSERT_OK(service_->projection().CatchUp());
  auto list = [&](const std::string& token, v1::ListAccessRecordsRequest req, v1::ListAccessRecordsResponse* resp) {
    grpc::ClientContext ctx;
    Authorize(&ctx, token);
    return population->ListAccessRecords(&ctx, req, resp);
  };
  v1::ListAccessRecordsRequest by_kk;
  by_kk.set_kk_number(kKk1);
  v1::ListAccessRecordsResponse resp;
  ASSERT_GRPC_OK(list(tokens_['O'], by_kk, &resp));
  ASSERT_EQ(resp.records_size(), 1) << resp.DebugString();
  EXPECT_EQ(resp.records(0).read().subject(), "dinsos-mataram");
  EXPECT_EQ(resp.records(0).read().role(), "regional");
  EXPECT_EQ(resp.records(0).read().method(), "/jaring.v1.PopulationService/GetFamily");
  v1::ListAccessRecordsRequest by_region;
  by_region.set_region_prefix("52.71");
  ASSERT_GRPC_OK(list(tokens_['N'], by_region, &resp));
  ASSERT_EQ(resp.records_size(), 1) << resp.DebugString();
  EXPECT_EQ(resp.records(0).read().subject(), "bpk-ri");
  v1::ListAccessRecordsRequest by_subject;
  by_subject.set_subject("dinsos-mataram");
  ASSERT_GRPC_OK(list(tokens_['O'], by_subject, &resp));
  EXPECT_EQ(resp.records_size(), 1);
  // A regional office may not read the record of who looked.
  EXPECT_EQ(list(tokens_['R'], by_kk, &resp).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  v1::ListAccessRecordsRequest both;
  both.set_kk_number(kKk1);
  both.set_subject("x");
  const grpc::Status bad = list(tokens_['O'], both, &resp);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(bad.error_message(), HasSubstr("give exactly one"));
}

}  // namespace
}  // namespace jaring
