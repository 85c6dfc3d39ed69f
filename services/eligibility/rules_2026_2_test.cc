// Rule set 2026.2 through the eligibility service: it takes effect on
// 2027-01-01, BLT Dana Desa is for desa families only and exclusive with what
// a family receives (its PKH and BPNT decisions in force at the same date),
// school components end at 21; and a PKH family whose child two caps
// removed together is told both. As the engine records it and as
// GetDecision explains it.
#include "services/eligibility/test_util.h"

namespace jaring::eligibility {
namespace {

using population::kKk2;
using population::kRegion2;

class Rules2026_2Test : public EligibilityFixture {
 protected:
  static v1::RuleSet Rules(const std::string& version) {
    auto loaded = rules::LoadRuleSet(std::filesystem::path(JARING_RULES_DIR) / version);
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    return loaded->rules;
  }
  void AssessBoth(int decile) {
    v1::RecordWelfareAssessmentResponse resp;
    ASSERT_GRPC_OK(stub_->RecordWelfareAssessment(Ctx().get(), Assess(kKk1, decile, "assess-1"), &resp));
    ASSERT_GRPC_OK(stub_->RecordWelfareAssessment(Ctx().get(), Assess(kKk2, decile, "assess-2"), &resp));
  }
  static std::vector<v1::ReasonCode> Codes(const v1::Decision& d) {
    std::vector<v1::ReasonCode> out;
    for (const auto& r : d.reasons()) out.push_back(r.code());
    return out;
  }
  static const v1::ClauseResult* Clause(const v1::Decision& d, const std::string& id) {
    for (const auto& c : d.clauses()) {
      if (c.clause_id() == id) return &c;
    }
    return nullptr;
  }
};

TEST_F(Rules2026_2Test, TakesEffectIn2027AndDecidesBltDdByVillageTypeAndReceipt) {
  // Family 1: a kelurahan of Kota Mataram (52.71.01.1001), the wife
  // enrolled at senior secondary at 38. Family 2: a desa of Lombok Timur
  // (52.03.02.2005), one man of 47 (no PKH component). Both decile 1.
  v1::RegisterFamilyRequest f1 = Family1();
  auto* wife = f1.mutable_family()->mutable_members(1)->mutable_attributes();
  wife->set_school_level(v1::SCHOOL_LEVEL_SENIOR_SECONDARY);
  wife->set_school_enrolled(true);
  ASSERT_GRPC_OK(Register(f1));
  ASSERT_GRPC_OK(Register(Family2()));
  AssessBoth(1);
  Publish(Rules("2026.1"));
  const v1::PublishRuleSetResponse next = Publish(Rules("2026.2"));
  Settle();

  // 2026 (2026.1 in force): the 38-year-old pupil earns Rp2,000,000 (no age
  // bound), BLT-DD is excluded by eligibility for BPNT everywhere.
  std::vector<v1::RecordedDecision> pkh = HistoryOf(kKk1, "PKH");
  ASSERT_EQ(pkh.size(), 1u);
  EXPECT_EQ(pkh[0].decision().yearly_amount(), 2'000'000);
  EXPECT_TRUE(HistoryOf(kKk2, "BLT_DD").empty());
  EXPECT_THAT(Codes(Decision(kKk2, "BLT_DD").decision()), ::testing::ElementsAre(v1::REASON_CODE_EXCLUDED_BY_PROGRAM));

  // 2 January 2027: 2026.2 is in force.
  SetNow(absl::FromCivil(absl::CivilDay(2027, 1, 2), WibTimeZone()));
  Settle();
  pkh = HistoryOf(kKk1, "PKH");
  ASSERT_EQ(pkh.size(), 2u);
  EXPECT_FALSE(pkh[1].decision().eligible());  // school components end at 21
  EXPECT_EQ(pkh[1].trigger(), v1::EVALUATION_TRIGGER_RULE_SET);
  EXPECT_EQ(pkh[1].decision().rule_version(), "2026.2");
  EXPECT_EQ(pkh[1].decision().rule_hash(), next.content_hash());

  // The kelurahan family: no BLT-DD, for its region.
  v1::GetDecisionResponse k = Decision(kKk1, "BLT_DD", std::nullopt, std::nullopt, /*explain=*/true);
  EXPECT_EQ(k.decision().rule_version(), "2026.2");
  EXPECT_THAT(Codes(k.decision()), ::testing::ElementsAre(v1::REASON_CODE_REGION_NOT_COVERED));
  ASSERT_NE(Clause(k.decision(), "blt_dd.region"), nullptr);
  EXPECT_FALSE(Clause(k.decision(), "blt_dd.region")->passed());

  // The desa family receives BPNT: its BPNT decision in force at the same
  // date is eligible, so BLT-DD is excluded by receipt, and the engine
  // records nothing for BLT-DD.
  const std::vector<v1::RecordedDecision> bpnt = HistoryOf(kKk2, "BPNT");
  ASSERT_FALSE(bpnt.empty());
  EXPECT_TRUE(bpnt.back().decision().eligible());
  v1::GetDecisionResponse d = Decision(kKk2, "BLT_DD", std::nullopt, std::nullopt, /*explain=*/true);
  EXPECT_FALSE(d.decision().eligible());
  EXPECT_THAT(Codes(d.decision()), ::testing::ElementsAre(v1::REASON_CODE_RECEIVING_PROGRAM));
  EXPECT_EQ(d.decision().reasons(0).text_en(),
            "Already receiving BPNT; BLT_DD is not given to families receiving BPNT");
  const v1::ClauseResult* receipt = Clause(d.decision(), "blt_dd.excluded_if_receiving.BPNT");
  ASSERT_NE(receipt, nullptr);
  EXPECT_FALSE(receipt->passed());
  EXPECT_TRUE(Clause(d.decision(), "blt_dd.region")->passed());
  EXPECT_TRUE(HistoryOf(kKk2, "BLT_DD").empty());

  // As of a 2026 date the answer is 2026.1's, whenever asked.
  v1::GetDecisionResponse before = Decision(kKk2, "BLT_DD", absl::FromCivil(absl::CivilDay(2026, 12, 1), WibTimeZone()));
  EXPECT_EQ(before.decision().rule_version(), "2026.1");
  EXPECT_THAT(Codes(before.decision()), ::testing::ElementsAre(v1::REASON_CODE_EXCLUDED_BY_PROGRAM));
}

TEST_F(Rules2026_2Test, ACapsReasonNamesEveryCapThatRemovedAChild) {
  // Family 1 with four enrolled senior-secondary children and a severely
  // disabled primary-school child, decile 2, under 2026.1: three seniors +
  // the disability = Rp8,400,000; the fourth senior was removed by the
  // components and the children caps together, and GetDecision says so.
  v1::RegisterFamilyRequest f = Family1();
  auto child = [&](const std::string& nik, int year, v1::SchoolLevel level) {
    v1::Member m = Person(nik, "Anak", v1::SEX_MALE, year, 7, 1, v1::RELATIONSHIP_CHILD);
    m.mutable_attributes()->set_school_level(level);
    m.mutable_attributes()->set_school_enrolled(true);
    *f.mutable_family()->add_members() = m;
    return f.mutable_family()->mutable_members(f.family().members_size() - 1)->mutable_attributes();
  };
  child("5271010107090004", 2009, v1::SCHOOL_LEVEL_SENIOR_SECONDARY);
  child("5271010107090005", 2009, v1::SCHOOL_LEVEL_SENIOR_SECONDARY);
  child("5271010107100006", 2010, v1::SCHOOL_LEVEL_SENIOR_SECONDARY);
  child("5271010107100007", 2010, v1::SCHOOL_LEVEL_SENIOR_SECONDARY);
  child("5271010107170008", 2017, v1::SCHOOL_LEVEL_PRIMARY)->set_disability(v1::DISABILITY_SEVERE);
  ASSERT_GRPC_OK(Register(f));
  v1::RecordWelfareAssessmentResponse resp;
  ASSERT_GRPC_OK(stub_->RecordWelfareAssessment(Ctx().get(), Assess(kKk1, 2, "assess-1"), &resp));
  Publish(Rules2026());
  Settle();
  const v1::GetDecisionResponse d = Decision(kKk1, "PKH", std::nullopt, std::nullopt, /*explain=*/true);
  EXPECT_TRUE(d.recorded_agrees());
  EXPECT_EQ(d.decision().yearly_amount(), 8'400'000);
  EXPECT_THAT(Codes(d.decision()), ::testing::ElementsAre(v1::REASON_CODE_ELIGIBLE, v1::REASON_CODE_CAP_APPLIED,
                                                          v1::REASON_CODE_CAP_APPLIED));
  EXPECT_EQ(d.decision().reasons(1).text_en(),
            "Components are capped at 4; 5 members qualify; 1 member left without a component (together with the "
            "children cap)");
  EXPECT_EQ(d.decision().reasons(2).text_en(),
            "Children are capped at 3; 4 children qualify; 1 member left without a component (together with the "
            "components cap)");
  const v1::ClauseResult* left_out = Clause(d.decision(), "pkh.component.senior_secondary:5271010107100007");
  ASSERT_NE(left_out, nullptr);
  std::string removed_by;
  for (const auto& in : left_out->inputs()) {
    if (in.key() == "removed_by") removed_by = in.value();
  }
  EXPECT_EQ(removed_by, "max_components,max_children");
}

}  // namespace
}  // namespace jaring::eligibility
