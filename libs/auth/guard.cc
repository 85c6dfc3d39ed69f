#include "libs/auth/guard.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <atomic>
#include <cstdio>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/auth/token.h"
#include "libs/base/grpc_status.h"
#include "libs/base/log.h"
#include "libs/base/status.h"
#include "libs/base/strings.h"
#include "libs/eventlog/eventlog.h"
#include "libs/events/envelope.h"
#include "libs/events/topics.h"
#include "jaring/v1/envelope.pb.h"

namespace jaring::auth {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// ------------------------------------------------------------- call registry

// One per call the guard's interceptor sees, looked up by the handler
// through its ServerContext.
struct CallState {
  absl::Mutex mu;
  bool decided ABSL_GUARDED_BY(mu) = false;
  // The handler asked (JARING_AUTHORIZE).
  bool asked ABSL_GUARDED_BY(mu) = false;
  absl::Status decision ABSL_GUARDED_BY(mu);
  Principal principal ABSL_GUARDED_BY(mu);
};

std::atomic<int> g_guards{0};
absl::Mutex g_calls_mu(absl::kConstInit);
absl::flat_hash_map<const grpc::ServerContextBase*, CallState*>& Calls() {
  static auto* calls = new absl::flat_hash_map<const grpc::ServerContextBase*, CallState*>();
  return *calls;
}

// ------------------------------------------------------------- request fields

// The string at a dotted path ("family.kk_number"); "" when a message on the
// way is unset or the field does not exist.
std::string FieldValue(const Message& m, std::string_view path) {
  const Message* cur = &m;
  for (absl::string_view part : absl::StrSplit(Av(path), '.')) {
    const FieldDescriptor* f = cur->GetDescriptor()->FindFieldByName(std::string(part));
    if (f == nullptr || f->is_repeated()) return "";
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (!cur->GetReflection()->HasField(*cur, f)) return "";
      cur = &cur->GetReflection()->GetMessage(*cur, f);
      continue;
    }
    if (f->cpp_type() != FieldDescriptor::CPPTYPE_STRING) return "";
    return cur->GetReflection()->GetString(*cur, f);
  }
  return "";
}

absl::Status Denied(std::string_view field, std::string_view why) {
  return absl::PermissionDeniedError(absl::StrCat(Av(field), ": ", Av(why)));
}

// The address of a peer without its port ("ipv4:127.0.0.1:5555" ->
// "ipv4:127.0.0.1").
std::string PeerAddress(std::string_view peer) {
  const size_t colon = peer.rfind(':');
  return std::string(colon == std::string_view::npos ? peer : peer.substr(0, colon));
}

// Role and region from a client certificate's subject: OU = "regional/52.71",
// "national", ...; CN = the subject.
absl::StatusOr<Principal> CertificatePrincipal(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = bio ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  if (cert == nullptr) return absl::UnauthenticatedError("certificate: cannot be read");
  auto text = [&](int nid) {
    char buf[256] = {0};
    const int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), nid, buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  };
  const std::string ou = text(NID_organizationalUnitName);
  const std::string cn = text(NID_commonName);
  X509_free(cert);
  const size_t slash = ou.find('/');
  std::optional<Role> role = ParseRole(ou.substr(0, slash));
  if (!role.has_value() || *role == Role::kPublic) {
    return absl::UnauthenticatedError(
        "certificate: its OU names no role (national, regional/<region>, verifier, oversight)");
  }
  Principal p;
  p.role = *role;
  p.subject = cn;
  p.proven_by = "certificate";
  if (slash != std::string::npos) p.region = ou.substr(slash + 1);
  if (p.subject.empty()) return absl::UnauthenticatedError("certificate: has no CN");
  if (p.role == Role::kRegional && !IsRegionPrefix(p.region)) {
    return absl::UnauthenticatedError("certificate: a regional office's OU is regional/<region prefix>");
  }
  if (p.role != Role::kRegional && !p.region.empty()) {
    return absl::UnauthenticatedError("certificate: only a regional office's OU carries a region");
  }
  return p;
}

