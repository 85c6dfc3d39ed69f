// Late reports and the engine (issue: event time is the truth): a DTSEN
// round reported after a newer one never changes the newer round's
// decision; a late death changes today's outcome and the decision says it
// came from a late report; every answer (as_of D, as_known_at K) equals a
// from-scratch fold of the events recorded by K, in event-time order,
// evaluated at D.
#include "libs/family/fold.h"
#include "libs/rules/evaluate.h"
#include "services/eligibility/test_util.h"

namespace jaring::eligibility {
namespace {

class LateReportTest : public EligibilityFixture {
 protected:
  // A population event for family 1, as any producer could append it.
  v1::Envelope Event(const std::string& id, absl::Time occurred) const {
    v1::Envelope e;
    e.set_event_id(id);
    e.set_key(kKk1);
    e.set_region_code(kRegion1);
    e.set_source(v1::SOURCE_BPS_DTSEN);
    e.set_actor("test-producer");
    *e.mutable_occurred_at() = events::ToProtoTime(occurred);
    *e.mutable_recorded_at() = events::ToProtoTime(Now());
    return e;
  }
  v1::Envelope Round(const std::string& id, absl::Time occurred, const std::string& round, int decile) const {
    v1::Envelope e = Event(id, occurred);
    e.mutable_welfare_assessed()->set_round(round);
    e.mutable_welfare_assessed()->set_decile(decile);
    e.mutable_welfare_assessed()->set_pmt_score_micros(1000000LL * decile);
    return e;
  }
  void Append(v1::Envelope e) {
    events::StampType(e);
    const std::vector<eventlog::Record> records{events::ToRecord(e)};
    ASSERT_OK(log_->Append(std::string(events::kPopulationTopic), records).status());
    Settle();
  }

  // The reference: every event of family 1 recorded by `known_at`, folded
  // in event-time order as of `as_of`, evaluated by the rules' evaluator.
  v1::Decision Reference(absl::Time as_of, absl::Time known_at, const std::string& program) {
    std::vector<family::FamilyEvent> events;
    for (const family::FamilyEvent& fe : LoggedEvents()) {
      if (events::ToMillis(fe.event.recorded_at()) <= absl::ToUnixMillis(known_at)) events.push_back(fe);
    }
    absl::StatusOr<std::optional<v1::Family>> f = family::FoldAsOf(events, absl::ToUnixMillis(as_of));
    EXPECT_OK(f.status());
    EXPECT_TRUE(f.ok() && f->has_value());
    const absl::CivilDay day = absl::ToCivilDay(as_of, absl::FixedTimeZone(7 * 3600));
    for (v1::Decision& d : rules::Evaluate(**f, Rules2026(), day)) {
      if (d.program() == program) return d;
    }
    ADD_FAILURE() << "no decision for " << program;
    return {};
  }

  // Family 1's events on the log, in log order (read once per log length).
  const std::vector<family::FamilyEvent>& LoggedEvents() {
    int64_t end = 0;
    for (int p = 0; p < 8; ++p) end += log_->EndOffset(std::string(events::kPopulationTopic), p).value_or(0);
    if (end == logged_end_) return logged_;
    logged_end_ = end;
    logged_.clear();
    auto reader = log_->NewReader();
    EXPECT_OK(reader.status());
    std::vector<eventlog::Assignment> all;
    for (int p = 0; p < 8; ++p) all.push_back({std::string(events::kPopulationTopic), p, 0});
    EXPECT_OK((*reader)->Assign(all));
    for (;;) {
      auto batch = (*reader)->Poll(1000, absl::Milliseconds(200));
      EXPECT_OK(batch.status());
      if (!batch.ok() || batch->empty()) break;
      for (const auto& rec : *batch) {
        v1::Envelope e;
        EXPECT_TRUE(e.ParseFromString(rec.value));
        if (e.key() == kKk1) logged_.push_back({rec.partition, rec.offset, std::move(e)});
      }
    }
    return logged_;
  }
  int64_t logged_end_ = -1;
  std::vector<family::FamilyEvent> logged_;

