// Helpers around jaring.v1.Envelope: encoding to log records, decoding with
// errors that name where the bad bytes are, payload names, deterministic ids
// and time conversions. The envelope itself is specified in docs/events.md.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "jaring/v1/envelope.pb.h"
#include "libs/eventlog/eventlog.h"

namespace jaring::events {

// The schema version written by this build for every payload.
inline constexpr uint32_t kSchemaVersion = 1;

// True if this build knows the envelope's payload. An envelope written by a
// newer build with a payload added later parses fine but has no payload set
// (the bytes sit in its unknown fields): readers skip it and count it.
bool HasKnownPayload(const v1::Envelope& envelope);

// Full proto name of the payload set in `envelope` ("jaring.v1.BirthRecorded"),
// or its event_type when the payload is unknown to this build.
std::string PayloadTypeName(const v1::Envelope& envelope);

// Sets event_type from the payload and schema_version if unset.
void StampType(v1::Envelope& envelope);

// A log record for the envelope: key = envelope.key, value = its bytes,
// timestamp = recorded_at (ms).
eventlog::Record ToRecord(const v1::Envelope& envelope);

// Parses a record's value. Errors: kDataLoss when the bytes do not decode,
// with a message naming topic, partition and offset, e.g.
// "cannot decode event at jaring.population.v1[3]@1234: ...". Such a record
// stops the reader: it is never skipped silently.
absl::StatusOr<v1::Envelope> DecodeEnvelope(const eventlog::StoredRecord& record);
// The same, parsing into `*out` (which may live on an arena); on error
// `*out` is unspecified.
absl::Status DecodeEnvelopeInto(const eventlog::StoredRecord& record, v1::Envelope* out);

// "jaring.population.v1[3]@1234": how errors and logs name a record.
std::string RecordName(std::string_view topic, int32_t partition, int64_t offset);

// A deterministic event id: hex of the first 16 bytes of
// SHA-256(kind || 0x00 || part0 || 0x00 || part1 ...). Derived events use it
// with their inputs (input position, rule version) so that re-deriving after
// a crash yields the same id and duplicates can be dropped.
std::string DeterministicId(std::string_view kind, std::initializer_list<std::string_view> parts);

// A random id (128 bits, hex) for events that originate outside Jaring.
std::string RandomId();

google::protobuf::Timestamp ToProtoTime(absl::Time t);
absl::Time FromProtoTime(const google::protobuf::Timestamp& ts);
int64_t ToMillis(const google::protobuf::Timestamp& ts);

}  // namespace jaring::events
