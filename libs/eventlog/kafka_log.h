// The Kafka event log, through librdkafka.
//
// Appends use an idempotent producer with acks=all, so a retried produce
// never duplicates or reorders records of a partition. The partition of each
// record is chosen here (PartitionForKey, Kafka's murmur2), the same way the
// embedded log chooses it. Readers use explicit assignment (no consumer
// group): each projection stores its own offsets next to its state.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/base/clock.h"
#include "libs/eventlog/eventlog.h"

namespace jaring::eventlog {

struct KafkaLogOptions {
  // bootstrap.servers, e.g. "127.0.0.1:9092,127.0.0.1:9093".
  std::string bootstrap;
  // How long an Append may wait for acknowledgement before it fails with
  // kDeadlineExceeded (librdkafka's message.timeout.ms).
  absl::Duration append_timeout = absl::Seconds(60);
  // Stamps records appended with kNoTimestamp. Null means Clock::Real().
  Clock* clock = nullptr;
  // Bound for each metadata, watermark, timestamp-lookup and admin request
  // (CreateTopic, PartitionCount, BeginOffset, EndOffset, Reader::Assign...).
  // Expiry gives kDeadlineExceeded.
  absl::Duration request_timeout = absl::Seconds(10);
  // How long a broker may hold a reader's fetch when it has no new records
  // (fetch.wait.max.ms): the latency for a reader at the end of a partition.
  absl::Duration fetch_wait = absl::Milliseconds(100);
  // Replication factor for topics made by CreateTopic; -1 is the broker's
  // default.replication.factor (brokers >= 2.4).
  int32_t replication_factor = -1;
  // librdkafka's log lines at or below this syslog level go to stderr
  // (4 = warning, 3 = error). librdkafka never logs payloads.
  int log_level = 4;
  // Extra librdkafka properties (e.g. security.protocol), applied last.
  std::map<std::string, std::string> extra_config;
};

// Connects lazily; fails only on invalid configuration (kInvalidArgument).
//
// Concurrency: Append may be called from many threads at once; each call
// waits only for the delivery reports of its own records (a background thread
// serves librdkafka's callbacks). Records of one key appended by two
// concurrent calls keep the order in which the calls handed them to
// librdkafka, which the callers cannot observe: give one key one writer.
//
// Errors beyond eventlog.h: kFailedPrecondition from CreateTopic when the
// cluster cannot serve the CreateTopics admin request (librdkafka's mock
// cluster: use MockCluster::CreateTopic); kInvalidArgument from Append for a
// record larger than message.max.bytes (nothing appended); kUnavailable from
// every Append after a fatal idempotent-producer error (reopen the log).
//
// OffsetForTimestamp asks the broker (ListOffsets by time) and, when the
// answer is "none" (-1) or an error, scans the partition from BeginOffset with
// a temporary reader: librdkafka 2.0.2's mock always answers -1. On a real
// broker that scan happens only when no record has a timestamp >= T.
absl::StatusOr<std::unique_ptr<EventLog>> OpenKafkaLog(const KafkaLogOptions& options);

}  // namespace jaring::eventlog
