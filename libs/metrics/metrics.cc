#include "libs/metrics/metrics.h"

#include <cmath>
#include <cstdio>
#include <utility>

#include "libs/base/status.h"

namespace jaring::metrics {
namespace {

bool ValidName(const std::string& name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// Label values escape backslash, double quote and newline.
std::string Escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string Number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.9g", v);
  }
  return buf;
}

std::string LabelText(const Labels& names, const Labels& values, const std::string& extra = "") {
  std::string out;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    out += (out.empty() ? "" : ",") + names[i] + "=\"" + Escape(values[i]) + "\"";
  }
  if (!extra.empty()) out += (out.empty() ? "" : ",") + extra;
  return out.empty() ? "" : "{" + out + "}";
}

void Header(std::string* out, const std::string& name, const std::string& help, const char* type) {
  *out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

ValueFamily::ValueFamily(std::string name, std::string help, Labels label_names, const char* type)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)), type_(type) {}

void ValueFamily::Update(const Labels& values, const std::function<double(double)>& update) {
  JARING_RELEASE_ASSERT(values.size() == label_names_.size(), "metrics: wrong number of label values");
  absl::MutexLock l(&mu_);
  double& v = values_[values];
  v = update(v);
}

double ValueFamily::Value(const Labels& values) const {
  absl::MutexLock l(&mu_);
  auto it = values_.find(values);
  return it == values_.end() ? 0 : it->second;
}

void ValueFamily::Render(std::string* out) const {
  Header(out, name_, help_, type_);
  absl::MutexLock l(&mu_);
  for (const auto& [labels, v] : values_) *out += name_ + LabelText(label_names_, labels) + " " + Number(v) + "\n";
}

Histogram::Histogram(std::string name, std::string help, Labels label_names, std::vector<double> bounds)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)), bounds_(std::move(bounds)) {}

void Histogram::Observe(const Labels& values, double value) {
  JARING_RELEASE_ASSERT(values.size() == label_names_.size(), "histogram: wrong number of label values");
  absl::MutexLock l(&mu_);
  Series& s = series_[values];
  if (s.buckets.empty()) s.buckets.assign(bounds_.size(), 0);
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (value <= bounds_[i]) {
      ++s.buckets[i];
      break;
    }
  }
  ++s.count;
  s.sum += value;
}

void Histogram::Render(std::string* out) const {
  Header(out, name_, help_, "histogram");
  absl::MutexLock l(&mu_);
  for (const auto& [labels, s] : series_) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds_.size(); ++i) {
      cumulative += s.buckets[i];
      *out += name_ + "_bucket" + LabelText(label_names_, labels, "le=\"" + Number(bounds_[i]) + "\"") + " " +
              std::to_string(cumulative) + "\n";
    }
    *out += name_ + "_bucket" + LabelText(label_names_, labels, "le=\"+Inf\"") + " " + std::to_string(s.count) + "\n";
    *out += name_ + "_sum" + LabelText(label_names_, labels) + " " + Number(s.sum) + "\n";
    *out += name_ + "_count" + LabelText(label_names_, labels) + " " + std::to_string(s.count) + "\n";
  }
}

Counter* Registry::AddCounter(std::string name, std::string help, Labels label_names) {
  JARING_RELEASE_ASSERT(ValidName(name), "metrics: invalid metric name");
  auto c = std::make_unique<Counter>(std::move(name), std::move(help), std::move(label_names));
  Counter* raw = c.get();
  absl::MutexLock l(&mu_);
  families_.push_back(std::move(c));
  return raw;
}

Gauge* Registry::AddGauge(std::string name, std::string help, Labels label_names) {
  JARING_RELEASE_ASSERT(ValidName(name), "metrics: invalid metric name");
  auto g = std::make_unique<Gauge>(std::move(name), std::move(help), std::move(label_names));
  Gauge* raw = g.get();
  absl::MutexLock l(&mu_);
  families_.push_back(std::move(g));
  return raw;
}

Histogram* Registry::AddHistogram(std::string name, std::string help, Labels label_names, std::vector<double> bounds) {
  JARING_RELEASE_ASSERT(ValidName(name), "metrics: invalid metric name");
  auto h = std::make_unique<Histogram>(std::move(name), std::move(help), std::move(label_names), std::move(bounds));
  Histogram* raw = h.get();
  absl::MutexLock l(&mu_);
  families_.push_back(std::move(h));
  return raw;
}

void Registry::AddCollector(std::function<void()> collect) {
  absl::MutexLock l(&mu_);
  collectors_.push_back(std::move(collect));
}

std::string Registry::Render() {
  std::vector<std::function<void()>> collectors;
  {
    absl::MutexLock l(&mu_);
    collectors = collectors_;
  }
  for (const auto& c : collectors) c();
  std::string out;
  absl::MutexLock l(&mu_);
  for (const auto& f : families_) f->Render(&out);
  return out;
}

std::vector<double> LatencyBounds() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}

}  // namespace jaring::metrics
