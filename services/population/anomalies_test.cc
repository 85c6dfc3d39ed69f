// A synthetic population with planted anomalies, through the real gRPC
// service: the registry extract through Import, a year of life through the
// command RPCs (every one accepted), then the open overlap findings must be
// exactly the generator's ground truth (every planted anomaly found, nothing
// else), and the live store must equal a rebuild from the log.
#include <grpcpp/grpcpp.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/events/topics.h"
#include "libs/testing/status_matchers.h"
#include "services/population/test_util.h"
#include "tools/synth/csv.h"
#include "tools/synth/synth.h"

namespace jaring::population {
namespace {

// (kind, sorted KK numbers): how a finding is compared with the ground truth.
using FindingKey = std::pair<v1::OverlapKind, std::vector<std::string>>;

std::string KeyString(const FindingKey& k) {
  return absl::StrCat(v1::OverlapKind_Name(k.first), " [", absl::StrJoin(k.second, ", "), "]");
}

// Sends one life command through its RPC on `stub`.
struct SendVisitor {
  v1::PopulationService::Stub* stub;
  grpc::ClientContext* ctx;
  grpc::Status operator()(const v1::RecordBirthRequest& r) {
    v1::RecordBirthResponse resp;
    return stub->RecordBirth(ctx, r, &resp);
  }
  grpc::Status operator()(const v1::RecordDeathRequest& r) {
    v1::RecordDeathResponse resp;
    return stub->RecordDeath(ctx, r, &resp);
  }
  grpc::Status operator()(const v1::MoveMemberRequest& r) {
    v1::MoveMemberResponse resp;
    return stub->MoveMember(ctx, r, &resp);
  }
  grpc::Status operator()(const v1::SplitFamilyRequest& r) {
    v1::SplitFamilyResponse resp;
    return stub->SplitFamily(ctx, r, &resp);
  }
  grpc::Status operator()(const v1::ChangeHeadRequest& r) {
    v1::ChangeHeadResponse resp;
    return stub->ChangeHead(ctx, r, &resp);
  }
  grpc::Status operator()(const v1::RecordWelfareAssessmentRequest& r) {
    v1::RecordWelfareAssessmentResponse resp;
    return stub->RecordWelfareAssessment(ctx, r, &resp);
  }
  grpc::Status operator()(const v1::ChangeMemberAttributesRequest& r) {
    v1::ChangeMemberAttributesResponse resp;
    return stub->ChangeMemberAttributes(ctx, r, &resp);
  }
  grpc::Status operator()(const v1::CorrectRecordRequest& r) {
    v1::CorrectRecordResponse resp;
    return stub->CorrectRecord(ctx, r, &resp);
  }
};

// The fixture's service on an embedded log without fsync per append: this
// test is about the fold and the findings, not durability, and sends tens of
// thousands of commands one by one (each would otherwise wait for an fsync).
class AnomaliesTest : public PopulationFixture {
 protected:
  void SetUp() override {
    auto log = eventlog::OpenEmbeddedLog({.dir = dir_.Sub("log"), .clock = &clock_, .sync = false});
    ASSERT_OK(log.status());
    log_ = std::move(log).value();
    ASSERT_OK(log_->CreateTopic(std::string(events::kPopulationTopic), 8));
    ASSERT_OK(log_->CreateTopic(std::string(events::kAccessTopic), 4));
    StartService();
  }

  // Every open finding, all regions, following next_page_token.
  std::vector<v1::OverlapFinding> AllOpenFindings(int page_size) {
    std::vector<v1::OverlapFinding> out;
    std::string token;
    for (int page = 0; page < 1000; ++page) {
      v1::ListOverlapFindingsRequest q;
      q.set_region_prefix("");
      q.set_include_resolved(false);
      q.set_page_size(page_size);
      q.set_page_token(token);
      v1::ListOverlapFindingsResponse r;
      grpc::Status st = stub_->ListOverlapFindings(Ctx().get(), q, &r);
      EXPECT_TRUE(st.ok()) << st.error_message();
      if (!st.ok()) break;
      out.insert(out.end(), r.findings().begin(), r.findings().end());
      token = r.next_page_token();
      if (token.empty()) return out;
    }
    ADD_FAILURE() << "ListOverlapFindings never returned an empty next_page_token";
    return out;
  }

