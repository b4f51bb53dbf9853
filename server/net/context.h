#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include "server/api/dispatcher.h"
#include "server/api/http.h"
#include "server/config.h"
#include "server/hub/hub.h"
#include "server/metrics.h"

namespace preceptor::server {

class WsSession;

// What every connection shares: configuration, services, metrics, and the
// registry of open WebSocket sessions (for draining on shutdown). Outlives
// every session. Thread-safe.
struct ServerContext {
  ServerContext(const ServerConfig& c, Metrics& m, api::Dispatcher& d, hub::Hub& h, std::function<bool()> ready_fn,
                std::function<std::string()> metrics_fn)
      : config(c), metrics(m), dispatcher(d), hub(h), ready(std::move(ready_fn)), render_metrics(std::move(metrics_fn)) {}

  const ServerConfig& config;
  Metrics& metrics;
  api::Dispatcher& dispatcher;
  hub::Hub& hub;
  std::function<bool()> ready;  // /readyz: store open, committer running, not draining
  std::function<std::string()> render_metrics;
  // The HTTP routes (read-only once serving), and how a bearer token becomes
  // a session for routes that need a sign-in. Set before the first connection.
  const api::HttpRoutes* http_routes = nullptr;
  std::function<Result<services::AuthSession>(std::string_view token)> authenticate;

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
