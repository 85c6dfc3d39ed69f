#include "libs/validation/validation.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/message.h"
#include "libs/base/strings.h"
#include "libs/events/envelope.h"

namespace jaring::validation {
namespace {

absl::Status Invalid(std::string_view field, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(Av(field), ": ", Av(why)));
}

// Decodes one code point at text[0]; returns its length (0 when invalid).
size_t Decode(std::string_view text, char32_t* cp) {
  const auto b = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char c = b(0);
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t len = 0;
  char32_t v = 0;
  char32_t min = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2, v = c & 0x1F, min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3, v = c & 0x0F, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4, v = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (text.size() < len) return 0;
  for (size_t i = 1; i < len; ++i) {
    if ((b(i) & 0xC0) != 0x80) return 0;
    v = (v << 6) | (b(i) & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return len;
}

bool IsControl(char32_t cp) { return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F); }

// Whitespace and characters that show nothing.
bool IsInvisible(char32_t cp) {
  switch (cp) {
    case 0x09: case 0x0A: case 0x0D: case 0x20: case 0xA0: case 0xAD: case 0x34F: case 0x115F: case 0x1160:
    case 0x180E: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000: case 0x3164: case 0xFEFF:
    case 0xFFA0:
      return true;
    default:
      return (cp >= 0x2000 && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x2064);
  }
}

}  // namespace

size_t Utf8SequenceLength(std::string_view text) {
  if (text.empty()) return 0;
  char32_t cp;
  const size_t n = Decode(text, &cp);
  return n == 0 ? 1 : n;
}

bool IsValidUtf8(std::string_view text) {
  char32_t cp;
  for (size_t i = 0; i < text.size();) {
    const size_t n = Decode(text.substr(i), &cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

absl::Status ValidateText(std::string_view field, std::string_view text, TextRule rule) {
  if (text.empty()) return rule.required ? Invalid(field, "is required") : absl::OkStatus();
  // A first bound in bytes, so that a huge text is not scanned.
  if (text.size() > static_cast<size_t>(rule.max_chars) * 4) {
    return Invalid(field, absl::StrCat("is longer than ", rule.max_chars, " characters (", text.size(), " bytes)"));
  }
  int chars = 0;
  bool visible = false;
  for (size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    const size_t n = Decode(text.substr(i), &cp);
    if (n == 0) return Invalid(field, absl::StrCat("is not valid UTF-8 (at byte ", i, ")"));
    ++chars;
    const bool layout = cp == '\t' || cp == '\n' || cp == '\r';
    if (IsControl(cp) && !(layout && !rule.single_line)) {
      return Invalid(field, absl::StrFormat("contains a control character U+%04X (at character %d)",
                                            static_cast<uint32_t>(cp), chars));
    }
    if (!IsInvisible(cp)) visible = true;
    i += n;
  }
  if (!visible) return Invalid(field, "has only invisible characters");
  if (chars > rule.max_chars) {
    return Invalid(field, absl::StrCat("is longer than ", rule.max_chars, " characters (", chars, ")"));
  }
  return absl::OkStatus();
}

absl::Status ValidateName(std::string_view field, std::string_view name) {
  return ValidateText(field, name, {.required = true, .max_chars = kMaxNameChars, .single_line = true});
}

absl::Status ValidateRequestId(std::string_view field, std::string_view id) {
  if (id.empty()) return Invalid(field, "is required");
  if (id.size() > static_cast<size_t>(kMaxIdChars)) {
    return Invalid(field, absl::StrCat("must be at most ", kMaxIdChars, " characters, got ", id.size()));
  }
  for (size_t i = 0; i < id.size(); ++i) {
    const auto c = static_cast<unsigned char>(id[i]);
    if (absl::ascii_isalnum(c) || c == '.' || c == '_' || c == ':' || c == '-') continue;
    const std::string what = c >= 0x20 && c < 0x7f ? absl::StrCat("'", std::string(1, id[i]), "'")
                                                   : absl::StrFormat("byte 0x%02x", c);
    return Invalid(field, absl::StrCat("character ", i + 1, " (", what,
                                       ") is not allowed (use letters, digits and . _ : -)"));
  }
  return absl::OkStatus();
}

std::string RequestDigest(const google::protobuf::Message& request) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream out(&bytes);
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    request.SerializeToCodedStream(&coded);
  }
  return events::DeterministicId("request", {request.GetDescriptor()->full_name(), bytes});
}

absl::Status ValidateEnum(std::string_view field, int value, const google::protobuf::EnumDescriptor* type,
                          bool allow_unspecified) {
  if (value == 0) return allow_unspecified ? absl::OkStatus() : Invalid(field, "is required");
  if (type->FindValueByNumber(value) != nullptr) return absl::OkStatus();
  std::vector<std::string> known;
  for (int i = 0; i < type->value_count(); ++i) {
    if (type->value(i)->number() != 0) known.push_back(type->value(i)->name());
  }
  return Invalid(field, absl::StrCat(value, " is not a known value (", absl::StrJoin(known, ", "), ")"));
}

absl::Time MinTime() { return absl::FromCivil(absl::CivilSecond(1900, 1, 1, 0, 0, 0), absl::UTCTimeZone()); }
absl::Time MaxTime() { return absl::FromCivil(absl::CivilSecond(9999, 12, 31, 23, 59, 59), absl::UTCTimeZone()); }

absl::Status ValidateTimestamp(std::string_view field, const google::protobuf::Timestamp& ts) {
  if (ts.nanos() < 0 || ts.nanos() > 999999999) return Invalid(field, "has nanos outside 0..999999999");
  const absl::Time t = absl::FromUnixSeconds(ts.seconds());
  if (t < MinTime()) return Invalid(field, "is before 1900-01-01");
  if (t > MaxTime()) return Invalid(field, "is after 9999-12-31");
  return absl::OkStatus();
}

absl::Status ValidateAmount(std::string_view field, int64_t value, int64_t min, int64_t max) {
  if (value < min) return Invalid(field, absl::StrCat("is ", value, ", less than the minimum ", min));
  if (value > max) return Invalid(field, absl::StrCat("is ", value, ", more than the maximum ", max));
  return absl::OkStatus();
}

}  // namespace jaring::validation
