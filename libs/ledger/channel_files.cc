#include "libs/ledger/channel_files.h"

#include <algorithm>
#include <array>
#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/base/strings.h"
#include "libs/ledger/internal/csv.h"

namespace jaring::ledger {
namespace {

using ledger_internal::CsvRecord;
using ledger_internal::ParseDay;
using ledger_internal::ParseRupiah;
using ledger_internal::Quote;
using ledger_internal::ReadCsvRecords;

constexpr std::array<std::string_view, 7> kInstructionColumns = {
    "reference", "kk_number", "region_code", "recipient_name", "program", "period", "amount"};
constexpr std::array<std::string_view, 5> kStatementColumns = {"reference", "status", "amount",
                                                                "channel_reference", "settled_on"};

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Kemendagri village code: PP.RR.DD.VVVV.
bool IsVillageCode(std::string_view s) {
  return s.size() == 13 && s[2] == '.' && s[5] == '.' && s[8] == '.' && AllDigits(s.substr(0, 2)) &&
         AllDigits(s.substr(3, 2)) && AllDigits(s.substr(6, 2)) && AllDigits(s.substr(9, 4));
}

// What is wrong with the content of an instruction; shared by the writer and
// the reader so that what one accepts the other does.
std::vector<std::string> InstructionProblems(const PaymentInstruction& in) {
  std::vector<std::string> problems;
  if (in.reference.empty()) problems.push_back("reference: empty");
  if (in.kk_number.size() != 16 || !AllDigits(in.kk_number)) {
    problems.push_back(absl::StrCat("kk_number: ", Quote(in.kk_number), " is not 16 digits"));
  }
  if (!IsVillageCode(in.region_code)) {
    problems.push_back(absl::StrCat("region_code: ", Quote(in.region_code), " is not a village code PP.RR.DD.VVVV"));
  }
  if (in.recipient_name.empty()) problems.push_back("recipient_name: empty");
  if (in.program.empty()) problems.push_back("program: empty");
  if (in.period.empty()) problems.push_back("period: empty");
  if (in.amount <= 0) problems.push_back(absl::StrCat("amount: ", in.amount, " is not above 0"));
  return problems;
}

// Remembers each reference's first line; the later use is the error.
class ReferenceSet {
 public:
  // The problem text when `reference` was seen before, else "" (and it is
  // remembered as seen on `line`).
  std::string Use(const std::string& reference, int line) {
    if (reference.empty()) return "";
    auto [it, inserted] = first_line_.emplace(reference, line);
    if (inserted) return "";
    return absl::StrCat("reference: ", Quote(reference), " already appears on line ", it->second);
  }

 private:
  std::map<std::string, int> first_line_;
};

std::string FormatDay(const absl::CivilDay& day) {
  const auto pad = [](int64_t v, size_t width) {
    std::string s = absl::StrCat(v < 0 ? -v : v);
    if (s.size() < width) s.insert(0, width - s.size(), '0');
    return v < 0 ? "-" + s : s;
  };
  return absl::StrCat(pad(day.year(), 4), "-", pad(day.month(), 2), "-", pad(day.day(), 2));
}

// ReadCsvRecords reports the lines it refuses as it goes, the column checks
// come after: one list in file order is what a reader of the report wants.
void SortByLine(std::vector<LineError>* errors) {
  std::stable_sort(errors->begin(), errors->end(),
                   [](const LineError& a, const LineError& b) { return a.line_number < b.line_number; });
}

}  // namespace

std::string ToString(const LineError& error) {
  return absl::StrCat("line ", error.line_number, ": ", error.message);
}

// ---------------------------------------------------------------------------
// Instructions.

absl::StatusOr<std::string> WriteInstructions(absl::Span<const PaymentInstruction> instructions) {
  std::string out = absl::StrCat(Av(kInstructionsHeader), "\r\n");
  std::map<std::string_view, size_t> seen;
  for (size_t i = 0; i < instructions.size(); ++i) {
    const PaymentInstruction& in = instructions[i];
    const std::array<std::pair<std::string_view, const std::string*>, 6> text_fields = {{
        {"reference", &in.reference},
        {"kk_number", &in.kk_number},
        {"region_code", &in.region_code},
        {"recipient_name", &in.recipient_name},
        {"program", &in.program},
        {"period", &in.period},
    }};
    std::vector<std::string> problems;
    for (const auto& [name, value] : text_fields) {
      if (value->find_first_of("\r\n") != std::string::npos) {
        problems.push_back(absl::StrCat(Av(name), ": contains a line break"));
      } else if (!ledger_internal::IsValidUtf8(*value)) {
        problems.push_back(absl::StrCat(Av(name), ": not valid UTF-8"));
      }
    }
    for (std::string& p : InstructionProblems(in)) problems.push_back(std::move(p));
    if (!in.reference.empty()) {
      auto [it, inserted] = seen.emplace(in.reference, i);
      if (!inserted) problems.push_back(absl::StrCat("reference: already used by instructions[", it->second, "]"));
    }
    if (!problems.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("instructions[", i, "] (reference ", Quote(in.reference),
                                                     "): ", absl::StrJoin(problems, "; ")));
    }
    ledger_internal::AppendCsvLine({in.reference, in.kk_number, in.region_code, in.recipient_name, in.program,
                                    in.period, absl::StrCat(in.amount)},
                                   &out);
  }
  return out;
}

