#pragma once

#include <atomic>
#include <cassert>
#include <chrono>
#include <cstdint>

namespace preceptor {

// Wall-clock time in UTC milliseconds. Injectable so tests can move time
// (token expiry, reminders) without sleeping. Thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t now_ms() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t now_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// A clock that moves only when told. For tests.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_ms = 1'700'000'000'000) : now_(start_ms) {}
  int64_t now_ms() const override { return now_.load(); }
  void advance_ms(int64_t ms) { now_ += ms; }
  void set_ms(int64_t ms) { now_ = ms; }

 private:
  std::atomic<int64_t> now_;
};

// Monotonic time in nanoseconds since an unspecified start, for rate limits
// and other intervals: it never goes back and does not follow changes of the
// date. Readings are non-negative. Injectable so tests can move time without
// sleeping. Thread-safe.
class MonotonicClock {
 public:
  virtual ~MonotonicClock() = default;
  virtual int64_t now_ns() const = 0;
};

// std::chrono::steady_clock (CLOCK_MONOTONIC on Linux: time since boot).
class SteadyClock final : public MonotonicClock {
 public:
  int64_t now_ns() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
};

// A monotonic clock that moves only when told, and only forward. For tests.
class ManualMonotonicClock final : public MonotonicClock {
 public:
  // REQUIRES: start_ns >= 0.
  explicit ManualMonotonicClock(int64_t start_ns = 0) : now_(start_ns) {}
  int64_t now_ns() const override { return now_.load(); }
  // REQUIRES: ns >= 0 (a monotonic clock does not go back).
  void advance_ns(int64_t ns) {
    assert(ns >= 0);
    now_ += ns;
  }
  void advance_ms(int64_t ms) { advance_ns(ms * 1'000'000); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace preceptor
