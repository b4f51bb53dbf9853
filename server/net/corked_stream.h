#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace preceptor::server {

// The layer between Beast's WebSocket stream and the TCP socket that gathers
// writes. Every write — a whole frame from the session, or a control frame,
// the handshake response or the close frame from Beast — is appended to one
// buffer and completes at once; the buffer goes out in a single socket write
// once the strand has run what was already queued. Under load a connection
// gets its reply and the events of a whole commit group in one syscall
// instead of one per frame.
//
// Order is kept: bytes leave in the order they were appended, and a write
// that is in flight is followed by everything appended meanwhile. Reads pass
// straight through. All members are used on the connection's strand.
//
// The buffers and the socket live in a shared state that in-flight writes
// keep alive, so the owner may go away while a write is pending.
class CorkedStream {
 public:
  using next_layer_type = boost::beast::tcp_stream;
  using executor_type = next_layer_type::executor_type;

  explicit CorkedStream(boost::beast::tcp_stream&& next) : s_(std::make_shared<State>(std::move(next))) {}

  executor_type get_executor() noexcept { return s_->next.get_executor(); }
  next_layer_type& next_layer() noexcept { return s_->next; }
  const next_layer_type& next_layer() const noexcept { return s_->next; }

  template <class MutableBufferSequence, class ReadHandler>
  auto async_read_some(const MutableBufferSequence& buffers, ReadHandler&& handler) {
    return s_->next.async_read_some(buffers, std::forward<ReadHandler>(handler));
  }

  // Beast's own writes: appended whole, completed (posted) at once. They
  // count against the limit like the session's frames: a client that sends
  // pings and never reads the pongs fills it, and the write fails with
  // no_buffer_space (which fails the read that answered the ping).
  template <class ConstBufferSequence, class WriteHandler>
  auto async_write_some(const ConstBufferSequence& buffers, WriteHandler&& handler) {
    return boost::asio::async_initiate<WriteHandler, void(boost::system::error_code, std::size_t)>(
        [](auto h, std::shared_ptr<State> s, const ConstBufferSequence& b) {
          boost::system::error_code ec = s->error;
          std::size_t n = 0;
          if (!ec && s->limit != 0 &&
              s->pending.size() + s->writing.size() + boost::asio::buffer_size(b) > s->limit + kControlRoom) {
            ec = boost::asio::error::no_buffer_space;
            s->error = ec;
            s->pending.clear();
          }
          if (!ec) {
            for (auto it = boost::asio::buffer_sequence_begin(b); it != boost::asio::buffer_sequence_end(b);
                 ++it) {
              boost::asio::const_buffer piece(*it);
              s->pending.append(static_cast<const char*>(piece.data()), piece.size());
              n += piece.size();
            }
            schedule_flush(s);
          }
          auto ex = s->next.get_executor();
          boost::asio::post(ex, boost::beast::bind_front_handler(std::move(h), ec, n));
        },
        handler, s_, buffers);
  }

  // Bytes that may wait to be sent; 0 = no limit. The session checks its own
  // frames against it before appending (enqueue); Beast's writes are checked
  // here, with a little room so a close frame still fits after a drop.
  void set_limit(size_t bytes) noexcept { s_->limit = bytes; }
  static constexpr size_t kControlRoom = 1024;

  // Appends one complete unmasked binary WebSocket message (RFC 6455 5.2,
  // server to client, FIN set, no extensions) holding `payload`.
  void append_binary_message(std::string_view payload) {
    if (s_->error) return;
    std::string& out = s_->pending;
    out.push_back(static_cast<char>(0x82));  // FIN | opcode 2 (binary)
    const uint64_t n = payload.size();
    if (n < 126) {
      out.push_back(static_cast<char>(n));
    } else if (n <= 0xFFFF) {
      out.push_back(static_cast<char>(126));
      out.push_back(static_cast<char>(n >> 8));
      out.push_back(static_cast<char>(n & 0xFF));
    } else {
      out.push_back(static_cast<char>(127));
      for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((n >> shift) & 0xFF));
    }
    out.append(payload);
    schedule_flush(s_);
  }

  // Bytes appended and not yet accepted by the socket (including a write in flight).
  size_t buffered_bytes() const noexcept { return s_->pending.size() + s_->writing.size(); }

  // Forgets what is not in flight yet (a client that stopped reading).
  void drop_pending() noexcept { s_->pending.clear(); }

  // Runs `fn` once everything appended so far has been written (or the
  // socket failed): at once if nothing is waiting.
  void when_drained(std::function<void()> fn) {
    if (!s_->flushing && (s_->pending.empty() || s_->error)) return fn();
    s_->drained = std::move(fn);
  }

 private:
  struct State {
    explicit State(boost::beast::tcp_stream&& n) : next(std::move(n)) {}
    boost::beast::tcp_stream next;
    std::string pending;              // appended, waiting for the next socket write
    std::string writing;              // in the socket write in flight
    bool flushing = false;            // a socket write is in flight
    bool scheduled = false;           // a flush is posted
    boost::system::error_code error;  // the first failed write; later writes fail with it
    size_t limit = 0;                 // see set_limit()
    std::function<void()> drained;    // see when_drained()
  };

  // A flush runs after whatever the strand already has queued, so frames
  // posted together leave together.
  static void schedule_flush(const std::shared_ptr<State>& s) {
    if (s->scheduled || s->flushing) return;  // a running write picks the new bytes up
    s->scheduled = true;
    boost::asio::post(s->next.get_executor(), [s] {
      s->scheduled = false;
      write_pending(s);
    });
  }

  static void write_pending(const std::shared_ptr<State>& s) {
    if (s->flushing) return;
    if (s->error) s->pending.clear();
    if (s->pending.empty()) {
      // Idle: keep no buffer around (idle connections are many).
      std::string().swap(s->writing);
      if (s->drained) std::exchange(s->drained, nullptr)();
      return;
    }
    s->flushing = true;
    s->writing.swap(s->pending);
    boost::asio::async_write(s->next, boost::asio::buffer(s->writing),
                             [s](boost::system::error_code ec, std::size_t) {
                               s->flushing = false;
                               s->writing.clear();
                               if (ec && !s->error) s->error = ec;
                               write_pending(s);
                             });
  }

  std::shared_ptr<State> s_;

  template <class TeardownHandler>
  friend void async_teardown(boost::beast::role_type role, CorkedStream& stream, TeardownHandler&& handler);
};

// Beast's close handshake ends with a teardown of the next layer: send what
// is buffered first (the close frame among it), then shut the socket down.
template <class TeardownHandler>
void async_teardown(boost::beast::role_type role, CorkedStream& stream, TeardownHandler&& handler) {
  auto h = std::make_shared<std::decay_t<TeardownHandler>>(std::forward<TeardownHandler>(handler));
  stream.when_drained([s = stream.s_, role, h] {
    using boost::beast::websocket::async_teardown;
    async_teardown(role, s->next, std::move(*h));
  });
}

inline void teardown(boost::beast::role_type role, CorkedStream& stream, boost::system::error_code& ec) {
  using boost::beast::websocket::teardown;
  teardown(role, stream.next_layer(), ec);
}

}  // namespace preceptor::server
