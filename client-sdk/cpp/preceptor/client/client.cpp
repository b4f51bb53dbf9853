#include "preceptor/client/client.h"

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cmath>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>

#include "preceptor/client/server_url.h"
#include "preceptor/client/transport.h"

namespace preceptor::client {

namespace asio = boost::asio;
using Frame = v1::ClientFrame;
using ResponseFn = std::function<void(Result<v1::Response>)>;

const char* state_name(State state) {
  switch (state) {
    case State::kConnecting:
      return "connecting";
    case State::kConnected:
      return "connected";
    case State::kAuthenticated:
      return "authenticated";
    case State::kDisconnected:
      return "disconnected";
  }
  return "unknown";
}

std::string new_client_message_id() {
  static thread_local std::random_device rd;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(32);
  for (int i = 0; i < 4; ++i) {
    uint32_t word = rd();
    for (int j = 0; j < 8; ++j) {
      out.push_back(kHex[word & 0xf]);
      word >>= 4;
    }
  }
  return out;
}

namespace {

Status dropped() { return unavailable("The connection dropped; retry."); }

bool allowed_before_sign_in(Frame::RequestCase c) {
  return c == Frame::kLogin || c == Frame::kAuthenticate || c == Frame::kPing;
}

Status status_of(const v1::Error& e) {
  // A reply with an unset code is still a failure; never turn it into OK.
  const ErrorCode code = e.code() == v1::ERROR_CODE_UNSPECIFIED ? v1::ERROR_CODE_UNKNOWN : e.code();
  return Status(code, e.message(), e.field(), e.retry_after_ms());
}

// Which messages of each conversation were delivered: everything up to
// `floor`, and the seqs in `above`. Bounded: past kMaxAbove entries the oldest
// half is folded into the floor (a message thousands of seqs old does not
// arrive for the first time).
class SeqWindow {
 public:
  // True when `seq` is new (and records it).
  bool insert(uint64_t seq) {
    if (seq <= floor_ || !above_.insert(seq).second) return false;
    while (!above_.empty() && *above_.begin() == floor_ + 1) {
      floor_ = *above_.begin();
      above_.erase(above_.begin());
    }
    if (above_.size() > kMaxAbove) {
      auto it = above_.begin();
      std::advance(it, kMaxAbove / 2);
      floor_ = *std::prev(it);
      above_.erase(above_.begin(), it);
    }
    return true;
  }

 private:
  static constexpr size_t kMaxAbove = 4096;
  uint64_t floor_ = 0;
  std::set<uint64_t> above_;
};

}  // namespace

// The io_context and the thread that runs it.
struct Client::Runtime {
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  std::promise<void> ran_out;
  std::thread thread;

  Runtime() {
    thread = std::thread([this] {
      io.run();
      ran_out.set_value();
    });
  }

