// The shared vocabulary of input checks: text, enums, times, amounts,
// request ids. Every service's command handlers call these, so that a new
// command cannot forget a check and every refusal reads the same way.
//
// Pure functions: no state, no I/O, no clock (whatever depends on "now"
// takes it as an argument). Thread-safe.
//
// Errors. Every rejection is absl::InvalidArgumentError (gRPC
// INVALID_ARGUMENT) whose message is "<field>: <reason>", `field` exactly as
// the caller gave it ("family.members[2].full_name"). A message never echoes
// the rejected text itself (it may be a name or a NIK): it names the
// offending position and kind of character instead.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace google::protobuf {
class EnumDescriptor;
class Message;
}  // namespace google::protobuf

namespace jaring::validation {

// ------------------------------------------------------------------ text

// Length limits in code points (documented in docs/security.md "Limits").
inline constexpr int kMaxNameChars = 128;      // a person's name
inline constexpr int kMaxShortText = 256;      // addresses, certificate numbers, reasons, labels
inline constexpr int kMaxLongText = 4000;      // statements, findings, announcements
inline constexpr int kMaxIdChars = 128;        // request ids, correlation ids

struct TextRule {
  // Empty (or only whitespace and invisible characters) is refused.
  bool required = false;
  // The most code points accepted.
  int max_chars = kMaxShortText;
  // Newlines (and tabs) are refused; otherwise "\n", "\r" and "\t" are
  // the only control characters accepted.
  bool single_line = true;
};

// Text as the people who read it will see it:
//   - valid UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF);
//   - no control characters: C0 (including NUL, BEL, ESC), DEL and C1;
//     "\t", "\n", "\r" only when !rule.single_line;
//   - not only invisible characters (whitespace, zero-width spaces and
//     joiners, the byte-order mark, soft hyphens) when it is non-empty
//     or required;
//   - at most rule.max_chars code points.
// Messages: "is required", "is not valid UTF-8 (at byte 7)",
// "contains a control character U+001B (at character 3)",
// "has only invisible characters", "is longer than 128 characters (130)".
absl::Status ValidateText(std::string_view field, std::string_view text, TextRule rule);

// ValidateText with {required, kMaxNameChars, single_line}.
absl::Status ValidateName(std::string_view field, std::string_view name);

// Whether `text` is valid UTF-8 (as ValidateText checks it).
bool IsValidUtf8(std::string_view text);

// The byte length of the UTF-8 sequence starting at text[0]: 1..4 for a
// valid sequence, 1 for an invalid byte (so that scanning always advances).
// 0 for empty text.
size_t Utf8SequenceLength(std::string_view text);

// ------------------------------------------------------------------ ids

// An idempotency key (request_id) or correlation id: required, 1..128
// characters of [A-Za-z0-9._:-] (no '/', which separates a tenant's scope
// from the id on events).
absl::Status ValidateRequestId(std::string_view field, std::string_view id);

// The digest a command is remembered by under its request id: hex of a
// SHA-256 over the message's deterministic serialization (the first 16
// bytes). Two requests with the same fields give the same digest.
std::string RequestDigest(const google::protobuf::Message& request);

// ------------------------------------------------------------------ enums

// A value of the proto enum `type` that this build knows. `allow_unspecified`
// admits 0 (the *_UNSPECIFIED value, meaning "not given"). Message:
// "99 is not a known value (RELATIONSHIP_HEAD, RELATIONSHIP_SPOUSE, ...)" or
// "is required".
absl::Status ValidateEnum(std::string_view field, int value, const google::protobuf::EnumDescriptor* type,
                          bool allow_unspecified);

// The same for a generated enum: ValidateEnum(field, v, E_descriptor(), ...).
template <typename E>
absl::Status ValidateEnumValue(std::string_view field, E value, const google::protobuf::EnumDescriptor* type,
                               bool allow_unspecified) {
  return ValidateEnum(field, static_cast<int>(value), type, allow_unspecified);
}

// ------------------------------------------------------------------ times

// The earliest and latest instant any command accepts:
// 1900-01-01T00:00:00Z and 9999-12-31T23:59:59Z. Every Timestamp a reader
// prints as RFC 3339 fits between them.
absl::Time MinTime();
absl::Time MaxTime();

// A Timestamp with 0 <= nanos < 10^9 and MinTime() <= t <= MaxTime().
// Messages: "is before 1900-01-01", "is after 9999-12-31",
// "has nanos outside 0..999999999".
absl::Status ValidateTimestamp(std::string_view field, const google::protobuf::Timestamp& ts);

// ------------------------------------------------------------------ amounts

// An amount in rupiah (or any integer quantity) in [min, max].
// Message: "is 5000000000000001, more than the maximum 1000000000000000".
absl::Status ValidateAmount(std::string_view field, int64_t value, int64_t min, int64_t max);

}  // namespace jaring::validation
