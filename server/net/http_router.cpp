#include "server/net/http_router.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <cassert>
#include <limits>
#include <memory>
#include <optional>

#include "common/log.h"
#include "server/net/origin.h"
#include "server/net/ws_session.h"

// GCC 12 warns falsely where one Asio coroutine of this file calls another
// that it inlines: it sees the frame's operator new and operator delete
// (Asio's recycling allocator) both inlined and cannot pair them.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace preceptor::server {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

using Parser = http::request_parser<http::buffer_body>;

constexpr auto kIoTimeout = std::chrono::seconds(30);  // per read or write of a header or a piece of body
// A handler that has not answered by then gets a 500 for it; the answer is a
// durable write or a lookup, not a long poll.
constexpr auto kAnswerTimeout = std::chrono::minutes(2);
// After refusing a body that is still arriving: how long, and how much, to
// keep reading (and dropping) so the client gets to read the refusal before
// the connection closes (closing with unread input resets it).
constexpr auto kLingerTimeout = std::chrono::seconds(2);
constexpr uint64_t kLingerBytes = 4u << 20;

constexpr size_t kChunk = api::kHttpChunkBytes;

// --------------------------------------------------- the WebSocket upgrade path

using UpgradeResponse = http::response<http::string_body>;
using Request = http::request<http::buffer_body>;

