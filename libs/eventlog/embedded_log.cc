// The embedded event log. See embedded_log.h for the contract and
// docs/formats/embedded-log.md for the key layout.
//
// How it works:
//   - One RocksDB database. Topic metadata, records and a sparse time index
//     live in one key space, distinguished by a tag byte.
//   - Appends are group-committed as in LevelDB's DBImpl::Write: every Append
//     enqueues a Writer; the writer at the front of the queue is the leader.
//     Under mu_ it takes the waiting writers (up to kMaxGroupBytes), assigns
//     offsets in queue order, then releases mu_ and writes one WriteBatch
//     (sync = options.sync). It re-takes mu_, publishes the new end offsets
//     (or rolls the assigned offsets back on failure), completes the group,
//     and hands leadership to the next writer. Only the leader ever moves
//     PartitionState::next, so at most one group is in flight.
//   - Readers snapshot the published end offsets under mu_, then read with a
//     RocksDB iterator created afterwards, so every offset below the snapshot
//     is visible and readers never see a gap. They wait on committed_cv_.
#include "libs/eventlog/embedded_log.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <string_view>
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
#include "libs/eventlog/internal/embedded_format.h"
#include "rocksdb/db.h"
#include "rocksdb/iterator.h"
#include "rocksdb/options.h"
#include "rocksdb/slice.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"

namespace jaring::eventlog {
namespace {

namespace fmt = ::jaring::eventlog_internal;

// A group stops growing once it holds this many bytes of keys and values
// (the leader's own append is always taken whole).
constexpr size_t kMaxGroupBytes = size_t{4} << 20;
constexpr int32_t kMaxPartitions = 100000;
constexpr size_t kMaxTopicNameSize = 249;

// Abseil 20220623 on Debian has its own string_view type; StrCat needs it.
absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string msg = absl::StrCat("embedded log: ", ToAbsl(what), ": ", s.ToString());
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsNotSupported() || s.IsInvalidArgument()) return absl::InternalError(msg);
  // IOError (including "lock hold by ..."), Busy, TryAgain, TimedOut, ...
  return absl::UnavailableError(msg);
}

absl::Status ValidateTopicName(std::string_view topic) {
  if (topic.empty()) return absl::InvalidArgumentError("topic name is empty");
  if (topic.size() > kMaxTopicNameSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("topic name is longer than ", kMaxTopicNameSize, " characters"));
  }
  for (char c : topic) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("topic name \"", ToAbsl(topic), "\" has a character outside [a-zA-Z0-9._-]"));
    }
  }
  return absl::OkStatus();
}

absl::Status UnknownTopic(std::string_view topic) {
  return absl::NotFoundError(absl::StrCat("embedded log: unknown topic \"", ToAbsl(topic), "\""));
}

absl::Status UnknownPartition(std::string_view topic, int32_t partition) {
  return absl::NotFoundError(
      absl::StrCat("embedded log: topic \"", ToAbsl(topic), "\" has no partition ", partition));
}

rocksdb::Options MakeRocksOptions() {
  rocksdb::Options o;
  o.create_if_missing = true;
  o.paranoid_checks = true;
  // Large sequential appends: big memtables, few flushes.
  o.write_buffer_size = size_t{64} << 20;
  o.max_write_buffer_number = 4;
  o.min_write_buffer_number_to_merge = 1;
  o.target_file_size_base = uint64_t{64} << 20;
  o.max_bytes_for_level_base = uint64_t{512} << 20;
  o.level_compaction_dynamic_level_bytes = true;
  o.max_background_jobs = 2;
  o.bytes_per_sync = size_t{1} << 20;
  // Each partition's keys arrive in increasing order: let the memtable
  // remember where the last insert of each partition prefix went instead of
  // searching the skiplist from the top (needs single-threaded memtable
  // inserts, which group commit gives anyway).
  o.memtable_insert_with_hint_prefix_extractor.reset(
      rocksdb::NewFixedPrefixTransform(fmt::kPartitionPrefixSize));
  o.allow_concurrent_memtable_write = false;
  o.compression = rocksdb::kLZ4Compression;
  o.bottommost_compression = rocksdb::kLZ4Compression;
  // A torn tail after kill -9 is expected and dropped; acknowledged writes
  // were fsynced before the tail.
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  rocksdb::BlockBasedTableOptions t;
  t.block_size = 32 << 10;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return o;
}

