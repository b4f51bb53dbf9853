#include "server/services/token_crypto.h"

#include <sodium.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace preceptor::services {

namespace {

// 64 lowercase hex chars -> kTokenBytes bytes; nullopt otherwise.
std::optional<std::string> token_bytes_from_hex(std::string_view token) {
  if (token.size() != kTokenBytes * 2) return std::nullopt;
  for (char c : token) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  }
  std::string bin(kTokenBytes, '\0');
  size_t bin_len = 0;
  if (sodium_hex2bin(reinterpret_cast<unsigned char*>(bin.data()), bin.size(), token.data(), token.size(),
                     nullptr, &bin_len, nullptr) != 0 ||
      bin_len != kTokenBytes) {
    return std::nullopt;
  }
  return bin;
}

}  // namespace

void init_sodium_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) {
      // Without a working random source nothing here is safe; this is not a user error.
      std::fputs("preceptor: libsodium failed to initialise (no usable random source)\n", stderr);
      std::abort();
    }
  });
}

std::string sha256(std::string_view data) {
  std::string out(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(out.data()),
                     reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return out;
}

std::string to_hex(std::string_view bin) {
  std::string hex(bin.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), reinterpret_cast<const unsigned char*>(bin.data()), bin.size());
  hex.pop_back();
  return hex;
}

IssuedToken issue_token() {
  init_sodium_once();
  std::array<unsigned char, kTokenBytes> raw;
  randombytes_buf(raw.data(), raw.size());
  const std::string_view raw_view(reinterpret_cast<const char*>(raw.data()), raw.size());
  IssuedToken out{to_hex(raw_view), sha256(raw_view)};
  sodium_memzero(raw.data(), raw.size());
  return out;
}

std::optional<std::string> hash_of_presented_token(std::string_view token) {
  auto raw = token_bytes_from_hex(token);
  if (!raw) return std::nullopt;
  std::string hash = sha256(*raw);
  sodium_memzero(raw->data(), raw->size());
  return hash;
}

}  // namespace preceptor::services
