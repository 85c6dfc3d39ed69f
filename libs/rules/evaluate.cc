#include "libs/rules/evaluate.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/base/strings.h"
#include "libs/rules/internal/conditions.h"
#include "libs/rules/internal/pkh_select.h"
#include "libs/rules/internal/text.h"
#include "libs/rules/rules.h"

namespace jaring::rules {
namespace {

using rules_internal::PkhLimits;
using rules_internal::PkhOption;
using rules_internal::PkhPerson;
using rules_internal::RupiahEn;
using rules_internal::RupiahId;

// What every program reads from the family, computed once per evaluation.
struct Context {
  const v1::Family& family;
  absl::CivilDay as_of;
  bool explain;
  absl::Span<const ProgramReceipt> receipts;
  bool assessed = false;  // a decile 1-10 is on record
  int decile = 0;
  int members = 0;
  std::vector<const v1::Member*> living;  // in card order
};

// Clause inputs as (key, value) pairs.
using Inputs = std::initializer_list<std::pair<std::string_view, std::string>>;

v1::ClauseResult* AddClause(v1::Decision& d, std::string clause_id, std::string description_id,
                            std::string description_en, bool passed, Inputs inputs) {
  v1::ClauseResult* c = d.add_clauses();
  c->set_clause_id(std::move(clause_id));
  c->set_description_id(std::move(description_id));
  c->set_description_en(std::move(description_en));
  c->set_passed(passed);
  for (const auto& [key, value] : inputs) {
    v1::ClauseInput* in = c->add_inputs();
    in->set_key(std::string(key));
    in->set_value(value);
  }
  return c;
}

void AddReason(v1::Decision& d, v1::ReasonCode code, std::string text_id, std::string text_en) {
  v1::Reason* r = d.add_reasons();
  r->set_code(code);
  r->set_text_id(std::move(text_id));
  r->set_text_en(std::move(text_en));
}

std::string Bool(bool b) { return b ? "true" : "false"; }
std::string Int(int64_t v) { return absl::StrCat(v); }
std::string AgeText(int age) { return age < 0 ? "unknown" : Int(age); }

// Appends the stages of `year` that pay `yearly` in payments of
// `months_per_stage` months each: equal parts, the remainder in the last.
void AddStages(v1::Decision& d, int year, int64_t yearly, int months_per_stage) {
  if (months_per_stage < 1 || months_per_stage > 12 || 12 % months_per_stage != 0) return;
  const int n = 12 / months_per_stage;
  const int64_t each = yearly / n;
  const int64_t remainder = yearly - each * n;
  for (int i = 0; i < n; ++i) {
    v1::StagePayment* s = d.add_stages();
    const int first = 1 + i * months_per_stage;
    s->set_period(rules_internal::PeriodLabel(year, first, months_per_stage));
    s->set_amount(each + (i == n - 1 ? remainder : 0));
    s->set_first_month(first);
    s->set_month_count(months_per_stage);
  }
}

// The clauses every program starts with: an assessment, a decile within the
// limit (skipped when max_decile is 0: PBI-JK reads bands instead) and a
// living member. Adds the failing reasons; returns whether all passed.
const char* VillageTypeName(v1::VillageType t, bool en) {
  switch (t) {
    case v1::VILLAGE_TYPE_DESA:
      return "desa";
    case v1::VILLAGE_TYPE_KELURAHAN:
      return "kelurahan";
    default:
      return en ? "unknown" : "tidak diketahui";
  }
}

// The region clause and reason of a program with a region condition.
bool RegionGate(const Context& ctx, v1::Decision& d, const std::string& prefix, const v1::ProgramRules& p) {
  if (!p.has_region()) return true;
  const v1::RegionCondition& rc = p.region();
  const std::string& code = ctx.family.region_code();
  const v1::VillageType type = rules_internal::VillageTypeOf(code);
  const bool type_ok = rc.village_type() == v1::VILLAGE_TYPE_UNSPECIFIED || type == rc.village_type();
  const bool ok = rules_internal::RegionMeets(rc, code);
  const std::string prefixes = absl::StrJoin(rc.region_prefixes(), ",");
  if (ctx.explain) {
    std::string did = "Wilayah keluarga termasuk wilayah program", den = "The family's region is in the program's area";
    if (rc.village_type() != v1::VILLAGE_TYPE_UNSPECIFIED) {
      absl::StrAppend(&did, " (", VillageTypeName(rc.village_type(), false), ")");
      absl::StrAppend(&den, " (", VillageTypeName(rc.village_type(), true), ")");
    }
    AddClause(d, prefix + ".region", std::move(did), std::move(den), ok,
              {{"region_code", code},
               {"village_type", v1::VillageType_Name(type)},
               {"required_village_type", v1::VillageType_Name(rc.village_type())},
               {"region_prefixes", prefixes}});
  }
  if (ok) return true;
  if (!type_ok) {
    AddReason(d, v1::REASON_CODE_REGION_NOT_COVERED,
              absl::StrCat("Wilayah ", code, " adalah ", VillageTypeName(type, false), "; ", p.program_id(),
                           " hanya untuk ", VillageTypeName(rc.village_type(), false)),
              absl::StrCat("Region ", code, " is ", type == v1::VILLAGE_TYPE_UNSPECIFIED ? "of unknown village type" : absl::StrCat("a ", VillageTypeName(type, true)),
                           "; ", p.program_id(), " is for ", VillageTypeName(rc.village_type(), true), " only"));
  } else {
    AddReason(d, v1::REASON_CODE_REGION_NOT_COVERED,
              absl::StrCat("Wilayah ", code, " di luar wilayah ", p.program_id(), " (", prefixes, ")"),
              absl::StrCat("Region ", code, " is outside the area of ", p.program_id(), " (", prefixes, ")"));
  }
  return false;
}

// The documented order of the gate reasons: assessment, decile (limit or
// PBI-JK band), region, living members.
int GateRank(v1::ReasonCode code) {
  switch (code) {
    case v1::REASON_CODE_NO_ASSESSMENT:
      return 0;
    case v1::REASON_CODE_DECILE_ABOVE_LIMIT:
    case v1::REASON_CODE_DECILE_NOT_COVERED:
      return 1;
    case v1::REASON_CODE_REGION_NOT_COVERED:
      return 2;
    case v1::REASON_CODE_NO_LIVING_MEMBER:
      return 3;
    default:
      return 4;
  }
}

void OrderGateReasons(v1::Decision& d) {
  std::vector<v1::Reason> reasons(d.reasons().begin(), d.reasons().end());
  std::stable_sort(reasons.begin(), reasons.end(),
                   [](const v1::Reason& a, const v1::Reason& b) { return GateRank(a.code()) < GateRank(b.code()); });
  d.clear_reasons();
  for (v1::Reason& r : reasons) *d.add_reasons() = std::move(r);
}

bool Gate(const Context& ctx, v1::Decision& d, const std::string& prefix, int max_decile, const v1::ProgramRules& p) {
  bool ok = true;
  if (ctx.explain) {
    AddClause(d, prefix + ".assessment", "Keluarga memiliki penilaian desil DTSEN",
              "The family has a DTSEN decile assessment", ctx.assessed,
              {{"dtsen_round", ctx.family.latest_assessment().round()},
               {"decile", ctx.assessed ? Int(ctx.decile) : "none"}});
  }
  if (!ctx.assessed) {
    AddReason(d, v1::REASON_CODE_NO_ASSESSMENT, "Belum ada penilaian desil DTSEN untuk keluarga ini",
              "The family has no DTSEN decile assessment");
    ok = false;
  }
  if (max_decile > 0) {
    const bool within = ctx.assessed && ctx.decile <= max_decile;
    if (ctx.explain) {
      AddClause(d, prefix + ".decile", absl::StrCat("Desil paling tinggi ", max_decile),
                absl::StrCat("Decile at most ", max_decile), within,
                {{"decile", ctx.assessed ? Int(ctx.decile) : "none"}, {"max_decile", Int(max_decile)}});
    }
    if (ctx.assessed && !within) {
      AddReason(d, v1::REASON_CODE_DECILE_ABOVE_LIMIT,
                absl::StrCat("Desil ", ctx.decile, " di atas batas ", max_decile),
                absl::StrCat("Decile ", ctx.decile, " is above the limit of ", max_decile));
      ok = false;
    }
  }
  if (!RegionGate(ctx, d, prefix, p)) ok = false;
  const bool living = !ctx.living.empty();
  if (ctx.explain) {
    AddClause(d, prefix + ".living_members", "Keluarga memiliki anggota yang masih hidup",
              "The family has a living member", living,
              {{"members", Int(ctx.members)}, {"living_members", Int(static_cast<int64_t>(ctx.living.size()))}});
  }
  if (!living) {
    AddReason(d, v1::REASON_CODE_NO_LIVING_MEMBER, "Tidak ada anggota keluarga yang masih hidup",
              "The family has no living member");
    ok = false;
  }
  return ok;
}

// ---------------------------------------------------------------- PKH

std::string KindSlug(v1::PkhComponentKind kind) {
  std::string name = v1::PkhComponentKind_Name(kind);
  constexpr std::string_view kPrefix = "PKH_COMPONENT_KIND_";
  if (name.rfind(kPrefix, 0) == 0) name = name.substr(kPrefix.size());
  return absl::AsciiStrToLower(name);
}

std::pair<std::string, std::string> SchoolName(v1::SchoolLevel level) {
  switch (level) {
    case v1::SCHOOL_LEVEL_EARLY_CHILDHOOD:
      return {"PAUD", "early childhood education"};
    case v1::SCHOOL_LEVEL_PRIMARY:
      return {"SD/MI", "primary school"};
    case v1::SCHOOL_LEVEL_JUNIOR_SECONDARY:
      return {"SMP/MTs", "junior secondary school"};
    case v1::SCHOOL_LEVEL_SENIOR_SECONDARY:
      return {"SMA/SMK/MA", "senior secondary school"};
    case v1::SCHOOL_LEVEL_HIGHER:
      return {"perguruan tinggi", "higher education"};
    default:
      return {"tidak sekolah", "no school"};
  }
}

// "Anak SD/MI, terdaftar di sekolah (usia 0-5 tahun)" and its English.
std::pair<std::string, std::string> ComponentDescription(const v1::PkhComponent& comp,
                                                         int max_pregnancy_order) {
  std::string id, en;
  switch (comp.kind()) {
    case v1::PKH_COMPONENT_KIND_PREGNANCY:
      id = absl::StrCat("Ibu hamil, kehamilan ke-1 sampai ke-", max_pregnancy_order);
      en = absl::StrCat("Pregnant, pregnancy number 1 to ", max_pregnancy_order);
      break;
    case v1::PKH_COMPONENT_KIND_EARLY_CHILD:
      id = "Anak usia dini";
      en = "Early-childhood child";
      break;
    case v1::PKH_COMPONENT_KIND_SEVERE_DISABILITY:
      id = "Penyandang disabilitas berat";
      en = "Person with a severe disability";
      break;
    case v1::PKH_COMPONENT_KIND_ELDERLY:
      id = "Lanjut usia";
      en = "Elderly person";
      break;
    default: {
      auto [sid, sen] = SchoolName(comp.school_level());
      id = absl::StrCat("Anak ", sid);
      en = absl::StrCat("Child in ", sen);
      if (comp.enrolment_required()) {
        absl::StrAppend(&id, ", terdaftar di sekolah (Dapodik)");
        absl::StrAppend(&en, ", enrolled (Dapodik)");
      }
    }
  }
  if (comp.has_min_age_years() && comp.has_max_age_years()) {
    absl::StrAppend(&id, " (usia ", comp.min_age_years(), "-", comp.max_age_years(), " tahun)");
    absl::StrAppend(&en, " (aged ", comp.min_age_years(), "-", comp.max_age_years(), ")");
  } else if (comp.has_min_age_years()) {
    absl::StrAppend(&id, " (usia ", comp.min_age_years(), " tahun ke atas)");
    absl::StrAppend(&en, " (aged ", comp.min_age_years(), " or over)");
  } else if (comp.has_max_age_years()) {
    absl::StrAppend(&id, " (usia sampai ", comp.max_age_years(), " tahun)");
    absl::StrAppend(&en, " (aged up to ", comp.max_age_years(), ")");
  }
  absl::StrAppend(&id, ": ", RupiahId(comp.yearly_amount()), " per tahun");
  absl::StrAppend(&en, ": ", RupiahEn(comp.yearly_amount()), " a year");
  return {id, en};
}

bool AgeWithin(const v1::PkhComponent& comp, int age) {
  if (!comp.has_min_age_years() && !comp.has_max_age_years()) return true;
  if (age < 0) return false;
  if (comp.has_min_age_years() && age < comp.min_age_years()) return false;
  if (comp.has_max_age_years() && age > comp.max_age_years()) return false;
  return true;
}

struct PkhMember {
  const v1::Member* member;
  int age;
  PkhPerson person;
  std::vector<int> option_clause;  // clause index per option (-1 without explain)
  std::vector<int> clauses;        // every component clause of this member
};

// The caps, in the order their clauses and reasons are listed.
constexpr int kCapCount = 3;

void EvaluatePkh(const Context& ctx, const v1::ProgramRules& p, v1::Decision& d) {
  const v1::PkhRules& pkh = p.pkh();
  const std::string prefix = absl::AsciiStrToLower(p.program_id());
  const bool gate = Gate(ctx, d, prefix, pkh.max_decile(), p);
  const v1::PkhCaps& caps = pkh.caps();

  // Candidates per living member, in NIK order (card order among equal NIKs).
  std::vector<PkhMember> ms;
  ms.reserve(ctx.living.size());
  for (const v1::Member* m : ctx.living) ms.push_back({m, AgeInYears(m->birth_date(), ctx.as_of), {}, {}, {}});
  std::stable_sort(ms.begin(), ms.end(),
                   [](const PkhMember& a, const PkhMember& b) { return a.member->nik() < b.member->nik(); });

  int not_enrolled = 0;
  std::vector<std::pair<int, bool>> pregnancies_refused;  // (order, known)
  for (PkhMember& pm : ms) {
    const v1::Member& m = *pm.member;
    const v1::MemberAttributes& a = m.attributes();
    bool member_not_enrolled = false;
    for (const v1::PkhComponent& comp : pkh.components()) {
      bool ok = AgeWithin(comp, pm.age);
      const std::string slug = KindSlug(comp.kind());
      std::vector<std::pair<std::string_view, std::string>> in;
      if (ctx.explain) {
        in.emplace_back("member_nik", m.nik());
        in.emplace_back("age", AgeText(pm.age));
      }
      switch (comp.kind()) {
        case v1::PKH_COMPONENT_KIND_PREGNANCY: {
          const int order = a.has_pregnancy_order() ? a.pregnancy_order() : 0;
          const bool pregnant = a.has_pregnant() && a.pregnant();
          const bool order_ok = order >= 1 && order <= caps.max_pregnancy_order();
          if (pregnant && !order_ok) pregnancies_refused.emplace_back(order, order >= 1);
          ok = ok && pregnant && order_ok;
          if (ctx.explain) {
            in.emplace_back("pregnant", Bool(pregnant));
            in.emplace_back("pregnancy_order", order >= 1 ? Int(order) : "unknown");
            in.emplace_back("max_pregnancy_order", Int(caps.max_pregnancy_order()));
          }
          break;
        }
        case v1::PKH_COMPONENT_KIND_EARLY_CHILD:
        case v1::PKH_COMPONENT_KIND_ELDERLY:
          break;
        case v1::PKH_COMPONENT_KIND_SEVERE_DISABILITY: {
          const bool severe = a.has_disability() && a.disability() == v1::DISABILITY_SEVERE;
          ok = ok && severe;
          if (ctx.explain) in.emplace_back("disability", v1::Disability_Name(a.disability()));
          break;
        }
        default: {  // school components
          const bool level = a.has_school_level() && a.school_level() == comp.school_level();
          const bool enrolled = a.has_school_enrolled() && a.school_enrolled();
          // Not enrolled counts only for a child the component's age bounds admit.
          if (level && comp.enrolment_required() && !enrolled && ok) member_not_enrolled = true;
          ok = ok && level && (enrolled || !comp.enrolment_required());
          if (ctx.explain) {
            in.emplace_back("school_level", v1::SchoolLevel_Name(a.school_level()));
            in.emplace_back("school_enrolled", Bool(enrolled));
          }
        }
      }
      int clause = -1;
      if (ctx.explain) {
        auto [did, den] = ComponentDescription(comp, caps.max_pregnancy_order());
        clause = d.clauses_size();
        v1::ClauseResult* c = AddClause(d, absl::StrCat(prefix, ".component.", slug, ":", m.nik()),
                                        std::move(did), std::move(den), ok, {});
        for (auto& [k, v] : in) {
          v1::ClauseInput* ci = c->add_inputs();
          ci->set_key(std::string(k));
          ci->set_value(std::move(v));
        }
        pm.clauses.push_back(clause);
      }
      if (ok) {
        pm.person.options.push_back({comp.kind(), comp.yearly_amount()});
        pm.option_clause.push_back(clause);
      }
    }
    if (member_not_enrolled) ++not_enrolled;
    // Options in ascending kind order (the tie-break's order).
    std::vector<size_t> order(pm.person.options.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t x, size_t y) {
      return pm.person.options[x].kind < pm.person.options[y].kind;
    });
    PkhPerson sorted;
    std::vector<int> sorted_clause;
    for (size_t i : order) {
      sorted.options.push_back(pm.person.options[i]);
      sorted_clause.push_back(pm.option_clause[i]);
    }
    pm.person = std::move(sorted);
    pm.option_clause = std::move(sorted_clause);
  }

