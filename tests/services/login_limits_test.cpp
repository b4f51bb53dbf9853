#include "server/services/login_limits.h"

#include <gtest/gtest.h>

#include <string>

#include "common/clock.h"
#include "common/token_bucket.h"
#include "server/services/text_checks.h"

namespace preceptor::services {
namespace {

constexpr int64_t kSecond = 1000;
constexpr int64_t kMinute = 60 * kSecond;

// Default-like limits: 3 failures per username then one a minute; 5 per address then one per 10 s.
LoginLimits make_limits(const MonotonicClock& clock, size_t max_keys = 100'000) {
  return LoginLimits(TokenRate::one_every_ms(kMinute, 3), TokenRate::one_every_ms(10 * kSecond, 5), clock,
                     max_keys);
}

void expect_refused(const Status& st, int64_t retry_after_ms, const std::string& message) {
  ASSERT_FALSE(st);
  EXPECT_EQ(st.code(), v1::ERROR_CODE_RESOURCE_EXHAUSTED);
  EXPECT_EQ(st.retry_after_ms(), retry_after_ms);
  EXPECT_EQ(st.message(), message);
}

TEST(LoginLimits, UsernameIsRefusedAfterItsBurstOfFailuresAndRecovers) {
  ManualMonotonicClock clock;
  LoginLimits limits = make_limits(clock);
  for (int i = 0; i < 3; ++i) {
    const std::string address = "198.51.100." + std::to_string(i);
    ASSERT_TRUE(limits.check("alice", address)) << i;
    limits.record_failure("alice", address);
  }
  expect_refused(limits.check("alice", "203.0.113.9"), kMinute,
                 "Too many failed sign-in attempts; try again in 60 seconds.");
  EXPECT_TRUE(limits.check("bob", "203.0.113.9"));  // another user is not affected

  clock.advance_ms(kMinute - 1);
  expect_refused(limits.check("alice", "203.0.113.9"), 1,
                 "Too many failed sign-in attempts; try again in 1 second.");
  clock.advance_ms(1);
  EXPECT_TRUE(limits.check("alice", "203.0.113.9"));
}

TEST(LoginLimits, AddressIsRefusedAfterItsBurstOfFailures) {
  ManualMonotonicClock clock;
  LoginLimits limits = make_limits(clock);
  for (int i = 0; i < 5; ++i) limits.record_failure("guess" + std::to_string(i), "198.51.100.7");
  expect_refused(limits.check("alice", "198.51.100.7"), 10 * kSecond,
                 "Too many failed sign-in attempts; try again in 10 seconds.");
  EXPECT_TRUE(limits.check("alice", "198.51.100.8"));

  clock.advance_ms(2500);
  expect_refused(limits.check("alice", "198.51.100.7"), 7500,
                 "Too many failed sign-in attempts; try again in 8 seconds.");  // rounded up
}

TEST(LoginLimits, WithoutAnAddressOnlyTheUsernameCounts) {
  ManualMonotonicClock clock;
  LoginLimits limits = make_limits(clock);
  for (int i = 0; i < 50; ++i) limits.record_failure("guess" + std::to_string(i), "");
  EXPECT_TRUE(limits.check("alice", ""));
}

TEST(LoginLimits, TheLongerOfTheTwoWaitsIsReported) {
  ManualMonotonicClock clock;
  // Here the address limit is the slower one.
  LoginLimits limits(TokenRate::one_every_ms(10 * kSecond, 3), TokenRate::one_every_ms(kMinute, 5), clock);
  for (int i = 0; i < 5; ++i) limits.record_failure("alice", "198.51.100.7");
  expect_refused(limits.check("alice", "198.51.100.7"), kMinute,
                 "Too many failed sign-in attempts; try again in 60 seconds.");
  expect_refused(limits.check("alice", "198.51.100.8"), 10 * kSecond,
                 "Too many failed sign-in attempts; try again in 10 seconds.");
  clock.advance_ms(10 * kSecond);
  EXPECT_TRUE(limits.check("alice", "198.51.100.8"));
  expect_refused(limits.check("alice", "198.51.100.7"), 50 * kSecond,
                 "Too many failed sign-in attempts; try again in 50 seconds.");
}

TEST(LoginLimits, FailuresWhileRefusedDoNotLengthenTheWait) {
  ManualMonotonicClock clock;
  LoginLimits limits = make_limits(clock);
  for (int i = 0; i < 3; ++i) limits.record_failure("alice", "");
  // Guesses already in flight when the limit was reached fail too.
  for (int i = 0; i < 10; ++i) limits.record_failure("alice", "");
  expect_refused(limits.check("alice", ""), kMinute,
                 "Too many failed sign-in attempts; try again in 60 seconds.");
  clock.advance_ms(kMinute);
  EXPECT_TRUE(limits.check("alice", ""));
}

TEST(LoginLimits, LimitWithoutBurstOrRefillIsOff) {
  ManualMonotonicClock clock;
  LoginLimits limits(TokenRate::one_every_ms(kMinute, 0), TokenRate::one_every_ms(0, 5), clock);
  for (int i = 0; i < 100; ++i) limits.record_failure("alice", "198.51.100.7");
  EXPECT_TRUE(limits.check("alice", "198.51.100.7"));
}

TEST(LoginLimits, FloodOfOtherNamesDoesNotLiftALimit) {
  ManualMonotonicClock clock;
  LoginLimits limits = make_limits(clock, /*max_keys=*/16);
  for (int i = 0; i < 3; ++i) limits.record_failure("alice", "");
  for (int i = 0; i < 10'000; ++i) limits.record_failure("name" + std::to_string(i), "");
  expect_refused(limits.check("alice", ""), kMinute,
                 "Too many failed sign-in attempts; try again in 60 seconds.");
}

TEST(LoginLimits, SharedKeyForInvalidUsernamesIsNoUsername) {
  EXPECT_FALSE(valid_username(kInvalidUsernameLimitKey));
}

// Issue 10, 1: an address is a client, whatever port or IPv6 host part it uses.
TEST(LoginLimits, AddressesCountAsTheClientNotTheConnection) {
  EXPECT_EQ(address_limit_key("198.51.100.7"), "198.51.100.7");
  EXPECT_EQ(address_limit_key("::ffff:198.51.100.7"), "198.51.100.7");
  EXPECT_EQ(address_limit_key("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
  EXPECT_EQ(address_limit_key("2001:db8:1:2:ffff::1"), "2001:db8:1:2::/64");
  EXPECT_NE(address_limit_key("2001:db8:1:3::1"), address_limit_key("2001:db8:1:2::1"));
  EXPECT_EQ(address_limit_key("test"), "test");
  EXPECT_EQ(address_limit_key(""), "");

  ManualMonotonicClock clock;
  LoginLimits limits = make_limits(clock);
  for (int i = 0; i < 5; ++i)
    limits.record_failure("guess" + std::to_string(i), "2001:db8:1:2::" + std::to_string(i + 1));
  EXPECT_FALSE(limits.check("alice", "2001:db8:1:2::99"));
  EXPECT_TRUE(limits.check("alice", "2001:db8:1:3::99"));
}

}  // namespace
}  // namespace preceptor::services
