// Test fixture for the population service: an embedded log in a temp dir,
// an injected clock, the service on a real gRPC server bound to port 0, and
// builders of valid requests for a few fixed families.
#pragma once

#include <grpcpp/grpcpp.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>

#include "absl/strings/str_cat.h"
#include "jaring/v1/population_service.grpc.pb.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/events/envelope.h"
#include "libs/events/topics.h"
#include "libs/projection/projection.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/temp_dir.h"
#include "libs/family/fold.h"
#include "services/population/service.h"

#define ASSERT_GRPC_OK(expr)                                            \
  do {                                                                  \
    const ::grpc::Status jaring_grpc_st_ = (expr);                      \
    ASSERT_TRUE(jaring_grpc_st_.ok()) << jaring_grpc_st_.error_message(); \
  } while (0)

// A rejected call: exact code, the message names the field or reason, and
// nothing was appended to the log.
#define EXPECT_REJECTED(expr, code, substr)                                          \
  do {                                                                               \
    const int64_t jaring_before_ = TotalEvents();                                    \
    const ::grpc::Status jaring_st_ = (expr);                                        \
    EXPECT_EQ(jaring_st_.error_code(), (code)) << jaring_st_.error_message();        \
    EXPECT_THAT(jaring_st_.error_message(), ::testing::HasSubstr(substr));           \
    EXPECT_EQ(TotalEvents(), jaring_before_) << "a rejected command appended events"; \
  } while (0)

namespace jaring::population {

using family::FindMember;

inline constexpr char kKk1[] = "5271011503200001";
inline constexpr char kRegion1[] = "52.71.01.1001";
inline constexpr char kHead1[] = "5271011203850001";   // man, 12-03-1985
inline constexpr char kWife1[] = "5271016007880002";   // woman, 20-07-1988
inline constexpr char kChild1[] = "5271010501150003";  // boy, 05-01-2015
inline constexpr char kKk2[] = "5203021004180002";     // Lombok Timur
inline constexpr char kRegion2[] = "52.03.02.2005";
inline constexpr char kHead2[] = "5203020211790001";  // man, 02-11-1979
inline constexpr char kKk3[] = "5271011112250005";
inline constexpr char kKk4[] = "5271011112250006";
inline constexpr char kKkBanyuwangi[] = "3510050101210009";
inline constexpr char kRegionBanyuwangi[] = "35.10.05.2003";
inline constexpr char kNewborn[] = "5271010111260007";   // boy, 01-11-2026
inline constexpr char kNewborn2[] = "5271014211260008";  // girl, 02-11-2026
inline constexpr char kNewborn3[] = "5271010311260009";  // boy, 03-11-2026
inline constexpr char kOutsider[] = "5271014101900010";  // woman, 01-01-1990, in no family

struct ImportResult {
  v1::ImportProgress progress;
  std::vector<v1::ImportRowError> errors;
};

class PopulationFixture : public ::testing::Test {
 protected:
  PopulationFixture() : clock_(Day(2026, 11, 23)) {}

  void SetUp() override {
    auto log = eventlog::OpenEmbeddedLog({.dir = dir_.Sub("log"), .clock = &clock_});
    ASSERT_OK(log.status());
    log_ = std::move(log).value();
    ASSERT_OK(log_->CreateTopic(std::string(events::kPopulationTopic), 8));
    ASSERT_OK(log_->CreateTopic(std::string(events::kAccessTopic), 4));
    StartService();
  }
  void TearDown() override { StopService(); }

  void StartService() {
    auto svc = PopulationServiceImpl::Create(log_.get(), {.store_dir = dir_.Sub("store"), .clock = &clock_});
    ASSERT_OK(svc.status());
    service_ = std::move(svc).value();
    grpc::ServerBuilder b;
    int port = 0;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    b.RegisterService(service_.get());
    server_ = b.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = v1::PopulationService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }
  void StopService() {
    if (server_) server_->Shutdown();
    server_.reset();
    stub_.reset();
    service_.reset();
  }
  void Restart() {
    StopService();
    StartService();
  }

  // 10:00 WIB on the given day.
  static absl::Time Day(int y, int m, int d) {
    return absl::FromCivil(absl::CivilSecond(y, m, d, 10, 0, 0), absl::FixedTimeZone(7 * 3600));
  }
  absl::Time Now() const { return clock_.Now(); }
  void SetNow(absl::Time t) { clock_.Set(t); }

  static void SetTime(v1::CommandContext* ctx, absl::Time occurred, std::optional<absl::Time> recorded) {
    *ctx->mutable_occurred_at() = events::ToProtoTime(occurred);
    if (recorded) {
      *ctx->mutable_recorded_at() = events::ToProtoTime(*recorded);
    } else {
      ctx->clear_recorded_at();
    }
  }
  v1::CommandContext Context(const std::string& request_id, absl::Duration ago = absl::Hours(1)) const {
    v1::CommandContext c;
    c.set_request_id(request_id);
    c.set_source(v1::SOURCE_DUKCAPIL);
    c.set_actor("test-operator");
    *c.mutable_occurred_at() = events::ToProtoTime(Now() - ago);
    return c;
  }
  static std::unique_ptr<grpc::ClientContext> Ctx() {
    auto c = std::make_unique<grpc::ClientContext>();
    c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return c;
  }

