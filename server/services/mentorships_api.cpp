// The mentorships module: the directory, requests and answers, assignment,
// ending, agreements, and the timed work that keeps them moving.
#include <memory>

#include "server/services/audit.h"
#include "server/services/mentorships.h"
#include "server/services/modules.h"

namespace preceptor::services {
namespace {

using api::Access;
using api::Caller;
using api::Reply;

// Answers a request whose result carries the changed mentorship.
template <class Res>
Mentorships::Done<v1::Mentorship> answer_with_mentorship(Reply<Res> reply) {
  return api::answer_in(std::move(reply), &Res::mutable_mentorship);
}

class MentorshipsModule final : public api::Module {
 public:
  explicit MentorshipsModule(Core& core)
      : committer_(core.committer), mentorships_(core.store, core.committer, core.accounts, core.clock) {}
  std::string_view name() const override { return "mentorships"; }

  void add_requests(api::Router& router) override {
    router.handle<v1::UpdateMentorProfile, v1::UpdateMentorProfileResult>(
        Access::roles({v1::ROLE_MENTOR}, "Only mentors have a mentor profile."),
        [this](const Caller& caller, const v1::UpdateMentorProfile& req,
               Reply<v1::UpdateMentorProfileResult> reply) {
          mentorships_.update_profile(caller.user(), req, [reply](Result<v1::MentorProfile> profile) {
            if (!profile) return reply(profile.status());
            v1::UpdateMentorProfileResult result;
            *result.mutable_profile() = std::move(*profile);
            reply(std::move(result));
          });
        });
    router.handle_now<v1::ListMentors, v1::ListMentorsResult>(
        Access::signed_in(), [this](const Caller& caller, const v1::ListMentors& req) {
          return mentorships_.list_mentors(caller.user(), req);
        });
    router.handle<v1::RequestMentorship, v1::RequestMentorshipResult>(
        Access::roles({v1::ROLE_MENTEE}, "Only mentees can request a mentorship."),
        [this](const Caller& caller, const v1::RequestMentorship& req,
               Reply<v1::RequestMentorshipResult> reply) {
          mentorships_.request(caller.user(), req, answer_with_mentorship(reply));
        });
    router.handle<v1::AcceptMentorship, v1::AcceptMentorshipResult>(
        Access::signed_in(), [this](const Caller& caller, const v1::AcceptMentorship& req,
                                    Reply<v1::AcceptMentorshipResult> reply) {
          mentorships_.accept(caller.user(), req, answer_with_mentorship(reply));
        });
    router.handle<v1::DeclineMentorship, v1::DeclineMentorshipResult>(
        Access::signed_in(), [this](const Caller& caller, const v1::DeclineMentorship& req,
                                    Reply<v1::DeclineMentorshipResult> reply) {
          mentorships_.decline(caller.user(), req, answer_with_mentorship(reply));
        });
    router.handle<v1::AssignMentorship, v1::AssignMentorshipResult>(
        Access::roles({v1::ROLE_PROGRAM_DIRECTOR, v1::ROLE_ADMIN},
                      "Only a program director can assign a mentorship."),
        [this](const Caller& caller, const v1::AssignMentorship& req,
               Reply<v1::AssignMentorshipResult> reply) {
          mentorships_.assign(caller.user(), req, answer_with_mentorship(reply));
        });
    router.handle<v1::EndMentorship, v1::EndMentorshipResult>(
        Access::signed_in(),
        [this](const Caller& caller, const v1::EndMentorship& req, Reply<v1::EndMentorshipResult> reply) {
          mentorships_.end(caller.user(), req, answer_with_mentorship(reply));
        });
    router.handle<v1::ProposeAgreement, v1::ProposeAgreementResult>(
        Access::signed_in(), [this](const Caller& caller, const v1::ProposeAgreement& req,
                                    Reply<v1::ProposeAgreementResult> reply) {
          mentorships_.propose_agreement(caller.user(), req, answer_with_mentorship(reply));
        });
    router.handle<v1::AcceptAgreement, v1::AcceptAgreementResult>(
        Access::signed_in(),
        [this](const Caller& caller, const v1::AcceptAgreement& req, Reply<v1::AcceptAgreementResult> reply) {
          mentorships_.accept_agreement(caller.user(), req, answer_with_mentorship(reply));
        });
    // A program director's (or admin's) read of the whole program is
    // answered only once its audit entry is durable: no read goes unrecorded.
    router.handle<v1::ListMentorships, v1::ListMentorshipsResult>(
        Access::signed_in(),
        [this](const Caller& caller, const v1::ListMentorships& req, Reply<v1::ListMentorshipsResult> reply) {
          auto page = mentorships_.list(caller.user(), req);
          const v1::Role role = caller.user().role();
          if (!page || (role != v1::ROLE_PROGRAM_DIRECTOR && role != v1::ROLE_ADMIN))
            return reply(std::move(page));
          const int n = page->mentorships_size();
          const std::string detail =
              "listed " + std::to_string(n) + (n == 1 ? " mentorship" : " mentorships") + " after id " +
              std::to_string(req.after_mentorship_id()) + (page->has_more() ? "; more follow" : "");
          auto result = std::make_shared<v1::ListMentorshipsResult>(std::move(*page));
          submit_audit(committer_,
                       audit_entry(v1::AUDIT_KIND_DIRECTOR_READ, audit_actor(caller), 0, {}, detail),
                       [reply, result](const Status& st) {
                         if (!st) return reply(st);
                         reply(std::move(*result));
                       });
        });
  }

  void run_timed_work() override { mentorships_.run_timed_work(); }

 private:
  storage::Committer& committer_;
  Mentorships mentorships_;
};

}  // namespace

std::unique_ptr<api::Module> mentorships_module(Core& core) {
  return std::make_unique<MentorshipsModule>(core);
}

}  // namespace preceptor::services
