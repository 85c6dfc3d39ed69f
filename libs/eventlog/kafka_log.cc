#include "libs/eventlog/kafka_log.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "libs/base/hash.h"
#include "libs/base/status.h"
#include "libs/eventlog/internal/kafka_util.h"

namespace jaring::eventlog {
namespace {

using eventlog_internal::CodeFor;
using eventlog_internal::ConfPtr;
using eventlog_internal::InstallLogger;
using eventlog_internal::KafkaError;
using eventlog_internal::SetConf;
using eventlog_internal::TimeoutMs;

// librdkafka's high-level consumer refuses rd_kafka_assign() without a
// group.id (RD_KAFKA_RESP_ERR__UNKNOWN_GROUP). Readers never join the group
// and never commit, so one fixed id serves every reader.
constexpr char kReaderGroupId[] = "jaring.eventlog.explicit-assignment";

// librdkafka checks message timeouts about once a second, so a delivery
// report may come a little after message.timeout.ms. Append waits this much
// longer before it gives up on a report.
constexpr absl::Duration kDeliveryReportGrace = absl::Seconds(5);

// Settings every client of ours shares (producer and readers): logging,
// where the cluster is, how it names itself, and reconnecting quickly after
// a broker restart (librdkafka's default caps the backoff at 10 s; the Java
// client's is 1 s).
absl::Status ApplyCommonConf(rd_kafka_conf_t* c, const KafkaLogOptions& options, const std::string& client_id) {
  JARING_RETURN_IF_ERROR(InstallLogger(c, options.log_level));
  JARING_RETURN_IF_ERROR(SetConf(c, "bootstrap.servers", options.bootstrap));
  JARING_RETURN_IF_ERROR(SetConf(c, "client.id", client_id));
  JARING_RETURN_IF_ERROR(SetConf(c, "reconnect.backoff.ms", "100"));
  JARING_RETURN_IF_ERROR(SetConf(c, "reconnect.backoff.max.ms", "1000"));
  return SetConf(c, "log.connection.close", "false");
}

// The operator's extra properties, applied last so that they win.
absl::Status ApplyExtraConf(rd_kafka_conf_t* c, const KafkaLogOptions& options) {
  for (const auto& [name, value] : options.extra_config) {
    JARING_RETURN_IF_ERROR(SetConf(c, name, value));
  }
  return absl::OkStatus();
}

// Abseil 20220623 here has its own string_view, which StrCat's AlphaNum does
// not take from std::string_view.
std::string Quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.append("'").append(s).append("'");
  return out;
}

// Logs an error reported through error_cb (never payloads: librdkafka's error
// strings name brokers, topics and codes only).
void LogClientError(rd_kafka_t* rk, int err, const char* reason, int log_level) {
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char fatal[512] = {0};
    rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, fatal, sizeof fatal);
    std::fprintf(stderr, "[librdkafka %s] FATAL %s: %s\n", rd_kafka_name(rk),
                 rd_kafka_err2name(orig), fatal);
    return;
  }
  // Connection failures are already logged by librdkafka itself.
  if (log_level < 4 || err == RD_KAFKA_RESP_ERR__TRANSPORT) return;
  std::fprintf(stderr, "[librdkafka %s] %s: %s\n", rd_kafka_name(rk),
               rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)), reason);
}

// The state of one Append call, shared with the delivery reports of its
// records (which may outlive the call if it gave up waiting).
struct PendingAppend {
  explicit PendingAppend(size_t n) : positions(n), errors(n, RD_KAFKA_RESP_ERR_NO_ERROR) {}
  bool Done() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return outstanding == 0; }

  absl::Mutex mu;
  size_t outstanding ABSL_GUARDED_BY(mu) = 0;
  std::vector<Position> positions ABSL_GUARDED_BY(mu);
  std::vector<rd_kafka_resp_err_t> errors ABSL_GUARDED_BY(mu);
};

// The per-message opaque: which record of which Append a report is for.
struct DeliveryTicket {
  std::shared_ptr<PendingAppend> append;
  size_t index = 0;
};

struct MessageDeleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};
using MessagePtr = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    rd_kafka_topic_partition_list_destroy(l);
  }
};
using PartitionListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

class KafkaLog;

// A Reader on its own consumer handle with explicit assignment.
class KafkaReader final : public Reader {
 public:
  static absl::StatusOr<std::unique_ptr<KafkaReader>> Create(KafkaLog* log);
  ~KafkaReader() override;

