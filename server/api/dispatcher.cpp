#include "server/api/dispatcher.h"

#include "server/hub/hub.h"

namespace preceptor::api {

Reply error_reply(uint64_t request_id, const Status& status) {
  Reply r;
  r.response.set_request_id(request_id);
  status.to_proto(r.response.mutable_error());
  return r;
}

namespace {

Status require_auth(const ConnectionInfo& conn) {
  if (conn.auth) return Status::ok();
  return unauthenticated("Sign in first: send Login or Authenticate before any other request.");
}

}  // namespace

void Dispatcher::dispatch(const ConnectionInfo& conn, v1::ClientFrame frame, ReplyFn reply) {
  const uint64_t id = frame.request_id();
  using F = v1::ClientFrame;

  // Requests allowed before authentication.
  switch (frame.request_case()) {
    case F::kPing: {
      Reply r;
      r.response.set_request_id(id);
      auto* pong = r.response.mutable_pong();
      pong->set_payload(std::move(*frame.mutable_ping()->mutable_payload()));
      pong->set_server_time_ms(s_.clock.now_ms());
      reply(std::move(r));
      return;
    }
    case F::kLogin: {
      s_.accounts.login(frame.login(), conn.peer_address, [id, reply](Result<services::LoginOutcome> outcome) {
        if (!outcome) return reply(error_reply(id, outcome.status()));
        Reply r;
        r.response.set_request_id(id);
        auto* result = r.response.mutable_login();
        result->set_token(outcome->token);
        *result->mutable_user() = outcome->session.user;
        result->set_idle_expires_at_ms(outcome->session.idle_expires_at_ms);
        result->set_expires_at_ms(outcome->session.expires_at_ms);
        r.authenticated = std::move(outcome->session);
        reply(std::move(r));
      });
      return;
    }
    case F::kAuthenticate: {
      auto session = s_.accounts.authenticate(frame.authenticate().token());
      if (!session) return reply(error_reply(id, session.status()));
      Reply r;
      r.response.set_request_id(id);
      auto* result = r.response.mutable_authenticate();
      *result->mutable_user() = session->user;
      result->set_idle_expires_at_ms(session->idle_expires_at_ms);
      result->set_expires_at_ms(session->expires_at_ms);
      r.authenticated = std::move(session.value());
      reply(std::move(r));
      return;
    }
    case F::REQUEST_NOT_SET:
      return reply(error_reply(
          id, frame.GetReflection()->GetUnknownFields(frame).empty()
                  ? invalid_argument("The frame carries no request; set one of ClientFrame's request fields.")
                  : Status(v1::ERROR_CODE_UNIMPLEMENTED,
                           "This server does not know that request type; the client is newer than the server. "
                           "Upgrade the server or use a matching client.")));
    default:
      break;
  }

  if (Status st = require_auth(conn); !st) return reply(error_reply(id, st));
  const services::AuthSession& auth = *conn.auth;
  if (auth.expires_at_ms != 0 && s_.clock.now_ms() > auth.expires_at_ms) {
    return reply(error_reply(id, unauthenticated("Your session expired; sign in again with your password.")));
  }

  switch (frame.request_case()) {
    case F::kWhoAmI: {
      Reply r;
      r.response.set_request_id(id);
      auto* result = r.response.mutable_who_am_i();
      *result->mutable_user() = auth.user;
      result->set_device_name(auth.device_name);
      result->set_connection_id(conn.connection_id);
      reply(std::move(r));
      return;
    }
    case F::kLogout: {
      s_.accounts.logout(auth.token_hash, [id, reply](const Status& st) {
        if (!st) return reply(error_reply(id, st));
        Reply r;
        r.response.set_request_id(id);
        r.response.mutable_logout();
        r.signed_out = true;
        reply(std::move(r));
      });
      return;
    }
    case F::kRevokeTokens: {
      if (auth.user.role() != v1::ROLE_ADMIN) {
        return reply(error_reply(id, permission_denied("Only an administrator can end another person's sessions.")));
      }
      auto target = s_.accounts.find_user(frame.revoke_tokens().username());
      if (!target) return reply(error_reply(id, target.status()));
      s_.accounts.revoke_tokens(target->id(), [id, reply](Result<uint32_t> n) {
        if (!n) return reply(error_reply(id, n.status()));
        Reply r;
        r.response.set_request_id(id);
        r.response.mutable_revoke_tokens()->set_revoked(*n);
        reply(std::move(r));
      });
      return;
    }
    default:
      break;
  }

  const v1::User& me = auth.user;
  // Replies with `fill(result, response)` on success, or the error.
  auto answer = [id, reply](auto fill) {
    return [id, reply, fill](auto result) {
      if (!result) return reply(error_reply(id, result.status()));
      Reply r;
      r.response.set_request_id(id);
      fill(*result, r.response);
      reply(std::move(r));
    };
  };
  auto mentorship_reply = answer([](v1::Mentorship& m, v1::Response& r) { *r.mutable_mentorship()->mutable_mentorship() = std::move(m); });
  auto& mentorships = s_.mentorships;
  auto& chat = s_.chat;
  switch (frame.request_case()) {
    case F::kUpdateMentorProfile:
      return mentorships.update_profile(me, frame.update_mentor_profile(), answer([](v1::MentorProfile& p, v1::Response& r) {
        *r.mutable_update_mentor_profile()->mutable_profile() = std::move(p);
      }));
    case F::kListMentors:
      return answer([](v1::ListMentorsResult& l, v1::Response& r) { *r.mutable_list_mentors() = std::move(l); })(
          mentorships.list_mentors(me, frame.list_mentors()));
    case F::kRequestMentorship: return mentorships.request(me, frame.request_mentorship(), mentorship_reply);
    case F::kAcceptMentorship: return mentorships.accept(me, frame.accept_mentorship(), mentorship_reply);
    case F::kDeclineMentorship: return mentorships.decline(me, frame.decline_mentorship(), mentorship_reply);
    case F::kAssignMentorship: return mentorships.assign(me, frame.assign_mentorship(), mentorship_reply);
    case F::kEndMentorship: return mentorships.end(me, frame.end_mentorship(), mentorship_reply);
    case F::kProposeAgreement: return mentorships.propose_agreement(me, frame.propose_agreement(), mentorship_reply);
    case F::kAcceptAgreement: return mentorships.accept_agreement(me, frame.accept_agreement(), mentorship_reply);
    case F::kListMentorships:
      return answer([](v1::ListMentorshipsResult& l, v1::Response& r) { *r.mutable_list_mentorships() = std::move(l); })(
          mentorships.list(me));
    case F::kSendMessage:
      return chat.send(
          me, frame.send_message(),
          answer([](v1::SendMessageResult& m, v1::Response& r) { *r.mutable_send_message() = std::move(m); }),
          conn.connection_id);
    case F::kEditMessage:
      return chat.edit(me, frame.edit_message(), answer([](v1::Message& m, v1::Response& r) {
        *r.mutable_message()->mutable_message() = std::move(m);
      }));
    case F::kDeleteMessage:
      return chat.remove(me, frame.delete_message(), answer([](v1::Message& m, v1::Response& r) {
        *r.mutable_message()->mutable_message() = std::move(m);
      }));
    case F::kHistory:
      return answer([](v1::HistoryResult& h, v1::Response& r) { *r.mutable_history() = std::move(h); })(
          chat.history(me, frame.history()));
    case F::kSync:
      return answer([](v1::SyncResult& h, v1::Response& r) { *r.mutable_sync() = std::move(h); })(
          chat.sync(me, frame.sync()));
    case F::kMarkRead:
      return chat.mark_read(me, frame.mark_read(), answer([](v1::MarkReadResult& m, v1::Response& r) {
        *r.mutable_mark_read() = std::move(m);
      }));
    case F::kListConversations:
      return answer([](v1::ListConversationsResult& l, v1::Response& r) { *r.mutable_list_conversations() = std::move(l); })(
          chat.list(me));
    case F::kSetTyping: {
      Status st = chat.set_typing(me, frame.set_typing());
      if (!st) return reply(error_reply(id, st));
      Reply r;
      r.response.set_request_id(id);
      r.response.mutable_set_typing();
      return reply(std::move(r));
    }
    default:
      return reply(error_reply(id, Status(v1::ERROR_CODE_UNIMPLEMENTED, "This request is not supported yet.")));
  }
}

}  // namespace preceptor::api
