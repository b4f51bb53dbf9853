// HTTP on the WebSocket's port, as a client sees it: routes added to a real
// in-process server, requests over real sockets.
#include "server/api/http.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "tests/support/test_client.h"
#include "tests/support/test_server.h"

namespace preceptor::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kTimeout = 10s;
constexpr uint64_t kMiB = 1024 * 1024;

// ------------------------------------------------------------- test content

// Byte `i` of every test body: no short period, so a piece sent twice or in
// the wrong order changes the hash.
char pattern_byte(uint64_t i) { return static_cast<char>((i * 131 + i / 4099 + (i >> 16)) & 0xff); }

std::string pattern(uint64_t offset, uint64_t length) {
  std::string out(length, '\0');
  for (uint64_t i = 0; i < length; ++i) out[i] = pattern_byte(offset + i);
  return out;
}

constexpr uint64_t kFnvStart = 0xcbf29ce484222325ull;
uint64_t fnv1a(uint64_t h, std::string_view bytes) {
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

uint64_t pattern_hash(uint64_t length) {
  uint64_t h = kFnvStart;
  for (uint64_t at = 0; at < length; at += 65536)
    h = fnv1a(h, pattern(at, std::min<uint64_t>(65536, length - at)));
  return h;
}

// ------------------------------------------------------------------ client

struct Reply {
  int status = 0;                              // 0: no reply (error says why)
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string error;

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  bool has_header(const std::string& name) const { return headers.count(name) > 0; }
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// One HTTP/1.1 connection that sends bytes exactly as given (so tests can
// send what well-behaved libraries would not) and reads replies. Every call
// is bounded by kTimeout. Not thread-safe.
class HttpConnection {
 public:
  explicit HttpConnection(uint16_t port, const std::string& address = "127.0.0.1") : stream_(io_) {
    boost::system::error_code ec;
    stream_.socket().connect(tcp::endpoint(asio::ip::make_address(address), port), ec);
    connected_ = !ec;
  }
  bool connected() const { return connected_; }

  bool send(std::string_view bytes) {
    boost::system::error_code ec = asio::error::timed_out;
    stream_.expires_after(kTimeout);
    asio::async_write(stream_, asio::buffer(bytes.data(), bytes.size()),
                      [&](boost::system::error_code e, size_t) { ec = e; });
    run();
    return !ec;
  }

  // Sends `length` pattern bytes in pieces of `piece`.
  bool send_pattern(uint64_t length, uint64_t piece = 256 * 1024) {
    for (uint64_t at = 0; at < length; at += piece) {
      if (!send(pattern(at, std::min(piece, length - at)))) return false;
    }
    return true;
  }

  // Sends `length` pattern bytes with chunked framing, in uneven chunks.
  bool send_pattern_chunked(uint64_t length) {
    uint64_t at = 0;
    for (uint64_t i = 0; at < length; ++i) {
      const uint64_t n = std::min<uint64_t>(length - at, 1000 + (i * 7919) % 150'000);
      std::ostringstream size;
      size << std::hex << n;
      if (!send(size.str() + "\r\n" + pattern(at, n) + "\r\n")) return false;
      at += n;
    }
    return send("0\r\n\r\n");
  }

  // Reads one reply (interim 1xx replies included); `head`: no body follows.
  Reply read(bool head = false) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * kMiB);
    if (head) parser.skip(true);
    boost::system::error_code ec = asio::error::timed_out;
    stream_.expires_after(kTimeout);
    http::async_read(stream_, buffer_, parser, [&](boost::system::error_code e, size_t) { ec = e; });
    run();
    Reply r;
    if (ec) {
      r.error = ec.message();
      return r;
    }
    auto msg = parser.release();
    r.status = static_cast<int>(msg.result_int());
    for (const auto& f : msg) r.headers[lower(std::string(f.name_string()))] = std::string(f.value());
    r.body = std::move(msg.body());
    return r;
  }

  // True when the server closes the connection (nothing more arrives).
  bool closed_by_server() { return closed_by_server_within(kTimeout); }
  bool closed_by_server_within(std::chrono::steady_clock::duration wait) {
    boost::system::error_code ec = asio::error::timed_out;
    char byte;
    stream_.expires_after(wait);
    stream_.async_read_some(asio::buffer(&byte, 1), [&](boost::system::error_code e, size_t) { ec = e; });
    run();
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

 private:
  void run() {
    io_.restart();
    io_.run();
  }

  asio::io_context io_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  bool connected_ = false;
};

// "METHOD target HTTP/1.1" and the header; `extra` is whole header lines.
std::string request_head(std::string_view method, std::string_view target, std::string_view extra = "") {
  return std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
         std::string(extra) + "\r\n";
}

// One request on a fresh connection.
Reply fetch(uint16_t port, std::string_view method, std::string_view target, std::string_view extra = "",
            std::string_view body = {}, const std::string& address = "127.0.0.1") {
  HttpConnection c(port, address);
  if (!c.connected()) return Reply{0, {}, {}, "cannot connect"};
  std::string head_extra(extra);
  if (!body.empty()) head_extra += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  if (!c.send(request_head(method, target, head_extra) + std::string(body)))
    return Reply{0, {}, {}, "cannot send"};
  return c.read(method == "HEAD");
}

// ------------------------------------------------------------------ routes

// What the upload routes saw, for checks after the client got its answer.
struct Seen {
  std::atomic<int> ends{0};
  std::atomic<int> aborts{0};
};

// Counts and hashes a body; answers "<bytes> <hash hex> <largest piece>".
class CountingSink final : public api::HttpBodySink {
 public:
  explicit CountingSink(std::shared_ptr<Seen> seen) : seen_(std::move(seen)) {}
  Status on_chunk(std::string_view bytes) override {
    bytes_ += bytes.size();
    largest_ = std::max<uint64_t>(largest_, bytes.size());
    hash_ = fnv1a(hash_, bytes);
    return Status::ok();
  }
  void on_end(api::HttpRespond respond) override {
    seen_->ends++;
    std::ostringstream out;
    out << bytes_ << " " << std::hex << hash_ << std::dec << " " << largest_;
    respond(api::http_text(200, out.str()));
  }
  void on_abort(const Status&) override { seen_->aborts++; }

 private:
  std::shared_ptr<Seen> seen_;
  uint64_t bytes_ = 0;
  uint64_t largest_ = 0;
  uint64_t hash_ = kFnvStart;
};

// POST /slow: a sink that makes the connection wait after every piece
// until the test resumes it (back-pressure), and refuses a body starting
// with "refuse" with an answer of its own.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t bytes = 0;                    // taken so far
  std::vector<api::HttpResume> waiting;  // handed over by the sink, not yet called
};

class WaitingSink final : public api::HttpBodySink {
 public:
  explicit WaitingSink(std::shared_ptr<Gate> gate) : gate_(std::move(gate)) {}
  Status on_chunk(std::string_view bytes) override {
    if (bytes.substr(0, 6) == "refuse") return invalid_argument("This sink refuses such bodies.", "content");
    std::lock_guard lock(gate_->mu);
    gate_->bytes += bytes.size();
    return Status::ok();
  }
  bool wait_before_next(api::HttpResume resume) override {
    std::lock_guard lock(gate_->mu);
    gate_->waiting.push_back(std::move(resume));
    gate_->cv.notify_all();
    return true;
  }
  api::HttpResponse refusal(const Status& why) override {
    api::HttpResponse res = api::http_error(415, why);
    res.headers.set("X-Refused-By", "sink");
    return res;
  }
  void on_end(api::HttpRespond respond) override {
    std::lock_guard lock(gate_->mu);
    respond(api::http_text(200, std::to_string(gate_->bytes)));
  }

 private:
  std::shared_ptr<Gate> gate_;
};

std::string counted(uint64_t bytes) {
  std::ostringstream out;
  out << bytes << " " << std::hex << pattern_hash(bytes) << std::dec;
  return out.str();
}

// The pattern as a random-access source.
class PatternBlob final : public api::HttpRandomAccessSource {
 public:
  explicit PatternBlob(uint64_t size) : size_(size) {}
  uint64_t size() const override { return size_; }
  Result<size_t> read_at(uint64_t offset, char* out, size_t max) override {
    if (offset >= size_) return size_t{0};
    const size_t n = static_cast<size_t>(std::min<uint64_t>(max, size_ - offset));
    for (size_t i = 0; i < n; ++i) out[i] = pattern_byte(offset + i);
    return n;
  }

 private:
  uint64_t size_;
};

// `size` pattern bytes of unknown length (sent chunked); remembers the
// largest piece the server asked for.
class PatternStream final : public api::HttpBodySource {
 public:
  PatternStream(uint64_t size, std::shared_ptr<std::atomic<uint64_t>> largest_ask)
      : size_(size), largest_ask_(std::move(largest_ask)) {}
  Result<size_t> read(char* out, size_t max) override {
    if (max > largest_ask_->load()) largest_ask_->store(max);
    const size_t n = static_cast<size_t>(std::min<uint64_t>(max, size_ - at_));
    for (size_t i = 0; i < n; ++i) out[i] = pattern_byte(at_ + i);
    at_ += n;
    return n;
  }

 private:
  uint64_t size_;
  uint64_t at_ = 0;
  std::shared_ptr<std::atomic<uint64_t>> largest_ask_;
};

api::HttpRoute route(std::string method, std::string path, api::HttpAccess access, uint64_t max_body,
                     api::HttpHandler handler) {
  api::HttpRoute r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.access = access;
  r.max_body_bytes = max_body;
  r.handler = std::move(handler);
  return r;
}

constexpr uint64_t kUploadLimit = 32 * kMiB;
constexpr uint64_t kSmallLimit = 1024;
constexpr uint64_t kBlobSize = 3 * kMiB + 7;
constexpr uint64_t kStreamSize = 6 * kMiB + 123;

class Http : public ::testing::Test {
 protected:
  void start(server::ServerConfig config) {
    server_ = std::make_unique<TestServer>(std::move(config), nullptr, [this](server::Server& s) {
      const auto anyone = api::HttpAccess::kAnyone;
      auto add = [&](api::HttpRoute r) { ASSERT_TRUE(s.add_http_route(std::move(r)).is_ok()); };
      add(route("POST", "/upload", anyone, kUploadLimit, [seen = seen_](const api::HttpRequest&) {
        return api::HttpHandlerResult(std::make_unique<CountingSink>(seen));
      }));
      add(route("POST", "/slow", anyone, kUploadLimit, [gate = gate_](const api::HttpRequest&) {
        return api::HttpHandlerResult(std::make_unique<WaitingSink>(gate));
      }));
      add(route("POST", "/small", anyone, kSmallLimit, [seen = seen_](const api::HttpRequest&) {
        return api::HttpHandlerResult(std::make_unique<CountingSink>(seen));
      }));
      add(route("GET", "/me", api::HttpAccess::kSignedIn, 0, [](const api::HttpRequest& req) {
        return api::HttpHandlerResult(
            api::http_text(200, req.session ? req.session->user.username() : "nobody"));
      }));
      add(route("GET", "/blob", anyone, 0, [](const api::HttpRequest& req) {
        return api::HttpHandlerResult(
            api::http_serve_range(req, std::make_shared<PatternBlob>(kBlobSize), "application/octet-stream"));
      }));
      add(route("GET", "/stream", anyone, 0, [largest = largest_ask_](const api::HttpRequest&) {
        api::HttpResponse res;
        res.headers.set("Content-Type", "application/octet-stream");
        res.source = std::make_unique<PatternStream>(kStreamSize, largest);
        return api::HttpHandlerResult(std::move(res));
      }));
      add(route("POST", "/later", anyone, 1024, [this](const api::HttpRequest&) {
        // Keeps the body; hands the answer to the test thread.
        class Later final : public api::HttpBodySink {
         public:
          explicit Later(Http* test) : test_(test) {}
          Status on_chunk(std::string_view bytes) override {
            body_.append(bytes);
            return Status::ok();
          }
          void on_end(api::HttpRespond respond) override {
            test_->later_.set_value({std::move(body_), std::move(respond)});
          }

         private:
          Http* test_;
          std::string body_;
        };
        return api::HttpHandlerResult(std::make_unique<Later>(this));
      }));
    });
  }
  void start() { start(test_config(dir_.path())); }

  TempDir dir_;
  std::shared_ptr<Seen> seen_ = std::make_shared<Seen>();
  std::shared_ptr<Gate> gate_ = std::make_shared<Gate>();
  std::shared_ptr<std::atomic<uint64_t>> largest_ask_ = std::make_shared<std::atomic<uint64_t>>(0);
  std::promise<std::pair<std::string, api::HttpRespond>> later_;  // what POST /later received
  std::unique_ptr<TestServer> server_;  // last: stops before the state its routes use goes away
};

void expect_json_error(const Reply& r, const std::string& code) {
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_NE(r.body.find("\"code\":\"" + code + "\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"message\":\""), std::string::npos) << r.body;
}

// ------------------------------------------------------------------- tests

TEST_F(Http, UploadOfSeveralMiBReachesTheSinkWholeInBoundedPieces) {
  start();
  const uint64_t size = 8 * kMiB + 17;
  HttpConnection c(server_->port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send(request_head("POST", "/upload", "Content-Length: " + std::to_string(size) + "\r\n")));
  ASSERT_TRUE(c.send_pattern(size));
  Reply r = c.read();
  ASSERT_EQ(r.status, 200) << r.error << r.body;
  std::istringstream fields(r.body);
  std::string bytes, hash;
  uint64_t largest = 0;
  fields >> bytes >> hash >> largest;
  EXPECT_EQ(bytes + " " + hash, counted(size));
  EXPECT_GT(largest, 0u);
  EXPECT_LE(largest, api::kHttpChunkBytes);

  // The same connection carries the next request: a chunked upload.
  const uint64_t chunked = 3 * kMiB + 5;
  ASSERT_TRUE(c.send(request_head("POST", "/upload", "Transfer-Encoding: chunked\r\n")));
  ASSERT_TRUE(c.send_pattern_chunked(chunked));
  r = c.read();
  ASSERT_EQ(r.status, 200) << r.error << r.body;
  EXPECT_EQ(r.body.substr(0, r.body.rfind(' ')), counted(chunked));
  EXPECT_EQ(seen_->ends.load(), 2);
}

TEST_F(Http, ClientWaitingForContinueGetsItThenTheAnswer) {
  start();
  HttpConnection c(server_->port());
  ASSERT_TRUE(c.send(request_head("POST", "/upload", "Content-Length: 100000\r\nExpect: 100-continue\r\n")));
  Reply go_on = c.read();
  ASSERT_EQ(go_on.status, 100) << go_on.error;
  ASSERT_TRUE(c.send_pattern(100000));
  Reply r = c.read();
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.body.substr(0, r.body.rfind(' ')), counted(100000));
}