  absl::Status Assign(const std::vector<Assignment>& assignment) override;
  absl::StatusOr<std::vector<StoredRecord>> Poll(size_t max_records,
                                                 absl::Duration timeout) override;

 private:
  KafkaReader(KafkaLog* log, int log_level) : log_(log), log_level_(log_level) {}
  static void OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  // Creates consumer_ (destroying the one before, if any).
  absl::Status OpenConsumer();

  KafkaLog* const log_;
  const int log_level_;
  rd_kafka_t* consumer_ = nullptr;
  // consumer_ has had a non-empty assignment.
  bool assigned_ = false;
  // An error met after some records were gathered: returned by the next Poll.
  absl::Status pending_error_;
  // Set by error_cb (librdkafka's threads) when every broker is down.
  std::atomic<bool> all_brokers_down_{false};
};

class KafkaLog final : public EventLog {
 public:
  static absl::StatusOr<std::unique_ptr<KafkaLog>> Open(const KafkaLogOptions& options);
  ~KafkaLog() override;

  absl::Status CreateTopic(std::string_view topic, int32_t partitions) override;
  absl::StatusOr<int32_t> PartitionCount(std::string_view topic) override {
    return LookupPartitionCount(topic, options_.request_timeout);
  }
  absl::StatusOr<std::vector<Position>> Append(std::string_view topic,
                                               std::span<const Record> records) override;
  absl::StatusOr<int64_t> BeginOffset(std::string_view topic, int32_t partition) override {
    JARING_ASSIGN_OR_RETURN(auto wm, Watermarks(topic, partition));
    return wm.first;
  }
  absl::StatusOr<int64_t> EndOffset(std::string_view topic, int32_t partition) override {
    JARING_ASSIGN_OR_RETURN(auto wm, Watermarks(topic, partition));
    return wm.second;
  }
  absl::StatusOr<int64_t> OffsetForTimestamp(std::string_view topic, int32_t partition,
                                             int64_t timestamp_ms) override;
  absl::StatusOr<std::unique_ptr<Reader>> NewReader() override;
  std::string Describe() const override { return "kafka " + options_.bootstrap; }

  // For readers.
  const KafkaLogOptions& options() const { return options_; }
  // A consumer configuration for a reader (everything but callbacks).
  absl::StatusOr<ConfPtr> ReaderConf() const;
  // (low, high) watermarks; kNotFound for an unknown topic or partition.
  absl::StatusOr<std::pair<int64_t, int64_t>> Watermarks(std::string_view topic, int32_t partition);

 private:
  explicit KafkaLog(const KafkaLogOptions& options)
      : options_(options), clock_(options.clock ? options.clock : Clock::Real()) {}

  static void OnDelivery(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque);
  static void OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque);

  // Partition count from the cache, or from fresh metadata on a miss.
  absl::StatusOr<int32_t> LookupPartitionCount(std::string_view topic, absl::Duration timeout);
  // Replaces the cache with the cluster's current topics.
  absl::Status RefreshMetadata(absl::Duration timeout);
  absl::Status CheckPartition(std::string_view topic, int32_t partition);
  void ForgetTopic(std::string_view topic);
  // The earliest offset in [begin, end) whose timestamp is >= timestamp_ms,
  // or `end`, by reading the partition.
  absl::StatusOr<int64_t> ScanForTimestamp(std::string_view topic, int32_t partition, int64_t begin,
                                           int64_t end, int64_t timestamp_ms);

  const KafkaLogOptions options_;
  Clock* const clock_;
  // message.max.bytes of the producer: larger records are refused up front.
  int64_t max_message_bytes_ = 1000000;
  rd_kafka_t* producer_ = nullptr;
  std::atomic<bool> stopping_{false};
  std::thread poller_;  // serves delivery reports and errors

  absl::Mutex mu_;
  std::map<std::string, int32_t, std::less<>> partition_counts_ ABSL_GUARDED_BY(mu_);
  std::set<int32_t> broker_ids_ ABSL_GUARDED_BY(mu_);
};

// ---------------------------------------------------------------------------
// KafkaLog

