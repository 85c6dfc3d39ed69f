#include "services/population/validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "libs/testing/status_matchers.h"

namespace jaring::population {
namespace {

using ::jaring::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;

// "Today" in every test: Monday 23 November 2026.
const absl::CivilDay kToday(2026, 11, 23);

// A man from Kota Mataram (52.71.01) born 12-03-1985, and a woman born the
// same day (day + 40).
constexpr char kManNik[] = "5271011203850001";
constexpr char kWomanNik[] = "5271015203850002";
// A KK from the same district, registered 15-06-2020.
constexpr char kKk[] = "5271011506200001";

// Matches an InvalidArgument status whose message starts with
// "<path>: " and contains `reason`.
::testing::Matcher<absl::Status> Rejects(const std::string& path, const std::string& reason) {
  return StatusIs(kInvalid, AllOf(StartsWith(path + ": "), HasSubstr(reason)));
}

// ---------------------------------------------------------------- provinces

TEST(IsProvinceCodeTest, AcceptsKemendagriCodes) {
  for (int code : {11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 31, 32, 33, 34, 35, 36, 51, 52, 53, 61,
                   62, 63, 64, 65, 71, 72, 73, 74, 75, 76, 81, 82, 91, 92, 93, 94, 95, 96, 97}) {
    EXPECT_TRUE(IsProvinceCode(code)) << code;
  }
}

TEST(IsProvinceCodeTest, RejectsEverythingElse) {
  for (int code :
       {-1, 0, 1, 9, 10, 20, 22, 30, 37, 50, 54, 60, 66, 70, 77, 80, 83, 90, 98, 99, 100, 5271}) {
    EXPECT_FALSE(IsProvinceCode(code)) << code;
  }
}

// ---------------------------------------------------------------------- NIK

TEST(NikTest, AcceptsManAndWoman) {
  EXPECT_OK(ValidateNik("nik", kManNik, kToday));
  EXPECT_OK(ValidateNik("nik", kWomanNik, kToday));
}

TEST(NikTest, ParseGivesBirthDateSexAndRegion) {
  ASSERT_OK_AND_ASSIGN(NikFacts man, ParseNik(kManNik, kToday));
  EXPECT_EQ(man.birth_date, absl::CivilDay(1985, 3, 12));
  EXPECT_FALSE(man.female);
  EXPECT_EQ(man.region6, "527101");

  ASSERT_OK_AND_ASSIGN(NikFacts woman, ParseNik(kWomanNik, kToday));
  EXPECT_EQ(woman.birth_date, absl::CivilDay(1985, 3, 12));
  EXPECT_TRUE(woman.female);
  EXPECT_EQ(woman.region6, "527101");
}

TEST(NikTest, ParseErrorsUseFieldNik) {
  EXPECT_THAT(ParseNik("5271017203850001", kToday),
              StatusIs(kInvalid, StartsWith("nik: day 72 is not a valid birth day")));
}

TEST(NikTest, AcceptsBirthDayBoundaries) {
  EXPECT_OK(ValidateNik("nik", "5271010101850001", kToday));  // day 01
  EXPECT_OK(ValidateNik("nik", "5271013101850001", kToday));  // day 31
  EXPECT_OK(ValidateNik("nik", "5271014101850001", kToday));  // day 41 = 1 + 40
  EXPECT_OK(ValidateNik("nik", "5271017101850001", kToday));  // day 71 = 31 + 40
  EXPECT_OK(ValidateNik("nik", "5271011212859999", kToday));  // serial 9999
}

TEST(NikTest, LeapDay) {
  ASSERT_OK_AND_ASSIGN(NikFacts man, ParseNik("5271012902240003", kToday));
  EXPECT_EQ(man.birth_date, absl::CivilDay(2024, 2, 29));
  ASSERT_OK_AND_ASSIGN(NikFacts woman, ParseNik("5271016902240004", kToday));
  EXPECT_EQ(woman.birth_date, absl::CivilDay(2024, 2, 29));
  EXPECT_TRUE(woman.female);

  EXPECT_THAT(ValidateNik("members[0].nik", "5271012902230003", kToday),
              Rejects("members[0].nik",
                      "encodes birth date 2023-02-29, which is not a calendar date "
                      "(2023-02 has 28 days)"));
  EXPECT_THAT(ValidateNik("nik", "5271016902230004", kToday),
              Rejects("nik", "birth date 2023-02-29, which is not a calendar date"));
  // 2000 was a leap year.
  ASSERT_OK_AND_ASSIGN(NikFacts y2k, ParseNik("5271012902000001", kToday));
  EXPECT_EQ(y2k.birth_date, absl::CivilDay(2000, 2, 29));
}

TEST(NikTest, RejectsDayNotInMonth) {
  EXPECT_THAT(
      ValidateNik("nik", "5271013104850001", kToday),
      Rejects("nik", "birth date 1985-04-31, which is not a calendar date (1985-04 has 30 days)"));
  EXPECT_THAT(ValidateNik("nik", "5271017104850002", kToday),  // woman, 31 + 40
              Rejects("nik", "birth date 1985-04-31, which is not a calendar date"));
}

TEST(NikTest, CenturyInference) {
  auto birth = [](const char* nik) {
    absl::StatusOr<NikFacts> f = ParseNik(nik, kToday);
    return f.ok() ? f->birth_date : absl::CivilDay(1, 1, 1);
  };
  EXPECT_EQ(birth("5271010101000001"), absl::CivilDay(2000, 1, 1));
  EXPECT_EQ(birth("5271010101250001"), absl::CivilDay(2025, 1, 1));
  // This year, up to and including today: 2026.
  EXPECT_EQ(birth("5271012311260001"), absl::CivilDay(2026, 11, 23));
  EXPECT_EQ(birth("5271016311260001"), absl::CivilDay(2026, 11, 23));
  // This year but still to come: a century earlier.
  EXPECT_EQ(birth("5271012411260001"), absl::CivilDay(1926, 11, 24));
  EXPECT_EQ(birth("5271010112260001"), absl::CivilDay(1926, 12, 1));
  // Years after this one: 19YY.
  EXPECT_EQ(birth("5271010101270001"), absl::CivilDay(1927, 1, 1));
  EXPECT_EQ(birth("5271011203990001"), absl::CivilDay(1999, 3, 12));
  // The same NIK read on a later day.
  ASSERT_OK_AND_ASSIGN(NikFacts later, ParseNik("5271010101270001", absl::CivilDay(2027, 6, 1)));
  EXPECT_EQ(later.birth_date, absl::CivilDay(2027, 1, 1));
}

TEST(NikTest, CenturyDecidesLeapDay) {
  // 29-02-00 read in 1999 means 1900, which was not a leap year.
  EXPECT_THAT(ValidateNik("nik", "5271012902000001", absl::CivilDay(1999, 12, 31)),
              Rejects("nik", "encodes birth date 1900-02-29, which is not a calendar date"));
}

TEST(NikTest, RejectsLength) {
  EXPECT_THAT(ValidateNik("family.members[2].nik", "527101120385000", kToday),
              Rejects("family.members[2].nik", "must be 16 digits, got 15"));
  EXPECT_THAT(ValidateNik("nik", "52710112038500011", kToday),
              Rejects("nik", "must be 16 digits, got 17"));
  EXPECT_THAT(ValidateNik("nik", "", kToday), Rejects("nik", "is required"));
}

TEST(NikTest, RejectsNonDigits) {
  EXPECT_THAT(ValidateNik("nik", "52710112038500x1", kToday),
              Rejects("nik", "character 15 ('x') is not a digit"));
  EXPECT_THAT(ValidateNik("nik", "5271 11203850001", kToday),
              Rejects("nik", "character 5 (' ') is not a digit"));
  EXPECT_THAT(ValidateNik("nik", "-271011203850001", kToday),
              Rejects("nik", "character 1 ('-') is not a digit"));
}

TEST(NikTest, RejectsProvince) {
  for (const char* nik : {"0071011203850001", "1071011203850001", "2071011203850001",
                          "9971011203850001", "5471011203850001"}) {
    const std::string pp(nik, 2);
    EXPECT_THAT(ValidateNik("nik", nik, kToday),
                Rejects("nik", "province code " + pp + " is not an Indonesian province"))
        << nik;
  }
}

TEST(NikTest, RejectsRegencyAndDistrictZero) {
  EXPECT_THAT(ValidateNik("nik", "5200011203850001", kToday),
              Rejects("nik", "regency/city code 00 is not valid (01-99)"));
  EXPECT_THAT(ValidateNik("nik", "5271001203850001", kToday),
              Rejects("nik", "district code 00 is not valid (01-99)"));
}

TEST(NikTest, RejectsBirthDay) {
  for (const char* dd : {"00", "32", "39", "40", "72", "80", "99"}) {
    const std::string nik = std::string("527101") + dd + "03850001";
    EXPECT_THAT(
        ValidateNik("family.members[2].nik", nik, kToday),
        Rejects("family.members[2].nik",
                std::string("day ") + dd + " is not a valid birth day (1-31, or 41-71 for women)"))
        << nik;
  }
}

TEST(NikTest, RejectsBirthMonth) {
  EXPECT_THAT(ValidateNik("nik", "5271011200850001", kToday),
              Rejects("nik", "month 00 is not a valid birth month (01-12)"));
  EXPECT_THAT(ValidateNik("nik", "5271011213850001", kToday),
              Rejects("nik", "month 13 is not a valid birth month (01-12)"));
}

TEST(NikTest, RejectsSerialZero) {
  EXPECT_THAT(ValidateNik("nik", "5271011203850000", kToday),
              Rejects("nik", "serial number 0000 is not valid (0001-9999)"));
}

TEST(NikTest, MessagesNeverEchoTheNik) {
  for (const char* nik :
       {"5271017203850001", "5271011213850001", "5271012902230003", "5271011203850000",
        "9971011203850001", "527101120385000", "52710112038500x1"}) {
    absl::Status s = ValidateNik("nik", nik, kToday);
    ASSERT_THAT(s, StatusIs(kInvalid)) << nik;
    EXPECT_THAT(std::string(s.message()), Not(HasSubstr(nik)));
    EXPECT_THAT(std::string(s.message()), Not(HasSubstr(std::string(nik).substr(0, 12))));
  }
}

// ----------------------------------------------------------------------- KK

TEST(KkNumberTest, Accepts) {
  EXPECT_OK(ValidateKkNumber("kk_number", kKk, kToday));
  EXPECT_OK(ValidateKkNumber("kk_number", "5271012311260001", kToday));  // registered today
  EXPECT_OK(ValidateKkNumber("kk_number", "3510010101999999", kToday));  // 1999
  EXPECT_OK(ValidateKkNumber("kk_number", "5271012902240001", kToday));  // leap day 2024
}

TEST(KkNumberTest, RejectsLengthAndDigits) {
  EXPECT_THAT(ValidateKkNumber("kk_number", "527101150620000", kToday),
              Rejects("kk_number", "must be 16 digits, got 15"));
  EXPECT_THAT(ValidateKkNumber("kk_number", "", kToday), Rejects("kk_number", "is required"));
  EXPECT_THAT(ValidateKkNumber("kk_number", "527101150620000A", kToday),
              Rejects("kk_number", "character 16 ('A') is not a digit"));
}

TEST(KkNumberTest, RejectsRegion) {
  EXPECT_THAT(ValidateKkNumber("kk_number", "9971011506200001", kToday),
              Rejects("kk_number", "province code 99 is not an Indonesian province"));
  EXPECT_THAT(ValidateKkNumber("kk_number", "5200011506200001", kToday),
              Rejects("kk_number", "regency/city code 00 is not valid"));
  EXPECT_THAT(ValidateKkNumber("kk_number", "5271001506200001", kToday),
              Rejects("kk_number", "district code 00 is not valid"));
}

TEST(KkNumberTest, RejectsRegistrationDate) {
  // No +40 on a family card.
  EXPECT_THAT(ValidateKkNumber("kk_number", "5271015506200001", kToday),
              Rejects("kk_number", "day 55 is not a valid registration day (01-31)"));
  EXPECT_THAT(ValidateKkNumber("kk_number", "5271010006200001", kToday),
              Rejects("kk_number", "day 00 is not a valid registration day"));
  EXPECT_THAT(ValidateKkNumber("kk_number", "5271011513200001", kToday),
              Rejects("kk_number", "month 13 is not a valid registration month (01-12)"));
  EXPECT_THAT(ValidateKkNumber("kk_number", "5271012902230001", kToday),
              Rejects("kk_number",
                      "encodes registration date 2023-02-29, which is not a calendar date "
                      "(2023-02 has 28 days)"));
  EXPECT_THAT(ValidateKkNumber("kk_number", "5271013106200001", kToday),
              Rejects("kk_number", "registration date 2020-06-31, which is not a calendar date"));
}

TEST(KkNumberTest, RejectsFutureRegistrationThisYear) {
  EXPECT_THAT(ValidateKkNumber("new_kk_number", "5271012411260001", kToday),
              Rejects("new_kk_number",
                      "encodes registration date 2026-11-24, which is after today (2026-11-23)"));
}

TEST(KkNumberTest, LaterYearsMeanLastCentury) {
  // YY after this year reads as 19YY, which is in the past.
  EXPECT_OK(ValidateKkNumber("kk_number", "5271010101270001", kToday));
}

TEST(KkNumberTest, RejectsSerialZero) {
  EXPECT_THAT(ValidateKkNumber("kk_number", "5271011506200000", kToday),
              Rejects("kk_number", "serial number 0000 is not valid (0001-9999)"));
}

// -------------------------------------------------------------- region codes

TEST(RegionCodeTest, Accepts) {
  EXPECT_OK(ValidateRegionCode("region_code", "52.71.01.1001"));  // kelurahan
  EXPECT_OK(ValidateRegionCode("region_code", "52.03.01.2001"));  // desa
  EXPECT_OK(ValidateRegionCode("region_code", "35.10.24.2999"));
  EXPECT_OK(ValidateRegionCode("region_code", "81.71.99.1000"));
}

TEST(RegionCodeTest, RejectsShape) {
  EXPECT_THAT(ValidateRegionCode("region_code", ""), Rejects("region_code", "is required"));
  EXPECT_THAT(ValidateRegionCode("region_code", "52.71.01"),
              Rejects("region_code", "must look like PP.RR.DD.VVVV"));
  EXPECT_THAT(ValidateRegionCode("region_code", "52.71.01.1001.1"),
              Rejects("region_code", "must look like PP.RR.DD.VVVV"));
  EXPECT_THAT(ValidateRegionCode("region_code", "5271011001"),
              Rejects("region_code", "must look like PP.RR.DD.VVVV"));
  EXPECT_THAT(ValidateRegionCode("region_code", "52-71-01-1001"),
              Rejects("region_code", "must look like PP.RR.DD.VVVV"));
  EXPECT_THAT(ValidateRegionCode("region_code", "52.71.01.100"),
              Rejects("region_code", "village code must be 4 digits, got \"100\""));
  EXPECT_THAT(ValidateRegionCode("region_code", "52.7.101.1001"),
              Rejects("region_code", "regency/city code must be 2 digits, got \"7\""));
  EXPECT_THAT(ValidateRegionCode("region_code", "5a.71.01.1001"),
              Rejects("region_code", "province code must be 2 digits, got \"5a\""));
  EXPECT_THAT(ValidateRegionCode("region_code", "52.71..1001"),
              Rejects("region_code", "district code must be 2 digits, got \"\""));
}

TEST(RegionCodeTest, RejectsParts) {
  EXPECT_THAT(ValidateRegionCode("to_region_code", "99.71.01.1001"),
              Rejects("to_region_code", "province code 99 is not an Indonesian province"));
  EXPECT_THAT(ValidateRegionCode("region_code", "52.00.01.1001"),
              Rejects("region_code", "regency/city code 00 is not valid (01-99)"));
  EXPECT_THAT(ValidateRegionCode("region_code", "52.71.00.1001"),
              Rejects("region_code", "district code 00 is not valid (01-99)"));
  EXPECT_THAT(
      ValidateRegionCode("region_code", "52.71.01.3001"),
      Rejects("region_code", "village code 3001 must start with 1 (kelurahan) or 2 (desa)"));
  EXPECT_THAT(ValidateRegionCode("region_code", "52.71.01.0001"),
              Rejects("region_code", "village code 0001 must start with 1"));
}

TEST(RegionPrefixTest, Accepts) {
  EXPECT_OK(ValidateRegionPrefix("region_prefix", "52"));
  EXPECT_OK(ValidateRegionPrefix("region_prefix", "52.71"));
  EXPECT_OK(ValidateRegionPrefix("region_prefix", "52.71.01"));
  EXPECT_OK(ValidateRegionPrefix("region_prefix", "52.71.01.1001"));
}

TEST(RegionPrefixTest, Rejects) {
  EXPECT_THAT(ValidateRegionPrefix("region_prefix", ""),
              Rejects("region_prefix", "is required (PP, PP.RR, PP.RR.DD or PP.RR.DD.VVVV"));
  EXPECT_THAT(ValidateRegionPrefix("region_prefix", "5"),
              Rejects("region_prefix", "province code must be 2 digits, got \"5\""));
  EXPECT_THAT(ValidateRegionPrefix("region_prefix", "52."),
              Rejects("region_prefix", "regency/city code must be 2 digits, got \"\""));
  EXPECT_THAT(ValidateRegionPrefix("region_prefix", ".52"),
              Rejects("region_prefix", "province code must be 2 digits, got \"\""));
  EXPECT_THAT(ValidateRegionPrefix("region_prefix", "5271"),
              Rejects("region_prefix", "province code must be 2 digits, got \"5271\""));
  EXPECT_THAT(ValidateRegionPrefix("region_prefix", "99"),
              Rejects("region_prefix", "province code 99 is not an Indonesian province"));
  EXPECT_THAT(ValidateRegionPrefix("region_prefix", "52.00"),
              Rejects("region_prefix", "regency/city code 00 is not valid"));
  EXPECT_THAT(ValidateRegionPrefix("region_prefix", "52.71.00"),
              Rejects("region_prefix", "district code 00 is not valid"));
  EXPECT_THAT(ValidateRegionPrefix("region_prefix", "52.71.01.3001"),
              Rejects("region_prefix", "village code 3001 must start with 1"));
  EXPECT_THAT(ValidateRegionPrefix("region_prefix", "52.71.01.1001.1"),
              Rejects("region_prefix", "must look like PP, PP.RR, PP.RR.DD or PP.RR.DD.VVVV"));
}

TEST(KkInRegionTest, AcceptsMatchingDistrict) {
  EXPECT_OK(ValidateKkInRegion("kk_number", kKk, "52.71.01.1001"));
  EXPECT_OK(ValidateKkInRegion("kk_number", kKk, "52.71.01.2005"));
}

TEST(KkInRegionTest, RejectsOtherDistrict) {
  EXPECT_THAT(ValidateKkInRegion("kk_number", kKk, "52.71.02.1001"),
              Rejects("kk_number",
                      "was issued in district 52.71.01 (its first six digits) but the family's "
                      "region 52.71.02.1001 is in district 52.71.02"));
  EXPECT_THAT(ValidateKkInRegion("kk_number", kKk, "52.03.01.2001"),
              Rejects("kk_number", "was issued in district 52.71.01"));
  EXPECT_THAT(ValidateKkInRegion("kk_number", kKk, "35.71.01.1001"),
              Rejects("kk_number", "was issued in district 52.71.01"));
}

TEST(KkInRegionTest, RejectsMalformedInputs) {
  EXPECT_THAT(ValidateKkInRegion("kk_number", "5271", "52.71.01.1001"),
              Rejects("kk_number", "does not start with a 6-digit region code"));
  EXPECT_THAT(ValidateKkInRegion("kk_number", kKk, "527101"),
              Rejects("kk_number", "cannot be checked against region code \"527101\""));
  EXPECT_THAT(ValidateKkInRegion("kk_number", kKk, ""),
              Rejects("kk_number", "cannot be checked against region code"));
}

// -------------------------------------------------------------------- dates

v1::Date D(int y, int m, int d) {
  v1::Date out;
  out.set_year(y);
  out.set_month(m);
  out.set_day(d);
  return out;
}

TEST(DateTest, Accepts) {
  EXPECT_OK(ValidateDate("birth_date", D(1985, 3, 12)));
  EXPECT_OK(ValidateDate("birth_date", D(2024, 2, 29)));
  EXPECT_OK(ValidateDate("birth_date", D(2000, 2, 29)));
  EXPECT_OK(ValidateDate("birth_date", D(1900, 1, 1)));
  EXPECT_OK(ValidateDate("birth_date", D(2100, 12, 31)));
}

TEST(DateTest, RejectsLeapDayOutsideLeapYears) {
  EXPECT_THAT(ValidateDate("date_of_death", D(2023, 2, 29)),
              Rejects("date_of_death", "2023-02-29 is not a calendar date (2023-02 has 28 days)"));
  EXPECT_THAT(ValidateDate("birth_date", D(1900, 2, 29)),
              Rejects("birth_date", "1900-02-29 is not a calendar date"));
}

TEST(DateTest, RejectsRanges) {
  EXPECT_THAT(ValidateDate("birth_date", D(1899, 12, 31)),
              Rejects("birth_date", "year 1899 is out of range (1900-2100)"));
  EXPECT_THAT(ValidateDate("birth_date", D(2101, 1, 1)),
              Rejects("birth_date", "year 2101 is out of range (1900-2100)"));
  EXPECT_THAT(ValidateDate("birth_date", v1::Date()),
              Rejects("birth_date", "year 0 is out of range"));
  EXPECT_THAT(ValidateDate("birth_date", D(1985, 0, 1)),
              Rejects("birth_date", "month 0 is not valid (1-12)"));
  EXPECT_THAT(ValidateDate("birth_date", D(1985, 13, 1)),
              Rejects("birth_date", "month 13 is not valid (1-12)"));
  EXPECT_THAT(ValidateDate("birth_date", D(1985, 3, 0)),
              Rejects("birth_date", "1985-03-00 is not a calendar date"));
  EXPECT_THAT(ValidateDate("birth_date", D(1985, 4, 31)),
              Rejects("birth_date", "1985-04-31 is not a calendar date (1985-04 has 30 days)"));
  EXPECT_THAT(ValidateDate("birth_date", D(1985, 3, -1)),
              Rejects("birth_date", "is not a calendar date"));
}

TEST(DateTest, CivilDayRoundTrip) {
  EXPECT_EQ(ToCivilDay(D(2024, 2, 29)), absl::CivilDay(2024, 2, 29));
  const v1::Date d = FromCivilDay(absl::CivilDay(1985, 3, 12));
  EXPECT_EQ(d.year(), 1985);
  EXPECT_EQ(d.month(), 3);
  EXPECT_EQ(d.day(), 12);
  EXPECT_EQ(ToCivilDay(FromCivilDay(absl::CivilDay(2000, 12, 31))), absl::CivilDay(2000, 12, 31));
}

TEST(TodayInTest, UsesWib) {
  // 17:00 UTC is midnight WIB.
  EXPECT_EQ(
      TodayIn(absl::FromCivil(absl::CivilSecond(2026, 11, 23, 16, 59, 59), absl::UTCTimeZone())),
      absl::CivilDay(2026, 11, 23));
  EXPECT_EQ(
      TodayIn(absl::FromCivil(absl::CivilSecond(2026, 11, 23, 17, 0, 0), absl::UTCTimeZone())),
      absl::CivilDay(2026, 11, 24));
  EXPECT_EQ(WibTimeZone().name(), absl::FixedTimeZone(7 * 3600).name());
}

// ------------------------------------------------------------------- member

v1::Member Man() {
  v1::Member m;
  m.set_nik(kManNik);
  m.set_full_name("Budi Santoso");
  m.set_sex(v1::SEX_MALE);
  *m.mutable_birth_date() = D(1985, 3, 12);
  m.set_relationship(v1::RELATIONSHIP_HEAD);
  return m;
}

v1::Member Woman() {
  v1::Member m;
  m.set_nik(kWomanNik);
  m.set_full_name("Siti Aminah");
  m.set_sex(v1::SEX_FEMALE);
  *m.mutable_birth_date() = D(1985, 3, 12);
  m.set_relationship(v1::RELATIONSHIP_SPOUSE);
  return m;
}

constexpr char kM[] = "family.members[2]";

TEST(MemberTest, AcceptsManAndWoman) {
  EXPECT_OK(ValidateMember(kM, Man(), kToday));
  v1::Member w = Woman();
  w.mutable_attributes()->set_pregnant(true);
  w.mutable_attributes()->set_pregnancy_order(2);
  w.set_mother_nik("5271016506600001");
  EXPECT_OK(ValidateMember(kM, w, kToday));
}

TEST(MemberTest, AcceptsChildBornToday) {
  v1::Member c;
  c.set_nik("5271016311260003");
  c.set_full_name("Ayu");
  c.set_sex(v1::SEX_FEMALE);
  *c.mutable_birth_date() = D(2026, 11, 23);
  c.set_relationship(v1::RELATIONSHIP_CHILD);
  c.set_mother_nik(kWomanNik);
  EXPECT_OK(ValidateMember("child", c, kToday));
}

TEST(MemberTest, CenturyComesFromBirthDate) {
  // Born 01-06-1925: the NIK alone reads 2025, birth_date settles it.
  v1::Member m = Man();
  m.set_nik("5271010106250001");
  *m.mutable_birth_date() = D(1925, 6, 1);
  EXPECT_OK(ValidateMember(kM, m, kToday));
}

TEST(MemberTest, RejectsBadNik) {
  v1::Member m = Man();
  m.set_nik("5271017203850001");
  EXPECT_THAT(ValidateMember(kM, m, kToday),
              Rejects("family.members[2].nik",
                      "day 72 is not a valid birth day (1-31, or 41-71 for women)"));
  m.set_nik("");
  EXPECT_THAT(ValidateMember(kM, m, kToday), Rejects("family.members[2].nik", "is required"));
}

TEST(MemberTest, EmptyFieldPathUsesBareNames) {
  v1::Member m = Man();
  m.set_full_name("");
  EXPECT_THAT(ValidateMember("", m, kToday), Rejects("full_name", "is required"));
}

TEST(MemberTest, RejectsName) {
  v1::Member m = Man();
  m.set_full_name("");
  EXPECT_THAT(ValidateMember(kM, m, kToday), Rejects("family.members[2].full_name", "is required"));
  m.set_full_name(" \t\n ");
  EXPECT_THAT(ValidateMember(kM, m, kToday), Rejects("family.members[2].full_name", "is required"));
  m.set_full_name(std::string(129, 'a'));
  EXPECT_THAT(
      ValidateMember(kM, m, kToday),
      Rejects("family.members[2].full_name", "is longer than 128 characters (129)"));
}

TEST(MemberTest, NameLengthCountsCharactersAfterTrimming) {
  v1::Member m = Man();
  m.set_full_name("  " + std::string(128, 'a') + "  ");
  EXPECT_OK(ValidateMember(kM, m, kToday));
  // 128 two-byte characters (256 bytes).
  std::string name;
  for (int i = 0; i < 128; ++i) name += "\xC3\xA9";  // é
  m.set_full_name(name);
  EXPECT_OK(ValidateMember(kM, m, kToday));
  m.set_full_name(name + "\xC3\xA9");
  EXPECT_THAT(ValidateMember(kM, m, kToday),
              Rejects("family.members[2].full_name", "is longer than 128 characters (129)"));
}

TEST(MemberTest, RejectsSex) {
  v1::Member m = Man();
  m.set_sex(v1::SEX_UNSPECIFIED);
  EXPECT_THAT(ValidateMember(kM, m, kToday),
              Rejects("family.members[2].sex", "is required (male or female)"));
  m.set_sex(static_cast<v1::Sex>(7));
  EXPECT_THAT(ValidateMember(kM, m, kToday), Rejects("family.members[2].sex", "unknown value 7"));
}

TEST(MemberTest, RejectsBirthDate) {
  v1::Member m = Man();
  m.clear_birth_date();
  EXPECT_THAT(ValidateMember(kM, m, kToday),
              Rejects("family.members[2].birth_date", "is required"));
  *m.mutable_birth_date() = D(1985, 2, 30);
  EXPECT_THAT(ValidateMember(kM, m, kToday),
              Rejects("family.members[2].birth_date", "1985-02-30 is not a calendar date"));
  // A NIK for 01-12-26 is valid (1926); the birth date says 2026: future.
  m.set_nik("5271010112260001");
  *m.mutable_birth_date() = D(2026, 12, 1);
  EXPECT_THAT(ValidateMember(kM, m, kToday),
              Rejects("family.members[2].birth_date", "2026-12-01 is after today (2026-11-23)"));
}

TEST(MemberTest, RejectsRelationship) {
  v1::Member m = Man();
  m.set_relationship(v1::RELATIONSHIP_UNSPECIFIED);
  EXPECT_THAT(ValidateMember(kM, m, kToday),
              Rejects("family.members[2].relationship", "is required"));
  m.set_relationship(static_cast<v1::Relationship>(42));
  EXPECT_THAT(ValidateMember(kM, m, kToday),
              Rejects("family.members[2].relationship", "unknown value 42"));
}

TEST(MemberTest, RejectsNikThatDisagreesWithBirthDate) {
  v1::Member m = Man();
  *m.mutable_birth_date() = D(1985, 3, 13);
  EXPECT_THAT(ValidateMember(kM, m, kToday),
              Rejects("family.members[2].nik",
                      "encodes birth date 1985-03-12 but birth_date is 1985-03-13"));
  *m.mutable_birth_date() = D(1985, 4, 12);
  EXPECT_THAT(ValidateMember(kM, m, kToday),
              Rejects("family.members[2].nik",
                      "encodes birth date 1985-03-12 but birth_date is 1985-04-12"));
  *m.mutable_birth_date() = D(1986, 3, 12);
  EXPECT_THAT(ValidateMember(kM, m, kToday),
              Rejects("family.members[2].nik",
                      "encodes birth date 1985-03-12 but birth_date is 1986-03-12"));
}

TEST(MemberTest, RejectsNikThatDisagreesWithSex) {
  v1::Member m = Man();
  m.set_sex(v1::SEX_FEMALE);
  EXPECT_THAT(ValidateMember(kM, m, kToday),
              Rejects("family.members[2].nik",
                      "encodes a man (birth day 12, not 12 + 40) but sex is female"));
  v1::Member w = Woman();
  w.set_sex(v1::SEX_MALE);
  EXPECT_THAT(
      ValidateMember(kM, w, kToday),
      Rejects("family.members[2].nik", "encodes a woman (birth day 52 = 12 + 40) but sex is male"));
}

TEST(MemberTest, RejectsMotherNik) {
  v1::Member m = Man();
  m.set_mother_nik("5271018203600001");
  EXPECT_THAT(ValidateMember(kM, m, kToday),
              Rejects("family.members[2].mother_nik", "day 82 is not a valid birth day"));
  m.set_mother_nik("12345");
  EXPECT_THAT(ValidateMember(kM, m, kToday),
              Rejects("family.members[2].mother_nik", "must be 16 digits, got 5"));
  m.set_mother_nik(kManNik);
  EXPECT_THAT(ValidateMember(kM, m, kToday),
              Rejects("family.members[2].mother_nik", "is the member's own NIK"));
}

TEST(MemberTest, RejectsAttributes) {
  v1::Member m = Man();
  m.mutable_attributes()->set_pregnant(false);
  EXPECT_OK(ValidateMember(kM, m, kToday));
  m.mutable_attributes()->set_pregnant(true);
  EXPECT_THAT(ValidateMember(kM, m, kToday), Rejects("family.members[2].attributes.pregnant",
                                                     "only a woman can be pregnant (sex is male)"));

  v1::Member w = Woman();
  w.mutable_attributes()->set_pregnancy_order(0);
  EXPECT_THAT(ValidateMember(kM, w, kToday),
              Rejects("family.members[2].attributes.pregnancy_order", "must be at least 1, got 0"));
  w.mutable_attributes()->set_pregnancy_order(-3);
  EXPECT_THAT(ValidateMember(kM, w, kToday), Rejects("family.members[2].attributes.pregnancy_order",
                                                     "must be at least 1, got -3"));
  w.mutable_attributes()->set_pregnancy_order(1);
  EXPECT_OK(ValidateMember(kM, w, kToday));

  w.mutable_attributes()->set_disability(static_cast<v1::Disability>(9));
  EXPECT_THAT(ValidateMember(kM, w, kToday),
              Rejects("family.members[2].attributes.disability", "unknown value 9"));
  w.mutable_attributes()->set_disability(v1::DISABILITY_MILD);
  w.mutable_attributes()->set_school_level(static_cast<v1::SchoolLevel>(77));
  EXPECT_THAT(ValidateMember(kM, w, kToday),
              Rejects("family.members[2].attributes.school_level", "unknown value 77"));
}

TEST(MemberTest, MessagesDoNotEchoOtherNiks) {
  v1::Member m = Woman();
  m.set_mother_nik("5271015203850000");  // serial 0000
  absl::Status s = ValidateMember(kM, m, kToday);
  ASSERT_THAT(s, StatusIs(kInvalid));
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr(kWomanNik)));
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("5271015203850000")));
}

