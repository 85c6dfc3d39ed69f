#include "libs/eventlog/internal/kafka_util.h"

#include <climits>
#include <cstdio>

#include "absl/strings/str_cat.h"

namespace jaring::eventlog_internal {
namespace {

void LogToStderr(const rd_kafka_t* rk, int level, const char* facility, const char* line) {
  // One fprintf per line, so lines from librdkafka's threads do not interleave.
  std::fprintf(stderr, "[librdkafka %d %s] %s: %s\n", level, rk ? rd_kafka_name(rk) : "-", facility,
               line);
}

}  // namespace

absl::Status SetConf(rd_kafka_conf_t* conf, const std::string& name, const std::string& value) {
  char errstr[512] = {0};
  if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), errstr, sizeof errstr) !=
      RD_KAFKA_CONF_OK) {
    return absl::InvalidArgumentError(
        absl::StrCat("kafka configuration property '", name, "': ", errstr));
  }
  return absl::OkStatus();
}

absl::Status InstallLogger(rd_kafka_conf_t* conf, int max_level) {
  rd_kafka_conf_set_log_cb(conf, &LogToStderr);
  return SetConf(conf, "log_level", std::to_string(max_level));
}

absl::StatusCode CodeFor(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
      return absl::StatusCode::kOk;
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
      return absl::StatusCode::kNotFound;
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
      return absl::StatusCode::kDeadlineExceeded;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
      return absl::StatusCode::kInvalidArgument;
    case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE:
    case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
    case RD_KAFKA_RESP_ERR__BAD_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
      return absl::StatusCode::kDataLoss;
    case RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION:
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
      return absl::StatusCode::kFailedPrecondition;
    case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS:
      return absl::StatusCode::kAlreadyExists;
    default:
      return absl::StatusCode::kUnavailable;
  }
}

absl::Status KafkaError(rd_kafka_resp_err_t err, std::string_view context) {
  return absl::Status(CodeFor(err), absl::StrCat(std::string(context), ": ", rd_kafka_err2str(err),
                                                 " (", rd_kafka_err2name(err), ")"));
}

int TimeoutMs(absl::Duration d) {
  if (d <= absl::ZeroDuration()) return 0;
  if (d >= absl::Milliseconds(INT_MAX)) return INT_MAX;
  return static_cast<int>(absl::ToInt64Milliseconds(absl::Ceil(d, absl::Milliseconds(1))));
}

}  // namespace jaring::eventlog_internal
