// Helpers shared by the Kafka event log and the mock cluster: librdkafka
// configuration, logging and error mapping. Internal to libs/eventlog.
#pragma once

#include <librdkafka/rdkafka.h>

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace jaring::eventlog_internal {

// Owns an rd_kafka_conf_t until it is handed to rd_kafka_new().
struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

// Sets one property. kInvalidArgument names the property and librdkafka's
// reason (values are not repeated: they may be secrets).
absl::Status SetConf(rd_kafka_conf_t* conf, const std::string& name, const std::string& value);

// Routes the handle's log lines to stderr and sets log_level to `max_level`
// (syslog levels: 4 = warning). librdkafka never logs message payloads.
absl::Status InstallLogger(rd_kafka_conf_t* conf, int max_level);

// The absl code for a librdkafka error: unknown topic or partition ->
// kNotFound; timeouts -> kDeadlineExceeded; a record that is too large or an
// invalid argument -> kInvalidArgument; offsets out of range or corrupt data
// -> kDataLoss; an unsupported feature -> kFailedPrecondition; everything
// else (transport, broker down, not enough replicas, fatal) -> kUnavailable.
absl::StatusCode CodeFor(rd_kafka_resp_err_t err);

// An absl::Status with code CodeFor(err) and the message
// "<context>: <librdkafka error string> (<error name>)".
absl::Status KafkaError(rd_kafka_resp_err_t err, std::string_view context);

// A librdkafka timeout argument in milliseconds: at least 0, at most INT_MAX;
// absl::InfiniteDuration() becomes INT_MAX (librdkafka's -1 means "forever"
// in some calls and is not used here).
int TimeoutMs(absl::Duration d);

}  // namespace jaring::eventlog_internal
