#include "bench/preceptor_bench/ws_client.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <charconv>
#include <deque>

namespace preceptor::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

bool Endpoint::parse(const std::string& url, Endpoint* out) {
  constexpr std::string_view kScheme = "ws://";
  std::string_view rest(url);
  if (rest.substr(0, kScheme.size()) != kScheme) return false;
  rest.remove_prefix(kScheme.size());
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  const std::string_view path = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
  const size_t colon = authority.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  unsigned port = 0;
  const std::string_view port_text = authority.substr(colon + 1);
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535)
    return false;
  out->host = std::string(authority.substr(0, colon));
  out->port = static_cast<uint16_t>(port);
  out->path = std::string(path);
  return true;
}

std::string Endpoint::url() const { return "ws://" + host + ":" + std::to_string(port) + path; }

class WsClient::Impl : public std::enable_shared_from_this<WsClient::Impl> {
 public:
  explicit Impl(asio::io_context& io) : ws_(tcp::socket(io)) {}

  asio::awaitable<void> connect(Endpoint endpoint, std::string source_ip) {
    auto& sock = ws_.next_layer();
    const tcp::endpoint remote(asio::ip::make_address(endpoint.host), endpoint.port);
    sock.open(remote.protocol());
    if (!source_ip.empty()) {
      // Lets the kernel pick the source port at connect time (per destination),
      // not at bind time, so one source address is not limited to ~28k binds.
      int one = 1;
      ::setsockopt(sock.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
      sock.bind(tcp::endpoint(asio::ip::make_address(source_ip), 0));
    }
    co_await sock.async_connect(remote, asio::use_awaitable);
    sock.set_option(tcp::no_delay(true));
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::request_type& req) { req.set(beast::http::field::user_agent, "preceptor-bench"); }));
    ws_.secure_prng(false);  // masking keys need not be unpredictable here; the fast PRNG saves CPU
    ws_.binary(true);
    ws_.auto_fragment(false);
    ws_.read_message_max(64 * 1024 * 1024);
    co_await ws_.async_handshake(endpoint.host + ":" + std::to_string(endpoint.port), endpoint.path,
                                 asio::use_awaitable);
    open_ = true;
  }

  void start_reading(FrameFn on_frame, ClosedFn on_closed) {
    on_frame_ = std::move(on_frame);
    on_closed_ = std::move(on_closed);
    asio::co_spawn(ws_.get_executor(), read_loop(shared_from_this()), asio::detached);
  }

  void send(std::string bytes) {
    if (!open_) return;
    queued_bytes_ += bytes.size();
    queue_.push_back(std::move(bytes));
    if (!writing_) write_next();
  }

  void close() {
    if (closed_by_us_) return;
    closed_by_us_ = true;
    open_ = false;
    drop_queue();
    boost::system::error_code ignored;
    auto& sock = ws_.next_layer();
    sock.shutdown(tcp::socket::shutdown_both, ignored);
    sock.close(ignored);
  }

  bool is_open() const { return open_; }
  size_t queued_bytes() const { return queued_bytes_; }

 private:
  void write_next() {
    writing_ = true;
    ws_.async_write(asio::buffer(queue_.front()), [self = shared_from_this()](beast::error_code ec, size_t) {
      self->writing_ = false;
      if (self->closed_by_us_ || self->failed_) {
        self->queue_.clear();
        return;
      }
      if (ec) return self->fail("write: " + ec.message());
      self->queued_bytes_ -= self->queue_.front().size();
      self->queue_.pop_front();
      if (!self->queue_.empty()) self->write_next();
    });
  }

  // `self` keeps the connection alive while the loop runs.
  asio::awaitable<void> read_loop([[maybe_unused]] std::shared_ptr<Impl> self) {
    beast::flat_buffer buffer;
    for (;;) {
      beast::error_code ec;
      co_await ws_.async_read(buffer, asio::redirect_error(asio::use_awaitable, ec));
      if (closed_by_us_) co_return;
      if (ec) {
        fail(ec == websocket::error::closed
                 ? "closed by the server (code " + std::to_string(ws_.reason().code) + " " +
                       std::string(ws_.reason().reason.data(), ws_.reason().reason.size()) + ")"
                 : "read: " + ec.message());
        co_return;
      }
      const auto data = buffer.cdata();
      on_frame_(std::string_view(static_cast<const char*>(data.data()), data.size()));
      buffer.consume(buffer.size());
    }
  }

  // The frame being written must stay alive until its write completes.
  void drop_queue() {
    while (queue_.size() > (writing_ ? 1u : 0u)) queue_.pop_back();
    queued_bytes_ = 0;
  }

  void fail(const std::string& why) {
    if (failed_ || closed_by_us_) return;
    open_ = false;
    failed_ = true;
    drop_queue();
    boost::system::error_code ignored;
    ws_.next_layer().close(ignored);
    if (on_closed_) {
      auto fn = std::move(on_closed_);
      on_closed_ = nullptr;
      fn(why);
    }
  }

  websocket::stream<tcp::socket> ws_;
  std::deque<std::string> queue_;  // front() is being written while writing_
  size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool open_ = false;
  bool failed_ = false;
  bool closed_by_us_ = false;
  FrameFn on_frame_;
  ClosedFn on_closed_;
};

WsClient::WsClient(asio::io_context& io) : impl_(std::make_shared<Impl>(io)) {}

WsClient::~WsClient() { impl_->close(); }

asio::awaitable<void> WsClient::connect(const Endpoint& endpoint, const std::string& source_ip) {
  auto impl = impl_;  // keeps the connection alive across suspension
  co_await impl->connect(endpoint, source_ip);
}

void WsClient::start_reading(FrameFn on_frame, ClosedFn on_closed) {
  impl_->start_reading(std::move(on_frame), std::move(on_closed));
}

void WsClient::send(std::string bytes) { impl_->send(std::move(bytes)); }
void WsClient::close() { impl_->close(); }
bool WsClient::is_open() const { return impl_->is_open(); }
size_t WsClient::queued_bytes() const { return impl_->queued_bytes(); }

}  // namespace preceptor::bench