  static v1::Date D(int y, int m, int d) {
    v1::Date date;
    date.set_year(y);
    date.set_month(m);
    date.set_day(d);
    return date;
  }

  static v1::Member Person(const std::string& nik, const std::string& name, v1::Sex sex, int y, int m, int d,
                           v1::Relationship rel) {
    v1::Member p;
    p.set_nik(nik);
    p.set_full_name(name);
    p.set_sex(sex);
    p.mutable_birth_date()->set_year(y);
    p.mutable_birth_date()->set_month(m);
    p.mutable_birth_date()->set_day(d);
    p.set_relationship(rel);
    return p;
  }

  v1::RegisterFamilyRequest Family1() const {
    v1::RegisterFamilyRequest r;
    *r.mutable_context() = Context("reg-family-1", absl::Hours(24));
    auto* f = r.mutable_family();
    f->set_kk_number(kKk1);
    f->set_region_code(kRegion1);
    f->set_head_nik(kHead1);
    f->set_address("Jl. Pejanggik 12, Mataram");
    *f->add_members() = Person(kHead1, "Lalu Ahmad", v1::SEX_MALE, 1985, 3, 12, v1::RELATIONSHIP_HEAD);
    *f->add_members() = Person(kWife1, "Baiq Siti", v1::SEX_FEMALE, 1988, 7, 20, v1::RELATIONSHIP_SPOUSE);
    *f->add_members() = Person(kChild1, "Lalu Budi", v1::SEX_MALE, 2015, 1, 5, v1::RELATIONSHIP_CHILD);
    return r;
  }
  v1::RegisterFamilyRequest Family2() const {
    v1::RegisterFamilyRequest r;
    *r.mutable_context() = Context("reg-family-2", absl::Hours(24));
    auto* f = r.mutable_family();
    f->set_kk_number(kKk2);
    f->set_region_code(kRegion2);
    f->set_head_nik(kHead2);
    *f->add_members() = Person(kHead2, "Amaq Rudi", v1::SEX_MALE, 1979, 11, 2, v1::RELATIONSHIP_HEAD);
    return r;
  }
  grpc::Status Register(const v1::RegisterFamilyRequest& r) {
    v1::RegisterFamilyResponse resp;
    return stub_->RegisterFamily(Ctx().get(), r, &resp);
  }
  v1::RecordWelfareAssessmentRequest Assess(const std::string& kk, int decile, const std::string& rid) const {
    v1::RecordWelfareAssessmentRequest r;
    *r.mutable_context() = Context(rid);
    r.mutable_context()->set_source(v1::SOURCE_BPS_DTSEN);
    r.set_kk_number(kk);
    r.mutable_assessment()->set_round("2026-Q3");
    r.mutable_assessment()->set_decile(decile);
    r.mutable_assessment()->set_pmt_score_micros(1000000LL * decile);
    return r;
  }
  v1::RecordBirthRequest Birth(const std::string& kk, const std::string& child, const std::string& mother,
                               const std::string& rid) const {
    v1::RecordBirthRequest r;
    *r.mutable_context() = Context(rid);
    r.set_kk_number(kk);
    const bool girl = child[6] >= '4';
    const int day = (child[6] - '0') * 10 + (child[7] - '0') - (girl ? 40 : 0);
    *r.mutable_birth()->mutable_child() =
        Person(child, "Bayi", girl ? v1::SEX_FEMALE : v1::SEX_MALE, 2026, 11, day, v1::RELATIONSHIP_CHILD);
    r.mutable_birth()->set_mother_nik(mother);
    // The birth date is the event time.
    r.mutable_context()->clear_occurred_at();
    return r;
  }
  v1::RecordDeathRequest Death(const std::string& kk, const std::string& nik, v1::Date date,
                               const std::string& rid) const {
    v1::RecordDeathRequest r;
    *r.mutable_context() = Context(rid);
    r.set_kk_number(kk);
    r.mutable_death()->set_nik(nik);
    *r.mutable_death()->mutable_date_of_death() = date;
    // The date of death is the event time.
    r.mutable_context()->clear_occurred_at();
    return r;
  }
  v1::ChangeMemberAttributesRequest Attr(const std::string& kk, const std::string& nik,
                                         const std::string& rid) const {
    v1::ChangeMemberAttributesRequest r;
    *r.mutable_context() = Context(rid);
    r.set_kk_number(kk);
    r.mutable_change()->set_nik(nik);
    r.mutable_change()->mutable_attributes()->set_school_enrolled(true);
    return r;
  }
  v1::ChangeHeadRequest Head(const std::string& kk, const std::string& nik, const std::string& rid) const {
    v1::ChangeHeadRequest r;
    *r.mutable_context() = Context(rid);
    r.set_kk_number(kk);
    r.set_new_head_nik(nik);
    r.set_reason("kepala keluarga meninggal");
    return r;
  }
  v1::MoveMemberRequest Move(const std::string& from, const std::string& nik, const std::string& to,
                             const std::string& rid) const {
    v1::MoveMemberRequest r;
    *r.mutable_context() = Context(rid);
    r.set_from_kk_number(from);
    r.set_nik(nik);
    r.set_to_kk_number(to);
    r.set_relationship(v1::RELATIONSHIP_CHILD);
    r.set_reason("ikut keluarga");
    return r;
  }
  v1::SplitFamilyRequest Split(const std::string& kk, const std::string& new_kk, std::vector<std::string> niks,
                               const std::string& head, const std::string& rid) const {
    v1::SplitFamilyRequest r;
    *r.mutable_context() = Context(rid);
    r.set_kk_number(kk);
    r.set_new_kk_number(new_kk);
    r.set_new_region_code(kRegion1);
    for (auto& n : niks) r.add_member_niks(n);
    r.set_new_head_nik(head);
    r.set_reason("pecah KK");
    return r;
  }
  v1::CorrectRecordRequest Correct(const std::string& kk, const std::string& event_id,
                                   const std::string& rid) const {
    v1::CorrectRecordRequest r;
    *r.mutable_context() = Context(rid);
    r.set_kk_number(kk);
    r.mutable_correction()->set_corrected_event_id(event_id);
    r.mutable_correction()->set_reason("hasil verifikasi lapangan");
    return r;
  }

