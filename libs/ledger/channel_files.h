// The payment channel's files: the payment instructions we send (one line
// per payment) and the statement the channel sends back (one line per
// outcome). Both are CSV (README.md, "Channel files"):
//
//  - UTF-8; a leading UTF-8 byte order mark is skipped;
//  - a header line, required and exact;
//  - lines end in "\n" or "\r\n"; blank lines at the end are ignored, blank
//    lines elsewhere are errors;
//  - RFC 4180 quoting: a field in double quotes may hold commas, and a
//    double quote written twice. One record is one line: no column of ours
//    can hold a line break, so a quote still open at the end of a line is
//    an error of that line rather than the start of a multi-line field
//    (a stray quote in a bank's file then costs one line, not the rest of
//    the file).
//
// Readers never stop at a bad line: each bad line is reported (its 1-based
// line number, the column and the reason) and the rest is read, so the
// ledger can report every problem of a statement at once and never guess.
// Everything here is pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/types/span.h"

namespace jaring::ledger {

// A problem with one line of a file.
struct LineError {
  // 1-based; the header is line 1.
  int line_number = 0;
  // The column and why, without the line number:
  //   amount: "12a" is not a whole number of rupiah
  // Several problems of one line are joined with "; ".
  std::string message;

  friend bool operator==(const LineError&, const LineError&) = default;
};

// "line 7: amount: \"12a\" is not a whole number of rupiah".
std::string ToString(const LineError& error);

// ---------------------------------------------------------------------------
// Payment instructions (our export).

inline constexpr std::string_view kInstructionsHeader =
    "reference,kk_number,region_code,recipient_name,program,period,amount";

struct PaymentInstruction {
  // Unique per attempt (PaymentInstructed.reference): what the statement
  // refers to. Not empty.
  std::string reference;
  // 16 digits.
  std::string kk_number;
  // Kemendagri village code PP.RR.DD.VVVV.
  std::string region_code;
  // Already masked by the caller; this library cannot tell. Not empty.
  std::string recipient_name;
  // Not empty.
  std::string program;
  // Not empty ("2026-Q2", "2026-03/04", ...).
  std::string period;
  // Whole rupiah, above 0.
  int64_t amount = 0;

  friend bool operator==(const PaymentInstruction&, const PaymentInstruction&) = default;
};

// The instructions file: the header, then one line per instruction, in the
// given order, "\r\n" line ends (RFC 4180), fields quoted only when they
// hold a comma or a double quote.
// kInvalidArgument when an instruction breaks the rules above, or contains
// a line break or invalid UTF-8, or repeats an earlier reference; the
// message names it and the field: "instructions[3] (reference \"R-9\"):
// kk_number: \"12345\" is not 16 digits". Nothing is written then: a file
// the channel would reject, or pay wrongly, never leaves the ledger.
absl::StatusOr<std::string> WriteInstructions(absl::Span<const PaymentInstruction> instructions);

struct InstructionLine {
  int line_number = 0;
  PaymentInstruction instruction;

  friend bool operator==(const InstructionLine&, const InstructionLine&) = default;
};

struct ParsedInstructions {
  std::vector<InstructionLine> lines;
  std::vector<LineError> errors;
};

// Reads an instructions file (for tools and tests) with the same rules as
// WriteInstructions, reporting each bad line like ParseStatement.
ParsedInstructions ParseInstructions(std::string_view text);

// ---------------------------------------------------------------------------
// Channel statement (the channel's file).

inline constexpr std::string_view kStatementHeader = "reference,status,amount,channel_reference,settled_on";

struct StatementLine {
  // Where the line was read (0 when not read from a file).
  int line_number = 0;
  // Our instruction's reference. Not empty, unique within a statement.
  std::string reference;
  // PAID, FAILED or RETURNED in the file, in any letter case.
  enum class Status { kPaid, kFailed, kReturned } status = Status::kPaid;
  // Whole rupiah, 0 or more, digits only (leading zeros allowed).
  int64_t amount = 0;
  // The channel's own reference; may be empty (the ledger decides whether
  // it needs one).
  std::string channel_reference;
  // YYYY-MM-DD.
  absl::CivilDay settled_on;

  friend bool operator==(const StatementLine&, const StatementLine&) = default;
};

// "PAID", "FAILED", "RETURNED".
std::string_view StatusName(StatementLine::Status status);

struct ParsedStatement {
  std::vector<StatementLine> lines;
  std::vector<LineError> errors;
};

// Reads a statement. A missing or wrong header is one error on line 1 and
// no lines. Otherwise each line is either in `lines` or has one entry in
// `errors` naming every problem found in it: wrong column count, bad status,
// amount not a whole number / negative / too large, bad date, empty
// reference, unterminated quote or text after a closing quote, invalid
// UTF-8, blank line, or a reference that an earlier line already used (the
// later line is the error; the earlier one stands unless it is bad itself).
ParsedStatement ParseStatement(std::string_view text);

// The statement file for `lines` (their line_number is ignored), in the
// format ParseStatement reads: header, "\r\n" line ends, statuses in upper
// case. For tests, tools and benchmarks that play the channel: it writes
// what it is given, so a test can also write a statement that is wrong
// (an empty reference, a duplicate, a negative amount).
std::string WriteStatement(absl::Span<const StatementLine> lines);

}  // namespace jaring::ledger
