// Format validation for population commands.
//
// Pure functions: no state, no I/O, no clock. Whatever depends on "now" or
// "today" takes it as an argument, so tests and replays are deterministic.
// Thread-safe; every function may be called from any thread.
//
// Errors. Every rejection is absl::InvalidArgumentError (gRPC
// INVALID_ARGUMENT) whose message is
//
//   <field path>: <plain-English reason>
//
// where the field path is the `field` argument exactly as the caller gave it
// (e.g. "family.members[2].nik") and, for composite checks, a sub-field path
// appended with '.' (e.g. "family.members[2].birth_date"). Examples:
//
//   family.members[2].nik: day 72 is not a valid birth day (1-31, or 41-71 for women)
//   kk_number: must be 16 digits, got 15
//   context.occurred_at: is in the future (2027-01-02 10:00:00 WIB after 2026-11-23 ...)
//
// Messages never echo a NIK: they name the offending part (day, month,
// serial, ...) instead. Logs that must identify a person use MaskNik().
//
// "Today". Dates on Indonesian documents are local dates. We take "today" in
// WIB (UTC+7, absl::FixedTimeZone(7 * 3600)) for the whole country: at most
// two hours early for WITA/WIT, which only matters for events recorded in
// the first hours after midnight and errs on the side of accepting.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "jaring/v1/population.pb.h"
#include "jaring/v1/population_service.pb.h"

