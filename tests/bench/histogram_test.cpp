// Tests bench/preceptor_bench/histogram.cpp.
#include "bench/preceptor_bench/histogram.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

namespace preceptor::bench {
namespace {

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram h;
  for (int64_t v = 0; v < 256; ++v) h.record(v);
  EXPECT_EQ(h.count(), 256u);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), 255);
  EXPECT_EQ(h.percentile(50), 127);
}

TEST(LatencyHistogram, EveryValueFallsInsideItsBucket) {
  for (int64_t v = 1; v < (int64_t{1} << 40); v = v * 3 / 2 + 1) {
    const size_t b = LatencyHistogram::bucket_of(v);
    EXPECT_LE(LatencyHistogram::bucket_low(b), v) << v;
    EXPECT_GE(LatencyHistogram::bucket_high(b), v) << v;
    // Relative bucket width stays under 1%.
    const double width =
        static_cast<double>(LatencyHistogram::bucket_high(b) - LatencyHistogram::bucket_low(b));
    EXPECT_LE(width / static_cast<double>(v), 0.01) << v;
  }
}

TEST(LatencyHistogram, PercentilesOfAUniformSpreadAreWithinHalfAPercent) {
  LatencyHistogram h;
  for (int64_t us = 1; us <= 10000; ++us) h.record(us * 1000);  // 1 us .. 10 ms
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    const double want = p / 100.0 * 10000 * 1000;
    EXPECT_NEAR(static_cast<double>(h.percentile(p)), want, want * 0.005) << p;
  }
  EXPECT_EQ(h.percentile(100), 10'000'000);
  EXPECT_NEAR(h.mean(), 5'000'500.0, 1.0);
}

TEST(LatencyHistogram, MergeAddsCountsAndKeepsExtremes) {
  LatencyHistogram a, b;
  a.record(1000);
  b.record(5);
  b.record(1'000'000'000);
  a.merge(b);
  EXPECT_EQ(a.count(), 3u);
  EXPECT_EQ(a.min(), 5);
  EXPECT_EQ(a.max(), 1'000'000'000);
}

TEST(LatencyHistogram, HugeAndNegativeValuesAreClamped) {
  LatencyHistogram h;
  h.record(-5);
  h.record(INT64_MAX);
  EXPECT_EQ(h.count(), 2u);
  EXPECT_EQ(h.min(), 0);
}

}  // namespace
}  // namespace preceptor::bench
