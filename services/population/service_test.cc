// PopulationService over real gRPC on loopback, on the embedded log: every
// command's happy path and each rejection rule (exact status code, nothing
// appended), idempotent retries, both dates, overlap findings and import.
#include "services/population/service.h"

#include <grpcpp/grpcpp.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/events/envelope.h"
#include "libs/events/topics.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/temp_dir.h"
#include "services/population/test_util.h"

namespace jaring::population {
namespace {

using ::testing::HasSubstr;

class PopulationServiceTest : public PopulationFixture {};

TEST_F(PopulationServiceTest, RegisterFamilyThenQueries) {
  auto req = Family1();
  v1::RegisterFamilyResponse resp;
  ASSERT_GRPC_OK(stub_->RegisterFamily(Ctx().get(), req, &resp));
  EXPECT_EQ(resp.result().family_version(), 1);
  ASSERT_EQ(resp.result().events_size(), 1);
  EXPECT_FALSE(resp.result().deduplicated());

  v1::GetFamilyRequest g;
  g.set_kk_number(kKk1);
  v1::GetFamilyResponse f;
  ASSERT_GRPC_OK(stub_->GetFamily(Ctx().get(), g, &f));
  EXPECT_EQ(f.family().head_nik(), kHead1);
  EXPECT_EQ(f.family().members_size(), 3);
  EXPECT_EQ(f.family().region_code(), kRegion1);

  v1::GetMemberRequest m;
  m.set_nik(kChild1);
  v1::GetMemberResponse mr;
  ASSERT_GRPC_OK(stub_->GetMember(Ctx().get(), m, &mr));
  EXPECT_EQ(mr.kk_number(), kKk1);
  EXPECT_TRUE(mr.member().alive());

  v1::ListFamiliesRequest l;
  l.set_region_prefix("52.71");
  v1::ListFamiliesResponse lr;
  ASSERT_GRPC_OK(stub_->ListFamilies(Ctx().get(), l, &lr));
  ASSERT_EQ(lr.families_size(), 1);
  EXPECT_EQ(lr.total_families(), 0) << "counted only when asked";
  ASSERT_GRPC_OK(Register(Family2()));
  l.set_region_prefix("52");
  l.set_page_size(1);
  l.set_count_total(true);
  ASSERT_GRPC_OK(stub_->ListFamilies(Ctx().get(), l, &lr));
  EXPECT_EQ(lr.families_size(), 1);
  EXPECT_EQ(lr.total_families(), 2) << "every family under the prefix, not the page";
  l.set_region_prefix("35.10");
  ASSERT_GRPC_OK(stub_->ListFamilies(Ctx().get(), l, &lr));
  EXPECT_EQ(lr.families_size(), 0);

  v1::GetFamilyHistoryRequest h;
  h.set_kk_number(kKk1);
  v1::GetFamilyHistoryResponse hr;
  ASSERT_GRPC_OK(stub_->GetFamilyHistory(Ctx().get(), h, &hr));
  ASSERT_EQ(hr.entries_size(), 1);
  EXPECT_TRUE(hr.entries(0).event().has_family_registered());
  EXPECT_EQ(hr.entries(0).position().offset(), resp.result().events(0).offset());
}

TEST_F(PopulationServiceTest, RegisterFamilyRejectionsAppendNothing) {
  ASSERT_GRPC_OK(Register(Family1()));
  struct Case {
    std::string name;
    std::function<void(v1::RegisterFamilyRequest&)> mutate;
    grpc::StatusCode code;
    std::string message;
  };
  std::vector<Case> cases = {
      {"short kk", [](auto& r) { r.mutable_family()->set_kk_number("527101150320001"); },
       grpc::INVALID_ARGUMENT, "family.kk_number: must be 16 digits"},
      {"region mismatch", [](auto& r) { r.mutable_family()->set_region_code("35.10.01.2001"); },
       grpc::INVALID_ARGUMENT, "family.kk_number"},
      {"bad region", [](auto& r) { r.mutable_family()->set_region_code("52.71.01.3001"); },
       grpc::INVALID_ARGUMENT, "family.region_code"},
      {"nik birth date", [](auto& r) { r.mutable_family()->mutable_members(2)->set_nik("5271013213150001"); },
       grpc::INVALID_ARGUMENT, "family.members[2].nik"},
      {"two heads", [](auto& r) { r.mutable_family()->mutable_members(1)->set_relationship(v1::RELATIONSHIP_HEAD); },
       grpc::INVALID_ARGUMENT, "family.head_nik"},
      {"no members", [](auto& r) { r.mutable_family()->clear_members(); },
       grpc::INVALID_ARGUMENT, "family.members"},
      {"no request id", [](auto& r) { r.mutable_context()->clear_request_id(); },
       grpc::INVALID_ARGUMENT, "context.request_id"},
      {"future event", [this](auto& r) { SetTime(r.mutable_context(), Now() + absl::Hours(48), std::nullopt); },
       grpc::INVALID_ARGUMENT, "context.occurred_at"},
      {"recorded before occurred",
       [this](auto& r) { SetTime(r.mutable_context(), Now() - absl::Hours(1), Now() - absl::Hours(2)); },
       grpc::INVALID_ARGUMENT, "context.recorded_at"},
      {"already registered", [](auto& r) { r.mutable_context()->set_request_id("another-request"); },
       grpc::FAILED_PRECONDITION, "is already registered"},
      {"nik in another family",
       [](auto& r) {
         r.mutable_family()->set_kk_number(kKk2);
         r.mutable_family()->set_region_code(kRegion2);
         r.mutable_context()->set_request_id("r-nik");
       },
       grpc::FAILED_PRECONDITION, "already listed alive in family"},
  };
  for (const Case& c : cases) {
    const int64_t before = TotalEvents();
    auto req = Family1();
    c.mutate(req);
    v1::RegisterFamilyResponse resp;
    grpc::Status st = stub_->RegisterFamily(Ctx().get(), req, &resp);
    EXPECT_EQ(st.error_code(), c.code) << c.name << ": " << st.error_message();
    EXPECT_THAT(st.error_message(), HasSubstr(c.message)) << c.name;
    EXPECT_EQ(TotalEvents(), before) << c.name << " appended something";
  }
}

TEST_F(PopulationServiceTest, RetryWithTheSameRequestIdAppendsNothing) {
  auto req = Family1();
  v1::RegisterFamilyResponse first, second;
  ASSERT_GRPC_OK(stub_->RegisterFamily(Ctx().get(), req, &first));
  const int64_t before = TotalEvents();
  ASSERT_GRPC_OK(stub_->RegisterFamily(Ctx().get(), req, &second));
  EXPECT_TRUE(second.result().deduplicated());
  EXPECT_EQ(second.result().events(0).event_id(), first.result().events(0).event_id());
  EXPECT_EQ(second.result().family_version(), 1);
  EXPECT_EQ(TotalEvents(), before);
}

TEST_F(PopulationServiceTest, StaleExpectedVersionIsAborted) {
  ASSERT_GRPC_OK(Register(Family1()));
  v1::RecordWelfareAssessmentRequest r = Assess(kKk1, 3, "a1");
  r.mutable_context()->set_expected_version(7);
  v1::RecordWelfareAssessmentResponse resp;
  grpc::Status st = stub_->RecordWelfareAssessment(Ctx().get(), r, &resp);
  EXPECT_EQ(st.error_code(), grpc::ABORTED) << st.error_message();
  EXPECT_THAT(st.error_message(), HasSubstr("version 1"));
  r.mutable_context()->set_expected_version(1);
  ASSERT_GRPC_OK(stub_->RecordWelfareAssessment(Ctx().get(), r, &resp));
  EXPECT_EQ(resp.result().family_version(), 2);
}

TEST_F(PopulationServiceTest, BirthRules) {
  ASSERT_GRPC_OK(Register(Family1()));
  v1::RecordBirthResponse resp;
  auto ok = Birth(kKk1, kNewborn, kWife1, "b1");
  ASSERT_GRPC_OK(stub_->RecordBirth(Ctx().get(), ok, &resp));
  EXPECT_EQ(resp.result().family_version(), 2);
  EXPECT_REJECTED(stub_->RecordBirth(Ctx().get(), Birth(kKk1, kNewborn, kWife1, "b2"), &resp),
                  grpc::FAILED_PRECONDITION, "birth.child.nik");
  auto no_mother = Birth(kKk1, kNewborn2, "", "b3");
  EXPECT_REJECTED(stub_->RecordBirth(Ctx().get(), no_mother, &resp), grpc::INVALID_ARGUMENT, "birth.mother_nik");
  no_mother.mutable_birth()->set_no_mother_reason("ibu meninggal saat melahirkan");
  ASSERT_GRPC_OK(stub_->RecordBirth(Ctx().get(), no_mother, &resp));
  EXPECT_REJECTED(stub_->RecordBirth(Ctx().get(), Birth(kKk1, kNewborn3, kHead1, "b4"), &resp),
                 grpc::FAILED_PRECONDITION, "not a woman");
  EXPECT_REJECTED(stub_->RecordBirth(Ctx().get(), Birth(kKk1, kNewborn3, kOutsider, "b5"), &resp),
                 grpc::FAILED_PRECONDITION, "not a living member");
  EXPECT_REJECTED(stub_->RecordBirth(Ctx().get(), Birth(kKk2, kNewborn3, kWife1, "b6"), &resp),
                 grpc::FAILED_PRECONDITION, "is not registered");
}

TEST_F(PopulationServiceTest, DeathRulesAndNoEventsForTheDead) {
  ASSERT_GRPC_OK(Register(Family1()));
  v1::RecordDeathResponse resp;
  ASSERT_GRPC_OK(stub_->RecordDeath(Ctx().get(), Death(kKk1, kChild1, D(2026, 3, 1), "d1"), &resp));
  EXPECT_REJECTED(stub_->RecordDeath(Ctx().get(), Death(kKk1, kChild1, D(2026, 3, 1), "d2"), &resp),
                 grpc::FAILED_PRECONDITION, "already recorded");
  EXPECT_REJECTED(stub_->RecordDeath(Ctx().get(), Death(kKk1, kWife1, D(1970, 1, 1), "d3"), &resp),
                 grpc::INVALID_ARGUMENT, "before the member's birth date");
  EXPECT_REJECTED(stub_->RecordDeath(Ctx().get(), Death(kKk1, kWife1, D(2027, 1, 1), "d4"), &resp),
                 grpc::INVALID_ARGUMENT, "death.date_of_death");
  v1::ChangeMemberAttributesResponse ar;
  EXPECT_REJECTED(stub_->ChangeMemberAttributes(Ctx().get(), Attr(kKk1, kChild1, "x1"), &ar),
                 grpc::FAILED_PRECONDITION, "recorded as dead");
  v1::ChangeHeadResponse hr;
  EXPECT_REJECTED(stub_->ChangeHead(Ctx().get(), Head(kKk1, kChild1, "h1"), &hr), grpc::FAILED_PRECONDITION,
                 "not a living member");
}

TEST_F(PopulationServiceTest, MoveBetweenRegionsKeepsBothFamiliesConsistent) {
  ASSERT_GRPC_OK(Register(Family1()));
  ASSERT_GRPC_OK(Register(Family2()));
  v1::MoveMemberResponse resp;
  ASSERT_GRPC_OK(stub_->MoveMember(Ctx().get(), Move(kKk1, kChild1, kKk2, "m1"), &resp));
  ASSERT_EQ(resp.result().events_size(), 2);
  v1::Family from = GetFamilyOrDie(kKk1), to = GetFamilyOrDie(kKk2);
  EXPECT_EQ(from.members_size(), 2);
  EXPECT_EQ(to.members_size(), 2);
  v1::GetMemberResponse mr;
  v1::GetMemberRequest m;
  m.set_nik(kChild1);
  ASSERT_GRPC_OK(stub_->GetMember(Ctx().get(), m, &mr));
  EXPECT_EQ(mr.kk_number(), kKk2);
  // Both halves carry one correlation id.
  auto h1 = HistoryOf(kKk1), h2 = HistoryOf(kKk2);
  EXPECT_EQ(h1.back().event().correlation_id(), h2.back().event().correlation_id());
  EXPECT_TRUE(h1.back().event().has_member_moved_out());
  EXPECT_TRUE(h2.back().event().has_member_moved_in());
  EXPECT_TRUE(ListFindings("", true).empty());

  EXPECT_REJECTED(stub_->MoveMember(Ctx().get(), Move(kKk1, kHead1, kKk2, "m2"), &resp), grpc::FAILED_PRECONDITION,
                 "change the head first");
  EXPECT_REJECTED(stub_->MoveMember(Ctx().get(), Move(kKk1, kWife1, kKk1, "m3"), &resp), grpc::INVALID_ARGUMENT,
                 "same family");
  EXPECT_REJECTED(stub_->MoveMember(Ctx().get(), Move(kKk1, kChild1, kKk2, "m4"), &resp), grpc::FAILED_PRECONDITION,
                 "not a member of the family it moves from");
}

TEST_F(PopulationServiceTest, SplitCreatesANewCard) {
  ASSERT_GRPC_OK(Register(Family1()));
  v1::SplitFamilyResponse resp;
  ASSERT_GRPC_OK(stub_->SplitFamily(Ctx().get(), Split(kKk1, kKk3, {kChild1}, kChild1, "s1"), &resp));
  v1::Family old = GetFamilyOrDie(kKk1), fresh = GetFamilyOrDie(kKk3);
  EXPECT_EQ(old.members_size(), 2);
  EXPECT_EQ(fresh.split_from_kk_number(), kKk1);
  EXPECT_EQ(fresh.head_nik(), kChild1);
  EXPECT_REJECTED(stub_->SplitFamily(Ctx().get(), Split(kKk1, kKk3, {kWife1}, kWife1, "s2"), &resp),
                 grpc::FAILED_PRECONDITION, "already registered");
  EXPECT_REJECTED(stub_->SplitFamily(Ctx().get(), Split(kKk1, kKk4, {kHead1}, kHead1, "s3"), &resp),
                 grpc::FAILED_PRECONDITION, "change the head first");
  EXPECT_REJECTED(stub_->SplitFamily(Ctx().get(), Split(kKk1, kKk4, {kWife1}, kHead1, "s4"), &resp),
                 grpc::INVALID_ARGUMENT, "new_head_nik");
}

TEST_F(PopulationServiceTest, AssessmentsAttributesAndHeadChanges) {
  ASSERT_GRPC_OK(Register(Family1()));
  v1::RecordWelfareAssessmentResponse wr;
  ASSERT_GRPC_OK(stub_->RecordWelfareAssessment(Ctx().get(), Assess(kKk1, 1, "w1"), &wr));
  ASSERT_GRPC_OK(stub_->RecordWelfareAssessment(Ctx().get(), Assess(kKk1, 5, "w2"), &wr));
  EXPECT_EQ(GetFamilyOrDie(kKk1).latest_assessment().decile(), 5);
  EXPECT_REJECTED(stub_->RecordWelfareAssessment(Ctx().get(), Assess(kKk1, 11, "w3"), &wr), grpc::INVALID_ARGUMENT,
                 "assessment.decile");
  v1::ChangeMemberAttributesResponse ar;
  auto preg = Attr(kKk1, kWife1, "p1");
  preg.mutable_change()->mutable_attributes()->set_pregnant(true);
  preg.mutable_change()->mutable_attributes()->set_pregnancy_order(2);
  ASSERT_GRPC_OK(stub_->ChangeMemberAttributes(Ctx().get(), preg, &ar));
  auto man = Attr(kKk1, kHead1, "p2");
  man.mutable_change()->mutable_attributes()->set_pregnant(true);
  EXPECT_REJECTED(stub_->ChangeMemberAttributes(Ctx().get(), man, &ar), grpc::INVALID_ARGUMENT, "pregnant");
  auto nothing = Attr(kKk1, kWife1, "p3");
  nothing.mutable_change()->clear_attributes();
  EXPECT_REJECTED(stub_->ChangeMemberAttributes(Ctx().get(), nothing, &ar), grpc::INVALID_ARGUMENT, "sets nothing");
  v1::ChangeHeadResponse hr;
  ASSERT_GRPC_OK(stub_->ChangeHead(Ctx().get(), Head(kKk1, kWife1, "h1"), &hr));
  EXPECT_EQ(GetFamilyOrDie(kKk1).head_nik(), kWife1);
  EXPECT_REJECTED(stub_->ChangeHead(Ctx().get(), Head(kKk1, kWife1, "h2"), &hr), grpc::FAILED_PRECONDITION,
                 "already the head");
}

TEST_F(PopulationServiceTest, CorrectionsRetractAndReplace) {
  ASSERT_GRPC_OK(Register(Family1()));
  v1::RecordDeathResponse dr;
  ASSERT_GRPC_OK(stub_->RecordDeath(Ctx().get(), Death(kKk1, kChild1, D(2026, 3, 1), "d1"), &dr));
  v1::RecordWelfareAssessmentResponse wr;
  ASSERT_GRPC_OK(stub_->RecordWelfareAssessment(Ctx().get(), Assess(kKk1, 6, "w1"), &wr));
  v1::CorrectRecordResponse cr;
  auto retract = Correct(kKk1, dr.result().events(0).event_id(), "c1");
  retract.mutable_correction()->mutable_retraction();
  ASSERT_GRPC_OK(stub_->CorrectRecord(Ctx().get(), retract, &cr));
  EXPECT_TRUE(FindMember(GetFamilyOrDie(kKk1), kChild1)->alive());
  auto fix = Correct(kKk1, wr.result().events(0).event_id(), "c2");
  fix.mutable_correction()->mutable_welfare_assessment()->set_round("2026-Q1");
  fix.mutable_correction()->mutable_welfare_assessment()->set_decile(2);
  ASSERT_GRPC_OK(stub_->CorrectRecord(Ctx().get(), fix, &cr));
  EXPECT_EQ(GetFamilyOrDie(kKk1).latest_assessment().decile(), 2);
  auto unknown = Correct(kKk1, "no-such-event", "c3");
  unknown.mutable_correction()->mutable_retraction();
  EXPECT_REJECTED(stub_->CorrectRecord(Ctx().get(), unknown, &cr), grpc::FAILED_PRECONDITION, "not an event");
  auto no_reason = Correct(kKk1, wr.result().events(0).event_id(), "c4");
  no_reason.mutable_correction()->clear_reason();
  no_reason.mutable_correction()->mutable_retraction();
  EXPECT_REJECTED(stub_->CorrectRecord(Ctx().get(), no_reason, &cr), grpc::INVALID_ARGUMENT, "correction.reason");
  auto wrong_kind = Correct(kKk1, wr.result().events(0).event_id(), "c5");
  wrong_kind.mutable_correction()->mutable_retraction();
  EXPECT_REJECTED(stub_->CorrectRecord(Ctx().get(), wrong_kind, &cr), grpc::FAILED_PRECONDITION, "retracted");
}

TEST_F(PopulationServiceTest, LateDeathByReportTimeAndByEventTime) {
  SetNow(Day(2026, 2, 1));
  ASSERT_GRPC_OK(Register(Family1()));
  SetNow(Day(2026, 6, 1));
  v1::RecordDeathRequest d = Death(kKk1, kWife1, D(2026, 3, 1), "late");
  SetTime(d.mutable_context(), Day(2026, 3, 1), Day(2026, 6, 1));  // reported three months late
  v1::RecordDeathResponse resp;
  ASSERT_GRPC_OK(stub_->RecordDeath(Ctx().get(), d, &resp));
  auto alive_at = [&](std::optional<absl::Time> known, std::optional<absl::Time> as_of) {
    v1::GetFamilyRequest g;
    g.set_kk_number(kKk1);
    if (known) *g.mutable_as_known_at() = events::ToProtoTime(*known);
    if (as_of) *g.mutable_as_of() = events::ToProtoTime(*as_of);
    v1::GetFamilyResponse f;
    grpc::Status st = stub_->GetFamily(Ctx().get(), g, &f);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return FindMember(f.family(), kWife1)->alive();
  };
  EXPECT_TRUE(alive_at(Day(2026, 4, 1), std::nullopt));   // as known on 1 April: alive
  EXPECT_FALSE(alive_at(std::nullopt, Day(2026, 4, 1)));  // as it was on 1 April: dead
  EXPECT_TRUE(alive_at(std::nullopt, Day(2026, 2, 15)));  // before the death
  EXPECT_FALSE(alive_at(std::nullopt, std::nullopt));
  v1::GetFamilyHistoryRequest h;
  h.set_kk_number(kKk1);
  *h.mutable_as_known_at() = events::ToProtoTime(Day(2026, 4, 1));
  v1::GetFamilyHistoryResponse hr;
  ASSERT_GRPC_OK(stub_->GetFamilyHistory(Ctx().get(), h, &hr));
  EXPECT_EQ(hr.entries_size(), 1);
  v1::GetFamilyRequest before;
  before.set_kk_number(kKk1);
  *before.mutable_as_known_at() = events::ToProtoTime(Day(2026, 1, 1));
  v1::GetFamilyResponse f;
  EXPECT_EQ(stub_->GetFamily(Ctx().get(), before, &f).error_code(), grpc::NOT_FOUND);
}

TEST_F(PopulationServiceTest, DeadHeadFindingIsRaisedAndResolved) {
  ASSERT_GRPC_OK(Register(Family1()));
  v1::RecordDeathResponse dr;
  ASSERT_GRPC_OK(stub_->RecordDeath(Ctx().get(), Death(kKk1, kHead1, D(2026, 3, 1), "d1"), &dr));
  auto open = ListFindings("52.71", false);
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].kind(), v1::OVERLAP_KIND_DEAD_HEAD);
  EXPECT_EQ(open[0].evidence(0).event_id(), dr.result().events(0).event_id());
  EXPECT_THAT(open[0].masked_nik(), HasSubstr("**********"));
  v1::ChangeHeadResponse hr;
  ASSERT_GRPC_OK(stub_->ChangeHead(Ctx().get(), Head(kKk1, kWife1, "h1"), &hr));
  EXPECT_TRUE(ListFindings("52.71", false).empty());
  auto all = ListFindings("52.71", true);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_TRUE(all[0].resolved());
}