absl::StatusOr<std::unique_ptr<KafkaLog>> KafkaLog::Open(const KafkaLogOptions& options) {
  if (options.bootstrap.empty()) {
    return absl::InvalidArgumentError("kafka: bootstrap servers are empty");
  }
  if (options.append_timeout < absl::Milliseconds(10)) {
    return absl::InvalidArgumentError("kafka: append_timeout must be at least 10ms");
  }
  if (options.request_timeout < absl::Milliseconds(1)) {
    return absl::InvalidArgumentError("kafka: request_timeout must be at least 1ms");
  }
  std::unique_ptr<KafkaLog> log(new KafkaLog(options));

  ConfPtr conf(rd_kafka_conf_new());
  rd_kafka_conf_t* c = conf.get();
  JARING_RETURN_IF_ERROR(ApplyCommonConf(c, options, "jaring-eventlog"));
  // Idempotence: retries never duplicate or reorder a partition's records.
  JARING_RETURN_IF_ERROR(SetConf(c, "enable.idempotence", "true"));
  JARING_RETURN_IF_ERROR(SetConf(c, "acks", "all"));
  // Batching: a few ms of linger lets concurrent appends share requests.
  JARING_RETURN_IF_ERROR(SetConf(c, "linger.ms", "5"));
  JARING_RETURN_IF_ERROR(
      SetConf(c, "message.timeout.ms", std::to_string(TimeoutMs(options.append_timeout))));
  // Topics are made on purpose (CreateTopic), never by a typo.
  JARING_RETURN_IF_ERROR(SetConf(c, "allow.auto.create.topics", "false"));
  JARING_RETURN_IF_ERROR(ApplyExtraConf(c, options));
  char value[64] = {0};
  size_t value_size = sizeof value;
  if (rd_kafka_conf_get(c, "message.max.bytes", value, &value_size) == RD_KAFKA_CONF_OK) {
    log->max_message_bytes_ = std::atoll(value);
  }
  rd_kafka_conf_set_dr_msg_cb(c, &KafkaLog::OnDelivery);
  rd_kafka_conf_set_error_cb(c, &KafkaLog::OnError);
  rd_kafka_conf_set_opaque(c, log.get());

  // Check the reader configuration now, so a bad extra_config fails here.
  JARING_ASSIGN_OR_RETURN(ConfPtr reader_conf, log->ReaderConf());
  reader_conf.reset();

  char errstr[512] = {0};
  log->producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, c, errstr, sizeof errstr);
  if (log->producer_ == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("kafka: cannot create producer: ", errstr));
  }
  conf.release();  // owned by the producer now
  KafkaLog* raw = log.get();
  log->poller_ = std::thread([raw] {
    while (!raw->stopping_.load(std::memory_order_acquire)) rd_kafka_poll(raw->producer_, 100);
  });
  return log;
}

KafkaLog::~KafkaLog() {
  stopping_.store(true, std::memory_order_release);
  if (producer_ != nullptr) rd_kafka_yield(producer_);  // cut the poller's wait short
  if (poller_.joinable()) poller_.join();
  if (producer_ == nullptr) return;
  // Normally nothing is outstanding: every Append waited for its reports.
  // Records of an Append that gave up waiting get a short flush, then are
  // purged; serving their reports frees their tickets.
  if (rd_kafka_outq_len(producer_) > 0) {
    rd_kafka_flush(producer_, 2000);
    rd_kafka_purge(producer_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(producer_, 100);
  }
  rd_kafka_destroy(producer_);
}

void KafkaLog::OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  auto* ticket = static_cast<DeliveryTicket*>(m->_private);
  if (ticket == nullptr) return;
  {
    PendingAppend& p = *ticket->append;
    absl::MutexLock lock(&p.mu);
    p.positions[ticket->index] = Position{m->partition, m->offset};
    p.errors[ticket->index] = m->err;
    --p.outstanding;
  }
  delete ticket;
}

void KafkaLog::OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  LogClientError(rk, err, reason, static_cast<KafkaLog*>(opaque)->options_.log_level);
}

absl::StatusOr<ConfPtr> KafkaLog::ReaderConf() const {
  ConfPtr conf(rd_kafka_conf_new());
  rd_kafka_conf_t* c = conf.get();
  JARING_RETURN_IF_ERROR(ApplyCommonConf(c, options_, "jaring-eventlog-reader"));
  JARING_RETURN_IF_ERROR(SetConf(c, "group.id", kReaderGroupId));
  // Positions live with each projection's state, never in Kafka.
  JARING_RETURN_IF_ERROR(SetConf(c, "enable.auto.commit", "false"));
  JARING_RETURN_IF_ERROR(SetConf(c, "enable.auto.offset.store", "false"));
  // A position that no longer exists is an error (kDataLoss), never a jump.
  JARING_RETURN_IF_ERROR(SetConf(c, "auto.offset.reset", "error"));
  JARING_RETURN_IF_ERROR(SetConf(c, "enable.partition.eof", "false"));
  // allow.auto.create.topics is false by default for consumers.
  JARING_RETURN_IF_ERROR(
      SetConf(c, "fetch.wait.max.ms", std::to_string(TimeoutMs(options_.fetch_wait))));
  JARING_RETURN_IF_ERROR(SetConf(c, "fetch.error.backoff.ms", "100"));
  JARING_RETURN_IF_ERROR(ApplyExtraConf(c, options_));
  return conf;
}

