// The compact path against the reference evaluator: hand-written cases from
// evaluate_test.cc's golden families, the formats, and a randomized
// property test (fixed seeds) over generated families, the real rule set
// rules/2026.1, named variants of it and random valid rule sets. Every
// check compares with what Evaluate() decides, so a drift of either side
// fails here.
#include "libs/rules/compact.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/base/strings.h"
#include "libs/rules/evaluate.h"
#include "libs/rules/rules.h"
#include "libs/testing/status_matchers.h"

namespace jaring::rules {
namespace {

using ::jaring::testing::StatusIs;
using ::testing::HasSubstr;

const absl::CivilDay kAsOf(2026, 3, 15);

// A rule set of the repository, rules/<version>, loaded once.
const LoadedRuleSet& RepoRules(const std::string& version) {
  static auto* loaded = new std::map<std::string, LoadedRuleSet>();
  auto it = loaded->find(version);
  if (it == loaded->end()) {
    auto r = LoadRuleSet(std::string(JARING_RULES_DIR) + "/" + version);
    if (!r.ok()) {
      ADD_FAILURE() << r.status();
      std::abort();
    }
    it = loaded->emplace(version, *std::move(r)).first;
  }
  return it->second;
}

const LoadedRuleSet& RealRules() { return RepoRules("2026.1"); }
const LoadedRuleSet& Rules2026_2() { return RepoRules("2026.2"); }

const CompiledRules& RealCompiled() {
  static const CompiledRules* compiled = [] {
    auto c = CompiledRules::Compile(RealRules().rules);
    if (!c.ok()) {
      ADD_FAILURE() << c.status();
      std::abort();
    }
    return new CompiledRules(*std::move(c));
  }();
  return *compiled;
}

// "PKH eligible 7800000 ELIGIBLE [JUNIOR_SECONDARY 5271...=1500000 ...]; ..."
std::string Describe(const Outcome& o) {
  std::string s;
  for (const ProgramOutcome& p : o.programs) {
    absl::StrAppend(&s, Av(o.program_id(p)), p.eligible ? " eligible " : " not eligible ", p.yearly_amount, " ",
                    v1::ReasonCode_Name(p.reason));
    if (p.award_count > 0) {
      s += " [";
      for (const OutcomeAward& a : o.awards_of(p)) {
        absl::StrAppend(&s, " ", v1::PkhComponentKind_Name(a.kind), " ", Av(o.nik(a)), "=", a.yearly_amount);
      }
      s += " ]";
    }
    s += "; ";
  }
  return s;
}

Outcome Compact(const v1::Family& f, const CompiledRules& compiled = RealCompiled(), absl::CivilDay as_of = kAsOf) {
  const std::string encoded = EncodeCompactFamily(f);
  CompactFamilyView view;
  EXPECT_TRUE(view.Parse(encoded));
  Outcome o;
  compiled.Evaluate(view, as_of, &o);
  return o;
}

Outcome Reference(const v1::Family& f, const v1::RuleSet& rules = RealRules().rules, absl::CivilDay as_of = kAsOf,
                  bool explain = false) {
  EvaluateOptions opts;
  opts.rule_hash = "h";  // not part of the outcome; saves hashing per call
  opts.explain = explain;
  return OutcomeFromDecisions(Evaluate(f, rules, as_of, opts));
}

const ProgramOutcome& Program(const Outcome& o, std::string_view id) {
  for (const ProgramOutcome& p : o.programs) {
    if (o.program_id(p) == id) return p;
  }
  ADD_FAILURE() << "no program " << id;
  std::abort();
}

std::vector<std::tuple<v1::PkhComponentKind, std::string, int64_t>> Awards(const Outcome& o, std::string_view id) {
  std::vector<std::tuple<v1::PkhComponentKind, std::string, int64_t>> out;
  for (const OutcomeAward& a : o.awards_of(Program(o, id))) {
    out.emplace_back(a.kind, std::string(o.nik(a)), a.yearly_amount);
  }
  return out;
}

// A family card under construction (as in evaluate_test.cc).
class FamilyBuilder {
 public:
  explicit FamilyBuilder(int decile, std::string kk = "5271010101260001") {
    f_.set_kk_number(kk);
    f_.set_region_code("52.71.01.1001");
    if (decile > 0) {
      f_.mutable_latest_assessment()->set_round("2026-Q1");
      f_.mutable_latest_assessment()->set_decile(decile);
    }
  }
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

using K = v1::PkhComponentKind;
constexpr K kPregnancy = v1::PKH_COMPONENT_KIND_PREGNANCY;
constexpr K kEarly = v1::PKH_COMPONENT_KIND_EARLY_CHILD;
constexpr K kPrimary = v1::PKH_COMPONENT_KIND_PRIMARY;
constexpr K kJunior = v1::PKH_COMPONENT_KIND_JUNIOR_SECONDARY;
constexpr K kDisability = v1::PKH_COMPONENT_KIND_SEVERE_DISABILITY;
constexpr K kElderly = v1::PKH_COMPONENT_KIND_ELDERLY;

FamilyBuilder Example() {
  FamilyBuilder b(3);
  b.Add("5271010505850001", 1985, 5, 5);
  v1::MemberAttributes& mother = b.Add("5271015002900002", 1990, 2, 10);
  mother.set_pregnant(true);
  mother.set_pregnancy_order(1);
  b.School("5271010107170003", 2017, v1::SCHOOL_LEVEL_PRIMARY, true);
  b.School("5271010107130004", 2013, v1::SCHOOL_LEVEL_JUNIOR_SECONDARY, true);
  b.Add("5271014106530005", 1953, 6, 1);
  return b;
}

// The compact outcome of `f` equals the reference's, and is returned.
Outcome Checked(const v1::Family& f, const v1::RuleSet& rules = RealRules().rules) {
  auto compiled = CompiledRules::Compile(rules);
  EXPECT_OK(compiled.status());
  const Outcome compact = Compact(f, *compiled);
  const Outcome reference = Reference(f, rules);
  EXPECT_EQ(compact, reference) << "compact:   " << Describe(compact) << "\nreference: " << Describe(reference);
  return compact;
}

// ---------------------------------------------------------------- hand cases

TEST(CompactGolden, IssueExampleFamily) {
  const Outcome o = Checked(Example().family());
  ASSERT_EQ(o.programs.size(), 4u);
  EXPECT_EQ(o.program_id(o.programs[0]), "BLT_DD");  // rule-set order
  const ProgramOutcome& pkh = Program(o, "PKH");
  EXPECT_TRUE(pkh.eligible);
  EXPECT_EQ(pkh.yearly_amount, 7'800'000);
  EXPECT_EQ(pkh.reason, v1::REASON_CODE_ELIGIBLE);
  EXPECT_THAT(Awards(o, "PKH"), ::testing::ElementsAre(std::make_tuple(kJunior, "5271010107130004", 1'500'000),
                                                       std::make_tuple(kPrimary, "5271010107170003", 900'000),
                                                       std::make_tuple(kElderly, "5271014106530005", 2'400'000),
                                                       std::make_tuple(kPregnancy, "5271015002900002", 3'000'000)));
  EXPECT_EQ(Program(o, "BPNT").yearly_amount, 2'400'000);
  EXPECT_EQ(Program(o, "PBI_JK").yearly_amount, 2'520'000);
  EXPECT_FALSE(Program(o, "BLT_DD").eligible);
  EXPECT_EQ(Program(o, "BLT_DD").reason, v1::REASON_CODE_DECILE_ABOVE_LIMIT);
}

TEST(CompactGolden, CapsBite) {
  {  // Five candidates, four components: the primary child's 900,000 is left out.
    FamilyBuilder b(2);
    v1::MemberAttributes& mother = b.Add("5271014101950001", 1995, 1, 1);
    mother.set_pregnant(true);
    mother.set_pregnancy_order(2);
    b.Add("5271014101600002", 1960, 1, 1);
    b.Add("5271010101800003", 1980, 1, 1).set_disability(v1::DISABILITY_SEVERE);
    b.School("5271010101090004", 2009, v1::SCHOOL_LEVEL_SENIOR_SECONDARY, true);
    b.School("5271010101180005", 2018, v1::SCHOOL_LEVEL_PRIMARY, true);
    const Outcome o = Checked(b.family());
    EXPECT_EQ(Program(o, "PKH").yearly_amount, 9'800'000);
    EXPECT_EQ(Program(o, "PKH").award_count, 4u);
  }
  {  // Three children under six, cap 2: the two lowest NIKs.
    FamilyBuilder b(1);
    b.Add("5271010303240003", 2024, 3, 3);
    b.Add("5271010101220001", 2022, 1, 1);
    b.Add("5271010202230002", 2023, 2, 2);
    const Outcome o = Checked(b.family());
    EXPECT_THAT(Awards(o, "PKH"), ::testing::ElementsAre(std::make_tuple(kEarly, "5271010101220001", 3'000'000),
                                                         std::make_tuple(kEarly, "5271010202230002", 3'000'000)));
  }
  {  // A severely disabled three-year-old beside two under-sixes.
    FamilyBuilder b(3);
    b.Add("5271010101220001", 2022, 1, 1);
    b.Add("5271010101230002", 2023, 1, 1).set_disability(v1::DISABILITY_SEVERE);
    b.Add("5271010101240003", 2024, 1, 1);
    const Outcome o = Checked(b.family());
    EXPECT_THAT(Awards(o, "PKH"), ::testing::ElementsAre(std::make_tuple(kEarly, "5271010101220001", 3'000'000),
                                                         std::make_tuple(kDisability, "5271010101230002", 2'400'000),
                                                         std::make_tuple(kEarly, "5271010101240003", 3'000'000)));
  }
  {  // Every cap at once: 11,400,000.
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
    EXPECT_EQ(Program(Checked(b.family()), "PKH").yearly_amount, 11'400'000);
  }
}

TEST(CompactGolden, DecileSixIsAboveTheLimit) {
  FamilyBuilder b = Example();
  b.family().mutable_latest_assessment()->set_decile(6);
  const Outcome o = Checked(b.family());
  EXPECT_EQ(Program(o, "PKH").reason, v1::REASON_CODE_DECILE_ABOVE_LIMIT);
  EXPECT_EQ(Program(o, "BPNT").reason, v1::REASON_CODE_DECILE_ABOVE_LIMIT);
  EXPECT_EQ(Program(o, "PBI_JK").reason, v1::REASON_CODE_DECILE_NOT_COVERED);
  for (const ProgramOutcome& p : o.programs) {
    EXPECT_FALSE(p.eligible);
    EXPECT_EQ(p.yearly_amount, 0);
    EXPECT_EQ(p.award_count, 0u);
  }
}

TEST(CompactGolden, NoAssessment) {
  FamilyBuilder b = Example();
  b.family().clear_latest_assessment();
  for (const ProgramOutcome& p : Checked(b.family()).programs) EXPECT_EQ(p.reason, v1::REASON_CODE_NO_ASSESSMENT);
  // A round with decile 0 (not ranked), or a decile out of range, is none.
  for (int decile : {0, 11, -3}) {
    b.family().mutable_latest_assessment()->set_round("2026-Q1");
    b.family().mutable_latest_assessment()->set_decile(decile);
    for (const ProgramOutcome& p : Checked(b.family()).programs) EXPECT_EQ(p.reason, v1::REASON_CODE_NO_ASSESSMENT);
  }
}

TEST(CompactGolden, NoLivingMember) {
  FamilyBuilder b = Example();
  b.family().mutable_latest_assessment()->set_decile(1);
  for (auto& m : *b.family().mutable_members()) m.set_alive(false);
  for (const ProgramOutcome& p : Checked(b.family()).programs) {
    EXPECT_FALSE(p.eligible);
    EXPECT_EQ(p.reason, v1::REASON_CODE_NO_LIVING_MEMBER);
  }
  // Decile 7 and nobody alive: every program reports the decile first
  // (PBI-JK its band), as docs/rules.md orders the gate reasons.
  b.family().mutable_latest_assessment()->set_decile(7);
  const Outcome o = Checked(b.family());
  EXPECT_EQ(Program(o, "PKH").reason, v1::REASON_CODE_DECILE_ABOVE_LIMIT);
  EXPECT_EQ(Program(o, "PBI_JK").reason, v1::REASON_CODE_DECILE_NOT_COVERED);
  // No member at all.
  b.family().clear_members();
  b.family().mutable_latest_assessment()->set_decile(2);
  EXPECT_EQ(Program(Checked(b.family()), "BPNT").reason, v1::REASON_CODE_NO_LIVING_MEMBER);
}

TEST(CompactGolden, BltDdExclusion) {
  FamilyBuilder b = Example();
  b.family().mutable_latest_assessment()->set_decile(1);
  Outcome o = Checked(b.family());
  EXPECT_FALSE(Program(o, "BLT_DD").eligible);
  EXPECT_EQ(Program(o, "BLT_DD").reason, v1::REASON_CODE_EXCLUDED_BY_PROGRAM);
  EXPECT_EQ(Program(o, "BLT_DD").yearly_amount, 0);

  // Exclusive with PKH only, and no PKH component: eligible, 3,600,000.
  FamilyBuilder plain(1);
  plain.Add("5271010505850001", 1985, 5, 5);
  v1::RuleSet rules = RealRules().rules;
  for (auto& p : *rules.mutable_programs()) {
    if (p.program_id() == "BLT_DD") {
      p.clear_excluded_if_eligible_for();
      p.add_excluded_if_eligible_for("PKH");
    }
  }
  o = Checked(plain.family(), rules);
  EXPECT_TRUE(Program(o, "BLT_DD").eligible);
  EXPECT_EQ(Program(o, "BLT_DD").yearly_amount, 3'600'000);
}

TEST(CompactGolden, PbiJkBands) {
  const std::pair<int, bool> rows[] = {{1, true}, {2, true}, {3, true}, {4, true}, {5, true},
                                       {6, false}, {9, false}, {10, false}};
  for (const auto& [decile, covered] : rows) {
    FamilyBuilder b(decile);
    b.Add("5271010505850001", 1985, 5, 5);
    b.Add("5271015002900002", 1990, 2, 10);
    b.Add("5271010107170003", 2017, 7, 1);
    b.Add("5271014106530005", 1953, 6, 1, /*alive=*/false);
    const ProgramOutcome& pbi = Program(Checked(b.family()), "PBI_JK");
    EXPECT_EQ(pbi.eligible, covered) << decile;
    EXPECT_EQ(pbi.yearly_amount, covered ? 1'512'000 : 0) << decile;  // 3 living x 42,000 x 12
  }
}

TEST(CompactGolden, BirthdayOn29February) {
  // Born 29 February 2020: 5 on 28 February 2026, 6 on 1 March.
  FamilyBuilder b(3);
  b.Add("5271010101200001", 2020, 2, 29);
  for (auto [day, eligible] : {std::pair{absl::CivilDay(2026, 2, 28), true}, {absl::CivilDay(2026, 3, 1), false}}) {
    const Outcome o = Compact(b.family(), RealCompiled(), day);
    EXPECT_EQ(o, Reference(b.family(), RealRules().rules, day)) << day;
    EXPECT_EQ(Program(o, "PKH").eligible, eligible) << day;
  }
  // Born 29 February 1964: 60 on 29 February 2024 (a leap year), not the day before.
  FamilyBuilder e(3);
  e.Add("5271014102640001", 1964, 2, 29);
  for (auto [day, eligible] : {std::pair{absl::CivilDay(2024, 2, 28), false}, {absl::CivilDay(2024, 2, 29), true}}) {
    const Outcome o = Compact(e.family(), RealCompiled(), day);
    EXPECT_EQ(o, Reference(e.family(), RealRules().rules, day)) << day;
    EXPECT_EQ(Program(o, "PKH").eligible, eligible) << day;
  }
}

TEST(CompactGolden, ANikListedTwiceIsTwoMembers) {
  // The evaluator counts card entries, not people: the same NIK twice gets
  // two components (and two premiums). The compact path does the same.
  FamilyBuilder b(2);
  b.Add("5271010101220001", 2022, 1, 1);
  b.Add("5271010101220001", 2022, 1, 1);
  const Outcome o = Checked(b.family());
  EXPECT_EQ(Program(o, "PKH").award_count, 2u);
  EXPECT_EQ(Program(o, "PBI_JK").yearly_amount, 2 * 42'000 * 12);
}

TEST(CompactGolden, MoreCandidatesThanTheInlineBuffers) {
  // 70 living candidates (more than the 64 kept on the stack), all elderly:
  // under the real caps (4 components: the search runs) and under caps
  // that never bind (each at the highest amount).
  FamilyBuilder b(2);
  for (int i = 0; i < 70; ++i) {
    b.Add(absl::StrCat("52710101", 10000000 + 7919 * i % 10000000), 1950, 1, 1 + i % 28)
        .set_disability(i % 3 == 0 ? v1::DISABILITY_SEVERE : v1::DISABILITY_NONE);
  }
  EXPECT_EQ(Program(Checked(b.family()), "PKH").yearly_amount, 4 * 2'400'000);
  v1::RuleSet loose = RealRules().rules;
  v1::PkhCaps* caps = nullptr;
  for (auto& p : *loose.mutable_programs()) {
    if (p.has_pkh()) caps = p.mutable_pkh()->mutable_caps();
  }
  caps->set_max_components(100);
  const Outcome o = Checked(b.family(), loose);
  EXPECT_EQ(Program(o, "PKH").award_count, 70u);
  EXPECT_EQ(Program(o, "PKH").yearly_amount, 70 * 2'400'000);
}

// ---------------------------------------------------------------- formats

TEST(CompactFormat, CardOrderDoesNotMatter) {
  FamilyBuilder b = Example();
  const std::string a = EncodeCompactFamily(b.family());
  std::reverse(b.family().mutable_members()->begin(), b.family().mutable_members()->end());
  EXPECT_EQ(EncodeCompactFamily(b.family()), a);
  EXPECT_EQ(static_cast<uint8_t>(a[0]), kCompactFamilyVersion);
}

TEST(CompactFormat, ViewReadsWhatWasEncoded) {
  FamilyBuilder b = Example();
  b.family().mutable_members(0)->mutable_member()->clear_birth_date();
  b.family().mutable_members(4)->set_alive(false);
  b.family().mutable_members(2)->mutable_member()->set_sex(v1::SEX_FEMALE);
  const std::string encoded = EncodeCompactFamily(b.family());
  CompactFamilyView v;
  ASSERT_TRUE(v.Parse(encoded));
  EXPECT_EQ(v.kk_number(), "5271010101260001");
  EXPECT_EQ(v.region_code(), "52.71.01.1001");
  EXPECT_EQ(v.dtsen_round(), "2026-Q1");
  EXPECT_EQ(v.decile(), 3);
  EXPECT_EQ(v.living_members(), 4);
  ASSERT_EQ(v.members().size(), 5u);
  std::vector<std::string> niks;
  for (const CompactMember& m : v.members()) niks.emplace_back(m.nik);
  EXPECT_TRUE(std::is_sorted(niks.begin(), niks.end()));
  for (const CompactMember& m : v.members()) {
    if (m.nik == "5271010505850001") {
      EXPECT_EQ(m.birth_days, kUnknownBirth);
    }
    if (m.nik == "5271014106530005") {
      EXPECT_FALSE(m.alive);
      EXPECT_EQ(m.birth_days, absl::CivilDay(1953, 6, 1) - absl::CivilDay(1970, 1, 1));
    }
    if (m.nik == "5271015002900002") {
      EXPECT_TRUE(m.pregnant);
      EXPECT_EQ(m.pregnancy_order, 1);
    }
    if (m.nik == "5271010107170003") {
      EXPECT_EQ(m.school_level, v1::SCHOOL_LEVEL_PRIMARY);
      EXPECT_TRUE(m.school_enrolled);
      EXPECT_EQ(m.sex, v1::SEX_FEMALE);
    }
  }
  // Invalid dates are unknown, as AgeInYears reads them.
  for (auto [y, m, d] : {std::tuple{2023, 2, 29}, {2024, 4, 31}, {0, 1, 1}, {-5, 1, 1}, {2020, 13, 1}, {2020, 1, 0}}) {
    FamilyBuilder one(3);
    one.Add("1", y, m, d);
    ASSERT_TRUE(v.Parse(EncodeCompactFamily(one.family())));
    EXPECT_EQ(v.members()[0].birth_days, kUnknownBirth) << y << "-" << m << "-" << d;
  }
}

TEST(CompactFormat, ParseRejectsMalformed) {
  const std::string good = EncodeCompactFamily(Example().family());
  CompactFamilyView v;
  ASSERT_TRUE(v.Parse(good));
  for (size_t n = 0; n < good.size(); ++n) EXPECT_FALSE(v.Parse(good.substr(0, n))) << n;
  EXPECT_TRUE(v.members().empty());
  EXPECT_FALSE(v.Parse(good + '\0'));
  std::string other_version = good;
  other_version[0] = 2;
  EXPECT_FALSE(v.Parse(other_version));
  // Members out of NIK order: swap the NIKs of two encoded members.
  FamilyBuilder b(3);
  b.Add("A", 2000, 1, 1);
  b.Add("B", 2000, 1, 1);
  std::string two = EncodeCompactFamily(b.family());
  ASSERT_TRUE(v.Parse(two));
  const size_t first = two.find('A');
  const size_t second = two.find('B');
  ASSERT_NE(first, std::string::npos);
  ASSERT_NE(second, std::string::npos);
  std::swap(two[first], two[second]);
  EXPECT_FALSE(v.Parse(two));
  // A decile above 10.
  std::string decile = EncodeCompactFamily(FamilyBuilder(3).family());
  const size_t at = decile.find("52.71.01.1001") + 13;
  ASSERT_EQ(decile[at], 3);
  ASSERT_TRUE(v.Parse(decile));
  decile[at] = 11;
  EXPECT_FALSE(v.Parse(decile));
}

TEST(CompactFormat, OutcomeRoundTripAndErrors) {
  const Outcome o = Compact(Example().family());
  const std::string bytes = EncodeOutcome(o);
  EXPECT_EQ(static_cast<uint8_t>(bytes[0]), kOutcomeVersion);
  Outcome back;
  ASSERT_OK(DecodeOutcome(bytes, &back));
  EXPECT_EQ(back, o);
  EXPECT_EQ(EncodeOutcome(back), bytes);
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_THAT(DecodeOutcome(bytes.substr(0, n), &back), StatusIs(absl::StatusCode::kInvalidArgument)) << n;
  }
  EXPECT_THAT(DecodeOutcome(bytes + 'x', &back),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("trailing bytes")));
  EXPECT_THAT(DecodeOutcome(std::string(1, '\x07') + bytes.substr(1), &back),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("outcome: version: is 7")));
  // The PKH awards are the last bytes: cutting inside the last NIK names it.
  EXPECT_THAT(DecodeOutcome(bytes.substr(0, bytes.size() - 6), &back),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("programs[3].awards[3].nik")));
}

TEST(CompactFormat, EqualityLooksAtEveryField) {
  const Outcome o = Compact(Example().family());
  ASSERT_EQ(o, Compact(Example().family()));
  std::vector<Outcome> changed(7, o);
  changed[0].programs[3].eligible = false;
  changed[1].programs[3].yearly_amount += 1;
  changed[2].programs[3].reason = v1::REASON_CODE_NO_COMPONENT;
  changed[3].awards[changed[3].programs[3].first_award].kind = kDisability;
  changed[4].awards[changed[4].programs[3].first_award + 1].yearly_amount -= 1;
  changed[5].text[changed[5].awards[0].nik_offset + 15] = 'X';
  changed[6].text[changed[6].programs[0].id_offset] = 'X';
  for (size_t i = 0; i < changed.size(); ++i) {
    EXPECT_NE(changed[i], o) << i;
    EXPECT_NE(EncodeOutcome(changed[i]), EncodeOutcome(o)) << i;
  }
}

TEST(CompactFormat, CompileRejectsInvalidRules) {
  v1::RuleSet rules = RealRules().rules;
  for (auto& p : *rules.mutable_programs()) {
    if (p.has_pkh()) p.mutable_pkh()->mutable_caps()->set_max_components(0);
  }
  EXPECT_THAT(CompiledRules::Compile(rules).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("pkh.caps.max_components")));
}

