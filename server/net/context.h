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
#include "server/net/metrics.h"
#include "server/net/net_config.h"

namespace preceptor::server {

class WsSession;

// What every connection shares: configuration, the router, the hub,
// metrics, and the registry of open WebSocket sessions (for draining on
// shutdown). Filled by the app; outlives every session. Thread-safe.
struct ServerContext {
  ServerContext(const NetConfig& c, Metrics& m, const api::Router& r, hub::Hub& h,
                std::function<bool()> ready_fn, std::function<std::string()> metrics_fn,
                const MonotonicClock& mono)
      : config(c),
        metrics(m),
        router(r),
        hub(h),
        ready(std::move(ready_fn)),
        render_metrics(std::move(metrics_fn)),
        monotonic_clock(mono) {}

  const NetConfig& config;
  Metrics& metrics;
  const api::Router& router;
  hub::Hub& hub;
  std::function<bool()> ready;  // /readyz: store open, committer running, not draining
  std::function<std::string()> render_metrics;
  const MonotonicClock& monotonic_clock;  // per-connection request rate
  // The HTTP routes (read-only once serving), and how a bearer token becomes
  // a session for routes that need a sign-in. Set before the first connection.
  const api::HttpRoutes* http_routes = nullptr;
  std::function<Result<api::Session>(std::string_view token)> authenticate;

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
