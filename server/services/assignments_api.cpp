// The assignments module: assignments inside a mentorship, their versions
// and reviews (with comments, replies and resolved marks), the lists, and
// the timed work that sends the due-soon and overdue nudges.
#include <memory>

#include "server/services/assignments.h"
#include "server/services/modules.h"

namespace preceptor::services {
namespace {

using api::Access;
using api::Caller;
using api::Reply;

// Answers `reply` with the service's result as it is.
template <class Res>
Assignments::Done<Res> answer(Reply<Res> reply) {
  return [reply](Result<Res> result) { reply(std::move(result)); };
}

class AssignmentsModule final : public api::Module {
 public:
  explicit AssignmentsModule(Core& core)
      : assignments_(core.store, core.committer, core.membership, core.clock) {}
  std::string_view name() const override { return "assignments"; }

  // Every request: the service answers NOT_FOUND to anyone outside the
  // mentorship and PERMISSION_DENIED to directors and admins.
  void add_requests(api::Router& router) override {
    router.handle<v1::CreateAssignment, v1::CreateAssignmentResult>(
        Access::signed_in(), [this](const Caller& caller, const v1::CreateAssignment& req,
                                    Reply<v1::CreateAssignmentResult> reply) {
          assignments_.create(caller.user(), req, answer(reply));
        });
    router.handle<v1::AcknowledgeAssignment, v1::AcknowledgeAssignmentResult>(
        Access::signed_in(), [this](const Caller& caller, const v1::AcknowledgeAssignment& req,
                                    Reply<v1::AcknowledgeAssignmentResult> reply) {
          assignments_.acknowledge(caller.user(), req, answer(reply));
        });
    router.handle<v1::SubmitVersion, v1::SubmitVersionResult>(
        Access::signed_in(),
        [this](const Caller& caller, const v1::SubmitVersion& req, Reply<v1::SubmitVersionResult> reply) {
          assignments_.submit(caller.user(), req, answer(reply));
        });
    router.handle<v1::ReviewVersion, v1::ReviewVersionResult>(
        Access::signed_in(),
        [this](const Caller& caller, const v1::ReviewVersion& req, Reply<v1::ReviewVersionResult> reply) {
          assignments_.review(caller.user(), req, answer(reply));
        });
    router.handle<v1::ReplyToComment, v1::ReplyToCommentResult>(
        Access::signed_in(),
        [this](const Caller& caller, const v1::ReplyToComment& req, Reply<v1::ReplyToCommentResult> reply) {
          assignments_.reply(caller.user(), req, answer(reply));
        });
    router.handle<v1::ResolveComment, v1::ResolveCommentResult>(
        Access::signed_in(),
        [this](const Caller& caller, const v1::ResolveComment& req, Reply<v1::ResolveCommentResult> reply) {
          assignments_.resolve(caller.user(), req, answer(reply));
        });
    router.handle<v1::WithdrawAssignment, v1::WithdrawAssignmentResult>(
        Access::signed_in(), [this](const Caller& caller, const v1::WithdrawAssignment& req,
                                    Reply<v1::WithdrawAssignmentResult> reply) {
          assignments_.withdraw(caller.user(), req, answer(reply));
        });
    router.handle_now<v1::ListAssignments, v1::ListAssignmentsResult>(
        Access::signed_in(), [this](const Caller& caller, const v1::ListAssignments& req) {
          return assignments_.list(caller.user(), req);
        });
    router.handle_now<v1::GetAssignment, v1::GetAssignmentResult>(
        Access::signed_in(), [this](const Caller& caller, const v1::GetAssignment& req) {
          return assignments_.get(caller.user(), req);
        });
  }

  void run_timed_work() override { assignments_.run_timed_work(); }

 private:
  Assignments assignments_;
};

}  // namespace

std::unique_ptr<api::Module> assignments_module(Core& core) {
  return std::make_unique<AssignmentsModule>(core);
}

}  // namespace preceptor::services
