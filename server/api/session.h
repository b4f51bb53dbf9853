#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "preceptor/v1/accounts.pb.h"

namespace preceptor::api {

// What a connection holds once it signed in (Login) or presented a token
// (Authenticate), and what an HTTP request carries after `Authorization:
// Bearer`. A value: copying it is how it travels with a request.
struct Session {
  v1::User user;
  std::string token_hash;  // SHA-256 of the token, 32 raw bytes; the token itself is never stored
  std::string device_name;
  int64_t idle_expires_at_ms = 0;
  int64_t expires_at_ms = 0;
};

// Who sent a request: the connection, and its session once signed in.
struct Caller {
  uint64_t connection_id = 0;  // 0: not a WebSocket connection (HTTP, tools, tests)
  // The client's IP address, without a port: the TCP peer's, or behind a
  // trusted proxy the one it names (NetConfig::trusted_proxy_header).
  // Per-address limits count by it.
  std::string peer_address;
  std::optional<Session> session;
  // Set once the connection is closing: nobody reads its answers any more,
  // so work still queued for it may be dropped. Null: never set.
  std::shared_ptr<const std::atomic<bool>> gone;

  // REQUIRES: session (the router calls signed-in handlers only with one).
  const v1::User& user() const { return session->user; }
};

}  // namespace preceptor::api
