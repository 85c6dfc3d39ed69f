#include "services/eligibility/engine.h"

#include <algorithm>
#include <map>
#include <functional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "libs/base/coding.h"
#include "libs/base/status.h"
#include "libs/base/strings.h"
#include "libs/events/envelope.h"
#include "libs/events/topics.h"
#include "libs/family/batch_fold.h"
#include "libs/rules/compact.h"
#include "libs/rules/evaluate.h"
#include "services/eligibility/outcome.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "libs/projection/rocks_error.h"

namespace jaring::eligibility {
namespace {

constexpr std::string_view kContextKey = "x/context";
// Decisions appended per Append call during a full re-evaluation.
constexpr size_t kFlushRecords = 4096;

using projection::RocksError;

// Releases a RocksDB snapshot at scope exit.
class ScopedSnapshot {
 public:
  explicit ScopedSnapshot(rocksdb::DB* db) : db_(db), snapshot_(db->GetSnapshot()) {}
  ~ScopedSnapshot() { db_->ReleaseSnapshot(snapshot_); }
  ScopedSnapshot(const ScopedSnapshot&) = delete;
  ScopedSnapshot& operator=(const ScopedSnapshot&) = delete;
  const rocksdb::Snapshot* get() const { return snapshot_; }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snapshot_;
};

std::string EncodeContext(const EvalContext& ctx) {
  std::string s;
  PutFixed64BE(&s, static_cast<uint64_t>(ctx.rules->offset));
  absl::StrAppend(&s, absl::FormatCivilTime(ctx.date));
  return s;
}

int64_t ContextRulesOffset(std::string_view encoded) {
  return encoded.size() >= 8 ? static_cast<int64_t>(DecodeFixed64BE(encoded.data())) : -1;
}

std::string DateString(absl::CivilDay d) { return absl::FormatCivilTime(d); }

}  // namespace

bool SameOutcome(const v1::Decision& a, const v1::Decision& b) { return Digest(a) == Digest(b); }

v1::Decision ProgramEnded(const v1::Decision& recorded, const PublishedRules& rules, absl::CivilDay date) {
  v1::Decision d;
  d.set_kk_number(recorded.kk_number());
  d.set_program(recorded.program());
  d.set_eligible(false);
  d.set_rule_version(rules.rules.version());
  d.set_rule_hash(rules.hash);
  d.set_dtsen_round(recorded.dtsen_round());
  d.set_decile(recorded.decile());
  d.set_region_code(recorded.region_code());
  d.mutable_as_of()->set_year(static_cast<int32_t>(date.year()));
  d.mutable_as_of()->set_month(date.month());
  d.mutable_as_of()->set_day(date.day());
  v1::Reason* r = d.add_reasons();
  r->set_code(v1::REASON_CODE_PROGRAM_ENDED);
  r->set_text_id(absl::StrCat("Program ", recorded.program(), " tidak ada dalam aturan versi ",
                              rules.rules.version()));
  r->set_text_en(absl::StrCat("Program ", recorded.program(), " is not in rule set version ",
                              rules.rules.version()));
  return d;
}

std::vector<v1::Decision> EvaluateWith(const v1::Family& family, const PublishedRules& rules, absl::CivilDay date,
                                       bool explain) {
  rules::EvaluateOptions options;
  options.rule_hash = rules.hash;
  options.explain = explain;
  return rules::Evaluate(family, rules.rules, date, options);
}

struct Engine::Pending {
  std::vector<eventlog::Record> records;
};

Engine::Engine(eventlog::EventLog* log, projection::Projection* projection, Clock* clock,
               absl::Duration apply_timeout)
    : log_(log), projection_(projection), clock_(clock), apply_timeout_(apply_timeout) {}

Engine::~Engine() { Stop(); }

absl::StatusOr<std::vector<std::shared_ptr<const PublishedRules>>> Engine::Published() {
  const auto next = projection_->NextOffsets();
  auto it = next.find({std::string(events::kRulesTopic), 0});
  const int64_t rules_next = it == next.end() ? 0 : it->second;
  if (rules_next != rules_loaded_next_) {
    JARING_ASSIGN_OR_RETURN(published_, LoadPublishedRules(projection_->db()));
    rules_loaded_next_ = rules_next;
  }
  return published_;
}

absl::StatusOr<std::shared_ptr<const rules::CompiledRules>> Engine::Compiled(const PublishedRules& rules) {
  if (compiled_ == nullptr || compiled_offset_ != rules.offset) {
    JARING_ASSIGN_OR_RETURN(rules::CompiledRules c, rules::CompiledRules::Compile(rules.rules));
    compiled_ = std::make_shared<const rules::CompiledRules>(std::move(c));
    compiled_offset_ = rules.offset;
  }
  return compiled_;
}

absl::StatusOr<EvalContext> Engine::CurrentContext() {
  JARING_ASSIGN_OR_RETURN(auto published, Published());
  const absl::Time now = clock_->Now();
  const int64_t now_ms = absl::ToUnixMillis(now);
  return EvalContext{RuleSetInForce(published, now_ms, now_ms), WibDay(now)};
}

absl::Status Engine::EvaluateFamily(const rocksdb::Snapshot* snapshot, const std::string& kk,
                                    const EvalContext& ctx, v1::EvaluationTrigger trigger, Pending& out) {
  rocksdb::DB* db = projection_->db();
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  std::string value;
  rocksdb::Status s = db->Get(ro, keys::Family(kk), &value);
  if (s.IsNotFound()) return absl::OkStatus();  // a change of a family whose first event was rejected
  JARING_RETURN_IF_ERROR(RocksError(s));
  v1::Family family;
  if (!family.ParseFromString(value)) return absl::DataLossError(absl::StrCat("corrupt family ", kk));
  s = db->Get(ro, keys::Position(kk), &value);
  JARING_RETURN_IF_ERROR(RocksError(s));
  const std::optional<FamilyPosition> pos = s.ok() ? DecodePosition(value) : std::nullopt;
  if (!pos) return absl::DataLossError(absl::StrCat("family ", kk, " has no position"));

  // The decisions recorded for the family, by program.
  std::map<std::string, v1::Envelope> recorded;
  {
    const std::string prefix = keys::DecisionPrefix(kk);
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      v1::Envelope e;
      if (!e.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        return absl::DataLossError(absl::StrCat("corrupt decision of ", kk));
      }
      std::string program = e.eligibility_decided().decision().program();
      recorded.emplace(std::move(program), std::move(e));
    }
    JARING_RETURN_IF_ERROR(RocksError(it->status()));
  }

