#include "server/services/accounts.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "preceptor/v1/frames.pb.h"
#include "server/hub/hub.h"
#include "storage/keys.h"
#include "tests/services/services_test_util.h"

namespace preceptor::services {
namespace {

using testing::AccountsHarness;
using testing::fast_options;

constexpr const char* kPassword = "correct horse battery";
constexpr int64_t kMinute = 60 * 1000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;

bool is_lower_hex(const std::string& s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

TEST(Accounts, CreatedUserCanLogIn) {
  AccountsHarness h;
  auto alice = h.create("alice");
  ASSERT_TRUE(alice) << alice.status().to_string();
  EXPECT_GT(alice->id(), 0u);
  EXPECT_EQ(alice->time_zone(), "Europe/Berlin");

  auto out = h.login("alice", kPassword);
  ASSERT_TRUE(out) << out.status().to_string();
  EXPECT_EQ(out->token.size(), 64u);
  EXPECT_TRUE(is_lower_hex(out->token));
  EXPECT_EQ(out->session.user.id(), alice->id());
  EXPECT_EQ(out->session.token_hash.size(), 32u);
  EXPECT_EQ(out->session.device_name, "test phone");
  const int64_t now = h.clock().now_ms();
  EXPECT_EQ(out->session.expires_at_ms, now + AccountsOptions{}.token_lifetime_ms);
  EXPECT_EQ(out->session.idle_expires_at_ms, now + AccountsOptions{}.token_idle_timeout_ms);
}

TEST(Accounts, LoginIgnoresUsernameCaseAndNamesUnnamedDevices) {
  AccountsHarness h;
  ASSERT_TRUE(h.create("Alice.Smith"));
  auto out = h.login("alice.smith", kPassword, "192.0.2.1", "");
  ASSERT_TRUE(out) << out.status().to_string();
  EXPECT_EQ(out->session.user.username(), "Alice.Smith");
  EXPECT_EQ(out->session.device_name, "unnamed device");
}

TEST(Accounts, LongDeviceNameIsCutAtACharacterBoundary) {
  AccountsHarness h;
  ASSERT_TRUE(h.create("alice"));
  std::string device;
  for (int i = 0; i < 60; ++i) device += "\xC3\xA9";  // "é", 2 bytes each: 120 bytes
  auto out = h.login("alice", kPassword, "192.0.2.1", device);
  ASSERT_TRUE(out) << out.status().to_string();
  EXPECT_EQ(out->session.device_name.size(), 100u);
}

TEST(Accounts, WrongPasswordAndUnknownUserGiveTheSameError) {
  AccountsHarness h;
  ASSERT_TRUE(h.create("alice"));
  auto wrong = h.login("alice", "not the password");
  auto unknown = h.login("nobody", kPassword);
  auto junk = h.login("x", kPassword);  // not even a valid username
  ASSERT_FALSE(wrong);
  ASSERT_FALSE(unknown);
  ASSERT_FALSE(junk);
  EXPECT_EQ(wrong.status().code(), v1::ERROR_CODE_UNAUTHENTICATED);
  EXPECT_EQ(wrong.status().message(), "Wrong username or password.");
  EXPECT_EQ(unknown.status().code(), wrong.status().code());
  EXPECT_EQ(unknown.status().message(), wrong.status().message());
  EXPECT_EQ(junk.status().message(), wrong.status().message());
  EXPECT_EQ(unknown.status().field(), wrong.status().field());
}

TEST(Accounts, WrongGuessesFromOneAddressAtOneUserAreLimitedAndRecover) {
  AccountsOptions o = fast_options();
  o.login_failures_per_username_address_burst = 3;
  o.login_failures_per_username_address_refill_ms = kMinute;
  AccountsHarness h(o);
  ASSERT_TRUE(h.create("alice"));
  ASSERT_TRUE(h.create("bob"));
  const std::string address = "198.51.100.7";

  // Successes cost nothing.
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(h.login("alice", kPassword, address));
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(h.login("ALICE", "wrong password!", address).status().code(), v1::ERROR_CODE_UNAUTHENTICATED)
        << i;
  auto limited = h.login("alice", kPassword, address);  // from this address, even the right password waits
  ASSERT_EQ(limited.status().code(), v1::ERROR_CODE_RESOURCE_EXHAUSTED);
  EXPECT_EQ(limited.status().retry_after_ms(), kMinute);
  EXPECT_EQ(limited.status().message(), "Too many failed sign-in attempts; try again in 60 seconds.");

  EXPECT_TRUE(h.login("bob", kPassword, address));          // another user from there is not affected
  EXPECT_TRUE(h.login("alice", kPassword, "203.0.113.9"));  // nor the user from elsewhere

  h.monotonic().advance_ms(kMinute - 1);
  EXPECT_EQ(h.login("alice", kPassword, address).status().code(), v1::ERROR_CODE_RESOURCE_EXHAUSTED);
  h.monotonic().advance_ms(1);
  auto again = h.login("alice", kPassword, address);
  EXPECT_TRUE(again) << again.status().to_string();
  // One token came back: one more failure empties it again.
  ASSERT_EQ(h.login("alice", "wrong password!", address).status().code(), v1::ERROR_CODE_UNAUTHENTICATED);
  EXPECT_EQ(h.login("alice", kPassword, address).status().code(), v1::ERROR_CODE_RESOURCE_EXHAUSTED);
}

// Issue 10, 3: five failures, then one a minute, used to keep the owner out from everywhere.
TEST(Accounts, OwnerWithTheRightPasswordGetsInFromAnotherAddressWhileOneAddressKeepsGuessing) {
  AccountsHarness h;  // default limits
  ASSERT_TRUE(h.create("alice"));
  int refused = 0;
  for (int minute = 0; minute < 10; ++minute) {
    for (int i = 0; i < 10; ++i) {
      auto r = h.login("alice", "guess " + std::to_string(i), "198.51.100.7");
      if (r.status().code() == v1::ERROR_CODE_RESOURCE_EXHAUSTED) ++refused;
    }
    h.monotonic().advance_ms(kMinute);
  }
  EXPECT_GE(refused, 100 - 5 - 10);  // the burst of 5, then one a minute
  auto owner = h.login("alice", kPassword, "203.0.113.9");
  EXPECT_TRUE(owner) << owner.status().to_string();
}

TEST(Accounts, GuessingFromManyAddressesLeavesEachAddressOneGuessPerRefill) {
  AccountsOptions o = fast_options();
  o.login_failures_per_username_address_burst = 3;
  o.login_failures_per_username_address_refill_ms = kMinute;
  o.login_failures_per_username_burst = 4;
  o.login_failures_per_username_refill_ms = kMinute;
  AccountsHarness h(o);
  ASSERT_TRUE(h.create("alice"));
  for (int i = 0; i < 4; ++i)  // the username's burst, from four addresses
    ASSERT_EQ(h.login("alice", "wrong password!", "198.51.100." + std::to_string(i)).status().code(),
              v1::ERROR_CODE_UNAUTHENTICATED);
  // An address that guessed before must wait until its limit is full again.
  auto slowed = h.login("alice", "wrong password!", "198.51.100.0");
  ASSERT_EQ(slowed.status().code(), v1::ERROR_CODE_RESOURCE_EXHAUSTED);
  EXPECT_EQ(slowed.status().retry_after_ms(), kMinute);
  // A fresh address gets one guess, which takes its whole limit.
  ASSERT_EQ(h.login("alice", "wrong password!", "198.51.100.50").status().code(),
            v1::ERROR_CODE_UNAUTHENTICATED);
  auto next = h.login("alice", "wrong password!", "198.51.100.50");
  ASSERT_EQ(next.status().code(), v1::ERROR_CODE_RESOURCE_EXHAUSTED);
  EXPECT_EQ(next.status().retry_after_ms(), 3 * kMinute);
  // The owner, from an address that has not been guessing, gets in.
  auto owner = h.login("alice", kPassword, "203.0.113.9");
  EXPECT_TRUE(owner) << owner.status().to_string();
}

TEST(Accounts, FailedLoginsArePerAddressLimitedAndRecover) {
  AccountsOptions o = fast_options();
  o.login_failures_per_address_burst = 4;
  o.login_failures_per_address_refill_ms = 10'000;
  AccountsHarness h(o);
  ASSERT_TRUE(h.create("alice"));

  // Four different usernames from one address.
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(h.login("guess" + std::to_string(i), kPassword, "198.51.100.7").status().code(),
              v1::ERROR_CODE_UNAUTHENTICATED);
  }
  auto limited = h.login("alice", kPassword, "198.51.100.7");
  ASSERT_EQ(limited.status().code(), v1::ERROR_CODE_RESOURCE_EXHAUSTED);
  EXPECT_GT(limited.status().retry_after_ms(), 0);
  EXPECT_EQ(limited.status().message(), "Too many failed sign-in attempts; try again in 10 seconds.");
  // Another address is not affected.
  EXPECT_TRUE(h.login("alice", kPassword, "198.51.100.8"));

  h.monotonic().advance_ms(limited.status().retry_after_ms());
  auto again = h.login("alice", kPassword, "198.51.100.7");
  EXPECT_TRUE(again) << again.status().to_string();
}

TEST(Accounts, FailedLoginLimitsFollowTheMonotonicClockNotTheDate) {
  AccountsOptions o = fast_options();
  o.login_failures_per_username_address_burst = 2;
  o.login_failures_per_username_address_refill_ms = kMinute;
  AccountsHarness h(o);
  ASSERT_TRUE(h.create("alice"));
  for (int i = 0; i < 2; ++i)
    ASSERT_EQ(h.login("alice", "wrong password!").status().code(), v1::ERROR_CODE_UNAUTHENTICATED);
  ASSERT_EQ(h.login("alice", kPassword).status().code(), v1::ERROR_CODE_RESOURCE_EXHAUSTED);

  h.clock().advance_ms(kDay);  // the date moves (an NTP step, a changed system clock): still limited
  EXPECT_EQ(h.login("alice", kPassword).status().code(), v1::ERROR_CODE_RESOURCE_EXHAUSTED);
  h.monotonic().advance_ms(kMinute);
  EXPECT_TRUE(h.login("alice", kPassword));
}

TEST(Accounts, NamesThatCannotExistShareOneFailureLimit) {
  AccountsOptions o = fast_options();
  o.login_failures_per_username_address_burst = 3;
  AccountsHarness h(o);
  for (const char* junk : {"x", "has space", "semi;colon"})
    ASSERT_EQ(h.login(junk, kPassword, "198.51.100.7").status().code(), v1::ERROR_CODE_UNAUTHENTICATED);
  auto limited = h.login("?", kPassword, "198.51.100.7");
  EXPECT_EQ(limited.status().code(), v1::ERROR_CODE_RESOURCE_EXHAUSTED);
  ASSERT_TRUE(h.create("alice"));
  EXPECT_TRUE(h.login("alice", kPassword, "198.51.100.7"));  // a real name has its own
}

// Issue 10, 2: guesses sent together used to pass the check before the first
// one's failure was recorded.
TEST(Accounts, GuessesSentTogetherAreCountedBeforeTheyAreChecked) {
  AccountsOptions o = fast_options();
  o.login_failures_per_username_address_burst = 3;
  o.logins_in_flight_per_connection = 0;  // only the failure limit here
  o.logins_in_flight_per_address = 0;
  o.logins_in_flight_total = 0;
  testing::ManualExecutor pool;
  AccountsHarness h(o, nullptr, &pool);
  ASSERT_TRUE(h.create("alice"));
  std::atomic<int> wrong{0}, refused{0};
  for (uint64_t conn = 1; conn <= 10; ++conn) {
    h.start_login("alice", "wrong password!", LoginSource{.address = "198.51.100.7", .connection_id = conn},
                  [&](Result<LoginOutcome> r) {
                    if (r.status().code() == v1::ERROR_CODE_UNAUTHENTICATED) ++wrong;
                    if (r.status().code() == v1::ERROR_CODE_RESOURCE_EXHAUSTED) ++refused;
                  });
  }
  EXPECT_EQ(pool.queued(), 3u);
  EXPECT_EQ(refused.load(), 7);
  pool.run_all();
  EXPECT_EQ(wrong.load(), 3);
}

TEST(Accounts, TheRightPasswordGivesItsReservationBack) {
  AccountsOptions o = fast_options();
  o.login_failures_per_username_address_burst = 2;
  o.logins_in_flight_per_connection = 0;
  testing::ManualExecutor pool;
  AccountsHarness h(o, nullptr, &pool);
  ASSERT_TRUE(h.create("alice"));
  std::atomic<int> ok{0}, refused{0};
  auto count = [&](Result<LoginOutcome> r) {
    if (r) ++ok;
    if (r.status().code() == v1::ERROR_CODE_RESOURCE_EXHAUSTED) ++refused;
  };
  for (int i = 0; i < 3; ++i)
    h.start_login("alice", kPassword, LoginSource{.address = "198.51.100.7"}, count);
  EXPECT_EQ(refused.load(), 1);  // two reserved; the third waits like a guess would
  pool.run_all();
  ASSERT_TRUE(h.drain());
  EXPECT_EQ(ok.load(), 2);
  for (int i = 0; i < 2; ++i)
    h.start_login("alice", kPassword, LoginSource{.address = "198.51.100.7"}, count);
  pool.run_all();
  ASSERT_TRUE(h.drain());
  EXPECT_EQ(ok.load(), 4);
  EXPECT_EQ(refused.load(), 1);
}

TEST(Accounts, SignInsQueuedPastTheBoundsAreRefusedAtOnce) {
  AccountsOptions o = fast_options();
  o.logins_in_flight_per_connection = 2;
  o.logins_in_flight_per_address = 3;
  o.logins_in_flight_total = 5;
  testing::ManualExecutor pool;
  AccountsHarness h(o, nullptr, &pool);
  ASSERT_TRUE(h.create("alice"));
  std::vector<Status> refusals;
  std::mutex mu;
  auto start = [&](uint64_t conn, const std::string& address) {
    h.start_login("nobody", "whatever password", LoginSource{.address = address, .connection_id = conn},
                  [&](Result<LoginOutcome> r) {
                    if (r.status().code() != v1::ERROR_CODE_RESOURCE_EXHAUSTED) return;
                    std::lock_guard lock(mu);
                    refusals.push_back(r.status());
                  });
  };
  auto last_refusal = [&]() -> std::string {
    std::lock_guard lock(mu);
    if (refusals.empty()) return "";
    EXPECT_EQ(refusals.back().retry_after_ms(), 1000);
    return refusals.back().message();
  };
  start(1, "198.51.100.1");
  start(1, "198.51.100.1");
  start(1, "198.51.100.1");
  EXPECT_EQ(
      last_refusal(),
      "This connection already has 2 sign-ins waiting for their answers; wait for them, or try again in "
      "1 second.");
  start(2, "198.51.100.1");
  start(2, "198.51.100.1");
  EXPECT_EQ(last_refusal(),
            "Too many sign-ins from your address are waiting to be checked; try again in 1 second.");
  start(3, "198.51.100.2");
  start(4, "198.51.100.3");
  start(5, "198.51.100.4");
  EXPECT_EQ(last_refusal(), "The server is busy checking other sign-ins; try again in 1 second.");
  EXPECT_EQ(pool.queued(), 5u);
  EXPECT_EQ(refusals.size(), 3u);

  pool.run_all();  // the checks are done: the places are free again
  start(5, "198.51.100.4");
  EXPECT_EQ(pool.queued(), 1u);
  EXPECT_EQ(refusals.size(), 3u);
  pool.run_all();
}

TEST(Accounts, SignInOfAClosedConnectionIsDroppedUncheckedAndCostsNothing) {
  AccountsOptions o = fast_options();
  o.login_failures_per_username_address_burst = 1;
  testing::ManualExecutor pool;
  AccountsHarness h(o, nullptr, &pool);
  ASSERT_TRUE(h.create("alice"));
  auto gone = std::make_shared<std::atomic<bool>>(false);
  testing::Waiter<Result<LoginOutcome>> dropped;
  h.start_login("alice", "wrong password!",
                LoginSource{.address = "198.51.100.7", .connection_id = 1, .gone = gone}, dropped.callback());
  gone->store(true);  // the client went away while its sign-in waited
  pool.run_all();
  auto r = dropped.wait();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status().code(), v1::ERROR_CODE_UNAVAILABLE);
  EXPECT_EQ(r->status().message(), "The connection closed before the password was checked.");
  // It was not a guess: the one-guess limit is still there for the next attempt.
  testing::Waiter<Result<LoginOutcome>> next;
  h.start_login("alice", kPassword, LoginSource{.address = "198.51.100.7", .connection_id = 2},
                next.callback());
  pool.run_all();
  auto in = next.wait();
  ASSERT_TRUE(in);
  EXPECT_TRUE(*in) << in->status().to_string();
}

TEST(Accounts, StoppingAnswersQueuedSignInsWithoutCheckingThem) {
  testing::ManualExecutor pool;
  AccountsHarness h(fast_options(), nullptr, &pool);
  ASSERT_TRUE(h.create("alice"));
  std::vector<testing::Waiter<Result<LoginOutcome>>> waiters(3);
  for (auto& w : waiters)
    h.start_login("alice", kPassword, LoginSource{.address = "198.51.100.7"}, w.callback());
  h.accounts().stop_logins();
  pool.run_all();
  for (auto& w : waiters) {
    auto r = w.wait();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status().code(), v1::ERROR_CODE_UNAVAILABLE);
    EXPECT_EQ(r->status().message(), "The server is shutting down; sign in again in a moment.");
  }
  EXPECT_EQ(h.login("alice", kPassword).status().code(), v1::ERROR_CODE_UNAVAILABLE);
  EXPECT_EQ(pool.queued(), 0u);
}

