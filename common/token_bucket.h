#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "common/clock.h"

namespace preceptor {

// How a TokenBucket fills: it holds up to `capacity` tokens (the burst) and
// gets one back every `refill_interval_ns`. A rate with capacity <= 0 or
// refill_interval_ns <= 0 is no limit: every take succeeds.
struct TokenRate {
  int64_t capacity = 0;            // tokens; default 0 (no limit)
  int64_t refill_interval_ns = 0;  // nanoseconds per token; default 0 (no limit)

  // `burst` at once, then `per_second` a second, sustained; fractions are
  // fine (0.5: one every 2 s). per_second <= 0 (or NaN) or burst <= 0: no limit.
  static TokenRate per_second(double per_second, int64_t burst);
  // `burst` at once, then one more every `interval_ms`. Either <= 0: no limit.
  static TokenRate one_every_ms(int64_t interval_ms, int64_t burst);

  bool limits() const { return capacity > 0 && refill_interval_ns > 0; }
};

// What a take did. Default: taken.
struct TokenTake {
  bool taken = true;
  // When not taken: milliseconds until a token is back (rounded up, at least
  // 1), for a reply's retry_after_ms. 0 when taken.
  int64_t retry_after_ms = 0;

  explicit operator bool() const { return taken; }
};

// A token bucket on a monotonic clock: starts full, refills continuously at
// its rate up to its capacity, and each take removes one token. Cheap enough
// for every WebSocket frame: one clock read and a few integer operations,
// no allocation. Unaffected by a clock that does not move (takes at one
// instant drain the burst, then each is refused with the same wait) and by
// long gaps (the bucket is simply full; nothing overflows while clock
// readings stay below 2^62 ns, 146 years). Intervals above ~73 years, and
// bursts whose capacity * interval exceeds that, are cut to it.
//
// Not thread-safe: one owner (a session's strand) or the owner's lock.
// The clock must outlive the bucket.
class TokenBucket {
 public:
  TokenBucket(TokenRate rate, const MonotonicClock& clock);

  // Takes a token if there is one.
  [[nodiscard]] TokenTake try_take();
  // 0 when a token is there now; otherwise milliseconds until one is
  // (rounded up, at least 1). Takes nothing.
  int64_t retry_after_ms() const;
  // Takes every token at once, only when the bucket is full (for "one try,
  // then wait until it has all refilled"). When not full: not taken, and
  // retry_after_ms is the wait until it is.
  [[nodiscard]] TokenTake try_take_all();
  // 0 when the bucket is full now; otherwise milliseconds until it is
  // (rounded up, at least 1).
  int64_t full_after_ms() const;
  // Puts back `n` tokens taken earlier (a reservation that was not used);
  // never above capacity. n <= 0 does nothing.
  void give_back(int64_t n);
  // True when the bucket holds `capacity` tokens, i.e. it is as good as new.
  bool full() const;
  // Back to full, as if new.
  void refill();

 private:
  // Nanoseconds until the bucket is full again at `now` (0: full).
  int64_t deficit_ns(int64_t now) const;

  TokenRate rate_;
  int64_t burst_ns_;  // capacity * refill_interval_ns: the largest deficit that leaves nothing to take
  const MonotonicClock* clock_;
  // The whole state: the instant the bucket is full again (a "theoretical
  // arrival time"). It then holds capacity - ceil((full_at - now) / interval)
  // tokens; a take moves it one interval later. Minimum: full.
  int64_t full_at_ns_;
};

// Token buckets by key (a username, an address), one rate for all, holding
// at most `max_keys` buckets so that keys chosen by strangers cannot grow
// memory without end. A key without a bucket has a full one: full buckets
// are dropped when room is needed, by a sweep that runs at most once per
// max_keys / 2 lookups of keys without a bucket (O(1) amortized). When the sweep finds every bucket
// in use, new keys share one overflow bucket until room comes back: the
// limit still applies to them, jointly, and no key's bucket is forgotten
// while it is in use.
//
// Not thread-safe: the owner locks. The clock must outlive the collection.
class KeyedTokenBuckets {
 public:
  // REQUIRES: max_keys >= 1.
  KeyedTokenBuckets(TokenRate rate, const MonotonicClock& clock, size_t max_keys);

  // Takes a token from `key`'s bucket if it has one.
  [[nodiscard]] TokenTake try_take(const std::string& key);
  // Takes all of `key`'s tokens, only when its bucket is full.
  [[nodiscard]] TokenTake try_take_all(const std::string& key);
  // 0 when `key`'s bucket has a token now; otherwise milliseconds until it
  // does (rounded up, at least 1). Takes nothing, adds no bucket.
  int64_t retry_after_ms(const std::string& key);
  // 0 when `key`'s bucket is full now; otherwise milliseconds until it is.
  // Takes nothing, adds no bucket.
  int64_t full_after_ms(const std::string& key);
  // Puts back `n` tokens taken from `key`'s bucket (see TokenBucket::give_back).
  void give_back(const std::string& key, int64_t n);
  // `key`'s bucket back to full (its entry is dropped).
  void refill(const std::string& key);

  // Buckets held, not counting the overflow bucket. At most max_keys.
  size_t size() const { return buckets_.size(); }

 private:
  // `key`'s bucket; nullptr when it has none and there is room for one.
  TokenBucket* find(const std::string& key);
  // Drops every full bucket.
  void sweep();

  TokenRate rate_;
  const MonotonicClock* clock_;
  size_t max_keys_;
  std::unordered_map<std::string, TokenBucket> buckets_;
  TokenBucket overflow_;
  size_t new_keys_since_sweep_;
};

}  // namespace preceptor
