// jaring.v1.PopulationService: validated commands that append population
// events, the family projection, and its queries.
//
// A command runs as: validate the request's format (INVALID_ARGUMENT naming
// the field) -> lock the families and NIKs it touches -> answer a retry of
// an applied request_id from the store (nothing appended) -> check
// expected_version (ABORTED) -> validate against the family's state
// (FAILED_PRECONDITION) -> append its events in one Append -> wait until
// this service's own projection applied them -> reply. Commands on
// unrelated families run concurrently (and share fsyncs through the log's
// group commit); a bulk import takes the whole table for each chunk.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "jaring/v1/population_service.grpc.pb.h"
#include "libs/auth/principal.h"
#include "libs/base/clock.h"
#include "libs/eventlog/eventlog.h"
#include "libs/projection/projection.h"
#include "services/population/store.h"

namespace jaring::population {

struct ServiceOptions {
  // The projection store's directory (the service's RocksDB).
  std::string store_dir;
  // Not owned; null means Clock::Real().
  Clock* clock = nullptr;
  // How long a command waits for its own events to be applied.
  absl::Duration apply_timeout = absl::Seconds(30);
  // Rows per append during an import.
  int import_chunk = 500;
  // kWriter: commands and background work; kReplica: follows the log and
  // answers reads only; kSnapshot: a frozen as-of store (jaring replay),
  // reads only, the log is never touched (may be null).
  projection::Mode mode = projection::Mode::kWriter;
};

class PopulationServiceImpl final : public v1::PopulationService::Service {
 public:
  // Opens the projection, catches it up with the log and starts following.
  // `log` is not owned and must outlive the service. Errors as
  // projection::Projection::Open and CatchUp.
  static absl::StatusOr<std::unique_ptr<PopulationServiceImpl>> Create(eventlog::EventLog* log,
                                                                       ServiceOptions options);
  ~PopulationServiceImpl() override;
  // Builds this service's store as of `bound` into `dir` (jaring replay):
  // the live service's applier and topics, nothing live touched. Errors as
  // projection::BuildAsOf.
  static absl::Status BuildAsOf(eventlog::EventLog* log, const std::string& dir, const projection::Bound& bound,
                                projection::Stats* stats = nullptr);

  // The same commands without gRPC (the handlers call these). `caller` is
  // the authenticated principal (auth::CallPrincipal): it is recorded as the
  // events' actor and scopes the request id (docs/security.md "Request
  // ids"); the default, an unproven principal, is the national namespace
  // and records the context's actor label as the actor (services embedded
  // without a guard).
  //
  // A request id already applied in the caller's scope answers the first
  // result (deduplicated = true) when the request is the same, field for
  // field; otherwise INVALID_ARGUMENT naming context.request_id, and
  // nothing is appended.
  absl::StatusOr<v1::CommandResult> RegisterFamily(const v1::RegisterFamilyRequest& r,
                                                   const auth::Principal& caller = {});
  absl::StatusOr<v1::CommandResult> RecordBirth(const v1::RecordBirthRequest& r, const auth::Principal& caller = {});
  absl::StatusOr<v1::CommandResult> RecordDeath(const v1::RecordDeathRequest& r, const auth::Principal& caller = {});
  absl::StatusOr<v1::CommandResult> MoveMember(const v1::MoveMemberRequest& r, const auth::Principal& caller = {});
  absl::StatusOr<v1::CommandResult> SplitFamily(const v1::SplitFamilyRequest& r, const auth::Principal& caller = {});
  absl::StatusOr<v1::CommandResult> ChangeHead(const v1::ChangeHeadRequest& r, const auth::Principal& caller = {});
  absl::StatusOr<v1::CommandResult> RecordWelfareAssessment(const v1::RecordWelfareAssessmentRequest& r,
                                                            const auth::Principal& caller = {});
  absl::StatusOr<v1::CommandResult> ChangeMemberAttributes(const v1::ChangeMemberAttributesRequest& r,
                                                           const auth::Principal& caller = {});
  absl::StatusOr<v1::CommandResult> CorrectRecord(const v1::CorrectRecordRequest& r,
                                                  const auth::Principal& caller = {});

  projection::Projection& projection() { return *projection_; }
  const PopulationReader& reader() const { return reader_; }