  std::vector<PkhPerson> persons;
  persons.reserve(ms.size());
  for (const PkhMember& pm : ms) persons.push_back(pm.person);
  const PkhLimits limits{caps.max_components(), caps.max_children(), caps.max_under_six()};
  const std::vector<int> pick = rules_internal::SelectPkhComponents(persons, limits);

  // Each qualifying person at their highest amount, caps ignored: what the
  // caps are measured against.
  int qualifying = 0, children = 0, under_six = 0;
  for (const PkhPerson& p : persons) {
    if (p.options.empty()) continue;
    const PkhOption* best = &p.options[0];
    for (const PkhOption& o : p.options) {
      if (o.amount > best->amount) best = &o;
    }
    ++qualifying;
    if (rules_internal::IsChildKind(best->kind)) ++children;
    if (rules_internal::IsUnderSixKind(best->kind)) ++under_six;
  }

  int64_t total = 0;
  int awarded = 0;
  for (size_t i = 0; i < ms.size(); ++i) {
    if (pick[i] < 0) continue;
    total += persons[i].options[pick[i]].amount;
    ++awarded;
  }

  // Which caps removed what. The caps exceeded by the candidates at their
  // highest amounts can be lifted in any combination (at most 3 caps, 7
  // combinations). A member is cut when they get less than their highest
  // candidate; a combination restores them when, with those caps lifted,
  // the family's total rises and the member gets more. The caps that
  // removed a member are the union of the smallest combinations that
  // restore them (every combination of exceeded caps lifted at once
  // restores every cut member, so each cut member names at least one cap).
  struct Cap {
    std::string_view slug;
    int count;
    int max;
    int PkhLimits::*field;
    const char* name_id;  // "batas anak"
    const char* name_en;  // "the children cap"
  };
  const Cap cap_list[kCapCount] = {
      {"max_components", qualifying, caps.max_components(), &PkhLimits::max_components, "batas komponen",
       "the components cap"},
      {"max_children", children, caps.max_children(), &PkhLimits::max_children, "batas anak", "the children cap"},
      {"max_under_six", under_six, caps.max_under_six(), &PkhLimits::max_under_six, "batas anak usia dini",
       "the under-six cap"},
  };
  unsigned exceeded = 0;
  for (int c = 0; c < kCapCount; ++c) {
    if (cap_list[c].count > cap_list[c].max) exceeded |= 1u << c;
  }
  auto amount_of = [&](const std::vector<int>& chosen, size_t i) -> int64_t {
    return chosen[i] < 0 ? 0 : persons[i].options[chosen[i]].amount;
  };
  std::vector<int64_t> highest(ms.size(), 0);
  for (size_t i = 0; i < ms.size(); ++i) {
    for (const PkhOption& o : persons[i].options) highest[i] = std::max(highest[i], o.amount);
  }
  std::vector<unsigned> removed_by(ms.size(), 0);  // bit c: cap_list[c]
  if (exceeded != 0) {
    std::vector<std::pair<unsigned, std::vector<int>>> lifts;  // combinations that raise the total
    for (unsigned set = 1; set < (1u << kCapCount); ++set) {
      if ((set & exceeded) != set) continue;
      PkhLimits lifted = limits;
      for (int c = 0; c < kCapCount; ++c) {
        if (set & (1u << c)) lifted.*cap_list[c].field = 1 << 20;
      }
      std::vector<int> chosen = rules_internal::SelectPkhComponents(persons, lifted);
      int64_t t = 0;
      for (size_t i = 0; i < ms.size(); ++i) t += amount_of(chosen, i);
      if (t > total) lifts.emplace_back(set, std::move(chosen));
    }
    for (size_t i = 0; i < ms.size(); ++i) {
      if (amount_of(pick, i) >= highest[i]) continue;
      std::vector<unsigned> restoring;
      for (const auto& [set, chosen] : lifts) {
        if (amount_of(chosen, i) > amount_of(pick, i)) restoring.push_back(set);
      }
      for (unsigned set : restoring) {
        const bool minimal = std::none_of(restoring.begin(), restoring.end(), [set](unsigned other) {
          return other != set && (other & set) == other;
        });
        if (minimal) removed_by[i] |= set;
      }
    }
  }
  auto cap_names = [&](unsigned set) {  // "max_components,max_children"
    std::string out;
    for (int c = 0; c < kCapCount; ++c) {
      if (!(set & (1u << c))) continue;
      if (!out.empty()) out += ",";
      absl::StrAppend(&out, Av(cap_list[c].slug));
    }
    return out;
  };
  if (ctx.explain) {
    for (size_t i = 0; i < ms.size(); ++i) {
      for (size_t k = 0; k < ms[i].clauses.size(); ++k) {
        const int c = ms[i].clauses[k];
        const bool chosen = pick[i] >= 0 && ms[i].option_clause[pick[i]] == c;
        v1::ClauseInput* in = d.mutable_clauses(c)->add_inputs();
        in->set_key("awarded");
        in->set_value(Bool(chosen));
      }
      if (removed_by[i] == 0) continue;
      // The member's candidates above what they got name the caps.
      for (size_t o = 0; o < persons[i].options.size(); ++o) {
        if (persons[i].options[o].amount <= amount_of(pick, i) || ms[i].option_clause[o] < 0) continue;
        v1::ClauseInput* in = d.mutable_clauses(ms[i].option_clause[o])->add_inputs();
        in->set_key("removed_by");
        in->set_value(cap_names(removed_by[i]));
      }
    }
  }

