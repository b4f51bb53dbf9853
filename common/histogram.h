#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace preceptor {

// A fixed-bucket histogram for Prometheus export. observe() is lock-free and
// may be called from any thread; snapshots are not atomic across buckets,
// which Prometheus tolerates.
class Histogram {
 public:
  // `upper_bounds` must be increasing; an implicit +Inf bucket follows.
  explicit Histogram(std::vector<double> upper_bounds);

  void observe(double value);

  struct Snapshot {
    std::vector<double> upper_bounds;
    std::vector<uint64_t> cumulative_counts;  // one per bound, then +Inf
    uint64_t count = 0;
    double sum = 0;
  };
  Snapshot snapshot() const;

  // Appends the Prometheus text lines (`name_bucket`, `name_sum`, `name_count`)
  // for this histogram; `labels` is either empty or `key="value",...`.
  void write_prometheus(std::string& out, const std::string& name, const std::string& labels = {}) const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_.size() + 1
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micros_{0};  // sum * 1e6, to stay lock-free
};

}  // namespace preceptor
