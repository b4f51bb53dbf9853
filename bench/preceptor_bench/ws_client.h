#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace preceptor::bench {

// Where a WebSocket server listens: ws://host:port/path.
struct Endpoint {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string path = "/v1/ws";

  // Parses "ws://host:port/path"; false when it is not of that form.
  static bool parse(const std::string& url, Endpoint* out);
  std::string url() const;
};

// One client WebSocket connection sending and receiving binary messages. It
// speaks RFC 6455 itself on an Asio TCP socket (no Beast: see the .cpp for
// why): frames go out in the order send() is called, and every frame queued
// while a write is in flight leaves in the next single write; received
// messages are handed to a callback as they arrive, every whole frame of one
// read in turn. Pings are answered; a close from the server is answered and
// reported through the closed callback.
//
// Single-threaded: every call, and every callback, happens on the thread
// running `io` (the tool runs one thread per io_context). The connection
// outlives its pending operations, so it may be destroyed at any time.
class WsClient {
 public:
  using FrameFn = std::function<void(std::string_view bytes)>;
  // Called once when the connection fails or the server closes it; not after close().
  using ClosedFn = std::function<void(const std::string& why)>;

  explicit WsClient(boost::asio::io_context& io);
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // Connects (from `source_ip` when not empty, e.g. "127.0.0.2", to spread
  // many connections over several source addresses) and completes the
  // WebSocket upgrade. Throws boost::system::system_error on failure.
  boost::asio::awaitable<void> connect(const Endpoint& endpoint, const std::string& source_ip = {});

  // Starts the read loop. REQUIRES: connected, called once.
  void start_reading(FrameFn on_frame, ClosedFn on_closed);

  // Queues one binary message. Dropped silently once the connection is closed.
  void send(std::string_view bytes);

  // Drops the TCP connection at once, without a WebSocket close handshake
  // (like a phone losing its network). Pending writes are discarded.
  void close();

  bool is_open() const;
  size_t queued_bytes() const;  // queued and not yet written, including the write in flight

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace preceptor::bench
