#include "storage/keys.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace preceptor::storage {
namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

// Values around every byte boundary, where a wrong byte order shows.
// clang-format off
const std::vector<uint64_t> kBoundaries = {
    0, 1, 2, 127, 128, 255, 256, 257, 65535, 65536,
    (1u << 24) - 1, 1u << 24,
    (1ull << 32) - 1, 1ull << 32, (1ull << 32) + 1,
    1ull << 40, (1ull << 56) - 1, 1ull << 56,
    (1ull << 63) - 1, 1ull << 63, kMax - 1, kMax,
};
// clang-format on

TEST(Keys, U64IsEightBigEndianBytes) {
  EXPECT_EQ(encode_u64(0), std::string(8, '\0'));
  EXPECT_EQ(encode_u64(0x0102030405060708ull), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  EXPECT_EQ(encode_u64(kMax), std::string(8, '\xff'));
}

TEST(Keys, U64RoundTrips) {
  for (uint64_t v : kBoundaries) {
    std::string key = encode_u64(v);
    ASSERT_EQ(key.size(), 8u);
    EXPECT_EQ(decode_u64(key), v) << v;
  }
}

TEST(Keys, AppendU64AppendsAndDecodesAtOffset) {
  std::string key = "prefix";
  append_u64(key, 42);
  append_u64(key, 1ull << 32);
  ASSERT_EQ(key.size(), 6u + 16u);
  EXPECT_EQ(decode_u64(key, 6), 42u);
  EXPECT_EQ(decode_u64(key, 14), 1ull << 32);
}

TEST(Keys, BytewiseOrderIsNumericOrder) {
  for (uint64_t a : kBoundaries) {
    for (uint64_t b : kBoundaries) {
      EXPECT_EQ(encode_u64(a) < encode_u64(b), a < b) << a << " vs " << b;
    }
  }
}

TEST(Keys, DecodeOfShortKeyFails) {
  EXPECT_EQ(decode_u64(""), std::nullopt);
  EXPECT_EQ(decode_u64(std::string(7, '\x01')), std::nullopt);
  EXPECT_EQ(decode_u64(std::string(8, '\x01'), 1), std::nullopt);
  EXPECT_EQ(decode_u64(std::string(8, '\x01'), 9), std::nullopt);  // offset past the end
  EXPECT_EQ(decode_u64(std::string(16, '\x01'), 8), 0x0101010101010101ull);
}

TEST(Keys, UserInboxKeyRoundTripsAndSortsByUserThenPosition) {
  for (uint64_t user : {uint64_t{1}, uint64_t{256}, uint64_t{1} << 32, kMax}) {
    for (uint64_t position : {uint64_t{0}, uint64_t{255}, uint64_t{256}, kMax}) {
      std::optional<UserPosition> decoded = decode_user_inbox_key(user_inbox_key(user, position));
      ASSERT_TRUE(decoded.has_value());
      EXPECT_EQ(decoded->user_id, user);
      EXPECT_EQ(decoded->position, position);
    }
  }
  // Every key of user 1 sorts before every key of user 2, positions in order.
  EXPECT_LT(user_inbox_key(1, 255), user_inbox_key(1, 256));
  EXPECT_LT(user_inbox_key(1, kMax), user_inbox_key(2, 0));
  EXPECT_LT(user_inbox_key(255, kMax), user_inbox_key(256, 0));
  // A user's keys all start with encode_u64(user): a prefix scan finds them.
  EXPECT_EQ(user_inbox_key(7, 9).substr(0, 8), encode_u64(7));
}

TEST(Keys, DecodeOfMalformedInboxKeyFails) {
  EXPECT_EQ(decode_user_inbox_key(""), std::nullopt);
  EXPECT_EQ(decode_user_inbox_key(encode_u64(1)), std::nullopt);
  EXPECT_EQ(decode_user_inbox_key(user_inbox_key(1, 2).substr(0, 15)), std::nullopt);
  EXPECT_EQ(decode_user_inbox_key(user_inbox_key(1, 2) + "x"), std::nullopt);
}

TEST(Keys, UserTokenKeyIsUserThenHash) {
  const std::string hash(32, '\xab');
  const std::string key = user_token_key(5, hash);
  ASSERT_EQ(key.size(), 40u);
  EXPECT_EQ(decode_u64(key), 5u);
  EXPECT_EQ(key.substr(8), hash);
  EXPECT_LT(user_token_key(5, std::string(32, '\xff')), user_token_key(6, std::string(32, '\0')));
}

TEST(Keys, UsernameKeyLowerCasesAsciiOnly) {
  EXPECT_EQ(username_key("Dr.Alice_Smith-42"), "dr.alice_smith-42");
  EXPECT_EQ(username_key("ALICE"), username_key("alice"));
  EXPECT_EQ(username_key(""), "");
  // UTF-8 bytes are left as they are ("É" stays "É"), whatever the locale.
  EXPECT_EQ(username_key("\xc3\x89milie"), "\xc3\x89milie");
  EXPECT_EQ(username_key(std::string("a\0B", 3)), std::string("a\0b", 3));
}

}  // namespace
}  // namespace preceptor::storage
