#include "libs/projection/projection.h"

#include <algorithm>
#include <deque>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/base/coding.h"
#include "libs/base/status.h"
#include "libs/base/strings.h"
#include "libs/events/envelope.h"
#include "libs/projection/rocks_error.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"

namespace jaring::projection {
namespace {

// Runtime keys (docs/formats/projection-store.md):
//   "\0o" topic "\0" partition:BE32  -> next offset:BE64
//   "\0s" event_type                 -> skipped count:BE64
//   "\0asof"                         -> text describing an as-of bound
constexpr std::string_view kOffsetPrefix("\0o", 2);
constexpr std::string_view kSkippedPrefix("\0s", 2);
constexpr std::string_view kSnapshotKey("\0asof", 5);

std::string OffsetKey(const TopicPartition& tp) {
  std::string k(kOffsetPrefix);
  k.append(tp.first);
  k.push_back('\0');
  PutFixed32BE(&k, static_cast<uint32_t>(tp.second));
  return k;
}

std::string SkippedKey(std::string_view type) { return absl::StrCat(Av(kSkippedPrefix), Av(type)); }

std::string Encode64(int64_t v) {
  std::string s;
  PutFixed64BE(&s, static_cast<uint64_t>(v));
  return s;
}

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
    return absl::UnavailableError(absl::StrCat(Av(what), ": ", s.ToString()));
  }
  if (s.IsCorruption()) return absl::DataLossError(absl::StrCat(Av(what), ": ", s.ToString()));
  if (s.IsIOError()) return absl::UnavailableError(absl::StrCat(Av(what), ": ", s.ToString()));
  return absl::InternalError(absl::StrCat(Av(what), ": ", s.ToString()));
}

rocksdb::Options StoreOptions() {
  rocksdb::Options o;
  o.create_if_missing = true;
  o.IncreaseParallelism(2);
  o.write_buffer_size = 64u << 20;
  o.max_write_buffer_number = 4;
  o.compression = rocksdb::kLZ4Compression;
  // Appliers read before they write, often keys that do not exist yet (a
  // new family, a new NIK): a memtable bloom filter answers those misses
  // without walking the skiplist.
  o.memtable_prefix_bloom_size_ratio = 0.1;
  o.memtable_whole_key_filtering = true;
  rocksdb::BlockBasedTableOptions t;
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  t.block_cache = rocksdb::NewLRUCache(64u << 20);
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return o;
}

absl::StatusOr<std::unique_ptr<rocksdb::DB>> OpenStore(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  rocksdb::DB* raw = nullptr;
  JARING_RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(StoreOptions(), dir, &raw),
                                   absl::StrCat("open projection store ", dir)));
  return std::unique_ptr<rocksdb::DB>(raw);
}

absl::Status RequireFresh(const std::string& dir) {
  std::error_code ec;
  if (std::filesystem::exists(dir, ec) && !std::filesystem::is_empty(dir, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("store directory ", dir, " is not empty: a rebuild writes a fresh store"));
  }
  return absl::OkStatus();
}

}  // namespace

// ---------------------------------------------------------------- Batch

absl::StatusOr<std::optional<std::string>> Batch::Get(std::string_view key) const {
  if (auto it = pending_.find(Av(key)); it != pending_.end()) {
    if (it->second.message != nullptr) {
      std::string bytes;
      if (!it->second.message->SerializeToString(&bytes)) {
        return absl::DataLossError(absl::StrCat("cannot serialize pending value of ", Av(key)));
      }
      return std::optional<std::string>(std::move(bytes));
    }
    return it->second.bytes;
  }
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  JARING_RETURN_IF_ERROR(FromRocks(s, "projection read"));
  return std::optional<std::string>(std::move(value));
}

void Batch::Put(std::string_view key, std::string_view value) {
  JARING_RELEASE_ASSERT(key.empty() || key[0] != '\0', "applier wrote a reserved key");
  pending_bytes_ += key.size() + value.size();
  Entry& e = pending_[Av(key)];
  e.bytes = std::string(value);
  e.message = nullptr;
}

void Batch::Delete(std::string_view key) {
  JARING_RELEASE_ASSERT(key.empty() || key[0] != '\0', "applier deleted a reserved key");
  pending_bytes_ += key.size();
  Entry& e = pending_[Av(key)];
  e.bytes.reset();
  e.message = nullptr;
}