// ---------------------------------------------------------------- property

// Random families that reach every branch of the evaluator: boundary ages
// (the day before, of and after the 6th, 7th, 60th, 70th birthday),
// 29 February, missing and invalid birth dates, births after the date,
// pregnancies of every order, school levels with and without enrolment,
// dead members, NIKs listed twice, deciles 0-10 and out of range.
class FamilyGenerator {
 public:
  explicit FamilyGenerator(uint64_t seed) : rng_(seed) {}

  v1::Family Next(absl::CivilDay as_of) {
    v1::Family f;
    f.set_kk_number(Digits(16));
    // Kelurahan and desa in and out of the prefixes the variants use, and
    // codes whose village type cannot be read.
    static constexpr const char* kRegions[] = {"52.71.01.1001", "52.71.01.2001", "52.03.05.2010", "35.10.02.1003",
                                               "35.10.02.2003", "52.71.01.3001", "5271012001",    ""};
    f.set_region_code(Pick(4) != 0 ? kRegions[Pick(4)] : kRegions[Pick(std::size(kRegions))]);
    const int a = Pick(100);
    if (a < 8) {
      // no assessment
    } else if (a < 13) {
      f.mutable_latest_assessment()->set_round("2026-Q1");
      f.mutable_latest_assessment()->set_decile(Pick(3) == 0 ? 11 : Pick(3) == 0 ? -1 : 0);
    } else {
      f.mutable_latest_assessment()->set_round(absl::StrCat("2026-Q", 1 + Pick(4)));
      f.mutable_latest_assessment()->set_decile(Pick(2) == 0 ? 1 + Pick(4) : 1 + Pick(10));
    }
    const int size = Pick(30) == 0 ? 0 : Pick(12) == 0 ? 8 + Pick(8) : 1 + Pick(7);
    for (int i = 0; i < size; ++i) AddMember(f, as_of);
    return f;
  }

