#include "services/population/validation.h"

#include "libs/validation/validation.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/base/clock.h"
#include "libs/base/status.h"
#include "libs/base/strings.h"

namespace jaring::population {
namespace {

constexpr size_t kIdLength = 16;

// "<field>.<sub>", or just "<sub>" when the caller gave no field path.
std::string Path(std::string_view field, std::string_view sub) {
  if (field.empty()) return std::string(sub);
  return absl::StrCat(Av(field), ".", Av(sub));
}

template <typename... Args>
absl::Status Invalid(std::string_view field, const Args&... reason) {
  return absl::InvalidArgumentError(absl::StrCat(Av(field), ": ", reason...));
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The value of s[pos, pos+n), all digits (checked by the caller).
int Digits(std::string_view s, size_t pos, size_t n) {
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) v = v * 10 + (s[i] - '0');
  return v;
}

// "'x'" for a printable ASCII character, "byte 0x0a" otherwise.
std::string DescribeChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return absl::StrCat("'", std::string(1, c), "'");
  return absl::StrFormat("byte 0x%02x", u);
}

// Quotes a short caller-supplied string (never a NIK) for a message.
std::string Quote(std::string_view s) {
  if (s.size() > 32) return absl::StrCat(s.size(), " characters");
  return absl::StrCat("\"", absl::CHexEscape(Av(s)), "\"");
}

bool IsCalendarDate(int y, int m, int d) {
  if (m < 1 || m > 12 || d < 1) return false;
  const absl::CivilDay day(y, m, d);
  return day.year() == y && day.month() == m && day.day() == d;
}

int DaysInMonth(int y, int m) {
  const absl::CivilMonth month(y, m);
  return static_cast<int>(absl::CivilDay(month + 1) - absl::CivilDay(month));
}

std::string YmdString(int y, int m, int d) { return absl::StrFormat("%04d-%02d-%02d", y, m, d); }
std::string DayString(absl::CivilDay d) {
  return YmdString(static_cast<int>(d.year()), d.month(), d.day());
}

std::string TimeString(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S WIB", t, WibTimeZone());
}

// A 16-digit identifier: length and digits.
absl::Status CheckSixteenDigits(std::string_view field, std::string_view s) {
  if (s.empty()) return Invalid(field, "is required (16 digits)");
  if (s.size() != kIdLength) return Invalid(field, "must be 16 digits, got ", s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (!IsDigit(s[i])) {
      return Invalid(field, "must be 16 digits, but character ", i + 1, " (", DescribeChar(s[i]),
                     ") is not a digit");
    }
  }
  return absl::OkStatus();
}

// Province, regency/city and district as two-digit numbers.
absl::Status CheckProvince(std::string_view field, int pp) {
  if (!IsProvinceCode(pp)) {
    return Invalid(field, absl::StrFormat("province code %02d is not an Indonesian province", pp));
  }
  return absl::OkStatus();
}
absl::Status CheckRegency(std::string_view field, int rr) {
  if (rr < 1 || rr > 99) return Invalid(field, "regency/city code 00 is not valid (01-99)");
  return absl::OkStatus();
}
absl::Status CheckDistrict(std::string_view field, int dd) {
  if (dd < 1 || dd > 99) return Invalid(field, "district code 00 is not valid (01-99)");
  return absl::OkStatus();
}

// The PPRRDD prefix of a NIK or KK number (digits already checked).
absl::Status CheckRegion6(std::string_view field, std::string_view s) {
  JARING_RETURN_IF_ERROR(CheckProvince(field, Digits(s, 0, 2)));
  JARING_RETURN_IF_ERROR(CheckRegency(field, Digits(s, 2, 2)));
  return CheckDistrict(field, Digits(s, 4, 2));
}

absl::Status CheckSerial(std::string_view field, std::string_view s) {
  if (Digits(s, 12, 4) == 0) return Invalid(field, "serial number 0000 is not valid (0001-9999)");
  return absl::OkStatus();
}

absl::StatusOr<NikFacts> ParseNikAt(std::string_view field, std::string_view nik,
                                    absl::CivilDay today) {
  JARING_RETURN_IF_ERROR(CheckSixteenDigits(field, nik));
  JARING_RETURN_IF_ERROR(CheckRegion6(field, nik));
  const int raw_day = Digits(nik, 6, 2);
  const int month = Digits(nik, 8, 2);
  const int yy = Digits(nik, 10, 2);
  const bool female = raw_day > 40;
  if (!((raw_day >= 1 && raw_day <= 31) || (raw_day >= 41 && raw_day <= 71))) {
    return Invalid(
        field,
        absl::StrFormat("day %02d is not a valid birth day (1-31, or 41-71 for women)", raw_day));
  }
  if (month < 1 || month > 12) {
    return Invalid(field, absl::StrFormat("month %02d is not a valid birth month (01-12)", month));
  }
  const int day = female ? raw_day - 40 : raw_day;
  // 20YY unless that is still to come, then 19YY.
  int year = 2000 + yy;
  if (year > today.year() ||
      (year == today.year() &&
       (month > today.month() || (month == today.month() && day > today.day())))) {
    year = 1900 + yy;
  }
  if (!IsCalendarDate(year, month, day)) {
    return Invalid(field, "encodes birth date ", YmdString(year, month, day),
                   ", which is not a calendar date (", absl::StrFormat("%04d-%02d", year, month),
                   " has ", DaysInMonth(year, month), " days)");
  }
  JARING_RETURN_IF_ERROR(CheckSerial(field, nik));
  NikFacts facts;
  facts.birth_date = absl::CivilDay(year, month, day);
  facts.female = female;
  facts.region6 = std::string(nik.substr(0, 6));
  return facts;
}

// Splits "a.b.c" on '.', keeping empty parts.
std::vector<std::string_view> SplitDots(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t dot = s.find('.', start);
    if (dot == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, dot - start));
    start = dot + 1;
  }
}

