// preceptor-echo-server: the network ceiling for preceptor-bench. A minimal
// Beast WebSocket server that sends every binary message straight back to
// its sender: the same sockets, frames and Beast code path as
// preceptor-server, with no protocol handling, storage or fan-out. What the
// chat load achieves against it is the most the network layer of this
// machine can give; preceptor-server's figures read as a ratio to it.
//
// Usage: preceptor-echo-server [--port N] [--threads N]
// Prints "preceptor-echo-server listening on ws://127.0.0.1:PORT/v1/ws",
// runs until SIGTERM or SIGINT.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

// One connection: read a message, write it back, until the client goes.
// Runs on the connection's strand.
asio::awaitable<void> echo_session(tcp::socket socket) {
  socket.set_option(tcp::no_delay(true));
  websocket::stream<tcp::socket> ws(std::move(socket));
  ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  ws.auto_fragment(false);
  ws.read_message_max(4 * 1024 * 1024);
  try {
    co_await ws.async_accept(asio::use_awaitable);
    beast::flat_buffer buffer;
    for (;;) {
      co_await ws.async_read(buffer, asio::use_awaitable);
      ws.binary(ws.got_binary());
      co_await ws.async_write(buffer.data(), asio::use_awaitable);
      buffer.consume(buffer.size());
    }
  } catch (const std::exception&) {
    // The client went away: nothing to report.
  }
}

asio::awaitable<void> accept_loop(asio::io_context& io, tcp::acceptor& acceptor) {
  for (;;) {
    tcp::socket socket(asio::make_strand(io));
    boost::system::error_code ec;
    co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) continue;  // e.g. out of file descriptors: keep serving the others
    auto ex = socket.get_executor();
    asio::co_spawn(ex, echo_session(std::move(socket)), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  unsigned port = 0;
  int threads = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--port" && i + 1 < argc) {
      port = static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 10));
    } else if (arg == "--threads" && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else if (arg == "--help" || arg == "-h") {
      std::puts("Usage: preceptor-echo-server [--port N (0: any free port)] [--threads N (default 1)]");
      return 0;
    } else {
      std::fprintf(stderr, "preceptor-echo-server: unknown argument %s\n", arg.c_str());
      return 2;
    }
  }
  if (port > 65535 || threads < 1 || threads > 64) {
    std::fprintf(stderr, "preceptor-echo-server: --port must be 0-65535 and --threads 1-64\n");
    return 2;
  }
  asio::io_context io(threads);
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)));
  acceptor.listen(asio::socket_base::max_listen_connections);
  std::printf("preceptor-echo-server listening on ws://127.0.0.1:%u/v1/ws (threads: %d)\n",
              static_cast<unsigned>(acceptor.local_endpoint().port()), threads);
  std::fflush(stdout);

  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code&, int) { io.stop(); });
  asio::co_spawn(io, accept_loop(io, acceptor), asio::detached);

  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : pool) t.join();
  // Sessions still open are dropped with the process.
  std::fflush(nullptr);
  std::_Exit(0);
}