TEST_F(Http, BodyOverTheRouteLimitIsRefusedWith413) {
  start();
  {  // Content-Length says too much: refused before any body is sent.
    HttpConnection c(server_->port());
    ASSERT_TRUE(c.send(request_head("POST", "/small", "Content-Length: 4096\r\nExpect: 100-continue\r\n")));
    Reply r = c.read();
    EXPECT_EQ(r.status, 413) << r.error;
    expect_json_error(r, "RESOURCE_EXHAUSTED");
    EXPECT_NE(r.body.find("4096"), std::string::npos) << r.body;
    EXPECT_EQ(lower(r.header("connection")), "close");
    EXPECT_TRUE(c.closed_by_server());
  }
  {  // A chunked body that grows past the limit.
    HttpConnection c(server_->port());
    ASSERT_TRUE(c.send(request_head("POST", "/small", "Transfer-Encoding: chunked\r\n")));
    std::string chunks;
    for (int i = 0; i < 4; ++i) chunks += "258\r\n" + std::string(600, 'x') + "\r\n";
    ASSERT_TRUE(c.send(chunks + "0\r\n\r\n"));
    Reply r = c.read();
    EXPECT_EQ(r.status, 413) << r.error;
    expect_json_error(r, "RESOURCE_EXHAUSTED");
    EXPECT_EQ(lower(r.header("connection")), "close");
  }
  {  // Within the limit, the same route answers.
    Reply r = fetch(server_->port(), "POST", "/small", "", pattern(0, kSmallLimit));
    EXPECT_EQ(r.status, 200) << r.error;
  }
  EXPECT_EQ(seen_->ends.load(), 1);
  EXPECT_EQ(seen_->aborts.load(), 1);  // the chunked one; the other never reached the handler
}

