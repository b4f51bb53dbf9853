#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "common/status.h"
#include "server/api/http.h"
#include "server/net/context.h"

namespace preceptor::server {

// Serves one TCP connection: HTTP/1.1 requests, matched against
// ctx.http_routes, until it upgrades on /v1/ws, when it becomes a WsSession.
// Reads each request's header first, then checks the route's access rule
// (bearer token through ctx.authenticate) and body limit, and moves bodies
// both ways in pieces of at most api::kHttpChunkBytes. Runs on the
// connection's strand.
boost::asio::awaitable<void> serve_http(ServerContext& ctx, boost::asio::ip::tcp::socket socket);

}  // namespace preceptor::server
