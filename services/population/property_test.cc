// Property test: for generated command streams (valid and invalid mixed,
// several seeds), the live projection equals a rebuild from the log byte for
// byte, and every family equals an independent fold of the log's events
// written here from the event catalog alone.
#include <map>
#include <random>
#include <set>

#include "absl/strings/str_format.h"
#include "services/population/test_util.h"

namespace jaring::population {
namespace {

// The independent model: what docs/events.md says each event does.
struct ModelFamily {
  std::string head;
  std::map<std::string, bool> members;  // nik -> alive
  int decile = 0;
  int64_t version = 0;
};

class PropertyTest : public PopulationFixture, public ::testing::WithParamInterface<uint64_t> {
 protected:
  std::mt19937_64 rng_{GetParam()};
  int serial_ = 1;
  int kk_serial_ = 1;

  int Rand(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }

  v1::Member NewPerson(const std::string& region6, bool female, int year, v1::Relationship rel) {
    const int month = 1 + Rand(12), day = 1 + Rand(28);
    const int serial = serial_++;
    return Person(absl::StrFormat("%s%02d%02d%02d%04d", region6, day + (female ? 40 : 0), month, year % 100, serial),
                  absl::StrCat("Orang ", serial), female ? v1::SEX_FEMALE : v1::SEX_MALE, year, month, day, rel);
  }

  std::string NewKk(const std::string& region6) { return absl::StrFormat("%s010120%04d", region6, kk_serial_++); }

