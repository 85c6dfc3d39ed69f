// librdkafka's mock cluster (rdkafka_mock.h): a real Kafka-protocol broker
// running inside this process on loopback, with fault injection. For tests
// and `jaring devbroker` only: it keeps only about 5 MiB per partition and
// drops older records, and it does not implement timestamp lookup.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace jaring::eventlog {

// Owns the mock cluster and the librdkafka handle it lives on. Thread-safe:
// every method may be called from any thread. Destroy clients (the event log)
// before the cluster. Destruction takes about a second (librdkafka's mock
// thread winds down on its own poll timeout).
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

  // Errors: kInvalidArgument for an empty name or a count below 1;
  // kAlreadyExists if the topic exists (whatever its partition count).

  // Fault injection. Broker ids are 1..broker_count(); kAllBrokers (-1) means
  // every broker where noted. Errors: kNotFound for an unknown broker id (or
  // topic/partition), kInternal if the mock refuses.
  static constexpr int32_t kAllBrokers = -1;

  // The next `count` Produce requests, to whichever broker, fail with `error`
  // (an rd_kafka_resp_err_t value, e.g. RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION).
  // RD_KAFKA_RESP_ERR__TRANSPORT makes the broker close the connection instead
  // of answering. The request is not applied.
  void FailNextProduceRequests(int count, int error);
  // Forgets injected Produce errors not yet consumed.
  void ClearProduceErrors();
  // Takes a broker (or kAllBrokers) down (connections closed, nothing
  // accepted) or back up. Leadership does not move by itself.
  absl::Status SetBrokerDown(int32_t broker_id);
  absl::Status SetBrokerUp(int32_t broker_id);
  // Every request to the broker (or kAllBrokers) is delayed by `rtt_ms`;
  // 0 removes the delay.
  absl::Status SetBrokerRtt(int32_t broker_id, int rtt_ms);
  // Moves a partition's leadership to `broker_id` (not kAllBrokers). The
  // topic must have been made with CreateTopic (kNotFound otherwise: the mock
  // itself would silently create it).
  absl::Status SetPartitionLeader(const std::string& topic, int32_t partition, int32_t broker_id);

 private:
  MockCluster() = default;
  absl::Status CheckBroker(int32_t broker_id) const;

  absl::Mutex mu_;
  // Topics made by CreateTopic, with their partition counts.
  std::map<std::string, int32_t> topics_ ABSL_GUARDED_BY(mu_);
  int brokers_ = 0;
  void* rk_ = nullptr;        // rd_kafka_t*
  void* mcluster_ = nullptr;  // rd_kafka_mock_cluster_t*
};

}  // namespace jaring::eventlog
