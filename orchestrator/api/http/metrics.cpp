#include "orchestrator/api/http/metrics.hpp"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace furrsight::api {
namespace {

constexpr std::string_view kRequestsTotal = "furrsight_http_requests_total";
constexpr std::string_view kRequestDuration = "furrsight_http_request_duration_seconds";

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string EscapeHelp(std::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string RenderLabels(const MetricLabels& labels) {
  std::string out;
  for (const auto& [key, value] : labels) {
    if (!out.empty()) out += ',';
    out += key + "=\"" + EscapeLabelValue(value) + "\"";
  }
  return out;
}

std::string FormatValue(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (std::isnan(value)) return "NaN";
  return fmt::format("{}", value);
}

// `name{labels}` or `name{labels,extra}`.
std::string SeriesName(std::string_view name, const std::string& labels, std::string_view extra = {}) {
  std::string all = labels;
  if (!extra.empty()) all += (all.empty() ? "" : ",") + std::string(extra);
  return all.empty() ? std::string(name) : fmt::format("{}{{{}}}", name, all);
}

}  // namespace

void MetricsRegistry::RegisterCounter(std::string name, std::string help) {
  Register(std::move(name), std::move(help), Type::kCounter, {});
}
void MetricsRegistry::RegisterGauge(std::string name, std::string help) {
  Register(std::move(name), std::move(help), Type::kGauge, {});
}
void MetricsRegistry::RegisterHistogram(std::string name, std::string help, std::vector<double> buckets) {
  for (std::size_t i = 1; i < buckets.size(); ++i)
    if (!(buckets[i - 1] < buckets[i])) throw std::logic_error("histogram buckets must increase: " + name);
  Register(std::move(name), std::move(help), Type::kHistogram, std::move(buckets));
}

void MetricsRegistry::Register(std::string name, std::string help, Type type, std::vector<double> bounds) {
  std::lock_guard lock(mutex_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    if (it->second.type != type) throw std::logic_error("metric registered twice with different types: " + name);
    return;
  }
  Family family;
  family.type = type;
  family.help = std::move(help);
  family.bounds = std::move(bounds);
  families_.emplace(std::move(name), std::move(family));
}

bool MetricsRegistry::IsRegistered(std::string_view name) const {
  std::lock_guard lock(mutex_);
  return families_.find(name) != families_.end();
}

MetricsRegistry::Series& MetricsRegistry::SeriesFor(std::string_view name, Type type, const MetricLabels& labels) {
  auto it = families_.find(name);
  if (it == families_.end()) throw std::logic_error(fmt::format("metric not registered: {}", name));
  if (it->second.type != type) throw std::logic_error(fmt::format("metric used as the wrong type: {}", name));
  Series& series = it->second.series[RenderLabels(labels)];
  if (type == Type::kHistogram && series.buckets.empty()) series.buckets.assign(it->second.bounds.size(), 0);
  return series;
}

void MetricsRegistry::Increment(std::string_view counter, const MetricLabels& labels, double by) {
  if (by < 0) throw std::logic_error(fmt::format("counter decremented: {}", counter));
  std::lock_guard lock(mutex_);
  SeriesFor(counter, Type::kCounter, labels).value += by;
}

void MetricsRegistry::SetGauge(std::string_view gauge, const MetricLabels& labels, double value) {
  std::lock_guard lock(mutex_);
  SeriesFor(gauge, Type::kGauge, labels).value = value;
}

void MetricsRegistry::SetGaugeFamily(std::string_view gauge,
                                     const std::vector<std::pair<MetricLabels, double>>& values) {
  std::lock_guard lock(mutex_);
  if (auto it = families_.find(gauge); it != families_.end())
    for (auto& [labels, series] : it->second.series) series.value = 0;
  for (const auto& [labels, value] : values) SeriesFor(gauge, Type::kGauge, labels).value = value;
}

void MetricsRegistry::AddGauge(std::string_view gauge, const MetricLabels& labels, double delta) {
  std::lock_guard lock(mutex_);
  SeriesFor(gauge, Type::kGauge, labels).value += delta;
}

void MetricsRegistry::Observe(std::string_view histogram, const MetricLabels& labels, double value) {
  std::lock_guard lock(mutex_);
  auto it = families_.find(histogram);
  Series& series = SeriesFor(histogram, Type::kHistogram, labels);
  const std::vector<double>& bounds = it->second.bounds;
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (value <= bounds[i]) {
      ++series.buckets[i];
      break;
    }
  }
  ++series.count;
  series.value += value;
}

std::string MetricsRegistry::RenderText() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, family] : families_) {
    std::string_view type = family.type == Type::kCounter ? "counter"
                            : family.type == Type::kGauge ? "gauge"
                                                          : "histogram";
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, EscapeHelp(family.help), name, type);
    for (const auto& [labels, series] : family.series) {
      if (family.type != Type::kHistogram) {
        out += fmt::format("{} {}\n", SeriesName(name, labels), FormatValue(series.value));
        continue;
      }
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < family.bounds.size(); ++i) {
        cumulative += series.buckets[i];
        out += fmt::format("{} {}\n",
                           SeriesName(name + "_bucket", labels, fmt::format("le=\"{}\"", FormatValue(family.bounds[i]))),
                           cumulative);
      }
      out += fmt::format("{} {}\n", SeriesName(name + "_bucket", labels, "le=\"+Inf\""), series.count);
      out += fmt::format("{} {}\n", SeriesName(name + "_sum", labels), FormatValue(series.value));
      out += fmt::format("{} {}\n", SeriesName(name + "_count", labels), series.count);
    }
  }
  return out;
}

RequestMetrics::RequestMetrics(MetricsRegistry& registry) : registry_(registry) {
  registry_.RegisterCounter(std::string(kRequestsTotal), "HTTP requests answered, by route pattern, method and status.");
  registry_.RegisterHistogram(std::string(kRequestDuration),
                              "Time from a complete request to its response being ready, by route pattern and method.",
                              {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
}

void RequestMetrics::Record(std::string_view route_pattern, std::string_view method, unsigned status,
                            std::chrono::steady_clock::duration latency) {
  std::string route = route_pattern.empty() ? "unmatched" : std::string(route_pattern);
  registry_.Increment(kRequestsTotal, {{"route", route}, {"method", std::string(method)}, {"status", std::to_string(status)}});
  registry_.Observe(kRequestDuration, {{"route", route}, {"method", std::string(method)}},
                    std::chrono::duration<double>(latency).count());
}

}  // namespace furrsight::api
