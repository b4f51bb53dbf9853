#include "server/api/router.h"

#include <algorithm>
#include <cassert>
#include <stdexcept>
#include <thread>

#include "common/log.h"

namespace preceptor::api {
namespace pb = google::protobuf;

Status Access::check(const Caller& caller, int64_t now_ms) const {
  if (kind_ == Kind::kAnyone) return Status::ok();
  if (!caller.session)
    return unauthenticated("Sign in first: send Login or Authenticate before any other request.");
  const Session& session = *caller.session;
  if (session.expires_at_ms != 0 && now_ms > session.expires_at_ms) {
    return unauthenticated("Your session expired; sign in again with your password.");
  }
  if (kind_ == Kind::kRoles && std::find(roles_.begin(), roles_.end(), session.user.role()) == roles_.end()) {
    return permission_denied(refusal_);
  }
  return Status::ok();
}

void PendingCall::answer(Outcome outcome) {
  std::unique_lock lock(mu_);
  switch (phase_) {
    case Phase::kInHandler:
      if (std::this_thread::get_id() == dispatching_thread_) {
        early_ = std::move(outcome);
        phase_ = Phase::kAnsweredInHandler;
        return;
      }
      // Another thread (the committer) answered while the handler still
      // runs: it goes the way of every later answer, so it keeps its place
      // among what that thread sends the connection (events before it).
      [[fallthrough]];
    case Phase::kWaiting:
      phase_ = Phase::kAnswered;
      lock.unlock();
      later_(std::move(outcome));
      return;
    case Phase::kAnsweredInHandler:
    case Phase::kAnswered:
      assert(false && "a request was answered twice");
      log::error("request_answered_twice").kv("request_id", request_id_);
      return;
  }
}

std::optional<Outcome> PendingCall::handler_returned() {
  std::lock_guard lock(mu_);
  if (phase_ == Phase::kAnsweredInHandler) {
    phase_ = Phase::kAnswered;
    return std::move(early_);
  }
  if (phase_ == Phase::kInHandler) phase_ = Phase::kWaiting;
  return std::nullopt;
}

namespace {

Outcome refusal(uint64_t request_id, const Status& status) {
  Outcome out;
  out.response = error_response(request_id, status);
  return out;
}

}  // namespace

v1::Response error_response(uint64_t request_id, const Status& status) {
  v1::Response r;
  r.set_request_id(request_id);
  status.to_proto(r.mutable_error());
  return r;
}

void set_result(v1::Response& response, int field, pb::Message&& result) {
  const pb::FieldDescriptor* f = v1::Response::descriptor()->FindFieldByNumber(field);
  assert(f != nullptr && f->message_type() == result.GetDescriptor());
  pb::Message* slot = response.GetReflection()->MutableMessage(&response, f);
  // Same generated type on both sides: Swap moves without copying.
  slot->GetReflection()->Swap(slot, &result);
}

Router::Router(const Clock& clock) : clock_(clock) {
  int max_field = 0;
  const pb::OneofDescriptor* requests = v1::ClientFrame::descriptor()->FindOneofByName("request");
  for (int i = 0; i < requests->field_count(); ++i)
    max_field = std::max(max_field, requests->field(i)->number());
  entries_.resize(static_cast<size_t>(max_field) + 1);
}

int Router::field_for(const pb::Descriptor* request, const pb::Descriptor* result) const {
  const pb::OneofDescriptor* requests = v1::ClientFrame::descriptor()->FindOneofByName("request");
  const pb::FieldDescriptor* found = nullptr;
  for (int i = 0; i < requests->field_count(); ++i) {
    if (requests->field(i)->message_type() == request) found = requests->field(i);
  }
  if (found == nullptr) {
    throw std::logic_error("Router: " + request->full_name() + " is not a request of ClientFrame.");
  }
  const pb::FieldDescriptor* slot = v1::Response::descriptor()->FindFieldByNumber(found->number());
  if (slot == nullptr || slot->name() != found->name() || slot->message_type() != result ||
      slot->containing_oneof() == nullptr || slot->containing_oneof()->name() != "result") {
    throw std::logic_error("Router: Response must carry " + result->full_name() + " as field " +
                           std::to_string(found->number()) + " '" + found->name() + "' of its result oneof.");
  }
  if (entries_[static_cast<size_t>(found->number())]) {
    throw std::logic_error("Router: " + request->full_name() + " has a handler already.");
  }
  return found->number();
}

void Router::add(int field, Access access, Erased handler) {
  entries_[static_cast<size_t>(field)].emplace(Entry{std::move(access), std::move(handler)});
}

bool Router::handles(int field_number) const {
  return field_number > 0 && static_cast<size_t>(field_number) < entries_.size() &&
         entries_[static_cast<size_t>(field_number)].has_value();
}

std::optional<Outcome> Router::dispatch(const Caller& caller, v1::ClientFrame frame, AnswerFn later) const {
  const uint64_t id = frame.request_id();
  const int field = static_cast<int>(frame.request_case());
  if (field == v1::ClientFrame::REQUEST_NOT_SET) {
    const bool newer_client = !frame.GetReflection()->GetUnknownFields(frame).empty();
    return refusal(
        id, newer_client
                ? Status(v1::ERROR_CODE_UNIMPLEMENTED,
                         "This server does not know that request type; the client is newer than the server. "
                         "Upgrade the server or use a matching client.")
                : invalid_argument("The frame carries no request; set one of ClientFrame's request fields."));
  }
  // Only fields this server knows go further: a handler may store what it
  // was given, and bytes it cannot see must not ride along into records.
  frame.DiscardUnknownFields();
  if (!handles(field)) {
    return refusal(id, Status(v1::ERROR_CODE_UNIMPLEMENTED,
                              "This server does not handle that request yet; upgrade the server."));
  }
  const Entry& entry = *entries_[static_cast<size_t>(field)];
  if (Status allowed = entry.access.check(caller, clock_.now_ms()); !allowed) {
    return refusal(id, allowed);
  }
  auto call = std::make_shared<PendingCall>(id, std::move(later));
  const pb::FieldDescriptor* f = v1::ClientFrame::descriptor()->FindFieldByNumber(field);
  entry.handler(caller, frame.GetReflection()->GetMessage(frame, f), call);
  return call->handler_returned();
}

}  // namespace preceptor::api
