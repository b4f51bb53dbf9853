#pragma once

// A small HTTP server that speaks the upload protocol of docs/protocol.md
// ("Documents": POST, PATCH, HEAD, and GET of the result) and misbehaves on
// cue: it drops the connection in the middle of a body, loses the answer
// that completes an upload, says another PATCH is still sending, or is busy
// (503). It lets the SDK's recovery paths be tested one by one, with real
// sockets; the real server's own behaviour is tested against the real
// server.

#include <openssl/evp.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace preceptor::testing {

class ScriptedUploadServer {
 public:
  // What goes wrong, each once (a count of 0 turns it off).
  struct Script {
    uint64_t drop_after_body_bytes = 0;  // close the connection once this many PATCH body bytes came in all
    bool lose_completion = false;        // close instead of sending the 201 of the last byte, once
    bool busy_after_drop = false;        // the first PATCH after a drop: 409 with Retry-After: 1
    int unavailable = 0;                 // the first N PATCHes: 503 with Retry-After: 0 (nothing stored)
  };

  explicit ScriptedUploadServer(Script script) : script_(script), unavailable_left_(script.unavailable) {
    acceptor_.open(tcp::v4());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind({boost::asio::ip::address_v4::loopback(), 0});
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { accept_loop(); });
  }
  ~ScriptedUploadServer() {
    stopping_ = true;
    boost::system::error_code ec;
    // Wake the acceptor with a connection of our own.
    tcp::socket poke(io_);
    poke.connect({boost::asio::ip::address_v4::loopback(), port_}, ec);
    thread_.join();
    std::vector<std::thread> workers;
    {
      std::lock_guard lock(mu_);
      workers.swap(workers_);
    }
    for (auto& t : workers) t.join();
  }

  uint16_t port() const { return port_; }
  std::string url() const { return "ws://127.0.0.1:" + std::to_string(port_); }
  int drops() const { return drops_; }
  int patches() const { return patches_; }
  int heads() const { return heads_; }
  std::string stored(uint64_t id) {
    std::lock_guard lock(mu_);
    return uploads_[id].bytes;
  }

 private:
  using tcp = boost::asio::ip::tcp;
  struct Upload {
    uint64_t length = 0;
    std::string name;
    std::string bytes;
  };

  void accept_loop() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket s(io_);
      acceptor_.accept(s, ec);
      if (stopping_) return;
      if (ec) continue;
      std::lock_guard lock(mu_);
      workers_.emplace_back([this, s = std::move(s)]() mutable { serve(std::move(s)); });
    }
  }

  static std::string sha256_hex(const std::string& bytes) {
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_Digest(bytes.data(), bytes.size(), d, &n, EVP_sha256(), nullptr);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < n; ++i) {
      out.push_back(kHex[d[i] >> 4]);
      out.push_back(kHex[d[i] & 0xf]);
    }
    return out;
  }

  void serve(tcp::socket s) {
    namespace http = boost::beast::http;
    boost::beast::flat_buffer buffer;
    boost::system::error_code ec;
    for (;;) {
      http::request_parser<http::buffer_body> parser;
      parser.body_limit(1ull << 40);
      http::read_header(s, buffer, parser, ec);
      if (ec || stopping_) return;
      auto& req = parser.get();
      const std::string target(req.target());
      http::response<http::string_body> res{http::status::ok, 11};
      res.keep_alive(true);
      bool close_now = false;
      auto header_u64 = [&](const char* name) -> std::optional<uint64_t> {
        auto it = req.find(name);
        if (it == req.end()) return std::nullopt;
        return std::stoull(std::string(it->value()));
      };
      auto document_json = [&](uint64_t id, const Upload& u) {
        return "{\"document\":{\"id\":\"" + std::to_string(id) + "\",\"name\":\"" + u.name +
               "\",\"size\":" + std::to_string(u.length) + ",\"content_type\":\"text/plain\",\"sha256\":\"" +
               sha256_hex(u.bytes) + "\",\"created_ms\":1}}";
      };
      if (req.method() == http::verb::post && target.ends_with("/uploads")) {
        std::lock_guard lock(mu_);
        const uint64_t id = ++next_id_;
        Upload& u = uploads_[id];
        u.length = header_u64("Upload-Length").value_or(0);
        u.name = std::string(req["Upload-Name"]);
        res.result(http::status::created);
        res.set(http::field::location, "/v1/uploads/" + std::to_string(id));
        res.body() = "{\"upload_id\":\"" + std::to_string(id) + "\",\"offset\":0,\"expires_ms\":1}";
      } else if (target.starts_with("/v1/uploads/") && req.method() == http::verb::head) {
        ++heads_;
        std::lock_guard lock(mu_);
        const Upload& u = uploads_[std::stoull(target.substr(12))];
        res.set("Upload-Offset", std::to_string(u.bytes.size()));
        res.set("Upload-Length", std::to_string(u.length));
      } else if (target.starts_with("/v1/uploads/") && req.method() == http::verb::patch) {
        ++patches_;
        const uint64_t id = std::stoull(target.substr(12));
        const uint64_t offset = header_u64("Upload-Offset").value_or(~0ull);
        std::unique_lock lock(mu_);
        Upload& u = uploads_[id];
        if (unavailable_left_ > 0) {
          --unavailable_left_;
          res.result(http::status::service_unavailable);
          res.set(http::field::retry_after, "0");
          res.body() = "{\"code\":\"UNAVAILABLE\",\"message\":\"The disk is busy; go on from HEAD.\"}";
          res.keep_alive(false);
        } else if (busy_pending_) {
          busy_pending_ = false;
          res.result(http::status::conflict);
          res.set(http::field::retry_after, "1");
          res.set("Upload-Offset", std::to_string(u.bytes.size()));
          res.body() =
              "{\"code\":\"ABORTED\",\"message\":\"Another PATCH of this upload is still sending.\"}";
          res.keep_alive(false);
        } else if (offset != u.bytes.size()) {
          res.result(http::status::conflict);
          res.set("Upload-Offset", std::to_string(u.bytes.size()));
          res.body() = "{\"code\":\"ABORTED\",\"message\":\"The upload is at " +
                       std::to_string(u.bytes.size()) + ", not " + std::to_string(offset) + ".\"}";
          res.keep_alive(false);
        } else {
          lock.unlock();
          // Take the body as it comes, "durable" at once.
          char piece[8192];
          while (!parser.is_done()) {
            req.body().data = piece;
            req.body().size = sizeof piece;
            http::read(s, buffer, parser, ec);
            if (ec == http::error::need_buffer) ec = {};
            size_t n = sizeof piece - req.body().size;
            bool drop = false;
            {
              std::lock_guard relock(mu_);
              if (script_.drop_after_body_bytes != 0 && body_seen_ + n >= script_.drop_after_body_bytes) {
                n = static_cast<size_t>(script_.drop_after_body_bytes - body_seen_);
                script_.drop_after_body_bytes = 0;
                busy_pending_ = script_.busy_after_drop;
                drop = true;
              }
              body_seen_ += n;
              u.bytes.append(piece, n);
            }
            if (drop) {
              ++drops_;
              s.close(ec);
              return;
            }
            if (ec) return;
          }
          lock.lock();
          if (u.bytes.size() == u.length) {
            if (script_.lose_completion) {
              script_.lose_completion = false;
              ++drops_;
              s.close(ec);
              return;
            }
            res.result(http::status::created);
            res.set("Upload-Offset", std::to_string(u.bytes.size()));
            res.body() = document_json(id, u);
          } else {
            res.result(http::status::no_content);
            res.set("Upload-Offset", std::to_string(u.bytes.size()));
          }
        }
        if (res.result() != http::status::created && res.result() != http::status::no_content &&
            !parser.is_done()) {
          close_now = true;  // the body was not read
        }
      } else {
        res.result(http::status::not_found);
        res.body() = "{\"code\":\"NOT_FOUND\",\"message\":\"Nothing here.\"}";
      }
      if (!res.body().empty()) res.set(http::field::content_type, "application/json");
      res.prepare_payload();
      if (close_now) res.keep_alive(false);
      http::write(s, res, ec);
      if (ec || !res.keep_alive()) {
        // Let the client read the answer before the socket goes.
        s.shutdown(tcp::socket::shutdown_send, ec);
        char sink[4096];
        while (!ec) s.read_some(boost::asio::buffer(sink), ec);
        return;
      }
    }
  }

  Script script_;
  boost::asio::io_context io_;
  tcp::acceptor acceptor_{io_};
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::thread> workers_;
  std::map<uint64_t, Upload> uploads_;
  uint64_t next_id_ = 0;
  uint64_t body_seen_ = 0;
  bool busy_pending_ = false;
  int unavailable_left_ = 0;
  std::atomic<int> drops_{0}, patches_{0}, heads_{0};
};

}  // namespace preceptor::testing
