#include "server/net/http_router.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>

#include "common/log.h"
#include "server/net/ws_session.h"

namespace preceptor::server {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

Response text_response(const Request& req, http::status status, std::string body,
                       const char* content_type = "text/plain; charset=utf-8") {
  Response res{status, req.version()};
  res.set(http::field::server, "preceptor");
  res.set(http::field::content_type, content_type);
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

bool origin_allowed(const NetConfig& config, const Request& req) {
  auto it = req.find(http::field::origin);
  if (it == req.end()) return true;  // not a browser: apps and the CLI send no Origin
  const std::string origin(it->value());
  return std::any_of(config.allowed_origins.begin(), config.allowed_origins.end(),
                     [&](const std::string& allowed) { return allowed == "*" || allowed == origin; });
}

Response route(ServerContext& ctx, const Request& req) {
  const std::string_view target(req.target().data(), req.target().size());
  const std::string_view path = target.substr(0, target.find('?'));
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    return text_response(req, http::status::method_not_allowed, "Only GET is served here.\n");
  }
  if (path == "/healthz") return text_response(req, http::status::ok, "ok\n");
  if (path == "/readyz") {
    return ctx.ready() ? text_response(req, http::status::ok, "ready\n")
                       : text_response(req, http::status::service_unavailable,
                                       "not ready: the database or committer is not running, or the server is "
                                       "shutting down\n");
  }
  if (path == "/metrics") {
    return text_response(req, http::status::ok, ctx.render_metrics(), "text/plain; version=0.0.4");
  }
  if (path == "/v1/ws") {
    return text_response(req, http::status::upgrade_required,
                         "/v1/ws is a WebSocket endpoint: connect with a WebSocket client.\n");
  }
  return text_response(req, http::status::not_found,
                       "Not found. Served paths: /v1/ws (WebSocket), /healthz, /readyz, /metrics.\n");
}

std::string peer_of(const asio::ip::tcp::socket& socket) {
  boost::system::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  if (ec) return "unknown";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

}  // namespace

asio::awaitable<void> serve_http(ServerContext& ctx, asio::ip::tcp::socket socket) {
  const std::string peer = peer_of(socket);
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  boost::system::error_code ec;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(64 * 1024);
    parser.header_limit(16 * 1024);
    stream.expires_after(std::chrono::seconds(30));
    co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;  // closed, timed out or malformed: nothing more to say
    Request req = parser.release();
    ctx.metrics.http_requests_total.fetch_add(1, std::memory_order_relaxed);

    if (beast::websocket::is_upgrade(req)) {
      const std::string_view target(req.target().data(), req.target().size());
      Response refusal;
      bool refused = true;
      if (target.substr(0, target.find('?')) != "/v1/ws") {
        refusal = text_response(req, http::status::not_found, "WebSocket upgrades are served on /v1/ws only.\n");
      } else if (!origin_allowed(ctx.config, req)) {
        log::warn("origin_refused").kv("peer", peer).kv("origin", std::string(req[http::field::origin]));
        refusal = text_response(req, http::status::forbidden,
                                "This Origin may not open a Preceptor WebSocket; ask the operator to add it to "
                                "--allowed-origins.\n");
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
      auto session = std::make_shared<WsSession>(ctx, std::move(stream), peer);
      session->start(std::move(req));
      co_return;
    }

    Response res = route(ctx, req);
    const bool keep_alive = res.keep_alive();
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !keep_alive) break;
  }
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
}

}  // namespace preceptor::server