  // Creates the generator, imports its registry through Import (every family
  // accepted) and sends every life command through its RPC, in order,
  // collecting rejections in rejections_.
  void Populate(const synth::SynthOptions& opt) {
    ASSERT_OK_AND_ASSIGN(gen_, synth::Generator::Create(opt));
    ASSERT_LT(gen_->life_end(), Now());

    // The registry extract through Import, lines numbered as in registry.csv.
    std::vector<v1::ImportRequest> rows;
    int64_t line = 2;
    int64_t members = 0;
    ASSERT_OK(gen_->Registry([&](const v1::RegisterFamilyRequest& r) {
      v1::ImportRequest req;
      req.set_line(line);
      *req.mutable_family() = r;
      rows.push_back(std::move(req));
      line += r.family().members_size();
      members += r.family().members_size();
      return absl::OkStatus();
    }));
    registry_stats_ = gen_->stats();
    ASSERT_EQ(static_cast<int64_t>(rows.size()), registry_stats_.families_registered);
    ASSERT_EQ(members, registry_stats_.members_registered);
    ASSERT_GT(registry_stats_.families_registered, opt.families);  // planted duplicates come on top

    ImportResult imported = RunImport(rows);
    for (const auto& e : imported.errors) {
      ADD_FAILURE() << "import rejected line " << e.line() << ": " << e.code() << ": " << e.message();
    }
    EXPECT_EQ(imported.progress.imported(), registry_stats_.families_registered);
    EXPECT_EQ(imported.progress.already_imported(), 0);
    EXPECT_EQ(imported.progress.rejected(), 0);
    rows.clear();
    rows.shrink_to_fit();

    // Life, one command at a time, in the generator's order.
    ASSERT_OK(gen_->Life([&](const synth::SynthCommand& cmd) {
      ++sent_;
      ++by_rpc_[std::string(synth::RpcName(cmd))];
      auto ctx = Ctx();
      grpc::Status st = std::visit(SendVisitor{stub_.get(), ctx.get()}, cmd);
      if (!st.ok()) {
        rejections_.push_back(absl::StrCat("command ", sent_, " ", std::string(synth::RpcName(cmd)), " (request ",
                                           synth::ContextOf(cmd).request_id(), "): ",
                                           absl::StatusCodeToString(static_cast<absl::StatusCode>(st.error_code())),
                                           ": ", st.error_message()));
      }
      return absl::OkStatus();
    }));
    EXPECT_EQ(sent_, gen_->stats().commands);
    EXPECT_EQ(rejections_.size(), 0u) << rejections_.size() << " of " << sent_ << " commands were rejected:\n"
                                      << absl::StrJoin(rejections_.begin(),
                                                       rejections_.begin() + std::min<size_t>(rejections_.size(), 50),
                                                       "\n");
  }

  // The ground truth as (kind, sorted KKs).
  std::set<FindingKey> Truth() const {
    std::set<FindingKey> want;
    for (const auto& t : gen_->ground_truth()) {
      std::vector<std::string> kks = t.kk_numbers;
      std::sort(kks.begin(), kks.end());
      EXPECT_TRUE(want.insert({t.kind, kks}).second) << "ground truth lists twice: " << KeyString({t.kind, kks});
    }
    return want;
  }

