// The audit service over the live stores of population, eligibility and the
// ledger (fed through one embedded log), and over a replay of them as of a
// past moment: who was eligible on a date and why (and whether today's
// knowledge agrees), who entered and left, payments to families with no
// living member, one person in two families or regions, and cycles whose
// totals disagree with their entitlements.
#include "services/audit/service.h"

#include "libs/ledger/channel_files.h"
#include "rocksdb/db.h"
#include "services/eligibility/test_util.h"
#include "services/ledger/service.h"
#include "services/ledger/store.h"

namespace jaring::audit {
namespace {

using ::jaring::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
using population::kKk1;
using population::kWife1;

constexpr char kExportKey[] = "audit-test-export-key-0123456789";
constexpr char kSoloKk[] = "5271011004180002";  // one person, Mataram
constexpr char kBpntPeriod[] = "2026-11/12";

class AuditTest : public eligibility::EligibilityFixture {
 protected:
  void SetUp() override {
    EligibilityFixture::SetUp();
    StartLedger();
  }
  void TearDown() override {
    audit_.reset();
    ledger_.reset();
    EligibilityFixture::TearDown();
  }
  void StartLedger() {
    auto svc = ledger_service::LedgerServiceImpl::Create(
        log_.get(), {.store_dir = dir_.Sub("ledger"), .clock = &clock_, .scan_interval = absl::ZeroDuration()});
    ASSERT_OK(svc.status());
    ledger_ = std::move(svc).value();
    MakeAudit();
  }
  void MakeAudit() {
    auto a = AuditServiceImpl::Create({.population = service_.get(),
                                       .eligibility = elig_.get(),
                                       .ledger = ledger_.get(),
                                       .services = {"population", "eligibility", "ledger"},
                                       .export_key = kExportKey,
                                       .clock = &clock_});
    ASSERT_OK(a.status());
    audit_ = std::move(a).value();
  }

  // Family 1 (Mataram, 3 people), a one-person family of Mataram and
  // family 2 (Lombok Timur), all at decile 2: BPNT for each.
  void Seed() {
    ASSERT_GRPC_OK(Register(Family1()));
    ASSERT_GRPC_OK(Register(Family2()));
    v1::RegisterFamilyRequest solo = Family2();
    *solo.mutable_context() = Context("reg-solo", absl::Hours(24));
    solo.mutable_family()->set_kk_number(kSoloKk);
    solo.mutable_family()->set_region_code("52.71.01.1001");
    solo.mutable_family()->mutable_members(0)->set_nik("5271010211790004");
    solo.mutable_family()->set_head_nik("5271010211790004");
    ASSERT_GRPC_OK(Register(solo));
    for (const char* kk : {kKk1, population::kKk2, kSoloKk}) {
      v1::RecordWelfareAssessmentResponse r;
      ASSERT_GRPC_OK(stub_->RecordWelfareAssessment(Ctx().get(), Assess(kk, 2, absl::StrCat("assess-", kk)), &r));
    }
    Publish(Rules2026());
    Settle();
  }

  static google::protobuf::Timestamp At(absl::Time t) { return events::ToProtoTime(t); }

  v1::ListEligibleOnResponse EligibleOn(const AuditServiceImpl& a, absl::Time on, const std::string& region = "",
                                        bool check = false, bool identify = false) {
    v1::ListEligibleOnRequest r;
    r.set_program("BPNT");
    *r.mutable_on() = At(on);
    r.set_region_prefix(region);
    r.set_check_current_knowledge(check);
    r.set_identify(identify);
    auto resp = a.ListEligibleOn(r);
    EXPECT_TRUE(resp.ok()) << resp.status();
    return resp.ok() ? *resp : v1::ListEligibleOnResponse();
  }

