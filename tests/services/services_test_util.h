#pragma once

#include <gtest/gtest.h>
#include <sodium.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/executor.h"
#include "common/status.h"
#include "server/services/accounts.h"
#include "storage/committer.h"
#include "storage/store.h"
#include "tests/temp/temp_dir.h"

namespace preceptor::services::testing {

// Every wait in these tests gives up after this long.
inline constexpr std::chrono::seconds kWaitTimeout{30};

using preceptor::testing::TempDir;

// Cheapest argon2id cost, so tests hash in milliseconds.
inline AccountsOptions fast_options() {
  AccountsOptions o;
  o.pwhash_opslimit = crypto_pwhash_OPSLIMIT_MIN;
  o.pwhash_memlimit_bytes = crypto_pwhash_MEMLIMIT_MIN;
  return o;
}

// Turns a callback API into a bounded wait: callback() for the call,
// then wait(). A late callback after a timeout is harmless (shared state).
template <class T>
class Waiter {
 public:
  Waiter() : promise_(std::make_shared<std::promise<T>>()), future_(promise_->get_future()) {}
  std::function<void(T)> callback() {
    auto p = promise_;
    return [p](T v) { p->set_value(std::move(v)); };
  }
  // nullopt on timeout.
  std::optional<T> wait() {
    if (future_.wait_for(kWaitTimeout) != std::future_status::ready) return std::nullopt;
    return future_.get();
  }

 private:
  std::shared_ptr<std::promise<T>> promise_;
  std::future<T> future_;
};

inline Status timed_out() { return Status(v1::ERROR_CODE_DEADLINE_EXCEEDED, "The test gave up waiting."); }

// An executor that keeps the work until told to run it: sign-ins queue up as
// they would behind a busy hashing pool. Thread-safe.
class ManualExecutor final : public Executor {
 public:
  void run(std::function<void()> work) override {
    std::lock_guard lock(mu_);
    queued_.push_back(std::move(work));
  }
  size_t queued() {
    std::lock_guard lock(mu_);
    return queued_.size();
  }
  // Runs everything queued so far, in order, on this thread.
  void run_all() {
    std::vector<std::function<void()>> work;
    {
      std::lock_guard lock(mu_);
      work.swap(queued_);
    }
    for (auto& w : work) w();
  }

 private:
  std::mutex mu_;
  std::vector<std::function<void()>> queued_;
};

// A store, a committer, and the accounts service over them, in a temp folder,
// all on a ManualClock (and a ManualMonotonicClock for the login limits).
// close()/open() keep the folder (reopen tests).
class AccountsHarness {
 public:
  // `blocking` (default: inline) runs the password checks.
  explicit AccountsHarness(AccountsOptions options = fast_options(), hub::Hub* hub = nullptr,
                           Executor* blocking = nullptr)
      : options_(options), hub_(hub), blocking_(blocking != nullptr ? *blocking : inline_) {
    open();
  }
  ~AccountsHarness() { close(); }

  void open() {
    storage::StoreOptions so;
    so.path = (dir_.path() / "data").string();
    auto store = storage::Store::open(so);
    if (!store) throw std::runtime_error("Store::open: " + store.status().to_string());
    store_ = std::move(*store);
    committer_ = std::make_unique<storage::Committer>(*store_, clock_);
    committer_->set_event_sink([this](std::span<const storage::CommittedEvent> events) {
      std::lock_guard lock(events_mu_);
      events_.insert(events_.end(), events.begin(), events.end());
    });
    accounts_ =
        std::make_unique<Accounts>(*store_, *committer_, clock_, monotonic_, blocking_, options_, hub_);
  }

  void close() {
    accounts_.reset();
    if (committer_) committer_->stop();
    committer_.reset();
    store_.reset();
  }

