// Exactly-once decisions across crashes: a child process deriving decisions
// for thousands of families is killed with SIGKILL at random moments, again
// and again, while new population events arrive. At the end:
//  - no decision id appears twice on jaring.eligibility.v1;
//  - each (family, program) has versions 1, 2, ... n, each superseding the
//    one before and differing from it in outcome (decisions only on change);
//  - the recorded decisions equal a fresh evaluation of every family.
#include <sys/wait.h>

#include <chrono>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "absl/strings/str_format.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/events/envelope.h"
#include "libs/events/topics.h"
#include "libs/rules/rules.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/subprocess.h"
#include "libs/testing/temp_dir.h"
#include "rocksdb/db.h"
#include "services/eligibility/engine.h"
#include "services/eligibility/service.h"

namespace jaring::eligibility {
namespace {

constexpr int kFamilies = 4000;
constexpr int kRequiredKills = 12;
constexpr int kMaxRounds = 60;

const absl::Time kNow = absl::FromCivil(absl::CivilSecond(2026, 11, 23, 10, 0, 0), WibTimeZone());

v1::Envelope Event(const std::string& kk, const std::string& id, absl::Time at) {
  v1::Envelope e;
  e.set_event_id(id);
  e.set_key(kk);
  e.set_region_code("52.71.01.1001");
  *e.mutable_occurred_at() = events::ToProtoTime(at);
  *e.mutable_recorded_at() = events::ToProtoTime(at);
  e.set_source(v1::SOURCE_DUKCAPIL);
  return e;
}

std::vector<eventlog::Record> Families(std::mt19937_64& rng) {
  std::vector<eventlog::Record> out;
  for (int i = 1; i <= kFamilies; ++i) {
    const std::string kk = absl::StrFormat("527101150320%04d", i);
    v1::Envelope e = Event(kk, absl::StrCat("reg-", i), kNow - absl::Hours(48));
    v1::FamilyRegistered* r = e.mutable_family_registered();
    r->set_kk_number(kk);
    r->set_region_code("52.71.01.1001");
    const int members = 1 + static_cast<int>(rng() % 5);
    for (int m = 0; m < members; ++m) {
      v1::Member* p = r->add_members();
      p->set_nik(absl::StrFormat("52710101%02d%02d%04d", m == 0 ? 80 : 10 + m, 1 + i % 12, i));
      p->set_sex(m % 2 == 0 ? v1::SEX_MALE : v1::SEX_FEMALE);
      p->mutable_birth_date()->set_year(m == 0 ? 1980 : 2010 + m * 3);
      p->mutable_birth_date()->set_month(1);
      p->mutable_birth_date()->set_day(1);
      p->set_relationship(m == 0 ? v1::RELATIONSHIP_HEAD : v1::RELATIONSHIP_CHILD);
      if (m > 0) {
        p->mutable_attributes()->set_school_level(m == 1 ? v1::SCHOOL_LEVEL_SENIOR_SECONDARY
                                                         : v1::SCHOOL_LEVEL_PRIMARY);
        p->mutable_attributes()->set_school_enrolled(true);
      }
    }
    r->set_head_nik(r->members(0).nik());
    events::StampType(e);
    out.push_back(events::ToRecord(e));
  }
  return out;
}

std::vector<eventlog::Record> Assessments(std::mt19937_64& rng, int round, absl::Time at) {
  std::vector<eventlog::Record> out;
  for (int i = 1; i <= kFamilies; ++i) {
    if (round > 0 && rng() % 3 != 0) continue;
    const std::string kk = absl::StrFormat("527101150320%04d", i);
    v1::Envelope e = Event(kk, absl::StrCat("assess-", round, "-", i), at);
    e.set_source(v1::SOURCE_BPS_DTSEN);
    e.mutable_welfare_assessed()->set_round(absl::StrCat("2026-R", round));
    e.mutable_welfare_assessed()->set_decile(1 + static_cast<int>(rng() % 10));
    events::StampType(e);
    out.push_back(events::ToRecord(e));
  }
  return out;
}

TEST(EligibilityCrashTest, KilledDerivationNeverAppendsADecisionTwice) {
  testing::TempDir dir;
  const std::string log_dir = dir.Sub("log"), store_dir = dir.Sub("store");
  std::mt19937_64 rng(11);
  ManualClock clock(kNow);
  {
    ASSERT_OK_AND_ASSIGN(auto log, eventlog::OpenEmbeddedLog({.dir = log_dir, .clock = &clock}));
    for (const auto& t : events::kDefaultTopics) ASSERT_OK(log->CreateTopic(std::string(t.name), t.partitions));
    ASSERT_OK(log->Append(events::kPopulationTopic, Families(rng)).status());
    ASSERT_OK(log->Append(events::kPopulationTopic, Assessments(rng, 0, kNow - absl::Hours(47))).status());
    // Publish through the service, without letting its engine run.
    ASSERT_OK_AND_ASSIGN(auto svc, EligibilityServiceImpl::Create(
                                       log.get(), {.store_dir = store_dir, .clock = &clock,
                                                   .engine_interval = absl::ZeroDuration()}));
    ASSERT_OK_AND_ASSIGN(rules::LoadedRuleSet rs,
                         rules::LoadRuleSet(std::filesystem::path(JARING_RULES_DIR) / "2026.1"));
    v1::PublishRuleSetRequest pr;
    *pr.mutable_rule_set() = rs.rules;
    ASSERT_OK(svc->PublishRuleSet(pr).status());
  }

  int kills = 0, rounds = 0, next_round = 1;
  int64_t delay_ms = 40;
  for (; rounds < kMaxRounds && kills < kRequiredKills; ++rounds) {
    if (rounds % 4 == 3) {  // new events keep arriving between crashes
      ASSERT_OK_AND_ASSIGN(auto log, eventlog::OpenEmbeddedLog({.dir = log_dir, .clock = &clock}));
      ASSERT_OK(log->Append(events::kPopulationTopic,
                            Assessments(rng, next_round, kNow - absl::Hours(40) + absl::Minutes(next_round)))
                    .status());
      ++next_round;
    }
    testing::Subprocess child({JARING_CRASH_CHILD, log_dir, store_dir, absl::StrCat(absl::ToUnixSeconds(kNow))});
    ASSERT_GT(child.pid(), 0);
    ASSERT_EQ(child.ReadLine(), "ready") << "child did not start";
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms + static_cast<int64_t>(rng() % 200)));
    child.Stop(SIGKILL);
    // Did the kill land mid-work? The child prints "done" only at the end.
    const bool finished = child.ReadLine() == "done";
    if (finished) {
      delay_ms = std::max<int64_t>(0, delay_ms / 2);
    } else {
      ++kills;
      delay_ms += 30;
    }
  }
  EXPECT_GE(kills, kRequiredKills) << "only " << kills << " kills landed in " << rounds << " rounds";