TEST(Accounts, OverlongPasswordIsRefusedUncheckedAndCostsNothing) {
  AccountsOptions o = fast_options();
  o.login_failures_per_username_address_burst = 1;
  AccountsHarness h(o);
  ASSERT_TRUE(h.create("alice"));
  for (int i = 0; i < 3; ++i) {
    auto r = h.login("alice", std::string(1025, 'x'));
    ASSERT_EQ(r.status().code(), v1::ERROR_CODE_INVALID_ARGUMENT);
    EXPECT_EQ(r.status().field(), "password");
    EXPECT_EQ(r.status().message(),
              "The password is longer than 1024 bytes, which no password here can be; check what is being "
              "sent.");
  }
  EXPECT_TRUE(h.login("alice", kPassword));
}

TEST(Accounts, IssuedTokenAuthenticates) {
  AccountsHarness h;
  auto alice = h.create("alice");
  ASSERT_TRUE(alice);
  auto out = h.login("alice", kPassword);
  ASSERT_TRUE(out);
  auto session = h.accounts().authenticate(out->token);
  ASSERT_TRUE(session) << session.status().to_string();
  EXPECT_EQ(session->user.id(), alice->id());
  EXPECT_EQ(session->token_hash, out->session.token_hash);
  EXPECT_EQ(session->device_name, "test phone");
  EXPECT_TRUE(h.accounts().refresh(*session));
}

