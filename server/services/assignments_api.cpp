// The assignments module. Not built yet: every request answers UNIMPLEMENTED
// until the service lands (issue 13).
#include <memory>

#include "server/services/modules.h"

namespace preceptor::services {
namespace {

using api::Access;
using api::Caller;
using api::Reply;

Status not_built() {
  return Status(v1::ERROR_CODE_UNIMPLEMENTED,
                "Assignments, versions and reviews are not available on this server yet.");
}

class Module final : public api::Module {
 public:
  std::string_view name() const override { return "assignments"; }
  void add_requests(api::Router& router) override {
    router.handle<v1::CreateAssignment, v1::CreateAssignmentResult>(
        Access::signed_in(), [](const Caller&, const v1::CreateAssignment&,
                                Reply<v1::CreateAssignmentResult> reply) { reply(not_built()); });
    router.handle<v1::AcknowledgeAssignment, v1::AcknowledgeAssignmentResult>(
        Access::signed_in(), [](const Caller&, const v1::AcknowledgeAssignment&,
                                Reply<v1::AcknowledgeAssignmentResult> reply) { reply(not_built()); });
    router.handle<v1::SubmitVersion, v1::SubmitVersionResult>(
        Access::signed_in(), [](const Caller&, const v1::SubmitVersion&,
                                Reply<v1::SubmitVersionResult> reply) { reply(not_built()); });
    router.handle<v1::ReviewVersion, v1::ReviewVersionResult>(
        Access::signed_in(), [](const Caller&, const v1::ReviewVersion&,
                                Reply<v1::ReviewVersionResult> reply) { reply(not_built()); });
    router.handle<v1::ReplyToComment, v1::ReplyToCommentResult>(
        Access::signed_in(), [](const Caller&, const v1::ReplyToComment&,
                                Reply<v1::ReplyToCommentResult> reply) { reply(not_built()); });
    router.handle<v1::ResolveComment, v1::ResolveCommentResult>(
        Access::signed_in(), [](const Caller&, const v1::ResolveComment&,
                                Reply<v1::ResolveCommentResult> reply) { reply(not_built()); });
    router.handle<v1::WithdrawAssignment, v1::WithdrawAssignmentResult>(
        Access::signed_in(), [](const Caller&, const v1::WithdrawAssignment&,
                                Reply<v1::WithdrawAssignmentResult> reply) { reply(not_built()); });
    router.handle<v1::ListAssignments, v1::ListAssignmentsResult>(
        Access::signed_in(), [](const Caller&, const v1::ListAssignments&,
                                Reply<v1::ListAssignmentsResult> reply) { reply(not_built()); });
    router.handle<v1::GetAssignment, v1::GetAssignmentResult>(
        Access::signed_in(), [](const Caller&, const v1::GetAssignment&,
                                Reply<v1::GetAssignmentResult> reply) { reply(not_built()); });
  }
};

}  // namespace

std::unique_ptr<api::Module> assignments_module(Core&) { return std::make_unique<Module>(); }

}  // namespace preceptor::services
