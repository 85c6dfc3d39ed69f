#include "tools/bench/reeval_bench.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "jaring/v1/population.pb.h"
#include "libs/base/strings.h"
#include "libs/rules/compact.h"
#include "libs/rules/evaluate.h"
#include "libs/rules/rules.h"
#include "nlohmann/json.hpp"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"

namespace jaring::bench {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

const absl::CivilDay kAsOf(2026, 3, 15);
constexpr std::string_view kFamilyPrefix = "k/";
constexpr std::string_view kOutcomePrefix = "o/";
// The first keys after each prefix ('0' follows '/'): iterator bounds.
const rocksdb::Slice kFamilyEnd("k0");
const rocksdb::Slice kOutcomeEnd("o0");
constexpr size_t kWriteBatch = 10000;
constexpr size_t kBlockCacheBytes = size_t{1} << 30;

rocksdb::ReadOptions WithUpperBound(rocksdb::ReadOptions ro, const rocksdb::Slice& end) {
  ro.iterate_upper_bound = &end;
  return ro;
}

// Synthetic families shaped like a pilot region's: 2-7 members (a head,
// usually a spouse, children of every school age, sometimes an elderly
// parent), deciles 1-10 weighted toward the poorer ones (2% unassessed),
// school levels by age (8% of school children not enrolled), pregnancies,
// disabilities and a few deaths. Deterministic by seed; family i has KK
// number 527101 + (1000000000 + i), so KK order is generation order.
class FamilyGenerator {
 public:
  explicit FamilyGenerator(uint64_t seed) : rng_(seed) {}

  void Next(int64_t index, v1::Family* f) {
    f->Clear();
    f->set_kk_number(absl::StrCat("527101", 1000000000 + index));
    f->set_region_code(absl::StrFormat("52.71.%02d.1%03d", 1 + Pick(6), 1 + Pick(50)));
    if (Pick(100) >= 2) {
      static constexpr int kDecileWeights[] = {15, 14, 13, 12, 10, 9, 8, 7, 6, 6};
      int r = Pick(100), decile = 1;
      while (r >= kDecileWeights[decile - 1]) r -= kDecileWeights[decile++ - 1];
      f->mutable_latest_assessment()->set_round("2026-Q1");
      f->mutable_latest_assessment()->set_decile(decile);
    }
    static constexpr int kSizeWeights[] = {20, 22, 24, 18, 10, 6};  // 2..7 members
    int r = Pick(100), size = 2;
    while (r >= kSizeWeights[size - 2]) r -= kSizeWeights[size++ - 2];

    const int head_age = 25 + Pick(41);
    Add(f, index, false, head_age, /*alive=*/true);
    int placed = 1;
    int children = 0;
    v1::MemberAttributes* spouse = nullptr;
    int spouse_age = 0;
    if (Pick(100) < 85) {
      spouse_age = std::max(18, head_age - 5 + Pick(8));
      spouse = Add(f, index, true, spouse_age, true);
      ++placed;
    }
    if (placed < size && Pick(100) < 20) {
      Add(f, index, Pick(2) == 0, 60 + Pick(30), Pick(100) < 90);  // an elderly parent
      ++placed;
    }
    for (; placed < size; ++placed, ++children) {
      const int age = std::min(Pick(21), std::max(0, head_age - 17));
      v1::MemberAttributes* a = Add(f, index, Pick(2) == 0, age, Pick(1000) < 995);
      v1::SchoolLevel level = v1::SCHOOL_LEVEL_NONE;
      if (age >= 4 && age <= 6) level = Pick(2) == 0 ? v1::SCHOOL_LEVEL_EARLY_CHILDHOOD : v1::SCHOOL_LEVEL_NONE;
      if (age >= 7 && age <= 12) level = v1::SCHOOL_LEVEL_PRIMARY;
      if (age >= 13 && age <= 15) level = v1::SCHOOL_LEVEL_JUNIOR_SECONDARY;
      if (age >= 16 && age <= 18) level = Pick(100) < 85 ? v1::SCHOOL_LEVEL_SENIOR_SECONDARY : v1::SCHOOL_LEVEL_NONE;
      if (age >= 19) level = Pick(100) < 15 ? v1::SCHOOL_LEVEL_HIGHER : v1::SCHOOL_LEVEL_NONE;
      if (age >= 4) {
        a->set_school_level(level);
        a->set_school_enrolled(level != v1::SCHOOL_LEVEL_NONE && Pick(100) < 92);
      }
    }
    if (spouse != nullptr && spouse_age < 45 && Pick(100) < 8) {
      spouse->set_pregnant(true);
      spouse->set_pregnancy_order(std::min(5, children + 1));
    }
  }

