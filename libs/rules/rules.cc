#include "libs/rules/rules.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/text_format.h"
#include "libs/base/status.h"
#include "libs/base/strings.h"
#include "libs/rules/internal/conditions.h"
#include "libs/rules/internal/validate.h"

namespace jaring::rules {
namespace {

namespace fs = std::filesystem;

// The largest amount a parameter may hold (Rp1 trillion), so that sums over
// a family and a year stay far from int64 overflow.
constexpr int64_t kMaxAmount = 1'000'000'000'000;

class CollectErrors : public google::protobuf::io::ErrorCollector {
 public:
  explicit CollectErrors(std::string_view origin) : origin_(origin) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (!first_.empty()) return;
    // The parser counts lines and columns from 0.
    first_ = absl::StrCat(origin_, ":", line + 1, ":", column + 1, ": ", message);
  }
  const std::string& first() const { return first_; }

 private:
  std::string origin_;
  std::string first_;
};

absl::Status ParseText(std::string_view text, std::string_view origin,
                       google::protobuf::Message* out) {
  CollectErrors errors(origin);
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text), out)) {
    std::string msg = errors.first();
    if (msg.empty()) msg = absl::StrCat(Av(origin), ": does not parse as ", out->GetTypeName());
    return absl::InvalidArgumentError(msg);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InternalError(absl::StrCat("cannot read ", path.string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return absl::InternalError(absl::StrCat("cannot read ", path.string()));
  return ss.str();
}

// Collects the first validation error as "<where>: <field>: <reason>".
class Checker {
 public:
  explicit Checker(std::string where) : where_(std::move(where)) {}

  void Fail(std::string_view field, std::string_view reason) {
    if (status_.ok()) {
      status_ = absl::InvalidArgumentError(absl::StrCat(where_, ": ", Av(field), ": ", Av(reason)));
    }
  }
  void AtLeast(std::string_view field, int64_t value, int64_t min) {
    if (value < min) Fail(field, absl::StrCat("must be at least ", min, " (is ", value, ")"));
  }
  void Range(std::string_view field, int64_t value, int64_t min, int64_t max) {
    if (value < min || value > max) {
      Fail(field, absl::StrCat("must be from ", min, " to ", max, " (is ", value, ")"));
    }
  }
  void Amount(std::string_view field, int64_t value) { Range(field, value, 1, kMaxAmount); }
  void DividesYear(std::string_view field, int32_t value) {
    if (value < 1 || value > 12 || 12 % value != 0) {
      Fail(field, absl::StrCat("must divide 12 (1, 2, 3, 4, 6 or 12; is ", value, ")"));
    }
  }
  const absl::Status& status() const { return status_; }

 private:
  std::string where_;
  absl::Status status_;
};

bool IsSchoolKind(v1::PkhComponentKind kind) {
  return kind == v1::PKH_COMPONENT_KIND_PRIMARY || kind == v1::PKH_COMPONENT_KIND_JUNIOR_SECONDARY ||
         kind == v1::PKH_COMPONENT_KIND_SENIOR_SECONDARY;
}

void CheckPkh(const v1::PkhRules& pkh, Checker& c) {
  c.Range("pkh.max_decile", pkh.max_decile(), 1, 10);
  if (pkh.components_size() == 0) c.Fail("pkh.components", "must list at least one component");
  std::set<int> kinds;
  for (int i = 0; i < pkh.components_size(); ++i) {
    const v1::PkhComponent& comp = pkh.components(i);
    const std::string f = absl::StrCat("pkh.components[", i, "]");
    if (comp.kind() == v1::PKH_COMPONENT_KIND_UNSPECIFIED ||
        !v1::PkhComponentKind_IsValid(comp.kind())) {
      c.Fail(f + ".kind", "must be set to a known kind");
      continue;
    }
    if (!kinds.insert(comp.kind()).second) {
      c.Fail(f + ".kind", absl::StrCat(v1::PkhComponentKind_Name(comp.kind()), " is listed twice"));
    }
    c.Amount(f + ".yearly_amount", comp.yearly_amount());
    if (comp.has_min_age_years()) c.Range(f + ".min_age_years", comp.min_age_years(), 0, 150);
    if (comp.has_max_age_years()) c.Range(f + ".max_age_years", comp.max_age_years(), 0, 150);
    if (comp.has_min_age_years() && comp.has_max_age_years() &&
        comp.min_age_years() > comp.max_age_years()) {
      c.Fail(f + ".max_age_years", "must not be below min_age_years");
    }
    if (comp.kind() == v1::PKH_COMPONENT_KIND_EARLY_CHILD && !comp.has_max_age_years()) {
      c.Fail(f + ".max_age_years", "is required for EARLY_CHILD");
    }
    if (comp.kind() == v1::PKH_COMPONENT_KIND_ELDERLY && !comp.has_min_age_years()) {
      c.Fail(f + ".min_age_years", "is required for ELDERLY");
    }
    if (IsSchoolKind(comp.kind())) {
      if (comp.school_level() == v1::SCHOOL_LEVEL_UNSPECIFIED ||
          comp.school_level() == v1::SCHOOL_LEVEL_NONE) {
        c.Fail(f + ".school_level", "is required for a school component");
      }
    } else {
      if (comp.school_level() != v1::SCHOOL_LEVEL_UNSPECIFIED) {
        c.Fail(f + ".school_level", "only school components have a school level");
      }
      if (comp.enrolment_required()) {
        c.Fail(f + ".enrolment_required", "only school components can require enrolment");
      }
    }
  }
  if (!pkh.has_caps()) c.Fail("pkh.caps", "is required");
  c.AtLeast("pkh.caps.max_components", pkh.caps().max_components(), 1);
  c.AtLeast("pkh.caps.max_children", pkh.caps().max_children(), 0);
  c.AtLeast("pkh.caps.max_under_six", pkh.caps().max_under_six(), 0);
  c.AtLeast("pkh.caps.max_pregnancy_order", pkh.caps().max_pregnancy_order(), 0);
  c.DividesYear("pkh.stages_per_year", pkh.stages_per_year());
}

void CheckPbiJk(const v1::PbiJkRules& pbi, Checker& c) {
  if (pbi.bands_size() == 0) c.Fail("pbi_jk.bands", "must list the bands of deciles 1-10");
  std::map<int, int> band_of;  // decile -> band index
  for (int i = 0; i < pbi.bands_size(); ++i) {
    const v1::PbiJkBand& band = pbi.bands(i);
    const std::string f = absl::StrCat("pbi_jk.bands[", i, "]");
    c.Range(f + ".min_decile", band.min_decile(), 1, 10);
    c.Range(f + ".max_decile", band.max_decile(), 1, 10);
    if (band.min_decile() > band.max_decile()) c.Fail(f + ".max_decile", "must not be below min_decile");
    if (band.priority() == v1::PBI_JK_PRIORITY_UNSPECIFIED ||
        !v1::PbiJkPriority_IsValid(band.priority())) {
      c.Fail(f + ".priority", "must be set to a known priority");
    }
    for (int d = std::max(1, band.min_decile()); d <= std::min(10, band.max_decile()); ++d) {
      auto [it, inserted] = band_of.emplace(d, i);
      if (!inserted) {
        c.Fail(f, absl::StrCat("decile ", d, " is also in bands[", it->second, "]"));
      }
    }
  }
  for (int d = 1; d <= 10; ++d) {
    if (!band_of.contains(d)) c.Fail("pbi_jk.bands", absl::StrCat("decile ", d, " is in no band"));
  }
  c.Amount("pbi_jk.premium_per_member_monthly", pbi.premium_per_member_monthly());
  c.DividesYear("pbi_jk.months_per_disbursement", pbi.months_per_disbursement());
}

bool ValidId(std::string_view id) {
  if (id.empty() || id.size() > 32 || !(id[0] >= 'A' && id[0] <= 'Z')) return false;
  return std::all_of(id.begin(), id.end(), [](char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
  });
}

bool ValidVersion(std::string_view v) {
  if (v.empty() || v.size() > 64) return false;
  return std::all_of(v.begin(), v.end(), [](char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '.' || ch == '_' || ch == '-';
  });
}

absl::Status CheckProgram(const v1::ProgramRules& program, std::string where) {
  Checker c(std::move(where));
  if (!ValidId(program.program_id())) {
    c.Fail("program_id", "must be 1-32 upper-case letters, digits or '_', starting with a letter");
  }
  switch (program.rules_case()) {
    case v1::ProgramRules::kPkh:
      CheckPkh(program.pkh(), c);
      break;
    case v1::ProgramRules::kBpnt:
      c.Range("bpnt.max_decile", program.bpnt().max_decile(), 1, 10);
      c.Amount("bpnt.monthly_amount", program.bpnt().monthly_amount());
      c.DividesYear("bpnt.months_per_disbursement", program.bpnt().months_per_disbursement());
      break;
    case v1::ProgramRules::kPbiJk:
      CheckPbiJk(program.pbi_jk(), c);
      break;
    case v1::ProgramRules::kBltDanaDesa:
      c.Range("blt_dana_desa.max_decile", program.blt_dana_desa().max_decile(), 1, 10);
      c.Amount("blt_dana_desa.monthly_amount", program.blt_dana_desa().monthly_amount());
      c.DividesYear("blt_dana_desa.months_per_disbursement",
                    program.blt_dana_desa().months_per_disbursement());
      break;
    case v1::ProgramRules::RULES_NOT_SET:
      c.Fail("rules", "one of pkh, bpnt, pbi_jk, blt_dana_desa must be set");
      break;
  }
  for (int i = 0; i < program.excluded_if_eligible_for_size(); ++i) {
    if (program.excluded_if_eligible_for(i) == program.program_id()) {
      c.Fail(absl::StrCat("excluded_if_eligible_for[", i, "]"), "a program cannot exclude itself");
    }
  }
  std::set<std::string> receiving;
  for (int i = 0; i < program.excluded_if_receiving_size(); ++i) {
    const std::string& other = program.excluded_if_receiving(i);
    const std::string f = absl::StrCat("excluded_if_receiving[", i, "]");
    if (other == program.program_id()) c.Fail(f, "a program cannot exclude itself");
    if (!receiving.insert(other).second) c.Fail(f, absl::StrCat("\"", other, "\" is listed twice"));
    if (std::find(program.excluded_if_eligible_for().begin(), program.excluded_if_eligible_for().end(), other) !=
        program.excluded_if_eligible_for().end()) {
      c.Fail(f, absl::StrCat("\"", other, "\" is also in excluded_if_eligible_for (choose one)"));
    }
  }
  const v1::RegionCondition& region = program.region();
  if (!v1::VillageType_IsValid(region.village_type())) c.Fail("region.village_type", "must be a known village type");
  std::set<std::string> prefixes;
  for (int i = 0; i < region.region_prefixes_size(); ++i) {
    const std::string& prefix = region.region_prefixes(i);
    const std::string f = absl::StrCat("region.region_prefixes[", i, "]");
    if (!rules_internal::IsRegionPrefix(prefix)) {
      c.Fail(f, absl::StrCat("\"", prefix, "\" is not a region prefix (PP, PP.RR, PP.RR.DD or PP.RR.DD.VVVV)"));
    } else if (!prefixes.insert(prefix).second) {
      c.Fail(f, absl::StrCat("\"", prefix, "\" is listed twice"));
    }
  }
  return c.status();
}

}  // namespace

absl::StatusOr<v1::RuleSet> ParseRuleSetText(std::string_view text, std::string_view origin) {
  v1::RuleSet rules;
  JARING_RETURN_IF_ERROR(ParseText(text, origin, &rules));
  return rules;
}

absl::StatusOr<v1::ProgramRules> ParseProgramText(std::string_view text, std::string_view origin) {
  v1::ProgramRules program;
  JARING_RETURN_IF_ERROR(ParseText(text, origin, &program));
  return program;
}

absl::Status ValidateRuleSet(const v1::RuleSet& rules,
                             const std::vector<std::string>& program_origins) {
  return rules_internal::ValidateRuleSetAt(rules, program_origins, "ruleset");
}

absl::Status rules_internal::ValidateRuleSetAt(const v1::RuleSet& rules,
                                               const std::vector<std::string>& program_origins,
                                               std::string_view top_origin) {
  auto where = [&](int i) {
    if (static_cast<size_t>(i) < program_origins.size()) return program_origins[i];
    return absl::StrCat("programs[", i, "] (", rules.programs(i).program_id(), ")");
  };
  Checker top{std::string(top_origin)};
  if (!ValidVersion(rules.version())) {
    top.Fail("version", "must be 1-64 letters, digits, '.', '_' or '-'");
  }
  if (!rules.has_effective_from()) {
    top.Fail("effective_from", "is required");
  } else if (rules.effective_from().nanos() < 0 || rules.effective_from().nanos() > 999'999'999) {
    top.Fail("effective_from.nanos", "must be from 0 to 999999999");
  }
  if (rules.programs_size() == 0) top.Fail("programs", "must list at least one program");
  JARING_RETURN_IF_ERROR(top.status());

  std::map<std::string, int> index;
  for (int i = 0; i < rules.programs_size(); ++i) {
    JARING_RETURN_IF_ERROR(CheckProgram(rules.programs(i), where(i)));
    auto [it, inserted] = index.emplace(rules.programs(i).program_id(), i);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat(where(i), ": program_id: \"",
                                                     rules.programs(i).program_id(),
                                                     "\" is also used by ", where(it->second)));
    }
  }
  for (int i = 0; i < rules.programs_size(); ++i) {
    const v1::ProgramRules& p = rules.programs(i);
    using Ids = const google::protobuf::RepeatedPtrField<std::string>*;
    for (const auto& [field, ids] : {std::pair<std::string_view, Ids>{"excluded_if_eligible_for", &p.excluded_if_eligible_for()},
                                     std::pair<std::string_view, Ids>{"excluded_if_receiving", &p.excluded_if_receiving()}}) {
      for (int j = 0; j < ids->size(); ++j) {
        if (!index.contains(ids->Get(j))) {
          return absl::InvalidArgumentError(absl::StrCat(where(i), ": ", Av(field), "[", j, "]: no program \"",
                                                         ids->Get(j), "\" in the rule set"));
        }
      }
    }
  }
  // No cycle among exclusions (by eligibility and by receipt together: a
  // program is evaluated after every program it reads): depth-first search
  // with colours.
  std::vector<int> colour(rules.programs_size(), 0);  // 0 new, 1 on stack, 2 done
  std::function<bool(int)> cyclic = [&](int i) {
    colour[i] = 1;
    for (const auto* ids : {&rules.programs(i).excluded_if_eligible_for(), &rules.programs(i).excluded_if_receiving()}) {
      for (const std::string& dep : *ids) {
        int j = index.at(dep);
        if (colour[j] == 1 || (colour[j] == 0 && cyclic(j))) return true;
      }
    }
    colour[i] = 2;
    return false;
  };
  for (int i = 0; i < rules.programs_size(); ++i) {
    if (colour[i] == 0 && cyclic(i)) {
      const bool receipt = rules.programs(i).excluded_if_eligible_for().empty();
      return absl::InvalidArgumentError(
          absl::StrCat(where(i), ": ", receipt ? "excluded_if_receiving" : "excluded_if_eligible_for",
                       ": the exclusions between programs form a cycle"));
    }
  }
  return absl::OkStatus();
}

