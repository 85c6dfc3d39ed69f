#include "libs/rules/compact.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/base/strings.h"
#include "libs/rules/internal/conditions.h"
#include "libs/rules/rules.h"

namespace jaring::rules {
namespace {

// ---------------------------------------------------------------- varints

void PutVarint(std::string* dst, uint64_t v) {
  char buf[10];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  dst->append(buf, n);
}

uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

void PutSigned(std::string* dst, int64_t v) { PutVarint(dst, ZigZag(v)); }

void PutString(std::string* dst, std::string_view s) {
  PutVarint(dst, s.size());
  dst->append(s.data(), s.size());
}

// A bounds-checked reader. Every Get fails (returns false) rather than read
// past the end, and rejects varints with redundant bytes so that only the
// canonical encoding parses.
class Reader {
 public:
  explicit Reader(std::string_view s) : p_(s.data()), end_(s.data() + s.size()) {}

  bool Varint(uint64_t* v) {
    if (p_ < end_ && static_cast<uint8_t>(*p_) < 0x80) {  // the common case: one byte
      *v = static_cast<uint8_t>(*p_++);
      return true;
    }
    uint64_t result = 0;
    for (int shift = 0; shift <= 63 && p_ < end_; shift += 7) {
      const uint8_t byte = static_cast<uint8_t>(*p_++);
      if (shift == 63 && byte > 1) return false;  // beyond 64 bits
      result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (byte < 0x80) {
        if (byte == 0 && shift > 0) return false;  // redundant trailing zero group
        *v = result;
        return true;
      }
    }
    return false;
  }
  bool Signed(int64_t* v) {
    uint64_t u;
    if (!Varint(&u)) return false;
    *v = UnZigZag(u);
    return true;
  }
  bool Signed32(int32_t* v) {
    int64_t w;
    if (!Signed(&w) || w < INT32_MIN || w > INT32_MAX) return false;
    *v = static_cast<int32_t>(w);
    return true;
  }
  bool Byte(uint8_t* b) {
    if (p_ == end_) return false;
    *b = static_cast<uint8_t>(*p_++);
    return true;
  }
  bool String(std::string_view* s) {
    uint64_t n;
    if (!Varint(&n) || n > static_cast<uint64_t>(end_ - p_)) return false;
    *s = std::string_view(p_, n);
    p_ += n;
    return true;
  }
  bool done() const { return p_ == end_; }