TEST_F(Http, SignedInRoutesNeedAValidBearerToken) {
  start();
  server_->add_user("wei.chen");
  TestClient ws;
  ASSERT_EQ(ws.connect(server_->port()), "");
  auto login = ws.login("wei.chen", TestServer::password_of("wei.chen"));
  ASSERT_TRUE(login.has_login()) << login.DebugString();
  const std::string token = login.login().token();

  Reply none = fetch(server_->port(), "GET", "/me");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.header("www-authenticate"), "Bearer");
  expect_json_error(none, "UNAUTHENTICATED");
  EXPECT_NE(none.body.find("Authorization: Bearer"), std::string::npos) << none.body;

  Reply bad = fetch(server_->port(), "GET", "/me", "Authorization: Bearer " + std::string(64, 'a') + "\r\n");
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(bad.header("www-authenticate"), "Bearer");
  expect_json_error(bad, "UNAUTHENTICATED");

  Reply good = fetch(server_->port(), "GET", "/me", "Authorization: Bearer " + token + "\r\n");
  EXPECT_EQ(good.status, 200) << good.body;
  EXPECT_EQ(good.body, "wei.chen");
}

TEST_F(Http, WrongMethodIs405WithAllowAndUnknownPathIs404) {
  start();
  Reply wrong = fetch(server_->port(), "GET", "/upload");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.header("allow"), "POST");
  EXPECT_EQ(wrong.header("content-type"), "application/json");

  Reply post_health = fetch(server_->port(), "DELETE", "/healthz");
  EXPECT_EQ(post_health.status, 405);
  EXPECT_EQ(post_health.header("allow"), "GET, HEAD");

  Reply missing = fetch(server_->port(), "GET", "/nothing/here?x=1");
  EXPECT_EQ(missing.status, 404);
  expect_json_error(missing, "NOT_FOUND");
  EXPECT_NE(missing.body.find("/nothing/here"), std::string::npos) << missing.body;

  Reply odd = fetch(server_->port(), "PURGE", "/nothing");
  EXPECT_EQ(odd.status, 404);
}

