// What "the outcome changed" means, in one place, for both paths of the
// engine: the slow path (full Decision protos from the reference evaluator)
// and the fast path of full re-evaluations (libs/rules/compact.h over the
// `k/` records).
//
// A program's digest: "N" when not eligible; otherwise "Y", the yearly
// amount, the calendar year the stages are for, and each award (kind,
// member NIK, yearly amount) in the decision's order. Reasons are not part
// of it (a family outside a program for another reason is still outside
// it). The year is: a new calendar year gives every eligible family a new
// decision with that year's stages, which the ledger's cycles need.
//
// `k/<kk>` holds, in one value, the family as the compact evaluator reads
// it and the digests of the family's recorded decisions, so that a full
// re-evaluation is a single pass over one key range:
//   value   := varint32 family-length family digests
//   digests := (varint32 length program varint32 length digest)*   sorted by program
// The population events write the family part, the recorded decisions the
// digests; each keeps the other's part, so the value does not depend on
// the order in which the two topics are read.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jaring/v1/eligibility.pb.h"
#include "libs/rules/compact.h"

namespace jaring::eligibility {

std::string Digest(const v1::Decision& d);
// The digest of one program of a compact outcome evaluated for `year`.
void Digest(const rules::Outcome& o, const rules::ProgramOutcome& p, int year, std::string* out);
inline constexpr std::string_view kNotEligibleDigest = "N";

// A parsed `k/` value; views into the bytes parsed.
struct FamilyRecord {
  std::string_view family;  // EncodeCompactFamily bytes ("" before the family's first event is applied)
  std::vector<std::pair<std::string_view, std::string_view>> digests;  // program -> digest, sorted
  // The recorded digest of `program`, kNotEligibleDigest when none.
  std::string_view DigestOf(std::string_view program) const;
};

bool ParseFamilyRecord(std::string_view bytes, FamilyRecord* out);
std::string EncodeFamilyRecord(std::string_view family,
                               const std::vector<std::pair<std::string_view, std::string_view>>& digests);

}  // namespace jaring::eligibility
