#include "bench/preceptor_bench/history.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>

#include "bench/preceptor_bench/async_util.h"
#include "bench/preceptor_bench/connection.h"
#include "bench/preceptor_bench/report.h"
#include "bench/preceptor_bench/shards.h"

namespace preceptor::bench {

Json HistoryPhase::to_json() const {
  Json j = Json::object();
  j["offered_per_second"] = offered_per_second;
  j["requested"] = requested;
  j["pages"] = pages;
  j["bad_pages"] = bad_pages;
  j["error_replies"] = error_replies;
  j["pages_per_second"] = pages_per_second;
  j["latency"] = histogram_json(latency);
  Json errs = Json::object();
  for (const auto& [k, v] : errors) errs[k] = v;
  j["errors"] = std::move(errs);
  return j;
}

Json HistoryResult::to_json() const {
  Json j = Json::object();
  j["stored_messages"] = stored;
  j["open_loop_rate_reduced_to_half_of_max"] = rate_reduced;
  j["open_loop"] = open_loop.to_json();
  j["closed_loop"] = closed_loop.to_json();
  return j;
}

namespace {

class HistoryRun {
 public:
  HistoryRun(const Endpoint& endpoint, const Population& population, const BenchPair& pair,
             const HistoryOptions& options)
      : endpoint_(endpoint), population_(population), pair_(pair), options_(options), shards_(1) {}

  HistoryResult run(const LoadObserver& observer) {
    // The most pages/s first, then latency at an offered rate the server can
    // carry: an open loop past capacity only measures the queue (and the
    // server then drops the connections as "not reading"). Fresh connections
    // for each phase, so one phase's losses do not starve the next.
    shards_.run([this](size_t) { return connect(); });
    if (observer.at_start) observer.at_start();
    shards_.run([this](size_t) { return phase(result_.closed_loop, /*closed=*/true); });
    reconnect();
    rate_ = options_.rate;
    if (result_.closed_loop.pages_per_second > 0 && rate_ > 0.5 * result_.closed_loop.pages_per_second) {
      rate_ = std::max(1.0, std::floor(0.5 * result_.closed_loop.pages_per_second / 100) * 100);
      result_.rate_reduced = true;
    }
    shards_.run([this](size_t) { return phase(result_.open_loop, /*closed=*/false); });
    if (observer.at_stop) observer.at_stop();
    for (auto& c : conns_) c->close();
    shards_.settle();
    return result_;
  }

 private:
  void reconnect() {
    for (auto& c : conns_) c->close();
    shards_.settle();
    conns_.clear();
    shards_.run([this](size_t) { return connect(); });
  }

  asio::awaitable<void> connect() {
    auto& io = shards_.io(0);
    for (size_t i = 0; i < options_.connections; ++i) {
      const BenchUser& u = population_.users[i % 2 == 0 ? pair_.mentor : pair_.mentee];
      auto c = std::make_unique<Connection>(io);
      co_await c->open(endpoint_);
      co_await c->authenticate(u.token);
      conns_.push_back(std::move(c));
    }
    v1::ClientFrame f;
    f.mutable_history()->set_conversation_id(pair_.conversation_id);
    f.mutable_history()->set_limit(1);
    v1::Response r = co_await conns_[0]->call(f);
    if (r.has_error()) throw CallError("History: " + describe(r.error()));
    result_.stored = r.history().messages_size() ? r.history().messages(0).seq() : 0;
  }

  bool page_ok(const v1::HistoryResult& h) const {
    const uint64_t want = std::min<uint64_t>(options_.limit, result_.stored);
    if (static_cast<uint64_t>(h.messages_size()) != want) return false;
    for (int i = 0; i < h.messages_size(); ++i) {
      if (h.messages(i).seq() != result_.stored - static_cast<uint64_t>(i)) return false;
      if (h.messages(i).conversation_id() != pair_.conversation_id) return false;
    }
    return true;
  }

