#pragma once

#include <string_view>

#include "server/api/router.h"

namespace preceptor::api {

// One service as the server sees it: the requests it answers, and the
// timed work it does. A service adds itself by implementing this beside its
// code (server/services/<name>_api.cpp) and by one line in the list of
// modules (server/app.cpp). Created and wired on one thread at start-up.
class Module {
 public:
  virtual ~Module() = default;

  // Short lower-case name for logs ("chat").
  virtual std::string_view name() const = 0;

  // Adds a handler for each request the module answers.
  virtual void add_requests(Router& router) = 0;

  // Timed work (reminders, expiry, nudges). Called on the scheduler's
  // thread, one module after another; may block until its writes are
  // committed. Reads time from the injected Clock, never from the system.
  virtual void run_timed_work() {}
};

}  // namespace preceptor::api
