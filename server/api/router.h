#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "preceptor/v1/frames.pb.h"
#include "server/api/session.h"

namespace preceptor::api {

// Who may send a request. Declared beside each handler when it is added.
class Access {
 public:
  // Before signing in too (Login, Authenticate, Ping).
  static Access anyone() { return Access(Kind::kAnyone, {}, {}); }
  // Any signed-in user whose session has not expired.
  static Access signed_in() { return Access(Kind::kSignedIn, {}, {}); }
  // Signed in with one of `roles`; anyone else gets PERMISSION_DENIED with
  // `refusal`, a sentence saying who may do it.
  static Access roles(std::initializer_list<v1::Role> roles, std::string refusal) {
    return Access(Kind::kRoles, roles, std::move(refusal));
  }

  // OK when `caller` may send the request at `now_ms`.
  Status check(const Caller& caller, int64_t now_ms) const;

 private:
  enum class Kind { kAnyone, kSignedIn, kRoles };
  Access(Kind kind, std::vector<v1::Role> roles, std::string refusal)
      : kind_(kind), roles_(std::move(roles)), refusal_(std::move(refusal)) {}
  Kind kind_;
  std::vector<v1::Role> roles_;
  std::string refusal_;
};

// The answer to one request as the connection acts on it.
struct Outcome {
  v1::Response response;  // request_id set; an error or the request's result
  // The request bound the connection to this session (Login, Authenticate).
  std::optional<Session> signed_in;
  // The connection closes normally once the response is sent (Logout).
  bool close_after = false;
};
using AnswerFn = std::function<void(Outcome)>;

// Shared by one request's Reply copies; see Router::dispatch for the contract.
class PendingCall {
 public:
  // Made on the thread that dispatches the request.
  PendingCall(uint64_t request_id, AnswerFn later)
      : request_id_(request_id), later_(std::move(later)), dispatching_thread_(std::this_thread::get_id()) {}
  uint64_t request_id() const { return request_id_; }
  // Answers the request once; a second answer is a bug (asserted, then dropped).
  // An answer on the dispatching thread while the handler runs is kept for
  // handler_returned(); any other goes to `later` at once.
  void answer(Outcome outcome);
  // Called by the router when the handler returned: the answer if the
  // handler gave it on this thread, else nullopt (`later` has it or will).
  std::optional<Outcome> handler_returned();

 private:
  enum class Phase { kInHandler, kAnsweredInHandler, kWaiting, kAnswered };
  const uint64_t request_id_;
  AnswerFn later_;
  const std::thread::id dispatching_thread_;
  std::mutex mu_;
  Phase phase_ = Phase::kInHandler;  // guarded by mu_
  std::optional<Outcome> early_;     // guarded by mu_
};

// How a handler answers: call it exactly once, at once or later, from any
// thread. Copyable; every copy answers the same request.
template <class Res>
class Reply {
 public:
  Reply(std::shared_ptr<PendingCall> call, int result_field)
      : call_(std::move(call)), result_field_(result_field) {}

  // The result, or the error that replaces it.
  void operator()(Result<Res> result) const { answer(std::move(result), {}, false); }
  // The result, and the connection is now signed in as `session`.
  void signed_in(Res result, Session session) const { answer(std::move(result), std::move(session), false); }
  // The result, then the connection closes normally.
  void then_close(Res result) const { answer(std::move(result), std::nullopt, true); }