// -------------------------------------------------------------- event times

// 10:00 WIB on 23 November 2026.
const absl::Time kNow =
    absl::FromCivil(absl::CivilSecond(2026, 11, 23, 10, 0, 0), absl::FixedTimeZone(7 * 3600));

void SetTs(google::protobuf::Timestamp* ts, absl::Time t) {
  ts->set_seconds(absl::ToUnixSeconds(t));
  ts->set_nanos(static_cast<int32_t>((t - absl::FromUnixSeconds(absl::ToUnixSeconds(t))) /
                                     absl::Nanoseconds(1)));
}

v1::CommandContext Ctx(absl::Time occurred) {
  v1::CommandContext ctx;
  ctx.set_request_id("req-1");
  SetTs(ctx.mutable_occurred_at(), occurred);
  return ctx;
}

TEST(EventTimesTest, RecordedDefaultsToNow) {
  absl::Time occurred, recorded;
  ASSERT_OK(ValidateEventTimes(Ctx(kNow - absl::Hours(30)), kNow, &occurred, &recorded));
  EXPECT_EQ(occurred, kNow - absl::Hours(30));
  EXPECT_EQ(recorded, kNow);
}

TEST(EventTimesTest, KeepsExplicitRecordedAt) {
  v1::CommandContext ctx = Ctx(kNow - absl::Hours(48));
  SetTs(ctx.mutable_recorded_at(), kNow - absl::Hours(1) + absl::Milliseconds(250));
  absl::Time occurred, recorded;
  ASSERT_OK(ValidateEventTimes(ctx, kNow, &occurred, &recorded));
  EXPECT_EQ(occurred, kNow - absl::Hours(48));
  EXPECT_EQ(recorded, kNow - absl::Hours(1) + absl::Milliseconds(250));
}

