#include "libs/eventlog/embedded_log.h"

namespace jaring::eventlog {

absl::StatusOr<std::unique_ptr<EventLog>> OpenEmbeddedLog(const EmbeddedLogOptions&) {
  return absl::UnimplementedError("embedded log: not yet written");
}

}  // namespace jaring::eventlog