  struct Removal {
    int without = 0;  // cut members left without a component
    int lower = 0;    // cut members given a lower one
    unsigned with = 0;  // the other caps named together with this one
    std::string members;  // their NIKs, comma-separated, NIK order
  };
  Removal removal[kCapCount];
  for (size_t i = 0; i < ms.size(); ++i) {
    for (int c = 0; c < kCapCount; ++c) {
      if (!(removed_by[i] & (1u << c))) continue;
      Removal& r = removal[c];
      ++(pick[i] < 0 ? r.without : r.lower);
      r.with |= removed_by[i] & ~(1u << c);
      if (!r.members.empty()) r.members += ",";
      r.members += ms[i].member->nik();
    }
  }
  std::vector<std::pair<std::string, std::string>> applied;  // reason sentences, cap order
  for (int c = 0; c < kCapCount; ++c) {
    const Cap& cap = cap_list[c];
    const Removal& r = removal[c];
    const bool bites = r.without + r.lower > 0;
    if (bites) {
      std::string id, en;
      if (cap.slug == "max_components") {
        id = absl::StrCat("Komponen dibatasi paling banyak ", cap.max, "; ", cap.count, " anggota memenuhi syarat");
        en = absl::StrCat("Components are capped at ", cap.max, "; ", cap.count, " members qualify");
      } else if (cap.slug == "max_children") {
        id = absl::StrCat("Anak dibatasi paling banyak ", cap.max, "; ", cap.count, " anak memenuhi syarat");
        en = absl::StrCat("Children are capped at ", cap.max, "; ", cap.count, " children qualify");
      } else {
        id = absl::StrCat("Anak usia dini dibatasi paling banyak ", cap.max, "; ", cap.count, " anak memenuhi syarat");
        en = absl::StrCat("Early-childhood children are capped at ", cap.max, "; ", cap.count, " children qualify");
      }
      std::vector<std::string> parts_id, parts_en;
      if (r.without > 0) {
        parts_id.push_back(absl::StrCat(r.without, " anggota tanpa komponen"));
        parts_en.push_back(absl::StrCat(r.without, r.without == 1 ? " member" : " members", " left without a component"));
      }
      if (r.lower > 0) {
        parts_id.push_back(absl::StrCat(r.lower, " anggota dengan komponen lebih rendah"));
        parts_en.push_back(absl::StrCat(r.lower, r.lower == 1 ? " member" : " members", " given a lower component"));
      }
      absl::StrAppend(&id, "; ", absl::StrJoin(parts_id, ", "));
      absl::StrAppend(&en, "; ", absl::StrJoin(parts_en, ", "));
      if (r.with != 0) {
        std::vector<std::string> with_id, with_en;
        for (int o = 0; o < kCapCount; ++o) {
          if (!(r.with & (1u << o))) continue;
          with_id.push_back(cap_list[o].name_id);
          with_en.push_back(cap_list[o].name_en);
        }
        absl::StrAppend(&id, " (bersama ", absl::StrJoin(with_id, " dan "), ")");
        absl::StrAppend(&en, " (together with ", absl::StrJoin(with_en, " and "), ")");
      }
      applied.emplace_back(std::move(id), std::move(en));
    }
    if (ctx.explain) {
      std::string did, den;
      if (cap.slug == "max_components") {
        did = absl::StrCat("Paling banyak ", cap.max, " komponen per keluarga");
        den = absl::StrCat("At most ", cap.max, " components per family");
      } else if (cap.slug == "max_children") {
        did = absl::StrCat("Paling banyak ", cap.max, " komponen anak");
        den = absl::StrCat("At most ", cap.max, " child components");
      } else {
        did = absl::StrCat("Paling banyak ", cap.max, " komponen anak usia dini");
        den = absl::StrCat("At most ", cap.max, " early-childhood components");
      }
      AddClause(d, absl::StrCat(prefix, ".cap.", Av(cap.slug)), std::move(did), std::move(den), !bites,
                {{"qualifying", Int(cap.count)},
                 {"max", Int(cap.max)},
                 {"awarded_components", Int(awarded)},
                 {"removed", Int(r.without + r.lower)},
                 {"removed_without_component", Int(r.without)},
                 {"removed_to_lower_component", Int(r.lower)},
                 {"removed_members", r.members},
                 {"together_with", cap_names(r.with)}});
    }
  }
  if (ctx.explain) {
    AddClause(d, prefix + ".at_least_one_component", "Paling sedikit satu komponen",
              "At least one component", awarded > 0,
              {{"awarded_components", Int(awarded)}, {"yearly_amount", Int(total)}});
  }

