// libFuzzer target: bytes from a client -> the server's HTTP connection code
// (server/net/http_router.cpp serve_http: Beast's request parser with the
// server's header and body limits, route matching, sign-in, body limits,
// bodies through sinks, static files with Range, keep-alive, and the
// WebSocket upgrade on /v1/ws into a real WsSession that reads frames and
// hands them to a router).
//
// No listening socket: each input is one connection over a socketpair, the
// server's end given to serve_http as its socket. The client writes the
// input (a header at a time, see below), half-closes, and reads until the
// server closes. A fresh io_context per input, run on this thread.
//
// Checked beyond the sanitizers: serve_http does not throw; the connection
// ends within kConnectionWait; whatever the server sends starts as an HTTP
// response.

#include <sys/socket.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/log.h"
#include "server/api/http.h"
#include "server/api/router.h"
#include "server/hub/hub.h"
#include "server/net/context.h"
#include "server/net/http_router.h"
#include "server/net/metrics.h"
#include "server/net/network.h"

namespace {

namespace asio = boost::asio;
namespace api = preceptor::api;
namespace v1 = preceptor::v1;
namespace server = preceptor::server;
using preceptor::Result;
using preceptor::Status;

constexpr auto kConnectionWait = std::chrono::seconds(10);
constexpr std::string_view kToken = "fuzz-token";  // the one bearer token that signs in

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "http_fuzz: %s\n", what);
  std::abort();
}

// Takes a body up to the route's limit; refuses one containing '!' (the
// sink's own refusal path); answers with what it got.
class EchoSink final : public api::HttpBodySink {
 public:
  Status on_chunk(std::string_view bytes) override {
    if (bytes.find('!') != std::string_view::npos) return preceptor::invalid_argument("No '!' here.");
    body_.append(bytes);
    return Status::ok();
  }
  void on_end(api::HttpRespond respond) override { respond(api::http_text(200, std::move(body_))); }

 private:
  std::string body_;
};

// The server's pieces that a connection uses, with the platform routes, a
// folder of static files, and a few routes of each kind a module may add.
struct World {
  std::filesystem::path web_root;
  server::NetConfig config;
  server::Metrics metrics;
  preceptor::ManualClock clock;
  preceptor::ManualMonotonicClock monotonic;
  api::Router router{clock};
  preceptor::hub::Hub hub;
  api::HttpRoutes routes;
  std::unique_ptr<server::ServerContext> ctx;

  World() {
    std::string pattern = (std::filesystem::temp_directory_path() / "preceptor-http-fuzz-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) fail("mkdtemp failed");
    web_root = pattern;
    std::filesystem::create_directory(web_root / "app");
    std::ofstream(web_root / "index.html") << "<!doctype html><title>Preceptor</title>\n";
    std::ofstream(web_root / "app" / "main.js") << "console.log('preceptor');\n";
    std::ofstream(web_root / "big.bin") << std::string(3 * api::kHttpChunkBytes + 17, 'x');
    config.web_root = web_root.string();
    config.allowed_origins = {"http://localhost:8080"};
    config.rate_burst = 4;  // reach the rate limit within one input

    router.handle_now<v1::Ping, v1::PingResult>(api::Access::anyone(),
                                                [this](const api::Caller&, const v1::Ping& ping) {
                                                  v1::PingResult r;
                                                  r.set_payload(ping.payload());
                                                  r.set_server_time_ms(clock.now_ms());
                                                  return Result<v1::PingResult>(std::move(r));
                                                });
    // Signs in whoever says the password "fuzz"; Logout closes.
    router.handle<v1::Login, v1::LoginResult>(
        api::Access::anyone(),
        [](const api::Caller&, const v1::Login& login, api::Reply<v1::LoginResult> reply) {
          if (login.password() != "fuzz") return reply(preceptor::unauthenticated("Wrong password."));
          api::Session s;
          s.user.set_id(7);
          s.user.set_username(login.username());
          s.user.set_role(v1::ROLE_MENTEE);
          s.token_hash = std::string(32, 'h');
          v1::LoginResult r;
          *r.mutable_user() = s.user;
          reply.signed_in(std::move(r), std::move(s));
        });
    router.handle_now<v1::Logout, v1::LogoutResult>(
        api::Access::signed_in(),
        [](const api::Caller&, const v1::Logout&) { return Result<v1::LogoutResult>(v1::LogoutResult()); });

    ctx = std::make_unique<server::ServerContext>(
        config, metrics, router, hub, []() -> std::string { return {}; }, [this] { return metrics.render(); },
        monotonic);
    ctx->http_routes = &routes;
    // Signed-in sessions stay valid (the fuzzer has no store of tokens).
    ctx->refresh_session = [](const api::Session& s) -> Result<api::Session> { return s; };
    ctx->authenticate = [](std::string_view token) -> Result<api::Session> {
      if (token == "unavailable") return preceptor::unavailable("The store is not open.");
      if (token != kToken) return preceptor::unauthenticated("Unknown token.");
      api::Session s;
      s.user.set_id(7);
      s.user.set_role(v1::ROLE_MENTEE);
      return s;
    };
    must(server::add_platform_http_routes(*ctx, routes));

    api::HttpRoute echo;
    echo.method = "POST";
    echo.path = "/v1/echo";
    echo.access = api::HttpAccess::kSignedIn;
    echo.max_body_bytes = 256;
    echo.handler = [](const api::HttpRequest&) -> api::HttpHandlerResult {
      return std::make_unique<EchoSink>();
    };
    must(routes.add(std::move(echo)));

    api::HttpRoute later;
    later.method = "GET";
    later.path = "/v1/later";
    later.access = api::HttpAccess::kAnyone;
    later.handler = [](const api::HttpRequest& req) -> api::HttpHandlerResult {
      const std::string query = req.query;
      return api::http_answer_later(
          [query](api::HttpRespond respond) { respond(api::http_json(200, api::json_quote(query))); });
    };
    must(routes.add(std::move(later)));

    // Answers before reading a body it will not take (the drain-and-close path).
    api::HttpRoute uploads;
    uploads.method = "";
    uploads.path = "/v1/uploads/";
    uploads.prefix = true;
    uploads.access = api::HttpAccess::kSignedIn;
    uploads.max_body_bytes = 1024;
    uploads.handler = [](const api::HttpRequest& req) -> api::HttpHandlerResult {
      if (req.method == "DELETE") return api::http_text(204, "");
      return api::http_error(preceptor::failed_precondition("Uploads are closed."));
    };
    must(routes.add(std::move(uploads)));
  }

  ~World() {
    std::error_code ec;
    std::filesystem::remove_all(web_root, ec);
  }

  static void must(const Status& s) {
    if (!s) {
      std::fprintf(stderr, "http_fuzz: setup failed: %s\n", s.to_string().c_str());
      std::abort();
    }
  }
};

World* world = nullptr;
bool show = false;  // PRECEPTOR_FUZZ_SHOW=1: print what the server sent (to check the seeds)

// The client's side of one connection: writes `input`, half-closes, and
// reads everything until the server closes.
struct Client {
  asio::local::stream_protocol::socket socket;
  std::string received;
  char buf[4096];
  bool ended = false;

