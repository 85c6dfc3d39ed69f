// The appeals service's projection: every appeal with its timeline and
// deadlines (jaring.appeals.v1), its own copy of every family
// (jaring.population.v1, with the one shared fold), the program ids of the
// published rule sets (jaring.rules.v1) and what it needs to know
// of decisions (jaring.eligibility.v1): the current decision per family and
// program, and every version, so an appeal can name the decision its
// correction produced.
//
// Key layout (docs/formats/appeals-store.md):
//   i/<event id>                     "" or the stored envelope's key (every
//                                    event applied; drops a duplicate)
//   f/<kk>                           v1::Family, folded
//   t/<kk>                           v1::FamilyTimeline (its h/ keys)
//   h/<kk>/<event id>                the family's population envelope
//   l/<kk>                           the family's last population event id
//   x/<appeal id>                    BE32 partition, BE64 offset: where the
//                                    appeal's correction landed on population
//   d/<kk>/<program>                 v1::DecisionRef, the current decision
//   v/<kk>/<program>/<BE64 version>  v1::DecisionRef, every version
//   D/<decision id>                  the decision's v/ key
//   P/<program>                      "" (programs of every published rule
//                                    set, jaring.rules.v1)
//   a/<appeal id>                    v1::Appeal
//   k/<appeal id>                    the filer's keyed NIK hash (never
//                                    returned by a query)
//   o/<kk>/<program>/<kind>          appeal id of the open appeal
//   F/<kk>/<BE64 filed ms>/<id>      "" (a family's appeals, oldest first)
//   r/<region code>/<id>             "" (appeals by region)
//   q/<BE64 due ms>/<id>             "" (open appeals by nearest deadline;
//                                    max when none pending)
//   e/<BE64 due ms>/<id>/<deadline>  "" (deadlines still pending: the
//                                    escalator's work)
//   b/<BE64 due ms>/<id>/<deadline>  "" (breached deadlines)
//   O/<appeal id>                    the correction envelope still to be
//                                    appended to population (outbox)
//   L/<kk>/<program>                 appeal ids, one per line: upheld with a
//                                    correction, waiting for the resulting
//                                    decision
//   Q/<request id>                   the key of what the request made
//   y/<region prefix>/<kind>         v1::AppealPolicySet
//   w/<window id>                    v1::ObjectionWindowOpened
//   W/<region prefix>/<program>/<window id>  ""
//
// Deterministic whatever the interleaving of topics: a fact that joins two
// topics (a correction's position and the decisions after it) is stored on
// arrival from either side and the join is attempted from each side.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "jaring/v1/appeals_service.pb.h"
#include "jaring/v1/envelope.pb.h"
#include "libs/projection/projection.h"

namespace rocksdb {
class DB;
}

namespace jaring::appeals {

namespace keys {
std::string Seen(std::string_view event_id);
std::string Family(std::string_view kk);
std::string Timeline(std::string_view kk);
std::string FamilyEvent(std::string_view kk, std::string_view event_id);
std::string LastEvent(std::string_view kk);
std::string CorrectionAt(std::string_view appeal_id);
std::string Decision(std::string_view kk, std::string_view program);
std::string DecisionVersionPrefix(std::string_view kk, std::string_view program);
std::string DecisionVersion(std::string_view kk, std::string_view program, int64_t version);
std::string DecisionById(std::string_view decision_id);
inline constexpr std::string_view kProgramPrefix = "P/";
std::string Program(std::string_view program);
std::string Appeal(std::string_view appeal_id);
std::string Filer(std::string_view appeal_id);
std::string Open(std::string_view kk, std::string_view program, v1::AppealKind kind);
std::string FamilyAppealsPrefix(std::string_view kk);
std::string RegionPrefix(std::string_view region_prefix);
inline constexpr std::string_view kQueuePrefix = "q/";
inline constexpr std::string_view kPendingPrefix = "e/";
std::string Pending(int64_t due_ms, std::string_view appeal_id, v1::DeadlineKind kind);
inline constexpr std::string_view kBreachPrefix = "b/";
std::string BreachKey(int64_t due_ms, std::string_view appeal_id, v1::DeadlineKind kind);
inline constexpr std::string_view kOutboxPrefix = "O/";
std::string Outbox(std::string_view appeal_id);
std::string Request(std::string_view request_id);
std::string Policy(std::string_view region_prefix, v1::AppealKind kind);
std::string Window(std::string_view window_id);
std::string WindowIndexPrefix(std::string_view region_prefix, std::string_view program);
}  // namespace keys

// A pending (e/) or breach (b/) key without its prefix:
// <BE64 due ms><appeal id>/<deadline number>. nullopt when malformed.
struct DeadlineKey {
  int64_t due_ms = 0;
  std::string appeal_id;
  v1::DeadlineKind kind = v1::DEADLINE_KIND_UNSPECIFIED;
};
std::optional<DeadlineKey> DecodeDeadlineKey(std::string_view rest);

// The id of the correction an upheld appeal appends to population.
std::string CorrectionEventId(std::string_view appeal_id);

// The envelope of the correction of `decided` (an AppealDecided envelope
// with a correction) for the family `kk` in `region`: derived from it
// alone, so appending it again yields the same event (and population drops
// the copy by its id).
v1::Envelope CorrectionEnvelope(const v1::Envelope& decided, std::string_view kk, std::string_view region);

// The escalation of `appeal`'s `kind` deadline: occurred_at is the deadline,
// recorded_at `now`; the id is derived from (appeal, deadline).
v1::Envelope EscalationEnvelope(const v1::Appeal& appeal, v1::DeadlineKind kind, int64_t now_ms);

// The nearest deadline not yet met (nullopt when none).
std::optional<int64_t> NearestPendingDue(const v1::Appeal& appeal);

class AppealsApplier final : public projection::Applier {
 public:
  absl::Status Apply(const projection::Event& event, projection::Batch& batch) override;

 private:
  absl::Status ApplyPopulation(const projection::Event& event, projection::Batch& batch);
  absl::Status ApplyDecision(const projection::Event& event, projection::Batch& batch);
  absl::Status ApplyAppeal(const projection::Event& event, projection::Batch& batch);
};

// Point reads of the store (any thread).
absl::StatusOr<std::optional<std::string>> ReadRaw(rocksdb::DB* db, std::string_view key);
template <typename M>
absl::StatusOr<std::optional<M>> ReadMessage(rocksdb::DB* db, std::string_view key) {
  JARING_ASSIGN_OR_RETURN(std::optional<std::string> raw, ReadRaw(db, key));
  if (!raw.has_value()) return std::nullopt;
  M m;
  if (!m.ParseFromString(*raw)) {
    return absl::DataLossError(std::string("appeals store: cannot parse the value at ").append(key));
  }
  return m;
}

}  // namespace jaring::appeals
