// Test fixture for the eligibility service: the population fixture (embedded
// log, injected clock, population service on gRPC) plus the eligibility
// service on its own gRPC server, with its engine stepped by hand
// (engine_interval 0) so tests decide when decisions are derived.
#pragma once

#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "jaring/v1/eligibility_service.grpc.pb.h"
#include "libs/rules/rules.h"
#include "services/eligibility/service.h"
#include "services/population/test_util.h"

namespace jaring::eligibility {

using population::kChild1;
using population::kHead1;
using population::kKk1;
using population::kKk2;
using population::kRegion1;
using population::kWife1;

class EligibilityFixture : public population::PopulationFixture {
 protected:
  void SetUp() override {
    PopulationFixture::SetUp();
    for (const auto& t : events::kDefaultTopics) {
      if (t.name == events::kPopulationTopic || t.name == events::kAccessTopic) continue;
      ASSERT_OK(log_->CreateTopic(std::string(t.name), t.partitions));
    }
    StartEligibility();
  }
  void TearDown() override {
    StopEligibility();
    PopulationFixture::TearDown();
  }

  void StartEligibility() {
    auto svc = EligibilityServiceImpl::Create(
        log_.get(), {.store_dir = dir_.Sub("eligibility"), .clock = &clock_, .engine_interval = absl::ZeroDuration()});
    ASSERT_OK(svc.status());
    elig_ = std::move(svc).value();
    grpc::ServerBuilder b;
    int port = 0;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    b.RegisterService(elig_.get());
    elig_server_ = b.BuildAndStart();
    ASSERT_NE(elig_server_, nullptr);
    elig_stub_ = v1::EligibilityService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }
  void StopEligibility() {
    if (elig_server_) elig_server_->Shutdown();
    elig_server_.reset();
    elig_stub_.reset();
    elig_.reset();
  }

  // Lets the engine derive every decision that is due.
  void Settle() { ASSERT_OK(elig_->engine().Settle()); }