  if (!gate) return;
  if (awarded == 0) {
    AddReason(d, v1::REASON_CODE_NO_COMPONENT, "Tidak ada anggota yang memenuhi komponen PKH",
              "No member qualifies for a PKH component");
  } else {
    d.set_eligible(true);
    d.set_yearly_amount(total);
    for (size_t i = 0; i < ms.size(); ++i) {
      if (pick[i] < 0) continue;
      v1::ComponentAward* c = d.add_components();
      c->set_kind(persons[i].options[pick[i]].kind);
      c->set_member_nik(ms[i].member->nik());
      c->set_yearly_amount(persons[i].options[pick[i]].amount);
    }
    AddStages(d, ctx.as_of.year(), total, pkh.stages_per_year() > 0 ? 12 / pkh.stages_per_year() : 0);
    AddReason(d, v1::REASON_CODE_ELIGIBLE,
              absl::StrCat("Layak: desil ", ctx.decile, " dalam batas ", pkh.max_decile(), "; ", awarded,
                           " komponen, ", RupiahId(total), " per tahun"),
              absl::StrCat("Eligible: decile ", ctx.decile, " is within the limit of ", pkh.max_decile(),
                           "; ", awarded, awarded == 1 ? " component, " : " components, ", RupiahEn(total),
                           " a year"));
    for (auto& [id, en] : applied) AddReason(d, v1::REASON_CODE_CAP_APPLIED, std::move(id), std::move(en));
  }
  for (const auto& [order, known] : pregnancies_refused) {
    if (known) {
      AddReason(d, v1::REASON_CODE_PREGNANCY_ORDER_ABOVE_LIMIT,
                absl::StrCat("Kehamilan ke-", order, " di atas batas kehamilan ke-", caps.max_pregnancy_order()),
                absl::StrCat("Pregnancy number ", order, " is above the limit of ", caps.max_pregnancy_order()));
    } else {
      AddReason(d, v1::REASON_CODE_PREGNANCY_ORDER_ABOVE_LIMIT,
                "Urutan kehamilan tidak diketahui; komponen kehamilan tidak diberikan",
                "The pregnancy's order is unknown; no pregnancy component");
    }
  }
  if (not_enrolled > 0) {
    AddReason(d, v1::REASON_CODE_NOT_ENROLLED,
              absl::StrCat(not_enrolled, " anak tidak terdaftar di sekolah (Dapodik); komponen sekolah tidak diberikan"),
              absl::StrCat(not_enrolled, not_enrolled == 1 ? " child is" : " children are",
                           " not enrolled in school (Dapodik); no school component"));
  }
}

// ---------------------------------------------------------------- BPNT, BLT

// A flat monthly benefit for families with decile <= max_decile.
void EvaluateMonthly(const Context& ctx, const v1::ProgramRules& p, const std::string& prefix, int max_decile,
                     int64_t monthly, int months_per_disbursement, v1::Decision& d) {
  if (!Gate(ctx, d, prefix, max_decile, p)) return;
  const int64_t yearly = monthly * 12;
  d.set_eligible(true);
  d.set_yearly_amount(yearly);
  AddStages(d, ctx.as_of.year(), yearly, months_per_disbursement);
  AddReason(d, v1::REASON_CODE_ELIGIBLE,
            absl::StrCat("Layak: desil ", ctx.decile, " dalam batas ", max_decile, "; ", RupiahId(monthly),
                         " per bulan, ", RupiahId(yearly), " per tahun"),
            absl::StrCat("Eligible: decile ", ctx.decile, " is within the limit of ", max_decile, "; ",
                         RupiahEn(monthly), " a month, ", RupiahEn(yearly), " a year"));
}

// ---------------------------------------------------------------- PBI-JK

std::pair<std::string, std::string> PriorityName(v1::PbiJkPriority p) {
  switch (p) {
    case v1::PBI_JK_PRIORITY_FIRST:
      return {"prioritas pertama", "first priority"};
    case v1::PBI_JK_PRIORITY_SECOND:
      return {"prioritas kedua", "second priority"};
    case v1::PBI_JK_PRIORITY_POSSIBLE:
      return {"dapat ditanggung", "possible coverage"};
    case v1::PBI_JK_PRIORITY_NONE:
      return {"tidak diprioritaskan", "no priority"};
    default:
      return {"tidak ditentukan", "unspecified"};
  }
}

void EvaluatePbiJk(const Context& ctx, const v1::ProgramRules& p, const std::string& prefix, v1::Decision& d) {
  const v1::PbiJkRules& pbi = p.pbi_jk();
  const std::string& program_id = p.program_id();
  bool ok = Gate(ctx, d, prefix, /*max_decile=*/0, p);
  const v1::PbiJkBand* band = nullptr;
  if (ctx.assessed) {
    for (const v1::PbiJkBand& b : pbi.bands()) {
      if (ctx.decile >= b.min_decile() && ctx.decile <= b.max_decile()) {
        band = &b;
        break;
      }
    }
  }
  const bool covered = band != nullptr && band->covered();
  v1::PbiJkDetails* details = d.mutable_pbi_jk();
  details->set_priority(band != nullptr ? band->priority() : v1::PBI_JK_PRIORITY_UNSPECIFIED);
  details->set_premium_per_member_monthly(pbi.premium_per_member_monthly());
  const std::string range =
      band == nullptr ? "none"
      : band->min_decile() == band->max_decile()
          ? Int(band->min_decile())
          : absl::StrCat(band->min_decile(), "-", band->max_decile());
  if (ctx.explain) {
    AddClause(d, prefix + ".band", "Desil termasuk kelompok yang ditanggung", "The decile is in a covered band",
              covered,
              {{"decile", ctx.assessed ? Int(ctx.decile) : "none"},
               {"band_deciles", range},
               {"priority", band != nullptr ? v1::PbiJkPriority_Name(band->priority()) : "none"},
               {"covered", Bool(covered)}});
  }
  if (ctx.assessed && !covered) {
    AddReason(d, v1::REASON_CODE_DECILE_NOT_COVERED,
              absl::StrCat("Desil ", ctx.decile, " tidak ditanggung ", program_id, " (desil ", range, ")"),
              absl::StrCat("Decile ", ctx.decile, " is not covered by ", program_id, " (deciles ", range, ")"));
    ok = false;
  }
  OrderGateReasons(d);  // the band's reason before the region's and the living members'
  if (!ok) return;
  const int64_t members = static_cast<int64_t>(ctx.living.size());
  const int64_t yearly = pbi.premium_per_member_monthly() * members * 12;
  d.set_eligible(true);
  d.set_yearly_amount(yearly);
  details->set_covered_members(static_cast<int32_t>(members));
  AddStages(d, ctx.as_of.year(), yearly, pbi.months_per_disbursement());
  auto [pid, pen] = PriorityName(band->priority());
  AddReason(d, v1::REASON_CODE_ELIGIBLE,
            absl::StrCat("Layak: desil ", ctx.decile, " termasuk ", pid, "; iuran ", members,
                         " anggota ditanggung, ", RupiahId(yearly), " per tahun"),
            absl::StrCat("Eligible: decile ", ctx.decile, " is in the ", pen, " band; premiums of ", members,
                         members == 1 ? " member" : " members", " are paid, ", RupiahEn(yearly), " a year"));
}

// ---------------------------------------------------------------- driver

void EvaluateProgram(const Context& ctx, const v1::ProgramRules& p, v1::Decision& d) {
  const std::string prefix = absl::AsciiStrToLower(p.program_id());
  switch (p.rules_case()) {
    case v1::ProgramRules::kPkh:
      EvaluatePkh(ctx, p, d);
      break;
    case v1::ProgramRules::kBpnt:
      EvaluateMonthly(ctx, p, prefix, p.bpnt().max_decile(), p.bpnt().monthly_amount(),
                      p.bpnt().months_per_disbursement(), d);
      break;
    case v1::ProgramRules::kPbiJk:
      EvaluatePbiJk(ctx, p, prefix, d);
      break;
    case v1::ProgramRules::kBltDanaDesa:
      EvaluateMonthly(ctx, p, prefix, p.blt_dana_desa().max_decile(), p.blt_dana_desa().monthly_amount(),
                      p.blt_dana_desa().months_per_disbursement(), d);
      break;
    case v1::ProgramRules::RULES_NOT_SET:
      break;
  }
}

// The final decision of program `id` already made in this evaluation, or
// nullptr.
const v1::Decision* DecidedBefore(const std::string& id, const std::vector<v1::Decision>& out,
                                  const std::vector<bool>& done, const v1::RuleSet& rules) {
  const v1::Decision* found = nullptr;
  for (int j = 0; j < rules.programs_size(); ++j) {
    if (rules.programs(j).program_id() == id && done[j]) found = &out[j];
  }
  return found;
}

// Applies excluded_if_eligible_for and excluded_if_receiving against the
// decisions already made (and the receipts the caller gave).
void ApplyExclusions(const Context& ctx, const v1::ProgramRules& p, const std::vector<v1::Decision>& out,
                     const std::vector<bool>& done, const v1::RuleSet& rules, v1::Decision& d) {
  const std::string prefix = absl::AsciiStrToLower(p.program_id());
  std::vector<std::string> excluding, received;
  for (const std::string& other : p.excluded_if_eligible_for()) {
    const v1::Decision* o = DecidedBefore(other, out, done, rules);
    const bool other_eligible = o != nullptr && o->eligible();
    if (ctx.explain) {
      AddClause(d, absl::StrCat(prefix, ".excluded_if.", other),
                absl::StrCat("Tidak layak ", other, " (tidak diberikan bersamaan)"),
                absl::StrCat("Not eligible for ", other, " (not given together)"), !other_eligible,
                {{"program", other}, {"eligible", Bool(other_eligible)}});
    }
    if (other_eligible) excluding.push_back(other);
  }
  for (const std::string& other : p.excluded_if_receiving()) {
    // The decision in force at as_of: the caller's, else this evaluation's.
    const auto given = std::find_if(ctx.receipts.begin(), ctx.receipts.end(),
                                    [&](const ProgramReceipt& r) { return r.program == other; });
    bool receiving = false;
    std::string source;
    if (given != ctx.receipts.end()) {
      receiving = given->receiving;
      source = "given";
    } else {
      const v1::Decision* o = DecidedBefore(other, out, done, rules);
      receiving = o != nullptr && o->eligible();
      source = "evaluation";
    }
    if (ctx.explain) {
      AddClause(d, absl::StrCat(prefix, ".excluded_if_receiving.", other),
                absl::StrCat("Tidak menerima ", other, " (tidak diberikan bersamaan)"),
                absl::StrCat("Not receiving ", other, " (not given together)"), !receiving,
                {{"program", other}, {"receiving", Bool(receiving)}, {"source", source}});
    }
    if (receiving) received.push_back(other);
  }
  if (!d.eligible() || (excluding.empty() && received.empty())) return;
  d.set_eligible(false);
  d.set_yearly_amount(0);
  d.clear_stages();
  d.clear_components();
  if (d.has_pbi_jk()) d.mutable_pbi_jk()->set_covered_members(0);
  d.clear_reasons();
  for (const std::string& other : excluding) {
    AddReason(d, v1::REASON_CODE_EXCLUDED_BY_PROGRAM,
              absl::StrCat("Sudah layak ", other, "; ", p.program_id(), " tidak diberikan bersamaan dengan ", other),
              absl::StrCat("Already eligible for ", other, "; ", p.program_id(), " is not given together with ",
                           other));
  }
  for (const std::string& other : received) {
    AddReason(d, v1::REASON_CODE_RECEIVING_PROGRAM,
              absl::StrCat("Sudah menerima ", other, "; ", p.program_id(), " tidak diberikan kepada penerima ", other),
              absl::StrCat("Already receiving ", other, "; ", p.program_id(), " is not given to families receiving ",
                           other));
  }
}

}  // namespace

