#include "bench/preceptor_bench/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace preceptor::bench {
namespace {

constexpr int kSubBits = 7;                       // 128 buckets per power of two
constexpr int64_t kSub = int64_t{1} << kSubBits;  // 128
constexpr int64_t kExact = kSub * 2;              // values below 256 have their own bucket
constexpr int kMaxMsb = 41;                       // 2^42 ns ~ 73 minutes
constexpr int64_t kMaxValue = (int64_t{1} << (kMaxMsb + 1)) - 1;
constexpr size_t kBuckets = static_cast<size_t>(kExact + (kMaxMsb - kSubBits) * kSub);

}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(kBuckets, 0) {}

size_t LatencyHistogram::bucket_of(int64_t ns) {
  if (ns < 0) ns = 0;
  if (ns > kMaxValue) ns = kMaxValue;
  if (ns < kExact) return static_cast<size_t>(ns);
  const int msb = 63 - std::countl_zero(static_cast<uint64_t>(ns));
  const int shift = msb - kSubBits;      // >= 1
  const int64_t mantissa = ns >> shift;  // [128, 256)
  return static_cast<size_t>(kExact + (shift - 1) * kSub + (mantissa - kSub));
}

int64_t LatencyHistogram::bucket_low(size_t bucket) {
  const auto b = static_cast<int64_t>(bucket);
  if (b < kExact) return b;
  const int shift = static_cast<int>((b - kExact) / kSub) + 1;
  const int64_t mantissa = (b - kExact) % kSub + kSub;
  return mantissa << shift;
}

int64_t LatencyHistogram::bucket_high(size_t bucket) {
  const auto b = static_cast<int64_t>(bucket);
  if (b < kExact) return b;
  const int shift = static_cast<int>((b - kExact) / kSub) + 1;
  const int64_t mantissa = (b - kExact) % kSub + kSub;
  return ((mantissa + 1) << shift) - 1;
}

void LatencyHistogram::record(int64_t ns) {
  if (ns < 0) ns = 0;
  ++counts_[bucket_of(ns)];
  if (count_ == 0 || ns < min_) min_ = ns;
  if (count_ == 0 || ns > max_) max_ = ns;
  ++count_;
  sum_ += ns;
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  min_ = count_ ? std::min(min_, other.min_) : other.min_;
  max_ = count_ ? std::max(max_, other.max_) : other.max_;
  count_ += other.count_;
  sum_ += other.sum_;
}

int64_t LatencyHistogram::percentile(double p) const {
  if (count_ == 0) return 0;
  if (p >= 100.0) return max_;
  if (p <= 0.0) return min_;
  // The smallest value with at least p% of the samples at or below it.
  auto rank = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const int64_t mid = bucket_low(i) + (bucket_high(i) - bucket_low(i)) / 2;
      return std::clamp(mid, min_, max_);
    }
  }
  return max_;
}

}  // namespace preceptor::bench