UpgradeResponse text_response(const Request& req, http::status status, std::string body) {
  UpgradeResponse res{status, req.version()};
  res.set(http::field::server, "preceptor");
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

bool origin_allowed(const NetConfig& config, const Request& req) {
  auto it = req.find(http::field::origin);
  if (it == req.end()) return true;  // not a browser: apps and the CLI send no Origin
  std::optional<std::string_view> host;
  // One Host only (Beast keeps duplicates): with two, which one the browser meant is unclear.
  if (req.count(http::field::host) == 1) {
    const auto value = req[http::field::host];
    host = std::string_view(value.data(), value.size());
  }
  return browser_origin_allowed(config.allowed_origins,
                                std::string_view(it->value().data(), it->value().size()), host);
}

std::string peer_of(const asio::ip::tcp::socket& socket) {
  boost::system::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  if (ec) return "unknown";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

// An IPv4-mapped IPv6 address (a dual-stack socket's IPv4 client) as IPv4.
asio::ip::address unmapped(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  return address;
}

// Who the client is, for per-address limits: the TCP peer's IP address
// (never its port: a new connection is the same client); behind a trusted
// proxy, the last address of config.trusted_proxy_header, which that proxy
// appended. A header that does not end in an IP address counts as the
// proxy itself (so a broken proxy shares one limit instead of escaping it).
std::string client_address(const NetConfig& config, const asio::ip::tcp::socket& socket, const Request& req) {
  boost::system::error_code ec;
  const auto ep = socket.remote_endpoint(ec);
  if (ec) return "unknown";
  const asio::ip::address peer = unmapped(ep.address());
  if (config.trusted_proxy_header.empty()) return peer.to_string();
  const bool trusted = std::any_of(config.trusted_proxies.begin(), config.trusted_proxies.end(),
                                   [&](const std::string& proxy) {
                                     boost::system::error_code parse_ec;
                                     const auto address = asio::ip::make_address(proxy, parse_ec);
                                     return !parse_ec && unmapped(address) == peer;
                                   });
  if (!trusted) return peer.to_string();
  // The last line of the header, if it came more than once, then its last item.
  std::string_view last_line;
  for (auto range = req.equal_range(config.trusted_proxy_header); range.first != range.second; ++range.first)
    last_line = std::string_view(range.first->value().data(), range.first->value().size());
  const size_t comma = last_line.rfind(',');
  std::string_view item = comma == std::string_view::npos ? last_line : last_line.substr(comma + 1);
  while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
  while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
  const auto client = asio::ip::make_address(std::string(item), ec);
  if (ec) {
    log::warn("proxy_header_unusable")
        .kv("peer", peer.to_string())
        .kv("header", config.trusted_proxy_header)
        .kv("value", std::string(last_line.substr(0, 200)));
    return peer.to_string();
  }
  return unmapped(client).to_string();
}

// ------------------------------------------------------------ one HTTP request

// What becomes of the connection after a response.
enum class After {
  kKeepAlive,      // read the next request
  kClose,          // close now
  kDrainAndClose,  // the client may still be sending a body we did not read: linger, then close
};

// The one buffer a connection uses to move bodies, allocated on first use.
class Scratch {
 public:
  char* get() {
    if (!bytes_) bytes_ = std::make_unique<char[]>(kChunk);
    return bytes_.get();
  }

 private:
  std::unique_ptr<char[]> bytes_;
};

// Facts about the request that shape every answer to it.
struct Exchange {
  unsigned version = 11;
  bool head = false;
  bool keep_alive = true;  // the client's wish
};

api::HttpRequest to_api_request(Parser& parser, const std::string& peer) {
  const auto& req = parser.get();
  api::HttpRequest r;
  r.method = std::string(req.method_string());
  const std::string_view target = req.target();
  const size_t question = target.find('?');
  r.path = std::string(target.substr(0, question));
  if (question != std::string_view::npos) r.query = std::string(target.substr(question + 1));
  for (const auto& field : req) r.headers.add(field.name_string(), std::string(field.value()));
  r.peer_address = peer;
  if (parser.chunked()) {
    r.content_length = std::nullopt;
  } else {
    r.content_length = parser.content_length().value_or(0);
  }
  return r;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The token of `Authorization: Bearer <token>`; empty when there is none.
std::string_view bearer_token(const api::HttpHeaders& headers) {
  auto value = headers.get("Authorization");
  if (!value) return {};
  const std::string_view v = trim(*value);
  constexpr std::string_view kScheme = "Bearer ";
  if (v.size() <= kScheme.size() || !api::equals_ignoring_case(v.substr(0, kScheme.size()), kScheme))
    return {};
  return trim(v.substr(kScheme.size()));
}

Status body_too_large(uint64_t limit, std::optional<uint64_t> size) {
  const std::string accepts = "this address accepts at most " + std::to_string(limit) + " bytes.";
  return Status(v1::ERROR_CODE_RESOURCE_EXHAUSTED,
                size ? "The request body is " + std::to_string(*size) + " bytes; " + accepts
                     : "The request body is larger than " + std::to_string(limit) + " bytes; " + accepts);
}

// The request was not valid HTTP (as opposed to the connection ending).
bool is_parse_error(const boost::system::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

// Writes `res`: the header, then its string body or its source, a piece at a
// time. False when the connection can carry nothing more (a write failed, or
// a source failed or ended early, leaving the client a short body).
asio::awaitable<bool> write_response(beast::tcp_stream& stream, api::HttpResponse res, const Exchange& ex,
                                     bool keep_alive, Scratch& scratch) {
  const bool bodiless_status = res.status / 100 == 1 || res.status == 204 || res.status == 304;
  const bool send_body = !ex.head && !bodiless_status;

  if (res.status < 100 || res.status > 599) {
    log::error("http_bad_status").kv("status", res.status);
    res = api::http_error(internal_error("The server made an invalid answer (HTTP status out of range)."));
  }
  http::response<http::buffer_body> msg;
  msg.version(ex.version);
  msg.result(static_cast<unsigned>(res.status));
  for (const auto& [name, value] : res.headers.fields()) {
    if (api::equals_ignoring_case(name, "Content-Length") ||
        api::equals_ignoring_case(name, "Transfer-Encoding") ||
        api::equals_ignoring_case(name, "Connection")) {
      continue;  // ours to set
    }
    msg.insert(name, value);
  }
  if (msg.find(http::field::server) == msg.end()) msg.set(http::field::server, "preceptor");
  if (msg.find(http::field::cache_control) == msg.end()) msg.set(http::field::cache_control, "no-store");
  msg.set("X-Content-Type-Options", "nosniff");
  msg.keep_alive(keep_alive);

  const std::optional<uint64_t> length =
      res.source ? res.source_length : std::optional<uint64_t>(res.body.size());
  if (!bodiless_status) {
    if (length) {
      msg.content_length(*length);
    } else if (!ex.head) {
      msg.chunked(true);
    }
  }

  http::response_serializer<http::buffer_body> sr{msg};
  boost::system::error_code ec;
  if (!send_body || !res.source) {
    msg.body().data = send_body && !res.body.empty() ? res.body.data() : nullptr;
    msg.body().size = send_body ? res.body.size() : 0;
    msg.body().more = false;
    stream.expires_after(kIoTimeout);
    co_await http::async_write(stream, sr, asio::redirect_error(asio::use_awaitable, ec));
    co_return !ec;
  }

  stream.expires_after(kIoTimeout);
  co_await http::async_write_header(stream, sr, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return false;
  uint64_t left = length.value_or(UINT64_MAX);
  char* buf = scratch.get();
  for (;;) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, left));
    size_t n = 0;
    if (want > 0) {
      auto got = res.source->read(buf, want);
      if (!got) {
        log::warn("http_body_source_failed").kv("status", res.status).kv("error", got.status().to_string());
        co_return false;
      }
      n = std::min(*got, want);
      if (n == 0 && length) {
        log::warn("http_body_source_short").kv("status", res.status).kv("missing", left);
        co_return false;
      }
    }
    if (length) left -= n;
    if (n > 0) {
      msg.body().data = buf;
      msg.body().size = n;
      msg.body().more = true;
      stream.expires_after(kIoTimeout);
      co_await http::async_write(stream, sr, asio::redirect_error(asio::use_awaitable, ec));
      if (ec == http::error::need_buffer) ec = {};
      if (ec) co_return false;
    }
    if (n == 0 || left == 0) {
      msg.body().data = nullptr;
      msg.body().size = 0;
      msg.body().more = false;
      stream.expires_after(kIoTimeout);
      co_await http::async_write(stream, sr, asio::redirect_error(asio::use_awaitable, ec));
      co_return !ec;
    }
  }
}

// Sends the answer; `body_unread` when the request body was not read to its
// end (the connection cannot carry another request then).
asio::awaitable<After> answer(beast::tcp_stream& stream, api::HttpResponse res, const Exchange& ex,
                              bool body_unread, Scratch& scratch, bool force_close = false) {
  const bool keep_alive = ex.keep_alive && !body_unread && !force_close;
  if (res.status >= 500) log::warn("http_server_error").kv("status", res.status).kv("body", res.body);
  const bool ok = co_await write_response(stream, std::move(res), ex, keep_alive, scratch);
  if (!ok) co_return After::kClose;
  if (keep_alive) co_return After::kKeepAlive;
  co_return body_unread ? After::kDrainAndClose : After::kClose;
}

// The answer a handler gives later, from any thread: deliver() posts it to
// the connection's strand, where wait() picks it up.
class PendingAnswer : public std::enable_shared_from_this<PendingAnswer> {
 public:
  explicit PendingAnswer(const beast::tcp_stream::executor_type& strand) : timer_(strand) {}

  // Any thread. Only the first call counts.
  void deliver(api::HttpResponse res) {
    if (delivered_.exchange(true)) {
      log::warn("http_answered_twice").kv("status", res.status);
      return;
    }
    auto held = std::make_shared<api::HttpResponse>(std::move(res));
    asio::post(timer_.get_executor(), [self = shared_from_this(), held] {
      if (self->abandoned_) return;
      self->answer_ = std::move(*held);
      self->timer_.cancel();
    });
  }

  // On the strand. nullopt when no answer came within kAnswerTimeout.
  asio::awaitable<std::optional<api::HttpResponse>> wait() {
    boost::system::error_code ec;
    timer_.expires_after(kAnswerTimeout);
    if (!answer_) co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (!answer_) abandoned_ = true;
    co_return std::move(answer_);
  }

 private:
  asio::steady_timer timer_;
  std::atomic<bool> delivered_{false};
  bool abandoned_ = false;                   // strand only
  std::optional<api::HttpResponse> answer_;  // strand only
};

// A sink's go-ahead to read on (HttpBodySink::wait_before_next): resume()
// may come from any thread, before or after wait() starts; it posts to the
// connection's strand, where wait() picks it up.
class ResumeGate : public std::enable_shared_from_this<ResumeGate> {
 public:
  explicit ResumeGate(const beast::tcp_stream::executor_type& strand) : timer_(strand) {}

  // Any thread. Only the first call counts.
  void resume() {
    if (resumed_.exchange(true)) return;
    asio::post(timer_.get_executor(), [self = shared_from_this()] {
      self->open_ = true;
      self->timer_.cancel();
    });
  }

  // On the strand. False when no resume() came within kHttpSinkWaitMs.
  asio::awaitable<bool> wait() {
    boost::system::error_code ec;
    timer_.expires_after(std::chrono::milliseconds(api::kHttpSinkWaitMs));
    if (!open_) co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    co_return open_;
  }

 private:
  asio::steady_timer timer_;
  std::atomic<bool> resumed_{false};
  bool open_ = false;  // strand only
};

bool expects_continue(const api::HttpHeaders& headers) {
  auto expect = headers.get("Expect");
  return expect && api::equals_ignoring_case(trim(*expect), "100-continue");
}

// What happens to a request once its header is in: an answer now (no route,
// no sign-in, a body over the limit, or the handler answered), or a sink
// that takes the body. Plain code, so the coroutine below only moves bytes.
struct Decision {
  std::optional<api::HttpResponse> now;
  std::unique_ptr<api::HttpBodySink> sink;
  uint64_t max_body_bytes = 0;
};

Decision decide(ServerContext& ctx, api::HttpRequest& request) {
  Decision d;
  api::HttpRoutes::Match match = ctx.http_routes->match(request.method, request.path);
  if (!match.route) {
    d.now = std::move(match.refusal);
    return d;
  }
  const api::HttpRoute& route = *match.route;
  d.max_body_bytes = route.max_body_bytes;

  if (route.access == api::HttpAccess::kSignedIn) {
    const std::string_view token = bearer_token(request.headers);
    if (token.empty()) {
      d.now = api::http_error(
          unauthenticated("Sign in first: send the token from Login as `Authorization: Bearer <token>`."));
      return d;
    }
    auto session = ctx.authenticate(token);
    if (!session) {
      const Status refused = session.status();
      d.now = refused.code() == v1::ERROR_CODE_UNAUTHENTICATED ? api::http_error(401, refused)
                                                               : api::http_error(refused);
      return d;
    }
    request.session = std::move(session.value());
  }

  if (request.content_length && *request.content_length > route.max_body_bytes) {
    d.now = api::http_error(413, body_too_large(route.max_body_bytes, request.content_length));
    return d;
  }

  api::HttpHandlerResult handled = route.handler(request);
  if (auto* now = std::get_if<api::HttpResponse>(&handled)) {
    d.now = std::move(*now);
  } else if (auto& sink = std::get<std::unique_ptr<api::HttpBodySink>>(handled)) {
    d.sink = std::move(sink);
  } else {
    d.now = api::http_error(internal_error("The handler for " + request.path + " gave no answer."));
  }
  return d;
}

// Responses are built into named variables before each co_await: GCC 12
// destroys twice a temporary made in a ?: inside a co_await expression
// (ASan: double free), so none is made there.
asio::awaitable<After> serve_request(ServerContext& ctx, beast::tcp_stream& stream,
                                     beast::flat_buffer& buffer, Parser& parser, const std::string& peer,
                                     Scratch& scratch) {
  auto& req = parser.get();
  Exchange ex;
  ex.version = req.version();
  ex.head = req.method() == http::verb::head;
  ex.keep_alive = req.keep_alive();
  const bool has_body = !parser.is_done();
  api::HttpRequest request = to_api_request(parser, peer);

  Decision decision = decide(ctx, request);
  if (decision.now) {
    api::HttpResponse res = std::move(*decision.now);
    co_return co_await answer(stream, std::move(res), ex, has_body, scratch);
  }
  std::unique_ptr<api::HttpBodySink> sink = std::move(decision.sink);
  const uint64_t limit = decision.max_body_bytes;
  parser.body_limit(limit);  // a chunked body is also checked chunk by chunk

  boost::system::error_code ec;
  if (has_body && expects_continue(request.headers)) {
    http::response<http::empty_body> go_on{http::status::continue_, ex.version};
    stream.expires_after(kIoTimeout);
    co_await http::async_write(stream, go_on, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      sink->on_abort(unavailable("The connection ended before the request body was sent."));
      co_return After::kClose;
    }
  }

  // Beast reads what fits in the buffer's free room, 512 bytes at least:
  // with the room left after a header, a body came in 512 bytes per read
  // (measured: 25 646 reads of 512 bytes during 4 uploads of 25 MiB, the
  // network thread's time going into the reads). Room for a whole piece
  // while a body comes in; given back once the request is over.
  struct Room {
    beast::flat_buffer& buffer;
    ~Room() { buffer.shrink_to_fit(); }
  } room{buffer};
  if (has_body) buffer.reserve(buffer.size() + kChunk);

  uint64_t received = 0;
  while (!parser.is_done()) {
    char* buf = scratch.get();
    req.body().data = buf;
    req.body().size = kChunk;
    stream.expires_after(kIoTimeout);
    co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == http::error::need_buffer) ec = {};
    const size_t n = kChunk - req.body().size;
    received += n;
    if (ec == http::error::body_limit || received > limit) {
      const Status too_large = body_too_large(limit, request.content_length);
      sink->on_abort(too_large);
      api::HttpResponse res = api::http_error(413, too_large);
      co_return co_await answer(stream, std::move(res), ex, true, scratch);
    }
    if (ec) {
      // The bytes that arrived with the end (a connection that dropped in
      // the middle of the body) are the body's too: the sink keeps them.
      if (n > 0) sink->on_chunk(std::string_view(buf, n)).ignore_error();  // on_abort follows anyway
      sink->on_abort(unavailable("The request body did not arrive whole (" + ec.message() + ")."));
      if (!is_parse_error(ec)) co_return After::kClose;
      api::HttpResponse res =
          api::http_error(invalid_argument("The request body is malformed: " + ec.message() + "."));
      co_return co_await answer(stream, std::move(res), ex, true, scratch);
    }
    if (n == 0) continue;
    if (Status taken = sink->on_chunk(std::string_view(buf, n)); !taken) {
      api::HttpResponse res = sink->refusal(taken);
      sink->on_abort(taken);
      const bool unread = !parser.is_done();
      co_return co_await answer(stream, std::move(res), ex, unread, scratch, true);
    }
    // Back-pressure: read the next piece only once the sink can take it.
    auto gate = std::make_shared<ResumeGate>(stream.get_executor());
    bool go_on = true;
    if (sink->wait_before_next([gate] { gate->resume(); })) go_on = co_await gate->wait();
    if (!go_on) {
      const Status stuck = unavailable(
          "The server could not store the upload fast enough and gave up on it; send the rest again later.");
      log::warn("http_sink_stuck").kv("method", request.method).kv("path", request.path);
      sink->on_abort(stuck);
      api::HttpResponse res = api::http_error(stuck);
      const bool unread = !parser.is_done();
      co_return co_await answer(stream, std::move(res), ex, unread, scratch, true);
    }
  }

  auto pending = std::make_shared<PendingAnswer>(stream.get_executor());
  sink->on_end([pending](api::HttpResponse res) { pending->deliver(std::move(res)); });
  sink.reset();
  std::optional<api::HttpResponse> res = co_await pending->wait();
  if (!res) {
    log::error("http_no_answer").kv("method", request.method).kv("path", request.path);
    api::HttpResponse late = api::http_error(internal_error(
        "The server did not answer in time; try again, and tell the operator if it keeps happening."));
    co_return co_await answer(stream, std::move(late), ex, false, scratch, true);
  }
  api::HttpResponse answered = std::move(*res);
  co_return co_await answer(stream, std::move(answered), ex, false, scratch);
}

// Reads and drops what the client still sends, for a little while, so that
// it can read our answer before the connection closes.
asio::awaitable<void> linger(beast::tcp_stream& stream, Scratch& scratch) {
  boost::system::error_code ec;
  uint64_t dropped = 0;
  stream.expires_after(kLingerTimeout);
  while (!ec && dropped < kLingerBytes) {
    dropped += co_await stream.async_read_some(asio::buffer(scratch.get(), kChunk),
                                               asio::redirect_error(asio::use_awaitable, ec));
  }
}

bool is_loopback(const asio::ip::address& a) {
  if (a.is_loopback()) return true;
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).is_loopback();
  }
  return false;
}

