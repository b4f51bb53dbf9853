// The office hours module: publishing office hours, listing and booking
// slots, and the drop-in queue, with the timed work that closes a line when
// its window ends.
#include <memory>

#include "server/services/modules.h"
#include "server/services/office_hours.h"

namespace preceptor::services {
namespace {

using api::Access;
using api::Caller;
using api::Reply;

class OfficeHoursModule final : public api::Module {
 public:
  explicit OfficeHoursModule(Core& core)
      : service_(core.store, core.committer, core.accounts, core.clock, core.busy_mirror) {}
  std::string_view name() const override { return "office hours"; }

  void add_requests(api::Router& router) override {
    router.handle<v1::SetOfficeHours, v1::SetOfficeHoursResult>(
        Access::roles({v1::ROLE_MENTOR}, "Only mentors publish office hours."),
        [this](const Caller& caller, const v1::SetOfficeHours& req, Reply<v1::SetOfficeHoursResult> reply) {
          service_.set(caller.user(), req, [reply](Result<v1::OfficeHours> oh) {
            if (!oh) return reply(oh.status());
            v1::SetOfficeHoursResult result;
            *result.mutable_office_hours() = std::move(*oh);
            reply(std::move(result));
          });
        });
    router.handle_now<v1::GetOfficeHours, v1::GetOfficeHoursResult>(
        Access::signed_in(), [this](const Caller& caller, const v1::GetOfficeHours& req) {
          return service_.get(caller.user(), req);
        });
    router.handle_now<v1::ListSlots, v1::ListSlotsResult>(
        Access::signed_in(), [this](const Caller& caller, const v1::ListSlots& req) {
          return service_.list_slots(caller.user(), req);
        });
    router.handle<v1::BookSlot, v1::BookSlotResult>(
        Access::roles({v1::ROLE_MENTEE}, "Only mentees book office-hours slots."),
        [this](const Caller& caller, const v1::BookSlot& req, Reply<v1::BookSlotResult> reply) {
          service_.book(caller.user(), req, [reply](Result<v1::Meeting> m) {
            if (!m) return reply(m.status());
            v1::BookSlotResult result;
            *result.mutable_meeting() = std::move(*m);
            reply(std::move(result));
          });
        });
    router.handle<v1::JoinQueue, v1::JoinQueueResult>(
        Access::roles({v1::ROLE_MENTEE}, "Only mentees join an office-hours queue."),
        [this](const Caller& caller, const v1::JoinQueue& req, Reply<v1::JoinQueueResult> reply) {
          service_.join_queue(caller.user(), req, [reply](Result<v1::QueueEntry> entry) {
            if (!entry) return reply(entry.status());
            v1::JoinQueueResult result;
            *result.mutable_entry() = std::move(*entry);
            reply(std::move(result));
          });
        });
    router.handle<v1::LeaveQueue, v1::LeaveQueueResult>(
        Access::roles({v1::ROLE_MENTEE}, "Only mentees wait in an office-hours queue."),
        [this](const Caller& caller, const v1::LeaveQueue& req, Reply<v1::LeaveQueueResult> reply) {
          service_.leave_queue(caller.user(), req, reply);
        });
    router.handle<v1::CallNext, v1::CallNextResult>(
        Access::roles({v1::ROLE_MENTOR}, "Only the mentor calls the next mentee in their queue."),
        [this](const Caller& caller, const v1::CallNext&, Reply<v1::CallNextResult> reply) {
          service_.call_next(caller.user(), [reply](Result<v1::QueueEntry> entry) {
            if (!entry) return reply(entry.status());
            v1::CallNextResult result;
            if (entry->mentee_id() != 0) *result.mutable_called() = std::move(*entry);
            reply(std::move(result));
          });
        });
    router.handle<v1::SkipInQueue, v1::SkipInQueueResult>(
        Access::roles({v1::ROLE_MENTOR}, "Only the mentor skips a mentee in their queue."),
        [this](const Caller& caller, const v1::SkipInQueue& req, Reply<v1::SkipInQueueResult> reply) {
          service_.skip(caller.user(), req, reply);
        });
    router.handle_now<v1::GetQueue, v1::GetQueueResult>(
        Access::signed_in(), [this](const Caller& caller, const v1::GetQueue& req) {
          return service_.get_queue(caller.user(), req);
        });
  }

  void run_timed_work() override { (void)service_.run_timed_work(); }

 private:
  OfficeHoursService service_;
};

}  // namespace

std::unique_ptr<api::Module> office_hours_module(Core& core) {
  return std::make_unique<OfficeHoursModule>(core);
}

}  // namespace preceptor::services
