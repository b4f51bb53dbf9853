#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

namespace preceptor::scheduler {

// Runs timed work (request reminders and expiry, check-ins due) every
// `interval_ms` on its own thread. The work itself reads time from the
// injectable Clock, so tests call run_once() after moving a ManualClock
// instead of waiting. Thread-safe.
class Scheduler {
 public:
  using Work = std::function<void()>;
  Scheduler(Work work, int64_t interval_ms);
  ~Scheduler();  // stop()

  void start();
  void stop();
  void run_once();  // on the calling thread, serialized with the timer's runs

 private:
  Work work_;
  int64_t interval_ms_;
  std::mutex run_mu_;  // one run at a time
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace preceptor::scheduler
