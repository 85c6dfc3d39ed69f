// Late reports in the live projection (design.md, "Time and order"): events
// appended straight to the log, as any producer could, with their event
// times fixed and their report order shuffled. The live projection folds a
// family incrementally and re-folds it alone on a late report; after every
// append it must equal a from-scratch fold of the family's events in
// event-time order (family::FoldAsOf), today and as of every date.
#include <algorithm>
#include <map>
#include <random>

#include "absl/strings/str_format.h"
#include "libs/family/fold.h"
#include "services/population/test_util.h"

namespace jaring::population {
namespace {

class LateReportTest : public PopulationFixture {
 protected:
  std::mt19937_64 rng_{20261204};
  int64_t Rand(int64_t n) { return static_cast<int64_t>(rng_() % static_cast<uint64_t>(n)); }

  // One family's facts, in the order they are reported.
  std::vector<v1::Envelope> Facts(int serial) {
    const std::string kk = absl::StrFormat("5271011503%06d", serial);
    std::vector<std::string> niks;
    for (int m = 0; m < 4; ++m) niks.push_back(absl::StrFormat("527101120385%04d", serial * 10 + m));
    std::vector<v1::Envelope> out;
    int64_t unique = 0;
    auto add = [&](absl::Time occurred) -> v1::Envelope& {
      v1::Envelope& e = out.emplace_back();
      e.set_event_id(absl::StrFormat("late-%d-%d", serial, out.size()));
      e.set_key(kk);
      e.set_region_code(kRegion1);
      // Distinct event times: the tie-break (log order) is not under test.
      *e.mutable_occurred_at() = events::ToProtoTime(occurred + absl::Milliseconds(++unique));
      return e;
    };
    const absl::Time registered = Day(2026, 1, 5);
    {
      v1::FamilyRegistered* r = add(registered).mutable_family_registered();
      r->set_kk_number(kk);
      r->set_region_code(kRegion1);
      r->set_head_nik(niks[0]);
      for (int m = 0; m < 4; ++m) {
        *r->add_members() = Person(niks[static_cast<size_t>(m)], "Orang", m == 1 ? v1::SEX_FEMALE : v1::SEX_MALE,
                                   1980 + m * 10, 1, 1, m == 0 ? v1::RELATIONSHIP_HEAD : v1::RELATIONSHIP_CHILD);
      }
    }
    std::vector<std::string> rounds, deaths;
    const int n = 6 + static_cast<int>(Rand(8));
    for (int i = 0; i < n; ++i) {
      // Some facts are dated before the registration: they take effect at it.
      const absl::Time at = registered + absl::Hours(24 * (Rand(330) - 20));
      switch (Rand(6)) {
        case 0:
        case 1: {
          v1::WelfareAssessed* w = add(at).mutable_welfare_assessed();
          w->set_round(absl::StrCat("round-", i));
          w->set_decile(1 + static_cast<int>(Rand(10)));
          rounds.push_back(out.back().event_id());
          break;
        }
        case 2: {
          v1::MemberAttributesChanged* c = add(at).mutable_member_attributes_changed();
          c->set_nik(niks[1]);
          c->mutable_attributes()->set_pregnant(Rand(2) == 0);
          break;
        }
        case 3: {
          v1::Envelope& e = add(at);
          e.mutable_death_recorded()->set_nik(niks[static_cast<size_t>(Rand(4))]);
          deaths.push_back(e.event_id());
          break;
        }
        case 4: {
          v1::Envelope& e = add(at);
          if (!rounds.empty() && Rand(2) == 0) {
            e.mutable_record_corrected()->set_corrected_event_id(rounds[static_cast<size_t>(Rand(rounds.size()))]);
            e.mutable_record_corrected()->mutable_welfare_assessment()->set_round("corrected");
            e.mutable_record_corrected()->mutable_welfare_assessment()->set_decile(1);
            e.mutable_record_corrected()->set_reason("koreksi");
          } else if (!deaths.empty()) {
            e.mutable_record_corrected()->set_corrected_event_id(deaths[static_cast<size_t>(Rand(deaths.size()))]);
            e.mutable_record_corrected()->mutable_retraction();
            e.mutable_record_corrected()->set_reason("koreksi");
          } else {
            e.mutable_head_changed()->set_new_head_nik(niks[static_cast<size_t>(Rand(4))]);
          }
          break;
        }
        default: {
          v1::Member child = Person(absl::StrFormat("527101010126%04d", serial * 10 + i), "Bayi", v1::SEX_FEMALE,
                                    2026, 1, 1, v1::RELATIONSHIP_CHILD);
          *add(at).mutable_birth_recorded()->mutable_child() = child;
          break;
        }
      }
    }
    // Corrections were generated after their targets; shuffle the rest
    // of the report order, keeping the registration first and each
    // correction after its target.
    std::shuffle(out.begin() + 1, out.end(), rng_);
    for (bool moved = true; moved;) {
      moved = false;
      for (size_t a = 1; a < out.size() && !moved; ++a) {
        if (!out[a].has_record_corrected()) continue;
        for (size_t b = a + 1; b < out.size(); ++b) {
          if (out[b].event_id() == out[a].record_corrected().corrected_event_id()) {
            std::swap(out[a], out[b]);
            moved = true;
            break;
          }
        }
      }
    }
    return out;
  }