TEST(Accounts, MalformedAndUnknownTokensAreRefusedWithDifferentSentences) {
  AccountsHarness h;
  for (const std::string& bad : std::vector<std::string>{"", "abc", std::string(64, 'g'),
                                                         std::string(63, 'a'), std::string(64, 'A')}) {
    auto r = h.accounts().authenticate(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.status().code(), v1::ERROR_CODE_UNAUTHENTICATED);
    EXPECT_EQ(r.status().message(), "This token is not valid; sign in again.");
  }
  auto unknown = h.accounts().authenticate(std::string(64, 'a'));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.status().code(), v1::ERROR_CODE_UNAUTHENTICATED);
  EXPECT_EQ(unknown.status().message(),
            "This token is not valid (it was revoked or never existed); sign in again with your password.");
}

TEST(Accounts, TokenExpiresWhenIdleAndUseKeepsItAlive) {
  AccountsOptions o = fast_options();
  o.token_idle_timeout_ms = 7 * kDay;
  o.token_lifetime_ms = 30 * kDay;
  AccountsHarness h(o);
  ASSERT_TRUE(h.create("alice"));
  auto out = h.login("alice", kPassword);
  ASSERT_TRUE(out);

  h.clock().advance_ms(6 * kDay);
  auto used = h.accounts().authenticate(out->token);  // refreshes last-used through the committer
  ASSERT_TRUE(used) << used.status().to_string();
  EXPECT_EQ(used->idle_expires_at_ms, h.clock().now_ms() + 7 * kDay);
  ASSERT_TRUE(h.drain());

  h.clock().advance_ms(6 * kDay);  // 12 days after login, 6 after last use
  ASSERT_TRUE(h.accounts().authenticate(out->token));
  ASSERT_TRUE(h.drain());

  h.clock().advance_ms(7 * kDay + 1);
  auto expired = h.accounts().authenticate(out->token);
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.status().code(), v1::ERROR_CODE_UNAUTHENTICATED);
  EXPECT_EQ(expired.status().message(), "Your session expired after 7 days without use; sign in again.");
  EXPECT_EQ(h.accounts().refresh(out->session).status().code(), v1::ERROR_CODE_UNAUTHENTICATED);
}

