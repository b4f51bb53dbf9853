// The goals module. Not built yet: every request answers UNIMPLEMENTED
// until the service lands (issue 13).
#include <memory>

#include "server/services/modules.h"

namespace preceptor::services {
namespace {

using api::Access;
using api::Caller;
using api::Reply;

Status not_built() {
  return Status(v1::ERROR_CODE_UNIMPLEMENTED, "Goals and reassessment are not available on this server yet.");
}

class Module final : public api::Module {
 public:
  std::string_view name() const override { return "goals"; }
  void add_requests(api::Router& router) override {
    router.handle<v1::AddGoal, v1::AddGoalResult>(
        Access::signed_in(),
        [](const Caller&, const v1::AddGoal&, Reply<v1::AddGoalResult> reply) { reply(not_built()); });
    router.handle<v1::EditGoal, v1::EditGoalResult>(
        Access::signed_in(),
        [](const Caller&, const v1::EditGoal&, Reply<v1::EditGoalResult> reply) { reply(not_built()); });
    router.handle<v1::SetGoalState, v1::SetGoalStateResult>(
        Access::signed_in(), [](const Caller&, const v1::SetGoalState&, Reply<v1::SetGoalStateResult> reply) {
          reply(not_built());
        });
    router.handle<v1::AddGoalNote, v1::AddGoalNoteResult>(
        Access::signed_in(), [](const Caller&, const v1::AddGoalNote&, Reply<v1::AddGoalNoteResult> reply) {
          reply(not_built());
        });
    router.handle<v1::ListGoals, v1::ListGoalsResult>(
        Access::signed_in(),
        [](const Caller&, const v1::ListGoals&, Reply<v1::ListGoalsResult> reply) { reply(not_built()); });
    router.handle<v1::GetGoalHistory, v1::GetGoalHistoryResult>(
        Access::signed_in(), [](const Caller&, const v1::GetGoalHistory&,
                                Reply<v1::GetGoalHistoryResult> reply) { reply(not_built()); });
    router.handle<v1::Reassess, v1::ReassessResult>(
        Access::signed_in(),
        [](const Caller&, const v1::Reassess&, Reply<v1::ReassessResult> reply) { reply(not_built()); });
    router.handle<v1::ListReassessments, v1::ListReassessmentsResult>(
        Access::signed_in(), [](const Caller&, const v1::ListReassessments&,
                                Reply<v1::ListReassessmentsResult> reply) { reply(not_built()); });
  }
};

}  // namespace

std::unique_ptr<api::Module> goals_module(Core&) { return std::make_unique<Module>(); }

}  // namespace preceptor::services
