#pragma once

// Goals and reassessment (work.proto): a mentorship's goals, every change
// kept as history, the reassessments, and "time to reassess". Internal to
// server/services.

#include <cstdint>
#include <functional>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "preceptor/v1/accounts.pb.h"
#include "preceptor/v1/mentorship.pb.h"
#include "preceptor/v1/work.pb.h"
#include "server/services/membership.h"
#include "storage/committer.h"
#include "storage/store.h"

namespace preceptor::services {

// Limits (see work.proto and docs/protocol.md "Goals and reassessment").
inline constexpr size_t kMaxOpenGoals = 50;          // per mentorship
inline constexpr size_t kMaxGoals = 200;             // per mentorship, every state
inline constexpr uint32_t kMaxGoalHistory = 1000;    // entries per goal
inline constexpr uint32_t kGoalHistoryReserve = 10;  // the last entries: state changes and reassessments only
inline constexpr size_t kMaxGoalWhatBytes = 1000;
inline constexpr size_t kMaxGoalMeasureBytes = 1000;
inline constexpr size_t kMaxGoalReasonBytes = 2000;
inline constexpr size_t kMaxGoalNoteBytes = 4000;
inline constexpr size_t kMaxReassessSummaryBytes = 4000;
inline constexpr size_t kMaxReassessDecisions = 50;
inline constexpr size_t kMaxReassessNewGoals = 20;
inline constexpr uint32_t kDefaultGoalHistoryPage = 100;
inline constexpr uint32_t kMaxGoalHistoryPage = 200;
inline constexpr uint32_t kDefaultReassessmentsPage = 20;
inline constexpr uint32_t kMaxReassessmentsPage = 100;
// "Time to reassess" mutations of one pass: read at most this many due
// entries, with at most this many waiting in the committer at once.
inline constexpr size_t kMaxReassessmentsDuePerPass = 10000;
inline constexpr size_t kMaxReassessmentsInFlight = 64;

// The goals service. Every change is one committer mutation that loads the
// goal (or the mentorship's goals) and re-checks membership, state, limits
// and the revision on the committer thread, so concurrent requests cannot
// both win and a refused request writes nothing. Each change writes the
// GoalRecord, one goal_history entry (who, when, before and after), the
// mentorship's counts in mentorship_work, and a GoalChanged event to both
// members. Thread-safe; `done` runs on the committer's delivery thread.
//
// Authorization (work_book.h work_member): the two members of the
// mentorship; anyone else gets NOT_FOUND ("No goal N among yours." or "No
// mentorship N among yours."), the same as an id that does not exist;
// program directors and admins get PERMISSION_DENIED. Changes need the
// mentorship ACTIVE (FAILED_PRECONDITION); reading stays allowed after it
// ended.
class Goals {
 public:
  template <class T>
  using Done = std::function<void(Result<T>)>;

  Goals(storage::Store& store, storage::Committer& committer, const Membership& membership,
        const Clock& clock)
      : store_(store), committer_(committer), membership_(membership), clock_(clock) {}

  void add(const v1::User& actor, const v1::AddGoal& req, Done<v1::Goal> done);
  void edit(const v1::User& actor, const v1::EditGoal& req, Done<v1::Goal> done);
  void set_state(const v1::User& actor, const v1::SetGoalState& req, Done<v1::Goal> done);
  void add_note(const v1::User& actor, const v1::AddGoalNote& req, Done<v1::AddGoalNoteResult> done);
  void reassess(const v1::User& actor, const v1::Reassess& req, Done<v1::ReassessResult> done);

  Result<v1::ListGoalsResult> list(const v1::User& actor, const v1::ListGoals& req) const;
  Result<v1::GetGoalHistoryResult> history(const v1::User& actor, const v1::GetGoalHistory& req) const;
  Result<v1::ListReassessmentsResult> list_reassessments(const v1::User& actor,
                                                         const v1::ListReassessments& req) const;

  // One pass over the "time to reassess" entries of work_due that are due
  // by now (kind kReassessment; the other kinds are left to their modules):
  // each is one mutation that sends ReassessmentDue to both members and
  // plans the next period, holds it for quiet hours, or drops it for a
  // mentorship no longer active. Blocks until they are committed; returns
  // how many entries it handled. Scheduler thread.
  size_t run_timed_work();

 private:
  storage::Store& store_;
  storage::Committer& committer_;
  const Membership& membership_;
  const Clock& clock_;
};

// ---- Hooks of the mentorships service (mentorships.cpp) ----

// OK for an agreement's reassess_weeks: 0 (the default, 12) or 4-52; else
// INVALID_ARGUMENT on `field`.
Status check_reassess_weeks(uint32_t weeks, std::string_view field);

// Plans mentorship `after`'s next "time to reassess", inside the mutation
// that changed it from `before` (nullptr: a new mentorship). When `after` is
// ACTIVE and was not (or the accepted agreement's reassess_weeks changed:
// 0 and no agreement mean 12), its work_due entry (and
// mentorship_work.next_reassessment_ms) moves to the first end of a period
// after now, periods counted from the last reassessment or else from when it
// became active; an entry already due stays (the next pass sends it and
// plans the one after). When `after` is not active the entry goes. Writes
// nothing when nothing moves.
Status plan_reassessment(storage::CommitContext& ctx, const v1::Mentorship* before,
                         const v1::Mentorship& after);

// For a store written before "time to reassess" existed: plans mentorship
// `mentorship_id`'s schedule when it is active and has none yet (as
// plan_reassessment would have when it became active); nothing otherwise.
Status plan_reassessment_if_unplanned(storage::CommitContext& ctx, uint64_t mentorship_id);

}  // namespace preceptor::services
