#include "libs/eventlog/mock_cluster.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "libs/base/status.h"
#include "libs/eventlog/internal/kafka_util.h"

namespace jaring::eventlog {
namespace {

using eventlog_internal::ConfPtr;
using eventlog_internal::InstallLogger;
using eventlog_internal::SetConf;

// Kafka protocol ApiKey of Produce requests (RD_KAFKAP_Produce, which
// rdkafka_mock.h does not export).
constexpr int16_t kProduceApiKey = 0;

rd_kafka_mock_cluster_t* Cluster(void* p) { return static_cast<rd_kafka_mock_cluster_t*>(p); }

}  // namespace

absl::StatusOr<std::unique_ptr<MockCluster>> MockCluster::Start(int brokers) {
  if (brokers < 1) {
    return absl::InvalidArgumentError(absl::StrCat("mock cluster: broker count ", brokers, " < 1"));
  }
  // The cluster lives on a handle of its own; it is never used to produce.
  ConfPtr conf(rd_kafka_conf_new());
  JARING_RETURN_IF_ERROR(InstallLogger(conf.get(), /*max_level=*/4));
  JARING_RETURN_IF_ERROR(SetConf(conf.get(), "client.id", "jaring-mock-cluster"));
  char errstr[512] = {0};
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), errstr, sizeof errstr);
  if (rk == nullptr) {
    return absl::InternalError(absl::StrCat("mock cluster: cannot create handle: ", errstr));
  }
  conf.release();  // owned by rk now
  rd_kafka_mock_cluster_t* mcluster = rd_kafka_mock_cluster_new(rk, brokers);
  if (mcluster == nullptr) {
    rd_kafka_destroy(rk);
    return absl::InternalError("mock cluster: rd_kafka_mock_cluster_new failed");
  }
  std::unique_ptr<MockCluster> cluster(new MockCluster());
  cluster->brokers_ = brokers;
  cluster->rk_ = rk;
  cluster->mcluster_ = mcluster;
  return cluster;
}

MockCluster::~MockCluster() {
  if (mcluster_ != nullptr) rd_kafka_mock_cluster_destroy(Cluster(mcluster_));
  if (rk_ != nullptr) rd_kafka_destroy(static_cast<rd_kafka_t*>(rk_));
}

std::string MockCluster::bootstrap() const {
  return rd_kafka_mock_cluster_bootstraps(Cluster(mcluster_));
}

absl::Status MockCluster::CreateTopic(const std::string& topic, int32_t partitions) {
  if (topic.empty()) return absl::InvalidArgumentError("mock cluster: topic name is empty");
  if (partitions < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("mock cluster: topic '", topic, "': partition count ", partitions, " < 1"));
  }
  absl::MutexLock lock(&mu_);
  const int replication = std::min(3, brokers_);
  rd_kafka_resp_err_t err =
      rd_kafka_mock_topic_create(Cluster(mcluster_), topic.c_str(), partitions, replication);
  if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
    return absl::AlreadyExistsError(
        absl::StrCat("mock cluster: topic '", topic, "' already exists"));
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InvalidArgumentError(
        absl::StrCat("mock cluster: cannot create topic '", topic, "': ", rd_kafka_err2str(err)));
  }
  topics_[topic] = partitions;
  return absl::OkStatus();
}

void MockCluster::FailNextProduceRequests(int count, int error) {
  if (count <= 0) return;
  std::vector<rd_kafka_resp_err_t> errors(static_cast<size_t>(count),
                                          static_cast<rd_kafka_resp_err_t>(error));
  rd_kafka_mock_push_request_errors_array(Cluster(mcluster_), kProduceApiKey, errors.size(),
                                          errors.data());
}

void MockCluster::ClearProduceErrors() {
  rd_kafka_mock_clear_request_errors(Cluster(mcluster_), kProduceApiKey);
}

absl::Status MockCluster::CheckBroker(int32_t broker_id) const {
  if (broker_id == kAllBrokers || (broker_id >= 1 && broker_id <= brokers_)) {
    return absl::OkStatus();
  }
  return absl::NotFoundError(
      absl::StrCat("mock cluster: no broker ", broker_id, " (brokers are 1..", brokers_, ")"));
}

absl::Status MockCluster::SetBrokerDown(int32_t broker_id) {
  JARING_RETURN_IF_ERROR(CheckBroker(broker_id));
  rd_kafka_resp_err_t err = rd_kafka_mock_broker_set_down(Cluster(mcluster_), broker_id);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError(absl::StrCat("mock cluster: cannot take broker ", broker_id,
                                            " down: ", rd_kafka_err2str(err)));
  }
  return absl::OkStatus();
}

absl::Status MockCluster::SetBrokerUp(int32_t broker_id) {
  JARING_RETURN_IF_ERROR(CheckBroker(broker_id));
  rd_kafka_resp_err_t err = rd_kafka_mock_broker_set_up(Cluster(mcluster_), broker_id);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError(absl::StrCat("mock cluster: cannot bring broker ", broker_id,
                                            " up: ", rd_kafka_err2str(err)));
  }
  return absl::OkStatus();
}

absl::Status MockCluster::SetBrokerRtt(int32_t broker_id, int rtt_ms) {
  JARING_RETURN_IF_ERROR(CheckBroker(broker_id));
  if (rtt_ms < 0) {
    return absl::InvalidArgumentError(absl::StrCat("mock cluster: negative rtt ", rtt_ms, "ms"));
  }
  rd_kafka_resp_err_t err = rd_kafka_mock_broker_set_rtt(Cluster(mcluster_), broker_id, rtt_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError(absl::StrCat("mock cluster: cannot set rtt of broker ", broker_id,
                                            ": ", rd_kafka_err2str(err)));
  }
  return absl::OkStatus();
}

absl::Status MockCluster::SetPartitionLeader(const std::string& topic, int32_t partition,
                                             int32_t broker_id) {
  if (broker_id < 1 || broker_id > brokers_) {
    return absl::NotFoundError(
        absl::StrCat("mock cluster: no broker ", broker_id, " (brokers are 1..", brokers_, ")"));
  }
  {
    absl::MutexLock lock(&mu_);
    auto it = topics_.find(topic);
    if (it == topics_.end()) {
      return absl::NotFoundError(
          absl::StrCat("mock cluster: no topic '", topic, "' made with CreateTopic"));
    }
    if (partition < 0 || partition >= it->second) {
      return absl::NotFoundError(absl::StrCat("mock cluster: topic '", topic, "' has ", it->second,
                                              " partitions; there is no partition ", partition));
    }
  }
  rd_kafka_resp_err_t err =
      rd_kafka_mock_partition_set_leader(Cluster(mcluster_), topic.c_str(), partition, broker_id);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::NotFoundError(absl::StrCat("mock cluster: cannot move leadership of topic '",
                                            topic, "' partition ", partition, " to broker ",
                                            broker_id, ": ", rd_kafka_err2str(err)));
  }
  return absl::OkStatus();
}

}  // namespace jaring::eventlog