 private:
  int Pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
  std::string Digits(int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s.push_back(static_cast<char>('0' + Pick(10)));
    return s;
  }

  void SetBirth(v1::Member* m, absl::CivilDay as_of) {
    const int kind = Pick(100);
    v1::Date* d = m->mutable_birth_date();
    auto set = [&](absl::CivilDay day) {
      d->set_year(static_cast<int32_t>(day.year()));
      d->set_month(day.month());
      d->set_day(day.day());
    };
    if (kind < 35) {  // around a birthday that matters
      static constexpr int kAges[] = {0, 1, 5, 6, 7, 12, 15, 18, 21, 22, 59, 60, 61, 69, 70, 71};
      const int age = kAges[Pick(std::size(kAges))];
      const absl::CivilDay anniversary(as_of.year() - age, as_of.month(), as_of.day());
      set(anniversary + (Pick(3) - 1));
    } else if (kind < 42) {  // 29 February
      static constexpr int kYears[] = {1956, 1964, 2000, 2016, 2020, 2024};
      d->set_year(kYears[Pick(std::size(kYears))]);
      d->set_month(2);
      d->set_day(29);
    } else if (kind < 47) {
      m->clear_birth_date();
    } else if (kind < 52) {  // no such date
      static constexpr int kBad[][3] = {{2023, 2, 29}, {1900, 2, 29}, {2010, 4, 31}, {0, 5, 5},
                                        {-4, 1, 1},   {2015, 13, 1},  {2015, 0, 10}, {2015, 6, 0}};
      const auto& b = kBad[Pick(std::size(kBad))];
      d->set_year(b[0]);
      d->set_month(b[1]);
      d->set_day(b[2]);
    } else if (kind < 55) {  // after the date
      set(as_of + (1 + Pick(400)));
    } else {
      set(absl::CivilDay(as_of.year() - Pick(96), 1 + Pick(12), 1) + Pick(31));
    }
  }