  std::vector<v1::Decision> decisions = EvaluateWith(family, *ctx.rules, ctx.date, /*explain=*/false);
  for (const auto& [program, env] : recorded) {
    const bool in_rules = std::any_of(decisions.begin(), decisions.end(),
                                      [&](const v1::Decision& d) { return d.program() == program; });
    if (!in_rules) decisions.push_back(ProgramEnded(env.eligibility_decided().decision(), *ctx.rules, ctx.date));
  }

  std::string causation;
  v1::EvaluationTrigger recorded_trigger = trigger;
  for (v1::Decision& d : decisions) {
    auto rec = recorded.find(d.program());
    const v1::Decision* before = rec == recorded.end() ? nullptr : &rec->second.eligibility_decided().decision();
    // A family starts "not eligible" without a record: only a change from
    // that is recorded.
    if (before == nullptr ? !d.eligible() : SameOutcome(*before, d)) continue;

    if (causation.empty() && trigger == v1::EVALUATION_TRIGGER_POPULATION_EVENT) {
      s = db->Get(ro, keys::History(kk, pos->partition, pos->offset), &value);
      JARING_RETURN_IF_ERROR(RocksError(s));
      v1::Envelope last;
      if (s.ok() && last.ParseFromString(value)) causation = last.event_id();
      // A late report re-folded the family's history: say so.
      s = db->Get(ro, keys::Timeline(kk), &value);
      JARING_RETURN_IF_ERROR(RocksError(s));
      v1::FamilyTimeline timeline;
      if (s.ok() && timeline.ParseFromString(value) && family::LastWasLate(timeline, last)) {
        recorded_trigger = v1::EVALUATION_TRIGGER_LATE_REPORT;
      }
    } else if (causation.empty() && trigger == v1::EVALUATION_TRIGGER_RULE_SET) {
      causation = ctx.rules->event_id;
    }

    const std::string id =
        events::DeterministicId("eligibility", {kk, d.program(), absl::StrCat(pos->partition),
                                                absl::StrCat(pos->offset), ctx.rules->hash, DateString(ctx.date)});
    d.set_decision_id(id);
    d.set_version(before == nullptr ? 1 : before->version() + 1);
    v1::InputPosition* in = d.add_inputs();
    in->set_topic(std::string(events::kPopulationTopic));
    in->set_partition(pos->partition);
    in->set_offset(pos->offset);
    in = d.add_inputs();
    in->set_topic(std::string(events::kRulesTopic));
    in->set_partition(0);
    in->set_offset(ctx.rules->offset);

    v1::Envelope env;
    env.set_event_id(id);
    env.set_key(kk);
    env.set_region_code(family.region_code());
    // A function of the inputs: when the change could first be known.
    const int64_t occurred_ms =
        std::max({family.updated_at_ms(), ctx.rules->effective_from_ms, absl::ToUnixMillis(WibStartOf(ctx.date))});
    *env.mutable_occurred_at() = events::ToProtoTime(absl::FromUnixMillis(occurred_ms));
    const absl::Time now = std::max(clock_->Now(), absl::FromUnixMillis(occurred_ms));
    *env.mutable_recorded_at() = events::ToProtoTime(now);
    env.set_source(v1::SOURCE_SYSTEM);
    env.set_actor("eligibility");
    env.set_causation_id(causation);
    env.set_correlation_id(causation.empty() ? id : causation);
    v1::EligibilityDecided* ed = env.mutable_eligibility_decided();
    ed->set_trigger(recorded_trigger);
    if (before != nullptr) {
      ed->set_supersedes_decision_id(before->decision_id());
      ed->set_previously_eligible(before->eligible());
      ed->set_previous_yearly_amount(before->yearly_amount());
    }
    *ed->mutable_decision() = std::move(d);
    events::StampType(env);
    out.records.push_back(events::ToRecord(env));
  }
  return absl::OkStatus();
}

