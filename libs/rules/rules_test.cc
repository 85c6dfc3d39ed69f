// Loading, validating and hashing rule sets, against the real files in
// rules/ and against broken copies of them.
#include "libs/rules/rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/str_replace.h"
#include "google/protobuf/text_format.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/temp_dir.h"

namespace jaring::rules {
namespace {

namespace fs = std::filesystem;
using ::jaring::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const fs::path kRulesDir = JARING_RULES_DIR;
const fs::path kCurrent = kRulesDir / "2026.1";

std::string Read(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Write(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::trunc);
  out << text;
}

// A copy of rules/2026.1 in a temporary directory, to break on purpose.
class RuleCopy {
 public:
  RuleCopy() : dir_(fs::path(tmp_.path()) / "2026.1") {
    fs::create_directories(dir_);
    for (const auto& e : fs::directory_iterator(kCurrent)) fs::copy_file(e.path(), dir_ / e.path().filename());
  }
  const fs::path& dir() const { return dir_; }
  // Replaces `from` (which must occur) by `to` in `file`.
  void Edit(const std::string& file, const std::string& from, const std::string& to) {
    std::string text = Read(dir_ / file);
    ASSERT_NE(text.find(from), std::string::npos) << from;
    Write(dir_ / file, absl::StrReplaceAll(text, {{from, to}}));
  }

