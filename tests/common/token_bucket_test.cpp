#include "common/token_bucket.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "common/clock.h"

namespace preceptor {
namespace {

constexpr int64_t kSecondMs = 1000;
constexpr int64_t kYearMs = 365LL * 24 * 3600 * 1000;

// Takes until refused; how many were taken (gives up at `limit`).
int take_all(TokenBucket& bucket, int limit = 1'000'000) {
  int n = 0;
  while (n < limit && bucket.try_take()) ++n;
  return n;
}

TEST(TokenBucket, StartsFullAndGivesItsBurstAtOnce) {
  ManualMonotonicClock clock;
  TokenBucket bucket(TokenRate::one_every_ms(kSecondMs, 5), clock);
  EXPECT_TRUE(bucket.full());
  EXPECT_EQ(bucket.retry_after_ms(), 0);
  EXPECT_EQ(take_all(bucket), 5);
  EXPECT_FALSE(bucket.full());
}

TEST(TokenBucket, RefusedTakeSaysWhenATokenIsBack) {
  ManualMonotonicClock clock;
  TokenBucket bucket(TokenRate::one_every_ms(kSecondMs, 2), clock);
  ASSERT_TRUE(bucket.try_take());
  ASSERT_TRUE(bucket.try_take());
  TokenTake refused = bucket.try_take();
  EXPECT_FALSE(refused);
  EXPECT_FALSE(refused.taken);
  EXPECT_EQ(refused.retry_after_ms, kSecondMs);
  EXPECT_EQ(bucket.retry_after_ms(), kSecondMs);

  clock.advance_ms(400);
  EXPECT_EQ(bucket.try_take().retry_after_ms, 600);
  EXPECT_EQ(bucket.retry_after_ms(), 600);
}

TEST(TokenBucket, RefillsOneTokenPerIntervalUpToTheBurst) {
  ManualMonotonicClock clock;
  TokenBucket bucket(TokenRate::one_every_ms(kSecondMs, 3), clock);
  ASSERT_EQ(take_all(bucket), 3);

  clock.advance_ms(kSecondMs - 1);
  EXPECT_EQ(bucket.try_take().retry_after_ms, 1);
  clock.advance_ms(1);
  EXPECT_TRUE(bucket.try_take());
  EXPECT_EQ(bucket.try_take().retry_after_ms, kSecondMs);

  clock.advance_ms(2 * kSecondMs + 500);  // two tokens back, half of a third
  EXPECT_EQ(take_all(bucket), 2);
  EXPECT_EQ(bucket.retry_after_ms(), 500);

  clock.advance_ms(10 * kSecondMs);  // far more than the burst: full, not more
  EXPECT_TRUE(bucket.full());
  EXPECT_EQ(take_all(bucket), 3);
}

TEST(TokenBucket, RetryAfterIsTheWaitRoundedUpToAWholeMillisecond) {
  ManualMonotonicClock clock;
  TokenBucket bucket(TokenRate::per_second(3, 1), clock);  // one every 333.33 ms
  ASSERT_TRUE(bucket.try_take());
  EXPECT_EQ(bucket.try_take().retry_after_ms, 334);

  clock.advance_ns(333'333'332);  // one nanosecond short
  EXPECT_EQ(bucket.try_take().retry_after_ms, 1);
  clock.advance_ns(1);
  EXPECT_TRUE(bucket.try_take());
}

TEST(TokenBucket, FractionalRatesRefillSlowerThanOneASecond) {
  ManualMonotonicClock clock;
  TokenBucket bucket(TokenRate::per_second(0.5, 1), clock);
  ASSERT_TRUE(bucket.try_take());
  EXPECT_EQ(bucket.try_take().retry_after_ms, 2 * kSecondMs);
  clock.advance_ms(2 * kSecondMs);
  EXPECT_TRUE(bucket.try_take());
}

TEST(TokenBucket, ManyRequestsPerSecondRefillInSteps) {
  ManualMonotonicClock clock;
  TokenBucket bucket(TokenRate::per_second(50, 100), clock);
  ASSERT_EQ(take_all(bucket), 100);
  EXPECT_EQ(bucket.try_take().retry_after_ms, 20);
  clock.advance_ms(kSecondMs);
  EXPECT_EQ(take_all(bucket), 50);
}

TEST(TokenBucket, ClockThatDoesNotMoveGivesTheBurstAndThenTheSameWait) {
  ManualMonotonicClock clock(123'456'789);
  TokenBucket bucket(TokenRate::one_every_ms(kSecondMs, 4), clock);
  EXPECT_EQ(take_all(bucket, 10'000), 4);
  // Refused takes cost nothing: the wait does not grow with them.
  for (int i = 0; i < 10'000; ++i) ASSERT_EQ(bucket.try_take().retry_after_ms, kSecondMs) << i;
  clock.advance_ms(kSecondMs);
  EXPECT_TRUE(bucket.try_take());
}

TEST(TokenBucket, LongGapLeavesItFullWithoutOverflow) {
  ManualMonotonicClock clock;
  TokenBucket bucket(TokenRate::one_every_ms(kSecondMs, 3), clock);
  ASSERT_EQ(take_all(bucket), 3);
  clock.advance_ms(50 * kYearMs);
  EXPECT_TRUE(bucket.full());
  EXPECT_EQ(take_all(bucket), 3);
  EXPECT_EQ(bucket.try_take().retry_after_ms, kSecondMs);
}

TEST(TokenBucket, HugeIntervalsAndBurstsDoNotOverflow) {
  ManualMonotonicClock clock(1'000'000);
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  TokenBucket slow(TokenRate::one_every_ms(kMax, 1), clock);
  ASSERT_TRUE(slow.try_take());
  TokenTake refused = slow.try_take();
  EXPECT_FALSE(refused);
  EXPECT_GT(refused.retry_after_ms, 70 * kYearMs);  // cut to ~73 years, still positive

  TokenBucket big(TokenRate::one_every_ms(1, kMax), clock);  // burst cut to ~73 years of refill
  EXPECT_EQ(take_all(big, 1000), 1000);

  TokenBucket both(TokenRate::one_every_ms(kMax, kMax), clock);
  ASSERT_TRUE(both.try_take());
  EXPECT_GT(both.try_take().retry_after_ms, 70 * kYearMs);

  TokenBucket fast(TokenRate::per_second(1e300, 2), clock);  // an interval under 1 ns counts as 1 ns
  EXPECT_EQ(take_all(fast), 2);
  EXPECT_EQ(fast.try_take().retry_after_ms, 1);

  TokenBucket tiny(TokenRate::per_second(1e-300, 1), clock);
  ASSERT_TRUE(tiny.try_take());
  EXPECT_GT(tiny.try_take().retry_after_ms, 70 * kYearMs);
}

TEST(TokenBucket, RetryAfterTakesNothing) {
  ManualMonotonicClock clock;
  TokenBucket bucket(TokenRate::one_every_ms(kSecondMs, 1), clock);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(bucket.retry_after_ms(), 0);
  EXPECT_TRUE(bucket.try_take());
}

TEST(TokenBucket, RefillMakesItFullAgain) {
  ManualMonotonicClock clock;
  TokenBucket bucket(TokenRate::one_every_ms(kSecondMs, 2), clock);
  ASSERT_EQ(take_all(bucket), 2);
  bucket.refill();
  EXPECT_TRUE(bucket.full());
  EXPECT_EQ(take_all(bucket), 2);
}

TEST(TokenBucket, GivenBackTokensCanBeTakenAgainButNeverPastTheBurst) {
  ManualMonotonicClock clock;
  TokenBucket bucket(TokenRate::one_every_ms(kSecondMs, 3), clock);
  ASSERT_EQ(take_all(bucket), 3);
  bucket.give_back(1);
  EXPECT_EQ(take_all(bucket), 1);
  bucket.give_back(10);
  EXPECT_TRUE(bucket.full());
  EXPECT_EQ(take_all(bucket), 3);
}

TEST(TokenBucket, TakeAllNeedsAFullBucketAndEmptiesIt) {
  ManualMonotonicClock clock;
  TokenBucket bucket(TokenRate::one_every_ms(kSecondMs, 3), clock);
  ASSERT_TRUE(bucket.try_take_all());
  EXPECT_EQ(bucket.retry_after_ms(), kSecondMs);
  EXPECT_EQ(bucket.full_after_ms(), 3 * kSecondMs);
  clock.advance_ms(kSecondMs);
  const TokenTake refused = bucket.try_take_all();  // one token is back, not all
  EXPECT_FALSE(refused);
  EXPECT_EQ(refused.retry_after_ms, 2 * kSecondMs);
  clock.advance_ms(2 * kSecondMs);
  EXPECT_EQ(bucket.full_after_ms(), 0);
  EXPECT_TRUE(bucket.try_take_all());
}

TEST(TokenBucket, RateWithoutBurstOrRefillIsNoLimit) {
  ManualMonotonicClock clock;
  for (TokenRate rate :
       {TokenRate{}, TokenRate::one_every_ms(0, 5), TokenRate::one_every_ms(kSecondMs, 0),
        TokenRate::one_every_ms(-1, 5), TokenRate::per_second(0, 5), TokenRate::per_second(-2, 5),
        TokenRate::per_second(std::numeric_limits<double>::quiet_NaN(), 5), TokenRate::per_second(10, 0)}) {
    EXPECT_FALSE(rate.limits());
    TokenBucket bucket(rate, clock);
    EXPECT_EQ(take_all(bucket, 1000), 1000);
    EXPECT_EQ(bucket.retry_after_ms(), 0);
    EXPECT_TRUE(bucket.full());
  }
}

TEST(KeyedTokenBuckets, KeysHaveTheirOwnBuckets) {
  ManualMonotonicClock clock;
  KeyedTokenBuckets buckets(TokenRate::one_every_ms(kSecondMs, 2), clock, 100);
  ASSERT_TRUE(buckets.try_take("alice"));
  ASSERT_TRUE(buckets.try_take("alice"));
  EXPECT_EQ(buckets.try_take("alice").retry_after_ms, kSecondMs);
  EXPECT_EQ(buckets.retry_after_ms("alice"), kSecondMs);
  EXPECT_TRUE(buckets.try_take("bob"));
  EXPECT_EQ(buckets.retry_after_ms("bob"), 0);
  clock.advance_ms(kSecondMs);
  EXPECT_TRUE(buckets.try_take("alice"));
}

TEST(KeyedTokenBuckets, AskingAboutAKeyAddsNoBucket) {
  ManualMonotonicClock clock;
  KeyedTokenBuckets buckets(TokenRate::one_every_ms(kSecondMs, 1), clock, 100);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(buckets.retry_after_ms("key " + std::to_string(i)), 0);
  EXPECT_EQ(buckets.size(), 0u);
}

TEST(KeyedTokenBuckets, RefillDropsTheKey) {
  ManualMonotonicClock clock;
  KeyedTokenBuckets buckets(TokenRate::one_every_ms(kSecondMs, 1), clock, 100);
  ASSERT_TRUE(buckets.try_take("alice"));
  ASSERT_FALSE(buckets.try_take("alice"));
  buckets.refill("alice");
  EXPECT_EQ(buckets.size(), 0u);
  EXPECT_TRUE(buckets.try_take("alice"));
}

TEST(KeyedTokenBuckets, NoLimitKeepsNoBuckets) {
  ManualMonotonicClock clock;
  KeyedTokenBuckets buckets(TokenRate{}, clock, 10);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(buckets.try_take("key " + std::to_string(i % 3)));
  EXPECT_EQ(buckets.size(), 0u);
}

TEST(KeyedTokenBuckets, FloodOfNewKeysStaysWithinTheBound) {
  ManualMonotonicClock clock;
  KeyedTokenBuckets buckets(TokenRate::one_every_ms(kSecondMs, 3), clock, 64);
  for (int i = 0; i < 100'000; ++i) {
    static_cast<void>(buckets.try_take("key " + std::to_string(i)));  // refusals are fine here
    ASSERT_LE(buckets.size(), 64u) << i;
    if (i % 7 == 0) clock.advance_ms(50);
  }
}

TEST(KeyedTokenBuckets, FullBucketsMakeRoomForNewKeys) {
  ManualMonotonicClock clock;
  KeyedTokenBuckets buckets(TokenRate::one_every_ms(kSecondMs, 1), clock, 4);
  for (const char* key : {"a", "b", "c", "d"}) ASSERT_TRUE(buckets.try_take(key));
  ASSERT_EQ(buckets.size(), 4u);
  clock.advance_ms(kSecondMs);  // every bucket full again
  EXPECT_TRUE(buckets.try_take("e"));
  EXPECT_EQ(buckets.size(), 1u);
  EXPECT_FALSE(buckets.try_take("e"));  // "e" has its own bucket, now empty
}

TEST(KeyedTokenBuckets, WhenEveryBucketIsInUseNewKeysShareOneAndOldOnesKeepTheirs) {
  ManualMonotonicClock clock;
  KeyedTokenBuckets buckets(TokenRate::one_every_ms(kSecondMs, 1), clock, 4);
  for (const char* key : {"a", "b", "c", "d"}) ASSERT_TRUE(buckets.try_take(key));

  // No room: newcomers share the overflow bucket, which still limits them.
  EXPECT_TRUE(buckets.try_take("e"));
  EXPECT_EQ(buckets.try_take("f").retry_after_ms, kSecondMs);
  EXPECT_EQ(buckets.retry_after_ms("g"), kSecondMs);
  EXPECT_EQ(buckets.size(), 4u);
  // The buckets in use were not forgotten.
  for (const char* key : {"a", "b", "c", "d"})
    EXPECT_EQ(buckets.try_take(key).retry_after_ms, kSecondMs) << key;

  clock.advance_ms(kSecondMs);
  EXPECT_TRUE(buckets.try_take("f"));
  EXPECT_TRUE(buckets.try_take("g"));
  EXPECT_LE(buckets.size(), 4u);
}

}  // namespace
}  // namespace preceptor