// ------------------------------------------------------------- interceptor

class AuthInterceptor final : public grpc::experimental::Interceptor {
 public:
  AuthInterceptor(Guard* guard, grpc::experimental::ServerRpcInfo* info)
      : guard_(guard),
        ctx_(info->server_context()),
        method_(info->method()),
        policy_(FindPolicy(method_)),
        streaming_(info->type() != grpc::experimental::ServerRpcInfo::Type::UNARY) {
    absl::MutexLock l(&g_calls_mu);
    Calls()[ctx_] = &state_;
  }
  ~AuthInterceptor() override {
    absl::MutexLock l(&g_calls_mu);
    Calls().erase(ctx_);
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      Admit();
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      void* m = methods->GetRecvMessage();
      if (m != nullptr) Check(static_cast<google::protobuf::MessageLite*>(m));
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      // A refused call answers nothing, even if its handler did not ask.
      absl::MutexLock l(&state_.mu);
      const void* out = methods->GetSendMessage();
      if (!state_.decision.ok() && out != nullptr) {
        empty_.reset(static_cast<const google::protobuf::MessageLite*>(out)->New());
        methods->ModifySendMessage(empty_.get());
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      absl::MutexLock l(&state_.mu);
      if (policy_ != nullptr && !state_.asked) {
        // A handler without JARING_AUTHORIZE: a bug the tests look for.
        guard_->Log(log::JsonLine("error", "handler_skipped_authorization", {{"method", method_}},
                                  guard_->clock().Now()));
      }
      if (!state_.decision.ok()) {
        const std::string code = absl::StatusCodeToString(state_.decision.code());
        if (methods->GetSendStatus().ok()) methods->ModifySendStatus(ToGrpc(state_.decision));
        // A read-only server's refusal of a write is no permission matter.
        const char* event = state_.decision.code() == absl::StatusCode::kPermissionDenied ? "permission_denied"
                                                                                          : "call_refused";
        guard_->Log(log::JsonLine("warn", event,
                                  {{"method", method_},
                                   {"role", RoleName(state_.principal.role)},
                                   {"subject", state_.principal.subject},
                                   {"proven_by", state_.principal.proven_by},
                                   {"code", code},
                                   {"reason", Sv(state_.decision.message())}},
                                  guard_->clock().Now()));
      }
    }
    methods->Proceed();
  }

 private:
  // Who is calling, and may that role call this method at all.
  void Admit() {
    std::string authorization, cert;
    for (const auto& [k, v] : ctx_->client_metadata()) {
      if (std::string_view(k.data(), k.size()) == "authorization") authorization.assign(v.data(), v.size());
    }
    std::shared_ptr<const grpc::AuthContext> auth = ctx_->auth_context();
    if (auth != nullptr) {
      for (const auto& v : auth->FindPropertyValues("x509_pem_cert")) cert.assign(v.data(), v.size());
    }
    absl::StatusOr<Principal> p = guard_->Authenticate(authorization, cert);
    absl::Status decision;
    if (!p.ok()) {
      decision = p.status();
    } else if (policy_ == nullptr) {
      if (IsJaringMethod(method_)) decision = absl::PermissionDeniedError("method: has no access policy");
    } else {
      decision = guard_->Authorize(*p, *policy_, nullptr, nullptr, nullptr);
      if (decision.ok() && policy_->scope == Scope::kPublicLookup && p->role == Role::kPublic) {
        decision = guard_->TakePublicLookup(PeerAddress(ctx_->peer()));
      }
    }
    absl::MutexLock l(&state_.mu);
    if (p.ok()) state_.principal = *p;
    state_.decision = decision;
    state_.decided = policy_ == nullptr || !decision.ok() || streaming_;
  }

