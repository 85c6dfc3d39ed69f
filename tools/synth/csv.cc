#include "tools/synth/csv.h"

#include <array>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/base/status.h"
#include "libs/base/strings.h"
#include "libs/events/envelope.h"

namespace jaring::synth {
namespace {

constexpr std::array<std::string_view, kCsvColumns> kColumnNames = {
    "kk_number",  "region_code",  "address",         "nik",     "full_name",       "sex",
    "birth_date", "relationship", "mother_nik",      "disability", "school_level", "school_enrolled",
    "pregnant",   "pregnancy_order", "occurred_at",  "recorded_at"};

enum Col {
  kKk = 0, kRegion, kAddress, kNik, kName, kSex, kBirth, kRel, kMother, kDisability, kSchool,
  kEnrolled, kPregnant, kPregOrder, kOccurred, kRecorded
};

struct EnumName {
  std::string_view name;
  int value;
};

constexpr EnumName kRelationships[] = {
    {"KEPALA_KELUARGA", v1::RELATIONSHIP_HEAD},
    {"ISTRI", v1::RELATIONSHIP_SPOUSE},
    {"SUAMI", v1::RELATIONSHIP_SPOUSE},
    {"ANAK", v1::RELATIONSHIP_CHILD},
    {"MENANTU", v1::RELATIONSHIP_CHILD_IN_LAW},
    {"CUCU", v1::RELATIONSHIP_GRANDCHILD},
    {"ORANG_TUA", v1::RELATIONSHIP_PARENT},
    {"MERTUA", v1::RELATIONSHIP_PARENT_IN_LAW},
    {"FAMILI_LAIN", v1::RELATIONSHIP_OTHER_RELATIVE},
    {"PEMBANTU", v1::RELATIONSHIP_HOUSEHOLD_HELPER},
    {"LAINNYA", v1::RELATIONSHIP_OTHER},
};
constexpr EnumName kDisabilities[] = {
    {"TIDAK", v1::DISABILITY_NONE},
    {"RINGAN", v1::DISABILITY_MILD},
    {"BERAT", v1::DISABILITY_SEVERE},
};
constexpr EnumName kSchoolLevels[] = {
    {"TIDAK_SEKOLAH", v1::SCHOOL_LEVEL_NONE},
    {"PAUD", v1::SCHOOL_LEVEL_EARLY_CHILDHOOD},
    {"SD", v1::SCHOOL_LEVEL_PRIMARY},
    {"SMP", v1::SCHOOL_LEVEL_JUNIOR_SECONDARY},
    {"SMA", v1::SCHOOL_LEVEL_SENIOR_SECONDARY},
    {"PT", v1::SCHOOL_LEVEL_HIGHER},
};

template <size_t N>
std::optional<int> LookUp(const EnumName (&table)[N], std::string_view name) {
  for (const EnumName& e : table) {
    if (e.name == name) return e.value;
  }
  return std::nullopt;
}
template <size_t N>
std::string_view NameOf(const EnumName (&table)[N], int value) {
  for (const EnumName& e : table) {
    if (e.value == value) return e.name;
  }
  return "";
}
template <size_t N>
std::string AllNames(const EnumName (&table)[N]) {
  std::string out;
  for (const EnumName& e : table) {
    if (!out.empty()) out += "|";
    out += e.name;
  }
  return out;
}

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool IsSixteenDigits(std::string_view s) { return s.size() == 16 && AllDigits(s); }

// "PP.RR.DD.VVVV", digits only in the parts.
bool IsRegionCodeForm(std::string_view s) {
  if (s.size() != 13) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dot = i == 2 || i == 5 || i == 8;
    if (dot ? s[i] != '.' : (s[i] < '0' || s[i] > '9')) return false;
  }
  return true;
}

std::optional<absl::CivilDay> ParseDay(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  int y = 0, m = 0, d = 0;
  if (!AllDigits(s.substr(0, 4)) || !AllDigits(s.substr(5, 2)) || !AllDigits(s.substr(8, 2))) {
    return std::nullopt;
  }
  if (!absl::SimpleAtoi(Av(s.substr(0, 4)), &y) || !absl::SimpleAtoi(Av(s.substr(5, 2)), &m) ||
      !absl::SimpleAtoi(Av(s.substr(8, 2)), &d)) {
    return std::nullopt;
  }
  if (y < 1900 || y > 2100 || m < 1 || m > 12 || d < 1) return std::nullopt;
  absl::CivilDay day(y, m, d);
  if (day.year() != y || day.month() != m || day.day() != d) return std::nullopt;
  return day;
}

std::string FormatDay(absl::CivilDay d) {
  return absl::StrFormat("%04d-%02d-%02d", static_cast<int>(d.year()), d.month(), d.day());
}

std::string FormatDate(const v1::Date& d) {
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}

std::string Quote(std::string_view s) {
  std::string shown(s.substr(0, 40));
  if (s.size() > 40) shown += "...";
  return absl::StrCat("\"", absl::CHexEscape(shown), "\"");
}

// Splits one record (which may contain quoted newlines) into fields.
absl::StatusOr<std::vector<std::string>> SplitRecord(std::string_view raw) {
  std::vector<std::string> fields;
  std::string cur;
  size_t i = 0;
  bool field_start = true;
  bool quoted = false;
  bool closed = false;  // a quoted field has been closed; only ',' may follow
  while (i < raw.size()) {
    char c = raw[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < raw.size() && raw[i + 1] == '"') {
          cur += '"';
          i += 2;
          continue;
        }
        quoted = false;
        closed = true;
        ++i;
        continue;
      }
      cur += c;
      ++i;
      continue;
    }
    if (c == ',') {
      fields.push_back(std::move(cur));
      cur.clear();
      field_start = true;
      closed = false;
      ++i;
      continue;
    }
    if (closed) {
      return absl::InvalidArgumentError(absl::StrCat(
          "column ", fields.size() + 1, ": text after a closing quote (quote fields per RFC 4180)"));
    }
    if (c == '"') {
      if (!field_start) {
        return absl::InvalidArgumentError(absl::StrCat(
            "column ", fields.size() + 1,
            ": a quote inside an unquoted field (quote the field and double the quote)"));
      }
      quoted = true;
      field_start = false;
      ++i;
      continue;
    }
    field_start = false;
    cur += c;
    ++i;
  }
  if (quoted) return absl::InvalidArgumentError("a quoted field is not closed");
  fields.push_back(std::move(cur));
  return fields;
}

