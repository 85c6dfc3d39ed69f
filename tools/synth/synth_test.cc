#include "tools/synth/synth.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/events/envelope.h"
#include "libs/testing/status_matchers.h"
#include "tools/synth/csv.h"

namespace jaring::synth {
namespace {

using ::jaring::testing::StatusIs;

SynthOptions Options(int64_t families, int months, uint64_t seed, int anomalies) {
  SynthOptions o;
  o.regions = {"52.71", "52.03", "35.78"};
  o.families = families;
  o.months = months;
  o.seed = seed;
  o.anomalies = anomalies;
  o.start = DayStart(absl::CivilDay(2025, 10, 1));
  o.now = DayStart(absl::CivilDay(2026, 11, 1));
  return o;
}

struct Output {
  std::vector<v1::RegisterFamilyRequest> registry;
  std::vector<SynthCommand> life;
  std::vector<GroundTruthEntry> truth;
  SynthStats stats;
};

Output Generate(const SynthOptions& o) {
  Output out;
  auto gen = Generator::Create(o);
  EXPECT_TRUE(gen.ok()) << gen.status();
  if (!gen.ok()) return out;
  EXPECT_OK((*gen)->Registry([&](const v1::RegisterFamilyRequest& r) {
    out.registry.push_back(r);
    return absl::OkStatus();
  }));
  EXPECT_OK((*gen)->Life([&](const SynthCommand& c) {
    out.life.push_back(c);
    return absl::OkStatus();
  }));
  out.truth = (*gen)->ground_truth();
  out.stats = (*gen)->stats();
  return out;
}

int Num(std::string_view s) {
  int v = 0;
  EXPECT_TRUE(absl::SimpleAtoi(absl::string_view(s.data(), s.size()), &v)) << s;
  return v;
}

bool SixteenDigits(const std::string& s) {
  return s.size() == 16 && s.find_first_not_of("0123456789") == std::string::npos;
}

// PPRRDD of "PP.RR.DD.VVVV".
std::string Region6(const std::string& code) { return code.substr(0, 2) + code.substr(3, 2) + code.substr(6, 2); }

void ExpectWellFormedRegion(const std::string& code) {
  ASSERT_EQ(code.size(), 13u) << code;
  int rr = Num(code.substr(3, 2));
  EXPECT_EQ(code[9], rr >= 71 ? '1' : '2') << code;
}

void ExpectNikMatches(const v1::Member& m) {
  ASSERT_TRUE(SixteenDigits(m.nik()));
  int dd = Num(m.nik().substr(6, 2));
  int mm = Num(m.nik().substr(8, 2));
  int yy = Num(m.nik().substr(10, 2));
  int serial = Num(m.nik().substr(12, 4));
  bool female = m.sex() == v1::SEX_FEMALE;
  EXPECT_EQ(dd, m.birth_date().day() + (female ? 40 : 0)) << m.nik();
  EXPECT_EQ(mm, m.birth_date().month());
  EXPECT_EQ(yy, m.birth_date().year() % 100);
  EXPECT_GE(serial, 1);
}

void ExpectKkWellFormed(const std::string& kk, const std::string& region_code, absl::CivilDay not_after) {
  ASSERT_TRUE(SixteenDigits(kk));
  EXPECT_EQ(kk.substr(0, 6), Region6(region_code));
  int d = Num(kk.substr(6, 2)), m = Num(kk.substr(8, 2)), y = 2000 + Num(kk.substr(10, 2));
  absl::CivilDay day(y, m, d);
  EXPECT_EQ(day.day(), d) << kk;  // a real date
  EXPECT_EQ(day.month(), m) << kk;
  EXPECT_LE(day, not_after) << kk;
  EXPECT_GE(Num(kk.substr(12, 4)), 1);
}

TEST(SynthTest, DeterministicBySeed) {
  Output a = Generate(Options(500, 6, 42, 3));
  Output b = Generate(Options(500, 6, 42, 3));
  Output c = Generate(Options(500, 6, 43, 3));
  ASSERT_EQ(a.registry.size(), b.registry.size());
  for (size_t i = 0; i < a.registry.size(); ++i) {
    EXPECT_EQ(a.registry[i].SerializeAsString(), b.registry[i].SerializeAsString());
  }
  ASSERT_EQ(a.life.size(), b.life.size());
  for (size_t i = 0; i < a.life.size(); ++i) EXPECT_EQ(CommandToJsonLine(a.life[i]), CommandToJsonLine(b.life[i]));
  ASSERT_EQ(a.truth.size(), b.truth.size());
  EXPECT_EQ(GroundTruthToJsonLine(a.truth[0]), GroundTruthToJsonLine(b.truth[0]));
  EXPECT_NE(a.registry[0].SerializeAsString(), c.registry[0].SerializeAsString());
}

TEST(SynthTest, RegistryIdentifiersAreWellFormedAndUnique) {
  SynthOptions o = Options(4000, 0, 7, 6);
  Output out = Generate(o);
  ASSERT_EQ(out.stats.families_registered, static_cast<int64_t>(out.registry.size()));
  std::map<std::string, std::vector<std::string>> kks_of_nik;
  std::set<std::string> kks;
  int64_t members = 0;
  int max_size = 0;
  absl::CivilDay start = WibDay(o.start);
  for (const auto& r : out.registry) {
    const v1::FamilyRegistered& f = r.family();
    ExpectWellFormedRegion(f.region_code());
    ExpectKkWellFormed(f.kk_number(), f.region_code(), start);
    EXPECT_TRUE(kks.insert(f.kk_number()).second) << "duplicate KK";
    int heads = 0;
    for (const v1::Member& m : f.members()) {
      ExpectNikMatches(m);
      kks_of_nik[m.nik()].push_back(f.kk_number());
      heads += m.relationship() == v1::RELATIONSHIP_HEAD;
      if (m.relationship() == v1::RELATIONSHIP_HEAD) {
        EXPECT_EQ(m.nik(), f.head_nik());
      }
      EXPECT_TRUE(m.attributes().has_disability());
      if (m.attributes().pregnant()) {
        EXPECT_EQ(m.sex(), v1::SEX_FEMALE);
        EXPECT_GE(m.attributes().pregnancy_order(), 1);
        EXPECT_LE(m.attributes().pregnancy_order(), 3);
      }
    }
    EXPECT_EQ(heads, 1);
    EXPECT_EQ(r.context().request_id(), ImportRequestId(f.kk_number(), FormatFamilyRows(r)));
    members += f.members_size();
    max_size = std::max(max_size, f.members_size());
  }
  double mean = static_cast<double>(members) / static_cast<double>(out.registry.size());
  EXPECT_GT(mean, 3.5);
  EXPECT_LT(mean, 4.1);
  EXPECT_LE(max_size, 9);  // 8, plus one planted extra member

  // NIKs repeat only where an anomaly plants them.
  std::set<std::string> planted;
  int dup_families = 0, dup_niks = 0;
  for (const GroundTruthEntry& g : out.truth) {
    ASSERT_EQ(std::is_sorted(g.kk_numbers.begin(), g.kk_numbers.end()), true);
    if (g.kind == v1::OVERLAP_KIND_NIK_IN_TWO_FAMILIES) {
      ++dup_niks;
      ASSERT_EQ(g.kk_numbers.size(), 2u);
      std::vector<std::string> got = kks_of_nik[g.nik];
      std::sort(got.begin(), got.end());
      EXPECT_EQ(got, g.kk_numbers);
      planted.insert(g.nik);
    }
    if (g.kind == v1::OVERLAP_KIND_FAMILY_IN_TWO_REGIONS) {
      ++dup_families;
      ASSERT_EQ(g.kk_numbers.size(), 2u);
      std::vector<std::set<std::string>> niks(2);
      std::vector<std::string> regions(2);
      for (const auto& r : out.registry) {
        for (int k = 0; k < 2; ++k) {
          if (r.family().kk_number() != g.kk_numbers[k]) continue;
          regions[k] = r.family().region_code();
          for (const auto& m : r.family().members()) niks[k].insert(m.nik());
        }
      }
      EXPECT_EQ(niks[0], niks[1]);
      EXPECT_FALSE(niks[0].empty());
      EXPECT_NE(Region6(regions[0]), Region6(regions[1]));
      planted.insert(niks[0].begin(), niks[0].end());
    }
  }
  EXPECT_EQ(dup_families, 2);
  EXPECT_EQ(dup_niks, 2);
  for (const auto& [nik, list] : kks_of_nik) {
    if (planted.contains(nik)) continue;
    EXPECT_EQ(list.size(), 1u) << "NIK listed " << list.size() << " times";
  }
}

TEST(SynthTest, MataramDecileOneShareMatchesTheNews) {
  SynthOptions o = Options(20000, 0, 3, 0);
  o.regions = {"52.71"};
  Output out = Generate(o);
  // months == 0: no life, so read the deciles from a run with one month.
  o.months = 1;
  Output life = Generate(o);
  int64_t first = 0, decile1 = 0;
  for (const SynthCommand& c : life.life) {
    if (const auto* a = std::get_if<v1::RecordWelfareAssessmentRequest>(&c)) {
      ++first;
      decile1 += a->assessment().decile() == 1;
      EXPECT_EQ(a->assessment().round(), "2025-Q4");
      int64_t lo = (a->assessment().decile() - 1) * int64_t{10'000'000};
      EXPECT_GE(a->assessment().pmt_score_micros(), lo);
      EXPECT_LT(a->assessment().pmt_score_micros(), lo + 10'000'000);
    }
  }
  EXPECT_EQ(first, 20000);  // one first assessment per family
  double share = static_cast<double>(decile1) / static_cast<double>(first);
  EXPECT_NEAR(share, 22000.0 / 130000.0, 0.015);
  EXPECT_EQ(out.registry.size(), 20000u);
}

// Follows the life commands on a model of the registry and checks each one
// refers to living members of the family it names.
TEST(SynthTest, LifeEventsReferLivingMembersAndComeInTimeOrder) {
  SynthOptions o = Options(3000, 12, 99, 6);
  Output out = Generate(o);
  struct Person {
    bool alive = true;
    v1::Sex sex = v1::SEX_UNSPECIFIED;
  };
  struct Fam {
    std::string region;
    std::string head;
    std::map<std::string, Person> members;
  };
  std::map<std::string, Fam> fams;
  std::set<std::string> all_niks;
  for (const auto& r : out.registry) {
    Fam& f = fams[r.family().kk_number()];
    f.region = r.family().region_code();
    f.head = r.family().head_nik();
    for (const auto& m : r.family().members()) {
      f.members[m.nik()] = Person{true, m.sex()};
      all_niks.insert(m.nik());
    }
  }
  auto living = [&](const std::string& kk, const std::string& nik) -> Person* {
    auto f = fams.find(kk);
    if (f == fams.end()) return nullptr;
    auto m = f->second.members.find(nik);
    if (m == f->second.members.end() || !m->second.alive) return nullptr;
    return &m->second;
  };
  absl::Time last_recorded = absl::InfinitePast();
  std::set<std::string> ids;
  std::map<std::string, int> rounds;
  int births = 0, deaths = 0, late = 0, moves = 0, splits = 0, heads = 0;
  for (const SynthCommand& c : out.life) {
    const v1::CommandContext& ctx = ContextOf(c);
    absl::Time occurred = events::FromProtoTime(ctx.occurred_at());
    absl::Time recorded = events::FromProtoTime(ctx.recorded_at());
    EXPECT_LE(occurred, recorded);
    EXPECT_LT(recorded, o.now);
    EXPECT_GE(recorded, last_recorded) << RpcName(c);
    last_recorded = recorded;
    EXPECT_TRUE(ids.insert(ctx.request_id()).second);
    EXPECT_EQ(ctx.actor(), "synth");
    if (const auto* b = std::get_if<v1::RecordBirthRequest>(&c)) {
      ++births;
      EXPECT_EQ(ctx.source(), v1::SOURCE_DUKCAPIL);
      Person* mother = living(b->kk_number(), b->birth().mother_nik());
      ASSERT_NE(mother, nullptr) << "birth to a mother not living in the family";
      EXPECT_EQ(mother->sex, v1::SEX_FEMALE);
      const v1::Member& child = b->birth().child();
      ExpectNikMatches(child);
      EXPECT_EQ(child.mother_nik(), b->birth().mother_nik());
      EXPECT_TRUE(all_niks.insert(child.nik()).second) << "child NIK not unique";
      EXPECT_EQ(child.nik().substr(0, 6), b->kk_number().substr(0, 6));
      absl::CivilDay born = WibDay(occurred);
      EXPECT_EQ(child.birth_date().day(), born.day());
      fams[b->kk_number()].members[child.nik()] = Person{true, child.sex()};
    } else if (const auto* d = std::get_if<v1::RecordDeathRequest>(&c)) {
      ++deaths;
      Person* p = living(d->kk_number(), d->death().nik());
      ASSERT_NE(p, nullptr) << "death of someone not living in the family";
      p->alive = false;
      if (recorded - occurred > absl::Hours(24 * 14)) ++late;
    } else if (const auto* m = std::get_if<v1::MoveMemberRequest>(&c)) {
      ++moves;
      Person* p = living(m->from_kk_number(), m->nik());
      ASSERT_NE(p, nullptr);
      EXPECT_NE(fams[m->from_kk_number()].head, m->nik()) << "the head never moves";
      ASSERT_TRUE(fams.contains(m->to_kk_number()));
      Person moved = *p;
      fams[m->from_kk_number()].members.erase(m->nik());
      fams[m->to_kk_number()].members[m->nik()] = moved;
    } else if (const auto* s = std::get_if<v1::SplitFamilyRequest>(&c)) {
      ++splits;
      Fam& old = fams[s->kk_number()];
      ExpectWellFormedRegion(s->new_region_code());
      ExpectKkWellFormed(s->new_kk_number(), s->new_region_code(), WibDay(occurred));
      EXPECT_EQ(Region6(s->new_region_code()), Region6(old.region)) << "split stays in the district";
      EXPECT_FALSE(fams.contains(s->new_kk_number()));
      Fam nf;
      nf.region = s->new_region_code();
      nf.head = s->new_head_nik();
      bool head_listed = false;
      for (const std::string& nik : s->member_niks()) {
        Person* p = living(s->kk_number(), nik);
        ASSERT_NE(p, nullptr);
        EXPECT_NE(nik, old.head);
        head_listed |= nik == s->new_head_nik();
        nf.members[nik] = *p;
        old.members.erase(nik);
      }
      EXPECT_TRUE(head_listed);
      EXPECT_NE(living(s->kk_number(), old.head), nullptr) << "old family keeps its living head";
      fams[s->new_kk_number()] = nf;
    } else if (const auto* h = std::get_if<v1::ChangeHeadRequest>(&c)) {
      ++heads;
      Fam& f = fams[h->kk_number()];
      EXPECT_NE(living(h->kk_number(), h->new_head_nik()), nullptr);
      EXPECT_EQ(living(h->kk_number(), f.head), nullptr) << "head changes only after the head's death";
      f.head = h->new_head_nik();
    } else if (const auto* a = std::get_if<v1::RecordWelfareAssessmentRequest>(&c)) {
      EXPECT_EQ(ctx.source(), v1::SOURCE_BPS_DTSEN);
      EXPECT_TRUE(fams.contains(a->kk_number()));
      EXPECT_GE(a->assessment().decile(), 1);
      EXPECT_LE(a->assessment().decile(), 10);
      ++rounds[a->assessment().round()];
    } else if (const auto* at = std::get_if<v1::ChangeMemberAttributesRequest>(&c)) {
      EXPECT_EQ(ctx.source(), v1::SOURCE_DINSOS);
      EXPECT_NE(living(at->kk_number(), at->change().nik()), nullptr);
    }
  }
  EXPECT_GT(births, 50);
  EXPECT_GT(deaths, 30);
  EXPECT_GT(late, 3);
  EXPECT_GT(moves, 20);
  EXPECT_GT(splits, 5);
  EXPECT_GT(heads, 1);
  EXPECT_EQ(rounds.size(), 4u);  // 2025-Q4 .. 2026-Q3
  EXPECT_TRUE(rounds.contains("2026-Q3"));

  // At the end, the only dead heads are the planted ones.
  std::set<std::string> dead_head_kks;
  for (const auto& [kk, f] : fams) {
    auto it = f.members.find(f.head);
    ASSERT_NE(it, f.members.end());
    if (!it->second.alive) dead_head_kks.insert(kk);
  }
  std::set<std::string> planted;
  for (const GroundTruthEntry& g : out.truth) {
    if (g.kind == v1::OVERLAP_KIND_DEAD_HEAD) {
      planted.insert(g.kk_numbers[0]);
      EXPECT_EQ(fams[g.kk_numbers[0]].head, g.nik);
    }
  }
  EXPECT_EQ(planted.size(), 2u);
  EXPECT_EQ(dead_head_kks, planted);
}

TEST(SynthTest, CommandsRoundTripThroughJsonLines) {
  Output out = Generate(Options(200, 3, 5, 0));
  ASSERT_FALSE(out.life.empty());
  for (const SynthCommand& c : out.life) {
    std::string line = CommandToJsonLine(c);
    ASSERT_OK_AND_ASSIGN(SynthCommand back, CommandFromJsonLine(line));
    EXPECT_EQ(RpcName(back), RpcName(c));
    EXPECT_EQ(CommandToJsonLine(back), line);
  }
  EXPECT_THAT(CommandFromJsonLine("{\"rpc\":\"Nope\",\"request\":{}}"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(CommandFromJsonLine("not json"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(SynthTest, RejectsBadOptions) {
  SynthOptions o = Options(100, 12, 1, 0);
  o.regions = {"99.99"};
  EXPECT_THAT(Generator::Create(o), StatusIs(absl::StatusCode::kInvalidArgument));
  o = Options(100, 24, 1, 0);  // ends after now
  EXPECT_THAT(Generator::Create(o), StatusIs(absl::StatusCode::kInvalidArgument));
  o = Options(4, 12, 1, 9);
  EXPECT_THAT(Generator::Create(o), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace jaring::synth