absl::StatusOr<google::protobuf::Message*> Batch::MutableMessage(std::string_view key,
                                                                 const google::protobuf::Message& prototype,
                                                                 bool* existed) {
  JARING_RELEASE_ASSERT(key.empty() || key[0] != '\0', "applier wrote a reserved key");
  auto it = pending_.find(Av(key));
  if (it != pending_.end() && it->second.message != nullptr) {
    JARING_RELEASE_ASSERT(it->second.message->GetDescriptor() == prototype.GetDescriptor(),
                          "one key used with two message types in a batch");
    if (existed != nullptr) *existed = true;
    return it->second.message;
  }
  std::optional<std::string> bytes;
  if (it != pending_.end()) {
    bytes = it->second.bytes;
  } else {
    JARING_ASSIGN_OR_RETURN(bytes, Get(key));
  }
  google::protobuf::Message* m = prototype.New(&arena_);
  if (bytes.has_value() && !m->ParseFromString(*bytes)) {
    return absl::DataLossError(absl::StrCat("value of ", Av(key), " is not a ", prototype.GetTypeName()));
  }
  if (existed != nullptr) *existed = bytes.has_value();
  pending_bytes_ += key.size() + 64;
  Entry& e = pending_[Av(key)];
  e.message = m;
  return m;
}

void Batch::Clear() {
  pending_.clear();
  pending_bytes_ = 0;
  arena_.Reset();
}

// ---------------------------------------------------------------- Projection

Projection::Projection(eventlog::EventLog* log, Applier* applier, Options options)
    : log_(log), applier_(applier), options_(std::move(options)) {}

Projection::~Projection() { Stop(); }

absl::StatusOr<std::unique_ptr<Projection>> Projection::Open(eventlog::EventLog* log,
                                                             Applier* applier, Options options) {
  if (options.max_batch_events == 0) return absl::InvalidArgumentError("max_batch_events: must be at least 1");
  std::unique_ptr<Projection> p(new Projection(log, applier, std::move(options)));
  JARING_RETURN_IF_ERROR(p->Init(std::nullopt));
  return p;
}

absl::StatusOr<std::unique_ptr<Projection>> Projection::OpenSnapshot(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path(dir) / "CURRENT", ec)) {
    return absl::NotFoundError(absl::StrCat("no projection store in ", dir));
  }
  Options options;
  options.dir = dir;
  std::unique_ptr<Projection> p(new Projection(nullptr, nullptr, std::move(options)));
  rocksdb::DB* raw = nullptr;
  JARING_RETURN_IF_ERROR(FromRocks(rocksdb::DB::OpenForReadOnly(StoreOptions(), dir, &raw),
                                   absl::StrCat("open ", dir, " read-only")));
  p->db_.reset(raw);
  std::unique_ptr<rocksdb::Iterator> it(p->db_->NewIterator(rocksdb::ReadOptions()));
  const rocksdb::Slice prefix(kOffsetPrefix.data(), kOffsetPrefix.size());
  absl::MutexLock lock(&p->mu_);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    const std::string_view key = it->key().ToStringView().substr(kOffsetPrefix.size());
    const size_t nul = key.find('\0');
    if (nul == std::string_view::npos || key.size() != nul + 5 || it->value().size() != 8) {
      return absl::DataLossError(absl::StrCat("projection store ", dir, ": malformed offset record"));
    }
    const int32_t partition = static_cast<int32_t>(DecodeFixed32BE(key.data() + nul + 1));
    p->next_[{std::string(key.substr(0, nul)), partition}] =
        static_cast<int64_t>(DecodeFixed64BE(it->value().data()));
  }
  JARING_RETURN_IF_ERROR(FromRocks(it->status(), "read stored offsets"));
  return p;
}

absl::StatusOr<std::string> Projection::SnapshotBound() const {
  std::string snapshot;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), rocksdb::Slice(kSnapshotKey.data(), kSnapshotKey.size()), &snapshot);
  if (s.IsNotFound()) return std::string();
  JARING_RETURN_IF_ERROR(FromRocks(s, "read snapshot marker"));
  return snapshot;
}

