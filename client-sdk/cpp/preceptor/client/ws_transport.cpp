// The only translation unit of the SDK that includes Beast.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>

#include "preceptor/client/transport.h"

namespace preceptor::client {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using asio::redirect_error;
using asio::use_awaitable;

class WsTransport final : public Transport, public std::enable_shared_from_this<WsTransport> {
 public:
  WsTransport(Strand strand, ServerAddress address, TransportOptions options, TransportHandlers handlers)
      : strand_(strand),
        address_(std::move(address)),
        options_(options),
        handlers_(std::move(handlers)),
        resolver_(strand),
        ws_(strand) {}

  void start() override { asio::co_spawn(strand_, run(shared_from_this()), asio::detached); }

  void send(std::string bytes) override {
    if (!open_ || closing_ || aborted_) return;
    out_.push_back(std::move(bytes));
    if (!writing_) {
      writing_ = true;
      asio::co_spawn(strand_, write_loop(shared_from_this()), asio::detached);
    }
  }

  void close() override {
    if (aborted_ || closing_) return;
    if (!open_) return abort();
    closing_ = true;
    out_.clear();
    asio::co_spawn(strand_, close_op(shared_from_this()), asio::detached);
  }

  void abort() override {
    if (aborted_) return;
    aborted_ = true;
    out_.clear();
    resolver_.cancel();
    boost::system::error_code ec;
    auto& lowest = beast::get_lowest_layer(ws_);
    lowest.socket().shutdown(tcp::socket::shutdown_both, ec);
    lowest.close();
  }

  void abort_after_writes() override {
    discard_reads_ = true;  // replies to what was written are lost, as on a real drop
    if (writing_) {
      abort_after_writes_ = true;
    } else {
      abort();
    }
  }

 private:
  using Self = std::shared_ptr<WsTransport>;

  std::string where() const { return address_.host + ":" + std::to_string(address_.port); }

  asio::awaitable<void> run([[maybe_unused]] Self self) {
    TransportClosed closed;
    boost::system::error_code ec;
    auto results = co_await resolver_.async_resolve(address_.host, std::to_string(address_.port),
                                                    redirect_error(use_awaitable, ec));
    if (ec || aborted_) {
      closed.reason = aborted_ ? "Stopped before connecting."
                               : "Could not resolve " + address_.host + ": " + ec.message() + ".";
      co_return finish(std::move(closed));
    }
    auto& lowest = beast::get_lowest_layer(ws_);
    lowest.expires_after(options_.connect_timeout);
    co_await lowest.async_connect(results, redirect_error(use_awaitable, ec));
    if (ec || aborted_) {
      closed.reason = aborted_ ? "Stopped before connecting."
                               : "Could not connect to " + where() + ": " + ec.message() + ".";
      co_return finish(std::move(closed));
    }
    lowest.expires_never();  // the WebSocket timeouts below take over
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = options_.handshake_timeout;
    timeouts.idle_timeout = options_.idle_timeout;
    timeouts.keep_alive_pings = true;
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
      req.set(beast::http::field::user_agent, "preceptor-client-cpp");
    }));
    ws_.read_message_max(options_.max_message_bytes);
    co_await ws_.async_handshake(where(), address_.path, redirect_error(use_awaitable, ec));
    if (ec || aborted_) {
      closed.reason = aborted_ ? "Stopped before connecting."
                               : "The WebSocket handshake with " + address_.to_string() +
                                     " failed: " + ec.message() + ".";
      co_return finish(std::move(closed));
    }
    ws_.binary(true);
    open_ = true;
    closed.opened = true;
    if (handlers_.on_open) handlers_.on_open();

    for (;;) {
      in_.clear();
      co_await ws_.async_read(in_, redirect_error(use_awaitable, ec));
      if (ec) break;
      if (!ws_.got_binary() || discard_reads_) continue;  // the protocol is binary only
      if (handlers_.on_message) handlers_.on_message(beast::buffers_to_string(in_.data()));
    }
    open_ = false;
    if (ec == websocket::error::closed) {
      const auto& r = ws_.reason();
      closed.close_code = static_cast<uint16_t>(r.code);
      closed.reason = r.reason.empty()
                          ? "The server closed the connection (code " + std::to_string(r.code) + ")."
                          : std::string(r.reason.data(), r.reason.size());
    } else if (aborted_) {
      closed.reason = "The connection was dropped by this client.";
    } else {
      closed.reason = "The connection to " + where() + " was lost: " + ec.message() + ".";
    }
    finish(std::move(closed));
  }

  asio::awaitable<void> write_loop([[maybe_unused]] Self self) {
    boost::system::error_code ec;
    while (!out_.empty() && !aborted_) {
      std::string frame = std::move(out_.front());
      out_.pop_front();
      co_await ws_.async_write(asio::buffer(frame), redirect_error(use_awaitable, ec));
      if (ec) {
        out_.clear();
        break;  // the read loop sees the same failure and reports it
      }
    }
    writing_ = false;
    if (abort_after_writes_) abort();
  }

  asio::awaitable<void> close_op([[maybe_unused]] Self self) {
    boost::system::error_code ec;
    co_await ws_.async_close(websocket::close_code::normal, redirect_error(use_awaitable, ec));
    if (ec) abort();  // the read loop ends either way
  }

  void finish(TransportClosed closed) {
    if (finished_) return;
    finished_ = true;
    beast::get_lowest_layer(ws_).close();
    auto on_closed = std::move(handlers_.on_closed);
    handlers_ = {};
    if (on_closed) on_closed(std::move(closed));
  }

  Strand strand_;
  ServerAddress address_;
  TransportOptions options_;
  TransportHandlers handlers_;
  tcp::resolver resolver_;
  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer in_;
  std::deque<std::string> out_;
  bool writing_ = false;
  bool open_ = false;
  bool closing_ = false;
  bool aborted_ = false;
  bool abort_after_writes_ = false;
  bool discard_reads_ = false;
  bool finished_ = false;
};

}  // namespace

std::shared_ptr<Transport> make_ws_transport(Strand strand, ServerAddress address, TransportOptions options,
                                             TransportHandlers handlers) {
  return std::make_shared<WsTransport>(strand, std::move(address), options, std::move(handlers));
}

}  // namespace preceptor::client