  // Lets the io_context finish what is left (everything was cancelled), or
  // stops it after a bound, then joins.
  void finish() {
    work.reset();
    if (ran_out.get_future().wait_for(std::chrono::seconds(5)) != std::future_status::ready) io.stop();
    thread.join();
  }
};

// The connection state machine. Lives on one strand; every member below is
// touched only there.
class Client::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::io_context& io, Options options, std::thread::id io_thread)
      : io_thread_(io_thread),
        strand_(asio::make_strand(io)),
        options_(std::move(options)),
        reconnect_timer_(strand_),
        rng_(std::random_device{}()) {
    position_ = options_.resume_from;
    token_ = options_.token;
    publish();
  }

  template <class F>
  void post(F&& f) {
    asio::post(strand_, [self = shared_from_this(), f = std::forward<F>(f)]() mutable { f(*self); });
  }
  bool on_io_thread() const { return std::this_thread::get_id() == io_thread_; }

  // Handlers.
  std::function<void(const v1::Event&)> event_handler_;
  std::function<void(const StateChange&)> state_handler_;
  std::function<void(const v1::SyncPosition&)> store_changed_handler_;

  Status start() {
    auto address = parse_server_url(options_.url);
    if (!address) return address.status();
    address_ = *address;
    post([](Impl& self) {
      if (self.started_ || self.terminal_) return;
      self.started_ = true;
      self.connect();
    });
    return Status::ok();
  }

  void stop() {
    if (terminal_) return;
    terminate(Status(v1::ERROR_CODE_CANCELLED, "The client was stopped."), /*graceful=*/true);
  }

  void go_offline() {
    if (terminal_ || offline_) return;
    offline_ = true;
    reconnect_timer_.cancel();
    if (transport_) {
      close_transport("Offline until go_online().", /*graceful=*/true);
    } else {
      set_state(State::kDisconnected, "Offline until go_online().", false);
    }
  }

  void go_online() {
    if (terminal_ || !offline_) return;
    offline_ = false;
    if (started_ && !transport_) {
      attempts_ = 0;
      connect();
    }
  }

  void drop_for_test(bool after_writes) {
    if (!transport_) return;
    close_reason_ = "Dropped for a test.";
    if (after_writes) {
      transport_->abort_after_writes();
    } else {
      transport_->abort();
    }
  }

  // A request from the public API: sent now, or queued until it can be.
  void submit(Frame frame, ResponseFn done) {
    if (terminal_) return done(terminal_status_);
    if (can_send(frame.request_case()))
      return write(std::move(frame), Pending{std::move(done), Kind::kUser, 0});
    queue_.push_back(Queued{std::move(frame), std::move(done)});
  }

  void send_message(v1::SendMessage msg, Callback<v1::SendMessageResult> done) {
    if (terminal_) return done(terminal_status_);
    if (msg.client_message_id().empty()) msg.set_client_message_id(new_client_message_id());
    const uint64_t key = ++outbox_seq_;
    outbox_.emplace(key, OutboxEntry{std::move(msg), std::move(done), 0});
    publish();
    if (can_send(Frame::kSendMessage)) send_outbox_entry(key);
  }

  // Snapshots for other threads.
  mutable std::mutex snapshot_mu_;
  State snap_state_ = State::kDisconnected;
  v1::SyncPosition snap_position_;
  std::string snap_token_;
  v1::User snap_user_;
  size_t snap_outbox_ = 0;

 private:
  enum class Phase {
    kIdle,            // no connection: waiting to reconnect, offline or stopped
    kConnecting,      // transport starting
    kOpen,            // open, not signed in
    kAuthenticating,  // our own Authenticate with the saved token is in flight
    kResuming,        // signed in; paging through Sync
    kReady,           // signed in and caught up
  };
  enum class Kind { kUser, kOutbox, kInternal };
  struct Pending {
    Pending(ResponseFn d, Kind k, uint64_t key) : done(std::move(d)), kind(k), outbox_key(key) {}
    ResponseFn done;
    Kind kind = Kind::kUser;
    uint64_t outbox_key = 0;
    Frame::RequestCase request_case = Frame::REQUEST_NOT_SET;
    std::string token;  // the app's own Authenticate: kept once it succeeds
  };
  struct Queued {
    Frame frame;
    ResponseFn done;
  };
  struct OutboxEntry {
    v1::SendMessage message;
    Callback<v1::SendMessageResult> done;
    uint64_t request_id = 0;  // 0: not on the current connection
  };

  // ---- connection life ----

  void connect() {
    phase_ = Phase::kConnecting;
    close_reason_.clear();
    const uint64_t gen = ++generation_;
    set_state(State::kConnecting);
    std::weak_ptr<Impl> weak = weak_from_this();
    TransportHandlers h;
    h.on_open = [weak, gen] {
      if (auto self = weak.lock()) self->on_open(gen);
    };
    h.on_message = [weak, gen](std::string bytes) {
      if (auto self = weak.lock()) self->on_message(gen, bytes);
    };
    h.on_closed = [weak, gen](TransportClosed closed) {
      if (auto self = weak.lock()) self->on_closed(gen, std::move(closed));
    };
    TransportOptions t;
    t.connect_timeout = options_.connect_timeout;
    t.handshake_timeout = options_.connect_timeout;
    t.idle_timeout = options_.idle_timeout;
    transport_ = make_ws_transport(strand_, address_, t, std::move(h));
    transport_->start();
  }

  void on_open(uint64_t gen) {
    if (gen != generation_) return;
    phase_ = Phase::kOpen;
    set_state(State::kConnected);
    if (!token_.empty()) {
      authenticate_with_token();
    } else {
      attempts_ = 0;  // nothing to sign in with: an open connection is success
      flush();
    }
  }

  void on_closed(uint64_t gen, TransportClosed closed) {
    if (gen != generation_) return;
    transport_.reset();
    phase_ = Phase::kIdle;
    backlog_.clear();  // stored events not yet delivered come again through Sync
    std::string reason = close_reason_.empty() ? closed.reason : close_reason_;
    close_reason_.clear();
    if (closed.close_code == kCloseSessionEnded && !terminal_) {
      return terminate(unauthenticated("Your session ended: " + closed.reason + " Sign in again."),
                       /*graceful=*/false);
    }
    if (terminal_) return;
    fail_in_flight();
    if (offline_) return set_state(State::kDisconnected, reason, false);
    schedule_reconnect(reason);
  }

  void schedule_reconnect(const std::string& reason) {
    using namespace std::chrono;
    double delay = static_cast<double>(options_.initial_backoff.count()) *
                   std::pow(std::max(1.0, options_.backoff_multiplier), static_cast<double>(attempts_));
    delay = std::min(delay, static_cast<double>(options_.max_backoff.count()));
    const double j = std::clamp(options_.jitter, 0.0, 1.0);
    delay *= std::uniform_real_distribution<double>(1.0 - j, 1.0 + j)(rng_);
    delay = std::max(delay, static_cast<double>(retry_after_ms_));
    retry_after_ms_ = 0;
    ++attempts_;
    set_state(State::kDisconnected, reason, true);
    reconnect_timer_.expires_after(milliseconds(static_cast<int64_t>(delay)));
    const uint64_t gen = generation_;
    reconnect_timer_.async_wait([self = shared_from_this(), gen](boost::system::error_code ec) {
      if (ec || gen != self->generation_ || self->terminal_ || self->offline_ || self->transport_) return;
      self->connect();
    });
  }

  // Drops the connection because of something this side decided; on_closed
  // then reconnects (or not) as usual.
  void close_transport(std::string reason, bool graceful) {
    if (!transport_) return;
    close_reason_ = std::move(reason);
    if (graceful) {
      transport_->close();
    } else {
      transport_->abort();
    }
  }

  // The session is over for good: no reconnect; everything waiting fails
  // with `why`.
  void terminate(Status why, bool graceful) {
    if (terminal_) return;
    terminal_ = true;
    terminal_status_ = why;
    reconnect_timer_.cancel();
    if (transport_) {
      ++generation_;  // its on_closed is of no interest any more
      if (graceful) {
        transport_->close();
      } else {
        transport_->abort();
      }
      transport_.reset();
    }
    phase_ = Phase::kIdle;
    backlog_.clear();
    auto pending = std::move(pending_);
    pending_.clear();
    sign_ins_in_flight_ = 0;
    auto queue = std::move(queue_);
    queue_.clear();
    auto outbox = std::move(outbox_);
    outbox_.clear();
    publish();
    for (auto& [id, p] : pending) {
      if (p.kind == Kind::kUser) p.done(why);
    }
    for (auto& q : queue) q.done(why);
    for (auto& [key, entry] : outbox) entry.done(why);
    set_state(State::kDisconnected, why.message(), false);
  }

  // Requests that were on the dropped connection.
  void fail_in_flight() {
    auto pending = std::move(pending_);
    pending_.clear();
    sign_ins_in_flight_ = 0;
    for (auto& [key, entry] : outbox_) entry.request_id = 0;  // resent after the next sign-in
    for (auto& [id, p] : pending) {
      if (p.kind == Kind::kUser) p.done(dropped());
    }
  }

  // ---- signing in and resuming ----

  void authenticate_with_token() {
    phase_ = Phase::kAuthenticating;
    Frame f;
    f.mutable_authenticate()->set_token(token_);
    write(std::move(f), Pending{[this](Result<v1::Response> r) { on_auto_authenticated(std::move(r)); },
                                Kind::kInternal, 0});
  }

  void on_auto_authenticated(Result<v1::Response> r) {
    if (!r) return;  // only on a dropped connection, which handles itself
    if (r->has_error()) {
      Status st = status_of(r->error());
      if (st.code() == v1::ERROR_CODE_UNAUTHENTICATED) {
        token_.clear();
        publish();
        return terminate(unauthenticated("The saved session is no longer valid (" + st.message() +
                                         "); sign in again with your password."),
                         /*graceful=*/true);
      }
      retry_after_ms_ = st.retry_after_ms();
      return close_transport("Signing in failed: " + st.message(), /*graceful=*/true);
    }
    user_ = r->authenticate().user();
    publish();
    begin_resume();
  }

  // After Login or Authenticate (ours or the app's) succeeded.
  void begin_resume() {
    phase_ = Phase::kResuming;
    sync_note_.clear();
    if (!options_.sync_events) return finish_resume();
    sync_page();
  }

  void sync_page() {
    Frame f;
    auto* sync = f.mutable_sync();
    if (position_.position() != 0 || position_.store_id() != 0) *sync->mutable_since() = position_;
    sync->set_limit(std::clamp<uint32_t>(options_.sync_page_size, 1, 1000));
    const uint64_t since = position_.position();
    write(std::move(f), Pending{[this, since](Result<v1::Response> r) { on_sync_page(since, std::move(r)); },
                                Kind::kInternal, 0});
  }

  void on_sync_page(uint64_t since, Result<v1::Response> r) {
    if (!r) return;
    if (r->has_error()) {
      Status st = status_of(r->error());
      if (st.code() == v1::ERROR_CODE_UNIMPLEMENTED) {
        sync_note_ = "This server does not support Sync; events missed while disconnected were not fetched.";
        return finish_resume();
      }
      retry_after_ms_ = st.retry_after_ms();
      return close_transport("Catching up (Sync) failed: " + st.message(), /*graceful=*/true);
    }
    const v1::SyncResult& page = r->sync();
    if (page.store_changed()) {
      // Positions of the old store mean nothing now: start the new one clean.
      position_.Clear();
      position_.set_store_id(page.next().store_id());
      delivered_.clear();
      publish();
      if (store_changed_handler_) store_changed_handler_(page.next());
    }
    for (const v1::Event& e : page.events()) deliver_stored(e);
    position_ = page.next();
    publish();
    const bool progressed = page.store_changed() || page.events_size() > 0 || page.next().position() > since;
    if (page.has_more() && progressed) return sync_page();
    finish_resume();
  }

  void finish_resume() {
    phase_ = Phase::kReady;
    attempts_ = 0;
    auto backlog = std::move(backlog_);
    backlog_.clear();
    for (const v1::Event& e : backlog) deliver_stored(e);
    flush();
    set_state(State::kAuthenticated, sync_note_);
  }

  // ---- frames ----

  bool can_send(Frame::RequestCase c) const {
    if (allowed_before_sign_in(c)) return phase_ >= Phase::kOpen;
    if (phase_ == Phase::kReady) return true;
    // Not signed in and not about to be: let the server answer (UNAUTHENTICATED).
    return phase_ == Phase::kOpen && token_.empty() && sign_ins_in_flight_ == 0;
  }

  // Sends what waited and may go now: unacknowledged messages first (in the
  // order they were written), then queued requests.
  void flush() {
    if (can_send(Frame::kSendMessage)) {
      for (auto& [key, entry] : outbox_) {
        if (entry.request_id == 0) send_outbox_entry(key);
      }
    }
    flush_queue();
  }

  void flush_queue() {
    std::deque<Queued> keep;
    auto queue = std::move(queue_);
    queue_.clear();
    for (auto& q : queue) {
      if (can_send(q.frame.request_case())) {
        write(std::move(q.frame), Pending{std::move(q.done), Kind::kUser, 0});
      } else {
        keep.push_back(std::move(q));
      }
    }
    // Anything queued meanwhile (by callbacks) goes after what was kept.
    for (auto& q : queue_) keep.push_back(std::move(q));
    queue_ = std::move(keep);
  }

  void write(Frame frame, Pending p) {
    const uint64_t id = ++next_request_id_;
    frame.set_request_id(id);
    p.request_case = frame.request_case();
    if (p.kind == Kind::kUser && frame.has_authenticate()) p.token = frame.authenticate().token();
    if (p.request_case == Frame::kLogin || p.request_case == Frame::kAuthenticate) ++sign_ins_in_flight_;
    pending_.emplace(id, std::move(p));
    transport_->send(frame.SerializeAsString());
  }

  void send_outbox_entry(uint64_t key) {
    auto it = outbox_.find(key);
    if (it == outbox_.end()) return;
    Frame f;
    *f.mutable_send_message() = it->second.message;
    write(std::move(f), Pending{nullptr, Kind::kOutbox, key});
    it->second.request_id = next_request_id_;
  }

  void on_message(uint64_t gen, const std::string& bytes) {
    if (gen != generation_) return;
    v1::ServerFrame frame;
    if (!frame.ParseFromString(bytes)) return;  // a newer server's frame we cannot read: skip it
    if (frame.has_reply()) return on_response(std::move(*frame.mutable_reply()));
    if (frame.has_event()) on_event(frame.event());
  }

  void on_response(v1::Response r) {
    auto it = pending_.find(r.request_id());
    if (it == pending_.end()) return;  // e.g. an error about an unreadable frame (request_id 0)
    Pending p = std::move(it->second);
    pending_.erase(it);
    if (p.request_case == Frame::kLogin || p.request_case == Frame::kAuthenticate) --sign_ins_in_flight_;

    switch (p.kind) {
      case Kind::kInternal:
        return p.done(std::move(r));
      case Kind::kOutbox: {
        auto entry = outbox_.find(p.outbox_key);
        if (entry == outbox_.end()) return;
        auto done = std::move(entry->second.done);
        outbox_.erase(entry);
        publish();
        if (r.has_error()) return done(status_of(r.error()));
        if (!r.has_send_message())
          return done(internal_error("The server answered SendMessage with another result."));
        // The server does not send this connection the MessagePosted of its
        // own message: the reply carries it, in its place in position order.
        // Delivered as that event (once, like any other) before `done`.
        const v1::Message& m = r.send_message().message();
        if (m.position() != 0) {
          v1::Event posted;
          posted.set_position(m.position());
          posted.set_time_ms(m.sent_at_ms());
          *posted.mutable_message_posted()->mutable_message() = m;
          on_event(posted);
        }
        return done(std::move(*r.mutable_send_message()));
      }
      case Kind::kUser:
        break;
    }
    const bool ok = !r.has_error();
    if (ok && p.request_case == Frame::kLogin && r.has_login()) {
      forget_events_if_user_changes(r.login().user());
      token_ = r.login().token();
      user_ = r.login().user();
      publish();
      p.done(std::move(r));
      return begin_resume();
    }
    if (ok && p.request_case == Frame::kAuthenticate && r.has_authenticate()) {
      forget_events_if_user_changes(r.authenticate().user());
      token_ = p.token;
      user_ = r.authenticate().user();
      publish();
      p.done(std::move(r));
      return begin_resume();
    }
    if (ok && p.request_case == Frame::kLogout) {
      token_.clear();
      publish();
      p.done(std::move(r));
      return terminate(unauthenticated("Signed out."), /*graceful=*/true);
    }
    p.done(std::move(r));
    if (p.request_case == Frame::kLogin || p.request_case == Frame::kAuthenticate) {
      flush();  // a failed sign-in: what waited for it may go (and be refused)
    }
  }

  // Positions are per user's inbox: another user on this client starts over.
  void forget_events_if_user_changes(const v1::User& next) {
    if (user_.id() == 0 || user_.id() == next.id()) return;
    position_.Clear();
    delivered_.clear();
    backlog_.clear();
  }

  void on_event(const v1::Event& e) {
    if (e.has_session_ended()) {
      if (event_handler_) event_handler_(e);
      return terminate(
          unauthenticated("Your session ended: " + e.session_ended().reason() + " Sign in again."),
          /*graceful=*/false);
    }
    if (e.position() == 0) {
      if (event_handler_) event_handler_(e);
      return;
    }
    if (phase_ != Phase::kReady) {
      backlog_.push_back(e);  // after the Sync pages, which may hold older events
      return;
    }
    deliver_stored(e);
  }

  // Delivers a stored event unless it was delivered already.
  void deliver_stored(const v1::Event& e) {
    if (e.position() <= position_.position()) return;
    position_.set_position(e.position());
    publish();
    if (e.has_message_posted()) {
      const v1::Message& m = e.message_posted().message();
      if (!delivered_[m.conversation_id()].insert(m.seq())) return;
    }
    if (event_handler_) event_handler_(e);
  }

  void set_state(State s, std::string reason = {}, bool will_reconnect = false) {
    {
      std::lock_guard lock(snapshot_mu_);
      snap_state_ = s;
    }
    if (state_handler_) state_handler_(StateChange{s, std::move(reason), will_reconnect});
  }

  void publish() {
    std::lock_guard lock(snapshot_mu_);
    snap_position_ = position_;
    snap_token_ = token_;
    snap_user_ = user_;
    snap_outbox_ = outbox_.size();
  }

  static constexpr uint16_t kCloseSessionEnded = 4001;

  const std::thread::id io_thread_;
  Strand strand_;
  Options options_;
  ServerAddress address_;
  asio::steady_timer reconnect_timer_;
  std::mt19937_64 rng_;

  std::shared_ptr<Transport> transport_;
  uint64_t generation_ = 0;  // of transport_; callbacks of older ones are ignored
  Phase phase_ = Phase::kIdle;
  bool started_ = false;
  bool offline_ = false;
  bool terminal_ = false;
  Status terminal_status_;
  std::string close_reason_;  // set when this side closes, reported instead of the transport's
  int attempts_ = 0;          // reconnects since the last successful sign-in
  int64_t retry_after_ms_ = 0;
  std::string sync_note_;

  std::string token_;
  v1::User user_;
  v1::SyncPosition position_;                          // of the last stored event delivered, or Sync's `next`
  std::unordered_map<uint64_t, SeqWindow> delivered_;  // MessagePosted per conversation
  std::vector<v1::Event> backlog_;                     // live stored events held during a resume

  uint64_t next_request_id_ = 0;
  int sign_ins_in_flight_ = 0;
  std::unordered_map<uint64_t, Pending> pending_;
  std::deque<Queued> queue_;
  uint64_t outbox_seq_ = 0;
  std::map<uint64_t, OutboxEntry> outbox_;  // in the order sent
};