 private:
  const char* p_;
  const char* end_;
};

// ---------------------------------------------------------------- dates

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Days since 1970-01-01 of a valid proleptic Gregorian date (H. Hinnant's
// days_from_civil); any int64 year that fits in about 2^54 days.
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// The birth date as days since 1970-01-01, or kUnknownBirth where
// AgeInYears() gives -1 whatever the date: missing, year <= 0, no such day.
int64_t BirthDays(const v1::Date& date) {
  const int y = date.year(), m = date.month(), d = date.day();
  if (y <= 0 || m < 1 || m > 12 || d < 1 || d > DaysInMonth(y, m)) return kUnknownBirth;
  return DaysFromCivil(y, m, d);
}

// The last day on which someone must have been born to be `age` or older
// at `as_of`. With ages in completed years, "age >= A" is the
// lexicographic comparison (y, m, d) <= (Y - A, M, D); when (Y - A, M, D)
// is no date (29 February of a common year) the last valid date before it
// is 28 February, which is how someone born on 29 February turns a year
// older on 1 March.
int64_t LastBirthDayForAge(absl::CivilDay as_of, int age) {
  const int64_t y = as_of.year() - age;
  const int m = as_of.month();
  return DaysFromCivil(y, m, std::min(as_of.day(), DaysInMonth(y, m)));
}

// ---------------------------------------------------------------- PKH

bool IsChild(v1::PkhComponentKind kind) {
  return kind == v1::PKH_COMPONENT_KIND_EARLY_CHILD || kind == v1::PKH_COMPONENT_KIND_PRIMARY ||
         kind == v1::PKH_COMPONENT_KIND_JUNIOR_SECONDARY || kind == v1::PKH_COMPONENT_KIND_SENIOR_SECONDARY;
}

// A living member with at least one candidate component: bit k of `options`
// is Program::components[k] (ascending kind order).
struct Candidate {
  uint32_t member;
  uint32_t options;
};

}  // namespace

// ---------------------------------------------------------------- family

std::string EncodeCompactFamily(const v1::Family& family) {
  std::string out;
  out.reserve(32 + 40 * static_cast<size_t>(family.members_size()));
  out.push_back(static_cast<char>(kCompactFamilyVersion));
  const v1::WelfareAssessed& a = family.latest_assessment();
  const bool assessed = family.has_latest_assessment() && a.decile() >= 1 && a.decile() <= 10;
  PutString(&out, family.kk_number());
  PutString(&out, assessed ? std::string_view(a.round()) : std::string_view());
  PutString(&out, family.region_code());
  out.push_back(static_cast<char>(assessed ? a.decile() : 0));

  // NIK order, card order among equal NIKs: the evaluator's order.
  std::vector<int> order(family.members_size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int x, int y) {
    return family.members(x).member().nik() < family.members(y).member().nik();
  });
  PutVarint(&out, order.size());
  for (int i : order) {
    const v1::FamilyMember& fm = family.members(i);
    const v1::Member& m = fm.member();
    const v1::MemberAttributes& at = m.attributes();
    const int64_t birth = BirthDays(m.birth_date());
    uint8_t flags = 0;
    if (fm.alive()) flags |= 1;
    if (birth != kUnknownBirth) flags |= 2;
    if (at.has_school_enrolled() && at.school_enrolled()) flags |= 4;
    if (at.has_pregnant() && at.pregnant()) flags |= 8;
    PutString(&out, m.nik());
    out.push_back(static_cast<char>(flags));
    if (birth != kUnknownBirth) PutSigned(&out, birth);
    PutSigned(&out, m.sex());
    PutSigned(&out, m.relationship());
    PutSigned(&out, at.has_disability() ? at.disability() : 0);
    PutSigned(&out, at.has_school_level() ? at.school_level() : 0);
    PutSigned(&out, at.has_pregnancy_order() ? at.pregnancy_order() : 0);
  }
  return out;
}

bool CompactFamilyView::Parse(std::string_view encoded) {
  members_.clear();
  living_ = 0;
  Reader r(encoded);
  uint8_t version, decile;
  uint64_t count;
  bool ok = r.Byte(&version) && version == kCompactFamilyVersion && r.String(&kk_number_) &&
            r.String(&dtsen_round_) && r.String(&region_code_) && r.Byte(&decile) && decile <= 10 &&
            r.Varint(&count) && count <= encoded.size();
  for (uint64_t i = 0; ok && i < count; ++i) {
    CompactMember m;
    uint8_t flags;
    ok = r.String(&m.nik) && r.Byte(&flags) && (flags & ~0x0f) == 0;
    if (!ok) break;
    m.alive = (flags & 1) != 0;
    m.school_enrolled = (flags & 4) != 0;
    m.pregnant = (flags & 8) != 0;
    m.birth_days = kUnknownBirth;
    if ((flags & 2) != 0) ok = r.Signed(&m.birth_days) && m.birth_days != kUnknownBirth;
    ok = ok && r.Signed32(&m.sex) && r.Signed32(&m.relationship) && r.Signed32(&m.disability) &&
         r.Signed32(&m.school_level) && r.Signed32(&m.pregnancy_order) &&
         (members_.empty() || !(m.nik < members_.back().nik));
    living_ += m.alive ? 1 : 0;
    members_.push_back(m);
  }
  if (!ok || !r.done()) {
    members_.clear();
    living_ = 0;
    decile_ = 0;
    kk_number_ = region_code_ = dtsen_round_ = {};
    return false;
  }
  decile_ = decile;
  return true;
}

// ---------------------------------------------------------------- outcome

bool operator==(const Outcome& a, const Outcome& b) {
  if (a.programs.size() != b.programs.size()) return false;
  for (size_t i = 0; i < a.programs.size(); ++i) {
    const ProgramOutcome& x = a.programs[i];
    const ProgramOutcome& y = b.programs[i];
    if (x.eligible != y.eligible || x.yearly_amount != y.yearly_amount || x.reason != y.reason ||
        x.award_count != y.award_count || a.program_id(x) != b.program_id(y)) {
      return false;
    }
    for (uint32_t k = 0; k < x.award_count; ++k) {
      const OutcomeAward& u = a.awards[x.first_award + k];
      const OutcomeAward& v = b.awards[y.first_award + k];
      if (u.kind != v.kind || u.yearly_amount != v.yearly_amount || a.nik(u) != b.nik(v)) return false;
    }
  }
  return true;
}

void EncodeOutcome(const Outcome& outcome, std::string* dst) {
  // Written through a pointer into a buffer of the largest size the outcome
  // can take (a varint is at most 10 bytes): one string operation instead
  // of one per field.
  size_t bound = 1 + 10;
  for (const ProgramOutcome& p : outcome.programs) {
    bound += 10 + p.id_size + 1 + 10 + 10 + 10;
    for (const OutcomeAward& a : outcome.awards_of(p)) bound += 10 + 10 + a.nik_size + 10;
  }
  dst->resize(bound);
  char* const begin = dst->data();
  char* w = begin;
  auto varint = [&w](uint64_t v) {
    while (v >= 0x80) {
      *w++ = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    *w++ = static_cast<char>(v);
  };
  auto bytes = [&w, &varint](std::string_view s) {
    varint(s.size());
    std::memcpy(w, s.data(), s.size());
    w += s.size();
  };
  *w++ = static_cast<char>(kOutcomeVersion);
  varint(outcome.programs.size());
  for (const ProgramOutcome& p : outcome.programs) {
    bytes(outcome.program_id(p));
    *w++ = static_cast<char>(p.eligible ? 1 : 0);
    varint(ZigZag(p.reason));
    varint(ZigZag(p.yearly_amount));
    varint(p.award_count);
    for (const OutcomeAward& a : outcome.awards_of(p)) {
      varint(ZigZag(a.kind));
      bytes(outcome.nik(a));
      varint(ZigZag(a.yearly_amount));
    }
  }
  dst->resize(static_cast<size_t>(w - begin));
}

std::string EncodeOutcome(const Outcome& outcome) {
  std::string s;
  EncodeOutcome(outcome, &s);
  return s;
}

absl::Status DecodeOutcome(std::string_view encoded, Outcome* out) {
  out->Clear();
  Reader r(encoded);
  auto bad = [](std::string_view field, std::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("outcome: ", Av(field), ": ", Av(what)));
  };
  uint8_t version;
  if (!r.Byte(&version)) return bad("version", "empty");
  if (version != kOutcomeVersion) {
    return bad("version", absl::StrCat("is ", version, ", expected ", kOutcomeVersion));
  }
  uint64_t count;
  if (!r.Varint(&count) || count > encoded.size()) return bad("programs", "bad count");
  for (uint64_t i = 0; i < count; ++i) {
    const std::string f = absl::StrCat("programs[", i, "]");
    ProgramOutcome p;
    std::string_view id;
    if (!r.String(&id)) return bad(f + ".program_id", "truncated");
    p.id_offset = static_cast<uint32_t>(out->text.size());
    p.id_size = static_cast<uint32_t>(id.size());
    out->text.append(id.data(), id.size());
    uint8_t flags;
    if (!r.Byte(&flags)) return bad(f + ".eligible", "truncated");
    if (flags > 1) return bad(f + ".eligible", absl::StrCat("unknown flags ", flags));
    p.eligible = flags == 1;
    int32_t reason;
    if (!r.Signed32(&reason)) return bad(f + ".reason", "truncated or out of range");
    p.reason = static_cast<v1::ReasonCode>(reason);
    if (!r.Signed(&p.yearly_amount)) return bad(f + ".yearly_amount", "truncated");
    uint64_t awards;
    if (!r.Varint(&awards) || awards > encoded.size()) return bad(f + ".awards", "bad count");
    p.first_award = static_cast<uint32_t>(out->awards.size());
    p.award_count = static_cast<uint32_t>(awards);
    for (uint64_t k = 0; k < awards; ++k) {
      const std::string g = absl::StrCat(f, ".awards[", k, "]");
      OutcomeAward a;
      int32_t kind;
      if (!r.Signed32(&kind)) return bad(g + ".kind", "truncated or out of range");
      a.kind = static_cast<v1::PkhComponentKind>(kind);
      std::string_view nik;
      if (!r.String(&nik)) return bad(g + ".nik", "truncated");
      a.nik_offset = static_cast<uint32_t>(out->text.size());
      a.nik_size = static_cast<uint32_t>(nik.size());
      out->text.append(nik.data(), nik.size());
      if (!r.Signed(&a.yearly_amount)) return bad(g + ".yearly_amount", "truncated");
      out->awards.push_back(a);
    }
    out->programs.push_back(p);
  }
  if (!r.done()) return bad("programs", "trailing bytes after the last program");
  return absl::OkStatus();
}

void OutcomeFromDecisions(absl::Span<const v1::Decision> decisions, Outcome* out) {
  out->Clear();
  for (const v1::Decision& d : decisions) {
    ProgramOutcome p;
    p.id_offset = static_cast<uint32_t>(out->text.size());
    p.id_size = static_cast<uint32_t>(d.program().size());
    out->text.append(d.program());
    p.eligible = d.eligible();
    p.yearly_amount = d.yearly_amount();
    p.reason = d.reasons_size() > 0 ? d.reasons(0).code() : v1::REASON_CODE_UNSPECIFIED;
    p.first_award = static_cast<uint32_t>(out->awards.size());
    p.award_count = static_cast<uint32_t>(d.components_size());
    for (const v1::ComponentAward& c : d.components()) {
      OutcomeAward a;
      a.kind = c.kind();
      a.yearly_amount = c.yearly_amount();
      a.nik_offset = static_cast<uint32_t>(out->text.size());
      a.nik_size = static_cast<uint32_t>(c.member_nik().size());
      out->text.append(c.member_nik());
      out->awards.push_back(a);
    }
    out->programs.push_back(p);
  }
}

Outcome OutcomeFromDecisions(absl::Span<const v1::Decision> decisions) {
  Outcome o;
  OutcomeFromDecisions(decisions, &o);
  return o;
}

// ---------------------------------------------------------------- rules

// The optimiser of internal/pkh_select.cc over candidates only (members
// without options change nothing there): the same depth-first search in
// the same order with the same bound, so that ties resolve identically.
struct CompiledRules::Search {
  const Component* comps;
  const Candidate* cands;
  size_t n;
  int max_components, max_children, max_under_six;
  const int64_t* suffix_max;  // max option amount over cands[i..]
  int8_t* current;
  int8_t* best;
  int64_t best_total = 0;