// Checks the parts of a region code or prefix. `full` demands all four.
absl::Status CheckRegionParts(std::string_view field, std::string_view code, bool full) {
  static constexpr const char* kForm = "PP.RR.DD.VVVV (e.g. 52.71.01.1001)";
  static constexpr const char* kPrefixForm = "PP, PP.RR, PP.RR.DD or PP.RR.DD.VVVV (e.g. 52.71)";
  if (code.empty()) return Invalid(field, "is required (", full ? kForm : kPrefixForm, ")");
  const std::vector<std::string_view> parts = SplitDots(code);
  if (parts.size() > 4 || (full && parts.size() != 4)) {
    return Invalid(field, "must look like ", full ? kForm : kPrefixForm, ", got ", Quote(code));
  }
  static constexpr const char* kNames[] = {"province", "regency/city", "district", "village"};
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string_view p = parts[i];
    const size_t width = i == 3 ? 4 : 2;
    bool digits = p.size() == width;
    for (char c : p) digits = digits && IsDigit(c);
    if (!digits) {
      return Invalid(field, kNames[i], " code must be ", width, " digits, got ", Quote(p),
                     " (expected ", full ? kForm : kPrefixForm, ")");
    }
    const int v = Digits(p, 0, width);
    switch (i) {
      case 0:
        JARING_RETURN_IF_ERROR(CheckProvince(field, v));
        break;
      case 1:
        JARING_RETURN_IF_ERROR(CheckRegency(field, v));
        break;
      case 2:
        JARING_RETURN_IF_ERROR(CheckDistrict(field, v));
        break;
      default:
        if (p[0] != '1' && p[0] != '2') {
          return Invalid(field, "village code ", Av(p),
                         " must start with 1 (kelurahan) or 2 (desa)");
        }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::Time> TimestampToTime(std::string_view field,
                                           const google::protobuf::Timestamp& ts) {
  // The bounds every command shares (1900-01-01 .. 9999-12-31).
  JARING_RETURN_IF_ERROR(validation::ValidateTimestamp(field, ts));
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

}  // namespace

absl::TimeZone WibTimeZone() { return jaring::WibTimeZone(); }

absl::CivilDay TodayIn(absl::Time now) { return WibDay(now); }

bool IsProvinceCode(int code) {
  return (code >= 11 && code <= 19) || code == 21 || (code >= 31 && code <= 36) ||
         (code >= 51 && code <= 53) || (code >= 61 && code <= 65) || (code >= 71 && code <= 76) ||
         (code >= 81 && code <= 82) || (code >= 91 && code <= 97);
}

absl::Status ValidateNik(std::string_view field, std::string_view nik, absl::CivilDay today) {
  return ParseNikAt(field, nik, today).status();
}

absl::StatusOr<NikFacts> ParseNik(std::string_view nik, absl::CivilDay today) {
  return ParseNikAt("nik", nik, today);
}

absl::Status ValidateKkNumber(std::string_view field, std::string_view kk, absl::CivilDay today) {
  JARING_RETURN_IF_ERROR(CheckSixteenDigits(field, kk));
  JARING_RETURN_IF_ERROR(CheckRegion6(field, kk));
  const int day = Digits(kk, 6, 2);
  const int month = Digits(kk, 8, 2);
  const int yy = Digits(kk, 10, 2);
  if (day < 1 || day > 31) {
    return Invalid(field, absl::StrFormat("day %02d is not a valid registration day (01-31)", day));
  }
  if (month < 1 || month > 12) {
    return Invalid(field,
                   absl::StrFormat("month %02d is not a valid registration month (01-12)", month));
  }
  const int year = 2000 + yy > today.year() ? 1900 + yy : 2000 + yy;
  if (!IsCalendarDate(year, month, day)) {
    return Invalid(field, "encodes registration date ", YmdString(year, month, day),
                   ", which is not a calendar date (", absl::StrFormat("%04d-%02d", year, month),
                   " has ", DaysInMonth(year, month), " days)");
  }
  const absl::CivilDay registered(year, month, day);
  if (registered > today) {
    return Invalid(field, "encodes registration date ", DayString(registered),
                   ", which is after today (", DayString(today), ")");
  }
  return CheckSerial(field, kk);
}

absl::Status ValidateRegionCode(std::string_view field, std::string_view code) {
  return CheckRegionParts(field, code, /*full=*/true);
}

absl::Status ValidateRegionPrefix(std::string_view field, std::string_view prefix) {
  return CheckRegionParts(field, prefix, /*full=*/false);
}

absl::Status ValidateKkInRegion(std::string_view field, std::string_view kk,
                                std::string_view region_code) {
  bool kk_ok = kk.size() >= 6;
  for (size_t i = 0; kk_ok && i < 6; ++i) kk_ok = IsDigit(kk[i]);
  if (!kk_ok) return Invalid(field, "does not start with a 6-digit region code");
  bool region_ok = region_code.size() >= 8 && region_code[2] == '.' && region_code[5] == '.';
  for (size_t i : {0u, 1u, 3u, 4u, 6u, 7u}) region_ok = region_ok && IsDigit(region_code[i]);
  if (!region_ok) {
    return Invalid(field, "cannot be checked against region code ", Quote(region_code),
                   " (expected PP.RR.DD.VVVV)");
  }
  const std::string region6 = absl::StrCat(
      Av(region_code.substr(0, 2)), Av(region_code.substr(3, 2)), Av(region_code.substr(6, 2)));
  if (kk.substr(0, 6) != region6) {
    return Invalid(field, "was issued in district ", Av(kk.substr(0, 2)), ".", Av(kk.substr(2, 2)),
                   ".", Av(kk.substr(4, 2)), " (its first six digits) but the family's region ",
                   Av(region_code), " is in district ", Av(region_code.substr(0, 8)));
  }
  return absl::OkStatus();
}

absl::Status ValidateDate(std::string_view field, const v1::Date& date) {
  if (date.year() < 1900 || date.year() > 2100) {
    return Invalid(field, "year ", date.year(), " is out of range (1900-2100)");
  }
  if (date.month() < 1 || date.month() > 12) {
    return Invalid(field, "month ", date.month(), " is not valid (1-12)");
  }
  const int days = DaysInMonth(date.year(), date.month());
  if (date.day() < 1 || date.day() > days) {
    return Invalid(
        field, YmdString(date.year(), date.month(), date.day()), " is not a calendar date (",
        absl::StrFormat("%04d-%02d", date.year(), date.month()), " has ", days, " days)");
  }
  return absl::OkStatus();
}

absl::CivilDay ToCivilDay(const v1::Date& d) {
  return absl::CivilDay(d.year(), d.month(), d.day());
}

v1::Date FromCivilDay(absl::CivilDay d) {
  v1::Date out;
  out.set_year(static_cast<int32_t>(d.year()));
  out.set_month(d.month());
  out.set_day(d.day());
  return out;
}

absl::Status ValidateMember(std::string_view field, const v1::Member& m, absl::CivilDay today) {
  const std::string nik_field = Path(field, "nik");
  JARING_ASSIGN_OR_RETURN(const NikFacts facts, ParseNikAt(nik_field, m.nik(), today));

  const std::string name_field = Path(field, "full_name");
  const std::string_view name = Sv(absl::StripAsciiWhitespace(m.full_name()));
  if (name.empty()) return Invalid(name_field, "is required");
  // UTF-8, no control characters, not only invisible ones, at most
  // validation::kMaxNameChars code points.
  JARING_RETURN_IF_ERROR(validation::ValidateName(name_field, name));

  const std::string sex_field = Path(field, "sex");
  if (m.sex() == v1::SEX_UNSPECIFIED) return Invalid(sex_field, "is required (male or female)");
  if (!v1::Sex_IsValid(m.sex())) return Invalid(sex_field, "unknown value ", m.sex());

  const std::string birth_field = Path(field, "birth_date");
  if (!m.has_birth_date()) return Invalid(birth_field, "is required");
  JARING_RETURN_IF_ERROR(ValidateDate(birth_field, m.birth_date()));
  const absl::CivilDay born = ToCivilDay(m.birth_date());
  if (born > today) {
    return Invalid(birth_field, DayString(born), " is after today (", DayString(today), ")");
  }

  const std::string rel_field = Path(field, "relationship");
  if (m.relationship() == v1::RELATIONSHIP_UNSPECIFIED) return Invalid(rel_field, "is required");
  if (!v1::Relationship_IsValid(m.relationship())) {
    return Invalid(rel_field, "unknown value ", m.relationship());
  }

  // The NIK carries only two digits of the year: the century comes from
  // birth_date.
  const absl::CivilDay coded = facts.birth_date;
  if (coded.day() != born.day() || coded.month() != born.month() ||
      coded.year() % 100 != born.year() % 100) {
    return Invalid(nik_field, "encodes birth date ", DayString(coded), " but birth_date is ",
                   DayString(born));
  }
  const bool female = m.sex() == v1::SEX_FEMALE;
  if (facts.female != female) {
    if (facts.female) {
      return Invalid(nik_field,
                     absl::StrFormat("encodes a woman (birth day %02d = %02d + 40)",
                                     coded.day() + 40, coded.day()),
                     " but sex is male");
    }
    return Invalid(
        nik_field,
        absl::StrFormat("encodes a man (birth day %02d, not %02d + 40)", coded.day(), coded.day()),
        " but sex is female");
  }

  if (!m.mother_nik().empty()) {
    const std::string mother_field = Path(field, "mother_nik");
    JARING_RETURN_IF_ERROR(ValidateNik(mother_field, m.mother_nik(), today));
    if (m.mother_nik() == m.nik()) return Invalid(mother_field, "is the member's own NIK");
  }

  const v1::MemberAttributes& a = m.attributes();
  const std::string attr_field = Path(field, "attributes");
  if (a.has_pregnant() && a.pregnant() && !female) {
    return Invalid(Path(attr_field, "pregnant"), "only a woman can be pregnant (sex is male)");
  }
  if (a.has_pregnancy_order() && a.pregnancy_order() < 1) {
    return Invalid(Path(attr_field, "pregnancy_order"), "must be at least 1, got ",
                   a.pregnancy_order());
  }
  if (a.has_disability() && !v1::Disability_IsValid(a.disability())) {
    return Invalid(Path(attr_field, "disability"), "unknown value ", a.disability());
  }
  if (a.has_school_level() && !v1::SchoolLevel_IsValid(a.school_level())) {
    return Invalid(Path(attr_field, "school_level"), "unknown value ", a.school_level());
  }
  return absl::OkStatus();
}

absl::Status ValidateEventTimes(const v1::CommandContext& ctx, absl::Time now,
                                absl::Time* occurred_at, absl::Time* recorded_at) {
  constexpr std::string_view kOccurred = "context.occurred_at";
  constexpr std::string_view kRecorded = "context.recorded_at";
  const absl::Time latest = now + kMaxClockSkew;

  if (!ctx.has_occurred_at()) return Invalid(kOccurred, "is required");
  JARING_ASSIGN_OR_RETURN(const absl::Time occurred, TimestampToTime(kOccurred, ctx.occurred_at()));
  if (occurred > latest) {
    return Invalid(kOccurred, "is in the future (", TimeString(occurred), " after ",
                   TimeString(now), ")");
  }

  absl::Time recorded = now;
  if (ctx.has_recorded_at()) {
    JARING_ASSIGN_OR_RETURN(recorded, TimestampToTime(kRecorded, ctx.recorded_at()));
    if (recorded > latest) {
      return Invalid(kRecorded, "is in the future (", TimeString(recorded), " after ",
                     TimeString(now), ")");
    }
  } else if (occurred > now) {
    // occurred_at is within the allowed skew ahead of our clock; a report
    // cannot precede the event.
    recorded = occurred;
  }
  if (recorded < occurred) {
    return Invalid(kRecorded, "is before occurred_at (", TimeString(recorded), " before ",
                   TimeString(occurred), ")");
  }

  if (occurred_at != nullptr) *occurred_at = occurred;
  if (recorded_at != nullptr) *recorded_at = recorded;
  return absl::OkStatus();
}

absl::Status ValidateRequestId(std::string_view field, std::string_view id) {
  return validation::ValidateRequestId(field, id);
}

absl::Status ValidateAssessment(std::string_view field, const v1::WelfareAssessed& a) {
  const std::string round_field = Path(field, "round");
  const std::string& r = a.round();
  bool shaped = r.size() == 7 && r[4] == '-' && r[5] == 'Q' && IsDigit(r[6]);
  for (size_t i = 0; shaped && i < 4; ++i) shaped = IsDigit(r[i]);
  if (!shaped) {
    return Invalid(round_field, "must look like 2026-Q1 (year, \"-Q\", quarter), got ", Quote(r));
  }
  const int year = Digits(r, 0, 4);
  const int quarter = Digits(r, 6, 1);
  if (year < 2020 || year > 2100) {
    return Invalid(round_field, "year ", year, " is out of range (2020-2100)");
  }
  if (quarter < 1 || quarter > 4) {
    return Invalid(round_field, "quarter Q", quarter, " is not valid (Q1-Q4)");
  }
  if (a.decile() < 1 || a.decile() > 10) {
    return Invalid(Path(field, "decile"), a.decile(), " is out of range (1-10)");
  }
  if (a.pmt_score_micros() < 0) {
    return Invalid(Path(field, "pmt_score_micros"), "must not be negative, got ",
                   a.pmt_score_micros());
  }
  return absl::OkStatus();
}

std::string MaskNik(std::string_view nik) {
  if (nik.size() != kIdLength) return "****";
  return absl::StrCat(Av(nik.substr(0, 4)), "**********", Av(nik.substr(14, 2)));
}

}  // namespace jaring::population
