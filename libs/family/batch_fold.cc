#include "libs/family/batch_fold.h"

#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/base/status.h"
#include "libs/base/strings.h"
#include "libs/family/fold.h"

namespace jaring::family {

namespace {

std::optional<int64_t> RegisteredMs(const v1::FamilyTimeline& t) {
  return t.has_registered_ms() ? std::optional<int64_t>(t.registered_ms()) : std::nullopt;
}

FoldKey MaxKey(const v1::FamilyTimeline& t) { return {t.max_effective_ms(), t.max_occurred_ms()}; }

// `e`'s fold key in a family registered at `registered` (a second
// registration sorts at its own time, as in the full fold).
FoldKey KeyIn(const v1::Envelope& e, std::optional<int64_t> registered) {
  FoldKey key = FoldKeyOf(e, registered);
  if (registered && e.has_family_registered()) key.occurred_ms = OccurredMs(e);
  return key;
}

}  // namespace

bool FoldsAsLatest(const v1::FamilyTimeline& timeline, const v1::Envelope& e) {
  const std::optional<int64_t> registered = RegisteredMs(timeline);
  return !e.has_record_corrected() && (!registered || !(KeyIn(e, registered) < MaxKey(timeline)));
}

bool LastWasLate(const v1::FamilyTimeline& timeline, const v1::Envelope& last_event) {
  const std::optional<int64_t> registered = RegisteredMs(timeline);
  return registered && !last_event.has_family_registered() && KeyIn(last_event, registered) < MaxKey(timeline);
}

absl::StatusOr<Folded> FoldIntoBatch(const projection::Event& event, projection::Batch& batch, const FoldKeys& keys,
                                     const StoredEventParser& parse) {
  const v1::Envelope& e = event.envelope;
  JARING_ASSIGN_OR_RETURN(v1::FamilyTimeline * timeline, batch.Mutable<v1::FamilyTimeline>(keys.timeline));
  JARING_ASSIGN_OR_RETURN(v1::Family * family, batch.Mutable<v1::Family>(keys.family));
  const int64_t occurred_ms = OccurredMs(e);
  std::optional<int64_t> registered = RegisteredMs(*timeline);
  const bool latest = FoldsAsLatest(*timeline, e);
  Folded out{family, !latest};
  if (latest) {
    JARING_RETURN_IF_ERROR(FoldLatest(e, family));
  } else {
    // A late report: this family alone, from its stored events.
    std::vector<v1::Envelope> stored(static_cast<size_t>(timeline->keys_size()));
    std::vector<const v1::Envelope*> in_log_order;
    in_log_order.reserve(stored.size() + 1);
    for (int i = 0; i < timeline->keys_size(); ++i) {
      const std::string& key = timeline->keys(i);
      JARING_ASSIGN_OR_RETURN(std::optional<std::string> bytes, batch.Get(key));
      v1::Envelope& s = stored[static_cast<size_t>(i)];
      const bool parsed = bytes.has_value() && (parse ? parse(*bytes, &s) : s.ParseFromString(*bytes));
      if (!parsed) {
        return absl::DataLossError(
            absl::StrCat("family ", e.key(), ": its event stored at ", Av(key), " is missing or corrupt"));
      }
      in_log_order.push_back(&s);
    }
    in_log_order.push_back(&e);
    JARING_ASSIGN_OR_RETURN(*family, FoldAll(in_log_order));
  }
  timeline->add_keys(keys.event);
  const bool first_registration = !registered && e.has_family_registered();
  if (first_registration) {
    registered = occurred_ms;
    timeline->set_registered_ms(occurred_ms);
  }
  if (registered) {
    // The first registration starts the family's fold keys.
    const FoldKey key = first_registration ? FoldKeyOf(e, registered) : KeyIn(e, registered);
    if (first_registration || MaxKey(*timeline) < key) {
      timeline->set_max_effective_ms(key.effective_ms);
      timeline->set_max_occurred_ms(key.occurred_ms);
    }
  }
  return out;
}

}  // namespace jaring::family
