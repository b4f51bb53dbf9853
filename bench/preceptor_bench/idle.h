#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bench/preceptor_bench/fixture.h"
#include "bench/preceptor_bench/json.h"
#include "bench/preceptor_bench/ws_client.h"

namespace preceptor::bench {

// How to hold idle connections. Every field: default and unit.
struct IdleOptions {
  size_t connections = 18000;    // authenticated idle connections in total
  size_t per_process = 6000;     // per client process (each process may hold 20 000 fds at most)
  size_t lanes = 128;            // connections being set up at once, per process
  std::string self_exe;          // this tool's binary: the worker processes run `idle-worker`
  std::string work_dir;          // the token file and worker logs go here
  double timeout_seconds = 300;  // for all connections to be up
};

struct IdleResult {
  uint64_t requested = 0;
  uint64_t connected = 0;  // authenticated
  uint64_t failed = 0;
  std::string first_error;
  size_t processes = 0;
  double setup_seconds = 0;         // until every worker reported
  int64_t rss_before_kib = 0;       // server, before the connections
  int64_t rss_after_kib = 0;        // server, with all of them open
  int64_t rss_closed_kib = 0;       // server, after they closed
  double sessions_reported = 0;     // preceptor_sessions_authenticated while connected
  double bytes_per_connection = 0;  // (after - before) / connected

  Json to_json() const;
};

// The idle scenario: N authenticated connections that do nothing, held by
// child processes (this binary's `idle-worker` mode), each from its own
// 127.0.0.x source address; the server's RSS is read before and after.
// Tokens are the population's, round robin. Call from the main thread.
IdleResult run_idle(const Endpoint& endpoint, pid_t server_pid, const Population& population,
                    const IdleOptions& options);

// The `idle-worker` subcommand: connects `count` connections from
// `source_ip`, authenticates each with the tokens in `tokens_path` (one per
// line, round robin from `first`), prints "ready ok=N failed=M seconds=S",
// then holds them until its stdin closes. Returns the exit code.
int idle_worker_main(const std::string& url, const std::string& tokens_path, size_t first, size_t count,
                     const std::string& source_ip, size_t lanes);

}  // namespace preceptor::bench
