// The appeals service over gRPC: every kind through every path (upheld,
// rejected, withdrawn, escalated), every illegal transition refused with
// nothing appended, ties to the decision contested, objection windows,
// reporters kept as keyed hashes, corrections that flow back into
// population and eligibility, and SLA clocks on event time that escalate
// exactly once, across restarts and rebuilds.
#include <set>

#include "absl/strings/str_format.h"
#include "jaring/v1/appeals_service.grpc.pb.h"
#include "rocksdb/db.h"
#include "services/appeals/service.h"
#include "services/eligibility/test_util.h"

namespace jaring::appeals {
namespace {

using ::testing::HasSubstr;
using population::kHead1;
using population::kHead2;
using population::kKk1;
using population::kRegion1;
using population::kWife1;
using population::kKk2;
using population::kOutsider;

constexpr char kFilerKey[] = "test-filer-key-0123456789abcdef";
constexpr char kNeighbour[] = "5271011708800011";  // man, 17-08-1980, a neighbour

class AppealsTest : public eligibility::EligibilityFixture {
 protected:
  void SetUp() override {
    EligibilityFixture::SetUp();
    StartAppeals("appeals");
  }
  void TearDown() override {
    StopAppeals();
    EligibilityFixture::TearDown();
  }

  void StartAppeals(const std::string& store) {
    auto svc = AppealsServiceImpl::Create(log_.get(), {.store_dir = dir_.Sub(store),
                                                       .filer_key = kFilerKey,
                                                       .clock = &clock_,
                                                       .tick_interval = absl::ZeroDuration()});
    ASSERT_OK(svc.status());
    appeals_ = std::move(svc).value();
    grpc::ServerBuilder b;
    int port = 0;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    b.RegisterService(appeals_.get());
    appeals_server_ = b.BuildAndStart();
    ASSERT_NE(appeals_server_, nullptr);
    appeals_stub_ = v1::AppealsService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }
  void StopAppeals() {
    if (appeals_server_) appeals_server_->Shutdown();
    appeals_server_.reset();
    appeals_stub_.reset();
    appeals_.reset();
  }

  // Family 1 registered with a DTSEN decile, rules in force, decisions
  // derived.
  void FamilyWithDecile(int decile) {
    ASSERT_GRPC_OK(Register(Family1()));
    v1::RecordWelfareAssessmentResponse resp;
    ASSERT_GRPC_OK(stub_->RecordWelfareAssessment(Ctx().get(), Assess(kKk1, decile, "assess-1"), &resp));
    Publish(Rules2026());
    Settle();
  }

  v1::DecisionRef Current(const std::string& kk, const std::string& program) {
    std::vector<v1::RecordedDecision> h = HistoryOf(kk, program);
    v1::DecisionRef ref;
    if (h.empty()) return ref;
    const v1::Decision& d = h.back().decision();
    ref.set_decision_id(d.decision_id());
    ref.set_version(d.version());
    ref.set_eligible(d.eligible());
    return ref;
  }

