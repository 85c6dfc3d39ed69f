// The text exposition format Prometheus scrapes: help and type lines,
// labels escaped, cumulative histogram buckets, collectors run per render.
#include "libs/metrics/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace jaring::metrics {
namespace {

using ::testing::HasSubstr;

TEST(MetricsTest, RendersCountersGaugesAndHistograms) {
  Registry r;
  Counter* calls = r.AddCounter("jaring_grpc_requests_total", "gRPC calls by method and code", {"method", "code"});
  Gauge* lag = r.AddGauge("jaring_projection_lag", "records not yet applied", {"service", "topic", "partition"});
  Histogram* latency = r.AddHistogram("jaring_grpc_request_seconds", "latency", {"method"}, {0.01, 0.1});
  calls->Add({"/a", "OK"});
  calls->Add({"/a", "OK"}, 2);
  calls->Add({"/a", "NOT_FOUND"});
  int collected = 0;
  r.AddCollector([&] { lag->Set({"population", "jaring.population.v1", "0"}, ++collected); });
  latency->Observe({"/a"}, 0.005);
  latency->Observe({"/a"}, 0.05);
  latency->Observe({"/a"}, 5);
  const std::string text = r.Render();
  EXPECT_THAT(text, HasSubstr("# HELP jaring_grpc_requests_total gRPC calls by method and code\n"
                              "# TYPE jaring_grpc_requests_total counter\n"));
  EXPECT_THAT(text, HasSubstr("jaring_grpc_requests_total{method=\"/a\",code=\"OK\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("jaring_grpc_requests_total{method=\"/a\",code=\"NOT_FOUND\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("jaring_projection_lag{service=\"population\",topic=\"jaring.population.v1\",partition=\"0\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("jaring_grpc_request_seconds_bucket{method=\"/a\",le=\"0.01\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("jaring_grpc_request_seconds_bucket{method=\"/a\",le=\"0.1\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("jaring_grpc_request_seconds_bucket{method=\"/a\",le=\"+Inf\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("jaring_grpc_request_seconds_count{method=\"/a\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("jaring_grpc_request_seconds_sum{method=\"/a\"} 5.055\n"));
  EXPECT_THAT(r.Render(), HasSubstr("partition=\"0\"} 2\n")) << "collectors run at every render";
}

TEST(MetricsTest, EscapesLabelValues) {
  Registry r;
  Gauge* g = r.AddGauge("x", "h", {"l"});
  g->Set({"a\"b\\c\nd"}, 1.5);
  EXPECT_THAT(r.Render(), HasSubstr("x{l=\"a\\\"b\\\\c\\nd\"} 1.5\n"));
}

}  // namespace
}  // namespace jaring::metrics