absl::Status Projection::Init(const std::optional<Bound>& bound) {
  bound_ = bound;
  JARING_ASSIGN_OR_RETURN(db_, OpenStore(options_.dir));
  std::string snapshot;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), rocksdb::Slice(kSnapshotKey.data(), kSnapshotKey.size()), &snapshot);
  if (!s.ok() && !s.IsNotFound()) return FromRocks(s, "read snapshot marker");
  if (s.ok() && !bound.has_value()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "store ", options_.dir, " is an as-of snapshot (", snapshot, ") and cannot follow the log"));
  }
  if (bound.has_value()) {
    std::string text = bound->recorded_at_ms ? absl::StrCat("recorded_at_ms<=", *bound->recorded_at_ms)
                                             : std::string("all recorded");
    for (const auto& [tp, off] : bound->end_offsets) {
      absl::StrAppend(&text, "; ", events::RecordName(tp.first, tp.second, off), " exclusive");
    }
    JARING_RETURN_IF_ERROR(FromRocks(
        db_->Put(rocksdb::WriteOptions(), rocksdb::Slice(kSnapshotKey.data(), kSnapshotKey.size()), text),
        "mark snapshot"));
  }
  absl::MutexLock lock(&mu_);
  for (const std::string& topic : options_.topics) {
    JARING_ASSIGN_OR_RETURN(int32_t partitions, log_->PartitionCount(topic));
    for (int32_t p = 0; p < partitions; ++p) {
      TopicPartition tp{topic, p};
      std::string value;
      rocksdb::Status gs = db_->Get(rocksdb::ReadOptions(), OffsetKey(tp), &value);
      int64_t next = 0;
      if (gs.ok()) {
        JARING_RELEASE_ASSERT(value.size() == 8, "corrupt offset record in projection store");
        next = static_cast<int64_t>(DecodeFixed64BE(value.data()));
      } else if (!gs.IsNotFound()) {
        return FromRocks(gs, "read stored offsets");
      }
      JARING_ASSIGN_OR_RETURN(int64_t end, log_->EndOffset(topic, p));
      if (next > end) {
        return absl::FailedPreconditionError(absl::StrCat(
            "projection store ", options_.dir, " has applied ", events::RecordName(topic, p, next - 1),
            " but the log ends at offset ", end,
            ": the store belongs to another log; delete it and rebuild"));
      }
      next_[tp] = next;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::map<TopicPartition, int64_t>> Projection::EndOffsets() const {
  std::map<TopicPartition, int64_t> ends;
  for (const std::string& topic : options_.topics) {
    JARING_ASSIGN_OR_RETURN(int32_t partitions, log_->PartitionCount(topic));
    for (int32_t p = 0; p < partitions; ++p) {
      JARING_ASSIGN_OR_RETURN(int64_t end, log_->EndOffset(topic, p));
      ends[{topic, p}] = end;
    }
  }
  return ends;
}

absl::Status Projection::Commit(Batch& batch, const std::map<TopicPartition, int64_t>& next,
                                const std::map<std::string, int64_t>& skipped) {
  rocksdb::WriteBatch wb;
  // Sorted keys make the memtable inserts cheap (RocksDB's skiplist reuses
  // its last insert position) and the batch's bytes deterministic.
  std::vector<const std::pair<const std::string, Batch::Entry>*> sorted;
  sorted.reserve(batch.pending_.size());
  for (const auto& kv : batch.pending_) sorted.push_back(&kv);
  std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
  std::string scratch;
  for (const auto* kv : sorted) {
    const std::string& key = kv->first;
    const Batch::Entry& entry = kv->second;
    if (entry.message != nullptr) {
      scratch.clear();
      if (!entry.message->SerializeToString(&scratch)) {
        return absl::DataLossError(absl::StrCat("cannot serialize the value of ", key));
      }
      wb.Put(key, scratch);
    } else if (entry.bytes.has_value()) {
      wb.Put(key, *entry.bytes);
    } else {
      wb.Delete(key);
    }
  }
  std::map<TopicPartition, int64_t> previous;
  {
    absl::MutexLock lock(&mu_);
    previous = next_;
  }
  for (const auto& [tp, off] : next) {
    if (previous[tp] != off) wb.Put(OffsetKey(tp), Encode64(off));
  }
  for (const auto& [type, delta] : skipped) {
    std::string value;
    int64_t count = 0;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), SkippedKey(type), &value);
    if (s.ok() && value.size() == 8) count = static_cast<int64_t>(DecodeFixed64BE(value.data()));
    wb.Put(SkippedKey(type), Encode64(count + delta));
  }
  rocksdb::WriteOptions wo;
  wo.disableWAL = !options_.use_wal;
  JARING_RETURN_IF_ERROR(FromRocks(db_->Write(wo, &wb), "commit projection batch"));
  const size_t keys = batch.pending_.size();
  batch.Clear();
  {
    absl::MutexLock lock(&mu_);
    next_ = next;
    stats_.batches++;
    stats_.keys_written += static_cast<int64_t>(keys);
  }
  if (options_.on_commit) options_.on_commit();
  return absl::OkStatus();
}

