// The projection runtime: turns topics into a service's RocksDB state.
//
// A service supplies an Applier (how one event changes its state). The
// runtime reads the topics, decodes each record's Envelope and calls the
// Applier in per-partition offset order, collecting the writes of many
// events in a Batch. A batch is committed as ONE rocksdb::WriteBatch that
// holds the state changes AND the next offset of every partition consumed,
// so after any crash the store says exactly where it was: no event applied
// twice, none skipped. The store layout is in docs/formats/projection-store.md.
//
// Reads during a batch see the store plus the batch's own pending writes.
// Writes to one key within a batch coalesce into one RocksDB write: a family
// with twenty events in a batch costs one put.
//
// Bad input: bytes that do not decode, or decode to an envelope that names
// no type, stop the projection with kDataLoss naming topic, partition and
// offset (never skipped). An envelope whose
// payload this build does not know (written by a newer build) is skipped and
// counted under its event_type, in the same batch, so old services survive
// new events.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/message.h"
#include "jaring/v1/envelope.pb.h"
#include "libs/base/status.h"
#include "libs/eventlog/eventlog.h"

namespace rocksdb {
class DB;
}

namespace jaring::projection {

using TopicPartition = std::pair<std::string, int32_t>;

// One event as an Applier sees it. Valid only during the Apply call.
struct Event {
  const eventlog::StoredRecord& record;  // topic, partition, offset, key, bytes
  const v1::Envelope& envelope;          // decoded; its payload is known
};

// The writes of one batch. Not thread-safe; owned by the runtime.
//
// Two ways to change a key: raw bytes (Get / Put / Delete), or a protobuf
// message parsed once per batch (Mutable<M>): an applier that keeps a
// family's state as a message pays one parse and one serialization per
// family per batch, however many of the family's events the batch holds.
class Batch {
 public:
  // Reads `key` from the pending writes of this batch, else from the store.
  // Returns nullopt if absent or deleted. Errors: kUnavailable on an I/O
  // error, kDataLoss on corruption or if a pending message cannot be
  // serialized, kInternal otherwise.
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) const;
  // Keys must not start with '\0' (reserved for the runtime's own records).
  void Put(std::string_view key, std::string_view value);
  void Delete(std::string_view key);

  // The message at `key`, parsed (once per batch) from the store or pending
  // bytes, or empty if absent (then `*existed` is false). The pointer stays
  // valid until the next Put/Delete of `key` or the batch's commit, and what
  // it holds at commit is written. Errors: kDataLoss when the stored bytes
  // do not parse as M; kInternal on a read error.
  template <typename M>
  absl::StatusOr<M*> Mutable(std::string_view key, bool* existed = nullptr) {
    JARING_ASSIGN_OR_RETURN(google::protobuf::Message * m,
                            MutableMessage(key, M::default_instance(), existed));
    return static_cast<M*>(m);
  }

  size_t pending_keys() const { return pending_.size(); }
  // Memory held by this batch: raw pending bytes plus the arena of its
  // messages (measured, not estimated).
  size_t pending_bytes() const { return pending_bytes_ + static_cast<size_t>(arena_.SpaceAllocated()); }

 private:
  friend class Projection;
  struct Entry {
    std::optional<std::string> bytes;            // raw value, or nullopt = delete
    google::protobuf::Message* message = nullptr;  // on arena_; when set, wins over bytes
  };
  explicit Batch(rocksdb::DB* db) : db_(db) {}
  void Clear();
  absl::StatusOr<google::protobuf::Message*> MutableMessage(std::string_view key,
                                                           const google::protobuf::Message& prototype,
                                                           bool* existed);
  rocksdb::DB* db_;
  absl::flat_hash_map<std::string, Entry> pending_;
  size_t pending_bytes_ = 0;
  // Messages of this batch live here and die at its commit.
  google::protobuf::Arena arena_;
};

// What a service supplies. Apply must be deterministic: the same events in
// the same per-partition order give the same writes, whatever the
// interleaving of partitions and topics (design.md, "Time and order").
class Applier {
 public:
  virtual ~Applier() = default;
  // An error stops the projection: the batch is discarded, nothing of it is
  // committed, and the error (with the record's name prefixed) is returned.
  virtual absl::Status Apply(const Event& event, Batch& batch) = 0;
};

