#include "tools/synth/synth.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <queue>
#include <random>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/json_util.h"
#include "libs/base/status.h"
#include "libs/base/strings.h"
#include "libs/events/envelope.h"
#include "nlohmann/json.hpp"
#include "tools/synth/csv.h"

namespace jaring::synth {

// ---------------------------------------------------------------------------
// Region table. Family counts are rough orders of magnitude (they only weight
// how a multi-region population is split); Kota Mataram's decile-1 share is
// the 22,000 of about 130,000 family cards from the news (domain.md).

const std::vector<RegionInfo>& KnownRegions() {
  static const std::vector<RegionInfo>* regions = new std::vector<RegionInfo>{
      {"52.71", "Kota Mataram", 6, 9, 130000, {.169, .13, .12, .11, .10, .09, .08, .075, .065, .061}},
      {"52.03", "Lombok Timur", 21, 12, 400000, {.22, .16, .13, .11, .09, .08, .07, .06, .05, .03}},
      {"35.10", "Banyuwangi", 25, 9, 550000, {.09, .10, .11, .11, .11, .10, .10, .10, .09, .09}},
      {"35.76", "Kota Mojokerto", 3, 6, 40000, {.05, .07, .08, .09, .10, .11, .12, .12, .13, .13}},
      {"35.73", "Kota Malang", 5, 12, 280000, {.05, .07, .08, .09, .10, .11, .12, .12, .13, .13}},
      {"35.78", "Kota Surabaya", 31, 5, 950000, {.05, .07, .08, .09, .10, .11, .12, .12, .13, .13}},
      {"81.71", "Kota Ambon", 5, 10, 95000, {.12, .11, .11, .10, .10, .10, .09, .09, .09, .09}},
  };
  return *regions;
}

const RegionInfo* FindRegion(std::string_view code) {
  for (const RegionInfo& r : KnownRegions()) {
    if (r.code == code) return &r;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------
// Commands as JSON lines.

std::string_view RpcName(const SynthCommand& command) {
  struct V {
    std::string_view operator()(const v1::RecordBirthRequest&) { return "RecordBirth"; }
    std::string_view operator()(const v1::RecordDeathRequest&) { return "RecordDeath"; }
    std::string_view operator()(const v1::MoveMemberRequest&) { return "MoveMember"; }
    std::string_view operator()(const v1::SplitFamilyRequest&) { return "SplitFamily"; }
    std::string_view operator()(const v1::ChangeHeadRequest&) { return "ChangeHead"; }
    std::string_view operator()(const v1::RecordWelfareAssessmentRequest&) { return "RecordWelfareAssessment"; }
    std::string_view operator()(const v1::ChangeMemberAttributesRequest&) { return "ChangeMemberAttributes"; }
    std::string_view operator()(const v1::CorrectRecordRequest&) { return "CorrectRecord"; }
  };
  return std::visit(V{}, command);
}

const v1::CommandContext& ContextOf(const SynthCommand& command) {
  return std::visit([](const auto& r) -> const v1::CommandContext& { return r.context(); }, command);
}

std::string CommandToJsonLine(const SynthCommand& command) {
  std::string json;
  google::protobuf::util::JsonPrintOptions opts;
  std::visit([&](const auto& r) { (void)google::protobuf::util::MessageToJsonString(r, &json, opts); }, command);
  return absl::StrCat("{\"rpc\":\"", Av(RpcName(command)), "\",\"request\":", json, "}");
}

namespace {
template <typename T>
absl::StatusOr<SynthCommand> ParseAs(const std::string& json) {
  T msg;
  auto st = google::protobuf::util::JsonStringToMessage(json, &msg);
  if (!st.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("request: ", st.ToString()));
  }
  return SynthCommand(std::move(msg));
}
}  // namespace

absl::StatusOr<SynthCommand> CommandFromJsonLine(std::string_view line) {
  nlohmann::json j = nlohmann::json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return absl::InvalidArgumentError("not a JSON object");
  if (!j.contains("rpc") || !j["rpc"].is_string()) return absl::InvalidArgumentError("missing \"rpc\"");
  if (!j.contains("request") || !j["request"].is_object()) {
    return absl::InvalidArgumentError("missing \"request\" object");
  }
  std::string rpc = j["rpc"].get<std::string>();
  std::string req = j["request"].dump();
  if (rpc == "RecordBirth") return ParseAs<v1::RecordBirthRequest>(req);
  if (rpc == "RecordDeath") return ParseAs<v1::RecordDeathRequest>(req);
  if (rpc == "MoveMember") return ParseAs<v1::MoveMemberRequest>(req);
  if (rpc == "SplitFamily") return ParseAs<v1::SplitFamilyRequest>(req);
  if (rpc == "ChangeHead") return ParseAs<v1::ChangeHeadRequest>(req);
  if (rpc == "RecordWelfareAssessment") return ParseAs<v1::RecordWelfareAssessmentRequest>(req);
  if (rpc == "ChangeMemberAttributes") return ParseAs<v1::ChangeMemberAttributesRequest>(req);
  if (rpc == "CorrectRecord") return ParseAs<v1::CorrectRecordRequest>(req);
  return absl::InvalidArgumentError(absl::StrCat("unknown rpc \"", rpc, "\""));
}

std::string GroundTruthToJsonLine(const GroundTruthEntry& entry) {
  nlohmann::json j;
  j["kind"] = v1::OverlapKind_Name(entry.kind);
  j["kk_numbers"] = entry.kk_numbers;
  if (!entry.nik.empty()) j["nik"] = entry.nik;
  return j.dump();
}

// ---------------------------------------------------------------------------
// The generator.

namespace {

constexpr absl::Duration kReportLag = absl::Hours(48);
constexpr double kMaxHazard = 0.15;
constexpr int kSizeNorm = 12;

const absl::CivilDay kEpoch(1970, 1, 1);
int32_t DayNum(absl::CivilDay d) { return static_cast<int32_t>(d - kEpoch); }
absl::CivilDay DayOf(int32_t n) { return kEpoch + n; }

uint64_t Mix(uint64_t x) {  // splitmix64 finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Portable random helpers over mt19937_64 (whose output the standard fixes),
// so a seed gives the same population with any standard library.
class Rng {
 public:
  explicit Rng(uint64_t seed) : g_(seed) {}
  double U01() { return static_cast<double>(g_() >> 11) * 0x1.0p-53; }
  int64_t Uniform(int64_t n) { return n <= 1 ? 0 : std::min<int64_t>(n - 1, static_cast<int64_t>(U01() * n)); }
  int64_t Range(int64_t lo, int64_t hi) { return lo + Uniform(hi - lo + 1); }
  bool Bernoulli(double p) { return U01() < p; }
  double Normal() {
    double u1 = std::max(U01(), 1e-300), u2 = U01();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }
  int64_t Poisson(double mean) {
    if (mean <= 0) return 0;
    if (mean < 30) {
      double limit = std::exp(-mean), p = 1.0;
      int64_t k = 0;
      do {
        ++k;
        p *= U01();
      } while (p > limit);
      return k - 1;
    }
    return std::max<int64_t>(0, std::llround(mean + std::sqrt(mean) * Normal()));
  }
  template <size_t N>
  int Pick(const double (&weights)[N]) {
    double u = U01(), acc = 0;
    for (size_t i = 0; i < N; ++i) {
      acc += weights[i];
      if (u < acc) return static_cast<int>(i);
    }
    return static_cast<int>(N - 1);
  }

 private:
  std::mt19937_64 g_;
};

constexpr const char* kMaleNames[] = {
    "Ahmad", "Muhammad", "Budi", "Agus", "Joko", "Made", "Wayan", "Lalu", "Hendra", "Rudi", "Slamet",
    "Bambang", "Eko", "Dedi", "Arif", "Rizky", "Fajar", "Yusuf", "Hasan", "Imam", "Andi", "Teguh",
    "Wahyu", "Dimas", "Bayu", "Gede", "Putu", "Nyoman", "Ketut", "Samsul", "Ma'ruf", "Zainal"};
constexpr const char* kFemaleNames[] = {
    "Siti", "Nur", "Sri", "Dewi", "Ni Made", "Baiq", "Rina", "Wati", "Ayu", "Fitri", "Indah",
    "Lestari", "Putri", "Yuliani", "Aisyah", "Fatimah", "Nurul", "Dian", "Ratna", "Sari", "Endang",
    "Kartini", "Maya", "Aminah", "Zahra", "Nabila", "Anisa", "Rahma", "Yanti", "Suryani"};
constexpr const char* kFamilyNames[] = {
    "Hidayat", "Saputra", "Wijaya", "Pratama", "Setiawan", "Kurniawan", "Santoso", "Rahman",
    "Hakim", "Nugroho", "Syahputra", "Susanti", "Handayani", "Rahayu", "Wulandari", "Maharani",
    "Hamzah", "Ismail", "Sulaiman", "Purnomo", "Hartono", "Latuconsina", "Pattimura", "Tuasikal"};
constexpr const char* kStreets[] = {
    "Pejanggik", "Sriwijaya", "Majapahit", "Diponegoro", "Sudirman", "Ahmad Yani", "Gajah Mada",
    "Pahlawan", "Merdeka", "Kartini", "Veteran", "Mawar", "Melati", "Kenanga", "Cempaka", "Anggrek"};

template <size_t N>
const char* Choose(const char* const (&list)[N], uint64_t h) {
  return list[h % N];
}

std::string Digits(uint64_t v, int width) { return absl::StrFormat("%0*d", width, v); }

v1::Date ToDate(absl::CivilDay d) {
  v1::Date out;
  out.set_year(static_cast<int32_t>(d.year()));
  out.set_month(d.month());
  out.set_day(d.day());
  return out;
}

int AgeAt(int32_t birth, absl::CivilDay day) {
  absl::CivilDay b = DayOf(birth);
  int age = static_cast<int>(day.year() - b.year());
  if (day.month() < b.month() || (day.month() == b.month() && day.day() < b.day())) --age;
  return age;
}

double Hazard(int age) {
  if (age < 1) return 0.02;
  if (age < 5) return 0.002;
  if (age < 40) return 0.0015;
  if (age < 60) return 0.006;
  if (age < 70) return 0.02;
  if (age < 80) return 0.05;
  return kMaxHazard;
}

std::string RoundName(absl::CivilDay d) {
  return absl::StrCat(d.year(), "-Q", (d.month() - 1) / 3 + 1);
}

}  // namespace

class Generator::Impl {
 public:
  struct Person {
    uint64_t nik = 0;
    uint64_t mother_nik = 0;
    int32_t birth = 0;  // DayNum
    uint8_t sex = v1::SEX_MALE;
    uint8_t rel = v1::RELATIONSHIP_HEAD;
    uint8_t disability = v1::DISABILITY_NONE;
    uint8_t school = v1::SCHOOL_LEVEL_NONE;
    uint8_t pregnancy_order = 0;
    bool enrolled = false;
    bool pregnant = false;
    bool alive = true;
  };
  enum State : uint8_t { kNormal = 0, kFrozen = 1, kAwaitingHead = 2 };
  struct Family {
    uint64_t kk = 0;
    uint32_t village = 0;
    uint8_t decile = 5;
    uint8_t state = kNormal;
    std::vector<Person> members;
  };
  struct Village {
    uint32_t region6;     // PPRRDD
    uint16_t code;        // VVVV
    uint16_t region;      // index into regions_
    uint32_t district_first;  // first village index of its district
    uint32_t district_count;  // villages in its district
  };
  enum class Action : uint8_t { kBirth, kHeadChange, kPlantedHeadDeath };
  struct Scheduled {
    Action action;
    uint32_t family;
    uint64_t nik;
  };
  struct Late {
    absl::Time recorded;
    uint64_t seq;
    v1::RecordDeathRequest request;
    bool operator>(const Late& o) const {
      return recorded != o.recorded ? recorded > o.recorded : seq > o.seq;
    }
  };

  explicit Impl(const SynthOptions& o)
      : opt_(o), reg_rng_(Mix(o.seed) ^ 0x5245474953545259ULL), life_rng_(Mix(o.seed) ^ 0x4c494645ULL) {}

  absl::Status Init();
  absl::Status Registry(const std::function<absl::Status(const v1::RegisterFamilyRequest&)>& sink);
  absl::Status Life(const std::function<absl::Status(const SynthCommand&)>& sink);

  std::vector<GroundTruthEntry> ground_truth_;
  SynthStats stats_;
  absl::CivilDay start_day_;
  absl::CivilDay end_day_;

 private:
  // --- identifiers
  uint64_t NikPrefix(uint32_t region6, int32_t birth, uint8_t sex) const {
    absl::CivilDay b = DayOf(birth);
    uint64_t dd = b.day() + (sex == v1::SEX_FEMALE ? 40 : 0);
    uint64_t ddmmyy = dd * 10000 + b.month() * 100 + static_cast<uint64_t>(b.year() % 100);
    return static_cast<uint64_t>(region6) * 1000000 + ddmmyy;
  }
  // Assigns a unique NIK; moves the birth date a day later in the (never
  // seen) case that a (district, date, sex) runs out of serials.
  void AssignNik(Person& p, uint32_t region6) {
    for (;;) {
      uint64_t prefix = NikPrefix(region6, p.birth, p.sex);
      uint16_t& n = nik_serials_[prefix];
      if (n < 9999) {
        ++n;
        p.nik = prefix * 10000 + n;
        return;
      }
      ++p.birth;
    }
  }
  uint64_t NewKk(uint32_t region6, absl::CivilDay registered) {
    for (;;) {
      uint64_t ddmmyy = static_cast<uint64_t>(registered.day()) * 10000 + registered.month() * 100 +
                        static_cast<uint64_t>(registered.year() % 100);
      uint64_t prefix = static_cast<uint64_t>(region6) * 1000000 + ddmmyy;
      uint16_t& n = kk_serials_[prefix];
      if (n < 9999) {
        ++n;
        return prefix * 10000 + n;
      }
      registered -= 1;
    }
  }
  std::string RegionCode(uint32_t village) const {
    const Village& v = villages_[village];
    return absl::StrFormat("%02d.%02d.%02d.%04d", v.region6 / 10000, v.region6 / 100 % 100, v.region6 % 100,
                           v.code);
  }
  std::string Name(const Person& p) const {
    uint64_t h = Mix(p.nik ^ Mix(opt_.seed));
    const char* first = p.sex == v1::SEX_FEMALE ? Choose(kFemaleNames, h) : Choose(kMaleNames, h);
    if ((h >> 20) % 4 == 0) return first;
    return absl::StrCat(first, " ", Choose(kFamilyNames, h >> 32));
  }
  std::string Address(uint64_t kk) const {
    uint64_t h = Mix(kk ^ Mix(opt_.seed + 1));
    return absl::StrFormat("Jl. %s No. %d, RT %03d/RW %03d", Choose(kStreets, h), 1 + (h >> 8) % 199,
                           1 + (h >> 20) % 12, 1 + (h >> 28) % 8);
  }
  v1::Member ToMember(const Person& p) const {
    v1::Member m;
    m.set_nik(Digits(p.nik, 16));
    m.set_full_name(Name(p));
    m.set_sex(static_cast<v1::Sex>(p.sex));
    *m.mutable_birth_date() = ToDate(DayOf(p.birth));
    m.set_relationship(static_cast<v1::Relationship>(p.rel));
    if (p.mother_nik != 0) m.set_mother_nik(Digits(p.mother_nik, 16));
    v1::MemberAttributes* a = m.mutable_attributes();
    a->set_disability(static_cast<v1::Disability>(p.disability));
    a->set_school_level(static_cast<v1::SchoolLevel>(p.school));
    a->set_school_enrolled(p.enrolled);
    a->set_pregnant(p.pregnant);
    if (p.pregnant) a->set_pregnancy_order(p.pregnancy_order);
    return m;
  }
  int ChildrenOf(const Family& f, uint64_t nik) const {
    int n = 0;
    for (const Person& p : f.members) n += p.mother_nik == nik;
    return n;
  }
  static int HeadIndex(const Family& f) {
    for (size_t i = 0; i < f.members.size(); ++i) {
      if (f.members[i].rel == v1::RELATIONSHIP_HEAD) return static_cast<int>(i);
    }
    return -1;
  }

  // --- registry
  Family GenerateFamily(uint16_t region);
  Person NewPerson(uint8_t sex, int age, uint8_t rel, uint32_t region6);
  void InitialAttributes(Person& p);
  v1::RegisterFamilyRequest ToRequest(const Family& f, absl::CivilDay registered) const;

  // --- life
  v1::CommandContext Context(v1::Source source);
  absl::Status Emit(SynthCommand cmd);
  absl::Status FlushLate(absl::Time up_to);
  absl::Status Assess(bool first, const std::string& round);
  absl::Status SchoolYear();
  absl::Status RunScheduled(const Scheduled& s);
  absl::Status TryPregnancy();
  absl::Status TryDeath();
  absl::Status TryMove(bool marriage);
  absl::Status TrySplit();
  absl::Status TryDisability();
  absl::Status Birth(uint32_t fi, uint64_t mother_nik);
  absl::Status Death(uint32_t fi, size_t mi, bool allow_late, bool planted);
  void Schedule(absl::CivilDay day, Scheduled s) {
    int64_t idx = day - first_day_;
    if (idx < 0 || day > last_day_) return;
    if (static_cast<size_t>(idx) >= scheduled_.size()) scheduled_.resize(idx + 1);
    scheduled_[idx].push_back(s);
  }
  uint32_t RandomFamily() { return static_cast<uint32_t>(life_rng_.Uniform(static_cast<int64_t>(families_.size()))); }

  SynthOptions opt_;
  Rng reg_rng_;
  Rng life_rng_;
  std::vector<const RegionInfo*> regions_;
  std::vector<uint32_t> region_first_village_;
  std::vector<uint32_t> region_village_count_;
  std::vector<Village> villages_;
  std::vector<Family> families_;
  absl::flat_hash_map<uint64_t, uint16_t> nik_serials_;
  absl::flat_hash_map<uint64_t, uint16_t> kk_serials_;
  // Planted anomalies by registry index.
  absl::flat_hash_set<int64_t> dup_sources_;
  absl::flat_hash_map<int64_t, int64_t> nik_pair_by_second_;  // j -> i
  std::vector<int64_t> dead_heads_;
  std::vector<std::pair<uint32_t, uint64_t>> registry_pregnant_;  // (family, nik)
  int64_t living_ = 0;

  // Life.
  std::function<absl::Status(const SynthCommand&)> sink_;
  absl::CivilDay first_day_;
  absl::CivilDay last_day_;
  absl::CivilDay day_;
  absl::Time end_time_;
  int64_t seq_in_day_ = 0;
  uint64_t index_ = 0;
  std::vector<std::vector<Scheduled>> scheduled_;
  std::priority_queue<Late, std::vector<Late>, std::greater<Late>> late_;
  std::string last_round_;
  bool life_ran_ = false;
  bool registry_ran_ = false;
};

absl::Status Generator::Impl::Init() {
  if (opt_.regions.empty()) return absl::InvalidArgumentError("regions: at least one is required");
  if (opt_.families < 1) return absl::InvalidArgumentError("families: must be at least 1");
  if (opt_.months < 0) return absl::InvalidArgumentError("months: must not be negative");
  if (opt_.anomalies < 0) return absl::InvalidArgumentError("anomalies: must not be negative");
  for (const std::string& code : opt_.regions) {
    const RegionInfo* r = FindRegion(code);
    if (r == nullptr) {
      std::string known;
      for (const RegionInfo& k : KnownRegions()) absl::StrAppend(&known, known.empty() ? "" : ", ", Av(k.code));
      return absl::InvalidArgumentError(
          absl::StrCat("regions: unknown region \"", code, "\" (known: ", known, ")"));
    }
    if (std::find(regions_.begin(), regions_.end(), r) != regions_.end()) {
      return absl::InvalidArgumentError(absl::StrCat("regions: \"", code, "\" is listed twice"));
    }
    regions_.push_back(r);
  }
  start_day_ = WibDay(opt_.start);
  end_day_ = absl::CivilDay(start_day_.year(), start_day_.month() + opt_.months, start_day_.day());
  end_time_ = DayStart(end_day_);
  if (end_time_ > opt_.now) {
    return absl::InvalidArgumentError(absl::StrCat(
        "start: the simulated period ", absl::FormatCivilTime(start_day_), " + ", opt_.months,
        " months ends on ", absl::FormatCivilTime(end_day_), ", after now (",
        absl::FormatCivilTime(WibDay(opt_.now)), "); choose an earlier start or fewer months"));
  }
  int n_a = (opt_.anomalies + 2) / 3, n_b = (opt_.anomalies + 1) / 3, n_c = opt_.anomalies / 3;
  if ((n_a + 2 * n_b + n_c) * 2 > opt_.families) {
    return absl::InvalidArgumentError(
        absl::StrCat("anomalies: ", opt_.anomalies, " anomalies need at least ", (n_a + 2 * n_b + n_c) * 2,
                     " families"));
  }
  // Villages.
  for (size_t ri = 0; ri < regions_.size(); ++ri) {
    const RegionInfo& r = *regions_[ri];
    int pp = (r.code[0] - '0') * 10 + (r.code[1] - '0');
    int rr = (r.code[3] - '0') * 10 + (r.code[4] - '0');
    bool city = rr >= 71;
    region_first_village_.push_back(static_cast<uint32_t>(villages_.size()));
    for (int d = 1; d <= r.districts; ++d) {
      uint32_t first = static_cast<uint32_t>(villages_.size());
      for (int v = 1; v <= r.villages_per_district; ++v) {
        villages_.push_back(Village{static_cast<uint32_t>(pp * 10000 + rr * 100 + d),
                                    static_cast<uint16_t>((city ? 1000 : 2000) + v), static_cast<uint16_t>(ri),
                                    first, static_cast<uint32_t>(r.villages_per_district)});
      }
    }
    region_village_count_.push_back(static_cast<uint32_t>(r.districts * r.villages_per_district));
  }
  // Planted anomalies: distinct registry indices.
  absl::flat_hash_set<int64_t> used;
  auto pick = [&]() {
    for (;;) {
      int64_t i = reg_rng_.Uniform(opt_.families);
      if (used.insert(i).second) return i;
    }
  };
  for (int k = 0; k < opt_.anomalies; ++k) {
    switch (k % 3) {
      case 0:
        dup_sources_.insert(pick());
        break;
      case 1: {
        int64_t i = pick(), j = pick();
        if (i > j) std::swap(i, j);
        nik_pair_by_second_[j] = i;
        break;
      }
      case 2:
        dead_heads_.push_back(pick());
        break;
    }
  }
  return absl::OkStatus();
}

Generator::Impl::Person Generator::Impl::NewPerson(uint8_t sex, int age, uint8_t rel, uint32_t region6) {
  Person p;
  p.sex = sex;
  p.rel = rel;
  // A birthday uniformly within the year of age, so the age on start_day_ is `age`.
  absl::CivilDay latest = absl::CivilDay(start_day_.year() - age, start_day_.month(), start_day_.day());
  int64_t back = reg_rng_.Range(0, 364);
  absl::CivilDay b = latest - back;
  if (b > start_day_ - 1) b = start_day_ - 1;
  p.birth = DayNum(b);
  AssignNik(p, region6);
  return p;
}

void Generator::Impl::InitialAttributes(Person& p) {
  int age = AgeAt(p.birth, start_day_);
  double u = reg_rng_.U01();
  p.disability = u < 0.02 ? v1::DISABILITY_SEVERE : u < 0.05 ? v1::DISABILITY_MILD : v1::DISABILITY_NONE;
  p.school = v1::SCHOOL_LEVEL_NONE;
  p.enrolled = false;
  if (age >= 3 && age <= 5) {
    if (reg_rng_.Bernoulli(0.4)) {
      p.school = v1::SCHOOL_LEVEL_EARLY_CHILDHOOD;
      p.enrolled = true;
    }
  } else if (age >= 6 && age <= 18) {
    p.school = age <= 12 ? v1::SCHOOL_LEVEL_PRIMARY
               : age <= 15 ? v1::SCHOOL_LEVEL_JUNIOR_SECONDARY
                           : v1::SCHOOL_LEVEL_SENIOR_SECONDARY;
    p.enrolled = reg_rng_.Bernoulli(0.9);
  } else if (age >= 19 && age <= 22 && reg_rng_.Bernoulli(0.2)) {
    p.school = v1::SCHOOL_LEVEL_HIGHER;
    p.enrolled = true;
  }
}

Generator::Impl::Family Generator::Impl::GenerateFamily(uint16_t region) {
  Rng& rng = reg_rng_;
  Family f;
  f.village = region_first_village_[region] + static_cast<uint32_t>(rng.Uniform(region_village_count_[region]));
  uint32_t r6 = villages_[f.village].region6;
  f.decile = static_cast<uint8_t>(1 + rng.Pick(regions_[region]->deciles));
  static constexpr double kSizes[8] = {.08, .15, .22, .24, .15, .08, .05, .03};
  int size = 1 + rng.Pick(kSizes);
  constexpr uint8_t M = v1::SEX_MALE, F = v1::SEX_FEMALE;
  auto& mem = f.members;

  if (size == 1) {
    bool elderly = rng.Bernoulli(0.4);
    uint8_t sex = elderly ? (rng.Bernoulli(0.7) ? F : M) : (rng.Bernoulli(0.6) ? M : F);
    mem.push_back(NewPerson(sex, elderly ? static_cast<int>(rng.Range(55, 88)) : static_cast<int>(rng.Range(20, 40)),
                            v1::RELATIONSHIP_HEAD, r6));
  } else {
    static constexpr double kHeadAge[4] = {.35, .40, .18, .07};
    static constexpr int kLo[4] = {22, 36, 51, 66}, kHi[4] = {35, 50, 65, 80};
    int band = rng.Pick(kHeadAge);
    int head_age = static_cast<int>(rng.Range(kLo[band], kHi[band]));
    bool married = rng.Bernoulli(0.88);
    uint8_t head_sex = married ? (rng.Bernoulli(0.97) ? M : F) : (rng.Bernoulli(0.7) ? F : M);
    mem.push_back(NewPerson(head_sex, head_age, v1::RELATIONSHIP_HEAD, r6));
    int mother = head_sex == F ? 0 : -1;
    int mother_age = head_sex == F ? head_age : 0;
    int parent_age = head_age;
    if (married) {
      int spouse_age = head_sex == M ? std::max(18, head_age - static_cast<int>(rng.Range(0, 8)))
                                     : head_age + static_cast<int>(rng.Range(0, 6));
      mem.push_back(NewPerson(head_sex == M ? F : M, spouse_age, v1::RELATIONSHIP_SPOUSE, r6));
      if (head_sex == M) {
        mother = 1;
        mother_age = spouse_age;
      }
    }
    if (mother >= 0) parent_age = mother_age;
    int remaining = size - static_cast<int>(mem.size());
    if (remaining >= 1 && head_age + 20 <= 95 && rng.Bernoulli(0.12)) {
      int age = std::min(95, head_age + static_cast<int>(rng.Range(20, 32)));
      bool inlaw = married && rng.Bernoulli(0.4);
      mem.push_back(NewPerson(rng.Bernoulli(0.65) ? F : M, age,
                              inlaw ? v1::RELATIONSHIP_PARENT_IN_LAW : v1::RELATIONSHIP_PARENT, r6));
      --remaining;
    }
    // A married child living with the parents, with grandchildren.
    if (remaining >= 2 && parent_age >= 45 && rng.Bernoulli(0.25)) {
      int child_age = static_cast<int>(rng.Range(20, std::min(30, parent_age - 17)));
      uint8_t child_sex = rng.Bernoulli(0.5) ? M : F;
      Person child = NewPerson(child_sex, child_age, v1::RELATIONSHIP_CHILD, r6);
      if (mother >= 0) child.mother_nik = mem[mother].nik;
      int inlaw_age = std::max(18, child_age + static_cast<int>(rng.Range(-3, 3)));
      Person inlaw = NewPerson(child_sex == M ? F : M, inlaw_age, v1::RELATIONSHIP_CHILD_IN_LAW, r6);
      mem.push_back(child);
      mem.push_back(inlaw);
      remaining -= 2;
      const Person& gm = child_sex == F ? mem[mem.size() - 2] : mem.back();
      uint64_t gm_nik = gm.nik;
      int gm_age = AgeAt(gm.birth, start_day_);
      int grandkids = std::min<int>(remaining, static_cast<int>(rng.Range(0, 2)));
      for (int g = 0; g < grandkids && gm_age - 17 >= 0; ++g) {
        Person c = NewPerson(rng.Bernoulli(0.5) ? M : F, static_cast<int>(rng.Range(0, std::min(10, gm_age - 17))),
                             v1::RELATIONSHIP_GRANDCHILD, r6);
        c.mother_nik = gm_nik;
        mem.push_back(c);
        --remaining;
      }
    }
    // Children of the head: the mother was 17-45 at each birth.
    int lo = std::max(0, parent_age - 45), hi = parent_age - 17;
    for (int k = 0; k < remaining && hi >= lo; ++k) {
      // Young children are more common than grown ones (the pyramid).
      int age = static_cast<int>(lo + std::floor(std::pow(rng.U01(), 1.6) * (hi - lo + 1)));
      age = std::min(age, hi);
      Person c = NewPerson(rng.Bernoulli(0.51) ? M : F, age, v1::RELATIONSHIP_CHILD, r6);
      if (mother >= 0) c.mother_nik = mem[mother].nik;
      mem.push_back(c);
    }
  }
  for (Person& p : mem) {
    InitialAttributes(p);
    int age = AgeAt(p.birth, start_day_);
    if (p.sex == v1::SEX_FEMALE && age >= 17 && age <= 45 &&
        (p.rel == v1::RELATIONSHIP_HEAD || p.rel == v1::RELATIONSHIP_SPOUSE ||
         p.rel == v1::RELATIONSHIP_CHILD_IN_LAW || (p.rel == v1::RELATIONSHIP_CHILD && ChildrenOf(f, p.nik) > 0))) {
      int kids = ChildrenOf(f, p.nik);
      if (kids < 3 && rng.Bernoulli(0.07)) {
        p.pregnant = true;
        p.pregnancy_order = static_cast<uint8_t>(kids + 1);
      }
    }
  }
  living_ += static_cast<int64_t>(mem.size());
  return f;
}

v1::RegisterFamilyRequest Generator::Impl::ToRequest(const Family& f, absl::CivilDay registered) const {
  v1::RegisterFamilyRequest req;
  v1::CommandContext* ctx = req.mutable_context();
  *ctx->mutable_occurred_at() = events::ToProtoTime(DayStart(registered));
  *ctx->mutable_recorded_at() = events::ToProtoTime(DayStart(start_day_));
  ctx->set_source(v1::SOURCE_DUKCAPIL);
  ctx->set_actor("synth");
  v1::FamilyRegistered* fr = req.mutable_family();
  fr->set_kk_number(Digits(f.kk, 16));
  fr->set_region_code(RegionCode(f.village));
  fr->set_address(Address(f.kk));
  for (const Person& p : f.members) {
    *fr->add_members() = ToMember(p);
    if (p.rel == v1::RELATIONSHIP_HEAD) fr->set_head_nik(Digits(p.nik, 16));
  }
  StampImportRequestId(req);
  return req;
}

absl::Status Generator::Impl::Registry(
    const std::function<absl::Status(const v1::RegisterFamilyRequest&)>& sink) {
  if (registry_ran_) return absl::FailedPreconditionError("Registry() may be called only once");
  registry_ran_ = true;
  // Families per region, proportional to the regions' sizes.
  double total_w = 0;
  for (const RegionInfo* r : regions_) total_w += static_cast<double>(r->families);
  std::vector<int64_t> counts;
  int64_t assigned = 0;
  for (const RegionInfo* r : regions_) {
    counts.push_back(static_cast<int64_t>(std::floor(opt_.families * (r->families / total_w))));
    assigned += counts.back();
  }
  for (size_t i = 0; assigned < opt_.families; i = (i + 1) % counts.size(), ++assigned) ++counts[i];

  families_.reserve(static_cast<size_t>(opt_.families + opt_.anomalies + 16));
  absl::CivilDay reg_lo(2005, 1, 1), reg_hi = start_day_ - 30;
  auto random_reg_day = [&](absl::CivilDay lo) { return lo + reg_rng_.Uniform(std::max<int64_t>(1, reg_hi - lo + 1)); };
  int64_t index = 0;
  for (size_t ri = 0; ri < regions_.size(); ++ri) {
    for (int64_t k = 0; k < counts[ri]; ++k, ++index) {
      Family f = GenerateFamily(static_cast<uint16_t>(ri));
      absl::CivilDay registered = random_reg_day(reg_lo);
      f.kk = NewKk(villages_[f.village].region6, registered);
      uint32_t fi = static_cast<uint32_t>(families_.size());
      auto pair = nik_pair_by_second_.find(index);
      if (pair != nik_pair_by_second_.end()) {
        // One person listed in two families: a member of the earlier family
        // appears again here as an extra relative.
        Family& earlier = families_[pair->second];
        const Person* src = &earlier.members[0];
        for (const Person& p : earlier.members) {
          if (p.rel != v1::RELATIONSHIP_HEAD) {
            src = &p;
            break;
          }
        }
        Person copy = *src;
        copy.rel = v1::RELATIONSHIP_OTHER_RELATIVE;
        copy.pregnant = false;
        copy.pregnancy_order = 0;
        f.members.push_back(copy);
        f.state = kFrozen;
        earlier.state = kFrozen;
        GroundTruthEntry gt{v1::OVERLAP_KIND_NIK_IN_TWO_FAMILIES,
                            {Digits(earlier.kk, 16), Digits(f.kk, 16)}, Digits(copy.nik, 16)};
        std::sort(gt.kk_numbers.begin(), gt.kk_numbers.end());
        ground_truth_.push_back(std::move(gt));
      }
      if (dup_sources_.contains(index) || nik_pair_by_second_.contains(index)) f.state = kFrozen;
      for (auto& [j, i] : nik_pair_by_second_) {
        if (i == index) f.state = kFrozen;
      }
      if (std::find(dead_heads_.begin(), dead_heads_.end(), index) != dead_heads_.end()) f.state = kFrozen;
      if (f.state == kNormal) {
        for (const Person& p : f.members) {
          if (p.pregnant) registry_pregnant_.push_back({fi, p.nik});
        }
      }
      v1::RegisterFamilyRequest req = ToRequest(f, registered);
      families_.push_back(std::move(f));
      ++stats_.families_registered;
      stats_.members_registered += req.family().members_size();
      JARING_RETURN_IF_ERROR(sink(req));
    }
  }
  // Planted: the same family registered again in another region of the set
  // (another district when the set has one region).
  std::vector<int64_t> sources(dup_sources_.begin(), dup_sources_.end());
  std::sort(sources.begin(), sources.end());
  for (int64_t s : sources) {
    Family copy = families_[s];
    const Village& from = villages_[copy.village];
    uint32_t village = 0;
    if (regions_.size() > 1) {
      uint16_t other = static_cast<uint16_t>(reg_rng_.Uniform(static_cast<int64_t>(regions_.size()) - 1));
      if (other >= from.region) ++other;
      village = region_first_village_[other] + static_cast<uint32_t>(reg_rng_.Uniform(region_village_count_[other]));
    } else {
      // Another district of the same regency if there is one, else another village.
      uint32_t first = region_first_village_[from.region], n = region_village_count_[from.region];
      for (int tries = 0; tries < 64; ++tries) {
        village = first + static_cast<uint32_t>(reg_rng_.Uniform(n));
        if (villages_[village].region6 != from.region6) break;
      }
      if (villages_[village].region6 == from.region6) {
        village = from.district_first + (copy.village - from.district_first + 1) % from.district_count;
      }
    }
    copy.village = village;
    absl::CivilDay registered = random_reg_day(start_day_ - 700);
    copy.kk = NewKk(villages_[village].region6, registered);
    copy.state = kFrozen;
    GroundTruthEntry gt{v1::OVERLAP_KIND_FAMILY_IN_TWO_REGIONS,
                        {Digits(families_[s].kk, 16), Digits(copy.kk, 16)}, ""};
    std::sort(gt.kk_numbers.begin(), gt.kk_numbers.end());
    ground_truth_.push_back(std::move(gt));
    v1::RegisterFamilyRequest req = ToRequest(copy, registered);
    families_.push_back(std::move(copy));
    ++stats_.families_registered;
    stats_.members_registered += req.family().members_size();
    JARING_RETURN_IF_ERROR(sink(req));
  }
  // Planted dead heads: known now, happen in Life().
  first_day_ = start_day_ + 1;
  last_day_ = end_day_ - 3;
  if (last_day_ < first_day_ + 2) {
    dead_heads_.clear();  // no life period to plant them in
  }
  for (int64_t i : dead_heads_) {
    const Family& f = families_[i];
    int h = HeadIndex(f);
    ground_truth_.push_back({v1::OVERLAP_KIND_DEAD_HEAD, {Digits(f.kk, 16)}, Digits(f.members[h].nik, 16)});
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Life.

v1::CommandContext Generator::Impl::Context(v1::Source source) {
  v1::CommandContext ctx;
  ctx.set_request_id(events::DeterministicId("synth", {absl::StrCat(opt_.seed), absl::StrCat(index_++)}));
  absl::Time occurred = DayStart(day_) + absl::Hours(8) + absl::Seconds(std::min<int64_t>(seq_in_day_++, 9 * 3600));
  absl::Time recorded = std::min(occurred + kReportLag, end_time_ - absl::Seconds(1));
  *ctx.mutable_occurred_at() = events::ToProtoTime(occurred);
  *ctx.mutable_recorded_at() = events::ToProtoTime(recorded);
  ctx.set_source(source);
  ctx.set_actor("synth");
  return ctx;
}

absl::Status Generator::Impl::FlushLate(absl::Time up_to) {
  while (!late_.empty() && late_.top().recorded <= up_to) {
    SynthCommand cmd(late_.top().request);
    late_.pop();
    ++stats_.commands;
    JARING_RETURN_IF_ERROR(sink_(cmd));
  }
  return absl::OkStatus();
}

absl::Status Generator::Impl::Emit(SynthCommand cmd) {
  JARING_RETURN_IF_ERROR(FlushLate(events::FromProtoTime(ContextOf(cmd).recorded_at())));
  ++stats_.commands;
  return sink_(cmd);
}

absl::Status Generator::Impl::Assess(bool first, const std::string& round) {
  for (Family& f : families_) {
    if (!first) {
      double u = life_rng_.U01();
      int d = f.decile;
      if (u < 0.135) {
        d -= 1;
      } else if (u < 0.27) {
        d += 1;
      } else if (u < 0.30) {
        int jump = static_cast<int>(life_rng_.Range(2, 5));
        d += life_rng_.Bernoulli(0.5) ? jump : -jump;
      }
      f.decile = static_cast<uint8_t>(std::clamp(d, 1, 10));
    }
    v1::RecordWelfareAssessmentRequest req;
    *req.mutable_context() = Context(v1::SOURCE_BPS_DTSEN);
    req.set_kk_number(Digits(f.kk, 16));
    v1::WelfareAssessed* a = req.mutable_assessment();
    a->set_round(round);
    a->set_decile(f.decile);
    a->set_pmt_score_micros((f.decile - 1) * int64_t{10'000'000} + life_rng_.Uniform(10'000'000));
    ++stats_.assessments;
    JARING_RETURN_IF_ERROR(Emit(std::move(req)));
  }
  return absl::OkStatus();
}

absl::Status Generator::Impl::SchoolYear() {
  for (Family& f : families_) {
    if (f.state == kFrozen) continue;
    for (Person& p : f.members) {
      if (!p.alive) continue;
      int age = AgeAt(p.birth, day_);
      uint8_t level = p.school;
      bool enrolled = p.enrolled;
      auto next = [&](uint8_t target) {
        if (p.school == target) return;
        enrolled = p.enrolled || p.school == v1::SCHOOL_LEVEL_NONE || p.school == v1::SCHOOL_LEVEL_EARLY_CHILDHOOD
                       ? life_rng_.Bernoulli(0.93)
                       : life_rng_.Bernoulli(0.3);
        level = target;
      };
      if (age >= 6 && age <= 12) {
        next(v1::SCHOOL_LEVEL_PRIMARY);
      } else if (age >= 13 && age <= 15) {
        next(v1::SCHOOL_LEVEL_JUNIOR_SECONDARY);
      } else if (age >= 16 && age <= 18) {
        next(v1::SCHOOL_LEVEL_SENIOR_SECONDARY);
      } else if (age >= 19 && p.school == v1::SCHOOL_LEVEL_SENIOR_SECONDARY) {
        bool college = life_rng_.Bernoulli(0.2);
        level = college ? v1::SCHOOL_LEVEL_HIGHER : v1::SCHOOL_LEVEL_NONE;
        enrolled = college;
      } else if (age >= 23 && p.school == v1::SCHOOL_LEVEL_HIGHER) {
        level = v1::SCHOOL_LEVEL_NONE;
        enrolled = false;
      }
      if (level == p.school && enrolled == p.enrolled) continue;
      p.school = level;
      p.enrolled = enrolled;
      v1::ChangeMemberAttributesRequest req;
      *req.mutable_context() = Context(v1::SOURCE_DINSOS);
      req.set_kk_number(Digits(f.kk, 16));
      req.mutable_change()->set_nik(Digits(p.nik, 16));
      req.mutable_change()->mutable_attributes()->set_school_level(static_cast<v1::SchoolLevel>(level));
      req.mutable_change()->mutable_attributes()->set_school_enrolled(enrolled);
      ++stats_.attribute_changes;
      JARING_RETURN_IF_ERROR(Emit(std::move(req)));
    }
  }
  return absl::OkStatus();
}

absl::Status Generator::Impl::Birth(uint32_t fi, uint64_t mother_nik) {
  Family& f = families_[fi];
  if (f.state == kFrozen) return absl::OkStatus();
  Person* mother = nullptr;
  for (Person& p : f.members) {
    if (p.nik == mother_nik && p.alive && p.pregnant) mother = &p;
  }
  if (mother == nullptr) return absl::OkStatus();
  Person child;
  child.sex = life_rng_.Bernoulli(0.51) ? v1::SEX_MALE : v1::SEX_FEMALE;
  child.birth = DayNum(day_);
  AssignNik(child, villages_[f.village].region6);
  if (child.birth != DayNum(day_)) return absl::OkStatus();  // out of serials: never in practice
  child.mother_nik = mother_nik;
  child.rel = mother->rel == v1::RELATIONSHIP_HEAD || mother->rel == v1::RELATIONSHIP_SPOUSE
                  ? v1::RELATIONSHIP_CHILD
              : mother->rel == v1::RELATIONSHIP_CHILD || mother->rel == v1::RELATIONSHIP_CHILD_IN_LAW
                  ? v1::RELATIONSHIP_GRANDCHILD
                  : v1::RELATIONSHIP_OTHER_RELATIVE;
  mother->pregnant = false;
  v1::RecordBirthRequest req;
  *req.mutable_context() = Context(v1::SOURCE_DUKCAPIL);
  req.set_kk_number(Digits(f.kk, 16));
  *req.mutable_birth()->mutable_child() = ToMember(child);
  req.mutable_birth()->set_mother_nik(Digits(mother_nik, 16));
  f.members.push_back(child);
  ++living_;
  ++stats_.births;
  JARING_RETURN_IF_ERROR(Emit(std::move(req)));
  v1::ChangeMemberAttributesRequest done;
  *done.mutable_context() = Context(v1::SOURCE_DINSOS);
  done.set_kk_number(Digits(f.kk, 16));
  done.mutable_change()->set_nik(Digits(mother_nik, 16));
  done.mutable_change()->mutable_attributes()->set_pregnant(false);
  ++stats_.attribute_changes;
  return Emit(std::move(done));
}

absl::Status Generator::Impl::Death(uint32_t fi, size_t mi, bool allow_late, bool planted) {
  Family& f = families_[fi];
  Person& p = f.members[mi];
  bool head = p.rel == v1::RELATIONSHIP_HEAD;
  v1::RecordDeathRequest req;
  *req.mutable_context() = Context(v1::SOURCE_DUKCAPIL);
  absl::Time occurred = events::FromProtoTime(req.context().occurred_at());
  bool late = allow_late && life_rng_.Bernoulli(0.25);
  absl::Time recorded = events::FromProtoTime(req.context().recorded_at());
  if (late) {
    recorded = std::min(occurred + absl::Hours(24) * life_rng_.Range(21, 180), end_time_ - absl::Seconds(1));
  }
  if (head && !planted) {
    // The new head is named one day after the death is recorded: it must fit.
    absl::CivilDay change_day = WibDay(recorded) + 1;
    if (change_day > last_day_ && late) {
      late = false;
      recorded = events::FromProtoTime(req.context().recorded_at());
      change_day = WibDay(recorded) + 1;
    }
    if (change_day > last_day_) return absl::OkStatus();  // too late in the period: the head lives on
    f.state = kAwaitingHead;
    Schedule(change_day, {Action::kHeadChange, fi, 0});
  }
  *req.mutable_context()->mutable_recorded_at() = events::ToProtoTime(recorded);
  req.set_kk_number(Digits(f.kk, 16));
  req.mutable_death()->set_nik(Digits(p.nik, 16));
  *req.mutable_death()->mutable_date_of_death() = ToDate(day_);
  req.mutable_death()->set_certificate_number(absl::StrFormat("%06d-KM-%s-%04d", p.nik / 10000000000ULL,
                                                              absl::FormatCivilTime(day_), 1 + index_ % 9999));
  p.alive = false;
  --living_;
  ++stats_.deaths;
  if (late) {
    ++stats_.late_deaths;
    late_.push(Late{recorded, index_, std::move(req)});
    return absl::OkStatus();
  }
  return Emit(std::move(req));
}

absl::Status Generator::Impl::RunScheduled(const Scheduled& s) {
  switch (s.action) {
    case Action::kBirth:
      return Birth(s.family, s.nik);
    case Action::kPlantedHeadDeath: {
      Family& f = families_[s.family];
      int h = HeadIndex(f);
      if (h < 0 || !f.members[h].alive) return absl::OkStatus();
      return Death(s.family, static_cast<size_t>(h), /*allow_late=*/false, /*planted=*/true);
    }
    case Action::kHeadChange: {
      Family& f = families_[s.family];
      int old = HeadIndex(f);
      int best = -1;
      for (size_t i = 0; i < f.members.size(); ++i) {
        const Person& p = f.members[i];
        if (!p.alive || static_cast<int>(i) == old) continue;
        if (p.rel == v1::RELATIONSHIP_SPOUSE) {
          best = static_cast<int>(i);
          break;
        }
        if (best < 0 || p.birth < f.members[best].birth) best = static_cast<int>(i);
      }
      JARING_RELEASE_ASSERT(best >= 0 && old >= 0, "a family awaiting a new head has no candidate");
      f.members[old].rel = v1::RELATIONSHIP_OTHER;
      f.members[best].rel = v1::RELATIONSHIP_HEAD;
      f.state = kNormal;
      v1::ChangeHeadRequest req;
      *req.mutable_context() = Context(v1::SOURCE_DUKCAPIL);
      req.set_kk_number(Digits(f.kk, 16));
      req.set_new_head_nik(Digits(f.members[best].nik, 16));
      req.set_reason("kepala keluarga meninggal dunia");
      ++stats_.head_changes;
      return Emit(std::move(req));
    }
  }
  return absl::OkStatus();
}

absl::Status Generator::Impl::TryPregnancy() {
  uint32_t fi = RandomFamily();
  Family& f = families_[fi];
  if (f.state != kNormal) return absl::OkStatus();
  std::vector<size_t> eligible;
  for (size_t i = 0; i < f.members.size(); ++i) {
    const Person& p = f.members[i];
    int age = AgeAt(p.birth, day_);
    if (p.alive && !p.pregnant && p.sex == v1::SEX_FEMALE && age >= 17 && age <= 45 &&
        (p.rel == v1::RELATIONSHIP_HEAD || p.rel == v1::RELATIONSHIP_SPOUSE ||
         p.rel == v1::RELATIONSHIP_CHILD_IN_LAW) &&
        ChildrenOf(f, p.nik) < 3) {
      eligible.push_back(i);
    }
  }
  if (eligible.empty()) return absl::OkStatus();
  Person& p = f.members[eligible[life_rng_.Uniform(static_cast<int64_t>(eligible.size()))]];
  p.pregnant = true;
  p.pregnancy_order = static_cast<uint8_t>(ChildrenOf(f, p.nik) + 1);
  Schedule(day_ + life_rng_.Range(150, 220), {Action::kBirth, fi, p.nik});
  v1::ChangeMemberAttributesRequest req;
  *req.mutable_context() = Context(v1::SOURCE_DINSOS);
  req.set_kk_number(Digits(f.kk, 16));
  req.mutable_change()->set_nik(Digits(p.nik, 16));
  req.mutable_change()->mutable_attributes()->set_pregnant(true);
  req.mutable_change()->mutable_attributes()->set_pregnancy_order(p.pregnancy_order);
  ++stats_.attribute_changes;
  return Emit(std::move(req));
}

absl::Status Generator::Impl::TryDeath() {
  uint32_t fi = RandomFamily();
  Family& f = families_[fi];
  if (f.state != kNormal || f.members.empty()) return absl::OkStatus();
  size_t mi = static_cast<size_t>(life_rng_.Uniform(static_cast<int64_t>(f.members.size())));
  Person& p = f.members[mi];
  if (!p.alive || p.pregnant) return absl::OkStatus();
  double size_factor = std::min<double>(1.0, static_cast<double>(f.members.size()) / kSizeNorm);
  if (!life_rng_.Bernoulli(Hazard(AgeAt(p.birth, day_)) / kMaxHazard * size_factor)) return absl::OkStatus();
  if (p.rel == v1::RELATIONSHIP_HEAD) {
    bool other_adult = false;
    for (const Person& q : f.members) {
      if (&q != &p && q.alive && AgeAt(q.birth, day_) >= 17) other_adult = true;
    }
    if (!other_adult) return absl::OkStatus();
  }
  return Death(fi, mi, /*allow_late=*/true, /*planted=*/false);
}

absl::Status Generator::Impl::TryMove(bool marriage) {
  uint32_t ai = RandomFamily();
  Family& a = families_[ai];
  if (a.state != kNormal) return absl::OkStatus();
  std::vector<size_t> movers;
  for (size_t i = 0; i < a.members.size(); ++i) {
    const Person& p = a.members[i];
    int age = AgeAt(p.birth, day_);
    if (!p.alive || p.pregnant || p.rel == v1::RELATIONSHIP_HEAD) continue;
    if (marriage ? (p.rel == v1::RELATIONSHIP_CHILD && age >= 19 && age <= 35) : age >= 15) movers.push_back(i);
  }
  if (movers.empty()) return absl::OkStatus();
  size_t mi = movers[life_rng_.Uniform(static_cast<int64_t>(movers.size()))];
  uint8_t mover_sex = a.members[mi].sex;
  int64_t bi = -1;
  for (int tries = 0; tries < 10 && bi < 0; ++tries) {
    uint32_t c = RandomFamily();
    const Family& b = families_[c];
    if (c == ai || b.state != kNormal) continue;
    if (!marriage) {
      bi = c;
      break;
    }
    bool partner = false, has_inlaw = false;
    for (const Person& q : b.members) {
      int age = AgeAt(q.birth, day_);
      if (q.alive && q.rel == v1::RELATIONSHIP_CHILD && q.sex != mover_sex && age >= 19 && age <= 40) partner = true;
      if (q.alive && q.rel == v1::RELATIONSHIP_CHILD_IN_LAW) has_inlaw = true;
    }
    if (partner && !has_inlaw) bi = c;
  }
  if (bi < 0) return absl::OkStatus();
  Family& b = families_[bi];
  Person p = a.members[mi];
  a.members.erase(a.members.begin() + static_cast<std::ptrdiff_t>(mi));
  p.rel = marriage ? v1::RELATIONSHIP_CHILD_IN_LAW : v1::RELATIONSHIP_OTHER_RELATIVE;
  b.members.push_back(p);
  v1::MoveMemberRequest req;
  *req.mutable_context() = Context(v1::SOURCE_DUKCAPIL);
  req.set_from_kk_number(Digits(a.kk, 16));
  req.set_nik(Digits(p.nik, 16));
  req.set_to_kk_number(Digits(b.kk, 16));
  req.set_relationship(static_cast<v1::Relationship>(p.rel));
  req.set_reason(marriage ? "menikah" : "pindah domisili");
  ++stats_.moves;
  return Emit(std::move(req));
}

absl::Status Generator::Impl::TrySplit() {
  uint32_t ai = RandomFamily();
  Family& a = families_[ai];
  if (a.state != kNormal) return absl::OkStatus();
  int h = HeadIndex(a);
  if (h < 0 || !a.members[h].alive) return absl::OkStatus();
  int child = -1, inlaw = -1;
  for (size_t i = 0; i < a.members.size(); ++i) {
    const Person& p = a.members[i];
    if (!p.alive || p.pregnant) continue;
    if (p.rel == v1::RELATIONSHIP_CHILD && AgeAt(p.birth, day_) >= 19 && child < 0) child = static_cast<int>(i);
    if (p.rel == v1::RELATIONSHIP_CHILD_IN_LAW && inlaw < 0) inlaw = static_cast<int>(i);
  }
  if (child < 0 || inlaw < 0 || a.members[child].sex == a.members[inlaw].sex) return absl::OkStatus();
  uint64_t c_nik = a.members[child].nik, s_nik = a.members[inlaw].nik;
  std::vector<Person> leaving, staying;
  for (const Person& p : a.members) {
    bool goes = p.nik == c_nik || p.nik == s_nik ||
                (p.alive && (p.mother_nik == c_nik || p.mother_nik == s_nik) && p.rel != v1::RELATIONSHIP_HEAD);
    if (goes && p.pregnant) return absl::OkStatus();
    (goes ? leaving : staying).push_back(p);
  }
  Family nf;
  const Village& from = villages_[a.village];
  nf.village = from.district_first + static_cast<uint32_t>(life_rng_.Uniform(from.district_count));
  nf.decile = a.decile;
  nf.kk = NewKk(villages_[nf.village].region6, day_);
  const Person& cp = a.members[child];
  uint64_t new_head = cp.sex == v1::SEX_MALE ? c_nik : s_nik;
  v1::SplitFamilyRequest req;
  *req.mutable_context() = Context(v1::SOURCE_DUKCAPIL);
  req.set_kk_number(Digits(a.kk, 16));
  req.set_new_kk_number(Digits(nf.kk, 16));
  req.set_new_region_code(RegionCode(nf.village));
  for (Person& p : leaving) {
    req.add_member_niks(Digits(p.nik, 16));
    p.rel = p.nik == new_head ? v1::RELATIONSHIP_HEAD
            : (p.nik == c_nik || p.nik == s_nik) ? v1::RELATIONSHIP_SPOUSE
                                                 : v1::RELATIONSHIP_CHILD;
  }
  req.set_new_head_nik(Digits(new_head, 16));
  req.set_reason("pecah KK: anak menikah membentuk keluarga baru");
  req.set_address(Address(nf.kk));
  nf.members = std::move(leaving);
  a.members = std::move(staying);
  families_.push_back(std::move(nf));  // `a` and `cp` are not used after this
  ++stats_.splits;
  return Emit(std::move(req));
}

absl::Status Generator::Impl::TryDisability() {
  uint32_t fi = RandomFamily();
  Family& f = families_[fi];
  if (f.state != kNormal || f.members.empty()) return absl::OkStatus();
  Person& p = f.members[life_rng_.Uniform(static_cast<int64_t>(f.members.size()))];
  if (!p.alive || p.disability != v1::DISABILITY_NONE) return absl::OkStatus();
  p.disability = life_rng_.Bernoulli(0.5) ? v1::DISABILITY_SEVERE : v1::DISABILITY_MILD;
  v1::ChangeMemberAttributesRequest req;
  *req.mutable_context() = Context(v1::SOURCE_DINSOS);
  req.set_kk_number(Digits(f.kk, 16));
  req.mutable_change()->set_nik(Digits(p.nik, 16));
  req.mutable_change()->mutable_attributes()->set_disability(static_cast<v1::Disability>(p.disability));
  ++stats_.attribute_changes;
  return Emit(std::move(req));
}

absl::Status Generator::Impl::Life(const std::function<absl::Status(const SynthCommand&)>& sink) {
  if (!registry_ran_) return absl::FailedPreconditionError("call Registry() before Life()");
  if (life_ran_) return absl::FailedPreconditionError("Life() may be called only once");
  life_ran_ = true;
  sink_ = sink;
  if (last_day_ < first_day_) return absl::OkStatus();  // months == 0: no life
  for (const auto& [fi, nik] : registry_pregnant_) {
    Schedule(first_day_ + life_rng_.Range(5, 200), {Action::kBirth, fi, nik});
  }
  int64_t span = last_day_ - first_day_;
  for (int64_t i : dead_heads_) {
    Schedule(first_day_ + 1 + life_rng_.Uniform(std::max<int64_t>(1, span / 2)),
             {Action::kPlantedHeadDeath, static_cast<uint32_t>(i), 0});
  }
  for (day_ = first_day_; day_ <= last_day_; ++day_) {
    seq_in_day_ = 0;
    if (day_ == first_day_) {
      last_round_ = RoundName(day_);
      JARING_RETURN_IF_ERROR(Assess(/*first=*/true, last_round_));
    } else if (day_.day() == 15 && (day_.month() - 1) % 3 == 0 && RoundName(day_) != last_round_) {
      last_round_ = RoundName(day_);
      JARING_RETURN_IF_ERROR(Assess(/*first=*/false, last_round_));
    }
    if (day_.month() == 7 && day_.day() == 15) JARING_RETURN_IF_ERROR(SchoolYear());
    size_t idx = static_cast<size_t>(day_ - first_day_);
    if (idx < scheduled_.size()) {
      std::vector<Scheduled> today = std::move(scheduled_[idx]);
      for (const Scheduled& s : today) JARING_RETURN_IF_ERROR(RunScheduled(s));
    }
    double fams = static_cast<double>(families_.size());
    for (int64_t n = life_rng_.Poisson(fams * 0.09 / 365); n > 0; --n) JARING_RETURN_IF_ERROR(TryPregnancy());
    for (int64_t n = life_rng_.Poisson(fams * kSizeNorm * kMaxHazard / 365); n > 0; --n) {
      JARING_RETURN_IF_ERROR(TryDeath());
    }
    for (int64_t n = life_rng_.Poisson(fams * 0.015 / 365); n > 0; --n) JARING_RETURN_IF_ERROR(TryMove(false));
    for (int64_t n = life_rng_.Poisson(fams * 0.03 / 365); n > 0; --n) JARING_RETURN_IF_ERROR(TryMove(true));
    for (int64_t n = life_rng_.Poisson(fams * 0.12 / 365); n > 0; --n) JARING_RETURN_IF_ERROR(TrySplit());
    for (int64_t n = life_rng_.Poisson(fams * 0.004 / 365); n > 0; --n) JARING_RETURN_IF_ERROR(TryDisability());
  }
  return FlushLate(absl::InfiniteFuture());
}

// ---------------------------------------------------------------------------

Generator::Generator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Generator::~Generator() = default;

absl::StatusOr<std::unique_ptr<Generator>> Generator::Create(const SynthOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  JARING_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<Generator>(new Generator(std::move(impl)));
}

absl::Status Generator::Registry(const std::function<absl::Status(const v1::RegisterFamilyRequest&)>& sink) {
  return impl_->Registry(sink);
}
absl::Status Generator::Life(const std::function<absl::Status(const SynthCommand&)>& sink) {
  return impl_->Life(sink);
}
const std::vector<GroundTruthEntry>& Generator::ground_truth() const { return impl_->ground_truth_; }
const SynthStats& Generator::stats() const { return impl_->stats_; }
absl::Time Generator::life_end() const { return DayStart(impl_->end_day_); }

}  // namespace jaring::synth