// ---------------------------------------------------------------- prefetch

namespace {

// Reads and decodes records ahead of the applier, on its own thread:
// decoding is about half of the per-event cost of a rebuild, and with it off
// the applying thread the two overlap. It owns the reader. Chunks come out
// in the order the reader returned them; at most kQueue chunks wait.
class Prefetcher {
 public:
  struct Chunk {
    std::vector<eventlog::StoredRecord> records;
    std::vector<v1::Envelope*> envelopes;  // parallel to records, on `arena`
    std::unique_ptr<google::protobuf::Arena> arena;
    // A Poll error, or the decode error of the record after the last one.
    absl::Status status;
    // The log had less than was asked for (time to commit).
    bool idle = false;
  };

  // `targets` empty: follow until destroyed.
  Prefetcher(std::unique_ptr<eventlog::Reader> reader, std::map<TopicPartition, int64_t> next,
             std::map<TopicPartition, int64_t> targets, size_t chunk, absl::Duration timeout)
      : reader_(std::move(reader)), next_(std::move(next)), targets_(std::move(targets)), chunk_(chunk),
        timeout_(timeout), thread_([this] { Produce(); }) {}

  ~Prefetcher() {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    thread_.join();
  }

  // The next chunk, or nullopt once the producer finished (targets reached,
  // or after an error chunk).
  std::optional<Chunk> Next() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](Prefetcher* p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu_) { return !p->queue_.empty() || p->done_; }, this));
    if (queue_.empty()) return std::nullopt;
    Chunk c = std::move(queue_.front());
    queue_.pop_front();
    return c;
  }

 private:
  static constexpr size_t kQueue = 4;

  bool Reached() const {
    if (targets_.empty()) return false;
    for (const auto& [tp, target] : targets_) {
      if (next_.at(tp) < target) return false;
    }
    return true;
  }

  bool Push(Chunk c) {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](Prefetcher* p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu_) { return p->queue_.size() < kQueue || p->stop_; },
        this));
    if (stop_) return false;
    queue_.push_back(std::move(c));
    return true;
  }

  void Produce() {
    while (!Reached()) {
      {
        absl::MutexLock lock(&mu_);
        if (stop_) break;
      }
      Chunk c;
      absl::StatusOr<std::vector<eventlog::StoredRecord>> records = reader_->Poll(chunk_, timeout_);
      if (!records.ok()) {
        c.status = records.status();
        Push(std::move(c));
        break;
      }
      c.idle = records->size() < chunk_;
      c.arena = std::make_unique<google::protobuf::Arena>();
      c.records.reserve(records->size());
      c.envelopes.reserve(records->size());
      for (eventlog::StoredRecord& rec : *records) {
        const TopicPartition tp{rec.topic, rec.partition};
        auto it = targets_.find(tp);
        if (it != targets_.end() && rec.offset >= it->second) continue;  // past the end of this build
        auto* envelope = google::protobuf::Arena::CreateMessage<v1::Envelope>(c.arena.get());
        c.status = events::DecodeEnvelopeInto(rec, envelope);
        if (!c.status.ok()) break;
        next_[tp] = rec.offset + 1;
        c.records.push_back(std::move(rec));
        c.envelopes.push_back(envelope);
      }
      const bool failed = !c.status.ok();
      if (!Push(std::move(c)) || failed) break;
    }
    absl::MutexLock lock(&mu_);
    done_ = true;
  }

  std::unique_ptr<eventlog::Reader> reader_;       // used by the producer thread only
  std::map<TopicPartition, int64_t> next_;         // producer thread only
  const std::map<TopicPartition, int64_t> targets_;
  const size_t chunk_;
  const absl::Duration timeout_;
  absl::Mutex mu_;
  std::deque<Chunk> queue_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: starts after everything above is built
};

}  // namespace

