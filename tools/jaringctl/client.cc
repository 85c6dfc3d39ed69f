#include "tools/jaringctl/client.h"

#include <fstream>

#include <chrono>
#include <cstdio>
#include <variant>

#include "absl/status/status.h"

namespace jaring::ctl {
namespace {

struct Visitor {
  grpc::ClientContext* ctx;
  v1::PopulationService::Stub& s;
  v1::CommandResult* result;
  template <typename Resp>
  grpc::Status Done(grpc::Status st, Resp& resp) {
    if (st.ok()) *result = resp.result();
    return st;
  }
  grpc::Status operator()(const v1::RecordBirthRequest& r) {
    v1::RecordBirthResponse resp;
    return Done(s.RecordBirth(ctx, r, &resp), resp);
  }
  grpc::Status operator()(const v1::RecordDeathRequest& r) {
    v1::RecordDeathResponse resp;
    return Done(s.RecordDeath(ctx, r, &resp), resp);
  }
  grpc::Status operator()(const v1::MoveMemberRequest& r) {
    v1::MoveMemberResponse resp;
    return Done(s.MoveMember(ctx, r, &resp), resp);
  }
  grpc::Status operator()(const v1::SplitFamilyRequest& r) {
    v1::SplitFamilyResponse resp;
    return Done(s.SplitFamily(ctx, r, &resp), resp);
  }
  grpc::Status operator()(const v1::ChangeHeadRequest& r) {
    v1::ChangeHeadResponse resp;
    return Done(s.ChangeHead(ctx, r, &resp), resp);
  }
  grpc::Status operator()(const v1::RecordWelfareAssessmentRequest& r) {
    v1::RecordWelfareAssessmentResponse resp;
    return Done(s.RecordWelfareAssessment(ctx, r, &resp), resp);
  }
  grpc::Status operator()(const v1::ChangeMemberAttributesRequest& r) {
    v1::ChangeMemberAttributesResponse resp;
    return Done(s.ChangeMemberAttributes(ctx, r, &resp), resp);
  }
  grpc::Status operator()(const v1::CorrectRecordRequest& r) {
    v1::CorrectRecordResponse resp;
    return Done(s.CorrectRecord(ctx, r, &resp), resp);
  }
};

}  // namespace

GlobalFlags GlobalFlags::For(std::string_view service) const {
  GlobalFlags g = *this;
  const std::string* own = nullptr;
  if (service == "jaring.v1.PopulationService") own = &population_target;
  if (service == "jaring.v1.EligibilityService") own = &eligibility_target;
  if (service == "jaring.v1.AppealsService") own = &appeals_target;
  if (service == "jaring.v1.LedgerService") own = &ledger_target;
  if (service == "jaring.v1.AuditService") own = &audit_target;
  if (own != nullptr && !own->empty()) g.target = *own;
  return g;
}

std::string CodeName(grpc::StatusCode code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

int BadArguments(const std::string& message) {
  std::fprintf(stderr, "jaringctl: %s\n", message.c_str());
  return kExitBadArguments;
}

namespace {
std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
}  // namespace

Client::Client(const GlobalFlags& flags) : flags_(flags) {
  token_ = flags_.token;
  if (token_.empty() && !flags_.token_file.empty()) {
    token_ = ReadFileOrEmpty(flags_.token_file);
    while (!token_.empty() && (token_.back() == '\n' || token_.back() == '\r' || token_.back() == ' ')) token_.pop_back();
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
  if (!flags_.tls_ca.empty()) {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = ReadFileOrEmpty(flags_.tls_ca);
    if (!flags_.tls_cert.empty()) {
      tls.pem_cert_chain = ReadFileOrEmpty(flags_.tls_cert);
      tls.pem_private_key = ReadFileOrEmpty(flags_.tls_key);
    }
    creds = grpc::SslCredentials(tls);
    if (!flags_.tls_server_name.empty()) args.SetSslTargetNameOverride(flags_.tls_server_name);
  }
  channel_ = grpc::CreateCustomChannel(flags_.target, creds, args);
  population_ = v1::PopulationService::NewStub(channel_);
}

void Client::Prepare(grpc::ClientContext* ctx, bool stream) const {
  if (!token_.empty()) ctx->AddMetadata("authorization", "Bearer " + token_);
  if (stream && !flags_.timeout_set) return;
  if (flags_.timeout > 0) {
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::milliseconds(static_cast<int64_t>(flags_.timeout * 1000)));
  }
}

int Client::Fail(const grpc::Status& status) const {
  std::fprintf(stderr, "jaringctl: %s: %s\n", CodeName(status.error_code()).c_str(),
               status.error_message().c_str());
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    std::fprintf(stderr,
                 "jaringctl: hint: is `jaring serve` running at %s? (set --target or JARING_TARGET, or the "
                 "service's own --population-target, --ledger-target, ...)\n",
                 flags_.target.c_str());
    return kExitUnreachable;
  }
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
      status.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
    std::fprintf(stderr, "jaringctl: hint: %s (--token, --token-file or JARING_TOKEN; `jaring token` issues one)\n",
                 token_.empty() ? "no token was sent, so you called as the public"
                                : "your token's role or region does not allow this call");
  }
  return kExitServiceError;
}

grpc::Status Client::Send(const synth::SynthCommand& command, v1::CommandResult* result) {
  grpc::ClientContext ctx;
  Prepare(&ctx);
  v1::PopulationService::Stub& s = *population_;
  v1::CommandResult ignored;
  return std::visit(Visitor{&ctx, s, result != nullptr ? result : &ignored}, command);
}

}  // namespace jaring::ctl