ParsedInstructions ParseInstructions(std::string_view text) {
  ParsedInstructions result;
  ReferenceSet references;
  for (CsvRecord& r : ReadCsvRecords(text, kInstructionColumns, &result.errors)) {
    std::vector<std::string> problems;
    PaymentInstruction in;
    in.reference = std::move(r.fields[0]);
    in.kk_number = std::move(r.fields[1]);
    in.region_code = std::move(r.fields[2]);
    in.recipient_name = std::move(r.fields[3]);
    in.program = std::move(r.fields[4]);
    in.period = std::move(r.fields[5]);
    absl::StatusOr<int64_t> amount = ParseRupiah(r.fields[6]);
    if (amount.ok()) {
      in.amount = *amount;
      problems = InstructionProblems(in);
    } else {
      in.amount = 1;  // only to keep the amount out of InstructionProblems
      problems = InstructionProblems(in);
      problems.push_back(absl::StrCat("amount: ", amount.status().message()));
    }
    if (std::string dup = references.Use(in.reference, r.line_number); !dup.empty()) {
      problems.push_back(std::move(dup));
    }
    if (!problems.empty()) {
      result.errors.push_back({r.line_number, absl::StrJoin(problems, "; ")});
      continue;
    }
    result.lines.push_back({r.line_number, std::move(in)});
  }
  SortByLine(&result.errors);
  return result;
}

// ---------------------------------------------------------------------------
// Statement.

std::string_view StatusName(StatementLine::Status status) {
  switch (status) {
    case StatementLine::Status::kPaid:
      return "PAID";
    case StatementLine::Status::kFailed:
      return "FAILED";
    case StatementLine::Status::kReturned:
      return "RETURNED";
  }
  return "UNKNOWN";
}

ParsedStatement ParseStatement(std::string_view text) {
  ParsedStatement result;
  ReferenceSet references;
  for (CsvRecord& r : ReadCsvRecords(text, kStatementColumns, &result.errors)) {
    std::vector<std::string> problems;
    StatementLine line;
    line.line_number = r.line_number;
    line.reference = std::move(r.fields[0]);
    if (line.reference.empty()) problems.push_back("reference: empty");

    const std::string status = absl::AsciiStrToUpper(r.fields[1]);
    if (status == "PAID") {
      line.status = StatementLine::Status::kPaid;
    } else if (status == "FAILED") {
      line.status = StatementLine::Status::kFailed;
    } else if (status == "RETURNED") {
      line.status = StatementLine::Status::kReturned;
    } else {
      problems.push_back(absl::StrCat("status: ", Quote(r.fields[1]), " is not PAID, FAILED or RETURNED"));
    }

    if (absl::StatusOr<int64_t> amount = ParseRupiah(r.fields[2]); amount.ok()) {
      line.amount = *amount;
    } else {
      problems.push_back(absl::StrCat("amount: ", amount.status().message()));
    }
    line.channel_reference = std::move(r.fields[3]);
    if (absl::StatusOr<absl::CivilDay> day = ParseDay(r.fields[4]); day.ok()) {
      line.settled_on = *day;
    } else {
      problems.push_back(absl::StrCat("settled_on: ", day.status().message()));
    }
    if (std::string dup = references.Use(line.reference, r.line_number); !dup.empty()) {
      problems.push_back(std::move(dup));
    }
    if (!problems.empty()) {
      result.errors.push_back({r.line_number, absl::StrJoin(problems, "; ")});
      continue;
    }
    result.lines.push_back(std::move(line));
  }
  SortByLine(&result.errors);
  return result;
}

std::string WriteStatement(absl::Span<const StatementLine> lines) {
  std::string out = absl::StrCat(Av(kStatementHeader), "\r\n");
  for (const StatementLine& l : lines) {
    ledger_internal::AppendCsvLine({l.reference, std::string(StatusName(l.status)), absl::StrCat(l.amount),
                                    l.channel_reference, FormatDay(l.settled_on)},
                                   &out);
  }
  return out;
}

}  // namespace jaring::ledger
