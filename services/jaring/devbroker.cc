#include <cstdio>

#include "libs/base/status.h"
#include "libs/eventlog/mock_cluster.h"
#include "libs/events/topics.h"
#include "services/jaring/commands.h"

namespace jaring::server {

absl::Status Devbroker(const DevbrokerFlags& flags) {
  BlockTerminationSignals();  // before any thread starts

  JARING_ASSIGN_OR_RETURN(auto cluster, eventlog::MockCluster::Start(flags.brokers));
  if (flags.create_topics) {
    for (const auto& topic : events::kDefaultTopics) {
      JARING_RETURN_IF_ERROR(cluster->CreateTopic(std::string(topic.name), topic.partitions));
    }
  }
  std::fprintf(stderr,
               "jaring devbroker: librdkafka mock cluster with %d brokers, FOR TESTS ONLY "
               "(keeps about 5 MiB per partition and drops older records)\n",
               flags.brokers);
  // The bootstrap list alone on stdout, so scripts can read it.
  std::printf("%s\n", cluster->bootstrap().c_str());
  std::fflush(stdout);
  WaitForTerminationSignal();
  return absl::OkStatus();
}

}  // namespace jaring::server
