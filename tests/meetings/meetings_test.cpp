// Meetings inside a mentorship: the lifecycle, every refusal, the
// double-booking check (concurrent accepts included), private notes, the
// "good fit" answers and the engagement figures, through the services
// harness on a manual clock; and live events plus Sync against a real server.
#include <gtest/gtest.h>

#include <future>
#include <string>
#include <vector>

#include "server/services/meeting_book.h"
#include "server/services/record_io.h"
#include "storage/keys.h"
#include "tests/harness/services_harness.h"
#include "tests/support/test_client.h"
#include "tests/support/test_server.h"

namespace preceptor::meetings_test {
namespace {

using namespace services;
using harness::frame;
using harness::ServicesHarness;
using F = v1::ClientFrame;
using v1::ErrorCode;

constexpr int64_t kMin = 60'000;
constexpr int64_t kHour = 60 * kMin;
constexpr int64_t kDay = 24 * kHour;

ErrorCode code_of(const v1::Response& r) { return r.error().code(); }

// The MeetingChanged events among `events`, in order.
std::vector<v1::MeetingChanged> meeting_changes(const std::vector<v1::Event>& events) {
  std::vector<v1::MeetingChanged> out;
  for (const auto& e : events)
    if (e.has_meeting_changed()) out.push_back(e.meeting_changed());
  return out;
}

class Meetings : public ::testing::Test {
 protected:
  Meetings()
      : mentor_(h_.add_user("mentor.erik", v1::ROLE_MENTOR)),
        mentee_(h_.add_user("wei.chen", v1::ROLE_MENTEE)),
        other_mentor_(h_.add_user("mentor.priya", v1::ROLE_MENTOR)),
        other_mentee_(h_.add_user("lucia", v1::ROLE_MENTEE)),
        stranger_(h_.add_user("stranger", v1::ROLE_MENTEE)),
        director_(h_.add_user("director", v1::ROLE_PROGRAM_DIRECTOR)) {}

  int64_t now() { return h_.clock().now_ms(); }

  v1::Response call(const v1::User& who, F f) { return h_.call(h_.caller(who), std::move(f)); }

  // Mentee asks, mentor accepts: the active mentorship.
  v1::Mentorship pair(const v1::User& mentee, const v1::User& mentor,
                      v1::Purpose purpose = v1::PURPOSE_CAREER) {
    v1::RequestMentorship req;
    req.set_mentor_id(mentor.id());
    req.set_purpose(purpose);
    auto asked = call(mentee, frame(&F::mutable_request_mentorship, req));
    EXPECT_TRUE(asked.has_request_mentorship()) << asked.DebugString();
    v1::AcceptMentorship accept;
    accept.set_mentorship_id(asked.request_mentorship().mentorship().id());
    auto accepted = call(mentor, frame(&F::mutable_accept_mentorship, accept));
    EXPECT_TRUE(accepted.has_accept_mentorship()) << accepted.DebugString();
    return accepted.accept_mentorship().mentorship();
  }

  v1::Response propose(const v1::User& who, uint64_t mentorship, int64_t start, uint32_t minutes = 60,
                       const std::string& tz = "Europe/Stockholm",
                       const std::string& agenda = "Case review") {
    v1::ProposeMeeting p;
    p.set_mentorship_id(mentorship);
    p.set_start_ms(start);
    p.set_duration_minutes(minutes);
    p.set_time_zone(tz);
    p.set_agenda(agenda);
    return call(who, frame(&F::mutable_propose_meeting, p));
  }
  // Proposes and returns the meeting; fails the test when refused.
  v1::Meeting proposed(const v1::User& who, uint64_t mentorship, int64_t start, uint32_t minutes = 60) {
    auto r = propose(who, mentorship, start, minutes);
    EXPECT_TRUE(r.has_propose_meeting()) << r.DebugString();
    return r.propose_meeting().meeting();
  }
  v1::Response accept(const v1::User& who, uint64_t id, uint32_t revision = 0) {
    v1::AcceptMeeting a;
    a.set_meeting_id(id);
    a.set_revision(revision);
    return call(who, frame(&F::mutable_accept_meeting, a));
  }
  v1::Response decline(const v1::User& who, uint64_t id, const std::string& reason = "On call that day") {
    v1::DeclineMeeting d;
    d.set_meeting_id(id);
    d.set_reason(reason);
    return call(who, frame(&F::mutable_decline_meeting, d));
  }
  v1::Response reschedule(const v1::User& who, uint64_t id, int64_t start, uint32_t minutes = 0,
                          const std::string& tz = {}) {
    v1::RescheduleMeeting r;
    r.set_meeting_id(id);
    r.set_start_ms(start);
    r.set_duration_minutes(minutes);
    r.set_time_zone(tz);
    return call(who, frame(&F::mutable_reschedule_meeting, r));
  }
  v1::Response cancel(const v1::User& who, uint64_t id, const std::string& reason = "Clinic overran") {
    v1::CancelMeeting c;
    c.set_meeting_id(id);
    c.set_reason(reason);
    return call(who, frame(&F::mutable_cancel_meeting, c));
  }
  v1::Response mark(const v1::User& who, uint64_t id, v1::MeetingOutcome outcome) {
    v1::MarkMeeting m;
    m.set_meeting_id(id);
    m.set_outcome(outcome);
    return call(who, frame(&F::mutable_mark_meeting, m));
  }
  v1::Response notes(const v1::User& who, uint64_t id, bool is_private, const std::string& text) {
    v1::WriteMeetingNotes n;
    n.set_meeting_id(id);
    n.set_is_private(is_private);
    n.set_text(text);
    return call(who, frame(&F::mutable_write_meeting_notes, n));
  }
  v1::Response answer_fit(const v1::User& who, uint64_t mentorship, v1::FitAnswer answer) {
    v1::AnswerFit a;
    a.set_mentorship_id(mentorship);
    a.set_answer(answer);
    return call(who, frame(&F::mutable_answer_fit, a));
  }
  v1::Response list(const v1::User& who, int64_t from, int64_t to, uint32_t limit = 0,
                    std::optional<v1::MeetingCursor> after = std::nullopt) {
    v1::ListMeetings l;
    l.set_from_ms(from);
    l.set_to_ms(to);
    l.set_limit(limit);
    if (after) *l.mutable_after() = *after;
    return call(who, frame(&F::mutable_list_meetings, l));
  }
  // An accepted meeting of `proposer` and `acceptor` at `start`.
  v1::Meeting accepted(const v1::User& proposer, const v1::User& acceptor, uint64_t mentorship, int64_t start,
                       uint32_t minutes = 60) {
    const v1::Meeting m = proposed(proposer, mentorship, start, minutes);
    auto r = accept(acceptor, m.id());
    EXPECT_TRUE(r.has_accept_meeting()) << r.DebugString();
    return r.accept_meeting().meeting();
  }

