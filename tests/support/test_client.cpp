#include "tests/support/test_client.h"

#include <sodium.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace preceptor::testing {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct TestClient::Impl {
  asio::io_context io;
  websocket::stream<beast::tcp_stream> ws{io};
  beast::flat_buffer buffer;
  bool read_pending = false;
  bool read_done = false;
  boost::system::error_code read_ec;

  // Runs the io_context until `done` or the timeout; true when done.
  template <class Pred>
  bool run_until(Pred done, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      io.restart();
      io.run_one_for(std::chrono::milliseconds(20));
    }
    return true;
  }
};

TestClient::TestClient() : impl_(std::make_unique<Impl>()) {}
TestClient::~TestClient() {
  boost::system::error_code ec;
  beast::get_lowest_layer(impl_->ws).socket().close(ec);
}

std::string TestClient::connect(uint16_t port, const std::string& origin, const std::string& path) {
  Impl& d = *impl_;
  boost::system::error_code ec;
  tcp::socket& socket = beast::get_lowest_layer(d.ws).socket();
  if (!source_address_.empty()) {
    socket.open(tcp::v4(), ec);
    if (!ec) socket.bind(tcp::endpoint(asio::ip::make_address(source_address_), 0), ec);
    if (ec) return "bind to " + source_address_ + ": " + ec.message();
  }
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return "connect: " + ec.message();
  if (!origin.empty() || !handshake_headers_.empty() || !host_header_.empty()) {
    d.ws.set_option(websocket::stream_base::decorator(
        [origin, headers = handshake_headers_, host = host_header_](websocket::request_type& req) {
          if (!origin.empty()) req.set(http::field::origin, origin);
          if (!host.empty()) req.set(http::field::host, host);
          for (const auto& [name, value] : headers) req.insert(name, value);
        }));
  }
  bool done = false;
  d.ws.async_handshake("127.0.0.1:" + std::to_string(port), path, [&](boost::system::error_code e) {
    ec = e;
    done = true;
  });
  if (!d.run_until([&] { return done; }, 5s)) return "handshake timed out";
  if (ec) return "handshake: " + ec.message();
  d.ws.binary(true);
  return {};
}

bool TestClient::send_raw(const std::string& bytes, bool text) {
  Impl& d = *impl_;
  d.ws.text(text);
  bool done = false;
  boost::system::error_code ec;
  d.ws.async_write(asio::buffer(bytes), [&](boost::system::error_code e, size_t) {
    ec = e;
    done = true;
  });
  const bool finished = d.run_until([&] { return done; }, 5s);
  d.ws.binary(true);
  return finished && !ec;
}

bool TestClient::send_ws_ping(const std::string& payload) {
  Impl& d = *impl_;
  bool done = false;
  boost::system::error_code ec;
  d.ws.async_ping(
      websocket::ping_data(payload.data(), payload.data() + std::min<size_t>(payload.size(), 125)),
      [&](boost::system::error_code e) {
        ec = e;
        done = true;
      });
  const bool finished = d.run_until([&] { return done; }, 5s);
  return finished && !ec;
}

bool TestClient::send(const v1::ClientFrame& frame) { return send_raw(frame.SerializeAsString()); }

Received TestClient::receive(std::chrono::milliseconds timeout) {
  Impl& d = *impl_;
  if (closed_) return close_info_;
  if (!d.read_pending) {
    d.read_pending = true;
    d.read_done = false;
    d.buffer.clear();
    d.ws.async_read(d.buffer, [&d](boost::system::error_code e, size_t) {
      d.read_ec = e;
      d.read_done = true;
    });
  }
  Received r;
  if (!d.run_until([&] { return d.read_done; }, timeout)) {
    r.kind = Received::Kind::kTimeout;  // the read stays pending for the next call
    return r;
  }
  d.read_pending = false;
  if (d.read_ec) {
    if (d.read_ec == websocket::error::closed) {
      r.kind = Received::Kind::kClosed;
      r.close_code = d.ws.reason().code;
      r.close_reason = std::string(d.ws.reason().reason.data(), d.ws.reason().reason.size());
    } else {
      r.kind = Received::Kind::kError;
      r.error = d.read_ec.message();
    }
    closed_ = true;
    close_info_ = r;
    return r;
  }
  r.kind = Received::Kind::kFrame;
  if (!r.frame.ParseFromArray(d.buffer.data().data(), static_cast<int>(d.buffer.size()))) {
    r.kind = Received::Kind::kError;
    r.error = "server sent an undecodable frame";
  }
  return r;
}