namespace jaring::population {

// The time zone in which "today" is taken: WIB, UTC+7, no DST.
absl::TimeZone WibTimeZone();

// The calendar day in WIB at `now`.
absl::CivilDay TodayIn(absl::Time now);

// Clock skew allowed between a client and the service: a time up to this
// far past `now` still counts as "not in the future".
inline constexpr absl::Duration kMaxClockSkew = absl::Minutes(5);

// True for the two-digit province codes of Kemendagri: 11-19, 21, 31-36,
// 51-53, 61-65, 71-76, 81-82, 91-97. The 9x range is generous on purpose:
// Papua (91), Papua Barat (92) and the provinces created in 2022 (Papua
// Selatan, Papua Tengah, Papua Pegunungan, Papua Barat Daya: 93-96), plus
// 97 as headroom; older cards also carry the earlier Papua numbering (94 for
// Papua, 91 for Irian Jaya Barat), all inside 91-97. Rejects 00, 10, 20, 99.
bool IsProvinceCode(int code);

// NIK (Nomor Induk Kependudukan), 16 digits: PPRRDD DDMMYY SSSS.
//   PP     a province code (IsProvinceCode)
//   RR     regency/city 01-99, DD district 01-99
//   DDMMYY birth date; women add 40 to the day (so 01-31 or 41-71). It must be
//          a real calendar date in the inferred century:
//          20YY unless that date is after `today`, then 19YY.
//          (For every year before `today`'s this is "20YY if not after
//          today's year"; within the current year a date still to come
//          means the person was born a century earlier.)
//   SSSS   serial 0001-9999
// Returns OK or InvalidArgumentError("<field>: <reason>").
absl::Status ValidateNik(std::string_view field, std::string_view nik, absl::CivilDay today);

// What a valid NIK says about its holder.
struct NikFacts {
  // Birth date with the century inferred as in ValidateNik.
  absl::CivilDay birth_date;
  bool female = false;
  // The first six digits, PPRRDD: where the NIK was issued.
  std::string region6;
};

// Parses a NIK that ValidateNik(…, today) accepts. Errors are those of
// ValidateNik with the field path "nik".
absl::StatusOr<NikFacts> ParseNik(std::string_view nik, absl::CivilDay today);

// Family card number (No. KK), 16 digits: PPRRDD DDMMYY SSSS.
//   PPRRDD region of issue: valid province, RR 01-99, DD 01-99
//   DDMMYY registration date (no +40): a real calendar date in 20YY, or in
//          19YY when 20YY is after today's year; it must not be after `today`
//   SSSS   serial 0001-9999
// Returns OK or InvalidArgumentError("<field>: <reason>").
absl::Status ValidateKkNumber(std::string_view field, std::string_view kk, absl::CivilDay today);

// A full village-level region code "PP.RR.DD.VVVV": valid province, RR 01-99,
// DD 01-99, VVVV four digits starting with 1 (kelurahan) or 2 (desa).
// Returns OK or InvalidArgumentError("<field>: <reason>").
absl::Status ValidateRegionCode(std::string_view field, std::string_view code);

// A region prefix for queries: "PP", "PP.RR", "PP.RR.DD" or a full
// "PP.RR.DD.VVVV", each part well-formed as in ValidateRegionCode. The empty
// string is rejected. Returns OK or InvalidArgumentError("<field>: <reason>").
absl::Status ValidateRegionPrefix(std::string_view field, std::string_view prefix);

// The KK number's first six digits equal the region code's PP.RR.DD (a card
// is issued where the family lives). `field` names the KK number. Checks only
// the correspondence (and that both are long enough and numeric where
// compared); validate each with ValidateKkNumber / ValidateRegionCode first.
// Returns OK or InvalidArgumentError("<field>: <reason>").
absl::Status ValidateKkInRegion(std::string_view field, std::string_view kk,
                                std::string_view region_code);

// A real calendar date with year 1900..2100, month 1..12, day valid for the
// month (29 February only in leap years).
// Returns OK or InvalidArgumentError("<field>: <reason>").
absl::Status ValidateDate(std::string_view field, const v1::Date& date);

// Conversions. ToCivilDay expects a date ValidateDate accepts; anything else
// is normalised the way absl::CivilDay normalises (2023-02-29 -> 2023-03-01).
absl::CivilDay ToCivilDay(const v1::Date& d);
v1::Date FromCivilDay(absl::CivilDay d);

// A member as listed on a family card. Sub-fields are reported as
// "<field>.nik", "<field>.full_name", ... The checks, in order:
//   nik           a valid NIK (ValidateNik)
//   full_name     non-empty after trimming ASCII whitespace, at most 128
//                 characters (UTF-8 code points) after trimming
//   sex           SEX_MALE or SEX_FEMALE
//   birth_date    present, a valid date (ValidateDate), not after `today`
//   relationship  a known value other than RELATIONSHIP_UNSPECIFIED
//   nik vs. data  the NIK's DDMMYY equals birth_date's day, month and last
//                 two digits of the year (so the century comes from
//                 birth_date, and centenarians pass); its +40 agrees with sex.
//                 Reported on "<field>.nik", e.g.
//                 "nik: encodes birth date 1985-03-12 but birth_date is 1985-03-13"
//   mother_nik    when non-empty: a valid NIK, and not the member's own NIK
//   attributes    pregnant=true only for SEX_FEMALE; pregnancy_order >= 1 when
//                 set; disability and school_level, when set, known values
// Returns OK or InvalidArgumentError for the first failing check.
absl::Status ValidateMember(std::string_view field, const v1::Member& m, absl::CivilDay today);

// The event times of a command, from its context:
//   context.occurred_at  required; a valid Timestamp; not after now + 5 min
//   context.recorded_at  when unset, `now`; otherwise a valid Timestamp, not
//                        after now + 5 min, and not before occurred_at
// On OK writes the effective times to *occurred_at and *recorded_at (either
// may be null when the caller does not need it); on error writes nothing.
// Errors: InvalidArgumentError("context.occurred_at: ..." /
// "context.recorded_at: ...").
absl::Status ValidateEventTimes(const v1::CommandContext& ctx, absl::Time now,
                                absl::Time* occurred_at, absl::Time* recorded_at);

// An idempotency key: required, 1..128 characters of [A-Za-z0-9._:-].
// Returns OK or InvalidArgumentError("<field>: <reason>").
absl::Status ValidateRequestId(std::string_view field, std::string_view id);

// A DTSEN assessment. Sub-fields are reported as "<field>.round", ...:
//   round             "YYYY-Qn", year 2020..2100, n 1..4
//   decile            1..10
//   pmt_score_micros  >= 0
// Returns OK or InvalidArgumentError for the first failing check.
absl::Status ValidateAssessment(std::string_view field, const v1::WelfareAssessed& a);

// A NIK safe for logs: first four and last two characters, e.g.
// "5271**********01". Anything that is not 16 characters long becomes "****".
std::string MaskNik(std::string_view nik);

}  // namespace jaring::population
