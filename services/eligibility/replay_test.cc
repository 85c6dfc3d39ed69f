// Replays: the decision for any family as of any past date equals what a
// store rebuilt from the log up to that date decides; and a rule change
// simulated, then published, yields exactly the simulated delta.
#include <map>
#include <random>
#include <set>
#include <tuple>

#include "rocksdb/db.h"
#include "services/eligibility/test_util.h"

namespace jaring::eligibility {
namespace {

class EligibilityReplayTest : public EligibilityFixture {
 protected:
  grpc::Status AssessFamily(const std::string& kk, int decile, const std::string& round, const std::string& rid,
                            absl::Duration backdate = absl::Hours(1)) {
    v1::RecordWelfareAssessmentRequest r = Assess(kk, decile, rid);
    r.mutable_assessment()->set_round(round);
    SetTime(r.mutable_context(), Now() - backdate, std::nullopt);
    v1::RecordWelfareAssessmentResponse resp;
    return stub_->RecordWelfareAssessment(Ctx().get(), r, &resp);
  }
  std::vector<std::string> RegisterFamilies(int n, std::mt19937_64& rng) {
    std::vector<std::string> kks;
    for (int i = 1; i <= n; ++i) {
      v1::RegisterFamilyRequest r = GeneratedFamily(i, rng);
      const grpc::Status st = Register(r);
      EXPECT_TRUE(st.ok()) << st.error_message();
      kks.push_back(r.family().kk_number());
    }
    return kks;
  }
  static v1::RuleSet Stricter(std::string version, absl::Time effective) {
    v1::RuleSet rs = Rules2026();
    rs.set_version(std::move(version));
    *rs.mutable_effective_from() = events::ToProtoTime(effective);
    for (auto& p : *rs.mutable_programs()) {
      if (p.has_pkh()) p.mutable_pkh()->set_max_decile(3);
      if (p.has_bpnt()) p.mutable_bpnt()->set_monthly_amount(250000);
    }
    return rs;
  }
};

// The decision as of T (and as known at T) from the live service equals the
// evaluation of a store built from the log with only what was recorded by T.
TEST_F(EligibilityReplayTest, DecisionAsOfAnyDateEqualsARebuildUpToThatDate) {
  std::mt19937_64 rng(20261123);
  const absl::Time start = Day(2026, 6, 1);
  SetNow(start);
  const std::vector<std::string> kks = RegisterFamilies(40, rng);
  for (const auto& kk : kks) ASSERT_GRPC_OK(AssessFamily(kk, 1 + static_cast<int>(rng() % 10), "2026-Q2", "q2-" + kk));
  SetNow(start + absl::Hours(24));
  Publish(Rules2026());
  Settle();

  constexpr int kDays = 30;
  for (int day = 2; day <= kDays; ++day) {
    SetNow(start + absl::Hours(24 * day));
    for (int k = 0; k < 3; ++k) {
      const std::string& kk = kks[rng() % kks.size()];
      const std::string rid = absl::StrCat("d", day, "-", k);
      switch (rng() % 4) {
        case 0: {  // a reassessment, sometimes reported days after it happened
          const absl::Duration late = absl::Hours(1 + static_cast<int>(rng() % 5) * 24);
          // The round is the quarter it happened in (the payload's date is
          // the event time): Q2 in June, Q3 from July.
          const char* round = WibDay(Now() - late) < absl::CivilDay(2026, 7, 1) ? "2026-Q2" : "2026-Q3";
          ASSERT_GRPC_OK(AssessFamily(kk, 1 + static_cast<int>(rng() % 10), round, rid, late));
          break;
        }
        case 1: {  // a death
          const v1::Family f = GetFamilyOrDie(kk);
          const v1::FamilyMember& m = f.members(static_cast<int>(rng() % static_cast<uint64_t>(f.members_size())));
          if (!m.alive()) break;
          const absl::CivilDay today = WibDay(Now() - absl::Hours(2));
          v1::RecordDeathResponse resp;
          ASSERT_GRPC_OK(stub_->RecordDeath(
              Ctx().get(), Death(kk, m.member().nik(), D(static_cast<int>(today.year()), today.month(), today.day()), rid),
              &resp));
          break;
        }
        case 2: {  // a correction of the latest assessment
          const v1::Family f = GetFamilyOrDie(kk);
          if (f.latest_assessment_event_id().empty()) break;
          v1::CorrectRecordRequest c = Correct(kk, f.latest_assessment_event_id(), rid);
          *c.mutable_correction()->mutable_welfare_assessment() = f.latest_assessment();
          c.mutable_correction()->mutable_welfare_assessment()->set_decile(1 + static_cast<int>(rng() % 10));
          v1::CorrectRecordResponse resp;
          ASSERT_GRPC_OK(stub_->CorrectRecord(Ctx().get(), c, &resp));
          break;
        }
        default: {  // a child leaves school (or a first member's attributes change)
          const v1::Family f = GetFamilyOrDie(kk);
          const v1::FamilyMember& m = f.members(f.members_size() - 1);
          if (!m.alive()) break;
          v1::ChangeMemberAttributesRequest a = Attr(kk, m.member().nik(), rid);
          a.mutable_change()->mutable_attributes()->set_school_enrolled(rng() % 2 == 0);
          v1::ChangeMemberAttributesResponse resp;
          ASSERT_GRPC_OK(stub_->ChangeMemberAttributes(Ctx().get(), a, &resp));
        }
      }
    }
    if (day == 10) Publish(Stricter("2026.2", start + absl::Hours(24 * 15)));
    if (day % 3 == 0) Settle();
  }
  Settle();

  EligibilityApplier applier;
  int compared = 0;
  for (int day = 0; day <= kDays; day += 2) {
    const absl::Time t = start + absl::Hours(24 * day) + absl::Hours(day % 4 == 0 ? 2 : -3);
    SCOPED_TRACE(absl::FormatTime(t));
    projection::Options o;
    o.dir = dir_.Sub(absl::StrCat("asof-", day));
    o.topics = {std::string(events::kPopulationTopic), std::string(events::kRulesTopic),
                std::string(events::kEligibilityTopic)};
    projection::Bound bound;
    bound.recorded_at_ms = absl::ToUnixMillis(t);
    ASSERT_OK(projection::BuildAsOf(log_.get(), &applier, o, bound));
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::Options(), o.dir, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ASSERT_OK_AND_ASSIGN(auto published, LoadPublishedRules(db.get()));
    const auto rules = RuleSetInForce(published, absl::ToUnixMillis(t), absl::ToUnixMillis(t));
    for (const std::string& kk : kks) {
      std::string value;
      const bool existed = db->Get(rocksdb::ReadOptions(), keys::Family(kk), &value).ok();
      v1::GetDecisionRequest q;
      q.set_kk_number(kk);
      q.set_program("PKH");
      *q.mutable_as_of() = events::ToProtoTime(t);
      *q.mutable_as_known_at() = events::ToProtoTime(t);
      for (const std::string program : {"PKH", "BPNT", "PBI_JK", "BLT_DD"}) {
        q.set_program(program);
        v1::GetDecisionResponse live;
        const grpc::Status st = elig_stub_->GetDecision(Ctx().get(), q, &live);
        if (!existed) {
          EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND) << kk;
          continue;
        }
        if (rules == nullptr) {
          EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
          continue;
        }
        ASSERT_TRUE(st.ok()) << st.error_message();
        v1::Family family;
        ASSERT_TRUE(family.ParseFromString(value));
        const std::vector<v1::Decision> rebuilt = EvaluateWith(family, *rules, WibDay(t), false);
        const v1::Decision* want = nullptr;
        for (const auto& d : rebuilt) {
          if (d.program() == program) want = &d;
        }
        ASSERT_NE(want, nullptr);
        v1::Decision got = live.decision();
        got.clear_inputs();
        got.clear_decision_id();
        got.clear_version();
        EXPECT_EQ(got.SerializeAsString(), want->SerializeAsString())
            << kk << " " << program << "\nlive:    " << got.ShortDebugString() << "\nrebuilt: " << want->ShortDebugString();
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, 1000);
}

TEST_F(EligibilityReplayTest, PublishingASimulatedRuleSetYieldsExactlyTheSimulatedDelta) {
  std::mt19937_64 rng(7);
  const std::vector<std::string> kks = RegisterFamilies(120, rng);
  for (const auto& kk : kks) ASSERT_GRPC_OK(AssessFamily(kk, 1 + static_cast<int>(rng() % 10), "2026-Q3", "a-" + kk));
  Publish(Rules2026());
  Settle();

  auto totals = [&](const std::string& program) {
    v1::ListBeneficiariesRequest q;
    q.set_program(program);
    q.set_region_prefix("52");
    v1::ListBeneficiariesResponse r;
    EXPECT_TRUE(elig_stub_->ListBeneficiaries(Ctx().get(), q, &r).ok());
    return std::make_pair(r.total_families(), r.total_yearly_amount());
  };
  std::map<std::string, std::pair<int64_t, int64_t>> before;
  for (const std::string p : {"PKH", "BPNT", "PBI_JK", "BLT_DD"}) before[p] = totals(p);

  const v1::RuleSet draft = Stricter("2026.2", Now() - absl::Minutes(1));
  v1::SimulateRequest sr;
  *sr.mutable_draft() = draft;
  sr.set_max_families(100000);
  v1::SimulateResponse sim;
  ASSERT_GRPC_OK(elig_stub_->Simulate(Ctx().get(), sr, &sim));
  EXPECT_EQ(sim.families(), 120);
  EXPECT_EQ(sim.current_version(), "2026.1");
  ASSERT_GT(sim.leaving_total(), 0) << "the draft must change something for this test to mean anything";
  const int64_t decisions_before = DecisionCount();
  EXPECT_EQ(DecisionCount(), decisions_before) << "simulation appended";

  using Change = std::tuple<std::string, std::string, bool>;  // kk, program, eligible after
  std::set<Change> simulated;
  for (const auto& c : sim.entering()) simulated.insert({c.kk_number(), c.program(), true});
  for (const auto& c : sim.leaving()) simulated.insert({c.kk_number(), c.program(), false});
  EXPECT_EQ(static_cast<int64_t>(simulated.size()), sim.entering_total() + sim.leaving_total());

  Publish(draft);
  Settle();
  std::set<Change> published;
  int64_t amount_changes = 0;
  for (const v1::Envelope& e : DecisionEvents()) {
    const v1::EligibilityDecided& ed = e.eligibility_decided();
    if (ed.decision().rule_version() != "2026.2") continue;
    EXPECT_EQ(ed.trigger(), v1::EVALUATION_TRIGGER_RULE_SET);
    if (ed.previously_eligible() && ed.decision().eligible()) {
      ++amount_changes;
      continue;
    }
    published.insert({ed.decision().kk_number(), ed.decision().program(), ed.decision().eligible()});
  }
  EXPECT_EQ(published, simulated);
  EXPECT_EQ(amount_changes, sim.amount_changed_total());
  for (const v1::SimulationRow& row : sim.rows()) {
    if (!row.region().empty()) continue;
    const auto after = totals(row.program());
    EXPECT_EQ(row.families_before(), before[row.program()].first) << row.program();
    EXPECT_EQ(row.yearly_cost_before(), before[row.program()].second) << row.program();
    EXPECT_EQ(row.families_after(), after.first) << row.program();
    EXPECT_EQ(row.yearly_cost_after(), after.second) << row.program();
    EXPECT_EQ(row.yearly_cost_delta(), after.second - before[row.program()].second) << row.program();
  }
}

}  // namespace
}  // namespace jaring::eligibility
