// Signing in as an attacker and as the owner see it: real server, real
// sockets. Other loopback addresses (127.0.0.2, ...) stand for other clients.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "server/services/accounts.h"
#include "storage/keys.h"
#include "storage/store.h"
#include "tests/support/test_client.h"
#include "tests/support/test_server.h"

namespace preceptor::testing {
namespace {

constexpr uint16_t kCloseSessionEnded = 4001;

v1::ClientFrame login_frame(uint64_t request_id, const std::string& username, const std::string& password) {
  v1::ClientFrame f;
  f.set_request_id(request_id);
  f.mutable_login()->set_username(username);
  f.mutable_login()->set_password(password);
  f.mutable_login()->set_device_name("test");
  return f;
}

// A hash that takes a noticeable while (tens of milliseconds), so that frames
// sent together all arrive while the first is still being verified.
server::ServerConfig slow_hash_config(const std::filesystem::path& dir) {
  server::ServerConfig config = test_config(dir);
  config.accounts.pwhash_opslimit = 1;
  config.accounts.pwhash_memlimit_bytes = 32u << 20;
  return config;
}

size_t count_entries(storage::Store& store, storage::Cf cf) {
  size_t n = 0;
  auto scanned = store.scan_prefix(cf, "", [&](std::string_view, std::string_view) {
    ++n;
    return true;
  });
  EXPECT_TRUE(scanned) << scanned.status().to_string();
  return n;
}

class SignIn : public ::testing::Test {
 protected:
  void start(server::ServerConfig config, const Clock* clock = nullptr) {
    server_ = std::make_unique<TestServer>(std::move(config), clock);
  }
  std::unique_ptr<TestClient> connected(const std::string& from = {}) {
    auto c = std::make_unique<TestClient>();
    if (!from.empty()) c->set_source_address(from);
    EXPECT_EQ(c->connect(server_->port()), "");
    return c;
  }

