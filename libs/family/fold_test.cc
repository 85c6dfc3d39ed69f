// The fold in event-time order (fold.h): golden cases for late rounds, late
// pregnancies, late and backdated deaths, corrections wherever their target
// falls, conflicts instead of failures; and a property: the same facts
// reported in any order (each fact's occurred_at fixed, its report order
// shuffled) fold to the same family at every date once all are known.
#include "libs/family/fold.h"

#include <algorithm>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/events/envelope.h"

namespace jaring::family {
namespace {

constexpr char kKk[] = "5271010101260001";
constexpr char kHead[] = "5271010101800001";
constexpr char kWife[] = "5271014101850002";
constexpr char kChild[] = "5271010101200003";
constexpr char kBaby[] = "5271010106260004";

int64_t Day(int y, int m, int d) { return absl::ToUnixMillis(absl::FromCivil(absl::CivilDay(y, m, d), absl::UTCTimeZone())); }

v1::Member Person(const std::string& nik, v1::Relationship rel) {
  v1::Member m;
  m.set_nik(nik);
  m.set_full_name(absl::StrCat("Orang ", nik.substr(12)));
  m.set_relationship(rel);
  return m;
}

class Events {
 public:
  v1::Envelope& Add(int64_t occurred_ms) {
    v1::Envelope& e = events_.emplace_back();
    e.set_event_id(absl::StrCat("ev-", events_.size()));
    e.set_key(kKk);
    *e.mutable_occurred_at() = events::ToProtoTime(absl::FromUnixMillis(occurred_ms));
    *e.mutable_recorded_at() = events::ToProtoTime(absl::FromUnixMillis(occurred_ms));
    return e;
  }
  v1::Envelope& Register(int64_t at) {
    v1::Envelope& e = Add(at);
    v1::FamilyRegistered* r = e.mutable_family_registered();
    r->set_kk_number(kKk);
    r->set_region_code("52.71.01.2001");
    r->set_head_nik(kHead);
    *r->add_members() = Person(kHead, v1::RELATIONSHIP_HEAD);
    *r->add_members() = Person(kWife, v1::RELATIONSHIP_SPOUSE);
    *r->add_members() = Person(kChild, v1::RELATIONSHIP_CHILD);
    return e;
  }
  v1::Envelope& Round(int64_t at, const std::string& round, int decile) {
    v1::Envelope& e = Add(at);
    e.mutable_welfare_assessed()->set_round(round);
    e.mutable_welfare_assessed()->set_decile(decile);
    return e;
  }
  v1::Envelope& Pregnant(int64_t at, bool pregnant) {
    v1::Envelope& e = Add(at);
    e.mutable_member_attributes_changed()->set_nik(kWife);
    e.mutable_member_attributes_changed()->mutable_attributes()->set_pregnant(pregnant);
    return e;
  }
  v1::Envelope& Death(int64_t at, const std::string& nik) {
    v1::Envelope& e = Add(at);
    e.mutable_death_recorded()->set_nik(nik);
    return e;
  }
  v1::Envelope& Birth(int64_t at) {
    v1::Envelope& e = Add(at);
    *e.mutable_birth_recorded()->mutable_child() = Person(kBaby, v1::RELATIONSHIP_CHILD);
    return e;
  }
  v1::Envelope& Retract(int64_t at, const v1::Envelope& target) {
    const std::string id = target.event_id();
    v1::Envelope& e = Add(at);
    e.mutable_record_corrected()->set_corrected_event_id(id);
    e.mutable_record_corrected()->set_reason("recorded in error");
    e.mutable_record_corrected()->mutable_retraction();
    return e;
  }
  v1::Envelope& CorrectRound(int64_t at, const v1::Envelope& target, int decile) {
    const v1::WelfareAssessed w = target.welfare_assessed();
    const std::string id = target.event_id();
    v1::Envelope& e = Add(at);
    e.mutable_record_corrected()->set_corrected_event_id(id);
    e.mutable_record_corrected()->set_reason("re-surveyed");
    *e.mutable_record_corrected()->mutable_welfare_assessment() = w;
    e.mutable_record_corrected()->mutable_welfare_assessment()->set_decile(decile);
    return e;
  }