// Compares in time that depends only on the lengths.
bool same_secret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

// The operators' routes (/readyz, /metrics): a loopback client, or anyone
// with the ops token. Everything else is refused with 403 and a sentence.
api::HttpHandler for_operators(const ServerContext& ctx, api::HttpHandler handler) {
  return [&ctx, handler = std::move(handler)](const api::HttpRequest& req) -> api::HttpHandlerResult {
    boost::system::error_code bad_address;
    const asio::ip::address peer = asio::ip::make_address(address_part(req.peer_address), bad_address);
    bool allowed = !bad_address && is_loopback(peer);
    if (!allowed && !ctx.config.ops_token.empty()) {
      const std::optional<std::string_view> auth = req.headers.get("Authorization");
      allowed = auth && same_secret(*auth, "Bearer " + ctx.config.ops_token);
    }
    if (!allowed) {
      return api::http_error(
          403, permission_denied("This page is for the server's operators: it answers on the server's own "
                                 "machine (loopback), or with the bearer token set by --ops-token."));
    }
    return handler(req);
  };
}

api::HttpRoute platform_get(std::string path, api::HttpHandler handler) {
  api::HttpRoute route;
  route.method = "GET";
  route.path = std::move(path);
  route.access = api::HttpAccess::kAnyone;
  route.handler = std::move(handler);
  return route;
}

}  // namespace

