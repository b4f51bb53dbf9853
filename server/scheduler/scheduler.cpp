#include "server/scheduler/scheduler.h"

#include <chrono>

namespace preceptor::scheduler {

Scheduler::Scheduler(Work work, int64_t interval_ms) : work_(std::move(work)), interval_ms_(interval_ms) {}

Scheduler::~Scheduler() { stop(); }

void Scheduler::start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      if (cv_.wait_for(lock, std::chrono::milliseconds(interval_ms_), [this] { return stopping_; })) break;
      lock.unlock();
      run_once();
      lock.lock();
    }
  });
}

void Scheduler::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Scheduler::run_once() {
  std::lock_guard lock(run_mu_);
  work_();
}

}  // namespace preceptor::scheduler
