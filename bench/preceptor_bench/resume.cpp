#include "bench/preceptor_bench/resume.h"

#include <algorithm>
#include <memory>
#include <stdexcept>

#include "bench/preceptor_bench/async_util.h"
#include "bench/preceptor_bench/connection.h"
#include "bench/preceptor_bench/report.h"
#include "bench/preceptor_bench/shards.h"

namespace preceptor::bench {

Json ResumeResult::to_json() const {
  Json j = Json::object();
  j["clients"] = clients;
  j["resumed"] = resumed;
  j["failed"] = failed;
  j["first_error"] = first_error;
  j["missed_sent"] = missed_sent;
  j["missed_received"] = missed_received;
  j["lost"] = lost;
  j["duplicates"] = duplicates;
  j["sync_pages"] = sync_pages;
  j["wall_seconds"] = wall_seconds;
  j["resumes_per_second"] = resumes_per_second;
  j["pile_up_seconds"] = pile_up_seconds;
  j["connect_to_caught_up"] = histogram_json(total);
  j["connect"] = histogram_json(connect);
  j["authenticate"] = histogram_json(authenticate);
  j["sync"] = histogram_json(sync);
  return j;
}

namespace {

struct Client {
  const BenchPair* pair = nullptr;
  std::unique_ptr<Connection> mentor;
  std::unique_ptr<Connection> mentee;
  v1::SyncPosition position;    // where the mentee's Sync continues
  std::vector<uint64_t> acked;  // seqs of the missed messages
  uint64_t mentor_sent = 0;
  bool ready = false;
};

class ResumeRun {
 public:
  ResumeRun(const Endpoint& endpoint, const Population& population, const ResumeOptions& options)
      : endpoint_(endpoint), population_(population), options_(options), shards_(1) {
    if (options_.first_pair + options_.clients > population_.pairs.size()) {
      throw std::runtime_error("resume: not enough pairs in the population");
    }
    clients_.resize(options_.clients);
    for (size_t i = 0; i < clients_.size(); ++i)
      clients_[i].pair = &population_.pairs[options_.first_pair + i];
    // (Built step by step: g++ 12 -O3 warns falsely (-Wrestrict) on "r" + std::string.)
    prefix_ = std::to_string(now_ns() % 1'000'000'000'000);
    prefix_.insert(prefix_.begin(), 'r');
    prefix_ += '-';
  }

  ResumeResult run(const LoadObserver& observer) {
    r_.clients = clients_.size();
    shards_.run([this](size_t) { return setup(); });
    shards_.run([this](size_t) { return pile_up(); });
    if (observer.at_start) observer.at_start();
    shards_.run([this](size_t) { return resume(); });
    if (observer.at_stop) observer.at_stop();
    for (auto& c : clients_) {
      if (c.mentor) c.mentor->close();
    }
    shards_.settle();
    return r_;
  }

 private:
  void fail(const std::string& why) {
    if (r_.failed++ == 0) r_.first_error = why;
  }

  // Both sides connected; the mentee knows its position, then drops.
  asio::awaitable<void> setup() {
    auto& io = shards_.io(0);
    co_await for_each_parallel(clients_.size(), options_.setup_lanes, [&](size_t i) -> asio::awaitable<void> {
      Client& c = clients_[i];
      try {
        c.mentor = std::make_unique<Connection>(io);
        c.mentee = std::make_unique<Connection>(io);
        co_await c.mentor->open(endpoint_);
        co_await c.mentor->authenticate(population_.users[c.pair->mentor].token);
        co_await c.mentee->open(endpoint_);
        co_await c.mentee->authenticate(population_.users[c.pair->mentee].token);
        v1::ClientFrame f;
        f.mutable_sync()->set_limit(1000);
        for (;;) {
          *f.mutable_sync()->mutable_since() = c.position;
          v1::Response r = co_await c.mentee->call(f);
          if (r.has_error()) throw CallError("Sync: " + describe(r.error()));
          c.position = r.sync().next();
          if (!r.sync().has_more()) break;
        }
        c.mentee->close();  // the train enters the tunnel
        c.mentee.reset();
        c.ready = true;
      } catch (const std::exception& e) {
        fail(std::string("setup: ") + e.what());
      }
    });
  }