TEST(EventTimesTest, RecordedMayEqualOccurred) {
  v1::CommandContext ctx = Ctx(kNow - absl::Minutes(1));
  SetTs(ctx.mutable_recorded_at(), kNow - absl::Minutes(1));
  EXPECT_OK(ValidateEventTimes(ctx, kNow, nullptr, nullptr));
}

TEST(EventTimesTest, RequiresOccurredAt) {
  v1::CommandContext ctx;
  ctx.set_request_id("req-1");
  EXPECT_THAT(ValidateEventTimes(ctx, kNow, nullptr, nullptr),
              Rejects("context.occurred_at", "is required"));
}

TEST(EventTimesTest, RejectsOccurredInFuture) {
  const absl::Time future =
      absl::FromCivil(absl::CivilSecond(2027, 1, 2, 8, 0, 0), absl::FixedTimeZone(7 * 3600));
  EXPECT_THAT(ValidateEventTimes(Ctx(future), kNow, nullptr, nullptr),
              Rejects("context.occurred_at",
                      "is in the future (2027-01-02 08:00:00 WIB after 2026-11-23 10:00:00 WIB)"));
}

TEST(EventTimesTest, AllowsFiveMinutesOfSkew) {
  absl::Time occurred, recorded;
  ASSERT_OK(ValidateEventTimes(Ctx(kNow + absl::Minutes(5)), kNow, &occurred, &recorded));
  EXPECT_EQ(occurred, kNow + absl::Minutes(5));
  // A report cannot precede its event: the default recorded_at follows it.
  EXPECT_EQ(recorded, kNow + absl::Minutes(5));

  EXPECT_THAT(
      ValidateEventTimes(Ctx(kNow + absl::Minutes(5) + absl::Seconds(1)), kNow, nullptr, nullptr),
      Rejects("context.occurred_at", "is in the future (2026-11-23 10:05:01 WIB after"));
  EXPECT_THAT(ValidateEventTimes(Ctx(kNow + absl::Minutes(5) + absl::Nanoseconds(1)), kNow, nullptr,
                                 nullptr),
              Rejects("context.occurred_at", "is in the future"));
}

