#include "bench/preceptor_bench/seed.h"

#include <cstdio>
#include <memory>

#include "bench/preceptor_bench/async_util.h"
#include "bench/preceptor_bench/connection.h"
#include "bench/preceptor_bench/shards.h"

namespace preceptor::bench {

Json SeedResult::to_json() const {
  Json j = Json::object();
  j["requested"] = requested;
  j["stored"] = stored;
  j["error_replies"] = error_replies;
  Json errs = Json::object();
  for (const auto& [k, v] : errors) errs[k] = v;
  j["errors"] = std::move(errs);
  j["seconds"] = seconds;
  j["per_second"] = per_second;
  return j;
}

SeedResult seed_conversation(const Endpoint& endpoint, const Population& population, const BenchPair& pair,
                             const SeedOptions& options) {
  SeedResult r;
  r.requested = options.messages;
  Shards shards(1);
  std::unique_ptr<Connection> conns[2];
  shards.run([&](size_t) -> asio::awaitable<void> {
    auto& io = shards.io(0);
    auto ex = co_await asio::this_coro::executor;
    for (int side = 0; side < 2; ++side) {
      conns[side] = std::make_unique<Connection>(io);
      co_await conns[side]->open(endpoint);
      co_await conns[side]->authenticate(population.users[side == 0 ? pair.mentor : pair.mentee].token);
    }
    const std::string prefix = "s" + std::to_string(now_ns() % 1'000'000'000'000) + "-";
    const std::string body(options.body_bytes, 's');
    uint64_t next = 0;  // messages handed out so far, over both members
    uint64_t replies = 0;
    Signal done(ex);
    v1::ClientFrame f;
    f.mutable_send_message()->set_conversation_id(pair.conversation_id);
    f.mutable_send_message()->set_body(body);
    auto send_next = [&](int side) {
      if (next >= options.messages) return;
      f.set_request_id(next + 1);
      f.mutable_send_message()->set_client_message_id(prefix + std::to_string(next));
      conns[side]->send(f);
      ++next;
    };
    const int64_t t0 = now_ns();
    int64_t last_report = t0;
    for (int side = 0; side < 2; ++side) {
      conns[side]->on_reply([&, side](const v1::Response& reply) {
        ++replies;
        if (reply.has_error()) {
          ++r.error_replies;
          ++r.errors[describe(reply.error())];
        } else {
          ++r.stored;
        }
        send_next(side);
        if (replies == options.messages || (options.return_after > 0 && r.stored >= options.return_after)) {
          done.set();
        }
        const int64_t now = now_ns();
        if (options.progress && now - last_report > 10'000'000'000) {
          last_report = now;
          std::fprintf(stderr, "seeding: %llu of %llu stored (%.0f msgs/s)\n",
                       static_cast<unsigned long long>(r.stored),
                       static_cast<unsigned long long>(options.messages),
                       static_cast<double>(r.stored) / (static_cast<double>(now - t0) / 1e9));
        }
      });
      conns[side]->on_closed([&](const std::string& why) {
        ++r.errors["connection lost: " + why];
        done.set();
      });
    }
    for (size_t w = 0; w < options.window; ++w) {
      send_next(0);
      send_next(1);
    }
    if (options.messages > 0) {
      // Generous: even 1 000 msgs/s finishes 2 million in ~33 minutes.
      (void)co_await done.wait_until(now_ns() + static_cast<int64_t>(options.messages) * 1'000'000 +
                                     60'000'000'000);
    }
    r.seconds = static_cast<double>(now_ns() - t0) / 1e9;
    r.per_second = r.seconds > 0 ? static_cast<double>(r.stored) / r.seconds : 0;
    for (auto& c : conns) {
      c->on_reply(nullptr);
      c->on_closed(nullptr);
      c->close();
    }
  });
  shards.settle();
  return r;
}

}  // namespace preceptor::bench
