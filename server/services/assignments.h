#pragma once

// Assignments, their versions and reviews, inside one mentorship, and the
// due-soon and overdue nudges (work.proto, docs/protocol.md "Assignments and
// reviews").
//
// Records (storage/column_families.h, keys IdKey / PairKey / WorkDue):
//   assignments             assignment_id -> AssignmentRecord (with its waiting nudges)
//   mentorship_assignments  mentorship | assignment -> ""
//   assignment_versions     assignment | version -> AssignmentVersion (never rewritten)
//   reviews                 review_id -> Review (comments, replies, resolved marks)
//   assignment_reviews      assignment | review -> ""
//   work_due                due_ms | kAssignmentDueSoon/kAssignmentOverdue | assignment -> ""
//   mentorship_work         the counts directors see (assignments total/open/approved/overdue)
//
// Every change is one committer mutation that loads the records again and
// re-checks membership, state, limits and the clock on the committer thread,
// so of two concurrent requests only one can win, and a refused request
// writes nothing. Each change appends AssignmentChanged and/or ReviewChanged
// to both members. Thread-safe; `done` runs on the committer's delivery
// thread (keep it short).
//
// Nudges (run_timed_work, on the scheduler's thread):
// - While an assignment waits for a version (ASSIGNED, ACKNOWLEDGED,
//   CHANGES_REQUESTED) and has a due time, it has up to two work_due
//   entries, listed in its record: due soon (kDueSoonBeforeMs before the due
//   time, or at once when created closer than that) to the mentee, and
//   overdue (at the due time) to both members.
// - A pass reads only the entries due by now (at most kMaxNudgesPerPass of
//   this module's kinds), each handled in one mutation that reads it again,
//   sends the nudge and removes the entry in one write: sent once, even across
//   a second pass or a restart. At most kMaxNudgesInFlight wait in the
//   committer at once.
// - Dropped (not sent) when the state moved on (a submission, approval or
//   withdrawal removes the entries in its own write), when the mentorship is
//   no longer active, and a due-soon nudge once the due time has come.
// - Held while a recipient is inside their quiet hours (reminders.h
//   quiet_hours_end): the entry moves to their end, at most a day past the
//   nudge's time (then it goes anyway).
// - A changes-requested review schedules again the nudges whose time is still
//   ahead (never one whose time has passed: it may have been sent).
//
// Overdue count (MentorshipWorkRecord.assignments_overdue, flag
// AssignmentRecord.overdue_counted): counted when the overdue entry comes
// due while the assignment waits for a version, or when changes are
// requested after the due time; un-counted by a submission, approval or
// withdrawal.
//
// Authorization: the two members of the mentorship. Anyone else: NOT_FOUND
// ("No assignment N among yours."), the same as an id that does not exist;
// program directors and admins: PERMISSION_DENIED. Changes need the
// mentorship ACTIVE; reads do not.

#include <cstddef>
#include <cstdint>
#include <functional>

#include "common/clock.h"
#include "common/status.h"
#include "preceptor/v1/accounts.pb.h"
#include "preceptor/v1/work.pb.h"
#include "server/services/membership.h"
#include "server/services/record_io.h"
#include "storage/committer.h"
#include "storage/store.h"

namespace preceptor::services {

inline constexpr size_t kMaxAssignmentTitleBytes = 200;
inline constexpr size_t kMaxInstructionsBytes = 8 * 1024;
inline constexpr size_t kMaxVersionNoteBytes = 4000;
inline constexpr size_t kMaxReviewSummaryBytes = 8 * 1024;
inline constexpr size_t kMaxCommentTextBytes = 4000;  // a comment's text, a reply's text
inline constexpr size_t kMaxQuoteBytes = 1000;
inline constexpr size_t kMaxWithdrawReasonBytes = 2000;
// Open (not approved or withdrawn) assignments per mentorship, at most.
inline constexpr uint32_t kMaxOpenAssignments = 100;
inline constexpr uint32_t kMaxVersionsPerAssignment = 50;
inline constexpr size_t kMaxCommentsPerReview = 100;
inline constexpr size_t kMaxRepliesPerComment = 50;
// Reviews of one assignment, at most (comment-only reviews do not move the
// state, so without a bound they could pile up).
inline constexpr uint32_t kMaxReviewsPerAssignment = 200;
// A review with every comment and reply, serialized, at most: it travels
// whole in ReviewChanged and in replies, so it stays one page.
inline constexpr size_t kMaxReviewBytes = kMaxPageBytes;
// A due time is at most this far ahead (two years).
inline constexpr int64_t kMaxDueAheadMs = 730LL * 24 * 3600 * 1000;
// The due-soon nudge comes this long before the due time.
inline constexpr int64_t kDueSoonBeforeMs = 48LL * 3600 * 1000;
// ListAssignments: assignments a page (besides kMaxPageBytes).
inline constexpr uint32_t kDefaultAssignmentsPage = 50;
inline constexpr uint32_t kMaxAssignmentsPage = 100;
// GetAssignment: reviews a page (besides kMaxPageBytes).
inline constexpr uint32_t kDefaultReviewsPage = 20;
inline constexpr uint32_t kMaxReviewsPage = 50;
// Nudge entries handled in one pass at most; the rest wait for the next.
inline constexpr size_t kMaxNudgesPerPass = 10000;
// Nudge mutations of one pass waiting in the committer at once, at most.
inline constexpr size_t kMaxNudgesInFlight = 64;

// The assignments service. See the file comment for the rules.
class Assignments {
 public:
  template <class T>
  using Done = std::function<void(Result<T>)>;

  Assignments(storage::Store& store, storage::Committer& committer, const Membership& membership,
              const Clock& clock)
      : store_(store), committer_(committer), membership_(membership), clock_(clock) {}

  void create(const v1::User& actor, const v1::CreateAssignment& req, Done<v1::CreateAssignmentResult> done);
  void acknowledge(const v1::User& actor, const v1::AcknowledgeAssignment& req,
                   Done<v1::AcknowledgeAssignmentResult> done);
  void submit(const v1::User& actor, const v1::SubmitVersion& req, Done<v1::SubmitVersionResult> done);
  void review(const v1::User& actor, const v1::ReviewVersion& req, Done<v1::ReviewVersionResult> done);
  void reply(const v1::User& actor, const v1::ReplyToComment& req, Done<v1::ReplyToCommentResult> done);
  void resolve(const v1::User& actor, const v1::ResolveComment& req, Done<v1::ResolveCommentResult> done);
  void withdraw(const v1::User& actor, const v1::WithdrawAssignment& req,
                Done<v1::WithdrawAssignmentResult> done);

  Result<v1::ListAssignmentsResult> list(const v1::User& actor, const v1::ListAssignments& req) const;
  Result<v1::GetAssignmentResult> get(const v1::User& actor, const v1::GetAssignment& req) const;

  // One pass over the nudges due by now; returns how many entries it read
  // (each handled once its mutation is committed, before this returns).
  size_t run_timed_work();

 private:
  storage::Store& store_;
  storage::Committer& committer_;
  const Membership& membership_;
  const Clock& clock_;
};

}  // namespace preceptor::services