absl::Status Projection::Run(const std::map<TopicPartition, int64_t>& targets, bool follow) {
  std::map<TopicPartition, int64_t> next;
  {
    absl::MutexLock lock(&mu_);
    next = next_;
  }
  std::vector<eventlog::Assignment> assignment;
  for (const auto& [tp, off] : next) {
    if (follow || off < targets.at(tp)) assignment.push_back({tp.first, tp.second, off});
  }
  if (assignment.empty()) return absl::OkStatus();
  JARING_ASSIGN_OR_RETURN(std::unique_ptr<eventlog::Reader> reader, log_->NewReader());
  JARING_RETURN_IF_ERROR(reader->Assign(assignment));

  auto reached = [&] {
    for (const auto& [tp, target] : targets) {
      if (next.at(tp) < target) return false;
    }
    return true;
  };

  Batch batch(db_.get());
  std::map<std::string, int64_t> skipped;
  size_t events = 0;
  Stats delta;
  auto commit = [&]() -> absl::Status {
    JARING_RETURN_IF_ERROR(Commit(batch, next, skipped));
    skipped.clear();
    events = 0;
    absl::MutexLock lock(&mu_);
    stats_.events_applied += delta.events_applied;
    stats_.unknown_skipped += delta.unknown_skipped;
    stats_.filtered_out += delta.filtered_out;
    delta = Stats();
    return absl::OkStatus();
  };

  // Chunks are bounded: records must not pile up in memory.
  Prefetcher prefetch(std::move(reader), next, follow ? std::map<TopicPartition, int64_t>() : targets,
                      std::min<size_t>(options_.max_batch_events, 4096), options_.poll_timeout);
  while (true) {
    if (!follow && reached()) break;
    if (follow) {
      absl::MutexLock lock(&mu_);
      if (stop_) break;
    }
    std::optional<Prefetcher::Chunk> chunk = prefetch.Next();
    if (!chunk.has_value()) break;
    // An error (undecodable bytes, an unreachable bus) discards the batch.
    JARING_RETURN_IF_ERROR(chunk->status);
    for (size_t i = 0; i < chunk->records.size(); ++i) {
      const eventlog::StoredRecord& rec = chunk->records[i];
      const v1::Envelope& envelope = *chunk->envelopes[i];
      TopicPartition tp{rec.topic, rec.partition};
      auto it = next.find(tp);
      JARING_RELEASE_ASSERT(it != next.end(), "reader returned an unassigned partition");
      if (rec.offset != it->second) {
        return absl::DataLossError(absl::StrCat("expected ", events::RecordName(rec.topic, rec.partition, it->second),
                                                " but the log returned offset ", rec.offset));
      }
      if (bound_.has_value() && bound_->recorded_at_ms.has_value()) {
        const int64_t recorded = envelope.has_recorded_at() ? events::ToMillis(envelope.recorded_at())
                                                            : rec.timestamp_ms;
        if (recorded > *bound_->recorded_at_ms) {
          delta.filtered_out++;
          it->second = rec.offset + 1;
          continue;
        }
      }
      if (!events::HasKnownPayload(envelope) && envelope.event_type().empty()) {
        // Every envelope names its type; bytes that parse but name nothing
        // (an empty value, foreign data) are not an event.
        return absl::DataLossError(absl::StrCat("record at ", events::RecordName(rec.topic, rec.partition, rec.offset),
                                                " is not a jaring.v1.Envelope (no event_type, no payload)"));
      }
      if (!events::HasKnownPayload(envelope)) {
        skipped[envelope.event_type()]++;
        delta.unknown_skipped++;
        it->second = rec.offset + 1;
        continue;
      }
      absl::Status st = applier_->Apply(Event{rec, envelope}, batch);
      if (!st.ok()) {
        return absl::Status(st.code(), absl::StrCat("applying ", events::RecordName(rec.topic, rec.partition, rec.offset),
                                                     ": ", st.message()));
      }
      it->second = rec.offset + 1;
      delta.events_applied++;
      ++events;
    }
    const bool full = events >= options_.max_batch_events || batch.pending_bytes() >= options_.max_batch_bytes;
    const bool idle = chunk->idle;
    if (full || (idle && (events > 0 || !skipped.empty() || delta.filtered_out > 0))) {
      JARING_RETURN_IF_ERROR(commit());
    } else if (idle) {
      // Nothing to write, but offsets may have moved past filtered records.
      bool moved = false;
      {
        absl::MutexLock lock(&mu_);
        moved = next != next_;
      }
      if (moved) JARING_RETURN_IF_ERROR(commit());
    }
  }
  if (events > 0 || !skipped.empty() || delta.filtered_out > 0) JARING_RETURN_IF_ERROR(commit());
  bool moved = false;
  {
    absl::MutexLock lock(&mu_);
    moved = next != next_;
  }
  if (moved) JARING_RETURN_IF_ERROR(commit());
  return absl::OkStatus();
}

