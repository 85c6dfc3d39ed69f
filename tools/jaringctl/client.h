// The jaringctl side of the gRPC connection: one channel to --target, a
// deadline per unary call (--timeout), and the mapping from a failed call to
// what the user sees and the process exit code.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "grpcpp/grpcpp.h"
#include "jaring/v1/population_service.grpc.pb.h"
#include "tools/synth/synth.h"

namespace jaring::ctl {

// Exit codes of jaringctl.
inline constexpr int kExitOk = 0;
inline constexpr int kExitServiceError = 1;
inline constexpr int kExitBadArguments = 2;
inline constexpr int kExitUnreachable = 3;

struct GlobalFlags {
  std::string target = "127.0.0.1:7700";
  bool json = false;
  // Deadline of each unary call, in seconds; streams get no deadline unless
  // timeout_set (the user passed --timeout).
  double timeout = 30;
  bool timeout_set = false;
  // TLS: the CA that signed the server's certificate (turns TLS on), and
  // for mutual TLS the client's certificate and key (PEM files). The server
  // name to check in the certificate defaults to the target's host.
  std::string tls_ca, tls_cert, tls_key, tls_server_name;
  // A signed token (jaring token) sent as `authorization: Bearer …`; or a
  // file holding one. Neither: the caller is the public (or its client
  // certificate speaks for it).
  std::string token, token_file;
  // Where each service is when they run as separate processes
  // (--population-target …); empty: --target.
  std::string population_target, eligibility_target, appeals_target, ledger_target, audit_target;

  // These flags with `target` set to where `service` ("jaring.v1.
  // LedgerService") is served.
  GlobalFlags For(std::string_view service) const;
};

// Owns the channel and the population stub (to the population service's
// target: make it with flags.For("jaring.v1.PopulationService") when the
// services run apart). Not thread-safe to construct; the stub may be used
// from several threads.
class Client {
 public:
  explicit Client(const GlobalFlags& flags);

  v1::PopulationService::Stub& population() { return *population_; }
  // The channel to --target (TLS per the flags); other services' stubs
  // share it.
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  const GlobalFlags& flags() const { return flags_; }

  // Prepares a context: deadline from --timeout (for streams only when
  // --timeout was given).
  void Prepare(grpc::ClientContext* ctx, bool stream = false) const;

  // Prints "jaringctl: <CODE>: <message>" (plus a hint on UNAVAILABLE) to
  // stderr and returns the exit code: 3 when the service is unreachable, 1
  // otherwise.
  int Fail(const grpc::Status& status) const;

  // Sends one command through its RPC; fills *result on success.
  grpc::Status Send(const synth::SynthCommand& command, v1::CommandResult* result);

 private:
  GlobalFlags flags_;
  std::string token_;  // --token, or the contents of --token-file
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::PopulationService::Stub> population_;
};

// A service's stub on the Client's channel, with its deadlines and error
// mapping: Remote<v1::LedgerService>, Remote<v1::AppealsService>, ...
template <typename Service>
class Remote {
 public:
  using Stub = typename Service::Stub;
  template <typename Req, typename Resp>
  using Rpc = grpc::Status (Stub::*)(grpc::ClientContext*, const Req&, Resp*);

  explicit Remote(const GlobalFlags& g)
      : client_(g.For(Service::service_full_name())), stub_(Service::NewStub(client_.channel())) {}

  // One unary call with the --timeout deadline.
  template <typename Req, typename Resp>
  grpc::Status Call(Rpc<Req, Resp> rpc, const Req& req, Resp* resp) {
    grpc::ClientContext ctx;
    client_.Prepare(&ctx);
    return ((*stub_).*rpc)(&ctx, req, resp);
  }

  Stub& stub() { return *stub_; }
  void Prepare(grpc::ClientContext* ctx, bool stream) const { client_.Prepare(ctx, stream); }
  int Fail(const grpc::Status& st) const { return client_.Fail(st); }

 private:
  Client client_;
  std::unique_ptr<Stub> stub_;
};

// "INVALID_ARGUMENT" for a gRPC code.
std::string CodeName(grpc::StatusCode code);

// Prints "jaringctl: <message>" to stderr and returns kExitBadArguments.
int BadArguments(const std::string& message);

}  // namespace jaring::ctl