TEST(EventTimesTest, RecordedAtSkew) {
  v1::CommandContext ctx = Ctx(kNow - absl::Hours(1));
  SetTs(ctx.mutable_recorded_at(), kNow + absl::Minutes(5));
  EXPECT_OK(ValidateEventTimes(ctx, kNow, nullptr, nullptr));
  SetTs(ctx.mutable_recorded_at(), kNow + absl::Minutes(6));
  EXPECT_THAT(ValidateEventTimes(ctx, kNow, nullptr, nullptr),
              Rejects("context.recorded_at",
                      "is in the future (2026-11-23 10:06:00 WIB after 2026-11-23 10:00:00 WIB)"));
}

TEST(EventTimesTest, RejectsRecordedBeforeOccurred) {
  v1::CommandContext ctx = Ctx(kNow - absl::Hours(1));
  SetTs(ctx.mutable_recorded_at(), kNow - absl::Hours(2));
  absl::Time occurred = absl::InfinitePast(), recorded = absl::InfinitePast();
  EXPECT_THAT(
      ValidateEventTimes(ctx, kNow, &occurred, &recorded),
      Rejects("context.recorded_at",
              "is before occurred_at (2026-11-23 08:00:00 WIB before 2026-11-23 09:00:00 WIB)"));
  // Nothing is written on error.
  EXPECT_EQ(occurred, absl::InfinitePast());
  EXPECT_EQ(recorded, absl::InfinitePast());
}