TEST(Accounts, TokenExpiresAfterItsLifetimeEvenWhenUsed) {
  AccountsOptions o = fast_options();
  o.token_idle_timeout_ms = 7 * kDay;
  o.token_lifetime_ms = 10 * kDay;
  AccountsHarness h(o);
  ASSERT_TRUE(h.create("alice"));
  auto out = h.login("alice", kPassword);
  ASSERT_TRUE(out);
  for (int day = 0; day < 9; ++day) {
    h.clock().advance_ms(kDay);
    ASSERT_TRUE(h.accounts().authenticate(out->token)) << "day " << day + 1;
    ASSERT_TRUE(h.drain());
  }
  h.clock().advance_ms(kDay);  // exactly the lifetime
  auto expired = h.accounts().authenticate(out->token);
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.status().message(), "Your session expired; sign in again.");
  auto session_check = h.accounts().refresh(out->session);
  EXPECT_EQ(session_check.status().message(), "Your session expired; sign in again.");
}

TEST(Accounts, LastUsedIsWrittenAtMostOncePerTouchInterval) {
  AccountsOptions o = fast_options();
  o.token_touch_interval_ms = kMinute;
  AccountsHarness h(o);
  ASSERT_TRUE(h.create("alice"));
  auto out = h.login("alice", kPassword);
  ASSERT_TRUE(out);
  ASSERT_TRUE(h.drain());
  const uint64_t commits = h.committer().commits_total();
  h.clock().advance_ms(30 * 1000);
  ASSERT_TRUE(h.accounts().authenticate(out->token));
  ASSERT_TRUE(h.drain());
  EXPECT_EQ(h.committer().commits_total(), commits + 1);  // only the drain itself
  h.clock().advance_ms(30 * 1000);
  ASSERT_TRUE(h.accounts().authenticate(out->token));
  ASSERT_TRUE(h.drain());
  EXPECT_EQ(h.committer().commits_total(), commits + 3);  // the touch and the drain

  auto raw = h.store().get(storage::Cf::kTokens, out->session.token_hash);
  ASSERT_TRUE(raw && raw->has_value());
  v1::TokenRecord rec;
  ASSERT_TRUE(rec.ParseFromString(**raw));
  EXPECT_EQ(rec.last_used_ms(), h.clock().now_ms());
}

TEST(Accounts, LogoutEndsTheToken) {
  AccountsHarness h;
  ASSERT_TRUE(h.create("alice"));
  auto out = h.login("alice", kPassword);
  ASSERT_TRUE(out);
  ASSERT_TRUE(h.logout(out->session.token_hash));
  auto r = h.accounts().authenticate(out->token);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().message(),
            "This token is not valid (it was revoked or never existed); sign in again with your password.");
  EXPECT_EQ(h.accounts().refresh(out->session).status().code(), v1::ERROR_CODE_UNAUTHENTICATED);
  // The user's token index is cleaned too.
  auto idx = h.store().get(storage::Cf::kUserTokens,
                           storage::user_token_key(out->session.user.id(), out->session.token_hash));
  ASSERT_TRUE(idx);
  EXPECT_FALSE(idx->has_value());
  // Signing out twice is fine.
  EXPECT_TRUE(h.logout(out->session.token_hash));
}

