// The load generator's WebSocket client frames, masks, gathers and parses
// RFC 6455 itself; these tests hold it against Beast's server side over real
// loopback sockets: every length form, queued frames gathered into one
// write, a ping, a fragmented message and a close with a code.
#include "bench/preceptor_bench/ws_client.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <string>
#include <vector>

namespace preceptor::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

// Bytes that differ from one position to the next, so a wrong mask or a
// shifted frame boundary cannot go unnoticed.
std::string payload_of(size_t size, unsigned salt) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>((i * 131 + salt * 7 + (i >> 8)) & 0xFF);
  return s;
}

class WsClientTest : public ::testing::Test {
 protected:
  Endpoint endpoint() const {
    Endpoint e;
    e.port = acceptor_.local_endpoint().port();
    return e;
  }

  // Accepts one connection and completes Beast's server handshake.
  asio::awaitable<websocket::stream<tcp::socket>> accept() {
    websocket::stream<tcp::socket> ws(co_await acceptor_.async_accept(asio::use_awaitable));
    ws.read_message_max(1 << 20);
    co_await ws.async_accept(asio::use_awaitable);
    ws.binary(true);
    co_return ws;
  }

  void run() { io_.run_for(std::chrono::seconds(20)); }

  asio::io_context io_;
  tcp::acceptor acceptor_{io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
};

TEST_F(WsClientTest, MessagesOfEveryLengthFormQueuedAtOnceComeBackWholeAndInOrder) {
  // 7-bit, 16-bit and 64-bit length forms and their edges; all queued in one
  // go, so they leave in gathered writes.
  const std::vector<size_t> sizes = {0, 1, 125, 126, 127, 65535, 65536, 300000, 5, 126};
  std::vector<std::string> received;
  std::string closed_why;
  bool server_saw_every_message = false;

  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        auto ws = co_await accept();
        beast::flat_buffer buffer;
        for (size_t i = 0; i < sizes.size(); ++i) {
          co_await ws.async_read(buffer, asio::use_awaitable);
          co_await ws.async_write(buffer.data(), asio::use_awaitable);
          buffer.consume(buffer.size());
        }
        server_saw_every_message = true;
      },
      asio::detached);

  WsClient client(io_);
  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        co_await client.connect(endpoint());
        client.start_reading(
            [&](std::string_view bytes) {
              received.emplace_back(bytes);
              if (received.size() == sizes.size()) client.close();
            },
            [&](const std::string& why) { closed_why = why; });
        for (size_t i = 0; i < sizes.size(); ++i) client.send(payload_of(sizes[i], static_cast<unsigned>(i)));
        EXPECT_GT(client.queued_bytes(), 300000u) << "the frames should wait for one write in flight";
      },
      asio::detached);
  run();

  EXPECT_TRUE(server_saw_every_message);
  ASSERT_EQ(received.size(), sizes.size()) << closed_why;
  for (size_t i = 0; i < sizes.size(); ++i) {
    EXPECT_EQ(received[i], payload_of(sizes[i], static_cast<unsigned>(i)))
        << "message " << i << " of " << sizes[i] << " bytes";
  }
  EXPECT_EQ(closed_why, "") << "closing it ourselves is not reported";
}

TEST_F(WsClientTest, AnswersPingsJoinsFragmentsAndAnswersTheServersClose) {
  std::string pong_payload;
  std::string received;
  std::string closed_why;
  beast::error_code server_close = asio::error::operation_aborted;

  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        auto ws = co_await accept();
        ws.control_callback([&](websocket::frame_type kind, beast::string_view payload) {
          if (kind == websocket::frame_type::pong) pong_payload.assign(payload.data(), payload.size());
        });
        co_await ws.async_ping("are you there", asio::use_awaitable);
        // One message in two frames.
        co_await ws.async_write_some(false, asio::buffer(std::string_view("first half, ")),
                                     asio::use_awaitable);
        co_await ws.async_write_some(true, asio::buffer(std::string_view("second half")),
                                     asio::use_awaitable);
        // The client answers the message; reading it also reads the pong before it.
        beast::flat_buffer buffer;
        co_await ws.async_read(buffer, asio::use_awaitable);
        // Completes only when the client's answering close frame arrives.
        co_await ws.async_close(websocket::close_reason(websocket::close_code::policy_error, "too slow"),
                                asio::redirect_error(asio::use_awaitable, server_close));
      },
      asio::detached);

  WsClient client(io_);
  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        co_await client.connect(endpoint());
        client.start_reading(
            [&](std::string_view bytes) {
              received.assign(bytes);
              client.send("got it");
            },
            [&](const std::string& why) { closed_why = why; });
      },
      asio::detached);
  run();

  EXPECT_EQ(pong_payload, "are you there");
  EXPECT_EQ(received, "first half, second half");
  EXPECT_EQ(closed_why, "closed by the server (code 1008 too slow)");
  EXPECT_FALSE(server_close) << "the server's close handshake did not complete: " << server_close.message();
  EXPECT_FALSE(client.is_open());
}

TEST_F(WsClientTest, ARefusedUpgradeThrowsWithTheServersStatusLine) {
  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        tcp::socket sock = co_await acceptor_.async_accept(asio::use_awaitable);
        char request[2048];
        (void)co_await sock.async_read_some(asio::buffer(request), asio::use_awaitable);
        const std::string_view reply = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
        co_await asio::async_write(sock, asio::buffer(reply), asio::use_awaitable);
      },
      asio::detached);

  std::string error;
  WsClient client(io_);
  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        try {
          co_await client.connect(endpoint());
        } catch (const std::exception& e) {
          error = e.what();
        }
      },
      asio::detached);
  run();

  EXPECT_EQ(error, "upgrade refused: HTTP/1.1 403 Forbidden");
  EXPECT_FALSE(client.is_open());
}

}  // namespace
}  // namespace preceptor::bench