TEST(EventTimesTest, RejectsMalformedTimestamps) {
  v1::CommandContext ctx = Ctx(kNow);
  ctx.mutable_occurred_at()->set_nanos(-1);
  EXPECT_THAT(ValidateEventTimes(ctx, kNow, nullptr, nullptr),
              Rejects("context.occurred_at", "has nanos outside 0..999999999"));
  ctx = Ctx(kNow);
  ctx.mutable_recorded_at()->set_seconds(absl::ToUnixSeconds(kNow));
  ctx.mutable_recorded_at()->set_nanos(1000000000);
  EXPECT_THAT(ValidateEventTimes(ctx, kNow, nullptr, nullptr),
              Rejects("context.recorded_at", "has nanos outside 0..999999999"));
  ctx = Ctx(kNow);
  ctx.mutable_occurred_at()->set_seconds(-62135596801);
  EXPECT_THAT(ValidateEventTimes(ctx, kNow, nullptr, nullptr),
              Rejects("context.occurred_at", "is before 1900-01-01"));
}

TEST(EventTimesTest, RejectsTimesBefore1900NamingTheField) {
  // Both times in 1800: the first one is named, never "timestamp_ms".
  v1::CommandContext ctx = Ctx(kNow);
  const int64_t in_1800 = absl::ToUnixSeconds(absl::FromCivil(absl::CivilDay(1800, 6, 1), absl::UTCTimeZone()));
  ctx.mutable_occurred_at()->set_seconds(in_1800);
  ctx.mutable_recorded_at()->set_seconds(in_1800);
  EXPECT_THAT(ValidateEventTimes(ctx, kNow, nullptr, nullptr),
              Rejects("context.occurred_at", "is before 1900-01-01"));
  ctx = Ctx(kNow);
  ctx.mutable_recorded_at()->set_seconds(in_1800);
  EXPECT_THAT(ValidateEventTimes(ctx, kNow, nullptr, nullptr),
              Rejects("context.recorded_at", "is before 1900-01-01"));
}

