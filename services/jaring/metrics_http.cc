#include "services/jaring/metrics_http.h"

#include <httplib.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace jaring::server {
namespace {

using grpc::experimental::InterceptionHookPoints;

class MetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(std::string method, metrics::Counter* calls, metrics::Histogram* latency)
      : method_(std::move(method)), calls_(calls), latency_(latency), start_(absl::Now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      calls_->Add({method_, absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code()))});
      latency_->Observe({method_}, absl::ToDoubleSeconds(absl::Now() - start_));
    }
    methods->Proceed();
  }

 private:
  const std::string method_;
  metrics::Counter* const calls_;
  metrics::Histogram* const latency_;
  const absl::Time start_;
};

class MetricsInterceptorFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit MetricsInterceptorFactory(metrics::Registry& r)
      : calls_(r.AddCounter("jaring_grpc_requests_total", "gRPC calls answered, by method and status code",
                            {"method", "code"})),
        latency_(r.AddHistogram("jaring_grpc_request_seconds", "gRPC call latency in seconds, by method", {"method"},
                                metrics::LatencyBounds())) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override {
    return new MetricsInterceptor(info->method(), calls_, latency_);
  }

 private:
  metrics::Counter* const calls_;
  metrics::Histogram* const latency_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> GrpcMetricsInterceptor(
    metrics::Registry& registry) {
  return std::make_unique<MetricsInterceptorFactory>(registry);
}

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(const std::string& listen,
                                                                        metrics::Registry* registry,
                                                                        std::function<std::string()> ready) {
  const size_t colon = listen.rfind(':');
  int wanted = -1;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &wanted) || wanted < 0 ||
      wanted > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("--metrics: ", listen, " is not HOST:PORT"));
  }
  const std::string host = listen.substr(0, colon);
  std::unique_ptr<MetricsEndpoint> m(new MetricsEndpoint());
  m->http_ = std::make_unique<httplib::Server>();
  m->http_->Get("/metrics", [registry](const httplib::Request&, httplib::Response& res) {
    res.set_content(registry->Render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  m->http_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
  m->http_->Get("/readyz", [ready](const httplib::Request&, httplib::Response& res) {
    const std::string why = ready();
    res.status = why.empty() ? 200 : 503;
    res.set_content(why.empty() ? "ready\n" : why, "text/plain");
  });
  if (wanted == 0) {
    m->port_ = m->http_->bind_to_any_port(host);
  } else if (m->http_->bind_to_port(host, wanted)) {
    m->port_ = wanted;
  }
  if (m->port_ <= 0) return absl::UnavailableError(absl::StrCat("--metrics: cannot listen on ", listen));
  httplib::Server* http = m->http_.get();
  m->thread_ = std::thread([http] { http->listen_after_bind(); });
  return m;
}

MetricsEndpoint::~MetricsEndpoint() {
  if (http_) http_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace jaring::server
