#include "libs/family/batch_fold.h"

#include <optional>
#include <utility>

#include "libs/base/status.h"
#include "libs/base/strings.h"
#include "libs/family/fold.h"

namespace jaring::family {

absl::StatusOr<v1::Family*> FoldIntoBatch(const projection::Event& event, projection::Batch& batch,
                                          const std::string& family_key,
                                          const std::function<std::string(std::string_view)>& seen_key) {
  const v1::Envelope& e = event.envelope;
  JARING_ASSIGN_OR_RETURN(v1::Family * family, batch.Mutable<v1::Family>(family_key));
  std::optional<v1::Envelope> corrected;
  if (e.has_record_corrected()) {
    JARING_ASSIGN_OR_RETURN(std::optional<std::string> where,
                            batch.Get(seen_key(e.record_corrected().corrected_event_id())));
    if (where.has_value() && !where->empty()) {
      JARING_ASSIGN_OR_RETURN(std::optional<std::string> bytes, batch.Get(*where));
      v1::Envelope target;
      if (bytes.has_value() && target.ParseFromString(*bytes)) corrected = std::move(target);
    }
  }
  const EventLookup lookup = [&](std::string_view id) -> const v1::Envelope* {
    return corrected.has_value() && Sv(corrected->event_id()) == id ? &*corrected : nullptr;
  };
  JARING_RETURN_IF_ERROR(ApplyToFamily(e, lookup, family));
  return family;
}

}  // namespace jaring::family