TEST(Accounts, RevokeTokensEndsEveryTokenOfOneUserOnly) {
  AccountsHarness h;
  auto alice = h.create("alice");
  ASSERT_TRUE(h.create("bob"));
  ASSERT_TRUE(alice);
  auto a1 = h.login("alice", kPassword, "192.0.2.1", "laptop");
  auto a2 = h.login("alice", kPassword, "192.0.2.2", "phone");
  auto b1 = h.login("bob", kPassword);
  ASSERT_TRUE(a1 && a2 && b1);

  auto revoked = h.revoke(alice->id());
  ASSERT_TRUE(revoked) << revoked.status().to_string();
  EXPECT_EQ(*revoked, 2u);
  EXPECT_FALSE(h.accounts().authenticate(a1->token));
  EXPECT_FALSE(h.accounts().authenticate(a2->token));
  EXPECT_TRUE(h.accounts().authenticate(b1->token));
  EXPECT_EQ(h.accounts().refresh(a1->session).status().code(), v1::ERROR_CODE_UNAUTHENTICATED);

  auto again = h.revoke(alice->id());
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0u);

  auto nobody = h.revoke(9999);
  ASSERT_FALSE(nobody);
  EXPECT_EQ(nobody.status().code(), v1::ERROR_CODE_NOT_FOUND);
  EXPECT_EQ(nobody.status().message(), "No user with id 9999.");
}

// Records what the hub asks of a live session.
class FakeSink : public hub::SessionSink {
 public:
  void deliver(std::shared_ptr<const std::string>, int) override {}
  void end_session(const std::string& reason) override {
    std::lock_guard lock(mu);
    reasons.push_back(reason);
  }
  std::vector<std::string> ended() {
    std::lock_guard lock(mu);
    return reasons;
  }
  std::mutex mu;
  std::vector<std::string> reasons;
};

TEST(Accounts, LogoutAndRevocationEndLiveSessionsThroughTheHub) {
  hub::Hub hub;
  AccountsHarness h(fast_options(), &hub);
  auto alice = h.create("alice");
  ASSERT_TRUE(h.create("bob"));
  auto a1 = h.login("alice", kPassword);
  auto a2 = h.login("alice", kPassword);
  auto b1 = h.login("bob", kPassword);
  ASSERT_TRUE(alice && a1 && a2 && b1);
  auto s1 = std::make_shared<FakeSink>();
  auto s2 = std::make_shared<FakeSink>();
  auto sb = std::make_shared<FakeSink>();
  hub.attach(alice->id(), a1->session.token_hash, s1);
  hub.attach(alice->id(), a2->session.token_hash, s2);
  hub.attach(b1->session.user.id(), b1->session.token_hash, sb);

  ASSERT_TRUE(h.logout(a1->session.token_hash));
  EXPECT_EQ(s1->ended(), std::vector<std::string>{"You signed out."});
  EXPECT_TRUE(s2->ended().empty());

  ASSERT_TRUE(h.revoke(alice->id()));
  EXPECT_EQ(s2->ended(), std::vector<std::string>{"An administrator ended your sessions."});
  EXPECT_TRUE(sb->ended().empty());
}

size_t count_entries(storage::Store& store, storage::Cf cf) {
  size_t n = 0;
  auto scanned = store.scan_prefix(cf, "", [&](std::string_view, std::string_view) {
    ++n;
    return true;
  });
  EXPECT_TRUE(scanned);
  return n;
}

// Issue 10, 7: a login loop used to keep every token it made.
TEST(Accounts, LoginPastTheCapEndsTheOldestTokensAndTheirLiveSessions) {
  hub::Hub hub;
  AccountsOptions o = fast_options();
  o.max_tokens_per_user = 3;
  AccountsHarness h(o, &hub);
  auto alice = h.create("alice");
  ASSERT_TRUE(alice);
  ASSERT_TRUE(h.create("bob"));
  ASSERT_TRUE(h.login("bob", kPassword));
  std::vector<LoginOutcome> logins;
  auto first_sink = std::make_shared<FakeSink>();
  for (int i = 0; i < 5; ++i) {
    h.clock().advance_ms(1000);
    auto out = h.login("alice", kPassword);
    ASSERT_TRUE(out) << out.status().to_string();
    logins.push_back(*out);
    if (i == 0) hub.attach(alice->id(), out->session.token_hash, first_sink);
  }
  for (int i = 0; i < 5; ++i) {
    auto auth = h.accounts().authenticate(logins[i].token);
    EXPECT_EQ(static_cast<bool>(auth), i >= 2) << i;
  }
  EXPECT_EQ(first_sink->ended(),
            std::vector<std::string>{
                "You are signed in on more than 3 devices; this, the oldest sign-in, was ended."});
  EXPECT_EQ(count_entries(h.store(), storage::Cf::kUserTokens), 4u);  // alice's 3 and bob's
  EXPECT_EQ(count_entries(h.store(), storage::Cf::kTokens), 4u);
}

// Sign-ins in one millisecond (fast hashing, a quick client): the one ended
// is still the first, not whichever hash sorts first.
TEST(Accounts, SignInsInOneMillisecondEndTheFirstOfThem) {
  AccountsOptions o = fast_options();
  o.max_tokens_per_user = 3;
  AccountsHarness h(o);
  ASSERT_TRUE(h.create("alice"));
  for (int round = 0; round < 20; ++round) {  // 20 draws of random hashes
    std::vector<std::string> tokens;
    for (int i = 0; i < 4; ++i) {  // the clock does not move
      auto out = h.login("alice", kPassword);
      ASSERT_TRUE(out) << out.status().to_string();
      tokens.push_back(out->token);
    }
    EXPECT_FALSE(h.accounts().authenticate(tokens[0])) << "round " << round;
    for (int i = 1; i < 4; ++i)
      EXPECT_TRUE(h.accounts().authenticate(tokens[i])) << "round " << round << ", " << i;
  }
}

