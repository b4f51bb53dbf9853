#include "bench/preceptor_bench/chat_load.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <memory>
#include <stdexcept>

#include "bench/preceptor_bench/async_util.h"
#include "bench/preceptor_bench/connection.h"
#include "bench/preceptor_bench/process.h"
#include "bench/preceptor_bench/report.h"
#include "bench/preceptor_bench/shards.h"

namespace preceptor::bench {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

struct Member {
  std::unique_ptr<Connection> conn;
  size_t pair_slot = 0;
  int side = 0;  // 0: the mentor, 1: the mentee
  const BenchUser* user = nullptr;
  std::vector<int64_t> scheduled;  // by message index: when it was due (open loop) or sent (closed loop)
  uint64_t sent = 0;
  uint64_t replies = 0;
  bool alive = false;
};

struct PairSlot {
  uint64_t conversation_id = 0;
  size_t members[2] = {0, 0};
  DeliveryLedger ledger;
};

// Everything one client thread owns.
struct Shard {
  std::vector<Member> members;
  std::vector<PairSlot> pairs;
  LatencyHistogram ack;
  LatencyHistogram delivery;
  uint64_t sent = 0, acked = 0, error_replies = 0, delivered = 0, self_delivered = 0, first_sightings = 0;
  uint64_t connections_lost = 0, connect_failures = 0;
  std::map<std::string, uint64_t> errors;
  std::vector<uint64_t> sent_s, acked_s, delivered_s;
  int64_t last_ack_ns = 0, last_delivery_ns = 0;
  bool sending_done = false;
  std::unique_ptr<Signal> complete;
  v1::ClientFrame frame;  // reused for every send
};

void bump(std::vector<uint64_t>& series, int64_t t0, int64_t now) {
  const auto i = static_cast<size_t>(std::max<int64_t>(0, (now - t0) / kSecond));
  if (i >= series.size()) series.resize(i + 1, 0);
  ++series[i];
}

void add_series(std::vector<uint64_t>& into, const std::vector<uint64_t>& from) {
  if (from.size() > into.size()) into.resize(from.size(), 0);
  for (size_t i = 0; i < from.size(); ++i) into[i] += from[i];
}

class ChatRun {
 public:
  ChatRun(const Endpoint& endpoint, const Population& population, const ChatLoadOptions& options)
      : endpoint_(endpoint),
        population_(population),
        options_(options),
        shards_(options.client_threads),
        state_(shards_.size()),
        prefix_(std::to_string(now_ns() % 1'000'000'000'000) + "-"),
        body_(options.body_bytes, 'x') {
    if (!options_.echo && options_.first_pair + options_.pairs > population_.pairs.size()) {
      throw std::runtime_error("chat: not enough pairs in the population");
    }
    for (size_t p = 0; p < options_.pairs; ++p) {
      Shard& s = state_[p % state_.size()];
      PairSlot slot;
      if (!options_.echo) slot.conversation_id = population_.pairs[options_.first_pair + p].conversation_id;
      for (int side = 0; side < 2; ++side) {
        Member m;
        m.pair_slot = s.pairs.size();
        m.side = side;
        if (!options_.echo) {
          const BenchPair& bp = population_.pairs[options_.first_pair + p];
          m.user = &population_.users[side == 0 ? bp.mentor : bp.mentee];
        }
        slot.members[side] = s.members.size();
        s.members.push_back(std::move(m));
      }
      s.pairs.push_back(std::move(slot));
    }
  }

