// The calls module: ICE servers, and the signaling of a one-to-one call
// (start, answer, hang up, relay). Live only: nothing here is stored.
#include <memory>

#include "server/hub/hub.h"
#include "server/services/calls.h"
#include "server/services/modules.h"

namespace preceptor::services {
namespace {

using api::Access;
using api::Caller;

class CallsModule final : public api::Module {
 public:
  explicit CallsModule(Core& core)
      : calls_(core.store, core.hub, core.clock, core.monotonic_clock, core.calls) {
    core.hub.add_presence_listener([this](uint64_t user, bool online) { calls_.on_presence(user, online); });
  }
  std::string_view name() const override { return "calls"; }

  // Rings nobody answered end here too (besides on the next call request).
  void run_timed_work() override { calls_.expire_unanswered(); }

  void add_requests(api::Router& router) override {
    router.handle_now<v1::GetIceServers, v1::GetIceServersResult>(
        Access::signed_in(),
        [this](const Caller& caller, const v1::GetIceServers&) -> Result<v1::GetIceServersResult> {
          return calls_.ice_servers(caller.user());
        });
    router.handle_now<v1::StartCall, v1::StartCallResult>(
        Access::signed_in(),
        [this](const Caller& caller, const v1::StartCall& req) { return calls_.start(caller.user(), req); });
    router.handle_now<v1::AnswerCall, v1::AnswerCallResult>(
        Access::signed_in(),
        [this](const Caller& caller, const v1::AnswerCall& req) -> Result<v1::AnswerCallResult> {
          PRECEPTOR_RETURN_IF_ERROR(calls_.answer(caller.user(), req));
          return v1::AnswerCallResult();
        });
    router.handle_now<v1::HangUp, v1::HangUpResult>(
        Access::signed_in(), [this](const Caller& caller, const v1::HangUp& req) -> Result<v1::HangUpResult> {
          PRECEPTOR_RETURN_IF_ERROR(calls_.hang_up(caller.user(), req));
          return v1::HangUpResult();
        });
    router.handle_now<v1::SendCallSignal, v1::SendCallSignalResult>(
        Access::signed_in(),
        [this](const Caller& caller, const v1::SendCallSignal& req) -> Result<v1::SendCallSignalResult> {
          PRECEPTOR_RETURN_IF_ERROR(calls_.relay(caller.user(), req));
          return v1::SendCallSignalResult();
        });
  }

 private:
  Calls calls_;
};

}  // namespace

std::unique_ptr<api::Module> calls_module(Core& core) { return std::make_unique<CallsModule>(core); }

}  // namespace preceptor::services
