#include "server/services/login_limits.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/clock.h"
#include "common/token_bucket.h"
#include "server/services/text_checks.h"

namespace preceptor::services {
namespace {

constexpr int64_t kSecond = 1000;
constexpr int64_t kMinute = 60 * kSecond;

// 3 wrong guesses per (username, address) then one a minute; 5 per address
// then one per 10 s; 6 per username from everywhere, then one a minute.
LoginLimits make_limits(const MonotonicClock& clock, size_t max_keys = 100'000) {
  return LoginLimits(LoginLimitRates{.per_username_address = TokenRate::one_every_ms(kMinute, 3),
                                     .per_address = TokenRate::one_every_ms(10 * kSecond, 5),
                                     .per_username = TokenRate::one_every_ms(kMinute, 6)},
                     clock, max_keys);
}

void expect_refused(const Result<LoginLimits::Reservation>& r, int64_t retry_after_ms,
                    const std::string& message) {
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), v1::ERROR_CODE_RESOURCE_EXHAUSTED);
  EXPECT_EQ(r.status().retry_after_ms(), retry_after_ms);
  EXPECT_EQ(r.status().message(), message);
}

// A wrong guess: reserved and never given back.
bool guess(LoginLimits& limits, const std::string& user, const std::string& address) {
  return static_cast<bool>(limits.reserve(user, address));
}

TEST(LoginLimits, OneAddressAtOneUsernameIsRefusedAfterItsBurstAndRecovers) {
  ManualMonotonicClock clock;
  LoginLimits limits = make_limits(clock);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(guess(limits, "alice", "198.51.100.7")) << i;
  expect_refused(limits.reserve("alice", "198.51.100.7"), kMinute,
                 "Too many failed sign-in attempts; try again in 60 seconds.");
  EXPECT_TRUE(limits.reserve("alice", "203.0.113.9"));  // the user from elsewhere is not affected
  EXPECT_TRUE(limits.reserve("bob", "198.51.100.7"));   // nor another user from there

  clock.advance_ms(kMinute - 1);
  expect_refused(limits.reserve("alice", "198.51.100.7"), 1,
                 "Too many failed sign-in attempts; try again in 1 second.");
  clock.advance_ms(1);
  EXPECT_TRUE(limits.reserve("alice", "198.51.100.7"));
}

TEST(LoginLimits, AddressIsRefusedAfterItsBurstWhateverTheUsernames) {
  ManualMonotonicClock clock;
  LoginLimits limits = make_limits(clock);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(guess(limits, "guess" + std::to_string(i), "198.51.100.7"));
  expect_refused(limits.reserve("alice", "198.51.100.7"), 10 * kSecond,
                 "Too many failed sign-in attempts; try again in 10 seconds.");
  EXPECT_TRUE(limits.reserve("alice", "198.51.100.8"));
  clock.advance_ms(2500);
  expect_refused(limits.reserve("alice", "198.51.100.7"), 7500,
                 "Too many failed sign-in attempts; try again in 8 seconds.");  // rounded up
}

TEST(LoginLimits, AttemptsAreCountedWhenReservedNotWhenChecked) {
  ManualMonotonicClock clock;
  LoginLimits limits = make_limits(clock);
  // Three attempts in flight at once, none checked yet: the fourth waits.
  std::vector<LoginLimits::Reservation> in_flight;
  for (int i = 0; i < 3; ++i) {
    auto r = limits.reserve("alice", "198.51.100.7");
    ASSERT_TRUE(r);
    in_flight.push_back(*r);
  }
  EXPECT_FALSE(limits.reserve("alice", "198.51.100.7"));
  // One had the right password: it gives its tokens back.
  limits.release(in_flight[0]);
  EXPECT_TRUE(limits.reserve("alice", "198.51.100.7"));
  EXPECT_FALSE(limits.reserve("alice", "198.51.100.7"));
}

TEST(LoginLimits, ReleaseGivesBackEveryLimitsToken) {
  ManualMonotonicClock clock;
  LoginLimits limits = make_limits(clock);
  for (int i = 0; i < 20; ++i) {
    auto r = limits.reserve("alice", "198.51.100.7");
    ASSERT_TRUE(r) << i;
    limits.release(*r);
  }
}