class EmbeddedReader;

class EmbeddedLog final : public EventLog {
 public:
  static absl::StatusOr<std::unique_ptr<EventLog>> Open(const EmbeddedLogOptions& options);

  ~EmbeddedLog() override;

  absl::Status CreateTopic(std::string_view topic, int32_t partitions) override;
  absl::StatusOr<int32_t> PartitionCount(std::string_view topic) override;
  absl::StatusOr<std::vector<Position>> Append(std::string_view topic,
                                               std::span<const Record> records) override;
  absl::StatusOr<int64_t> BeginOffset(std::string_view topic, int32_t partition) override;
  absl::StatusOr<int64_t> EndOffset(std::string_view topic, int32_t partition) override;
  absl::StatusOr<int64_t> OffsetForTimestamp(std::string_view topic, int32_t partition,
                                             int64_t timestamp_ms) override;
  absl::StatusOr<std::unique_ptr<Reader>> NewReader() override;
  std::string Describe() const override {
    return absl::StrCat("embedded log at ", dir_, read_only_ ? " (read-only)" : "");
  }

  EmbeddedLogStats Stats() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  friend class EmbeddedReader;

  struct TopicState {
    uint32_t id = 0;
    int32_t partitions = 0;
    size_t first_partition = 0;  // index of partition 0 in partitions_
  };

  struct PartitionState {
    uint32_t topic_id = 0;
    int32_t partition = 0;
    // Published: every offset below is durable and readable.
    int64_t end = 0;
    // Next offset to assign; differs from `end` only while a group is in
    // flight. Only the leader moves it.
    int64_t next = 0;
    // Running maximum record timestamp over [0, end) resp. [0, next);
    // INT64_MIN for an empty partition.
    int64_t max_ts = std::numeric_limits<int64_t>::min();
    int64_t pending_max_ts = std::numeric_limits<int64_t>::min();
    // The last group that touched this partition (to list it once).
    uint64_t group = 0;
  };

  // One Append waiting in the queue. Lives on the appender's stack.
  struct Writer {
    std::span<const Record> records;
    std::vector<Position>* positions = nullptr;  // partitions filled in, offsets by the leader
    uint32_t topic_id = 0;
    size_t first_partition = 0;
    int64_t now_ms = 0;  // for records with kNoTimestamp
    size_t bytes = 0;
    bool done = false;
    absl::Status status;
    absl::CondVar cv;
  };

  struct IndexEntry {
    uint32_t topic_id;
    int32_t partition;
    int64_t max_ts;
    int64_t offset;
  };

  EmbeddedLog(const EmbeddedLogOptions& options, std::unique_ptr<rocksdb::DB> db);

  absl::Status Load() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status LoadPartition(PartitionState* state) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Adds in-memory state for a topic; returns its TopicState.
  const TopicState& AddTopic(std::string name, uint32_t id, int32_t partitions)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<size_t> PartitionIndex(std::string_view topic, int32_t partition) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  // The leader's work for the group starting at writers_.front().
  void LeadGroup() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string dir_;
  const bool sync_;
  const bool read_only_;
  // A read-only open's own directory, removed on close ("" when the caller
  // named one).
  std::string owned_secondary_dir_;
  Clock* const clock_;
  std::unique_ptr<rocksdb::DB> db_;  // set once at open; reset only on close

  mutable absl::Mutex mu_;
  // Signalled (SignalAll) whenever end offsets advance.
  absl::CondVar committed_cv_;
  std::map<std::string, TopicState, std::less<>> topics_ ABSL_GUARDED_BY(mu_);
  std::vector<PartitionState> partitions_ ABSL_GUARDED_BY(mu_);
  uint32_t next_topic_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::deque<Writer*> writers_ ABSL_GUARDED_BY(mu_);
  uint64_t group_seq_ ABSL_GUARDED_BY(mu_) = 0;
  int live_readers_ ABSL_GUARDED_BY(mu_) = 0;
  EmbeddedLogStats stats_ ABSL_GUARDED_BY(mu_);
};

// Reads assigned partitions. Used by one thread at a time (Reader's
// contract); the cursors are its own, the log's state is read under log->mu_.
class EmbeddedReader final : public Reader {
 public:
  explicit EmbeddedReader(EmbeddedLog* log) : log_(log) {}
  ~EmbeddedReader() override {
    absl::MutexLock lock(&log_->mu_);
    --log_->live_readers_;
  }