  asio::awaitable<void> phase(HistoryPhase& out, bool closed) {
    auto ex = co_await asio::this_coro::executor;
    Signal done(ex);
    std::vector<int64_t> sent_at;  // by request id - 1
    sent_at.reserve(static_cast<size_t>(options_.rate * options_.seconds) + 1024);
    if (conns_.empty()) throw std::runtime_error("history: no connection could be set up");
    const int64_t t0 = now_ns() + 10'000'000;
    const int64_t t_end = t0 + static_cast<int64_t>(options_.seconds * 1e9);
    bool sending = true;
    uint64_t outstanding = 0;
    std::vector<uint64_t> per_conn(conns_.size(), 0);  // outstanding by connection
    int64_t last_reply = t0;
    v1::ClientFrame frame;
    frame.mutable_history()->set_conversation_id(pair_.conversation_id);
    frame.mutable_history()->set_limit(options_.limit);

    auto send = [&](size_t conn, int64_t scheduled) {
      if (!conns_[conn]->is_open()) return;
      sent_at.push_back(scheduled);
      frame.set_request_id(sent_at.size());
      conns_[conn]->send(frame);
      ++out.requested;
      ++outstanding;
      ++per_conn[conn];
    };
    for (size_t i = 0; i < conns_.size(); ++i) {
      conns_[i]->on_reply([&, i](const v1::Response& r) {
        const int64_t now = now_ns();
        --outstanding;
        --per_conn[i];
        last_reply = now;
        if (r.has_error()) {
          ++out.error_replies;
          ++out.errors[describe(r.error())];
        } else if (!r.has_history() || !page_ok(r.history())) {
          ++out.bad_pages;
        } else {
          ++out.pages;
          const uint64_t id = r.request_id();
          if (id >= 1 && id <= sent_at.size()) out.latency.record(now - sent_at[id - 1]);
        }
        if (closed && sending && now < t_end) send(i, now);
        if (!sending && outstanding == 0) done.set();
      });
      conns_[i]->on_closed([&, i](const std::string& why) {
        ++out.errors["connection lost: " + why];
        ++out.error_replies;
        outstanding -= per_conn[i];
        per_conn[i] = 0;
        if (!sending && outstanding == 0) done.set();
      });
    }
    asio::steady_timer timer(ex, to_time_point(t0));
    co_await timer.async_wait(asio::use_awaitable);
    if (closed) {
      for (size_t i = 0; i < conns_.size(); ++i) {
        for (size_t w = 0; w < options_.window; ++w) send(i, now_ns());
      }
      timer.expires_at(to_time_point(t_end));
      co_await timer.async_wait(asio::use_awaitable);
    } else {
      out.offered_per_second = rate_;
      const double dt = 1e9 / rate_;
      for (uint64_t k = 0;; ++k) {
        const int64_t due = t0 + static_cast<int64_t>(static_cast<double>(k) * dt);
        if (due >= t_end) break;
        if (due > now_ns()) {
          timer.expires_at(to_time_point(due));
          co_await timer.async_wait(asio::use_awaitable);
        }
        send(k % conns_.size(), due);
      }
    }
    sending = false;
    if (outstanding > 0) (void)co_await done.wait_until(now_ns() + 60'000'000'000);
    const double span = std::max(options_.seconds, static_cast<double>(last_reply - t0) / 1e9);
    out.pages_per_second = static_cast<double>(out.pages) / span;
    for (auto& c : conns_) {
      c->on_reply(nullptr);
      c->on_closed(nullptr);
    }
  }

  Endpoint endpoint_;
  const Population& population_;
  BenchPair pair_;
  HistoryOptions options_;
  Shards shards_;
  std::vector<std::unique_ptr<Connection>> conns_;
  HistoryResult result_;
  double rate_ = 0;  // open loop pages/s actually offered
};

}  // namespace

HistoryResult run_history(const Endpoint& endpoint, const Population& population, const BenchPair& pair,
                          const HistoryOptions& options, const LoadObserver& observer) {
  HistoryRun run(endpoint, population, pair, options);
  return run.run(observer);
}

}  // namespace preceptor::bench