TEST_F(Http, StreamedResponseOfSeveralMiBArrivesWhole) {
  start();
  HttpConnection c(server_->port());
  ASSERT_TRUE(c.send(request_head("GET", "/stream")));
  Reply r = c.read();
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(lower(r.header("transfer-encoding")), "chunked");
  EXPECT_EQ(r.body.size(), kStreamSize);
  EXPECT_EQ(fnv1a(kFnvStart, r.body), pattern_hash(kStreamSize));
  EXPECT_LE(largest_ask_->load(), api::kHttpChunkBytes);
  // Still usable afterwards.
  ASSERT_TRUE(c.send(request_head("GET", "/healthz")));
  EXPECT_EQ(c.read().status, 200);
}

TEST_F(Http, RangesOfABlob) {
  start();
  const uint16_t port = server_->port();
  const std::string size = std::to_string(kBlobSize);

  Reply whole = fetch(port, "GET", "/blob");
  ASSERT_EQ(whole.status, 200) << whole.error;
  EXPECT_EQ(whole.header("accept-ranges"), "bytes");
  EXPECT_EQ(whole.header("content-length"), size);
  EXPECT_EQ(fnv1a(kFnvStart, whole.body), pattern_hash(kBlobSize));

  Reply first = fetch(port, "GET", "/blob", "Range: bytes=0-99\r\n");
  EXPECT_EQ(first.status, 206);
  EXPECT_EQ(first.header("content-range"), "bytes 0-99/" + size);
  EXPECT_EQ(first.header("accept-ranges"), "bytes");
  EXPECT_EQ(first.body, pattern(0, 100));

  Reply middle = fetch(port, "GET", "/blob", "Range: bytes=1000000-1999999\r\n");
  EXPECT_EQ(middle.status, 206);
  EXPECT_EQ(middle.header("content-range"), "bytes 1000000-1999999/" + size);
  EXPECT_EQ(middle.header("content-length"), "1000000");
  EXPECT_TRUE(middle.body == pattern(1000000, 1000000));

  Reply suffix = fetch(port, "GET", "/blob", "Range: bytes=-500\r\n");
  EXPECT_EQ(suffix.status, 206);
  EXPECT_EQ(suffix.header("content-range"),
            "bytes " + std::to_string(kBlobSize - 500) + "-" + std::to_string(kBlobSize - 1) + "/" + size);
  EXPECT_EQ(suffix.body, pattern(kBlobSize - 500, 500));

  Reply open_end = fetch(port, "GET", "/blob", "Range: bytes=" + std::to_string(kBlobSize - 3) + "-\r\n");
  EXPECT_EQ(open_end.status, 206);
  EXPECT_EQ(open_end.body, pattern(kBlobSize - 3, 3));

  Reply past = fetch(port, "GET", "/blob", "Range: bytes=" + size + "-\r\n");
  EXPECT_EQ(past.status, 416);
  EXPECT_EQ(past.header("content-range"), "bytes */" + size);
  expect_json_error(past, "OUT_OF_RANGE");

  Reply several = fetch(port, "GET", "/blob", "Range: bytes=0-1,5-6\r\n");
  EXPECT_EQ(several.status, 200);
  EXPECT_EQ(several.body.size(), kBlobSize);
}