  absl::Status Assign(const std::vector<Assignment>& assignment) override;
  absl::StatusOr<std::vector<StoredRecord>> Poll(size_t max_records,
                                                  absl::Duration timeout) override;

 private:
  struct Cursor {
    std::string topic;
    uint32_t topic_id = 0;
    int32_t partition = 0;
    size_t state = 0;  // index into log_->partitions_ (stable: never removed)
    int64_t next = 0;
  };

  // Reads [from, to) of one partition into `out`. Records must be dense.
  absl::Status ReadRange(rocksdb::Iterator* it, const Cursor& c, int64_t from, int64_t to,
                         std::vector<StoredRecord>* out);

  EmbeddedLog* const log_;
  std::vector<Cursor> cursors_;
  size_t rotation_ = 0;  // which partition goes first, for fairness
};

// ---------------------------------------------------------------------------
// EmbeddedLog

EmbeddedLog::EmbeddedLog(const EmbeddedLogOptions& options, std::unique_ptr<rocksdb::DB> db)
    : dir_(options.dir),
      sync_(options.sync),
      read_only_(options.read_only),
      clock_(options.clock != nullptr ? options.clock : Clock::Real()),
      db_(std::move(db)) {}

EmbeddedLog::~EmbeddedLog() {
  absl::MutexLock lock(&mu_);
  JARING_RELEASE_ASSERT(live_readers_ == 0,
                        "embedded log destroyed while a Reader is alive (destroy readers first)");
  JARING_RELEASE_ASSERT(writers_.empty(), "embedded log destroyed during an Append");
  if (!owned_secondary_dir_.empty()) {
    db_.reset();  // before its files go
    std::error_code ec;
    std::filesystem::remove_all(owned_secondary_dir_, ec);
  }
}

absl::StatusOr<std::unique_ptr<EventLog>> EmbeddedLog::Open(const EmbeddedLogOptions& options) {
  if (options.dir.empty()) return absl::InvalidArgumentError("embedded log: dir is empty");
  rocksdb::DB* raw = nullptr;
  std::string owned_secondary;
  if (options.read_only) {
    std::error_code ec;
    if (!std::filesystem::exists(std::filesystem::path(options.dir) / "CURRENT", ec)) {
      return absl::NotFoundError(absl::StrCat("embedded log: no log in ", options.dir));
    }
    std::string secondary = options.secondary_dir;
    if (secondary.empty()) {
      std::string templ = (std::filesystem::temp_directory_path(ec) / "jaring-log-reader-XXXXXX").string();
      if (mkdtemp(templ.data()) == nullptr) {
        return absl::UnavailableError("embedded log: cannot make a directory for a read-only open");
      }
      secondary = owned_secondary = templ;
    }
    rocksdb::Options o = MakeRocksOptions();
    o.create_if_missing = false;
    o.max_open_files = -1;  // a secondary keeps every table file open
    rocksdb::Status s = rocksdb::DB::OpenAsSecondary(o, options.dir, secondary, &raw);
    if (!s.ok() && !owned_secondary.empty()) std::filesystem::remove_all(owned_secondary, ec);
    JARING_RETURN_IF_ERROR(FromRocks(s, absl::StrCat("cannot open ", options.dir, " read-only")));
  } else {
    rocksdb::Status s = rocksdb::DB::Open(MakeRocksOptions(), options.dir, &raw);
    JARING_RETURN_IF_ERROR(FromRocks(s, absl::StrCat("cannot open ", options.dir)));
  }
  std::unique_ptr<EmbeddedLog> log(new EmbeddedLog(options, std::unique_ptr<rocksdb::DB>(raw)));
  log->owned_secondary_dir_ = std::move(owned_secondary);
  {
    absl::MutexLock lock(&log->mu_);
    JARING_RETURN_IF_ERROR(log->Load());
  }
  return std::unique_ptr<EventLog>(std::move(log));
}

