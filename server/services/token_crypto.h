#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace preceptor::services {

// The cryptography of bearer tokens (libsodium): making them, and turning a
// presented one into the only form the server stores, its SHA-256. Safe
// from any thread.

inline constexpr size_t kTokenBytes = 32;  // 256 random bits; 64 hex chars on the wire

// Initialises libsodium once per process; aborts when it has no usable
// random source (nothing here is safe without one). The functions below
// call it themselves where they need it.
void init_sodium_once();

// SHA-256 of `data`: 32 raw bytes.
std::string sha256(std::string_view data);
// Lowercase hex of `bin`: two chars per byte.
std::string to_hex(std::string_view bin);

// A new token, as the client keeps it and as the server stores it.
struct IssuedToken {
  std::string token;  // 64 lowercase hex chars: kTokenBytes random bytes
  std::string hash;   // SHA-256 of those bytes (32 raw bytes); the token itself is never stored
};
IssuedToken issue_token();

// The stored form (SHA-256 of its bytes) of a token a client presented;
// nullopt unless it is exactly 64 lowercase hex chars.
std::optional<std::string> hash_of_presented_token(std::string_view token);

}  // namespace preceptor::services
