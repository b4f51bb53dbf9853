#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace preceptor::bench {

// A latency histogram with log-spaced buckets, HDR style: values below 256 ns
// are exact, above that every power of two is split into 128 buckets, so a
// reported percentile is within 0.4% of the true value. Range 0 ns .. ~73 min
// (larger values are clamped). Recording is O(1) and allocation-free.
//
// Not thread-safe: each thread records into its own and merge()s at the end.
class LatencyHistogram {
 public:
  LatencyHistogram();

  // Records one value in nanoseconds (negative values count as 0).
  void record(int64_t ns);
  void merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  int64_t min() const { return count_ ? min_ : 0; }
  int64_t max() const { return count_ ? max_ : 0; }
  double mean() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }
  // The value at percentile `p` (0-100), in ns: the midpoint of its bucket,
  // clamped to [min, max]. 0 when empty.
  int64_t percentile(double p) const;

  // Exposed for tests.
  static size_t bucket_of(int64_t ns);
  static int64_t bucket_low(size_t bucket);
  static int64_t bucket_high(size_t bucket);

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  int64_t min_ = 0;
  int64_t max_ = 0;
  __int128 sum_ = 0;
};

}  // namespace preceptor::bench