TEST(MemberTest, RejectsNamesThatShowNothingOrBreakText) {
  v1::Member m = Man();
  m.set_full_name(std::string("Ani\0", 4));
  EXPECT_THAT(ValidateMember(kM, m, kToday), Rejects("family.members[2].full_name", "control character U+0000"));
  m.set_full_name(std::string(1, '\0'));
  EXPECT_THAT(ValidateMember(kM, m, kToday), Rejects("family.members[2].full_name", "control character U+0000"));
  m.set_full_name("Ani\x1b[2J");
  EXPECT_THAT(ValidateMember(kM, m, kToday), Rejects("family.members[2].full_name", "control character U+001B"));
  m.set_full_name("\xE2\x80\x8B\xE2\x80\x8B");  // zero-width spaces only
  EXPECT_THAT(ValidateMember(kM, m, kToday), Rejects("family.members[2].full_name", "has only invisible characters"));
  m.set_full_name("Ani\xC3");
  EXPECT_THAT(ValidateMember(kM, m, kToday), Rejects("family.members[2].full_name", "is not valid UTF-8"));
}

// --------------------------------------------------------------- request id

TEST(RequestIdTest, Accepts) {
  EXPECT_OK(ValidateRequestId("context.request_id", "a"));
  EXPECT_OK(ValidateRequestId("context.request_id", "req-2026.11.23_Mataram:0001"));
  EXPECT_OK(ValidateRequestId("context.request_id", std::string(128, 'x')));
}

