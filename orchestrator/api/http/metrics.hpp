// MetricsRegistry: counters, gauges and histograms with labels, rendered in
// the Prometheus text exposition format 0.0.4. A metric family is registered
// once (name, help, type, and a histogram's bucket bounds); its series are
// created on first use. Using an unregistered name, or a name as the wrong
// type, is a bug and throws std::logic_error.
// Thread-safe: one mutex guards everything (updates are a map lookup).
//
// RequestMetrics: the HTTP server's series on a registry,
//   furrsight_http_requests_total{route,method,status}
//   furrsight_http_request_duration_seconds{route,method} (histogram)
// where route is the matched pattern ("unmatched" if none), never a raw path.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace furrsight::api {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class MetricsRegistry {
 public:
  void RegisterCounter(std::string name, std::string help);
  void RegisterGauge(std::string name, std::string help);
  // `buckets`: upper bounds, increasing; +Inf is added.
  void RegisterHistogram(std::string name, std::string help, std::vector<double> buckets);
  bool IsRegistered(std::string_view name) const;

  void Increment(std::string_view counter, const MetricLabels& labels, double by = 1.0);
  void SetGauge(std::string_view gauge, const MetricLabels& labels, double value);
  void AddGauge(std::string_view gauge, const MetricLabels& labels, double delta);
  // Sets a whole gauge family at once: series not in `values` drop to 0 (a
  // job status that emptied shows 0, not its last count).
  void SetGaugeFamily(std::string_view gauge, const std::vector<std::pair<MetricLabels, double>>& values);
  void Observe(std::string_view histogram, const MetricLabels& labels, double value);

  // The whole registry, families in name order (Content-Type
  // "text/plain; version=0.0.4").
  std::string RenderText() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Series {
    double value = 0;                    // counter, gauge; histogram sum
    std::vector<std::uint64_t> buckets;  // histogram: per bound, not cumulative
    std::uint64_t count = 0;             // histogram
  };
  struct Family {
    Type type = Type::kCounter;
    std::string help;
    std::vector<double> bounds;
    std::map<std::string, Series> series;  // by rendered label set: `a="1",b="2"`
  };
  void Register(std::string name, std::string help, Type type, std::vector<double> bounds);
  Series& SeriesFor(std::string_view name, Type type, const MetricLabels& labels);  // needs mutex_

  mutable std::mutex mutex_;
  std::map<std::string, Family, std::less<>> families_;  // guarded by mutex_
};

inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

class RequestMetrics {
 public:
  // Registers the families on `registry` (if not already there).
  explicit RequestMetrics(MetricsRegistry& registry);
  void Record(std::string_view route_pattern, std::string_view method, unsigned status,
              std::chrono::steady_clock::duration latency);

 private:
  MetricsRegistry& registry_;
};

}  // namespace furrsight::api