absl::Status EmbeddedLog::Load() {
  // Format version.
  std::string version_value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), fmt::VersionKey(), &version_value);
  if (s.IsNotFound() && read_only_) {
    return absl::NotFoundError(absl::StrCat("embedded log: ", dir_, " holds no log yet"));
  }
  if (s.IsNotFound()) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    it->SeekToFirst();
    JARING_RETURN_IF_ERROR(FromRocks(it->status(), "reading"));
    if (it->Valid()) {
      return absl::DataLossError(
          absl::StrCat("embedded log: ", dir_, " holds a database without a format version"));
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    JARING_RETURN_IF_ERROR(FromRocks(
        db_->Put(wo, fmt::VersionKey(), fmt::EncodeVersion(fmt::kFormatVersion)), "writing"));
  } else {
    JARING_RETURN_IF_ERROR(FromRocks(s, "reading the format version"));
    uint32_t version = 0;
    if (!fmt::DecodeVersion(version_value, &version)) {
      return absl::DataLossError("embedded log: malformed format version");
    }
    if (version != fmt::kFormatVersion) {
      return absl::FailedPreconditionError(absl::StrCat(
          "embedded log: format version ", version, " is not supported (want ",
          fmt::kFormatVersion, ")"));
    }
  }

  // Topics.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  const std::string meta_prefix(1, fmt::kMetaTag);
  for (it->Seek(meta_prefix); it->Valid() && it->key().starts_with(meta_prefix); it->Next()) {
    uint32_t id = 0;
    int32_t partitions = 0;
    const std::string_view value = it->value().ToStringView();
    if (!fmt::DecodeTopicMeta(value, &id, &partitions) || partitions > kMaxPartitions) {
      return absl::DataLossError("embedded log: malformed topic metadata");
    }
    std::string name(it->key().data() + 1, it->key().size() - 1);
    AddTopic(std::move(name), id, partitions);
    next_topic_id_ = std::max(next_topic_id_, id + 1);
  }
  JARING_RETURN_IF_ERROR(FromRocks(it->status(), "reading topics"));

  for (PartitionState& p : partitions_) JARING_RETURN_IF_ERROR(LoadPartition(&p));
  return absl::OkStatus();
}

absl::Status EmbeddedLog::LoadPartition(PartitionState* state) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  char prefix[fmt::kPartitionPrefixSize];

  // End offset: one past the last record.
  char last[fmt::kRecordKeySize];
  fmt::EncodeRecordKey(last, state->topic_id, state->partition, std::numeric_limits<int64_t>::max());
  fmt::EncodePartitionPrefix(prefix, fmt::kRecordTag, state->topic_id, state->partition);
  it->SeekForPrev(rocksdb::Slice(last, sizeof(last)));
  int64_t end = 0;
  if (it->Valid() && it->key().starts_with(rocksdb::Slice(prefix, sizeof(prefix)))) {
    uint32_t tid = 0;
    int32_t partition = 0;
    int64_t offset = 0;
    if (!fmt::DecodeRecordKey(it->key().ToStringView(), &tid, &partition, &offset) || offset < 0) {
      return absl::DataLossError("embedded log: malformed record key");
    }
    end = offset + 1;
  }
  JARING_RETURN_IF_ERROR(FromRocks(it->status(), "reading records"));

  // Running maximum timestamp: the last time-index entry.
  char last_index[fmt::kTimeIndexKeySize];
  std::fill(std::begin(last_index), std::end(last_index), '\xff');
  fmt::EncodePartitionPrefix(last_index, fmt::kTimeIndexTag, state->topic_id, state->partition);
  fmt::EncodePartitionPrefix(prefix, fmt::kTimeIndexTag, state->topic_id, state->partition);
  it->SeekForPrev(rocksdb::Slice(last_index, sizeof(last_index)));
  int64_t max_ts = std::numeric_limits<int64_t>::min();
  if (it->Valid() && it->key().starts_with(rocksdb::Slice(prefix, sizeof(prefix)))) {
    uint32_t tid = 0;
    int32_t partition = 0;
    int64_t offset = 0;
    if (!fmt::DecodeTimeIndexKey(it->key().ToStringView(), &tid, &partition, &max_ts, &offset) ||
        offset >= end) {
      return absl::DataLossError("embedded log: time index disagrees with the records");
    }
  } else if (end > 0) {
    return absl::DataLossError("embedded log: records without a time index");
  }
  JARING_RETURN_IF_ERROR(FromRocks(it->status(), "reading the time index"));

  state->end = state->next = end;
  state->max_ts = state->pending_max_ts = max_ts;
  return absl::OkStatus();
}