  void AddMember(v1::Family& f, absl::CivilDay as_of) {
    v1::FamilyMember* fm = f.add_members();
    fm->set_alive(Pick(100) < 85);
    v1::Member* m = fm->mutable_member();
    const int nik = Pick(100);
    if (nik < 7 && f.members_size() > 1) {  // listed twice
      m->set_nik(f.members(Pick(f.members_size() - 1)).member().nik());
    } else if (nik < 9) {
      m->set_nik(Digits(Pick(5)));  // short or empty
    } else {
      m->set_nik("5271" + Digits(12));
    }
    m->set_sex(static_cast<v1::Sex>(Pick(3)));
    m->set_relationship(static_cast<v1::Relationship>(Pick(11)));
    SetBirth(m, as_of);
    v1::MemberAttributes* a = m->mutable_attributes();
    if (Pick(2) == 0) {
      static constexpr int kDisabilities[] = {0, 1, 2, 3, 3, 3, 7};
      a->set_disability(static_cast<v1::Disability>(kDisabilities[Pick(std::size(kDisabilities))]));
    }
    if (Pick(100) < 65) a->set_school_level(static_cast<v1::SchoolLevel>(Pick(20) == 0 ? 9 : Pick(7)));
    if (Pick(100) < 80) a->set_school_enrolled(Pick(100) < 75);
    if (Pick(100) < 40) a->set_pregnant(Pick(100) < 65);
    if (Pick(100) < 80) a->set_pregnancy_order(Pick(6) - 1);
  }