 private:
  int Pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }

  // A member aged `age` (completed years at kAsOf) with a NIK made of the
  // region, the birth date (day + 40 for women) and a serial.
  v1::MemberAttributes* Add(v1::Family* f, int64_t index, bool female, int age, bool alive) {
    const absl::CivilDay born = absl::CivilDay(kAsOf.year() - age, kAsOf.month(), kAsOf.day()) - (1 + Pick(364));
    v1::FamilyMember* fm = f->add_members();
    fm->set_alive(alive);
    v1::Member* m = fm->mutable_member();
    m->set_nik(absl::StrFormat("527101%02d%02d%02d%04d", born.day() + (female ? 40 : 0), born.month(),
                               static_cast<int>(born.year() % 100), (index * 7 + f->members_size()) % 10000));
    m->set_sex(female ? v1::SEX_FEMALE : v1::SEX_MALE);
    m->set_relationship(f->members_size() == 1 ? v1::RELATIONSHIP_HEAD : v1::RELATIONSHIP_CHILD);
    m->mutable_birth_date()->set_year(static_cast<int32_t>(born.year()));
    m->mutable_birth_date()->set_month(born.month());
    m->mutable_birth_date()->set_day(born.day());
    const int d = Pick(100);
    if (d < 2) m->mutable_attributes()->set_disability(v1::DISABILITY_SEVERE);
    if (d >= 2 && d < 5) m->mutable_attributes()->set_disability(v1::DISABILITY_MILD);
    return m->mutable_attributes();
  }

  std::mt19937_64 rng_;
};

std::string FamilyKey(std::string_view kk) { return absl::StrCat(Av(kFamilyPrefix), Av(kk)); }

bool HasPrefix(const rocksdb::Slice& s, std::string_view prefix) {
  return s.size() >= prefix.size() && std::memcmp(s.data(), prefix.data(), prefix.size()) == 0;
}

struct PassResult {
  int64_t families = 0;
  int64_t changed = 0;
  uint64_t bytes = 0;  // keys and values read (raw pass)
  double seconds = 0;
};