const EmbeddedLog::TopicState& EmbeddedLog::AddTopic(std::string name, uint32_t id,
                                                     int32_t partitions) {
  TopicState t{.id = id, .partitions = partitions, .first_partition = partitions_.size()};
  for (int32_t p = 0; p < partitions; ++p) {
    PartitionState ps;
    ps.topic_id = id;
    ps.partition = p;
    partitions_.push_back(ps);
  }
  return topics_.emplace(std::move(name), t).first->second;
}

absl::StatusOr<size_t> EmbeddedLog::PartitionIndex(std::string_view topic,
                                                   int32_t partition) const {
  auto it = topics_.find(topic);
  if (it == topics_.end()) return UnknownTopic(topic);
  if (partition < 0 || partition >= it->second.partitions) return UnknownPartition(topic, partition);
  return it->second.first_partition + static_cast<size_t>(partition);
}

absl::Status EmbeddedLog::CreateTopic(std::string_view topic, int32_t partitions) {
  JARING_RETURN_IF_ERROR(ValidateTopicName(topic));
  if (partitions < 1 || partitions > kMaxPartitions) {
    return absl::InvalidArgumentError(
        absl::StrCat("partition count ", partitions, " is outside [1, ", kMaxPartitions, "]"));
  }
  // Held across the (rare) metadata write so two creators cannot race.
  absl::MutexLock lock(&mu_);
  auto it = topics_.find(topic);
  if (it != topics_.end()) {
    if (it->second.partitions == partitions) return absl::OkStatus();
    return absl::AlreadyExistsError(absl::StrCat("topic \"", ToAbsl(topic), "\" exists with ",
                                                 it->second.partitions, " partitions, not ",
                                                 partitions));
  }
  if (read_only_) {
    return absl::FailedPreconditionError(
        absl::StrCat("embedded log ", dir_, " is open read-only: cannot create topic \"", ToAbsl(topic), "\""));
  }
  const uint32_t id = next_topic_id_;
  rocksdb::WriteOptions wo;
  wo.sync = sync_;
  JARING_RETURN_IF_ERROR(
      FromRocks(db_->Put(wo, fmt::MetaKey(topic), fmt::EncodeTopicMeta(id, partitions)),
                "writing topic metadata"));
  ++next_topic_id_;
  AddTopic(std::string(topic), id, partitions);
  return absl::OkStatus();
}

absl::StatusOr<int32_t> EmbeddedLog::PartitionCount(std::string_view topic) {
  absl::ReaderMutexLock lock(&mu_);
  auto it = topics_.find(topic);
  if (it == topics_.end()) return UnknownTopic(topic);
  return it->second.partitions;
}

absl::StatusOr<std::vector<Position>> EmbeddedLog::Append(std::string_view topic,
                                                          std::span<const Record> records) {
  if (read_only_) {
    return absl::FailedPreconditionError(absl::StrCat("embedded log ", dir_, " is open read-only"));
  }
  Writer w;
  int32_t partition_count = 0;  // fixed for the topic's life
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = topics_.find(topic);
    if (it == topics_.end()) return UnknownTopic(topic);
    w.topic_id = it->second.id;
    w.first_partition = it->second.first_partition;
    partition_count = it->second.partitions;
  }

  // Validate everything before anything is written; compute partitions
  // outside the lock.
  std::vector<Position> positions(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const Record& r = records[i];
    if (r.key.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("records[", i, "].key is empty"));
    }
    if (r.timestamp_ms <= 0 && r.timestamp_ms != kNoTimestamp) {
      return absl::InvalidArgumentError(absl::StrCat(
          "records[", i, "].timestamp_ms must be positive (got ", r.timestamp_ms, ")"));
    }
    positions[i].partition = PartitionForKey(r.key, partition_count);
    w.bytes += r.key.size() + r.value.size();
  }
  if (records.empty()) return positions;

  w.records = records;
  w.positions = &positions;
  // Stored timestamps are >= 0; a clock before 1970 stamps 0.
  w.now_ms = std::max<int64_t>(0, absl::ToUnixMillis(clock_->Now()));

  absl::MutexLock lock(&mu_);
  writers_.push_back(&w);
  while (!w.done && &w != writers_.front()) w.cv.Wait(&mu_);
  if (!w.done) LeadGroup();
  JARING_RELEASE_ASSERT(w.done, "group commit left a writer unfinished");
  if (!w.status.ok()) return w.status;
  return positions;
}

