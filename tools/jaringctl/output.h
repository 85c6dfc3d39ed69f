// What jaringctl prints: aligned tables, NIK masking, proto JSON for --json,
// and a progress line that updates in place on a terminal; and how it reads
// the time flags the eligibility and appeals commands share.
#pragma once

#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "jaring/v1/population.pb.h"
#include "jaring/v1/population_service.pb.h"

namespace jaring::ctl {

// "5271**********01": the first four and last two characters; "****" for
// anything that is not 16 characters. Human output never shows a full NIK.
std::string MaskNik(std::string_view nik);

// `text` with every 16-digit run other than `kk` masked as a NIK (MaskNik):
// clause ids and inputs name members by NIK ("pkh.component.elderly:<nik>"),
// and free text (an appeal's statement or findings) may quote one.
std::string MaskNiksIn(std::string_view text, std::string_view kk);

// Which instant a bare date stands for.
enum class DayEdge {
  kStart,  // 00:00 WIB: --from, --since, --effective-from, --opens-at
  kEnd,    // 23:59:59.999 WIB: --as-of, --as-known-at, --to
};

// "YYYY-MM-DD" (WIB, at `edge`) or RFC 3339. INVALID_ARGUMENT naming `flag`
// otherwise.
absl::StatusOr<absl::Time> ParseWhen(std::string_view flag, const std::string& value, DayEdge edge);

// Sets the field `mutable_field()` returns from `value` when it is given
// (and leaves it unset, so the service's default applies, when not).
absl::Status SetTime(std::string_view flag, const std::string& value, DayEdge edge,
                     absl::FunctionRef<google::protobuf::Timestamp*()> mutable_field);

// The message as proto JSON (field names in lowerCamelCase, as
// google::protobuf::util::MessageToJsonString writes them), pretty-printed.
std::string ToJson(const google::protobuf::Message& message);

// "Rp7.800.000", "-Rp1.200.000", "Rp0".
std::string Rupiah(int64_t amount);
// "1 family", "5 families".
std::string Families(int64_t n);

// "2026-03-01 08:00 WIB"; "-" when unset.
std::string FormatTime(const google::protobuf::Timestamp& ts);
// "2026-03-01"; "-" when unset.
std::string FormatDate(const v1::Date& d);
// "RecordBirth: 2 event(s) appended, family version 7" style summary.
std::string FormatResult(std::string_view what, const v1::CommandResult& result);

// Columns padded to the widest cell; the header underlined by nothing, just
// upper-case names.
class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void Print(std::FILE* out = stdout) const;
  bool empty() const { return rows_.empty(); }

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// A status line. On a terminal (stdout is a TTY) Update() rewrites it in
// place; elsewhere Update() prints nothing and only Line() output appears.
// Thread-safe.
class Progress {
 public:
  Progress();
  explicit Progress(bool tty) : tty_(tty) {}
  ~Progress() { Finish(); }
  void Update(const std::string& line);
  // A permanent line (e.g. a row error): clears the status line first.
  void Line(const std::string& line);
  // Ends the status line (leaves it on screen).
  void Finish();
  bool tty() const { return tty_; }

 private:
  std::mutex mu_;
  bool tty_;
  bool shown_ = false;
  std::string last_;
};

}  // namespace jaring::ctl
