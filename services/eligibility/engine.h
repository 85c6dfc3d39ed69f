// The decision engine: evaluates the families whose events arrived, or every
// family when a rule set takes effect or the date changes, and appends an
// EligibilityDecided event for each (family, program) whose outcome changed.
//
// Exactly-once effect (docs/eligibility.md):
//  - A decision's id is derived from its inputs: KK, program, the position of
//    the family's last event, the rule set's hash and the date. Its content
//    is a function of the same inputs.
//  - The engine compares with the decisions recorded on the log, which the
//    projection reads back. After each step it waits until its own appends
//    are applied before it forgets the changes it evaluated. A crash at any
//    point leaves either the decision on the log (then the store has it after
//    catch-up and re-evaluation finds no change) or not (then it is appended
//    again, with the same id).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "jaring/v1/eligibility_service.pb.h"
#include "libs/base/clock.h"
#include "libs/eventlog/eventlog.h"
#include "libs/projection/projection.h"
#include "libs/rules/compact.h"
#include "services/eligibility/store.h"

namespace rocksdb {
struct ReadOptions;
class WriteBatch;
}  // namespace rocksdb

namespace jaring::eligibility {

// The rule set and date decisions are evaluated with.
struct EvalContext {
  std::shared_ptr<const PublishedRules> rules;
  absl::CivilDay date;
};

// Compares two decisions on what a family feels: eligible, and when
// eligible the yearly amount, the year of the stages and the components
// (kind, member, amount): Digest() in outcome.h. Not the reasons: a family
// outside a program for another reason is still outside it.
bool SameOutcome(const v1::Decision& a, const v1::Decision& b);

// The decision an outcome comparison sees for a program that is not in the
// rule set any more (not eligible, PROGRAM_ENDED).
v1::Decision ProgramEnded(const v1::Decision& recorded, const PublishedRules& rules, absl::CivilDay date);

struct EngineStats {
  int64_t steps = 0;
  int64_t families_evaluated = 0;
  int64_t decisions_appended = 0;
  int64_t full_reevaluations = 0;
};

class Engine {
 public:
  // `log`, `projection` and `clock` are not owned and must outlive it.
  Engine(eventlog::EventLog* log, projection::Projection* projection, Clock* clock,
         absl::Duration apply_timeout);
  ~Engine();  // Stops.

  // One step: a full re-evaluation when the rule set in force or the date
  // changed since the last one, else the families changed since the last
  // step. Appends the changed decisions and waits until the projection
  // applied them. Returns how many decisions it appended.
  absl::StatusOr<int64_t> Step();

  // Steps until nothing is left to evaluate (for tests and tools).
  absl::Status Settle();

  // Runs Step on a background thread every `interval` until Stop(); an
  // error is logged, kept in status() and retried at the next interval.
  void Start(absl::Duration interval);
  void Stop();
  // Wakes the background thread now (the projection calls it after each
  // commit, so that a new event is evaluated without waiting an interval).
  void Nudge();
  absl::Status status() const;
  EngineStats stats() const;

  // The context the engine evaluates with now (rules null before any rule
  // set is in force).
  absl::StatusOr<EvalContext> CurrentContext();

 private:
  struct Pending;
  absl::StatusOr<std::vector<std::shared_ptr<const PublishedRules>>> Published();
  absl::Status EvaluateFamily(const rocksdb::Snapshot* snapshot, const std::string& kk, const EvalContext& ctx,
                              v1::EvaluationTrigger trigger, Pending& out);
  absl::Status Flush(Pending& pending);
  // Visits the changes (c/ keys) not yet forgotten, partition by partition.
  absl::Status ScanChanges(const rocksdb::ReadOptions& ro,
                           const std::function<void(std::string_view key, std::string_view kk)>& visit)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(step_mu_);
  // Writes `forget` (with deletes of `keys`) and moves the watermarks.
  absl::Status Forget(rocksdb::WriteBatch& forget, const std::vector<std::string>& keys)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(step_mu_);
  // The compact form of `rules` (cached for the last rule set used).
  absl::StatusOr<std::shared_ptr<const rules::CompiledRules>> Compiled(const PublishedRules& rules);

  eventlog::EventLog* const log_;
  projection::Projection* const projection_;
  Clock* const clock_;
  const absl::Duration apply_timeout_;

  absl::Mutex step_mu_;  // one step at a time
  int64_t rules_loaded_next_ = -1;
  std::vector<std::shared_ptr<const PublishedRules>> published_;
  std::shared_ptr<const rules::CompiledRules> compiled_;
  int64_t compiled_offset_ = -1;
  // Per population partition: every change below this offset is forgotten.
  std::map<int32_t, int64_t> forgotten_ ABSL_GUARDED_BY(step_mu_);

  mutable absl::Mutex mu_;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  EngineStats stats_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool nudged_ ABSL_GUARDED_BY(mu_) = false;
  absl::CondVar wake_;
  std::thread thread_;
};

// Evaluates `family` under `rules` at `date` (explain: with clauses), stamps
// the rule hash, and returns one decision per program.
std::vector<v1::Decision> EvaluateWith(const v1::Family& family, const PublishedRules& rules, absl::CivilDay date,
                                       bool explain);

}  // namespace jaring::eligibility