  Accounts& accounts() { return *accounts_; }
  storage::Store& store() { return *store_; }
  storage::Committer& committer() { return *committer_; }
  ManualClock& clock() { return clock_; }
  ManualMonotonicClock& monotonic() { return monotonic_; }  // times the failed-login limits
  std::string data_dir() const { return (dir_.path() / "data").string(); }

  std::vector<storage::CommittedEvent> events() {
    std::lock_guard lock(events_mu_);
    return events_;
  }

  // Waits until everything submitted so far is durable (the committer works in order).
  Status drain() {
    Waiter<Status> w;
    committer_->submit([](storage::CommitContext&) { return Status::ok(); }, w.callback());
    return w.wait().value_or(timed_out());
  }

  // Runs `apply` as one mutation and waits for it.
  Status mutate(storage::ApplyFn apply) {
    Waiter<Status> w;
    committer_->submit(std::move(apply), w.callback());
    return w.wait().value_or(timed_out());
  }

  Result<v1::User> create(const std::string& username, const std::string& password = "correct horse battery",
                          v1::Role role = v1::ROLE_MENTEE) {
    NewUser u;
    u.username = username;
    u.password = password;
    u.display_name = "Dr. " + username;
    u.role = role;
    u.time_zone = "Europe/Berlin";
    Waiter<Result<v1::User>> w;
    accounts_->create_user(u, w.callback());
    return w.wait().value_or(Result<v1::User>(timed_out()));
  }

  Result<std::vector<v1::User>> create_all(const std::vector<NewUser>& users) {
    Waiter<Result<std::vector<v1::User>>> w;
    accounts_->create_users(users, w.callback());
    return w.wait().value_or(Result<std::vector<v1::User>>(timed_out()));
  }

  Result<LoginOutcome> login(const std::string& username, const std::string& password,
                             const std::string& peer = "192.0.2.1",
                             const std::string& device = "test phone") {
    v1::Login req;
    req.set_username(username);
    req.set_password(password);
    req.set_device_name(device);
    Waiter<Result<LoginOutcome>> w;
    accounts_->login(req, LoginSource{.address = peer}, w.callback());
    return w.wait().value_or(Result<LoginOutcome>(timed_out()));
  }

  // Starts a sign-in and returns at once; `done` gets the answer (with a
  // ManualExecutor: once it runs the check).
  void start_login(const std::string& username, const std::string& password, const LoginSource& source,
                   std::function<void(Result<LoginOutcome>)> done) {
    v1::Login req;
    req.set_username(username);
    req.set_password(password);
    req.set_device_name("test phone");
    accounts_->login(req, source, std::move(done));
  }

  Status logout(const std::string& token_hash) {
    Waiter<Status> w;
    accounts_->logout(services::AuditActor{}, token_hash, /*asking_connection=*/0, w.callback());
    return w.wait().value_or(timed_out());
  }

  Result<uint32_t> revoke(uint64_t user_id) {
    Waiter<Result<uint32_t>> w;
    accounts_->revoke_tokens(services::AuditActor{}, user_id, w.callback());
    return w.wait().value_or(Result<uint32_t>(timed_out()));
  }

  // Status of the change (how many tokens ended is in set_password_ending).
  Status set_password(uint64_t user_id, const std::string& password) {
    return set_password_ending(user_id, password).status();
  }
  Result<uint32_t> set_password_ending(uint64_t user_id, const std::string& password) {
    Waiter<Result<uint32_t>> w;
    accounts_->set_password(services::AuditActor{}, user_id, password, w.callback());
    return w.wait().value_or(Result<uint32_t>(timed_out()));
  }

 private:
  TempDir dir_;
  ManualClock clock_;
  ManualMonotonicClock monotonic_;
  AccountsOptions options_;
  hub::Hub* hub_;
  InlineExecutor inline_;
  Executor& blocking_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<storage::Committer> committer_;
  std::unique_ptr<Accounts> accounts_;
  std::mutex events_mu_;
  std::vector<storage::CommittedEvent> events_;
};

}  // namespace preceptor::services::testing
