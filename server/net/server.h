#pragma once

#include <cstdint>
#include <memory>

#include "common/clock.h"
#include "common/status.h"
#include "server/api/http.h"
#include "server/config.h"
#include "server/metrics.h"

namespace preceptor::services {
class Accounts;
}
namespace preceptor::storage {
class Committer;
class Store;
}

namespace preceptor::server {

// The whole server in one object: store, committer, services, hub and the
// network. main() and integration tests drive it the same way:
//   Server s(config); s.start(); ... s.shutdown(); s.wait();
// start/shutdown/wait may be called from any thread; shutdown is idempotent.
class Server {
 public:
  // `clock` defaults to the system clock; tests pass a ManualClock.
  explicit Server(ServerConfig config, const Clock* clock = nullptr);
  ~Server();  // shutdown() and wait()

  // Opens the store, starts the committer and network threads, binds the
  // port. On error nothing is left running.
  Status start();
  uint16_t port() const;

  // Adds an HTTP route on the server's port (see server/api/http.h), next to
  // the server's own (/healthz, /readyz, /metrics, --web-root). REQUIRES:
  // before start(); FAILED_PRECONDITION after. Errors as HttpRoutes::add.
  // Until services register their routes themselves, tests use it.
  Status add_http_route(api::HttpRoute route);

  // Drains: stops accepting, closes sessions with 1001, lets in-flight
  // commits finish. Returns at once; wait() blocks until done.
  void shutdown();
  void wait();

  // Blocks until SIGTERM or SIGINT, then drains. For main().
  void run_until_signal();

  services::Accounts& accounts();
  // Runs the timed work (reminders, expiry, check-ins due) now, on this
  // thread, against the server's clock. For tests with a ManualClock.
  void run_scheduler_once();
  storage::Store& store();
  storage::Committer& committer();
  const Metrics& metrics() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace preceptor::server