  // A BPNT cycle of 52.71 at `Now()`, exported and every instruction paid.
  std::string PaidCycle() {
    v1::AllocateBudgetRequest b;
    b.set_request_id("budget");
    b.set_program("BPNT");
    b.set_region_prefix("52.71");
    b.set_period(kBpntPeriod);
    b.set_amount(100'000'000);
    EXPECT_OK(ledger_->AllocateBudget(b).status());
    v1::OpenCycleRequest o;
    o.set_program("BPNT");
    o.set_period(kBpntPeriod);
    o.set_region_prefix("52.71");
    *o.mutable_cutoff() = At(Now());
    o.set_channel(v1::PAYMENT_CHANNEL_POST);
    auto opened = ledger_->OpenCycle(o);
    EXPECT_TRUE(opened.ok()) << opened.status();
    if (!opened.ok()) return "";
    v1::ExportInstructionsRequest e;
    e.set_cycle_id(opened->cycle_id());
    auto exported = ledger_->ExportInstructions(e);
    EXPECT_TRUE(exported.ok()) << exported.status();
    std::vector<ledger::StatementLine> lines;
    for (const auto& l : ledger::ParseInstructions(exported->csv).lines) {
      ledger::StatementLine s;
      s.reference = l.instruction.reference;
      s.amount = l.instruction.amount;
      s.channel_reference = absl::StrCat("POS-", lines.size());
      s.settled_on = absl::CivilDay(2026, 11, 25);
      lines.push_back(s);
    }
    auto imported = ledger_->ImportStatement(opened->cycle_id(), ledger::WriteStatement(lines), "pos");
    EXPECT_TRUE(imported.ok()) << imported.status();
    return opened->cycle_id();
  }

