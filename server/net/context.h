#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "server/api/http.h"
#include "server/api/router.h"
#include "server/hub/hub.h"
#include "server/net/connection_limits.h"
#include "server/net/metrics.h"
#include "server/net/net_config.h"

namespace preceptor::server {

class WsSession;

// What every connection shares: configuration, the router, the hub,
// metrics, and the registry of open WebSocket sessions (for draining on
// shutdown). Filled by the app; outlives every session. Thread-safe.
struct ServerContext {
  ServerContext(const NetConfig& c, Metrics& m, const api::Router& r, hub::Hub& h,
                std::function<std::string()> not_ready_fn, std::function<std::string()> metrics_fn,
                const MonotonicClock& mono)
      : config(c),
        metrics(m),
        router(r),
        hub(h),
        not_ready_reason(std::move(not_ready_fn)),
        render_metrics(std::move(metrics_fn)),
        monotonic_clock(mono),
        connections(c.max_connections, c.max_connections_per_address) {}

  const NetConfig& config;
  Metrics& metrics;
  const api::Router& router;
  hub::Hub& hub;
  // /readyz: why the server cannot take writes now (draining, the committer
  // stopped after a failed write), as a sentence for the operator; empty
  // when it is ready.
  std::function<std::string()> not_ready_reason;
  std::function<std::string()> render_metrics;
  const MonotonicClock& monotonic_clock;  // per-connection request rate
  ConnectionLimits connections;
  // The HTTP routes (read-only once serving), and how a bearer token becomes
  // a session for routes that need a sign-in. Set before the first connection.
  const api::HttpRoutes* http_routes = nullptr;
  std::function<Result<api::Session>(std::string_view token)> authenticate;
  // Re-checks a live connection's session (revoked, signed out, expired,
  // user disabled) and counts the use; the answer has the new expiry times.
  std::function<Result<api::Session>(const api::Session&)> refresh_session;
  const Clock* clock = nullptr;  // dates sessions expire at (the app's clock)

  std::atomic<uint64_t> next_connection_id{1};
  std::atomic<bool> draining{false};

  void add_session(uint64_t id, std::weak_ptr<WsSession> session);
  void remove_session(uint64_t id);
  std::vector<std::shared_ptr<WsSession>> sessions();
  size_t session_count();

 private:
  std::mutex mu_;
  std::unordered_map<uint64_t, std::weak_ptr<WsSession>> sessions_;
};

}  // namespace preceptor::server