TEST_F(Http, HeadAnswersLikeGetWithoutABody) {
  start();
  Reply head = fetch(server_->port(), "HEAD", "/blob");
  EXPECT_EQ(head.status, 200) << head.error;
  EXPECT_EQ(head.header("content-length"), std::to_string(kBlobSize));
  EXPECT_EQ(head.header("accept-ranges"), "bytes");
  EXPECT_TRUE(head.body.empty());

  // On a kept-alive connection the next reply starts right after the header.
  HttpConnection c(server_->port());
  ASSERT_TRUE(c.send(request_head("HEAD", "/healthz") + request_head("GET", "/healthz")));
  Reply h = c.read(/*head=*/true);
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.header("content-length"), "3");
  Reply g = c.read();
  EXPECT_EQ(g.status, 200);
  EXPECT_EQ(g.body, "ok\n");
}

TEST_F(Http, SinkThatAsksToWaitGetsNoMoreUntilItResumes) {
  start();
  const uint16_t port = server_->port();
  const uint64_t size = 2 * kMiB + 3;
  auto client = std::async(std::launch::async,
                           [port, size] { return fetch(port, "POST", "/slow", "", pattern(0, size)); });
  // Each wait follows exactly one piece: while the sink waits, the
  // connection reads nothing, however much the client has sent.
  uint64_t resumed_at = 0;
  size_t waits = 0;
  for (;;) {
    std::vector<api::HttpResume> waiting;
    {
      std::unique_lock lock(gate_->mu);
      const bool asked = gate_->cv.wait_for(lock, kTimeout, [&] { return !gate_->waiting.empty(); });
      if (!asked) break;
      waiting.swap(gate_->waiting);
      ASSERT_EQ(waiting.size(), 1u);
      ASSERT_GT(gate_->bytes, resumed_at);
      ASSERT_LE(gate_->bytes - resumed_at, api::kHttpChunkBytes) << "read on while the sink waited";
      resumed_at = gate_->bytes;
    }
    ++waits;
    // Resumed from another thread, twice: the second call is ignored.
    std::thread([resume = waiting[0]] {
      resume();
      resume();
    }).join();
    if (resumed_at == size) break;
  }
  EXPECT_EQ(resumed_at, size);
  EXPECT_GE(waits, size / api::kHttpChunkBytes);
  ASSERT_EQ(client.wait_for(kTimeout), std::future_status::ready);
  Reply r = client.get();
  EXPECT_EQ(r.status, 200) << r.error << r.body;
  EXPECT_EQ(r.body, std::to_string(size));
}

TEST_F(Http, SinkChoosesTheAnswerToItsRefusal) {
  start();
  Reply r = fetch(server_->port(), "POST", "/slow", "", "refuse this body, please");
  EXPECT_EQ(r.status, 415) << r.error;
  EXPECT_EQ(r.header("x-refused-by"), "sink");
  expect_json_error(r, "INVALID_ARGUMENT");
  EXPECT_EQ(lower(r.header("connection")), "close");
}