// One re-evaluation pass: k/ and o/ merge-joined by KK with two iterators
// (each sees the store as it was when the pass began), every family decoded
// and evaluated, the outcomes that differ from the stored one (or that have
// none) written to o/<kk> in batches. Errors: kDataLoss for a family that
// does not parse, kUnavailable for a RocksDB error.
absl::StatusOr<PassResult> Pass(rocksdb::DB* db, const rules::CompiledRules& compiled) {
  const Clock::time_point start = Clock::now();
  PassResult res;
  rocksdb::ReadOptions ro;
  std::unique_ptr<rocksdb::Iterator> fam(db->NewIterator(WithUpperBound(ro, kFamilyEnd)));
  std::unique_ptr<rocksdb::Iterator> out(db->NewIterator(WithUpperBound(ro, kOutcomeEnd)));
  rules::CompactFamilyView view;
  rules::Outcome outcome;
  std::string encoded, key;
  rocksdb::WriteBatch batch;
  rocksdb::WriteOptions wo;
  fam->Seek(rocksdb::Slice(kFamilyPrefix.data(), kFamilyPrefix.size()));
  out->Seek(rocksdb::Slice(kOutcomePrefix.data(), kOutcomePrefix.size()));
  for (; fam->Valid() && HasPrefix(fam->key(), kFamilyPrefix); fam->Next()) {
    rocksdb::Slice kk = fam->key();
    kk.remove_prefix(kFamilyPrefix.size());
    // Outcomes of families that no longer exist sort before and are skipped.
    while (out->Valid() && HasPrefix(out->key(), kOutcomePrefix) &&
           rocksdb::Slice(out->key().data() + kOutcomePrefix.size(), out->key().size() - kOutcomePrefix.size())
                   .compare(kk) < 0) {
      out->Next();
    }
    const bool stored = out->Valid() && HasPrefix(out->key(), kOutcomePrefix) &&
                        rocksdb::Slice(out->key().data() + kOutcomePrefix.size(),
                                       out->key().size() - kOutcomePrefix.size()) == kk;
    const rocksdb::Slice value = fam->value();
    if (!view.Parse(std::string_view(value.data(), value.size()))) {
      return absl::DataLossError(absl::StrCat("k/", kk.ToString(), ": not a compact family"));
    }
    compiled.Evaluate(view, kAsOf, &outcome);
    rules::EncodeOutcome(outcome, &encoded);
    ++res.families;
    if (stored && out->value() == rocksdb::Slice(encoded)) continue;
    ++res.changed;
    key.assign(kOutcomePrefix);
    key.append(kk.data(), kk.size());
    batch.Put(key, encoded);
    if (batch.Count() >= static_cast<int>(kWriteBatch)) {
      rocksdb::Status s = db->Write(wo, &batch);
      if (!s.ok()) return absl::UnavailableError(absl::StrCat("write outcomes: ", s.ToString()));
      batch.Clear();
    }
  }
  if (!fam->status().ok() || !out->status().ok()) {
    return absl::UnavailableError(absl::StrCat("iterate: ", fam->status().ToString(), " ", out->status().ToString()));
  }
  if (batch.Count() > 0) {
    rocksdb::Status s = db->Write(wo, &batch);
    if (!s.ok()) return absl::UnavailableError(absl::StrCat("write outcomes: ", s.ToString()));
  }
  res.seconds = SecondsSince(start);
  return res;
}

// The raw limit of a pass: the same two iterators over the same keys,
// touching every key and value, decoding nothing.
absl::StatusOr<PassResult> RawPass(rocksdb::DB* db) {
  const Clock::time_point start = Clock::now();
  PassResult res;
  rocksdb::ReadOptions ro;
  std::unique_ptr<rocksdb::Iterator> fam(db->NewIterator(WithUpperBound(ro, kFamilyEnd)));
  std::unique_ptr<rocksdb::Iterator> out(db->NewIterator(WithUpperBound(ro, kOutcomeEnd)));
  fam->Seek(rocksdb::Slice(kFamilyPrefix.data(), kFamilyPrefix.size()));
  out->Seek(rocksdb::Slice(kOutcomePrefix.data(), kOutcomePrefix.size()));
  for (; fam->Valid() && HasPrefix(fam->key(), kFamilyPrefix); fam->Next()) {
    res.bytes += fam->key().size() + fam->value().size();
    if (out->Valid() && HasPrefix(out->key(), kOutcomePrefix)) {
      res.bytes += out->key().size() + out->value().size();
      out->Next();
    }
    ++res.families;
  }
  if (!fam->status().ok() || !out->status().ok()) return absl::UnavailableError("raw iterate failed");
  res.seconds = SecondsSince(start);
  return res;
}

int Fail(const absl::Status& st) {
  std::fprintf(stderr, "jaring-bench reeval: %s\n", st.ToString().c_str());
  return 1;
}

void Step(const std::string& what) {
  std::fprintf(stderr, "jaring-bench reeval: %s\n", what.c_str());
  std::fflush(stderr);
}

}  // namespace

