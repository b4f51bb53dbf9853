// Signing in as an attacker and as the owner see it: real server, real
// sockets. Other loopback addresses (127.0.0.2, ...) stand for other clients.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tests/support/test_client.h"
#include "tests/support/test_server.h"

namespace preceptor::testing {
namespace {

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

}  // namespace
}  // namespace preceptor::testing