  TempDir dir_;
  ManualClock clock_;  // for tests that move time on: outlives the server, which reads it until it stops
  std::unique_ptr<TestServer> server_;
};

// Issue 10, 1: the address limit used to be keyed by ip:port, so a new
// connection started afresh.
TEST_F(SignIn, AddressLimitHoldsAcrossReconnects) {
  auto config = test_config(dir_.path());
  config.accounts.login_failures_per_username_burst = 0;  // only the address limit
  config.accounts.login_failures_per_address_burst = 3;
  start(config);
  server_->add_user("lucia.garcia");
  for (int i = 0; i < 3; ++i) {
    auto c = connected();
    auto r = c->login("guess" + std::to_string(i), "not-a-password");
    ASSERT_EQ(r.error().code(), v1::ERROR_CODE_UNAUTHENTICATED) << i << r.DebugString();
  }
  auto c = connected();
  auto limited = c->login("lucia.garcia", TestServer::password_of("lucia.garcia"));
  ASSERT_EQ(limited.error().code(), v1::ERROR_CODE_RESOURCE_EXHAUSTED) << limited.DebugString();
  EXPECT_GT(limited.error().retry_after_ms(), 0);

  // Another client address is not affected.
  auto other = connected("127.0.0.2");
  EXPECT_TRUE(other->login("lucia.garcia", TestServer::password_of("lucia.garcia")).has_login());
}

// --trusted-proxy-header: behind a proxy, its last address is the client;
// from anyone else the header changes nothing.
TEST_F(SignIn, TrustedProxyHeaderNamesTheClientOnlyForTrustedProxies) {
  auto config = test_config(dir_.path());
  config.accounts.login_failures_per_address_burst = 2;
  config.trusted_proxy_header = "X-Forwarded-For";
  config.trusted_proxies = {"127.0.0.1"};
  start(config);
  server_->add_user("lucia.garcia");
  const std::string password = TestServer::password_of("lucia.garcia");
  auto via_proxy = [&](const std::string& from, const std::string& forwarded_for) {
    auto c = std::make_unique<TestClient>();
    c->set_source_address(from);
    c->add_handshake_header("X-Forwarded-For", forwarded_for);
    EXPECT_EQ(c->connect(server_->port()), "");
    return c;
  };
  // Through the proxy, the client's address is the header's last one: forged ones before it change nothing.
  for (int i = 0; i < 2; ++i) {
    auto c = via_proxy("127.0.0.1", "192.0.2." + std::to_string(i) + ", 203.0.113.5");
    ASSERT_EQ(c->login("guess" + std::to_string(i), "not-a-password").error().code(),
              v1::ERROR_CODE_UNAUTHENTICATED);
  }
  EXPECT_EQ(via_proxy("127.0.0.1", "203.0.113.5")->login("lucia.garcia", password).error().code(),
            v1::ERROR_CODE_RESOURCE_EXHAUSTED);
  // Another client behind the same proxy is not affected.
  EXPECT_TRUE(via_proxy("127.0.0.1", "203.0.113.6")->login("lucia.garcia", password).has_login());

  // Not a trusted proxy: the header is ignored, so varying it does not escape the limit.
  for (int i = 0; i < 2; ++i) {
    auto c = via_proxy("127.0.0.2", "198.51.100." + std::to_string(i));
    ASSERT_EQ(c->login("guess" + std::to_string(i), "not-a-password").error().code(),
              v1::ERROR_CODE_UNAUTHENTICATED);
  }
  EXPECT_EQ(via_proxy("127.0.0.2", "198.51.100.77")->login("lucia.garcia", password).error().code(),
            v1::ERROR_CODE_RESOURCE_EXHAUSTED);
}

// Issue 10, 2: every guess sent at once used to pass the check before the
// first verification recorded a failure.
TEST_F(SignIn, PipelinedGuessesOnSeveralConnectionsAreCountedBeforeTheyAreChecked) {
  start(slow_hash_config(dir_.path()));
  server_->add_user("lucia.garcia");
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < 4; ++i) clients.push_back(connected());
  constexpr int kPerConnection = 8;
  for (auto& c : clients) {
    for (int i = 1; i <= kPerConnection; ++i)
      ASSERT_TRUE(c->send(login_frame(i, "lucia.garcia", "guess-number-" + std::to_string(i))));
  }
  int checked = 0, refused = 0;
  for (auto& c : clients) {
    for (int i = 0; i < kPerConnection; ++i) {
      Received r = c->receive(10s);
      ASSERT_EQ(r.kind, Received::Kind::kFrame);
      const v1::Error& error = r.frame.reply().error();
      if (error.code() == v1::ERROR_CODE_UNAUTHENTICATED) ++checked;
      if (error.code() == v1::ERROR_CODE_RESOURCE_EXHAUSTED) {
        ++refused;
        EXPECT_GT(error.retry_after_ms(), 0) << error.DebugString();
      }
    }
  }
  // At most the default burst of 5 guesses from one address at one user.
  EXPECT_LE(checked, 5);
  EXPECT_EQ(checked + refused, 4 * kPerConnection);
}

TEST_F(SignIn, OneConnectionCannotQueueManySignIns) {
  auto config = slow_hash_config(dir_.path());
  config.accounts.login_failures_per_username_burst = 0;  // no failure limits: only the queue bound
  config.accounts.login_failures_per_address_burst = 0;
  start(config);
  server_->add_user("lucia.garcia");
  auto c = connected();
  constexpr int kSent = 12;
  for (int i = 1; i <= kSent; ++i)
    ASSERT_TRUE(c->send(login_frame(i, "nobody" + std::to_string(i), "not-a-password")));
  int busy = 0;
  for (int i = 0; i < kSent; ++i) {
    Received r = c->receive(10s);
    ASSERT_EQ(r.kind, Received::Kind::kFrame);
    const v1::Error& error = r.frame.reply().error();
    if (error.code() == v1::ERROR_CODE_RESOURCE_EXHAUSTED) {
      ++busy;
      EXPECT_GT(error.retry_after_ms(), 0) << error.DebugString();
    } else {
      EXPECT_EQ(error.code(), v1::ERROR_CODE_UNAUTHENTICATED) << error.DebugString();
    }
  }
  EXPECT_GT(busy, 0);
  // Once the answers are in, the connection may sign in again.
  EXPECT_TRUE(c->login("lucia.garcia", TestServer::password_of("lucia.garcia")).has_login());
}

TEST_F(SignIn, OverlongPasswordIsRefusedWithoutBeingChecked) {
  start(test_config(dir_.path()));
  server_->add_user("lucia.garcia");
  auto c = connected();
  auto r = c->login("lucia.garcia", std::string(5000, 'x'));
  ASSERT_EQ(r.error().code(), v1::ERROR_CODE_INVALID_ARGUMENT) << r.DebugString();
  EXPECT_EQ(r.error().field(), "password");
  EXPECT_NE(r.error().message().find("1024"), std::string::npos) << r.error().message();
}

// Issue 10, 3: failing five times, then once a minute, used to keep the
// owner out from everywhere.
TEST_F(SignIn, OwnerWithTheRightPasswordGetsInWhileAnotherAddressKeepsGuessing) {
  start(test_config(dir_.path()));
  server_->add_user("lucia.garcia");
  auto attacker = connected("127.0.0.2");
  int refused = 0;
  for (int i = 0; i < 10; ++i) {
    auto r = attacker->login("lucia.garcia", "guess-number-" + std::to_string(i));
    if (r.error().code() == v1::ERROR_CODE_RESOURCE_EXHAUSTED) ++refused;
  }
  EXPECT_GE(refused, 5);  // the guessing address is bounded
  auto owner = connected("127.0.0.3");
  auto in = owner->login("lucia.garcia", TestServer::password_of("lucia.garcia"));
  EXPECT_TRUE(in.has_login()) << in.DebugString();
  // The attacker is still held back, even with a lucky guess.
  EXPECT_EQ(attacker->login("lucia.garcia", TestServer::password_of("lucia.garcia")).error().code(),
            v1::ERROR_CODE_RESOURCE_EXHAUSTED);
}

// Issue 10, 7: a login loop used to leave every token it made.
TEST_F(SignIn, OneLoginTooManyEndsTheOldestTokenAndItsLiveSession) {
  start(test_config(dir_.path()));
  server_->add_user("lucia.garcia");
  const std::string password = TestServer::password_of("lucia.garcia");
  auto first = connected();
  auto r = first->login("lucia.garcia", password);
  ASSERT_TRUE(r.has_login()) << r.DebugString();
  const std::string oldest = r.login().token();

  auto loop = connected();
  for (int i = 0; i < services::AccountsOptions{}.max_tokens_per_user; ++i)
    ASSERT_TRUE(loop->login("lucia.garcia", password).has_login()) << i;

  auto event = first->next_event();
  ASSERT_TRUE(event && event->has_session_ended());
  EXPECT_EQ(first->wait_closed().close_code, kCloseSessionEnded);
  auto again = connected();
  EXPECT_EQ(again->authenticate(oldest).error().code(), v1::ERROR_CODE_UNAUTHENTICATED);
  EXPECT_EQ(count_entries(server_->server().store(), storage::Cf::kTokens),
            static_cast<size_t>(services::AccountsOptions{}.max_tokens_per_user));
}

TEST_F(SignIn, TimedWorkSweepsExpiredTokens) {
  start(test_config(dir_.path()), &clock_);
  server_->add_user("lucia.garcia");
  auto c = connected();
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(c->login("lucia.garcia", TestServer::password_of("lucia.garcia")).has_login());
  ASSERT_EQ(count_entries(server_->server().store(), storage::Cf::kTokens), 3u);

  clock_.advance_ms(services::AccountsOptions{}.token_lifetime_ms);
  server_->server().run_scheduler_once();
  EXPECT_EQ(count_entries(server_->server().store(), storage::Cf::kTokens), 0u);
  EXPECT_EQ(count_entries(server_->server().store(), storage::Cf::kUserTokens), 0u);
}

}  // namespace
}  // namespace preceptor::testing
