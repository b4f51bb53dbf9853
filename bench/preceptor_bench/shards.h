#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <vector>

namespace preceptor::bench {

// The tool's client threads: one single-threaded io_context each, so the
// connections of a shard, and everything their callbacks touch, need no
// locks. A scenario runs in phases (connect, load, close); run() executes one
// phase on every shard and returns when all of them finished it. Pending
// socket operations survive between phases (the io_contexts are stopped, not
// drained) and resume with the next run().
//
// Call run() from one thread (the main thread); it runs shard 0 there.
class Shards {
 public:
  explicit Shards(size_t count);
  ~Shards();

  size_t size() const { return ios_.size(); }
  boost::asio::io_context& io(size_t shard) { return *ios_[shard]; }

  // Runs phase(shard) on every shard. Rethrows the first exception a phase threw.
  void run(const std::function<boost::asio::awaitable<void>(size_t shard)>& phase);

  // After the scenario closed its connections: lets their aborted operations
  // finish (up to 2 s per shard) so nothing is left pending.
  void settle();

 private:
  std::vector<std::unique_ptr<boost::asio::io_context>> ios_;
};

}  // namespace preceptor::bench
