#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "server/api/http.h"
#include "server/config.h"
#include "server/demo.h"

namespace preceptor::services {
class Accounts;
}
namespace preceptor::storage {
class Committer;
class Store;
}  // namespace preceptor::storage

namespace preceptor::server {

class Metrics;

// The whole server in one object, the composition root: it opens the
// store, starts the committer, builds the services' modules and the router
// from the one list of modules (app.cpp), and starts the network. main()
// and the integration tests drive it the same way:
//   Server s(config); s.start(); ... s.shutdown(); s.wait();
// start/shutdown/wait may be called from any thread; shutdown is idempotent.
class Server {
 public:
  // `clock` defaults to the system clock and `monotonic_clock` (every rate
  // limit) to the steady clock; tests pass manual ones. Both must outlive
  // the Server.
  explicit Server(ServerConfig config, const Clock* clock = nullptr,
                  const MonotonicClock* monotonic_clock = nullptr);
  ~Server();  // shutdown() and wait()

  // Opens the store, starts the committer, creates the demo program when
  // configured, then binds the port and starts serving: once this returns
  // OK, /readyz answers ready and everything is in place. On error nothing
  // is left running.
  Status start();
  uint16_t port() const;

  // Adds an HTTP route on the server's port (server/api/http.h) next to the
  // modules' and the server's own. REQUIRES: before start();
  // FAILED_PRECONDITION after. Errors as HttpRoutes::add. For tests; a
  // service adds its routes from its module.
  Status add_http_route(api::HttpRoute route);

  // The demo program's logins, after a start() with `demo` set.
  const std::vector<DemoLogin>& demo_logins() const;

  // Drains: stops accepting, closes sessions with 1001, lets in-flight
  // commits finish. Returns at once; wait() blocks until done.
  void shutdown();
  void wait();

  // Blocks until SIGTERM or SIGINT, then drains. For main().
  void run_until_signal();

  services::Accounts& accounts();
  // Runs every module's timed work now, on this thread, against the
  // server's clock. For tests with a ManualClock.
  void run_scheduler_once();
  // Compacts the text of the messages deleted or edited so far off the disk
  // now, on this thread (what --redaction-interval-ms does on a timer).
  Status run_redaction_once();
  storage::Store& store();
  storage::Committer& committer();
  const Metrics& metrics() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace preceptor::server
