#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "server/net/context.h"

namespace preceptor::server {

// Accepts TCP connections and hands each, on its own strand, to the HTTP
// router. Runs until the acceptor is closed.
boost::asio::awaitable<void> accept_loop(ServerContext& ctx, boost::asio::ip::tcp::acceptor& acceptor);

}  // namespace preceptor::server
