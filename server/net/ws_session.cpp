#include "server/net/ws_session.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket.hpp>

#include "common/log.h"

namespace preceptor::server {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

namespace {
// Application close code for "your token ended" (4000-4999 are ours).
constexpr uint16_t kCloseSessionEnded = 4001;
// Beast's WebSocket read granularity; frames are reassembled up to the limits.
constexpr size_t kReadChunk = 64 * 1024;
}  // namespace

WsSession::WsSession(ServerContext& ctx, beast::tcp_stream stream, std::string peer,
                     std::string client_address, std::shared_ptr<void> slot)
    : ctx_(ctx),
      slot_(std::move(slot)),
      ws_(std::move(stream)),
      peer_(std::move(peer)),
      gone_(std::make_shared<std::atomic<bool>>(false)),
      requests_(TokenRate::per_second(ctx.config.rate_per_second, ctx.config.rate_burst),
                ctx.monotonic_clock),
      auth_timer_(ws_.get_executor()),
      close_timer_(ws_.get_executor()),
      expiry_timer_(ws_.get_executor()),
      opened_at_(Clock::now()) {
  caller_.connection_id = ctx.next_connection_id.fetch_add(1);
  caller_.peer_address = std::move(client_address);
  caller_.gone = gone_;
}

WsSession::~WsSession() = default;

void WsSession::start(beast::http::request<beast::http::string_body> upgrade) {
  asio::co_spawn(ws_.get_executor(), run(shared_from_this(), std::move(upgrade)), asio::detached);
}

asio::awaitable<void> WsSession::run([[maybe_unused]] Self self,
                                     beast::http::request<beast::http::string_body> upgrade) {
  const auto& cfg = ctx_.config;
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = std::chrono::seconds(10);
  timeouts.idle_timeout = std::chrono::milliseconds(cfg.idle_timeout_ms);
  timeouts.keep_alive_pings = true;
  ws_.set_option(timeouts);
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(beast::http::field::server, "preceptor"); }));
  ws_.read_message_max(cfg.hard_frame_bytes);
  ws_.next_layer().set_limit(cfg.outbound_queue_bytes);
  ws_.binary(true);
  ws_.auto_fragment(false);

  boost::system::error_code ec;
  co_await ws_.async_accept(upgrade, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    log::info("ws_handshake_failed")
        .kv("conn", caller_.connection_id)
        .kv("peer", peer_)
        .kv("error", ec.message());
    co_return;
  }
  ctx_.add_session(caller_.connection_id, weak_from_this());
  ctx_.metrics.connections_open.fetch_add(1);
  ctx_.metrics.connections_total.fetch_add(1);
  log::info("conn_open")
      .kv("conn", caller_.connection_id)
      .kv("peer", peer_)
      .kv("client", caller_.peer_address);
  if (ctx_.draining.load()) shutdown();

  asio::co_spawn(ws_.get_executor(), auth_deadline(self), asio::detached);
  co_await read_loop();
  finish();
}

asio::awaitable<void> WsSession::auth_deadline([[maybe_unused]] Self self) {
  boost::system::error_code ec;
  auth_timer_.expires_after(std::chrono::milliseconds(ctx_.config.auth_timeout_ms));
  co_await auth_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (ec || caller_.session || closing_) co_return;
  ctx_.metrics.auth_timeout_disconnects_total.fetch_add(1);
  close(static_cast<uint16_t>(websocket::close_code::policy_error),
        "No Login or Authenticate within " +
            std::to_string(ctx_.config.auth_timeout_ms / 1000.0).substr(0, 4) + " s of connecting.");
}