int ReevalBench(ReevalFlags f) {
  if (f.families <= 0 || f.reference_families < 0) {
    std::fprintf(stderr, "jaring-bench reeval: --families must be positive\n");
    return 2;
  }
  f.reference_families = std::min(f.reference_families, f.families);
  if (f.rules.empty()) f.rules = std::string(JARING_RULES_DIR) + "/2026.1";
  const bool own_dir = f.dir.empty();
  if (!own_dir && std::filesystem::exists(f.dir)) {
    std::fprintf(stderr, "jaring-bench reeval: --dir %s exists; give a new directory\n", f.dir.c_str());
    return 2;
  }
  if (own_dir) {
    std::string tmpl = std::filesystem::temp_directory_path().string() + "/jaring-bench-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) return 1;
    f.dir = tmpl;
  } else {
    std::error_code ec;
    std::filesystem::create_directories(f.dir, ec);
    if (ec) return Fail(absl::UnavailableError(absl::StrCat("create ", f.dir, ": ", ec.message())));
  }

  auto loaded = rules::LoadRuleSet(f.rules);
  if (!loaded.ok()) return Fail(loaded.status());
  auto compiled = rules::CompiledRules::Compile(loaded->rules);
  if (!compiled.ok()) return Fail(compiled.status());
  // The rule change of pass 2: PKH's max_decile one lower (4 -> 3).
  v1::RuleSet changed_rules = loaded->rules;
  std::string change = "none (no PKH program)";
  for (auto& p : *changed_rules.mutable_programs()) {
    if (p.has_pkh() && p.pkh().max_decile() > 1) {
      change = absl::StrCat(p.program_id(), " max_decile ", p.pkh().max_decile(), " -> ", p.pkh().max_decile() - 1);
      p.mutable_pkh()->set_max_decile(p.pkh().max_decile() - 1);
      break;
    }
  }
  auto compiled_changed = rules::CompiledRules::Compile(changed_rules);
  if (!compiled_changed.ok()) return Fail(compiled_changed.status());

  // 1-2. The reference evaluator on the first families, in chunks (only
  // Evaluate is timed), each checked against the compact path.
  Step(absl::StrCat("reference evaluator over ", f.reference_families, " families"));
  double reference_s = 0;
  int64_t mismatches = 0;
  {
    FamilyGenerator gen(f.seed);
    rules::EvaluateOptions opts;
    opts.rule_hash = loaded->content_hash;
    opts.explain = false;
    rules::CompactFamilyView view;
    rules::Outcome compact, reference;
    std::vector<v1::Family> chunk(10000);
    std::vector<std::vector<v1::Decision>> decisions(chunk.size());
    for (int64_t done = 0; done < f.reference_families;) {
      const size_t n = static_cast<size_t>(std::min<int64_t>(chunk.size(), f.reference_families - done));
      for (size_t i = 0; i < n; ++i) gen.Next(done + static_cast<int64_t>(i), &chunk[i]);
      const Clock::time_point t = Clock::now();
      for (size_t i = 0; i < n; ++i) decisions[i] = rules::Evaluate(chunk[i], loaded->rules, kAsOf, opts);
      reference_s += SecondsSince(t);
      for (size_t i = 0; i < n; ++i) {
        const std::string encoded = rules::EncodeCompactFamily(chunk[i]);
        if (!view.Parse(encoded)) return Fail(absl::InternalError("an encoded family does not parse"));
        compiled->Evaluate(view, kAsOf, &compact);
        rules::OutcomeFromDecisions(decisions[i], &reference);
        if (compact != reference) {
          if (mismatches == 0) std::fprintf(stderr, "mismatch: %s\n", chunk[i].ShortDebugString().c_str());
          ++mismatches;
        }
      }
      done += static_cast<int64_t>(n);
    }
  }
  if (mismatches > 0) {
    return Fail(absl::InternalError(absl::StrCat(mismatches, " families where the compact outcome differs")));
  }

  // 3. Every family encoded once (not timed), then the compact path in memory.
  Step(absl::StrCat("generating and encoding ", f.families, " families"));
  std::string blob;
  std::vector<size_t> offsets;
  offsets.reserve(static_cast<size_t>(f.families) + 1);
  std::vector<std::string> kks;
  kks.reserve(static_cast<size_t>(f.families));
  {
    FamilyGenerator gen(f.seed);
    v1::Family fam;
    for (int64_t i = 0; i < f.families; ++i) {
      gen.Next(i, &fam);
      offsets.push_back(blob.size());
      blob += rules::EncodeCompactFamily(fam);
      kks.push_back(fam.kk_number());
    }
    offsets.push_back(blob.size());
  }
  Step("compact evaluation in memory");
  double compact_s = 0;
  int64_t eligible[2] = {0, 0};
  uint64_t outcome_bytes = 0;
  {
    rules::CompactFamilyView view;
    rules::Outcome outcome;
    std::string encoded;
    const Clock::time_point t = Clock::now();
    for (size_t i = 0; i + 1 < offsets.size(); ++i) {
      if (!view.Parse(std::string_view(blob).substr(offsets[i], offsets[i + 1] - offsets[i]))) {
        return Fail(absl::InternalError("an encoded family does not parse"));
      }
      compiled->Evaluate(view, kAsOf, &outcome);
      rules::EncodeOutcome(outcome, &encoded);
      outcome_bytes += encoded.size();
      for (const rules::ProgramOutcome& p : outcome.programs) ++eligible[p.eligible ? 1 : 0];
    }
    compact_s = SecondsSince(t);
  }

  // 4. Through RocksDB.
  Step("loading the families into RocksDB");
  rocksdb::Options o;
  o.create_if_missing = true;
  {
    // What a store that is scanned whole again and again is configured
    // with: a block cache that holds it, and no compression (the records
    // are small and dense; decompressing every block on every pass costs
    // more than the disk it saves). The raw pass reads the same store.
    rocksdb::BlockBasedTableOptions t;
    t.block_cache = rocksdb::NewLRUCache(kBlockCacheBytes);
    o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
    o.compression = rocksdb::kNoCompression;
  }
  rocksdb::DB* raw_db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(o, f.dir + "/reeval", &raw_db);
  if (!s.ok()) return Fail(absl::UnavailableError(absl::StrCat("open: ", s.ToString())));
  std::unique_ptr<rocksdb::DB> db(raw_db);
  const Clock::time_point load_start = Clock::now();
  {
    rocksdb::WriteOptions wo;
    wo.disableWAL = true;
    rocksdb::WriteBatch batch;
    for (size_t i = 0; i < kks.size(); ++i) {
      batch.Put(FamilyKey(kks[i]), rocksdb::Slice(blob.data() + offsets[i], offsets[i + 1] - offsets[i]));
      if (batch.Count() >= static_cast<int>(kWriteBatch) || i + 1 == kks.size()) {
        s = db->Write(wo, &batch);
        if (!s.ok()) return Fail(absl::UnavailableError(absl::StrCat("load: ", s.ToString())));
        batch.Clear();
      }
    }
    db->Flush(rocksdb::FlushOptions());
    db->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr);
  }
  const double load_s = SecondsSince(load_start);
  const uint64_t family_bytes = blob.size();
  std::string().swap(blob);
  std::vector<size_t>().swap(offsets);
  std::vector<std::string>().swap(kks);

  Step("pass 1: no outcome stored");
  auto pass1 = Pass(db.get(), *compiled);
  if (!pass1.ok()) return Fail(pass1.status());
  db->Flush(rocksdb::FlushOptions());
  db->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr);
  Step(absl::StrCat("pass 2: ", change));
  auto pass2 = Pass(db.get(), *compiled_changed);
  if (!pass2.ok()) return Fail(pass2.status());
  db->Flush(rocksdb::FlushOptions());
  db->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr);
  // One untimed read of everything, so that pass 3 and the raw pass start
  // from the same (warm) block cache.
  if (auto warm = RawPass(db.get()); !warm.ok()) return Fail(warm.status());
  Step("pass 3: the same rules again");
  auto pass3 = Pass(db.get(), *compiled_changed);
  if (!pass3.ok()) return Fail(pass3.status());
  Step("raw iteration");
  auto raw = RawPass(db.get());
  if (!raw.ok()) return Fail(raw.status());
  db.reset();
  if (own_dir) std::filesystem::remove_all(f.dir);

  const double n = static_cast<double>(f.families);
  const double reference_per_s = f.reference_families > 0 ? static_cast<double>(f.reference_families) / reference_s : 0;
  const double compact_per_s = n / compact_s;
  auto rate = [](const PassResult& p) { return static_cast<double>(p.families) / p.seconds; };
  if (f.json) {
    nlohmann::json j = {
        {"bench", "reeval"},
        {"families", f.families},
        {"seed", f.seed},
        {"rules_version", loaded->rules.version()},
        {"as_of", absl::FormatCivilTime(kAsOf)},
        {"family_bytes_avg", static_cast<double>(family_bytes) / n},
        {"outcome_bytes_avg", static_cast<double>(outcome_bytes) / n},
        {"eligible_decisions_share", static_cast<double>(eligible[1]) / static_cast<double>(eligible[0] + eligible[1])},
        {"reference_families", f.reference_families},
        {"reference_families_per_s", reference_per_s},
        {"reference_mismatches", mismatches},
        {"compact_families_per_s", compact_per_s},
        {"load_seconds", load_s},
        {"pass1_families_per_s", rate(*pass1)},
        {"pass1_changed", pass1->changed},
        {"pass2_rule_change", change},
        {"pass2_families_per_s", rate(*pass2)},
        {"pass2_changed", pass2->changed},
        {"pass3_families_per_s", rate(*pass3)},
        {"pass3_changed", pass3->changed},
        {"raw_families_per_s", rate(*raw)},
        {"raw_keys_per_s", 2 * rate(*raw)},
        {"raw_bytes", raw->bytes},
        {"pass2_over_raw", rate(*pass2) / rate(*raw)},
    };
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("reeval: %lld families (compact family %.0f B, outcome %.0f B), rules %s, as of %s, one thread\n",
                static_cast<long long>(f.families), static_cast<double>(family_bytes) / n,
                static_cast<double>(outcome_bytes) / n, loaded->rules.version().c_str(),
                absl::FormatCivilTime(kAsOf).c_str());
    std::printf("  (RocksDB: no compression, 1 GiB block cache, outcome writes with the WAL, %zu per batch)\n",
                kWriteBatch);
    std::printf("  reference Evaluate (explain off, %lld families)     %12.0f families/s  (0 mismatches)\n",
                static_cast<long long>(f.reference_families), reference_per_s);
    std::printf("  compact parse + evaluate + encode, in memory         %12.0f families/s\n", compact_per_s);
    std::printf("  RocksDB pass 1: no outcome stored                    %12.0f families/s  (%lld changed)\n",
                rate(*pass1), static_cast<long long>(pass1->changed));
    std::printf("  RocksDB pass 2: %-36s %12.0f families/s  (%lld changed)\n", change.c_str(), rate(*pass2),
                static_cast<long long>(pass2->changed));
    std::printf("  RocksDB pass 3: same rules again                     %12.0f families/s  (%lld changed)\n",
                rate(*pass3), static_cast<long long>(pass3->changed));
    std::printf("  raw RocksDB iteration k/ + o/, no decoding           %12.0f families/s  (%.0f keys/s)\n",
                rate(*raw), 2 * rate(*raw));
    std::printf("  pass 2 / raw                                         %12.2f\n", rate(*pass2) / rate(*raw));
  }
  return 0;
}

}  // namespace jaring::bench