TEST(RequestIdTest, Rejects) {
  EXPECT_THAT(ValidateRequestId("context.request_id", ""),
              Rejects("context.request_id", "is required"));
  EXPECT_THAT(ValidateRequestId("context.request_id", std::string(129, 'x')),
              Rejects("context.request_id", "must be at most 128 characters, got 129"));
  EXPECT_THAT(ValidateRequestId("context.request_id", "req 1"),
              Rejects("context.request_id",
                      "character 4 (' ') is not allowed (use letters, digits and . _ : -)"));
  EXPECT_THAT(ValidateRequestId("context.request_id", "req/1"),
              Rejects("context.request_id", "character 4 ('/') is not allowed"));
  EXPECT_THAT(ValidateRequestId("context.request_id", "req\n"),
              Rejects("context.request_id", "character 4 (byte 0x0a) is not allowed"));
  EXPECT_THAT(ValidateRequestId("context.request_id", "r\xC3\xA9q"),
              Rejects("context.request_id", "character 2 (byte 0xc3) is not allowed"));
}

// --------------------------------------------------------------- assessment

v1::WelfareAssessed Assessment(const std::string& round, int decile, int64_t pmt) {
  v1::WelfareAssessed a;
  a.set_round(round);
  a.set_decile(decile);
  a.set_pmt_score_micros(pmt);
  return a;
}

