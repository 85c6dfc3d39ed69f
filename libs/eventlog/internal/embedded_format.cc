#include "libs/eventlog/internal/embedded_format.h"

#include "libs/base/coding.h"

namespace jaring::eventlog_internal {

void EncodeFixed32BE(char* dst, uint32_t v) {
  for (int i = 3; i >= 0; --i) {
    dst[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

void EncodeFixed64BE(char* dst, uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    dst[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

size_t EncodeVarint32(char* dst, uint32_t v) { return EncodeVarint64(dst, v); }

size_t EncodeVarint64(char* dst, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    dst[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  dst[n++] = static_cast<char>(v);
  return n;
}

bool GetVarint64(std::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (size_t i = 0; i < in->size() && i < 10; ++i) {
    const uint64_t byte = static_cast<uint8_t>((*in)[i]);
    if (i == 9 && byte > 1) return false;  // more than 64 bits
    result |= (byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      in->remove_prefix(i + 1);
      *v = result;
      return true;
    }
  }
  return false;
}

bool GetVarint32(std::string_view* in, uint32_t* v) {
  std::string_view copy = *in;
  uint64_t wide = 0;
  if (!GetVarint64(&copy, &wide) || wide > UINT32_MAX) return false;
  *in = copy;
  *v = static_cast<uint32_t>(wide);
  return true;
}

std::string VersionKey() { return std::string(1, kVersionTag); }

std::string EncodeVersion(uint32_t version) {
  std::string out;
  PutFixed32BE(&out, version);
  return out;
}

bool DecodeVersion(std::string_view value, uint32_t* version) {
  if (value.size() != 4) return false;
  *version = DecodeFixed32BE(value.data());
  return true;
}

std::string MetaKey(std::string_view topic) {
  std::string key;
  key.reserve(1 + topic.size());
  key.push_back(kMetaTag);
  key.append(topic);
  return key;
}

std::string EncodeTopicMeta(uint32_t topic_id, int32_t partitions) {
  std::string out;
  PutFixed32BE(&out, topic_id);
  PutFixed32BE(&out, static_cast<uint32_t>(partitions));
  return out;
}

bool DecodeTopicMeta(std::string_view value, uint32_t* topic_id, int32_t* partitions) {
  if (value.size() != 8) return false;
  *topic_id = DecodeFixed32BE(value.data());
  *partitions = static_cast<int32_t>(DecodeFixed32BE(value.data() + 4));
  return *partitions > 0;
}

void EncodePartitionPrefix(char* dst, char tag, uint32_t topic_id, int32_t partition) {
  dst[0] = tag;
  EncodeFixed32BE(dst + 1, topic_id);
  EncodeFixed32BE(dst + 5, static_cast<uint32_t>(partition));
}

void EncodeRecordKey(char* dst, uint32_t topic_id, int32_t partition, int64_t offset) {
  EncodePartitionPrefix(dst, kRecordTag, topic_id, partition);
  EncodeFixed64BE(dst + kPartitionPrefixSize, static_cast<uint64_t>(offset));
}

std::string RecordKey(uint32_t topic_id, int32_t partition, int64_t offset) {
  std::string key(kRecordKeySize, '\0');
  EncodeRecordKey(key.data(), topic_id, partition, offset);
  return key;
}

bool DecodeRecordKey(std::string_view key, uint32_t* topic_id, int32_t* partition,
                     int64_t* offset) {
  if (key.size() != kRecordKeySize || key[0] != kRecordTag) return false;
  *topic_id = DecodeFixed32BE(key.data() + 1);
  *partition = static_cast<int32_t>(DecodeFixed32BE(key.data() + 5));
  *offset = static_cast<int64_t>(DecodeFixed64BE(key.data() + kPartitionPrefixSize));
  return true;
}

size_t EncodeRecordHeader(char* dst, int64_t timestamp_ms, size_t key_size) {
  size_t n = EncodeVarint64(dst, static_cast<uint64_t>(timestamp_ms));
  n += EncodeVarint32(dst + n, static_cast<uint32_t>(key_size));
  return n;
}

bool DecodeRecordValue(std::string_view in, int64_t* timestamp_ms, std::string_view* key,
                       std::string_view* value) {
  uint64_t ts = 0;
  uint32_t key_size = 0;
  if (!GetVarint64(&in, &ts) || ts > static_cast<uint64_t>(INT64_MAX)) return false;
  if (!GetVarint32(&in, &key_size) || key_size > in.size()) return false;
  *timestamp_ms = static_cast<int64_t>(ts);
  *key = in.substr(0, key_size);
  *value = in.substr(key_size);
  return true;
}

void EncodeTimeIndexKey(char* dst, uint32_t topic_id, int32_t partition, int64_t max_ts,
                        int64_t offset) {
  EncodePartitionPrefix(dst, kTimeIndexTag, topic_id, partition);
  EncodeFixed64BE(dst + kPartitionPrefixSize, static_cast<uint64_t>(max_ts) ^ (uint64_t{1} << 63));
  EncodeFixed64BE(dst + kPartitionPrefixSize + 8, static_cast<uint64_t>(offset));
}

bool DecodeTimeIndexKey(std::string_view key, uint32_t* topic_id, int32_t* partition,
                        int64_t* max_ts, int64_t* offset) {
  if (key.size() != kTimeIndexKeySize || key[0] != kTimeIndexTag) return false;
  *topic_id = DecodeFixed32BE(key.data() + 1);
  *partition = static_cast<int32_t>(DecodeFixed32BE(key.data() + 5));
  *max_ts = DecodeOrderedInt64(key.data() + kPartitionPrefixSize);
  *offset = static_cast<int64_t>(DecodeFixed64BE(key.data() + kPartitionPrefixSize + 8));
  return true;
}

}  // namespace jaring::eventlog_internal
