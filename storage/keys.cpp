#include "storage/keys.h"

namespace preceptor::storage {

void append_u64(std::string& out, uint64_t v) {
  char buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  out.append(buf, sizeof buf);
}

std::string encode_u64(uint64_t v) {
  std::string out;
  out.reserve(8);
  append_u64(out, v);
  return out;
}

std::optional<uint64_t> decode_u64(std::string_view key, size_t offset) {
  if (offset > key.size() || key.size() - offset < 8) return std::nullopt;
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(key[offset + i]);
  return v;
}

std::string user_inbox_key(uint64_t user_id, uint64_t position) {
  std::string out;
  out.reserve(16);
  append_u64(out, user_id);
  append_u64(out, position);
  return out;
}

std::optional<UserPosition> decode_user_inbox_key(std::string_view key) {
  // Exactly 16 bytes: anything else is not an inbox key (a prefix, or garbage).
  if (key.size() != 16) return std::nullopt;
  return UserPosition{*decode_u64(key, 0), *decode_u64(key, 8)};
}

std::string user_token_key(uint64_t user_id, std::string_view token_hash) {
  std::string out;
  out.reserve(8 + token_hash.size());
  append_u64(out, user_id);
  out.append(token_hash);
  return out;
}

std::string username_key(std::string_view username) {
  // ASCII only: bytes >= 0x80 (UTF-8 sequences) are kept as they are, so the
  // result never depends on the process locale.
  std::string out(username);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace preceptor::storage