  ServicesHarness h_;
  v1::User mentor_, mentee_, other_mentor_, other_mentee_, stranger_, director_;
};

TEST_F(Meetings, ProposeAcceptMoveMarkAndNotesReachBothMembersAsOneEventEach) {
  const auto m = pair(mentee_, mentor_);
  auto mentor_live = h_.connect(mentor_, 1);
  auto mentee_live = h_.connect(mentee_, 2);
  const int64_t start = now() + 2 * kDay;

  auto p = propose(mentee_, m.id(), start, 45, "Europe/Stockholm", "My first research question");
  ASSERT_TRUE(p.has_propose_meeting()) << p.DebugString();
  const v1::Meeting first = p.propose_meeting().meeting();
  EXPECT_EQ(first.state(), v1::MEETING_STATE_PROPOSED);
  EXPECT_EQ(first.revision(), 1u);
  EXPECT_EQ(first.mentor_id(), mentor_.id());
  EXPECT_EQ(first.mentee_id(), mentee_.id());
  EXPECT_EQ(first.proposed_by(), mentee_.id());
  EXPECT_EQ(first.where().kind(), v1::WHERE_KIND_IN_APP_CALL);
  EXPECT_EQ(first.mentorship_id(), m.id());

  // The proposer cannot accept their own proposal; the other member can.
  EXPECT_EQ(code_of(accept(mentee_, first.id())), v1::ERROR_CODE_FAILED_PRECONDITION);
  auto a = accept(mentor_, first.id(), 1);
  ASSERT_TRUE(a.has_accept_meeting()) << a.DebugString();
  EXPECT_EQ(a.accept_meeting().meeting().state(), v1::MEETING_STATE_ACCEPTED);
  EXPECT_EQ(a.accept_meeting().meeting().revision(), 2u);

  // A reschedule waits for the other member: the meeting keeps its time.
  auto r = reschedule(mentor_, first.id(), start + kDay, 30);
  ASSERT_TRUE(r.has_reschedule_meeting()) << r.DebugString();
  const v1::Meeting moved = r.reschedule_meeting().meeting();
  EXPECT_EQ(moved.state(), v1::MEETING_STATE_ACCEPTED);
  EXPECT_EQ(moved.start_ms(), start);
  EXPECT_EQ(moved.pending().start_ms(), start + kDay);
  EXPECT_EQ(moved.pending().duration_minutes(), 30u);
  EXPECT_EQ(moved.pending().time_zone(), "Europe/Stockholm");
  EXPECT_EQ(moved.pending().proposed_by(), mentor_.id());
  EXPECT_EQ(code_of(accept(mentor_, first.id())), v1::ERROR_CODE_FAILED_PRECONDITION);
  auto a2 = accept(mentee_, first.id());
  ASSERT_TRUE(a2.has_accept_meeting()) << a2.DebugString();
  EXPECT_EQ(a2.accept_meeting().meeting().start_ms(), start + kDay);
  EXPECT_EQ(a2.accept_meeting().meeting().duration_minutes(), 30u);
  EXPECT_FALSE(a2.accept_meeting().meeting().has_pending());

  // After the start: marked held once; a different second mark is refused.
  EXPECT_EQ(code_of(mark(mentee_, first.id(), v1::MEETING_OUTCOME_HELD)), v1::ERROR_CODE_FAILED_PRECONDITION);
  h_.clock().advance_ms(3 * kDay + kMin);
  auto held = mark(mentee_, first.id(), v1::MEETING_OUTCOME_HELD);
  ASSERT_TRUE(held.has_mark_meeting()) << held.DebugString();
  EXPECT_EQ(held.mark_meeting().meeting().state(), v1::MEETING_STATE_HELD);
  EXPECT_EQ(held.mark_meeting().meeting().outcome_by(), mentee_.id());
  EXPECT_EQ(code_of(mark(mentor_, first.id(), v1::MEETING_OUTCOME_NO_SHOW)),
            v1::ERROR_CODE_FAILED_PRECONDITION);
  auto again = mark(mentor_, first.id(), v1::MEETING_OUTCOME_HELD);  // the same mark: nothing changes
  ASSERT_TRUE(again.has_mark_meeting());
  EXPECT_EQ(again.mark_meeting().meeting().revision(), 5u);

  auto shared = notes(mentor_, first.id(), false, "Read the two papers we discussed.\nNext: the protocol.");
  ASSERT_TRUE(shared.has_write_meeting_notes()) << shared.DebugString();
  EXPECT_EQ(shared.write_meeting_notes().meeting().shared_notes(),
            "Read the two papers we discussed.\nNext: the protocol.");
  EXPECT_EQ(shared.write_meeting_notes().meeting().revision(), 6u);

  const std::vector<v1::MeetingChange> expected = {
      v1::MEETING_CHANGE_PROPOSED, v1::MEETING_CHANGE_ACCEPTED, v1::MEETING_CHANGE_NEW_TIME_PROPOSED,
      v1::MEETING_CHANGE_ACCEPTED, v1::MEETING_CHANGE_HELD,     v1::MEETING_CHANGE_NOTES};
  for (auto* live : {mentor_live.get(), mentee_live.get()}) {
    const auto changes = meeting_changes(live->wait_events(expected.size()));
    ASSERT_EQ(changes.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(changes[i].change(), expected[i]) << i;
      EXPECT_EQ(changes[i].meeting().revision(), i + 1) << i;
      EXPECT_EQ(changes[i].meeting().id(), first.id());
    }
    EXPECT_EQ(changes[1].actor_id(), mentor_.id());
    EXPECT_EQ(changes[4].actor_id(), mentee_.id());
    EXPECT_EQ(changes[4].meeting().changed_by(), mentee_.id());
  }
}

TEST_F(Meetings, DeclinesAndCounterProposals) {
  const auto m = pair(mentee_, mentor_);
  const int64_t start = now() + kDay;

  // A proposal declined, with the reason both see.
  const v1::Meeting no = proposed(mentee_, m.id(), start);
  EXPECT_EQ(code_of(decline(mentee_, no.id())), v1::ERROR_CODE_FAILED_PRECONDITION);  // one's own
  auto d = decline(mentor_, no.id(), "I am on nights that week.");
  ASSERT_TRUE(d.has_decline_meeting()) << d.DebugString();
  EXPECT_EQ(d.decline_meeting().meeting().state(), v1::MEETING_STATE_DECLINED);
  EXPECT_EQ(d.decline_meeting().meeting().reason(), "I am on nights that week.");
  EXPECT_EQ(code_of(accept(mentor_, no.id())), v1::ERROR_CODE_FAILED_PRECONDITION);
  EXPECT_EQ(code_of(reschedule(mentee_, no.id(), start + kHour)), v1::ERROR_CODE_FAILED_PRECONDITION);

  // A counter-proposal from the other member: the proposer accepts it.
  const v1::Meeting counter = proposed(mentee_, m.id(), start + 2 * kHour);
  auto c = reschedule(mentor_, counter.id(), start + 4 * kHour);
  ASSERT_TRUE(c.has_reschedule_meeting()) << c.DebugString();
  EXPECT_EQ(c.reschedule_meeting().meeting().state(), v1::MEETING_STATE_PROPOSED);
  EXPECT_EQ(c.reschedule_meeting().meeting().start_ms(), start + 2 * kHour);
  EXPECT_EQ(c.reschedule_meeting().meeting().pending().start_ms(), start + 4 * kHour);
  EXPECT_EQ(code_of(accept(mentor_, counter.id())), v1::ERROR_CODE_FAILED_PRECONDITION);
  auto took = accept(mentee_, counter.id());
  ASSERT_TRUE(took.has_accept_meeting()) << took.DebugString();
  EXPECT_EQ(took.accept_meeting().meeting().state(), v1::MEETING_STATE_ACCEPTED);
  EXPECT_EQ(took.accept_meeting().meeting().start_ms(), start + 4 * kHour);

  // A new time for an accepted meeting, declined: it keeps its old time.
  auto ask = reschedule(mentee_, counter.id(), start + 6 * kHour);
  ASSERT_TRUE(ask.has_reschedule_meeting());
  EXPECT_EQ(code_of(decline(mentee_, counter.id())), v1::ERROR_CODE_FAILED_PRECONDITION);  // asked it oneself
  auto kept = decline(mentor_, counter.id(), "That hour is taken by the ward round.");
  ASSERT_TRUE(kept.has_decline_meeting()) << kept.DebugString();
  EXPECT_EQ(kept.decline_meeting().meeting().state(), v1::MEETING_STATE_ACCEPTED);
  EXPECT_EQ(kept.decline_meeting().meeting().start_ms(), start + 4 * kHour);
  EXPECT_FALSE(kept.decline_meeting().meeting().has_pending());

  // The proposer of a meeting not yet answered changes its time directly.
  const v1::Meeting fresh = proposed(mentor_, m.id(), start + 8 * kHour);
  auto own = reschedule(mentor_, fresh.id(), start + 9 * kHour, 20, "America/New_York");
  ASSERT_TRUE(own.has_reschedule_meeting()) << own.DebugString();
  EXPECT_EQ(own.reschedule_meeting().meeting().start_ms(), start + 9 * kHour);
  EXPECT_EQ(own.reschedule_meeting().meeting().duration_minutes(), 20u);
  EXPECT_EQ(own.reschedule_meeting().meeting().time_zone(), "America/New_York");
  EXPECT_FALSE(own.reschedule_meeting().meeting().has_pending());
  EXPECT_EQ(own.reschedule_meeting().meeting().revision(), 2u);

  // Cancelled by either member before the start, with the reason.
  auto gone = cancel(mentee_, counter.id(), "My rotation moved to another hospital.");
  ASSERT_TRUE(gone.has_cancel_meeting()) << gone.DebugString();
  EXPECT_EQ(gone.cancel_meeting().meeting().state(), v1::MEETING_STATE_CANCELLED);
  EXPECT_EQ(gone.cancel_meeting().meeting().reason(), "My rotation moved to another hospital.");
  EXPECT_EQ(code_of(cancel(mentor_, counter.id())), v1::ERROR_CODE_FAILED_PRECONDITION);
  EXPECT_EQ(code_of(notes(mentor_, counter.id(), false, "x")), v1::ERROR_CODE_FAILED_PRECONDITION);
}

TEST_F(Meetings, EveryBadInputGetsItsCodeAndFieldAndWritesNothing) {
  const auto m = pair(mentee_, mentor_);
  const int64_t start = now() + kDay;
  struct Case {
    std::string name;
    v1::Response r;
    ErrorCode code;
    std::string field;
  };
  v1::ProposeMeeting base;
  base.set_mentorship_id(m.id());
  base.set_start_ms(start);
  base.set_duration_minutes(60);
  base.set_time_zone("Europe/Berlin");
  auto with = [&](auto fill) {
    v1::ProposeMeeting p = base;
    fill(p);
    return call(mentee_, frame(&F::mutable_propose_meeting, p));
  };
  std::vector<Case> cases;
  cases.push_back({"past", with([&](auto& p) { p.set_start_ms(now() - kMin); }),
                   v1::ERROR_CODE_INVALID_ARGUMENT, "start_ms"});
  cases.push_back(
      {"now", with([&](auto& p) { p.set_start_ms(now()); }), v1::ERROR_CODE_INVALID_ARGUMENT, "start_ms"});
  cases.push_back({"too far", with([&](auto& p) { p.set_start_ms(now() + 366 * kDay); }),
                   v1::ERROR_CODE_INVALID_ARGUMENT, "start_ms"});
  cases.push_back({"too short", with([](auto& p) { p.set_duration_minutes(4); }),
                   v1::ERROR_CODE_INVALID_ARGUMENT, "duration_minutes"});
  cases.push_back({"too long", with([](auto& p) { p.set_duration_minutes(481); }),
                   v1::ERROR_CODE_INVALID_ARGUMENT, "duration_minutes"});
  cases.push_back(
      {"no zone", with([](auto& p) { p.clear_time_zone(); }), v1::ERROR_CODE_INVALID_ARGUMENT, "time_zone"});
  cases.push_back({"unknown zone", with([](auto& p) { p.set_time_zone("Mars/Olympus_Mons"); }),
                   v1::ERROR_CODE_INVALID_ARGUMENT, "time_zone"});
  cases.push_back({"escaping zone", with([](auto& p) { p.set_time_zone("../../etc/passwd"); }),
                   v1::ERROR_CODE_INVALID_ARGUMENT, "time_zone"});
  cases.push_back({"big agenda", with([](auto& p) { p.set_agenda(std::string(kMaxAgendaBytes + 1, 'a')); }),
                   v1::ERROR_CODE_INVALID_ARGUMENT, "agenda"});
  cases.push_back({"bad utf-8 agenda", with([](auto& p) { p.set_agenda("caf\xc3"); }),
                   v1::ERROR_CODE_INVALID_ARGUMENT, "agenda"});
  cases.push_back({"link without https", with([](auto& p) {
                     p.mutable_where()->set_kind(v1::WHERE_KIND_LINK);
                     p.mutable_where()->set_detail("javascript:alert(1)");
                   }),
                   v1::ERROR_CODE_INVALID_ARGUMENT, "where.detail"});
  cases.push_back({"place without name",
                   with([](auto& p) { p.mutable_where()->set_kind(v1::WHERE_KIND_PLACE); }),
                   v1::ERROR_CODE_INVALID_ARGUMENT, "where.detail"});
  cases.push_back({"unknown where",
                   with([](auto& p) { p.mutable_where()->set_kind(static_cast<v1::WhereKind>(9)); }),
                   v1::ERROR_CODE_INVALID_ARGUMENT, "where.kind"});
  cases.push_back({"no such mentorship", with([](auto& p) { p.set_mentorship_id(999); }),
                   v1::ERROR_CODE_NOT_FOUND, "mentorship_id"});

  // The long-text limits hold at the limit exactly.
  auto at_limit = with([](auto& p) { p.set_agenda(std::string(kMaxAgendaBytes, 'a')); });
  ASSERT_TRUE(at_limit.has_propose_meeting()) << at_limit.DebugString();
  const uint64_t id = at_limit.propose_meeting().meeting().id();

  auto reason_of = [&](const std::string& reason, bool cancelling) {
    return cancelling ? cancel(mentor_, id, reason) : decline(mentor_, id, reason);
  };
  cases.push_back({"no decline reason", reason_of(" \n", false), v1::ERROR_CODE_INVALID_ARGUMENT, "reason"});
  cases.push_back({"long decline reason", reason_of(std::string(kMaxReasonBytes + 1, 'r'), false),
                   v1::ERROR_CODE_INVALID_ARGUMENT, "reason"});
  cases.push_back({"no cancel reason", reason_of("", true), v1::ERROR_CODE_INVALID_ARGUMENT, "reason"});
  cases.push_back({"stale revision", accept(mentor_, id, 7), v1::ERROR_CODE_ABORTED, "revision"});
  cases.push_back({"same time", reschedule(mentee_, id, start), v1::ERROR_CODE_INVALID_ARGUMENT, "start_ms"});
  cases.push_back({"new time in the past", reschedule(mentee_, id, now() - kHour),
                   v1::ERROR_CODE_INVALID_ARGUMENT, "start_ms"});
  cases.push_back({"new duration", reschedule(mentee_, id, start + kHour, 500),
                   v1::ERROR_CODE_INVALID_ARGUMENT, "duration_minutes"});
  cases.push_back({"new zone", reschedule(mentee_, id, start + kHour, 0, "Nowhere/Land"),
                   v1::ERROR_CODE_INVALID_ARGUMENT, "time_zone"});
  cases.push_back({"mark a proposal", mark(mentor_, id, v1::MEETING_OUTCOME_HELD),
                   v1::ERROR_CODE_FAILED_PRECONDITION, ""});
  cases.push_back({"no outcome", mark(mentor_, id, v1::MEETING_OUTCOME_UNSPECIFIED),
                   v1::ERROR_CODE_INVALID_ARGUMENT, "outcome"});
  cases.push_back({"big notes", notes(mentor_, id, false, std::string(kMaxNotesBytes + 1, 'n')),
                   v1::ERROR_CODE_INVALID_ARGUMENT, "text"});
  cases.push_back({"big private notes", notes(mentor_, id, true, std::string(kMaxNotesBytes + 1, 'n')),
                   v1::ERROR_CODE_INVALID_ARGUMENT, "text"});
  cases.push_back(
      {"bad utf-8 notes", notes(mentor_, id, true, "\xff"), v1::ERROR_CODE_INVALID_ARGUMENT, "text"});
  cases.push_back({"no fit answer", answer_fit(mentee_, m.id(), v1::FIT_ANSWER_UNSPECIFIED),
                   v1::ERROR_CODE_INVALID_ARGUMENT, "answer"});
  cases.push_back({"fit before a held meeting", answer_fit(mentee_, m.id(), v1::FIT_ANSWER_YES),
                   v1::ERROR_CODE_FAILED_PRECONDITION, ""});
  cases.push_back({"list backwards", list(mentee_, start, start), v1::ERROR_CODE_INVALID_ARGUMENT, "to_ms"});
  cases.push_back(
      {"list 93 days", list(mentee_, start, start + 93 * kDay), v1::ERROR_CODE_INVALID_ARGUMENT, "to_ms"});
  cases.push_back({"list negative", list(mentee_, -1, start), v1::ERROR_CODE_INVALID_ARGUMENT, "from_ms"});
  cases.push_back(
      {"list page", list(mentee_, start, start + kDay, 501), v1::ERROR_CODE_INVALID_ARGUMENT, "limit"});

  for (const auto& c : cases) {
    EXPECT_EQ(code_of(c.r), c.code) << c.name << ": " << c.r.DebugString();
    EXPECT_EQ(c.r.error().field(), c.field) << c.name;
    EXPECT_FALSE(c.r.error().message().empty()) << c.name;
  }
  // Nothing was half-written: the one good proposal, untouched.
  auto mine = list(mentee_, now(), now() + 90 * kDay);
  ASSERT_TRUE(mine.has_list_meetings()) << mine.DebugString();
  ASSERT_EQ(mine.list_meetings().meetings_size(), 1);
  EXPECT_EQ(mine.list_meetings().meetings(0).meeting().revision(), 1u);
  EXPECT_EQ(mine.list_meetings().meetings(0).meeting().start_ms(), start);

  // The start passing closes what only makes sense before it.
  h_.clock().advance_ms(kDay + kMin);
  EXPECT_EQ(code_of(accept(mentor_, id)), v1::ERROR_CODE_FAILED_PRECONDITION);
  EXPECT_EQ(code_of(cancel(mentor_, id)), v1::ERROR_CODE_FAILED_PRECONDITION);
  EXPECT_EQ(code_of(reschedule(mentor_, id, now() + kDay)), v1::ERROR_CODE_FAILED_PRECONDITION);
}

TEST_F(Meetings, AnEndedMentorshipTakesNoNewMeetingsButItsOldOnesCanBeCancelled) {
  const auto m = pair(mentee_, mentor_);
  const int64_t start = now() + kDay;
  const v1::Meeting open = proposed(mentee_, m.id(), start);
  const v1::Meeting booked = accepted(mentee_, mentor_, m.id(), start + 2 * kHour);
  v1::EndMentorship end;
  end.set_mentorship_id(m.id());
  ASSERT_TRUE(call(mentor_, frame(&F::mutable_end_mentorship, end)).has_end_mentorship());

  EXPECT_EQ(code_of(propose(mentee_, m.id(), start + 4 * kHour)), v1::ERROR_CODE_FAILED_PRECONDITION);
  EXPECT_EQ(code_of(accept(mentor_, open.id())), v1::ERROR_CODE_FAILED_PRECONDITION);
  EXPECT_EQ(code_of(reschedule(mentor_, booked.id(), start + 5 * kHour)), v1::ERROR_CODE_FAILED_PRECONDITION);
  EXPECT_TRUE(decline(mentor_, open.id()).has_decline_meeting());
  EXPECT_TRUE(cancel(mentee_, booked.id()).has_cancel_meeting());

  // A requested (not yet active) mentorship takes none either.
  v1::RequestMentorship req;
  req.set_mentor_id(other_mentor_.id());
  req.set_purpose(v1::PURPOSE_RESEARCH);
  auto asked = call(other_mentee_, frame(&F::mutable_request_mentorship, req));
  ASSERT_TRUE(asked.has_request_mentorship());
  EXPECT_EQ(code_of(propose(other_mentee_, asked.request_mentorship().mentorship().id(), start)),
            v1::ERROR_CODE_FAILED_PRECONDITION);
}

TEST_F(Meetings, NoDoubleBookingOfEitherMember) {
  // Wei has two mentors; Erik has a second mentee.
  const auto with_erik = pair(mentee_, mentor_, v1::PURPOSE_CAREER);
  const auto with_priya = pair(mentee_, other_mentor_, v1::PURPOSE_RESEARCH);
  const auto erik_lucia = pair(other_mentee_, mentor_, v1::PURPOSE_CAREER);
  const int64_t ten = now() + kDay;
  const v1::Meeting held_slot = accepted(mentee_, mentor_, with_erik.id(), ten);  // 10:00-11:00

  // Wei accepting an overlapping meeting: Wei is busy.
  const v1::Meeting priya_asks = proposed(other_mentor_, with_priya.id(), ten + 30 * kMin);
  auto mine = accept(mentee_, priya_asks.id());
  EXPECT_EQ(code_of(mine), v1::ERROR_CODE_FAILED_PRECONDITION) << mine.DebugString();
  EXPECT_NE(mine.error().message().find("You have another meeting"), std::string::npos) << mine.DebugString();
  // Priya accepting one Wei proposed over his own meeting: the other member is busy.
  const v1::Meeting wei_asks = proposed(mentee_, with_priya.id(), ten - 30 * kMin);
  auto theirs = accept(other_mentor_, wei_asks.id());
  EXPECT_EQ(code_of(theirs), v1::ERROR_CODE_FAILED_PRECONDITION) << theirs.DebugString();
  EXPECT_NE(theirs.error().message().find("User wei.chen has another meeting"), std::string::npos)
      << theirs.DebugString();
  // Erik's other mentee overlapping Erik's meeting.
  const v1::Meeting lucia_asks = proposed(other_mentee_, erik_lucia.id(), ten + 59 * kMin);
  EXPECT_EQ(code_of(accept(mentor_, lucia_asks.id())), v1::ERROR_CODE_FAILED_PRECONDITION);
  // Back to back is fine.
  EXPECT_TRUE(
      accept(mentee_, proposed(other_mentor_, with_priya.id(), ten + kHour).id()).has_accept_meeting());
  // A new time over a busy hour is refused at acceptance, and the meeting keeps its time.
  ASSERT_TRUE(reschedule(mentor_, held_slot.id(), ten + kHour + 15 * kMin).has_reschedule_meeting());
  auto move = accept(mentee_, held_slot.id());
  EXPECT_EQ(code_of(move), v1::ERROR_CODE_FAILED_PRECONDITION) << move.DebugString();
  // Cancelling frees the hour.
  ASSERT_TRUE(cancel(mentee_, held_slot.id()).has_cancel_meeting());
  EXPECT_TRUE(accept(mentor_, lucia_asks.id()).has_accept_meeting());
}

TEST_F(Meetings, TwoConcurrentAcceptsOfOverlappingMeetingsExactlyOneWins) {
  const auto a = pair(mentee_, mentor_);
  const auto b = pair(other_mentee_, mentor_);
  for (int round = 0; round < 5; ++round) {
    const int64_t start = now() + kDay + round * 4 * kHour;
    const v1::Meeting x = proposed(mentee_, a.id(), start);
    const v1::Meeting y = proposed(other_mentee_, b.id(), start + 30 * kMin);
    // Both submitted before either is answered.
    std::promise<v1::Response> px, py;
    auto dispatch = [&](uint64_t id, std::promise<v1::Response>& p, uint64_t request_id) {
      F f;
      f.set_request_id(request_id);
      f.mutable_accept_meeting()->set_meeting_id(id);
      auto now_answer = h_.router().dispatch(h_.caller(mentor_), f,
                                             [&p](api::Outcome o) { p.set_value(std::move(o.response)); });
      if (now_answer) p.set_value(std::move(now_answer->response));
    };
    std::thread tx([&] { dispatch(x.id(), px, 1000 + round * 2); });
    std::thread ty([&] { dispatch(y.id(), py, 1001 + round * 2); });
    tx.join();
    ty.join();
    auto fx = px.get_future(), fy = py.get_future();
    ASSERT_EQ(fx.wait_for(harness::kWait), std::future_status::ready);
    ASSERT_EQ(fy.wait_for(harness::kWait), std::future_status::ready);
    const v1::Response rx = fx.get(), ry = fy.get();
    const int wins = rx.has_accept_meeting() + ry.has_accept_meeting();
    EXPECT_EQ(wins, 1) << rx.DebugString() << ry.DebugString();
    const v1::Response& lost = rx.has_accept_meeting() ? ry : rx;
    EXPECT_EQ(code_of(lost), v1::ERROR_CODE_FAILED_PRECONDITION);
    // The mentor's calendar holds exactly one accepted meeting that day.
    auto day = list(mentor_, start - kHour, start + 3 * kHour);
    ASSERT_TRUE(day.has_list_meetings());
    int accepted_count = 0;
    for (const auto& v : day.list_meetings().meetings())
      accepted_count += v.meeting().state() == v1::MEETING_STATE_ACCEPTED;
    EXPECT_EQ(accepted_count, 1);
  }
}

TEST_F(Meetings, PrivateNotesNeverReachTheOtherMember) {
  const auto m = pair(mentee_, mentor_);
  auto mentor_live = h_.connect(mentor_, 1);
  auto mentee_live = h_.connect(mentee_, 2);
  const v1::Meeting meeting = accepted(mentee_, mentor_, m.id(), now() + kDay);
  const std::string secret = "I find it hard to say no to extra shifts";

  auto saved = notes(mentee_, meeting.id(), true, secret);
  ASSERT_TRUE(saved.has_write_meeting_notes()) << saved.DebugString();
  EXPECT_EQ(saved.write_meeting_notes().private_notes(), secret);
  EXPECT_EQ(saved.write_meeting_notes().meeting().revision(), 2u);  // the meeting did not change
  // The mentor's own private notes and the shared notes, afterwards.
  ASSERT_TRUE(notes(mentor_, meeting.id(), true, "Ask about rota next time").has_write_meeting_notes());
  auto shared = notes(mentor_, meeting.id(), false, "Agreed: one extra shift a month at most.");
  ASSERT_TRUE(shared.has_write_meeting_notes());
  EXPECT_EQ(shared.write_meeting_notes().private_notes(), "Ask about rota next time");

  // The author's devices get PrivateNotesSaved; the other member gets nothing of it.
  const auto mentee_events =
      mentee_live->wait_events(4);  // proposed, accepted, own private notes, shared notes
  bool author_saw = false;
  for (const auto& e : mentee_events)
    if (e.has_private_notes()) author_saw = e.private_notes().text() == secret;
  EXPECT_TRUE(author_saw);
  const auto mentor_events =
      mentor_live->wait_events(4);  // proposed, accepted, own private notes, shared notes
  for (const auto& e : mentor_events) {
    EXPECT_EQ(e.SerializeAsString().find(secret), std::string::npos) << e.DebugString();
    if (e.has_private_notes()) {
      EXPECT_EQ(e.private_notes().text(), "Ask about rota next time");
    }
  }
  EXPECT_EQ(meeting_changes(mentor_events).size(), 3u);  // proposed, accepted, notes

  // ListMeetings: each sees their own private notes only.
  auto theirs = list(mentor_, now(), now() + 7 * kDay);
  ASSERT_EQ(theirs.list_meetings().meetings_size(), 1);
  EXPECT_EQ(theirs.list_meetings().meetings(0).private_notes(), "Ask about rota next time");
  EXPECT_EQ(theirs.SerializeAsString().find(secret), std::string::npos);
  auto own = list(mentee_, now(), now() + 7 * kDay);
  ASSERT_EQ(own.list_meetings().meetings_size(), 1);
  EXPECT_EQ(own.list_meetings().meetings(0).private_notes(), secret);
  EXPECT_EQ(own.list_meetings().meetings(0).meeting().shared_notes(),
            "Agreed: one extra shift a month at most.");

  // A director sees neither notes nor agenda.
  v1::ListMentorships all;
  auto overview = call(director_, frame(&F::mutable_list_mentorships, all));
  ASSERT_TRUE(overview.has_list_mentorships());
  EXPECT_EQ(overview.SerializeAsString().find(secret), std::string::npos);
  EXPECT_EQ(overview.SerializeAsString().find("extra shift"), std::string::npos);
  EXPECT_EQ(overview.SerializeAsString().find("Case review"), std::string::npos);

  // Cleared by writing nothing.
  auto cleared = notes(mentee_, meeting.id(), true, "");
  ASSERT_TRUE(cleared.has_write_meeting_notes());
  EXPECT_EQ(list(mentee_, now(), now() + 7 * kDay).list_meetings().meetings(0).private_notes(), "");
}

TEST_F(Meetings, FitAnswersAreCountedForDirectorsAndNeverAttributed) {
  const auto m = pair(mentee_, mentor_);
  auto mentor_live = h_.connect(mentor_, 1);
  const v1::Meeting meeting = accepted(mentee_, mentor_, m.id(), now() + kHour);
  EXPECT_EQ(code_of(answer_fit(mentee_, m.id(), v1::FIT_ANSWER_YES)), v1::ERROR_CODE_FAILED_PRECONDITION);
  h_.clock().advance_ms(2 * kHour);
  ASSERT_TRUE(mark(mentor_, meeting.id(), v1::MEETING_OUTCOME_HELD).has_mark_meeting());

  auto yes = answer_fit(mentee_, m.id(), v1::FIT_ANSWER_YES);
  ASSERT_TRUE(yes.has_answer_fit()) << yes.DebugString();
  EXPECT_EQ(yes.answer_fit().answer(), v1::FIT_ANSWER_YES);
  ASSERT_TRUE(answer_fit(mentor_, m.id(), v1::FIT_ANSWER_UNSURE).has_answer_fit());
  auto summary = [&] {
    auto r = call(director_, frame(&F::mutable_get_fit_summary));
    EXPECT_TRUE(r.has_get_fit_summary()) << r.DebugString();
    return r.get_fit_summary();
  };
  auto s1 = summary();
  EXPECT_EQ(s1.yes(), 1u);
  EXPECT_EQ(s1.unsure(), 1u);
  EXPECT_EQ(s1.no(), 0u);
  // Answering again moves the count; the same answer again changes nothing.
  ASSERT_TRUE(answer_fit(mentee_, m.id(), v1::FIT_ANSWER_NO).has_answer_fit());
  ASSERT_TRUE(answer_fit(mentee_, m.id(), v1::FIT_ANSWER_NO).has_answer_fit());
  auto s2 = summary();
  EXPECT_EQ(s2.yes(), 0u);
  EXPECT_EQ(s2.unsure(), 1u);
  EXPECT_EQ(s2.no(), 1u);

  // Only directors and admins see the counts; members and directors cannot answer for others.
  EXPECT_EQ(code_of(call(mentor_, frame(&F::mutable_get_fit_summary))), v1::ERROR_CODE_PERMISSION_DENIED);
  EXPECT_EQ(code_of(answer_fit(director_, m.id(), v1::FIT_ANSWER_NO)), v1::ERROR_CODE_PERMISSION_DENIED);
  EXPECT_EQ(code_of(answer_fit(stranger_, m.id(), v1::FIT_ANSWER_NO)), v1::ERROR_CODE_NOT_FOUND);

  // The mentor's devices got their own answer, never the mentee's.
  int fit_events = 0;
  for (const auto& e : mentor_live->wait_events(4)) {  // proposed, accepted, held, own answer
    if (!e.has_fit_answered()) continue;
    ++fit_events;
    EXPECT_EQ(e.fit_answered().answer(), v1::FIT_ANSWER_UNSURE);
  }
  EXPECT_EQ(fit_events, 1);
}

TEST_F(Meetings, EngagementCountsHeldUpcomingAndNoShowsForDirectors) {
  const auto m = pair(mentee_, mentor_);
  const v1::Meeting one = accepted(mentee_, mentor_, m.id(), now() + kHour);
  const v1::Meeting two = accepted(mentor_, mentee_, m.id(), now() + 3 * kHour);
  accepted(mentee_, mentor_, m.id(), now() + 2 * kDay);
  accepted(mentee_, mentor_, m.id(), now() + 3 * kDay);
  const v1::Meeting dropped = accepted(mentee_, mentor_, m.id(), now() + 4 * kDay);
  ASSERT_TRUE(cancel(mentor_, dropped.id()).has_cancel_meeting());
  h_.clock().advance_ms(5 * kHour);
  ASSERT_TRUE(mark(mentor_, one.id(), v1::MEETING_OUTCOME_HELD).has_mark_meeting());
  ASSERT_TRUE(mark(mentee_, two.id(), v1::MEETING_OUTCOME_NO_SHOW).has_mark_meeting());

  auto r = call(director_, frame(&F::mutable_list_mentorships));
  ASSERT_TRUE(r.has_list_mentorships()) << r.DebugString();
  ASSERT_EQ(r.list_mentorships().mentorships_size(), 1);
  const v1::Engagement& e = r.list_mentorships().mentorships(0).engagement();
  EXPECT_EQ(e.meetings_held(), 1u);
  EXPECT_EQ(e.meeting_no_shows(), 1u);
  EXPECT_EQ(e.meetings_upcoming(), 2u);
  // An accepted meeting whose start passed without a mark is no longer upcoming.
  h_.clock().advance_ms(2 * kDay);
  auto later = call(director_, frame(&F::mutable_list_mentorships));
  EXPECT_EQ(later.list_mentorships().mentorships(0).engagement().meetings_upcoming(), 1u);
}

TEST_F(Meetings, CancellingAnOfficeHoursBookingRespectsTheNoticeAndGivesTheSeatBack) {
  // Bookings are made by the office-hours service; here they are written as it does.
  const int64_t start = now() + 3 * kHour;
  auto write = [&](std::function<Status(storage::CommitContext&)> fn) {
    std::promise<Status> done;
    h_.committer().submit(std::move(fn), [&](const Status& st) { done.set_value(st); });
    return done.get_future().get();
  };
  uint64_t ids[2] = {};
  ASSERT_TRUE(write([&](storage::CommitContext& ctx) {
                v1::OfficeHoursRecord oh;
                oh.mutable_office_hours()->set_cancel_notice_minutes(120);
                save(ctx, storage::Cf::kOfficeHours,
                     storage::keys::MentorKey{.mentor_id = mentor_.id()}.encode(), oh);
                for (int i = 0; i < 2; ++i) {
                  v1::MeetingRecord rec;
                  v1::Meeting& m = *rec.mutable_meeting();
                  m.set_id(ctx.next_id("meeting"));
                  m.set_mentor_id(mentor_.id());
                  m.set_mentee_id(i == 0 ? mentee_.id() : other_mentee_.id());
                  m.set_state(v1::MEETING_STATE_ACCEPTED);
                  m.set_start_ms(i == 0 ? start : start + kDay);
                  m.set_duration_minutes(30);
                  m.set_time_zone("Europe/Stockholm");
                  m.set_office_hours(true);
                  m.set_seats(3);
                  m.set_revision(1);
                  ids[i] = m.id();
                  PRECEPTOR_RETURN_IF_ERROR(store_meeting(ctx, nullptr, rec));
                  ctx.put(storage::Cf::kSlotBookings,
                          storage::keys::SlotBooking{.mentor_id = mentor_.id(),
                                                     .start_ms = static_cast<uint64_t>(m.start_ms())}
                              .encode(),
                          storage::encode_u64(i == 0 ? 2 : 1));
                }
                return Status::ok();
              }).is_ok());
  auto seats = [&](int64_t at) -> uint64_t {
    auto raw = h_.store().get(
        storage::Cf::kSlotBookings,
        storage::keys::SlotBooking{.mentor_id = mentor_.id(), .start_ms = static_cast<uint64_t>(at)}
            .encode());
    if (!raw || !raw->has_value()) return 0;
    return storage::decode_u64(**raw).value_or(99);
  };
  // Inside the two-hour notice only the mentor may cancel.
  h_.clock().advance_ms(kHour + kMin);
  auto late = cancel(mentee_, ids[0]);
  EXPECT_EQ(code_of(late), v1::ERROR_CODE_FAILED_PRECONDITION) << late.DebugString();
  EXPECT_EQ(seats(start), 2u);
  EXPECT_EQ(code_of(reschedule(mentee_, ids[0], start + kDay)), v1::ERROR_CODE_FAILED_PRECONDITION);
  ASSERT_TRUE(cancel(mentor_, ids[0]).has_cancel_meeting());
  EXPECT_EQ(seats(start), 1u);
  // Before the notice the mentee may, and the last seat's entry goes.
  auto early = cancel(other_mentee_, ids[1]);
  ASSERT_TRUE(early.has_cancel_meeting()) << early.DebugString();
  EXPECT_EQ(seats(start + kDay), 0u);
  EXPECT_FALSE(h_.store()
                   .get(storage::Cf::kSlotBookings,
                        storage::keys::SlotBooking{.mentor_id = mentor_.id(),
                                                   .start_ms = static_cast<uint64_t>(start + kDay)}
                            .encode())
                   ->has_value());
}

TEST_F(Meetings, ListMeetingsPagesOnesOwnMeetingsInStartOrderWithTheirPeople) {
  const auto m = pair(mentee_, mentor_);
  const auto other = pair(other_mentee_, other_mentor_);
  proposed(other_mentee_, other.id(), now() + kDay);  // not theirs
  std::vector<uint64_t> expected;
  for (int i = 5; i >= 1; --i)
    expected.insert(expected.begin(), proposed(mentee_, m.id(), now() + i * kDay).id());
  proposed(mentee_, m.id(), now() + 60 * kDay);  // outside the window asked for

  std::vector<uint64_t> seen;
  std::optional<v1::MeetingCursor> after;
  for (int pages = 0; pages < 10; ++pages) {
    auto r = list(mentor_, now(), now() + 30 * kDay, 2, after);
    ASSERT_TRUE(r.has_list_meetings()) << r.DebugString();
    EXPECT_LE(r.list_meetings().meetings_size(), 2);
    for (const auto& v : r.list_meetings().meetings()) {
      seen.push_back(v.meeting().id());
      EXPECT_EQ(v.mentor().username(), "mentor.erik");
      EXPECT_EQ(v.mentee().username(), "wei.chen");
    }
    if (!r.list_meetings().has_more()) break;
    after = r.list_meetings().next_after();
  }
  EXPECT_EQ(seen, expected);
  // A moved meeting moves in the list.
  ASSERT_TRUE(reschedule(mentee_, expected[0], now() + 10 * kDay).has_reschedule_meeting());
  auto r = list(mentee_, now(), now() + 30 * kDay);
  ASSERT_EQ(r.list_meetings().meetings_size(), 5);
  EXPECT_EQ(r.list_meetings().meetings(4).meeting().id(), expected[0]);
  // Strangers have none; directors are told meetings are not theirs to list.
  auto none = list(stranger_, now(), now() + 30 * kDay);
  ASSERT_TRUE(none.has_list_meetings());
  EXPECT_EQ(none.list_meetings().meetings_size(), 0);
  EXPECT_EQ(code_of(list(director_, now(), now() + 30 * kDay)), v1::ERROR_CODE_PERMISSION_DENIED);
}

TEST_F(Meetings, ListMeetingsStopsAPageAtAboutTheByteLimit) {
  const auto m = pair(mentee_, mentor_);
  const v1::Meeting first = proposed(mentee_, m.id(), now() + kHour);
  for (int i = 0; i < 40; ++i) {
    auto r = propose(mentee_, m.id(), now() + (i + 2) * kHour, 30, "UTC", std::string(kMaxAgendaBytes, 'a'));
    ASSERT_TRUE(r.has_propose_meeting());
    ASSERT_TRUE(notes(mentee_, r.propose_meeting().meeting().id(), true, std::string(kMaxNotesBytes, 'p'))
                    .has_write_meeting_notes());
  }
  auto page = list(mentee_, now(), now() + 3 * kDay, 500);
  ASSERT_TRUE(page.has_list_meetings());
  EXPECT_TRUE(page.list_meetings().has_more());
  EXPECT_LT(page.list_meetings().meetings_size(), 41);
  EXPECT_LE(page.ByteSizeLong(), kMaxPageBytes + kMaxNotesBytes + kMaxAgendaBytes + 1024);
  EXPECT_EQ(page.list_meetings().meetings(0).meeting().id(), first.id());
}

TEST_F(Meetings, AuthorizationMatrix) {
  const auto m = pair(mentee_, mentor_);
  pair(other_mentee_, other_mentor_);
  const v1::Meeting meeting = proposed(mentee_, m.id(), now() + kDay);  // agenda "Case review"
  ASSERT_TRUE(notes(mentee_, meeting.id(), true, "private words").has_write_meeting_notes());
  const int64_t start = now() + 2 * kDay;

  std::vector<std::pair<std::string, F>> requests;
  auto add = [&](const std::string& name, auto fill) {
    F f;
    fill(f);
    requests.emplace_back(name, f);
  };
  add("propose", [&](F& f) {
    auto* p = f.mutable_propose_meeting();
    p->set_mentorship_id(m.id());
    p->set_start_ms(start);
    p->set_duration_minutes(30);
    p->set_time_zone("UTC");
  });
  add("accept", [&](F& f) { f.mutable_accept_meeting()->set_meeting_id(meeting.id()); });
  add("decline", [&](F& f) {
    f.mutable_decline_meeting()->set_meeting_id(meeting.id());
    f.mutable_decline_meeting()->set_reason("no");
  });
  add("reschedule", [&](F& f) {
    f.mutable_reschedule_meeting()->set_meeting_id(meeting.id());
    f.mutable_reschedule_meeting()->set_start_ms(start);
  });
  add("cancel", [&](F& f) {
    f.mutable_cancel_meeting()->set_meeting_id(meeting.id());
    f.mutable_cancel_meeting()->set_reason("no");
  });
  add("mark", [&](F& f) {
    f.mutable_mark_meeting()->set_meeting_id(meeting.id());
    f.mutable_mark_meeting()->set_outcome(v1::MEETING_OUTCOME_HELD);
  });
  add("shared notes", [&](F& f) {
    f.mutable_write_meeting_notes()->set_meeting_id(meeting.id());
    f.mutable_write_meeting_notes()->set_text("x");
  });
  add("private notes", [&](F& f) {
    f.mutable_write_meeting_notes()->set_meeting_id(meeting.id());
    f.mutable_write_meeting_notes()->set_is_private(true);
    f.mutable_write_meeting_notes()->set_text("x");
  });
  add("answer fit", [&](F& f) {
    f.mutable_answer_fit()->set_mentorship_id(m.id());
    f.mutable_answer_fit()->set_answer(v1::FIT_ANSWER_YES);
  });

  struct Outsider {
    const char* name;
    v1::User* user;
    ErrorCode expected;
  };
  const Outsider outsiders[] = {
      {"stranger", &stranger_, v1::ERROR_CODE_NOT_FOUND},
      {"other pair's mentor", &other_mentor_, v1::ERROR_CODE_NOT_FOUND},
      {"other pair's mentee", &other_mentee_, v1::ERROR_CODE_NOT_FOUND},
      {"director", &director_, v1::ERROR_CODE_PERMISSION_DENIED},
  };
  for (const auto& who : outsiders) {
    for (const auto& [name, f] : requests) {
      auto r = call(*who.user, f);
      EXPECT_EQ(code_of(r), who.expected) << who.name << " x " << name << ": " << r.DebugString();
      EXPECT_FALSE(r.error().message().empty());
      EXPECT_EQ(r.SerializeAsString().find("Case review"), std::string::npos);
      EXPECT_EQ(r.SerializeAsString().find("private words"), std::string::npos);
    }
    // A meeting id that does not exist answers the same as someone else's.
    if (who.expected == v1::ERROR_CODE_NOT_FOUND) {
      F missing;
      missing.mutable_accept_meeting()->set_meeting_id(meeting.id() + 1000);
      auto r = call(*who.user, missing);
      EXPECT_EQ(code_of(r), v1::ERROR_CODE_NOT_FOUND);
      auto theirs = call(*who.user, requests[1].second);
      EXPECT_EQ(r.error().message(), "No meeting " + std::to_string(meeting.id() + 1000) + " among yours.");
      EXPECT_EQ(theirs.error().message(), "No meeting " + std::to_string(meeting.id()) + " among yours.");
    }
  }
  // Role-gated reads.
  for (const v1::User* who : {&stranger_, &mentor_, &other_mentor_})
    EXPECT_EQ(code_of(call(*who, frame(&F::mutable_get_fit_summary))), v1::ERROR_CODE_PERMISSION_DENIED);
  EXPECT_TRUE(call(director_, frame(&F::mutable_get_fit_summary)).has_get_fit_summary());
  EXPECT_EQ(code_of(list(director_, now(), now() + kDay * 30)), v1::ERROR_CODE_PERMISSION_DENIED);
  for (const v1::User* who : {&stranger_, &other_mentor_}) {
    auto r = list(*who, now(), now() + kDay * 30);
    ASSERT_TRUE(r.has_list_meetings());
    EXPECT_EQ(r.list_meetings().meetings_size(), 0);
  }
  // And the meeting is as it was.
  auto own = list(mentee_, now(), now() + 30 * kDay);
  ASSERT_EQ(own.list_meetings().meetings_size(), 1);
  EXPECT_EQ(own.list_meetings().meetings(0).meeting().revision(), 1u);
  EXPECT_EQ(own.list_meetings().meetings(0).meeting().state(), v1::MEETING_STATE_PROPOSED);
}

}  // namespace
}  // namespace preceptor::meetings_test

