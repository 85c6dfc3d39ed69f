// The event log: Jaring's system of record.
//
// One interface, two backends with the same semantics (docs/architecture.md):
//   - Kafka through librdkafka (kafka_log.h): the production bus.
//   - Embedded: a durable log in RocksDB inside one process (embedded_log.h).
// No service code knows which one it has; libs/eventlog/eventlog_contract_test.cc
// runs the same suite against both.
//
// Model (Kafka's): a log holds named topics; a topic has a fixed number of
// partitions; a partition is an append-only sequence of records numbered by
// offsets 0, 1, 2, ... A record's partition is PartitionForKey(key, count)
// (libs/base/hash.h), so all records of one key (one family) are in one
// partition, in append order.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace jaring::eventlog {

// Record timestamps are milliseconds since the Unix epoch (Kafka's unit).
inline constexpr int64_t kNoTimestamp = -1;

// A record to append.
struct Record {
  // Partitioning key. Must not be empty.
  std::string key;
  // Opaque bytes (for Jaring topics, a serialized jaring.v1.Envelope).
  std::string value;
  // The record's timestamp, > 0; kNoTimestamp means "now" by the log's
  // clock. (librdkafka cannot produce a timestamp of 0: it reads 0 as "now".)
  int64_t timestamp_ms = kNoTimestamp;
};

// Where an appended record landed.
struct Position {
  int32_t partition = 0;
  int64_t offset = 0;
  friend bool operator==(const Position&, const Position&) = default;
};

// A record read back from the log.
struct StoredRecord {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp_ms = 0;
  std::string key;
  std::string value;
};

// Where a reader starts in one partition.
struct Assignment {
  std::string topic;
  int32_t partition = 0;
  // First offset to deliver. Must be within [BeginOffset, EndOffset];
  // EndOffset means "only what is appended from now on".
  int64_t offset = 0;
};

// Reads assigned partitions from given offsets. One Reader is used by one
// thread at a time. It may outlive nothing: destroy it before its EventLog.
class Reader {
 public:
  virtual ~Reader() = default;

  // Replaces the whole assignment. Errors: kNotFound for an unknown topic or
  // partition; kOutOfRange for an offset outside [BeginOffset, EndOffset].
  virtual absl::Status Assign(const std::vector<Assignment>& assignment) = 0;

  // Returns up to `max_records` records from the assigned partitions. Within a
  // partition records come in offset order with no gap and no repeat; the
  // order across partitions is unspecified. Waits up to `timeout` for the
  // first record and returns an empty vector if none came. Each record is
  // returned once: the next Poll continues after it.
  // Errors: kUnavailable when the bus cannot be reached (retry later);
  // kDataLoss when records at the reader's position no longer exist
  // (retention) or cannot be read.
  virtual absl::StatusOr<std::vector<StoredRecord>> Poll(size_t max_records,
                                                          absl::Duration timeout) = 0;
};

// Thread-safe: every method may be called from any thread concurrently.
class EventLog {
 public:
  virtual ~EventLog() = default;

  // Creates `topic` with `partitions` partitions. OK if it already exists with
  // that many partitions. Errors: kInvalidArgument for an empty name or a
  // partition count below 1; kAlreadyExists if it exists with another count.
  virtual absl::Status CreateTopic(std::string_view topic, int32_t partitions) = 0;

  // Errors: kNotFound if the topic does not exist.
  virtual absl::StatusOr<int32_t> PartitionCount(std::string_view topic) = 0;

  // Appends `records` to `topic`, each to the partition of its key. Returns,
  // for each record in order, the position it landed at. Records of the same
  // key keep their relative order. When this returns OK every record is
  // durable: fsynced (embedded) or acknowledged by all in-sync replicas
  // (Kafka, acks=all). An empty span is OK and returns no positions.
  // Errors: kNotFound for an unknown topic; kInvalidArgument for an empty key
  // (nothing is appended); kUnavailable / kDeadlineExceeded when the bus did
  // not acknowledge: then some records may have been appended, so callers
  // retry with the same event ids and readers drop duplicates by id.
  // (librdkafka 2.0.2's mock broker, unlike a real one, may also store a
  // retried batch twice after a lost response; readers' drop-by-id covers
  // that too. See libs/eventlog/README.md.)
  virtual absl::StatusOr<std::vector<Position>> Append(std::string_view topic,
                                                       std::span<const Record> records) = 0;

  // The first offset still held (0 unless retention dropped older records).
  virtual absl::StatusOr<int64_t> BeginOffset(std::string_view topic, int32_t partition) = 0;

  // The offset the next record will get; every offset below it is readable.
  virtual absl::StatusOr<int64_t> EndOffset(std::string_view topic, int32_t partition) = 0;

  // The earliest offset whose record timestamp is >= `timestamp_ms`, or
  // EndOffset if there is none. (On Kafka this may scan when the broker
  // cannot answer; "as of" queries never rely on record timestamps alone,
  // see docs/architecture.md.)
  virtual absl::StatusOr<int64_t> OffsetForTimestamp(std::string_view topic, int32_t partition,
                                                     int64_t timestamp_ms) = 0;

  // A new reader with an empty assignment.
  virtual absl::StatusOr<std::unique_ptr<Reader>> NewReader() = 0;

  // A short description for logs and `jaring serve`, e.g.
  // "embedded log at /var/lib/jaring/log" or "kafka 127.0.0.1:9092".
  virtual std::string Describe() const = 0;
};

}  // namespace jaring::eventlog
