// The guard: one gRPC server interceptor that authenticates every call
// (a signed token in `authorization: Bearer …`, else a verified client
// certificate, else the public), authorizes it against the policy table
// (policy.h) with the request in hand, rate limits the public, records reads
// of families' data on jaring.access.v1, and logs every refusal as one JSON
// line without personal data.
//
// gRPC 1.51's synchronous server cannot end a call from an interceptor, so
// the decision is made in the interceptor before the handler runs and every
// handler begins with JARING_AUTHORIZE(context), which returns it. Should a
// handler ever skip it, the interceptor still replaces a refused call's
// response with an empty one and its status with the refusal.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_interceptor.h"
#include "libs/auth/policy.h"
#include "libs/auth/principal.h"
#include "libs/base/clock.h"

namespace google::protobuf {
class Message;
}

namespace jaring::eventlog {
class EventLog;
}

namespace jaring::auth {

// What the appeals service knows of an appeal, for scope checks.
struct AppealFacts {
  std::string kk_number;
  std::string region_code;
  std::string verifier_id;
};

// Lookups the scope checks need, from the projections of the services this
// process serves. An unset function means "not served here": a call that
// needs it is refused for the roles that need it (national and oversight
// never do).
struct Resolvers {
  // The KK number of the family a NIK belongs to now; nullopt when unknown.
  std::function<absl::StatusOr<std::optional<std::string>>(std::string_view nik)> member_family;
  std::function<absl::StatusOr<std::optional<AppealFacts>>(std::string_view appeal_id)> appeal;
  // A cycle's region prefix ("" for a national cycle); nullopt when unknown.
  std::function<absl::StatusOr<std::optional<std::string>>(std::string_view cycle_id)> cycle_region;
  // Whether the verifier has an appeal about the family assigned to it.
  std::function<absl::StatusOr<bool>(std::string_view verifier, std::string_view kk)> verifier_family;
};

struct GuardOptions {
  // The key tokens are signed with (auth::LoadOrCreateKey). Empty: tokens
  // are refused and only certificates (or nothing: the public) identify.
  std::string token_key;
  // Tokens must carry this audience.
  std::string audience = "jaring";
  // Token expiry and the public's rate limit. Null: the real clock.
  const Clock* clock = nullptr;
  // Where reads of families' data are recorded. Null: nowhere (only for
  // tests that do not look at access records).
  eventlog::EventLog* access_log = nullptr;
  Resolvers resolvers;
  // The public's lookups: a bucket of `public_burst` per peer address that
  // refills one lookup every `public_refill`.
  int public_burst = 5;
  absl::Duration public_refill = absl::Seconds(12);
  // Non-empty: this server only reads (a replica, or a replay as of a past
  // moment); every write is FAILED_PRECONDITION with this reason, for
  // every role.
  std::string read_only;
  // Receives each log line (JSON, no newline). Default: stderr.
  std::function<void(const std::string&)> log;
};

class Guard {
 public:
  explicit Guard(GuardOptions options);
  ~Guard();
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;

  // The interceptor to install on the server (ServerBuilder::experimental().
  // SetInterceptorCreators). The guard must outlive the server.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> InterceptorFactory();

  // Who the call's credentials prove (or the public). `authorization` is
  // the metadata value ("" when absent); `cert_pem` the verified client
  // certificate ("" when none). Errors are UNAUTHENTICATED.
  absl::StatusOr<Principal> Authenticate(std::string_view authorization, std::string_view cert_pem) const;

  // Whether `principal` may make this call. `request` may be null before a
  // streaming call's first message (the role alone is checked). On success
  // fills the families (KK numbers) and region the call reads, for the
  // access record. Errors are PERMISSION_DENIED (UNAVAILABLE when a lookup
  // failed) and name the field and the rule, never a value from the request.
  absl::Status Authorize(const Principal& principal, const MethodPolicy& policy,
                         const google::protobuf::Message* request, std::vector<std::string>* families,
                         std::string* region) const;

  // Takes one lookup from the peer's bucket; RESOURCE_EXHAUSTED when empty.
  absl::Status TakePublicLookup(std::string_view peer);

  // Appends one FamilyDataAccessed per family (or one for the region) and
  // waits until it is durable.
  absl::Status RecordRead(const Principal& principal, std::string_view method,
                          const std::vector<std::string>& families, std::string_view region) const;

  void Log(const std::string& line) const;
  const Clock& clock() const { return *clock_; }

 private:
  absl::Status Scope(const Principal& p, const MethodPolicy& policy, const google::protobuf::Message& request,
                     std::vector<std::string>* families, std::string* region) const;

  GuardOptions options_;
  const Clock* clock_;
  absl::Mutex mu_;
  struct Bucket {
    double tokens;
    absl::Time last;
  };
  std::unordered_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
};

// The guard's decision on the call of `context`. OK when no guard is
// installed in this process (services embedded in tests); PERMISSION_DENIED
// when a guard is installed but the call never went through it.
grpc::Status Authorized(const grpc::ServerContextBase* context);

// The principal of the call of `context` (the public when unknown).
Principal CallPrincipal(const grpc::ServerContextBase* context);

}  // namespace jaring::auth

// First statement of every RPC handler (and after each message a streaming
// handler reads): returns the guard's refusal.
#define JARING_AUTHORIZE(context)                                                \
  do {                                                                           \
    if (::grpc::Status jaring_auth_ = ::jaring::auth::Authorized(context);       \
        !jaring_auth_.ok()) {                                                    \
      return jaring_auth_;                                                       \
    }                                                                            \
  } while (0)