  v1::FileAppealRequest Filing(v1::AppealKind kind, const std::string& rid) {
    v1::FileAppealRequest r;
    r.set_request_id(rid);
    r.set_actor("loket-dinsos-mataram");
    r.set_kind(kind);
    r.set_kk_number(kKk1);
    r.set_statement("Pernyataan pemohon");
    switch (kind) {
      case v1::APPEAL_KIND_EXCLUSION_REPORT:
        r.set_filer_relation(v1::FILER_RELATION_COMMUNITY);
        r.set_filer_nik(kNeighbour);
        break;
      default:
        r.set_filer_relation(v1::FILER_RELATION_MEMBER);
        r.set_filer_nik(kHead1);
        break;
    }
    return r;
  }
  grpc::Status File(const v1::FileAppealRequest& r, v1::FileAppealResponse* resp) {
    return appeals_stub_->FileAppeal(Ctx().get(), r, resp);
  }
  v1::Appeal FileOk(const v1::FileAppealRequest& r) {
    v1::FileAppealResponse resp;
    grpc::Status st = File(r, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    EXPECT_FALSE(resp.existing());
    return resp.appeal();
  }

  grpc::Status Assign(const std::string& id, const std::string& rid, const std::string& verifier = "V-07") {
    v1::AssignAppealRequest r;
    r.set_request_id(rid);
    r.set_actor("kabid-linjamsos");
    r.set_appeal_id(id);
    r.set_verifier_id(verifier);
    v1::AssignAppealResponse resp;
    return appeals_stub_->AssignAppeal(Ctx().get(), r, &resp);
  }
  grpc::Status Verify(const std::string& id, const std::string& rid, v1::AppealOutcome rec,
                      const std::string& verifier = "V-07") {
    v1::RecordVerificationRequest r;
    r.set_request_id(rid);
    r.set_actor(verifier);
    r.set_appeal_id(id);
    r.set_verifier_id(verifier);
    r.set_findings("Kunjungan lapangan: rumah semi permanen, kepala keluarga buruh harian");
    r.add_evidence_refs("FOTO-2026-11-001");
    r.set_recommendation(rec);
    v1::RecordVerificationResponse resp;
    return appeals_stub_->RecordVerification(Ctx().get(), r, &resp);
  }
  grpc::Status Decide(const std::string& id, const std::string& rid, v1::AppealOutcome outcome,
                      std::optional<v1::RecordCorrected> correction = std::nullopt, v1::Appeal* out = nullptr) {
    v1::DecideAppealRequest r;
    r.set_request_id(rid);
    r.set_actor("kadis-sosial");
    r.set_appeal_id(id);
    r.set_outcome(outcome);
    r.set_reason(outcome == v1::APPEAL_OUTCOME_UPHELD ? "Temuan verifikasi membenarkan" : "Data sudah sesuai");
    if (correction) *r.mutable_correction() = *correction;
    v1::DecideAppealResponse resp;
    grpc::Status st = appeals_stub_->DecideAppeal(Ctx().get(), r, &resp);
    if (out) *out = resp.appeal();
    return st;
  }
  grpc::Status Close(const std::string& id, const std::string& rid) {
    v1::CloseAppealRequest r;
    r.set_request_id(rid);
    r.set_actor("kadis-sosial");
    r.set_appeal_id(id);
    r.set_note("Hasil disampaikan kepada keluarga");
    v1::CloseAppealResponse resp;
    return appeals_stub_->CloseAppeal(Ctx().get(), r, &resp);
  }
  grpc::Status Withdraw(const std::string& id, const std::string& rid, const std::string& nik = kHead1) {
    v1::WithdrawAppealRequest r;
    r.set_request_id(rid);
    r.set_actor("loket-dinsos-mataram");
    r.set_appeal_id(id);
    r.set_reason("Pemohon mencabut sanggahan");
    r.set_filer_nik(nik);
    v1::WithdrawAppealResponse resp;
    return appeals_stub_->WithdrawAppeal(Ctx().get(), r, &resp);
  }
  v1::GetAppealResponse Get(const std::string& id) {
    v1::GetAppealRequest r;
    r.set_appeal_id(id);
    v1::GetAppealResponse resp;
    grpc::Status st = appeals_stub_->GetAppeal(Ctx().get(), r, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp;
  }
  v1::ObjectionWindowOpened OpenWindow(const std::string& program, const std::string& rid, int days = 0) {
    v1::OpenObjectionWindowRequest r;
    r.set_request_id(rid);
    r.set_actor("kadis-sosial");
    r.set_region_prefix("52.71");
    r.set_program(program);
    r.set_days(days);
    r.set_announcement(absl::StrCat("Pengumuman daftar penerima ", program));
    v1::OpenObjectionWindowResponse resp;
    grpc::Status st = appeals_stub_->OpenObjectionWindow(Ctx().get(), r, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.window();
  }
  std::vector<v1::Breach> Breaches() {
    v1::ListBreachesRequest r;
    r.set_region_prefix("52");
    v1::ListBreachesResponse resp;
    grpc::Status st = appeals_stub_->ListBreaches(Ctx().get(), r, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return {resp.breaches().begin(), resp.breaches().end()};
  }

  int64_t EndOf(std::string_view topic) {
    int64_t total = 0;
    const std::string t(topic);
    const int32_t n = log_->PartitionCount(t).value_or(0);
    for (int p = 0; p < n; ++p) total += log_->EndOffset(t, p).value_or(0);
    return total;
  }
  int64_t AllEvents() {
    return EndOf(events::kPopulationTopic) + EndOf(events::kEligibilityTopic) + EndOf(events::kAppealsTopic);
  }
  // Every envelope on `topic`.
  std::vector<v1::Envelope> Read(std::string_view topic) {
    std::vector<v1::Envelope> out;
    const std::string t(topic);
    auto reader = log_->NewReader();
    EXPECT_TRUE(reader.ok());
    const int32_t n = log_->PartitionCount(t).value_or(0);
    for (int p = 0; p < n; ++p) {
      const int64_t end = log_->EndOffset(t, p).value_or(0);
      if (end == 0) continue;
      EXPECT_OK((*reader)->Assign({{t, p, 0}}));
      int64_t read = 0;
      while (read < end) {
        auto recs = (*reader)->Poll(10000, absl::Seconds(1));
        EXPECT_TRUE(recs.ok());
        if (recs->empty()) break;
        for (const auto& rec : *recs) {
          v1::Envelope e;
          EXPECT_TRUE(e.ParseFromString(rec.value));
          out.push_back(std::move(e));
          ++read;
        }
      }
    }
    return out;
  }
  int Count(v1::Envelope::PayloadCase c) {
    int n = 0;
    for (const auto& e : Read(events::kAppealsTopic)) n += e.payload_case() == c;
    return n;
  }

  static v1::RecordCorrected DecileCorrection(int decile) {
    v1::RecordCorrected c;
    c.mutable_welfare_assessment()->set_round("2026-Q3");
    c.mutable_welfare_assessment()->set_decile(decile);
    c.mutable_welfare_assessment()->set_pmt_score_micros(1000000LL * decile);
    return c;
  }

  std::unique_ptr<AppealsServiceImpl> appeals_;
  std::unique_ptr<grpc::Server> appeals_server_;
  std::unique_ptr<v1::AppealsService::Stub> appeals_stub_;
};

// ---------------------------------------------------------------------------
// Corrections flow back

TEST_F(AppealsTest, UpheldDataCorrectionChangesTheFamilyAndItsDecision) {
  FamilyWithDecile(7);
  ASSERT_EQ(Current(kKk1, "BPNT").decision_id(), "") << "decile 7 is above BPNT's limit: never eligible";

  // The family says its decile is wrong; it has no BPNT decision, so it
  // names the program.
  v1::FileAppealRequest f = Filing(v1::APPEAL_KIND_DATA_CORRECTION, "corr-file");
  f.set_program("BPNT");
  *f.mutable_proposed_correction() = DecileCorrection(3);
  const v1::Appeal filed = FileOk(f);
  EXPECT_EQ(filed.state(), v1::APPEAL_STATE_FILED);
  EXPECT_EQ(filed.region_code(), kRegion1);
  ASSERT_GRPC_OK(Assign(filed.appeal_id(), "corr-assign"));
  ASSERT_GRPC_OK(Verify(filed.appeal_id(), "corr-verify", v1::APPEAL_OUTCOME_UPHELD));
  const int64_t population_before = EndOf(events::kPopulationTopic);
  v1::Appeal decided;
  ASSERT_GRPC_OK(Decide(filed.appeal_id(), "corr-decide", v1::APPEAL_OUTCOME_UPHELD, DecileCorrection(3), &decided));
  EXPECT_EQ(decided.state(), v1::APPEAL_STATE_DECIDED);

  // The correction is on the population topic, caused by the appeal.
  ASSERT_EQ(EndOf(events::kPopulationTopic), population_before + 1);
  const std::vector<v1::Envelope> pop = Read(events::kPopulationTopic);
  const v1::Envelope* corr = nullptr;
  for (const auto& e : pop) {
    if (e.has_record_corrected()) corr = &e;
  }
  ASSERT_NE(corr, nullptr);
  EXPECT_EQ(corr->record_corrected().appeal_id(), filed.appeal_id());
  EXPECT_EQ(corr->event_id(), decided.correction_event_id());
  EXPECT_EQ(corr->correlation_id(), filed.appeal_id());
  EXPECT_EQ(corr->causation_id(), decided.timeline().rbegin()->event_id());
  EXPECT_EQ(corr->record_corrected().welfare_assessment().decile(), 3);
  EXPECT_EQ(decided.correction_offset(), decided.correction_offset());

  // Population's projection has the corrected decile.
  EXPECT_EQ(GetFamilyOrDie(kKk1).latest_assessment().decile(), 3);
  // Eligibility re-derives: BPNT eligible now, and the appeal points at it.
  Settle();
  const v1::DecisionRef now = Current(kKk1, "BPNT");
  ASSERT_TRUE(now.eligible());
  ASSERT_OK(appeals_->projection().CatchUp());
  const v1::GetAppealResponse got = Get(filed.appeal_id());
  ASSERT_TRUE(got.appeal().has_resulting_decision());
  EXPECT_EQ(got.appeal().resulting_decision().decision_id(), now.decision_id());
  EXPECT_TRUE(got.appeal().resulting_decision().eligible());
  EXPECT_EQ(got.appeal().correction_partition(), got.appeal().resulting_decision().population_partition());
  EXPECT_GE(got.appeal().resulting_decision().population_offset(), got.appeal().correction_offset());
  EXPECT_EQ(got.current_decision().decision_id(), now.decision_id());

  ASSERT_GRPC_OK(Close(filed.appeal_id(), "corr-close"));
  EXPECT_EQ(Get(filed.appeal_id()).appeal().state(), v1::APPEAL_STATE_CLOSED);
  // Restarting appends the correction nothing more.
  StopAppeals();
  StartAppeals("appeals");
  ASSERT_OK(appeals_->Tick().status());
  EXPECT_EQ(EndOf(events::kPopulationTopic), population_before + 1);
}

TEST_F(AppealsTest, UpheldExclusionReportCorrectsTheDecileAndEndsTheListing) {
  FamilyWithDecile(3);
  const v1::DecisionRef listed = Current(kKk1, "BPNT");
  ASSERT_TRUE(listed.eligible());
  OpenWindow("BPNT", "window-bpnt");
  v1::FileAppealRequest f = Filing(v1::APPEAL_KIND_EXCLUSION_REPORT, "excl-file");
  f.set_decision_id(listed.decision_id());
  f.set_decision_version(listed.version());
  f.set_statement("Keluarga ini memiliki toko dan dua mobil");
  const v1::Appeal a = FileOk(f);
  EXPECT_EQ(a.program(), "BPNT");
  EXPECT_FALSE(a.window_id().empty());
  ASSERT_GRPC_OK(Assign(a.appeal_id(), "excl-assign"));
  ASSERT_GRPC_OK(Verify(a.appeal_id(), "excl-verify", v1::APPEAL_OUTCOME_UPHELD));
  ASSERT_GRPC_OK(Decide(a.appeal_id(), "excl-decide", v1::APPEAL_OUTCOME_UPHELD, DecileCorrection(8)));
  Settle();
  const v1::DecisionRef after = Current(kKk1, "BPNT");
  EXPECT_FALSE(after.eligible());
  EXPECT_EQ(after.version(), listed.version() + 1);
  ASSERT_OK(appeals_->projection().CatchUp());
  EXPECT_EQ(Get(a.appeal_id()).appeal().resulting_decision().decision_id(), after.decision_id());

  // The reporter is kept as a keyed hash only: the NIK is nowhere on the
  // log, the reported family sees neither who reported nor what was said.
  for (const auto& e : Read(events::kAppealsTopic)) {
    EXPECT_EQ(e.SerializeAsString().find(kNeighbour), std::string::npos);
    if (e.has_appeal_filed()) {
      EXPECT_EQ(e.appeal_filed().filer_hash(), FilerHash(kFilerKey, kNeighbour));
      EXPECT_NE(e.appeal_filed().filer_hash(), FilerHash("another-key-0123456789", kNeighbour));
    }
  }
  v1::ListFamilyAppealsRequest lr;
  lr.set_kk_number(kKk1);
  v1::ListFamilyAppealsResponse list;
  ASSERT_GRPC_OK(appeals_stub_->ListFamilyAppeals(Ctx().get(), lr, &list));
  ASSERT_EQ(list.appeals_size(), 1);
  EXPECT_EQ(list.appeals(0).statement(), "");
  EXPECT_EQ(list.appeals(0).filer_relation(), v1::FILER_RELATION_UNSPECIFIED);
  EXPECT_EQ(list.appeals(0).SerializeAsString().find("toko"), std::string::npos);
  // The office sees the statement.
  EXPECT_EQ(Get(a.appeal_id()).appeal().statement(), "Keluarga ini memiliki toko dan dua mobil");
}

// ---------------------------------------------------------------------------
// Every kind through every path

TEST_F(AppealsTest, RejectedInclusionRequestChangesNothingButItself) {
  FamilyWithDecile(7);
  v1::FileAppealRequest f = Filing(v1::APPEAL_KIND_INCLUSION_REQUEST, "incl-file");
  f.set_program("BPNT");
  const v1::Appeal a = FileOk(f);
  EXPECT_EQ(a.kind(), v1::APPEAL_KIND_INCLUSION_REQUEST);
  ASSERT_GRPC_OK(Assign(a.appeal_id(), "incl-assign"));
  ASSERT_GRPC_OK(Assign(a.appeal_id(), "incl-reassign", "V-09"));  // reassignment while assigned
  EXPECT_EQ(Get(a.appeal_id()).appeal().verifier_id(), "V-09");
  // Only the assigned verifier records the verification.
  v1::RecordVerificationRequest wrong;
  grpc::Status st = Verify(a.appeal_id(), "incl-verify-wrong", v1::APPEAL_OUTCOME_REJECTED, "V-07");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(st.error_message(), HasSubstr("assigned to verifier V-09"));
  ASSERT_GRPC_OK(Verify(a.appeal_id(), "incl-verify", v1::APPEAL_OUTCOME_REJECTED, "V-09"));
  const int64_t pop_before = EndOf(events::kPopulationTopic);
  // A rejection carries no correction.
  st = Decide(a.appeal_id(), "incl-decide-bad", v1::APPEAL_OUTCOME_REJECTED, DecileCorrection(3));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(), HasSubstr("correction"));
  ASSERT_GRPC_OK(Decide(a.appeal_id(), "incl-decide", v1::APPEAL_OUTCOME_REJECTED));
  ASSERT_GRPC_OK(Close(a.appeal_id(), "incl-close"));
  EXPECT_EQ(EndOf(events::kPopulationTopic), pop_before);
  const v1::Appeal closed = Get(a.appeal_id()).appeal();
  EXPECT_EQ(closed.state(), v1::APPEAL_STATE_CLOSED);
  EXPECT_EQ(closed.outcome(), v1::APPEAL_OUTCOME_REJECTED);
  std::vector<std::string> steps;
  for (const auto& s : closed.timeline()) steps.push_back(s.step());
  EXPECT_EQ(steps, (std::vector<std::string>{"filed", "assigned", "assigned", "verified", "decided", "closed"}));
  // Closed: the family may file again, a new appeal.
  f.set_request_id("incl-file-2");
  EXPECT_NE(FileOk(f).appeal_id(), a.appeal_id());
}

TEST_F(AppealsTest, WithdrawnOnlyByTheFiler) {
  FamilyWithDecile(7);
  v1::FileAppealRequest f = Filing(v1::APPEAL_KIND_INCLUSION_REQUEST, "wd-file");
  f.set_program("BPNT");
  const v1::Appeal a = FileOk(f);
  ASSERT_GRPC_OK(Assign(a.appeal_id(), "wd-assign"));
  const int64_t before = AllEvents();
  grpc::Status st = Withdraw(a.appeal_id(), "wd-wrong", kWife1);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(AllEvents(), before);
  ASSERT_GRPC_OK(Withdraw(a.appeal_id(), "wd"));
  const v1::Appeal w = Get(a.appeal_id()).appeal();
  EXPECT_EQ(w.state(), v1::APPEAL_STATE_WITHDRAWN);
  for (const auto& d : w.deadlines()) EXPECT_TRUE(d.has_met_at()) << "withdrawal stops the clocks";
  // Nothing is escalated for a withdrawn appeal.
  SetNow(Now() + absl::Hours(24 * 40));
  ASSERT_OK_AND_ASSIGN(int n, appeals_->Tick());
  EXPECT_EQ(n, 0);
  EXPECT_TRUE(Breaches().empty());
}

TEST_F(AppealsTest, DeadlinesEscalateExactlyOnceAndARebuildReproducesThem) {
  FamilyWithDecile(7);
  v1::SetAppealPolicyRequest pr;
  pr.set_request_id("policy-mataram");
  pr.set_actor("kadis-sosial");
  pr.mutable_policy()->set_region_prefix("52.71");
  pr.mutable_policy()->set_kind(v1::APPEAL_KIND_INCLUSION_REQUEST);
  pr.mutable_policy()->set_verification_days(7);
  pr.mutable_policy()->set_decision_days(21);
  v1::SetAppealPolicyResponse presp;
  ASSERT_GRPC_OK(appeals_stub_->SetAppealPolicy(Ctx().get(), pr, &presp));

  v1::FileAppealRequest f = Filing(v1::APPEAL_KIND_INCLUSION_REQUEST, "sla-file");
  f.set_program("BPNT");
  const absl::Time filed_at = Now();
  const v1::Appeal a = FileOk(f);
  ASSERT_EQ(a.deadlines_size(), 2);
  EXPECT_EQ(events::FromProtoTime(a.deadlines(0).due()), filed_at + absl::Hours(24 * 7));
  EXPECT_EQ(events::FromProtoTime(a.deadlines(1).due()), filed_at + absl::Hours(24 * 21));
  // Another kind keeps the default 14/30.
  v1::FileAppealRequest g = Filing(v1::APPEAL_KIND_DATA_CORRECTION, "sla-file-2");
  g.set_program("BPNT");
  const v1::Appeal b = FileOk(g);
  EXPECT_EQ(events::FromProtoTime(b.deadlines(0).due()), filed_at + absl::Hours(24 * kDefaultVerificationDays));

  // Day 6: nothing due.
  SetNow(filed_at + absl::Hours(24 * 6));
  ASSERT_OK_AND_ASSIGN(int n, appeals_->Tick());
  EXPECT_EQ(n, 0);
  // Day 8: a's verification deadline passed.
  SetNow(filed_at + absl::Hours(24 * 8));
  ASSERT_OK_AND_ASSIGN(n, appeals_->Tick());
  EXPECT_EQ(n, 1);
  ASSERT_OK_AND_ASSIGN(n, appeals_->Tick());
  EXPECT_EQ(n, 0) << "escalated once";
  v1::Appeal esc = Get(a.appeal_id()).appeal();
  EXPECT_TRUE(esc.escalated());
  EXPECT_EQ(esc.state(), v1::APPEAL_STATE_FILED) << "escalation does not change the lifecycle state";
  // The escalation happened at the deadline itself (event time).
  for (const auto& e : Read(events::kAppealsTopic)) {
    if (e.has_appeal_escalated()) {
      EXPECT_EQ(e.occurred_at().seconds(), a.deadlines(0).due().seconds());
    }
  }

  // Restart: still once.
  StopAppeals();
  StartAppeals("appeals");
  ASSERT_OK_AND_ASSIGN(n, appeals_->Tick());
  EXPECT_EQ(n, 0);

  // A crash after appending an escalation and before applying it: the
  // restarted service reads it back and appends no second one.
  StopAppeals();
  {
    SetNow(filed_at + absl::Hours(24 * 15));  // b's verification deadline passed
    const v1::Envelope pre = EscalationEnvelope(b, v1::DEADLINE_KIND_VERIFICATION, absl::ToUnixMillis(Now()));
    const eventlog::Record rec = events::ToRecord(pre);
    ASSERT_OK(log_->Append(std::string(events::kAppealsTopic), std::span<const eventlog::Record>(&rec, 1)).status());
  }
  StartAppeals("appeals");
  ASSERT_OK_AND_ASSIGN(n, appeals_->Tick());
  EXPECT_EQ(n, 0);
  EXPECT_EQ(Count(v1::Envelope::kAppealEscalated), 2);

  // Verified late (day 16): the verification breach of a is recorded with
  // the time it was met; its decision clock still runs.
  ASSERT_GRPC_OK(Assign(a.appeal_id(), "sla-assign"));
  SetNow(filed_at + absl::Hours(24 * 16));
  ASSERT_GRPC_OK(Verify(a.appeal_id(), "sla-verify", v1::APPEAL_OUTCOME_REJECTED));
  SetNow(filed_at + absl::Hours(24 * 22));
  ASSERT_OK_AND_ASSIGN(n, appeals_->Tick());
  EXPECT_EQ(n, 1) << "a's decision deadline (day 21)";
  ASSERT_GRPC_OK(Decide(a.appeal_id(), "sla-decide", v1::APPEAL_OUTCOME_REJECTED));
  SetNow(filed_at + absl::Hours(24 * 31));
  ASSERT_OK_AND_ASSIGN(n, appeals_->Tick());
  EXPECT_EQ(n, 1) << "b's decision deadline (day 30)";
  ASSERT_OK_AND_ASSIGN(n, appeals_->Tick());
  EXPECT_EQ(n, 0);
  EXPECT_EQ(Count(v1::Envelope::kAppealEscalated), 4);

  const std::vector<v1::Breach> breaches = Breaches();
  ASSERT_EQ(breaches.size(), 4u);
  const v1::Appeal final_a = Get(a.appeal_id()).appeal();
  EXPECT_TRUE(final_a.deadlines(0).breached());
  EXPECT_EQ(events::FromProtoTime(final_a.deadlines(0).met_at()), filed_at + absl::Hours(24 * 16));

  // Work queue: b (open, overdue) first; a is decided (no pending deadline).
  v1::ListWorkQueueRequest qr;
  qr.set_region_prefix("52.71");
  v1::ListWorkQueueResponse q;
  ASSERT_GRPC_OK(appeals_stub_->ListWorkQueue(Ctx().get(), qr, &q));
  ASSERT_EQ(q.appeals_size(), 2);
  EXPECT_EQ(q.appeals(0).appeal_id(), b.appeal_id());
  EXPECT_EQ(q.appeals(1).appeal_id(), a.appeal_id());
  qr.set_state(v1::APPEAL_STATE_DECIDED);
  ASSERT_GRPC_OK(appeals_stub_->ListWorkQueue(Ctx().get(), qr, &q));
  ASSERT_EQ(q.appeals_size(), 1);

  // Stats.
  v1::GetAppealStatsRequest sr;
  sr.set_region_prefix("52.71");
  v1::GetAppealStatsResponse stats;
  ASSERT_GRPC_OK(appeals_stub_->GetAppealStats(Ctx().get(), sr, &stats));
  const v1::AppealStats& total = stats.stats(stats.stats_size() - 1);
  EXPECT_EQ(total.kind(), v1::APPEAL_KIND_UNSPECIFIED);
  EXPECT_EQ(total.filed(), 2);
  EXPECT_EQ(total.rejected(), 1);
  EXPECT_EQ(total.open(), 1);
  EXPECT_EQ(total.escalated(), 2);
  EXPECT_DOUBLE_EQ(total.median_days_to_decision(), 22.0);

  // A rebuild from the log (another interleaving of the three topics)
  // reproduces the same store, byte for byte: states, deadlines, breaches.
  StopAppeals();
  AppealsApplier applier;
  projection::Options o;
  o.dir = dir_.Sub("appeals-rebuilt");
  o.topics = {std::string(events::kAppealsTopic), std::string(events::kEligibilityTopic),
              std::string(events::kRulesTopic), std::string(events::kPopulationTopic)};
  ASSERT_OK(projection::Rebuild(log_.get(), &applier, o));
  ASSERT_OK_AND_ASSIGN(auto live, projection::DumpStore(dir_.Sub("appeals")));
  ASSERT_OK_AND_ASSIGN(auto rebuilt, projection::DumpStore(o.dir));
  EXPECT_TRUE(live == rebuilt) << "live " << live.size() << " keys, rebuilt " << rebuilt.size();
  StartAppeals("appeals-rebuilt");
  EXPECT_EQ(Breaches().size(), 4u);
  ASSERT_OK_AND_ASSIGN(n, appeals_->Tick());
  EXPECT_EQ(n, 0);
}

// ---------------------------------------------------------------------------
// Illegal transitions and bad input: refused, nothing appended

TEST_F(AppealsTest, EveryIllegalTransitionIsRefusedAndAppendsNothing) {
  FamilyWithDecile(7);
  int seq = 0;
  auto rid = [&] { return absl::StrCat("t-", ++seq); };
  // One appeal in each state.
  auto make = [&](v1::AppealState target) {
    v1::FileAppealRequest f = Filing(v1::APPEAL_KIND_INCLUSION_REQUEST, rid());
    f.set_program("BPNT");
    const std::string id = FileOk(f).appeal_id();
    if (target == v1::APPEAL_STATE_FILED) return id;
    if (target == v1::APPEAL_STATE_WITHDRAWN) {
      EXPECT_TRUE(Withdraw(id, rid()).ok());
      return id;
    }
    EXPECT_TRUE(Assign(id, rid()).ok());
    if (target == v1::APPEAL_STATE_ASSIGNED) return id;
    EXPECT_TRUE(Verify(id, rid(), v1::APPEAL_OUTCOME_REJECTED).ok());
    if (target == v1::APPEAL_STATE_VERIFIED) return id;
    EXPECT_TRUE(Decide(id, rid(), v1::APPEAL_OUTCOME_REJECTED).ok());
    if (target == v1::APPEAL_STATE_DECIDED) return id;
    EXPECT_TRUE(Close(id, rid()).ok());
    return id;
  };
  enum Cmd { kAssign, kVerify, kDecide, kClose, kWithdraw };
  const std::map<v1::AppealState, std::set<Cmd>> allowed = {
      {v1::APPEAL_STATE_FILED, {kAssign, kWithdraw}},
      {v1::APPEAL_STATE_ASSIGNED, {kAssign, kVerify, kWithdraw}},
      {v1::APPEAL_STATE_VERIFIED, {kDecide, kWithdraw}},
      {v1::APPEAL_STATE_DECIDED, {kClose}},
      {v1::APPEAL_STATE_CLOSED, {}},
      {v1::APPEAL_STATE_WITHDRAWN, {}},
  };
  int refused = 0;
  for (const auto& [state, ok_cmds] : allowed) {
    const std::string id = make(state);
    // Only one appeal of a kind may be open: close or withdraw the ones
    // made for earlier states first is not needed, since each iteration
    // made a fresh one only after the previous reached its state; file the
    // next with another kind when needed.
    ASSERT_EQ(Get(id).appeal().state(), state);
    for (Cmd c : {kAssign, kVerify, kDecide, kClose, kWithdraw}) {
      if (ok_cmds.count(c)) continue;
      const int64_t before = AllEvents();
      grpc::Status st;
      switch (c) {
        case kAssign: st = Assign(id, rid()); break;
        case kVerify: st = Verify(id, rid(), v1::APPEAL_OUTCOME_UPHELD); break;
        case kDecide: st = Decide(id, rid(), v1::APPEAL_OUTCOME_REJECTED); break;
        case kClose: st = Close(id, rid()); break;
        case kWithdraw: st = Withdraw(id, rid()); break;
      }
      EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
          << "command " << c << " in state " << v1::AppealState_Name(state) << ": " << st.error_message();
      EXPECT_THAT(st.error_message(), HasSubstr(absl::StrCat("appeal ", id, " is ")));
      EXPECT_EQ(AllEvents(), before);
      ++refused;
    }
    // Finish it so the next state's appeal can be filed.
    const v1::AppealState s = Get(id).appeal().state();
    if (s == v1::APPEAL_STATE_FILED || s == v1::APPEAL_STATE_ASSIGNED || s == v1::APPEAL_STATE_VERIFIED) {
      ASSERT_GRPC_OK(Withdraw(id, rid()));
    } else if (s == v1::APPEAL_STATE_DECIDED) {
      ASSERT_GRPC_OK(Close(id, rid()));
    }
  }
  EXPECT_EQ(refused, 3 + 2 + 3 + 4 + 5 + 5);
  // A decision without a verification, an upheld data correction without a
  // correction.
  v1::FileAppealRequest f = Filing(v1::APPEAL_KIND_DATA_CORRECTION, rid());
  f.set_program("BPNT");
  const std::string id = FileOk(f).appeal_id();
  EXPECT_EQ(Decide(id, rid(), v1::APPEAL_OUTCOME_UPHELD, DecileCorrection(2)).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_GRPC_OK(Assign(id, rid()));
  ASSERT_GRPC_OK(Verify(id, rid(), v1::APPEAL_OUTCOME_UPHELD));
  const int64_t before = AllEvents();
  grpc::Status st = Decide(id, rid(), v1::APPEAL_OUTCOME_UPHELD);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(), HasSubstr("correction"));
  // A correction of an event that is not the family's.
  v1::RecordCorrected bad = DecileCorrection(2);
  bad.set_corrected_event_id("0123456789abcdef0123456789abcdef");
  st = Decide(id, rid(), v1::APPEAL_OUTCOME_UPHELD, bad);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(st.error_message(), HasSubstr("not an event of family"));
  v1::RecordCorrected member;
  *member.mutable_member() = Person(kOutsider, "Orang Lain", v1::SEX_FEMALE, 1990, 1, 1, v1::RELATIONSHIP_OTHER_RELATIVE);
  st = Decide(id, rid(), v1::APPEAL_OUTCOME_UPHELD, member);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(st.error_message(), HasSubstr("correction.member.nik"));
  EXPECT_EQ(AllEvents(), before);
  // A retry of an accepted command answers and appends nothing.
  ASSERT_GRPC_OK(Decide(id, "final-decide", v1::APPEAL_OUTCOME_UPHELD, DecileCorrection(2)));
  const int64_t after = AllEvents();
  ASSERT_GRPC_OK(Decide(id, "final-decide", v1::APPEAL_OUTCOME_UPHELD, DecileCorrection(2)));
  EXPECT_EQ(AllEvents(), after);
}

TEST_F(AppealsTest, FilingIsTiedToTheCurrentDecision) {
  FamilyWithDecile(3);
  const v1::DecisionRef first = Current(kKk1, "BPNT");
  ASSERT_TRUE(first.eligible());
  OpenWindow("BPNT", "w1");
  const int64_t before = AllEvents();

  // Unknown decision: NOT_FOUND naming the current ones.
  v1::FileAppealRequest f = Filing(v1::APPEAL_KIND_EXCLUSION_REPORT, "tie-1");
  f.set_decision_id("ffffffffffffffffffffffffffffffff");
  f.set_decision_version(1);
  v1::FileAppealResponse resp;
  grpc::Status st = File(f, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(st.error_message(), HasSubstr(first.decision_id()));

  // Superseded: the decile moves to 2 (still eligible, same BPNT outcome?
  // BPNT's amount does not depend on the decile), so supersede through a
  // decile above the limit and back.
  v1::RecordWelfareAssessmentResponse ar;
  ASSERT_GRPC_OK(stub_->RecordWelfareAssessment(Ctx().get(), Assess(kKk1, 8, "assess-2"), &ar));
  Settle();
  ASSERT_GRPC_OK(stub_->RecordWelfareAssessment(Ctx().get(), Assess(kKk1, 2, "assess-3"), &ar));
  Settle();
  const v1::DecisionRef current = Current(kKk1, "BPNT");
  ASSERT_EQ(current.version(), first.version() + 2);
  const int64_t before2 = AllEvents();
  f.set_request_id("tie-2");
  f.set_decision_id(first.decision_id());
  f.set_decision_version(first.version());
  st = File(f, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(st.error_message(), HasSubstr("superseded"));
  EXPECT_THAT(st.error_message(), HasSubstr(current.decision_id()));
  EXPECT_EQ(AllEvents(), before2);
  (void)before;

  // One open appeal per (family, program, kind): the second returns the first.
  f.set_request_id("tie-3");
  f.set_decision_id(current.decision_id());
  f.set_decision_version(current.version());
  const v1::Appeal a = FileOk(f);
  v1::FileAppealRequest again = f;
  again.set_request_id("tie-4");
  again.set_filer_nik(kHead2);
  again.set_statement("Laporan kedua");
  const int64_t before3 = AllEvents();
  ASSERT_GRPC_OK(File(again, &resp));
  EXPECT_TRUE(resp.existing());
  EXPECT_EQ(resp.appeal().appeal_id(), a.appeal_id());
  EXPECT_EQ(AllEvents(), before3);
  // A retry of the first filing returns it too.
  ASSERT_GRPC_OK(File(f, &resp));
  EXPECT_TRUE(resp.existing());
  EXPECT_EQ(resp.appeal().appeal_id(), a.appeal_id());

  // An inclusion request for a family already listed is refused, naming the
  // decision.
  v1::FileAppealRequest incl = Filing(v1::APPEAL_KIND_INCLUSION_REQUEST, "tie-5");
  incl.set_program("BPNT");
  st = File(incl, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(st.error_message(), HasSubstr(current.decision_id()));
}

TEST_F(AppealsTest, ExclusionReportsOnlyInsideAnObjectionWindow) {
  FamilyWithDecile(3);
  const v1::DecisionRef listed = Current(kKk1, "BPNT");
  v1::FileAppealRequest f = Filing(v1::APPEAL_KIND_EXCLUSION_REPORT, "win-1");
  f.set_decision_id(listed.decision_id());
  f.set_decision_version(listed.version());
  v1::FileAppealResponse resp;
  grpc::Status st = File(f, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(st.error_message(), HasSubstr("no objection window"));

  // Banyuwangi's model: one month after the announcement.
  const v1::ObjectionWindowOpened w = OpenWindow("BPNT", "announce-1");
  EXPECT_EQ(events::FromProtoTime(w.closes_at()) - events::FromProtoTime(w.opens_at()),
            absl::Hours(24 * kDefaultObjectionWindowDays));
  SetNow(events::FromProtoTime(w.closes_at()) + absl::Minutes(1));
  f.set_request_id("win-2");
  st = File(f, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(st.error_message(), HasSubstr(w.window_id()));
  SetNow(events::FromProtoTime(w.closes_at()) - absl::Minutes(1));
  f.set_request_id("win-3");
  ASSERT_GRPC_OK(File(f, &resp));
  EXPECT_EQ(resp.appeal().window_id(), w.window_id());
}

TEST_F(AppealsTest, BadInputNamesTheFieldAndAppendsNothing) {
  FamilyWithDecile(3);
  const int64_t before = AllEvents();
  struct Case {
    std::function<void(v1::FileAppealRequest&)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](auto& r) { r.set_request_id(""); }, "request_id"},
      {[](auto& r) { r.set_kind(v1::APPEAL_KIND_UNSPECIFIED); }, "kind"},
      {[](auto& r) { r.set_kk_number("12345"); }, "kk_number"},
      {[](auto& r) { r.set_program("bpnt"); }, "program"},
      {[](auto& r) { r.set_program(""); }, "program"},
      {[](auto& r) { r.set_filer_nik("5271"); }, "filer_nik"},
      {[](auto& r) { r.set_filer_relation(v1::FILER_RELATION_UNSPECIFIED); }, "filer_relation"},
      {[](auto& r) { r.set_filer_relation(v1::FILER_RELATION_COMMUNITY); }, "filer_relation"},
      {[](auto& r) { r.set_statement(""); }, "statement"},
      {[](auto& r) { r.set_decision_id("abc"); }, "decision_id"},
      {[](auto& r) { r.set_filer_nik(kOutsider); }, "filer_nik"},
      {[](auto& r) { r.set_program("NOPE"); }, "program"},
  };
  for (const auto& c : cases) {
    v1::FileAppealRequest r = Filing(v1::APPEAL_KIND_INCLUSION_REQUEST, "bad");
    r.set_program("PBI_JK");
    c.mutate(r);
    v1::FileAppealResponse resp;
    grpc::Status st = File(r, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.field << ": " << st.error_message();
    EXPECT_THAT(st.error_message(), HasSubstr(c.field + ":"));
  }
  // An unregistered family.
  v1::FileAppealRequest r = Filing(v1::APPEAL_KIND_INCLUSION_REQUEST, "bad-2");
  r.set_program("BPNT");
  r.set_kk_number(kKk2);
  r.set_filer_relation(v1::FILER_RELATION_ON_BEHALF);
  v1::FileAppealResponse resp;
  EXPECT_EQ(File(r, &resp).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(AllEvents(), before);
}

// ---------------------------------------------------------------------------
// Every kind through every path, as a table.

enum class Path { kUpheld, kRejected, kWithdrawn, kEscalated };

class AppealPathTest : public AppealsTest,
                       public ::testing::WithParamInterface<std::tuple<v1::AppealKind, Path>> {};

TEST_P(AppealPathTest, WalksThePath) {
  const auto [kind, path] = GetParam();
  // A listed family for a report, a family left out otherwise.
  const bool report = kind == v1::APPEAL_KIND_EXCLUSION_REPORT;
  FamilyWithDecile(report ? 3 : 7);
  const v1::DecisionRef before = Current(kKk1, "BPNT");
  v1::FileAppealRequest f = Filing(kind, "p-file");
  if (report) {
    OpenWindow("BPNT", "p-window");
    f.set_decision_id(before.decision_id());
    f.set_decision_version(before.version());
  } else {
    f.set_program("BPNT");
  }
  const absl::Time filed_at = Now();
  const v1::Appeal a = FileOk(f);
  ASSERT_EQ(a.kind(), kind);
  std::vector<std::string> expected = {"filed"};
  switch (path) {
    case Path::kUpheld:
    case Path::kRejected: {
      const bool upheld = path == Path::kUpheld;
      ASSERT_GRPC_OK(Assign(a.appeal_id(), "p-assign"));
      ASSERT_GRPC_OK(Verify(a.appeal_id(), "p-verify", upheld ? v1::APPEAL_OUTCOME_UPHELD : v1::APPEAL_OUTCOME_REJECTED));
      const int64_t pop = EndOf(events::kPopulationTopic);
      if (upheld) {
        ASSERT_GRPC_OK(Decide(a.appeal_id(), "p-decide", v1::APPEAL_OUTCOME_UPHELD, DecileCorrection(report ? 8 : 3)));
      } else {
        ASSERT_GRPC_OK(Decide(a.appeal_id(), "p-decide", v1::APPEAL_OUTCOME_REJECTED));
      }
      EXPECT_EQ(EndOf(events::kPopulationTopic), pop + (upheld ? 1 : 0));
      Settle();
      ASSERT_OK(appeals_->projection().CatchUp());
      const v1::DecisionRef after = Current(kKk1, "BPNT");
      if (upheld) {
        // The listing flips: a reported family leaves, a family left out enters.
        EXPECT_EQ(after.eligible(), !report);
        EXPECT_EQ(Get(a.appeal_id()).appeal().resulting_decision().decision_id(), after.decision_id());
      } else {
        EXPECT_EQ(after.decision_id(), before.decision_id());
        EXPECT_FALSE(Get(a.appeal_id()).appeal().has_resulting_decision());
      }
      ASSERT_GRPC_OK(Close(a.appeal_id(), "p-close"));
      expected.insert(expected.end(), {"assigned", "verified", "decided", "closed"});
      break;
    }
    case Path::kWithdrawn:
      ASSERT_GRPC_OK(Withdraw(a.appeal_id(), "p-withdraw", report ? kNeighbour : kHead1));
      expected.push_back("withdrawn");
      break;
    case Path::kEscalated: {
      SetNow(filed_at + absl::Hours(24 * 15));
      ASSERT_OK_AND_ASSIGN(int n, appeals_->Tick());
      EXPECT_EQ(n, 1);
      SetNow(filed_at + absl::Hours(24 * 31));
      ASSERT_OK_AND_ASSIGN(n, appeals_->Tick());
      EXPECT_EQ(n, 1);
      ASSERT_OK_AND_ASSIGN(n, appeals_->Tick());
      EXPECT_EQ(n, 0);
      EXPECT_EQ(Breaches().size(), 2u);
      expected.insert(expected.end(), {"escalated", "escalated"});
      break;
    }
  }
  const v1::Appeal end = Get(a.appeal_id()).appeal();
  std::vector<std::string> steps;
  for (const auto& s : end.timeline()) steps.push_back(s.step());
  EXPECT_EQ(steps, expected);
  const v1::AppealState want = path == Path::kWithdrawn   ? v1::APPEAL_STATE_WITHDRAWN
                               : path == Path::kEscalated ? v1::APPEAL_STATE_FILED
                                                          : v1::APPEAL_STATE_CLOSED;
  EXPECT_EQ(end.state(), want);
  EXPECT_EQ(end.escalated(), path == Path::kEscalated);
  if (path == Path::kUpheld || path == Path::kRejected) {
    EXPECT_EQ(end.outcome(), path == Path::kUpheld ? v1::APPEAL_OUTCOME_UPHELD : v1::APPEAL_OUTCOME_REJECTED);
  }
}

std::string PathCaseName(const ::testing::TestParamInfo<std::tuple<v1::AppealKind, Path>>& info) {
  static const char* const kPaths[] = {"Upheld", "Rejected", "Withdrawn", "Escalated"};
  std::string kind = v1::AppealKind_Name(std::get<0>(info.param)).substr(12);
  kind.erase(std::remove(kind.begin(), kind.end(), '_'), kind.end());
  return absl::StrCat(kind, "_", kPaths[static_cast<int>(std::get<1>(info.param))]);
}

INSTANTIATE_TEST_SUITE_P(
    KindsAndPaths, AppealPathTest,
    ::testing::Combine(::testing::Values(v1::APPEAL_KIND_INCLUSION_REQUEST, v1::APPEAL_KIND_EXCLUSION_REPORT,
                                         v1::APPEAL_KIND_DATA_CORRECTION),
                       ::testing::Values(Path::kUpheld, Path::kRejected, Path::kWithdrawn, Path::kEscalated)),
    PathCaseName);

}  // namespace
}  // namespace jaring::appeals

// ---------------------------------------------------------------------------
// Request ids and tenancy (the handlers pass auth::CallPrincipal; these
// call the service with the principal the guard would have proven).

namespace jaring::appeals {
namespace {

using ::jaring::testing::StatusIs;

const auth::Principal kMataram{auth::Role::kRegional, "dinsos-mataram", "52.71", "token"};
const auth::Principal kLotim{auth::Role::kRegional, "dinsos-lotim", "52.03", "token"};

class AppealsTenancyTest : public AppealsTest {
 protected:
  // Family 1 (52.71) and family 2 (52.03) both left out of BPNT.
  void TwoRegions() {
    ASSERT_GRPC_OK(Register(Family1()));
    ASSERT_GRPC_OK(Register(Family2()));
    v1::RecordWelfareAssessmentResponse resp;
    ASSERT_GRPC_OK(stub_->RecordWelfareAssessment(Ctx().get(), Assess(kKk1, 7, "assess-1"), &resp));
    ASSERT_GRPC_OK(stub_->RecordWelfareAssessment(Ctx().get(), Assess(kKk2, 7, "assess-2"), &resp));
    Publish(Rules2026());
    Settle();
  }
  v1::FileAppealRequest Inclusion(const std::string& kk, const std::string& filer, const std::string& rid) {
    v1::FileAppealRequest r = Filing(v1::APPEAL_KIND_INCLUSION_REQUEST, rid);
    r.set_kk_number(kk);
    r.set_filer_nik(filer);
    r.set_program("BPNT");
    return r;
  }
};

TEST_F(AppealsTenancyTest, AnotherRegionsRequestIdNeverAnswersWithItsAppeal) {
  TwoRegions();
  v1::FileAppealRequest mataram = Inclusion(kKk1, kHead1, "R");
  mataram.set_statement("Keluarga Lalu Ahmad tidak terdaftar");
  ASSERT_OK_AND_ASSIGN(v1::FileAppealResponse a, appeals_->FileAppeal(mataram, kMataram));
  // Lombok Timur's own filing under the same id is its own appeal.
  ASSERT_OK_AND_ASSIGN(v1::FileAppealResponse b, appeals_->FileAppeal(Inclusion(kKk2, kHead2, "R"), kLotim));
  EXPECT_FALSE(b.existing());
  EXPECT_EQ(b.appeal().kk_number(), kKk2);
  EXPECT_NE(b.appeal().appeal_id(), a.appeal().appeal_id());
  EXPECT_THAT(b.appeal().statement(), ::testing::Not(HasSubstr("Lalu Ahmad")));
  // Each region's retry answers its own.
  ASSERT_OK_AND_ASSIGN(v1::FileAppealResponse again, appeals_->FileAppeal(Inclusion(kKk2, kHead2, "R"), kLotim));
  EXPECT_TRUE(again.existing());
  EXPECT_EQ(again.appeal().appeal_id(), b.appeal().appeal_id());
}

TEST_F(AppealsTenancyTest, TheSameIdWithAnotherRequestIsRefused) {
  TwoRegions();
  ASSERT_OK(appeals_->FileAppeal(Inclusion(kKk1, kHead1, "R"), kMataram).status());
  const int64_t before = AllEvents();
  v1::FileAppealRequest other = Inclusion(kKk1, kHead1, "R");
  other.set_statement("Another statement");
  EXPECT_THAT(appeals_->FileAppeal(other, kMataram).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("request_id: was already used")));
  v1::FileAppealRequest elsewhere = Inclusion(kKk2, kHead2, "R");
  EXPECT_THAT(appeals_->FileAppeal(elsewhere, kMataram).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("request_id")));
  EXPECT_EQ(AllEvents(), before);
}

TEST_F(AppealsTenancyTest, ObjectionWindowIdsAreComparedAndScoped) {
  TwoRegions();
  v1::OpenObjectionWindowRequest w;
  w.set_request_id("W");
  w.set_actor("kadis-sosial");
  w.set_region_prefix("52.71");
  w.set_program("BPNT");
  w.set_announcement("Pengumuman daftar penerima BPNT");
  ASSERT_OK_AND_ASSIGN(v1::ObjectionWindowOpened first, appeals_->OpenObjectionWindow(w, kMataram));
  ASSERT_OK_AND_ASSIGN(v1::ObjectionWindowOpened retry, appeals_->OpenObjectionWindow(w, kMataram));
  EXPECT_EQ(retry.window_id(), first.window_id());
  const int64_t before = AllEvents();
  v1::OpenObjectionWindowRequest other = w;
  other.set_program("PKH");
  EXPECT_THAT(appeals_->OpenObjectionWindow(other, kMataram).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("request_id: was already used")));
  EXPECT_EQ(AllEvents(), before);
  // Lombok Timur's window under the same id is its own.
  v1::OpenObjectionWindowRequest lotim = w;
  lotim.set_region_prefix("52.03");
  ASSERT_OK_AND_ASSIGN(v1::ObjectionWindowOpened theirs, appeals_->OpenObjectionWindow(lotim, kLotim));
  EXPECT_NE(theirs.window_id(), first.window_id());
  EXPECT_EQ(theirs.region_prefix(), "52.03");
}

TEST_F(AppealsTenancyTest, TheActorIsThePrincipalAndTheLabelIsKeptApart) {
  TwoRegions();
  v1::FileAppealRequest r = Inclusion(kKk1, kHead1, "actor-1");
  r.set_actor("menteri-sosial");
  ASSERT_OK(appeals_->FileAppeal(r, kMataram).status());
  int filed = 0;
  for (const v1::Envelope& e : Read(events::kAppealsTopic)) {
    if (!e.has_appeal_filed()) continue;
    ++filed;
    EXPECT_EQ(e.actor(), "regional/52.71:dinsos-mataram");
    EXPECT_EQ(e.actor_label(), "menteri-sosial");
    EXPECT_EQ(e.request_id(), "regional/52.71/actor-1");
  }
  EXPECT_EQ(filed, 1);
}

TEST_F(AppealsTenancyTest, FreeTextIsCheckedLikeEveryOtherService) {
  TwoRegions();
  const int64_t before = AllEvents();
  v1::FileAppealRequest r = Inclusion(kKk1, kHead1, "text-1");
  r.set_statement(std::string("Pernyataan\0", 11));
  EXPECT_THAT(appeals_->FileAppeal(r, kMataram).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("statement: contains a control character")));
  r.set_statement("\xE2\x80\x8B");
  EXPECT_THAT(appeals_->FileAppeal(r, kMataram).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("statement: has only invisible characters")));
  r.set_statement(std::string(5000, 'a'));
  EXPECT_THAT(appeals_->FileAppeal(r, kMataram).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("statement: is longer than 4000 characters")));
  r.set_statement("ok");
  r.set_actor("label\x1b");
  EXPECT_THAT(appeals_->FileAppeal(r, kMataram).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("actor: contains a control character")));
  EXPECT_EQ(AllEvents(), before);
}

}  // namespace
}  // namespace jaring::appeals