  std::map<std::string, ModelFamily> FoldLog() {
    std::map<std::string, ModelFamily> model;
    auto reader = log_->NewReader();
    EXPECT_OK(reader.status());
    std::vector<eventlog::Assignment> all;
    for (int p = 0; p < 8; ++p) all.push_back({std::string(events::kPopulationTopic), p, 0});
    EXPECT_OK((*reader)->Assign(all));
    int64_t remaining = TotalEvents();
    std::map<std::string, v1::Envelope> by_id;
    std::set<std::string> seen;
    while (remaining > 0) {
      auto batch = (*reader)->Poll(1000, absl::Seconds(5));
      EXPECT_OK(batch.status());
      if (!batch.ok() || batch->empty()) break;
      for (const auto& rec : *batch) {
        --remaining;
        v1::Envelope e;
        EXPECT_TRUE(e.ParseFromString(rec.value));
        if (!seen.insert(e.event_id()).second) continue;  // a duplicate append
        by_id[e.event_id()] = e;
        ModelFamily& f = model[e.key()];
        switch (e.payload_case()) {
          case v1::Envelope::kFamilyRegistered:
            f.head = e.family_registered().head_nik();
            for (const auto& m : e.family_registered().members()) f.members[m.nik()] = true;
            break;
          case v1::Envelope::kBirthRecorded:
            f.members[e.birth_recorded().child().nik()] = true;
            break;
          case v1::Envelope::kDeathRecorded:
            f.members[e.death_recorded().nik()] = false;
            break;
          case v1::Envelope::kMemberMovedOut:
            f.members.erase(e.member_moved_out().nik());
            break;
          case v1::Envelope::kMemberMovedIn:
            f.members[e.member_moved_in().member().nik()] = true;
            break;
          case v1::Envelope::kFamilySplit:
            for (const auto& n : e.family_split().member_niks()) f.members.erase(n);
            break;
          case v1::Envelope::kHeadChanged:
            f.head = e.head_changed().new_head_nik();
            break;
          case v1::Envelope::kWelfareAssessed:
            f.decile = e.welfare_assessed().decile();
            break;
          case v1::Envelope::kRecordCorrected: {
            const auto& c = e.record_corrected();
            const v1::Envelope& target = by_id.at(c.corrected_event_id());
            if (c.has_retraction() && target.has_death_recorded()) f.members[target.death_recorded().nik()] = true;
            break;
          }
          default:
            break;
        }
        ++f.version;
      }
    }
    EXPECT_EQ(remaining, 0);
    return model;
  }
};

TEST_P(PropertyTest, LiveEqualsRebuildEqualsIndependentFold) {
  struct Known {
    std::string kk, region6, region;
    std::vector<std::string> alive;  // the generator's belief; may be stale
  };
  std::vector<Known> families;
  std::vector<std::string> death_events;  // event ids of recorded deaths
  int accepted = 0, rejected = 0;
  const std::vector<std::pair<std::string, std::string>> regions = {{"527101", "52.71.01.1001"},
                                                                    {"520302", "52.03.02.2005"}};
  for (int step = 0; step < 250; ++step) {
    const std::string rid = absl::StrCat("p", GetParam(), "-", step);
    const int kind = families.size() < 4 ? 0 : Rand(10);
    grpc::Status st;
    if (kind == 0) {
      const auto& [r6, region] = regions[static_cast<size_t>(Rand(2))];
      v1::RegisterFamilyRequest r;
      *r.mutable_context() = Context(rid, absl::Hours(24 * 30));
      auto* f = r.mutable_family();
      f->set_kk_number(NewKk(r6));
      f->set_region_code(region);
      *f->add_members() = NewPerson(r6, false, 1975 + Rand(20), v1::RELATIONSHIP_HEAD);
      f->set_head_nik(f->members(0).nik());
      if (Rand(3) > 0) *f->add_members() = NewPerson(r6, true, 1978 + Rand(20), v1::RELATIONSHIP_SPOUSE);
      for (int c = Rand(4); c > 0; --c) *f->add_members() = NewPerson(r6, Rand(2) == 0, 2005 + Rand(18), v1::RELATIONSHIP_CHILD);
      if (Rand(20) == 0) f->mutable_members(0)->set_nik("5271011203850001");  // maybe a clash
      Known k{f->kk_number(), r6, region, {}};
      for (const auto& m : f->members()) k.alive.push_back(m.nik());
      st = Register(r);
      if (st.ok()) families.push_back(std::move(k));
    } else {
      Known& fam = families[static_cast<size_t>(Rand(static_cast<int>(families.size())))];
      const std::string some = fam.alive.empty() ? "5271011203850001" : fam.alive[static_cast<size_t>(Rand(static_cast<int>(fam.alive.size())))];
      switch (kind) {
        case 1: {
          v1::RecordBirthResponse resp;
          v1::RecordBirthRequest r = Birth(fam.kk, "", some, rid);
          *r.mutable_birth()->mutable_child() = NewPerson(fam.region6, Rand(2) == 0, 2026, v1::RELATIONSHIP_CHILD);
          r.mutable_birth()->mutable_child()->mutable_birth_date()->set_month(1 + Rand(10));
          r.mutable_birth()->mutable_child()->set_nik(absl::StrFormat(
              "%s%02d%02d26%04d", fam.region6,
              r.birth().child().birth_date().day() + (r.birth().child().sex() == v1::SEX_FEMALE ? 40 : 0),
              r.birth().child().birth_date().month(), serial_++));
          if (Rand(4) == 0) {
            r.mutable_birth()->clear_mother_nik();
            r.mutable_birth()->set_no_mother_reason("ibu tidak tercatat");
          }
          st = stub_->RecordBirth(Ctx().get(), r, &resp);
          if (st.ok()) fam.alive.push_back(r.birth().child().nik());
          break;
        }
        case 2: {
          v1::RecordDeathResponse resp;
          st = stub_->RecordDeath(Ctx().get(), Death(fam.kk, some, D(2026, 1 + Rand(10), 1 + Rand(28)), rid), &resp);
          if (st.ok()) death_events.push_back(resp.result().events(0).event_id());
          break;
        }
        case 3: {
          Known& to = families[static_cast<size_t>(Rand(static_cast<int>(families.size())))];
          v1::MoveMemberResponse resp;
          st = stub_->MoveMember(Ctx().get(), Move(fam.kk, some, to.kk, rid), &resp);
          if (st.ok()) to.alive.push_back(some);
          break;
        }
        case 4: {
          v1::SplitFamilyRequest r = Split(fam.kk, NewKk(fam.region6), {some}, some, rid);
          r.set_new_region_code(fam.region);
          v1::SplitFamilyResponse resp;
          st = stub_->SplitFamily(Ctx().get(), r, &resp);
          if (st.ok()) families.push_back(Known{r.new_kk_number(), fam.region6, fam.region, {some}});
          break;
        }
        case 5: {
          v1::ChangeHeadResponse resp;
          st = stub_->ChangeHead(Ctx().get(), Head(fam.kk, some, rid), &resp);
          break;
        }
        case 6:
        case 7: {
          v1::RecordWelfareAssessmentResponse resp;
          st = stub_->RecordWelfareAssessment(Ctx().get(), Assess(fam.kk, 1 + Rand(10), rid), &resp);
          break;
        }
        case 8: {
          v1::ChangeMemberAttributesResponse resp;
          st = stub_->ChangeMemberAttributes(Ctx().get(), Attr(fam.kk, some, rid), &resp);
          break;
        }
        default: {
          if (death_events.empty()) continue;
          v1::CorrectRecordRequest r =
              Correct(fam.kk, death_events[static_cast<size_t>(Rand(static_cast<int>(death_events.size())))], rid);
          r.mutable_correction()->mutable_retraction();
          v1::CorrectRecordResponse resp;
          st = stub_->CorrectRecord(Ctx().get(), r, &resp);
          break;
        }
      }
    }
    if (st.ok()) {
      ++accepted;
    } else {
      ++rejected;
      ASSERT_TRUE(st.error_code() == grpc::INVALID_ARGUMENT || st.error_code() == grpc::FAILED_PRECONDITION)
          << st.error_code() << " " << st.error_message();
    }
    if (step == 120) Restart();  // a restart mid-stream changes nothing
  }
  EXPECT_GT(accepted, 100);
  EXPECT_GT(rejected, 0);

  const auto model = FoldLog();
  ASSERT_FALSE(model.empty());
  for (const auto& [kk, m] : model) {
    v1::Family f = GetFamilyOrDie(kk);
    EXPECT_EQ(f.head_nik(), m.head) << kk;
    EXPECT_EQ(f.version(), m.version) << kk;
    EXPECT_EQ(f.latest_assessment().decile(), m.decile) << kk;
    std::map<std::string, bool> members;
    for (const auto& fm : f.members()) members[fm.member().nik()] = fm.alive();
    EXPECT_EQ(members, m.members) << kk;
  }
  ExpectStoreEqualsRebuild();
}

INSTANTIATE_TEST_SUITE_P(Seeds, PropertyTest, ::testing::Values(1, 2, 3, 4, 5));

}  // namespace
}  // namespace jaring::population
