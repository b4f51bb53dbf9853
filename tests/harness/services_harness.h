#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/executor.h"
#include "preceptor/v1/frames.pb.h"
#include "server/api/module.h"
#include "server/api/router.h"
#include "server/hub/hub.h"
#include "server/services/accounts.h"
#include "server/services/busy_mirror.h"
#include "server/services/core.h"
#include "server/services/membership.h"
#include "storage/committer.h"
#include "storage/store.h"
#include "tests/temp/temp_dir.h"

namespace preceptor::harness {

// Every wait in these tests gives up after this long.
inline constexpr std::chrono::seconds kWait{20};

// A live connection as the hub sees it, without a socket: it keeps what it
// is sent. Thread-safe (the committer thread delivers).
class FakeSession final : public hub::SessionSink {
 public:
  void deliver(std::shared_ptr<const std::string> frame, int event_kind) override;
  void end_session(const std::string& reason) override;

  // Waits (bounded) until `n` events have arrived; returns them all so far.
  std::vector<v1::Event> wait_events(size_t n);
  std::vector<v1::Event> events();
  std::optional<std::string> ended();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<v1::Event> events_;
  std::optional<std::string> ended_;
};

// The services without sockets: a real store in a fresh temporary folder,
// the real committer, the hub, accounts (cheapest hashing, inline
// executor), membership, every module and the router, all on a manual
// clock. Requests go through the router exactly as a WebSocket session
// sends them.
class ServicesHarness {
 public:
  ServicesHarness();
  ~ServicesHarness();

  api::Router& router() { return *router_; }
  hub::Hub& hub() { return hub_; }
  ManualClock& clock() { return clock_; }
  ManualMonotonicClock& monotonic_clock() { return monotonic_; }
  services::Accounts& accounts() { return *accounts_; }
  storage::Store& store() { return *store_; }
  storage::Committer& committer() { return *committer_; }

  // Creates a user; aborts the test on failure.
  v1::User add_user(const std::string& username, v1::Role role);
  // A connection signed in as `user` (no token is made; the router checks
  // only the session it is given).
  api::Caller caller(const v1::User& user, uint64_t connection_id = 0) const;
  // Attaches a fake live session of `user` to the hub.
  std::shared_ptr<FakeSession> connect(const v1::User& user, uint64_t connection_id);

  // Sends one request through the router and waits (bounded) for its answer;
  // a Response with DEADLINE_EXCEEDED when none came.
  v1::Response call(const api::Caller& caller, v1::ClientFrame frame);
  // Runs every module's timed work against the manual clock.
  void run_timed_work();

 private:
  testing::TempDir dir_;  // first member: removed after everything else
  ManualClock clock_;
  ManualMonotonicClock monotonic_;
  InlineExecutor inline_;
  hub::Hub hub_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<storage::Committer> committer_;
  std::unique_ptr<services::Accounts> accounts_;
  std::unique_ptr<services::Membership> membership_;
  std::unique_ptr<services::BusyMirror> busy_mirror_;
  std::unique_ptr<services::Core> core_;
  std::vector<std::unique_ptr<api::Module>> modules_;
  std::unique_ptr<api::Router> router_;
  std::vector<std::shared_ptr<FakeSession>> sessions_;
  std::vector<uint64_t> registrations_;
  uint64_t next_request_id_ = 1;
};

// A ClientFrame with one request set, e.g. frame(&v1::ClientFrame::mutable_ping).
template <class Req>
v1::ClientFrame frame(Req* (v1::ClientFrame::*field)(), const Req& request = Req()) {
  v1::ClientFrame f;
  *(f.*field)() = request;
  return f;
}

}  // namespace preceptor::harness