  v1::Family Get(const std::string& kk, std::optional<absl::Time> as_of) {
    v1::GetFamilyRequest req;
    req.set_kk_number(kk);
    if (as_of) *req.mutable_as_of() = events::ToProtoTime(*as_of);
    v1::GetFamilyResponse resp;
    grpc::Status st = stub_->GetFamily(Ctx().get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.family();
  }
};

TEST_F(LateReportTest, TheLiveProjectionEqualsTheEventTimeFoldForAnyReportOrder) {
  constexpr int kFamilies = 24;
  std::vector<std::vector<v1::Envelope>> facts;
  for (int f = 0; f < kFamilies; ++f) facts.push_back(Facts(f + 1));
  // One interleaving of every family's report order, appended in chunks of
  // random size (so late reports meet their family both in the same batch
  // and in the store).
  std::vector<size_t> next(kFamilies, 0);
  std::vector<v1::Envelope> stream;
  for (size_t left = 0; [&] {
         left = 0;
         for (int f = 0; f < kFamilies; ++f) left += facts[f].size() - next[f];
         return left > 0;
       }();) {
    size_t f = static_cast<size_t>(Rand(kFamilies));
    while (next[f] == facts[f].size()) f = (f + 1) % kFamilies;
    stream.push_back(facts[f][next[f]++]);
  }
  absl::Time recorded = Day(2026, 11, 1);
  std::map<std::string, std::vector<family::FamilyEvent>> by_family;
  for (size_t i = 0; i < stream.size();) {
    const size_t n = std::min(stream.size() - i, static_cast<size_t>(1 + Rand(20)));
    std::vector<eventlog::Record> records;
    for (size_t j = i; j < i + n; ++j) {
      recorded += absl::Minutes(1);
      *stream[j].mutable_recorded_at() = events::ToProtoTime(recorded);
      events::StampType(stream[j]);
      records.push_back(events::ToRecord(stream[j]));
      by_family[stream[j].key()].push_back({0, 0, stream[j]});
    }
    absl::StatusOr<std::vector<eventlog::Position>> at = log_->Append(std::string(events::kPopulationTopic), records);
    ASSERT_OK(at.status());
    for (const eventlog::Position& p : *at) {
      ASSERT_OK(service_->projection().WaitFor(events::kPopulationTopic, p.partition, p.offset + 1, absl::Seconds(30)));
    }
    i += n;
  }
  int refolded = 0;
  for (const auto& [kk, events] : by_family) {
    for (size_t i = 1; i < events.size(); ++i) {
      refolded += events[i].event.occurred_at().seconds() < events[i - 1].event.occurred_at().seconds();
    }
    absl::StatusOr<std::optional<v1::Family>> expected = family::FoldAsOf(events, std::nullopt);
    ASSERT_OK(expected.status());
    ASSERT_TRUE(expected->has_value());
    EXPECT_EQ(Get(kk, std::nullopt).DebugString(), (*expected)->DebugString()) << kk;
    for (int month = 1; month <= 12; ++month) {
      const absl::Time d = Day(2026, month, 15);
      absl::StatusOr<std::optional<v1::Family>> then = family::FoldAsOf(events, absl::ToUnixMillis(d));
      ASSERT_OK(then.status());
      if (!then->has_value()) continue;
      EXPECT_EQ(Get(kk, d).DebugString(), (*then)->DebugString()) << kk << " as of month " << month;
    }
  }
  EXPECT_GT(refolded, kFamilies);  // the orders really were out of event time
}

}  // namespace
}  // namespace jaring::population
