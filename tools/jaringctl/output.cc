#include "tools/jaringctl/output.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "libs/base/clock.h"
#include "libs/base/strings.h"
#include "libs/events/envelope.h"
#include "tools/synth/csv.h"

namespace jaring::ctl {

std::string MaskNik(std::string_view nik) {
  if (nik.size() != 16) return "****";
  return absl::StrCat(Av(nik.substr(0, 4)), "**********", Av(nik.substr(14, 2)));
}

std::string MaskNiksIn(std::string_view text, std::string_view kk) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) {
      out += text[i++];
      continue;
    }
    size_t j = i;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    const std::string_view run = text.substr(i, j - i);
    out += run.size() == 16 && run != kk ? MaskNik(run) : std::string(run);
    i = j;
  }
  return out;
}

absl::StatusOr<absl::Time> ParseWhen(std::string_view flag, const std::string& value, DayEdge edge) {
  if (std::optional<absl::Time> t = synth::ParseInstant(value, edge == DayEdge::kEnd)) return *t;
  return absl::InvalidArgumentError(
      absl::StrCat(Av(flag), ": \"", value, "\" is not a date (YYYY-MM-DD) or an RFC 3339 time"));
}

absl::Status SetTime(std::string_view flag, const std::string& value, DayEdge edge,
                     absl::FunctionRef<google::protobuf::Timestamp*()> mutable_field) {
  if (value.empty()) return absl::OkStatus();
  absl::StatusOr<absl::Time> t = ParseWhen(flag, value, edge);
  if (!t.ok()) return t.status();
  *mutable_field() = events::ToProtoTime(*t);
  return absl::OkStatus();
}

std::string ToJson(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions opts;
  opts.add_whitespace = true;
  (void)google::protobuf::util::MessageToJsonString(message, &out, opts);
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string Rupiah(int64_t amount) {
  const bool negative = amount < 0;
  const uint64_t v = negative ? uint64_t{0} - static_cast<uint64_t>(amount) : static_cast<uint64_t>(amount);
  const std::string digits = absl::StrCat(v);
  std::string grouped;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) grouped += '.';
    grouped += digits[i];
  }
  return absl::StrCat(negative ? "-" : "", "Rp", grouped);
}

std::string Families(int64_t n) { return absl::StrCat(n, n == 1 ? " family" : " families"); }

std::string FormatTime(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M WIB", events::FromProtoTime(ts), absl::FixedTimeZone(7 * 3600));
}

std::string FormatDate(const v1::Date& d) {
  if (d.year() == 0) return "-";
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}

std::string FormatResult(std::string_view what, const v1::CommandResult& result) {
  std::string out = absl::StrCat(Av(what), ": ", result.deduplicated() ? "already applied (deduplicated), " : "",
                                 result.events_size(), " event(s), family version ", result.family_version());
  for (const v1::EventPosition& e : result.events()) {
    absl::StrAppend(&out, "\n  event ", e.event_id(), " at ", e.topic(), "[", e.partition(), "]@", e.offset());
  }
  return out;
}

void Table::Print(std::FILE* out) const {
  std::vector<size_t> width(headers_.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) width[i] = std::max(width[i], row[i].size());
  };
  measure(headers_);
  for (const auto& r : rows_) measure(r);
  auto print = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    std::fprintf(out, "%s\n", line.c_str());
  };
  print(headers_);
  for (const auto& r : rows_) print(r);
}

Progress::Progress() : tty_(isatty(STDOUT_FILENO) == 1) {}

void Progress::Update(const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  last_ = line;
  if (!tty_) return;
  std::fprintf(stdout, "\r\033[K%s", line.c_str());
  std::fflush(stdout);
  shown_ = true;
}

void Progress::Line(const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  if (tty_ && shown_) std::fprintf(stdout, "\r\033[K");
  std::fprintf(stdout, "%s\n", line.c_str());
  if (tty_ && shown_) std::fprintf(stdout, "%s", last_.c_str());
  std::fflush(stdout);
}

void Progress::Finish() {
  std::lock_guard<std::mutex> lock(mu_);
  if (tty_ && shown_) std::fprintf(stdout, "\n");
  shown_ = false;
  std::fflush(stdout);
}

}  // namespace jaring::ctl
