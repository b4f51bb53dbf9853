#include "bench/preceptor_bench/ws_client.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace preceptor::bench {

namespace asio = boost::asio;
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

// The client speaks RFC 6455 itself on a plain Asio socket rather than
// through Beast: it gathers every frame queued while a write is in flight
// into the next single write, and parses every frame of one read in place.
// A load generator sharing two cores with the server must cost as little
// CPU per message as it can, or it measures itself. (With Beast's stream the
// tool spent ~42% of its time in the kernel, one sendmsg per frame.)
class WsClient::Impl : public std::enable_shared_from_this<WsClient::Impl> {
 public:
  explicit Impl(asio::io_context& io) : sock_(io), mask_state_(0x9E3779B9u ^ next_seed()) {}

  asio::awaitable<void> connect(Endpoint endpoint, std::string source_ip) {
    const tcp::endpoint remote(asio::ip::make_address(endpoint.host), endpoint.port);
    sock_.open(remote.protocol());
    if (!source_ip.empty()) {
      // Lets the kernel pick the source port at connect time (per destination),
      // not at bind time, so one source address is not limited to ~28k binds.
      int one = 1;
      ::setsockopt(sock_.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
      sock_.bind(tcp::endpoint(asio::ip::make_address(source_ip), 0));
    }
    co_await sock_.async_connect(remote, asio::use_awaitable);
    sock_.set_option(tcp::no_delay(true));

    // The opening handshake (RFC 6455 section 4.1). The key need not be
    // unpredictable for a load generator: the server only checks its form.
    const std::string request = "GET " + endpoint.path + " HTTP/1.1\r\nHost: " + endpoint.host + ":" +
                                std::to_string(endpoint.port) +
                                "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                "Sec-WebSocket-Version: 13\r\nUser-Agent: preceptor-bench\r\n\r\n";
    co_await asio::async_write(sock_, asio::buffer(request), asio::use_awaitable);
    size_t header_end = std::string_view::npos;
    while (header_end == std::string_view::npos) {
      reserve_input(1024);
      const size_t n = co_await sock_.async_read_some(
          asio::buffer(in_.data() + in_end_, in_.size() - in_end_), asio::use_awaitable);
      in_end_ += n;
      header_end = input().find("\r\n\r\n");
      if (header_end == std::string_view::npos && in_end_ > 16 * 1024) {
        throw std::runtime_error("the server's handshake response has no end");
      }
    }
    const std::string_view head = input().substr(0, header_end);
    const std::string_view status = head.substr(0, head.find("\r\n"));
    if (status.substr(0, 12) != "HTTP/1.1 101") {
      throw std::runtime_error("upgrade refused: " + std::string(status));
    }
    in_begin_ += header_end + 4;  // frames the server sent at once stay buffered
    open_ = true;
  }

  void start_reading(FrameFn on_frame, ClosedFn on_closed) {
    on_frame_ = std::move(on_frame);
    on_closed_ = std::move(on_closed);
    // Frames that arrived with the handshake response are handled first.
    asio::post(sock_.get_executor(), [self = shared_from_this()] {
      if (self->parse_frames()) self->read_more();
    });
  }

  void send(std::string_view payload) {
    if (!open_) return;
    append_frame(kOpBinary, payload);
  }

  void close() {
    if (closed_by_us_) return;
    closed_by_us_ = true;
    open_ = false;
    pending_.clear();
    boost::system::error_code ignored;
    sock_.shutdown(tcp::socket::shutdown_both, ignored);
    sock_.close(ignored);
  }

  bool is_open() const { return open_; }
  size_t queued_bytes() const { return pending_.size() + writing_.size(); }

 private:
  static constexpr uint8_t kOpContinuation = 0x0, kOpText = 0x1, kOpBinary = 0x2, kOpClose = 0x8,
                           kOpPing = 0x9, kOpPong = 0xA;
  static constexpr uint64_t kMaxMessage = 64 * 1024 * 1024;

  static uint32_t next_seed() {
    static std::atomic<uint32_t> n{1};
    return n.fetch_add(0x6D2B79F5u);
  }

  std::string_view input() const { return std::string_view(in_.data() + in_begin_, in_end_ - in_begin_); }

  // Makes room for at least `want` more bytes after in_end_.
  void reserve_input(size_t want) {
    if (in_begin_ == in_end_) in_begin_ = in_end_ = 0;
    if (in_.size() - in_end_ >= want) return;
    if (in_begin_ > 0) {
      std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
      in_end_ -= in_begin_;
      in_begin_ = 0;
    }
    if (in_.size() - in_end_ < want) in_.resize(std::max(in_.size() * 2, in_end_ + want));
  }

  // One client frame (FIN set, masked as RFC 6455 requires of clients),
  // appended to what the next write sends.
  void append_frame(uint8_t opcode, std::string_view payload) {
    char header[14];
    size_t h = 0;
    header[h++] = static_cast<char>(0x80 | opcode);
    const uint64_t n = payload.size();
    if (n < 126) {
      header[h++] = static_cast<char>(0x80 | n);
    } else if (n <= 0xFFFF) {
      header[h++] = static_cast<char>(0x80 | 126);
      for (int shift = 8; shift >= 0; shift -= 8) header[h++] = static_cast<char>((n >> shift) & 0xFF);
    } else {
      header[h++] = static_cast<char>(0x80 | 127);
      for (int shift = 56; shift >= 0; shift -= 8) header[h++] = static_cast<char>((n >> shift) & 0xFF);
    }
    // xorshift32: masking keys need not be unpredictable here.
    mask_state_ ^= mask_state_ << 13;
    mask_state_ ^= mask_state_ >> 17;
    mask_state_ ^= mask_state_ << 5;
    char key[4];
    std::memcpy(key, &mask_state_, 4);
    std::memcpy(header + h, key, 4);
    h += 4;
    const size_t at = pending_.size();
    pending_.append(header, h);
    pending_.append(payload);
    char* p = pending_.data() + at + h;
    for (size_t i = 0; i < n; ++i) p[i] = static_cast<char>(p[i] ^ key[i & 3]);
    if (writing_.empty()) write_pending();
  }

  void write_pending() {
    writing_.swap(pending_);
    asio::async_write(sock_, asio::buffer(writing_),
                      [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                        self->writing_.clear();
                        if (self->closed_by_us_) return;
                        if (self->failed_) {
                          // Only the answer to the server's close is still to go out.
                          if (!self->close_after_write_) return;
                          if (!ec && !self->pending_.empty()) return self->write_pending();
                          return self->shut();
                        }
                        if (ec) return self->fail("write: " + ec.message());
                        if (!self->pending_.empty()) self->write_pending();
                      });
  }

  void read_more() {
    reserve_input(16 * 1024);
    sock_.async_read_some(asio::buffer(in_.data() + in_end_, in_.size() - in_end_),
                          [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
                            if (self->closed_by_us_ || self->failed_) return;
                            if (ec) {
                              return self->fail(ec == asio::error::eof ? "the server closed the connection"
                                                                       : "read: " + ec.message());
                            }
                            self->in_end_ += n;
                            if (self->parse_frames()) self->read_more();
                          });
  }

  // Handles every whole frame buffered; false once the connection is over.
  bool parse_frames() {
    for (;;) {
      if (closed_by_us_ || failed_) return false;
      const std::string_view in = input();
      if (in.size() < 2) return true;
      const auto b0 = static_cast<uint8_t>(in[0]), b1 = static_cast<uint8_t>(in[1]);
      size_t h = 2;
      uint64_t n = b1 & 0x7F;
      if (n == 126 || n == 127) {
        const size_t len_bytes = n == 126 ? 2 : 8;
        if (in.size() < 2 + len_bytes) return true;
        n = 0;
        for (size_t i = 0; i < len_bytes; ++i) n = (n << 8) | static_cast<uint8_t>(in[2 + i]);
        h += len_bytes;
      }
      if (b1 & 0x80) return fail_frame("the server sent a masked frame");
      if (n > kMaxMessage) return fail_frame("the server sent a frame of " + std::to_string(n) + " bytes");
      if (in.size() < h + n) {
        reserve_input(h + n - in.size());
        return true;
      }
      const std::string_view payload = in.substr(h, n);
      in_begin_ += h + n;
      const bool fin = b0 & 0x80;
      const uint8_t opcode = b0 & 0x0F;
      switch (opcode) {
        case kOpBinary:
        case kOpText:
          if (fin) {
            on_frame_(payload);
          } else {
            fragments_.assign(payload);
            in_fragments_ = true;
          }
          break;
        case kOpContinuation:
          if (!in_fragments_) return fail_frame("the server sent a stray continuation frame");
          if (fragments_.size() + n > kMaxMessage) return fail_frame("the server sent a message over 64 MiB");
          fragments_.append(payload);
          if (fin) {
            in_fragments_ = false;
            std::string whole = std::move(fragments_);
            fragments_.clear();
            on_frame_(whole);
          }
          break;
        case kOpPing:
          append_frame(kOpPong, payload);
          break;
        case kOpPong:
          break;
        case kOpClose: {
          unsigned code = 1005;  // no status code present
          std::string reason;
          if (payload.size() >= 2) {
            code = (static_cast<uint8_t>(payload[0]) << 8) | static_cast<uint8_t>(payload[1]);
            reason.assign(payload.substr(2));
          }
          // Answer the close (echoing its code) and drop the connection once written.
          const char reply[2] = {static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
          if (code != 1005) append_frame(kOpClose, std::string_view(reply, 2));
          close_after_write_ = !writing_.empty();
          fail("closed by the server (code " + std::to_string(code) + " " + reason + ")");
          return false;
        }
        default:
          return fail_frame("the server sent opcode " + std::to_string(opcode));
      }
    }
  }

  bool fail_frame(const std::string& why) {
    fail(why);
    return false;
  }

  void shut() {
    boost::system::error_code ignored;
    sock_.shutdown(tcp::socket::shutdown_both, ignored);
    sock_.close(ignored);
  }

  void fail(const std::string& why) {
    if (failed_ || closed_by_us_) return;
    open_ = false;
    failed_ = true;
    if (!close_after_write_) {
      pending_.clear();
      shut();
    }
    if (on_closed_) {
      auto fn = std::move(on_closed_);
      on_closed_ = nullptr;
      fn(why);
    }
  }

  tcp::socket sock_;
  std::vector<char> in_;  // bytes read: [in_begin_, in_end_) not yet handled
  size_t in_begin_ = 0, in_end_ = 0;
  std::string fragments_;  // a fragmented message being put together
  bool in_fragments_ = false;
  std::string pending_;  // frames queued while `writing_` is in flight
  std::string writing_;  // the write in flight; empty when none
  uint32_t mask_state_;
  bool open_ = false;
  bool failed_ = false;
  bool closed_by_us_ = false;
  bool close_after_write_ = false;  // the close reply is in `writing_`; drop the socket after it
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

void WsClient::send(std::string_view bytes) { impl_->send(bytes); }
void WsClient::close() { impl_->close(); }
bool WsClient::is_open() const { return impl_->is_open(); }
size_t WsClient::queued_bytes() const { return impl_->queued_bytes(); }

}  // namespace preceptor::bench
