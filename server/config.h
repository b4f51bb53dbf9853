#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "server/services/accounts.h"

namespace preceptor::server {

// Network threads when not configured: one less than the cores, at least
// one. The committer has a thread of its own, and on 2 cores one network
// thread does the same work with ~30% less CPU than two (no cross-thread
// handoffs): 25k vs 21k msgs/s in the chat benchmark, median of 3 (README).
int default_io_threads();

// Everything the server can be told. Each field: default and unit.
struct ServerConfig {
  std::string listen_address = "127.0.0.1";  // default loopback only
  uint16_t port = 8080;                       // 0 = any free port (tests)
  std::string data_dir = "./data";            // RocksDB folder, created if missing
  int io_threads = default_io_threads();      // network threads
  int blocking_threads = 2;                   // password hashing threads (default 2)
  size_t block_cache_mb = 64;                 // RocksDB block cache, MiB
  std::string web_root;                       // folder of static files served at / (the web app); empty = none

  // Limits (docs/protocol.md lists them all).
  size_t max_frame_bytes = 64 * 1024;         // larger frames get RESOURCE_EXHAUSTED, connection stays
  size_t hard_frame_bytes = 4 * 1024 * 1024;  // larger frames close the connection (1009)
  int auth_timeout_ms = 10'000;               // Login/Authenticate within this of connecting
  int idle_timeout_ms = 60'000;               // no traffic for this long (after a WebSocket ping): close
  double rate_per_second = 50;                // requests per connection per second, sustained
  int rate_burst = 100;                       // requests allowed at once
  size_t outbound_queue_bytes = 1024 * 1024;  // unsent bytes per connection before it is dropped
  int max_bad_frames = 10;                    // undecodable/oversized/text frames before close
  std::vector<std::string> allowed_origins = {"http://localhost:8080", "http://127.0.0.1:8080"};
  int shutdown_grace_ms = 5'000;              // SIGTERM: time for sessions to close before exit

  int64_t scheduler_interval_ms = 60'000;     // timed work (reminders, check-ins due); 0 = off
  bool demo = false;                          // create the demo program and print its logins
  std::string log_level = "info";             // debug, info, warn, error

  services::AccountsOptions accounts;
};

// Result of reading the command line, environment and config file.
struct ConfigOutcome {
  enum class Kind { kRun, kHelp, kError } kind = Kind::kRun;
  ServerConfig config;
  std::string text;  // help text, or the error sentence
};

// Precedence: flags, then PRECEPTOR_* environment variables, then the file
// named by --config (INI: `key = value`), then defaults.
ConfigOutcome parse_config(int argc, const char* const argv[]);

}  // namespace preceptor::server