  std::mt19937_64 rng_;
};

v1::ProgramRules* Find(v1::RuleSet& rules, const std::string& id) {
  for (auto& p : *rules.mutable_programs()) {
    if (p.program_id() == id) return &p;
  }
  ADD_FAILURE() << "no program " << id;
  std::abort();
}

v1::PkhComponent* FindComponent(v1::ProgramRules* p, K kind) {
  for (auto& c : *p->mutable_pkh()->mutable_components()) {
    if (c.kind() == kind) return &c;
  }
  ADD_FAILURE() << "no component " << kind;
  std::abort();
}

// Named variants of rules/2026.1, each valid.
std::vector<std::pair<std::string, v1::RuleSet>> Variants() {
  std::vector<std::pair<std::string, v1::RuleSet>> out;
  const v1::RuleSet& base = RealRules().rules;
  {
    v1::RuleSet r = base;
    Find(r, "PKH")->mutable_pkh()->set_max_decile(3);
    out.emplace_back("pkh max_decile 3", r);
  }
  {
    v1::RuleSet r = base;
    v1::PkhCaps* caps = Find(r, "PKH")->mutable_pkh()->mutable_caps();
    caps->set_max_components(2);
    caps->set_max_children(1);
    caps->set_max_under_six(1);
    caps->set_max_pregnancy_order(1);
    out.emplace_back("tight caps", r);
  }
  {
    v1::RuleSet r = base;
    v1::PkhCaps* caps = Find(r, "PKH")->mutable_pkh()->mutable_caps();
    caps->set_max_components(7);
    caps->set_max_children(7);
    caps->set_max_under_six(7);
    caps->set_max_pregnancy_order(5);
    out.emplace_back("loose caps", r);
  }
  {
    v1::RuleSet r = base;
    for (auto& c : *Find(r, "PKH")->mutable_pkh()->mutable_components()) c.set_yearly_amount(1'000'000);
    out.emplace_back("equal amounts (ties)", r);
  }
  {
    v1::RuleSet r = base;
    v1::ProgramRules* pkh = Find(r, "PKH");
    FindComponent(pkh, kElderly)->set_min_age_years(70);
    FindComponent(pkh, kEarly)->set_min_age_years(1);
    FindComponent(pkh, kEarly)->set_max_age_years(6);
    FindComponent(pkh, kPrimary)->set_enrolment_required(false);
    FindComponent(pkh, kPrimary)->set_max_age_years(12);
    FindComponent(pkh, kJunior)->set_min_age_years(12);
    FindComponent(pkh, kJunior)->set_max_age_years(21);
    FindComponent(pkh, kPregnancy)->set_min_age_years(15);
    FindComponent(pkh, kDisability)->set_max_age_years(59);
    out.emplace_back("age bounds everywhere", r);
  }
  {
    v1::RuleSet r = base;
    v1::ProgramRules* blt = Find(r, "BLT_DD");
    blt->clear_excluded_if_eligible_for();
    blt->add_excluded_if_eligible_for("PKH");
    blt->mutable_blt_dana_desa()->set_max_decile(4);
    out.emplace_back("BLT-DD decile 4, excluded by PKH only", r);
  }
  {
    v1::RuleSet r = base;
    v1::PbiJkRules* pbi = Find(r, "PBI_JK")->mutable_pbi_jk();
    pbi->clear_bands();
    const std::tuple<int, int, v1::PbiJkPriority, bool> bands[] = {
        {1, 1, v1::PBI_JK_PRIORITY_FIRST, true},
        {2, 4, v1::PBI_JK_PRIORITY_SECOND, true},
        {5, 7, v1::PBI_JK_PRIORITY_POSSIBLE, false},
        {8, 10, v1::PBI_JK_PRIORITY_NONE, true}};
    for (const auto& [lo, hi, prio, covered] : bands) {
      v1::PbiJkBand* b = pbi->add_bands();
      b->set_min_decile(lo);
      b->set_max_decile(hi);
      b->set_priority(prio);
      b->set_covered(covered);
    }
    out.emplace_back("other PBI-JK bands", r);
  }
  {
    // A chain of exclusions, programs in reverse, and a second PKH-like
    // program excluded by PKH.
    v1::RuleSet r = base;
    Find(r, "BPNT")->add_excluded_if_eligible_for("PKH");
    v1::ProgramRules* blt = Find(r, "BLT_DD");
    blt->clear_excluded_if_eligible_for();
    blt->add_excluded_if_eligible_for("BPNT");
    blt->mutable_blt_dana_desa()->set_max_decile(3);
    Find(r, "PBI_JK")->add_excluded_if_eligible_for("BLT_DD");
    v1::ProgramRules lansia = *Find(r, "PKH");
    lansia.set_program_id("PKH_LANSIA");
    lansia.add_excluded_if_eligible_for("PKH");
    v1::PkhRules* pkh = lansia.mutable_pkh();
    pkh->clear_components();
    v1::PkhComponent* e = pkh->add_components();
    e->set_kind(kElderly);
    e->set_yearly_amount(1'200'000);
    e->set_min_age_years(70);
    *r.add_programs() = lansia;
    std::reverse(r.mutable_programs()->begin(), r.mutable_programs()->end());
    out.emplace_back("exclusion chain, reversed", r);
  }
  {
    // Region conditions and exclusions by receipt on several programs.
    v1::RuleSet r = base;
    v1::ProgramRules* blt = Find(r, "BLT_DD");
    blt->clear_excluded_if_eligible_for();
    blt->add_excluded_if_receiving("PKH");
    blt->add_excluded_if_eligible_for("BPNT");
    blt->mutable_region()->set_village_type(v1::VILLAGE_TYPE_DESA);
    blt->mutable_blt_dana_desa()->set_max_decile(5);
    Find(r, "BPNT")->mutable_region()->add_region_prefixes("52.71");
    Find(r, "BPNT")->mutable_region()->add_region_prefixes("35.10.02.2003");
    Find(r, "PBI_JK")->mutable_region()->set_village_type(v1::VILLAGE_TYPE_KELURAHAN);
    Find(r, "PBI_JK")->add_excluded_if_receiving("BLT_DD");
    Find(r, "PKH")->mutable_region()->add_region_prefixes("52");
    out.emplace_back("regions and receipts", r);
  }
  out.emplace_back("rules/2026.2", Rules2026_2().rules);
  {
    v1::RuleSet r = base;
    v1::ProgramRules* pkh = Find(r, "PKH");
    FindComponent(pkh, kPrimary)->set_school_level(v1::SCHOOL_LEVEL_SENIOR_SECONDARY);
    FindComponent(pkh, v1::PKH_COMPONENT_KIND_SENIOR_SECONDARY)->set_school_level(v1::SCHOOL_LEVEL_HIGHER);
    FindComponent(pkh, kJunior)->set_school_level(v1::SCHOOL_LEVEL_EARLY_CHILDHOOD);
    out.emplace_back("school levels swapped", r);
  }
  for (auto& [name, rules] : out) {
    const absl::Status st = ValidateRuleSet(rules);
    EXPECT_TRUE(st.ok()) << name << ": " << st;
  }
  return out;
}

