// The goals module: a mentorship's goals (add, edit, done / dropped /
// reopened, progress notes), their history, reassessments, and the timed
// "time to reassess".
#include <memory>

#include "server/services/goals.h"
#include "server/services/modules.h"

namespace preceptor::services {
namespace {

using api::Access;
using api::Caller;
using api::Reply;

// Answers a request whose result carries the changed goal.
template <class Res>
Goals::Done<v1::Goal> answer_with_goal(Reply<Res> reply) {
  return api::answer_in(std::move(reply), &Res::mutable_goal);
}

class GoalsModule final : public api::Module {
 public:
  explicit GoalsModule(Core& core) : goals_(core.store, core.committer, core.membership, core.clock) {}
  std::string_view name() const override { return "goals"; }

  // Every request: the two members of the mentorship. The service answers
  // NOT_FOUND to anyone else and PERMISSION_DENIED to directors and admins
  // (who see counts in ListMentorships).
  void add_requests(api::Router& router) override {
    router.handle<v1::AddGoal, v1::AddGoalResult>(
        Access::signed_in(),
        [this](const Caller& caller, const v1::AddGoal& req, Reply<v1::AddGoalResult> reply) {
          goals_.add(caller.user(), req, answer_with_goal(reply));
        });
    router.handle<v1::EditGoal, v1::EditGoalResult>(
        Access::signed_in(),
        [this](const Caller& caller, const v1::EditGoal& req, Reply<v1::EditGoalResult> reply) {
          goals_.edit(caller.user(), req, answer_with_goal(reply));
        });
    router.handle<v1::SetGoalState, v1::SetGoalStateResult>(
        Access::signed_in(),
        [this](const Caller& caller, const v1::SetGoalState& req, Reply<v1::SetGoalStateResult> reply) {
          goals_.set_state(caller.user(), req, answer_with_goal(reply));
        });
    router.handle<v1::AddGoalNote, v1::AddGoalNoteResult>(
        Access::signed_in(),
        [this](const Caller& caller, const v1::AddGoalNote& req, Reply<v1::AddGoalNoteResult> reply) {
          goals_.add_note(caller.user(), req,
                          [reply](Result<v1::AddGoalNoteResult> r) { reply(std::move(r)); });
        });
    router.handle_now<v1::ListGoals, v1::ListGoalsResult>(
        Access::signed_in(),
        [this](const Caller& caller, const v1::ListGoals& req) { return goals_.list(caller.user(), req); });
    router.handle_now<v1::GetGoalHistory, v1::GetGoalHistoryResult>(
        Access::signed_in(), [this](const Caller& caller, const v1::GetGoalHistory& req) {
          return goals_.history(caller.user(), req);
        });
    router.handle<v1::Reassess, v1::ReassessResult>(
        Access::signed_in(),
        [this](const Caller& caller, const v1::Reassess& req, Reply<v1::ReassessResult> reply) {
          goals_.reassess(caller.user(), req, [reply](Result<v1::ReassessResult> r) { reply(std::move(r)); });
        });
    router.handle_now<v1::ListReassessments, v1::ListReassessmentsResult>(
        Access::signed_in(), [this](const Caller& caller, const v1::ListReassessments& req) {
          return goals_.list_reassessments(caller.user(), req);
        });
  }

  void run_timed_work() override { goals_.run_timed_work(); }

 private:
  Goals goals_;
};

}  // namespace

std::unique_ptr<api::Module> goals_module(Core& core) { return std::make_unique<GoalsModule>(core); }

}  // namespace preceptor::services
