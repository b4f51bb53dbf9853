#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "preceptor/client/client.h"
#include "tests/support/test_server.h"

namespace preceptor::testing {

using namespace std::chrono_literals;
using client::Client;
using client::State;
using client::StateChange;

// Everything a Client reported, for a test to wait on. Thread-safe: the
// client's thread records, the test thread waits and reads.
class Recorder {
 public:
  void attach(Client& c) {
    c.on_event([this](const v1::Event& e) { record([&] { events_.push_back(e); }); });
    c.on_state([this](const StateChange& s) { record([&] { states_.push_back(s); }); });
    c.on_store_changed(
        [this](const v1::SyncPosition& next) { record([&] { store_changes_.push_back(next); }); });
  }

  // Waits until `pred` (called under the lock) holds; false after `timeout`.
  bool wait(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, pred);
  }

  // The MessagePosted messages of one conversation, in delivery order.
  std::vector<v1::Message> messages(uint64_t conversation_id) const {
    std::lock_guard lock(mu_);
    return messages_locked(conversation_id);
  }
  bool wait_messages(uint64_t conversation_id, size_t n, std::chrono::milliseconds timeout = 10s) {
    return wait([&] { return messages_locked(conversation_id).size() >= n; }, timeout);
  }

  // How many times the client reported `s`.
  int count(State s) const {
    std::lock_guard lock(mu_);
    return count_locked(s);
  }
  bool wait_count(State s, int n, std::chrono::milliseconds timeout = 10s) {
    return wait([&] { return count_locked(s) >= n; }, timeout);
  }
  // Waits for a kDisconnected whose will_reconnect is false (the client gave up).
  bool wait_stopped(std::chrono::milliseconds timeout = 10s) {
    return wait([&] { return stopped_locked().has_value(); }, timeout);
  }
  std::string stop_reason() const {
    std::lock_guard lock(mu_);
    auto s = stopped_locked();
    return s ? s->reason : "";
  }

  std::vector<v1::Event> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  std::vector<StateChange> states() const {
    std::lock_guard lock(mu_);
    return states_;
  }
  std::vector<v1::SyncPosition> store_changes() const {
    std::lock_guard lock(mu_);
    return store_changes_;
  }

 private:
  template <class F>
  void record(F f) {
    {
      std::lock_guard lock(mu_);
      f();
    }
    cv_.notify_all();
  }
  std::vector<v1::Message> messages_locked(uint64_t conversation_id) const {
    std::vector<v1::Message> out;
    for (const auto& e : events_) {
      if (e.has_message_posted() && e.message_posted().message().conversation_id() == conversation_id) {
        out.push_back(e.message_posted().message());
      }
    }
    return out;
  }
  int count_locked(State s) const {
    int n = 0;
    for (const auto& c : states_) n += c.state == s ? 1 : 0;
    return n;
  }
  std::optional<StateChange> stopped_locked() const {
    for (const auto& c : states_) {
      if (c.state == State::kDisconnected && !c.will_reconnect) return c;
    }
    return std::nullopt;
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<v1::Event> events_;
  std::vector<StateChange> states_;
  std::vector<v1::SyncPosition> store_changes_;
};

// Polls `pred` until it holds or `timeout` passes (for state that has no
// callback to wait on, such as Client::outbox_size()).
inline bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(2ms);  // polling with a deadline, not waiting for things to settle
  }
  return true;
}

// Runs `fn` on the client's own thread (inside a Ping callback), so that the
// requests and test hooks it calls are adjacent there, with no reply read in
// between. Waits until it ran.
inline void on_client_thread(Client& c, std::function<void()> fn) {
  auto ran = std::make_shared<std::promise<void>>();
  auto future = ran->get_future();
  c.ping({}, [fn = std::move(fn), ran](Result<v1::PingResult>) {
    fn();
    ran->set_value();
  });
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready)
      << "the client's thread did not run the test step";
}

inline v1::Login login_of(const std::string& username, const std::string& device = "test") {
  v1::Login l;
  l.set_username(username);
  l.set_password(TestServer::password_of(username));
  l.set_device_name(device);
  return l;
}

inline v1::SendMessage text(uint64_t conversation_id, const std::string& body,
                            const std::string& client_id = {}) {
  v1::SendMessage m;
  m.set_conversation_id(conversation_id);
  m.set_body(body);
  m.set_client_message_id(client_id);
  return m;
}

// Seqs of `messages`, in order.
inline std::vector<uint64_t> seqs(const std::vector<v1::Message>& messages) {
  std::vector<uint64_t> out;
  for (const auto& m : messages) out.push_back(m.seq());
  return out;
}
inline std::vector<uint64_t> one_to(uint64_t n) {
  std::vector<uint64_t> out;
  for (uint64_t i = 1; i <= n; ++i) out.push_back(i);
  return out;
}

// A real server on a free port with a fresh store, and Clients of it that
// reconnect quickly (20 ms backoff, at most 500 ms) so tests stay short.
class ClientFixture : public ::testing::Test {
 protected:
  ClientFixture() { start_server(); }

  void start_server(uint16_t port = 0) {
    auto config = test_config(dir_.path());
    config.port = port;
    server_ = std::make_unique<TestServer>(std::move(config));
  }

  client::Options options() const {
    client::Options o;
    o.url = "ws://127.0.0.1:" + std::to_string(server_->port()) + "/v1/ws";
    o.initial_backoff = 20ms;
    o.max_backoff = 500ms;
    return o;
  }

  // A started client (not signed in), reporting to `rec` when given.
  std::unique_ptr<Client> started(client::Options o, Recorder* rec = nullptr) {
    auto c = std::make_unique<Client>(std::move(o));
    if (rec) rec->attach(*c);
    Status st = c->start();
    EXPECT_TRUE(st) << st.to_string();
    return c;
  }

  // A client signed in as `username` and caught up (state authenticated).
  std::unique_ptr<Client> signed_in(const std::string& username, Recorder* rec = nullptr,
                                    const std::string& device = "test") {
    auto c = started(options(), rec);
    auto r = c->login_sync(login_of(username, device));
    EXPECT_TRUE(r) << username << ": " << r.status().to_string();
    EXPECT_TRUE(eventually([&] { return c->state() == State::kAuthenticated; }))
        << username << " never caught up";
    return c;
  }

  TempDir dir_;
  std::unique_ptr<TestServer> server_;
};

}  // namespace preceptor::testing