void Projection::Fail(absl::Status status) {
  absl::MutexLock lock(&mu_);
  if (status_.ok()) status_ = std::move(status);
}

absl::Status Projection::CatchUp() {
  if (frozen()) return absl::OkStatus();
  JARING_ASSIGN_OR_RETURN(auto targets, EndOffsets());
  bool running = false;
  {
    absl::MutexLock lock(&mu_);
    running = running_;
    if (!status_.ok()) return status_;
  }
  if (running) {
    for (const auto& [tp, target] : targets) {
      JARING_RETURN_IF_ERROR(WaitFor(tp.first, tp.second, target, absl::InfiniteDuration()));
    }
    return absl::OkStatus();
  }
  absl::MutexLock run_lock(&run_mu_);
  absl::Status st = Run(targets, /*follow=*/false);
  if (!st.ok()) Fail(st);
  return st;
}

void Projection::Start() {
  if (frozen()) return;
  {
    absl::MutexLock lock(&mu_);
    if (running_) return;
  }
  if (follower_.joinable()) follower_.join();  // a follower that stopped on an error
  {
    absl::MutexLock lock(&mu_);
    running_ = true;
    stop_ = false;
  }
  follower_ = std::thread([this] {
    absl::MutexLock run_lock(&run_mu_);
    absl::Status st = Run({}, /*follow=*/true);
    if (!st.ok()) Fail(st);
    absl::MutexLock lock(&mu_);
    running_ = false;
  });
}

void Projection::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (follower_.joinable()) follower_.join();
}

absl::Status Projection::status() const {
  absl::MutexLock lock(&mu_);
  return status_;
}

absl::Status Projection::WaitFor(std::string_view topic, int32_t partition, int64_t next_offset,
                                 absl::Duration timeout) {
  const TopicPartition tp{std::string(topic), partition};
  absl::MutexLock lock(&mu_);
  if (next_.find(tp) == next_.end()) {
    return absl::NotFoundError(absl::StrCat("projection ", options_.dir, " does not read ",
                                            events::RecordName(topic, partition, next_offset)));
  }
  if (frozen() && next_.at(tp) < next_offset) {
    return absl::FailedPreconditionError(absl::StrCat("snapshot store ", options_.dir, " ends before ",
                                                      events::RecordName(topic, partition, next_offset - 1)));
  }
  auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return next_.at(tp) >= next_offset || !status_.ok() || (!running_ && stop_);
  };
  if (!mu_.AwaitWithTimeout(absl::Condition(&done), timeout)) {
    return absl::DeadlineExceededError(absl::StrCat("projection did not apply ",
                                                    events::RecordName(topic, partition, next_offset - 1),
                                                    " within ", absl::FormatDuration(timeout)));
  }
  if (next_.at(tp) >= next_offset) return absl::OkStatus();
  if (!status_.ok()) return status_;
  return absl::CancelledError("projection stopped");
}

std::map<TopicPartition, int64_t> Projection::NextOffsets() const {
  absl::MutexLock lock(&mu_);
  return next_;
}

int64_t Projection::RecordsRead() const {
  absl::MutexLock lock(&mu_);
  int64_t read = 0;
  for (const auto& [tp, next] : next_) read += next;
  return read;
}

Stats Projection::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

absl::StatusOr<std::map<std::string, int64_t>> Projection::SkippedUnknown() const {
  std::map<std::string, int64_t> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  const rocksdb::Slice prefix(kSkippedPrefix.data(), kSkippedPrefix.size());
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->value().size() != 8) continue;
    out[it->key().ToString().substr(prefix.size())] =
        static_cast<int64_t>(DecodeFixed64BE(it->value().data()));
  }
  JARING_RETURN_IF_ERROR(FromRocks(it->status(), "read skipped counts"));
  return out;
}

// ---------------------------------------------------------------- builds

absl::Status Rebuild(eventlog::EventLog* log, Applier* applier, Options options) {
  return BuildAsOf(log, applier, std::move(options), Bound());
}