TEST_F(Http, AnswerCanComeLaterFromAnotherThread) {
  start();
  const uint16_t port = server_->port();
  auto client =
      std::async(std::launch::async, [port] { return fetch(port, "POST", "/later", "", "keep this"); });
  auto handed = later_.get_future();
  ASSERT_EQ(handed.wait_for(kTimeout), std::future_status::ready);
  auto [body, respond] = handed.get();
  EXPECT_EQ(body, "keep this");
  // Nobody answered yet, so the client has nothing; other connections are served meanwhile.
  EXPECT_NE(client.wait_for(0s), std::future_status::ready);
  EXPECT_EQ(http_get(port, "/healthz").status, 200);

  std::thread answerer([respond = respond, body = body] {
    respond(api::http_text(201, "stored: " + body));
    respond(api::http_text(500, "a second answer is ignored"));
  });
  answerer.join();
  ASSERT_EQ(client.wait_for(kTimeout), std::future_status::ready);
  Reply r = client.get();
  EXPECT_EQ(r.status, 201) << r.error;
  EXPECT_EQ(r.body, "stored: keep this");
}

TEST_F(Http, HealthAndWebSocketStillWork) {
  start();
  EXPECT_EQ(http_get(server_->port(), "/healthz").status, 200);
  EXPECT_EQ(http_get(server_->port(), "/readyz").status, 200);
  Reply ws_by_get = fetch(server_->port(), "GET", "/v1/ws");
  EXPECT_EQ(ws_by_get.status, 426);
  EXPECT_EQ(lower(ws_by_get.header("upgrade")), "websocket");
  TestClient ws;
  ASSERT_EQ(ws.connect(server_->port()), "");
  EXPECT_TRUE(ws.ping("hi").has_ping());
  TestClient evil;
  EXPECT_NE(evil.connect(server_->port(), "http://evil.example"), "");
}

// A client that opens a connection and then sends its request head slowly,
// or leaves a keep-alive connection idle, does not hold it longer than the
// header timeout.
TEST_F(Http, SlowOrIdleClientsAreDisconnectedAfterTheHeaderTimeout) {
  auto config = test_config(dir_.path());
  config.http_header_timeout_ms = 300;
  start(config);
  for (const bool idle_after_a_request : {false, true}) {
    SCOPED_TRACE(idle_after_a_request ? "idle keep-alive" : "slow head");
    HttpConnection c(server_->port());
    ASSERT_TRUE(c.connected());
    if (idle_after_a_request) {
      ASSERT_TRUE(c.send(request_head("GET", "/healthz", "")));
      EXPECT_EQ(c.read(false).status, 200);
    } else {
      ASSERT_TRUE(c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n"));  // and never the blank line
    }
    // The server closes within the timeout (the wait here is far longer).
    EXPECT_TRUE(c.closed_by_server_within(std::chrono::seconds(5)));
  }
}

// An IPv4 address of this machine that is not loopback, if it has one.
std::optional<std::string> non_loopback_address() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return std::nullopt;
  std::optional<std::string> found;
  for (ifaddrs* a = list; a != nullptr && !found; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET || (a->ifa_flags & IFF_LOOPBACK))
      continue;
    char text[INET_ADDRSTRLEN] = {};
    const auto* in = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
    if (::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text) != nullptr) found = text;
  }
  ::freeifaddrs(list);
  return found;
}

TEST_F(Http, ReadinessAndMetricsAnswerOnlyLoopbackOrTheOpsToken) {
  const std::optional<std::string> outside = non_loopback_address();
  if (!outside) GTEST_SKIP() << "this machine has no non-loopback IPv4 address to connect from";
  auto config = test_config(dir_.path());
  config.listen_address = "0.0.0.0";
  config.ops_token = "ops-secret-123";
  start(config);

  for (const char* path : {"/metrics", "/readyz"}) {
    SCOPED_TRACE(path);
    Reply from_outside = fetch(server_->port(), "GET", path, "", {}, *outside);
    EXPECT_EQ(from_outside.status, 403);
    expect_json_error(from_outside, "PERMISSION_DENIED");
    EXPECT_EQ(from_outside.body.find("connections_open"), std::string::npos);
    EXPECT_EQ(
        fetch(server_->port(), "GET", path, "Authorization: Bearer wrong-secret-1\r\n", {}, *outside).status,
        403);
    EXPECT_EQ(
        fetch(server_->port(), "GET", path, "Authorization: Bearer ops-secret-123\r\n", {}, *outside).status,
        200);
    EXPECT_EQ(fetch(server_->port(), "GET", path).status, 200);  // loopback
  }
  // Liveness stays open to anyone: it says nothing.
  EXPECT_EQ(fetch(server_->port(), "GET", "/healthz", "", {}, *outside).status, 200);
}

// -------------------------------------------------------------- static files

