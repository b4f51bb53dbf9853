#include "server/services/token_crypto.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace preceptor::services {
namespace {

bool is_lower_hex(const std::string& s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

TEST(TokenCrypto, Sha256AndHexMatchKnownValues) {
  EXPECT_EQ(to_hex(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(to_hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(to_hex(std::string("\x00\x01\xab\xff", 4)), "0001abff");
  EXPECT_EQ(to_hex(""), "");
}

TEST(TokenCrypto, IssuedTokenIs64LowercaseHexAndStoredOnlyAsItsHash) {
  const IssuedToken issued = issue_token();
  EXPECT_EQ(issued.token.size(), 64u);
  EXPECT_TRUE(is_lower_hex(issued.token)) << issued.token;
  EXPECT_EQ(issued.hash.size(), 32u);
  EXPECT_NE(issued.token, to_hex(issued.hash));
  // Presenting it gives back the stored form.
  EXPECT_EQ(hash_of_presented_token(issued.token), issued.hash);
}

TEST(TokenCrypto, IssuedTokensDiffer) {
  const IssuedToken a = issue_token();
  const IssuedToken b = issue_token();
  EXPECT_NE(a.token, b.token);
  EXPECT_NE(a.hash, b.hash);
}

TEST(TokenCrypto, PresentedTokenIsHashedFromItsBytes) {
  // 32 bytes of 0xaa, whose SHA-256 is the stored form.
  EXPECT_EQ(hash_of_presented_token(std::string(64, 'a')), sha256(std::string(32, '\xaa')));
}

TEST(TokenCrypto, PresentedTokenThatIsNot64LowercaseHexIsRefused) {
  std::string good, upper;
  for (int i = 0; i < 4; ++i) {
    good += "0123456789abcdef";
    upper += "0123456789ABCDEF";
  }
  ASSERT_TRUE(hash_of_presented_token(good));
  for (const std::string& bad :
       {std::string(), std::string("abc"), good.substr(0, 63), good + "0", upper, std::string(64, 'g'),
        " " + good.substr(1), good.substr(0, 62) + std::string("\0a", 2), good.substr(0, 63) + "\n"}) {
    EXPECT_FALSE(hash_of_presented_token(bad)) << bad;
  }
}

}  // namespace
}  // namespace preceptor::services
