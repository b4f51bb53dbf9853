#include "bench/preceptor_bench/http_client.h"

#include <algorithm>
#include <array>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <charconv>
#include <memory>
#include <stdexcept>

// GCC 12 warns falsely where one Asio coroutine of this file calls another
// that it inlines (the sanitizer build's -O1): it sees the frame's operator
// new and operator delete (Asio's recycling allocator) both inlined and
// cannot pair them.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace preceptor::bench {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string HttpAnswer::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

HttpClient::HttpClient(asio::io_context& io, Endpoint endpoint)
    : io_(io), endpoint_(std::move(endpoint)), sock_(io) {}

HttpClient::~HttpClient() { close(); }

void HttpClient::close() {
  boost::system::error_code ignored;
  sock_.shutdown(tcp::socket::shutdown_both, ignored);
  sock_.close(ignored);
  open_ = false;
  in_.clear();
}

asio::awaitable<void> HttpClient::ensure_connected() {
  if (open_) co_return;
  close();
  const tcp::endpoint remote(asio::ip::make_address(endpoint_.host), endpoint_.port);
  sock_.open(remote.protocol());
  co_await sock_.async_connect(remote, asio::use_awaitable);
  sock_.set_option(tcp::no_delay(true));
  open_ = true;
  ++connects_;
}

asio::awaitable<void> HttpClient::fill() {
  std::array<char, 64 * 1024> buf;
  const size_t n = co_await sock_.async_read_some(asio::buffer(buf), asio::use_awaitable);
  in_.append(buf.data(), n);
}

asio::awaitable<HttpAnswer> HttpClient::request(std::string_view method, std::string_view target,
                                                const Headers& headers, std::string_view body,
                                                std::chrono::milliseconds timeout) {
  // The deadline closes the socket: the pending read or write then fails.
  // Its state outlives this frame (the handler may already be queued).
  auto timed_out = std::make_shared<bool>(false);
  asio::steady_timer deadline(io_, timeout);
  deadline.async_wait([this, timed_out, alive = std::weak_ptr<int>(alive_)](boost::system::error_code ec) {
    if (ec || alive.expired()) return;
    *timed_out = true;
    boost::system::error_code ignored;
    sock_.close(ignored);
  });
  struct Cancel {
    asio::steady_timer& t;
    ~Cancel() { t.cancel(); }
  } cancel{deadline};

  const bool head = method == "HEAD";
  for (int attempt = 0;; ++attempt) {
    const bool reused = open_;
    try {
      co_await ensure_connected();
      std::string req;
      req.reserve(256);
      req.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: ");
      req.append(endpoint_.host).append(":").append(std::to_string(endpoint_.port)).append("\r\n");
      for (const auto& [k, v] : headers) req.append(k).append(": ").append(v).append("\r\n");
      req.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n\r\n");
      const std::array<asio::const_buffer, 2> bufs = {asio::buffer(req),
                                                      asio::buffer(body.data(), body.size())};
      co_await asio::async_write(sock_, bufs, asio::use_awaitable);
      HttpAnswer answer = co_await read_answer(head);
      co_return answer;
    } catch (const std::exception& e) {
      close();
      if (*timed_out) {
        throw std::runtime_error(std::string(method) + " " + std::string(target) + ": no answer within " +
                                 std::to_string(timeout.count()) + " ms");
      }
      // A kept-alive connection the server had closed meanwhile: once more
      // on a fresh one. A fresh connection that fails is an error.
      if (!reused || attempt > 0) {
        throw std::runtime_error(std::string(method) + " " + std::string(target) + ": " + e.what());
      }
    }
  }
}

asio::awaitable<HttpAnswer> HttpClient::read_answer(bool head) {
  HttpAnswer a;
  size_t end = std::string::npos;
  while ((end = in_.find("\r\n\r\n")) == std::string::npos) {
    if (in_.size() > 64 * 1024) throw std::runtime_error("an answer's headers have no end");
    co_await fill();
  }
  const std::string head_text = in_.substr(0, end);
  in_.erase(0, end + 4);
  std::string_view rest(head_text);
  const size_t eol = rest.find("\r\n");
  const std::string_view status_line = rest.substr(0, eol);
  rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 2);
  if (status_line.substr(0, 5) != "HTTP/") throw std::runtime_error("not an HTTP answer");
  const size_t sp = status_line.find(' ');
  if (sp == std::string_view::npos)
    throw std::runtime_error("no status in '" + std::string(status_line) + "'");
  std::from_chars(status_line.data() + sp + 1, status_line.data() + status_line.size(), a.status);
  while (!rest.empty()) {
    const size_t e = rest.find("\r\n");
    const std::string_view line = rest.substr(0, e);
    rest = e == std::string_view::npos ? std::string_view() : rest.substr(e + 2);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    a.headers[lower(trim(line.substr(0, colon)))] = std::string(trim(line.substr(colon + 1)));
  }
  const bool close_after = lower(a.header("connection")) == "close";
  const bool no_body = head || a.status == 204 || a.status == 304 || (a.status >= 100 && a.status < 200);
  if (!no_body) {
    if (lower(a.header("transfer-encoding")).find("chunked") != std::string::npos) {
      for (;;) {
        size_t line_end;
        while ((line_end = in_.find("\r\n")) == std::string::npos) co_await fill();
        size_t size = 0;
        std::from_chars(in_.data(), in_.data() + line_end, size, 16);
        in_.erase(0, line_end + 2);
        while (in_.size() < size + 2) co_await fill();
        a.body.append(in_, 0, size);
        in_.erase(0, size + 2);
        if (size == 0) break;  // (no trailers expected)
      }
    } else if (!a.header("content-length").empty()) {
      size_t length = 0;
      const std::string cl = a.header("content-length");
      std::from_chars(cl.data(), cl.data() + cl.size(), length);
      a.body.reserve(length);
      while (in_.size() < length) {
        a.body.append(in_);
        length -= in_.size();
        in_.clear();
        co_await fill();
      }
      a.body.append(in_, 0, length);
      in_.erase(0, length);
    } else {
      // Up to the end of the connection.
      try {
        for (;;) co_await fill();
      } catch (const boost::system::system_error&) {
      }
      a.body = std::move(in_);
      in_.clear();
      close();
    }
  }
  if (close_after) close();
  co_return a;
}

std::string json_field(std::string_view json, std::string_view key) {
  const std::string quoted = "\"" + std::string(key) + "\"";
  size_t at = 0;
  while ((at = json.find(quoted, at)) != std::string_view::npos) {
    size_t p = at + quoted.size();
    while (p < json.size() && (json[p] == ' ' || json[p] == '\n')) ++p;
    if (p >= json.size() || json[p] != ':') {
      at = p;
      continue;
    }
    ++p;
    while (p < json.size() && (json[p] == ' ' || json[p] == '\n')) ++p;
    if (p < json.size() && json[p] == '"') {
      std::string out;
      for (++p; p < json.size() && json[p] != '"'; ++p) {
        if (json[p] == '\\' && p + 1 < json.size()) ++p;
        out += json[p];
      }
      return out;
    }
    size_t e = p;
    while (e < json.size() && json[e] != ',' && json[e] != '}' && json[e] != ']' && json[e] != ' ') ++e;
    return std::string(json.substr(p, e - p));
  }
  return {};
}

}  // namespace preceptor::bench
