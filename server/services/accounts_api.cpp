// The accounts module: signing in and out, sessions, and ending other
// people's sessions (admins).
#include "common/log.h"
#include "server/hub/hub.h"
#include "server/services/accounts.h"
#include "server/services/audit.h"
#include "server/services/modules.h"

namespace preceptor::services {
namespace {

using api::Access;
using api::Caller;
using api::Reply;

class AccountsModule final : public api::Module {
 public:
  explicit AccountsModule(Core& core) : core_(core) {}
  std::string_view name() const override { return "accounts"; }

  void add_requests(api::Router& router) override {
    router.handle_now<v1::Ping, v1::PingResult>(Access::anyone(), [this](const Caller&, const v1::Ping& req) {
      v1::PingResult pong;
      pong.set_payload(req.payload());
      pong.set_server_time_ms(core_.clock.now_ms());
      return Result<v1::PingResult>(std::move(pong));
    });

    router.handle<v1::Login, v1::LoginResult>(
        Access::anyone(), [this](const Caller& caller, const v1::Login& req, Reply<v1::LoginResult> reply) {
          const LoginSource source{
              .address = caller.peer_address, .connection_id = caller.connection_id, .gone = caller.gone};
          core_.accounts.login(req, source, [reply](Result<LoginOutcome> outcome) {
            if (!outcome) return reply(outcome.status());
            v1::LoginResult result;
            result.set_token(outcome->token);
            *result.mutable_user() = outcome->session.user;
            result.set_idle_expires_at_ms(outcome->session.idle_expires_at_ms);
            result.set_expires_at_ms(outcome->session.expires_at_ms);
            reply.signed_in(std::move(result), std::move(outcome->session));
          });
        });

    router.handle<v1::Authenticate, v1::AuthenticateResult>(
        Access::anyone(),
        [this](const Caller&, const v1::Authenticate& req, Reply<v1::AuthenticateResult> reply) {
          auto session = core_.accounts.authenticate(req.token());
          if (!session) return reply(session.status());
          v1::AuthenticateResult result;
          *result.mutable_user() = session->user;
          result.set_idle_expires_at_ms(session->idle_expires_at_ms);
          result.set_expires_at_ms(session->expires_at_ms);
          reply.signed_in(std::move(result), std::move(*session));
        });

    router.handle_now<v1::WhoAmI, v1::WhoAmIResult>(Access::signed_in(),
                                                    [](const Caller& caller, const v1::WhoAmI&) {
                                                      v1::WhoAmIResult result;
                                                      *result.mutable_user() = caller.user();
                                                      result.set_device_name(caller.session->device_name);
                                                      result.set_connection_id(caller.connection_id);
                                                      return Result<v1::WhoAmIResult>(std::move(result));
                                                    });

    // The token ends for every connection using it; this one closes after
    // its reply, the others are ended through the hub.
    router.handle<v1::Logout, v1::LogoutResult>(
        Access::signed_in(), [this](const Caller& caller, const v1::Logout&, Reply<v1::LogoutResult> reply) {
          core_.accounts.logout(audit_actor(caller), caller.session->token_hash, caller.connection_id,
                                [reply](const Status& st) {
                                  if (!st) return reply(st);
                                  reply.then_close(v1::LogoutResult());
                                });
        });

    router.handle<v1::RevokeTokens, v1::RevokeTokensResult>(
        Access::roles({v1::ROLE_ADMIN}, "Only an administrator can end another person's sessions."),
        [this](const Caller& caller, const v1::RevokeTokens& req, Reply<v1::RevokeTokensResult> reply) {
          auto target = core_.accounts.find_user(req.username());
          if (!target) return reply(target.status());
          core_.accounts.revoke_tokens(audit_actor(caller), target->id(), [reply](Result<uint32_t> n) {
            if (!n) return reply(n.status());
            v1::RevokeTokensResult result;
            result.set_revoked(*n);
            reply(std::move(result));
          });
        });

    router.handle<v1::SetAccountDisabled, v1::SetAccountDisabledResult>(
        Access::roles({v1::ROLE_ADMIN}, "Only an administrator can disable or enable an account."),
        [this](const Caller& caller, const v1::SetAccountDisabled& req,
               Reply<v1::SetAccountDisabledResult> reply) {
          auto target = core_.accounts.find_user(req.username());
          if (!target) return reply(target.status());
          if (req.disabled() && target->id() == caller.user().id()) {
            return reply(failed_precondition(
                "You cannot disable your own account; ask another administrator, so one always remains."));
          }
          core_.accounts.set_disabled(audit_actor(caller), target->id(), req.disabled(),
                                      [reply](Result<std::pair<v1::User, uint32_t>> out) {
                                        if (!out) return reply(out.status());
                                        v1::SetAccountDisabledResult result;
                                        *result.mutable_user() = std::move(out->first);
                                        result.set_tokens_ended(out->second);
                                        reply(std::move(result));
                                      });
        });

    router.handle<v1::ResetPassword, v1::ResetPasswordResult>(
        Access::roles({v1::ROLE_ADMIN}, "Only an administrator can reset another person's password."),
        [this](const Caller& caller, const v1::ResetPassword& req, Reply<v1::ResetPasswordResult> reply) {
          auto target = core_.accounts.find_user(req.username());
          if (!target) return reply(target.status());
          core_.accounts.reset_password(audit_actor(caller), target->id(), req.new_password(),
                                        [reply](Result<uint32_t> n) {
                                          if (!n) return reply(n.status());
                                          v1::ResetPasswordResult result;
                                          result.set_tokens_ended(*n);
                                          reply(std::move(result));
                                        });
        });
  }

  // Expired tokens are deleted in batches (AccountsOptions::token_sweep_batch),
  // at most kSweepBatchesPerRun a run, so one run stays short however many
  // tokens there are; the next run goes on where this one stopped.
  void run_timed_work() override {
    for (int i = 0; i < kSweepBatchesPerRun; ++i) {
      auto swept = core_.accounts.sweep_expired_tokens();
      if (!swept) {
        log::warn("token_sweep_failed").kv("error", swept.status().to_string());
        return;
      }
      if (swept->finished) return;
    }
  }

 private:
  static constexpr int kSweepBatchesPerRun = 20;
  Core& core_;
};

}  // namespace

std::unique_ptr<api::Module> accounts_module(Core& core) { return std::make_unique<AccountsModule>(core); }

}  // namespace preceptor::services