TEST(LoginLimits, OwnerOnAnAddressThatWasNotGuessingIsNeverRefused) {
  ManualMonotonicClock clock;
  LoginLimits limits = make_limits(clock);
  // Many addresses guess at alice, well past her username's burst.
  for (int i = 0; i < 50; ++i) static_cast<void>(guess(limits, "alice", "198.51.100." + std::to_string(i)));
  EXPECT_TRUE(limits.reserve("alice", "203.0.113.9"));
}

TEST(LoginLimits, WhileAUsernameIsGuessedFromEverywhereEachAddressGetsOneGuessPerFullRefill) {
  ManualMonotonicClock clock;
  LoginLimits limits = make_limits(clock);
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(guess(limits, "alice", "198.51.100." + std::to_string(i)));
  // Its (username, address) bucket still holds two of three: not full, so it waits.
  expect_refused(limits.reserve("alice", "198.51.100.0"), kMinute,
                 "Too many failed sign-in attempts; try again in 60 seconds.");
  // A fresh address may try once; that takes its whole bucket.
  ASSERT_TRUE(guess(limits, "alice", "198.51.100.99"));
  expect_refused(limits.reserve("alice", "198.51.100.99"), 3 * kMinute,
                 "Too many failed sign-in attempts; try again in 180 seconds.");
  // Other usernames are not slowed.
  ASSERT_TRUE(guess(limits, "bob", "198.51.100.0"));
  EXPECT_TRUE(limits.reserve("bob", "198.51.100.0"));
}

TEST(LoginLimits, WithoutAnAddressOnlyTheUsernameCounts) {
  ManualMonotonicClock clock;
  LoginLimits limits = make_limits(clock);
  for (int i = 0; i < 50; ++i) static_cast<void>(guess(limits, "guess" + std::to_string(i), ""));
  EXPECT_TRUE(limits.reserve("alice", ""));
}

TEST(LoginLimits, LimitWithoutBurstOrRefillIsOff) {
  ManualMonotonicClock clock;
  LoginLimits limits(LoginLimitRates{.per_username_address = TokenRate::one_every_ms(kMinute, 0),
                                     .per_address = TokenRate::one_every_ms(0, 5),
                                     .per_username = TokenRate{}},
                     clock);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(guess(limits, "alice", "198.51.100.7"));
}

TEST(LoginLimits, FloodOfOtherNamesDoesNotLiftALimit) {
  ManualMonotonicClock clock;
  LoginLimits limits = make_limits(clock, /*max_keys=*/16);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(guess(limits, "alice", "198.51.100.7"));
  for (int i = 0; i < 10'000; ++i) static_cast<void>(guess(limits, "name" + std::to_string(i), ""));
  expect_refused(limits.reserve("alice", "198.51.100.7"), kMinute,
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
    ASSERT_TRUE(guess(limits, "guess" + std::to_string(i), "2001:db8:1:2::" + std::to_string(i + 1)));
  EXPECT_FALSE(limits.reserve("alice", "2001:db8:1:2::99"));
  EXPECT_TRUE(limits.reserve("alice", "2001:db8:1:3::99"));
}

TEST(LoginQueue, RefusesPastEachBoundAndFreesPlacesWhenTheyEnd) {
  LoginQueue queue(LoginQueueBounds{.per_connection = 2, .per_address = 3, .total = 4});
  std::vector<LoginQueue::Place> places;
  auto enter = [&](uint64_t conn, const std::string& address) -> Status {
    auto place = queue.enter(conn, address);
    if (!place) return place.status();
    places.push_back(*place);
    return Status::ok();
  };
  ASSERT_TRUE(enter(1, "a"));
  ASSERT_TRUE(enter(1, "a"));
  Status refused = enter(1, "a");
  EXPECT_EQ(refused.code(), v1::ERROR_CODE_RESOURCE_EXHAUSTED);
  EXPECT_EQ(refused.retry_after_ms(), LoginQueue::kBusyRetryAfterMs);
  ASSERT_TRUE(enter(2, "a"));
  EXPECT_FALSE(enter(3, "a"));  // the address has 3
  ASSERT_TRUE(enter(4, "b"));
  EXPECT_FALSE(enter(5, "c"));  // 4 in all
  EXPECT_EQ(queue.total(), 4u);
  places.clear();
  EXPECT_EQ(queue.total(), 0u);
  EXPECT_TRUE(enter(1, "a"));
  EXPECT_TRUE(enter(0, ""));  // no connection, no address: only the total counts
}

}  // namespace
}  // namespace preceptor::services