// ---- Client ----

Client::Client(Options options) : runtime_(std::make_unique<Runtime>()) {
  impl_ = std::make_shared<Impl>(runtime_->io, std::move(options), runtime_->thread.get_id());
}

Client::~Client() {
  assert(!impl_->on_io_thread() && "a Client must not be destroyed from one of its callbacks");
  stop();
  impl_.reset();
  runtime_->finish();
}

void Client::on_event(std::function<void(const v1::Event&)> handler) {
  impl_->post([h = std::move(handler)](Impl& self) mutable { self.event_handler_ = std::move(h); });
}
void Client::on_state(std::function<void(const StateChange&)> handler) {
  impl_->post([h = std::move(handler)](Impl& self) mutable { self.state_handler_ = std::move(h); });
}
void Client::on_store_changed(std::function<void(const v1::SyncPosition&)> handler) {
  impl_->post([h = std::move(handler)](Impl& self) mutable { self.store_changed_handler_ = std::move(h); });
}

Status Client::start() { return impl_->start(); }

void Client::stop() {
  if (impl_->on_io_thread()) {
    impl_->stop();
    return;
  }
  std::promise<void> done;
  impl_->post([&done](Impl& self) {
    self.stop();
    done.set_value();
  });
  done.get_future().wait();
}

void Client::go_offline() {
  impl_->post([](Impl& self) { self.go_offline(); });
}
void Client::go_online() {
  impl_->post([](Impl& self) { self.go_online(); });
}
void Client::drop_connection_for_test() {
  impl_->post([](Impl& self) { self.drop_for_test(false); });
}
void Client::drop_connection_after_writes_for_test() {
  impl_->post([](Impl& self) { self.drop_for_test(true); });
}