TEST(Accounts, SweepDeletesExpiredTokensInBatches) {
  AccountsOptions o = fast_options();
  o.token_sweep_batch = 2;
  AccountsHarness h(o);
  ASSERT_TRUE(h.create("alice"));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(h.login("alice", kPassword));
  h.clock().advance_ms(o.token_idle_timeout_ms + 1);  // those three expire unused
  std::vector<std::string> fresh;
  for (int i = 0; i < 2; ++i) {
    auto out = h.login("alice", kPassword);
    ASSERT_TRUE(out);
    fresh.push_back(out->token);
  }
  size_t ended = 0, passes = 0;
  for (;;) {
    auto sweep = h.accounts().sweep_expired_tokens();
    ASSERT_TRUE(sweep) << sweep.status().to_string();
    EXPECT_LE(sweep->checked, 2u);
    ended += sweep->ended;
    ++passes;
    if (sweep->finished) break;
    ASSERT_LT(passes, 10u);
  }
  EXPECT_EQ(ended, 3u);
  EXPECT_EQ(passes, 3u);
  EXPECT_EQ(count_entries(h.store(), storage::Cf::kTokens), 2u);
  EXPECT_EQ(count_entries(h.store(), storage::Cf::kUserTokens), 2u);
  for (const std::string& token : fresh) EXPECT_TRUE(h.accounts().authenticate(token));
  // The next pass starts again from the first token.
  auto again = h.accounts().sweep_expired_tokens();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->ended, 0u);
}

TEST(Accounts, SweepEndsLiveConnectionsOnlyOfTokensPastTheirLifetime) {
  hub::Hub hub;
  AccountsHarness h(fast_options(), &hub);
  auto alice = h.create("alice");
  ASSERT_TRUE(alice);
  auto old_token = h.login("alice", kPassword);
  ASSERT_TRUE(old_token);
  h.clock().advance_ms(AccountsOptions{}.token_lifetime_ms - AccountsOptions{}.token_idle_timeout_ms);
  auto idle_token = h.login("alice", kPassword);
  ASSERT_TRUE(idle_token);
  auto old_sink = std::make_shared<FakeSink>();
  auto idle_sink = std::make_shared<FakeSink>();
  hub.attach(alice->id(), old_token->session.token_hash, old_sink);
  hub.attach(alice->id(), idle_token->session.token_hash, idle_sink);

  // One is past its lifetime, the other only went unused too long.
  h.clock().advance_ms(AccountsOptions{}.token_idle_timeout_ms + 1);
  auto sweep = h.accounts().sweep_expired_tokens();
  ASSERT_TRUE(sweep);
  EXPECT_EQ(sweep->ended, 2u);
  EXPECT_EQ(old_sink->ended(), std::vector<std::string>{"Your session expired; sign in again."});
  EXPECT_TRUE(idle_sink->ended().empty());
}

TEST(Accounts, DuplicateUsernameIgnoringCaseIsRefused) {
  AccountsHarness h;
  ASSERT_TRUE(h.create("alice"));
  auto dup = h.create("ALICE");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.status().code(), v1::ERROR_CODE_ALREADY_EXISTS);
  EXPECT_EQ(dup.status().message(), "A user named ALICE already exists.");
  EXPECT_EQ(dup.status().field(), "username");
}

TEST(Accounts, ConcurrentCreatesOfOneNameLetExactlyOneWin) {
  AccountsHarness h;
  std::atomic<int> ok{0}, exists{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      auto r = h.create(i % 2 == 0 ? "zed" : "ZED");
      if (r)
        ++ok;
      else if (r.status().code() == v1::ERROR_CODE_ALREADY_EXISTS)
        ++exists;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(exists.load(), 3);
  auto all = h.accounts().list_users();
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 1u);
}

TEST(Accounts, CreatingAUserAppendsAnEventForThatUser) {
  AccountsHarness h;
  auto alice = h.create("alice");
  ASSERT_TRUE(alice);
  auto events = h.events();
  ASSERT_EQ(events.size(), 1u);
  ASSERT_TRUE(events[0].event->has_user_created());
  EXPECT_EQ(events[0].event->user_created().user().username(), "alice");
  EXPECT_GT(events[0].event->position(), 0u);
  EXPECT_EQ(*events[0].audience, std::vector<uint64_t>{alice->id()});
}

struct BadField {
  const char* name;
  std::function<void(NewUser&)> spoil;
  const char* field;
};