  void Visit(size_t i, int64_t total, int count, int children, int under_six) {
    if (total > best_total) {
      best_total = total;
      std::memcpy(best, current, n);
    }
    if (i == n || count >= max_components) return;
    // Every candidate has an option: n - i of them remain.
    const int slots = static_cast<int>(std::min<int64_t>(max_components - count, static_cast<int64_t>(n - i)));
    if (total + slots * suffix_max[i] <= best_total) return;
    for (uint32_t opts = cands[i].options; opts != 0; opts &= opts - 1) {
      const int k = __builtin_ctz(opts);
      const Component& c = comps[k];
      if (c.child && children >= max_children) continue;
      if (c.under_six && under_six >= max_under_six) continue;
      current[i] = static_cast<int8_t>(k);
      Visit(i + 1, total + c.amount, count + 1, children + (c.child ? 1 : 0), under_six + (c.under_six ? 1 : 0));
      current[i] = -1;
    }
    Visit(i + 1, total, count, children, under_six);
  }
};

absl::StatusOr<CompiledRules> CompiledRules::Compile(const v1::RuleSet& rules) {
  // Everything below relies on what validation guarantees: unique program
  // ids and component kinds (at most 7 components), amounts >= 1, age
  // bounds 0-150, PBI-JK bands covering 1-10, no exclusion cycle.
  if (absl::Status st = ValidateRuleSet(rules); !st.ok()) return st;
  CompiledRules c;
  const int n = rules.programs_size();
  c.programs_.resize(n);
  std::vector<bool> used_age(kMaxThresholdAge + 1, false);
  used_age[0] = true;  // ids of the ages are assigned below
  for (int i = 0; i < n; ++i) {
    const v1::ProgramRules& pr = rules.programs(i);
    Program& p = c.programs_[i];
    p.id_offset = static_cast<uint32_t>(c.ids_text_.size());
    p.id_size = static_cast<uint32_t>(pr.program_id().size());
    c.ids_text_ += pr.program_id();
    switch (pr.rules_case()) {
      case v1::ProgramRules::kPkh: {
        const v1::PkhRules& pkh = pr.pkh();
        p.type = Type::kPkh;
        p.max_decile = pkh.max_decile();
        p.max_components = pkh.caps().max_components();
        p.max_children = pkh.caps().max_children();
        p.max_under_six = pkh.caps().max_under_six();
        p.max_pregnancy_order = pkh.caps().max_pregnancy_order();
        for (const v1::PkhComponent& comp : pkh.components()) {
          Component k;
          k.kind = comp.kind();
          k.amount = comp.yearly_amount();
          switch (comp.kind()) {
            case v1::PKH_COMPONENT_KIND_PREGNANCY:
              k.test = Test::kPregnancy;
              break;
            case v1::PKH_COMPONENT_KIND_EARLY_CHILD:
            case v1::PKH_COMPONENT_KIND_ELDERLY:
              k.test = Test::kNone;
              break;
            case v1::PKH_COMPONENT_KIND_SEVERE_DISABILITY:
              k.test = Test::kDisability;
              break;
            default:  // the school kinds, as evaluate.cc's default branch
              k.test = Test::kSchool;
              k.school_level = comp.school_level();
              k.enrolment_required = comp.enrolment_required();
          }
          // Bounds: a known age (>= 0) and >= min, and <= max, i.e. not
          // >= max + 1. The indexes are ages here, made table indexes below.
          k.bounded = comp.has_min_age_years() || comp.has_max_age_years();
          if (k.bounded) {
            k.lo = comp.has_min_age_years() ? std::max(0, comp.min_age_years()) : 0;
            k.hi = comp.has_max_age_years() ? comp.max_age_years() + 1 : -1;
            used_age[k.lo] = true;
            if (k.hi >= 0) used_age[k.hi] = true;
          }
          k.child = IsChild(comp.kind());
          k.under_six = comp.kind() == v1::PKH_COMPONENT_KIND_EARLY_CHILD;
          p.components.push_back(k);
        }
        // The evaluator sorts each member's options by kind.
        std::stable_sort(p.components.begin(), p.components.end(),
                         [](const Component& a, const Component& b) { return a.kind < b.kind; });
        break;
      }
      case v1::ProgramRules::kBpnt:
        p.type = Type::kMonthly;
        p.max_decile = pr.bpnt().max_decile();
        p.monthly_amount = pr.bpnt().monthly_amount();
        break;
      case v1::ProgramRules::kBltDanaDesa:
        p.type = Type::kMonthly;
        p.max_decile = pr.blt_dana_desa().max_decile();
        p.monthly_amount = pr.blt_dana_desa().monthly_amount();
        break;
      case v1::ProgramRules::kPbiJk:
        p.type = Type::kPbiJk;
        p.premium_monthly = pr.pbi_jk().premium_per_member_monthly();
        for (int d = 1; d <= 10; ++d) {
          // The first band holding the decile, as the evaluator looks it up.
          for (const v1::PbiJkBand& b : pr.pbi_jk().bands()) {
            if (d >= b.min_decile() && d <= b.max_decile()) {
              p.covered[d] = b.covered();
              break;
            }
          }
        }
        break;
      case v1::ProgramRules::RULES_NOT_SET:
        p.type = Type::kNone;
        break;
    }
  }
  // Ages to table indexes.
  std::vector<int> index_of(kMaxThresholdAge + 1, -1);
  for (int age = 0; age <= kMaxThresholdAge; ++age) {
    if (!used_age[age]) continue;
    index_of[age] = static_cast<int>(c.threshold_ages_.size());
    c.threshold_ages_.push_back(age);
  }
  for (Program& p : c.programs_) {
    for (Component& k : p.components) {
      if (!k.bounded) continue;
      k.lo = index_of[k.lo];
      if (k.hi >= 0) k.hi = index_of[k.hi];
    }
  }

  // Evaluation order, as the evaluator's.
  c.order_ = rules_internal::EvaluationOrder(rules);
  // Exclusions resolved to the programs evaluated before: the evaluator
  // reads the last program of that id already decided.
  std::vector<bool> done(n, false);
  for (int i : c.order_) {
    const v1::ProgramRules& pr = rules.programs(i);
    using Ids = const google::protobuf::RepeatedPtrField<std::string>*;
    for (const auto& [ids, code] : {std::pair<Ids, v1::ReasonCode>{&pr.excluded_if_eligible_for(), v1::REASON_CODE_EXCLUDED_BY_PROGRAM},
                                    std::pair<Ids, v1::ReasonCode>{&pr.excluded_if_receiving(), v1::REASON_CODE_RECEIVING_PROGRAM}}) {
      for (const std::string& other : *ids) {
        int found = -1;
        for (int j = 0; j < n; ++j) {
          if (rules.programs(j).program_id() == other && done[j]) found = j;
        }
        if (found >= 0) c.programs_[i].excluded_by.emplace_back(found, code);
      }
    }
    c.programs_[i].has_region = pr.has_region();
    c.programs_[i].region = pr.region();
    done[i] = true;
  }
  return c;
}

std::string_view CompiledRules::program_id(size_t i) const {
  return std::string_view(ids_text_).substr(programs_[i].id_offset, programs_[i].id_size);
}

void CompiledRules::Evaluate(const CompactFamilyView& family, absl::CivilDay as_of, Outcome* out) const {
  out->programs.resize(programs_.size());
  out->awards.clear();
  out->text.assign(ids_text_);
  const int decile = family.decile();
  const int living = family.living_members();
  // Birth-date thresholds of threshold_ages_ at as_of, computed when a PKH
  // program first needs them.
  int64_t thresholds[kMaxThresholdAge + 1];
  bool have_thresholds = false;

  for (int i : order_) {
    const Program& p = programs_[i];
    ProgramOutcome& po = out->programs[i];
    po = ProgramOutcome{};
    po.id_offset = p.id_offset;
    po.id_size = p.id_size;
    po.first_award = static_cast<uint32_t>(out->awards.size());
    const size_t text_before = out->text.size();
    switch (p.type) {
      case Type::kPkh:
      case Type::kMonthly:
        // Gate: the first failing of assessment, decile, living members.
        if (decile == 0) {
          po.reason = v1::REASON_CODE_NO_ASSESSMENT;
        } else if (decile > p.max_decile) {
          po.reason = v1::REASON_CODE_DECILE_ABOVE_LIMIT;
        } else if (p.has_region && !rules_internal::RegionMeets(p.region, family.region_code())) {
          po.reason = v1::REASON_CODE_REGION_NOT_COVERED;
        } else if (living == 0) {
          po.reason = v1::REASON_CODE_NO_LIVING_MEMBER;
        } else if (p.type == Type::kMonthly) {
          po.eligible = true;
          po.reason = v1::REASON_CODE_ELIGIBLE;
          po.yearly_amount = p.monthly_amount * 12;
        } else {
          if (!have_thresholds) {
            for (size_t k = 0; k < threshold_ages_.size(); ++k) {
              thresholds[k] = LastBirthDayForAge(as_of, threshold_ages_[k]);
            }
            have_thresholds = true;
          }
          EvaluatePkh(p, family, thresholds, out, &po);
        }
        break;
      case Type::kPbiJk:
        // PBI-JK's decile gate is its band; the reasons come in the same
        // order as every program's (docs/rules.md).
        if (decile == 0) {
          po.reason = v1::REASON_CODE_NO_ASSESSMENT;
        } else if (!p.covered[decile]) {
          po.reason = v1::REASON_CODE_DECILE_NOT_COVERED;
        } else if (p.has_region && !rules_internal::RegionMeets(p.region, family.region_code())) {
          po.reason = v1::REASON_CODE_REGION_NOT_COVERED;
        } else if (living == 0) {
          po.reason = v1::REASON_CODE_NO_LIVING_MEMBER;
        } else {
          po.eligible = true;
          po.reason = v1::REASON_CODE_ELIGIBLE;
          po.yearly_amount = p.premium_monthly * static_cast<int64_t>(living) * 12;
        }
        break;
      case Type::kNone:
        break;
    }
    if (po.eligible) {
      for (const auto& [j, code] : p.excluded_by) {
        if (!out->programs[j].eligible) continue;
        po.eligible = false;
        po.yearly_amount = 0;
        po.reason = code;
        po.award_count = 0;
        out->awards.resize(po.first_award);
        out->text.resize(text_before);
        break;
      }
    }
  }
}

void CompiledRules::EvaluatePkh(const Program& p, const CompactFamilyView& family, const int64_t* thresholds,
                                Outcome* out, ProgramOutcome* po) const {
  // Candidates: living members with at least one component, NIK order.
  constexpr size_t kInline = 64;
  Candidate inline_cands[kInline];
  std::vector<Candidate> heap_cands;  // families with more than kInline candidates
  Candidate* cands = inline_cands;
  size_t n = 0;
  const absl::Span<const CompactMember> members = family.members();
  const size_t ncomp = p.components.size();
  for (size_t mi = 0; mi < members.size(); ++mi) {
    const CompactMember& m = members[mi];
    if (!m.alive) continue;
    uint32_t options = 0;
    for (size_t k = 0; k < ncomp; ++k) {
      const Component& c = p.components[k];
      if (c.bounded) {
        if (m.birth_days > thresholds[c.lo]) continue;
        if (c.hi >= 0 && m.birth_days <= thresholds[c.hi]) continue;
      }
      switch (c.test) {
        case Test::kNone:
          break;
        case Test::kPregnancy:
          if (!m.pregnant || m.pregnancy_order < 1 || m.pregnancy_order > p.max_pregnancy_order) continue;
          break;
        case Test::kDisability:
          if (m.disability != v1::DISABILITY_SEVERE) continue;
          break;
        case Test::kSchool:
          if (m.school_level != c.school_level || (c.enrolment_required && !m.school_enrolled)) continue;
          break;
      }
      options |= uint32_t{1} << k;
    }
    if (options == 0) continue;
    if (n == kInline && heap_cands.empty()) {
      heap_cands.assign(inline_cands, inline_cands + kInline);
      cands = nullptr;
    }
    if (cands == nullptr) {
      heap_cands.push_back({static_cast<uint32_t>(mi), options});
    } else {
      cands[n] = {static_cast<uint32_t>(mi), options};
    }
    ++n;
  }
  if (cands == nullptr) cands = heap_cands.data();
  if (n == 0) {
    po->reason = v1::REASON_CODE_NO_COMPONENT;
    return;
  }

  // Each candidate at their highest amount (the lowest kind among equal
  // amounts). When that fits every cap it is the optimum, and the
  // lexicographically smallest one: every candidate must be in an optimal
  // award (amounts are positive), each at a highest amount, and a lower
  // kind sorts first.
  int8_t pick_inline[kInline];
  std::vector<int8_t> pick_heap;
  int8_t* pick = pick_inline;
  if (n > kInline) {
    pick_heap.resize(n);
    pick = pick_heap.data();
  }
  int children = 0, under_six = 0;
  for (size_t i = 0; i < n; ++i) {
    int best = -1;
    for (uint32_t opts = cands[i].options; opts != 0; opts &= opts - 1) {
      const int k = __builtin_ctz(opts);
      if (best < 0 || p.components[k].amount > p.components[best].amount) best = k;
    }
    pick[i] = static_cast<int8_t>(best);
    children += p.components[best].child ? 1 : 0;
    under_six += p.components[best].under_six ? 1 : 0;
  }
  if (static_cast<int64_t>(n) > p.max_components || children > p.max_children || under_six > p.max_under_six) {
    // A cap is in the way: the exhaustive search.
    int64_t suffix_inline[kInline + 1];
    int8_t current_inline[kInline];
    std::vector<int64_t> suffix_heap;
    std::vector<int8_t> current_heap;
    int64_t* suffix = suffix_inline;
    int8_t* current = current_inline;
    if (n > kInline) {
      suffix_heap.resize(n + 1);
      current_heap.resize(n);
      suffix = suffix_heap.data();
      current = current_heap.data();
    }
    suffix[n] = 0;
    for (size_t i = n; i-- > 0;) {
      int64_t m = 0;
      for (uint32_t opts = cands[i].options; opts != 0; opts &= opts - 1) {
        m = std::max(m, p.components[__builtin_ctz(opts)].amount);
      }
      suffix[i] = std::max(suffix[i + 1], m);
    }
    std::memset(current, -1, n);
    std::memset(pick, -1, n);
    Search s{p.components.data(), cands, n, p.max_components, p.max_children, p.max_under_six,
             suffix, current, pick};
    s.Visit(0, 0, 0, 0, 0);
  }

  int64_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    if (pick[i] < 0) continue;
    const Component& c = p.components[pick[i]];
    const std::string_view nik = members[cands[i].member].nik;
    OutcomeAward a;
    a.kind = c.kind;
    a.yearly_amount = c.amount;
    a.nik_offset = static_cast<uint32_t>(out->text.size());
    a.nik_size = static_cast<uint32_t>(nik.size());
    out->text.append(nik.data(), nik.size());
    out->awards.push_back(a);
    total += c.amount;
  }
  po->award_count = static_cast<uint32_t>(out->awards.size()) - po->first_award;
  if (po->award_count == 0) {
    po->reason = v1::REASON_CODE_NO_COMPONENT;
    return;
  }
  po->eligible = true;
  po->yearly_amount = total;
  po->reason = v1::REASON_CODE_ELIGIBLE;
}

}  // namespace jaring::rules