int AgeInYears(const v1::Date& birth_date, absl::CivilDay as_of) {
  const int y = birth_date.year(), m = birth_date.month(), day = birth_date.day();
  if (y <= 0 || m < 1 || m > 12 || day < 1 || day > 31) return -1;
  const absl::CivilDay born(y, m, day);
  if (born.year() != y || born.month() != m || born.day() != day) return -1;  // e.g. 30 February
  if (born > as_of) return -1;
  int age = static_cast<int>(as_of.year() - y);
  if (as_of.month() < m || (as_of.month() == m && as_of.day() < day)) --age;
  return age;
}

std::vector<v1::Decision> Evaluate(const v1::Family& family, const v1::RuleSet& rules, absl::CivilDay as_of,
                                   const EvaluateOptions& options) {
  Context ctx{family, as_of, options.explain, options.receipts};
  const int decile = family.latest_assessment().decile();
  ctx.assessed = family.has_latest_assessment() && decile >= 1 && decile <= 10;
  ctx.decile = ctx.assessed ? decile : 0;
  ctx.members = family.members_size();
  for (const v1::FamilyMember& fm : family.members()) {
    if (fm.alive()) ctx.living.push_back(&fm.member());
  }
  const std::string hash = options.rule_hash.empty() ? ContentHash(rules) : std::string(options.rule_hash);

  const int n = rules.programs_size();
  std::vector<v1::Decision> out(n);
  std::vector<bool> done(n, false);
  for (int i : rules_internal::EvaluationOrder(rules)) {
    const v1::ProgramRules& p = rules.programs(i);
    v1::Decision& d = out[i];
    d.set_kk_number(family.kk_number());
    d.set_program(p.program_id());
    d.set_rule_version(rules.version());
    d.set_rule_hash(hash);
    d.set_dtsen_round(ctx.assessed ? family.latest_assessment().round() : "");
    d.set_decile(ctx.decile);
    d.set_region_code(family.region_code());
    d.mutable_as_of()->set_year(static_cast<int32_t>(as_of.year()));
    d.mutable_as_of()->set_month(as_of.month());
    d.mutable_as_of()->set_day(as_of.day());
    EvaluateProgram(ctx, p, d);
    ApplyExclusions(ctx, p, out, done, rules, d);
    done[i] = true;
  }
  return out;
}

}  // namespace jaring::rules
