// The key layout of the embedded event log in RocksDB. The grammar is in
// docs/formats/embedded-log.md; this file is its only implementation.
//
// Internal to libs/eventlog: nothing outside embedded_log.cc and its tests
// may include it.
//
// All multi-byte integers in keys are big-endian so that RocksDB's bytewise
// order is numeric order; timestamps in keys are "ordered" (sign bit flipped,
// libs/base/coding.h) so negative values would sort first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace jaring::eventlog_internal {

// Key tags (first byte of every key).
inline constexpr char kVersionTag = 'v';
inline constexpr char kMetaTag = 'm';
inline constexpr char kRecordTag = 'r';
inline constexpr char kTimeIndexTag = 't';

// The single key "v" holds the format version as a BE32.
inline constexpr uint32_t kFormatVersion = 1;

// tag + topic id + partition
inline constexpr size_t kPartitionPrefixSize = 1 + 4 + 4;
// tag + topic id + partition + offset
inline constexpr size_t kRecordKeySize = kPartitionPrefixSize + 8;
// tag + topic id + partition + ordered max timestamp + offset
inline constexpr size_t kTimeIndexKeySize = kPartitionPrefixSize + 8 + 8;
// The longest record-value header: varint64 timestamp + varint32 key length.
inline constexpr size_t kMaxRecordHeaderSize = 10 + 5;

// Fixed-width big-endian writes into caller-provided buffers.
void EncodeFixed32BE(char* dst, uint32_t v);
void EncodeFixed64BE(char* dst, uint64_t v);

// Varints (LEB128, as in LevelDB). Encode returns the bytes written
// (at most 5 resp. 10). Decode consumes from the front of `*in` and returns
// false if it is truncated or overlong.
size_t EncodeVarint32(char* dst, uint32_t v);
size_t EncodeVarint64(char* dst, uint64_t v);
bool GetVarint32(std::string_view* in, uint32_t* v);
bool GetVarint64(std::string_view* in, uint64_t* v);

// "v"
std::string VersionKey();
std::string EncodeVersion(uint32_t version);
bool DecodeVersion(std::string_view value, uint32_t* version);

// "m" topic-name  ->  topic-id BE32, partition-count BE32
std::string MetaKey(std::string_view topic);
std::string EncodeTopicMeta(uint32_t topic_id, int32_t partitions);
// Returns false unless `value` is exactly a well-formed meta value with a
// positive partition count.
bool DecodeTopicMeta(std::string_view value, uint32_t* topic_id, int32_t* partitions);

// "r" topic-id BE32, partition BE32, offset BE64  ->  record value.
// Writes exactly kRecordKeySize bytes.
void EncodeRecordKey(char* dst, uint32_t topic_id, int32_t partition, int64_t offset);
std::string RecordKey(uint32_t topic_id, int32_t partition, int64_t offset);
// The 9-byte prefix shared by every record key of one partition (tag included).
void EncodePartitionPrefix(char* dst, char tag, uint32_t topic_id, int32_t partition);
// Returns false unless `key` is a record key.
bool DecodeRecordKey(std::string_view key, uint32_t* topic_id, int32_t* partition,
                     int64_t* offset);

// Record value: varint64 timestamp-ms, varint32 key-length, key, value (the
// rest). EncodeRecordHeader writes the first two fields (at most
// kMaxRecordHeaderSize bytes) and returns their size; key and value follow it
// verbatim. Timestamps are non-negative.
size_t EncodeRecordHeader(char* dst, int64_t timestamp_ms, size_t key_size);
bool DecodeRecordValue(std::string_view in, int64_t* timestamp_ms, std::string_view* key,
                       std::string_view* value);

// "t" topic-id BE32, partition BE32, ordered-int64 max-timestamp, offset BE64
// -> "". Written when record `offset` raises its partition's running maximum
// timestamp to `max_ts`. Writes exactly kTimeIndexKeySize bytes.
void EncodeTimeIndexKey(char* dst, uint32_t topic_id, int32_t partition, int64_t max_ts,
                        int64_t offset);
bool DecodeTimeIndexKey(std::string_view key, uint32_t* topic_id, int32_t* partition,
                        int64_t* max_ts, int64_t* offset);

}  // namespace jaring::eventlog_internal