std::string ColumnError(Col col, std::string_view reason) {
  return absl::StrCat(Av(kColumnNames[col]), ": ", Av(reason));
}

}  // namespace

std::optional<v1::Relationship> ParseRelationshipName(std::string_view name) {
  auto v = LookUp(kRelationships, name);
  if (!v) return std::nullopt;
  return static_cast<v1::Relationship>(*v);
}
std::optional<v1::Disability> ParseDisabilityName(std::string_view name) {
  auto v = LookUp(kDisabilities, name);
  if (!v) return std::nullopt;
  return static_cast<v1::Disability>(*v);
}
std::optional<v1::SchoolLevel> ParseSchoolLevelName(std::string_view name) {
  auto v = LookUp(kSchoolLevels, name);
  if (!v) return std::nullopt;
  return static_cast<v1::SchoolLevel>(*v);
}
std::string_view RelationshipName(v1::Relationship r, v1::Sex sex) {
  if (r == v1::RELATIONSHIP_SPOUSE) return sex == v1::SEX_FEMALE ? "ISTRI" : "SUAMI";
  return NameOf(kRelationships, r);
}
std::string_view DisabilityName(v1::Disability d) { return NameOf(kDisabilities, d); }
std::string_view SchoolLevelName(v1::SchoolLevel s) { return NameOf(kSchoolLevels, s); }
std::string RelationshipNames() { return AllNames(kRelationships); }
std::string DisabilityNames() { return AllNames(kDisabilities); }
std::string SchoolLevelNames() { return AllNames(kSchoolLevels); }

std::optional<absl::CivilDay> ParseIsoDay(std::string_view s) { return ParseDay(s); }

std::optional<absl::Time> ParseInstant(std::string_view text, bool end_of_day) {
  if (std::optional<absl::CivilDay> day = ParseDay(text)) {
    return end_of_day ? DayStart(*day + 1) - absl::Milliseconds(1) : DayStart(*day);
  }
  absl::Time t;
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, std::string(text), &t, &err)) return t;
  return std::nullopt;
}

absl::TimeZone CsvTimeZone() { return absl::FixedTimeZone(7 * 3600); }
absl::Time DayStart(absl::CivilDay day) { return absl::FromCivil(day, CsvTimeZone()); }
absl::CivilDay WibDay(absl::Time t) { return absl::ToCivilDay(t, CsvTimeZone()); }

std::string ImportRequestId(std::string_view kk_number, std::string_view row_bytes) {
  return events::DeterministicId("import", {kk_number, row_bytes});
}