  std::unique_ptr<synth::Generator> gen_;
  synth::SynthStats registry_stats_;
  int64_t sent_ = 0;
  std::map<std::string, int64_t> by_rpc_;
  std::vector<std::string> rejections_;
};

// Two regions, about 3000 families, a year of life, 9 planted anomalies.
TEST_F(AnomaliesTest, PlantedAnomaliesAreAllFoundAndNothingElse) {
  synth::SynthOptions opt;
  opt.regions = {"52.71", "35.10"};
  opt.families = 3000;
  opt.months = 12;
  opt.seed = 20261123;
  opt.anomalies = 9;  // 3 of each kind
  // Life runs 2025-11-01 .. 2026-11-01; the fixture's clock is 2026-11-23
  // 10:00 WIB, so every occurred_at and recorded_at is in the service's past.
  opt.start = synth::DayStart(absl::CivilDay(2025, 11, 1));
  opt.now = Now();
  ASSERT_NO_FATAL_FAILURE(Populate(opt));

  const synth::SynthStats& stats = gen_->stats();
  std::string mix;
  for (const auto& [rpc, n] : by_rpc_) absl::StrAppend(&mix, " ", rpc, "=", n);
  std::cout << "registry: " << registry_stats_.families_registered << " families, "
            << registry_stats_.members_registered << " members; life: " << sent_ << " commands:" << mix
            << "; rejected " << rejections_.size() << "\n";
  // Life exercises every kind of command (a population of this size over a year).
  EXPECT_GT(stats.births, 0);
  EXPECT_GT(stats.deaths, 0);
  EXPECT_GT(stats.moves, 0);
  EXPECT_GT(stats.splits, 0);
  EXPECT_GT(stats.head_changes, 0);

  // The open findings equal the ground truth.
  ASSERT_EQ(gen_->ground_truth().size(), 9u);
  const std::set<FindingKey> want = Truth();
  std::map<FindingKey, std::string> want_nik;
  std::map<v1::OverlapKind, int> want_kinds;
  for (const auto& t : gen_->ground_truth()) {
    std::vector<std::string> kks = t.kk_numbers;
    std::sort(kks.begin(), kks.end());
    want_nik[{t.kind, kks}] = t.nik;
    ++want_kinds[t.kind];
  }
  EXPECT_EQ(want_kinds[v1::OVERLAP_KIND_FAMILY_IN_TWO_REGIONS], 3);
  EXPECT_EQ(want_kinds[v1::OVERLAP_KIND_NIK_IN_TWO_FAMILIES], 3);
  EXPECT_EQ(want_kinds[v1::OVERLAP_KIND_DEAD_HEAD], 3);

  // One page (of up to 1000) holds them all. (Paging with small pages is
  // FindingsPagingListsEachFindingOnce.)
  const std::vector<v1::OverlapFinding> found = AllOpenFindings(1000);
  std::set<FindingKey> got;
  std::map<FindingKey, v1::OverlapFinding> got_finding;
  std::set<std::string> ids;
  for (const auto& f : found) {
    EXPECT_FALSE(f.resolved()) << f.ShortDebugString();
    EXPECT_TRUE(ids.insert(f.finding_id()).second) << "finding listed twice: " << f.ShortDebugString();
    std::vector<std::string> kks(f.kk_numbers().begin(), f.kk_numbers().end());
    std::sort(kks.begin(), kks.end());
    FindingKey key{f.kind(), kks};
    EXPECT_TRUE(got.insert(key).second) << "two open findings for " << KeyString(key);
    got_finding[key] = f;
  }
  for (const auto& k : want) {
    EXPECT_TRUE(got.count(k)) << "planted anomaly not found: " << KeyString(k);
  }
  for (const auto& k : got) {
    EXPECT_TRUE(want.count(k)) << "finding that was not planted: " << KeyString(k) << "\n  "
                               << got_finding[k].ShortDebugString();
  }
  EXPECT_EQ(got, want);

  // A finding about one person names them masked (first 4 and last 2 digits).
  for (const auto& [key, nik] : want_nik) {
    if (nik.empty() || !got_finding.count(key)) continue;
    const std::string& masked = got_finding[key].masked_nik();
    EXPECT_EQ(masked, absl::StrCat(nik.substr(0, 4), "**********", nik.substr(14, 2))) << KeyString(key);
    EXPECT_EQ(masked.find(nik), std::string::npos);
  }

  // Each region's listing holds the findings that touch it.
  for (const char* prefix : {"52.71", "35.10"}) {
    std::set<std::string> want_ids;
    for (const auto& f : found) {
      for (const auto& rc : f.region_codes()) {
        if (rc.rfind(prefix, 0) == 0) want_ids.insert(f.finding_id());
      }
    }
    std::set<std::string> region_ids;
    for (const auto& f : ListFindings(prefix, false)) region_ids.insert(f.finding_id());
    EXPECT_EQ(region_ids, want_ids) << prefix;
  }

  ExpectStoreEqualsRebuild();
  // After the restart on the same data the findings are unchanged.
  std::set<FindingKey> after;
  for (const auto& f : AllOpenFindings(1000)) {
    std::vector<std::string> kks(f.kk_numbers().begin(), f.kk_numbers().end());
    std::sort(kks.begin(), kks.end());
    after.insert({f.kind(), kks});
  }
  EXPECT_EQ(after, want);
}

// Small pages give the same findings, each exactly once. A finding about two
// families (FAMILY_IN_TWO_REGIONS, NIK_IN_TWO_FAMILIES) is stored under each
// family's region code, so a listing meets it twice; it must still be listed
// once. A small population is enough.
TEST_F(AnomaliesTest, FindingsPagingListsEachFindingOnce) {
  synth::SynthOptions opt;
  opt.regions = {"52.71", "35.10"};
  opt.families = 200;
  opt.months = 1;
  opt.seed = 7;
  opt.anomalies = 9;
  opt.start = synth::DayStart(absl::CivilDay(2026, 9, 1));
  opt.now = Now();
  ASSERT_NO_FATAL_FAILURE(Populate(opt));
  const std::set<FindingKey> want = Truth();
  ASSERT_EQ(want.size(), 9u);

  std::set<std::string> ids;
  std::set<FindingKey> got;
  for (const auto& f : AllOpenFindings(1000)) {
    ids.insert(f.finding_id());
    std::vector<std::string> kks(f.kk_numbers().begin(), f.kk_numbers().end());
    std::sort(kks.begin(), kks.end());
    got.insert({f.kind(), kks});
  }
  ASSERT_EQ(got, want);

  for (int page_size : {1, 2, 5}) {
    std::vector<std::string> paged_ids;
    std::string listing;
    for (const auto& f : AllOpenFindings(page_size)) {
      paged_ids.push_back(f.finding_id());
      absl::StrAppend(&listing, "\n  ", v1::OverlapKind_Name(f.kind()), " ", f.finding_id(), " regions ",
                      absl::StrJoin(f.region_codes(), " "));
    }
    std::vector<std::string> unique = paged_ids;
    std::sort(unique.begin(), unique.end());
    unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
    EXPECT_EQ(std::set<std::string>(unique.begin(), unique.end()), ids) << "page_size " << page_size;
    EXPECT_EQ(paged_ids.size(), unique.size())
        << "BUG: with page_size " << page_size
        << " a finding stored under two region keys is listed once per key (ListFindings drops repeats only "
           "within one page); the listing in order:"
        << listing;
  }
}

}  // namespace
}  // namespace jaring::population
