#include "common/token_bucket.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

namespace preceptor {

namespace {

// Longest refill interval and longest burst * interval (~73 years). Keeps
// every sum below 2^63 while clock readings stay below 2^62 (146 years of
// uptime).
constexpr int64_t kMaxSpanNs = int64_t{1} << 61;
constexpr int64_t kNsPerMs = 1'000'000;
constexpr int64_t kFull = std::numeric_limits<int64_t>::min();

int64_t ceil_ms(int64_t ns) { return std::max<int64_t>(1, (ns + kNsPerMs - 1) / kNsPerMs); }

}  // namespace

TokenRate TokenRate::per_second(double per_second, int64_t burst) {
  if (!(per_second > 0) || burst <= 0) return {};
  double interval = 1e9 / per_second;
  if (!(interval < static_cast<double>(kMaxSpanNs))) interval = static_cast<double>(kMaxSpanNs);
  return {burst, std::max<int64_t>(1, std::llround(interval))};
}

TokenRate TokenRate::one_every_ms(int64_t interval_ms, int64_t burst) {
  if (interval_ms <= 0 || burst <= 0) return {};
  return {burst, interval_ms > kMaxSpanNs / kNsPerMs ? kMaxSpanNs : interval_ms * kNsPerMs};
}

TokenBucket::TokenBucket(TokenRate rate, const MonotonicClock& clock)
    : rate_(rate), burst_ns_(0), clock_(&clock), full_at_ns_(kFull) {
  if (!rate_.limits()) return;
  rate_.refill_interval_ns = std::min(rate_.refill_interval_ns, kMaxSpanNs);
  burst_ns_ = rate_.capacity > kMaxSpanNs / rate_.refill_interval_ns
                  ? kMaxSpanNs
                  : rate_.capacity * rate_.refill_interval_ns;
}

int64_t TokenBucket::deficit_ns(int64_t now) const {
  // Compared before subtracting, so the "full" minimum cannot overflow.
  return full_at_ns_ > now ? full_at_ns_ - now : 0;
}

TokenTake TokenBucket::try_take() {
  if (!rate_.limits()) return {};
  const int64_t now = clock_->now_ns();
  const int64_t after = deficit_ns(now) + rate_.refill_interval_ns;  // <= 2 * kMaxSpanNs
  if (after > burst_ns_) return {false, ceil_ms(after - burst_ns_)};
  full_at_ns_ = now + after;
  return {};
}

int64_t TokenBucket::retry_after_ms() const {
  if (!rate_.limits()) return 0;
  const int64_t after = deficit_ns(clock_->now_ns()) + rate_.refill_interval_ns;
  return after > burst_ns_ ? ceil_ms(after - burst_ns_) : 0;
}

TokenTake TokenBucket::try_take_all() {
  if (!rate_.limits()) return {};
  const int64_t now = clock_->now_ns();
  if (const int64_t deficit = deficit_ns(now); deficit > 0) return {false, ceil_ms(deficit)};
  full_at_ns_ = now + burst_ns_;
  return {};
}

int64_t TokenBucket::full_after_ms() const {
  if (!rate_.limits()) return 0;
  const int64_t deficit = deficit_ns(clock_->now_ns());
  return deficit > 0 ? ceil_ms(deficit) : 0;
}

void TokenBucket::give_back(int64_t n) {
  if (!rate_.limits() || n <= 0 || full_at_ns_ == kFull) return;
  const int64_t back = n >= rate_.capacity ? burst_ns_ : n * rate_.refill_interval_ns;  // <= burst_ns_
  // full_at_ns_ is a clock reading plus at most 2 * kMaxSpanNs here: no overflow.
  full_at_ns_ -= back;
  if (full_at_ns_ <= clock_->now_ns()) full_at_ns_ = kFull;
}

bool TokenBucket::full() const { return !rate_.limits() || deficit_ns(clock_->now_ns()) == 0; }

void TokenBucket::refill() { full_at_ns_ = kFull; }

KeyedTokenBuckets::KeyedTokenBuckets(TokenRate rate, const MonotonicClock& clock, size_t max_keys)
    : rate_(rate),
      clock_(&clock),
      max_keys_(max_keys),
      overflow_(rate, clock),
      new_keys_since_sweep_(max_keys / 2) {
  assert(max_keys >= 1);
}

TokenBucket* KeyedTokenBuckets::find(const std::string& key) {
  if (auto it = buckets_.find(key); it != buckets_.end()) return &it->second;
  ++new_keys_since_sweep_;
  if (buckets_.size() < max_keys_) return nullptr;
  if (new_keys_since_sweep_ >= max_keys_ / 2) {
    sweep();
    if (buckets_.size() < max_keys_) return nullptr;
  }
  return &overflow_;
}

void KeyedTokenBuckets::sweep() {
  std::erase_if(buckets_, [](const auto& entry) { return entry.second.full(); });
  new_keys_since_sweep_ = 0;
}

TokenTake KeyedTokenBuckets::try_take(const std::string& key) {
  if (!rate_.limits()) return {};
  TokenBucket* bucket = find(key);
  if (bucket == nullptr) bucket = &buckets_.try_emplace(key, rate_, *clock_).first->second;
  return bucket->try_take();
}

int64_t KeyedTokenBuckets::retry_after_ms(const std::string& key) {
  if (!rate_.limits()) return 0;
  const TokenBucket* bucket = find(key);
  return bucket == nullptr ? 0 : bucket->retry_after_ms();
}

TokenTake KeyedTokenBuckets::try_take_all(const std::string& key) {
  if (!rate_.limits()) return {};
  TokenBucket* bucket = find(key);
  if (bucket == nullptr) bucket = &buckets_.try_emplace(key, rate_, *clock_).first->second;
  return bucket->try_take_all();
}

int64_t KeyedTokenBuckets::full_after_ms(const std::string& key) {
  if (!rate_.limits()) return 0;
  const TokenBucket* bucket = find(key);
  return bucket == nullptr ? 0 : bucket->full_after_ms();
}

void KeyedTokenBuckets::give_back(const std::string& key, int64_t n) {
  if (!rate_.limits()) return;
  if (auto it = buckets_.find(key); it != buckets_.end()) {
    it->second.give_back(n);
  } else if (buckets_.size() >= max_keys_) {
    overflow_.give_back(n);  // it was taken there, most likely
  }
  // Otherwise the key has no bucket, which is a full one: nothing to give back.
}

void KeyedTokenBuckets::refill(const std::string& key) { buckets_.erase(key); }

}  // namespace preceptor
