#include "libs/events/envelope.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "libs/base/status.h"
#include "libs/base/strings.h"

namespace jaring::events {

bool HasKnownPayload(const v1::Envelope& envelope) {
  return envelope.payload_case() != v1::Envelope::PAYLOAD_NOT_SET;
}

std::string PayloadTypeName(const v1::Envelope& envelope) {
  if (!HasKnownPayload(envelope)) return envelope.event_type();
  const auto* field = v1::Envelope::descriptor()->FindFieldByNumber(envelope.payload_case());
  JARING_RELEASE_ASSERT(field != nullptr && field->message_type() != nullptr,
                        "payload case without a message field");
  return field->message_type()->full_name();
}

void StampType(v1::Envelope& envelope) {
  if (HasKnownPayload(envelope)) envelope.set_event_type(PayloadTypeName(envelope));
  if (envelope.schema_version() == 0) envelope.set_schema_version(kSchemaVersion);
}

eventlog::Record ToRecord(const v1::Envelope& envelope) {
  eventlog::Record r;
  r.key = envelope.key();
  envelope.SerializeToString(&r.value);
  r.timestamp_ms = envelope.has_recorded_at() ? ToMillis(envelope.recorded_at()) : eventlog::kNoTimestamp;
  return r;
}

std::string RecordName(std::string_view topic, int32_t partition, int64_t offset) {
  return absl::StrCat(Av(topic), "[", partition, "]@", offset);
}

absl::Status DecodeEnvelopeInto(const eventlog::StoredRecord& record, v1::Envelope* out) {
  if (!out->ParseFromString(record.value)) {
    return absl::DataLossError(absl::StrCat("cannot decode event at ",
                                            RecordName(record.topic, record.partition, record.offset),
                                            ": ", record.value.size(),
                                            " bytes are not a jaring.v1.Envelope"));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Envelope> DecodeEnvelope(const eventlog::StoredRecord& record) {
  v1::Envelope envelope;
  JARING_RETURN_IF_ERROR(DecodeEnvelopeInto(record, &envelope));
  return envelope;
}

std::string DeterministicId(std::string_view kind, std::initializer_list<std::string_view> parts) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  JARING_RELEASE_ASSERT(ctx != nullptr, "EVP_MD_CTX_new failed");
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  const char sep = 0;
  EVP_DigestUpdate(ctx, kind.data(), kind.size());
  for (std::string_view p : parts) {
    EVP_DigestUpdate(ctx, &sep, 1);
    EVP_DigestUpdate(ctx, p.data(), p.size());
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, digest, &len);
  EVP_MD_CTX_free(ctx);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), 16));
}

std::string RandomId() {
  unsigned char bytes[16];
  JARING_RELEASE_ASSERT(RAND_bytes(bytes, sizeof(bytes)) == 1, "RAND_bytes failed");
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

google::protobuf::Timestamp ToProtoTime(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t micros = absl::ToUnixMicros(t);
  int64_t secs = micros / 1000000;
  int64_t rem = micros % 1000000;
  if (rem < 0) {
    rem += 1000000;
    --secs;
  }
  ts.set_seconds(secs);
  ts.set_nanos(static_cast<int32_t>(rem * 1000));
  return ts;
}

absl::Time FromProtoTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

int64_t ToMillis(const google::protobuf::Timestamp& ts) {
  return ts.seconds() * 1000 + ts.nanos() / 1000000;
}

}  // namespace jaring::events