  std::unique_ptr<ledger_service::LedgerServiceImpl> ledger_;
  std::unique_ptr<AuditServiceImpl> audit_;
};

TEST_F(AuditTest, EligibleOnADateWithTheDecisionOnRecordAndWhetherTodaysKnowledgeAgrees) {
  const absl::Time before = Now();
  Seed();
  EXPECT_EQ(EligibleOn(*audit_, before - absl::Hours(1)).total_families(), 0) << "nothing was on record then";
  const absl::Time decided = Now() + absl::Hours(1);

  v1::ListEligibleOnResponse all = EligibleOn(*audit_, decided);
  EXPECT_EQ(all.total_families(), 3);
  EXPECT_EQ(all.total_yearly_amount(), 3 * 2'400'000);
  ASSERT_EQ(all.rule_versions_size(), 1);
  EXPECT_EQ(all.rule_versions(0).version(), "2026.1");
  EXPECT_EQ(all.rule_versions(0).families(), 3);
  const v1::ListEligibleOnResponse mataram = EligibleOn(*audit_, decided, "52.71");
  ASSERT_EQ(mataram.total_families(), 2);
  for (const auto& f : mataram.families()) {
    EXPECT_TRUE(f.family().kk_number().empty()) << "full KK numbers only with identify";
    EXPECT_THAT(f.family().kk_masked(), HasSubstr("******"));
    EXPECT_EQ(f.family().family_ref().size(), 16u);
    EXPECT_EQ(f.rule_version(), "2026.1");
    EXPECT_EQ(f.decile(), 2);
    EXPECT_EQ(f.decision_version(), 1);
    EXPECT_FALSE(f.reasons().empty());
    EXPECT_FALSE(f.reasons(0).text_id().empty());
    EXPECT_FALSE(f.reasons(0).text_en().empty());
  }
  EXPECT_THAT(mataram.SerializeAsString(), Not(HasSubstr(kKk1)));
  const v1::ListEligibleOnResponse identified = EligibleOn(*audit_, decided, "52.71", false, true);
  EXPECT_EQ(identified.families(0).family().kk_number(), kSoloKk) << "in KK order";
  EXPECT_EQ(identified.families(1).family().kk_number(), kKk1);
  EXPECT_EQ(identified.families(1).family().family_ref(), mataram.families(1).family().family_ref());
  EXPECT_THAT(audit_->ListEligibleOn(v1::ListEligibleOnRequest()), StatusIs(absl::StatusCode::kInvalidArgument,
                                                                            HasSubstr("program")));

  // A week later a death is reported that happened before `decided`: the
  // one-person family stays on record for that date, but today's knowledge
  // disagrees; and from now on it is not listed.
  SetNow(Now() + absl::Hours(24 * 7));
  // The date of death is the event time: the day before `before` (WIB).
  const absl::CivilDay died = WibDay(before - absl::Hours(24));
  v1::RecordDeathRequest death = Death(kSoloKk, "5271010211790004",
                                       D(static_cast<int>(died.year()), died.month(), died.day()), "death-solo");
  SetTime(death.mutable_context(), before - absl::Hours(24), std::nullopt);
  v1::RecordDeathResponse dr;
  ASSERT_GRPC_OK(stub_->RecordDeath(Ctx().get(), death, &dr));
  Settle();
  const v1::ListEligibleOnResponse checked = EligibleOn(*audit_, decided, "52.71", true, true);
  ASSERT_EQ(checked.total_families(), 2);
  EXPECT_EQ(checked.disagreeing_now(), 1);
  for (const auto& f : checked.families()) {
    EXPECT_TRUE(f.checked());
    EXPECT_EQ(f.agrees_now(), f.family().kk_number() != kSoloKk) << f.family().kk_number();
    if (!f.agrees_now()) {
      EXPECT_FALSE(f.reasons_now().empty());
    }
  }
  EXPECT_EQ(EligibleOn(*audit_, Now()).total_families(), 2);
}

TEST_F(AuditTest, WhoEnteredAndLeftBetweenTwoDates) {
  Seed();
  const absl::Time first = Now() + absl::Hours(1);
  SetNow(Now() + absl::Hours(24 * 3));
  v1::RecordWelfareAssessmentRequest richer = Assess(kKk1, 8, "reassess-1");
  richer.mutable_assessment()->set_round("2026-Q4");
  v1::RecordWelfareAssessmentResponse r;
  ASSERT_GRPC_OK(stub_->RecordWelfareAssessment(Ctx().get(), richer, &r));
  Settle();
  const absl::Time second = Now() + absl::Hours(1);

  v1::ListEligibilityChangesRequest q;
  *q.mutable_from() = At(first);
  *q.mutable_to() = At(second);
  q.set_program("BPNT");
  q.set_identify(true);
  ASSERT_OK_AND_ASSIGN(v1::ListEligibilityChangesResponse changes, audit_->ListEligibilityChanges(q));
  ASSERT_EQ(changes.changes_size(), 1);
  EXPECT_EQ(changes.changes(0).family().kk_number(), kKk1);
  EXPECT_FALSE(changes.changes(0).entered());
  EXPECT_EQ(changes.changes(0).yearly_amount_before(), 2'400'000);
  EXPECT_EQ(changes.changes(0).yearly_amount_after(), 0);
  EXPECT_EQ(changes.changes(0).trigger(), v1::EVALUATION_TRIGGER_POPULATION_EVENT);
  ASSERT_EQ(changes.totals_size(), 1);
  EXPECT_EQ(changes.totals(0).left(), 1);
  EXPECT_EQ(changes.totals(0).entered(), 0);
  EXPECT_EQ(changes.totals(0).eligible_from(), 3);
  EXPECT_EQ(changes.totals(0).eligible_to(), 2);

  // The other way round it entered; from the start of time, everyone entered.
  std::swap(*q.mutable_from(), *q.mutable_to());
  EXPECT_THAT(audit_->ListEligibilityChanges(q), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("to")));
  *q.mutable_from() = At(first - absl::Hours(24 * 30));
  *q.mutable_to() = At(first);
  ASSERT_OK_AND_ASSIGN(changes, audit_->ListEligibilityChanges(q));
  EXPECT_EQ(changes.changes_size(), 3);
  for (const auto& c : changes.changes()) EXPECT_TRUE(c.entered());
}

TEST_F(AuditTest, PaymentsToFamiliesWithNoLivingMember) {
  Seed();
  const absl::Time cutoff = Now();
  const std::string cycle = PaidCycle();
  ASSERT_FALSE(cycle.empty());
  ASSERT_OK_AND_ASSIGN(v1::ListPaymentsWithoutLivingMemberResponse none,
                       audit_->ListPaymentsWithoutLivingMember(v1::ListPaymentsWithoutLivingMemberRequest()));
  EXPECT_EQ(none.payments_size(), 0);

  // The one person of the solo family died before the cutoff; it is
  // reported a week later.
  SetNow(Now() + absl::Hours(24 * 7));
  v1::RecordDeathRequest death = Death(kSoloKk, "5271010211790004", D(2026, 11, 20), "death-solo");
  SetTime(death.mutable_context(), cutoff - absl::Hours(24 * 3), std::nullopt);
  v1::RecordDeathResponse dr;
  ASSERT_GRPC_OK(stub_->RecordDeath(Ctx().get(), death, &dr));
  ASSERT_OK(ledger_->projection().CatchUp());
  v1::ListPaymentsWithoutLivingMemberRequest q;
  q.set_identify(true);
  ASSERT_OK_AND_ASSIGN(v1::ListPaymentsWithoutLivingMemberResponse found, audit_->ListPaymentsWithoutLivingMember(q));
  ASSERT_EQ(found.payments_size(), 1);
  EXPECT_EQ(found.payments(0).family().kk_number(), kSoloKk);
  EXPECT_EQ(found.payments(0).amount(), 400000);
  EXPECT_EQ(found.payments(0).cycle_id(), cycle);
  EXPECT_EQ(found.payments(0).settled_on(), "2026-11-25");
  EXPECT_TRUE(found.payments(0).recovery_claim_id().empty());
  EXPECT_EQ(found.unclaimed_amount(), 400000);

  // Once the ledger raised its claim, the audit names it.
  ASSERT_OK_AND_ASSIGN(int64_t raised, ledger_->RaiseRecoveryClaims());
  ASSERT_EQ(raised, 1);
  ASSERT_OK_AND_ASSIGN(found, audit_->ListPaymentsWithoutLivingMember(q));
  ASSERT_EQ(found.payments_size(), 1);
  EXPECT_FALSE(found.payments(0).recovery_claim_id().empty());
  EXPECT_EQ(found.total_amount(), 400000);
  EXPECT_EQ(found.unclaimed_amount(), 0);
  q.set_region_prefix("52.03");
  ASSERT_OK_AND_ASSIGN(found, audit_->ListPaymentsWithoutLivingMember(q));
  EXPECT_EQ(found.payments_size(), 0);
}

TEST_F(AuditTest, OnePersonInTwoFamiliesAndTwoRegions) {
  Seed();
  ASSERT_OK_AND_ASSIGN(v1::ListPeopleInTwoPlacesResponse none,
                       audit_->ListPeopleInTwoPlaces(v1::ListPeopleInTwoPlacesRequest()));
  EXPECT_EQ(none.people_size(), 0);
  // A registry extract lists Baiq Siti (family 1, Mataram) again, in a
  // family of Lombok Timur (an import takes it and flags it).
  v1::RegisterFamilyRequest again = Family2();
  *again.mutable_context() = Context("reg-again", absl::Hours(2));
  again.mutable_family()->set_kk_number("5203021004180009");
  *again.mutable_family()->add_members() =
      Person(kWife1, "Baiq Siti", v1::SEX_FEMALE, 1988, 7, 20, v1::RELATIONSHIP_SPOUSE);
  again.mutable_family()->mutable_members(0)->set_nik("5203020211790009");
  again.mutable_family()->set_head_nik("5203020211790009");
  v1::ImportRequest row;
  row.set_line(2);
  *row.mutable_family() = again;
  ASSERT_EQ(RunImport({row}).progress.imported(), 1);

  ASSERT_OK_AND_ASSIGN(v1::ListPeopleInTwoPlacesResponse found,
                       audit_->ListPeopleInTwoPlaces(v1::ListPeopleInTwoPlacesRequest()));
  ASSERT_EQ(found.people_size(), 1);
  EXPECT_EQ(found.in_two_families(), 1);
  EXPECT_EQ(found.in_two_regions(), 1);
  const v1::PersonInTwoPlaces& p = found.people(0);
  EXPECT_TRUE(p.two_regions());
  EXPECT_EQ(p.name_masked(), "B*** S***");
  EXPECT_EQ(p.nik_masked(), "527101******0002");
  EXPECT_EQ(p.person_ref().size(), 16u);
  ASSERT_EQ(p.families_size(), 2);
  EXPECT_THAT(found.SerializeAsString(), Not(HasSubstr(kWife1)));
  EXPECT_THAT(found.SerializeAsString(), Not(HasSubstr("Baiq Siti")));
  // Either region's office sees it.
  v1::ListPeopleInTwoPlacesRequest lotim;
  lotim.set_region_prefix("52.03");
  ASSERT_OK_AND_ASSIGN(found, audit_->ListPeopleInTwoPlaces(lotim));
  EXPECT_EQ(found.people_size(), 1);
  lotim.set_region_prefix("35.10");
  ASSERT_OK_AND_ASSIGN(found, audit_->ListPeopleInTwoPlaces(lotim));
  EXPECT_EQ(found.people_size(), 0);
}

TEST_F(AuditTest, CyclesWhoseTotalsDisagreeWithTheirEntitlements) {
  Seed();
  const std::string cycle = PaidCycle();
  v1::ListCycleDiscrepanciesRequest q;
  q.set_include_consistent(true);
  ASSERT_OK_AND_ASSIGN(v1::ListCycleDiscrepanciesResponse ok, audit_->ListCycleDiscrepancies(q));
  ASSERT_EQ(ok.cycles_size(), 1);
  EXPECT_EQ(ok.cycles_disagreeing(), 0);
  EXPECT_EQ(ok.cycles(0).entitlements(), 2);
  EXPECT_EQ(ok.cycles(0).entitled_amount(), 800000);
  EXPECT_EQ(ok.cycles(0).settled_amount(), 800000);
  EXPECT_TRUE(ok.cycles(0).problems().empty());

  // Someone edits the ledger's store: one entitlement's amount grows.
  audit_.reset();
  ledger_.reset();
  {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir_.Sub("ledger"), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    it->Seek("e/");
    ASSERT_TRUE(it->Valid() && it->key().starts_with("e/"));
    v1::Entitlement e;
    ASSERT_TRUE(e.ParseFromString(it->value().ToString()));
    e.mutable_created()->set_amount(4'000'000);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), it->key(), e.SerializeAsString()).ok());
  }
  StartLedger();
  q.set_include_consistent(false);
  ASSERT_OK_AND_ASSIGN(v1::ListCycleDiscrepanciesResponse bad, audit_->ListCycleDiscrepancies(q));
  EXPECT_EQ(bad.cycles_checked(), 1);
  EXPECT_EQ(bad.cycles_disagreeing(), 1);
  ASSERT_EQ(bad.cycles_size(), 1);
  EXPECT_EQ(bad.cycles(0).cycle_id(), cycle);
  EXPECT_EQ(bad.cycles(0).entitled_amount(), 4'400'000);
  EXPECT_THAT(bad.cycles(0).problems(0), HasSubstr("its entitlements add up to Rp4400000"));
}