 private:
  jaring::testing::TempDir tmp_;
  fs::path dir_;
};

TEST(LoadRuleSet, LoadsTheRepositoryRules) {
  ASSERT_OK_AND_ASSIGN(LoadedRuleSet loaded, LoadRuleSet(kCurrent));
  const v1::RuleSet& r = loaded.rules;
  EXPECT_EQ(r.version(), "2026.1");
  EXPECT_EQ(r.effective_from().seconds(), 1767200400);  // 2026-01-01T00:00:00+07:00
  std::vector<std::string> ids;
  for (const auto& p : r.programs()) ids.push_back(p.program_id());
  // File-name order: blt_dd, bpnt, pbi_jk, pkh.
  EXPECT_THAT(ids, ElementsAre("BLT_DD", "BPNT", "PBI_JK", "PKH"));
  EXPECT_EQ(loaded.sources.size(), 5u);
  EXPECT_EQ(loaded.content_hash.size(), 64u);

  const v1::PkhRules& pkh = FindProgram(r, "PKH")->pkh();
  EXPECT_EQ(pkh.max_decile(), 4);
  EXPECT_EQ(pkh.caps().max_components(), 4);
  EXPECT_EQ(pkh.caps().max_children(), 3);
  EXPECT_EQ(pkh.caps().max_under_six(), 2);
  EXPECT_EQ(pkh.caps().max_pregnancy_order(), 2);
  EXPECT_EQ(pkh.stages_per_year(), 4);
  std::map<v1::PkhComponentKind, int64_t> amounts;
  for (const auto& c : pkh.components()) amounts[c.kind()] = c.yearly_amount();
  EXPECT_EQ(amounts[v1::PKH_COMPONENT_KIND_PREGNANCY], 3'000'000);
  EXPECT_EQ(amounts[v1::PKH_COMPONENT_KIND_EARLY_CHILD], 3'000'000);
  EXPECT_EQ(amounts[v1::PKH_COMPONENT_KIND_PRIMARY], 900'000);
  EXPECT_EQ(amounts[v1::PKH_COMPONENT_KIND_JUNIOR_SECONDARY], 1'500'000);
  EXPECT_EQ(amounts[v1::PKH_COMPONENT_KIND_SENIOR_SECONDARY], 2'000'000);
  EXPECT_EQ(amounts[v1::PKH_COMPONENT_KIND_SEVERE_DISABILITY], 2'400'000);
  EXPECT_EQ(amounts[v1::PKH_COMPONENT_KIND_ELDERLY], 2'400'000);

  const v1::BpntRules& bpnt = FindProgram(r, "BPNT")->bpnt();
  EXPECT_EQ(bpnt.max_decile(), 4);
  EXPECT_EQ(bpnt.monthly_amount(), 200'000);
  EXPECT_EQ(bpnt.months_per_disbursement(), 2);

  const v1::BltDanaDesaRules& blt = FindProgram(r, "BLT_DD")->blt_dana_desa();
  EXPECT_EQ(blt.max_decile(), 1);
  EXPECT_EQ(blt.monthly_amount(), 300'000);
  EXPECT_THAT(FindProgram(r, "BLT_DD")->excluded_if_eligible_for(), ElementsAre("PKH", "BPNT"));

  EXPECT_EQ(FindProgram(r, "PBI_JK")->pbi_jk().bands_size(), 4);
  EXPECT_EQ(FindProgram(r, "NOPE"), nullptr);
}

TEST(ContentHash, IsStableAndPinned) {
  ASSERT_OK_AND_ASSIGN(LoadedRuleSet a, LoadRuleSet(kCurrent));
  ASSERT_OK_AND_ASSIGN(LoadedRuleSet b, LoadRuleSet(kCurrent));
  EXPECT_EQ(a.content_hash, b.content_hash);
  EXPECT_EQ(ContentHash(a.rules), a.content_hash);
  v1::RuleSet copy = a.rules;
  EXPECT_EQ(ContentHash(copy), a.content_hash);
  // A published rule set never changes: a change is a new version
  // (rules/README.md). This pin fails if rules/2026.1 is edited or the
  // canonical serialization drifts.
  EXPECT_EQ(a.content_hash, "283e95181f0b2c9dd3d926a98281da911c6136ccbc41656870c54873fd7601f8");
}

TEST(ContentHash, AnyChangeChangesIt) {
  ASSERT_OK_AND_ASSIGN(LoadedRuleSet base, LoadRuleSet(kCurrent));
  const std::string h = base.content_hash;
  std::set<std::string> seen{h};
  auto expect_new = [&](const v1::RuleSet& r) {
    std::string x = ContentHash(r);
    EXPECT_TRUE(seen.insert(x).second) << "hash repeated";
  };
  v1::RuleSet r = base.rules;
  r.set_version("2026.2");
  expect_new(r);
  r = base.rules;
  r.mutable_effective_from()->set_seconds(r.effective_from().seconds() + 1);
  expect_new(r);
  r = base.rules;
  v1::ProgramRules* pkh = r.mutable_programs(3);
  ASSERT_EQ(pkh->program_id(), "PKH");
  pkh->mutable_pkh()->mutable_components(2)->set_yearly_amount(900'001);
  expect_new(r);
  r = base.rules;
  r.mutable_programs(3)->mutable_pkh()->mutable_caps()->set_max_children(2);
  expect_new(r);
  r = base.rules;
  r.mutable_programs(0)->clear_excluded_if_eligible_for();
  expect_new(r);
  r = base.rules;
  r.mutable_programs()->SwapElements(0, 1);
  expect_new(r);
  r = base.rules;
  r.set_description(r.description() + ".");
  expect_new(r);
}

TEST(ContentHash, CommentsAndLayoutDoNotCount) {
  RuleCopy copy;
  copy.Edit("bpnt.textproto", "  max_decile: 4\n", "  # a new comment\n\n  max_decile:    4\n");
  ASSERT_OK_AND_ASSIGN(LoadedRuleSet a, LoadRuleSet(kCurrent));
  ASSERT_OK_AND_ASSIGN(LoadedRuleSet b, LoadRuleSet(copy.dir()));
  EXPECT_EQ(a.content_hash, b.content_hash);
}

TEST(LoadRuleSet, OneFileEqualsTheDirectory) {
  ASSERT_OK_AND_ASSIGN(LoadedRuleSet dir, LoadRuleSet(kCurrent));
  std::string text;
  ASSERT_TRUE(google::protobuf::TextFormat::PrintToString(dir.rules, &text));
  jaring::testing::TempDir tmp;
  const fs::path file = fs::path(tmp.path()) / "all.textproto";
  Write(file, text);
  ASSERT_OK_AND_ASSIGN(LoadedRuleSet one, LoadRuleSet(file));
  EXPECT_EQ(one.content_hash, dir.content_hash);
  // A trailing slash names the same directory.
  ASSERT_OK_AND_ASSIGN(LoadedRuleSet slash, LoadRuleSet(kCurrent.string() + "/"));
  EXPECT_EQ(slash.content_hash, dir.content_hash);
}

TEST(LoadRuleSet, MissingPathIsNotFound) {
  EXPECT_THAT(LoadRuleSet(kRulesDir / "1999.9"), StatusIs(absl::StatusCode::kNotFound, HasSubstr("1999.9")));
  jaring::testing::TempDir tmp;
  EXPECT_THAT(LoadRuleSet(tmp.path()),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("has no ruleset.textproto")));
}

struct BadCase {
  std::string name;
  std::string file;
  std::string from;
  std::string to;
  std::string error;
};

class ValidationTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(ValidationTest, NamesFileFieldAndReason) {
  const BadCase& c = GetParam();
  RuleCopy copy;
  copy.Edit(c.file, c.from, c.to);
  EXPECT_THAT(LoadRuleSet(copy.dir()), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.error)));
}

INSTANTIATE_TEST_SUITE_P(
    BrokenCopies, ValidationTest,
    ::testing::Values(
        BadCase{"MaxComponentsZero", "pkh.textproto", "max_components: 4", "max_components: 0",
                "pkh.textproto: pkh.caps.max_components: must be at least 1 (is 0)"},
        BadCase{"DecileEleven", "bpnt.textproto", "max_decile: 4", "max_decile: 11",
                "bpnt.textproto: bpnt.max_decile: must be from 1 to 10 (is 11)"},
        BadCase{"NegativeAmount", "pkh.textproto", "yearly_amount: 900000", "yearly_amount: -900000",
                "pkh.textproto: pkh.components[2].yearly_amount: must be from 1 to 1000000000000"},
        BadCase{"KindTwice", "pkh.textproto", "kind: PKH_COMPONENT_KIND_ELDERLY",
                "kind: PKH_COMPONENT_KIND_PRIMARY", "pkh.textproto: pkh.components[6].kind: "
                                                    "PKH_COMPONENT_KIND_PRIMARY is listed twice"},
        BadCase{"SchoolWithoutLevel", "pkh.textproto", "    school_level: SCHOOL_LEVEL_PRIMARY\n", "",
                "pkh.textproto: pkh.components[2].school_level: is required for a school component"},
        BadCase{"ElderlyWithoutAge", "pkh.textproto", "min_age_years: 60", "",
                "pkh.textproto: pkh.components[6].min_age_years: is required for ELDERLY"},
        BadCase{"AgesInverted", "pkh.textproto", "min_age_years: 0", "min_age_years: 9",
                "pkh.textproto: pkh.components[1].max_age_years: must not be below min_age_years"},
        BadCase{"StagesDoNotDivideYear", "pkh.textproto", "stages_per_year: 4", "stages_per_year: 5",
                "pkh.textproto: pkh.stages_per_year: must divide 12"},
        BadCase{"MonthsDoNotDivideYear", "bpnt.textproto", "months_per_disbursement: 2",
                "months_per_disbursement: 5", "bpnt.textproto: bpnt.months_per_disbursement: must divide 12"},
        BadCase{"BandOverlap", "pbi_jk.textproto", "min_decile: 5\n    max_decile: 5",
                "min_decile: 6\n    max_decile: 6", "pbi_jk.textproto: pbi_jk.bands[3]: decile 6 is also in bands[2]"},
        BadCase{"BandMissing", "pbi_jk.textproto", "min_decile: 6\n    max_decile: 10",
                "min_decile: 6\n    max_decile: 9", "pbi_jk.textproto: pbi_jk.bands: decile 10 is in no band"},
        BadCase{"BandWithoutPriority", "pbi_jk.textproto", "priority: PBI_JK_PRIORITY_POSSIBLE\n", "",
                "pbi_jk.textproto: pbi_jk.bands[2].priority: must be set to a known priority"},
        BadCase{"UnknownExclusion", "blt_dd.textproto", "excluded_if_eligible_for: \"BPNT\"",
                "excluded_if_eligible_for: \"BANSOS_X\"",
                "blt_dd.textproto: excluded_if_eligible_for[1]: no program \"BANSOS_X\" in the rule set"},
        BadCase{"SelfExclusion", "blt_dd.textproto", "excluded_if_eligible_for: \"BPNT\"",
                "excluded_if_eligible_for: \"BLT_DD\"",
                "blt_dd.textproto: excluded_if_eligible_for[1]: a program cannot exclude itself"},
        BadCase{"ExclusionCycle", "pkh.textproto", "name: \"Program Keluarga Harapan\"",
                "name: \"Program Keluarga Harapan\"\nexcluded_if_eligible_for: \"BLT_DD\"",
                "excluded_if_eligible_for: the exclusions between programs form a cycle"},
        BadCase{"DuplicateProgramId", "bpnt.textproto", "program_id: \"BPNT\"", "program_id: \"PKH\"",
                "pkh.textproto: program_id: \"PKH\" is also used by bpnt.textproto"},
        BadCase{"BadProgramId", "bpnt.textproto", "program_id: \"BPNT\"", "program_id: \"bpnt\"",
                "bpnt.textproto: program_id: must be 1-32 upper-case letters"},
        BadCase{"NoRules", "bpnt.textproto", "bpnt {", "unused_block {",
                "bpnt.textproto:9:14: Message type \"jaring.v1.ProgramRules\" has no field named \"unused_block\""},
        BadCase{"UnknownField", "pkh.textproto", "max_decile: 4", "max_decil: 4",
                "pkh.textproto:10:12: Message type \"jaring.v1.PkhRules\" has no field named \"max_decil\""},
        BadCase{"VersionNotDirectory", "ruleset.textproto", "version: \"2026.1\"", "version: \"2026.2\"",
                "ruleset.textproto: version: \"2026.2\" must equal the directory name \"2026.1\""},
        BadCase{"NoEffectiveDate", "ruleset.textproto", "effective_from { seconds: 1767200400 }", "",
                "ruleset.textproto: effective_from: is required"},
        BadCase{"ProgramsInManifest", "ruleset.textproto", "description:",
                "programs { program_id: \"X\" }\ndescription:",
                "ruleset.textproto: programs: list programs in their own files"}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; });

TEST(ValidateRuleSet, NamesProgramsWithoutFiles) {
  ASSERT_OK_AND_ASSIGN(LoadedRuleSet loaded, LoadRuleSet(kCurrent));
  v1::RuleSet r = loaded.rules;
  EXPECT_OK(ValidateRuleSet(r));
  r.mutable_programs(3)->mutable_pkh()->mutable_caps()->set_max_components(0);
  EXPECT_THAT(ValidateRuleSet(r),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("programs[3] (PKH): pkh.caps.max_components: must be at least 1")));
  r = loaded.rules;
  r.mutable_programs(1)->clear_bpnt();
  EXPECT_THAT(ValidateRuleSet(r), StatusIs(absl::StatusCode::kInvalidArgument,
                                           HasSubstr("programs[1] (BPNT): rules: one of pkh, bpnt")));
  r.clear_programs();
  EXPECT_THAT(ValidateRuleSet(r), StatusIs(absl::StatusCode::kInvalidArgument,
                                           HasSubstr("ruleset: programs: must list at least one program")));
}

TEST(LoadRuleSet, Loads2026_2AndPinsItsHash) {
  ASSERT_OK_AND_ASSIGN(LoadedRuleSet next, LoadRuleSet(kRulesDir / "2026.2"));
  ASSERT_OK_AND_ASSIGN(LoadedRuleSet current, LoadRuleSet(kCurrent));
  EXPECT_EQ(next.rules.version(), "2026.2");
  // 2027-01-01T00:00:00+07:00.
  EXPECT_EQ(next.rules.effective_from().seconds(), 1798736400);
  EXPECT_GT(next.rules.effective_from().seconds(), current.rules.effective_from().seconds());
  const v1::ProgramRules* blt = FindProgram(next.rules, "BLT_DD");
  ASSERT_NE(blt, nullptr);
  EXPECT_THAT(blt->excluded_if_receiving(), ElementsAre("PKH", "BPNT"));
  EXPECT_THAT(blt->excluded_if_eligible_for(), ElementsAre());
  EXPECT_EQ(blt->region().village_type(), v1::VILLAGE_TYPE_DESA);
  for (const v1::PkhComponent& c : FindProgram(next.rules, "PKH")->pkh().components()) {
    const bool school = c.school_level() != v1::SCHOOL_LEVEL_UNSPECIFIED;
    EXPECT_EQ(c.has_max_age_years() && c.max_age_years() == 21, school) << c.ShortDebugString();
  }
  // Published: this pin fails if rules/2026.2 is edited.
  EXPECT_EQ(next.content_hash, "8291022754cef2e619ec6e5375a820f6a346ef4ab46a5afdaf4d8efe674232c9");
}

TEST(LoadRuleSet, EveryRepositoryDirectoryLoads) {
  std::vector<std::string> versions;
  for (const fs::directory_entry& e : fs::directory_iterator(kRulesDir)) {
    if (!e.is_directory()) continue;
    ASSERT_OK_AND_ASSIGN(LoadedRuleSet r, LoadRuleSet(e.path()));
    EXPECT_EQ(r.rules.version(), e.path().filename().string());
    versions.push_back(r.rules.version());
  }
  std::sort(versions.begin(), versions.end());
  EXPECT_THAT(versions, ElementsAre("2026.1", "2026.2"));
}

TEST(ValidateRuleSet, RegionConditionsAndReceipts) {
  ASSERT_OK_AND_ASSIGN(LoadedRuleSet loaded, LoadRuleSet(kRulesDir / "2026.2"));
  ASSERT_EQ(loaded.rules.programs(0).program_id(), "BLT_DD");
  auto error = [&](const std::function<void(v1::RuleSet&)>& edit) {
    v1::RuleSet r = loaded.rules;
    edit(r);
    return ValidateRuleSet(r);
  };
  auto blt = [](v1::RuleSet& r) { return r.mutable_programs(0); };
  auto bpnt = [](v1::RuleSet& r) { return r.mutable_programs(1); };
  const auto invalid = [](const std::string& text) { return StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(text)); };
  EXPECT_THAT(error([&](v1::RuleSet& r) { blt(r)->mutable_region()->add_region_prefixes("52.7"); }),
              invalid("programs[0] (BLT_DD): region.region_prefixes[0]: \"52.7\" is not a region prefix"));
  EXPECT_THAT(error([&](v1::RuleSet& r) { blt(r)->mutable_region()->add_region_prefixes("52.71.01.200"); }),
              invalid("region.region_prefixes[0]: \"52.71.01.200\" is not a region prefix"));
  EXPECT_THAT(error([&](v1::RuleSet& r) {
                blt(r)->mutable_region()->add_region_prefixes("52.71");
                blt(r)->mutable_region()->add_region_prefixes("52.71");
              }),
              invalid("region.region_prefixes[1]: \"52.71\" is listed twice"));
  EXPECT_THAT(error([&](v1::RuleSet& r) { blt(r)->mutable_region()->set_village_type(static_cast<v1::VillageType>(9)); }),
              invalid("programs[0] (BLT_DD): region.village_type: must be a known village type"));
  EXPECT_THAT(error([&](v1::RuleSet& r) { blt(r)->add_excluded_if_receiving("BANSOS_X"); }),
              invalid("programs[0] (BLT_DD): excluded_if_receiving[2]: no program \"BANSOS_X\" in the rule set"));
  EXPECT_THAT(error([&](v1::RuleSet& r) { blt(r)->add_excluded_if_receiving("BLT_DD"); }),
              invalid("excluded_if_receiving[2]: a program cannot exclude itself"));
  EXPECT_THAT(error([&](v1::RuleSet& r) { blt(r)->add_excluded_if_receiving("PKH"); }),
              invalid("excluded_if_receiving[2]: \"PKH\" is listed twice"));
  EXPECT_THAT(error([&](v1::RuleSet& r) { blt(r)->add_excluded_if_eligible_for("BPNT"); }),
              invalid("excluded_if_receiving[1]: \"BPNT\" is also in excluded_if_eligible_for (choose one)"));
  // A cycle through receipts, and one mixing receipt and eligibility.
  EXPECT_THAT(error([&](v1::RuleSet& r) { bpnt(r)->add_excluded_if_receiving("BLT_DD"); }),
              invalid("exclusions between programs form a cycle"));
  EXPECT_THAT(error([&](v1::RuleSet& r) { bpnt(r)->add_excluded_if_eligible_for("BLT_DD"); }),
              invalid("exclusions between programs form a cycle"));
  // Valid: every prefix form, and a program with a region condition only.
  EXPECT_OK(error([&](v1::RuleSet& r) {
    for (const char* p : {"52", "52.03", "52.03.05", "52.03.05.2001"}) bpnt(r)->mutable_region()->add_region_prefixes(p);
  }));
}

TEST(ParseRuleSetText, ReportsLineAndColumn) {
  EXPECT_THAT(ParseRuleSetText("version: \"x\"\nbogus: 1\n", "inline"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("inline:2:6: Message type \"jaring.v1.RuleSet\" has no field named \"bogus\"")));
  EXPECT_THAT(ParseProgramText("pkh { max_decile: \"four\" }", "p"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("p:1:")));
}

}  // namespace
}  // namespace jaring::rules
