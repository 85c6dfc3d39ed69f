// jaring.v1.AppealsService: usul, sanggah and data corrections with their
// lifecycle as events on jaring.appeals.v1, SLA clocks on event time with
// escalations recorded exactly once, and upheld corrections appended to
// jaring.population.v1. See docs/appeals.md.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "jaring/v1/appeals_service.grpc.pb.h"
#include "libs/auth/guard.h"
#include "libs/auth/keys.h"
#include "libs/base/clock.h"
#include "libs/eventlog/eventlog.h"
#include "libs/projection/projection.h"
#include "services/appeals/store.h"

namespace jaring::appeals {

struct ServiceOptions {
  // The projection store's directory (the service's RocksDB).
  std::string store_dir;
  // The key of the filers' NIK hashes (HMAC-SHA-256), at least 16 bytes.
  // It lives outside the repository and the log (LoadOrCreateKey).
  std::string filer_key;
  // Not owned; null means Clock::Real().
  Clock* clock = nullptr;
  // How long a command waits for its events to be applied.
  absl::Duration apply_timeout = absl::Seconds(30);
  // How often the clock keeper looks for passed deadlines and corrections
  // still to append; zero: it does not run on its own (tests call Tick()).
  absl::Duration tick_interval = absl::Seconds(1);
  // kWriter: commands and background work; kReplica: follows the log and
  // answers reads only; kSnapshot: a frozen as-of store (jaring replay),
  // reads only, the log is never touched (may be null).
  projection::Mode mode = projection::Mode::kWriter;
};

// Reads the key at `path`, or makes one (32 random bytes, mode 0600) when
// the file does not exist.
using auth::LoadOrCreateKey;

// The keyed hash (lower-case hex HMAC-SHA-256) of a filer's NIK.
inline std::string FilerHash(std::string_view key, std::string_view nik) { return auth::KeyedHash(key, nik); }

// Default deadlines when no policy matches.
inline constexpr int32_t kDefaultVerificationDays = 14;
inline constexpr int32_t kDefaultDecisionDays = 30;
inline constexpr int32_t kDefaultObjectionWindowDays = 30;

class AppealsServiceImpl final : public v1::AppealsService::Service {
 public:
  // Opens the projection (population, eligibility and appeals topics),
  // catches it up, starts following, appends the corrections an earlier run
  // decided but did not append, and starts the clock keeper.
  static absl::StatusOr<std::unique_ptr<AppealsServiceImpl>> Create(eventlog::EventLog* log, ServiceOptions options);
  // Builds this service's store as of `bound` into `dir` (jaring replay):
  // the live service's applier and topics, nothing live touched. Errors as
  // projection::BuildAsOf.
  static absl::Status BuildAsOf(eventlog::EventLog* log, const std::string& dir, const projection::Bound& bound,
                                projection::Stats* stats = nullptr);
  ~AppealsServiceImpl() override;

  // The RPCs without gRPC.
  absl::StatusOr<v1::FileAppealResponse> FileAppeal(const v1::FileAppealRequest& r, const auth::Principal& caller = {});
  absl::StatusOr<v1::Appeal> AssignAppeal(const v1::AssignAppealRequest& r, const auth::Principal& caller = {});
  absl::StatusOr<v1::Appeal> RecordVerification(const v1::RecordVerificationRequest& r, const auth::Principal& caller = {});
  absl::StatusOr<v1::Appeal> DecideAppeal(const v1::DecideAppealRequest& r, const auth::Principal& caller = {});
  absl::StatusOr<v1::Appeal> CloseAppeal(const v1::CloseAppealRequest& r, const auth::Principal& caller = {});
  absl::StatusOr<v1::Appeal> WithdrawAppeal(const v1::WithdrawAppealRequest& r, const auth::Principal& caller = {});
  absl::StatusOr<v1::AppealPolicySet> SetAppealPolicy(const v1::SetAppealPolicyRequest& r, const auth::Principal& caller = {});
  absl::StatusOr<v1::ObjectionWindowOpened> OpenObjectionWindow(const v1::OpenObjectionWindowRequest& r, const auth::Principal& caller = {});
  absl::StatusOr<v1::GetAppealResponse> GetAppeal(const v1::GetAppealRequest& r);
  absl::StatusOr<v1::ListFamilyAppealsResponse> ListFamilyAppeals(const v1::ListFamilyAppealsRequest& r);
  absl::StatusOr<v1::ListWorkQueueResponse> ListWorkQueue(const v1::ListWorkQueueRequest& r);
  absl::StatusOr<v1::ListBreachesResponse> ListBreaches(const v1::ListBreachesRequest& r);
  absl::StatusOr<v1::GetAppealStatsResponse> GetAppealStats(const v1::GetAppealStatsRequest& r);
  absl::StatusOr<v1::ListObjectionWindowsResponse> ListObjectionWindows(const v1::ListObjectionWindowsRequest& r);
  absl::StatusOr<v1::LookupFamilyStatusResponse> LookupFamilyStatus(const v1::LookupFamilyStatusRequest& r);

  // For the guard's scope checks (auth::Resolvers): an appeal's family,
  // region and verifier; whether a verifier has an open appeal of a family.
  absl::StatusOr<std::optional<auth::AppealFacts>> AppealFacts(std::string_view appeal_id);
  absl::StatusOr<bool> VerifierHasFamily(std::string_view verifier, std::string_view kk);

