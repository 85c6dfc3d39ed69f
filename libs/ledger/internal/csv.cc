#include "libs/ledger/internal/csv.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/base/strings.h"

namespace jaring::ledger_internal {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

std::string ColumnName(size_t i, absl::Span<const std::string_view> columns) {
  if (i < columns.size()) return std::string(columns[i]);
  return absl::StrCat("column ", i + 1);
}

}  // namespace

std::vector<CsvLine> SplitCsvLines(std::string_view text) {
  // Spreadsheet programs on Windows write a byte order mark; it is not part
  // of the header.
  if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());
  std::vector<CsvLine> lines;
  int number = 1;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    // "\r" only as part of "\r\n": a lone one stays in the line, where the
    // value checks refuse it.
    if (nl != std::string_view::npos && !line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back({number++, line});
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  while (!lines.empty() && lines.back().text.empty()) lines.pop_back();
  return lines;
}

absl::StatusOr<std::vector<std::string>> SplitCsvFields(std::string_view line,
                                                        absl::Span<const std::string_view> columns) {
  std::vector<std::string> fields;
  size_t i = 0;
  while (true) {
    const size_t column = fields.size();
    std::string field;
    if (i < line.size() && line[i] == '"') {
      ++i;
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        field.push_back(line[i++]);
      }
      if (!closed) {
        return absl::InvalidArgumentError(absl::StrCat(ColumnName(column, columns), ": unterminated quote"));
      }
      if (i < line.size() && line[i] != ',') {
        return absl::InvalidArgumentError(
            absl::StrCat(ColumnName(column, columns), ": text after the closing quote"));
      }
    } else {
      const size_t end = std::min(line.find(',', i), line.size());
      const std::string_view raw = line.substr(i, end - i);
      if (raw.find('"') != std::string_view::npos) {
        return absl::InvalidArgumentError(absl::StrCat(
            ColumnName(column, columns), ": a double quote inside a field that does not start with one"));
      }
      field.assign(raw);
      i = end;
    }
    fields.push_back(std::move(field));
    if (i >= line.size()) break;
    ++i;  // the comma
  }
  return fields;
}

void AppendCsvField(std::string_view field, std::string* out) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out->append(field);
    return;
  }
  out->push_back('"');
  for (char c : field) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

void AppendCsvLine(absl::Span<const std::string> fields, std::string* out) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendCsvField(fields[i], out);
  }
  out->append("\r\n");
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if (b >= 0xC2 && b <= 0xDF) {
      len = 2;
      cp = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
      len = 3;
      cp = b & 0x0F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      len = 4;
      cp = b & 0x07;
    } else {
      return false;  // a continuation byte first, 0xC0/0xC1 (overlong) or above 0xF4
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = cp << 6 | (c & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return false;  // overlong
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;                            // surrogate
    if (cp > 0x10FFFF) return false;
    i += len;
  }
  return true;
}

std::vector<CsvRecord> ReadCsvRecords(std::string_view text, absl::Span<const std::string_view> columns,
                                      std::vector<ledger::LineError>* errors) {
  const std::string header = absl::StrJoin(columns, ",", [](std::string* out, std::string_view c) {
    out->append(c);
  });
  const std::vector<CsvLine> lines = SplitCsvLines(text);
  if (lines.empty()) {
    errors->push_back({1, absl::StrCat("header: missing; expected \"", header, "\"")});
    return {};
  }
  // The header is compared field by field, so a channel that quotes its
  // column names is still understood; names and order must be exact.
  absl::StatusOr<std::vector<std::string>> header_fields = SplitCsvFields(lines[0].text, {});
  if (!header_fields.ok() ||
      !std::equal(header_fields->begin(), header_fields->end(), columns.begin(), columns.end())) {
    errors->push_back({lines[0].number, absl::StrCat("header: expected \"", header, "\", found ",
                                                     Quote(lines[0].text))});
    return {};
  }

  std::vector<CsvRecord> records;
  for (size_t k = 1; k < lines.size(); ++k) {
    const CsvLine& line = lines[k];
    if (line.text.empty()) {
      errors->push_back({line.number, "blank line"});
      continue;
    }
    absl::StatusOr<std::vector<std::string>> fields = SplitCsvFields(line.text, columns);
    if (!fields.ok()) {
      errors->push_back({line.number, std::string(Sv(fields.status().message()))});
      continue;
    }
    if (fields->size() != columns.size()) {
      errors->push_back({line.number, absl::StrCat("expected ", columns.size(), " columns (", header,
                                                   "), found ", fields->size())});
      continue;
    }
    std::vector<std::string> problems;
    for (size_t i = 0; i < fields->size(); ++i) {
      const std::string& f = (*fields)[i];
      if (f.find_first_of("\r\n") != std::string::npos) {
        problems.push_back(absl::StrCat(Av(columns[i]), ": contains a line break"));
      } else if (!IsValidUtf8(f)) {
        problems.push_back(absl::StrCat(Av(columns[i]), ": not valid UTF-8"));
      }
    }
    if (!problems.empty()) {
      errors->push_back({line.number, absl::StrJoin(problems, "; ")});
      continue;
    }
    records.push_back({line.number, *std::move(fields)});
  }
  return records;
}

absl::StatusOr<int64_t> ParseRupiah(std::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("empty; expected a whole number of rupiah");
  if (text[0] == '-') {
    bool digits = text.size() > 1;
    for (char c : text.substr(1)) digits = digits && c >= '0' && c <= '9';
    if (digits) return absl::InvalidArgumentError(absl::StrCat(Quote(text), " is negative"));
  }
  int64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return absl::InvalidArgumentError(absl::StrCat(Quote(text), " is not a whole number of rupiah"));
    }
    const int64_t d = c - '0';
    if (n > (INT64_MAX - d) / 10) {
      return absl::InvalidArgumentError(absl::StrCat(Quote(text), " is too large"));
    }
    n = n * 10 + d;
  }
  return n;
}

absl::StatusOr<absl::CivilDay> ParseDay(std::string_view text) {
  const auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat(Quote(text), " is not a date (YYYY-MM-DD)"));
  };
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return bad();
  int parts[3] = {0, 0, 0};
  const size_t starts[3] = {0, 5, 8};
  const size_t lengths[3] = {4, 2, 2};
  for (int p = 0; p < 3; ++p) {
    for (size_t k = starts[p]; k < starts[p] + lengths[p]; ++k) {
      if (text[k] < '0' || text[k] > '9') return bad();
      parts[p] = parts[p] * 10 + (text[k] - '0');
    }
  }
  // CivilDay normalises (2026-02-30 becomes 2026-03-02); a day that does
  // not survive unchanged does not exist.
  const absl::CivilDay day(parts[0], parts[1], parts[2]);
  if (day.year() != parts[0] || day.month() != parts[1] || day.day() != parts[2]) {
    return absl::InvalidArgumentError(absl::StrCat(Quote(text), " is not a calendar day"));
  }
  return day;
}

std::string Quote(std::string_view s) {
  constexpr size_t kMax = 100;
  if (s.size() <= kMax) return absl::StrCat("\"", absl::CHexEscape(Av(s)), "\"");
  return absl::StrCat("\"", absl::CHexEscape(Av(s.substr(0, kMax))), "...\"");
}

}  // namespace jaring::ledger_internal
