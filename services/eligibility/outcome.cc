#include "services/eligibility/outcome.h"

#include <algorithm>

#include "libs/base/coding.h"

namespace jaring::eligibility {
namespace {

void PutVarint32(std::string* dst, uint32_t v) {
  while (v >= 0x80) {
    dst->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  dst->push_back(static_cast<char>(v));
}

bool GetVarint32(std::string_view* in, uint32_t* v) {
  uint32_t result = 0;
  for (int shift = 0; shift <= 28 && !in->empty(); shift += 7) {
    const uint8_t byte = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    result |= static_cast<uint32_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

bool GetPiece(std::string_view* in, std::string_view* piece) {
  uint32_t n = 0;
  if (!GetVarint32(in, &n) || in->size() < n) return false;
  *piece = in->substr(0, n);
  in->remove_prefix(n);
  return true;
}

void PutPiece(std::string* dst, std::string_view piece) {
  PutVarint32(dst, static_cast<uint32_t>(piece.size()));
  dst->append(piece);
}

void Eligible(int64_t amount, int year, std::string* out) {
  // clear + push_back, not assign("Y"): GCC 12 at -O3 warns (-Wrestrict,
  // a false positive) on assigning a literal here.
  out->clear();
  out->push_back('Y');
  PutFixed64BE(out, static_cast<uint64_t>(amount));
  PutFixed32BE(out, static_cast<uint32_t>(year));
}

void Award(int kind, std::string_view nik, int64_t amount, std::string* out) {
  out->push_back(static_cast<char>(kind));
  PutPiece(out, nik);
  PutFixed64BE(out, static_cast<uint64_t>(amount));
}

}  // namespace

std::string Digest(const v1::Decision& d) {
  if (!d.eligible()) return std::string(kNotEligibleDigest);
  std::string out;
  Eligible(d.yearly_amount(), d.as_of().year(), &out);
  for (const v1::ComponentAward& a : d.components()) Award(a.kind(), a.member_nik(), a.yearly_amount(), &out);
  return out;
}

void Digest(const rules::Outcome& o, const rules::ProgramOutcome& p, int year, std::string* out) {
  if (!p.eligible) {
    out->clear();
    out->append(kNotEligibleDigest);
    return;
  }
  Eligible(p.yearly_amount, year, out);
  for (const rules::OutcomeAward& a : o.awards_of(p)) Award(a.kind, o.nik(a), a.yearly_amount, out);
}

std::string_view FamilyRecord::DigestOf(std::string_view program) const {
  for (const auto& [p, d] : digests) {
    if (p == program) return d;
  }
  return kNotEligibleDigest;
}

bool ParseFamilyRecord(std::string_view bytes, FamilyRecord* out) {
  out->digests.clear();
  if (!GetPiece(&bytes, &out->family)) return false;
  while (!bytes.empty()) {
    std::string_view program, digest;
    if (!GetPiece(&bytes, &program) || !GetPiece(&bytes, &digest)) return false;
    out->digests.emplace_back(program, digest);
  }
  return true;
}

std::string EncodeFamilyRecord(std::string_view family,
                               const std::vector<std::pair<std::string_view, std::string_view>>& digests) {
  std::vector<std::pair<std::string_view, std::string_view>> sorted = digests;
  std::sort(sorted.begin(), sorted.end());
  std::string out;
  PutPiece(&out, family);
  for (const auto& [p, d] : sorted) {
    PutPiece(&out, p);
    PutPiece(&out, d);
  }
  return out;
}

}  // namespace jaring::eligibility
