#pragma once

#include <functional>

namespace preceptor {

// Somewhere to run blocking work (password hashing) off the network threads.
// Thread-safe. The server backs it with a small thread pool; tools and tests
// may run work inline.
class Executor {
 public:
  virtual ~Executor() = default;
  virtual void run(std::function<void()> work) = 0;
};

class InlineExecutor final : public Executor {
 public:
  void run(std::function<void()> work) override { work(); }
};

}  // namespace preceptor
