#pragma once

// Internal to the SDK: one HTTP/1.1 connection (plain or TLS) that sends a
// request and reads its answer, with Beast kept out of this header so that
// only http_transport.cpp pays for compiling it.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "preceptor/client/server_url.h"

namespace preceptor::client {

using HttpFields = std::vector<std::pair<std::string, std::string>>;

// The first value of `name` (ASCII case ignored), or nullopt.
std::optional<std::string> http_field(const HttpFields& fields, std::string_view name);

struct HttpOut {
  std::string method;  // "GET", "POST", "PATCH", "HEAD", "DELETE"
  std::string target;  // the path (and query), already percent-encoded
  HttpFields fields;   // besides Host, User-Agent and Content-Length, which are set here
  uint64_t body_length = 0;
  // Gives the next body bytes: copies at most `max` into `out` and returns
  // how many (≥ 1 while body_length is not reached). An error stops the
  // request (the connection is dropped). Unset when body_length is 0.
  std::function<Result<size_t>(char* out, size_t max)> body;
};

struct HttpIn {
  int status = 0;
  HttpFields fields;
  std::string body;          // unless the caller took it piece by piece (see exchange)
  uint64_t body_length = 0;  // bytes of body read
};

struct HttpTransportOptions {
  std::chrono::milliseconds connect_timeout{10'000};  // TCP connect and TLS handshake, each
  std::chrono::milliseconds io_timeout{30'000};       // every read or write of a header or a piece of body
  // https: also trust the certificates in this PEM file (besides the system's).
  std::string ca_file;
  bool verify_peer = true;  // https: check the certificate chain and the host name
};

// Why an exchange failed before a whole answer arrived.
enum class HttpFailure {
  kNone,
  kConnect,   // resolving, connecting or the TLS handshake failed: nothing was sent
  kTransfer,  // the connection broke or timed out while sending or reading
  kLocal,     // the body source or the body sink refused; the connection is dropped
};

// One HTTP/1.1 connection to `address`, opened on the first exchange and kept
// alive between exchanges while the server allows; reopened when it ended.
// Blocking: each call runs on the caller's thread until it is done. Not
// thread-safe (one caller at a time).
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;

  // Sends `out` and reads the answer's header, then its body: into
  // HttpIn::body (at most 1 MiB, more fails as kTransfer), or, when
  // `take_body` is set and answers true for the answer's status and fields
  // (body still empty), piece by piece to `on_body` (an error from it stops
  // reading: kLocal). An error Status
  // (UNAVAILABLE, DEADLINE_EXCEEDED, or the callback's) comes with
  // last_failure() telling what broke.
  virtual Result<HttpIn> exchange(const HttpOut& out,
                                  const std::function<bool(const HttpIn& head)>& take_body = {},
                                  const std::function<Status(std::string_view piece)>& on_body = {}) = 0;
  virtual HttpFailure last_failure() const = 0;
  // Drops the connection (the next exchange opens a new one).
  virtual void close() = 0;
};

std::unique_ptr<HttpTransport> make_http_transport(HttpAddress address, HttpTransportOptions options);

}  // namespace preceptor::client