TEST_F(PopulationServiceTest, ImportReportsBadRowsAndIsIdempotent) {
  std::vector<v1::ImportRequest> rows;
  auto add = [&](int64_t line, v1::RegisterFamilyRequest r) {
    v1::ImportRequest row;
    row.set_line(line);
    *row.mutable_family() = std::move(r);
    rows.push_back(std::move(row));
  };
  add(2, Family1());
  auto bad = Family2();
  bad.mutable_family()->set_kk_number("12345");
  add(5, bad);
  add(7, Family2());
  // The same family registered again in another region (a planted
  // duplicate): accepted from a registry extract, and flagged.
  auto dup = Family1();
  dup.mutable_family()->set_kk_number(kKkBanyuwangi);
  dup.mutable_family()->set_region_code(kRegionBanyuwangi);
  dup.mutable_context()->set_request_id("import-dup");
  add(10, dup);
  auto first = RunImport(rows);
  EXPECT_EQ(first.progress.imported(), 3);
  EXPECT_EQ(first.progress.rejected(), 1);
  ASSERT_EQ(first.errors.size(), 1u);
  EXPECT_EQ(first.errors[0].line(), 5);
  EXPECT_EQ(first.errors[0].code(), "INVALID_ARGUMENT");
  EXPECT_THAT(first.errors[0].message(), HasSubstr("family.kk_number"));
  auto findings = ListFindings("", false);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].kind(), v1::OVERLAP_KIND_FAMILY_IN_TWO_REGIONS);
  EXPECT_THAT(findings[0].kk_numbers(), ::testing::UnorderedElementsAre(kKk1, kKkBanyuwangi));
  EXPECT_EQ(ListFindings("35.10", false).size(), 1u);  // visible from both regions
  EXPECT_EQ(ListFindings("52.71", false).size(), 1u);

  const int64_t before = TotalEvents();
  auto second = RunImport(rows);
  EXPECT_EQ(second.progress.imported(), 0);
  EXPECT_EQ(second.progress.already_imported(), 3);
  EXPECT_EQ(second.progress.rejected(), 1);
  EXPECT_EQ(TotalEvents(), before);
}

