#include "bench/preceptor_bench/connection.h"

#include <algorithm>

#include "bench/preceptor_bench/async_util.h"

namespace preceptor::bench {

struct Connection::Pending {
  explicit Pending(const asio::any_io_executor& ex) : done(ex) {}
  Signal done;
  v1::Response response;
  bool closed = false;
  std::string why;
};

std::string describe(const v1::Error& error) {
  return v1::ErrorCode_Name(error.code()) + ": " + error.message();
}

Connection::Connection(asio::io_context& io) : io_(io), ws_(io) {}

Connection::~Connection() {
  on_closed_ = nullptr;
  close();
}

asio::awaitable<void> Connection::open(const Endpoint& endpoint, const std::string& source_ip) {
  co_await ws_.connect(endpoint, source_ip);
  ws_.start_reading([this](std::string_view bytes) { handle_frame(bytes); },
                    [this](const std::string& why) { handle_closed(why); });
}

asio::awaitable<v1::Response> Connection::call(v1::ClientFrame frame, std::chrono::milliseconds timeout) {
  if (!ws_.is_open()) throw CallError("the connection is closed");
  const uint64_t id = next_call_id_++;
  frame.set_request_id(id);
  auto pending = std::make_shared<Pending>(io_.get_executor());
  pending_.emplace(id, pending);
  ws_.send(frame.SerializeAsString());
  const bool answered = co_await pending->done.wait_until(
      now_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count());
  pending_.erase(id);
  if (!answered) {
    throw CallError("no reply to request " + std::to_string(frame.request_case()) + " within " +
                    std::to_string(timeout.count()) + " ms");
  }
  if (pending->closed) throw CallError("the connection closed: " + pending->why);
  co_return std::move(pending->response);
}

asio::awaitable<v1::LoginResult> Connection::login(const std::string& username, const std::string& password) {
  v1::ClientFrame f;
  f.mutable_login()->set_username(username);
  f.mutable_login()->set_password(password);
  f.mutable_login()->set_device_name("preceptor-bench");
  // Many lanes sign in at once from one address: the server bounds the
  // sign-ins waiting for their password check and says when to come back.
  for (int attempt = 1;; ++attempt) {
    v1::Response r = co_await call(f);
    if (r.has_error() && r.error().code() == v1::ERROR_CODE_RESOURCE_EXHAUSTED &&
        r.error().retry_after_ms() > 0 && attempt < 100) {
      co_await sleep_for(std::chrono::milliseconds(std::min<int64_t>(r.error().retry_after_ms(), 100)));
      continue;
    }
    if (r.has_error()) throw CallError("login " + username + ": " + describe(r.error()), r.error().code());
    co_return std::move(*r.mutable_login());
  }
}

asio::awaitable<v1::AuthenticateResult> Connection::authenticate(const std::string& token) {
  v1::ClientFrame f;
  f.mutable_authenticate()->set_token(token);
  v1::Response r = co_await call(std::move(f));
  if (r.has_error()) throw CallError("authenticate: " + describe(r.error()), r.error().code());
  co_return std::move(*r.mutable_authenticate());
}

void Connection::send(const v1::ClientFrame& frame) {
  frame.SerializeToString(&out_);
  ws_.send(out_);
}

void Connection::send_bytes(std::string_view bytes) { ws_.send(bytes); }

void Connection::close() {
  ws_.close();
  fail_pending("closed by the client");
}

void Connection::handle_frame(std::string_view bytes) {
  ++frames_in_;
  if (on_raw_) return on_raw_(bytes);
  // ServerFrame field 2 (event), length-delimited: tag byte 0x12. Nobody
  // wants events: do not pay for decoding them.
  if (!on_event_ && !bytes.empty() && bytes[0] == 0x12) return;
  if (!frame_.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    ++undecodable_;
    return;
  }
  if (frame_.has_event()) {
    if (on_event_) on_event_(frame_.event());
    return;
  }
  if (!frame_.has_reply()) return;
  const uint64_t id = frame_.reply().request_id();
  if (id >= kCallIdBase) {
    auto it = pending_.find(id);
    if (it == pending_.end()) return;  // answered after its caller gave up
    it->second->response = std::move(*frame_.mutable_reply());
    it->second->done.set();
    return;
  }
  if (on_reply_) on_reply_(frame_.reply());
}

void Connection::fail_pending(const std::string& why) {
  for (auto& [id, pending] : pending_) {
    if (pending->done.is_set()) continue;
    pending->closed = true;
    pending->why = why;
    pending->done.set();
  }
}

void Connection::handle_closed(const std::string& why) {
  fail_pending(why);
  if (on_closed_) {
    auto fn = std::move(on_closed_);
    on_closed_ = nullptr;
    fn(why);
  }
}

}  // namespace preceptor::bench