absl::Status KafkaLog::RefreshMetadata(absl::Duration timeout) {
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err =
      rd_kafka_metadata(producer_, /*all_topics=*/1, nullptr, &md, TimeoutMs(timeout));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaError(err, absl::StrCat("kafka: metadata request to ", options_.bootstrap));
  }
  std::map<std::string, int32_t, std::less<>> counts;
  std::set<int32_t> brokers;
  for (int i = 0; i < md->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = md->topics[i];
    if (t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || t.partition_cnt <= 0) continue;
    counts.emplace(t.topic, t.partition_cnt);
  }
  for (int i = 0; i < md->broker_cnt; ++i) brokers.insert(md->brokers[i].id);
  rd_kafka_metadata_destroy(md);
  absl::MutexLock lock(&mu_);
  partition_counts_ = std::move(counts);
  broker_ids_ = std::move(brokers);
  return absl::OkStatus();
}

absl::StatusOr<int32_t> KafkaLog::LookupPartitionCount(std::string_view topic,
                                                       absl::Duration timeout) {
  {
    absl::MutexLock lock(&mu_);
    auto it = partition_counts_.find(topic);
    if (it != partition_counts_.end()) return it->second;
  }
  JARING_RETURN_IF_ERROR(RefreshMetadata(timeout));
  absl::MutexLock lock(&mu_);
  auto it = partition_counts_.find(topic);
  if (it == partition_counts_.end()) {
    return absl::NotFoundError(absl::StrCat("kafka: topic ", Quote(topic), " does not exist"));
  }
  return it->second;
}

void KafkaLog::ForgetTopic(std::string_view topic) {
  absl::MutexLock lock(&mu_);
  auto it = partition_counts_.find(topic);
  if (it != partition_counts_.end()) partition_counts_.erase(it);
}

absl::Status KafkaLog::CheckPartition(std::string_view topic, int32_t partition) {
  JARING_ASSIGN_OR_RETURN(int32_t count, LookupPartitionCount(topic, options_.request_timeout));
  if (partition >= count) {
    // The topic may have grown since the count was cached.
    ForgetTopic(topic);
    JARING_ASSIGN_OR_RETURN(count, LookupPartitionCount(topic, options_.request_timeout));
  }
  if (partition < 0 || partition >= count) {
    return absl::NotFoundError(absl::StrCat("kafka: topic ", Quote(topic), " has ", count,
                                            " partitions; there is no partition ", partition));
  }
  return absl::OkStatus();
}

