// Prometheus metrics: counters, gauges and histograms with labels, rendered
// in the text exposition format (version 0.0.4) that Prometheus scrapes.
//
//   metrics::Registry r;
//   metrics::Counter* c = r.AddCounter("jaring_grpc_requests_total", "gRPC calls", {"method", "code"});
//   c->Add({"/jaring.v1.AppealsService/FileAppeal", "OK"});
//   r.AddCollector([&](metrics::Registry& r) { lag->Set({"population", "jaring.population.v1", "0"}, 3); });
//   std::string text = r.Render();   // collectors run first
//
// Label values must never carry personal data (no NIK, no name, no KK
// number): a metric is seen by whoever can reach the port.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace jaring::metrics {

using Labels = std::vector<std::string>;

class Family {
 public:
  virtual ~Family() = default;
  virtual void Render(std::string* out) const = 0;
};

// One number per label set: what counters and gauges share.
class ValueFamily : public Family {
 public:
  double Value(const Labels& values) const;
  void Render(std::string* out) const override;

 protected:
  ValueFamily(std::string name, std::string help, Labels label_names, const char* type);
  // Applies `update` to the value of `values` (0 when new).
  void Update(const Labels& values, const std::function<double(double)>& update);

 private:
  const std::string name_, help_;
  const Labels label_names_;
  const char* const type_;
  mutable absl::Mutex mu_;
  std::map<Labels, double> values_ ABSL_GUARDED_BY(mu_);
};

// A value per label set that only goes up.
class Counter final : public ValueFamily {
 public:
  Counter(std::string name, std::string help, Labels label_names)
      : ValueFamily(std::move(name), std::move(help), std::move(label_names), "counter") {}
  void Add(const Labels& values, double amount = 1) {
    Update(values, [amount](double v) { return v + amount; });
  }
};

// A value per label set that is set (usually by a collector at scrape time).
class Gauge final : public ValueFamily {
 public:
  Gauge(std::string name, std::string help, Labels label_names)
      : ValueFamily(std::move(name), std::move(help), std::move(label_names), "gauge") {}
  void Set(const Labels& values, double value) {
    Update(values, [value](double) { return value; });
  }
};

// Observations counted into cumulative buckets (upper bounds, ascending),
// with their sum and count.
class Histogram final : public Family {
 public:
  Histogram(std::string name, std::string help, Labels label_names, std::vector<double> bounds);
  void Observe(const Labels& values, double value);
  void Render(std::string* out) const override;

 private:
  struct Series {
    std::vector<uint64_t> buckets;  // per bound, not cumulative
    uint64_t count = 0;
    double sum = 0;
  };
  const std::string name_, help_;
  const Labels label_names_;
  const std::vector<double> bounds_;
  mutable absl::Mutex mu_;
  std::map<Labels, Series> series_ ABSL_GUARDED_BY(mu_);
};

class Registry {
 public:
  // The families live as long as the registry. Names follow Prometheus'
  // rules ([a-zA-Z_:][a-zA-Z0-9_:]*); a name registered twice is a bug.
  Counter* AddCounter(std::string name, std::string help, Labels label_names = {});
  Gauge* AddGauge(std::string name, std::string help, Labels label_names = {});
  Histogram* AddHistogram(std::string name, std::string help, Labels label_names, std::vector<double> bounds);
  // Runs at every Render, before the families are written (e.g. to read
  // projection offsets into gauges).
  void AddCollector(std::function<void()> collect);
  // Every family in registration order, in the text exposition format.
  std::string Render();

 private:
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Family>> families_ ABSL_GUARDED_BY(mu_);
  std::vector<std::function<void()>> collectors_ ABSL_GUARDED_BY(mu_);
};

// Seconds buckets for request latencies: 0.5 ms to 30 s.
std::vector<double> LatencyBounds();

}  // namespace jaring::metrics