  // One round of the clock keeper: escalates every deadline passed by now
  // (once each), and appends corrections decided but not yet on the
  // population topic. Returns the number of events appended.
  absl::StatusOr<int> Tick();

  // Appeals by lifecycle state (for metrics).
  absl::StatusOr<std::map<v1::AppealState, int64_t>> CountByState();

  projection::Projection& projection() { return *projection_; }

  grpc::Status FileAppeal(grpc::ServerContext*, const v1::FileAppealRequest*, v1::FileAppealResponse*) override;
  grpc::Status AssignAppeal(grpc::ServerContext*, const v1::AssignAppealRequest*, v1::AssignAppealResponse*) override;
  grpc::Status RecordVerification(grpc::ServerContext*, const v1::RecordVerificationRequest*,
                                  v1::RecordVerificationResponse*) override;
  grpc::Status DecideAppeal(grpc::ServerContext*, const v1::DecideAppealRequest*, v1::DecideAppealResponse*) override;
  grpc::Status CloseAppeal(grpc::ServerContext*, const v1::CloseAppealRequest*, v1::CloseAppealResponse*) override;
  grpc::Status WithdrawAppeal(grpc::ServerContext*, const v1::WithdrawAppealRequest*,
                              v1::WithdrawAppealResponse*) override;
  grpc::Status SetAppealPolicy(grpc::ServerContext*, const v1::SetAppealPolicyRequest*,
                               v1::SetAppealPolicyResponse*) override;
  grpc::Status OpenObjectionWindow(grpc::ServerContext*, const v1::OpenObjectionWindowRequest*,
                                   v1::OpenObjectionWindowResponse*) override;
  grpc::Status GetAppeal(grpc::ServerContext*, const v1::GetAppealRequest*, v1::GetAppealResponse*) override;
  grpc::Status ListFamilyAppeals(grpc::ServerContext*, const v1::ListFamilyAppealsRequest*,
                                 v1::ListFamilyAppealsResponse*) override;
  grpc::Status ListWorkQueue(grpc::ServerContext*, const v1::ListWorkQueueRequest*, v1::ListWorkQueueResponse*) override;
  grpc::Status ListBreaches(grpc::ServerContext*, const v1::ListBreachesRequest*, v1::ListBreachesResponse*) override;
  grpc::Status GetAppealStats(grpc::ServerContext*, const v1::GetAppealStatsRequest*,
                              v1::GetAppealStatsResponse*) override;
  grpc::Status ListObjectionWindows(grpc::ServerContext*, const v1::ListObjectionWindowsRequest*,
                                    v1::ListObjectionWindowsResponse*) override;
  grpc::Status LookupFamilyStatus(grpc::ServerContext*, const v1::LookupFamilyStatusRequest*,
                                  v1::LookupFamilyStatusResponse*) override;

 private:
  AppealsServiceImpl(eventlog::EventLog* log, ServiceOptions options);

  // Waits until the projection has applied everything on `topic` for `key`'s
  // partition that is on the log now.
  absl::Status CatchUpKey(std::string_view topic, std::string_view key);
  // Appends `events` to `topic` and waits until the projection applied them.
  absl::Status AppendAndApply(std::string_view topic, std::vector<v1::Envelope> events);
  // The appeal a request made earlier (retries), if any.
  absl::StatusOr<std::optional<v1::Appeal>> Retried(std::string_view request_id);
  // Loads an appeal for a transition: validates request_id and appeal_id,
  // answers a retry, and catches up the appeal's partition.
  struct Loaded {
    v1::Appeal appeal;
    bool retry = false;
  };
  // Who sent a command: the request id as stored (scoped by the caller's
  // tenant, auth::ScopedRequestId), the actor (auth::ActorId, or the label
  // when the caller is unproven) and the client's label.
  struct Who {
    std::string request_id;
    std::string actor;
    std::string label;
  };
  // Validates the client's request id and label; errors name "request_id"
  // and "actor".
  static absl::StatusOr<Who> WhoOf(std::string_view request_id, std::string_view label,
                                   const auth::Principal& caller);
  absl::StatusOr<Loaded> LoadForCommand(const Who& who, std::string_view appeal_id);
  v1::Envelope NewEnvelope(const v1::Appeal& appeal, const Who& who, absl::Time now) const;
  absl::StatusOr<v1::Appeal> ReadAppeal(std::string_view appeal_id);
  absl::StatusOr<v1::AppealPolicySet> PolicyFor(std::string_view region_code, v1::AppealKind kind);
  absl::StatusOr<int> EscalateDue(int64_t now_ms) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::StatusOr<int> FlushOutbox() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  void RunKeeper();

  eventlog::EventLog* const log_;
  const ServiceOptions options_;
  Clock* const clock_;
  AppealsApplier applier_;
  std::unique_ptr<projection::Projection> projection_;

  // One writer: commands and the clock keeper append one at a time, so a
  // check and the append it allows see the same state.
  absl::Mutex write_mu_;
  absl::Notification stop_;
  std::thread keeper_;
};

}  // namespace jaring::appeals