  void ExpectMatchesReference(absl::Time as_of, absl::Time known_at) {
    for (const std::string program : {"PKH", "BPNT", "PBI_JK"}) {
      const v1::Decision live = Decision(kKk1, program, as_of, known_at).decision();
      const v1::Decision ref = Reference(as_of, known_at, program);
      EXPECT_EQ(live.eligible(), ref.eligible()) << program << " as of " << as_of << " known at " << known_at;
      EXPECT_EQ(live.yearly_amount(), ref.yearly_amount()) << program << " as of " << as_of;
      EXPECT_EQ(live.decile(), ref.decile()) << program << " as of " << as_of;
      EXPECT_EQ(live.dtsen_round(), ref.dtsen_round()) << program << " as of " << as_of;
    }
  }
};

TEST_F(LateReportTest, ALateOlderRoundNeverOverridesANewerOneAndALateDeathSaysSo) {
  v1::RegisterFamilyRequest reg = Family1();
  auto* child = reg.mutable_family()->mutable_members(2);
  child->mutable_attributes()->set_school_level(v1::SCHOOL_LEVEL_PRIMARY);
  child->mutable_attributes()->set_school_enrolled(true);
  SetTime(reg.mutable_context(), Day(2026, 1, 5), std::nullopt);
  ASSERT_GRPC_OK(Register(reg));
  Publish(Rules2026());
  Append(Round("round-q3", Day(2026, 8, 1), "2026-Q3", 2));
  ASSERT_TRUE(Decision(kKk1, "PKH").decision().eligible());
  const size_t pkh_decisions = HistoryOf(kKk1, "PKH").size();
  const absl::Time known_q3 = Now();

  // The 2026-Q2 round (decile 8, 1 May) is reported after 2026-Q3.
  SetNow(Now() + absl::Hours(24));
  Append(Round("round-q2", Day(2026, 5, 1), "2026-Q2", 8));
  for (const std::string program : {"PKH", "BPNT", "PBI_JK"}) {
    const v1::Decision now = Decision(kKk1, program).decision();
    EXPECT_TRUE(now.eligible()) << program;
    EXPECT_EQ(now.decile(), 2) << program;
    EXPECT_EQ(now.dtsen_round(), "2026-Q3") << program;
    EXPECT_TRUE(Decision(kKk1, program, Day(2026, 9, 1)).decision().eligible()) << program;
  }
  // History changes at its date: in June the family was decile 8.
  EXPECT_FALSE(Decision(kKk1, "PKH", Day(2026, 6, 1)).decision().eligible());
  EXPECT_EQ(Decision(kKk1, "PKH", Day(2026, 6, 1)).decision().decile(), 8);
  // Nothing changed today, so nothing was recorded.
  EXPECT_EQ(HistoryOf(kKk1, "PKH").size(), pkh_decisions);
  const absl::Time known_q2 = Now();

  // A late death: the school child died on 15 June, reported today. PKH's
  // only component goes; the recorded decision names the late report.
  SetNow(Now() + absl::Hours(24));
  v1::Envelope death = Event("death-child", Day(2026, 6, 15));
  death.mutable_death_recorded()->set_nik(kChild1);
  *death.mutable_death_recorded()->mutable_date_of_death() = D(2026, 6, 15);
  Append(death);
  EXPECT_FALSE(Decision(kKk1, "PKH").decision().eligible());
  std::vector<v1::RecordedDecision> pkh = HistoryOf(kKk1, "PKH");
  ASSERT_EQ(pkh.size(), pkh_decisions + 1);
  EXPECT_EQ(pkh.back().trigger(), v1::EVALUATION_TRIGGER_LATE_REPORT);
  EXPECT_FALSE(pkh.back().decision().eligible());
  // As of 1 July the child had died: no school component then either.
  EXPECT_FALSE(Decision(kKk1, "PKH", Day(2026, 7, 1)).decision().eligible());
  EXPECT_TRUE(Decision(kKk1, "PKH", Day(2026, 6, 1), known_q2).decision().eligible() ==
              Reference(Day(2026, 6, 1), known_q2, "PKH").eligible());

  // Every (D, K) equals the from-scratch fold of what was recorded by K.
  for (absl::Time known_at : {known_q3, known_q2, Now()}) {
    for (int month = 2; month <= 11; ++month) ExpectMatchesReference(Day(2026, month, 10), known_at);
  }
}

}  // namespace
}  // namespace jaring::eligibility