  // Every mentor sends `missed` messages, pipelined; wait for all acks.
  asio::awaitable<void> pile_up() {
    auto ex = co_await asio::this_coro::executor;
    Signal done(ex);
    uint64_t outstanding = 0;
    const int64_t t0 = now_ns();
    v1::ClientFrame f;
    f.mutable_send_message()->set_body(std::string(64, 'm'));
    for (size_t i = 0; i < clients_.size(); ++i) {
      Client& c = clients_[i];
      if (!c.ready) continue;
      c.acked.reserve(options_.missed);
      c.mentor->on_reply([&, i](const v1::Response& r) {
        Client& cl = clients_[i];
        if (r.has_error()) {
          fail("SendMessage: " + describe(r.error()));
          cl.ready = false;
        } else {
          cl.acked.push_back(r.send_message().message().seq());
        }
        if (--outstanding == 0) done.set();
      });
      for (size_t m = 0; m < options_.missed; ++m) {
        f.set_request_id(m + 1);
        f.mutable_send_message()->set_conversation_id(c.pair->conversation_id);
        f.mutable_send_message()->set_client_message_id(prefix_ + std::to_string(m));
        c.mentor->send(f);
        ++outstanding;
      }
    }
    if (outstanding > 0 && !co_await done.wait_until(now_ns() + 300'000'000'000)) {
      fail("the missed messages were not all acknowledged within 300 s");
    }
    r_.pile_up_seconds = static_cast<double>(now_ns() - t0) / 1e9;
    for (auto& c : clients_) {
      if (c.mentor) c.mentor->on_reply(nullptr);
      r_.missed_sent += c.acked.size();
    }
  }

  asio::awaitable<void> resume() {
    auto& io = shards_.io(0);
    const int64_t start = now_ns();
    int64_t last_done = start;
    co_await for_each_parallel(clients_.size(), options_.lanes, [&](size_t i) -> asio::awaitable<void> {
      Client& c = clients_[i];
      if (!c.ready) co_return;
      try {
        const int64_t t0 = now_ns();
        Connection conn(io);
        co_await conn.open(endpoint_);
        const int64_t t1 = now_ns();
        co_await conn.authenticate(population_.users[c.pair->mentee].token);
        const int64_t t2 = now_ns();
        std::vector<uint64_t> got;
        v1::ClientFrame f;
        f.mutable_sync()->set_limit(options_.sync_limit);
        v1::SyncPosition pos = c.position;
        for (;;) {
          *f.mutable_sync()->mutable_since() = pos;
          v1::Response r = co_await conn.call(f);
          ++r_.sync_pages;
          if (r.has_error()) throw CallError("Sync: " + describe(r.error()));
          for (const auto& e : r.sync().events()) {
            if (e.has_message_posted() &&
                e.message_posted().message().conversation_id() == c.pair->conversation_id) {
              got.push_back(e.message_posted().message().seq());
            }
          }
          pos = r.sync().next();
          if (!r.sync().has_more()) break;
        }
        const int64_t t3 = now_ns();
        conn.close();
        r_.total.record(t3 - t0);
        r_.connect.record(t1 - t0);
        r_.authenticate.record(t2 - t1);
        r_.sync.record(t3 - t2);
        last_done = std::max(last_done, t3);
        // Exactly the acknowledged missed messages, once each.
        std::sort(got.begin(), got.end());
        std::vector<uint64_t> want = c.acked;
        std::sort(want.begin(), want.end());
        r_.missed_received += got.size();
        const size_t before = got.size();
        got.erase(std::unique(got.begin(), got.end()), got.end());
        r_.duplicates += before - got.size();
        std::vector<uint64_t> missing;
        std::set_difference(want.begin(), want.end(), got.begin(), got.end(), std::back_inserter(missing));
        r_.lost += missing.size();
        if (missing.empty()) {
          ++r_.resumed;
        } else {
          fail("client " + std::to_string(i) + " missed " + std::to_string(missing.size()) + " messages");
        }
      } catch (const std::exception& e) {
        fail(std::string("resume: ") + e.what());
      }
    });
    r_.wall_seconds = static_cast<double>(last_done - start) / 1e9;
    if (r_.wall_seconds > 0) r_.resumes_per_second = static_cast<double>(r_.resumed) / r_.wall_seconds;
  }

  Endpoint endpoint_;
  const Population& population_;
  ResumeOptions options_;
  Shards shards_;
  std::vector<Client> clients_;
  std::string prefix_;
  ResumeResult r_;
};

}  // namespace

ResumeResult run_resume(const Endpoint& endpoint, const Population& population, const ResumeOptions& options,
                        const LoadObserver& observer) {
  ResumeRun run(endpoint, population, options);
  return run.run(observer);
}

}  // namespace preceptor::bench