class StaticFiles : public Http {
 protected:
  void SetUp() override {
    root_ = dir_.path() / "www";
    std::filesystem::create_directories(root_ / "docs");
    write("index.html", "<!doctype html><title>Preceptor</title>");
    write("app.js", "console.log('hi');");
    write("mod.mjs", "export const x = 1;");
    write("style.css", "body { margin: 0 }");
    write("logo.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
    write("icon.png", std::string("\x89PNG\r\n\x1a\n", 8));
    write("favicon.ico", std::string("\0\0\1\0", 4));
    write("data.json", "{\"ok\":true}");
    write("main.wasm", std::string("\0asm\1\0\0\0", 8));
    write("app.js.map", "{\"version\":3}");
    write("notes.txt", "plain notes");
    write("site.webmanifest", "{\"name\":\"Preceptor\"}");
    write("font.woff2", std::string("wOF2\0\1\0\0", 8));
    write("LOUD.TXT", "shouting");
    write("docs/index.html", "<p>docs</p>");
    // A Vite build: index.html names assets whose names carry their content's hash.
    std::filesystem::create_directories(root_ / "assets");
    write("assets/index-BxR4q2aT.js", "import './chunk-a1b2c3d4.js';");
    write("assets/index-Dk_9-zQw.css", "body { color: black }");
    write("assets/index-BxR4q2aT.js.map", "{\"version\":3}");
    write("assets/logo.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
    write("app-BxR4q2aT.js", "not under assets/");
    std::ofstream(dir_.path() / "secret.txt") << "not for the web";
    std::filesystem::create_symlink(dir_.path() / "secret.txt", root_ / "leak.txt");
    auto config = test_config(dir_.path() / "data");
    config.web_root = root_.string();
    start(config);
  }
  void write(const std::string& name, const std::string& content) {
    std::ofstream(root_ / name, std::ios::binary) << content;
  }

  std::filesystem::path root_;
};

TEST_F(StaticFiles, ServesFilesWithTheirContentTypes) {
  const std::map<std::string, std::string> types = {
      {"/app.js", "text/javascript; charset=utf-8"},
      {"/mod.mjs", "text/javascript; charset=utf-8"},
      {"/style.css", "text/css; charset=utf-8"},
      {"/logo.svg", "image/svg+xml"},
      {"/icon.png", "image/png"},
      {"/favicon.ico", "image/x-icon"},
      {"/data.json", "application/json"},
      {"/main.wasm", "application/wasm"},
      {"/app.js.map", "application/json"},
      {"/notes.txt", "text/plain; charset=utf-8"},
      {"/LOUD.TXT", "text/plain; charset=utf-8"},
      {"/site.webmanifest", "application/manifest+json"},
      {"/font.woff2", "font/woff2"},
      {"/index.html", "text/html; charset=utf-8"},
      {"/assets/index-BxR4q2aT.js", "text/javascript; charset=utf-8"},
      {"/assets/index-Dk_9-zQw.css", "text/css; charset=utf-8"},
      {"/assets/index-BxR4q2aT.js.map", "application/json"},
  };
  for (const auto& [path, type] : types) {
    Reply r = fetch(server_->port(), "GET", path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.header("content-type"), type) << path;
    EXPECT_EQ(r.header("x-content-type-options"), "nosniff") << path;
    std::ifstream in(root_ / path.substr(1), std::ios::binary);
    EXPECT_EQ(r.body, std::string(std::istreambuf_iterator<char>(in), {})) << path;
  }
  Reply index = fetch(server_->port(), "GET", "/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, "<!doctype html><title>Preceptor</title>");
  EXPECT_EQ(index.header("content-type"), "text/html; charset=utf-8");

  Reply folder = fetch(server_->port(), "GET", "/docs");
  EXPECT_EQ(folder.status, 308);
  EXPECT_EQ(folder.header("location"), "/docs/");
  Reply docs = fetch(server_->port(), "GET", "/docs/");
  EXPECT_EQ(docs.status, 200);
  EXPECT_EQ(docs.body, "<p>docs</p>");

  Reply head = fetch(server_->port(), "HEAD", "/app.js");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("content-length"), "18");
  EXPECT_TRUE(head.body.empty());

  Reply part = fetch(server_->port(), "GET", "/notes.txt", "Range: bytes=6-\r\n");
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, "notes");

  Reply missing = fetch(server_->port(), "GET", "/missing.js");
  EXPECT_EQ(missing.status, 404);
  expect_json_error(missing, "NOT_FOUND");

  Reply post = fetch(server_->port(), "POST", "/app.js", "", "x");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.header("allow"), "GET, HEAD");
}

TEST_F(StaticFiles, UnchangedFilesAreNotSentAgain) {
  Reply first = fetch(server_->port(), "GET", "/app.js");
  ASSERT_EQ(first.status, 200);
  const std::string etag = first.header("etag");
  ASSERT_FALSE(etag.empty());
  EXPECT_FALSE(first.header("last-modified").empty());
  EXPECT_EQ(first.header("cache-control"), "no-cache");

  Reply again = fetch(server_->port(), "GET", "/app.js", "If-None-Match: " + etag + "\r\n");
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(again.header("etag"), etag);

  Reply since = fetch(server_->port(), "GET", "/app.js",
                      "If-Modified-Since: " + first.header("last-modified") + "\r\n");
  EXPECT_EQ(since.status, 304);

  Reply other = fetch(server_->port(), "GET", "/app.js", "If-None-Match: \"something-else\"\r\n");
  EXPECT_EQ(other.status, 200);
  EXPECT_EQ(other.body, "console.log('hi');");
}