TEST_F(PopulationServiceTest, NikInTwoFamiliesFromAnImportIsFlagged) {
  ASSERT_GRPC_OK(Register(Family1()));
  auto other = Family2();
  *other.mutable_family()->add_members() = Family1().family().members(2);  // the child, listed again
  other.mutable_family()->mutable_members(1)->set_relationship(v1::RELATIONSHIP_CHILD);
  v1::ImportRequest row;
  row.set_line(2);
  *row.mutable_family() = other;
  auto result = RunImport({row});
  EXPECT_EQ(result.progress.imported(), 1);
  auto findings = ListFindings("", false);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].kind(), v1::OVERLAP_KIND_NIK_IN_TWO_FAMILIES);
  // Moving the person out of one family ends the overlap.
  v1::RecordDeathResponse dr;
  ASSERT_GRPC_OK(stub_->RecordDeath(Ctx().get(), Death(kKk2, kChild1, D(2026, 5, 1), "d1"), &dr));
  EXPECT_TRUE(ListFindings("", false).empty());
}

TEST_F(PopulationServiceTest, LiveProjectionEqualsRebuildAfterRestart) {
  ASSERT_GRPC_OK(Register(Family1()));
  ASSERT_GRPC_OK(Register(Family2()));
  v1::MoveMemberResponse mr;
  ASSERT_GRPC_OK(stub_->MoveMember(Ctx().get(), Move(kKk1, kChild1, kKk2, "m1"), &mr));
  Restart();  // the store survives; nothing is applied twice
  v1::RecordWelfareAssessmentResponse wr;
  ASSERT_GRPC_OK(stub_->RecordWelfareAssessment(Ctx().get(), Assess(kKk2, 4, "w1"), &wr));
  EXPECT_EQ(GetFamilyOrDie(kKk2).version(), 3);
  ExpectStoreEqualsRebuild();
}

}  // namespace
}  // namespace jaring::population
