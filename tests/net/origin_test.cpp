// Which browser Origins may open the WebSocket (server/net/origin.h): the
// listed ones, and the server's own address when DNS rebinding cannot fake it.
#include "server/net/origin.h"

#include <gtest/gtest.h>

namespace preceptor::server {
namespace {

const std::vector<std::string> kDefault = {"http://localhost:8080", "http://127.0.0.1:8080"};

TEST(OriginCheck, ListedOriginsAreAllowedWhateverTheHost) {
  EXPECT_TRUE(browser_origin_allowed(kDefault, "http://localhost:8080", "127.0.0.1:8080"));
  EXPECT_TRUE(browser_origin_allowed(kDefault, "http://127.0.0.1:8080", std::nullopt));
  EXPECT_TRUE(browser_origin_allowed({"*"}, "http://evil.example", "127.0.0.1:8080"));
  EXPECT_FALSE(browser_origin_allowed(kDefault, "http://evil.example", "127.0.0.1:8080"));
  EXPECT_FALSE(browser_origin_allowed(kDefault, "null", "127.0.0.1:8080"));
}

TEST(OriginCheck, TheServersOwnAddressIsAllowedOnAnyPort) {
  EXPECT_TRUE(browser_origin_allowed(kDefault, "http://127.0.0.1:9123", "127.0.0.1:9123"));
  EXPECT_TRUE(browser_origin_allowed(kDefault, "http://localhost:3000", "localhost:3000"));
  EXPECT_TRUE(browser_origin_allowed(kDefault, "http://localhost:3000", "LocalHost:3000"));
  EXPECT_TRUE(browser_origin_allowed(kDefault, "http://[::1]:9123", "[::1]:9123"));
  EXPECT_TRUE(browser_origin_allowed(kDefault, "http://192.168.1.20:8080", "192.168.1.20:8080"));
  EXPECT_TRUE(browser_origin_allowed(kDefault, "http://10.0.0.5", "10.0.0.5"));  // port 80
}

TEST(OriginCheck, AnOriginOtherThanTheHostIsRefused) {
  EXPECT_FALSE(browser_origin_allowed(kDefault, "http://127.0.0.1:9000", "127.0.0.1:9123"));
  EXPECT_FALSE(browser_origin_allowed(kDefault, "http://localhost:9123", "127.0.0.1:9123"));
  EXPECT_FALSE(browser_origin_allowed(kDefault, "http://evil.example", "127.0.0.1:9123"));
  // The server speaks plain HTTP; an https:// page reached it through a proxy and must be listed.
  EXPECT_FALSE(browser_origin_allowed(kDefault, "https://127.0.0.1:9123", "127.0.0.1:9123"));
  EXPECT_FALSE(browser_origin_allowed(kDefault, "http://127.0.0.1:9123", std::nullopt));
  EXPECT_FALSE(browser_origin_allowed(kDefault, "http://", ""));
}

TEST(OriginCheck, ANameThatCouldBeRebindingIsRefusedEvenWhenOriginMatchesHost) {
  // A page on evil.example whose DNS now points here sends its own name as both.
  EXPECT_FALSE(browser_origin_allowed(kDefault, "http://evil.example", "evil.example"));
  EXPECT_FALSE(browser_origin_allowed(kDefault, "http://evil.example:8080", "evil.example:8080"));
  EXPECT_FALSE(
      browser_origin_allowed(kDefault, "http://127.0.0.1.evil.example:8080", "127.0.0.1.evil.example:8080"));
  EXPECT_FALSE(browser_origin_allowed(kDefault, "http://localhost.evil.example", "localhost.evil.example"));
  EXPECT_FALSE(browser_origin_allowed(kDefault, "http://sub.localhost:8080", "sub.localhost:8080"));
  // Malformed authorities never count as the server's own address.
  EXPECT_FALSE(browser_origin_allowed(kDefault, "http://127.0.0.1:80x", "127.0.0.1:80x"));
  EXPECT_FALSE(browser_origin_allowed(kDefault, "http://[::1", "[::1"));
  EXPECT_FALSE(browser_origin_allowed(kDefault, "http://127.0.0.1:", "127.0.0.1:"));
}

TEST(OriginCheck, ANameListedInAllowedOriginsIsTrustedOnAnyPort) {
  const std::vector<std::string> allowed = {"https://chat.hospital.example", "http://localhost:8080"};
  EXPECT_TRUE(browser_origin_allowed(allowed, "https://chat.hospital.example", "anything"));
  EXPECT_TRUE(
      browser_origin_allowed(allowed, "http://chat.hospital.example:8080", "chat.hospital.example:8080"));
  EXPECT_TRUE(browser_origin_allowed(allowed, "http://CHAT.hospital.example", "chat.hospital.example"));
  EXPECT_FALSE(browser_origin_allowed(allowed, "http://other.hospital.example", "other.hospital.example"));
  EXPECT_FALSE(
      browser_origin_allowed(allowed, "http://chat.hospital.example:8080", "chat.hospital.example:9090"));
}

}  // namespace
}  // namespace preceptor::server
