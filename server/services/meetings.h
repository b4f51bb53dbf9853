#pragma once

#include <functional>

#include "common/clock.h"
#include "common/status.h"
#include "preceptor/v1/accounts.pb.h"
#include "preceptor/v1/meetings.pb.h"
#include "server/services/accounts.h"
#include "storage/committer.h"
#include "storage/store.h"

namespace preceptor::services {

// ListMeetings: at most this many days from `from_ms` to `to_ms`, and this
// many meetings a page (besides kMaxPageBytes).
inline constexpr int64_t kMaxListMeetingsDays = 92;
inline constexpr uint32_t kDefaultMeetingsPage = 200;
inline constexpr uint32_t kMaxMeetingsPage = 500;

// Meetings inside a mentorship: propose, accept, decline, new times
// (counter-proposals and reschedules), cancel, mark held or no-show, shared
// and private notes, the "is this a good fit?" answers, and one's own list.
// Every change is one committer mutation that loads the meeting and
// re-checks its state, its members' calendars (the double-booking check)
// and the clock on the committer thread, so concurrent requests cannot both
// win, and a refused request writes nothing. Records and their indexes are
// written through meeting_book.h. Thread-safe; `done` runs on the
// committer's delivery thread (keep it short).
//
// Authorization: only the meeting's mentor and mentee act on it. Anyone
// else gets NOT_FOUND ("No meeting N among yours."), the same as an id that
// does not exist; program directors and admins get PERMISSION_DENIED (they
// see counts: engagement in ListMentorships, GetFitSummary).
//
// Ended mentorships: no new meetings and nothing that makes one happen
// (propose, accept, new time: FAILED_PRECONDITION); the meetings already
// made stay as they are, and can still be declined, cancelled, marked and
// given notes.
class Meetings {
 public:
  template <class T>
  using Done = std::function<void(Result<T>)>;

  Meetings(storage::Store& store, storage::Committer& committer, Accounts& accounts, const Clock& clock);

  void propose(const v1::User& actor, const v1::ProposeMeeting& req, Done<v1::Meeting> done);
  void accept(const v1::User& actor, const v1::AcceptMeeting& req, Done<v1::Meeting> done);
  void decline(const v1::User& actor, const v1::DeclineMeeting& req, Done<v1::Meeting> done);
  void reschedule(const v1::User& actor, const v1::RescheduleMeeting& req, Done<v1::Meeting> done);
  void cancel(const v1::User& actor, const v1::CancelMeeting& req, Done<v1::Meeting> done);
  void mark(const v1::User& actor, const v1::MarkMeeting& req, Done<v1::Meeting> done);
  void write_notes(const v1::User& actor, const v1::WriteMeetingNotes& req,
                   Done<v1::WriteMeetingNotesResult> done);
  void answer_fit(const v1::User& actor, const v1::AnswerFit& req, Done<v1::AnswerFitResult> done);

  // Program directors and admins (the router checks the role): the counts.
  Result<v1::GetFitSummaryResult> fit_summary() const;
  // The actor's own meetings in [from_ms, to_ms), a page at a time.
  Result<v1::ListMeetingsResult> list(const v1::User& actor, const v1::ListMeetings& req) const;

 private:
  // Runs `change` on the committer with the meeting `id` loaded for `actor`;
  // `done` gets the meeting as stored.
  void mutate(const v1::User& actor, uint64_t id,
              std::function<Status(storage::CommitContext&, v1::MeetingRecord&)> change,
              Done<v1::Meeting> done);

  storage::Store& store_;
  storage::Committer& committer_;
  Accounts& accounts_;
  const Clock& clock_;
};

}  // namespace preceptor::services