void EmbeddedLog::LeadGroup() {
  // Take the group: the leader plus followers up to kMaxGroupBytes.
  std::vector<Writer*> group;
  size_t bytes = 0;
  size_t record_count = 0;
  for (Writer* w : writers_) {
    if (!group.empty() && bytes + w->bytes > kMaxGroupBytes) break;
    group.push_back(w);
    bytes += w->bytes;
    record_count += w->records.size();
  }

  // Assign offsets in queue order, note index entries and touched partitions.
  const uint64_t group_id = ++group_seq_;
  std::vector<IndexEntry> index;
  std::vector<size_t> touched;
  for (Writer* w : group) {
    for (size_t i = 0; i < w->records.size(); ++i) {
      Position& pos = (*w->positions)[i];
      PartitionState& ps = partitions_[w->first_partition + static_cast<size_t>(pos.partition)];
      if (ps.group != group_id) {
        ps.group = group_id;
        touched.push_back(w->first_partition + static_cast<size_t>(pos.partition));
      }
      pos.offset = ps.next++;
      const int64_t ts =
          w->records[i].timestamp_ms == kNoTimestamp ? w->now_ms : w->records[i].timestamp_ms;
      if (ts > ps.pending_max_ts) {
        ps.pending_max_ts = ts;
        index.push_back({w->topic_id, pos.partition, ts, pos.offset});
      }
    }
  }

  // Write without holding mu_: followers keep queueing behind us, readers
  // keep reading. The writers in `group` are blocked, so their records stay
  // valid; only this thread moves `next`.
  mu_.Unlock();
  absl::Status status;
  {
    rocksdb::WriteBatch batch(bytes + record_count * (fmt::kRecordKeySize + 32) +
                              index.size() * (fmt::kTimeIndexKeySize + 8) + 64);
    char key[fmt::kRecordKeySize];
    char header[fmt::kMaxRecordHeaderSize];
    rocksdb::Status s;
    for (const Writer* w : group) {
      for (size_t i = 0; i < w->records.size() && s.ok(); ++i) {
        const Record& r = w->records[i];
        const Position& pos = (*w->positions)[i];
        const int64_t ts = r.timestamp_ms == kNoTimestamp ? w->now_ms : r.timestamp_ms;
        fmt::EncodeRecordKey(key, w->topic_id, pos.partition, pos.offset);
        const size_t header_size = fmt::EncodeRecordHeader(header, ts, r.key.size());
        const rocksdb::Slice key_slice(key, sizeof(key));
        const rocksdb::Slice value_parts[3] = {rocksdb::Slice(header, header_size),
                                               rocksdb::Slice(r.key), rocksdb::Slice(r.value)};
        s = batch.Put(rocksdb::SliceParts(&key_slice, 1), rocksdb::SliceParts(value_parts, 3));
      }
    }
    char index_key[fmt::kTimeIndexKeySize];
    for (const IndexEntry& e : index) {
      if (!s.ok()) break;
      fmt::EncodeTimeIndexKey(index_key, e.topic_id, e.partition, e.max_ts, e.offset);
      s = batch.Put(rocksdb::Slice(index_key, sizeof(index_key)), rocksdb::Slice());
    }
    if (s.ok()) {
      rocksdb::WriteOptions wo;
      wo.sync = sync_;
      s = db_->Write(wo, &batch);
    }
    status = FromRocks(s, "append");
  }
  mu_.Lock();

  if (status.ok()) {
    for (size_t i : touched) {
      PartitionState& ps = partitions_[i];
      ps.end = ps.next;
      ps.max_ts = ps.pending_max_ts;
    }
    stats_.appends += static_cast<int64_t>(group.size());
    stats_.records += static_cast<int64_t>(record_count);
    ++stats_.write_groups;
    committed_cv_.SignalAll();
  } else {
    // Nothing of this group is published; the next group reuses the offsets.
    for (size_t i : touched) {
      PartitionState& ps = partitions_[i];
      ps.next = ps.end;
      ps.pending_max_ts = ps.max_ts;
    }
  }

  for (Writer* w : group) {
    JARING_RELEASE_ASSERT(writers_.front() == w, "group commit queue out of order");
    writers_.pop_front();
    w->status = status;
    w->done = true;
    w->cv.Signal();
  }
  if (!writers_.empty()) writers_.front()->cv.Signal();
}

