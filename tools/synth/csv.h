// The registry-extract CSV format (docs/import-format.md): one row per
// member, rows of one family card (KK) consecutive, a header row first.
//
//   RegistryCsvReader  streams a file into RegisterFamilyRequest messages, one
//                      per KK, reporting each malformed row with its 1-based
//                      line number and carrying on with the rest.
//   RegistryCsvWriter  writes RegisterFamilyRequest messages as rows (used by
//                      the synthetic population generator).
//
// Dates in the file are calendar days in WIB (UTC+7); a date becomes the
// Timestamp of 00:00 WIB on that day, and a Timestamp is written as its WIB
// calendar day.
//
// Idempotency: the request_id of a family is
//   DeterministicId("import", {kk_number, FamilyRowBytes})
// where FamilyRowBytes is the family's records exactly as they appear in the
// file, each without its line terminator and followed by "\n". Importing the
// same file twice therefore sends the same ids and appends nothing new.
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "jaring/v1/envelope.pb.h"
#include "jaring/v1/population_service.pb.h"

namespace jaring::synth {

// The header row, exactly (column order is fixed).
inline constexpr std::string_view kCsvHeader =
    "kk_number,region_code,address,nik,full_name,sex,birth_date,relationship,mother_nik,"
    "disability,school_level,school_enrolled,pregnant,pregnancy_order,occurred_at,recorded_at";
inline constexpr int kCsvColumns = 16;

// WIB (UTC+7), the zone of every date in the file.
absl::TimeZone CsvTimeZone();
// 00:00 WIB of `day`, and the WIB day of `t`.
absl::Time DayStart(absl::CivilDay day);
absl::CivilDay WibDay(absl::Time t);

// "YYYY-MM-DD" (a real date, year 1900-2100), or nullopt.
std::optional<absl::CivilDay> ParseIsoDay(std::string_view s);

// An instant given as "YYYY-MM-DD" (WIB: its first millisecond, or with
// `end_of_day` its last) or as an RFC 3339 time; nullopt for anything else.
// What the command lines of jaring and jaringctl read for their time flags.
std::optional<absl::Time> ParseInstant(std::string_view text, bool end_of_day);

// The request id of a family whose rows are `row_bytes` (see above).
std::string ImportRequestId(std::string_view kk_number, std::string_view row_bytes);

// The family's rows as the writer formats them (each followed by "\n"). For
// a family written by RegistryCsvWriter this is its FamilyRowBytes.
std::string FormatFamilyRows(const v1::RegisterFamilyRequest& request);

// Sets request.context.request_id to ImportRequestId(kk, FormatFamilyRows(request)):
// the id an import of the written file will carry.
void StampImportRequestId(v1::RegisterFamilyRequest& request);

// The Bahasa Indonesia names the file uses for enums (KEPALA_KELUARGA,
// ISTRI/SUAMI, ..., TIDAK/RINGAN/BERAT, TIDAK_SEKOLAH/PAUD/SD/SMP/SMA/PT);
// nullopt for an unknown name. Also used by jaringctl's flags.
std::optional<v1::Relationship> ParseRelationshipName(std::string_view name);
std::optional<v1::Disability> ParseDisabilityName(std::string_view name);
std::optional<v1::SchoolLevel> ParseSchoolLevelName(std::string_view name);
// The name of a value ("" for UNSPECIFIED); SPOUSE is "ISTRI" for a woman,
// "SUAMI" otherwise.
std::string_view RelationshipName(v1::Relationship r, v1::Sex sex);
std::string_view DisabilityName(v1::Disability d);
std::string_view SchoolLevelName(v1::SchoolLevel s);
// "KEPALA_KELUARGA|ISTRI|..." for messages.
std::string RelationshipNames();
std::string DisabilityNames();
std::string SchoolLevelNames();

// Quotes a field per RFC 4180 when it holds a comma, a quote, CR or LF.
std::string CsvField(std::string_view value);

// Writes the header on construction and one row per member on Write(). The
// stream must outlive the writer. Not thread-safe.
class RegistryCsvWriter {
 public:
  explicit RegistryCsvWriter(std::ostream* out);
  void Write(const v1::RegisterFamilyRequest& request);
  int64_t rows() const { return rows_; }

 private:
  std::ostream* out_;
  int64_t rows_ = 0;
};

struct CsvRowError {
  // 1-based physical line where the record starts.
  int64_t line = 0;
  std::string message;
};

struct CsvFamily {
  // Line of the family's first row (sent as ImportRequest.line).
  int64_t line = 0;
  int rows = 0;
  v1::RegisterFamilyRequest request;
};

struct CsvReaderOptions {
  v1::Source source = v1::SOURCE_DUKCAPIL;
  std::string actor = "import";
};

// Reads a registry extract from a stream the caller owns (it must outlive
// the reader). Not thread-safe.
//
// A family is returned only when every one of its rows is well formed and it
// has exactly one KEPALA_KELUARGA row; otherwise each bad row (and, for a
// family-level problem, the family's first line) is reported in `errors` and
// the family is skipped. Checks are about form only (columns, digits, dates,
// enum names); the service checks meaning (e.g. that a NIK encodes the birth
// date).
class RegistryCsvReader {
 public:
  explicit RegistryCsvReader(std::istream* in, CsvReaderOptions options = {});

  // The next well-formed family, or nullopt at the end of the file. Row errors
  // met on the way are appended to *errors. Errors: kInvalidArgument when the
  // header row is missing or wrong (nothing can be read), kDataLoss when the
  // stream fails or a quoted field is never closed.
  absl::StatusOr<std::optional<CsvFamily>> Next(std::vector<CsvRowError>* errors);

  // Data rows read so far (header excluded).
  int64_t rows() const { return rows_; }
  // Families skipped because of errors so far.
  int64_t rejected_families() const { return rejected_families_; }

 private:
  struct Record {
    int64_t line = 0;
    std::string raw;  // without the terminator
    std::vector<std::string> fields;
  };
  // Reads one record; false at EOF.
  absl::StatusOr<bool> ReadRecord(Record* rec);
  absl::Status ReadHeader();

  std::istream* in_;
  CsvReaderOptions options_;
  int64_t next_line_ = 1;
  int64_t rows_ = 0;
  int64_t rejected_families_ = 0;
  bool header_done_ = false;
  std::optional<Record> pending_;
  absl::flat_hash_set<uint64_t> seen_kks_;
};

}  // namespace jaring::synth
