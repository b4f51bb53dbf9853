#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "preceptor/v1/frames.pb.h"

namespace preceptor::testing {

using namespace std::chrono_literals;

// What a WebSocket read produced.
struct Received {
  enum class Kind { kFrame, kClosed, kTimeout, kError } kind = Kind::kTimeout;
  v1::ServerFrame frame;     // kFrame
  uint16_t close_code = 0;   // kClosed
  std::string close_reason;  // kClosed
  std::string error;         // kError
};

// A blocking WebSocket client for tests: every call has a timeout and
// returns instead of hanging. Not thread-safe.
class TestClient {
 public:
  TestClient();
  ~TestClient();

  // Connects to ws://127.0.0.1:port/v1/ws. Returns an error text, empty on success.
  std::string connect(uint16_t port, const std::string& origin = {}, const std::string& path = "/v1/ws");

  // Before connect(): connect from this local address (another loopback
  // address such as "127.0.0.2", so the server sees another client address).
  void set_source_address(const std::string& address) { source_address_ = address; }
  // Before connect(): the upgrade request's Host header (default
  // "127.0.0.1:<port>"), as a browser that reached the server by another name sends it.
  void set_host_header(const std::string& host) { host_header_ = host; }
  // Before connect(): one more header on the upgrade request (X-Forwarded-For).
  void add_handshake_header(const std::string& name, const std::string& value) {
    handshake_headers_.emplace_back(name, value);
  }

  bool send(const v1::ClientFrame& frame);
  bool send_raw(const std::string& bytes, bool text = false);
  // A WebSocket ping control frame (payload cut to 125 bytes); the pong is
  // not read.
  bool send_ws_ping(const std::string& payload);

  // Next frame of any kind (events included), in arrival order.
  Received receive(std::chrono::milliseconds timeout = 5s);

  // Sends and waits for the Response with the same request_id; events that
  // arrive first are kept for next_event(). nullopt on timeout or close.
  std::optional<v1::Response> call(v1::ClientFrame frame, std::chrono::milliseconds timeout = 5s);

  // Next pushed event (from the backlog first). nullopt on timeout or close.
  std::optional<v1::Event> next_event(std::chrono::milliseconds timeout = 5s);

  // Waits for the server to close the connection; returns the close info.
  Received wait_closed(std::chrono::milliseconds timeout = 5s);

  // Helpers returning the response (or an error response on failure).
  v1::Response login(const std::string& username, const std::string& password,
                     const std::string& device = "test");
  v1::Response authenticate(const std::string& token);
  v1::Response ping(const std::string& payload = {});

  // Stops the TCP connection without a WebSocket close.
  void drop();

  uint64_t next_request_id() { return ++request_id_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint64_t request_id_ = 0;
  std::string source_address_;
  std::string host_header_;
  std::vector<std::pair<std::string, std::string>> handshake_headers_;
  std::deque<v1::Event> backlog_;
  bool closed_ = false;
  Received close_info_;
};

// One HTTP/1.1 GET; returns status code and body (status 0 on failure).
struct HttpResult {
  int status = 0;
  std::string body;
};
HttpResult http_get(uint16_t port, const std::string& path, std::chrono::milliseconds timeout = 5s);
// One HTTP/1.1 request with `headers` (name, value) and a body (sent with
// its Content-Length when not empty, or always for PATCH); HEAD reads no body.
HttpResult http_request(uint16_t port, const std::string& method, const std::string& path,
                        const std::vector<std::pair<std::string, std::string>>& headers = {},
                        const std::string& body = {}, std::chrono::milliseconds timeout = 5s);

// The SHA-256 of `bytes` in lower-case hex, as the server stores and returns
// a document's (and serves it as the ETag).
std::string sha256_hex(std::string_view bytes);

// The mentorship in the result of a request that changes one (each such
// result, RequestMentorshipResult to AcceptAgreementResult, carries it as
// `mentorship`). has_mentorship is false for an error or another result;
// mentorship_of then gives an empty Mentorship.
bool has_mentorship(const v1::Response& response);
const v1::Mentorship& mentorship_of(const v1::Response& response);

}  // namespace preceptor::testing
