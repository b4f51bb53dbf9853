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
      return reply(error_reply(id, Status(v1::ERROR_CODE_UNIMPLEMENTED, "This request is not supported yet.")));
  }
}

}  // namespace preceptor::api
