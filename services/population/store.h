// The population projection: what the service keeps in its RocksDB store,
// rebuilt from jaring.population.v1. Key layout (docs/formats/population-store.md):
//
//   f/<kk>                      -> jaring.v1.Family (current state)
//   h/<kk>/<version:BE64>       -> jaring.v1.HistoryEntry (position + envelope)
//   e/<event_id>                -> <kk> '\0' <version:BE64>
//   n/<nik>                     -> membership list (text, see MembershipList)
//   r/<region_code>/<kk>        -> "" (families by region)
//   q/<request_id>/<event_id>   -> jaring.v1.CommandResult (idempotent retries)
//   o/<region_code>/<finding_id> -> jaring.v1.OverlapFinding
//
// Overlap findings that involve two families (one NIK alive in two
// families, one family registered in two regions) describe the current
// state: they appear while the condition holds and disappear when it ends,
// so their presence never depends on the order in which partitions were
// read. A dead head is one family's affair: its finding is kept, marked
// resolved when the head changes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "jaring/v1/population_service.pb.h"
#include "libs/projection/projection.h"
#include "rocksdb/db.h"

namespace jaring::population {

// One family a NIK is listed in.
struct Membership {
  std::string kk_number;
  bool alive = true;
  // The event that put the person in the family.
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t recorded_at_ms = 0;
  std::string event_id;
};

struct MembershipList {
  std::vector<Membership> memberships;
  // Keys ("o/...") of the two-family findings currently derived for this NIK.
  std::vector<std::string> finding_keys;
  std::string Encode() const;
  static std::optional<MembershipList> Decode(std::string_view bytes);
};

std::string FamilyKey(std::string_view kk);
std::string HistoryPrefix(std::string_view kk);
std::string NikKey(std::string_view nik);
std::string RegionPrefix(std::string_view region_prefix);
std::string RequestPrefix(std::string_view request_id);
std::string FindingPrefix(std::string_view region_prefix);

class PopulationApplier final : public projection::Applier {
 public:
  absl::Status Apply(const projection::Event& event, projection::Batch& batch) override;

 private:
  absl::Status ApplyAccess(const projection::Event& event, projection::Batch& batch);
  absl::Status RecomputeNik(const std::string& nik, projection::Batch& batch);
  absl::Status UpdateMembership(const projection::Event& event, const std::string& nik, bool alive,
                                bool remove, projection::Batch& batch);
};

// Read side over a store (the live one or an as-of snapshot). Thread-safe.
class PopulationReader {
 public:
  explicit PopulationReader(rocksdb::DB* db) : db_(db) {}

  // kNotFound if the family is unknown.
  absl::StatusOr<v1::Family> GetFamily(std::string_view kk) const;
  // The family's events in order. `recorded_at_or_before` filters by report time.
  absl::StatusOr<std::vector<v1::HistoryEntry>> History(std::string_view kk,
                                                        std::optional<int64_t> recorded_at_or_before_ms) const;
  // The family folded from its history, keeping only events recorded at or
  // before `as_known_at_ms` and that happened at or before `as_of_ms`.
  // kNotFound if the family did not exist then.
  absl::StatusOr<v1::Family> FamilyAt(std::string_view kk, std::optional<int64_t> as_known_at_ms,
                                      std::optional<int64_t> as_of_ms) const;
  absl::StatusOr<MembershipList> Memberships(std::string_view nik) const;
  // The index of the family's events (nullopt before its first event).
  absl::StatusOr<std::optional<v1::FamilyTimeline>> Timeline(std::string_view kk) const;
  // Families whose region code starts with the prefix, from `after_kk`
  // (exclusive; a page token), at most `limit`.
  absl::StatusOr<std::vector<v1::Family>> ListFamilies(std::string_view region_prefix, std::string_view after,
                                                       int limit, std::string* next) const;
  // Families whose region code starts with the prefix.
  absl::StatusOr<int64_t> CountFamilies(std::string_view region_prefix) const;
  absl::StatusOr<std::vector<v1::OverlapFinding>> ListFindings(std::string_view region_prefix,
                                                               bool include_resolved, std::string_view after,
                                                               int limit, std::string* next) const;
  // The result recorded for a request id, if any of its events was applied.
  absl::StatusOr<std::optional<v1::CommandResult>> RequestResult(std::string_view request_id,
                                                                 std::string_view primary_kk) const;
  // Reads of families' data (jaring.access.v1) under one family's KK
  // number or region prefix (`scope`), or by one principal (`subject`),
  // oldest first, recorded in [from_ms, to_ms].
  absl::StatusOr<std::vector<v1::AccessRecord>> ListAccess(std::string_view scope, std::string_view subject,
                                                           int64_t from_ms, int64_t to_ms, std::string_view after,
                                                           int limit, std::string* next) const;
  // The KK number of the family a NIK is a living member of now.
  absl::StatusOr<std::optional<std::string>> CurrentFamily(std::string_view nik) const;
  // Whether an event id exists, and in which family.
  absl::StatusOr<std::optional<std::string>> EventFamily(std::string_view event_id) const;

 private:
  rocksdb::DB* db_;
};

}  // namespace jaring::population
