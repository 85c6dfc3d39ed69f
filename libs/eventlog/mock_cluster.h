// librdkafka's mock cluster (rdkafka_mock.h): a real Kafka-protocol broker
// running inside this process on loopback, with fault injection. For tests
// and `jaring devbroker` only: it keeps only about 5 MiB per partition and
// drops older records, and it does not implement timestamp lookup.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace jaring::eventlog {

// Owns the mock cluster and the librdkafka handle it lives on. Thread-safe
// for the fault-injection calls.
class MockCluster {
 public:
  // Starts `brokers` brokers (ids 1..brokers) on ephemeral loopback ports.
  static absl::StatusOr<std::unique_ptr<MockCluster>> Start(int brokers);
  ~MockCluster();

  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  // "127.0.0.1:port,..." for bootstrap.servers.
  std::string bootstrap() const;
  int broker_count() const { return brokers_; }

  // The mock broker does not implement the CreateTopics admin request, so
  // topics are created here. replication = min(3, brokers).
  absl::Status CreateTopic(const std::string& topic, int32_t partitions);

  // Fault injection.
  // The next `count` Produce requests fail with `error` (an
  // rd_kafka_resp_err_t value, e.g. RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION).
  void FailNextProduceRequests(int count, int error);
  // Takes a broker down (connections closed, nothing accepted) or back up.
  absl::Status SetBrokerDown(int32_t broker_id);
  absl::Status SetBrokerUp(int32_t broker_id);
  // Every request to the broker is delayed by `rtt_ms`.
  absl::Status SetBrokerRtt(int32_t broker_id, int rtt_ms);
  // Moves a partition's leadership to `broker_id`.
  absl::Status SetPartitionLeader(const std::string& topic, int32_t partition, int32_t broker_id);

 private:
  MockCluster() = default;
  int brokers_ = 0;
  void* rk_ = nullptr;        // rd_kafka_t*
  void* mcluster_ = nullptr;  // rd_kafka_mock_cluster_t*
};

}  // namespace jaring::eventlog