State Client::state() const {
  std::lock_guard lock(impl_->snapshot_mu_);
  return impl_->snap_state_;
}
v1::SyncPosition Client::position() const {
  std::lock_guard lock(impl_->snapshot_mu_);
  return impl_->snap_position_;
}
std::string Client::token() const {
  std::lock_guard lock(impl_->snapshot_mu_);
  return impl_->snap_token_;
}
v1::User Client::user() const {
  std::lock_guard lock(impl_->snapshot_mu_);
  return impl_->snap_user_;
}
size_t Client::outbox_size() const {
  std::lock_guard lock(impl_->snapshot_mu_);
  return impl_->snap_outbox_;
}

namespace {

// Turns a Response into the typed result of its request.
template <class T>
Result<T> typed(Result<v1::Response> r, v1::Response::ResultCase expected, T* (v1::Response::*field)()) {
  if (!r) return r.status();
  if (r->has_error()) return status_of(r->error());
  if (r->result_case() != expected) {
    return internal_error("The server answered with an unexpected result (field " +
                          std::to_string(static_cast<int>(r->result_case())) +
                          "); the client and server "
                          "versions may not match.");
  }
  return std::move(*((*r).*field)());
}

// Runs `start(callback)` and waits for the callback, at most `timeout`.
template <class T>
Result<T> wait_for_reply(Client::Impl& impl, Client::Timeout timeout,
                         const std::function<void(Client::Callback<T>)>& start) {
  if (impl.on_io_thread()) {
    return failed_precondition(
        "A _sync request was made from a Client callback, where it would wait forever; "
        "use the callback form there.");
  }
  auto promise = std::make_shared<std::promise<Result<T>>>();
  auto future = promise->get_future();
  start([promise](Result<T> r) { promise->set_value(std::move(r)); });
  if (future.wait_for(timeout) != std::future_status::ready) {
    return Status(v1::ERROR_CODE_DEADLINE_EXCEEDED,
                  "No answer within " + std::to_string(timeout.count()) +
                      " ms; the server may be unreachable (the request still waits and may go out later).");
  }
  return future.get();
}

}  // namespace