asio::awaitable<void> WsSession::read_loop() {
  const size_t limit = ctx_.config.max_frame_bytes;
  boost::system::error_code ec;
  for (;;) {
    in_.clear();
    size_t total = 0;
    bool oversize = false;
    do {
      size_t n = co_await ws_.async_read_some(in_, kReadChunk, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        const bool normal = ec == websocket::error::closed || ec == asio::error::eof ||
                            ec == asio::error::operation_aborted || ec == beast::error::timeout ||
                            ec == asio::error::connection_reset;
        if (ec == websocket::error::message_too_big) ctx_.metrics.bad_frame_disconnects_total.fetch_add(1);
        if (ec == asio::error::no_buffer_space && !closing_) {
          // Beast's pong (or another control frame) did not fit: the client
          // sends pings but does not read.
          ctx_.metrics.slow_client_disconnects_total.fetch_add(1);
          log::warn("slow_client")
              .kv("conn", caller_.connection_id)
              .kv("user", caller_.session ? caller_.session->user.id() : 0)
              .kv("queued_bytes", static_cast<uint64_t>(ws_.next_layer().buffered_bytes()));
          close_reason_ = "The client is not reading: more than " +
                          std::to_string(ctx_.config.outbound_queue_bytes) +
                          " bytes (pongs) were waiting to be sent.";
          co_return;
        }
        if (!closing_)
          close_reason_ = normal ? "peer closed: " + ec.message() : "read error: " + ec.message();
        co_return;
      }
      total += n;
      if (total > limit) {
        oversize = true;
        in_.clear();  // keep reading the rest of the message, but drop it
      }
    } while (!ws_.is_message_done());
    handle_frame(ws_.got_text(), oversize, total);
  }
}

void WsSession::handle_frame(bool text, bool oversize, size_t size) {
  ++frames_in_;
  if (closing_) return;
  auto bad_frame = [&](const Status& st) {
    ctx_.metrics.frame_in(0);
    send_error(0, st);
    if (++bad_frames_ >= ctx_.config.max_bad_frames) {
      ctx_.metrics.bad_frame_disconnects_total.fetch_add(1);
      close(static_cast<uint16_t>(websocket::close_code::policy_error),
            "Too many frames that could not be read (" + std::to_string(bad_frames_) + "); closing.");
    }
  };
  if (oversize) {
    return bad_frame(Status(v1::ERROR_CODE_RESOURCE_EXHAUSTED,
                            "The frame was " + std::to_string(size) + " bytes; the limit is " +
                                std::to_string(ctx_.config.max_frame_bytes) +
                                " bytes. Send shorter messages; upload documents over HTTP.",
                            "", 0));
  }
  if (text) {
    return bad_frame(invalid_argument(
        "Preceptor expects binary WebSocket frames holding a protobuf ClientFrame; this was a text frame."));
  }
  v1::ClientFrame frame;
  if (!frame.ParseFromArray(in_.data().data(), static_cast<int>(in_.size()))) {
    return bad_frame(
        invalid_argument("The frame could not be decoded as a preceptor.v1.ClientFrame; check that the "
                         "client speaks protocol v1."));
  }
  in_.clear();
  ctx_.metrics.frame_in(frame.request_case());
  if (const TokenTake take = requests_.try_take(); !take) {
    ctx_.metrics.rate_limited_total.fetch_add(1, std::memory_order_relaxed);
    return send_error(
        frame.request_id(),
        resource_exhausted("Too many requests on this connection (limit " +
                               std::to_string(static_cast<int>(ctx_.config.rate_per_second)) +
                               " per second); retry after " + std::to_string(take.retry_after_ms) + " ms.",
                           take.retry_after_ms));
  }
  if (caller_.session && !session_still_valid(frame.request_id())) return;
  std::optional<api::Outcome> now = ctx_.router.dispatch(
      caller_, std::move(frame),
      [self = shared_from_this()](api::Outcome later) { self->post_outgoing(std::move(later)); });
  if (now) on_reply(std::move(*now));
}

bool WsSession::session_still_valid(uint64_t request_id) {
  Result<api::Session> fresh = ctx_.refresh_session(*caller_.session);
  if (!fresh) {
    // The token was revoked, signed out elsewhere, expired, or its user was
    // disabled: the request is refused and the connection ends.
    if (request_id != 0) send_error(request_id, fresh.status());
    end_now(fresh.status().message());
    return false;
  }
  caller_.session->idle_expires_at_ms = fresh->idle_expires_at_ms;
  caller_.session->expires_at_ms = fresh->expires_at_ms;
  return true;
}

