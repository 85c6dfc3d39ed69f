// Bad input on every command is refused with INVALID_ARGUMENT (or the
// documented code) naming the field, and nothing is appended: unknown enum
// values, text that is not text, times out of bounds, and a payload date
// that disagrees with occurred_at (the payload's date is the event time).
#include "services/population/test_util.h"

namespace jaring::population {
namespace {

using BadInputTest = PopulationFixture;
using ::testing::HasSubstr;

TEST_F(BadInputTest, UnknownEnumValuesNeverReachTheLog) {
  ASSERT_GRPC_OK(Register(Family1()));
  ASSERT_GRPC_OK(Register(Family2()));
  v1::MoveMemberRequest move = Move(kKk1, kChild1, kKk2, "move-1");
  move.set_relationship(static_cast<v1::Relationship>(99));
  v1::MoveMemberResponse mr;
  EXPECT_REJECTED(stub_->MoveMember(Ctx().get(), move, &mr), grpc::StatusCode::INVALID_ARGUMENT,
                  "relationship: 99 is not a known value");

  v1::ChangeMemberAttributesRequest attr = Attr(kKk1, kChild1, "attr-1");
  attr.mutable_change()->mutable_attributes()->set_disability(static_cast<v1::Disability>(99));
  v1::ChangeMemberAttributesResponse ar;
  EXPECT_REJECTED(stub_->ChangeMemberAttributes(Ctx().get(), attr, &ar), grpc::StatusCode::INVALID_ARGUMENT,
                  "change.attributes.disability: 99 is not a known value");
  attr = Attr(kKk1, kChild1, "attr-2");
  attr.mutable_change()->mutable_attributes()->set_school_level(static_cast<v1::SchoolLevel>(-5));
  EXPECT_REJECTED(stub_->ChangeMemberAttributes(Ctx().get(), attr, &ar), grpc::StatusCode::INVALID_ARGUMENT,
                  "change.attributes.school_level: -5 is not a known value");

  v1::RecordWelfareAssessmentRequest assess = Assess(kKk1, 3, "assess-77");
  assess.mutable_context()->set_source(static_cast<v1::Source>(77));
  v1::RecordWelfareAssessmentResponse wr;
  EXPECT_REJECTED(stub_->RecordWelfareAssessment(Ctx().get(), assess, &wr), grpc::StatusCode::INVALID_ARGUMENT,
                  "context.source: 77 is not a known value");
}

TEST_F(BadInputTest, NamesAndFreeTextAreText) {
  const std::vector<std::pair<std::string, std::string>> names = {
      {std::string("Lalu\0Ahmad", 10), "control character U+0000"},
      {std::string(1, '\0'), "control character U+0000"},
      {"Lalu\x1b[2JAhmad", "control character U+001B"},
      {"Lalu\aAhmad", "control character U+0007"},
      {"\xE2\x80\x8B\xE2\x80\x8B", "has only invisible characters"},
  };
  for (const auto& [name, why] : names) {
    v1::RegisterFamilyRequest r = Family1();
    r.mutable_family()->mutable_members(0)->set_full_name(name);
    v1::RegisterFamilyResponse resp;
    EXPECT_REJECTED(stub_->RegisterFamily(Ctx().get(), r, &resp), grpc::StatusCode::INVALID_ARGUMENT,
                    "family.members[0].full_name: " + (why[0] == 'c' ? "contains a " + why : why));
  }
  // Invalid UTF-8 is named too (called in process: the wire would not
  // carry it as a string).
  v1::RegisterFamilyRequest bad = Family1();
  bad.mutable_family()->mutable_members(0)->set_full_name("Lalu \xC3");
  EXPECT_THAT(service_->RegisterFamily(bad).status(),
              testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                HasSubstr("family.members[0].full_name: is not valid UTF-8")));
  v1::RegisterFamilyRequest r = Family1();
  r.mutable_family()->set_address(std::string(300, 'a'));
  v1::RegisterFamilyResponse resp;
  EXPECT_REJECTED(stub_->RegisterFamily(Ctx().get(), r, &resp), grpc::StatusCode::INVALID_ARGUMENT,
                  "family.address: is longer than 256 characters");
  r = Family1();
  r.mutable_context()->set_correlation_id(std::string(5000, 'c'));
  EXPECT_REJECTED(stub_->RegisterFamily(Ctx().get(), r, &resp), grpc::StatusCode::INVALID_ARGUMENT,
                  "context.correlation_id");
  r = Family1();
  r.mutable_context()->set_actor("label\n");
  EXPECT_REJECTED(stub_->RegisterFamily(Ctx().get(), r, &resp), grpc::StatusCode::INVALID_ARGUMENT,
                  "context.actor");
}

TEST_F(BadInputTest, TimesBefore1900AreRefusedNamingTheField) {
  v1::RegisterFamilyRequest r = Family1();
  const absl::Time in_1800 = absl::FromCivil(absl::CivilDay(1800, 6, 1), absl::UTCTimeZone());
  SetTime(r.mutable_context(), in_1800, in_1800);
  v1::RegisterFamilyResponse resp;
  EXPECT_REJECTED(stub_->RegisterFamily(Ctx().get(), r, &resp), grpc::StatusCode::INVALID_ARGUMENT,
                  "context.occurred_at: is before 1900-01-01");
}

TEST_F(BadInputTest, BirthsDeathsAndPregnanciesThatCannotBe) {
  ASSERT_GRPC_OK(Register(Family1()));
  v1::RecordBirthResponse br;
  v1::RecordBirthRequest birth = Birth(kKk1, kNewborn, kWife1, "birth-1");
  birth.mutable_birth()->set_mother_nik("123");
  EXPECT_REJECTED(stub_->RecordBirth(Ctx().get(), birth, &br), grpc::StatusCode::INVALID_ARGUMENT,
                  "birth.mother_nik");
  // A child born before its mother (the wife was born in 1988): a child
  // NIK encoding 1987.
  birth = Birth(kKk1, "5271010101870009", kWife1, "birth-2");
  *birth.mutable_birth()->mutable_child()->mutable_birth_date() = D(1987, 1, 1);
  EXPECT_REJECTED(stub_->RecordBirth(Ctx().get(), birth, &br), grpc::StatusCode::INVALID_ARGUMENT,
                  "birth.child.birth_date: is not after the mother's birth date");

  v1::ChangeMemberAttributesRequest attr = Attr(kKk1, kHead1, "attr-man");
  attr.mutable_change()->mutable_attributes()->set_pregnancy_order(2);
  v1::ChangeMemberAttributesResponse ar;
  EXPECT_REJECTED(stub_->ChangeMemberAttributes(Ctx().get(), attr, &ar), grpc::StatusCode::INVALID_ARGUMENT,
                  "change.attributes.pregnancy_order: only a woman");

  // A death retracted once, not twice.
  v1::RecordDeathResponse dr;
  ASSERT_GRPC_OK(stub_->RecordDeath(Ctx().get(), Death(kKk1, kChild1, D(2026, 11, 1), "death-1"), &dr));
  v1::CorrectRecordRequest retract = Correct(kKk1, dr.result().events(0).event_id(), "retract-1");
  retract.mutable_correction()->mutable_retraction();
  v1::CorrectRecordResponse cr;
  ASSERT_GRPC_OK(stub_->CorrectRecord(Ctx().get(), retract, &cr));
  retract.mutable_context()->set_request_id("retract-2");
  EXPECT_REJECTED(stub_->CorrectRecord(Ctx().get(), retract, &cr), grpc::StatusCode::FAILED_PRECONDITION,
                  "correction.retraction: this event is already retracted");
}

TEST_F(BadInputTest, APayloadDateIsTheEventTime) {
  ASSERT_GRPC_OK(Register(Family1()));
  // occurred_at (the report day) disagrees with the date of death.
  v1::RecordDeathRequest death = Death(kKk1, kHead1, D(2026, 6, 15), "death-1");
  SetTime(death.mutable_context(), Now() - absl::Hours(1), std::nullopt);
  v1::RecordDeathResponse dr;
  EXPECT_REJECTED(stub_->RecordDeath(Ctx().get(), death, &dr), grpc::StatusCode::INVALID_ARGUMENT,
                  "context.occurred_at, death.date_of_death: disagree");
  // Without occurred_at the date of death is the event time.
  death.mutable_context()->clear_occurred_at();
  ASSERT_GRPC_OK(stub_->RecordDeath(Ctx().get(), death, &dr));
  std::vector<v1::HistoryEntry> h = HistoryOf(kKk1);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(absl::ToCivilDay(events::FromProtoTime(h[1].event().occurred_at()), WibTimeZone()),
            absl::CivilDay(2026, 6, 15));
  EXPECT_EQ(events::FromProtoTime(h[1].event().recorded_at()), Now());

  // A birth: the same rule on the child's birth date.
  v1::RecordBirthRequest birth = Birth(kKk1, kNewborn, kWife1, "birth-1");
  SetTime(birth.mutable_context(), Now() - absl::Hours(1), std::nullopt);
  v1::RecordBirthResponse br;
  EXPECT_REJECTED(stub_->RecordBirth(Ctx().get(), birth, &br), grpc::StatusCode::INVALID_ARGUMENT,
                  "context.occurred_at, birth.child.birth_date: disagree");
  // occurred_at on the birth date agrees.
  SetTime(birth.mutable_context(), absl::FromCivil(absl::CivilSecond(2026, 11, 1, 9, 0, 0), WibTimeZone()),
          std::nullopt);
  ASSERT_GRPC_OK(stub_->RecordBirth(Ctx().get(), birth, &br));

  // An assessment of round 2026-Q3 cannot have happened in June.
  v1::RecordWelfareAssessmentRequest assess = Assess(kKk1, 3, "assess-early");
  SetTime(assess.mutable_context(), absl::FromCivil(absl::CivilDay(2026, 6, 30), WibTimeZone()), std::nullopt);
  v1::RecordWelfareAssessmentResponse wr;
  EXPECT_REJECTED(stub_->RecordWelfareAssessment(Ctx().get(), assess, &wr), grpc::StatusCode::INVALID_ARGUMENT,
                  "context.occurred_at, assessment.round: disagree");
}

// A command is accepted only when it folds cleanly at its event time: a
// death dated before the person joined the family is refused (the fold
// would have to ignore it), with nothing appended; a death dated after the
// move is recorded.
TEST_F(BadInputTest, ACommandThatContradictsTheFamilyAtItsEventTimeIsRefused) {
  ASSERT_GRPC_OK(Register(Family1()));  // 2026-11-23
  ASSERT_GRPC_OK(Register(Family2()));
  SetNow(Day(2026, 12, 3));
  v1::MoveMemberResponse mr;
  ASSERT_GRPC_OK(stub_->MoveMember(Ctx().get(), Move(kKk1, kChild1, kKk2, "move-1"), &mr));
  SetNow(Day(2026, 12, 5));
  v1::RecordDeathResponse dr;
  EXPECT_REJECTED(stub_->RecordDeath(Ctx().get(), Death(kKk2, kChild1, D(2026, 11, 28), "death-early"), &dr),
                  grpc::StatusCode::FAILED_PRECONDITION,
                  std::string("death.date_of_death: at its event time this contradicts family ") + kKk2 +
                      "'s record (death of a person not in the family)");
  EXPECT_TRUE(GetFamilyOrDie(kKk2).conflicts().empty());
  ASSERT_GRPC_OK(stub_->RecordDeath(Ctx().get(), Death(kKk2, kChild1, D(2026, 12, 4), "death-after"), &dr));
  const v1::Family f = GetFamilyOrDie(kKk2);
  EXPECT_TRUE(f.conflicts().empty());
  ASSERT_NE(FindMember(f, kChild1), nullptr);
  EXPECT_FALSE(FindMember(f, kChild1)->alive());
}

}  // namespace
}  // namespace jaring::population