  ChatLoadResult run(const LoadObserver& observer) {
    shards_.run([this](size_t i) { return connect(i); });
    size_t alive = 0;
    for (auto& s : state_) {
      for (auto& m : s.members) alive += m.alive;
    }
    if (alive == 0) throw std::runtime_error("chat: no connection could be set up");

    t0_ = now_ns() + 20'000'000;  // every shard starts on the same schedule
    t_end_ = t0_ + static_cast<int64_t>(options_.seconds * 1e9);
    // The warm-up never takes more than half the run.
    warm_ = t0_ + static_cast<int64_t>(std::min(options_.warmup_seconds, options_.seconds / 2) * 1e9);
    if (observer.at_start) observer.at_start();
    const double cpu0 = self_cpu_seconds();
    shards_.run([this](size_t i) { return load(i); });
    const int64_t t_done = now_ns();
    const double cpu1 = self_cpu_seconds();
    if (observer.at_stop) observer.at_stop();
    shards_.run([this](size_t i) -> asio::awaitable<void> {
      for (auto& m : state_[i].members) {
        if (m.conn) m.conn->close();
      }
      co_return;
    });
    shards_.settle();

    ChatLoadResult r;
    r.options = options_;
    r.send_seconds = options_.seconds;
    r.wall_seconds = static_cast<double>(t_done - t0_) / 1e9;
    r.client_cpu_seconds = cpu1 - cpu0;
    r.drained = true;
    int64_t last_ack = t0_, last_delivery = t0_;
    for (auto& s : state_) {
      for (auto& m : s.members) r.members += m.alive;
      r.connect_failures += s.connect_failures;
      r.connections_lost += s.connections_lost;
      r.sent += s.sent;
      r.acked += s.acked;
      r.error_replies += s.error_replies;
      for (auto& [k, v] : s.errors) r.errors[k] += v;
      r.delivered += s.delivered;
      r.self_delivered += s.self_delivered;
      r.send_to_ack.merge(s.ack);
      r.send_to_delivery.merge(s.delivery);
      for (auto& p : s.pairs) r.tally += p.ledger.tally();
      add_series(r.sent_by_second, s.sent_s);
      add_series(r.acked_by_second, s.acked_s);
      add_series(r.delivered_by_second, s.delivered_s);
      last_ack = std::max(last_ack, s.last_ack_ns);
      last_delivery = std::max(last_delivery, s.last_delivery_ns);
      r.drained = r.drained && s.complete && s.complete->is_set();
    }
    if (options_.echo) r.tally = DeliveryTally{};  // nothing is delivered by an echo
    r.offered_per_second = options_.window ? 0 : options_.rate_per_member * static_cast<double>(r.members);
    r.sent_per_second = static_cast<double>(r.sent) / options_.seconds;
    const double ack_span = std::max(options_.seconds, static_cast<double>(last_ack - t0_) / 1e9);
    const double delivery_span = std::max(options_.seconds, static_cast<double>(last_delivery - t0_) / 1e9);
    r.acked_per_second = static_cast<double>(r.acked) / ack_span;
    r.delivered_per_second = static_cast<double>(r.delivered) / delivery_span;
    return r;
  }

 private:
  asio::awaitable<void> connect(size_t shard) {
    Shard& s = state_[shard];
    auto& io = shards_.io(shard);
    co_await for_each_parallel(s.members.size(), options_.connect_lanes,
                               [&](size_t i) -> asio::awaitable<void> {
                                 Member& m = s.members[i];
                                 m.conn = std::make_unique<Connection>(io);
                                 try {
                                   co_await m.conn->open(endpoint_);
                                   if (!options_.echo) co_await m.conn->authenticate(m.user->token);
                                   m.alive = true;
                                 } catch (const std::exception& e) {
                                   ++s.connect_failures;
                                   ++s.errors[std::string("connect: ") + e.what()];
                                 }
                               });
    const size_t expected = static_cast<size_t>(options_.rate_per_member * (options_.seconds + 1)) + 16;
    for (size_t i = 0; i < s.members.size(); ++i) {
      Member& m = s.members[i];
      if (!m.alive) continue;
      m.scheduled.reserve(options_.window ? expected * 4 : expected);
      if (options_.echo) {
        m.conn->on_raw([this, shard, i](std::string_view bytes) { on_echo(shard, i, bytes); });
      } else {
        m.conn->on_reply([this, shard, i](const v1::Response& r) { on_reply(shard, i, r); });
        m.conn->on_event([this, shard, i](const v1::Event& e) { on_event(shard, i, e); });
      }
      m.conn->on_closed([this, shard, i](const std::string& why) {
        Shard& sh = state_[shard];
        ++sh.connections_lost;
        ++sh.errors["connection lost: " + why];
        sh.members[i].alive = false;
      });
    }
  }

