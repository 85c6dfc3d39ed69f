#include "libs/eventlog/mock_cluster.h"

#include "absl/status/status.h"

namespace jaring::eventlog {

absl::StatusOr<std::unique_ptr<MockCluster>> MockCluster::Start(int) {
  return absl::UnimplementedError("mock cluster: not yet written");
}
MockCluster::~MockCluster() = default;
std::string MockCluster::bootstrap() const { return ""; }
absl::Status MockCluster::CreateTopic(const std::string&, int32_t) { return absl::UnimplementedError(""); }
void MockCluster::FailNextProduceRequests(int, int) {}
absl::Status MockCluster::SetBrokerDown(int32_t) { return absl::UnimplementedError(""); }
absl::Status MockCluster::SetBrokerUp(int32_t) { return absl::UnimplementedError(""); }
absl::Status MockCluster::SetBrokerRtt(int32_t, int) { return absl::UnimplementedError(""); }
absl::Status MockCluster::SetPartitionLeader(const std::string&, int32_t, int32_t) {
  return absl::UnimplementedError("");
}

}  // namespace jaring::eventlog