TEST(AssessmentTest, Accepts) {
  EXPECT_OK(ValidateAssessment("assessment", Assessment("2026-Q1", 3, 1234567)));
  EXPECT_OK(ValidateAssessment("assessment", Assessment("2020-Q4", 1, 0)));
  EXPECT_OK(ValidateAssessment("assessment", Assessment("2100-Q2", 10, 0)));
}

TEST(AssessmentTest, RejectsRound) {
  for (const char* round : {"", "2026Q1", "2026-q1", "2026-Q", "26-Q1", "2026-Q10", "2026-Qx"}) {
    EXPECT_THAT(ValidateAssessment("assessment", Assessment(round, 3, 0)),
                Rejects("assessment.round", "must look like 2026-Q1"))
        << round;
  }
  EXPECT_THAT(ValidateAssessment("assessment", Assessment("2026-Q5", 3, 0)),
              Rejects("assessment.round", "quarter Q5 is not valid (Q1-Q4)"));
  EXPECT_THAT(ValidateAssessment("assessment", Assessment("2026-Q0", 3, 0)),
              Rejects("assessment.round", "quarter Q0 is not valid"));
  EXPECT_THAT(ValidateAssessment("assessment", Assessment("2019-Q4", 3, 0)),
              Rejects("assessment.round", "year 2019 is out of range (2020-2100)"));
  EXPECT_THAT(ValidateAssessment("assessment", Assessment("2101-Q1", 3, 0)),
              Rejects("assessment.round", "year 2101 is out of range"));
}

TEST(AssessmentTest, RejectsDecileAndScore) {
  EXPECT_THAT(ValidateAssessment("welfare_assessment", Assessment("2026-Q1", 0, 0)),
              Rejects("welfare_assessment.decile", "0 is out of range (1-10)"));
  EXPECT_THAT(ValidateAssessment("welfare_assessment", Assessment("2026-Q1", 11, 0)),
              Rejects("welfare_assessment.decile", "11 is out of range (1-10)"));
  EXPECT_THAT(ValidateAssessment("welfare_assessment", Assessment("2026-Q1", 5, -1)),
              Rejects("welfare_assessment.pmt_score_micros", "must not be negative, got -1"));
}

// ------------------------------------------------------------------ masking

TEST(MaskNikTest, KeepsFirstFourAndLastTwo) {
  EXPECT_EQ(MaskNik(kManNik), "5271**********01");
  EXPECT_EQ(MaskNik(kWomanNik), "5271**********02");
  EXPECT_EQ(MaskNik(""), "****");
  EXPECT_EQ(MaskNik("527101120385000"), "****");
  EXPECT_EQ(MaskNik("52710112038500011"), "****");
}

}  // namespace
}  // namespace jaring::population
