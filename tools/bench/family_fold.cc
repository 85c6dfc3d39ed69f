#include "tools/bench/family_fold.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/base/coding.h"
#include "libs/base/status.h"
#include "libs/family/batch_fold.h"
#include "libs/family/fold.h"

namespace jaring::bench {

absl::Status FamilyFold::Apply(const projection::Event& event, projection::Batch& batch) {
  const std::string& kk = event.envelope.key();
  std::string history = absl::StrCat("h/", kk, "/");
  PutFixed32BE(&history, static_cast<uint32_t>(event.record.partition));
  PutFixed64BE(&history, static_cast<uint64_t>(event.record.offset));
  const absl::Time start = absl::Now();
  family::Folded folded;
  if (log_order_) {
    JARING_ASSIGN_OR_RETURN(folded.family, batch.Mutable<v1::Family>(absl::StrCat("fam/", kk)));
    JARING_RETURN_IF_ERROR(family::FoldLatest(event.envelope, folded.family));
  } else {
    JARING_ASSIGN_OR_RETURN(folded, family::FoldIntoBatch(event, batch, {absl::StrCat("fam/", kk),
                                                                         absl::StrCat("t/", kk), history}));
  }
  const double s = absl::ToDoubleSeconds(absl::Now() - start);
  batch.Put(history, event.record.value);
  if (folded.refolded) {
    ++late_;
    late_s_ += s;
  } else {
    ++in_order_;
    in_order_s_ += s;
  }
  return absl::OkStatus();
}

}  // namespace jaring::bench