  asio::awaitable<void> load(size_t shard) {
    Shard& s = state_[shard];
    auto ex = co_await asio::this_coro::executor;
    s.complete = std::make_unique<Signal>(ex);
    s.frame.mutable_send_message()->set_body(body_);
    std::vector<size_t> alive;
    for (size_t i = 0; i < s.members.size(); ++i) {
      if (s.members[i].alive) alive.push_back(i);
    }
    asio::steady_timer timer(ex);
    if (alive.empty()) {
      s.sending_done = true;
      s.complete->set();
      co_return;
    }
    timer.expires_at(to_time_point(t0_));
    co_await timer.async_wait(asio::use_awaitable);

    if (options_.window > 0) {
      // Closed loop: `window` in flight per member; every reply sends the next.
      for (size_t i : alive) {
        for (size_t w = 0; w < options_.window; ++w) send(shard, i, now_ns());
      }
      timer.expires_at(to_time_point(t_end_));
      co_await timer.async_wait(asio::use_awaitable);
    } else {
      // Open loop: send k of this shard is due at t0 + k * dt, from member
      // k mod n, so every member sends at exactly the offered rate.
      const double dt = 1e9 / (options_.rate_per_member * static_cast<double>(alive.size()));
      uint64_t k = 0;
      for (;;) {
        const int64_t due = t0_ + static_cast<int64_t>(static_cast<double>(k) * dt);
        if (due >= t_end_) break;
        if (due > now_ns()) {
          timer.expires_at(to_time_point(due));
          co_await timer.async_wait(asio::use_awaitable);
        }
        send(shard, alive[k % alive.size()], due);
        ++k;
      }
    }
    s.sending_done = true;
    check_complete(s);
    if (!s.complete->is_set()) {
      (void)co_await s.complete->wait_until(t_end_ + static_cast<int64_t>(options_.drain_seconds * 1e9));
    }
  }

  void send(size_t shard, size_t i, int64_t scheduled) {
    Shard& s = state_[shard];
    Member& m = s.members[i];
    if (!m.alive) return;
    const uint64_t index = m.scheduled.size();
    m.scheduled.push_back(scheduled);
    auto* sm = s.frame.mutable_send_message();
    s.frame.set_request_id(index + 1);
    sm->set_conversation_id(s.pairs[m.pair_slot].conversation_id);
    std::string id = prefix_;
    id += std::to_string(index);
    sm->set_client_message_id(std::move(id));
    m.conn->send(s.frame);
    ++m.sent;
    ++s.sent;
    bump(s.sent_s, t0_, now_ns());
  }

  void after_reply(size_t shard, size_t i) {
    Shard& s = state_[shard];
    Member& m = s.members[i];
    ++m.replies;
    if (options_.window > 0 && !s.sending_done && now_ns() < t_end_) send(shard, i, now_ns());
    check_complete(s);
  }

  void record_ack(Shard& s, Member& m, uint64_t request_id) {
    const int64_t now = now_ns();
    if (request_id >= 1 && request_id <= m.scheduled.size()) {
      const int64_t scheduled = m.scheduled[request_id - 1];
      if (scheduled >= warm_) s.ack.record(now - scheduled);
    }
    ++s.acked;
    s.last_ack_ns = now;
    bump(s.acked_s, t0_, now);
  }

  void on_reply(size_t shard, size_t i, const v1::Response& r) {
    Shard& s = state_[shard];
    Member& m = s.members[i];
    if (r.has_error()) {
      ++s.error_replies;
      ++s.errors[v1::ErrorCode_Name(r.error().code()) + ": " + r.error().message()];
    } else if (r.has_send_message()) {
      const uint64_t seq = r.send_message().message().seq();
      PairSlot& pair = s.pairs[m.pair_slot];
      pair.ledger.acked(seq);
      // The sending connection is not sent its own MessagePosted: the reply
      // stands in for it (docs/protocol.md), in the same place in seq order.
      if (pair.ledger.seen(m.side, seq)) {
        ++s.first_sightings;
        ++s.self_delivered;
      }
      if (r.send_message().duplicate()) ++s.errors["reply marked duplicate (client_message_id reused)"];
      record_ack(s, m, r.request_id());
    } else {
      ++s.errors["unexpected reply type " + std::to_string(r.result_case())];
      ++s.error_replies;
    }
    after_reply(shard, i);
  }

  void on_echo(size_t shard, size_t i, std::string_view bytes) {
    Shard& s = state_[shard];
    v1::ClientFrame echoed;
    if (!echoed.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      ++s.error_replies;
      ++s.errors["undecodable echo"];
    } else {
      record_ack(s, s.members[i], echoed.request_id());
    }
    after_reply(shard, i);
  }

