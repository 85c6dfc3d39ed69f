// absl::Status to grpc::Status: the codes are the same numbers by design
// (both follow google.rpc.Code), so the conversion keeps code and message.
// Header-only: only targets that link gRPC include it.
#pragma once

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/support/status.h"

namespace jaring {

inline grpc::Status ToGrpc(const absl::Status& s) {
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

// A handler's reply: the response on success, else the status.
template <typename Resp>
grpc::Status Reply(absl::StatusOr<Resp> r, Resp* out) {
  if (!r.ok()) return ToGrpc(r.status());
  *out = std::move(*r);
  return grpc::Status::OK;
}

}  // namespace jaring
