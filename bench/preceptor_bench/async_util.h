#pragma once

#include <algorithm>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <climits>
#include <cstdint>
#include <exception>
#include <string>

namespace preceptor::bench {

namespace asio = boost::asio;

// Monotonic nanoseconds (CLOCK_MONOTONIC: comparable across the tool's
// processes on one machine). All latencies are differences of these.
inline int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline std::chrono::steady_clock::time_point to_time_point(int64_t ns) {
  return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(ns));
}

// Suspends the calling coroutine for `d`.
inline asio::awaitable<void> sleep_for(std::chrono::steady_clock::duration d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

// A one-shot event a coroutine can wait for with a deadline. Built on a timer
// that never expires by itself: set() cancels it. Single-threaded (the
// io_context's thread).
class Signal {
 public:
  explicit Signal(const asio::any_io_executor& ex)
      : timer_(ex, std::chrono::steady_clock::time_point::max()) {}

  void set() {
    set_ = true;
    timer_.cancel();
  }
  bool is_set() const { return set_; }

  // True when set, false when `deadline_ns` (a now_ns() value) passed first.
  asio::awaitable<bool> wait_until(int64_t deadline_ns) {
    asio::steady_timer deadline(timer_.get_executor(), to_time_point(deadline_ns));
    bool timed_out = false;
    deadline.async_wait([this, &timed_out](boost::system::error_code ec) {
      if (!ec) {
        timed_out = true;
        timer_.cancel();
      }
    });
    while (!set_ && !timed_out) {
      boost::system::error_code ec;
      co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    deadline.cancel();
    // Let the cancelled deadline handler run before `timed_out` goes away.
    co_await asio::post(timer_.get_executor(), asio::use_awaitable);
    co_return set_;
  }

 private:
  asio::steady_timer timer_;
  bool set_ = false;
};

// Runs fn(i) for i in [0, n) with at most `lanes` running at once, and
// returns when all are done. fn must not throw (it records its own errors).
// Single-threaded.
template <class Fn>
asio::awaitable<void> for_each_parallel(size_t n, size_t lanes, Fn fn) {
  auto ex = co_await asio::this_coro::executor;
  size_t next = 0;
  size_t running = 0;
  Signal all_done(ex);
  lanes = std::max<size_t>(1, std::min(lanes, n));
  if (n == 0) co_return;
  for (size_t lane = 0; lane < lanes; ++lane) {
    ++running;
    asio::co_spawn(
        ex,
        [&]() -> asio::awaitable<void> {
          while (next < n) {
            const size_t i = next++;
            try {
              co_await fn(i);
            } catch (const std::exception&) {
              // fn records its own errors; an escaped one must not stop the lane.
            }
          }
          if (--running == 0) all_done.set();
        },
        asio::detached);
  }
  co_await all_done.wait_until(INT64_MAX);
}

}  // namespace preceptor::bench
