#pragma once

#include <functional>

#include "common/clock.h"
#include "common/status.h"
#include "preceptor/v1/events.pb.h"
#include "preceptor/v1/mentorship.pb.h"
#include "preceptor/v1/records.pb.h"
#include "server/services/accounts.h"
#include "storage/committer.h"
#include "storage/store.h"

namespace preceptor::services {

// How long an unanswered request waits before the mentor is reminded, and
// before it expires. Cadence lengths for check-ins.
inline constexpr int64_t kDayMs = 24LL * 3600 * 1000;
inline constexpr int64_t kRequestReminderMs = 7 * kDayMs;
inline constexpr int64_t kRequestExpiryMs = 14 * kDayMs;
int64_t cadence_ms(v1::Cadence cadence);  // 0 for UNSPECIFIED

// The relationship lifecycle: directory, requests, answers, assignment,
// ending, and the communication agreement. Every change is one committer
// mutation that re-checks state on the committer thread, so concurrent
// requests cannot both win. Thread-safe; callbacks run on the committer
// thread (keep them short).
//
// Authorization: mentorship requests by someone who is not a member answer
// NOT_FOUND ("No mentorship N among yours."), so ids of other people's
// mentorships reveal nothing; program directors and admins, who are never
// members, get PERMISSION_DENIED for member-only actions.
class Mentorships {
 public:
  template <class T>
  using Done = std::function<void(Result<T>)>;

  Mentorships(storage::Store& store, storage::Committer& committer, Accounts& accounts, const Clock& clock);

  void update_profile(const v1::User& actor, const v1::UpdateMentorProfile& req,
                      Done<v1::MentorProfile> done);
  // The directory, a page at a time (see ListMentors in mentorship.proto).
  Result<v1::ListMentorsResult> list_mentors(const v1::User& actor, const v1::ListMentors& req) const;

  void request(const v1::User& actor, const v1::RequestMentorship& req, Done<v1::Mentorship> done);
  void accept(const v1::User& actor, const v1::AcceptMentorship& req, Done<v1::Mentorship> done);
  void decline(const v1::User& actor, const v1::DeclineMentorship& req, Done<v1::Mentorship> done);
  void assign(const v1::User& actor, const v1::AssignMentorship& req, Done<v1::Mentorship> done);
  void end(const v1::User& actor, const v1::EndMentorship& req, Done<v1::Mentorship> done);
  void propose_agreement(const v1::User& actor, const v1::ProposeAgreement& req, Done<v1::Mentorship> done);
  void accept_agreement(const v1::User& actor, const v1::AcceptAgreement& req, Done<v1::Mentorship> done);

  // Members: their own mentorships. Directors and admins: all of them, with
  // engagement figures and never message content.
  // A page at a time (see ListMentorships in mentorship.proto).
  Result<v1::ListMentorshipsResult> list(const v1::User& actor, const v1::ListMentorships& req) const;

  // Engagement of one conversation at `now_ms`.
  static v1::Engagement engagement(const v1::Mentorship& m, const v1::ConversationRecord& conv,
                                   int64_t now_ms);

  // Scheduler work, one committer mutation per change (all idempotent):
  // reminders after 7 days, expiry after 14, check-in due after the cadence.
  // Reads only the mentorships due by now from mentorships_by_due, so a pass
  // with nothing due reads one index entry and writes nothing. Blocks until
  // they are committed; returns how many mutations it submitted.
  size_t run_timed_work();

 private:
  Status check_new_pair(storage::CommitContext& ctx, const v1::User& mentor, uint64_t mentee_id,
                        v1::Purpose purpose);
  Result<v1::MentorshipRecord> activate(storage::CommitContext& ctx, v1::MentorshipRecord rec);

  storage::Store& store_;
  storage::Committer& committer_;
  Accounts& accounts_;
  const Clock& clock_;
};

}  // namespace preceptor::services