std::optional<v1::Response> TestClient::call(v1::ClientFrame frame, std::chrono::milliseconds timeout) {
  if (frame.request_id() == 0) frame.set_request_id(next_request_id());
  if (!send(frame)) return std::nullopt;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    Received r = receive(left);
    if (r.kind != Received::Kind::kFrame) return std::nullopt;
    if (r.frame.has_event()) {
      backlog_.push_back(r.frame.event());
      continue;
    }
    if (r.frame.reply().request_id() == frame.request_id()) return r.frame.reply();
  }
}

std::optional<v1::Event> TestClient::next_event(std::chrono::milliseconds timeout) {
  if (!backlog_.empty()) {
    v1::Event e = std::move(backlog_.front());
    backlog_.pop_front();
    return e;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    Received r = receive(left);
    if (r.kind != Received::Kind::kFrame) return std::nullopt;
    if (r.frame.has_event()) return r.frame.event();
  }
}

Received TestClient::wait_closed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Received{};
    Received r = receive(left);
    if (r.kind == Received::Kind::kFrame) {
      if (r.frame.has_event()) backlog_.push_back(r.frame.event());
      continue;
    }
    return r;
  }
}

namespace {
// The reply, or a Response whose error says there was none.
v1::Response reply_or_none(std::optional<v1::Response> r) {
  if (r) return *r;
  v1::Response none;
  none.mutable_error()->set_message("no reply");
  return none;
}
}  // namespace

v1::Response TestClient::login(const std::string& username, const std::string& password,
                               const std::string& device) {
  v1::ClientFrame f;
  f.mutable_login()->set_username(username);
  f.mutable_login()->set_password(password);
  f.mutable_login()->set_device_name(device);
  return reply_or_none(call(f));
}

v1::Response TestClient::authenticate(const std::string& token) {
  v1::ClientFrame f;
  f.mutable_authenticate()->set_token(token);
  return reply_or_none(call(f));
}

v1::Response TestClient::ping(const std::string& payload) {
  v1::ClientFrame f;
  f.mutable_ping()->set_payload(payload);
  return reply_or_none(call(f));
}

void TestClient::drop() {
  boost::system::error_code ec;
  beast::get_lowest_layer(impl_->ws).socket().close(ec);
}

HttpResult http_get(uint16_t port, const std::string& path, std::chrono::milliseconds timeout) {
  return http_request(port, "GET", path, {}, {}, timeout);
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(out, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : out) {
    hex.push_back(kHex[c >> 4]);
    hex.push_back(kHex[c & 0xf]);
  }
  return hex;
}

HttpResult http_request(uint16_t port, const std::string& method, const std::string& path,
                        const std::vector<std::pair<std::string, std::string>>& headers,
                        const std::string& body, std::chrono::milliseconds timeout) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  HttpResult result;
  boost::system::error_code ec;
  stream.socket().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return result;
  http::request<http::string_body> req;
  req.method_string(method);
  req.target(path);
  req.version(11);
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : headers) req.set(name, value);
  req.keep_alive(false);
  if (!body.empty() || method == "PATCH" || method == "POST") {
    req.body() = body;
    req.prepare_payload();
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  if (method == "HEAD") parser.skip(true);
  stream.expires_after(timeout);
  http::async_write(stream, req, [&](boost::system::error_code e, size_t) {
    if (e) return;
    http::async_read(stream, buffer, parser, [&](boost::system::error_code e2, size_t) {
      if (!e2) result.status = static_cast<int>(parser.get().result_int());
    });
  });
  io.run();
  result.body = parser.get().body();
  return result;
}

namespace {

const v1::Mentorship* find_mentorship(const v1::Response& response) {
  namespace pb = google::protobuf;
  const pb::OneofDescriptor* results = v1::Response::descriptor()->FindOneofByName("result");
  const pb::FieldDescriptor* set = response.GetReflection()->GetOneofFieldDescriptor(response, results);
  if (set == nullptr || set->message_type() == nullptr) return nullptr;
  const pb::Message& result = response.GetReflection()->GetMessage(response, set);
  const pb::FieldDescriptor* field = result.GetDescriptor()->FindFieldByName("mentorship");
  if (field == nullptr || field->message_type() != v1::Mentorship::descriptor()) return nullptr;
  return static_cast<const v1::Mentorship*>(&result.GetReflection()->GetMessage(result, field));
}

}  // namespace

bool has_mentorship(const v1::Response& response) { return find_mentorship(response) != nullptr; }

const v1::Mentorship& mentorship_of(const v1::Response& response) {
  const v1::Mentorship* m = find_mentorship(response);
  return m ? *m : v1::Mentorship::default_instance();
}

}  // namespace preceptor::testing
