// What `jaring serve --metrics HOST:PORT` serves over HTTP: Prometheus
// metrics on /metrics, liveness on /healthz, readiness on /readyz (every
// projection has applied everything on the log), and the gRPC interceptor
// that counts calls and their latency per method and status code.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "grpcpp/support/server_interceptor.h"
#include "libs/metrics/metrics.h"

namespace httplib {
class Server;
}

namespace jaring::server {

// Counts every gRPC call (jaring_grpc_requests_total{method,code}) and its
// latency (jaring_grpc_request_seconds{method}). No request content is
// looked at.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> GrpcMetricsInterceptor(
    metrics::Registry& registry);

class MetricsEndpoint {
 public:
  // Listens on `listen` (port 0 picks one) and serves on a thread of its
  // own. `ready` returns "" when ready, else why not (served with 503).
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(const std::string& listen,
                                                                metrics::Registry* registry,
                                                                std::function<std::string()> ready);
  ~MetricsEndpoint();  // stops serving
  int port() const { return port_; }

 private:
  MetricsEndpoint() = default;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace jaring::server
