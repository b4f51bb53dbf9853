#pragma once

#include <string_view>

#include "server/api/http.h"
#include "server/api/router.h"

namespace preceptor::api {

// One service as the server sees it: the requests it answers, its HTTP
// routes, and the timed work it does. A service adds itself by implementing this beside its
// code (server/services/<name>_api.cpp) and by one line in the list of
// modules (server/app.cpp). Created and wired on one thread at start-up.
class Module {
 public:
  virtual ~Module() = default;

  // Short lower-case name for logs ("chat").
  virtual std::string_view name() const = 0;

  // Adds a handler for each request the module answers.
  virtual void add_requests(Router& router) = 0;

  // Adds the module's HTTP routes on the server's port (documents, calendar
  // feeds). An error (a path already taken) stops the server's start.
  virtual Status add_http_routes(HttpRoutes& routes) {
    (void)routes;
    return Status::ok();
  }

  // Timed work (reminders, expiry, nudges). Called on the scheduler's
  // thread, one module after another; may block until its writes are
  // committed. Reads time from the injected Clock, never from the system.
  virtual void run_timed_work() {}
};

}  // namespace preceptor::api