  // In the given report order: recorded_at follows the order.
  std::vector<FamilyEvent> Reported(const std::vector<size_t>& order) const {
    std::vector<FamilyEvent> out;
    int64_t offset = 0;
    for (size_t i : order) {
      FamilyEvent fe{0, offset, events_[i]};
      *fe.event.mutable_recorded_at() = events::ToProtoTime(absl::FromUnixMillis(Day(2027, 1, 1) + offset * 1000));
      ++offset;
      out.push_back(std::move(fe));
    }
    return out;
  }
  std::vector<FamilyEvent> InOrder() const {
    std::vector<size_t> order(events_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    return Reported(order);
  }
  size_t size() const { return events_.size(); }
  const v1::Envelope& at(size_t i) const { return events_[i]; }

 private:
  std::deque<v1::Envelope> events_;
};

v1::Family FoldOrDie(const std::vector<FamilyEvent>& events, std::optional<int64_t> as_of = std::nullopt) {
  absl::StatusOr<std::optional<v1::Family>> f = FoldAsOf(events, as_of);
  EXPECT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(f.ok() && f->has_value());
  return f.ok() && f->has_value() ? **f : v1::Family();
}

const v1::FamilyMember& Member(const v1::Family& f, const std::string& nik) {
  const v1::FamilyMember* m = FindMember(f, nik);
  EXPECT_NE(m, nullptr) << nik;
  static const v1::FamilyMember kNone;
  return m == nullptr ? kNone : *m;
}

// Rounds 2026-Q3 (decile 2, 1 August) then, reported later, 2026-Q2
// (decile 8, 1 May), for a family registered on `registered`.
std::vector<FamilyEvent> LateOlderRound(int64_t registered) {
  Events ev;
  ev.Register(registered);
  ev.Round(Day(2026, 8, 1), "2026-Q3", 2);
  ev.Round(Day(2026, 5, 1), "2026-Q2", 8);
  return ev.InOrder();
}

TEST(FoldTest, ALateOlderRoundNeverOverridesANewerOne) {
  const std::vector<FamilyEvent> all = LateOlderRound(Day(2026, 1, 5));
  EXPECT_EQ(FoldOrDie(all).latest_assessment().round(), "2026-Q3");
  EXPECT_EQ(FoldOrDie(all).latest_assessment().decile(), 2);
  EXPECT_EQ(FoldOrDie(all, Day(2026, 9, 1)).latest_assessment().decile(), 2);
  // History changes at its date.
  EXPECT_EQ(FoldOrDie(all, Day(2026, 6, 1)).latest_assessment().round(), "2026-Q2");
  EXPECT_FALSE(FoldOrDie(all, Day(2026, 4, 1)).has_latest_assessment());
}

TEST(FoldTest, RoundsDatedBeforeTheRegistrationKeepTheirOrder) {
  // Both rounds take effect at the registration, in their own order.
  const std::vector<FamilyEvent> all = LateOlderRound(Day(2026, 11, 22));
  EXPECT_EQ(FoldOrDie(all).latest_assessment().round(), "2026-Q3");
  EXPECT_EQ(FoldOrDie(all, Day(2026, 11, 22)).latest_assessment().round(), "2026-Q3");
  v1::Family incremental;
  for (const FamilyEvent& fe : all) ASSERT_TRUE(FoldLatest(fe.event, &incremental).ok());
  EXPECT_EQ(incremental.latest_assessment().round(), "2026-Q2") << "log order is not the fold's order";
}

TEST(FoldTest, ALatePregnancyEndDoesNotUndoALaterPregnancy) {
  Events ev;
  ev.Register(Day(2026, 1, 5));
  ev.Pregnant(Day(2026, 10, 1), true);
  ev.Pregnant(Day(2026, 6, 1), false);  // an earlier pregnancy ended in June, reported late
  const std::vector<FamilyEvent> all = ev.InOrder();
  EXPECT_TRUE(Member(FoldOrDie(all), kWife).member().attributes().pregnant());
  EXPECT_FALSE(Member(FoldOrDie(all, Day(2026, 7, 1)), kWife).member().attributes().pregnant());
}

TEST(FoldTest, ALateDeathTakesEffectAtItsDate) {
  Events ev;
  ev.Register(Day(2026, 1, 5));
  ev.Round(Day(2026, 8, 1), "2026-Q3", 2);
  ev.Death(Day(2026, 6, 15), kHead);  // reported in December
  const std::vector<FamilyEvent> all = ev.InOrder();
  EXPECT_FALSE(Member(FoldOrDie(all, Day(2026, 7, 1)), kHead).alive());
  EXPECT_TRUE(Member(FoldOrDie(all, Day(2026, 6, 1)), kHead).alive());
  EXPECT_FALSE(Member(FoldOrDie(all), kHead).alive());
}

TEST(FoldTest, AnEventDatedBeforeTheRegistrationTakesEffectAtTheRegistration) {
  Events ev;
  ev.Register(Day(2026, 3, 1));
  ev.Round(Day(2026, 2, 1), "2026-Q1", 3);
  const std::vector<FamilyEvent> all = ev.InOrder();
  EXPECT_FALSE(FoldAsOf(all, Day(2026, 2, 15))->has_value());
  EXPECT_EQ(FoldOrDie(all, Day(2026, 3, 1)).latest_assessment().decile(), 3);
}

TEST(FoldTest, ACorrectionAppliesRightAfterItsTargetAndARetractionRemovesIt) {
  Events ev;
  ev.Register(Day(2026, 1, 5));
  const v1::Envelope& q2 = ev.Round(Day(2026, 5, 1), "2026-Q2", 8);
  ev.Round(Day(2026, 8, 1), "2026-Q3", 5);
  ev.CorrectRound(Day(2026, 11, 1), q2, 1);  // corrects Q2, not the latest
  const v1::Envelope& death = ev.Death(Day(2026, 6, 1), kChild);
  ev.Retract(Day(2026, 11, 2), death);
  const std::vector<FamilyEvent> all = ev.InOrder();
  const v1::Family now = FoldOrDie(all);
  EXPECT_EQ(now.latest_assessment().decile(), 5);  // the Q3 round stays the latest
  EXPECT_TRUE(Member(now, kChild).alive());
  // The correction holds at Q2's date, whenever it was recorded.
  EXPECT_EQ(FoldOrDie(all, Day(2026, 6, 1)).latest_assessment().decile(), 1);
  EXPECT_TRUE(Member(FoldOrDie(all, Day(2026, 7, 1)), kChild).alive());
  EXPECT_EQ(now.conflicts_size(), 0);
  EXPECT_EQ(now.version(), 6);
}

TEST(FoldTest, ContradictionsAreRecordedConflictsNotFailures) {
  Events ev;
  ev.Death(Day(2026, 1, 1), kHead);  // before the registration in log order
  ev.Register(Day(2026, 1, 5));
  ev.Register(Day(2026, 1, 6));  // a second registration
  ev.Death(Day(2026, 2, 1), "5271010101990099");
  v1::Envelope& head = ev.Add(Day(2026, 3, 1));
  head.mutable_head_changed()->set_new_head_nik("5271010101990099");
  const v1::Family f = FoldOrDie(ev.InOrder());
  ASSERT_EQ(f.conflicts_size(), 4);
  EXPECT_THAT(f.conflicts(0).reason(), ::testing::HasSubstr("before the family's registration"));
  EXPECT_THAT(f.conflicts(1).reason(), ::testing::HasSubstr("already registered"));
  EXPECT_THAT(f.conflicts(2).reason(), ::testing::HasSubstr("not in the family"));
  EXPECT_THAT(f.conflicts(3).reason(), ::testing::HasSubstr("new head is not in the family"));
  // A failed head change changes nothing (the old head stays head).
  EXPECT_EQ(f.head_nik(), kHead);
  EXPECT_EQ(Member(f, kHead).member().relationship(), v1::RELATIONSHIP_HEAD);
  EXPECT_EQ(f.version(), 5);
}

TEST(FoldTest, FoldLatestEqualsTheFullFoldForEventsInTimeOrder) {
  Events ev;
  ev.Register(Day(2026, 1, 5));
  ev.Round(Day(2026, 2, 1), "2026-Q1", 4);
  ev.Birth(Day(2026, 3, 1));
  ev.Pregnant(Day(2026, 4, 1), true);
  ev.Death(Day(2026, 5, 1), kWife);
  ev.Death(Day(2026, 5, 2), "5271010101990099");  // a conflict
  v1::Family incremental;
  for (const FamilyEvent& fe : ev.InOrder()) ASSERT_TRUE(FoldLatest(fe.event, &incremental).ok());
  v1::Family full = FoldOrDie(ev.InOrder());
  EXPECT_EQ(incremental.SerializeAsString(), full.SerializeAsString());
}

TEST(FoldTest, ANonPopulationEventIsDataLoss) {
  Events ev;
  ev.Register(Day(2026, 1, 5));
  ev.Add(Day(2026, 2, 1)).mutable_rule_set_published();
  EXPECT_EQ(FoldAsOf(ev.InOrder(), std::nullopt).status().code(), absl::StatusCode::kDataLoss);
}

TEST(FoldTest, ARegistrationIsLinearInItsMembers) {
  // 60,000 members: quadratic work would take minutes; linear takes well
  // under a second. No timing is asserted; the test shows the shape works.
  v1::Envelope e;
  e.set_event_id("big");
  e.set_key(kKk);
  v1::FamilyRegistered* r = e.mutable_family_registered();
  r->set_kk_number(kKk);
  r->set_head_nik("5271010101000000");
  for (int i = 0; i < 60000; ++i) {
    *r->add_members() = Person(absl::StrCat("52710101", 10000000 + i), i == 0 ? v1::RELATIONSHIP_HEAD : v1::RELATIONSHIP_CHILD);
  }
  v1::Family f;
  ASSERT_TRUE(FoldLatest(e, &f).ok());
  EXPECT_EQ(f.members_size(), 60000);
}

// The property: facts with fixed event times (distinct), reported in random
// orders that keep the registration first and each correction after its
// target, fold to the same family at every date.
TEST(FoldTest, AnyReportOrderFoldsToTheSameHistory) {
  Events ev;
  ev.Register(Day(2026, 1, 5));
  const v1::Envelope& q1 = ev.Round(Day(2026, 2, 1), "2026-Q1", 6);
  ev.Round(Day(2026, 5, 1), "2026-Q2", 8);
  ev.Round(Day(2026, 8, 1), "2026-Q3", 2);
  ev.Pregnant(Day(2026, 3, 10), true);
  ev.Pregnant(Day(2026, 6, 20), false);
  ev.Pregnant(Day(2026, 10, 1), true);
  ev.Birth(Day(2026, 6, 19));
  const v1::Envelope& death = ev.Death(Day(2026, 7, 3), kChild);
  ev.Death(Day(2026, 9, 9), kHead);
  ev.CorrectRound(Day(2026, 11, 5), q1, 3);
  ev.Retract(Day(2026, 11, 6), death);
  ev.Death(Day(2026, 4, 4), "5271010101990099");  // a conflict, wherever reported
  const size_t n = ev.size();
  auto target_of = [&](size_t i) -> std::optional<size_t> {
    if (!ev.at(i).has_record_corrected()) return std::nullopt;
    for (size_t j = 0; j < n; ++j) {
      if (ev.at(j).event_id() == ev.at(i).record_corrected().corrected_event_id()) return j;
    }
    return std::nullopt;
  };
  std::vector<int64_t> dates;
  for (int m = 1; m <= 12; ++m) dates.push_back(Day(2026, m, 15));
  auto history = [&](const std::vector<FamilyEvent>& events) {
    std::vector<std::string> out;
    for (std::optional<int64_t> d : dates) {
      absl::StatusOr<std::optional<v1::Family>> f = FoldAsOf(events, d);
      EXPECT_TRUE(f.ok());
      v1::Family family = f.ok() && f->has_value() ? **f : v1::Family();
      family.clear_updated_at_ms();  // recorded_at differs by construction
      out.push_back(family.SerializeAsString());
    }
    absl::StatusOr<std::optional<v1::Family>> now = FoldAsOf(events, std::nullopt);
    EXPECT_TRUE(now.ok());
    v1::Family family = now.ok() && now->has_value() ? **now : v1::Family();
    family.clear_updated_at_ms();
    out.push_back(family.SerializeAsString());
    return out;
  };
  const std::vector<std::string> expected = history(ev.InOrder());
  std::mt19937_64 rng(20261204);
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<size_t> order(n - 1);
    for (size_t i = 1; i < n; ++i) order[i - 1] = i;
    std::shuffle(order.begin(), order.end(), rng);
    // Causality: a correction is reported after its target.
    for (bool moved = true; moved;) {
      moved = false;
      for (size_t a = 0; a < order.size() && !moved; ++a) {
        std::optional<size_t> t = target_of(order[a]);
        if (!t) continue;
        auto where = std::find(order.begin(), order.end(), *t);
        if (where > order.begin() + static_cast<std::ptrdiff_t>(a)) {
          std::iter_swap(order.begin() + static_cast<std::ptrdiff_t>(a), where);
          moved = true;
        }
      }
    }
    order.insert(order.begin(), 0);
    ASSERT_EQ(history(ev.Reported(order)), expected) << "trial " << trial;
  }
}

}  // namespace
}  // namespace jaring::family