 private:
  void answer(Result<Res> result, std::optional<Session> session, bool close_after) const;
  std::shared_ptr<PendingCall> call_;
  int result_field_;
};

// A service callback (std::function<void(Result<T>)>) that answers `reply`
// with a Res whose one field, `field` (e.g. &v1::AcceptMeetingResult::mutable_meeting),
// holds the T; an error answers as the error.
template <class Res, class T>
std::function<void(Result<T>)> answer_in(Reply<Res> reply, T* (Res::*field)()) {
  return [reply = std::move(reply), field](Result<T> value) {
    if (!value) return reply(value.status());
    Res result;
    *(result.*field)() = std::move(*value);
    reply(std::move(result));
  };
}

// Maps each ClientFrame request to the handler a module added for it, after
// checking who may send it. Knows nothing of sockets: the WebSocket session
// hands it decoded frames, tests call it directly.
//
// Handlers are added at start-up (one thread, before dispatch); dispatch()
// is then thread-safe and never blocks on disk writes (handlers hand writes
// to the committer and answer from its thread).
class Router {
 public:
  explicit Router(const Clock& clock);

  // Adds the handler of request `Req`, whose result is `Res`: ClientFrame
  // must carry Req in one field of its `request` oneof and Response carry
  // Res under the same number and name. Throws std::logic_error otherwise,
  // or when Req already has a handler (a wiring bug, found at start-up).
  template <class Req, class Res>
  void handle(Access access, std::function<void(const Caller&, const Req&, Reply<Res>)> handler);

  // The same for a handler that answers at once (reads, live-only events).
  template <class Req, class Res>
  void handle_now(Access access, std::function<Result<Res>(const Caller&, const Req&)> handler);

  // Answers one request. When the handler answers on this thread before
  // returning (validation errors, reads, refusals), the answer is returned
  // and `later` is never called; otherwise this returns nullopt and `later`
  // is called exactly once, from whichever thread answers (usually the
  // committer's, possibly before this returns). So an answer from another
  // thread always takes the same way as the events that thread sends, and
  // keeps its place among them.
  std::optional<Outcome> dispatch(const Caller& caller, v1::ClientFrame frame, AnswerFn later) const;

  // Whether the ClientFrame request field `field_number` has a handler.
  bool handles(int field_number) const;

 private:
  using Erased =
      std::function<void(const Caller&, const google::protobuf::Message&, std::shared_ptr<PendingCall>)>;
  struct Entry {
    Access access;
    Erased handler;
  };
  // The request field whose type is `request`; checks the rule above and
  // that no handler exists yet. Throws std::logic_error.
  int field_for(const google::protobuf::Descriptor* request,
                const google::protobuf::Descriptor* result) const;
  void add(int field, Access access, Erased handler);

  const Clock& clock_;
  std::vector<std::optional<Entry>> entries_;  // by ClientFrame field number
};

// Builds the response of `request_id` carrying `status` (an error).
v1::Response error_response(uint64_t request_id, const Status& status);

// Puts `result` into `response`'s result field `field`. REQUIRES: that field
// holds messages of result's type.
void set_result(v1::Response& response, int field, google::protobuf::Message&& result);

// ---- Implementation of the templates ----

template <class Res>
void Reply<Res>::answer(Result<Res> result, std::optional<Session> session, bool close_after) const {
  Outcome out;
  if (!result) {
    out.response = error_response(call_->request_id(), result.status());
  } else {
    out.response.set_request_id(call_->request_id());
    set_result(out.response, result_field_, std::move(*result));
    out.signed_in = std::move(session);
    out.close_after = close_after;
  }
  call_->answer(std::move(out));
}

template <class Req, class Res>
void Router::handle(Access access, std::function<void(const Caller&, const Req&, Reply<Res>)> handler) {
  const int field = field_for(Req::descriptor(), Res::descriptor());
  add(field, std::move(access),
      [field, handler = std::move(handler)](const Caller& caller, const google::protobuf::Message& request,
                                            std::shared_ptr<PendingCall> call) {
        handler(caller, static_cast<const Req&>(request), Reply<Res>(std::move(call), field));
      });
}

template <class Req, class Res>
void Router::handle_now(Access access, std::function<Result<Res>(const Caller&, const Req&)> handler) {
  handle<Req, Res>(std::move(access),
                   [handler = std::move(handler)](const Caller& caller, const Req& request,
                                                  Reply<Res> reply) { reply(handler(caller, request)); });
}

}  // namespace preceptor::api