  void on_event(size_t shard, size_t i, const v1::Event& e) {
    if (!e.has_message_posted()) return;  // presence and the like
    Shard& s = state_[shard];
    Member& m = s.members[i];
    PairSlot& pair = s.pairs[m.pair_slot];
    const v1::Message& msg = e.message_posted().message();
    if (msg.conversation_id() != pair.conversation_id) {
      ++s.errors["event for another conversation"];
      return;
    }
    if (!pair.ledger.seen(m.side, msg.seq())) return;  // a duplicate: counted by the ledger
    ++s.first_sightings;
    const int64_t now = now_ns();
    if (msg.sender_id() == m.user->id) {
      ++s.self_delivered;
    } else {
      ++s.delivered;
      s.last_delivery_ns = now;
      bump(s.delivered_s, t0_, now);
      // client_message_id is "<run prefix><index>": the index finds when it was due.
      const std::string& cid = msg.client_message_id();
      if (cid.compare(0, prefix_.size(), prefix_) == 0) {
        uint64_t index = 0;
        auto [p, ec] = std::from_chars(cid.data() + prefix_.size(), cid.data() + cid.size(), index);
        const Member& sender = s.members[pair.members[1 - m.side]];
        if (ec == std::errc() && index < sender.scheduled.size() && sender.scheduled[index] >= warm_) {
          s.delivery.record(now - sender.scheduled[index]);
        }
      }
    }
    check_complete(s);
  }

  void check_complete(Shard& s) {
    if (!s.sending_done || !s.complete || s.complete->is_set()) return;
    if (s.sent != s.acked + s.error_replies) return;
    if (!options_.echo && s.first_sightings < 2 * s.acked) return;
    s.complete->set();
  }

  Endpoint endpoint_;
  const Population& population_;
  ChatLoadOptions options_;
  Shards shards_;
  std::vector<Shard> state_;
  std::string prefix_;
  std::string body_;
  int64_t t0_ = 0, t_end_ = 0, warm_ = 0;
};

Json series_json(const std::vector<uint64_t>& v) {
  Json a = Json::array();
  for (uint64_t x : v) a.push_back(x);
  return a;
}

}  // namespace

Json ChatLoadResult::to_json() const {
  Json j = Json::object();
  j["target"] = options.echo ? "echo" : "preceptor-server";
  j["mode"] = options.window ? "closed loop" : "open loop";
  j["pairs"] = static_cast<uint64_t>(options.pairs);
  j["rate_per_member"] = options.rate_per_member;
  j["window_per_member"] = static_cast<uint64_t>(options.window);
  j["body_bytes"] = static_cast<uint64_t>(options.body_bytes);
  j["client_threads"] = static_cast<uint64_t>(options.client_threads);
  j["offered_per_second"] = offered_per_second;
  j["send_seconds"] = send_seconds;
  j["wall_seconds"] = wall_seconds;
  j["members"] = members;
  j["connect_failures"] = connect_failures;
  j["connections_lost"] = connections_lost;
  j["sent"] = sent;
  j["acked"] = acked;
  j["error_replies"] = error_replies;
  Json errs = Json::object();
  for (const auto& [k, v] : errors) errs[k] = v;
  j["errors"] = std::move(errs);
  j["delivered_to_counterpart"] = delivered;
  j["delivered_to_sender_session"] = self_delivered;
  j["sent_per_second"] = sent_per_second;
  j["acked_per_second"] = acked_per_second;
  j["delivered_per_second"] = delivered_per_second;
  j["drained"] = drained;
  j["send_to_ack"] = histogram_json(send_to_ack);
  j["send_to_delivery"] = histogram_json(send_to_delivery);
  Json t = Json::object();
  t["acked"] = tally.acked;
  t["expected_deliveries"] = tally.expected;
  t["delivered"] = tally.delivered;
  t["lost"] = tally.lost;
  t["duplicates"] = tally.duplicates;
  t["out_of_order"] = tally.out_of_order;
  t["seen_but_not_acked"] = tally.unacked_seen;
  j["delivery_check"] = std::move(t);
  j["sent_by_second"] = series_json(sent_by_second);
  j["acked_by_second"] = series_json(acked_by_second);
  j["delivered_by_second"] = series_json(delivered_by_second);
  j["client_cpu_seconds"] = client_cpu_seconds;
  return j;
}

ChatLoadResult run_chat_load(const Endpoint& endpoint, const Population& population,
                             const ChatLoadOptions& options, const LoadObserver& observer) {
  ChatRun run(endpoint, population, options);
  return run.run(observer);
}

}  // namespace preceptor::bench
