// A synthetic population for the pilot regions of digitalisasi bansos,
// deterministic by seed: a registry extract (one RegisterFamilyRequest per
// family card) and then months of life as PopulationService commands in the
// order the service should receive them.
//
//   SynthOptions opt{.regions = {"52.71"}, .families = 10000, .months = 12, .seed = 7,
//                    .anomalies = 3, .start = ..., .now = absl::Now()};
//   JARING_ASSIGN_OR_RETURN(auto gen, Generator::Create(opt));
//   JARING_RETURN_IF_ERROR(gen->Registry([&](const v1::RegisterFamilyRequest& r) {...}));
//   JARING_RETURN_IF_ERROR(gen->Life([&](const SynthCommand& c) {...}));
//   gen->ground_truth();
//
// What it guarantees (the tests check it):
// - identifiers are well formed: region codes "PP.RR.DD.VVVV" with village
//   1xxx in cities (RR >= 71) and 2xxx in regencies; KK numbers are the
//   family's PPRRDD + a real past registration date DDMMYY + serial; NIKs are
//   PPRRDD + birth DDMMYY (day + 40 for women) + serial and match the
//   member's birth_date and sex; NIKs are unique except where an anomaly
//   plants a duplicate on purpose.
// - commands come in recorded_at order; every command refers to members that
//   are alive (in reality, at occurred_at) and in the named family; a head
//   who dies is replaced (ChangeHead) one day after the death is recorded,
//   except for the planted dead-head anomaly.
// - every time is before options.now: Create() refuses a period that ends
//   after it.
//
// Times: every calendar date is a WIB (UTC+7) day, as in the service. The
// extract is recorded on `start` (registry rows: occurred_at = the card's
// registration date, recorded_at = start, both 00:00 WIB). The first DTSEN
// assessment of every family ("<year>-Q<n>" of start + 1 day) is the first
// life command; later rounds fall on the 15th day of each quarter.
// Civil events are recorded kReportLag after they happen; about a quarter of
// deaths are reported weeks to months late.
//
// Memory: the generator keeps a compact state of every family (about 40
// bytes per person plus a small per-family record), never the commands:
// they are handed to the sink one at a time. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "jaring/v1/population_service.pb.h"

namespace jaring::synth {

struct SynthOptions {
  // Regency/city codes "PP.RR" from the pilot table (KnownRegions()).
  std::vector<std::string> regions = {"52.71"};
  // Families in the registry extract before planted duplicates.
  int64_t families = 1000;
  // Length of the life period after the extract.
  int months = 12;
  uint64_t seed = 1;
  // Planted anomalies, taken in turn: family in two regions, NIK in two
  // families, dead head (the last needs months >= 1).
  int anomalies = 0;
  // The extract date; life starts the next day. Taken as a WIB calendar day.
  absl::Time start = absl::FromCivil(absl::CivilDay(2026, 1, 1), absl::FixedTimeZone(7 * 3600));
  // Every generated time is before this.
  absl::Time now = absl::Now();
};

// A pilot regency/city.
struct RegionInfo {
  std::string_view code;  // "52.71"
  std::string_view name;  // "Kota Mataram"
  int districts;          // kecamatan 01..districts
  int villages_per_district;
  int64_t families;       // about how many family cards (weights the split)
  // Share of families per DTSEN decile 1..10, summing to 1.
  double deciles[10];
};
const std::vector<RegionInfo>& KnownRegions();
const RegionInfo* FindRegion(std::string_view code);

// One life command, in the PopulationService request types.
using SynthCommand =
    std::variant<v1::RecordBirthRequest, v1::RecordDeathRequest, v1::MoveMemberRequest,
                 v1::SplitFamilyRequest, v1::ChangeHeadRequest, v1::RecordWelfareAssessmentRequest,
                 v1::ChangeMemberAttributesRequest, v1::CorrectRecordRequest>;

// The RPC method name ("RecordBirth", ...).
std::string_view RpcName(const SynthCommand& command);
const v1::CommandContext& ContextOf(const SynthCommand& command);

// {"rpc":"RecordBirth","request":{...proto JSON...}} without a newline.
std::string CommandToJsonLine(const SynthCommand& command);
// The inverse. Errors: kInvalidArgument (bad JSON, unknown rpc, a request
// that does not parse as the rpc's request type).
absl::StatusOr<SynthCommand> CommandFromJsonLine(std::string_view line);

// An overlap finding the planted anomalies should produce (and no other
// unresolved one should exist at the end of Life()).
struct GroundTruthEntry {
  v1::OverlapKind kind = v1::OVERLAP_KIND_UNSPECIFIED;
  std::vector<std::string> kk_numbers;  // sorted
  std::string nik;                      // empty when not about one person
};
// {"kind":"OVERLAP_KIND_...","kk_numbers":[...],"nik":"..."}
std::string GroundTruthToJsonLine(const GroundTruthEntry& entry);

struct SynthStats {
  int64_t families_registered = 0;  // incl. planted duplicates
  int64_t members_registered = 0;
  int64_t commands = 0;
  int64_t births = 0, deaths = 0, late_deaths = 0, moves = 0, splits = 0, head_changes = 0,
          assessments = 0, attribute_changes = 0;
};

class Generator {
 public:
  // Errors: kInvalidArgument for an unknown region, families < 1, months < 0,
  // anomalies < 0 or more than the families allow, or a period
  // (start + months, plus reporting lag) that does not end before `now`.
  static absl::StatusOr<std::unique_ptr<Generator>> Create(const SynthOptions& options);

  // Hands every family of the extract to `sink`, in file order (planted
  // duplicates last), request ids stamped as an import of the CSV would
  // (StampImportRequestId). Call once, before Life(). A sink error stops the
  // generation and is returned.
  absl::Status Registry(const std::function<absl::Status(const v1::RegisterFamilyRequest&)>& sink);

  // Hands every life command to `sink` in recorded_at order. Call once, after
  // Registry(). Request ids: DeterministicId("synth", {seed, index}).
  absl::Status Life(const std::function<absl::Status(const SynthCommand&)>& sink);

  // Complete after Registry(); describes the state at the end of Life().
  const std::vector<GroundTruthEntry>& ground_truth() const;
  const SynthStats& stats() const;
  // 00:00 WIB of start + months: every recorded_at is before it.
  absl::Time life_end() const;

  ~Generator();
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

 private:
  class Impl;
  explicit Generator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace jaring::synth