  int64_t TotalEvents() const {
    int64_t total = 0;
    const std::string topic(events::kPopulationTopic);
    for (int p = 0; p < 8; ++p) total += log_->EndOffset(topic, p).value_or(0);
    return total;
  }
  v1::Family GetFamilyOrDie(const std::string& kk) {
    v1::GetFamilyRequest g;
    g.set_kk_number(kk);
    v1::GetFamilyResponse f;
    grpc::Status st = stub_->GetFamily(Ctx().get(), g, &f);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return f.family();
  }
  std::vector<v1::HistoryEntry> HistoryOf(const std::string& kk) {
    v1::GetFamilyHistoryRequest h;
    h.set_kk_number(kk);
    v1::GetFamilyHistoryResponse r;
    grpc::Status st = stub_->GetFamilyHistory(Ctx().get(), h, &r);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return {r.entries().begin(), r.entries().end()};
  }
  std::vector<v1::OverlapFinding> ListFindings(const std::string& prefix, bool include_resolved) {
    v1::ListOverlapFindingsRequest q;
    q.set_region_prefix(prefix);
    q.set_include_resolved(include_resolved);
    v1::ListOverlapFindingsResponse r;
    grpc::Status st = stub_->ListOverlapFindings(Ctx().get(), q, &r);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return {r.findings().begin(), r.findings().end()};
  }
  ImportResult RunImport(const std::vector<v1::ImportRequest>& rows) {
    auto ctx = Ctx();
    auto stream = stub_->Import(ctx.get());
    for (const auto& row : rows) stream->Write(row);
    v1::ImportRequest end;
    end.set_end(true);
    stream->Write(end);
    stream->WritesDone();
    ImportResult out;
    v1::ImportResponse resp;
    while (stream->Read(&resp)) {
      if (resp.has_row_error()) out.errors.push_back(resp.row_error());
      if (resp.has_progress()) out.progress = resp.progress();
    }
    grpc::Status st = stream->Finish();
    EXPECT_TRUE(st.ok()) << st.error_message();
    EXPECT_TRUE(out.progress.done());
    return out;
  }

  // The live store, byte for byte, equals a rebuild from the log.
  void ExpectStoreEqualsRebuild() {
    StopService();
    PopulationApplier applier;
    projection::Options o;
    o.dir = dir_.Sub("rebuilt");
    o.topics = {std::string(events::kPopulationTopic)};
    ASSERT_OK(projection::Rebuild(log_.get(), &applier, o));
    ASSERT_OK_AND_ASSIGN(auto live, projection::DumpStore(dir_.Sub("store")));
    ASSERT_OK_AND_ASSIGN(auto rebuilt, projection::DumpStore(o.dir));
    EXPECT_EQ(live.size(), rebuilt.size());
    EXPECT_TRUE(live == rebuilt) << "live store differs from a rebuild";
    std::filesystem::remove_all(o.dir);
    StartService();
  }

  testing::TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<eventlog::EventLog> log_;
  std::unique_ptr<PopulationServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::PopulationService::Stub> stub_;
};

}  // namespace jaring::population
