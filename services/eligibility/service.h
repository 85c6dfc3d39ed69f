// jaring.v1.EligibilityService: publishes rule sets, runs the decision
// engine (engine.h) over its projection (store.h), and answers the queries
// of proto/jaring/v1/eligibility_service.proto. See docs/eligibility.md.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "jaring/v1/eligibility_service.grpc.pb.h"
#include "libs/base/clock.h"
#include "libs/eventlog/eventlog.h"
#include "libs/projection/projection.h"
#include "services/eligibility/engine.h"
#include "services/eligibility/store.h"

namespace jaring::eligibility {

struct ServiceOptions {
  // The projection store's directory (the service's RocksDB).
  std::string store_dir;
  // Not owned; null means Clock::Real().
  Clock* clock = nullptr;
  // How long a publish (or the engine) waits for its own events to be applied.
  absl::Duration apply_timeout = absl::Seconds(30);
  // How often the engine looks for work when idle; zero: the engine does not
  // run on its own (tests call engine().Step() / Settle()).
  absl::Duration engine_interval = absl::Milliseconds(20);
  // kWriter: commands and background work; kReplica: follows the log and
  // answers reads only; kSnapshot: a frozen as-of store (jaring replay),
  // reads only, the log is never touched (may be null).
  projection::Mode mode = projection::Mode::kWriter;
};

class EligibilityServiceImpl final : public v1::EligibilityService::Service {
 public:
  // Opens the projection (population, rules and eligibility topics), catches
  // it up with the log, starts following, and starts the engine.
  static absl::StatusOr<std::unique_ptr<EligibilityServiceImpl>> Create(eventlog::EventLog* log,
                                                                        ServiceOptions options);
  ~EligibilityServiceImpl() override;
  // Builds this service's store as of `bound` into `dir` (jaring replay):
  // the live service's applier and topics, nothing live touched. Errors as
  // projection::BuildAsOf.
  static absl::Status BuildAsOf(eventlog::EventLog* log, const std::string& dir, const projection::Bound& bound,
                                projection::Stats* stats = nullptr);

  // The RPCs without gRPC (the handlers call these).
  absl::StatusOr<v1::PublishRuleSetResponse> PublishRuleSet(const v1::PublishRuleSetRequest& r);
  absl::StatusOr<v1::ListRuleSetsResponse> ListRuleSets(const v1::ListRuleSetsRequest& r);
  absl::StatusOr<v1::GetDecisionResponse> GetDecision(const v1::GetDecisionRequest& r);
  absl::StatusOr<v1::GetDecisionHistoryResponse> GetDecisionHistory(const v1::GetDecisionHistoryRequest& r);
  absl::StatusOr<v1::ListBeneficiariesResponse> ListBeneficiaries(const v1::ListBeneficiariesRequest& r);
  absl::StatusOr<v1::ListDecileMovementsResponse> ListDecileMovements(const v1::ListDecileMovementsRequest& r);
  absl::StatusOr<v1::ListEligibilityRisksResponse> ListEligibilityRisks(const v1::ListEligibilityRisksRequest& r);
  absl::StatusOr<v1::SimulateResponse> Simulate(const v1::SimulateRequest& r);

  projection::Projection& projection() { return *projection_; }
  Engine& engine() { return *engine_; }

  grpc::Status PublishRuleSet(grpc::ServerContext*, const v1::PublishRuleSetRequest*,
                              v1::PublishRuleSetResponse*) override;
  grpc::Status ListRuleSets(grpc::ServerContext*, const v1::ListRuleSetsRequest*, v1::ListRuleSetsResponse*) override;
  grpc::Status GetDecision(grpc::ServerContext*, const v1::GetDecisionRequest*, v1::GetDecisionResponse*) override;
  grpc::Status GetDecisionHistory(grpc::ServerContext*, const v1::GetDecisionHistoryRequest*,
                                  v1::GetDecisionHistoryResponse*) override;
  grpc::Status ListBeneficiaries(grpc::ServerContext*, const v1::ListBeneficiariesRequest*,
                                 v1::ListBeneficiariesResponse*) override;
  grpc::Status ListDecileMovements(grpc::ServerContext*, const v1::ListDecileMovementsRequest*,
                                   v1::ListDecileMovementsResponse*) override;
  grpc::Status ListEligibilityRisks(grpc::ServerContext*, const v1::ListEligibilityRisksRequest*,
                                    v1::ListEligibilityRisksResponse*) override;
  grpc::Status Simulate(grpc::ServerContext*, const v1::SimulateRequest*, v1::SimulateResponse*) override;

 private:
  EligibilityServiceImpl(eventlog::EventLog* log, ServiceOptions options);
  // Every published rule set the projection has applied (cached).
  absl::StatusOr<std::vector<std::shared_ptr<const PublishedRules>>> Published();

  eventlog::EventLog* const log_;
  const ServiceOptions options_;
  Clock* const clock_;
  EligibilityApplier applier_;
  std::unique_ptr<projection::Projection> projection_;
  std::unique_ptr<Engine> engine_;

  absl::Mutex publish_mu_;  // one publish at a time: version uniqueness
  absl::Mutex rules_mu_;
  int64_t rules_loaded_next_ ABSL_GUARDED_BY(rules_mu_) = -1;
  std::vector<std::shared_ptr<const PublishedRules>> published_ ABSL_GUARDED_BY(rules_mu_);
};

}  // namespace jaring::eligibility