std::string ContentHash(const v1::RuleSet& rules) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream raw(&bytes);
    google::protobuf::io::CodedOutputStream out(&raw);
    out.SetSerializationDeterministic(true);
    rules.SerializeToCodedStream(&out);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  JARING_RELEASE_ASSERT(EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr) == 1,
                        "EVP_Digest(SHA-256) failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

const v1::ProgramRules* FindProgram(const v1::RuleSet& rules, std::string_view program_id) {
  for (const v1::ProgramRules& p : rules.programs()) {
    if (p.program_id() == program_id) return &p;
  }
  return nullptr;
}

absl::StatusOr<LoadedRuleSet> LoadRuleSet(const fs::path& path) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) {
    return absl::NotFoundError(absl::StrCat("rule set ", path.string(), " does not exist"));
  }
  LoadedRuleSet loaded;
  if (fs::is_directory(st)) {
    const fs::path manifest = path / std::string(kManifestFile);
    if (!fs::is_regular_file(manifest, ec)) {
      return absl::NotFoundError(
          absl::StrCat("rule set directory ", path.string(), " has no ", Av(kManifestFile)));
    }
    JARING_ASSIGN_OR_RETURN(std::string text, ReadFile(manifest));
    JARING_ASSIGN_OR_RETURN(loaded.rules, ParseRuleSetText(text, kManifestFile));
    loaded.sources.push_back(manifest.string());
    if (loaded.rules.programs_size() > 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          Av(kManifestFile), ": programs: list programs in their own files, not in the manifest"));
    }
    std::string dir_name = path.filename().string();
    if (dir_name.empty()) dir_name = path.parent_path().filename().string();  // "rules/2026.1/"
    if (loaded.rules.version() != dir_name) {
      return absl::InvalidArgumentError(absl::StrCat(Av(kManifestFile), ": version: \"",
                                                     loaded.rules.version(),
                                                     "\" must equal the directory name \"",
                                                     dir_name, "\""));
    }
    std::vector<std::string> names;
    for (const fs::directory_entry& e : fs::directory_iterator(path, ec)) {
      const std::string name = e.path().filename().string();
      if (name == kManifestFile || e.path().extension() != ".textproto") continue;
      if (!e.is_regular_file()) continue;
      names.push_back(name);
    }
    if (ec) return absl::InternalError(absl::StrCat("cannot list ", path.string(), ": ", ec.message()));
    std::sort(names.begin(), names.end());
    std::vector<std::string> origins;
    for (const std::string& name : names) {
      JARING_ASSIGN_OR_RETURN(std::string ptext, ReadFile(path / name));
      JARING_ASSIGN_OR_RETURN(*loaded.rules.add_programs(), ParseProgramText(ptext, name));
      loaded.sources.push_back((path / name).string());
      origins.push_back(name);
    }
    JARING_RETURN_IF_ERROR(rules_internal::ValidateRuleSetAt(loaded.rules, origins, kManifestFile));
  } else {
    JARING_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
    const std::string name = path.filename().string();
    JARING_ASSIGN_OR_RETURN(loaded.rules, ParseRuleSetText(text, name));
    loaded.sources.push_back(path.string());
    std::vector<std::string> origins;
    for (int i = 0; i < loaded.rules.programs_size(); ++i) {
      origins.push_back(absl::StrCat(name, ": programs[", i, "] (",
                                     loaded.rules.programs(i).program_id(), ")"));
    }
    JARING_RETURN_IF_ERROR(rules_internal::ValidateRuleSetAt(loaded.rules, origins, name));
  }
  loaded.content_hash = ContentHash(loaded.rules);
  return loaded;
}

}  // namespace jaring::rules
