#include "libs/projection/test_applier.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "libs/base/hash.h"
#include "libs/base/status.h"
#include "libs/events/envelope.h"

namespace jaring::projection_testing {

absl::Status ChainApplier::Apply(const projection::Event& event, projection::Batch& batch) {
  const v1::Envelope& e = event.envelope;
  if (!fail_on_event_id.empty() && e.event_id() == fail_on_event_id) {
    return absl::InternalError("refusing event " + e.event_id());
  }
  const std::string key = "fam/" + e.key();
  JARING_ASSIGN_OR_RETURN(std::optional<std::string> prev, batch.Get(key));
  int64_t count = 0;
  uint64_t hash = 0;
  if (prev.has_value()) {
    std::vector<std::string> parts = absl::StrSplit(*prev, ' ');
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &count) || !absl::SimpleHexAtoi(parts[1], &hash)) {
      return absl::InternalError("corrupt state for " + key);
    }
  }
  hash = Fnv1a64(absl::StrCat(hash, "/", e.event_id(), "/", e.welfare_assessed().decile()));
  batch.Put(key, absl::StrFormat("%d %016x", count + 1, hash));
  const std::string type_key = "type/" + e.event_type();
  JARING_ASSIGN_OR_RETURN(std::optional<std::string> tc, batch.Get(type_key));
  int64_t n = 0;
  if (tc.has_value() && !absl::SimpleAtoi(*tc, &n)) return absl::InternalError("corrupt type count");
  batch.Put(type_key, absl::StrCat(n + 1));
  return absl::OkStatus();
}

std::string KkFor(int64_t i) { return absl::StrFormat("5271%012d", i); }

v1::Envelope MakeEvent(const std::string& kk, int64_t seq, int64_t recorded_ms) {
  v1::Envelope e;
  e.set_event_id(events::DeterministicId("test", {kk, absl::StrCat(seq)}));
  e.set_key(kk);
  e.set_region_code("52.71.01.1001");
  *e.mutable_occurred_at() = events::ToProtoTime(absl::FromUnixMillis(recorded_ms - 86400000));
  *e.mutable_recorded_at() = events::ToProtoTime(absl::FromUnixMillis(recorded_ms));
  e.set_source(v1::SOURCE_BPS_DTSEN);
  auto* w = e.mutable_welfare_assessed();
  w->set_round("2026-Q1");
  w->set_decile(static_cast<int32_t>(1 + seq % 10));
  events::StampType(e);
  return e;
}

eventlog::Record MakeRecord(const std::string& kk, int64_t seq, int64_t recorded_ms) {
  return events::ToRecord(MakeEvent(kk, seq, recorded_ms));
}

}  // namespace jaring::projection_testing