absl::Status KafkaLog::CreateTopic(std::string_view topic, int32_t partitions) {
  if (topic.empty()) return absl::InvalidArgumentError("kafka: topic name is empty");
  if (partitions < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("kafka: topic ", Quote(topic), ": partition count ", partitions, " < 1"));
  }
  auto compare = [&](int32_t existing) -> absl::Status {
    if (existing == partitions) return absl::OkStatus();
    return absl::AlreadyExistsError(absl::StrCat("kafka: topic ", Quote(topic), " exists with ",
                                                 existing, " partitions, not ", partitions));
  };
  // Always ask the cluster: the cache may predate a deletion.
  JARING_RETURN_IF_ERROR(RefreshMetadata(options_.request_timeout));
  absl::StatusOr<int32_t> existing = LookupPartitionCount(topic, options_.request_timeout);
  if (existing.ok()) return compare(*existing);
  if (existing.status().code() != absl::StatusCode::kNotFound) return existing.status();

  // CreateTopics goes to the controller. librdkafka 2.0.2's mock cluster names
  // controller 0, which is none of its brokers (ids 1..n), and does not
  // implement CreateTopics; librdkafka would wait for that controller until the
  // request times out. Say so at once instead.
  const int32_t controller = rd_kafka_controllerid(producer_, TimeoutMs(options_.request_timeout));
  if (controller < 0) {
    return absl::UnavailableError(absl::StrCat("kafka: cannot create topic ", Quote(topic),
                                               ": no controller broker known within ",
                                               absl::FormatDuration(options_.request_timeout)));
  }
  {
    absl::MutexLock lock(&mu_);
    if (!broker_ids_.contains(controller)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "kafka: cannot create topic ", Quote(topic), ": the cluster names controller ",
          controller,
          ", which is not one of its brokers, so it cannot serve the CreateTopics admin "
          "request (librdkafka's mock cluster is like that: create topics with "
          "MockCluster::CreateTopic)"));
    }
  }

  char errstr[512] = {0};
  rd_kafka_NewTopic_t* new_topic = rd_kafka_NewTopic_new(
      std::string(topic).c_str(), partitions, options_.replication_factor, errstr, sizeof errstr);
  if (new_topic == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("kafka: cannot create topic ", Quote(topic), ": ", errstr));
  }
  // Jaring's topics are the system of record: retention forever.
  rd_kafka_NewTopic_set_config(new_topic, "retention.ms", "-1");
  rd_kafka_NewTopic_set_config(new_topic, "retention.bytes", "-1");
  rd_kafka_NewTopic_set_config(new_topic, "cleanup.policy", "delete");
  rd_kafka_AdminOptions_t* admin_options =
      rd_kafka_AdminOptions_new(producer_, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  const int timeout_ms = TimeoutMs(options_.request_timeout);
  rd_kafka_AdminOptions_set_request_timeout(admin_options, timeout_ms, errstr, sizeof errstr);
  rd_kafka_AdminOptions_set_operation_timeout(admin_options, timeout_ms, errstr, sizeof errstr);
  rd_kafka_queue_t* queue = rd_kafka_queue_new(producer_);
  rd_kafka_CreateTopics(producer_, &new_topic, 1, admin_options, queue);
  rd_kafka_event_t* event =
      rd_kafka_queue_poll(queue, TimeoutMs(2 * options_.request_timeout + absl::Seconds(1)));
  absl::Status status;
  rd_kafka_resp_err_t topic_err = RD_KAFKA_RESP_ERR_NO_ERROR;
  if (event == nullptr) {
    status = absl::DeadlineExceededError(
        absl::StrCat("kafka: CreateTopics for ", Quote(topic), " got no answer"));
  } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_resp_err_t err = rd_kafka_event_error(event);
    status = absl::Status(CodeFor(err), absl::StrCat("kafka: cannot create topic ", Quote(topic),
                                                     ": ", rd_kafka_event_error_string(event)));
  } else {
    size_t count = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count);
    if (count == 1) {
      topic_err = rd_kafka_topic_result_error(results[0]);
      if (topic_err != RD_KAFKA_RESP_ERR_NO_ERROR &&
          topic_err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        const char* msg = rd_kafka_topic_result_error_string(results[0]);
        status = absl::Status(CodeFor(topic_err),
                              absl::StrCat("kafka: cannot create topic ", Quote(topic), ": ",
                                           msg ? msg : rd_kafka_err2str(topic_err)));
      }
    }
  }
  if (event != nullptr) rd_kafka_event_destroy(event);
  rd_kafka_queue_destroy(queue);
  rd_kafka_AdminOptions_destroy(admin_options);
  rd_kafka_NewTopic_destroy(new_topic);
  JARING_RETURN_IF_ERROR(status);

  // Created (by us or by a racing caller): wait until metadata shows it.
  const absl::Time deadline = absl::Now() + options_.request_timeout;
  while (true) {
    JARING_RETURN_IF_ERROR(RefreshMetadata(options_.request_timeout));
    absl::StatusOr<int32_t> count = LookupPartitionCount(topic, options_.request_timeout);
    if (count.ok()) return compare(*count);
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "kafka: topic ", Quote(topic), " was created but is not in the metadata yet"));
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
}