  // The request in hand: its scope, and the record of the read.
  void Check(const google::protobuf::MessageLite* lite) {
    if (policy_ == nullptr) return;
    Principal principal;
    {
      absl::MutexLock l(&state_.mu);
      if (!state_.decision.ok()) return;
      principal = state_.principal;
    }
    const auto* request = dynamic_cast<const Message*>(lite);
    absl::Status decision;
    std::vector<std::string> families;
    std::string region;
    if (request == nullptr) {
      decision = absl::InternalError("request: not a protobuf message");
    } else {
      decision = guard_->Authorize(principal, *policy_, request, &families, &region);
    }
    const bool regional_read = policy_->scope == Scope::kRegionField || policy_->scope == Scope::kCycleField;
    if (decision.ok() && policy_->family_data && (!families.empty() || regional_read)) {
      decision = guard_->RecordRead(principal, method_, families, region);
    }
    absl::MutexLock l(&state_.mu);
    state_.decision = decision;
    state_.decided = true;
  }

  Guard* const guard_;
  grpc::ServerContextBase* const ctx_;
  const std::string method_;
  const MethodPolicy* const policy_;
  const bool streaming_;
  CallState state_;
  std::unique_ptr<google::protobuf::MessageLite> empty_;
};

class Factory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit Factory(Guard* guard) : guard_(guard) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override {
    return new AuthInterceptor(guard_, info);
  }

 private:
  Guard* const guard_;
};

}  // namespace

// ------------------------------------------------------------- Guard

Guard::Guard(GuardOptions options)
    : options_(std::move(options)), clock_(options_.clock != nullptr ? options_.clock : Clock::Real()) {
  g_guards.fetch_add(1);
}

Guard::~Guard() { g_guards.fetch_sub(1); }

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> Guard::InterceptorFactory() {
  return std::make_unique<Factory>(this);
}