  static v1::RuleSet Rules2026() {
    auto loaded = rules::LoadRuleSet(std::filesystem::path(JARING_RULES_DIR) / "2026.1");
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    return loaded->rules;
  }
  v1::PublishRuleSetResponse Publish(const v1::RuleSet& rs) {
    v1::PublishRuleSetRequest r;
    *r.mutable_rule_set() = rs;
    r.set_actor("test-national");
    v1::PublishRuleSetResponse resp;
    grpc::Status st = elig_stub_->PublishRuleSet(Ctx().get(), r, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp;
  }

  v1::GetDecisionResponse Decision(const std::string& kk, const std::string& program,
                                   std::optional<absl::Time> as_of = std::nullopt,
                                   std::optional<absl::Time> as_known_at = std::nullopt, bool explain = false) {
    v1::GetDecisionRequest r;
    r.set_kk_number(kk);
    r.set_program(program);
    if (as_of) *r.mutable_as_of() = events::ToProtoTime(*as_of);
    if (as_known_at) *r.mutable_as_known_at() = events::ToProtoTime(*as_known_at);
    r.set_explain(explain);
    v1::GetDecisionResponse resp;
    grpc::Status st = elig_stub_->GetDecision(Ctx().get(), r, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp;
  }
  std::vector<v1::RecordedDecision> HistoryOf(const std::string& kk, const std::string& program = "") {
    v1::GetDecisionHistoryRequest r;
    r.set_kk_number(kk);
    r.set_program(program);
    v1::GetDecisionHistoryResponse resp;
    grpc::Status st = elig_stub_->GetDecisionHistory(Ctx().get(), r, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return {resp.decisions().begin(), resp.decisions().end()};
  }

  // Every EligibilityDecided on the log, in partition then offset order.
  std::vector<v1::Envelope> DecisionEvents() {
    std::vector<v1::Envelope> out;
    const std::string topic(events::kEligibilityTopic);
    auto reader = log_->NewReader();
    EXPECT_TRUE(reader.ok());
    for (int p = 0; p < 8; ++p) {
      const int64_t end = log_->EndOffset(topic, p).value_or(0);
      if (end == 0) continue;
      EXPECT_OK((*reader)->Assign({{topic, p, 0}}));
      int64_t read = 0;
      while (read < end) {
        auto recs = (*reader)->Poll(10000, absl::Seconds(1));
        EXPECT_TRUE(recs.ok());
        for (const auto& rec : *recs) {
          v1::Envelope e;
          EXPECT_TRUE(e.ParseFromString(rec.value));
          out.push_back(std::move(e));
          ++read;
        }
        if (recs->empty()) break;
      }
    }
    return out;
  }
  int64_t DecisionCount() {
    int64_t total = 0;
    for (int p = 0; p < 8; ++p) total += log_->EndOffset(std::string(events::kEligibilityTopic), p).value_or(0);
    return total;
  }

  // Family number `i` (1-998) of Kota Mataram, drawn from `rng`: a head, a
  // wife (sometimes pregnant), up to four children of school age or younger
  // (mostly enrolled), sometimes a grandparent over 60, rarely a severe
  // disability. NIKs encode birth date and sex as Dukcapil's do.
  v1::RegisterFamilyRequest GeneratedFamily(int i, std::mt19937_64& rng) const {
    auto pick = [&](int lo, int hi) { return lo + static_cast<int>(rng() % static_cast<uint64_t>(hi - lo + 1)); };
    int serial = i * 10;
    auto person = [&](bool female, int year, v1::Relationship rel) {
      const int month = pick(1, 12), day = pick(1, 28);
      const int number = ++serial;
      return Person(absl::StrFormat("527101%02d%02d%02d%04d", day + (female ? 40 : 0), month, year % 100, number),
                    absl::StrCat("Warga ", number), female ? v1::SEX_FEMALE : v1::SEX_MALE, year, month, day, rel);
    };
    v1::RegisterFamilyRequest r;
    *r.mutable_context() = Context(absl::StrCat("gen-family-", i), absl::Hours(24));
    auto* f = r.mutable_family();
    f->set_kk_number(absl::StrFormat("527101150320%04d", i));
    f->set_region_code(absl::StrFormat("52.71.01.%04d", 1001 + i % 3));
    v1::Member head = person(false, pick(1975, 1992), v1::RELATIONSHIP_HEAD);
    f->set_head_nik(head.nik());
    *f->add_members() = head;
    if (pick(1, 10) <= 8) {
      v1::Member wife = person(true, pick(1980, 1995), v1::RELATIONSHIP_SPOUSE);
      if (pick(1, 100) <= 15) {
        wife.mutable_attributes()->set_pregnant(true);
        wife.mutable_attributes()->set_pregnancy_order(pick(1, 3));
      }
      *f->add_members() = wife;
    }
    const int children = pick(0, 4);
    for (int c = 0; c < children; ++c) {
      const int year = pick(2008, 2025);
      v1::Member child = person(pick(0, 1) == 1, year, v1::RELATIONSHIP_CHILD);
      const int age = 2026 - year;
      v1::SchoolLevel level = age < 4    ? v1::SCHOOL_LEVEL_NONE
                              : age < 6  ? v1::SCHOOL_LEVEL_EARLY_CHILDHOOD
                              : age < 12 ? v1::SCHOOL_LEVEL_PRIMARY
                              : age < 15 ? v1::SCHOOL_LEVEL_JUNIOR_SECONDARY
                                         : v1::SCHOOL_LEVEL_SENIOR_SECONDARY;
      child.mutable_attributes()->set_school_level(level);
      child.mutable_attributes()->set_school_enrolled(level != v1::SCHOOL_LEVEL_NONE && pick(1, 100) <= 85);
      *f->add_members() = child;
    }
    if (pick(1, 100) <= 15) *f->add_members() = person(pick(0, 1) == 1, pick(1940, 1960), v1::RELATIONSHIP_PARENT);
    if (pick(1, 100) <= 5) {
      f->mutable_members(f->members_size() - 1)->mutable_attributes()->set_disability(v1::DISABILITY_SEVERE);
    }
    return r;
  }

  std::unique_ptr<EligibilityServiceImpl> elig_;
  std::unique_ptr<grpc::Server> elig_server_;
  std::unique_ptr<v1::EligibilityService::Stub> elig_stub_;
};

}  // namespace jaring::eligibility