absl::StatusOr<std::vector<Position>> KafkaLog::Append(std::string_view topic,
                                                       std::span<const Record> records) {
  if (records.empty()) return std::vector<Position>();
  // Validate everything before producing anything.
  for (size_t i = 0; i < records.size(); ++i) {
    const Record& r = records[i];
    if (r.key.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("kafka: append to ", Quote(topic), ": records[", i, "] has an empty key"));
    }
    // librdkafka's produce API reads timestamp 0 as "now", so 0 cannot be
    // stored faithfully; refuse it rather than change the record.
    if (r.timestamp_ms != kNoTimestamp && r.timestamp_ms <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "kafka: append to ", Quote(topic), ": records[", i, "] has timestamp ", r.timestamp_ms,
          "; Kafka records need a timestamp > 0 (librdkafka reads 0 as \"now\") or "
          "kNoTimestamp"));
    }
    if (static_cast<int64_t>(r.key.size() + r.value.size()) > max_message_bytes_) {
      return absl::InvalidArgumentError(
          absl::StrCat("kafka: append to ", Quote(topic), ": records[", i, "] has ",
                       r.key.size() + r.value.size(),
                       " bytes of key and value; message.max.bytes is ", max_message_bytes_));
    }
  }
  const absl::Time start = absl::Now();
  JARING_ASSIGN_OR_RETURN(
      const int32_t partition_count,
      LookupPartitionCount(topic, std::min(options_.request_timeout, options_.append_timeout)));

  const std::string topic_name(topic);
  // librdkafka reads timestamp 0 as "now" by the real clock: a log clock at
  // or before 1970 stamps 1 instead.
  const int64_t now_ms = std::max<int64_t>(1, absl::ToUnixMillis(clock_->Now()));
  const absl::Time produce_deadline = start + options_.append_timeout;
  auto pending = std::make_shared<PendingAppend>(records.size());
  absl::Status produce_status;
  size_t produced = 0;
  for (; produced < records.size(); ++produced) {
    const Record& r = records[produced];
    const int32_t partition = PartitionForKey(r.key, partition_count);
    const int64_t ts = r.timestamp_ms == kNoTimestamp ? now_ms : r.timestamp_ms;
    auto* ticket = new DeliveryTicket{pending, produced};
    {
      absl::MutexLock lock(&pending->mu);
      ++pending->outstanding;
    }
    rd_kafka_resp_err_t err;
    while (true) {
      err = rd_kafka_producev(
          producer_, RD_KAFKA_V_TOPIC(topic_name.c_str()), RD_KAFKA_V_PARTITION(partition),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(r.key.data(), r.key.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(r.value.data()), r.value.size()),
          RD_KAFKA_V_TIMESTAMP(ts), RD_KAFKA_V_OPAQUE(ticket), RD_KAFKA_V_END);
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || absl::Now() >= produce_deadline) break;
      // The local queue is full: serve delivery reports to make room.
      rd_kafka_poll(producer_, 10);
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      delete ticket;
      {
        absl::MutexLock lock(&pending->mu);
        --pending->outstanding;
      }
      if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char fatal[512] = {0};
        rd_kafka_fatal_error(producer_, fatal, sizeof fatal);
        produce_status = absl::UnavailableError(absl::StrCat("kafka: append to ", Quote(topic),
                                                             ": the producer failed fatally (",
                                                             fatal, "); reopen the log"));
      } else {
        produce_status =
            KafkaError(err, absl::StrCat("kafka: append to ", Quote(topic), ": records[", produced,
                                         "] (partition ", partition, ") was not sent"));
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
          produce_status = absl::DeadlineExceededError(produce_status.message());
        }
      }
      break;
    }
  }

  // Wait for every report of what was handed to librdkafka, even after a
  // produce error: the caller must know which records may have landed.
  bool all_reported;
  {
    absl::MutexLock lock(&pending->mu);
    all_reported =
        pending->mu.AwaitWithDeadline(absl::Condition(pending.get(), &PendingAppend::Done),
                                      start + options_.append_timeout + kDeliveryReportGrace);
  }
  if (!all_reported) {
    return absl::DeadlineExceededError(
        absl::StrCat("kafka: append to ", Quote(topic), ": no delivery report within ",
                     absl::FormatDuration(options_.append_timeout + kDeliveryReportGrace),
                     "; some records may have been appended"));
  }
  absl::MutexLock lock(&pending->mu);
  for (size_t i = 0; i < produced; ++i) {
    const rd_kafka_resp_err_t err = pending->errors[i];
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    absl::Status s = KafkaError(
        err,
        absl::StrCat("kafka: append to ", Quote(topic), ": records[", i, "] (partition ",
                     PartitionForKey(records[i].key, partition_count), ") was not acknowledged"));
    if (s.code() == absl::StatusCode::kNotFound) ForgetTopic(topic);
    if (s.code() != absl::StatusCode::kNotFound &&
        s.code() != absl::StatusCode::kDeadlineExceeded &&
        s.code() != absl::StatusCode::kInvalidArgument) {
      s = absl::UnavailableError(s.message());
    }
    return s;
  }
  if (!produce_status.ok()) return produce_status;
  return std::move(pending->positions);
}

absl::StatusOr<std::pair<int64_t, int64_t>> KafkaLog::Watermarks(std::string_view topic,
                                                                 int32_t partition) {
  JARING_RETURN_IF_ERROR(CheckPartition(topic, partition));
  int64_t low = 0;
  int64_t high = 0;
  rd_kafka_resp_err_t err =
      rd_kafka_query_watermark_offsets(producer_, std::string(topic).c_str(), partition, &low,
                                       &high, TimeoutMs(options_.request_timeout));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaError(
        err, absl::StrCat("kafka: offsets of topic ", Quote(topic), " partition ", partition));
  }
  return std::make_pair(low, high);
}

