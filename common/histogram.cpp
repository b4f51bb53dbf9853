#include "common/histogram.h"

#include <algorithm>
#include <cstdio>

namespace preceptor {

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0);
}

void Histogram::observe(double value) {
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<uint64_t>(std::max(0.0, value) * 1e6), std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.upper_bounds = bounds_;
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    s.cumulative_counts.push_back(running);
  }
  s.count = running;
  s.sum = static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
  return s;
}

void Histogram::write_prometheus(std::string& out, const std::string& name, const std::string& labels) const {
  Snapshot s = snapshot();
  const std::string sep = labels.empty() ? "" : ",";
  char num[64];
  for (size_t i = 0; i < s.upper_bounds.size(); ++i) {
    std::snprintf(num, sizeof num, "%g", s.upper_bounds[i]);
    out += name + "_bucket{" + labels + sep + "le=\"" + num + "\"} " +
           std::to_string(s.cumulative_counts[i]) + "\n";
  }
  out += name + "_bucket{" + labels + sep + "le=\"+Inf\"} " + std::to_string(s.count) + "\n";
  std::snprintf(num, sizeof num, "%.6f", s.sum);
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out += name + "_sum" + braces + " " + num + "\n";
  out += name + "_count" + braces + " " + std::to_string(s.count) + "\n";
}

}  // namespace preceptor