// Against a real server: real sockets, real RocksDB.
namespace preceptor::testing {
namespace {

class Member {
 public:
  Member(uint16_t port, const v1::User& who) : user_(who) {
    EXPECT_EQ(client_.connect(port), "");
    auto r = client_.login(who.username(), TestServer::password_of(who.username()));
    EXPECT_TRUE(r.has_login()) << r.DebugString();
    token_ = r.login().token();
  }
  Member(uint16_t port, const v1::User& who, const std::string& token) : user_(who), token_(token) {
    EXPECT_EQ(client_.connect(port), "");
    EXPECT_TRUE(client_.authenticate(token).has_authenticate());
  }
  v1::Response call(v1::ClientFrame f) {
    auto r = client_.call(std::move(f));
    if (!r) {
      v1::Response none;
      none.mutable_error()->set_message("no reply");
      return none;
    }
    return *r;
  }
  // The next MeetingChanged pushed live; nullopt on timeout.
  std::optional<v1::MeetingChanged> next_change() {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto e = client_.next_event(
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
      if (!e) return std::nullopt;
      if (e->has_meeting_changed()) return e->meeting_changed();
    }
    return std::nullopt;
  }
  uint64_t id() const { return user_.id(); }
  const std::string& token() const { return token_; }
  TestClient& client() { return client_; }