absl::StatusOr<int64_t> KafkaLog::OffsetForTimestamp(std::string_view topic, int32_t partition,
                                                     int64_t timestamp_ms) {
  JARING_ASSIGN_OR_RETURN(auto wm, Watermarks(topic, partition));
  const auto [begin, end] = wm;
  if (begin >= end) return end;
  // Every record's timestamp is >= -1 (-1: none), so it is the first one.
  if (timestamp_ms <= kNoTimestamp) return begin;

  PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), std::string(topic).c_str(), partition)->offset =
      timestamp_ms;
  rd_kafka_resp_err_t err =
      rd_kafka_offsets_for_times(producer_, list.get(), TimeoutMs(options_.request_timeout));
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR && list->elems[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
      list->elems[0].offset >= 0) {
    return std::clamp<int64_t>(list->elems[0].offset, begin, end);
  }
  // -1 means "no record at or after T" on a real broker, and "not
  // implemented" on librdkafka 2.0.2's mock: read the partition to be sure.
  return ScanForTimestamp(topic, partition, begin, end, timestamp_ms);
}

absl::StatusOr<int64_t> KafkaLog::ScanForTimestamp(std::string_view topic, int32_t partition,
                                                   int64_t begin, int64_t end,
                                                   int64_t timestamp_ms) {
  JARING_ASSIGN_OR_RETURN(std::unique_ptr<KafkaReader> reader, KafkaReader::Create(this));
  JARING_RETURN_IF_ERROR(reader->Assign({Assignment{std::string(topic), partition, begin}}));
  int64_t next = begin;
  while (next < end) {
    JARING_ASSIGN_OR_RETURN(std::vector<StoredRecord> batch,
                            reader->Poll(1000, options_.request_timeout));
    if (batch.empty()) {
      return absl::DeadlineExceededError(
          absl::StrCat("kafka: timestamp scan of topic ", Quote(topic), " partition ", partition,
                       " got no records at offset ", next, " within ",
                       absl::FormatDuration(options_.request_timeout)));
    }
    for (const StoredRecord& r : batch) {
      if (r.offset >= end) return end;
      if (r.timestamp_ms >= timestamp_ms) return r.offset;
      next = r.offset + 1;
    }
  }
  return end;
}

absl::StatusOr<std::unique_ptr<Reader>> KafkaLog::NewReader() {
  JARING_ASSIGN_OR_RETURN(std::unique_ptr<KafkaReader> reader, KafkaReader::Create(this));
  return std::unique_ptr<Reader>(std::move(reader));
}

// ---------------------------------------------------------------------------
// KafkaReader

absl::StatusOr<std::unique_ptr<KafkaReader>> KafkaReader::Create(KafkaLog* log) {
  std::unique_ptr<KafkaReader> reader(new KafkaReader(log, log->options().log_level));
  JARING_RETURN_IF_ERROR(reader->OpenConsumer());
  return reader;
}

absl::Status KafkaReader::OpenConsumer() {
  if (consumer_ != nullptr) {
    rd_kafka_destroy_flags(consumer_, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    consumer_ = nullptr;
  }
  assigned_ = false;
  JARING_ASSIGN_OR_RETURN(ConfPtr conf, log_->ReaderConf());
  rd_kafka_conf_set_error_cb(conf.get(), &KafkaReader::OnError);
  rd_kafka_conf_set_opaque(conf.get(), this);
  char errstr[512] = {0};
  consumer_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), errstr, sizeof errstr);
  if (consumer_ == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("kafka: cannot create consumer: ", errstr));
  }
  conf.release();  // owned by the consumer now
  // Serve errors and logs through rd_kafka_consumer_poll().
  rd_kafka_poll_set_consumer(consumer_);
  return absl::OkStatus();
}

KafkaReader::~KafkaReader() {
  // Not a group member and nothing to commit: skip the close handshake, which
  // could wait for a coordinator that is down.
  if (consumer_ != nullptr) {
    rd_kafka_destroy_flags(consumer_, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  }
}

void KafkaReader::OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* reader = static_cast<KafkaReader*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    reader->all_brokers_down_.store(true, std::memory_order_relaxed);
  }
  LogClientError(rk, err, reason, reader->log_level_);
}

