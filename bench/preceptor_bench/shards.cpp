#include "bench/preceptor_bench/shards.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <exception>
#include <mutex>
#include <thread>

namespace preceptor::bench {

namespace asio = boost::asio;

Shards::Shards(size_t count) {
  for (size_t i = 0; i < std::max<size_t>(1, count); ++i) {
    ios_.push_back(std::make_unique<asio::io_context>(1));  // concurrency hint 1: no locking inside
  }
}

Shards::~Shards() { settle(); }

void Shards::settle() {
  for (auto& io : ios_) {
    io->restart();
    io->run_for(std::chrono::seconds(2));
  }
}

void Shards::run(const std::function<asio::awaitable<void>(size_t)>& phase) {
  std::mutex mu;
  std::exception_ptr first_error;
  for (size_t i = 0; i < ios_.size(); ++i) {
    auto& io = *ios_[i];
    io.restart();
    asio::co_spawn(
        io,
        [&, i]() -> asio::awaitable<void> {
          try {
            co_await phase(i);
          } catch (...) {
            std::lock_guard lock(mu);
            if (!first_error) first_error = std::current_exception();
          }
          ios_[i]->stop();
        },
        asio::detached);
  }
  std::vector<std::thread> threads;
  for (size_t i = 1; i < ios_.size(); ++i) threads.emplace_back([this, i] { ios_[i]->run(); });
  ios_[0]->run();
  for (auto& t : threads) t.join();
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace preceptor::bench