absl::Status Engine::Flush(Pending& pending) {
  if (pending.records.empty()) return absl::OkStatus();
  JARING_ASSIGN_OR_RETURN(std::vector<eventlog::Position> positions,
                          log_->Append(events::kEligibilityTopic, pending.records));
  std::map<int32_t, int64_t> last;
  for (const eventlog::Position& p : positions) last[p.partition] = std::max(last[p.partition], p.offset);
  for (const auto& [partition, offset] : last) {
    JARING_RETURN_IF_ERROR(
        projection_->WaitFor(events::kEligibilityTopic, partition, offset + 1, apply_timeout_));
  }
  {
    absl::MutexLock l(&mu_);
    stats_.decisions_appended += static_cast<int64_t>(pending.records.size());
  }
  pending.records.clear();
  return absl::OkStatus();
}

absl::Status Engine::ScanChanges(const rocksdb::ReadOptions& ro,
                                 const std::function<void(std::string_view key, std::string_view kk)>& visit) {
  // Evaluated changes are deleted, and a scan from the start of c/ would
  // step over every one of their tombstones until compaction drops them (a
  // cost that grows with every event ever applied). So each partition is
  // scanned from the first change not yet forgotten.
  // The upper bound matters as much: without it a seek past the last change
  // of a partition walks the next partition's tombstones.
  for (const auto& [tp, next] : projection_->NextOffsets()) {
    if (tp.first != events::kPopulationTopic) continue;
    const std::string start = keys::Change(tp.second, forgotten_[tp.second]);
    const std::string end = keys::Change(tp.second + 1, 0);
    const rocksdb::Slice upper(end);
    rocksdb::ReadOptions bounded = ro;
    bounded.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(projection_->db()->NewIterator(bounded));
    for (it->Seek(start); it->Valid(); it->Next()) visit(it->key().ToStringView(), it->value().ToStringView());
    JARING_RETURN_IF_ERROR(RocksError(it->status()));
  }
  return absl::OkStatus();
}