std::string CsvField(std::string_view value) {
  if (value.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string FormatFamilyRows(const v1::RegisterFamilyRequest& request) {
  const v1::FamilyRegistered& f = request.family();
  const v1::CommandContext& ctx = request.context();
  std::string occurred = ctx.has_occurred_at() ? FormatDay(WibDay(events::FromProtoTime(ctx.occurred_at()))) : "";
  std::string recorded = ctx.has_recorded_at() ? FormatDay(WibDay(events::FromProtoTime(ctx.recorded_at()))) : "";
  std::string family_prefix =
      absl::StrCat(CsvField(f.kk_number()), ",", CsvField(f.region_code()), ",", CsvField(f.address()), ",");
  std::string out;
  for (const v1::Member& m : f.members()) {
    const v1::MemberAttributes& a = m.attributes();
    std::string_view rel = NameOf(kRelationships, m.relationship());
    if (m.relationship() == v1::RELATIONSHIP_SPOUSE) rel = m.sex() == v1::SEX_FEMALE ? "ISTRI" : "SUAMI";
    std::string_view sex = m.sex() == v1::SEX_MALE ? "L" : m.sex() == v1::SEX_FEMALE ? "P" : "";
    absl::StrAppend(&out, family_prefix, CsvField(m.nik()), ",", CsvField(m.full_name()), ",", Av(sex), ",",
                    m.has_birth_date() ? FormatDate(m.birth_date()) : "", ",", Av(rel), ",",
                    CsvField(m.mother_nik()), ",",
                    a.has_disability() ? Av(NameOf(kDisabilities, a.disability())) : "", ",",
                    a.has_school_level() ? Av(NameOf(kSchoolLevels, a.school_level())) : "", ",",
                    a.has_school_enrolled() ? (a.school_enrolled() ? "Y" : "N") : "", ",",
                    a.has_pregnant() ? (a.pregnant() ? "Y" : "N") : "", ",",
                    a.has_pregnancy_order() ? absl::StrCat(a.pregnancy_order()) : "", ",", occurred, ",",
                    recorded, "\n");
  }
  return out;
}

void StampImportRequestId(v1::RegisterFamilyRequest& request) {
  std::string rows = FormatFamilyRows(request);
  request.mutable_context()->set_request_id(ImportRequestId(request.family().kk_number(), rows));
}

RegistryCsvWriter::RegistryCsvWriter(std::ostream* out) : out_(out) { *out_ << kCsvHeader << "\n"; }

void RegistryCsvWriter::Write(const v1::RegisterFamilyRequest& request) {
  *out_ << FormatFamilyRows(request);
  rows_ += request.family().members_size();
}

RegistryCsvReader::RegistryCsvReader(std::istream* in, CsvReaderOptions options)
    : in_(in), options_(std::move(options)) {}

absl::StatusOr<bool> RegistryCsvReader::ReadRecord(Record* rec) {
  std::string line;
  for (;;) {
    if (!std::getline(*in_, line)) {
      if (in_->bad()) return absl::DataLossError(absl::StrCat("read error at line ", next_line_));
      return false;
    }
    rec->line = next_line_++;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) break;  // blank lines are skipped
  }
  rec->raw = std::move(line);
  // A record continues while a quoted field is open: an odd number of quotes.
  auto quotes = [](std::string_view s) {
    size_t n = 0;
    for (char c : s) n += c == '"';
    return n;
  };
  size_t q = quotes(rec->raw);
  while (q % 2 == 1) {
    std::string more;
    if (!std::getline(*in_, more)) {
      return absl::DataLossError(
          absl::StrCat("line ", rec->line, ": a quoted field is never closed before the end of the file"));
    }
    ++next_line_;
    if (!more.empty() && more.back() == '\r') more.pop_back();
    rec->raw += "\n";
    rec->raw += more;
    q += quotes(more);
  }
  rec->fields.clear();
  return true;
}

absl::Status RegistryCsvReader::ReadHeader() {
  header_done_ = true;
  Record rec;
  JARING_ASSIGN_OR_RETURN(bool got, ReadRecord(&rec));
  if (!got) return absl::InvalidArgumentError("line 1: the file is empty; a header row is required");
  std::string raw = rec.raw;
  if (raw.size() >= 3 && raw.compare(0, 3, "\xEF\xBB\xBF") == 0) raw.erase(0, 3);  // UTF-8 BOM
  if (raw != kCsvHeader) {
    return absl::InvalidArgumentError(absl::StrCat("line ", rec.line, ": the header row must be exactly \"",
                                                   Av(kCsvHeader), "\""));
  }
  return absl::OkStatus();
}

namespace {

// Parses a data row's member columns into `m`; returns the first problem.
std::optional<std::string> ParseMember(const std::vector<std::string>& f, v1::Member* m) {
  if (!IsSixteenDigits(f[kNik])) {
    return ColumnError(kNik, f[kNik].empty() ? "missing (16 digits)" : "must be 16 digits");
  }
  m->set_nik(f[kNik]);
  std::string name(absl::StripAsciiWhitespace(f[kName]));
  if (name.empty()) return ColumnError(kName, "missing");
  m->set_full_name(f[kName]);
  if (f[kSex] == "L") {
    m->set_sex(v1::SEX_MALE);
  } else if (f[kSex] == "P") {
    m->set_sex(v1::SEX_FEMALE);
  } else {
    return ColumnError(kSex, f[kSex].empty() ? "missing (L or P)"
                                             : absl::StrCat("unknown value ", Quote(f[kSex]), " (L or P)"));
  }
  if (f[kBirth].empty()) return ColumnError(kBirth, "missing (YYYY-MM-DD)");
  std::optional<absl::CivilDay> birth = ParseDay(f[kBirth]);
  if (!birth) return ColumnError(kBirth, absl::StrCat(Quote(f[kBirth]), " is not a valid date (YYYY-MM-DD)"));
  m->mutable_birth_date()->set_year(static_cast<int32_t>(birth->year()));
  m->mutable_birth_date()->set_month(birth->month());
  m->mutable_birth_date()->set_day(birth->day());
  if (f[kRel].empty()) return ColumnError(kRel, absl::StrCat("missing (", AllNames(kRelationships), ")"));
  std::optional<int> rel = LookUp(kRelationships, f[kRel]);
  if (!rel) {
    return ColumnError(kRel, absl::StrCat("unknown value ", Quote(f[kRel]), " (", AllNames(kRelationships), ")"));
  }
  m->set_relationship(static_cast<v1::Relationship>(*rel));
  if (!f[kMother].empty()) {
    if (!IsSixteenDigits(f[kMother])) return ColumnError(kMother, "must be empty or 16 digits");
    m->set_mother_nik(f[kMother]);
  }
  v1::MemberAttributes* a = m->mutable_attributes();
  if (!f[kDisability].empty()) {
    std::optional<int> v = LookUp(kDisabilities, f[kDisability]);
    if (!v) {
      return ColumnError(kDisability, absl::StrCat("unknown value ", Quote(f[kDisability]), " (",
                                                   AllNames(kDisabilities), ")"));
    }
    a->set_disability(static_cast<v1::Disability>(*v));
  }
  if (!f[kSchool].empty()) {
    std::optional<int> v = LookUp(kSchoolLevels, f[kSchool]);
    if (!v) {
      return ColumnError(kSchool, absl::StrCat("unknown value ", Quote(f[kSchool]), " (",
                                               AllNames(kSchoolLevels), ")"));
    }
    a->set_school_level(static_cast<v1::SchoolLevel>(*v));
  }
  for (Col col : {kEnrolled, kPregnant}) {
    const std::string& v = f[col];
    if (v.empty()) continue;
    if (v != "Y" && v != "N") return ColumnError(col, absl::StrCat("unknown value ", Quote(v), " (Y or N)"));
    if (col == kEnrolled) {
      a->set_school_enrolled(v == "Y");
    } else {
      a->set_pregnant(v == "Y");
    }
  }
  if (!f[kPregOrder].empty()) {
    int order = 0;
    if (!AllDigits(f[kPregOrder]) || !absl::SimpleAtoi(Av(f[kPregOrder]), &order) || order < 1 || order > 99) {
      return ColumnError(kPregOrder, absl::StrCat(Quote(f[kPregOrder]), " is not a number from 1 to 99"));
    }
    a->set_pregnancy_order(order);
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<std::optional<CsvFamily>> RegistryCsvReader::Next(std::vector<CsvRowError>* errors) {
  if (!header_done_) JARING_RETURN_IF_ERROR(ReadHeader());

  CsvFamily fam;
  std::string kk;
  bool bad = false;
  int heads = 0;
  std::string row_bytes;
  // Family-level values from the family's first good row.
  std::vector<std::string> first;
  int64_t first_line = 0;

  auto finish = [&]() -> bool {
    // Returns true when `fam` is to be returned.
    if (kk.empty()) return false;
    if (!bad && heads != 1) {
      errors->push_back({fam.line, heads == 0 ? "family has no KEPALA_KELUARGA row"
                                              : absl::StrCat("family has ", heads, " KEPALA_KELUARGA rows")});
      bad = true;
    }
    if (IsSixteenDigits(kk)) {
      uint64_t key = 0;
      (void)absl::SimpleAtoi(Av(kk), &key);
      if (!seen_kks_.insert(key).second) {
        errors->push_back({fam.line, "rows of this kk_number appeared earlier in the file; the rows of one KK "
                                     "must be consecutive"});
        bad = true;
      }
    }
    if (bad || first.empty()) {
      ++rejected_families_;
      return false;
    }
    v1::CommandContext* ctx = fam.request.mutable_context();
    ctx->set_request_id(ImportRequestId(kk, row_bytes));
    ctx->set_source(options_.source);
    ctx->set_actor(options_.actor);
    v1::FamilyRegistered* f = fam.request.mutable_family();
    f->set_kk_number(kk);
    f->set_region_code(first[kRegion]);
    f->set_address(first[kAddress]);
    *ctx->mutable_occurred_at() = events::ToProtoTime(DayStart(*ParseDay(first[kOccurred])));
    if (!first[kRecorded].empty()) {
      *ctx->mutable_recorded_at() = events::ToProtoTime(DayStart(*ParseDay(first[kRecorded])));
    }
    return true;
  };

  for (;;) {
    Record rec;
    if (pending_) {
      rec = std::move(*pending_);
      pending_.reset();
    } else {
      JARING_ASSIGN_OR_RETURN(bool got, ReadRecord(&rec));
      if (!got) {
        if (finish()) return std::optional<CsvFamily>(std::move(fam));
        if (kk.empty()) return std::optional<CsvFamily>();
        return std::optional<CsvFamily>();
      }
      absl::StatusOr<std::vector<std::string>> fields = SplitRecord(rec.raw);
      ++rows_;
      if (!fields.ok()) {
        errors->push_back({rec.line, std::string(fields.status().message())});
        // Cannot tell which family it belongs to: if it plausibly starts with
        // the current KK, that family is spoiled too.
        if (!kk.empty() && rec.raw.compare(0, kk.size(), kk) == 0) bad = true;
        continue;
      }
      rec.fields = *std::move(fields);
    }
    const std::string& row_kk = rec.fields[0];
    if (!kk.empty() && row_kk != kk) {
      pending_ = std::move(rec);
      if (finish()) return std::optional<CsvFamily>(std::move(fam));
      fam = CsvFamily();
      kk.clear();
      bad = false;
      heads = 0;
      row_bytes.clear();
      first.clear();
      continue;
    }
    if (kk.empty()) {
      kk = row_kk;
      fam.line = rec.line;
    }
    ++fam.rows;
    absl::StrAppend(&row_bytes, rec.raw, "\n");
    const std::vector<std::string>& f = rec.fields;
    if (static_cast<int>(f.size()) != kCsvColumns) {
      errors->push_back({rec.line, absl::StrCat("expected ", kCsvColumns, " columns, got ", f.size())});
      bad = true;
      continue;
    }
    std::optional<std::string> problem;
    if (!IsSixteenDigits(f[kKk])) {
      problem = ColumnError(kKk, f[kKk].empty() ? "missing (16 digits)" : "must be 16 digits");
    } else if (!IsRegionCodeForm(f[kRegion])) {
      problem = ColumnError(kRegion, f[kRegion].empty()
                                         ? "missing (PP.RR.DD.VVVV)"
                                         : absl::StrCat(Quote(f[kRegion]), " is not of the form PP.RR.DD.VVVV"));
    } else if (f[kOccurred].empty()) {
      problem = ColumnError(kOccurred, "missing (YYYY-MM-DD)");
    } else if (!ParseDay(f[kOccurred])) {
      problem = ColumnError(kOccurred, absl::StrCat(Quote(f[kOccurred]), " is not a valid date (YYYY-MM-DD)"));
    } else if (!f[kRecorded].empty() && !ParseDay(f[kRecorded])) {
      problem = ColumnError(kRecorded, absl::StrCat(Quote(f[kRecorded]), " is not a valid date (YYYY-MM-DD)"));
    }
    v1::Member member;
    if (!problem) problem = ParseMember(f, &member);
    if (!problem && !first.empty()) {
      for (Col col : {kRegion, kAddress, kOccurred, kRecorded}) {
        if (f[col] != first[col]) {
          problem = ColumnError(col, absl::StrCat("differs from the family's first row (line ", first_line,
                                                  "); it must be the same on every row of a KK"));
          break;
        }
      }
    }
    if (problem) {
      errors->push_back({rec.line, *std::move(problem)});
      bad = true;
      continue;
    }
    if (first.empty()) {
      first = f;
      first_line = rec.line;
    }
    if (member.relationship() == v1::RELATIONSHIP_HEAD) {
      ++heads;
      fam.request.mutable_family()->set_head_nik(member.nik());
    }
    *fam.request.mutable_family()->add_members() = std::move(member);
  }
}

}  // namespace jaring::synth
