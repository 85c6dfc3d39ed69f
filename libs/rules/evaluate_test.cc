// Golden tests of the evaluator, written by hand from shared/domain.md's
// figures against the real rule set rules/2026.1. Every expected amount is
// worked out in the comment next to it.
#include "libs/rules/evaluate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/rules/internal/pkh_select.h"
#include "libs/rules/internal/text.h"
#include "libs/rules/rules.h"
#include "libs/testing/status_matchers.h"

namespace jaring::rules {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Pair;

// 15 March 2026: ages below are at this date.
const absl::CivilDay kAsOf(2026, 3, 15);

const LoadedRuleSet& Rules() {
  static const LoadedRuleSet* rules = [] {
    auto r = LoadRuleSet(std::string(JARING_RULES_DIR) + "/2026.1");
    if (!r.ok()) {
      ADD_FAILURE() << r.status();
      std::abort();
    }
    return new LoadedRuleSet(*std::move(r));
  }();
  return *rules;
}

// A family card under construction.
class FamilyBuilder {
 public:
  FamilyBuilder(int decile, std::string kk = "5271010101260001") {
    f_.set_kk_number(kk);
    f_.set_region_code("52.71.01.1001");
    if (decile > 0) {
      f_.mutable_latest_assessment()->set_round("2026-Q1");
      f_.mutable_latest_assessment()->set_decile(decile);
    }
  }
  // Adds a member born on y-m-d; returns its attributes to fill in.
  v1::MemberAttributes& Add(const std::string& nik, int y, int m, int d, bool alive = true) {
    v1::FamilyMember* fm = f_.add_members();
    fm->set_alive(alive);
    v1::Member* mem = fm->mutable_member();
    mem->set_nik(nik);
    mem->mutable_birth_date()->set_year(y);
    mem->mutable_birth_date()->set_month(m);
    mem->mutable_birth_date()->set_day(d);
    return *mem->mutable_attributes();
  }
  v1::MemberAttributes& School(const std::string& nik, int y, v1::SchoolLevel level, bool enrolled) {
    v1::MemberAttributes& a = Add(nik, y, 7, 1);
    a.set_school_level(level);
    a.set_school_enrolled(enrolled);
    return a;
  }
  v1::Family& family() { return f_; }

