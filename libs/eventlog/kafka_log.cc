#include "libs/eventlog/kafka_log.h"

namespace jaring::eventlog {

absl::StatusOr<std::unique_ptr<EventLog>> OpenKafkaLog(const KafkaLogOptions&) {
  return absl::UnimplementedError("kafka log: not yet written");
}

}  // namespace jaring::eventlog