// One request type: the callback form builds the frame and submits it; the
// _sync form waits for the callback form.
#define PRECEPTOR_CLIENT_REQUEST(method, Request, ResultType, result_case, result_field)                   \
  void Client::method(v1::Request request, Callback<v1::ResultType> done) {                                \
    Frame f;                                                                                               \
    *f.mutable_##method() = std::move(request);                                                            \
    impl_->post([f = std::move(f), done = std::move(done)](Impl& self) mutable {                           \
      self.submit(std::move(f), [done = std::move(done)](Result<v1::Response> r) {                         \
        done(typed<v1::ResultType>(std::move(r), v1::Response::result_case,                                \
                                   &v1::Response::mutable_##result_field));                                \
      });                                                                                                  \
    });                                                                                                    \
  }                                                                                                        \
  Result<v1::ResultType> Client::method##_sync(v1::Request request, Timeout timeout) {                     \
    return wait_for_reply<v1::ResultType>(                                                                 \
        *impl_, timeout, [&](Callback<v1::ResultType> cb) { method(std::move(request), std::move(cb)); }); \
  }

PRECEPTOR_CLIENT_REQUEST(login, Login, LoginResult, kLogin, login)
PRECEPTOR_CLIENT_REQUEST(authenticate, Authenticate, AuthenticateResult, kAuthenticate, authenticate)
PRECEPTOR_CLIENT_REQUEST(logout, Logout, LogoutResult, kLogout, logout)
PRECEPTOR_CLIENT_REQUEST(who_am_i, WhoAmI, WhoAmIResult, kWhoAmI, who_am_i)
PRECEPTOR_CLIENT_REQUEST(ping, Ping, PingResult, kPing, ping)
PRECEPTOR_CLIENT_REQUEST(revoke_tokens, RevokeTokens, RevokeTokensResult, kRevokeTokens, revoke_tokens)
PRECEPTOR_CLIENT_REQUEST(set_account_disabled, SetAccountDisabled, SetAccountDisabledResult,
                         kSetAccountDisabled, set_account_disabled)
PRECEPTOR_CLIENT_REQUEST(reset_password, ResetPassword, ResetPasswordResult, kResetPassword, reset_password)
PRECEPTOR_CLIENT_REQUEST(list_audit, ListAudit, ListAuditResult, kListAudit, list_audit)
PRECEPTOR_CLIENT_REQUEST(update_mentor_profile, UpdateMentorProfile, UpdateMentorProfileResult,
                         kUpdateMentorProfile, update_mentor_profile)
PRECEPTOR_CLIENT_REQUEST(list_mentors, ListMentors, ListMentorsResult, kListMentors, list_mentors)
PRECEPTOR_CLIENT_REQUEST(request_mentorship, RequestMentorship, RequestMentorshipResult, kRequestMentorship,
                         request_mentorship)
PRECEPTOR_CLIENT_REQUEST(accept_mentorship, AcceptMentorship, AcceptMentorshipResult, kAcceptMentorship,
                         accept_mentorship)
PRECEPTOR_CLIENT_REQUEST(decline_mentorship, DeclineMentorship, DeclineMentorshipResult, kDeclineMentorship,
                         decline_mentorship)
PRECEPTOR_CLIENT_REQUEST(assign_mentorship, AssignMentorship, AssignMentorshipResult, kAssignMentorship,
                         assign_mentorship)
PRECEPTOR_CLIENT_REQUEST(end_mentorship, EndMentorship, EndMentorshipResult, kEndMentorship, end_mentorship)
PRECEPTOR_CLIENT_REQUEST(propose_agreement, ProposeAgreement, ProposeAgreementResult, kProposeAgreement,
                         propose_agreement)
PRECEPTOR_CLIENT_REQUEST(accept_agreement, AcceptAgreement, AcceptAgreementResult, kAcceptAgreement,
                         accept_agreement)
PRECEPTOR_CLIENT_REQUEST(list_mentorships, ListMentorships, ListMentorshipsResult, kListMentorships,
                         list_mentorships)
PRECEPTOR_CLIENT_REQUEST(edit_message, EditMessage, EditMessageResult, kEditMessage, edit_message)
PRECEPTOR_CLIENT_REQUEST(delete_message, DeleteMessage, DeleteMessageResult, kDeleteMessage, delete_message)
PRECEPTOR_CLIENT_REQUEST(history, History, HistoryResult, kHistory, history)
PRECEPTOR_CLIENT_REQUEST(sync, Sync, SyncResult, kSync, sync)
PRECEPTOR_CLIENT_REQUEST(mark_read, MarkRead, MarkReadResult, kMarkRead, mark_read)
PRECEPTOR_CLIENT_REQUEST(list_conversations, ListConversations, ListConversationsResult, kListConversations,
                         list_conversations)
PRECEPTOR_CLIENT_REQUEST(set_typing, SetTyping, SetTypingResult, kSetTyping, set_typing)
PRECEPTOR_CLIENT_REQUEST(propose_meeting, ProposeMeeting, ProposeMeetingResult, kProposeMeeting,
                         propose_meeting)
PRECEPTOR_CLIENT_REQUEST(accept_meeting, AcceptMeeting, AcceptMeetingResult, kAcceptMeeting, accept_meeting)
PRECEPTOR_CLIENT_REQUEST(decline_meeting, DeclineMeeting, DeclineMeetingResult, kDeclineMeeting,
                         decline_meeting)
PRECEPTOR_CLIENT_REQUEST(reschedule_meeting, RescheduleMeeting, RescheduleMeetingResult, kRescheduleMeeting,
                         reschedule_meeting)
PRECEPTOR_CLIENT_REQUEST(cancel_meeting, CancelMeeting, CancelMeetingResult, kCancelMeeting, cancel_meeting)
PRECEPTOR_CLIENT_REQUEST(mark_meeting, MarkMeeting, MarkMeetingResult, kMarkMeeting, mark_meeting)
PRECEPTOR_CLIENT_REQUEST(write_meeting_notes, WriteMeetingNotes, WriteMeetingNotesResult, kWriteMeetingNotes,
                         write_meeting_notes)
PRECEPTOR_CLIENT_REQUEST(answer_fit, AnswerFit, AnswerFitResult, kAnswerFit, answer_fit)
PRECEPTOR_CLIENT_REQUEST(get_fit_summary, GetFitSummary, GetFitSummaryResult, kGetFitSummary, get_fit_summary)
PRECEPTOR_CLIENT_REQUEST(list_meetings, ListMeetings, ListMeetingsResult, kListMeetings, list_meetings)
PRECEPTOR_CLIENT_REQUEST(set_office_hours, SetOfficeHours, SetOfficeHoursResult, kSetOfficeHours,
                         set_office_hours)
PRECEPTOR_CLIENT_REQUEST(get_office_hours, GetOfficeHours, GetOfficeHoursResult, kGetOfficeHours,
                         get_office_hours)
PRECEPTOR_CLIENT_REQUEST(list_slots, ListSlots, ListSlotsResult, kListSlots, list_slots)
PRECEPTOR_CLIENT_REQUEST(book_slot, BookSlot, BookSlotResult, kBookSlot, book_slot)
PRECEPTOR_CLIENT_REQUEST(join_queue, JoinQueue, JoinQueueResult, kJoinQueue, join_queue)
PRECEPTOR_CLIENT_REQUEST(leave_queue, LeaveQueue, LeaveQueueResult, kLeaveQueue, leave_queue)
PRECEPTOR_CLIENT_REQUEST(call_next, CallNext, CallNextResult, kCallNext, call_next)
PRECEPTOR_CLIENT_REQUEST(skip_in_queue, SkipInQueue, SkipInQueueResult, kSkipInQueue, skip_in_queue)
PRECEPTOR_CLIENT_REQUEST(get_queue, GetQueue, GetQueueResult, kGetQueue, get_queue)
PRECEPTOR_CLIENT_REQUEST(set_meeting_preferences, SetMeetingPreferences, SetMeetingPreferencesResult,
                         kSetMeetingPreferences, set_meeting_preferences)
PRECEPTOR_CLIENT_REQUEST(get_meeting_preferences, GetMeetingPreferences, GetMeetingPreferencesResult,
                         kGetMeetingPreferences, get_meeting_preferences)
PRECEPTOR_CLIENT_REQUEST(rotate_calendar_feed, RotateCalendarFeed, RotateCalendarFeedResult,
                         kRotateCalendarFeed, rotate_calendar_feed)
PRECEPTOR_CLIENT_REQUEST(get_ice_servers, GetIceServers, GetIceServersResult, kGetIceServers, get_ice_servers)
PRECEPTOR_CLIENT_REQUEST(start_call, StartCall, StartCallResult, kStartCall, start_call)
PRECEPTOR_CLIENT_REQUEST(answer_call, AnswerCall, AnswerCallResult, kAnswerCall, answer_call)
PRECEPTOR_CLIENT_REQUEST(hang_up, HangUp, HangUpResult, kHangUp, hang_up)
PRECEPTOR_CLIENT_REQUEST(send_call_signal, SendCallSignal, SendCallSignalResult, kSendCallSignal,
                         send_call_signal)

PRECEPTOR_CLIENT_REQUEST(add_goal, AddGoal, AddGoalResult, kAddGoal, add_goal)
PRECEPTOR_CLIENT_REQUEST(edit_goal, EditGoal, EditGoalResult, kEditGoal, edit_goal)
PRECEPTOR_CLIENT_REQUEST(set_goal_state, SetGoalState, SetGoalStateResult, kSetGoalState, set_goal_state)
PRECEPTOR_CLIENT_REQUEST(add_goal_note, AddGoalNote, AddGoalNoteResult, kAddGoalNote, add_goal_note)
PRECEPTOR_CLIENT_REQUEST(list_goals, ListGoals, ListGoalsResult, kListGoals, list_goals)
PRECEPTOR_CLIENT_REQUEST(get_goal_history, GetGoalHistory, GetGoalHistoryResult, kGetGoalHistory,
                         get_goal_history)
PRECEPTOR_CLIENT_REQUEST(reassess, Reassess, ReassessResult, kReassess, reassess)
PRECEPTOR_CLIENT_REQUEST(list_reassessments, ListReassessments, ListReassessmentsResult, kListReassessments,
                         list_reassessments)
PRECEPTOR_CLIENT_REQUEST(get_document, GetDocument, GetDocumentResult, kGetDocument, get_document)
PRECEPTOR_CLIENT_REQUEST(create_assignment, CreateAssignment, CreateAssignmentResult, kCreateAssignment,
                         create_assignment)
PRECEPTOR_CLIENT_REQUEST(acknowledge_assignment, AcknowledgeAssignment, AcknowledgeAssignmentResult,
                         kAcknowledgeAssignment, acknowledge_assignment)
PRECEPTOR_CLIENT_REQUEST(submit_version, SubmitVersion, SubmitVersionResult, kSubmitVersion, submit_version)
PRECEPTOR_CLIENT_REQUEST(review_version, ReviewVersion, ReviewVersionResult, kReviewVersion, review_version)
PRECEPTOR_CLIENT_REQUEST(reply_to_comment, ReplyToComment, ReplyToCommentResult, kReplyToComment,
                         reply_to_comment)
PRECEPTOR_CLIENT_REQUEST(resolve_comment, ResolveComment, ResolveCommentResult, kResolveComment,
                         resolve_comment)
PRECEPTOR_CLIENT_REQUEST(withdraw_assignment, WithdrawAssignment, WithdrawAssignmentResult,
                         kWithdrawAssignment, withdraw_assignment)
PRECEPTOR_CLIENT_REQUEST(list_assignments, ListAssignments, ListAssignmentsResult, kListAssignments,
                         list_assignments)
PRECEPTOR_CLIENT_REQUEST(get_assignment, GetAssignment, GetAssignmentResult, kGetAssignment, get_assignment)

#undef PRECEPTOR_CLIENT_REQUEST

namespace {

// Follows the pages of a list request from `request`'s cursor on, appending
// each page's entries to the first page's result. `cursor` reads and sets
// the request's after-id; `next` reads a result's, `entries` its list.
template <class Req, class Res, class Fetch, class SetCursor, class GetCursor, class Next, class Entries>
Result<Res> all_pages(Req request, Fetch fetch, SetCursor set_cursor, GetCursor cursor, Next next,
                      Entries entries) {
  Res all;
  for (;;) {
    auto page = fetch(request);
    if (!page) return page.status();
    for (auto& e : *entries(*page)) *entries(all)->Add() = std::move(e);
    if (!page->has_more()) return all;
    if (next(*page) <= cursor(request)) {
      return Status(v1::ERROR_CODE_INTERNAL, "The server's pages do not move forward (next after " +
                                                 std::to_string(next(*page)) + "); stopped listing.");
    }
    set_cursor(request, next(*page));
  }
}

}  // namespace

Result<v1::ListMentorsResult> Client::list_all_mentors_sync(v1::ListMentors request, Timeout timeout) {
  return all_pages<v1::ListMentors, v1::ListMentorsResult>(
      std::move(request), [&](const v1::ListMentors& r) { return list_mentors_sync(r, timeout); },
      [](v1::ListMentors& r, uint64_t after) { r.set_after_mentor_id(after); },
      [](const v1::ListMentors& r) { return r.after_mentor_id(); },
      [](const v1::ListMentorsResult& r) { return r.next_after_mentor_id(); },
      [](v1::ListMentorsResult& r) { return r.mutable_mentors(); });
}

Result<v1::ListMentorshipsResult> Client::list_all_mentorships_sync(v1::ListMentorships request,
                                                                    Timeout timeout) {
  return all_pages<v1::ListMentorships, v1::ListMentorshipsResult>(
      std::move(request), [&](const v1::ListMentorships& r) { return list_mentorships_sync(r, timeout); },
      [](v1::ListMentorships& r, uint64_t after) { r.set_after_mentorship_id(after); },
      [](const v1::ListMentorships& r) { return r.after_mentorship_id(); },
      [](const v1::ListMentorshipsResult& r) { return r.next_after_mentorship_id(); },
      [](v1::ListMentorshipsResult& r) { return r.mutable_mentorships(); });
}

void Client::send_message(v1::SendMessage request, Callback<v1::SendMessageResult> done) {
  impl_->post([request = std::move(request), done = std::move(done)](Impl& self) mutable {
    self.send_message(std::move(request), std::move(done));
  });
}

Result<v1::SendMessageResult> Client::send_message_sync(v1::SendMessage request, Timeout timeout) {
  return wait_for_reply<v1::SendMessageResult>(*impl_, timeout, [&](Callback<v1::SendMessageResult> cb) {
    send_message(std::move(request), std::move(cb));
  });
}

}  // namespace preceptor::client