asio::awaitable<void> serve_http(ServerContext& ctx, asio::ip::tcp::socket socket) {
  assert(ctx.http_routes != nullptr && ctx.authenticate && "set by Server::start");
  const std::string peer = peer_of(socket);
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  Scratch scratch;
  boost::system::error_code ec;
  After after = After::kClose;
  std::string refusal_reason;
  std::shared_ptr<void> slot = ctx.connections.admit(address_part(peer), refusal_reason);
  if (!slot) {
    ctx.metrics.connections_refused_total.fetch_add(1, std::memory_order_relaxed);
    log::warn("connection_refused").kv("peer", peer).kv("reason", refusal_reason);
    api::HttpResponse refusal = api::http_error(503, unavailable(refusal_reason));
    refusal.headers.set("Retry-After", "60");
    stream.expires_after(kLingerTimeout);
    co_await answer(stream, std::move(refusal), Exchange{}, true, scratch);
    co_return;
  }
  for (;;) {
    Parser parser;
    parser.header_limit(16 * 1024);
    // The route's limit applies once the route is known. (Not boost::none:
    // Beast 1.74 then refuses every Content-Length above 0.)
    parser.body_limit(std::numeric_limits<uint64_t>::max());
    // The whole request head, on a new connection and between keep-alive
    // requests: a client that dawdles holds a connection this long at most.
    stream.expires_after(std::chrono::milliseconds(ctx.config.http_header_timeout_ms));
    co_await http::async_read_header(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (is_parse_error(ec)) {  // say why before closing; otherwise closed or timed out: nothing to say
        const bool too_big = ec == http::error::header_limit;
        api::HttpResponse refusal = api::http_error(
            too_big ? 431 : 400,
            invalid_argument(too_big ? "The request header is larger than 16 KiB."
                                     : "The request could not be read as HTTP/1.1 (" + ec.message() + ")."));
        const Exchange ex;
        after = co_await answer(stream, std::move(refusal), ex, true, scratch);
      }
      break;
    }
    ctx.metrics.http_requests_total.fetch_add(1, std::memory_order_relaxed);
    auto& req = parser.get();

    if (beast::websocket::is_upgrade(req)) {
      const std::string_view target(req.target().data(), req.target().size());
      UpgradeResponse refusal;
      bool refused = true;
      if (target.substr(0, target.find('?')) != "/v1/ws") {
        refusal =
            text_response(req, http::status::not_found, "WebSocket upgrades are served on /v1/ws only.\n");
      } else if (!origin_allowed(ctx.config, req)) {
        log::warn("origin_refused").kv("peer", peer).kv("origin", std::string(req[http::field::origin]));
        refusal =
            text_response(req, http::status::forbidden,
                          "This Origin may not open a Preceptor WebSocket: it is neither this server's own "
                          "address nor in --allowed-origins; ask the operator to add it there.\n");
      } else if (ctx.draining.load()) {
        refusal = text_response(req, http::status::service_unavailable, "The server is shutting down.\n");
      } else {
        refused = false;
      }
      if (refused) {
        refusal.keep_alive(false);
        co_await http::async_write(stream, refusal, asio::redirect_error(asio::use_awaitable, ec));
        break;
      }
      stream.expires_never();
      const std::string client = client_address(ctx.config, stream.socket(), req);
      http::request<http::string_body> upgrade(std::move(req.base()));
      auto session = std::make_shared<WsSession>(ctx, std::move(stream), peer, client, std::move(slot));
      session->start(std::move(upgrade));
      co_return;
    }

    after = co_await serve_request(ctx, stream, buffer, parser, peer, scratch);
    if (after != After::kKeepAlive) break;
  }
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  if (after == After::kDrainAndClose) co_await linger(stream, scratch);
}