void WsSession::arm_expiry_timer() {
  if (!caller_.session || closing_ || ctx_.clock == nullptr) return;
  int64_t at = caller_.session->expires_at_ms;
  if (caller_.session->idle_expires_at_ms > 0) at = std::min(at, caller_.session->idle_expires_at_ms);
  // Just past the moment, so the check sees the token expired; never a busy loop.
  const int64_t wait_ms = std::max<int64_t>(at - ctx_.clock->now_ms() + 5, 100);
  expiry_timer_.expires_after(std::chrono::milliseconds(wait_ms));
  expiry_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || self->closing_ || !self->caller_.session) return;
    if (self->session_still_valid(0)) self->arm_expiry_timer();
  });
}

void WsSession::send_error(uint64_t request_id, const Status& status) {
  ctx_.metrics.error(status.code());
  v1::ServerFrame frame;
  frame.mutable_reply()->set_request_id(request_id);
  status.to_proto(frame.mutable_reply()->mutable_error());
  send_frame(frame);
}

void WsSession::on_reply(api::Outcome reply) {
  bool just_attached = false;
  if (reply.response.has_error()) {
    ctx_.metrics.error(reply.response.error().code());
  } else {
    ctx_.metrics.frame_out(reply.response.result_case());
  }
  if (reply.signed_in && !closing_) {
    if (hub_registration_) ctx_.hub.detach(hub_registration_);
    hub_registration_ = 0;
    const size_t limit = ctx_.config.max_sessions_per_user;
    hub_registration_ = ctx_.hub.attach(reply.signed_in->user.id(), reply.signed_in->token_hash,
                                        weak_from_this(), caller_.connection_id, limit);
    if (hub_registration_ == 0) {
      // Over the per-user limit: the sign-in is not completed on this connection.
      ctx_.metrics.connections_refused_total.fetch_add(1, std::memory_order_relaxed);
      const Status full = resource_exhausted("You are signed in on " + std::to_string(limit) +
                                                 " connections already, the most one person may have; close "
                                                 "one (or sign out there) and try again.",
                                             60'000);
      log::warn("connection_refused")
          .kv("conn", caller_.connection_id)
          .kv("user", reply.signed_in->user.id())
          .kv("reason", "sessions per user");
      send_error(reply.response.request_id(), full);
      close(static_cast<uint16_t>(websocket::close_code::policy_error), full.message());
      return;
    }
    caller_.session = std::move(reply.signed_in);
    auth_timer_.cancel();
    just_attached = true;
    log::info("authenticated")
        .kv("conn", caller_.connection_id)
        .kv("user", caller_.session->user.id())
        .kv("device", caller_.session->device_name);
  }
  v1::ServerFrame frame;
  *frame.mutable_reply() = std::move(reply.response);
  send_frame(frame);
  if (reply.close_after) {
    log::info("signed_out")
        .kv("conn", caller_.connection_id)
        .kv("user", caller_.session ? caller_.session->user.id() : 0);
    close(static_cast<uint16_t>(websocket::close_code::normal), "Signed out.");
  }
  // A revocation or sign-out that committed between the check that made
  // this session and the attach above went to the hub before this
  // connection was on it: look once more, now that any later one finds it.
  if (just_attached && session_still_valid(0)) arm_expiry_timer();
}

void WsSession::send_frame(const v1::ServerFrame& frame) { enqueue(frame.SerializeAsString()); }

void WsSession::deliver(std::shared_ptr<const std::string> frame, int event_kind) {
  post_outgoing(EventOut{std::move(frame), event_kind});
}

void WsSession::post_outgoing(Outgoing item) {
  bool first;
  {
    std::lock_guard lock(mailbox_mu_);
    first = mailbox_.empty();
    mailbox_.push_back(std::move(item));
  }
  if (first) asio::post(ws_.get_executor(), [self = shared_from_this()] { self->drain_mailbox(); });
}

void WsSession::drain_mailbox() {
  std::vector<Outgoing> items;
  {
    std::lock_guard lock(mailbox_mu_);
    items.swap(mailbox_);
  }
  for (Outgoing& item : items) {
    if (auto* event = std::get_if<EventOut>(&item)) {
      ctx_.metrics.event_out(event->kind);
      enqueue(*event->frame);
    } else {
      on_reply(std::move(std::get<api::Outcome>(item)));
    }
  }
}

void WsSession::end_session(const std::string& reason) {
  asio::post(ws_.get_executor(), [self = shared_from_this(), reason]() { self->end_now(reason); });
}

void WsSession::end_now(const std::string& reason) {
  if (closing_) return;
  v1::ServerFrame frame;
  frame.mutable_event()->mutable_session_ended()->set_reason(reason);
  ctx_.metrics.event_out(v1::Event::kSessionEnded);
  send_frame(frame);
  log::info("session_ended").kv("conn", caller_.connection_id).kv("reason", reason);
  close(kCloseSessionEnded, reason);
}

void WsSession::shutdown() {
  asio::post(ws_.get_executor(), [self = shared_from_this()]() {
    self->close(static_cast<uint16_t>(websocket::close_code::going_away),
                "The server is restarting; reconnect shortly.");
  });
}

void WsSession::force_close() {
  asio::post(ws_.get_executor(), [self = shared_from_this()]() {
    boost::system::error_code ec;
    beast::get_lowest_layer(self->ws_).socket().close(ec);
  });
}

void WsSession::enqueue(std::string_view bytes) {
  if (closing_) return;
  CorkedStream& out = ws_.next_layer();
  if (out.buffered_bytes() + bytes.size() > ctx_.config.outbound_queue_bytes) {
    ctx_.metrics.slow_client_disconnects_total.fetch_add(1);
    log::warn("slow_client")
        .kv("conn", caller_.connection_id)
        .kv("user", caller_.session ? caller_.session->user.id() : 0)
        .kv("queued_bytes", static_cast<uint64_t>(out.buffered_bytes()));
    // Drop what it has not read; the write in flight (if any) stays.
    out.drop_pending();
    close(static_cast<uint16_t>(websocket::close_code::policy_error),
          "The client is not reading: more than " + std::to_string(ctx_.config.outbound_queue_bytes) +
              " bytes were waiting to be sent.");
    return;
  }
  out.append_binary_message(bytes);
}

void WsSession::close(uint16_t code, std::string reason) {
  if (closing_) return;
  closing_ = true;
  gone_->store(true);
  close_code_ = code;
  close_reason_ = std::move(reason);
  if (hub_registration_) {
    ctx_.hub.detach(hub_registration_);
    hub_registration_ = 0;
  }
  auth_timer_.cancel();
  expiry_timer_.cancel();
  // A peer that neither reads nor answers the close loses its TCP connection.
  close_timer_.expires_after(std::chrono::seconds(3));
  close_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec) return;
    boost::system::error_code ignored;
    beast::get_lowest_layer(self->ws_).socket().close(ignored);
  });
  // The close frame goes out after everything already queued (e.g. the Logout reply).
  asio::co_spawn(ws_.get_executor(), close_op(shared_from_this(), close_code_, close_reason_),
                 asio::detached);
}

