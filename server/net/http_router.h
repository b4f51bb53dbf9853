#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "server/net/context.h"

namespace preceptor::server {

// Serves one TCP connection: HTTP/1.1 requests (/healthz, /readyz, /metrics;
// 404 otherwise) until it upgrades on /v1/ws, when it becomes a WsSession.
// Runs on the connection's strand.
boost::asio::awaitable<void> serve_http(ServerContext& ctx, boost::asio::ip::tcp::socket socket);

}  // namespace preceptor::server
