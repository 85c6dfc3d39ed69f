// Request ids: the same id and the same request answer the first result;
// the same id with another request (body, family) is refused naming
// request_id and appends nothing; ids of one tenant (a regional office)
// never meet another's; the events' actor is the authenticated principal.
// Over real gRPC, with the guard installed for the tenancy cases.
#include "libs/auth/guard.h"
#include "libs/auth/token.h"
#include "services/population/test_util.h"

namespace jaring::population {
namespace {

const std::string kTokenKey = "request-id-test-token-key-0123456";
constexpr char kHeadBanyuwangi[] = "3510051203850001";  // man, 12-03-1985

using RequestIdTest = PopulationFixture;

// With the guard: every call carries a token. Reads go to the service's
// reader directly (a guard in the process refuses unguarded calls).
class TenancyTest : public PopulationFixture {
 protected:
  void SetUp() override {
    PopulationFixture::SetUp();
    auth::GuardOptions o;
    o.token_key = kTokenKey;
    o.clock = &clock_;
    o.log = [](const std::string&) {};
    PopulationServiceImpl* p = service_.get();
    o.resolvers.member_family = [p](std::string_view nik) { return p->MemberFamily(nik); };
    guard_ = std::make_unique<auth::Guard>(std::move(o));
    grpc::ServerBuilder b;
    int port = 0;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    b.RegisterService(service_.get());
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
    interceptors.push_back(guard_->InterceptorFactory());
    b.experimental().SetInterceptorCreators(std::move(interceptors));
    guarded_server_ = b.BuildAndStart();
    ASSERT_NE(guarded_server_, nullptr);
    guarded_ = v1::PopulationService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
    mataram_ = Token(auth::Role::kRegional, "dinsos-mataram", "52.71");
    banyuwangi_ = Token(auth::Role::kRegional, "dinsos-banyuwangi", "35.10");
    national_ = Token(auth::Role::kNational, "kemensos-ops", "");
  }
  void TearDown() override {
    if (guarded_server_) guarded_server_->Shutdown();
    guarded_server_.reset();
    guard_.reset();
    PopulationFixture::TearDown();
  }

  std::string Token(auth::Role role, std::string subject, std::string region) {
    auth::TokenClaims c;
    c.principal = {role, std::move(subject), std::move(region), "token"};
    c.audience = "jaring";
    c.issued_at = clock_.Now() - absl::Hours(1);
    c.expires_at = c.issued_at + absl::Hours(8);
    auto t = auth::MintToken(c, kTokenKey);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? *t : "";
  }
  static std::unique_ptr<grpc::ClientContext> As(const std::string& token) {
    auto c = Ctx();
    c->AddMetadata("authorization", "Bearer " + token);
    return c;
  }

  v1::RegisterFamilyRequest Banyuwangi(const std::string& rid) const {
    v1::RegisterFamilyRequest r;
    *r.mutable_context() = Context(rid, absl::Hours(24));
    auto* f = r.mutable_family();
    f->set_kk_number(kKkBanyuwangi);
    f->set_region_code(kRegionBanyuwangi);
    f->set_head_nik(kHeadBanyuwangi);
    *f->add_members() = Person(kHeadBanyuwangi, "Slamet Riyadi", v1::SEX_MALE, 1985, 3, 12, v1::RELATIONSHIP_HEAD);
    return r;
  }