absl::StatusOr<int64_t> EmbeddedLog::BeginOffset(std::string_view topic, int32_t partition) {
  absl::ReaderMutexLock lock(&mu_);
  JARING_RETURN_IF_ERROR(PartitionIndex(topic, partition).status());
  return 0;  // no retention: every record is kept
}

absl::StatusOr<int64_t> EmbeddedLog::EndOffset(std::string_view topic, int32_t partition) {
  absl::ReaderMutexLock lock(&mu_);
  JARING_ASSIGN_OR_RETURN(const size_t index, PartitionIndex(topic, partition));
  return partitions_[index].end;
}

absl::StatusOr<int64_t> EmbeddedLog::OffsetForTimestamp(std::string_view topic, int32_t partition,
                                                        int64_t timestamp_ms) {
  int64_t end = 0;
  uint32_t topic_id = 0;
  {
    absl::ReaderMutexLock lock(&mu_);
    JARING_ASSIGN_OR_RETURN(const size_t index, PartitionIndex(topic, partition));
    end = partitions_[index].end;
    topic_id = partitions_[index].topic_id;
  }
  // The first index entry with max_ts >= T is the first record with
  // timestamp >= T: before it, the running maximum (hence every timestamp)
  // is below T.
  char seek[fmt::kTimeIndexKeySize];
  fmt::EncodeTimeIndexKey(seek, topic_id, partition, timestamp_ms, 0);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  it->Seek(rocksdb::Slice(seek, sizeof(seek)));
  if (it->Valid() && it->key().starts_with(rocksdb::Slice(seek, fmt::kPartitionPrefixSize))) {
    uint32_t tid = 0;
    int32_t p = 0;
    int64_t max_ts = 0;
    int64_t offset = 0;
    if (!fmt::DecodeTimeIndexKey(it->key().ToStringView(), &tid, &p, &max_ts, &offset)) {
      return absl::DataLossError("embedded log: malformed time index key");
    }
    // An entry at or past `end` belongs to a group not yet published.
    return std::min(offset, end);
  }
  JARING_RETURN_IF_ERROR(FromRocks(it->status(), "reading the time index"));
  return end;
}

absl::StatusOr<std::unique_ptr<Reader>> EmbeddedLog::NewReader() {
  absl::MutexLock lock(&mu_);
  ++live_readers_;
  return std::unique_ptr<Reader>(new EmbeddedReader(this));
}

EmbeddedLogStats EmbeddedLog::Stats() const {
  absl::ReaderMutexLock lock(&mu_);
  return stats_;
}

// ---------------------------------------------------------------------------
// EmbeddedReader