absl::Status BuildAsOf(eventlog::EventLog* log, Applier* applier, Options options,
                       const Bound& bound, Stats* stats) {
  JARING_RETURN_IF_ERROR(RequireFresh(options.dir));
  if (options.max_batch_events == 0) return absl::InvalidArgumentError("max_batch_events: must be at least 1");
  options.use_wal = false;
  const bool snapshot = bound.recorded_at_ms.has_value() || !bound.end_offsets.empty();
  std::unique_ptr<Projection> p(new Projection(log, applier, std::move(options)));
  JARING_RETURN_IF_ERROR(p->Init(snapshot ? std::optional<Bound>(bound) : std::nullopt));
  JARING_ASSIGN_OR_RETURN(auto targets, p->EndOffsets());
  for (const auto& [tp, off] : bound.end_offsets) {
    auto it = targets.find(tp);
    if (it == targets.end()) {
      return absl::InvalidArgumentError(absl::StrCat("bound names ", tp.first, "[", tp.second,
                                                     "], which this projection does not read"));
    }
    if (off < it->second) it->second = off;
  }
  {
    // One partition at a time: a family's events never span partitions, so
    // a batch then holds only that partition's families and each family is
    // loaded and written about once per batch instead of once per batch of
    // the whole log. Any interleaving of partitions gives the same state
    // (appliers must not depend on it), so this one is as good as any.
    absl::MutexLock run_lock(&p->run_mu_);
    for (const auto& [tp, target] : targets) {
      std::map<TopicPartition, int64_t> one = p->NextOffsets();
      one[tp] = target;
      JARING_RETURN_IF_ERROR(p->Run(one, /*follow=*/false));
    }
  }
  rocksdb::FlushOptions fo;
  fo.wait = true;
  if (stats != nullptr) *stats = p->stats();
  return FromRocks(p->db_->Flush(fo), "flush rebuilt store");
}

std::string_view ModeName(Mode mode) {
  switch (mode) {
    case Mode::kWriter:
      return "writer";
    case Mode::kReplica:
      return "replica";
    case Mode::kSnapshot:
      return "snapshot";
  }
  return "unknown";
}

absl::Status RequireWriter(Mode mode, std::string_view service) {
  if (mode == Mode::kWriter) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      Av(service), " is served read-only here (", Av(ModeName(mode)),
      mode == Mode::kSnapshot ? ": an as-of replay)" : ": a copy that follows the log)",
      "; send commands to the service's writer"));
}

absl::StatusOr<std::unique_ptr<Projection>> OpenFor(Mode mode, eventlog::EventLog* log, Applier* applier,
                                                    Options options) {
  if (mode == Mode::kSnapshot) return Projection::OpenSnapshot(options.dir);
  JARING_ASSIGN_OR_RETURN(std::unique_ptr<Projection> p, Projection::Open(log, applier, std::move(options)));
  JARING_RETURN_IF_ERROR(p->CatchUp());
  p->Start();
  return p;
}

absl::Status ScanPrefix(rocksdb::DB* db, std::string_view prefix,
                        const std::function<absl::StatusOr<bool>(std::string_view key, std::string_view value)>& visit,
                        std::string_view start) {
  // The first key after every key with the prefix (keys hold binary
  // big-endian numbers, so "prefix\xff" would not do).
  std::string upper(prefix);
  while (!upper.empty() && static_cast<unsigned char>(upper.back()) == 0xff) upper.pop_back();
  if (!upper.empty()) upper.back() = static_cast<char>(static_cast<unsigned char>(upper.back()) + 1);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  if (!upper.empty()) ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro));
  const std::string from = start.empty() ? std::string(prefix) : std::string(start);
  for (it->Seek(from); it->Valid(); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    if (key.substr(0, prefix.size()) != prefix) break;
    JARING_ASSIGN_OR_RETURN(bool more, visit(key, std::string_view(it->value().data(), it->value().size())));
    if (!more) return absl::OkStatus();
  }
  return RocksError(it->status());
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> DumpStore(const std::string& dir) {
  rocksdb::DB* raw = nullptr;
  JARING_RETURN_IF_ERROR(FromRocks(rocksdb::DB::OpenForReadOnly(StoreOptions(), dir, &raw),
                                   absl::StrCat("open ", dir, " read-only")));
  std::unique_ptr<rocksdb::DB> db(raw);
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) out.emplace_back(it->key().ToString(), it->value().ToString());
  JARING_RETURN_IF_ERROR(FromRocks(it->status(), "dump store"));
  return out;
}

}  // namespace jaring::projection