// jaring replay: every store rebuilt as of a past moment, opened frozen,
// answers as the live system did then, and refuses commands.
TEST_F(AuditTest, AReplayAsOfAPastMomentAnswersAsTheLiveSystemDidThen) {
  Seed();
  PaidCycle();
  const absl::Time then = Now() + absl::Minutes(30);
  SetNow(then);
  const v1::ListEligibleOnResponse eligible_then = EligibleOn(*audit_, then, "", false, true);
  ASSERT_OK_AND_ASSIGN(v1::ListAccountsResponse accounts_then, ledger_->ListAccounts(v1::ListAccountsRequest()));
  ASSERT_EQ(eligible_then.total_families(), 3);

  // Later: a death reported, a family no longer poor, decisions change.
  SetNow(then + absl::Hours(24 * 5));
  v1::RecordDeathResponse dr;
  ASSERT_GRPC_OK(stub_->RecordDeath(Ctx().get(), Death(kSoloKk, "5271010211790004", D(2026, 11, 27), "d"), &dr));
  v1::RecordWelfareAssessmentResponse ar;
  ASSERT_GRPC_OK(stub_->RecordWelfareAssessment(Ctx().get(), Assess(kKk1, 9, "richer"), &ar));
  Settle();
  ASSERT_OK(ledger_->projection().CatchUp());
  ASSERT_OK(ledger_->RaiseRecoveryClaims().status());
  ASSERT_NE(EligibleOn(*audit_, Now(), "", false, true).total_families(), 3);

  // The replay, without touching the live stores.
  projection::Bound bound;
  bound.recorded_at_ms = absl::ToUnixMillis(then);
  ASSERT_OK(population::PopulationServiceImpl::BuildAsOf(log_.get(), dir_.Sub("replay/population"), bound));
  ASSERT_OK(eligibility::EligibilityServiceImpl::BuildAsOf(log_.get(), dir_.Sub("replay/eligibility"), bound));
  ASSERT_OK(ledger_service::LedgerServiceImpl::BuildAsOf(log_.get(), dir_.Sub("replay/ledger"), bound));
  ManualClock frozen_clock(then);
  const projection::Mode snap = projection::Mode::kSnapshot;
  ASSERT_OK_AND_ASSIGN(auto pop, population::PopulationServiceImpl::Create(
                                     nullptr, {.store_dir = dir_.Sub("replay/population"), .clock = &frozen_clock,
                                               .mode = snap}));
  ASSERT_OK_AND_ASSIGN(auto elig, eligibility::EligibilityServiceImpl::Create(
                                      nullptr, {.store_dir = dir_.Sub("replay/eligibility"), .clock = &frozen_clock,
                                                .mode = snap}));
  ASSERT_OK_AND_ASSIGN(auto led, ledger_service::LedgerServiceImpl::Create(
                                     nullptr, {.store_dir = dir_.Sub("replay/ledger"), .clock = &frozen_clock,
                                               .mode = snap}));
  ASSERT_OK_AND_ASSIGN(auto replay, AuditServiceImpl::Create({.population = pop.get(),
                                                              .eligibility = elig.get(),
                                                              .ledger = led.get(),
                                                              .export_key = kExportKey,
                                                              .clock = &frozen_clock,
                                                              .kind = v1::AUDIT_SOURCE_KIND_REPLAY}));
  const v1::ListEligibleOnResponse replayed = EligibleOn(*replay, then, "", false, true);
  EXPECT_EQ(replayed.SerializeAsString(), eligible_then.SerializeAsString());
  ASSERT_OK_AND_ASSIGN(v1::ListAccountsResponse accounts_replayed, led->ListAccounts(v1::ListAccountsRequest()));
  EXPECT_EQ(accounts_replayed.SerializeAsString(), accounts_then.SerializeAsString());
  ASSERT_OK_AND_ASSIGN(v1::ListPaymentsWithoutLivingMemberResponse dead,
                       replay->ListPaymentsWithoutLivingMember(v1::ListPaymentsWithoutLivingMemberRequest()));
  EXPECT_EQ(dead.payments_size(), 0) << "the death was not known then";
  ASSERT_OK_AND_ASSIGN(v1::GetAuditSourceResponse source, replay->GetAuditSource());
  EXPECT_EQ(source.kind(), v1::AUDIT_SOURCE_KIND_REPLAY);
  EXPECT_EQ(events::ToMillis(source.as_of()), absl::ToUnixMillis(then));

  // A replay only reads.
  EXPECT_THAT(pop->RecordBirth(Birth(kKk1, population::kNewborn, kWife1, "birth")),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("read-only")));
  v1::PublishRuleSetRequest publish;
  *publish.mutable_rule_set() = Rules2026();
  EXPECT_THAT(elig->PublishRuleSet(publish), StatusIs(absl::StatusCode::kFailedPrecondition));
  v1::AllocateBudgetRequest budget;
  budget.set_request_id("more");
  budget.set_program("BPNT");
  budget.set_region_prefix("52.71");
  budget.set_period(kBpntPeriod);
  budget.set_amount(1);
  EXPECT_THAT(led->AllocateBudget(budget), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(led->VerifyLedger(v1::VerifyLedgerRequest()), StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace jaring::audit
