// The meetings module: meetings inside a mentorship (propose, accept,
// decline, new times, cancel, mark, notes), the "good fit" answers and
// their program-wide counts, and one's own list of meetings.
#include <memory>

#include "server/services/meetings.h"
#include "server/services/modules.h"

namespace preceptor::services {
namespace {

using api::Access;
using api::Caller;
using api::Reply;

// Answers a request whose result carries the changed meeting.
template <class Res>
Meetings::Done<v1::Meeting> answer_with_meeting(Reply<Res> reply) {
  return api::answer_in(std::move(reply), &Res::mutable_meeting);
}

class MeetingsModule final : public api::Module {
 public:
  explicit MeetingsModule(Core& core) : meetings_(core.store, core.committer, core.accounts, core.clock) {}
  std::string_view name() const override { return "meetings"; }

  void add_requests(api::Router& router) override {
    // Member actions: the service answers NOT_FOUND to anyone outside the
    // pair and PERMISSION_DENIED to directors and admins.
    router.handle<v1::ProposeMeeting, v1::ProposeMeetingResult>(
        Access::signed_in(),
        [this](const Caller& caller, const v1::ProposeMeeting& req, Reply<v1::ProposeMeetingResult> reply) {
          meetings_.propose(caller.user(), req, answer_with_meeting(reply));
        });
    router.handle<v1::AcceptMeeting, v1::AcceptMeetingResult>(
        Access::signed_in(),
        [this](const Caller& caller, const v1::AcceptMeeting& req, Reply<v1::AcceptMeetingResult> reply) {
          meetings_.accept(caller.user(), req, answer_with_meeting(reply));
        });
    router.handle<v1::DeclineMeeting, v1::DeclineMeetingResult>(
        Access::signed_in(),
        [this](const Caller& caller, const v1::DeclineMeeting& req, Reply<v1::DeclineMeetingResult> reply) {
          meetings_.decline(caller.user(), req, answer_with_meeting(reply));
        });
    router.handle<v1::RescheduleMeeting, v1::RescheduleMeetingResult>(
        Access::signed_in(), [this](const Caller& caller, const v1::RescheduleMeeting& req,
                                    Reply<v1::RescheduleMeetingResult> reply) {
          meetings_.reschedule(caller.user(), req, answer_with_meeting(reply));
        });
    router.handle<v1::CancelMeeting, v1::CancelMeetingResult>(
        Access::signed_in(),
        [this](const Caller& caller, const v1::CancelMeeting& req, Reply<v1::CancelMeetingResult> reply) {
          meetings_.cancel(caller.user(), req, answer_with_meeting(reply));
        });
    router.handle<v1::MarkMeeting, v1::MarkMeetingResult>(
        Access::signed_in(),
        [this](const Caller& caller, const v1::MarkMeeting& req, Reply<v1::MarkMeetingResult> reply) {
          meetings_.mark(caller.user(), req, answer_with_meeting(reply));
        });
    router.handle<v1::WriteMeetingNotes, v1::WriteMeetingNotesResult>(
        Access::signed_in(), [this](const Caller& caller, const v1::WriteMeetingNotes& req,
                                    Reply<v1::WriteMeetingNotesResult> reply) {
          meetings_.write_notes(caller.user(), req,
                                [reply](Result<v1::WriteMeetingNotesResult> r) { reply(std::move(r)); });
        });
    router.handle<v1::AnswerFit, v1::AnswerFitResult>(
        Access::signed_in(),
        [this](const Caller& caller, const v1::AnswerFit& req, Reply<v1::AnswerFitResult> reply) {
          meetings_.answer_fit(caller.user(), req,
                               [reply](Result<v1::AnswerFitResult> r) { reply(std::move(r)); });
        });
    router.handle_now<v1::GetFitSummary, v1::GetFitSummaryResult>(
        Access::roles({v1::ROLE_PROGRAM_DIRECTOR, v1::ROLE_ADMIN},
                      "Only program directors see how the program answers \"is this a good fit?\"."),
        [this](const Caller&, const v1::GetFitSummary&) { return meetings_.fit_summary(); });
    router.handle_now<v1::ListMeetings, v1::ListMeetingsResult>(
        Access::roles({v1::ROLE_MENTOR, v1::ROLE_MENTEE},
                      "Only mentors and mentees have meetings; program directors see their counts in "
                      "ListMentorships."),
        [this](const Caller& caller, const v1::ListMeetings& req) {
          return meetings_.list(caller.user(), req);
        });
  }

 private:
  Meetings meetings_;
};

}  // namespace

std::unique_ptr<api::Module> meetings_module(Core& core) { return std::make_unique<MeetingsModule>(core); }

}  // namespace preceptor::services
