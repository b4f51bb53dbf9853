#include "server/net/listener.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.h"
#include "server/net/http_router.h"

namespace preceptor::server {
namespace asio = boost::asio;

asio::awaitable<void> accept_loop(ServerContext& ctx, asio::ip::tcp::acceptor& acceptor) {
  auto io = co_await asio::this_coro::executor;
  for (;;) {
    boost::system::error_code ec;
    asio::ip::tcp::socket socket(asio::make_strand(io));
    co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // EMFILE and friends: say so, back off a little, keep serving the rest.
      log::warn("accept_failed").kv("error", ec.message());
      asio::steady_timer pause(io, std::chrono::milliseconds(50));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    socket.set_option(asio::ip::tcp::no_delay(true), ec);
    auto executor = socket.get_executor();
    asio::co_spawn(executor, serve_http(ctx, std::move(socket)), asio::detached);
  }
}

}  // namespace preceptor::server
