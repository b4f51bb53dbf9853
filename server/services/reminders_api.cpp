// The reminders module: meeting preferences (reminder times, quiet hours)
// and the timed work that sends the reminders due.
#include <memory>

#include "server/services/modules.h"
#include "server/services/reminders.h"

namespace preceptor::services {
namespace {

using api::Access;
using api::Caller;
using api::Reply;

class RemindersModule final : public api::Module {
 public:
  explicit RemindersModule(Core& core) : reminders_(core.store, core.committer, core.clock) {}
  std::string_view name() const override { return "reminders"; }

  void add_requests(api::Router& router) override {
    router.handle<v1::SetMeetingPreferences, v1::SetMeetingPreferencesResult>(
        Access::signed_in(), [this](const Caller& caller, const v1::SetMeetingPreferences& req,
                                    Reply<v1::SetMeetingPreferencesResult> reply) {
          reminders_.set_preferences(caller.user(), req, [reply](Result<v1::MeetingPreferences> prefs) {
            if (!prefs) return reply(prefs.status());
            v1::SetMeetingPreferencesResult result;
            *result.mutable_preferences() = std::move(*prefs);
            reply(std::move(result));
          });
        });
    router.handle_now<v1::GetMeetingPreferences, v1::GetMeetingPreferencesResult>(
        Access::signed_in(),
        [this](const Caller& caller,
               const v1::GetMeetingPreferences&) -> Result<v1::GetMeetingPreferencesResult> {
          auto prefs = reminders_.get_preferences(caller.user());
          if (!prefs) return prefs.status();
          v1::GetMeetingPreferencesResult result;
          *result.mutable_preferences() = std::move(*prefs);
          return result;
        });
  }

  void run_timed_work() override { reminders_.run_timed_work(); }

 private:
  Reminders reminders_;
};

}  // namespace

std::unique_ptr<api::Module> reminders_module(Core& core) { return std::make_unique<RemindersModule>(core); }

}  // namespace preceptor::services