Status add_platform_http_routes(ServerContext& ctx, api::HttpRoutes& routes) {
  PRECEPTOR_RETURN_IF_ERROR(
      routes.add(platform_get("/healthz", [](const api::HttpRequest&) -> api::HttpHandlerResult {
        return api::http_text(200, "ok\n");
      })));
  PRECEPTOR_RETURN_IF_ERROR(routes.add(
      platform_get("/readyz", for_operators(ctx, [&ctx](const api::HttpRequest&) -> api::HttpHandlerResult {
                     const std::string reason = ctx.not_ready_reason();
                     if (reason.empty()) return api::http_text(200, "ready\n");
                     return api::http_error(unavailable(reason));
                   }))));
  PRECEPTOR_RETURN_IF_ERROR(routes.add(
      platform_get("/metrics", for_operators(ctx, [&ctx](const api::HttpRequest&) -> api::HttpHandlerResult {
                     return api::http_text(200, ctx.render_metrics(), "text/plain; version=0.0.4");
                   }))));
  PRECEPTOR_RETURN_IF_ERROR(
      routes.add(platform_get("/v1/ws", [](const api::HttpRequest&) -> api::HttpHandlerResult {
        api::HttpResponse res = api::http_error(
            426, failed_precondition("/v1/ws is a WebSocket endpoint: connect with a WebSocket client."));
        res.headers.set("Upgrade", "websocket");
        return res;
      })));
  if (!ctx.config.web_root.empty()) {
    auto files = api::static_files_route("/", ctx.config.web_root);
    if (!files) return files.status();
    PRECEPTOR_RETURN_IF_ERROR(routes.add(std::move(files.value())));
  }
  return Status::ok();
}

}  // namespace preceptor::server