  {
    testing::Subprocess child({JARING_CRASH_CHILD, log_dir, store_dir, absl::StrCat(absl::ToUnixSeconds(kNow))});
    ASSERT_EQ(child.ReadLine(), "ready");
    ASSERT_EQ(child.ReadLine(), "done") << "the final run did not settle";
  }

  // Every decision on the log.
  ASSERT_OK_AND_ASSIGN(auto log, eventlog::OpenEmbeddedLog({.dir = log_dir, .clock = &clock}));
  ASSERT_OK_AND_ASSIGN(auto reader, log->NewReader());
  std::set<std::string> ids;
  std::map<std::pair<std::string, std::string>, std::vector<v1::EligibilityDecided>> by_family;
  int64_t total = 0;
  const std::string topic(events::kEligibilityTopic);
  for (int p = 0; p < 8; ++p) {
    ASSERT_OK_AND_ASSIGN(int64_t end, log->EndOffset(topic, p));
    if (end == 0) continue;
    ASSERT_OK(reader->Assign({{topic, p, 0}}));
    for (int64_t read = 0; read < end;) {
      ASSERT_OK_AND_ASSIGN(auto recs, reader->Poll(10000, absl::Seconds(5)));
      ASSERT_FALSE(recs.empty());
      for (const auto& rec : recs) {
        v1::Envelope e;
        ASSERT_TRUE(e.ParseFromString(rec.value));
        EXPECT_TRUE(ids.insert(e.event_id()).second) << "decision appended twice: " << e.event_id();
        const v1::Decision& d = e.eligibility_decided().decision();
        by_family[{d.kk_number(), d.program()}].push_back(e.eligibility_decided());
        ++read;
        ++total;
      }
    }
  }
  EXPECT_GT(total, kFamilies) << "too few decisions for the test to mean anything";
  for (const auto& [key, list] : by_family) {
    for (size_t i = 0; i < list.size(); ++i) {
      EXPECT_EQ(list[i].decision().version(), static_cast<int64_t>(i + 1)) << key.first << " " << key.second;
      if (i == 0) continue;
      EXPECT_EQ(list[i].supersedes_decision_id(), list[i - 1].decision().decision_id());
      EXPECT_FALSE(SameOutcome(list[i].decision(), list[i - 1].decision())) << "recorded without a change";
    }
  }

  // The recorded decisions are what the rules say now.
  reader.reset();
  log.reset();
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::Options(), store_dir, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  ASSERT_OK_AND_ASSIGN(auto published, LoadPublishedRules(db.get()));
  const auto rules = RuleSetInForce(published, absl::ToUnixMillis(kNow), absl::ToUnixMillis(kNow));
  ASSERT_NE(rules, nullptr);
  int checked = 0;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek("f/"); it->Valid() && it->key().starts_with("f/"); it->Next()) {
    v1::Family family;
    ASSERT_TRUE(family.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())));
    for (const v1::Decision& want : EvaluateWith(family, *rules, WibDay(kNow), false)) {
      auto found = by_family.find({family.kk_number(), want.program()});
      if (found == by_family.end()) {
        EXPECT_FALSE(want.eligible()) << family.kk_number() << " " << want.program() << " was never recorded";
      } else {
        EXPECT_TRUE(SameOutcome(found->second.back().decision(), want)) << family.kk_number() << " " << want.program();
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, kFamilies * 4);
}

}  // namespace
}  // namespace jaring::eligibility