TEST(Accounts, ValidationErrorsNameTheField) {
  AccountsHarness h;
  const std::vector<BadField> cases = {
      {"short username", [](NewUser& u) { u.username = "ab"; }, "username"},
      {"long username", [](NewUser& u) { u.username = std::string(65, 'a'); }, "username"},
      {"space in username", [](NewUser& u) { u.username = "ana lee"; }, "username"},
      {"slash in username", [](NewUser& u) { u.username = "ana/lee"; }, "username"},
      {"short password", [](NewUser& u) { u.password = "123456789"; }, "password"},
      {"long password", [](NewUser& u) { u.password = std::string(1025, 'p'); }, "password"},
      {"no display name", [](NewUser& u) { u.display_name = ""; }, "display_name"},
      {"blank display name", [](NewUser& u) { u.display_name = "   "; }, "display_name"},
      {"long display name", [](NewUser& u) { u.display_name = std::string(201, 'n'); }, "display_name"},
      {"bad utf-8", [](NewUser& u) { u.display_name = "Ana \xC3"; }, "display_name"},
      {"newline", [](NewUser& u) { u.display_name = "Ana\nLee"; }, "display_name"},
      {"no role", [](NewUser& u) { u.role = v1::ROLE_UNSPECIFIED; }, "role"},
      {"bad role", [](NewUser& u) { u.role = static_cast<v1::Role>(42); }, "role"},
      {"long specialty", [](NewUser& u) { u.specialty = std::string(201, 's'); }, "specialty"},
      {"control training level", [](NewUser& u) { u.training_level = "PGY\x01"; }, "training_level"},
      {"empty zone", [](NewUser& u) { u.time_zone = ""; }, "time_zone"},
      {"unknown zone", [](NewUser& u) { u.time_zone = "Mars/Olympus_Mons"; }, "time_zone"},
      {"escaping zone", [](NewUser& u) { u.time_zone = "../../../etc/passwd"; }, "time_zone"},
      {"dotdot zone", [](NewUser& u) { u.time_zone = "Europe/../Europe/Berlin"; }, "time_zone"},
      {"absolute zone", [](NewUser& u) { u.time_zone = "/usr/share/zoneinfo/UTC"; }, "time_zone"},
      {"not a zone file", [](NewUser& u) { u.time_zone = "zone.tab"; }, "time_zone"},
      {"zone folder", [](NewUser& u) { u.time_zone = "Europe"; }, "time_zone"},
  };
  for (const auto& c : cases) {
    NewUser u;
    u.username = "ana.lee";
    u.password = "long enough password";
    u.display_name = "Dr. Ana Lee";
    u.role = v1::ROLE_MENTOR;
    c.spoil(u);
    Status st = h.accounts().validate_new_user(u);
    EXPECT_EQ(st.code(), v1::ERROR_CODE_INVALID_ARGUMENT) << c.name;
    EXPECT_EQ(st.field(), c.field) << c.name;
    EXPECT_FALSE(st.message().empty()) << c.name;
    EXPECT_EQ(st.message().find("long enough password"), std::string::npos) << "never echo a password";
    auto created = testing::Waiter<Result<v1::User>>();
    h.accounts().create_user(u, created.callback());
    auto r = created.wait();
    ASSERT_TRUE(r.has_value()) << c.name;
    EXPECT_EQ(r->status().field(), c.field) << c.name;
  }
  auto all = h.accounts().list_users();
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->empty());

  NewUser u;
  u.username = "ana";
  u.password = "long enough password";
  u.display_name = "Ana";
  u.role = v1::ROLE_MENTEE;
  u.time_zone = "x";
  EXPECT_EQ(h.accounts().validate_new_user(u).message(),
            "The time zone 'x' is not a known IANA time zone name; use one such as Europe/Berlin, "
            "America/New_York or UTC.");
  u.username = "a b";
  EXPECT_EQ(h.accounts().validate_new_user(u).message(),
            "The username may contain only letters, digits, '.', '_', '-' and '@' (3-64 characters).");
}

TEST(Accounts, ValidNamesAndZonesAreAccepted) {
  AccountsHarness h;
  for (const char* zone :
       {"UTC", "Etc/UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+5"}) {
    for (const char* name : {"ana", "Ana.Lee-2@st_marys"}) {
      NewUser u;
      u.username = name;
      u.password = "long enough password";
      u.display_name = "Dr. Ana Lee — Kardiologie";
      u.role = v1::ROLE_PROGRAM_DIRECTOR;
      u.time_zone = zone;
      EXPECT_TRUE(validate_new_user_format(u))
          << zone << " " << name << ": " << validate_new_user_format(u).to_string();
    }
  }
}

TEST(Accounts, UsersAndTokensSurviveReopeningTheStore) {
  AccountsHarness h;
  auto alice = h.create("alice");
  ASSERT_TRUE(alice);
  auto out = h.login("alice", kPassword);
  ASSERT_TRUE(out);

  h.close();
  h.open();

  auto session = h.accounts().authenticate(out->token);
  ASSERT_TRUE(session) << session.status().to_string();
  EXPECT_EQ(session->user.id(), alice->id());
  auto found = h.accounts().find_user("ALICE");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->display_name(), "Dr. alice");
  EXPECT_TRUE(h.login("alice", kPassword));
  EXPECT_EQ(h.create("alice").status().code(), v1::ERROR_CODE_ALREADY_EXISTS);
  auto bob = h.create("bob");
  ASSERT_TRUE(bob);
  EXPECT_GT(bob->id(), alice->id());  // ids keep counting after a restart
}

NewUser new_user(const std::string& name) {
  NewUser u;
  u.username = name;
  u.password = "long enough password";
  u.display_name = "Dr. " + name;
  u.role = v1::ROLE_MENTEE;
  return u;
}

TEST(Accounts, CreateUsersIsAllOrNone) {
  AccountsHarness h;
  ASSERT_TRUE(h.create("carol"));

  auto conflict = h.create_all({new_user("dave"), new_user("CAROL"), new_user("erin")});
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.status().code(), v1::ERROR_CODE_ALREADY_EXISTS);
  EXPECT_NE(conflict.status().message().find("CAROL"), std::string::npos) << conflict.status().message();

  auto twice = h.create_all({new_user("dave"), new_user("Dave")});
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.status().code(), v1::ERROR_CODE_ALREADY_EXISTS);
  EXPECT_NE(twice.status().message().find("Dave"), std::string::npos) << twice.status().message();

  NewUser bad = new_user("frank");
  bad.time_zone = "Nowhere/Special";
  auto invalid = h.create_all({new_user("dave"), bad});
  ASSERT_FALSE(invalid);
  EXPECT_EQ(invalid.status().code(), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_EQ(invalid.status().field(), "time_zone");
  EXPECT_NE(invalid.status().message().find("frank"), std::string::npos) << invalid.status().message();

  auto users = h.accounts().list_users();
  ASSERT_TRUE(users);
  ASSERT_EQ(users->size(), 1u);
  EXPECT_EQ(h.accounts().find_user("dave").status().code(), v1::ERROR_CODE_NOT_FOUND);

  auto created = h.create_all({new_user("dave"), new_user("erin"), new_user("frank")});
  ASSERT_TRUE(created) << created.status().to_string();
  ASSERT_EQ(created->size(), 3u);
  EXPECT_EQ((*created)[0].username(), "dave");
  EXPECT_EQ((*created)[2].username(), "frank");
  EXPECT_EQ((*created)[1].id(), (*created)[0].id() + 1);
  users = h.accounts().list_users();
  ASSERT_TRUE(users);
  EXPECT_EQ(users->size(), 4u);
  EXPECT_TRUE(h.login("erin", "long enough password"));
}

