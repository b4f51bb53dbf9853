#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace preceptor::server {

// Network threads when not configured: one less than the cores, at least
// one. The committer has a thread of its own, and on 2 cores one network
// thread does the same work with ~30% less CPU than two (no cross-thread
// handoffs): 25k vs 21k msgs/s in the chat benchmark, median of 3 (README).
int default_io_threads();

// What the network layer is told: where to listen and every limit it
// enforces. Each field: default and unit. docs/protocol.md lists the limits.
struct NetConfig {
  std::string listen_address = "127.0.0.1";  // default loopback only
  uint16_t port = 8080;                      // 0 = any free port (tests)
  int io_threads = default_io_threads();     // network threads

  size_t max_frame_bytes = 64 * 1024;         // larger frames get RESOURCE_EXHAUSTED, connection stays
  size_t hard_frame_bytes = 4 * 1024 * 1024;  // larger frames close the connection (1009)
  int auth_timeout_ms = 10'000;               // Login/Authenticate within this of connecting
  int idle_timeout_ms = 60'000;               // no traffic for this long (after a WebSocket ping): close
  double rate_per_second = 50;                // requests per connection per second, sustained
  int rate_burst = 100;                       // requests allowed at once
  size_t outbound_queue_bytes = 1024 * 1024;  // unsent bytes per connection before it is dropped
  int max_bad_frames = 10;                    // undecodable/oversized/text frames before close
  std::vector<std::string> allowed_origins = {"http://localhost:8080", "http://127.0.0.1:8080"};
  int shutdown_grace_ms = 5'000;  // SIGTERM: time for sessions to close before exit
  // Behind a reverse proxy: the request header (e.g. "X-Forwarded-For")
  // whose last address is the client's, believed only when the TCP peer is
  // one of `trusted_proxies` (IP addresses). Default: none; the TCP peer is
  // the client. Per-address limits count by the client's address.
  std::string trusted_proxy_header;
  std::vector<std::string> trusted_proxies;
  std::string web_root;  // folder of static files served at / (the web app); empty = none
  // /readyz and /metrics answer loopback clients, and others only when they
  // send "Authorization: Bearer <ops_token>"; empty = loopback only.
  std::string ops_token;
  // Open connections (HTTP and WebSocket) at most: overall, from one client
  // address, and signed-in WebSocket sessions of one user. 0 = no limit.
  size_t max_connections = 10'000;
  size_t max_connections_per_address = 256;
  size_t max_sessions_per_user = 20;
  // An HTTP request's head must arrive whole within this, on a new
  // connection and between keep-alive requests; otherwise the connection closes.
  int http_header_timeout_ms = 10'000;
};

}  // namespace preceptor::server