 private:
  v1::User user_;
  TestClient client_;
  std::string token_;
};

TEST(MeetingsServer, BothMembersGetEveryChangeLiveAndSyncReturnsThemAfterAReconnect) {
  TempDir dir;
  auto config = test_config(dir.path());
  config.scheduler_interval_ms = 0;
  TestServer server(config);
  const v1::User mentor_u = server.add_user("mentor.erik", v1::ROLE_MENTOR);
  const v1::User mentee_u = server.add_user("wei.chen", v1::ROLE_MENTEE);
  Member mentor(server.port(), mentor_u);
  auto mentee = std::make_unique<Member>(server.port(), mentee_u);

  v1::ClientFrame req;
  req.mutable_request_mentorship()->set_mentor_id(mentor.id());
  req.mutable_request_mentorship()->set_purpose(v1::PURPOSE_CAREER);
  auto asked = mentee->call(req);
  ASSERT_TRUE(asked.has_request_mentorship()) << asked.DebugString();
  v1::ClientFrame acc;
  acc.mutable_accept_mentorship()->set_mentorship_id(asked.request_mentorship().mentorship().id());
  ASSERT_TRUE(mentor.call(acc).has_accept_mentorship());

  // Proposed: both members' sessions hear it at once.
  const int64_t start = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count() +
                        2 * 24 * 3600 * 1000LL;
  v1::ClientFrame propose;
  auto* p = propose.mutable_propose_meeting();
  p->set_mentorship_id(asked.request_mentorship().mentorship().id());
  p->set_start_ms(start);
  p->set_duration_minutes(30);
  p->set_time_zone("Europe/Stockholm");
  p->set_agenda("Career plans");
  auto proposed = mentee->call(propose);
  ASSERT_TRUE(proposed.has_propose_meeting()) << proposed.DebugString();
  const uint64_t id = proposed.propose_meeting().meeting().id();
  for (Member* who : {&mentor, mentee.get()}) {
    auto change = who->next_change();
    ASSERT_TRUE(change) << who->id();
    EXPECT_EQ(change->change(), v1::MEETING_CHANGE_PROPOSED);
    EXPECT_EQ(change->meeting().id(), id);
    EXPECT_EQ(change->meeting().agenda(), "Career plans");
  }

  // The mentee goes away; the mentor accepts and moves it meanwhile.
  v1::ClientFrame sync0;
  sync0.mutable_sync();
  auto mark = mentee->call(sync0);
  ASSERT_TRUE(mark.has_sync()) << mark.DebugString();
  const v1::SyncPosition since = mark.sync().next();
  const std::string token = mentee->token();
  mentee.reset();
  v1::ClientFrame accept;
  accept.mutable_accept_meeting()->set_meeting_id(id);
  ASSERT_TRUE(mentor.call(accept).has_accept_meeting());
  v1::ClientFrame move;
  move.mutable_reschedule_meeting()->set_meeting_id(id);
  move.mutable_reschedule_meeting()->set_start_ms(start + 3600 * 1000);
  ASSERT_TRUE(mentor.call(move).has_reschedule_meeting());
  auto accepted_live = mentor.next_change();
  ASSERT_TRUE(accepted_live);
  EXPECT_EQ(accepted_live->change(), v1::MEETING_CHANGE_ACCEPTED);

  // Back again: Sync from where it was returns both changes, in order.
  Member back(server.port(), mentee_u, token);
  v1::ClientFrame sync;
  *sync.mutable_sync()->mutable_since() = since;
  auto missed = back.call(sync);
  ASSERT_TRUE(missed.has_sync()) << missed.DebugString();
  std::vector<v1::MeetingChange> changes;
  for (const auto& e : missed.sync().events())
    if (e.has_meeting_changed()) changes.push_back(e.meeting_changed().change());
  EXPECT_EQ(changes, (std::vector<v1::MeetingChange>{v1::MEETING_CHANGE_ACCEPTED,
                                                     v1::MEETING_CHANGE_NEW_TIME_PROPOSED}));
  // And it hears the next one live: its acceptance of the new time.
  v1::ClientFrame take;
  take.mutable_accept_meeting()->set_meeting_id(id);
  auto took = back.call(take);
  ASSERT_TRUE(took.has_accept_meeting()) << took.DebugString();
  EXPECT_EQ(took.accept_meeting().meeting().start_ms(), start + 3600 * 1000);
  EXPECT_EQ(took.accept_meeting().meeting().revision(), 4u);
  auto heard = mentor.next_change();
  ASSERT_TRUE(heard);
  // The mentor's reschedule came first on its connection.
  if (heard->change() == v1::MEETING_CHANGE_NEW_TIME_PROPOSED) heard = mentor.next_change();
  ASSERT_TRUE(heard);
  EXPECT_EQ(heard->change(), v1::MEETING_CHANGE_ACCEPTED);
  EXPECT_EQ(heard->meeting().revision(), 4u);
}

}  // namespace
}  // namespace preceptor::testing
