#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace preceptor::storage {

// Fixed-width big-endian key codecs, so that RocksDB's bytewise order is
// numeric order and prefixes scan in order.

void append_u64(std::string& out, uint64_t v);
std::string encode_u64(uint64_t v);
// Reads 8 bytes at `offset`; nullopt when `key` is too short.
std::optional<uint64_t> decode_u64(std::string_view key, size_t offset = 0);

// user_inbox: user_id | position
std::string user_inbox_key(uint64_t user_id, uint64_t position);
struct UserPosition {
  uint64_t user_id;
  uint64_t position;
};
std::optional<UserPosition> decode_user_inbox_key(std::string_view key);

// user_tokens: user_id | token_hash
std::string user_token_key(uint64_t user_id, std::string_view token_hash);

// usernames: the canonical (ASCII lower-case) form of a username.
std::string username_key(std::string_view username);

}  // namespace preceptor::storage
