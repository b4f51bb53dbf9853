#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "bench/preceptor_bench/ws_client.h"
#include "preceptor/v1/frames.pb.h"

namespace preceptor::bench {

namespace v1 = preceptor::v1;

// A call that got no usable answer: the connection closed, no reply came in
// time, or (for the typed helpers) the server answered with an Error.
class CallError : public std::runtime_error {
 public:
  explicit CallError(const std::string& what, v1::ErrorCode code = v1::ERROR_CODE_UNSPECIFIED)
      : std::runtime_error(what), code_(code) {}
  v1::ErrorCode code() const { return code_; }

 private:
  v1::ErrorCode code_;
};

// One client of the Preceptor protocol (docs/protocol.md) over one
// WebSocket: encodes ClientFrames, decodes ServerFrames, and matches replies
// to requests by request_id.
//
// Two ways to send. call() is for setup: it picks a request id at or above
// kCallIdBase and suspends until the reply. send() is for load: the caller
// picks ids below kCallIdBase and receives the replies through on_reply(),
// so the hot path has no per-request bookkeeping here. Events go to
// on_event(); when none is set, event frames are skipped without decoding.
//
// Single-threaded: use it only on the thread running its io_context.
class Connection {
 public:
  static constexpr uint64_t kCallIdBase = uint64_t{1} << 48;

  using ReplyFn = std::function<void(const v1::Response&)>;
  using EventFn = std::function<void(const v1::Event&)>;
  using RawFn = std::function<void(std::string_view)>;
  using ClosedFn = std::function<void(const std::string& why)>;

  explicit Connection(boost::asio::io_context& io);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects, upgrades and starts reading. Throws on failure.
  boost::asio::awaitable<void> open(const Endpoint& endpoint, const std::string& source_ip = {});

  // Sends `frame` under a fresh request id and returns the Response (which
  // may hold an Error). Throws CallError when the connection closes or no
  // reply comes within `timeout`.
  boost::asio::awaitable<v1::Response> call(v1::ClientFrame frame,
                                            std::chrono::milliseconds timeout = std::chrono::seconds(60));

  // Typed helpers: these throw CallError on an Error reply as well.
  boost::asio::awaitable<v1::LoginResult> login(const std::string& username, const std::string& password);
  boost::asio::awaitable<v1::AuthenticateResult> authenticate(const std::string& token);

  // REQUIRES: frame.request_id() < kCallIdBase.
  void send(const v1::ClientFrame& frame);
  void send_bytes(std::string_view bytes);

  // Replies whose request id is below kCallIdBase.
  void on_reply(ReplyFn fn) { on_reply_ = std::move(fn); }
  void on_event(EventFn fn) { on_event_ = std::move(fn); }
  // Every frame, undecoded (for the echo server, which sends back ClientFrames).
  void on_raw(RawFn fn) { on_raw_ = std::move(fn); }
  void on_closed(ClosedFn fn) { on_closed_ = std::move(fn); }

  // Drops the connection at once (no close handshake). Pending calls fail;
  // on_closed is not called (it reports closes the tool did not ask for).
  void close();
  bool is_open() const { return ws_.is_open(); }
  size_t queued_bytes() const { return ws_.queued_bytes(); }
  uint64_t frames_in() const { return frames_in_; }
  uint64_t undecodable_frames() const { return undecodable_; }

 private:
  struct Pending;

  void handle_frame(std::string_view bytes);
  void handle_closed(const std::string& why);  // the server or the network closed it
  void fail_pending(const std::string& why);

  boost::asio::io_context& io_;
  WsClient ws_;
  uint64_t next_call_id_ = kCallIdBase;
  std::unordered_map<uint64_t, std::shared_ptr<Pending>> pending_;
  v1::ServerFrame frame_;  // reused for every decode: keeps its allocations
  std::string out_;        // reused for every encode
  ReplyFn on_reply_;
  EventFn on_event_;
  RawFn on_raw_;
  ClosedFn on_closed_;
  uint64_t frames_in_ = 0;
  uint64_t undecodable_ = 0;
};

// "CODE: message" of an Error reply, for logs.
std::string describe(const v1::Error& error);

}  // namespace preceptor::bench
