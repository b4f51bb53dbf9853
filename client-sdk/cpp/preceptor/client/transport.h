#pragma once

// Internal to the SDK: one WebSocket connection, with Beast kept out of this
// header so that only ws_transport.cpp pays for compiling it.

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "preceptor/client/server_url.h"

namespace preceptor::client {

using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;

// How a connection ended.
struct TransportClosed {
  bool opened = false;      // the WebSocket handshake had completed
  uint16_t close_code = 0;  // the server's WebSocket close code, 0 when the TCP connection just ended
  std::string reason;       // a sentence for a person: the close reason or the network error
};

// What a connection reports, always on its strand. on_closed comes exactly
// once, last; on_open at most once before it.
struct TransportHandlers {
  std::function<void()> on_open;
  std::function<void(std::string bytes)> on_message;  // one binary WebSocket message
  std::function<void(TransportClosed)> on_closed;
};

struct TransportOptions {
  std::chrono::milliseconds connect_timeout{10'000};    // TCP connect
  std::chrono::milliseconds handshake_timeout{10'000};  // WebSocket opening and closing handshakes
  // No traffic for this long closes the connection; a WebSocket ping goes
  // out at half of it, so a live but quiet server is never dropped.
  std::chrono::milliseconds idle_timeout{40'000};
  size_t max_message_bytes = 16u << 20;  // a larger incoming message closes the connection
};

// One WebSocket connection to `ws://host:port/path`: resolve, connect,
// handshake, then read until it ends. Binary messages only; one write in
// flight, the rest queued in order.
//
// Every method must be called on the strand given to make_ws_transport, and
// every handler runs there. The object keeps itself alive until on_closed has
// been delivered, so the owner may drop its pointer at any time.
class Transport {
 public:
  virtual ~Transport() = default;

  virtual void start() = 0;
  // Queues one binary message. Ignored unless open and not closing.
  virtual void send(std::string bytes) = 0;
  // WebSocket close (code 1000); on_closed follows when the server answers.
  virtual void close() = 0;
  // Drops the TCP connection at once, without a WebSocket close.
  virtual void abort() = 0;
  // Drops the TCP connection as soon as every queued message has been handed
  // to the kernel (at once when nothing is queued); messages that arrive
  // meanwhile are ignored. For tests that need a request to reach the server
  // but its reply to be lost.
  virtual void abort_after_writes() = 0;
};

std::shared_ptr<Transport> make_ws_transport(Strand strand, ServerAddress address, TransportOptions options,
                                             TransportHandlers handlers);

}  // namespace preceptor::client