  // gRPC handlers.
  grpc::Status RegisterFamily(grpc::ServerContext*, const v1::RegisterFamilyRequest*,
                              v1::RegisterFamilyResponse*) override;
  grpc::Status RecordBirth(grpc::ServerContext*, const v1::RecordBirthRequest*, v1::RecordBirthResponse*) override;
  grpc::Status RecordDeath(grpc::ServerContext*, const v1::RecordDeathRequest*, v1::RecordDeathResponse*) override;
  grpc::Status MoveMember(grpc::ServerContext*, const v1::MoveMemberRequest*, v1::MoveMemberResponse*) override;
  grpc::Status SplitFamily(grpc::ServerContext*, const v1::SplitFamilyRequest*, v1::SplitFamilyResponse*) override;
  grpc::Status ChangeHead(grpc::ServerContext*, const v1::ChangeHeadRequest*, v1::ChangeHeadResponse*) override;
  grpc::Status RecordWelfareAssessment(grpc::ServerContext*, const v1::RecordWelfareAssessmentRequest*,
                                       v1::RecordWelfareAssessmentResponse*) override;
  grpc::Status ChangeMemberAttributes(grpc::ServerContext*, const v1::ChangeMemberAttributesRequest*,
                                      v1::ChangeMemberAttributesResponse*) override;
  grpc::Status CorrectRecord(grpc::ServerContext*, const v1::CorrectRecordRequest*,
                             v1::CorrectRecordResponse*) override;
  grpc::Status Import(grpc::ServerContext*,
                      grpc::ServerReaderWriter<v1::ImportResponse, v1::ImportRequest>* stream) override;
  grpc::Status GetFamily(grpc::ServerContext*, const v1::GetFamilyRequest*, v1::GetFamilyResponse*) override;
  grpc::Status GetMember(grpc::ServerContext*, const v1::GetMemberRequest*, v1::GetMemberResponse*) override;
  grpc::Status ListFamilies(grpc::ServerContext*, const v1::ListFamiliesRequest*,
                            v1::ListFamiliesResponse*) override;
  grpc::Status GetFamilyHistory(grpc::ServerContext*, const v1::GetFamilyHistoryRequest*,
                                v1::GetFamilyHistoryResponse*) override;
  grpc::Status ListOverlapFindings(grpc::ServerContext*, const v1::ListOverlapFindingsRequest*,
                                   v1::ListOverlapFindingsResponse*) override;
  grpc::Status ListAccessRecords(grpc::ServerContext*, const v1::ListAccessRecordsRequest*,
                                 v1::ListAccessRecordsResponse*) override;

  // For the guard's scope checks: the family a NIK is a living member of.
  absl::StatusOr<std::optional<std::string>> MemberFamily(std::string_view nik) const {
    return reader_.CurrentFamily(nik);
  }

 private:
  struct Times {
    absl::Time occurred_at;
    absl::Time recorded_at;
  };
  // Builds the events of a command after the locks are held; returns them
  // without headers (payload and key only).
  using Planner = std::function<absl::StatusOr<std::vector<v1::Envelope>>(const Times&)>;

  PopulationServiceImpl(eventlog::EventLog* log, ServiceOptions options);
  // Who sent a command and how it is remembered.
  struct Sender {
    // The request id as stored on events (auth::ScopedRequestId).
    std::string request_id;
    // auth::ActorId of the caller; empty when unproven.
    std::string actor;
    // validation::RequestDigest of the whole request.
    std::string digest;
  };
  static Sender SenderOf(const v1::CommandContext& ctx, const google::protobuf::Message& request,
                         const auth::Principal& caller);
  // The date a command's payload carries (a date of death, a birth date, a
  // DTSEN round's quarter): the event time (design.md "Time and order").
  // context.occurred_at, when given, must fall on a day in [first, last]
  // (WIB); when it is not given, the event time is `first` at 00:00 WIB.
  struct PayloadTime {
    std::string field;
    absl::CivilDay first;
    absl::CivilDay last;
  };
  // Format checks common to every command's context (request id, times,
  // source, labels). Errors name the field.
  absl::Status ValidateContext(const v1::CommandContext& ctx, absl::Time now, Times* times,
                               const std::optional<PayloadTime>& payload_time = std::nullopt) const;
  absl::StatusOr<v1::CommandResult> Execute(const v1::CommandContext& ctx, const google::protobuf::Message& request,
                                            const auth::Principal& caller, const std::string& primary_kk,
                                            std::vector<std::string> lock_keys, const Planner& plan,
                                            const std::optional<PayloadTime>& payload_time = std::nullopt);
  // The earlier result of `sender.request_id`, if any, when it was for the
  // same request; INVALID_ARGUMENT naming `field` when it was for another.
  absl::StatusOr<std::optional<v1::CommandResult>> Earlier(const Sender& sender, std::string_view primary_kk,
                                                           std::string_view field) const;
  // A command is accepted only when its events fold, at their event time,
  // without a contradiction the family did not already have (a death dated
  // before the person joined the family, a backdated move-out that later
  // events still refer to). A late report or a correction re-folds the
  // family here, exactly as every projection will. FAILED_PRECONDITION
  // naming `field` and the contradiction otherwise.
  absl::Status CheckEventTimeFold(const std::vector<v1::Envelope>& events, std::string_view field) const;
  // Stamps headers, appends, waits for the projection.
  absl::StatusOr<std::vector<v1::EventPosition>> AppendAndApply(std::vector<v1::Envelope>& events);
  void StampHeaders(const v1::CommandContext& ctx, const Sender& sender, const Times& times,
                    std::vector<v1::Envelope>& events) const;
  absl::StatusOr<v1::Family> LiveFamily(std::string_view kk, std::string_view field) const;

  eventlog::EventLog* const log_;
  const ServiceOptions options_;
  Clock* const clock_;
  PopulationApplier applier_;
  std::unique_ptr<projection::Projection> projection_;
  PopulationReader reader_{nullptr};

  // Commands hold `table_` shared and their stripes exclusively; an import
  // chunk holds `table_` exclusively.
  static constexpr size_t kStripes = 1024;
  absl::Mutex table_;
  std::unique_ptr<absl::Mutex[]> stripes_;
};

}  // namespace jaring::population