void Guard::Log(const std::string& line) const {
  if (options_.log) {
    options_.log(line);
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

absl::StatusOr<Principal> Guard::Authenticate(std::string_view authorization, std::string_view cert_pem) const {
  if (!authorization.empty()) {
    constexpr std::string_view kBearer = "Bearer ";
    if (authorization.substr(0, kBearer.size()) != kBearer) {
      return absl::UnauthenticatedError("authorization: expected \"Bearer <token>\"");
    }
    if (options_.token_key.empty()) {
      return absl::UnauthenticatedError("token: this server accepts no tokens (it has no --auth-key)");
    }
    JARING_ASSIGN_OR_RETURN(TokenClaims claims, VerifyToken(authorization.substr(kBearer.size()), options_.token_key,
                                                            options_.audience, clock_->Now()));
    return claims.principal;
  }
  if (!cert_pem.empty()) return CertificatePrincipal(cert_pem);
  return Principal{};
}

absl::Status Guard::Authorize(const Principal& p, const MethodPolicy& policy, const Message* request,
                              std::vector<std::string>* families, std::string* region) const {
  const std::string_view role = RoleName(p.role);
  if (policy.access == Access::kWrite && !options_.read_only.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("this server only reads (", options_.read_only, "); send commands to the live system"));
  }
  switch (p.role) {
    case Role::kNational:
      break;
    case Role::kOversight:
      if (policy.access == Access::kWrite) {
        return Denied("role", "oversight reads and replays; it changes nothing");
      }
      break;
    case Role::kRegional:
      if (!policy.regional) return Denied("role", "a national write or cross-region read; regional offices cannot");
      break;
    case Role::kVerifier:
      if (!policy.verifier) return Denied("role", "field verifiers see only their assigned appeals' families");
      break;
    case Role::kPublic:
      if (policy.scope != Scope::kPublicLookup) {
        return absl::PermissionDeniedError(
            "role: the public may only look up one family's status (sign in with a token or certificate)");
      }
      break;
  }
  (void)role;
  if (request == nullptr) return absl::OkStatus();
  return Scope(p, policy, *request, families, region);
}

absl::Status Guard::Scope(const Principal& p, const MethodPolicy& policy, const Message& request,
                          std::vector<std::string>* families, std::string* region) const {
  const bool unrestricted = p.role == Role::kNational || p.role == Role::kOversight;
  const Resolvers& r = options_.resolvers;
  auto family_allowed = [&](std::string_view field, const std::string& kk) -> absl::Status {
    if (unrestricted || p.role == Role::kPublic) return absl::OkStatus();
    if (p.role == Role::kRegional) {
      if (!RegionWithin(KkRegion(kk), p.region)) {
        return Denied(field, absl::StrCat("the family is outside region ", p.region));
      }
      return absl::OkStatus();
    }
    if (!r.verifier_family) return Denied(field, "a verifier's families are known where appeals are served");
    JARING_ASSIGN_OR_RETURN(bool assigned, r.verifier_family(p.subject, kk));
    if (!assigned) return Denied(field, "the family is in no appeal assigned to this verifier");
    return absl::OkStatus();
  };

  switch (policy.scope) {
    case Scope::kGlobal:
      return absl::OkStatus();
    case Scope::kPublicLookup: {
      // Open to every role: knowing the KK number and a member's NIK is
      // the proof, which the service checks.
      std::string kk = FieldValue(request, policy.field);
      if (families != nullptr && !kk.empty()) families->push_back(std::move(kk));
      return absl::OkStatus();
    }
    case Scope::kFamilyField: {
      for (std::string_view field : {policy.field, policy.second_field}) {
        if (field.empty()) continue;
        std::string kk = FieldValue(request, field);
        if (kk.empty()) continue;
        JARING_RETURN_IF_ERROR(family_allowed(field, kk));
        if (families != nullptr) families->push_back(std::move(kk));
      }
      // None given: nothing of a family is touched (the service refuses the
      // request as malformed; an import's closing message carries none).
      return absl::OkStatus();
    }
    case Scope::kRegionField: {
      const std::string prefix = FieldValue(request, policy.field);
      if (region != nullptr) *region = prefix;
      if (p.role == Role::kRegional && !RegionWithin(prefix, p.region)) {
        return Denied(policy.field, absl::StrCat("must lie within region ", p.region));
      }
      return absl::OkStatus();
    }
    case Scope::kMemberField: {
      const std::string nik = FieldValue(request, policy.field);
      if (nik.empty()) return unrestricted ? absl::OkStatus() : Denied(policy.field, "is required to check access");
      if (!r.member_family) {
        return unrestricted ? absl::OkStatus() : Denied(policy.field, "members are known where population is served");
      }
      JARING_ASSIGN_OR_RETURN(std::optional<std::string> kk, r.member_family(nik));
      if (!kk.has_value()) {
        return unrestricted ? absl::OkStatus() : Denied(policy.field, "is not a member of a family you may read");
      }
      JARING_RETURN_IF_ERROR(family_allowed(policy.field, *kk));
      if (families != nullptr) families->push_back(*kk);
      return absl::OkStatus();
    }
    case Scope::kAppealField: {
      const std::string id = FieldValue(request, policy.field);
      if (id.empty()) return unrestricted ? absl::OkStatus() : Denied(policy.field, "is required to check access");
      if (!r.appeal) return unrestricted ? absl::OkStatus() : Denied(policy.field, "appeals are known where appeals are served");
      JARING_ASSIGN_OR_RETURN(std::optional<AppealFacts> a, r.appeal(id));
      if (!a.has_value()) {
        return unrestricted ? absl::OkStatus() : Denied(policy.field, "is not an appeal you may see");
      }
      if (families != nullptr) families->push_back(a->kk_number);
      if (unrestricted) return absl::OkStatus();
      if (p.role == Role::kRegional) {
        if (!RegionWithin(a->region_code, p.region)) {
          return Denied(policy.field, absl::StrCat("the appeal's family is outside region ", p.region));
        }
        return absl::OkStatus();
      }
      if (a->verifier_id != p.subject) return Denied(policy.field, "is not assigned to this verifier");
      return absl::OkStatus();
    }
    case Scope::kCycleField: {
      const std::string id = FieldValue(request, policy.field);
      // A statement's later chunks carry no cycle id (every chunk that
      // does is checked); a unary call without one is refused by its
      // handler.
      if (id.empty()) return absl::OkStatus();
      if (!r.cycle_region) return unrestricted ? absl::OkStatus() : Denied(policy.field, "cycles are known where the ledger is served");
      JARING_ASSIGN_OR_RETURN(std::optional<std::string> cycle_region, r.cycle_region(id));
      if (region != nullptr && cycle_region.has_value()) *region = *cycle_region;
      if (unrestricted) return absl::OkStatus();
      if (!cycle_region.has_value() || !RegionWithin(*cycle_region, p.region)) {
        return Denied(policy.field, absl::StrCat("is not a cycle of region ", p.region));
      }
      return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

absl::Status Guard::TakePublicLookup(std::string_view peer) {
  const absl::Time now = clock_->Now();
  absl::MutexLock l(&mu_);
  if (buckets_.size() > 100000) buckets_.clear();  // bounded memory under a flood of addresses
  auto [it, inserted] = buckets_.try_emplace(std::string(peer), Bucket{static_cast<double>(options_.public_burst), now});
  Bucket& b = it->second;
  b.tokens = std::min<double>(options_.public_burst,
                              b.tokens + absl::FDivDuration(now - b.last, options_.public_refill));
  b.last = now;
  if (b.tokens < 1) {
    return absl::ResourceExhaustedError(
        absl::StrCat("rate: at most ", options_.public_burst, " status lookups in a row, then one every ",
                     absl::FormatDuration(options_.public_refill), "; try again later"));
  }
  b.tokens -= 1;
  return absl::OkStatus();
}

absl::Status Guard::RecordRead(const Principal& principal, std::string_view method,
                               const std::vector<std::string>& families, std::string_view region) const {
  if (options_.access_log == nullptr) return absl::OkStatus();
  std::vector<eventlog::Record> records;
  auto add = [&](const std::string& kk, std::string_view prefix) {
    v1::Envelope e;
    e.set_event_id(events::RandomId());
    e.set_key(kk.empty() ? std::string(prefix.empty() ? "*" : prefix) : kk);
    e.set_region_code(kk.empty() ? std::string(prefix) : KkRegion(kk));
    *e.mutable_occurred_at() = events::ToProtoTime(clock_->Now());
    *e.mutable_recorded_at() = e.occurred_at();
    e.set_source(v1::SOURCE_SYSTEM);
    e.set_actor(principal.subject);
    v1::FamilyDataAccessed* a = e.mutable_family_data_accessed();
    a->set_subject(principal.subject);
    a->set_role(std::string(RoleName(principal.role)));
    a->set_proven_by(principal.proven_by);
    a->set_method(std::string(method));
    a->set_kk_number(kk);
    a->set_region_prefix(std::string(prefix));
    events::StampType(e);
    records.push_back(events::ToRecord(e));
  };
  if (families.empty()) {
    add("", region);
  } else {
    for (const std::string& kk : families) add(kk, "");
  }
  absl::StatusOr<std::vector<eventlog::Position>> pos = options_.access_log->Append(events::kAccessTopic, records);
  if (!pos.ok()) {
    return absl::UnavailableError(absl::StrCat("access record: cannot be written, so nothing is answered (",
                                               pos.status().message(), ")"));
  }
  return absl::OkStatus();
}

// ------------------------------------------------------------- handlers

grpc::Status Authorized(const grpc::ServerContextBase* context) {
  if (g_guards.load() == 0) return grpc::Status::OK;
  CallState* state = nullptr;
  {
    absl::MutexLock l(&g_calls_mu);
    auto it = Calls().find(context);
    if (it != Calls().end()) state = it->second;
  }
  if (state == nullptr) return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "call: not seen by the guard");
  absl::MutexLock l(&state->mu);
  state->asked = true;
  if (!state->decided) return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "call: no decision yet");
  return ToGrpc(state->decision);
}

Principal CallPrincipal(const grpc::ServerContextBase* context) {
  absl::MutexLock l(&g_calls_mu);
  auto it = Calls().find(context);
  if (it == Calls().end()) return Principal{};
  absl::MutexLock l2(&it->second->mu);
  return it->second->principal;
}

}  // namespace jaring::auth
