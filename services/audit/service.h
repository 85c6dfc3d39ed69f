// jaring.v1.AuditService: oversight's questions (proto/jaring/v1/
// audit_service.proto), answered from the stores of the services that run
// in this process: the live writers, read-only replicas, or a replay's
// frozen stores (`jaring replay`). It owns nothing: it reads the services'
// projections through their public store layouts (services/*/store.h) and,
// to re-evaluate a decision, the eligibility service itself. See
// docs/operations.md, "Oversight: replay and audit".
//
// Thread-safety: every method may be called from any thread (the stores are
// RocksDB databases, read without locks).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "jaring/v1/audit_service.grpc.pb.h"
#include "libs/base/clock.h"

namespace jaring::population {
class PopulationServiceImpl;
}
namespace jaring::eligibility {
class EligibilityServiceImpl;
}
namespace jaring::ledger_service {
class LedgerServiceImpl;
}

namespace jaring::audit {

struct AuditOptions {
  // The services whose stores answer; any may be null, and a question that
  // needs a missing one is FAILED_PRECONDITION naming it. Not owned.
  population::PopulationServiceImpl* population = nullptr;
  eligibility::EligibilityServiceImpl* eligibility = nullptr;
  ledger_service::LedgerServiceImpl* ledger = nullptr;
  // Names of every service served with them (for GetAuditSource).
  std::vector<std::string> services;
  // Keys the family and person references (HMAC-SHA256); at least 16
  // bytes, kept outside the repository and the log.
  std::string export_key;
  // "Now": the real clock for a live system; a replay's as-of instant.
  // Not owned; null means Clock::Real().
  const Clock* clock = nullptr;
  v1::AuditSourceKind kind = v1::AUDIT_SOURCE_KIND_LIVE;
  // A replay: events each store left out as recorded after its moment (from
  // REPLAY.json), by service.
  std::map<std::string, int64_t> filtered_out;
};

class AuditServiceImpl final : public v1::AuditService::Service {
 public:
  // Errors: kInvalidArgument for an export key shorter than 16 bytes.
  static absl::StatusOr<std::unique_ptr<AuditServiceImpl>> Create(AuditOptions options);

  // The RPCs without gRPC. Errors: kInvalidArgument naming a missing or
  // malformed field; kFailedPrecondition when the service a question needs
  // is not served here; kDataLoss for a store that does not parse.
  absl::StatusOr<v1::GetAuditSourceResponse> GetAuditSource() const;
  absl::StatusOr<v1::ListEligibleOnResponse> ListEligibleOn(const v1::ListEligibleOnRequest& r) const;
  absl::StatusOr<v1::ListEligibilityChangesResponse> ListEligibilityChanges(
      const v1::ListEligibilityChangesRequest& r) const;
  absl::StatusOr<v1::ListPaymentsWithoutLivingMemberResponse> ListPaymentsWithoutLivingMember(
      const v1::ListPaymentsWithoutLivingMemberRequest& r) const;
  absl::StatusOr<v1::ListPeopleInTwoPlacesResponse> ListPeopleInTwoPlaces(
      const v1::ListPeopleInTwoPlacesRequest& r) const;
  absl::StatusOr<v1::ListCycleDiscrepanciesResponse> ListCycleDiscrepancies(
      const v1::ListCycleDiscrepanciesRequest& r) const;

  grpc::Status GetAuditSource(grpc::ServerContext*, const v1::GetAuditSourceRequest*, v1::GetAuditSourceResponse*) override;
  grpc::Status ListEligibleOn(grpc::ServerContext*, const v1::ListEligibleOnRequest*,
                              v1::ListEligibleOnResponse*) override;
  grpc::Status ListEligibilityChanges(grpc::ServerContext*, const v1::ListEligibilityChangesRequest*,
                                      v1::ListEligibilityChangesResponse*) override;
  grpc::Status ListPaymentsWithoutLivingMember(grpc::ServerContext*,
                                               const v1::ListPaymentsWithoutLivingMemberRequest*,
                                               v1::ListPaymentsWithoutLivingMemberResponse*) override;
  grpc::Status ListPeopleInTwoPlaces(grpc::ServerContext*, const v1::ListPeopleInTwoPlacesRequest*,
                                     v1::ListPeopleInTwoPlacesResponse*) override;
  grpc::Status ListCycleDiscrepancies(grpc::ServerContext*, const v1::ListCycleDiscrepanciesRequest*,
                                      v1::ListCycleDiscrepanciesResponse*) override;

 private:
  explicit AuditServiceImpl(AuditOptions options);
  v1::AuditFamily Family(const std::string& kk, const std::string& region_code, bool identify) const;
  std::string Ref(std::string_view value) const;

  const AuditOptions options_;
  const Clock* const clock_;
};

}  // namespace jaring::audit