// A random valid rule set: PKH with a random subset of components in
// random order, random amounts (often equal), bounds and caps; random
// deciles and amounts elsewhere; random PBI-JK bands; a random acyclic
// exclusion relation; programs in random order.
v1::RuleSet RandomRuleSet(std::mt19937_64& rng) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  v1::RuleSet r;
  r.set_version("random");
  r.mutable_effective_from()->set_seconds(1767200400);
  static constexpr int64_t kAmounts[] = {500'000, 900'000, 1'000'000, 1'500'000, 2'000'000, 2'400'000, 3'000'000};
  {
    v1::ProgramRules* p = r.add_programs();
    p->set_program_id("PKH");
    v1::PkhRules* pkh = p->mutable_pkh();
    pkh->set_max_decile(1 + pick(10));
    pkh->set_stages_per_year(4);
    std::vector<int> kinds = {1, 2, 3, 4, 5, 6, 7};
    std::shuffle(kinds.begin(), kinds.end(), rng);
    kinds.resize(1 + pick(7));
    for (int kind : kinds) {
      v1::PkhComponent* c = pkh->add_components();
      c->set_kind(static_cast<K>(kind));
      c->set_yearly_amount(kAmounts[pick(std::size(kAmounts))]);
      int lo = -1, hi = -1;
      if (kind == kEarly) {
        hi = 4 + pick(4);
        if (pick(3) == 0) lo = pick(2);
      } else if (kind == kElderly) {
        lo = 55 + pick(20);
        if (pick(4) == 0) hi = lo + pick(30);
      } else if (pick(4) == 0) {
        lo = pick(20);
        hi = lo + pick(60);
        if (pick(2) == 0) lo = -1;
      }
      if (lo >= 0) c->set_min_age_years(lo);
      if (hi >= 0) c->set_max_age_years(hi);
      if (kind >= kPrimary && kind <= v1::PKH_COMPONENT_KIND_SENIOR_SECONDARY) {
        c->set_school_level(pick(5) == 0 ? static_cast<v1::SchoolLevel>(2 + pick(5)) : static_cast<v1::SchoolLevel>(kind));
        c->set_enrolment_required(pick(4) != 0);
      }
    }
    v1::PkhCaps* caps = pkh->mutable_caps();
    caps->set_max_components(1 + pick(5));
    caps->set_max_children(pick(5));
    caps->set_max_under_six(pick(4));
    caps->set_max_pregnancy_order(pick(4));
  }
  for (const char* id : {"BPNT", "BLT_DD"}) {
    v1::ProgramRules* p = r.add_programs();
    p->set_program_id(id);
    if (std::string(id) == "BPNT") {
      p->mutable_bpnt()->set_max_decile(1 + pick(10));
      p->mutable_bpnt()->set_monthly_amount(100'000 * (1 + pick(4)));
      p->mutable_bpnt()->set_months_per_disbursement(2);
    } else {
      p->mutable_blt_dana_desa()->set_max_decile(1 + pick(10));
      p->mutable_blt_dana_desa()->set_monthly_amount(300'000);
      p->mutable_blt_dana_desa()->set_months_per_disbursement(1);
    }
  }
  {
    v1::ProgramRules* p = r.add_programs();
    p->set_program_id("PBI_JK");
    v1::PbiJkRules* pbi = p->mutable_pbi_jk();
    pbi->set_premium_per_member_monthly(42'000);
    pbi->set_months_per_disbursement(1);
    for (int lo = 1; lo <= 10;) {
      const int hi = std::min(10, lo + pick(4));
      v1::PbiJkBand* b = pbi->add_bands();
      b->set_min_decile(lo);
      b->set_max_decile(hi);
      b->set_priority(static_cast<v1::PbiJkPriority>(1 + pick(4)));
      b->set_covered(pick(3) != 0);
      lo = hi + 1;
    }
  }
  // Exclusions: a program may exclude any before it in a random order, by
  // eligibility or by receipt.
  std::vector<int> topo = {0, 1, 2, 3};
  std::shuffle(topo.begin(), topo.end(), rng);
  for (int a = 0; a < 4; ++a) {
    for (int b = 0; b < a; ++b) {
      const int e = pick(6);
      if (e < 2) r.mutable_programs(topo[a])->add_excluded_if_eligible_for(r.programs(topo[b]).program_id());
      if (e == 2) r.mutable_programs(topo[a])->add_excluded_if_receiving(r.programs(topo[b]).program_id());
    }
  }
  // Region conditions.
  static constexpr const char* kPrefixes[] = {"52", "52.71", "52.03.05", "35.10.02.2003", "81"};
  for (int i = 0; i < 4; ++i) {
    if (pick(3) != 0) continue;
    v1::RegionCondition* rc = r.mutable_programs(i)->mutable_region();
    rc->set_village_type(static_cast<v1::VillageType>(pick(3)));
    for (int k = 0; k < static_cast<int>(std::size(kPrefixes)); ++k) {
      if (pick(3) == 0) rc->add_region_prefixes(kPrefixes[k]);
    }
  }
  std::shuffle(r.mutable_programs()->begin(), r.mutable_programs()->end(), rng);
  return r;
}

// Compares the compact path with the reference for `families` families
// from `seed` at each date, and checks the encodings round-trip. Counts the
// reference's reason codes (every reason, not only the first) in `seen`.
void CheckAgainstReference(const std::string& name, const v1::RuleSet& rules, uint64_t seed, int families,
                           const std::vector<absl::CivilDay>& dates, std::map<v1::ReasonCode, int>* seen) {
  auto compiled_or = CompiledRules::Compile(rules);
  ASSERT_TRUE(compiled_or.ok()) << name << ": " << compiled_or.status();
  const CompiledRules& compiled = *compiled_or;
  FamilyGenerator gen(seed);
  CompactFamilyView view;
  Outcome compact, decoded;
  std::string bytes;
  EvaluateOptions opts;
  opts.rule_hash = "h";
  opts.explain = false;
  for (int i = 0; i < families; ++i) {
    const absl::CivilDay born_around = dates[static_cast<size_t>(i) % dates.size()];
    const v1::Family f = gen.Next(born_around);
    const std::string encoded = EncodeCompactFamily(f);
    ASSERT_TRUE(view.Parse(encoded)) << f.ShortDebugString();
    for (absl::CivilDay as_of : dates) {
      const std::vector<v1::Decision> ds = Evaluate(f, rules, as_of, opts);
      for (const auto& d : ds) {
        for (const auto& r : d.reasons()) ++(*seen)[r.code()];
      }
      const Outcome reference = OutcomeFromDecisions(ds);
      compiled.Evaluate(view, as_of, &compact);  // reused: exercises Clear and capacity reuse
      ASSERT_EQ(compact, reference) << name << ", seed " << seed << ", family " << i << ", as of " << as_of
                                    << "\ncompact:   " << Describe(compact) << "\nreference: "
                                    << Describe(reference) << "\nfamily: " << f.ShortDebugString();
      EncodeOutcome(compact, &bytes);
      ASSERT_EQ(bytes, EncodeOutcome(reference)) << name << ", family " << i;
      ASSERT_OK(DecodeOutcome(bytes, &decoded));
      ASSERT_EQ(decoded, reference) << name << ", family " << i;
    }
  }
}

const std::vector<absl::CivilDay>& Dates() {
  static const auto* dates = new std::vector<absl::CivilDay>{
      kAsOf, absl::CivilDay(2028, 2, 29), absl::CivilDay(2027, 2, 28), absl::CivilDay(2027, 3, 1),
      absl::CivilDay(2026, 1, 1), absl::CivilDay(2026, 12, 31)};
  return *dates;
}

TEST(CompactProperty, RealRulesMatchTheReference) {
  std::map<v1::ReasonCode, int> seen;
  CheckAgainstReference("rules/2026.1", RealRules().rules, 20260315, 12000, Dates(), &seen);
  // The generator reaches every reason the real rules can give.
  for (v1::ReasonCode code :
       {v1::REASON_CODE_ELIGIBLE, v1::REASON_CODE_NO_ASSESSMENT, v1::REASON_CODE_DECILE_ABOVE_LIMIT,
        v1::REASON_CODE_DECILE_NOT_COVERED, v1::REASON_CODE_NO_COMPONENT, v1::REASON_CODE_EXCLUDED_BY_PROGRAM,
        v1::REASON_CODE_CAP_APPLIED, v1::REASON_CODE_PREGNANCY_ORDER_ABOVE_LIMIT, v1::REASON_CODE_NOT_ENROLLED,
        v1::REASON_CODE_NO_LIVING_MEMBER}) {
    EXPECT_GE(seen[code], 100) << v1::ReasonCode_Name(code);
  }
}

TEST(CompactProperty, VariantsMatchTheReference) {
  uint64_t seed = 7;
  for (const auto& [name, rules] : Variants()) {
    std::map<v1::ReasonCode, int> seen;
    CheckAgainstReference(name, rules, ++seed, 3000, {kAsOf, absl::CivilDay(2028, 2, 29)}, &seen);
    EXPECT_GT(seen[v1::REASON_CODE_ELIGIBLE], 0) << name;
  }
}

TEST(CompactProperty, RandomRuleSetsMatchTheReference) {
  std::mt19937_64 rng(424242);
  std::map<v1::ReasonCode, int> seen;
  for (int i = 0; i < 60; ++i) {
    const v1::RuleSet rules = RandomRuleSet(rng);
    ASSERT_OK(ValidateRuleSet(rules)) << rules.ShortDebugString();
    CheckAgainstReference(absl::StrCat("random rule set ", i, ": ", rules.ShortDebugString()), rules, 1000 + i, 500,
                          {kAsOf, absl::CivilDay(2027, 3, 1)}, &seen);
  }
  EXPECT_GE(seen[v1::REASON_CODE_CAP_APPLIED], 100);
  EXPECT_GE(seen[v1::REASON_CODE_EXCLUDED_BY_PROGRAM], 100);
  EXPECT_GE(seen[v1::REASON_CODE_RECEIVING_PROGRAM], 100);
  EXPECT_GE(seen[v1::REASON_CODE_REGION_NOT_COVERED], 100);
}

TEST(CompactProperty, Rules2026_2MatchTheReference) {
  std::map<v1::ReasonCode, int> seen;
  CheckAgainstReference("rules/2026.2", Rules2026_2().rules, 20270101, 6000, Dates(), &seen);
  // Kelurahan families and receipts of BPNT reach BLT-DD's reasons.
  EXPECT_GE(seen[v1::REASON_CODE_REGION_NOT_COVERED], 100);
  EXPECT_GE(seen[v1::REASON_CODE_RECEIVING_PROGRAM], 100);
}

TEST(CompactProperty, ExplainDoesNotChangeTheOutcome) {
  FamilyGenerator gen(99);
  CompactFamilyView view;
  Outcome compact;
  for (int i = 0; i < 1000; ++i) {
    const v1::Family f = gen.Next(kAsOf);
    const std::string encoded = EncodeCompactFamily(f);
    ASSERT_TRUE(view.Parse(encoded));
    RealCompiled().Evaluate(view, kAsOf, &compact);
    ASSERT_EQ(compact, Reference(f, RealRules().rules, kAsOf, /*explain=*/true)) << f.ShortDebugString();
  }
}

}  // namespace
}  // namespace jaring::rules