absl::Status KafkaReader::Assign(const std::vector<Assignment>& assignment) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(assignment.size())));
  std::set<std::pair<std::string_view, int32_t>> seen;
  for (const Assignment& a : assignment) {
    if (!seen.emplace(a.topic, a.partition).second) {
      return absl::InvalidArgumentError(absl::StrCat("kafka: topic ", Quote(a.topic), " partition ",
                                                     a.partition, " is assigned twice"));
    }
    JARING_ASSIGN_OR_RETURN(auto wm, log_->Watermarks(a.topic, a.partition));
    if (a.offset < wm.first || a.offset > wm.second) {
      return absl::OutOfRangeError(absl::StrCat("kafka: offset ", a.offset, " of topic ",
                                                Quote(a.topic), " partition ", a.partition,
                                                " is outside [", wm.first, ", ", wm.second, "]"));
    }
    rd_kafka_topic_partition_list_add(list.get(), a.topic.c_str(), a.partition)->offset = a.offset;
  }
  // Replacing an assignment on the same handle lets librdkafka 2.0 start a
  // second removal round while the first one's fetch stops are pending,
  // which trips its assertion `rktp->rktp_started`
  // (confluentinc/librdkafka#5573). A fresh consumer per new assignment has
  // one removal round only, at its destruction.
  if (assigned_) JARING_RETURN_IF_ERROR(OpenConsumer());
  if (!assignment.empty()) {
    rd_kafka_resp_err_t err = rd_kafka_assign(consumer_, list.get());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return KafkaError(err, "kafka: assign");
    assigned_ = true;
  }
  pending_error_ = absl::OkStatus();
  all_brokers_down_.store(false, std::memory_order_relaxed);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<StoredRecord>> KafkaReader::Poll(size_t max_records,
                                                            absl::Duration timeout) {
  if (!pending_error_.ok()) {
    absl::Status s = std::move(pending_error_);
    pending_error_ = absl::OkStatus();
    return s;
  }
  std::vector<StoredRecord> out;
  if (max_records == 0) return out;
  const absl::Time deadline = absl::Now() + timeout;
  while (out.size() < max_records) {
    // Wait for the first record; after that take only what is already here.
    const int wait_ms = out.empty() ? TimeoutMs(deadline - absl::Now()) : 0;
    MessagePtr m(rd_kafka_consumer_poll(consumer_, wait_ms));
    if (m == nullptr) {
      if (out.empty() && absl::Now() < deadline) continue;
      break;
    }
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::string where = "kafka: read";
      if (m->rkt != nullptr) {
        absl::StrAppend(&where, " of topic ", Quote(rd_kafka_topic_name(m->rkt)), " partition ",
                        m->partition);
        if (m->offset >= 0) absl::StrAppend(&where, " at offset ", m->offset);
      }
      absl::StatusCode code = CodeFor(m->err);
      // Records that are gone or unreadable are data loss; anything else is
      // the bus being unavailable for now.
      if (code == absl::StatusCode::kNotFound) code = absl::StatusCode::kDataLoss;
      if (code != absl::StatusCode::kDataLoss) code = absl::StatusCode::kUnavailable;
      absl::Status s(code, absl::StrCat(where, ": ", rd_kafka_message_errstr(m.get()), " (",
                                        rd_kafka_err2name(m->err), ")"));
      if (out.empty()) return s;
      pending_error_ = std::move(s);
      break;
    }
    StoredRecord r;
    r.topic = rd_kafka_topic_name(m->rkt);
    r.partition = m->partition;
    r.offset = m->offset;
    rd_kafka_timestamp_type_t type;
    r.timestamp_ms = rd_kafka_message_timestamp(m.get(), &type);
    if (type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE) r.timestamp_ms = kNoTimestamp;
    if (m->key != nullptr) r.key.assign(static_cast<const char*>(m->key), m->key_len);
    if (m->payload != nullptr) r.value.assign(static_cast<const char*>(m->payload), m->len);
    out.push_back(std::move(r));
  }
  if (!out.empty()) {
    all_brokers_down_.store(false, std::memory_order_relaxed);
  } else if (all_brokers_down_.exchange(false, std::memory_order_relaxed)) {
    return absl::UnavailableError("kafka: read: all brokers are down");
  }
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<EventLog>> OpenKafkaLog(const KafkaLogOptions& options) {
  JARING_ASSIGN_OR_RETURN(std::unique_ptr<KafkaLog> log, KafkaLog::Open(options));
  return std::unique_ptr<EventLog>(std::move(log));
}

}  // namespace jaring::eventlog
