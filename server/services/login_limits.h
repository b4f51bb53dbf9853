#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>

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

// The failed sign-in limits of Accounts: a token bucket of failures per
// username and one per peer address, on a monotonic clock. Attempts are
// checked before the (slow) password verification and only failures are
// charged, so concurrent wrong guesses can overshoot a limit by the number
// in flight; the next attempt is refused. In memory only (a restart forgets
// them), and bounded: at most `max_keys` buckets per limit (see
// KeyedTokenBuckets). Thread-safe.
class LoginLimits {
 public:
  // A rate that is no limit (TokenRate{}) turns that limit off.
  LoginLimits(TokenRate per_username, TokenRate per_address, const MonotonicClock& clock,
              size_t max_keys = 100'000);

  // OK, or RESOURCE_EXHAUSTED "Too many failed sign-in attempts; try again
  // in N seconds." with retry_after_ms, when the username's or the
  // address's bucket is empty (the longer wait of the two). `username_key`
  // is the canonical username or kInvalidUsernameLimitKey; `peer_address`
  // is the client's IP address, counted by address_limit_key; an empty one
  // has no address limit.
  Status check(const std::string& username_key, const std::string& peer_address);
  // Charges one failure to both buckets (a bucket that is already empty
  // stays empty).
  void record_failure(const std::string& username_key, const std::string& peer_address);

 private:
  std::mutex mu_;
  KeyedTokenBuckets by_username_;  // GUARDED_BY(mu_)
  KeyedTokenBuckets by_address_;   // GUARDED_BY(mu_)
};

}  // namespace preceptor::services