TEST(Accounts, NameTakenAfterTheChecksIsRefusedByTheWriteAndRollsBackEveryRow) {
  // Someone takes a name between create_users' checks and its write.
  AccountsHarness h;
  auto release = std::make_shared<std::promise<void>>();
  std::shared_future<void> released = release->get_future().share();
  testing::Waiter<Status> hold_done, take_done;
  // 1: hold the committer thread so that what follows queues behind it.
  h.committer().submit(
      [released](storage::CommitContext&) {
        if (released.wait_for(testing::kWaitTimeout) != std::future_status::ready) {
          return Status(v1::ERROR_CODE_DEADLINE_EXCEEDED, "The test never released the committer.");
        }
        return Status::ok();
      },
      hold_done.callback());
  // 2: queued: another writer takes "gina".
  h.committer().submit(
      [](storage::CommitContext& ctx) {
        ctx.put(storage::Cf::kUsernames, storage::username_key("gina"), storage::encode_u64(777));
        return Status::ok();
      },
      take_done.callback());
  // 3: the checks read committed data, where "gina" is still free.
  testing::Waiter<Result<std::vector<v1::User>>> created;
  h.accounts().create_users({new_user("hank"), new_user("Gina")}, created.callback());
  release->set_value();

  auto r = created.wait();
  ASSERT_TRUE(r.has_value());
  ASSERT_FALSE(*r);
  EXPECT_EQ(r->status().code(), v1::ERROR_CODE_ALREADY_EXISTS);
  EXPECT_EQ(r->status().message(), "A user named Gina already exists.");
  EXPECT_TRUE(hold_done.wait().value_or(testing::timed_out()));
  EXPECT_TRUE(take_done.wait().value_or(testing::timed_out()));
  EXPECT_EQ(h.accounts().find_user("hank").status().code(), v1::ERROR_CODE_NOT_FOUND);
  EXPECT_TRUE(h.events().empty());
  // The id given out inside the failed write was given back.
  auto ivan = h.create("ivan");
  ASSERT_TRUE(ivan);
  EXPECT_EQ(ivan->id(), 1u);
}

TEST(Accounts, DisabledUserCannotLogInAndTheirTokensStopWorking) {
  AccountsHarness h;
  auto alice = h.create("alice");
  ASSERT_TRUE(alice);
  auto out = h.login("alice", kPassword);
  ASSERT_TRUE(out);
  const uint64_t id = alice->id();
  ASSERT_TRUE(h.mutate([id](storage::CommitContext& ctx) {
    auto raw = ctx.get(storage::Cf::kUsers, storage::encode_u64(id));
    if (!raw) return raw.status();
    v1::UserRecord rec;
    rec.ParseFromString(**raw);
    rec.set_disabled(true);
    ctx.put(storage::Cf::kUsers, storage::encode_u64(id), rec.SerializeAsString());
    return Status::ok();
  }));
  auto login = h.login("alice", kPassword);
  ASSERT_FALSE(login);
  EXPECT_EQ(login.status().code(), v1::ERROR_CODE_UNAUTHENTICATED);
  EXPECT_EQ(login.status().message(), "Wrong username or password.");
  auto auth = h.accounts().authenticate(out->token);
  ASSERT_FALSE(auth);
  EXPECT_EQ(auth.status().message(),
            "This token is not valid (it was revoked or never existed); sign in again with your password.");
}

TEST(Accounts, SetPasswordReplacesTheOldOneAndEndsEveryToken) {
  AccountsHarness h;
  auto alice = h.create("alice");
  ASSERT_TRUE(alice);
  auto before = h.login("alice", kPassword);
  ASSERT_TRUE(before);
  auto ended = h.set_password_ending(alice->id(), "a brand new password");
  ASSERT_TRUE(ended);
  EXPECT_EQ(*ended, 1u);
  EXPECT_FALSE(h.accounts().authenticate(before->token));
  EXPECT_FALSE(h.login("alice", kPassword));
  EXPECT_TRUE(h.login("alice", "a brand new password"));
  EXPECT_EQ(h.set_password(alice->id(), "short").field(), "password");
  EXPECT_EQ(h.set_password(4242, "a brand new password").code(), v1::ERROR_CODE_NOT_FOUND);
}

TEST(Accounts, LookupsSayWhatIsMissing) {
  AccountsHarness h;
  auto alice = h.create("alice", kPassword, v1::ROLE_MENTOR);
  ASSERT_TRUE(alice);
  ASSERT_TRUE(h.create("bob"));
  auto got = h.accounts().get_user(alice->id());
  ASSERT_TRUE(got);
  EXPECT_EQ(got->role(), v1::ROLE_MENTOR);
  EXPECT_EQ(h.accounts().get_user(99).status().message(), "No user with id 99.");
  EXPECT_EQ(h.accounts().find_user("zoe").status().code(), v1::ERROR_CODE_NOT_FOUND);
  EXPECT_EQ(h.accounts().find_user("zoe").status().message(), "No user named zoe.");
  auto all = h.accounts().list_users();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].username(), "alice");
  EXPECT_EQ((*all)[1].username(), "bob");
}

TEST(Accounts, StoredRecordsHoldNoPlainPasswordOrToken) {
  AccountsHarness h;
  auto alice = h.create("alice");
  ASSERT_TRUE(alice);
  auto out = h.login("alice", kPassword);
  ASSERT_TRUE(out);
  auto raw = h.store().get(storage::Cf::kUsers, storage::encode_u64(alice->id()));
  ASSERT_TRUE(raw && raw->has_value());
  EXPECT_EQ((*raw)->find(kPassword), std::string::npos);
  v1::UserRecord rec;
  ASSERT_TRUE(rec.ParseFromString(**raw));
  EXPECT_EQ(rec.password_hash().rfind("$argon2id$", 0), 0u) << rec.password_hash();
  auto tok = h.store().get(storage::Cf::kTokens, out->session.token_hash);
  ASSERT_TRUE(tok && tok->has_value());
  v1::TokenRecord t;
  ASSERT_TRUE(t.ParseFromString(**tok));
  EXPECT_EQ(t.user_id(), alice->id());
  EXPECT_EQ((*tok)->find(out->token), std::string::npos);
}

}  // namespace
}  // namespace preceptor::services