TEST_F(StaticFiles, HashedAssetsAreKeptForAYearEverythingElseIsRevalidated) {
  constexpr std::string_view kImmutable = "public, max-age=31536000, immutable";
  for (const char* path :
       {"/assets/index-BxR4q2aT.js", "/assets/index-Dk_9-zQw.css", "/assets/index-BxR4q2aT.js.map"}) {
    Reply r = fetch(server_->port(), "GET", path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.header("cache-control"), kImmutable) << path;
    EXPECT_FALSE(r.header("etag").empty()) << path;
  }
  // Revalidating one anyway (a reload) answers 304 with the same policy.
  Reply first = fetch(server_->port(), "GET", "/assets/index-BxR4q2aT.js");
  Reply again = fetch(server_->port(), "GET", "/assets/index-BxR4q2aT.js",
                      "If-None-Match: " + first.header("etag") + "\r\n");
  EXPECT_EQ(again.status, 304);
  EXPECT_EQ(again.header("cache-control"), kImmutable);

  // index.html names the current assets: always revalidated, by its ETag.
  for (const char* path : {"/", "/index.html", "/assets/logo.svg", "/app-BxR4q2aT.js", "/docs/"}) {
    Reply r = fetch(server_->port(), "GET", path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.header("cache-control"), "no-cache") << path;
  }
  Reply index = fetch(server_->port(), "GET", "/");
  ASSERT_FALSE(index.header("etag").empty());
  Reply unchanged = fetch(server_->port(), "GET", "/", "If-None-Match: " + index.header("etag") + "\r\n");
  EXPECT_EQ(unchanged.status, 304);
  EXPECT_EQ(unchanged.header("cache-control"), "no-cache");
}

TEST_F(StaticFiles, EveryAnswerCarriesTheSecurityHeaders) {
  // Files, a 304, a redirect, a 404 and a refused path alike.
  const std::vector<std::pair<std::string, std::string>> requests = {
      {"/", ""},
      {"/assets/index-BxR4q2aT.js", ""},
      {"/style.css", ""},
      {"/index.html", "If-None-Match: *\r\n"},
      {"/docs", ""},
      {"/missing.js", ""},
      {"/%2e%2e/secret.txt", ""},
  };
  for (const auto& [path, extra] : requests) {
    Reply r = fetch(server_->port(), "GET", path, extra);
    ASSERT_NE(r.status, 0) << path << ": " << r.error;
    EXPECT_EQ(r.header("content-security-policy"),
              "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
              "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
              "form-action 'self'; frame-ancestors 'none'")
        << path << " (" << r.status << ")";
    EXPECT_EQ(r.header("x-content-type-options"), "nosniff") << path;
    EXPECT_EQ(r.header("referrer-policy"), "no-referrer") << path;
    EXPECT_EQ(r.header("x-frame-options"), "DENY") << path;
  }
}

// The web app routes by the URL's #fragment, so there is no fallback to
// index.html: a path that is not a file stays a 404.
TEST_F(StaticFiles, PathsThatAreNotFilesAreNotFound) {
  for (const char* path : {"/mentees/42", "/assets/", "/assets/index-00000000.js", "/index.htm"}) {
    Reply r = fetch(server_->port(), "GET", path);
    EXPECT_EQ(r.status, 404) << path;
    expect_json_error(r, "NOT_FOUND");
  }
}

TEST(StaticFileNames, HashedAssetsAreRecognisedByFolderAndName) {
  for (const char* name :
       {"assets/index-BxR4q2aT.js", "assets/index-BxR4q2aT.js.map", "assets/index-Dk_9-zQw.css",
        "assets/vendor-react-4a7c9f12.js", "assets/logo-Cq3-_x7Z.svg", "assets/fonts/inter-8Hk2LmQ9.woff2",
        "assets/chunk-a1b2c3d4e5f6.js"}) {
    EXPECT_TRUE(api::is_content_hashed_asset(name)) << name;
  }
  for (const char* name : {"index.html", "app-BxR4q2aT.js", "static/index-BxR4q2aT.js", "assets/logo.svg",
                           "assets/main-stylesheet.css", "assets/index-BxR4q2a.js", "assets/-BxR4q2aTx.js",
                           "assets/index-BxR4q2a!.js", "assets", "assets/", ""}) {
    EXPECT_FALSE(api::is_content_hashed_asset(name)) << name;
  }
}

TEST_F(StaticFiles, PathsOutsideTheFolderAreRefused) {
  for (const char* path : {"/../secret.txt", "/docs/../../secret.txt", "/%2e%2e/secret.txt",
                           "/docs/%2E%2E/%2e%2e/secret.txt", "/..%2fsecret.txt", "/leak.txt", "/%zz"}) {
    Reply r = fetch(server_->port(), "GET", path);
    EXPECT_TRUE(r.status == 400 || r.status == 404) << path << " got " << r.status;
    EXPECT_EQ(r.body.find("not for the web"), std::string::npos) << path;
    expect_json_error(r, r.status == 400 ? "INVALID_ARGUMENT" : "NOT_FOUND");
  }
}

TEST_F(StaticFiles, HealthAndWebSocketAreNotShadowed) {
  EXPECT_EQ(http_get(server_->port(), "/healthz").status, 200);
  EXPECT_EQ(http_get(server_->port(), "/metrics").status, 200);
  TestClient ws;
  ASSERT_EQ(ws.connect(server_->port()), "");
  EXPECT_TRUE(ws.ping().has_ping());
}

}  // namespace
}  // namespace preceptor::testing