  void read() {
    socket.async_read_some(asio::buffer(buf), [this](boost::system::error_code ec, size_t n) {
      received.append(buf, n);
      if (ec) {
        ended = true;
        return;
      }
      read();
    });
  }
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  preceptor::log::set_level(preceptor::log::Level::kError);
  world = new World();  // lives for the process
  show = std::getenv("PRECEPTOR_FUZZ_SHOW") != nullptr;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) fail("socketpair failed");
  asio::io_context io;
  asio::ip::tcp::socket server_end(asio::make_strand(io));
  server_end.assign(asio::ip::tcp::v4(), fds[0]);
  Client client{asio::local::stream_protocol::socket(io), {}, {}, false};
  client.socket.assign(asio::local::stream_protocol(), fds[1]);

  bool served = false;
  asio::co_spawn(server_end.get_executor(), server::serve_http(*world->ctx, std::move(server_end)),
                 [&served](std::exception_ptr e) {
                   if (e) std::rethrow_exception(e);  // a crash, with the exception's message
                   served = true;
                 });
  client.read();
  const auto deadline = std::chrono::steady_clock::now() + kConnectionWait;
  // Runs handlers until `done` or the deadline; false at the deadline.
  auto drive = [&](auto done) {
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      if (io.stopped()) io.restart();
      if (io.run_one_for(std::chrono::milliseconds(100)) == 0 && io.stopped()) return done();
    }
    return true;
  };
  // The input goes out a header at a time (up to each blank line), and the
  // next part only once the server has done all it can with what it got: a
  // WebSocket client waits for the 101 before it sends frames (RFC 6455
  // 4.1), and the server hands the socket, not what it read ahead, to the
  // session.
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  bool broken = false;  // the server closed: nothing more can reach it
  for (size_t from = 0; from < size && !broken && !client.ended;) {
    const size_t blank = input.find("\r\n\r\n", from);
    const size_t to = blank == std::string_view::npos ? size : blank + 4;
    bool written = false;
    asio::async_write(client.socket, asio::buffer(data + from, to - from),
                      [&](boost::system::error_code ec, size_t) {
                        written = true;
                        broken = ec.failed();
                      });
    if (!drive([&] { return written; })) fail("the server did not take the request in time");
    if (io.stopped()) io.restart();
    while (io.poll() > 0) {
      if (io.stopped()) io.restart();
    }
    from = to;
  }
  boost::system::error_code ignored;
  client.socket.shutdown(asio::socket_base::shutdown_send, ignored);
  drive([&] { return served && client.ended; });
  if (show) {
    std::fprintf(stderr, "---- server sent %zu bytes:\n", client.received.size());
    std::fwrite(client.received.data(), 1, client.received.size(), stderr);
    std::fputc('\n', stderr);
  }
  if (!served || !client.ended) fail("the connection did not end in time");
  if (!client.received.empty() && !client.received.starts_with("HTTP/"))
    fail("the server answered without HTTP");
  return 0;
}