  std::unique_ptr<auth::Guard> guard_;
  std::unique_ptr<grpc::Server> guarded_server_;
  std::unique_ptr<v1::PopulationService::Stub> guarded_;
  std::string mataram_, banyuwangi_, national_;
};

TEST_F(RequestIdTest, TheSameRequestAgainAnswersTheFirstResult) {
  v1::RegisterFamilyResponse first, again;
  ASSERT_GRPC_OK(stub_->RegisterFamily(Ctx().get(), Family1(), &first));
  const int64_t before = TotalEvents();
  ASSERT_GRPC_OK(stub_->RegisterFamily(Ctx().get(), Family1(), &again));
  EXPECT_TRUE(again.result().deduplicated());
  ASSERT_EQ(again.result().events_size(), 1);
  EXPECT_EQ(again.result().events(0).event_id(), first.result().events(0).event_id());
  EXPECT_EQ(TotalEvents(), before);
}

TEST_F(RequestIdTest, TheSameIdWithAnotherBodyIsRefused) {
  ASSERT_GRPC_OK(Register(Family1()));
  v1::RecordWelfareAssessmentResponse resp;
  ASSERT_GRPC_OK(stub_->RecordWelfareAssessment(Ctx().get(), Assess(kKk1, 2, "assess-1"), &resp));
  // The same family, the same command, another decile.
  EXPECT_REJECTED(stub_->RecordWelfareAssessment(Ctx().get(), Assess(kKk1, 7, "assess-1"), &resp),
                  grpc::StatusCode::INVALID_ARGUMENT, "context.request_id: was already used for a different request");
  // Another command under the registration's id.
  EXPECT_REJECTED(stub_->RecordWelfareAssessment(Ctx().get(), Assess(kKk1, 2, "reg-family-1"), &resp),
                  grpc::StatusCode::INVALID_ARGUMENT, "context.request_id");
  EXPECT_EQ(GetFamilyOrDie(kKk1).latest_assessment().decile(), 2);
}

TEST_F(RequestIdTest, TheSameIdForAnotherFamilyIsRefusedAndTheFamilyIsNotLost) {
  ASSERT_GRPC_OK(Register(Family1()));
  v1::RegisterFamilyRequest other = Family2();
  other.mutable_context()->set_request_id("reg-family-1");
  v1::RegisterFamilyResponse resp;
  EXPECT_REJECTED(stub_->RegisterFamily(Ctx().get(), other, &resp), grpc::StatusCode::INVALID_ARGUMENT,
                  "context.request_id");
  // With its own id it registers.
  other.mutable_context()->set_request_id("reg-family-2");
  ASSERT_GRPC_OK(stub_->RegisterFamily(Ctx().get(), other, &resp));
  EXPECT_FALSE(resp.result().deduplicated());
  EXPECT_EQ(GetFamilyOrDie(kKk2).kk_number(), kKk2);
}

TEST_F(TenancyTest, AnotherRegionsIdNeitherAnswersNorCollides) {
  v1::RegisterFamilyRequest mataram = Family1();
  mataram.mutable_context()->set_request_id("R");
  v1::RegisterFamilyResponse a, b;
  ASSERT_GRPC_OK(guarded_->RegisterFamily(As(mataram_).get(), mataram, &a));
  // Banyuwangi's own command under the same id is its own: applied, with
  // its own event ids, and nothing of Mataram's in the answer.
  ASSERT_GRPC_OK(guarded_->RegisterFamily(As(banyuwangi_).get(), Banyuwangi("R"), &b));
  EXPECT_FALSE(b.result().deduplicated());
  ASSERT_EQ(b.result().events_size(), 1);
  EXPECT_NE(b.result().events(0).event_id(), a.result().events(0).event_id());
  EXPECT_TRUE(service_->reader().GetFamily(kKkBanyuwangi).ok());
  // Each region's retry answers its own first result.
  v1::RegisterFamilyResponse again;
  ASSERT_GRPC_OK(guarded_->RegisterFamily(As(banyuwangi_).get(), Banyuwangi("R"), &again));
  EXPECT_TRUE(again.result().deduplicated());
  EXPECT_EQ(again.result().events(0).event_id(), b.result().events(0).event_id());
  // The national namespace is a third one.
  v1::RecordWelfareAssessmentResponse assessed;
  ASSERT_GRPC_OK(guarded_->RecordWelfareAssessment(As(national_).get(), Assess(kKk1, 3, "R"), &assessed));
  EXPECT_FALSE(assessed.result().deduplicated());
  // And a region reusing its own id for another request is refused.
  v1::RecordWelfareAssessmentResponse refused;
  const grpc::Status st = guarded_->RecordWelfareAssessment(As(mataram_).get(), Assess(kKk1, 3, "R"), &refused);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(), ::testing::HasSubstr("context.request_id"));
}

TEST_F(TenancyTest, TheActorIsTheAuthenticatedPrincipalAndTheLabelIsKeptApart) {
  v1::RegisterFamilyRequest r = Family1();
  r.mutable_context()->set_actor("menteri-sosial");
  v1::RegisterFamilyResponse resp;
  ASSERT_GRPC_OK(guarded_->RegisterFamily(As(mataram_).get(), r, &resp));
  ASSERT_OK_AND_ASSIGN(const std::vector<v1::HistoryEntry> h, service_->reader().History(kKk1, std::nullopt));
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].event().actor(), "regional/52.71:dinsos-mataram");
  EXPECT_EQ(h[0].event().actor_label(), "menteri-sosial");
  EXPECT_EQ(h[0].event().request_id(), "regional/52.71/reg-family-1");
  EXPECT_FALSE(h[0].event().request_digest().empty());
}

TEST_F(RequestIdTest, ImportRefusesASecondRowUnderOneRequestId) {
  v1::ImportRequest a, b;
  a.set_line(2);
  *a.mutable_family() = Family1();
  a.mutable_family()->mutable_context()->set_request_id("row");
  b.set_line(3);
  *b.mutable_family() = Family2();
  b.mutable_family()->mutable_context()->set_request_id("row");
  const ImportResult r = RunImport({a, b});
  EXPECT_EQ(r.progress.imported(), 1);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line(), 3);
  EXPECT_EQ(r.errors[0].code(), "INVALID_ARGUMENT");
  EXPECT_THAT(r.errors[0].message(), ::testing::HasSubstr("context.request_id: is already used by line 2"));
  EXPECT_EQ(GetFamilyOrDie(kKk1).kk_number(), kKk1);
}

TEST_F(RequestIdTest, ImportRowReusingAnotherCommandsIdIsARowError) {
  ASSERT_GRPC_OK(Register(Family1()));  // request id reg-family-1
  v1::ImportRequest row;
  row.set_line(5);
  *row.mutable_family() = Family2();
  row.mutable_family()->mutable_context()->set_request_id("reg-family-1");
  const ImportResult r = RunImport({row});
  EXPECT_EQ(r.progress.imported(), 0);
  EXPECT_EQ(r.progress.already_imported(), 0);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line(), 5);
  EXPECT_THAT(r.errors[0].message(), ::testing::HasSubstr("context.request_id: was already used"));
  // The same file again is still "already imported".
  v1::ImportRequest same;
  same.set_line(2);
  *same.mutable_family() = Family1();
  const ImportResult again = RunImport({same});
  EXPECT_EQ(again.progress.already_imported(), 1);
  EXPECT_TRUE(again.errors.empty());
}

}  // namespace
}  // namespace jaring::population