absl::Status Engine::Forget(rocksdb::WriteBatch& forget, const std::vector<std::string>& keys) {
  for (const std::string& k : keys) forget.Delete(k);
  if (forget.Count() > 0) JARING_RETURN_IF_ERROR(RocksError(projection_->db()->Write(rocksdb::WriteOptions(), &forget)));
  for (const std::string& k : keys) {
    const std::string_view pos = std::string_view(k).substr(keys::kChangePrefix.size());
    const int32_t p = static_cast<int32_t>(DecodeFixed32BE(pos.data()));
    const int64_t o = static_cast<int64_t>(DecodeFixed64BE(pos.data() + 4));
    forgotten_[p] = std::max(forgotten_[p], o + 1);
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> Engine::Step() {
  absl::MutexLock step(&step_mu_);
  JARING_ASSIGN_OR_RETURN(EvalContext ctx, CurrentContext());
  rocksdb::DB* db = projection_->db();
  if (ctx.rules == nullptr) {
    // Nothing to decide with: the first rule set to take effect evaluates
    // every family, so the changes seen until then need no evaluation.
    rocksdb::WriteBatch forget;
    std::vector<std::string> covered;
    JARING_RETURN_IF_ERROR(ScanChanges(rocksdb::ReadOptions(), [&](std::string_view key, std::string_view) {
      covered.emplace_back(key);
    }));
    JARING_RETURN_IF_ERROR(Forget(forget, covered));
    return 0;
  }
  ScopedSnapshot snapshot(db);
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot.get();

  std::string stored;
  rocksdb::Status s = db->Get(ro, kContextKey, &stored);
  JARING_RETURN_IF_ERROR(RocksError(s));
  if (s.IsNotFound()) stored.clear();
  const std::string current = EncodeContext(ctx);
  const bool full = stored != current;

  Pending pending;
  int64_t appended_before;
  {
    absl::MutexLock l(&mu_);
    appended_before = stats_.decisions_appended;
  }
  int64_t evaluated = 0;
  rocksdb::WriteBatch forget;
  std::vector<std::string> covered;  // the changes this step evaluated
  {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro));
    const std::string change_prefix(keys::kChangePrefix);
    if (full) {
      const v1::EvaluationTrigger trigger = ContextRulesOffset(stored) != ctx.rules->offset
                                                ? v1::EVALUATION_TRIGGER_RULE_SET
                                                : v1::EVALUATION_TRIGGER_DATE;
      // Families with events not yet evaluated: their changes are
      // attributed to those events rather than to the rules or the date.
      std::set<std::string> changed;
      JARING_RETURN_IF_ERROR(ScanChanges(ro, [&](std::string_view key, std::string_view kk) {
        changed.emplace(kk);
        covered.emplace_back(key);
      }));
      // One pass over k/: the compact evaluator finds the families whose
      // outcome differs from what is recorded; only those take the slow
      // path that builds the decisions.
      JARING_ASSIGN_OR_RETURN(std::shared_ptr<const rules::CompiledRules> compiled, Compiled(*ctx.rules));
      const int year = static_cast<int>(ctx.date.year());
      FamilyRecord record;
      rules::CompactFamilyView view;
      rules::Outcome outcome;
      std::string digest;
      const std::string compact_prefix(keys::kCompactPrefix);
      for (it->Seek(compact_prefix); it->Valid() && it->key().starts_with(compact_prefix); it->Next()) {
        ++evaluated;
        if (!ParseFamilyRecord(it->value().ToStringView(), &record)) {
          return absl::DataLossError(absl::StrCat("corrupt ", it->key().ToString()));
        }
        if (record.family.empty()) continue;  // decisions read before the family's events
        if (!view.Parse(record.family)) return absl::DataLossError(absl::StrCat("corrupt ", it->key().ToString()));
        compiled->Evaluate(view, ctx.date, &outcome);
        bool differs = false;
        for (const rules::ProgramOutcome& p : outcome.programs) {
          Digest(outcome, p, year, &digest);
          if (digest != record.DigestOf(outcome.program_id(p))) {
            differs = true;
            break;
          }
        }
        for (size_t i = 0; !differs && i < record.digests.size(); ++i) {
          const std::string_view program = record.digests[i].first;
          const bool in_rules = std::any_of(outcome.programs.begin(), outcome.programs.end(),
                                            [&](const rules::ProgramOutcome& p) { return outcome.program_id(p) == program; });
          differs = !in_rules && record.digests[i].second != kNotEligibleDigest;
        }
        const std::string kk(it->key().ToStringView().substr(compact_prefix.size()));
        if (!differs && !changed.contains(kk)) continue;
        JARING_RETURN_IF_ERROR(EvaluateFamily(snapshot.get(), kk, ctx,
                                              changed.contains(kk) ? v1::EVALUATION_TRIGGER_POPULATION_EVENT : trigger,
                                              pending));
        if (pending.records.size() >= kFlushRecords) JARING_RETURN_IF_ERROR(Flush(pending));
      }
      JARING_RETURN_IF_ERROR(RocksError(it->status()));
    } else {
      std::set<std::string> changed;
      JARING_RETURN_IF_ERROR(ScanChanges(ro, [&](std::string_view key, std::string_view kk) {
        changed.emplace(kk);
        covered.emplace_back(key);
      }));
      for (const std::string& kk : changed) {
        JARING_RETURN_IF_ERROR(
            EvaluateFamily(snapshot.get(), kk, ctx, v1::EVALUATION_TRIGGER_POPULATION_EVENT, pending));
        ++evaluated;
        if (pending.records.size() >= kFlushRecords) JARING_RETURN_IF_ERROR(Flush(pending));
      }
    }
  }
  JARING_RETURN_IF_ERROR(Flush(pending));
  // Only now, with the decisions applied, may the changes be forgotten.
  if (full) forget.Put(kContextKey, current);
  JARING_RETURN_IF_ERROR(Forget(forget, covered));

  absl::MutexLock l(&mu_);
  ++stats_.steps;
  stats_.families_evaluated += evaluated;
  if (full) ++stats_.full_reevaluations;
  return stats_.decisions_appended - appended_before;
}

