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
  // Extra librdkafka properties (e.g. security.protocol), applied last.
  std::map<std::string, std::string> extra_config;
};

// Connects lazily; fails only on invalid configuration (kInvalidArgument).
absl::StatusOr<std::unique_ptr<EventLog>> OpenKafkaLog(const KafkaLogOptions& options);

}  // namespace jaring::eventlog