asio::awaitable<void> WsSession::close_op([[maybe_unused]] Self self, uint16_t code, std::string reason) {
  boost::system::error_code ec;
  websocket::close_reason cr;
  cr.code = code;
  cr.reason = reason.substr(0, 120);  // a close reason must fit in 123 bytes
  co_await ws_.async_close(cr, asio::redirect_error(asio::use_awaitable, ec));
}

void WsSession::finish() {
  gone_->store(true);
  if (hub_registration_) {
    ctx_.hub.detach(hub_registration_);
    hub_registration_ = 0;
  }
  boost::system::error_code ec;
  auth_timer_.cancel();
  close_timer_.cancel();
  expiry_timer_.cancel();
  beast::get_lowest_layer(ws_).socket().close(ec);
  ctx_.remove_session(caller_.connection_id);
  ctx_.metrics.connections_open.fetch_sub(1);
  const double seconds = std::chrono::duration<double>(Clock::now() - opened_at_).count();
  log::info("conn_close")
      .kv("conn", caller_.connection_id)
      .kv("user", caller_.session ? caller_.session->user.id() : 0)
      .kv("frames_in", frames_in_)
      .kv("seconds", seconds)
      .kv("code", static_cast<int>(close_code_))
      .kv("reason", close_reason_);
}

}  // namespace preceptor::server
