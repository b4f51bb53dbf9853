#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "server/net/net_config.h"
#include "server/services/accounts.h"
#include "server/services/audit.h"
#include "server/services/calls.h"

namespace preceptor::server {

// Everything the server can be told. Each field: default and unit. The
// network part (listen address, port, limits) is NetConfig's.
struct ServerConfig : NetConfig {
  std::string data_dir = "./data";  // RocksDB folder, created if missing
  int blocking_threads = 2;         // password hashing threads (default 2)
  size_t block_cache_mb = 64;       // RocksDB block cache, MiB
  uint64_t user_quota_mb = 256;     // messages and documents one account may keep stored, MiB; 0 = no limit
  uint64_t max_upload_mb = 25;      // largest document one may upload, MiB (1-4096)

  int64_t scheduler_interval_ms = 60'000;  // timed work (reminders, check-ins due); 0 = off
  // How often the text of deleted and edited messages is flushed and
  // compacted off the disk (storage/redactor.h), at most; ms, default 60 000.
  // 0 = only at shutdown (tests).
  int64_t redaction_interval_ms = 60'000;
  bool demo = false;               // create the demo program and print its logins
  std::string log_level = "info";  // debug, info, warn, error
  // Acknowledge writes without syncing them: only for the power-cut test's
  // negative control. Never in production.
  bool unsafe_no_sync = false;

  services::AccountsOptions accounts;
  services::AuditOptions audit;  // --audit-retention-days (default 365)
  // --stun-url, --turn-url, --turn-secret(-file), --turn-ttl-seconds (default 3600)
  services::CallOptions calls;
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