// Where a build stops (for "as of" stores).
struct Bound {
  // Apply only events whose envelope recorded_at is <= this (ms since
  // epoch): the state "as known on" that moment.
  std::optional<int64_t> recorded_at_ms;
  // Apply only records with offset < this, per partition; partitions not
  // listed are read to their end at the start of the build.
  std::map<TopicPartition, int64_t> end_offsets;
};

struct Options {
  // The store's directory; created if missing.
  std::string dir;
  // Topics to read, every partition of each.
  std::vector<std::string> topics;
  // A batch is committed when it holds this many events, or this many bytes
  // of pending writes, or when the log has nothing more right now.
  // Bigger batches coalesce more events per key (see docs/benchmarks.md);
  // the byte bound (measured memory of the pending state) keeps memory
  // bounded whatever the event count. A rebuild wants a large event bound
  // and lets the byte bound decide.
  size_t max_batch_events = 100000;
  size_t max_batch_bytes = 256u << 20;
  absl::Duration poll_timeout = absl::Milliseconds(50);
  // Called after every committed batch, on the thread that committed it,
  // with no lock held (e.g. to wake a consumer of the store). Must not call
  // back into the projection's Run-family methods.
  std::function<void()> on_commit;
  // Write-ahead log for the store. Off is safe too (a crash loses a suffix
  // of batches, state and offsets together, and catch-up re-applies them);
  // rebuilds turn it off and flush once at the end.
  bool use_wal = true;
};

struct Stats {
  int64_t events_applied = 0;
  int64_t unknown_skipped = 0;
  int64_t filtered_out = 0;  // outside an as-of bound
  int64_t batches = 0;
  int64_t keys_written = 0;
};

// Owns its RocksDB store. Reads of db() are safe from any thread at any time;
// everything else may be called from any thread.
class Projection {
 public:
  // Opens (or creates) the store and loads its offsets. `log` and `applier`
  // are not owned and must outlive the projection. Errors: kUnavailable if
  // the store cannot be opened (e.g. locked); kFailedPrecondition if it is an
  // as-of snapshot (those are read-only) or has applied more than the log
  // holds (it belongs to another log); kNotFound for an unknown topic;
  // kInvalidArgument for max_batch_events 0.
  static absl::StatusOr<std::unique_ptr<Projection>> Open(eventlog::EventLog* log,
                                                          Applier* applier, Options options);
  // Opens a store read-only, without a log: what BuildAsOf (jaring replay)
  // or Rebuild wrote, frozen. CatchUp and Start do nothing; WaitFor answers
  // from the offsets the store holds (kFailedPrecondition past them).
  // Errors: kUnavailable if it cannot be opened; kNotFound if `dir` holds
  // no store.
  static absl::StatusOr<std::unique_ptr<Projection>> OpenSnapshot(const std::string& dir);
  ~Projection();  // Stops the follower if running.

  // True for a store opened with OpenSnapshot.
  bool frozen() const { return log_ == nullptr; }
  // The as-of bound BuildAsOf recorded in the store ("recorded_at_ms<=…"),
  // or "" for a store that follows (or followed) the whole log.
  absl::StatusOr<std::string> SnapshotBound() const;

  // Applies every record below the end offsets observed at the call. With a
  // follower running, waits for it instead. Returns the first error.
  absl::Status CatchUp();

  // Follows the log on a background thread until Stop(). An error stops the
  // follower; status() reports it and waiters wake with it.
  void Start();
  void Stop();
  absl::Status status() const;

  // Read-your-writes: blocks until every record of `topic`/`partition` below
  // `next_offset` is applied (after an Append returned Position p, wait for
  // p.offset + 1). Errors: kDeadlineExceeded after `timeout`; kNotFound for a
  // partition this projection does not read; the follower's error if it
  // stopped on one; kCancelled if it was stopped.
  absl::Status WaitFor(std::string_view topic, int32_t partition, int64_t next_offset,
                       absl::Duration timeout);

  // The next offset to apply, per partition.
  std::map<TopicPartition, int64_t> NextOffsets() const;
  // Records of the log consumed (applied, skipped or filtered out): the sum
  // of NextOffsets.
  int64_t RecordsRead() const;
  Stats stats() const;
  // Counts of skipped unknown payloads by event_type, as committed.
  absl::StatusOr<std::map<std::string, int64_t>> SkippedUnknown() const;