 private:
  v1::Family f_;
};

std::vector<v1::Decision> EvalAll(const v1::Family& f, const v1::RuleSet& rules = Rules().rules) {
  EvaluateOptions opts;
  // Only the repository rules have a known hash; others are hashed per call.
  if (&rules == &Rules().rules) opts.rule_hash = Rules().content_hash;
  return Evaluate(f, rules, kAsOf, opts);
}

v1::Decision Get(const std::vector<v1::Decision>& ds, const std::string& program) {
  for (const auto& d : ds) {
    if (d.program() == program) return d;
  }
  ADD_FAILURE() << "no decision for " << program;
  std::abort();
}

std::vector<std::pair<std::string, int64_t>> Stages(const v1::Decision& d) {
  std::vector<std::pair<std::string, int64_t>> out;
  for (const auto& s : d.stages()) out.emplace_back(s.period(), s.amount());
  return out;
}

std::vector<v1::ReasonCode> Codes(const v1::Decision& d) {
  std::vector<v1::ReasonCode> out;
  for (const auto& r : d.reasons()) out.push_back(r.code());
  return out;
}

// (kind, nik, amount) of the awarded components.
std::vector<std::tuple<v1::PkhComponentKind, std::string, int64_t>> Awards(const v1::Decision& d) {
  std::vector<std::tuple<v1::PkhComponentKind, std::string, int64_t>> out;
  for (const auto& c : d.components()) out.emplace_back(c.kind(), c.member_nik(), c.yearly_amount());
  return out;
}

const v1::ClauseResult* Clause(const v1::Decision& d, const std::string& id) {
  for (const auto& c : d.clauses()) {
    if (c.clause_id() == id) return &c;
  }
  return nullptr;
}

std::string Input(const v1::ClauseResult& c, const std::string& key) {
  for (const auto& in : c.inputs()) {
    if (in.key() == key) return in.value();
  }
  return "<missing>";
}

using K = v1::PkhComponentKind;
constexpr K kPregnancy = v1::PKH_COMPONENT_KIND_PREGNANCY;
constexpr K kEarly = v1::PKH_COMPONENT_KIND_EARLY_CHILD;
constexpr K kPrimary = v1::PKH_COMPONENT_KIND_PRIMARY;
constexpr K kJunior = v1::PKH_COMPONENT_KIND_JUNIOR_SECONDARY;
constexpr K kSenior = v1::PKH_COMPONENT_KIND_SENIOR_SECONDARY;
constexpr K kDisability = v1::PKH_COMPONENT_KIND_SEVERE_DISABILITY;
constexpr K kElderly = v1::PKH_COMPONENT_KIND_ELDERLY;

// The issue's example: a decile-3 family, a pregnant mother (first
// pregnancy), children in primary and junior school (both enrolled) and a
// grandmother of 72.
FamilyBuilder Example() {
  FamilyBuilder b(3);
  b.Add("5271010505850001", 1985, 5, 5);  // father, 40: no component
  v1::MemberAttributes& mother = b.Add("5271015002900002", 1990, 2, 10);
  mother.set_pregnant(true);
  mother.set_pregnancy_order(1);
  b.School("5271010107170003", 2017, v1::SCHOOL_LEVEL_PRIMARY, true);           // 8
  b.School("5271010107130004", 2013, v1::SCHOOL_LEVEL_JUNIOR_SECONDARY, true);  // 12
  b.Add("5271014106530005", 1953, 6, 1);  // grandmother, 72
  return b;
}

TEST(PkhGolden, IssueExampleFamily) {
  FamilyBuilder b = Example();
  const auto ds = EvalAll(b.family());
  const v1::Decision& pkh = Get(ds, "PKH");
  EXPECT_TRUE(pkh.eligible());
  // 3,000,000 + 900,000 + 1,500,000 + 2,400,000.
  EXPECT_EQ(pkh.yearly_amount(), 7'800'000);
  EXPECT_THAT(Stages(pkh), ElementsAre(Pair("2026-Q1", 1'950'000), Pair("2026-Q2", 1'950'000),
                                       Pair("2026-Q3", 1'950'000), Pair("2026-Q4", 1'950'000)));
  // Ordered by NIK.
  EXPECT_THAT(Awards(pkh), ElementsAre(std::make_tuple(kJunior, "5271010107130004", 1'500'000),
                                       std::make_tuple(kPrimary, "5271010107170003", 900'000),
                                       std::make_tuple(kElderly, "5271014106530005", 2'400'000),
                                       std::make_tuple(kPregnancy, "5271015002900002", 3'000'000)));
  ASSERT_THAT(Codes(pkh), ElementsAre(v1::REASON_CODE_ELIGIBLE));
  EXPECT_EQ(pkh.reasons(0).text_id(), "Layak: desil 3 dalam batas 4; 4 komponen, Rp7.800.000 per tahun");
  EXPECT_EQ(pkh.reasons(0).text_en(),
            "Eligible: decile 3 is within the limit of 4; 4 components, Rp7,800,000 a year");
  EXPECT_EQ(pkh.rule_version(), "2026.1");
  EXPECT_EQ(pkh.rule_hash(), Rules().content_hash);
  EXPECT_EQ(pkh.dtsen_round(), "2026-Q1");
  EXPECT_EQ(pkh.decile(), 3);
  EXPECT_EQ(pkh.kk_number(), "5271010101260001");
  EXPECT_EQ(pkh.region_code(), "52.71.01.1001");
  EXPECT_EQ(pkh.as_of().year(), 2026);
  EXPECT_EQ(pkh.as_of().month(), 3);
  EXPECT_EQ(pkh.as_of().day(), 15);
  EXPECT_TRUE(pkh.inputs().empty());  // the service fills them

  // The same family under the other programs.
  const v1::Decision& bpnt = Get(ds, "BPNT");
  EXPECT_TRUE(bpnt.eligible());
  EXPECT_EQ(bpnt.yearly_amount(), 2'400'000);
  const v1::Decision& pbi = Get(ds, "PBI_JK");
  EXPECT_TRUE(pbi.eligible());
  EXPECT_EQ(pbi.pbi_jk().priority(), v1::PBI_JK_PRIORITY_SECOND);
  EXPECT_EQ(pbi.pbi_jk().covered_members(), 5);
  EXPECT_EQ(pbi.yearly_amount(), 42'000 * 5 * 12);  // 2,520,000
  const v1::Decision& blt = Get(ds, "BLT_DD");
  EXPECT_FALSE(blt.eligible());
  EXPECT_THAT(Codes(blt), ElementsAre(v1::REASON_CODE_DECILE_ABOVE_LIMIT));
  EXPECT_EQ(blt.reasons(0).text_id(), "Desil 3 di atas batas 1");
  EXPECT_EQ(blt.reasons(0).text_en(), "Decile 3 is above the limit of 1");
}

TEST(PkhGolden, FiveCandidatesGetTheBestFour) {
  FamilyBuilder b(2);
  v1::MemberAttributes& mother = b.Add("5271014101950001", 1995, 1, 1);
  mother.set_pregnant(true);
  mother.set_pregnancy_order(2);                                              // 3,000,000
  b.Add("5271014101600002", 1960, 1, 1);                                      // 66: elderly 2,400,000
  b.Add("5271010101800003", 1980, 1, 1).set_disability(v1::DISABILITY_SEVERE);  // 2,400,000
  b.School("5271010101090004", 2009, v1::SCHOOL_LEVEL_SENIOR_SECONDARY, true);  // 2,000,000
  b.School("5271010101180005", 2018, v1::SCHOOL_LEVEL_PRIMARY, true);           // 900,000
  const v1::Decision& pkh = Get(EvalAll(b.family()), "PKH");
  EXPECT_TRUE(pkh.eligible());
  // 3,000,000 + 2,400,000 + 2,400,000 + 2,000,000; the primary child's
  // 900,000 is the one left out.
  EXPECT_EQ(pkh.yearly_amount(), 9'800'000);
  EXPECT_EQ(pkh.components_size(), 4);
  for (const auto& c : pkh.components()) EXPECT_NE(c.kind(), kPrimary);
  ASSERT_THAT(Codes(pkh), ElementsAre(v1::REASON_CODE_ELIGIBLE, v1::REASON_CODE_CAP_APPLIED));
  EXPECT_EQ(pkh.reasons(1).text_id(), "Komponen dibatasi paling banyak 4; 5 anggota memenuhi syarat; 1 anggota tanpa komponen");
  EXPECT_EQ(pkh.reasons(1).text_en(), "Components are capped at 4; 5 members qualify; 1 member left without a component");
  EXPECT_FALSE(Clause(pkh, "pkh.cap.max_components")->passed());
  EXPECT_TRUE(Clause(pkh, "pkh.cap.max_children")->passed());
}

TEST(PkhGolden, AtMostThreeChildrenTheHighestThree) {
  FamilyBuilder b(4);
  b.School("5271010101100001", 2010, v1::SCHOOL_LEVEL_SENIOR_SECONDARY, true);  // 2,000,000
  b.School("5271010101120002", 2012, v1::SCHOOL_LEVEL_JUNIOR_SECONDARY, true);  // 1,500,000
  b.School("5271010101130003", 2013, v1::SCHOOL_LEVEL_JUNIOR_SECONDARY, true);  // 1,500,000
  b.School("5271010101170004", 2017, v1::SCHOOL_LEVEL_PRIMARY, true);           // 900,000
  const v1::Decision& pkh = Get(EvalAll(b.family()), "PKH");
  EXPECT_EQ(pkh.yearly_amount(), 5'000'000);  // 2,000,000 + 1,500,000 + 1,500,000
  EXPECT_THAT(Awards(pkh), ElementsAre(std::make_tuple(kSenior, "5271010101100001", 2'000'000),
                                       std::make_tuple(kJunior, "5271010101120002", 1'500'000),
                                       std::make_tuple(kJunior, "5271010101130003", 1'500'000)));
  ASSERT_THAT(Codes(pkh), ElementsAre(v1::REASON_CODE_ELIGIBLE, v1::REASON_CODE_CAP_APPLIED));
  EXPECT_EQ(pkh.reasons(1).text_id(), "Anak dibatasi paling banyak 3; 4 anak memenuhi syarat; 1 anggota tanpa komponen");
  EXPECT_EQ(pkh.reasons(1).text_en(), "Children are capped at 3; 4 children qualify; 1 member left without a component");
  // Four members qualify for the 4-component cap, so that cap is not what
  // bit: only the children cap is reported.
  EXPECT_TRUE(Clause(pkh, "pkh.cap.max_components")->passed());
  EXPECT_FALSE(Clause(pkh, "pkh.cap.max_children")->passed());
}

TEST(PkhGolden, AtMostTwoUnderSixTieGoesToLowerNiks) {
  FamilyBuilder b(1);
  b.Add("5271010303240003", 2024, 3, 3);  // 2
  b.Add("5271010101220001", 2022, 1, 1);  // 4
  b.Add("5271010202230002", 2023, 2, 2);  // 3
  const v1::Decision& pkh = Get(EvalAll(b.family()), "PKH");
  EXPECT_EQ(pkh.yearly_amount(), 6'000'000);  // 2 x 3,000,000
  // All three pay the same: the two lowest NIKs win (docs/rules.md).
  EXPECT_THAT(Awards(pkh), ElementsAre(std::make_tuple(kEarly, "5271010101220001", 3'000'000),
                                       std::make_tuple(kEarly, "5271010202230002", 3'000'000)));
  ASSERT_THAT(Codes(pkh), ElementsAre(v1::REASON_CODE_ELIGIBLE, v1::REASON_CODE_CAP_APPLIED));
  EXPECT_EQ(pkh.reasons(1).text_id(), "Anak usia dini dibatasi paling banyak 2; 3 anak memenuhi syarat; 1 anggota tanpa komponen");
  EXPECT_EQ(pkh.reasons(1).text_en(), "Early-childhood children are capped at 2; 3 children qualify; 1 member left without a component");
  const v1::ClauseResult* left_out = Clause(pkh, "pkh.component.early_child:5271010303240003");
  ASSERT_NE(left_out, nullptr);
  EXPECT_TRUE(left_out->passed());
  EXPECT_EQ(Input(*left_out, "awarded"), "false");
}

TEST(PkhGolden, AtSixTheEarlyChildComponentEnds) {
  FamilyBuilder b(3);
  b.Add("5271010101200001", 2020, 3, 16);  // 5 until 16 March 2026
  b.Add("5271010101200002", 2020, 3, 15);  // 6 on the day
  const v1::Decision& pkh = Get(EvalAll(b.family()), "PKH");
  EXPECT_THAT(Awards(pkh), ElementsAre(std::make_tuple(kEarly, "5271010101200001", 3'000'000)));
}

TEST(PkhGolden, ThirdPregnancyHasNoComponent) {
  FamilyBuilder b(3);
  v1::MemberAttributes& mother = b.Add("5271014101950001", 1995, 1, 1);
  mother.set_pregnant(true);
  mother.set_pregnancy_order(3);
  b.School("5271010101170002", 2017, v1::SCHOOL_LEVEL_PRIMARY, true);
  const v1::Decision& pkh = Get(EvalAll(b.family()), "PKH");
  EXPECT_EQ(pkh.yearly_amount(), 900'000);
  EXPECT_THAT(Awards(pkh), ElementsAre(std::make_tuple(kPrimary, "5271010101170002", 900'000)));
  ASSERT_THAT(Codes(pkh), ElementsAre(v1::REASON_CODE_ELIGIBLE, v1::REASON_CODE_PREGNANCY_ORDER_ABOVE_LIMIT));
  EXPECT_EQ(pkh.reasons(1).text_id(), "Kehamilan ke-3 di atas batas kehamilan ke-2");
  EXPECT_EQ(pkh.reasons(1).text_en(), "Pregnancy number 3 is above the limit of 2");
  const v1::ClauseResult* c = Clause(pkh, "pkh.component.pregnancy:5271014101950001");
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->passed());
  EXPECT_EQ(Input(*c, "pregnancy_order"), "3");
  EXPECT_EQ(Input(*c, "max_pregnancy_order"), "2");

  // The second pregnancy still counts.
  mother.set_pregnancy_order(2);
  EXPECT_EQ(Get(EvalAll(b.family()), "PKH").yearly_amount(), 3'900'000);
  // A pregnancy of unknown order does not.
  mother.clear_pregnancy_order();
  const v1::Decision& unknown = Get(EvalAll(b.family()), "PKH");
  EXPECT_EQ(unknown.yearly_amount(), 900'000);
  EXPECT_EQ(unknown.reasons(1).text_en(), "The pregnancy's order is unknown; no pregnancy component");
}

TEST(PkhGolden, SchoolComponentsNeedEnrolment) {
  FamilyBuilder b(2);
  b.School("5271010101120001", 2012, v1::SCHOOL_LEVEL_JUNIOR_SECONDARY, false);
  const v1::Decision& pkh = Get(EvalAll(b.family()), "PKH");
  EXPECT_FALSE(pkh.eligible());
  EXPECT_EQ(pkh.yearly_amount(), 0);
  EXPECT_TRUE(pkh.stages().empty());
  ASSERT_THAT(Codes(pkh), ElementsAre(v1::REASON_CODE_NO_COMPONENT, v1::REASON_CODE_NOT_ENROLLED));
  EXPECT_EQ(pkh.reasons(0).text_id(), "Tidak ada anggota yang memenuhi komponen PKH");
  EXPECT_EQ(pkh.reasons(1).text_id(), "1 anak tidak terdaftar di sekolah (Dapodik); komponen sekolah tidak diberikan");
  EXPECT_EQ(pkh.reasons(1).text_en(), "1 child is not enrolled in school (Dapodik); no school component");
  const v1::ClauseResult* c = Clause(pkh, "pkh.component.junior_secondary:5271010101120001");
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->passed());
  EXPECT_EQ(Input(*c, "school_enrolled"), "false");
  // Not eligible for PKH, but decile 2 still gets BPNT.
  EXPECT_TRUE(Get(EvalAll(b.family()), "BPNT").eligible());
}

TEST(PkhGolden, DisabledAndElderlyCountsOnceAtTheHighest) {
  FamilyBuilder b(3);
  b.Add("5271014101500001", 1950, 1, 1).set_disability(v1::DISABILITY_SEVERE);  // 76, severely disabled
  const v1::Decision& pkh = Get(EvalAll(b.family()), "PKH");
  EXPECT_EQ(pkh.yearly_amount(), 2'400'000);
  // Both pay 2,400,000: the lower kind number (SEVERE_DISABILITY) is named.
  EXPECT_THAT(Awards(pkh), ElementsAre(std::make_tuple(kDisability, "5271014101500001", 2'400'000)));
  EXPECT_TRUE(Clause(pkh, "pkh.component.elderly:5271014101500001")->passed());
  EXPECT_EQ(Input(*Clause(pkh, "pkh.component.elderly:5271014101500001"), "awarded"), "false");
}

TEST(PkhGolden, YoungDisabledChildTakesDisabilityWhenUnderSixIsFull) {
  // Three children under six, one severely disabled: two get the
  // early-childhood component, the disabled child the disability component
  // (each person counts once, and this is the highest allowed total).
  FamilyBuilder b(3);
  b.Add("5271010101220001", 2022, 1, 1);
  b.Add("5271010101230002", 2023, 1, 1).set_disability(v1::DISABILITY_SEVERE);
  b.Add("5271010101240003", 2024, 1, 1);
  const v1::Decision& pkh = Get(EvalAll(b.family()), "PKH");
  EXPECT_EQ(pkh.yearly_amount(), 8'400'000);  // 3,000,000 x 2 + 2,400,000
  EXPECT_THAT(Awards(pkh), ElementsAre(std::make_tuple(kEarly, "5271010101220001", 3'000'000),
                                       std::make_tuple(kDisability, "5271010101230002", 2'400'000),
                                       std::make_tuple(kEarly, "5271010101240003", 3'000'000)));
}

TEST(PkhGolden, CapsTogether) {
  // Pregnant mother, 3 under six, 2 school children, grandfather 70:
  // candidates 3,000,000 x 4, 2,000,000, 1,500,000, 2,400,000. Caps: 4
  // components, 3 children, 2 under six. Best: pregnancy 3,000,000 +
  // 2 under six 6,000,000 + elderly 2,400,000 = 11,400,000.
  FamilyBuilder b(1);
  v1::MemberAttributes& mother = b.Add("5271014101950001", 1995, 1, 1);
  mother.set_pregnant(true);
  mother.set_pregnancy_order(1);
  b.Add("5271010101210002", 2021, 1, 1);
  b.Add("5271010101220003", 2022, 1, 1);
  b.Add("5271010101230004", 2023, 1, 1);
  b.School("5271010101090005", 2009, v1::SCHOOL_LEVEL_SENIOR_SECONDARY, true);
  b.School("5271010101120006", 2012, v1::SCHOOL_LEVEL_JUNIOR_SECONDARY, true);
  b.Add("5271010101560007", 1956, 1, 1);
  const v1::Decision& pkh = Get(EvalAll(b.family()), "PKH");
  EXPECT_EQ(pkh.yearly_amount(), 11'400'000);
  EXPECT_EQ(pkh.components_size(), 4);
  EXPECT_THAT(Stages(pkh), ElementsAre(Pair("2026-Q1", 2'850'000), Pair("2026-Q2", 2'850'000),
                                       Pair("2026-Q3", 2'850'000), Pair("2026-Q4", 2'850'000)));
  int under_six = 0, children = 0;
  for (const auto& c : pkh.components()) {
    under_six += c.kind() == kEarly;
    children += c.kind() == kEarly || c.kind() == kPrimary || c.kind() == kJunior || c.kind() == kSenior;
  }
  EXPECT_LE(under_six, 2);
  EXPECT_LE(children, 3);
}

TEST(PkhGolden, UndividedRemainderGoesToTheLastStage) {
  v1::RuleSet rules = Rules().rules;
  for (auto& p : *rules.mutable_programs()) {
    if (p.has_pkh()) p.mutable_pkh()->mutable_components(2)->set_yearly_amount(900'003);  // PRIMARY
  }
  FamilyBuilder b(3);
  b.School("5271010101170001", 2017, v1::SCHOOL_LEVEL_PRIMARY, true);
  const v1::Decision& pkh = Get(Evaluate(b.family(), rules, kAsOf), "PKH");
  EXPECT_EQ(pkh.yearly_amount(), 900'003);
  EXPECT_THAT(Stages(pkh), ElementsAre(Pair("2026-Q1", 225'000), Pair("2026-Q2", 225'000),
                                       Pair("2026-Q3", 225'000), Pair("2026-Q4", 225'003)));
  EXPECT_EQ(pkh.rule_hash(), ContentHash(rules));  // computed when not given
  EXPECT_NE(pkh.rule_hash(), Rules().content_hash);
}

TEST(DecileGolden, DecileSixIsAboveTheLimit) {
  FamilyBuilder b = Example();
  b.family().mutable_latest_assessment()->set_decile(6);
  const auto ds = EvalAll(b.family());
  for (const std::string program : {"PKH", "BPNT"}) {
    const v1::Decision& d = Get(ds, program);
    EXPECT_FALSE(d.eligible()) << program;
    EXPECT_EQ(d.yearly_amount(), 0);
    EXPECT_TRUE(d.components().empty());
    ASSERT_THAT(Codes(d), ElementsAre(v1::REASON_CODE_DECILE_ABOVE_LIMIT)) << program;
    EXPECT_EQ(d.reasons(0).text_id(), "Desil 6 di atas batas 4");
    EXPECT_EQ(d.reasons(0).text_en(), "Decile 6 is above the limit of 4");
  }
  const v1::Decision& pbi = Get(ds, "PBI_JK");
  EXPECT_FALSE(pbi.eligible());
  ASSERT_THAT(Codes(pbi), ElementsAre(v1::REASON_CODE_DECILE_NOT_COVERED));
  EXPECT_EQ(pbi.reasons(0).text_id(), "Desil 6 tidak ditanggung PBI_JK (desil 6-10)");
  EXPECT_EQ(pbi.reasons(0).text_en(), "Decile 6 is not covered by PBI_JK (deciles 6-10)");
  EXPECT_EQ(pbi.pbi_jk().priority(), v1::PBI_JK_PRIORITY_NONE);
}

TEST(DecileGolden, NoAssessmentIsNotEligibleAnywhere) {
  FamilyBuilder b = Example();
  b.family().clear_latest_assessment();
  for (const auto& d : EvalAll(b.family())) {
    EXPECT_FALSE(d.eligible()) << d.program();
    ASSERT_THAT(Codes(d), ElementsAre(v1::REASON_CODE_NO_ASSESSMENT)) << d.program();
    EXPECT_EQ(d.reasons(0).text_id(), "Belum ada penilaian desil DTSEN untuk keluarga ini");
    EXPECT_EQ(d.reasons(0).text_en(), "The family has no DTSEN decile assessment");
    EXPECT_EQ(d.dtsen_round(), "");
    EXPECT_EQ(d.decile(), 0);
  }
  // An assessment with decile 0 (not ranked) is no assessment either.
  b.family().mutable_latest_assessment()->set_round("2026-Q1");
  EXPECT_THAT(Codes(Get(EvalAll(b.family()), "PKH")), ElementsAre(v1::REASON_CODE_NO_ASSESSMENT));
}

TEST(BpntGolden, DecileFourGetsTwoMonthlyPayments) {
  FamilyBuilder b(4);
  b.Add("5271010505850001", 1985, 5, 5);
  const v1::Decision& bpnt = Get(EvalAll(b.family()), "BPNT");
  EXPECT_TRUE(bpnt.eligible());
  EXPECT_EQ(bpnt.yearly_amount(), 2'400'000);  // 200,000 x 12
  EXPECT_THAT(Stages(bpnt), ElementsAre(Pair("2026-01/02", 400'000), Pair("2026-03/04", 400'000),
                                        Pair("2026-05/06", 400'000), Pair("2026-07/08", 400'000),
                                        Pair("2026-09/10", 400'000), Pair("2026-11/12", 400'000)));
  EXPECT_EQ(bpnt.stages(1).first_month(), 3);
  EXPECT_EQ(bpnt.stages(1).month_count(), 2);
  ASSERT_THAT(Codes(bpnt), ElementsAre(v1::REASON_CODE_ELIGIBLE));
  EXPECT_EQ(bpnt.reasons(0).text_id(), "Layak: desil 4 dalam batas 4; Rp200.000 per bulan, Rp2.400.000 per tahun");
  EXPECT_EQ(bpnt.reasons(0).text_en(),
            "Eligible: decile 4 is within the limit of 4; Rp200,000 a month, Rp2,400,000 a year");
  // Decile 5 is not.
  b.family().mutable_latest_assessment()->set_decile(5);
  EXPECT_EQ(Get(EvalAll(b.family()), "BPNT").reasons(0).text_en(), "Decile 5 is above the limit of 4");
}

TEST(PbiJkGolden, BandsAndPriorities) {
  struct Row {
    int decile;
    bool covered;
    v1::PbiJkPriority priority;
  };
  const Row rows[] = {
      {1, true, v1::PBI_JK_PRIORITY_FIRST},     {2, true, v1::PBI_JK_PRIORITY_FIRST},
      {3, true, v1::PBI_JK_PRIORITY_SECOND},    {4, true, v1::PBI_JK_PRIORITY_SECOND},
      {5, true, v1::PBI_JK_PRIORITY_POSSIBLE},  {6, false, v1::PBI_JK_PRIORITY_NONE},
      {9, false, v1::PBI_JK_PRIORITY_NONE},     {10, false, v1::PBI_JK_PRIORITY_NONE},
  };
  for (const Row& row : rows) {
    FamilyBuilder b(row.decile);
    b.Add("5271010505850001", 1985, 5, 5);
    b.Add("5271015002900002", 1990, 2, 10);
    b.Add("5271010107170003", 2017, 7, 1);
    b.Add("5271014106530005", 1953, 6, 1, /*alive=*/false);
    const v1::Decision& pbi = Get(EvalAll(b.family()), "PBI_JK");
    EXPECT_EQ(pbi.eligible(), row.covered) << row.decile;
    EXPECT_EQ(pbi.pbi_jk().priority(), row.priority) << row.decile;
    EXPECT_EQ(pbi.pbi_jk().premium_per_member_monthly(), 42'000);
    if (row.covered) {
      // 3 living members x Rp42,000 x 12 months = Rp1,512,000, monthly.
      EXPECT_EQ(pbi.pbi_jk().covered_members(), 3);
      EXPECT_EQ(pbi.yearly_amount(), 1'512'000);
      ASSERT_EQ(pbi.stages_size(), 12);
      EXPECT_EQ(pbi.stages(0).period(), "2026-01");
      EXPECT_EQ(pbi.stages(11).amount(), 126'000);
    } else {
      EXPECT_EQ(pbi.yearly_amount(), 0);
      EXPECT_EQ(pbi.pbi_jk().covered_members(), 0);
    }
  }
  FamilyBuilder b(3);
  b.Add("5271010505850001", 1985, 5, 5);
  const v1::Decision& pbi = Get(EvalAll(b.family()), "PBI_JK");
  EXPECT_EQ(pbi.reasons(0).text_id(), "Layak: desil 3 termasuk prioritas kedua; iuran 1 anggota ditanggung, Rp504.000 per tahun");
  EXPECT_EQ(pbi.reasons(0).text_en(),
            "Eligible: decile 3 is in the second priority band; premiums of 1 member are paid, Rp504,000 a year");
  const v1::ClauseResult* band = Clause(pbi, "pbi_jk.band");
  ASSERT_NE(band, nullptr);
  EXPECT_EQ(Input(*band, "band_deciles"), "3-4");
  EXPECT_EQ(Input(*band, "priority"), "PBI_JK_PRIORITY_SECOND");
}

TEST(BltDdGolden, ExcludedWhenEligibleForPkhOrBpnt) {
  FamilyBuilder b = Example();
  b.family().mutable_latest_assessment()->set_decile(1);
  const auto ds = EvalAll(b.family());
  EXPECT_TRUE(Get(ds, "PKH").eligible());
  const v1::Decision& blt = Get(ds, "BLT_DD");
  EXPECT_FALSE(blt.eligible());
  EXPECT_EQ(blt.yearly_amount(), 0);
  EXPECT_TRUE(blt.stages().empty());
  ASSERT_THAT(Codes(blt), ElementsAre(v1::REASON_CODE_EXCLUDED_BY_PROGRAM, v1::REASON_CODE_EXCLUDED_BY_PROGRAM));
  EXPECT_EQ(blt.reasons(0).text_id(), "Sudah layak PKH; BLT_DD tidak diberikan bersamaan dengan PKH");
  EXPECT_EQ(blt.reasons(0).text_en(), "Already eligible for PKH; BLT_DD is not given together with PKH");
  EXPECT_EQ(blt.reasons(1).text_en(), "Already eligible for BPNT; BLT_DD is not given together with BPNT");
  EXPECT_FALSE(Clause(blt, "blt_dd.excluded_if.PKH")->passed());
  EXPECT_TRUE(Clause(blt, "blt_dd.decile")->passed());
}

TEST(BltDdGolden, EligibleWhenNotCoveredByTheExcludingPrograms) {
  // A decile-1 family with no PKH component: with the repository rules BPNT
  // still covers it, so BLT-DD is excluded by BPNT alone.
  FamilyBuilder b(1);
  b.Add("5271010505850001", 1985, 5, 5);
  b.Add("5271015002900002", 1990, 2, 10);
  const auto ds = EvalAll(b.family());
  EXPECT_FALSE(Get(ds, "PKH").eligible());
  EXPECT_THAT(Codes(Get(ds, "BLT_DD")), ElementsAre(v1::REASON_CODE_EXCLUDED_BY_PROGRAM));
  EXPECT_EQ(Get(ds, "BLT_DD").reasons(0).text_en(),
            "Already eligible for BPNT; BLT_DD is not given together with BPNT");

  // Configured to be exclusive with PKH only: eligible, Rp300,000 x 12.
  v1::RuleSet rules = Rules().rules;
  for (auto& p : *rules.mutable_programs()) {
    if (p.program_id() == "BLT_DD") {
      p.clear_excluded_if_eligible_for();
      p.add_excluded_if_eligible_for("PKH");
    }
  }
  ASSERT_OK(ValidateRuleSet(rules));
  const v1::Decision& blt = Get(Evaluate(b.family(), rules, kAsOf), "BLT_DD");
  EXPECT_TRUE(blt.eligible());
  EXPECT_EQ(blt.yearly_amount(), 3'600'000);
  ASSERT_EQ(blt.stages_size(), 12);
  for (const auto& s : blt.stages()) EXPECT_EQ(s.amount(), 300'000);
  EXPECT_EQ(blt.stages(2).period(), "2026-03");
  EXPECT_EQ(blt.reasons(0).text_id(), "Layak: desil 1 dalam batas 1; Rp300.000 per bulan, Rp3.600.000 per tahun");
  EXPECT_TRUE(Clause(blt, "blt_dd.excluded_if.PKH")->passed());
  EXPECT_EQ(Input(*Clause(blt, "blt_dd.excluded_if.PKH"), "eligible"), "false");
}

TEST(DeadMembers, DoNotCount) {
  FamilyBuilder b = Example();
  // The grandmother (72) has died: PKH loses the elderly component.
  b.family().mutable_members(4)->set_alive(false);
  const auto ds = EvalAll(b.family());
  const v1::Decision& pkh = Get(ds, "PKH");
  EXPECT_EQ(pkh.yearly_amount(), 5'400'000);  // 3,000,000 + 900,000 + 1,500,000
  EXPECT_EQ(pkh.components_size(), 3);
  EXPECT_EQ(Clause(pkh, "pkh.component.elderly:5271014106530005"), nullptr);
  EXPECT_EQ(Input(*Clause(pkh, "pkh.living_members"), "living_members"), "4");
  EXPECT_EQ(Get(ds, "PBI_JK").pbi_jk().covered_members(), 4);

  // Nobody alive: nothing anywhere.
  for (auto& m : *b.family().mutable_members()) m.set_alive(false);
  for (const auto& d : EvalAll(b.family())) {
    EXPECT_FALSE(d.eligible()) << d.program();
    EXPECT_THAT(Codes(d), Contains(v1::REASON_CODE_NO_LIVING_MEMBER)) << d.program();
  }
}

TEST(Explain, ListsEveryClauseWithInputsAndResult) {
  FamilyBuilder b = Example();
  const v1::Decision& pkh = Get(EvalAll(b.family()), "PKH");
  // 3 gate clauses, 7 components x 5 living members, 3 caps, at least one.
  EXPECT_EQ(pkh.clauses_size(), 3 + 35 + 3 + 1);
  std::vector<std::string> ids;
  for (const auto& c : pkh.clauses()) ids.push_back(c.clause_id());
  EXPECT_EQ(ids[0], "pkh.assessment");
  EXPECT_EQ(ids[1], "pkh.decile");
  EXPECT_EQ(ids[2], "pkh.living_members");
  EXPECT_EQ(ids.back(), "pkh.at_least_one_component");

  const v1::ClauseResult* decile = Clause(pkh, "pkh.decile");
  EXPECT_TRUE(decile->passed());
  EXPECT_EQ(decile->description_id(), "Desil paling tinggi 4");
  EXPECT_EQ(decile->description_en(), "Decile at most 4");
  EXPECT_EQ(Input(*decile, "decile"), "3");
  EXPECT_EQ(Input(*decile, "max_decile"), "4");

  const v1::ClauseResult* elderly = Clause(pkh, "pkh.component.elderly:5271014106530005");
  ASSERT_NE(elderly, nullptr);
  EXPECT_TRUE(elderly->passed());
  EXPECT_EQ(elderly->description_id(), "Lanjut usia (usia 60 tahun ke atas): Rp2.400.000 per tahun");
  EXPECT_EQ(elderly->description_en(), "Elderly person (aged 60 or over): Rp2,400,000 a year");
  EXPECT_EQ(Input(*elderly, "age"), "72");
  EXPECT_EQ(Input(*elderly, "awarded"), "true");

  const v1::ClauseResult* primary = Clause(pkh, "pkh.component.primary:5271010107170003");
  ASSERT_NE(primary, nullptr);
  EXPECT_EQ(primary->description_en(), "Child in primary school, enrolled (Dapodik): Rp900,000 a year");
  EXPECT_EQ(Input(*primary, "school_level"), "SCHOOL_LEVEL_PRIMARY");
  EXPECT_EQ(Input(*primary, "school_enrolled"), "true");

  const v1::ClauseResult* father = Clause(pkh, "pkh.component.elderly:5271010505850001");
  ASSERT_NE(father, nullptr);
  EXPECT_FALSE(father->passed());
  EXPECT_EQ(Input(*father, "age"), "40");

  const v1::ClauseResult* cap = Clause(pkh, "pkh.cap.max_components");
  EXPECT_TRUE(cap->passed());
  EXPECT_EQ(Input(*cap, "qualifying"), "4");
  EXPECT_EQ(Input(*cap, "max"), "4");

  // Every clause has both descriptions and at least one input.
  for (const auto& d : EvalAll(b.family())) {
    EXPECT_FALSE(d.clauses().empty()) << d.program();
    for (const auto& c : d.clauses()) {
      EXPECT_FALSE(c.description_id().empty()) << c.clause_id();
      EXPECT_FALSE(c.description_en().empty()) << c.clause_id();
      EXPECT_FALSE(c.inputs().empty()) << c.clause_id();
    }
  }
  const v1::Decision& blt = Get(EvalAll(b.family()), "BLT_DD");
  std::vector<std::string> blt_ids;
  for (const auto& c : blt.clauses()) blt_ids.push_back(c.clause_id() + (c.passed() ? " pass" : " fail"));
  EXPECT_THAT(blt_ids, ElementsAre("blt_dd.assessment pass", "blt_dd.decile fail", "blt_dd.living_members pass",
                                   "blt_dd.excluded_if.PKH fail", "blt_dd.excluded_if.BPNT fail"));
}

TEST(Explain, OffGivesTheSameDecisionWithoutClauses) {
  FamilyBuilder b = Example();
  EvaluateOptions opts;
  opts.rule_hash = Rules().content_hash;
  opts.explain = false;
  const auto lean = Evaluate(b.family(), Rules().rules, kAsOf, opts);
  const auto full = EvalAll(b.family());
  ASSERT_EQ(lean.size(), full.size());
  for (size_t i = 0; i < lean.size(); ++i) {
    EXPECT_TRUE(lean[i].clauses().empty());
    v1::Decision stripped = full[i];
    stripped.clear_clauses();
    EXPECT_EQ(lean[i].SerializeAsString(), stripped.SerializeAsString()) << full[i].program();
  }
}

TEST(Determinism, CardOrderDoesNotMatter) {
  FamilyBuilder b = Example();
  const auto a = EvalAll(b.family());
  v1::Family reversed = b.family();
  std::reverse(reversed.mutable_members()->begin(), reversed.mutable_members()->end());
  const auto r = EvalAll(reversed);
  ASSERT_EQ(a.size(), r.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].SerializeAsString(), r[i].SerializeAsString()) << a[i].program();
  }
  // And the same input twice is the same output.
  const auto again = EvalAll(b.family());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].SerializeAsString(), again[i].SerializeAsString());
}

TEST(Decisions, OnePerProgramInRuleSetOrder) {
  FamilyBuilder b = Example();
  std::vector<std::string> programs;
  for (const auto& d : EvalAll(b.family())) programs.push_back(d.program());
  EXPECT_THAT(programs, ElementsAre("BLT_DD", "BPNT", "PBI_JK", "PKH"));
}

// ---------------------------------------------------------------- caps together
//
// Every combination of caps that can bind together, each with the cut
// member named on their clauses and every cap clause saying what it
// removed. (Each cap alone: FiveCandidatesGetTheBestFour,
// AtMostThreeChildrenTheHighestThree, AtMostTwoUnderSixTieGoesToLowerNiks,
// YoungDisabledChildTakesDisabilityWhenUnderSixIsFull.)

// The rules with every PKH component of `kinds` paying `amount`.
v1::RuleSet WithAmount(std::initializer_list<K> kinds, int64_t amount) {
  v1::RuleSet rules = Rules().rules;
  for (auto& p : *rules.mutable_programs()) {
    if (!p.has_pkh()) continue;
    for (auto& c : *p.mutable_pkh()->mutable_components()) {
      if (std::find(kinds.begin(), kinds.end(), c.kind()) != kinds.end()) c.set_yearly_amount(amount);
    }
  }
  return rules;
}

std::vector<std::string> ReasonsEn(const v1::Decision& d) {
  std::vector<std::string> out;
  for (const auto& r : d.reasons()) out.push_back(r.text_en());
  return out;
}

// The inputs of a cap clause that say what it removed.
std::vector<std::string> Removed(const v1::Decision& d, const std::string& cap) {
  const v1::ClauseResult* c = Clause(d, "pkh.cap." + cap);
  if (c == nullptr) return {"<no clause>"};
  return {c->passed() ? "passed" : "failed", Input(*c, "removed"), Input(*c, "removed_members"),
          Input(*c, "together_with")};
}

// A decile-1 family of three children under six (4, 3 and 2 years old).
FamilyBuilder ThreeUnderSix() {
  FamilyBuilder b(1);
  b.Add("5271010101210001", 2021, 1, 1);
  b.Add("5271010101220002", 2022, 1, 1);
  b.Add("5271010101230003", 2023, 1, 1);
  return b;
}

TEST(CapsTogether, ComponentsAndChildren) {
  // The issue's family: four senior-secondary children (2,000,000 each) and
  // a severely disabled primary-school child (2,400,000). Best under 4
  // components and 3 children: three seniors + disability = 8,400,000.
  // Lifting either cap alone still gives 8,400,000; lifting both gives
  // 10,400,000: both caps together removed the fourth senior.
  FamilyBuilder b(2);
  for (const char* nik : {"5271010107090001", "5271010107090002", "5271010107100003", "5271010107100004"}) {
    b.School(nik, 2009, v1::SCHOOL_LEVEL_SENIOR_SECONDARY, true);
  }
  b.School("5271010107170005", 2017, v1::SCHOOL_LEVEL_PRIMARY, true).set_disability(v1::DISABILITY_SEVERE);
  const v1::Decision pkh = Get(EvalAll(b.family()), "PKH");
  EXPECT_EQ(pkh.yearly_amount(), 8'400'000);
  EXPECT_THAT(Awards(pkh), ElementsAre(std::make_tuple(kSenior, "5271010107090001", 2'000'000),
                                       std::make_tuple(kSenior, "5271010107090002", 2'000'000),
                                       std::make_tuple(kSenior, "5271010107100003", 2'000'000),
                                       std::make_tuple(kDisability, "5271010107170005", 2'400'000)));
  EXPECT_THAT(Codes(pkh), ElementsAre(v1::REASON_CODE_ELIGIBLE, v1::REASON_CODE_CAP_APPLIED,
                                      v1::REASON_CODE_CAP_APPLIED));
  EXPECT_EQ(pkh.reasons(1).text_en(),
            "Components are capped at 4; 5 members qualify; 1 member left without a component (together with the "
            "children cap)");
  EXPECT_EQ(pkh.reasons(1).text_id(),
            "Komponen dibatasi paling banyak 4; 5 anggota memenuhi syarat; 1 anggota tanpa komponen (bersama batas "
            "anak)");
  EXPECT_EQ(pkh.reasons(2).text_en(),
            "Children are capped at 3; 4 children qualify; 1 member left without a component (together with the "
            "components cap)");
  // The child who got nothing is told which caps.
  EXPECT_EQ(Input(*Clause(pkh, "pkh.component.senior_secondary:5271010107100004"), "removed_by"),
            "max_components,max_children");
  EXPECT_EQ(Input(*Clause(pkh, "pkh.component.senior_secondary:5271010107100003"), "removed_by"), "<missing>");
  // The disabled child's primary candidate is below what they got: not removed.
  EXPECT_EQ(Input(*Clause(pkh, "pkh.component.primary:5271010107170005"), "removed_by"), "<missing>");
  EXPECT_THAT(Removed(pkh, "max_components"), ElementsAre("failed", "1", "5271010107100004", "max_children"));
  EXPECT_THAT(Removed(pkh, "max_children"), ElementsAre("failed", "1", "5271010107100004", "max_components"));
  EXPECT_THAT(Removed(pkh, "max_under_six"), ElementsAre("passed", "0", "", ""));
}

TEST(CapsTogether, ComponentsAndUnderSix) {
  // Three children under six and two pregnant women (order 1 and 2), all
  // 3,000,000: 4 components, 2 under six. Lifting either cap alone still
  // gives 12,000,000; both: 15,000,000. The third child (highest NIK of
  // the equal awards) is removed by both.
  FamilyBuilder b = ThreeUnderSix();
  v1::MemberAttributes& mother = b.Add("5271014101950004", 1995, 1, 1);
  mother.set_pregnant(true);
  mother.set_pregnancy_order(2);
  v1::MemberAttributes& daughter = b.Add("5271014101990005", 1999, 1, 1);
  daughter.set_pregnant(true);
  daughter.set_pregnancy_order(1);
  const v1::Decision pkh = Get(EvalAll(b.family()), "PKH");
  EXPECT_EQ(pkh.yearly_amount(), 12'000'000);
  EXPECT_THAT(ReasonsEn(pkh),
              ElementsAre(::testing::_,
                          "Components are capped at 4; 5 members qualify; 1 member left without a component "
                          "(together with the under-six cap)",
                          "Early-childhood children are capped at 2; 3 children qualify; 1 member left without a "
                          "component (together with the components cap)"));
  EXPECT_EQ(Input(*Clause(pkh, "pkh.component.early_child:5271010101230003"), "removed_by"),
            "max_components,max_under_six");
  EXPECT_THAT(Removed(pkh, "max_components"), ElementsAre("failed", "1", "5271010101230003", "max_under_six"));
  EXPECT_THAT(Removed(pkh, "max_children"), ElementsAre("passed", "0", "", ""));
  EXPECT_THAT(Removed(pkh, "max_under_six"), ElementsAre("failed", "1", "5271010101230003", "max_components"));
}

TEST(CapsTogether, ChildrenAndUnderSix) {
  // Senior secondary paying 3,000,000 like early childhood: three under
  // six and a senior. 3 children, 2 under six: two under six + the senior =
  // 9,000,000; either cap lifted alone still 9,000,000; both: 12,000,000.
  FamilyBuilder b = ThreeUnderSix();
  b.School("5271010107090004", 2009, v1::SCHOOL_LEVEL_SENIOR_SECONDARY, true);
  const v1::RuleSet rules = WithAmount({kSenior}, 3'000'000);
  const v1::Decision pkh = Get(EvalAll(b.family(), rules), "PKH");
  EXPECT_EQ(pkh.yearly_amount(), 9'000'000);
  EXPECT_THAT(ReasonsEn(pkh),
              ElementsAre(::testing::_,
                          "Children are capped at 3; 4 children qualify; 1 member left without a component "
                          "(together with the under-six cap)",
                          "Early-childhood children are capped at 2; 3 children qualify; 1 member left without a "
                          "component (together with the children cap)"));
  EXPECT_EQ(Input(*Clause(pkh, "pkh.component.early_child:5271010101230003"), "removed_by"),
            "max_children,max_under_six");
  EXPECT_THAT(Removed(pkh, "max_components"), ElementsAre("passed", "0", "", ""));
  EXPECT_THAT(Removed(pkh, "max_children"), ElementsAre("failed", "1", "5271010101230003", "max_under_six"));
  EXPECT_THAT(Removed(pkh, "max_under_six"), ElementsAre("failed", "1", "5271010101230003", "max_children"));
}

TEST(CapsTogether, AllThree) {
  // Every component 3,000,000: three under six, two seniors, a pregnant
  // mother. Awarded: two under six, the first senior, the pregnancy
  // (12,000,000). The second senior comes back when the components and
  // children caps are lifted (15,000,000); the third under-six only when
  // all three are.
  FamilyBuilder b = ThreeUnderSix();
  b.School("5271010107090004", 2009, v1::SCHOOL_LEVEL_SENIOR_SECONDARY, true);
  b.School("5271010107100005", 2010, v1::SCHOOL_LEVEL_SENIOR_SECONDARY, true);
  v1::MemberAttributes& mother = b.Add("5271014101950006", 1995, 1, 1);
  mother.set_pregnant(true);
  mother.set_pregnancy_order(1);
  const v1::RuleSet rules =
      WithAmount({kPregnancy, kEarly, kPrimary, kJunior, kSenior, kDisability, kElderly}, 3'000'000);
  const v1::Decision pkh = Get(EvalAll(b.family(), rules), "PKH");
  EXPECT_EQ(pkh.yearly_amount(), 12'000'000);
  EXPECT_THAT(Awards(pkh), ElementsAre(std::make_tuple(kEarly, "5271010101210001", 3'000'000),
                                       std::make_tuple(kEarly, "5271010101220002", 3'000'000),
                                       std::make_tuple(kSenior, "5271010107090004", 3'000'000),
                                       std::make_tuple(kPregnancy, "5271014101950006", 3'000'000)));
  EXPECT_THAT(ReasonsEn(pkh),
              ElementsAre(::testing::_,
                          "Components are capped at 4; 6 members qualify; 2 members left without a component "
                          "(together with the children cap and the under-six cap)",
                          "Children are capped at 3; 5 children qualify; 2 members left without a component "
                          "(together with the components cap and the under-six cap)",
                          "Early-childhood children are capped at 2; 3 children qualify; 1 member left without a "
                          "component (together with the components cap and the children cap)"));
  EXPECT_EQ(Input(*Clause(pkh, "pkh.component.senior_secondary:5271010107100005"), "removed_by"),
            "max_components,max_children");
  EXPECT_EQ(Input(*Clause(pkh, "pkh.component.early_child:5271010101230003"), "removed_by"),
            "max_components,max_children,max_under_six");
  EXPECT_THAT(Removed(pkh, "max_components"),
              ElementsAre("failed", "2", "5271010101230003,5271010107100005", "max_children,max_under_six"));
  EXPECT_THAT(Removed(pkh, "max_under_six"),
              ElementsAre("failed", "1", "5271010101230003", "max_components,max_children"));
}

TEST(CapsTogether, EachCapAloneNamesWhatItRemoved) {
  // Four enrolled juniors (1,500,000), 3 children: the fourth is removed by
  // the children cap alone; the components cap (4 candidates) passes.
  FamilyBuilder b(2);
  for (const char* nik : {"5271010107120001", "5271010107120002", "5271010107130003", "5271010107130004"}) {
    b.School(nik, 2012, v1::SCHOOL_LEVEL_JUNIOR_SECONDARY, true);
  }
  const v1::Decision pkh = Get(EvalAll(b.family()), "PKH");
  EXPECT_EQ(pkh.yearly_amount(), 4'500'000);
  EXPECT_EQ(Input(*Clause(pkh, "pkh.component.junior_secondary:5271010107130004"), "removed_by"), "max_children");
  EXPECT_THAT(Removed(pkh, "max_components"), ElementsAre("passed", "0", "", ""));
  EXPECT_THAT(Removed(pkh, "max_children"), ElementsAre("failed", "1", "5271010107130004", ""));
  // A member given a lower component is counted as such: the disabled
  // three-year-old beside two other under-sixes.
  FamilyBuilder y(2);
  y.Add("5271010101210001", 2021, 1, 1);
  y.Add("5271010101220002", 2022, 1, 1);
  y.Add("5271010101230003", 2023, 1, 1).set_disability(v1::DISABILITY_SEVERE);
  const v1::Decision young = Get(EvalAll(y.family()), "PKH");
  EXPECT_EQ(young.reasons(1).text_en(),
            "Early-childhood children are capped at 2; 3 children qualify; 1 member given a lower component");
  EXPECT_EQ(Input(*Clause(young, "pkh.component.early_child:5271010101230003"), "removed_by"), "max_under_six");
  EXPECT_EQ(Input(*Clause(young, "pkh.cap.max_under_six"), "removed_to_lower_component"), "1");
}

// ---------------------------------------------------------------- reason order

TEST(ReasonOrder, GateReasonsInTheDocumentedOrderForEveryProgram) {
  // Decile 7 and nobody alive: the decile (PBI-JK: its band) before the
  // living members, for every program.
  FamilyBuilder b(7);
  b.Add("5271010505850001", 1985, 5, 5, /*alive=*/false);
  for (const auto& d : EvalAll(b.family())) {
    const v1::ReasonCode decile =
        d.program() == "PBI_JK" ? v1::REASON_CODE_DECILE_NOT_COVERED : v1::REASON_CODE_DECILE_ABOVE_LIMIT;
    EXPECT_THAT(Codes(d), ElementsAre(decile, v1::REASON_CODE_NO_LIVING_MEMBER)) << d.program();
  }
  // No assessment and nobody alive.
  FamilyBuilder none(0);
  none.Add("5271010505850001", 1985, 5, 5, /*alive=*/false);
  for (const auto& d : EvalAll(none.family())) {
    EXPECT_THAT(Codes(d), ElementsAre(v1::REASON_CODE_NO_ASSESSMENT, v1::REASON_CODE_NO_LIVING_MEMBER))
        << d.program();
  }
}

// ---------------------------------------------------------------- 2026.2

const LoadedRuleSet& Rules2026_2() {
  static const LoadedRuleSet* rules = new LoadedRuleSet(*LoadRuleSet(std::string(JARING_RULES_DIR) + "/2026.2"));
  return *rules;
}

std::vector<v1::Decision> Eval2026_2(const v1::Family& f, absl::Span<const ProgramReceipt> receipts = {}) {
  EvaluateOptions opts;
  opts.rule_hash = Rules2026_2().content_hash;
  opts.receipts = receipts;
  return Evaluate(f, Rules2026_2().rules, kAsOf, opts);
}

// A decile-1 couple without a PKH component, in `region`.
FamilyBuilder PoorCouple(const std::string& region) {
  FamilyBuilder b(1);
  b.family().set_region_code(region);
  b.Add("5203050505850001", 1985, 5, 5);
  b.Add("5203055002900002", 1990, 2, 10);
  return b;
}

TEST(Rules2026_2, BltDdIsForDesaOnly) {
  // Kelurahan (village part starting with 1): no Dana Desa.
  FamilyBuilder k = PoorCouple("52.71.01.1001");
  const v1::Decision blt = Get(Eval2026_2(k.family()), "BLT_DD");
  EXPECT_FALSE(blt.eligible());
  EXPECT_THAT(Codes(blt), ElementsAre(v1::REASON_CODE_REGION_NOT_COVERED));
  EXPECT_EQ(blt.reasons(0).text_en(), "Region 52.71.01.1001 is a kelurahan; BLT_DD is for desa only");
  EXPECT_EQ(blt.reasons(0).text_id(), "Wilayah 52.71.01.1001 adalah kelurahan; BLT_DD hanya untuk desa");
  const v1::ClauseResult* region = Clause(blt, "blt_dd.region");
  ASSERT_NE(region, nullptr);
  EXPECT_FALSE(region->passed());
  EXPECT_EQ(Input(*region, "village_type"), "VILLAGE_TYPE_KELURAHAN");
  EXPECT_EQ(Input(*region, "required_village_type"), "VILLAGE_TYPE_DESA");
  // An unreadable region code does not qualify either.
  k.family().set_region_code("5271012001");
  EXPECT_EQ(Get(Eval2026_2(k.family()), "BLT_DD").reasons(0).text_en(),
            "Region 5271012001 is of unknown village type; BLT_DD is for desa only");
  // Programs without a region condition have no region clause.
  EXPECT_EQ(Clause(Get(Eval2026_2(k.family()), "BPNT"), "bpnt.region"), nullptr);
}

TEST(Rules2026_2, BltDdIsExcludedByWhatTheFamilyReceives) {
  // A desa family of decile 1 receives BPNT (decile <= 4), so no BLT-DD.
  FamilyBuilder d = PoorCouple("52.03.05.2001");
  const auto ds = Eval2026_2(d.family());
  EXPECT_TRUE(Get(ds, "BPNT").eligible());
  const v1::Decision blt = Get(ds, "BLT_DD");
  EXPECT_FALSE(blt.eligible());
  EXPECT_TRUE(Clause(blt, "blt_dd.region")->passed());
  EXPECT_THAT(Codes(blt), ElementsAre(v1::REASON_CODE_RECEIVING_PROGRAM));
  EXPECT_EQ(blt.reasons(0).text_en(), "Already receiving BPNT; BLT_DD is not given to families receiving BPNT");
  const v1::ClauseResult* bpnt = Clause(blt, "blt_dd.excluded_if_receiving.BPNT");
  ASSERT_NE(bpnt, nullptr);
  EXPECT_FALSE(bpnt->passed());
  EXPECT_EQ(Input(*bpnt, "source"), "evaluation");
  EXPECT_TRUE(Clause(blt, "blt_dd.excluded_if_receiving.PKH")->passed());
  EXPECT_EQ(Clause(blt, "blt_dd.excluded_if.BPNT"), nullptr);  // 2026.2 excludes by receipt only

  // With a PKH component too: receiving both, both named in rule order.
  d.Add("5203054107700003", 1950, 7, 1);  // grandmother, 75
  EXPECT_THAT(Codes(Get(Eval2026_2(d.family()), "BLT_DD")),
              ElementsAre(v1::REASON_CODE_RECEIVING_PROGRAM, v1::REASON_CODE_RECEIVING_PROGRAM));
}

TEST(Rules2026_2, BltDdIsReachedByADesaFamilyNotReceivingPkhOrBpnt) {
  // The same desa family, known not to receive PKH or BPNT: BLT-DD,
  // Rp300,000 a month.
  FamilyBuilder d = PoorCouple("52.03.05.2001");
  const ProgramReceipt none[] = {{"PKH", false}, {"BPNT", false}};
  const v1::Decision blt = Get(Eval2026_2(d.family(), none), "BLT_DD");
  EXPECT_TRUE(blt.eligible());
  EXPECT_EQ(blt.yearly_amount(), 3'600'000);
  ASSERT_EQ(blt.stages_size(), 12);
  EXPECT_EQ(Input(*Clause(blt, "blt_dd.excluded_if_receiving.BPNT"), "source"), "given");
  // Receiving only PKH (given): excluded by PKH alone.
  const ProgramReceipt pkh_only[] = {{"PKH", true}, {"BPNT", false}};
  const v1::Decision excluded = Get(Eval2026_2(d.family(), pkh_only), "BLT_DD");
  EXPECT_THAT(Codes(excluded), ElementsAre(v1::REASON_CODE_RECEIVING_PROGRAM));
  EXPECT_EQ(excluded.reasons(0).text_en(), "Already receiving PKH; BLT_DD is not given to families receiving PKH");
  // Decile 2 is not extreme poor.
  d.family().mutable_latest_assessment()->set_decile(2);
  EXPECT_THAT(Codes(Get(Eval2026_2(d.family(), none), "BLT_DD")), ElementsAre(v1::REASON_CODE_DECILE_ABOVE_LIMIT));
  // Under 2026.1 (as published) a desa family is still excluded by
  // eligibility for BPNT.
  d.family().mutable_latest_assessment()->set_decile(1);
  EXPECT_THAT(Codes(Get(EvalAll(d.family()), "BLT_DD")), ElementsAre(v1::REASON_CODE_EXCLUDED_BY_PROGRAM));
}

TEST(Rules2026_2, SchoolComponentsEndAtTwentyOne) {
  // Enrolled at senior secondary: 21 the day before the 22nd birthday, 22
  // on it (as of 15 March 2026), 25.
  auto pkh_for = [](int y, int m, int d, bool enrolled, bool published) {
    FamilyBuilder b(2);
    v1::MemberAttributes& a = b.Add("5271010101040001", y, m, d);
    a.set_school_level(v1::SCHOOL_LEVEL_SENIOR_SECONDARY);
    a.set_school_enrolled(enrolled);
    return Get(published ? EvalAll(b.family()) : Eval2026_2(b.family()), "PKH");
  };
  EXPECT_EQ(pkh_for(2004, 3, 16, true, false).yearly_amount(), 2'000'000);  // 21
  EXPECT_THAT(Codes(pkh_for(2004, 3, 15, true, false)), ElementsAre(v1::REASON_CODE_NO_COMPONENT));  // 22
  EXPECT_THAT(Codes(pkh_for(2000, 7, 1, true, false)), ElementsAre(v1::REASON_CODE_NO_COMPONENT));   // 25
  // 2026.1 stays as published: the 25-year-old gets Rp2,000,000.
  EXPECT_EQ(pkh_for(2000, 7, 1, true, true).yearly_amount(), 2'000'000);
  // Not enrolled past the bound is not a missing enrolment.
  EXPECT_THAT(Codes(pkh_for(2000, 7, 1, false, false)), ElementsAre(v1::REASON_CODE_NO_COMPONENT));
  EXPECT_THAT(Codes(pkh_for(2000, 7, 1, false, true)),
              ElementsAre(v1::REASON_CODE_NO_COMPONENT, v1::REASON_CODE_NOT_ENROLLED));
  EXPECT_EQ(Input(*Clause(pkh_for(2000, 7, 1, true, false), "pkh.component.senior_secondary:5271010101040001"),
                  "age"),
            "25");
}

TEST(RegionCondition, PrefixesAndVillageTypes) {
  v1::RuleSet rules = Rules().rules;
  for (auto& p : *rules.mutable_programs()) {
    if (p.program_id() != "BPNT") continue;
    p.mutable_region()->add_region_prefixes("52.03");
    p.mutable_region()->add_region_prefixes("35.10.02");
  }
  ASSERT_OK(ValidateRuleSet(rules));
  auto bpnt_in = [&](const std::string& region) {
    FamilyBuilder b = PoorCouple(region);
    return Get(EvalAll(b.family(), rules), "BPNT");
  };
  EXPECT_TRUE(bpnt_in("52.03.05.2001").eligible());
  EXPECT_TRUE(bpnt_in("52.03.05.1001").eligible());  // any village type
  EXPECT_TRUE(bpnt_in("35.10.02.1003").eligible());
  const v1::Decision out = bpnt_in("35.10.03.1003");
  EXPECT_THAT(Codes(out), ElementsAre(v1::REASON_CODE_REGION_NOT_COVERED));
  EXPECT_EQ(out.reasons(0).text_en(), "Region 35.10.03.1003 is outside the area of BPNT (52.03,35.10.02)");
  EXPECT_FALSE(bpnt_in("52.031.05.2001").eligible());  // "52.03" is not a part of it
  // Both conditions at once: desa within 52.03.
  for (auto& p : *rules.mutable_programs()) {
    if (p.program_id() == "BPNT") p.mutable_region()->set_village_type(v1::VILLAGE_TYPE_DESA);
  }
  EXPECT_TRUE(bpnt_in("52.03.05.2001").eligible());
  EXPECT_THAT(Codes(bpnt_in("52.03.05.1001")), ElementsAre(v1::REASON_CODE_REGION_NOT_COVERED));
  // The gate's order: decile, region, living members.
  FamilyBuilder dead(9);
  dead.family().set_region_code("81.71.01.1001");
  dead.Add("5271010505850001", 1985, 5, 5, /*alive=*/false);
  EXPECT_THAT(Codes(Get(EvalAll(dead.family(), rules), "BPNT")),
              ElementsAre(v1::REASON_CODE_DECILE_ABOVE_LIMIT, v1::REASON_CODE_REGION_NOT_COVERED,
                          v1::REASON_CODE_NO_LIVING_MEMBER));
}

TEST(Receipts, AnExcludingProgramIsDecidedFirstWhateverTheRuleSetOrder) {
  // BPNT excluded by receipt of BLT-DD and listed first: BLT-DD (decile 1,
  // no exclusion of its own here) is decided first, so BPNT sees it.
  v1::RuleSet rules = Rules().rules;
  for (auto& p : *rules.mutable_programs()) {
    if (p.program_id() == "BLT_DD") p.clear_excluded_if_eligible_for();
    if (p.program_id() == "BPNT") p.add_excluded_if_receiving("BLT_DD");
  }
  std::reverse(rules.mutable_programs()->begin(), rules.mutable_programs()->end());
  ASSERT_OK(ValidateRuleSet(rules));
  FamilyBuilder b = PoorCouple("52.03.05.2001");
  const auto ds = EvalAll(b.family(), rules);
  EXPECT_TRUE(Get(ds, "BLT_DD").eligible());
  EXPECT_THAT(Codes(Get(ds, "BPNT")), ElementsAre(v1::REASON_CODE_RECEIVING_PROGRAM));
}

// The optimiser against brute force: every assignment of at most one
// option per person, the highest total under the caps, ties to the
// lexicographically smallest (person, kind) list.
TEST(PkhSelect, MatchesBruteForce) {
  using rules_internal::PkhLimits;
  using rules_internal::PkhOption;
  using rules_internal::PkhPerson;
  std::mt19937 rng(20260315);  // fixed seed: the test is hermetic
  const K kinds[] = {kPregnancy, kEarly, kPrimary, kJunior, kSenior, kDisability, kElderly};
  const int64_t amounts[] = {900'000, 1'500'000, 2'000'000, 2'400'000, 3'000'000};
  for (int round = 0; round < 3000; ++round) {
    const int n = 1 + static_cast<int>(rng() % 7);
    std::vector<PkhPerson> persons(n);
    for (auto& p : persons) {
      const int k = static_cast<int>(rng() % 3);  // 0-2 options
      std::vector<K> ks;
      while (static_cast<int>(ks.size()) < k) {
        K kind = kinds[rng() % 7];
        if (std::find(ks.begin(), ks.end(), kind) == ks.end()) ks.push_back(kind);
      }
      std::sort(ks.begin(), ks.end());
      for (K kind : ks) p.options.push_back({kind, amounts[rng() % 5]});
    }
    const PkhLimits limits{1 + static_cast<int>(rng() % 4), static_cast<int>(rng() % 4),
                           static_cast<int>(rng() % 3)};
    // Brute force over (options + 1)^n choices.
    int64_t best_total = -1;
    std::vector<std::pair<int, int>> best_list;
    std::vector<int> choice(n, -1);
    std::function<void(int)> go = [&](int i) {
      if (i == n) {
        int count = 0, children = 0, small = 0;
        int64_t total = 0;
        std::vector<std::pair<int, int>> list;
        for (int j = 0; j < n; ++j) {
          if (choice[j] < 0) continue;
          const PkhOption& o = persons[j].options[choice[j]];
          ++count;
          children += rules_internal::IsChildKind(o.kind);
          small += rules_internal::IsUnderSixKind(o.kind);
          total += o.amount;
          list.emplace_back(j, o.kind);
        }
        if (count > limits.max_components || children > limits.max_children || small > limits.max_under_six) return;
        if (total > best_total || (total == best_total && list < best_list)) {
          best_total = total;
          best_list = list;
        }
        return;
      }
      for (int k = -1; k < static_cast<int>(persons[i].options.size()); ++k) {
        choice[i] = k;
        go(i + 1);
      }
      choice[i] = -1;
    };
    go(0);
    const std::vector<int> pick = rules_internal::SelectPkhComponents(persons, limits);
    std::vector<std::pair<int, int>> got;
    int64_t total = 0;
    for (int j = 0; j < n; ++j) {
      if (pick[j] < 0) continue;
      got.emplace_back(j, persons[j].options[pick[j]].kind);
      total += persons[j].options[pick[j]].amount;
    }
    ASSERT_EQ(total, best_total) << "round " << round;
    ASSERT_EQ(got, best_list) << "round " << round;
  }
}

TEST(AgeInYears, CompletedYears) {
  v1::Date d;
  d.set_year(1953);
  d.set_month(6);
  d.set_day(1);
  EXPECT_EQ(AgeInYears(d, absl::CivilDay(2026, 3, 15)), 72);
  EXPECT_EQ(AgeInYears(d, absl::CivilDay(2026, 5, 31)), 72);
  EXPECT_EQ(AgeInYears(d, absl::CivilDay(2026, 6, 1)), 73);
  d.set_year(2020);
  d.set_month(2);
  d.set_day(29);
  EXPECT_EQ(AgeInYears(d, absl::CivilDay(2026, 2, 28)), 5);
  EXPECT_EQ(AgeInYears(d, absl::CivilDay(2026, 3, 1)), 6);
  EXPECT_EQ(AgeInYears(d, absl::CivilDay(2020, 2, 29)), 0);
  EXPECT_EQ(AgeInYears(d, absl::CivilDay(2020, 2, 28)), -1);  // not yet born
  d.set_day(30);
  EXPECT_EQ(AgeInYears(d, absl::CivilDay(2026, 3, 1)), -1);  // no such date
  EXPECT_EQ(AgeInYears(v1::Date(), absl::CivilDay(2026, 3, 1)), -1);
}

TEST(Text, RupiahAndPeriods) {
  using rules_internal::PeriodLabel;
  using rules_internal::RupiahEn;
  using rules_internal::RupiahId;
  EXPECT_EQ(RupiahId(7'800'000), "Rp7.800.000");
  EXPECT_EQ(RupiahEn(7'800'000), "Rp7,800,000");
  EXPECT_EQ(RupiahId(0), "Rp0");
  EXPECT_EQ(RupiahEn(999), "Rp999");
  EXPECT_EQ(RupiahEn(1000), "Rp1,000");
  EXPECT_EQ(RupiahEn(-1'500), "-Rp1,500");
  EXPECT_EQ(PeriodLabel(2026, 4, 3), "2026-Q2");
  EXPECT_EQ(PeriodLabel(2026, 7, 6), "2026-H2");
  EXPECT_EQ(PeriodLabel(2026, 1, 12), "2026");
  EXPECT_EQ(PeriodLabel(2026, 9, 1), "2026-09");
  EXPECT_EQ(PeriodLabel(2026, 5, 2), "2026-05/06");
  EXPECT_EQ(PeriodLabel(2026, 5, 4), "2026-05/08");
}

}  // namespace
}  // namespace jaring::rules
