#pragma once

#include <cstdint>
#include <memory>

#include "common/status.h"
#include "server/api/http.h"
#include "server/net/context.h"

namespace preceptor::server {

// The network side of the server: the listening socket, the network
// threads, and draining on shutdown. Every connection it accepts is served
// from `ctx` (HTTP routes, then a WebSocket session feeding the router).
// Beast and Asio stay behind this header.
//
// listen(), start(), shutdown() and wait() may be called from any thread;
// shutdown() is idempotent.
class Network {
 public:
  explicit Network(ServerContext& ctx);  // `ctx` outlives the Network
  ~Network();                            // shutdown() and wait()

  // Binds the listening socket (ctx.config's address and port). The port is
  // known after it: port() reports it (a --port 0 chose one).
  Status listen();
  uint16_t port() const;

  // Starts accepting, on ctx.config.io_threads threads.
  void start();

  // Drains: stops accepting, closes sessions with 1001, waits up to
  // shutdown_grace_ms for them, then drops the rest. Returns at once.
  void shutdown();
  // Blocks until a shutdown has drained and the threads have ended.
  void wait();
  // Blocks until SIGTERM or SIGINT, then shuts down and waits. For main().
  void run_until_signal();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Adds the server's own routes to `routes`: /healthz, /readyz, /metrics, a
// hint on GET /v1/ws without an upgrade, and the static files of
// --web-root at / when it is set. Errors: a route already taken, or a
// --web-root that is not a folder.
Status add_platform_http_routes(ServerContext& ctx, api::HttpRoutes& routes);

}  // namespace preceptor::server