absl::Status EmbeddedReader::Assign(const std::vector<Assignment>& assignment) {
  std::vector<Cursor> cursors;
  cursors.reserve(assignment.size());
  {
    absl::ReaderMutexLock lock(&log_->mu_);
    for (const Assignment& a : assignment) {
      JARING_ASSIGN_OR_RETURN(const size_t index, log_->PartitionIndex(a.topic, a.partition));
      const EmbeddedLog::PartitionState& ps = log_->partitions_[index];
      if (a.offset < 0 || a.offset > ps.end) {
        return absl::OutOfRangeError(absl::StrCat("offset ", a.offset, " of ", a.topic, "/",
                                                  a.partition, " is outside [0, ", ps.end, "]"));
      }
      for (const Cursor& c : cursors) {
        if (c.state == index) {
          return absl::InvalidArgumentError(
              absl::StrCat(a.topic, "/", a.partition, " is assigned twice"));
        }
      }
      cursors.push_back({.topic = a.topic,
                         .topic_id = ps.topic_id,
                         .partition = a.partition,
                         .state = index,
                         .next = a.offset});
    }
  }
  cursors_ = std::move(cursors);
  rotation_ = 0;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<StoredRecord>> EmbeddedReader::Poll(size_t max_records,
                                                                absl::Duration timeout) {
  std::vector<StoredRecord> out;
  if (max_records == 0) return out;

  // Snapshot the published end offsets; wait for a commit if there is
  // nothing to read.
  std::vector<int64_t> ends(cursors_.size());
  const absl::Time deadline = absl::Now() + timeout;
  {
    absl::MutexLock lock(&log_->mu_);
    while (true) {
      bool any = false;
      for (size_t i = 0; i < cursors_.size(); ++i) {
        ends[i] = log_->partitions_[cursors_[i].state].end;
        any = any || ends[i] > cursors_[i].next;
      }
      if (any) break;
      if (log_->committed_cv_.WaitWithDeadline(&log_->mu_, deadline)) {
        // Timed out; a commit may have raced the deadline, so look once more.
        for (size_t i = 0; i < cursors_.size(); ++i) {
          ends[i] = log_->partitions_[cursors_[i].state].end;
        }
        break;
      }
    }
  }

  std::vector<size_t> available;
  size_t total = 0;
  for (size_t k = 0; k < cursors_.size(); ++k) {
    const size_t i = (rotation_ + k) % cursors_.size();
    if (ends[i] > cursors_[i].next) {
      available.push_back(i);
      total += static_cast<size_t>(ends[i] - cursors_[i].next);
    }
  }
  if (available.empty()) return out;
  ++rotation_;
  out.reserve(std::min(total, max_records));

  // Fair share first, then fill the rest in rotation order.
  std::vector<int64_t> next(cursors_.size());
  for (size_t i = 0; i < cursors_.size(); ++i) next[i] = cursors_[i].next;
  rocksdb::ReadOptions ro;
  ro.verify_checksums = true;
  std::unique_ptr<rocksdb::Iterator> it(log_->db_->NewIterator(ro));
  const size_t share = std::max<size_t>(1, max_records / available.size());
  for (int pass = 0; pass < 2 && out.size() < max_records; ++pass) {
    for (size_t i : available) {
      const size_t room = max_records - out.size();
      if (room == 0) break;
      const size_t limit = pass == 0 ? std::min(share, room) : room;
      const int64_t to = std::min(ends[i], next[i] + static_cast<int64_t>(limit));
      if (to <= next[i]) continue;
      JARING_RETURN_IF_ERROR(ReadRange(it.get(), cursors_[i], next[i], to, &out));
      next[i] = to;
    }
  }
  // Only now, with every read successful, move the cursors.
  for (size_t i = 0; i < cursors_.size(); ++i) cursors_[i].next = next[i];
  return out;
}

absl::Status EmbeddedReader::ReadRange(rocksdb::Iterator* it, const Cursor& c, int64_t from,
                                       int64_t to, std::vector<StoredRecord>* out) {
  char key[fmt::kRecordKeySize];
  fmt::EncodeRecordKey(key, c.topic_id, c.partition, from);
  it->Seek(rocksdb::Slice(key, sizeof(key)));
  for (int64_t offset = from; offset < to; ++offset, it->Next()) {
    fmt::EncodeRecordKey(key, c.topic_id, c.partition, offset);
    if (!it->Valid() || it->key() != rocksdb::Slice(key, sizeof(key))) {
      JARING_RETURN_IF_ERROR(FromRocks(it->status(), "reading records"));
      return absl::DataLossError(absl::StrCat("embedded log: record ", c.topic, "/", c.partition,
                                              "@", offset, " is missing"));
    }
    StoredRecord& r = out->emplace_back();
    std::string_view k;
    std::string_view v;
    if (!fmt::DecodeRecordValue(it->value().ToStringView(), &r.timestamp_ms, &k, &v)) {
      out->pop_back();
      return absl::DataLossError(absl::StrCat("embedded log: record ", c.topic, "/", c.partition,
                                              "@", offset, " is malformed"));
    }
    r.topic = c.topic;
    r.partition = c.partition;
    r.offset = offset;
    r.key.assign(k);
    r.value.assign(v);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<EventLog>> OpenEmbeddedLog(const EmbeddedLogOptions& options) {
  return EmbeddedLog::Open(options);
}

absl::StatusOr<EmbeddedLogStats> GetEmbeddedLogStats(const EventLog& log) {
  const auto* embedded = dynamic_cast<const EmbeddedLog*>(&log);
  if (embedded == nullptr) return absl::InvalidArgumentError("not an embedded log");
  return embedded->Stats();
}

}  // namespace jaring::eventlog
