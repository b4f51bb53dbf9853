#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/preceptor_bench/ws_client.h"

namespace preceptor::bench {

// One HTTP/1.1 answer: the status, the headers (names in lower case) and
// the body (Content-Length, chunked, or up to the end of the connection).
struct HttpAnswer {
  int status = 0;
  std::map<std::string, std::string> headers;
  std::string body;

  // The header's value, or "" when absent. `name` in lower case.
  std::string header(const std::string& name) const;
};

// A small keep-alive HTTP/1.1 client on an Asio socket, for the document
// upload protocol (docs/protocol.md "Documents"): one request at a time, the
// body written as given in one gathered write (the caller holds it: a piece
// of a file is a view, never a copy). It reconnects by itself when the
// server closed the previous connection ("Connection: close", EOF).
//
// Single-threaded: use it only on the thread running its io_context.
class HttpClient {
 public:
  using Headers = std::vector<std::pair<std::string, std::string>>;

  HttpClient(boost::asio::io_context& io, Endpoint endpoint);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends `method target` with `headers` (Host and Content-Length are
  // added) and `body`, and reads the answer. Throws std::runtime_error when
  // the connection fails or no complete answer comes within `timeout`.
  boost::asio::awaitable<HttpAnswer> request(std::string_view method, std::string_view target,
                                             const Headers& headers, std::string_view body = {},
                                             std::chrono::milliseconds timeout = std::chrono::seconds(120));

  void close();
  uint64_t connects() const { return connects_; }

 private:
  boost::asio::awaitable<void> ensure_connected();
  boost::asio::awaitable<HttpAnswer> read_answer(bool head);
  boost::asio::awaitable<void> fill();  // reads more into in_; throws at EOF

  boost::asio::io_context& io_;
  Endpoint endpoint_;
  boost::asio::ip::tcp::socket sock_;
  bool open_ = false;
  std::string in_;  // bytes read past the previous answer
  uint64_t connects_ = 0;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // for the deadline's handler
};

// The value of `"key":` in a flat JSON text (a string's contents, unescaped
// only for \" and \\, or a number or literal as written); "" when absent.
// Enough for the server's small upload answers; not a JSON parser.
std::string json_field(std::string_view json, std::string_view key);

}  // namespace preceptor::bench
