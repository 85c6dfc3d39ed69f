// CSV mechanics shared by the channel files: lines, RFC 4180 fields, the
// header and the per-field checks common to every column. The column rules
// of each file are in channel_files.cc.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "libs/ledger/channel_files.h"

namespace jaring::ledger_internal {

// One physical line, without its line end.
struct CsvLine {
  int number = 0;
  std::string_view text;
};

// Splits at "\n", dropping one "\r" before it; skips a leading UTF-8 byte
// order mark; drops blank lines at the end. Views into `text`.
std::vector<CsvLine> SplitCsvLines(std::string_view text);

// The fields of one line, RFC 4180 quoting, one record per line. Errors
// (kInvalidArgument) name the column, by its name in `columns` when it has
// one: "amount: unterminated quote".
absl::StatusOr<std::vector<std::string>> SplitCsvFields(std::string_view line,
                                                        absl::Span<const std::string_view> columns);

// Appends `field`, in double quotes (and its quotes doubled) when it holds a
// comma, a double quote, "\r" or "\n".
void AppendCsvField(std::string_view field, std::string* out);

// Appends the fields as one line ending in "\r\n".
void AppendCsvLine(absl::Span<const std::string> fields, std::string* out);

// Well-formed UTF-8: no overlong forms, surrogates or code points above
// U+10FFFF.
bool IsValidUtf8(std::string_view s);

// A data line whose fields passed the checks common to every column: the
// right count, UTF-8, no line break.
struct CsvRecord {
  int line_number = 0;
  std::vector<std::string> fields;
};

// The data lines of a file whose header must be exactly `columns`. Lines
// that fail the common checks go to `errors` (and blank lines other than
// trailing ones); a missing or wrong header is one error on line 1 and no
// records.
std::vector<CsvRecord> ReadCsvRecords(std::string_view text, absl::Span<const std::string_view> columns,
                                      std::vector<ledger::LineError>* errors);

// Whole rupiah: digits only (leading zeros allowed), at most INT64_MAX.
// Errors are the reason, to follow "<column>: ": "\"12a\" is not a whole
// number of rupiah", "\"-5\" is negative", "... is too large", "empty".
absl::StatusOr<int64_t> ParseRupiah(std::string_view text);

// "YYYY-MM-DD" exactly, a real calendar day.
absl::StatusOr<absl::CivilDay> ParseDay(std::string_view text);

// `s` quoted for a message: in double quotes, with control characters,
// quotes and non-ASCII bytes escaped, cut after 100 bytes.
std::string Quote(std::string_view s);

}  // namespace jaring::ledger_internal