absl::Status Engine::Settle() {
  for (;;) {
    JARING_RETURN_IF_ERROR(projection_->CatchUp());
    JARING_ASSIGN_OR_RETURN(int64_t appended, Step());
    if (appended > 0) continue;
    // Nothing appended: done when no change is waiting either.
    bool waiting = false;
    {
      absl::MutexLock step(&step_mu_);
      JARING_RETURN_IF_ERROR(ScanChanges(rocksdb::ReadOptions(), [&](std::string_view, std::string_view) { waiting = true; }));
    }
    JARING_ASSIGN_OR_RETURN(EvalContext ctx, CurrentContext());
    if (!waiting || ctx.rules == nullptr) return absl::OkStatus();
  }
}

void Engine::Start(absl::Duration interval) {
  {
    absl::MutexLock l(&mu_);
    if (thread_.joinable()) return;
    stop_ = false;
  }
  thread_ = std::thread([this, interval] {
    for (;;) {
      {
        absl::MutexLock l(&mu_);
        nudged_ = false;
      }
      absl::StatusOr<int64_t> appended = Step();
      absl::MutexLock l(&mu_);
      status_ = appended.status();
      if (stop_) return;
      if (appended.ok() && *appended > 0) continue;
      const absl::Time deadline = absl::Now() + interval;
      while (!stop_ && !nudged_) {
        if (wake_.WaitWithDeadline(&mu_, deadline)) break;  // the interval passed
      }
      if (stop_) return;
    }
  });
}

void Engine::Nudge() {
  absl::MutexLock l(&mu_);
  nudged_ = true;
  wake_.Signal();
}

void Engine::Stop() {
  {
    absl::MutexLock l(&mu_);
    stop_ = true;
    wake_.Signal();
  }
  if (thread_.joinable()) thread_.join();
}

absl::Status Engine::status() const {
  absl::MutexLock l(&mu_);
  return status_;
}

EngineStats Engine::stats() const {
  absl::MutexLock l(&mu_);
  return stats_;
}

}  // namespace jaring::eligibility
