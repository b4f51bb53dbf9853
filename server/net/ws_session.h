#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include "common/token_bucket.h"
#include "server/api/router.h"
#include "server/hub/hub.h"
#include "server/net/context.h"
#include "server/net/corked_stream.h"

namespace preceptor::server {

// One WebSocket connection on /v1/ws. Everything it owns is touched only on
// its strand (the executor of its socket); deliver() and end_session() may be
// called from any thread and post there.
//
// Reads frames one at a time and hands each to the router, which answers
// at once or later (replies may overtake each other). Outbound frames are
// appended to the CorkedStream, which gathers everything queued on the
// strand into one socket write. A client that lets the unsent bytes pass
// outbound_queue_bytes is closed (1008) — it is not reading.
class WsSession final : public hub::SessionSink, public std::enable_shared_from_this<WsSession> {
 public:
  // `peer`: the TCP peer as ip:port, for logs; `client_address`: the
  // client's IP address (see api::Caller::peer_address); `slot`: the
  // connection's place under the connection limits, held until the session
  // is gone.
  WsSession(ServerContext& ctx, boost::beast::tcp_stream stream, std::string peer, std::string client_address,
            std::shared_ptr<void> slot);
  ~WsSession() override;

  // Completes the upgrade and runs the session.
  void start(boost::beast::http::request<boost::beast::http::string_body> upgrade);

  void deliver(std::shared_ptr<const std::string> frame, int event_kind) override;
  void end_session(const std::string& reason) override;
  // Server draining: close with 1001 "going away".
  void shutdown();
  // Last resort at the end of draining: drop the TCP connection.
  void force_close();

  uint64_t id() const { return caller_.connection_id; }

 private:
  using Clock = std::chrono::steady_clock;

  // Member coroutines take `self` so the session outlives their first suspension.
  using Self = std::shared_ptr<WsSession>;
  boost::asio::awaitable<void> run(Self self,
                                   boost::beast::http::request<boost::beast::http::string_body> upgrade);
  boost::asio::awaitable<void> read_loop();
  boost::asio::awaitable<void> close_op(Self self, uint16_t code, std::string reason);
  boost::asio::awaitable<void> auth_deadline(Self self);

  void handle_frame(bool text, bool oversize, size_t size);
  // Re-checks the session (each request, after attaching, at its expiry);
  // false when it ended, after telling the client (SessionEnded, 4001).
  bool session_still_valid(uint64_t request_id);
  // Wakes the session when its token's idle or absolute expiry comes.
  void arm_expiry_timer();
  void end_now(const std::string& reason);
  void send_error(uint64_t request_id, const Status& status);
  void on_reply(api::Outcome reply);
  void send_frame(const v1::ServerFrame& frame);
  // From other threads (the committer's fan-out and completions): adds to
  // the mailbox and posts one drain per batch, not one handler per frame.
  struct EventOut {
    std::shared_ptr<const std::string> frame;
    int kind;
  };
  using Outgoing = std::variant<EventOut, api::Outcome>;
  void post_outgoing(Outgoing item);
  void drain_mailbox();
  void enqueue(std::string_view bytes);
  void close(uint16_t code, std::string reason);
  void finish();

  ServerContext& ctx_;
  std::shared_ptr<void> slot_;
  boost::beast::websocket::stream<CorkedStream> ws_;
  boost::beast::flat_buffer in_;
  api::Caller caller_;
  std::string peer_;                         // ip:port, for logs
  std::shared_ptr<std::atomic<bool>> gone_;  // caller_.gone; set when closing
  uint64_t hub_registration_ = 0;

  bool closing_ = false;
  uint16_t close_code_ = 0;
  std::string close_reason_;
  int bad_frames_ = 0;

  TokenBucket requests_;  // config.rate_per_second, up to config.rate_burst at once
  boost::asio::steady_timer auth_timer_;
  boost::asio::steady_timer close_timer_;
  boost::asio::steady_timer expiry_timer_;
  Clock::time_point opened_at_;
  uint64_t frames_in_ = 0;

  std::mutex mailbox_mu_;
  std::vector<Outgoing> mailbox_;  // guarded by mailbox_mu_; in arrival order
};

}  // namespace preceptor::server
