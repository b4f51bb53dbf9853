#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "common/status.h"
#include "common/token_bucket.h"

namespace preceptor::services {

// Every username that cannot exist shares this key, so junk names cannot
// grow the per-username buckets. (Not a valid username: it starts with \x01.)
inline constexpr const char* kInvalidUsernameLimitKey = "\x01invalid";

// What a client address counts as for the limits: an IPv4 address as
// itself, an IPv4-mapped IPv6 address as the IPv4 one, any other IPv6
// address as its /64 (one host usually holds a whole /64, so counting single
// IPv6 addresses would give it 2^64 fresh starts), and anything that is not
// an IP address (tests, tools) as it is. "" stays "" (no address).
std::string address_limit_key(std::string_view address);

// The rates of LoginLimits. A rate that is no limit (TokenRate{}) turns
// that limit off.
struct LoginLimitRates {
  TokenRate per_username_address;  // wrong guesses at one username from one address: refused past it
  TokenRate per_address;           // wrong guesses at any username from one address: refused past it
  // Wrong guesses at one username from everywhere. Past it nobody is
  // refused outright; it only slows guessing (see LoginLimits).
  TokenRate per_username;
};

// The failed sign-in limits of Accounts, as token buckets on a monotonic
// clock. Each attempt reserves its tokens before the (slow) password check,
// so attempts sent at once cannot all pass; the reservation is given back
// when the attempt was not a wrong guess (right password, or dropped before
// it was checked).
//
// - (username, address): refused when empty. Bounds one address guessing
//   one account.
// - address: refused when empty. Bounds one address trying many accounts.
// - username, from every address: never refuses by itself. While it is
//   empty (the account is being guessed from many addresses) an address may
//   try that username only when its (username, address) bucket is full, and
//   the try takes that whole bucket: one guess per address per full refill.
//
// So an owner with the right password on an address that has not been
// guessing always gets in, and an attacker is bounded per address.
//
// In memory only (a restart forgets them), and bounded: at most `max_keys`
// buckets per limit (see KeyedTokenBuckets). Thread-safe.
class LoginLimits {
 public:
  LoginLimits(LoginLimitRates rates, const MonotonicClock& clock, size_t max_keys = 100'000);

  // What one attempt took.
  struct Reservation {
    std::string username_key;
    std::string address_key;
    int64_t pair_tokens = 0;
    bool took_address = false;
    bool took_username = false;
  };

  // Reserves one wrong guess's worth for an attempt at `username_key` (the
  // canonical username or kInvalidUsernameLimitKey) from `address` (the
  // client's IP address; "" has no address limits). RESOURCE_EXHAUSTED "Too
  // many failed sign-in attempts; try again in N seconds." with
  // retry_after_ms (the longest wait that applies) when a limit refuses;
  // then nothing is taken.
  Result<Reservation> reserve(const std::string& username_key, const std::string& address);
  // The attempt was not a wrong guess: gives its tokens back.
  void release(const Reservation& reservation);

 private:
  std::mutex mu_;
  int64_t pair_capacity_;
  KeyedTokenBuckets by_pair_;      // GUARDED_BY(mu_)
  KeyedTokenBuckets by_address_;   // GUARDED_BY(mu_)
  KeyedTokenBuckets by_username_;  // GUARDED_BY(mu_)
};

// Bounds on sign-ins waiting for, or in, the password check. 0 or less: no bound.
struct LoginQueueBounds {
  int per_connection = 2;  // default 2
  int per_address = 8;     // default 8
  int total = 32;          // default 32
};

// Counts sign-ins between arrival and the end of their password check, so
// that nobody can queue unbounded slow work: past a bound the attempt is
// refused at once (RESOURCE_EXHAUSTED, retry_after_ms kBusyRetryAfterMs)
// instead of waiting behind the others. Thread-safe.
class LoginQueue {
 public:
  static constexpr int64_t kBusyRetryAfterMs = 1000;

  explicit LoginQueue(LoginQueueBounds bounds) : bounds_(bounds) {}

  // A place in the queue; given back when the last copy is destroyed.
  // REQUIRES: the LoginQueue outlives it.
  using Place = std::shared_ptr<void>;

  // A place for a sign-in on `connection_id` (0: no connection, no
  // per-connection bound) from `address_key` ("" : no per-address bound).
  Result<Place> enter(uint64_t connection_id, const std::string& address_key);

  size_t total() const;

 private:
  void leave(uint64_t connection_id, const std::string& address_key);

  LoginQueueBounds bounds_;
  mutable std::mutex mu_;
  int total_ = 0;                                    // GUARDED_BY(mu_)
  std::unordered_map<uint64_t, int> by_connection_;  // GUARDED_BY(mu_); no zero counts
  std::unordered_map<std::string, int> by_address_;  // GUARDED_BY(mu_); no zero counts
};

}  // namespace preceptor::services
