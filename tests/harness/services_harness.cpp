#include "tests/harness/services_harness.h"

#include <gtest/gtest.h>
#include <sodium.h>
#include <stdlib.h>

#include <future>

#include "server/services/indexes.h"
#include "server/services/modules.h"

namespace preceptor::harness {

void FakeSession::deliver(std::shared_ptr<const std::string> frame, int) {
  v1::ServerFrame decoded;
  const bool ok = decoded.ParseFromString(*frame) && decoded.has_event();
  std::lock_guard lock(mu_);
  if (ok) events_.push_back(decoded.event());
  cv_.notify_all();
}

void FakeSession::end_session(const std::string& reason) {
  std::lock_guard lock(mu_);
  ended_ = reason;
  cv_.notify_all();
}

std::vector<v1::Event> FakeSession::wait_events(size_t n) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, kWait, [&] { return events_.size() >= n; });
  return events_;
}

std::vector<v1::Event> FakeSession::events() {
  std::lock_guard lock(mu_);
  return events_;
}

std::optional<std::string> FakeSession::ended() {
  std::lock_guard lock(mu_);
  return ended_;
}

ServicesHarness::ServicesHarness() {
  storage::StoreOptions options;
  options.path = dir_.str();
  auto store = storage::Store::open(options);
  if (!store) throw std::runtime_error(store.status().to_string());
  store_ = std::move(*store);
  committer_ = std::make_unique<storage::Committer>(*store_, clock_);
  committer_->set_event_sink(
      [this](std::span<const storage::CommittedEvent> events) { hub_.publish(events); });
  busy_mirror_ = std::make_unique<services::BusyMirror>(*store_);
  committer_->set_write_watcher(
      std::array{storage::Cf::kUserBusy},
      [this](std::span<const storage::WatchedWrite> writes) { busy_mirror_->apply(writes); });
  services::AccountsOptions accounts_options;
  accounts_options.pwhash_opslimit = crypto_pwhash_OPSLIMIT_MIN;
  accounts_options.pwhash_memlimit_bytes = crypto_pwhash_MEMLIMIT_MIN;
  accounts_ = std::make_unique<services::Accounts>(*store_, *committer_, clock_, monotonic_, inline_,
                                                   accounts_options, &hub_);
  membership_ = std::make_unique<services::Membership>(*store_);
  // As Server::start does.
  if (Status built = services::build_missing_indexes(*store_, *committer_); !built)
    throw std::runtime_error(built.to_string());
  core_.reset(new services::Core{*store_, *committer_, hub_, clock_, monotonic_, *accounts_, *membership_,
                                 *busy_mirror_, services::StorageQuota{}});
  modules_ = services::all_modules(*core_);
  router_ = std::make_unique<api::Router>(clock_);
  for (auto& module : modules_) module->add_requests(*router_);
}

ServicesHarness::~ServicesHarness() {
  for (uint64_t r : registrations_) hub_.detach(r);
  committer_->stop();
  router_.reset();
  modules_.clear();
  core_.reset();
  membership_.reset();
  accounts_.reset();
  committer_.reset();
  store_.reset();
}

v1::User ServicesHarness::add_user(const std::string& username, v1::Role role) {
  services::NewUser u;
  u.username = username;
  u.password = "password-" + username;
  u.display_name = "User " + username;
  u.role = role;
  auto created = services::create_user_sync(*accounts_, u);
  EXPECT_TRUE(created.is_ok()) << created.status().to_string();
  return created.is_ok() ? *created : v1::User();
}

api::Caller ServicesHarness::caller(const v1::User& user, uint64_t connection_id) const {
  api::Caller c;
  c.connection_id = connection_id;
  c.peer_address = "test";
  c.session.emplace();
  c.session->user = user;
  c.session->token_hash = "token-of-" + user.username();
  c.session->device_name = "test";
  return c;
}

std::shared_ptr<FakeSession> ServicesHarness::connect(const v1::User& user, uint64_t connection_id) {
  auto session = std::make_shared<FakeSession>();
  sessions_.push_back(session);
  registrations_.push_back(hub_.attach(user.id(), "token-of-" + user.username(), session, connection_id));
  return session;
}

v1::Response ServicesHarness::call(const api::Caller& caller, v1::ClientFrame f) {
  f.set_request_id(next_request_id_++);
  auto promise = std::make_shared<std::promise<api::Outcome>>();
  auto future = promise->get_future();
  std::optional<api::Outcome> now = router_->dispatch(
      caller, std::move(f), [promise](api::Outcome later) { promise->set_value(std::move(later)); });
  if (now) return std::move(now->response);
  if (future.wait_for(kWait) != std::future_status::ready) {
    v1::Response timeout;
    timeout.mutable_error()->set_code(v1::ERROR_CODE_DEADLINE_EXCEEDED);
    timeout.mutable_error()->set_message("The test gave up waiting for an answer.");
    return timeout;
  }
  return future.get().response;
}

void ServicesHarness::run_timed_work() {
  for (auto& module : modules_) module->run_timed_work();
}

}  // namespace preceptor::harness