  // The store. Valid until the projection is destroyed. Keys starting with
  // '\0' are the runtime's.
  rocksdb::DB* db() const { return db_.get(); }

 private:
  struct Cursor;
  Projection(eventlog::EventLog* log, Applier* applier, Options options);
  absl::Status Init(const std::optional<Bound>& bound);
  // Applies records until every partition reached `targets` (or forever when
  // `follow`), honouring `bound`.
  absl::Status Run(const std::map<TopicPartition, int64_t>& targets, bool follow);
  absl::StatusOr<std::map<TopicPartition, int64_t>> EndOffsets() const;
  absl::Status Commit(Batch& batch, const std::map<TopicPartition, int64_t>& next,
                      const std::map<std::string, int64_t>& skipped);
  void Fail(absl::Status status);

  friend absl::Status BuildAsOf(eventlog::EventLog*, Applier*, Options, const Bound&, Stats*);
  friend absl::Status Rebuild(eventlog::EventLog*, Applier*, Options);

  eventlog::EventLog* const log_;
  Applier* const applier_;
  const Options options_;
  std::optional<Bound> bound_;
  std::unique_ptr<rocksdb::DB> db_;

  mutable absl::Mutex mu_;
  std::map<TopicPartition, int64_t> next_ ABSL_GUARDED_BY(mu_);
  Stats stats_ ABSL_GUARDED_BY(mu_);
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  absl::Mutex run_mu_;  // one Run at a time
  std::thread follower_;
};

// Builds a fresh store from offset 0 of every partition into options.dir,
// which must not exist or be empty (kFailedPrecondition otherwise). Writes
// without a WAL and flushes at the end.
absl::Status Rebuild(eventlog::EventLog* log, Applier* applier, Options options);

// Builds the store "as of" `bound` into options.dir (fresh, as for Rebuild),
// without touching any live store: reads every partition to its end offset
// at the start of the call (or to the bound's offsets) and applies only what
// the bound admits. The result is marked as a snapshot: Open refuses it.
// `stats` (optional) receives what the build applied and filtered out.
absl::Status BuildAsOf(eventlog::EventLog* log, Applier* applier, Options options,
                       const Bound& bound, Stats* stats = nullptr);

// How a service holds its projection (jaring serve, jaring replay).
enum class Mode {
  // Follows the log; the service takes commands and runs its background
  // work (the eligibility engine, the appeals clock keeper, the ledger's
  // overpayment scanner). One per partition owner.
  kWriter,
  // Follows the log into its own store and answers reads only: an
  // oversight copy, or more readers for a busy region.
  kReplica,
  // A store built by BuildAsOf (jaring replay), read-only; the log is never
  // touched (it may be null).
  kSnapshot,
};

// "writer", "replica", "snapshot".
std::string_view ModeName(Mode mode);

// OK for a writer; kFailedPrecondition naming `service` and the mode
// otherwise (a replica or snapshot never appends).
absl::Status RequireWriter(Mode mode, std::string_view service);

// Opens a service's projection for `mode`: Open, CatchUp and Start for a
// writer or replica; OpenSnapshot(options.dir) for a snapshot.
absl::StatusOr<std::unique_ptr<Projection>> OpenFor(Mode mode, eventlog::EventLog* log, Applier* applier,
                                                    Options options);

// Visits the keys of `db` that start with `prefix`, in order, from `start`
// (a key with the prefix; empty: the first); `visit` returns false to stop.
// The iterator is bounded above by the prefix, so a scan past its last key
// reads nothing more. Errors: `visit`'s, else the store's (RocksError).
// Any thread; reads the store as it is while the scan runs.
absl::Status ScanPrefix(rocksdb::DB* db, std::string_view prefix,
                        const std::function<absl::StatusOr<bool>(std::string_view key, std::string_view value)>& visit,
                        std::string_view start = {});

// Every key and value of a store, for tests and tools comparing stores.
// Errors: kUnavailable if it cannot be opened.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> DumpStore(const std::string& dir);

}  // namespace jaring::projection
