// Goals and reassessment: every request's happy path and refusals, the
// history, the events to both members, the all-or-nothing reassessment,
// "time to reassess" (once per period, quiet hours, the agreement's weeks),
// and the directors' counts, through the services harness on a manual
// clock; and "time to reassess" across a restart of a real server.
#include "server/services/goals.h"

#include <date/date.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <string>
#include <vector>

#include "server/services/record_io.h"
#include "storage/keys.h"
#include "tests/harness/services_harness.h"
#include "tests/support/test_client.h"
#include "tests/support/test_server.h"
#include "tests/temp/temp_dir.h"

namespace preceptor::goals_test {
namespace {

using harness::FakeSession;
using harness::frame;
using harness::ServicesHarness;
using storage::Cf;
using F = v1::ClientFrame;
using v1::ErrorCode;

constexpr int64_t kMinute = 60'000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kWeek = 7 * kDay;

int64_t utc_ms(int y, unsigned mo, unsigned d, int h, int mi = 0) {
  using namespace std::chrono;
  const auto t = date::sys_days{date::year{y} / date::month{mo} / date::day{d}} + hours{h} + minutes{mi};
  return duration_cast<milliseconds>(t.time_since_epoch()).count();
}

ErrorCode code_of(const v1::Response& r) { return r.error().code(); }

std::vector<v1::GoalChanged> goal_changes(const std::vector<v1::Event>& events) {
  std::vector<v1::GoalChanged> out;
  for (const auto& e : events)
    if (e.has_goal_changed()) out.push_back(e.goal_changed());
  return out;
}

std::vector<v1::ReassessmentDue> dues(const std::vector<v1::Event>& events) {
  std::vector<v1::ReassessmentDue> out;
  for (const auto& e : events)
    if (e.has_reassessment_due()) out.push_back(e.reassessment_due());
  return out;
}

// The stored events among `events` after position `after` (live-only ones,
// such as presence, have position 0).
std::vector<v1::Event> stored_after(const std::vector<v1::Event>& events, uint64_t after) {
  std::vector<v1::Event> out;
  for (const auto& e : events)
    if (e.position() > after) out.push_back(e);
  return out;
}

uint64_t last_position(const std::vector<v1::Event>& events) {
  uint64_t last = 0;
  for (const auto& e : events) last = std::max(last, e.position());
  return last;
}

size_t count_entries(const storage::Store& store, Cf cf) {
  size_t n = 0;
  auto st = store.scan(cf, {}, [&](std::string_view, std::string_view) {
    ++n;
    return true;
  });
  EXPECT_TRUE(st.is_ok());
  return n;
}

class Goals : public ::testing::Test {
 protected:
  Goals() {
    h_.clock().set_ms(utc_ms(2026, 12, 1, 9));  // 10:00 in Stockholm
    mentor_ = h_.add_user("mentor.erik", v1::ROLE_MENTOR);
    mentee_ = h_.add_user("wei.chen", v1::ROLE_MENTEE);
    other_mentor_ = h_.add_user("mentor.priya", v1::ROLE_MENTOR);
    other_mentee_ = h_.add_user("lucia", v1::ROLE_MENTEE);
    stranger_ = h_.add_user("stranger", v1::ROLE_MENTEE);
    director_ = h_.add_user("director", v1::ROLE_PROGRAM_DIRECTOR);
    m_ = pair(mentee_, mentor_);
    mentor_live_ = h_.connect(mentor_, 1);
    mentee_live_ = h_.connect(mentee_, 2);
  }

  int64_t now() { return h_.clock().now_ms(); }
  v1::Response call(const v1::User& who, F f) { return h_.call(h_.caller(who), std::move(f)); }

  v1::Mentorship pair(const v1::User& mentee, const v1::User& mentor) {
    v1::RequestMentorship req;
    req.set_mentor_id(mentor.id());
    req.set_purpose(v1::PURPOSE_RESEARCH);
    auto asked = call(mentee, frame(&F::mutable_request_mentorship, req));
    EXPECT_TRUE(asked.has_request_mentorship()) << asked.DebugString();
    v1::AcceptMentorship accept;
    accept.set_mentorship_id(asked.request_mentorship().mentorship().id());
    auto accepted = call(mentor, frame(&F::mutable_accept_mentorship, accept));
    EXPECT_TRUE(accepted.has_accept_mentorship()) << accepted.DebugString();
    return accepted.accept_mentorship().mentorship();
  }

  v1::Response add(const v1::User& who, uint64_t mentorship, const std::string& what,
                   const std::string& measure = "", const std::string& target = "", uint32_t purpose = 0) {
    v1::AddGoal a;
    a.set_mentorship_id(mentorship);
    a.set_what(what);
    a.set_measure(measure);
    a.set_target_date(target);
    a.set_purpose(purpose);
    return call(who, frame(&F::mutable_add_goal, a));
  }
  v1::Goal added(const v1::User& who, const std::string& what, const std::string& target = "") {
    auto r = add(who, m_.id(), what, "", target);
    EXPECT_TRUE(r.has_add_goal()) << r.DebugString();
    return r.add_goal().goal();
  }
  v1::Response edit(const v1::User& who, uint64_t goal, const std::string& what,
                    const std::string& measure = "", const std::string& target = "", uint32_t revision = 0,
                    uint32_t purpose = 0) {
    v1::EditGoal e;
    e.set_goal_id(goal);
    e.set_what(what);
    e.set_measure(measure);
    e.set_target_date(target);
    e.set_purpose(purpose);
    e.set_revision(revision);
    return call(who, frame(&F::mutable_edit_goal, e));
  }
  v1::Response set_state(const v1::User& who, uint64_t goal, v1::GoalState state,
                         const std::string& reason = "") {
    v1::SetGoalState s;
    s.set_goal_id(goal);
    s.set_state(state);
    s.set_reason(reason);
    return call(who, frame(&F::mutable_set_goal_state, s));
  }
  v1::Response note(const v1::User& who, uint64_t goal, const std::string& text) {
    v1::AddGoalNote n;
    n.set_goal_id(goal);
    n.set_text(text);
    return call(who, frame(&F::mutable_add_goal_note, n));
  }
  v1::Response list(const v1::User& who, uint64_t mentorship, bool include_closed = true) {
    v1::ListGoals l;
    l.set_mentorship_id(mentorship);
    l.set_include_closed(include_closed);
    return call(who, frame(&F::mutable_list_goals, l));
  }
  v1::Response history(const v1::User& who, uint64_t goal, uint32_t after_seq = 0, uint32_t limit = 0) {
    v1::GetGoalHistory g;
    g.set_goal_id(goal);
    g.set_after_seq(after_seq);
    g.set_limit(limit);
    return call(who, frame(&F::mutable_get_goal_history, g));
  }
  v1::Response reassess(const v1::User& who, uint64_t mentorship,
                        const std::vector<v1::GoalDecision>& decisions,
                        const std::vector<v1::NewGoal>& new_goals = {},
                        const std::string& summary = "Good progress; the abstract comes first now.") {
    v1::Reassess r;
    r.set_mentorship_id(mentorship);
    for (const auto& d : decisions) *r.add_decisions() = d;
    for (const auto& n : new_goals) *r.add_new_goals() = n;
    r.set_summary(summary);
    return call(who, frame(&F::mutable_reassess, r));
  }
  v1::Response reassessments(const v1::User& who, uint64_t mentorship, uint64_t before_id = 0,
                             uint32_t limit = 0) {
    v1::ListReassessments l;
    l.set_mentorship_id(mentorship);
    l.set_before_id(before_id);
    l.set_limit(limit);
    return call(who, frame(&F::mutable_list_reassessments, l));
  }
  v1::Response propose_agreement(const v1::User& who, uint32_t weeks) {
    v1::ProposeAgreement p;
    p.set_mentorship_id(m_.id());
    p.set_cadence(v1::CADENCE_BIWEEKLY);
    p.add_channels(v1::CHANNEL_VIDEO);
    p.set_reassess_weeks(weeks);
    return call(who, frame(&F::mutable_propose_agreement, p));
  }
  void agree(uint32_t weeks) {
    auto p = propose_agreement(mentee_, weeks);
    ASSERT_TRUE(p.has_propose_agreement()) << p.DebugString();
    v1::AcceptAgreement a;
    a.set_mentorship_id(m_.id());
    auto r = call(mentor_, frame(&F::mutable_accept_agreement, a));
    ASSERT_TRUE(r.has_accept_agreement()) << r.DebugString();
    EXPECT_EQ(r.accept_agreement().mentorship().agreement().reassess_weeks(), weeks);
  }
  void end_mentorship() {
    v1::EndMentorship e;
    e.set_mentorship_id(m_.id());
    e.set_private_reason("Moving to another hospital");
    ASSERT_TRUE(call(mentee_, frame(&F::mutable_end_mentorship, e)).has_end_mentorship());
  }
  v1::Response set_quiet(const v1::User& who, uint32_t start_minute, uint32_t end_minute) {
    v1::SetMeetingPreferences p;
    p.mutable_preferences()->mutable_quiet_hours()->mutable_window()->set_start_minute(start_minute);
    p.mutable_preferences()->mutable_quiet_hours()->mutable_window()->set_end_minute(end_minute);
    p.mutable_preferences()->mutable_quiet_hours()->set_time_zone("Europe/Stockholm");
    return call(who, frame(&F::mutable_set_meeting_preferences, p));
  }
  static v1::GoalDecision decide(uint64_t goal, v1::GoalDecisionKind kind, const std::string& what = "",
                                 const std::string& target = "", const std::string& reason = "") {
    v1::GoalDecision d;
    d.set_goal_id(goal);
    d.set_decision(kind);
    d.set_what(what);
    d.set_target_date(target);
    d.set_reason(reason);
    return d;
  }
  static v1::NewGoal new_goal(const std::string& what, const std::string& target = "") {
    v1::NewGoal n;
    n.set_what(what);
    n.set_target_date(target);
    return n;
  }
  v1::Goal goal_now(uint64_t id) {
    auto r = list(mentee_, m_.id());
    for (const auto& g : r.list_goals().goals())
      if (g.id() == id) return g;
    ADD_FAILURE() << "goal " << id << " is not listed";
    return {};
  }
  void run_at(int64_t ms) {
    h_.clock().set_ms(ms);
    h_.run_timed_work();
  }
  v1::MentorshipWorkRecord work() {
    auto rec = services::load<v1::MentorshipWorkRecord>(h_.store(), Cf::kMentorshipWork,
                                                        storage::keys::IdKey{.id = m_.id()}.encode());
    EXPECT_TRUE(rec.is_ok());
    return rec.is_ok() ? rec->value_or(v1::MentorshipWorkRecord()) : v1::MentorshipWorkRecord();
  }

  ServicesHarness h_;
  v1::User mentor_, mentee_, other_mentor_, other_mentee_, stranger_, director_;
  v1::Mentorship m_;
  std::shared_ptr<FakeSession> mentor_live_, mentee_live_;
};

// ---- goals ----

TEST_F(Goals, EveryChangeIsKeptAsHistoryAndReachesBothMembers) {
  auto a = add(mentee_, m_.id(), "Submit the sepsis abstract", "Accepted by the congress", "2027-03-31",
               v1::PURPOSE_RESEARCH);
  ASSERT_TRUE(a.has_add_goal()) << a.DebugString();
  const v1::Goal g = a.add_goal().goal();
  EXPECT_EQ(g.state(), v1::GOAL_STATE_OPEN);
  EXPECT_EQ(g.revision(), 1u);
  EXPECT_EQ(g.mentorship_id(), m_.id());
  EXPECT_EQ(g.created_by(), mentee_.id());
  EXPECT_EQ(g.created_ms(), now());
  EXPECT_EQ(g.purpose(), static_cast<uint32_t>(v1::PURPOSE_RESEARCH));

  h_.clock().advance_ms(kHour);
  auto e = edit(mentor_, g.id(), "Submit the sepsis abstract to ESICM", "Accepted", "2027-04-15", 1);
  ASSERT_TRUE(e.has_edit_goal()) << e.DebugString();
  EXPECT_EQ(e.edit_goal().goal().revision(), 2u);
  EXPECT_EQ(e.edit_goal().goal().target_date(), "2027-04-15");
  EXPECT_EQ(e.edit_goal().goal().purpose(), 0u);  // replaced too
  auto n = note(mentee_, g.id(), "First draft written.\nMethods still thin.");
  ASSERT_TRUE(n.has_add_goal_note()) << n.DebugString();
  EXPECT_EQ(n.add_goal_note().goal().note_count(), 1u);
  EXPECT_EQ(n.add_goal_note().goal().revision(), 3u);
  EXPECT_EQ(n.add_goal_note().entry().kind(), v1::GOAL_CHANGE_KIND_NOTE);
  EXPECT_EQ(n.add_goal_note().entry().note(), "First draft written.\nMethods still thin.");
  auto d = set_state(mentee_, g.id(), v1::GOAL_STATE_DONE);
  ASSERT_TRUE(d.has_set_goal_state()) << d.DebugString();
  EXPECT_EQ(d.set_goal_state().goal().state(), v1::GOAL_STATE_DONE);
  auto r = set_state(mentor_, g.id(), v1::GOAL_STATE_OPEN);
  ASSERT_TRUE(r.has_set_goal_state()) << r.DebugString();
  auto dropped = set_state(mentor_, g.id(), v1::GOAL_STATE_DROPPED, "The congress was cancelled.");
  ASSERT_TRUE(dropped.has_set_goal_state()) << dropped.DebugString();
  EXPECT_EQ(dropped.set_goal_state().goal().drop_reason(), "The congress was cancelled.");
  EXPECT_EQ(dropped.set_goal_state().goal().revision(), 6u);
  // A note on a closed goal is fine.
  ASSERT_TRUE(note(mentor_, g.id(), "Try the spring meeting instead.").has_add_goal_note());

  auto hist = history(mentor_, g.id());
  ASSERT_TRUE(hist.has_get_goal_history()) << hist.DebugString();
  const auto& entries = hist.get_goal_history().entries();
  ASSERT_EQ(entries.size(), 7);
  const v1::GoalChangeKind kinds[] = {v1::GOAL_CHANGE_KIND_ADDED,    v1::GOAL_CHANGE_KIND_EDITED,
                                      v1::GOAL_CHANGE_KIND_NOTE,     v1::GOAL_CHANGE_KIND_DONE,
                                      v1::GOAL_CHANGE_KIND_REOPENED, v1::GOAL_CHANGE_KIND_DROPPED,
                                      v1::GOAL_CHANGE_KIND_NOTE};
  const uint64_t actors[] = {mentee_.id(), mentor_.id(), mentee_.id(), mentee_.id(),
                             mentor_.id(), mentor_.id(), mentor_.id()};
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(entries[i].seq(), static_cast<uint32_t>(i + 1));
    EXPECT_EQ(entries[i].kind(), kinds[i]) << i;
    EXPECT_EQ(entries[i].actor_id(), actors[i]) << i;
    EXPECT_EQ(entries[i].goal_id(), g.id());
    EXPECT_EQ(entries[i].after().revision(), static_cast<uint32_t>(i + 1));
  }
  EXPECT_FALSE(entries[0].has_before());
  EXPECT_EQ(entries[0].after().what(), "Submit the sepsis abstract");
  EXPECT_EQ(entries[0].at_ms(), g.created_ms());
  // The edit: what it was and what it became.
  EXPECT_EQ(entries[1].before().what(), "Submit the sepsis abstract");
  EXPECT_EQ(entries[1].before().target_date(), "2027-03-31");
  EXPECT_EQ(entries[1].after().what(), "Submit the sepsis abstract to ESICM");
  EXPECT_EQ(entries[1].at_ms(), g.created_ms() + kHour);
  EXPECT_FALSE(entries[2].has_before());
  EXPECT_EQ(entries[3].before().state(), v1::GOAL_STATE_OPEN);
  EXPECT_EQ(entries[3].after().state(), v1::GOAL_STATE_DONE);
  EXPECT_EQ(entries[5].note(), "The congress was cancelled.");
  EXPECT_FALSE(hist.get_goal_history().has_more());

  // Each change is one GoalChanged to both members, with its history entry.
  for (auto* live : {mentor_live_.get(), mentee_live_.get()}) {
    auto changes = goal_changes(live->events());
    ASSERT_EQ(changes.size(), 7u);
    for (int i = 0; i < 7; ++i) {
      EXPECT_EQ(changes[i].entry().seq(), static_cast<uint32_t>(i + 1));
      EXPECT_EQ(changes[i].goal().revision(), static_cast<uint32_t>(i + 1));
    }
  }
  // The counts follow: one goal in all, none open, none done.
  EXPECT_EQ(work().goals_total(), 1u);
  EXPECT_EQ(work().goals_open(), 0u);
  EXPECT_EQ(work().goals_done(), 0u);
}

TEST_F(Goals, AddGoalRefusesWhatAPersonMustFix) {
  struct Case {
    std::string what, measure, target;
    uint32_t purpose;
    std::string field;
  };
  const std::string today = "2026-12-01";
  const Case cases[] = {
      {"", "", "", 0, "what"},
      {" \n\t", "", "", 0, "what"},
      {std::string(1001, 'x'), "", "", 0, "what"},
      {"bad \xC3\x28 text", "", "", 0, "what"},
      {"Goal", std::string(1001, 'm'), "", 0, "measure"},
      {"Goal", "", "2027-02-30", 0, "target_date"},
      {"Goal", "", "31/03/2027", 0, "target_date"},
      {"Goal", "", "2026-11-30", 0, "target_date"},  // yesterday
      {"Goal", "", "", 9, "purpose"},
  };
  for (const auto& c : cases) {
    auto r = add(mentee_, m_.id(), c.what, c.measure, c.target, c.purpose);
    EXPECT_EQ(code_of(r), v1::ERROR_CODE_INVALID_ARGUMENT) << c.field << ": " << r.DebugString();
    EXPECT_EQ(r.error().field(), c.field);
    EXPECT_FALSE(r.error().message().empty());
  }
  // Exactly at the limits, and today, are fine.
  auto ok = add(mentee_, m_.id(), std::string(1000, 'w'), std::string(1000, 'm'), today, v1::PURPOSE_OTHER);
  EXPECT_TRUE(ok.has_add_goal()) << ok.DebugString();
  EXPECT_TRUE(goal_changes(mentee_live_->events()).size() == 1u);
  EXPECT_EQ(work().goals_total(), 1u);
}

TEST_F(Goals, EditRefusesStaleRevisionsClosedGoalsAndBadTexts) {
  const v1::Goal g = added(mentee_, "Learn ultrasound-guided lines", "2026-12-20");
  auto stale = edit(mentor_, g.id(), "Learn lines", "", "2026-12-20", 7);
  EXPECT_EQ(code_of(stale), v1::ERROR_CODE_ABORTED);
  EXPECT_EQ(stale.error().field(), "revision");
  EXPECT_EQ(code_of(edit(mentor_, g.id(), "")), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_EQ(code_of(edit(mentor_, g.id(), std::string(1001, 'a'))), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_EQ(code_of(edit(mentor_, g.id(), "Lines", "", "2026-13-01")), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_EQ(code_of(edit(mentor_, g.id(), "Lines", "", "2026-11-01")), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_EQ(goal_now(g.id()).revision(), 1u);

  // The same texts again change nothing: no revision, no event.
  auto same = edit(mentor_, g.id(), "Learn ultrasound-guided lines", "", "2026-12-20");
  ASSERT_TRUE(same.has_edit_goal()) << same.DebugString();
  EXPECT_EQ(same.edit_goal().goal().revision(), 1u);
  EXPECT_EQ(goal_changes(mentor_live_->events()).size(), 1u);

  // A target that has passed since may stay as it is; it may not be set anew.
  h_.clock().set_ms(utc_ms(2027, 1, 10, 9));
  auto kept = edit(mentor_, g.id(), "Learn ultrasound-guided central lines", "", "2026-12-20");
  ASSERT_TRUE(kept.has_edit_goal()) << kept.DebugString();
  EXPECT_EQ(kept.edit_goal().goal().revision(), 2u);

  ASSERT_TRUE(set_state(mentee_, g.id(), v1::GOAL_STATE_DONE).has_set_goal_state());
  auto closed = edit(mentor_, g.id(), "Learn arterial lines too");
  EXPECT_EQ(code_of(closed), v1::ERROR_CODE_FAILED_PRECONDITION) << closed.DebugString();
}

TEST_F(Goals, SetGoalStateFollowsTheAllowedMovesOnly) {
  const v1::Goal g = added(mentee_, "Present at grand rounds");
  EXPECT_EQ(code_of(set_state(mentee_, g.id(), v1::GOAL_STATE_UNSPECIFIED)), v1::ERROR_CODE_INVALID_ARGUMENT);
  auto no_reason = set_state(mentee_, g.id(), v1::GOAL_STATE_DROPPED, "  ");
  EXPECT_EQ(code_of(no_reason), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_EQ(no_reason.error().field(), "reason");
  EXPECT_EQ(code_of(set_state(mentee_, g.id(), v1::GOAL_STATE_DROPPED, std::string(2001, 'r'))),
            v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_EQ(code_of(set_state(mentee_, g.id(), v1::GOAL_STATE_DONE, "why not")),
            v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_EQ(code_of(set_state(mentee_, g.id(), v1::GOAL_STATE_OPEN)), v1::ERROR_CODE_FAILED_PRECONDITION);
  ASSERT_TRUE(set_state(mentee_, g.id(), v1::GOAL_STATE_DONE).has_set_goal_state());
  EXPECT_EQ(work().goals_done(), 1u);
  EXPECT_EQ(work().goals_open(), 0u);
  EXPECT_EQ(code_of(set_state(mentee_, g.id(), v1::GOAL_STATE_DONE)), v1::ERROR_CODE_FAILED_PRECONDITION);
  EXPECT_EQ(code_of(set_state(mentee_, g.id(), v1::GOAL_STATE_DROPPED, "Changed my mind")),
            v1::ERROR_CODE_FAILED_PRECONDITION);
  auto reopened = set_state(mentor_, g.id(), v1::GOAL_STATE_OPEN);
  ASSERT_TRUE(reopened.has_set_goal_state());
  EXPECT_EQ(reopened.set_goal_state().goal().state(), v1::GOAL_STATE_OPEN);
  EXPECT_EQ(work().goals_done(), 0u);
  EXPECT_EQ(work().goals_open(), 1u);
  // Refusals wrote nothing: added, done, reopened.
  EXPECT_EQ(goal_now(g.id()).revision(), 3u);
  EXPECT_EQ(goal_changes(mentee_live_->events()).size(), 3u);
}

TEST_F(Goals, NotesMustHaveTextWithinTheLimit) {
  const v1::Goal g = added(mentee_, "Publish the case report");
  EXPECT_EQ(code_of(note(mentee_, g.id(), "")), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_EQ(code_of(note(mentee_, g.id(), "\n\n")), v1::ERROR_CODE_INVALID_ARGUMENT);
  auto big = note(mentee_, g.id(), std::string(4001, 'n'));
  EXPECT_EQ(code_of(big), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_EQ(big.error().field(), "text");
  EXPECT_TRUE(note(mentee_, g.id(), std::string(4000, 'n')).has_add_goal_note());
}

TEST_F(Goals, AMentorshipKeepsFiftyOpenAndTwoHundredGoalsAtMost) {
  std::vector<uint64_t> ids;
  for (int i = 0; i < 50; ++i)
    ids.push_back(added(i % 2 ? mentor_ : mentee_, "Goal " + std::to_string(i)).id());
  auto over = add(mentee_, m_.id(), "One too many");
  EXPECT_EQ(code_of(over), v1::ERROR_CODE_RESOURCE_EXHAUSTED) << over.DebugString();
  EXPECT_NE(over.error().message().find("50"), std::string::npos);
  // Closing one makes room; reopening it past the limit is refused.
  ASSERT_TRUE(set_state(mentee_, ids[0], v1::GOAL_STATE_DONE).has_set_goal_state());
  ASSERT_TRUE(add(mentee_, m_.id(), "Goal 50").has_add_goal());
  EXPECT_EQ(code_of(set_state(mentee_, ids[0], v1::GOAL_STATE_OPEN)), v1::ERROR_CODE_RESOURCE_EXHAUSTED);
  // 200 in all, whatever their state.
  ASSERT_TRUE(set_state(mentee_, ids[1], v1::GOAL_STATE_DONE).has_set_goal_state());
  int made = 51;
  while (made < 200) {
    auto r = add(mentee_, m_.id(), "Goal " + std::to_string(made));
    ASSERT_TRUE(r.has_add_goal()) << r.DebugString();
    ASSERT_TRUE(set_state(mentee_, r.add_goal().goal().id(), v1::GOAL_STATE_DONE).has_set_goal_state());
    ++made;
  }
  auto total = add(mentee_, m_.id(), "Goal 201");
  EXPECT_EQ(code_of(total), v1::ERROR_CODE_RESOURCE_EXHAUSTED) << total.DebugString();
  EXPECT_NE(total.error().message().find("200"), std::string::npos);
  EXPECT_EQ(work().goals_total(), 200u);
  EXPECT_EQ(work().goals_open(), 49u);
  EXPECT_EQ(work().goals_done(), 151u);
  auto all = list(mentor_, m_.id());
  ASSERT_TRUE(all.has_list_goals());
  EXPECT_EQ(all.list_goals().goals_size(), 200);
}

// 200 goals of about 4 KB each (150 dropped with a 2000-byte reason, 50
// open; every text at its limit) are about 700 KiB: ListGoals hands them
// out a page at a time, each page's items within kMaxPageBytes, in order
// (open first, then by id), every goal exactly once across the pages.
TEST_F(Goals, ListGoalsPagesByBytesWithACursor) {
  auto text = [](char c, size_t n, int i) {
    std::string s = std::to_string(i) + " ";
    return s + std::string(n - s.size(), c);
  };
  std::vector<uint64_t> open, closed;
  for (int round = 0; round < 4; ++round) {
    std::vector<uint64_t> batch;
    for (int i = 0; i < 50; ++i) {
      const int n = round * 50 + i;
      auto r = add(n % 2 ? mentor_ : mentee_, m_.id(), text('w', services::kMaxGoalWhatBytes, n),
                   text('m', services::kMaxGoalMeasureBytes, n));
      ASSERT_TRUE(r.has_add_goal()) << r.DebugString();
      batch.push_back(r.add_goal().goal().id());
    }
    if (round == 3) {
      open = batch;
      break;
    }
    for (uint64_t id : batch) {
      auto r = set_state(mentee_, id, v1::GOAL_STATE_DROPPED, text('r', services::kMaxGoalReasonBytes, 0));
      ASSERT_TRUE(r.has_set_goal_state()) << r.DebugString();
      closed.push_back(id);
    }
  }
  std::vector<uint64_t> expected = open;
  expected.insert(expected.end(), closed.begin(), closed.end());

  std::vector<uint64_t> seen;
  size_t total_bytes = 0;
  int pages = 0;
  v1::ListGoals req;
  req.set_mentorship_id(m_.id());
  req.set_include_closed(true);
  for (bool more = true; more; ++pages) {
    ASSERT_LT(pages, 20) << "the pages do not end";
    auto r = call(mentor_, frame(&F::mutable_list_goals, req));
    ASSERT_TRUE(r.has_list_goals()) << r.DebugString().substr(0, 500);
    const v1::ListGoalsResult& page = r.list_goals();
    ASSERT_GT(page.goals_size(), 0);
    size_t items = 0;
    for (const auto& g : page.goals()) {
      items += g.ByteSizeLong();
      seen.push_back(g.id());
    }
    EXPECT_LE(items, services::kMaxPageBytes) << "page " << pages;
    EXPECT_LE(r.ByteSizeLong(), services::kMaxPageBytes + 2048) << "page " << pages;
    total_bytes += items;
    // Every page says where it ended; the schedule comes with each.
    const v1::Goal& last = page.goals(page.goals_size() - 1);
    EXPECT_EQ(page.next_after().goal_id(), last.id());
    EXPECT_EQ(page.next_after().closed(), last.state() != v1::GOAL_STATE_OPEN);
    EXPECT_EQ(page.next_reassessment_ms(), m_.started_at_ms() + 12 * kWeek);
    more = page.has_more();
    *req.mutable_after() = page.next_after();
  }
  EXPECT_GT(total_bytes, 600u * 1024);
  EXPECT_GE(pages, 3);
  EXPECT_EQ(seen, expected);  // each once, open first, then by id

  // Open ones only: 50 of about 2 KB fit one page.
  auto only_open = list(mentee_, m_.id(), false);
  ASSERT_TRUE(only_open.has_list_goals());
  EXPECT_EQ(only_open.list_goals().goals_size(), 50);
  EXPECT_FALSE(only_open.list_goals().has_more());
  // A cursor past the last goal: an empty last page.
  req.mutable_after()->set_closed(true);
  req.mutable_after()->set_goal_id(closed.back());
  auto past = call(mentee_, frame(&F::mutable_list_goals, req));
  ASSERT_TRUE(past.has_list_goals());
  EXPECT_EQ(past.list_goals().goals_size(), 0);
  EXPECT_FALSE(past.list_goals().has_more());
}

TEST_F(Goals, AGoalFullOfNotesCanStillBeClosed) {
  const v1::Goal g = added(mentee_, "Daily reflection");
  for (int i = 1; i < 990; ++i)
    ASSERT_TRUE(note(mentee_, g.id(), "Day " + std::to_string(i)).has_add_goal_note()) << i;
  auto full = note(mentee_, g.id(), "Day 990");
  EXPECT_EQ(code_of(full), v1::ERROR_CODE_RESOURCE_EXHAUSTED) << full.DebugString();
  EXPECT_EQ(code_of(edit(mentee_, g.id(), "Weekly reflection")), v1::ERROR_CODE_RESOURCE_EXHAUSTED);
  auto done = set_state(mentee_, g.id(), v1::GOAL_STATE_DONE);
  ASSERT_TRUE(done.has_set_goal_state()) << done.DebugString();
  EXPECT_EQ(done.set_goal_state().goal().revision(), 991u);
}

TEST_F(Goals, ListShowsOpenGoalsFirstThenById) {
  const v1::Goal a = added(mentee_, "A");
  const v1::Goal b = added(mentee_, "B");
  const v1::Goal c = added(mentor_, "C");
  ASSERT_TRUE(set_state(mentee_, a.id(), v1::GOAL_STATE_DONE).has_set_goal_state());
  ASSERT_TRUE(set_state(mentee_, b.id(), v1::GOAL_STATE_DROPPED, "Not needed").has_set_goal_state());
  const v1::Goal d = added(mentee_, "D");
  auto open = list(mentor_, m_.id(), false);
  ASSERT_TRUE(open.has_list_goals()) << open.DebugString();
  ASSERT_EQ(open.list_goals().goals_size(), 2);
  EXPECT_EQ(open.list_goals().goals(0).id(), c.id());
  EXPECT_EQ(open.list_goals().goals(1).id(), d.id());
  auto all = list(mentee_, m_.id(), true);
  ASSERT_EQ(all.list_goals().goals_size(), 4);
  EXPECT_EQ(all.list_goals().goals(0).id(), c.id());
  EXPECT_EQ(all.list_goals().goals(1).id(), d.id());
  EXPECT_EQ(all.list_goals().goals(2).id(), a.id());
  EXPECT_EQ(all.list_goals().goals(3).id(), b.id());
  // The schedule: never reassessed; due 12 weeks after the mentorship began.
  EXPECT_EQ(all.list_goals().last_reassessment_ms(), 0);
  EXPECT_EQ(all.list_goals().next_reassessment_ms(), m_.started_at_ms() + 12 * kWeek);
}

TEST_F(Goals, HistoryComesAPageAtATime) {
  const v1::Goal g = added(mentee_, "Weekly reading");
  for (int i = 0; i < 11; ++i)
    ASSERT_TRUE(note(mentee_, g.id(), "Week " + std::to_string(i)).has_add_goal_note());
  auto first = history(mentor_, g.id(), 0, 5);
  ASSERT_TRUE(first.has_get_goal_history()) << first.DebugString();
  ASSERT_EQ(first.get_goal_history().entries_size(), 5);
  EXPECT_TRUE(first.get_goal_history().has_more());
  std::vector<uint32_t> seqs;
  uint32_t after = 0;
  for (;;) {
    auto page = history(mentor_, g.id(), after, 5);
    ASSERT_TRUE(page.has_get_goal_history());
    for (const auto& e : page.get_goal_history().entries()) seqs.push_back(e.seq());
    if (!page.get_goal_history().has_more()) break;
    after = seqs.back();
  }
  ASSERT_EQ(seqs.size(), 12u);
  for (uint32_t i = 0; i < 12; ++i) EXPECT_EQ(seqs[i], i + 1);
  auto too_many = history(mentor_, g.id(), 0, 201);
  EXPECT_EQ(code_of(too_many), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_EQ(too_many.error().field(), "limit");
}

TEST_F(Goals, StrangersGetNotFoundAndDirectorsPermissionDenied) {
  const v1::Goal g = added(mentee_, "Private: prepare for the fellowship interview");
  const auto other = pair(other_mentee_, other_mentor_);
  std::vector<std::pair<std::string, F>> requests;
  auto add_request = [&](const std::string& name, auto fill) {
    F f;
    fill(f);
    requests.emplace_back(name, f);
  };
  add_request("AddGoal", [&](F& f) {
    f.mutable_add_goal()->set_mentorship_id(m_.id());
    f.mutable_add_goal()->set_what("Intrude");
  });
  add_request("EditGoal", [&](F& f) {
    f.mutable_edit_goal()->set_goal_id(g.id());
    f.mutable_edit_goal()->set_what("Intrude");
  });
  add_request("SetGoalState", [&](F& f) {
    f.mutable_set_goal_state()->set_goal_id(g.id());
    f.mutable_set_goal_state()->set_state(v1::GOAL_STATE_DONE);
  });
  add_request("AddGoalNote", [&](F& f) {
    f.mutable_add_goal_note()->set_goal_id(g.id());
    f.mutable_add_goal_note()->set_text("Intrude");
  });
  add_request("ListGoals", [&](F& f) { f.mutable_list_goals()->set_mentorship_id(m_.id()); });
  add_request("GetGoalHistory", [&](F& f) { f.mutable_get_goal_history()->set_goal_id(g.id()); });
  add_request("Reassess", [&](F& f) {
    f.mutable_reassess()->set_mentorship_id(m_.id());
    *f.mutable_reassess()->add_decisions() = decide(g.id(), v1::GOAL_DECISION_KIND_KEEP);
    f.mutable_reassess()->set_summary("Intrude");
  });
  add_request("ListReassessments", [&](F& f) { f.mutable_list_reassessments()->set_mentorship_id(m_.id()); });
  struct Outsider {
    const char* name;
    const v1::User* user;
    ErrorCode expected;
  };
  const Outsider outsiders[] = {
      {"stranger", &stranger_, v1::ERROR_CODE_NOT_FOUND},
      {"other pair's mentor", &other_mentor_, v1::ERROR_CODE_NOT_FOUND},
      {"director", &director_, v1::ERROR_CODE_PERMISSION_DENIED},
  };
  for (const auto& who : outsiders) {
    for (const auto& [name, f] : requests) {
      auto r = call(*who.user, f);
      EXPECT_EQ(code_of(r), who.expected) << who.name << " x " << name << ": " << r.DebugString();
      EXPECT_FALSE(r.error().message().empty());
      EXPECT_EQ(r.SerializeAsString().find("fellowship"), std::string::npos);
    }
  }
  // An outsider's answer is the one for an id that does not exist.
  auto theirs = history(stranger_, g.id());
  auto none = history(mentee_, 999999);
  EXPECT_EQ(code_of(none), v1::ERROR_CODE_NOT_FOUND);
  EXPECT_EQ(theirs.error().message(), "No goal " + std::to_string(g.id()) + " among yours.");
  EXPECT_EQ(none.error().message(), "No goal 999999 among yours.");
  EXPECT_EQ(none.error().field(), "goal_id");
  // Members of another pair see only their own.
  auto own = list(other_mentee_, other.id());
  ASSERT_TRUE(own.has_list_goals());
  EXPECT_EQ(own.list_goals().goals_size(), 0);
  // Nothing changed.
  EXPECT_EQ(goal_now(g.id()).revision(), 1u);
  EXPECT_EQ(goal_changes(mentee_live_->events()).size(), 1u);
}

TEST_F(Goals, AnEndedMentorshipsGoalsCanBeReadNotChanged) {
  const v1::Goal g = added(mentee_, "Finish the QI project");
  ASSERT_TRUE(note(mentor_, g.id(), "Halfway").has_add_goal_note());
  end_mentorship();
  EXPECT_EQ(code_of(add(mentee_, m_.id(), "Another")), v1::ERROR_CODE_FAILED_PRECONDITION);
  EXPECT_EQ(code_of(edit(mentee_, g.id(), "Changed")), v1::ERROR_CODE_FAILED_PRECONDITION);
  EXPECT_EQ(code_of(set_state(mentee_, g.id(), v1::GOAL_STATE_DONE)), v1::ERROR_CODE_FAILED_PRECONDITION);
  EXPECT_EQ(code_of(note(mentee_, g.id(), "More")), v1::ERROR_CODE_FAILED_PRECONDITION);
  EXPECT_EQ(code_of(reassess(mentee_, m_.id(), {decide(g.id(), v1::GOAL_DECISION_KIND_KEEP)})),
            v1::ERROR_CODE_FAILED_PRECONDITION);
  auto l = list(mentee_, m_.id());
  ASSERT_TRUE(l.has_list_goals()) << l.DebugString();
  EXPECT_EQ(l.list_goals().goals_size(), 1);
  EXPECT_EQ(l.list_goals().next_reassessment_ms(), 0);  // nothing is due on an ended mentorship
  auto hist = history(mentor_, g.id());
  ASSERT_TRUE(hist.has_get_goal_history());
  EXPECT_EQ(hist.get_goal_history().entries_size(), 2);
  EXPECT_TRUE(reassessments(mentee_, m_.id()).has_list_reassessments());
}

// ---- reassessment ----

TEST_F(Goals, AReassessmentDecidesEveryOpenGoalAddsNewOnesAndIsKept) {
  const v1::Goal keep = added(mentee_, "Journal club monthly");
  const v1::Goal refine = added(mentee_, "Write the protocol", "2027-01-31");
  const v1::Goal drop = added(mentor_, "Shadow in the ICU");
  const v1::Goal done = added(mentee_, "Pass the ALS course");
  ASSERT_TRUE(set_state(mentee_, done.id(), v1::GOAL_STATE_DONE).has_set_goal_state());
  const uint64_t seen = last_position(mentor_live_->events());
  h_.clock().advance_ms(10 * kWeek);

  auto r = reassess(
      mentor_, m_.id(),
      {decide(keep.id(), v1::GOAL_DECISION_KIND_KEEP),
       decide(refine.id(), v1::GOAL_DECISION_KIND_REFINE, "Write and register the protocol", "2027-04-30"),
       decide(drop.id(), v1::GOAL_DECISION_KIND_DROP, "", "", "The rotation moved to spring.")},
      {new_goal("Draft the ethics application", "2027-05-31"), new_goal("Find a statistician")});
  ASSERT_TRUE(r.has_reassess()) << r.DebugString();
  const v1::Reassessment& ra = r.reassess().reassessment();
  EXPECT_NE(ra.id(), 0u);
  EXPECT_EQ(ra.mentorship_id(), m_.id());
  EXPECT_EQ(ra.by(), mentor_.id());
  EXPECT_EQ(ra.at_ms(), now());
  EXPECT_EQ(ra.decisions_size(), 3);
  ASSERT_EQ(ra.new_goal_ids_size(), 2);
  EXPECT_EQ(ra.summary(), "Good progress; the abstract comes first now.");
  ASSERT_EQ(r.reassess().goals_size(), 5);

  auto kept = goal_now(keep.id());
  EXPECT_EQ(kept.state(), v1::GOAL_STATE_OPEN);
  EXPECT_EQ(kept.what(), "Journal club monthly");
  EXPECT_EQ(kept.revision(), 2u);
  auto refined = goal_now(refine.id());
  EXPECT_EQ(refined.what(), "Write and register the protocol");
  EXPECT_EQ(refined.target_date(), "2027-04-30");
  auto dropped = goal_now(drop.id());
  EXPECT_EQ(dropped.state(), v1::GOAL_STATE_DROPPED);
  EXPECT_EQ(dropped.drop_reason(), "The rotation moved to spring.");
  EXPECT_EQ(goal_now(done.id()).revision(), 2u);  // closed goals are not part of it
  auto fresh = goal_now(ra.new_goal_ids(0));
  EXPECT_EQ(fresh.what(), "Draft the ethics application");
  EXPECT_EQ(fresh.created_by(), mentor_.id());

  // Each goal's history names the reassessment.
  auto entry_of = [&](uint64_t goal) {
    auto hist = history(mentee_, goal);
    EXPECT_TRUE(hist.has_get_goal_history());
    return hist.get_goal_history().entries(hist.get_goal_history().entries_size() - 1);
  };
  EXPECT_EQ(entry_of(keep.id()).kind(), v1::GOAL_CHANGE_KIND_REASSESSED);
  EXPECT_EQ(entry_of(keep.id()).reassessment_id(), ra.id());
  const auto refined_entry = entry_of(refine.id());
  EXPECT_EQ(refined_entry.kind(), v1::GOAL_CHANGE_KIND_REASSESSED);
  EXPECT_EQ(refined_entry.before().what(), "Write the protocol");
  EXPECT_EQ(refined_entry.after().what(), "Write and register the protocol");
  EXPECT_EQ(entry_of(drop.id()).kind(), v1::GOAL_CHANGE_KIND_DROPPED);
  EXPECT_EQ(entry_of(drop.id()).note(), "The rotation moved to spring.");
  EXPECT_EQ(entry_of(ra.new_goal_ids(1)).kind(), v1::GOAL_CHANGE_KIND_ADDED);
  EXPECT_EQ(entry_of(ra.new_goal_ids(1)).reassessment_id(), ra.id());

  // Both members: a GoalChanged per goal, then ReassessmentRecorded.
  for (auto* live : {mentor_live_.get(), mentee_live_.get()}) {
    const std::vector<v1::Event> newer = stored_after(live->events(), seen);
    ASSERT_EQ(newer.size(), 6u);
    EXPECT_EQ(goal_changes(newer).size(), 5u);
    ASSERT_TRUE(newer.back().has_reassessment());
    EXPECT_EQ(newer.back().reassessment().reassessment().id(), ra.id());
    EXPECT_EQ(newer.back().reassessment().goals_size(), 5);
  }
  // The counts and the schedule: 12 weeks from now.
  auto l = list(mentee_, m_.id());
  EXPECT_EQ(l.list_goals().last_reassessment_ms(), now());
  EXPECT_EQ(l.list_goals().next_reassessment_ms(), now() + 12 * kWeek);
  EXPECT_EQ(work().goals_total(), 6u);
  EXPECT_EQ(work().goals_open(), 4u);
  EXPECT_EQ(work().goals_done(), 1u);

  auto past = reassessments(mentee_, m_.id());
  ASSERT_TRUE(past.has_list_reassessments()) << past.DebugString();
  ASSERT_EQ(past.list_reassessments().reassessments_size(), 1);
  EXPECT_EQ(past.list_reassessments().reassessments(0).summary(), ra.summary());
  EXPECT_FALSE(past.list_reassessments().has_more());
}

TEST_F(Goals, AReassessmentChangesEveryGoalOrNone) {
  const v1::Goal a = added(mentee_, "Goal A");
  const v1::Goal b = added(mentee_, "Goal B", "2027-01-31");
  const v1::Goal closed = added(mentee_, "Closed goal");
  ASSERT_TRUE(set_state(mentee_, closed.id(), v1::GOAL_STATE_DONE).has_set_goal_state());
  const auto other = pair(other_mentee_, other_mentor_);
  auto theirs = add(other_mentee_, other.id(), "Their goal");
  ASSERT_TRUE(theirs.has_add_goal());
  const uint64_t their_goal = theirs.add_goal().goal().id();
  const uint64_t seen = last_position(mentee_live_->events());

  const auto keep_a = decide(a.id(), v1::GOAL_DECISION_KIND_KEEP);
  const auto keep_b = decide(b.id(), v1::GOAL_DECISION_KIND_KEEP);
  struct Case {
    std::string name;
    std::vector<v1::GoalDecision> decisions;
    std::vector<v1::NewGoal> new_goals;
    std::string summary;
    ErrorCode code;
    std::string field;
    std::string names;  // the message names this
  };
  std::vector<v1::NewGoal> too_many_new(21, new_goal("New"));
  std::vector<v1::GoalDecision> too_many_decisions(51, keep_a);
  const std::vector<Case> cases = {
      {"an open goal without a decision",
       {keep_a},
       {},
       "S",
       v1::ERROR_CODE_INVALID_ARGUMENT,
       "decisions",
       "Goal " + std::to_string(b.id())},
      {"a goal twice",
       {keep_a, keep_b, keep_a},
       {},
       "S",
       v1::ERROR_CODE_INVALID_ARGUMENT,
       "decisions[2].goal_id",
       "Goal " + std::to_string(a.id())},
      {"a closed goal",
       {keep_a, keep_b, decide(closed.id(), v1::GOAL_DECISION_KIND_KEEP)},
       {},
       "S",
       v1::ERROR_CODE_INVALID_ARGUMENT,
       "decisions[2].goal_id",
       "Goal " + std::to_string(closed.id())},
      {"another pair's goal",
       {keep_a, keep_b, decide(their_goal, v1::GOAL_DECISION_KIND_KEEP)},
       {},
       "S",
       v1::ERROR_CODE_INVALID_ARGUMENT,
       "decisions[2].goal_id",
       "Goal " + std::to_string(their_goal)},
      {"a missing goal",
       {keep_a, keep_b, decide(987654, v1::GOAL_DECISION_KIND_DROP, "", "", "x")},
       {},
       "S",
       v1::ERROR_CODE_INVALID_ARGUMENT,
       "decisions[2].goal_id",
       "Goal 987654"},
      {"no decision kind",
       {keep_a, decide(b.id(), v1::GOAL_DECISION_KIND_UNSPECIFIED)},
       {},
       "S",
       v1::ERROR_CODE_INVALID_ARGUMENT,
       "decisions[1].decision",
       "goal " + std::to_string(b.id())},
      {"a refinement with nothing new",
       {keep_a, decide(b.id(), v1::GOAL_DECISION_KIND_REFINE)},
       {},
       "S",
       v1::ERROR_CODE_INVALID_ARGUMENT,
       "decisions[1]",
       ""},
      {"a refinement to a past date",
       {keep_a, decide(b.id(), v1::GOAL_DECISION_KIND_REFINE, "", "2026-01-01")},
       {},
       "S",
       v1::ERROR_CODE_INVALID_ARGUMENT,
       "decisions[1].target_date",
       ""},
      {"a refinement to a bad date",
       {keep_a, decide(b.id(), v1::GOAL_DECISION_KIND_REFINE, "", "2027-02-29")},
       {},
       "S",
       v1::ERROR_CODE_INVALID_ARGUMENT,
       "decisions[1].target_date",
       ""},
      {"a drop without a reason",
       {keep_a, decide(b.id(), v1::GOAL_DECISION_KIND_DROP)},
       {},
       "S",
       v1::ERROR_CODE_INVALID_ARGUMENT,
       "decisions[1].reason",
       ""},
      {"a keep with a new text",
       {keep_a, decide(b.id(), v1::GOAL_DECISION_KIND_KEEP, "New text")},
       {},
       "S",
       v1::ERROR_CODE_INVALID_ARGUMENT,
       "decisions[1]",
       ""},
      {"no summary", {keep_a, keep_b}, {}, " ", v1::ERROR_CODE_INVALID_ARGUMENT, "summary", ""},
      {"a summary too long",
       {keep_a, keep_b},
       {},
       std::string(4001, 's'),
       v1::ERROR_CODE_INVALID_ARGUMENT,
       "summary",
       ""},
      {"51 decisions", too_many_decisions, {}, "S", v1::ERROR_CODE_INVALID_ARGUMENT, "decisions", ""},
      {"21 new goals", {keep_a, keep_b}, too_many_new, "S", v1::ERROR_CODE_INVALID_ARGUMENT, "new_goals", ""},
      {"a new goal without text",
       {keep_a, keep_b},
       {new_goal("")},
       "S",
       v1::ERROR_CODE_INVALID_ARGUMENT,
       "new_goals[0].what",
       ""},
      {"a new goal with a past date",
       {keep_a, keep_b},
       {new_goal("X", "2026-11-30")},
       "S",
       v1::ERROR_CODE_INVALID_ARGUMENT,
       "new_goals[0].target_date",
       ""},
  };
  for (const auto& c : cases) {
    auto r = reassess(mentee_, m_.id(), c.decisions, c.new_goals, c.summary);
    EXPECT_EQ(code_of(r), c.code) << c.name << ": " << r.DebugString();
    EXPECT_EQ(r.error().field(), c.field) << c.name;
    if (!c.names.empty()) {
      EXPECT_NE(r.error().message().find(c.names), std::string::npos) << c.name;
    }
  }
  // Past the open limit with new goals: refused as a whole.
  for (int i = 0; i < 47; ++i) added(mentor_, "Filler " + std::to_string(i));  // 49 open
  std::vector<v1::GoalDecision> keep_all;
  const v1::Response open_goals = list(mentee_, m_.id(), false);
  for (const auto& g : open_goals.list_goals().goals())
    keep_all.push_back(decide(g.id(), v1::GOAL_DECISION_KIND_KEEP));
  ASSERT_EQ(keep_all.size(), 49u);
  auto full = reassess(mentee_, m_.id(), keep_all, {new_goal("One"), new_goal("Two")});
  EXPECT_EQ(code_of(full), v1::ERROR_CODE_RESOURCE_EXHAUSTED) << full.DebugString();

  // Nothing of any of them was written.
  EXPECT_EQ(goal_now(a.id()).revision(), 1u);
  EXPECT_EQ(goal_now(b.id()).revision(), 1u);
  EXPECT_EQ(goal_now(b.id()).target_date(), "2027-01-31");
  auto l = list(mentee_, m_.id());
  EXPECT_EQ(l.list_goals().goals_size(), 50);
  EXPECT_EQ(l.list_goals().last_reassessment_ms(), 0);
  EXPECT_EQ(count_entries(h_.store(), Cf::kReassessments), 0u);
  for (const auto& e : stored_after(mentee_live_->events(), seen)) {
    EXPECT_FALSE(e.has_reassessment());
    if (e.has_goal_changed()) {
      EXPECT_EQ(e.goal_changed().entry().kind(), v1::GOAL_CHANGE_KIND_ADDED);
    }
  }
  // The same with one new goal fits: 50 open.
  auto fits = reassess(mentee_, m_.id(), keep_all, {new_goal("One")});
  EXPECT_TRUE(fits.has_reassess()) << fits.DebugString();
}

TEST_F(Goals, ReassessmentsAreListedNewestFirstAPageAtATime) {
  const auto other = pair(other_mentee_, other_mentor_);
  std::vector<uint64_t> ours;
  for (int i = 0; i < 7; ++i) {
    h_.clock().advance_ms(kDay);
    auto r = reassess(i % 2 ? mentor_ : mentee_, m_.id(), {}, {}, "Round " + std::to_string(i));
    ASSERT_TRUE(r.has_reassess()) << r.DebugString();
    ours.push_back(r.reassess().reassessment().id());
    // Another pair's in between: ids are not consecutive within one mentorship.
    ASSERT_TRUE(reassess(other_mentee_, other.id(), {}, {}, "Theirs").has_reassess());
  }
  std::vector<uint64_t> seen;
  uint64_t before = 0;
  for (;;) {
    auto page = reassessments(mentor_, m_.id(), before, 3);
    ASSERT_TRUE(page.has_list_reassessments()) << page.DebugString();
    EXPECT_LE(page.list_reassessments().reassessments_size(), 3);
    for (const auto& r : page.list_reassessments().reassessments()) {
      EXPECT_EQ(r.mentorship_id(), m_.id());
      seen.push_back(r.id());
    }
    if (!page.list_reassessments().has_more()) break;
    before = seen.back();
  }
  EXPECT_EQ(seen, std::vector<uint64_t>(ours.rbegin(), ours.rend()));
  auto newest = reassessments(mentee_, m_.id(), 0, 1);
  ASSERT_EQ(newest.list_reassessments().reassessments_size(), 1);
  EXPECT_EQ(newest.list_reassessments().reassessments(0).summary(), "Round 6");
  EXPECT_TRUE(newest.list_reassessments().has_more());
  auto too_many = reassessments(mentee_, m_.id(), 0, 101);
  EXPECT_EQ(code_of(too_many), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_EQ(too_many.error().field(), "limit");
}

// ---- "time to reassess" ----

TEST_F(Goals, TimeToReassessComesToBothOncePerPeriod) {
  added(mentee_, "Goal one");
  added(mentor_, "Goal two");
  const int64_t start = m_.started_at_ms();
  run_at(start + 12 * kWeek - kMinute);
  EXPECT_TRUE(dues(mentee_live_->events()).empty());
  run_at(start + 12 * kWeek);
  for (auto* live : {mentor_live_.get(), mentee_live_.get()}) {
    auto got = dues(live->events());
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].mentorship_id(), m_.id());
    EXPECT_EQ(got[0].due_ms(), start + 12 * kWeek);
    EXPECT_EQ(got[0].last_reassessment_ms(), 0);
    EXPECT_EQ(got[0].open_goals(), 2u);
  }
  // A second pass, and a later one in the same period, send nothing more.
  h_.run_timed_work();
  run_at(start + 20 * kWeek);
  EXPECT_EQ(dues(mentee_live_->events()).size(), 1u);
  EXPECT_EQ(list(mentee_, m_.id()).list_goals().next_reassessment_ms(), start + 24 * kWeek);
  // The next period.
  run_at(start + 24 * kWeek + kHour);
  auto got = dues(mentor_live_->events());
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].due_ms(), start + 24 * kWeek);
  // The schedule keeps one entry, for the period after.
  EXPECT_EQ(count_entries(h_.store(), Cf::kWorkDue), 1u);
}

TEST_F(Goals, AReassessmentStartsTheCountAgain) {
  const v1::Goal g = added(mentee_, "Goal");
  const int64_t start = m_.started_at_ms();
  h_.clock().set_ms(start + 10 * kWeek);
  ASSERT_TRUE(reassess(mentor_, m_.id(), {decide(g.id(), v1::GOAL_DECISION_KIND_KEEP)}).has_reassess());
  const int64_t reassessed = now();
  run_at(start + 12 * kWeek);
  EXPECT_TRUE(dues(mentee_live_->events()).empty());
  run_at(reassessed + 12 * kWeek);
  auto got = dues(mentee_live_->events());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].due_ms(), reassessed + 12 * kWeek);
  EXPECT_EQ(got[0].last_reassessment_ms(), reassessed);
}

TEST_F(Goals, TheAgreementSetsTheWeeks) {
  for (uint32_t bad : {1u, 3u, 53u, 1000u}) {
    auto r = propose_agreement(mentee_, bad);
    EXPECT_EQ(code_of(r), v1::ERROR_CODE_INVALID_ARGUMENT) << bad;
    EXPECT_EQ(r.error().field(), "reassess_weeks");
  }
  const int64_t start = m_.started_at_ms();
  h_.clock().advance_ms(kWeek);
  agree(4);
  EXPECT_EQ(list(mentee_, m_.id()).list_goals().next_reassessment_ms(), start + 4 * kWeek);
  run_at(start + 4 * kWeek);
  ASSERT_EQ(dues(mentee_live_->events()).size(), 1u);
  EXPECT_EQ(dues(mentee_live_->events())[0].due_ms(), start + 4 * kWeek);
  // Every 26 weeks from the start; the same weeks again move nothing.
  h_.clock().set_ms(start + 5 * kWeek);
  agree(26);
  EXPECT_EQ(list(mentee_, m_.id()).list_goals().next_reassessment_ms(), start + 26 * kWeek);
  agree(26);
  EXPECT_EQ(list(mentee_, m_.id()).list_goals().next_reassessment_ms(), start + 26 * kWeek);
  run_at(start + 12 * kWeek);
  EXPECT_EQ(dues(mentee_live_->events()).size(), 1u);
  // 0: back to the default, 12 weeks; the next end of one after now.
  agree(0);
  EXPECT_EQ(list(mentee_, m_.id()).list_goals().next_reassessment_ms(), start + 24 * kWeek);
  EXPECT_EQ(count_entries(h_.store(), Cf::kWorkDue), 1u);
}

TEST_F(Goals, TimeToReassessWaitsForQuietHours) {
  // The mentee is quiet 08:00-12:00 in Stockholm; the period ends at 10:00 there.
  ASSERT_TRUE(set_quiet(mentee_, 8 * 60, 12 * 60).has_set_meeting_preferences());
  const int64_t due = m_.started_at_ms() + 12 * kWeek;  // 2027-02-23 09:00 UTC
  run_at(due);
  EXPECT_TRUE(dues(mentor_live_->events()).empty());
  EXPECT_TRUE(dues(mentee_live_->events()).empty());
  run_at(utc_ms(2027, 2, 23, 10, 59));
  EXPECT_TRUE(dues(mentee_live_->events()).empty());
  run_at(utc_ms(2027, 2, 23, 11));  // 12:00 in Stockholm
  for (auto* live : {mentor_live_.get(), mentee_live_.get()}) {
    auto got = dues(live->events());
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].due_ms(), due);
  }
  h_.run_timed_work();
  EXPECT_EQ(dues(mentee_live_->events()).size(), 1u);
  EXPECT_EQ(list(mentee_, m_.id()).list_goals().next_reassessment_ms(), due + 12 * kWeek);
}

TEST_F(Goals, QuietHoursHoldItADayAtMost) {
  // Between them the two are quiet around the clock.
  ASSERT_TRUE(set_quiet(mentor_, 0, 12 * 60).has_set_meeting_preferences());
  ASSERT_TRUE(set_quiet(mentee_, 12 * 60, 24 * 60).has_set_meeting_preferences());
  const int64_t due = m_.started_at_ms() + 12 * kWeek;
  run_at(due);                      // the mentor's quiet hours: until 12:00 local
  run_at(utc_ms(2027, 2, 23, 11));  // the mentee's: until midnight
  EXPECT_TRUE(dues(mentee_live_->events()).empty());
  run_at(utc_ms(2027, 2, 23, 23));  // the mentor's again, past a day after it was due: sent
  auto got = dues(mentee_live_->events());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].due_ms(), due);
  EXPECT_EQ(dues(mentor_live_->events()).size(), 1u);
}

TEST_F(Goals, NoTimeToReassessOnceTheMentorshipEnded) {
  const int64_t start = m_.started_at_ms();
  end_mentorship();
  run_at(start + 12 * kWeek);
  run_at(start + 24 * kWeek);
  EXPECT_TRUE(dues(mentee_live_->events()).empty());
  EXPECT_TRUE(dues(mentor_live_->events()).empty());
  EXPECT_EQ(count_entries(h_.store(), Cf::kWorkDue), 0u);  // the entry was dropped
}

TEST_F(Goals, AnAssignedMentorshipIsScheduledToo) {
  v1::AssignMentorship a;
  a.set_mentor_id(other_mentor_.id());
  a.set_mentee_id(other_mentee_.id());
  a.set_purpose(v1::PURPOSE_CAREER);
  auto r = call(director_, frame(&F::mutable_assign_mentorship, a));
  ASSERT_TRUE(r.has_assign_mentorship()) << r.DebugString();
  const auto& m = r.assign_mentorship().mentorship();
  auto l = list(other_mentee_, m.id());
  ASSERT_TRUE(l.has_list_goals()) << l.DebugString();
  EXPECT_EQ(l.list_goals().next_reassessment_ms(), m.started_at_ms() + 12 * kWeek);
}

// ---- directors ----

TEST_F(Goals, DirectorsSeeTheCountsAndNeverTheTexts) {
  const v1::Goal a = added(mentee_, "Confidential: leave the programme");
  const v1::Goal b = added(mentee_, "Confidential: second goal");
  const v1::Goal c = added(mentee_, "Confidential: third goal");
  ASSERT_TRUE(set_state(mentee_, a.id(), v1::GOAL_STATE_DONE).has_set_goal_state());
  h_.clock().advance_ms(kDay);
  auto r = reassess(mentor_, m_.id(),
                    {decide(b.id(), v1::GOAL_DECISION_KIND_DROP, "", "", "Confidential reason"),
                     decide(c.id(), v1::GOAL_DECISION_KIND_KEEP)},
                    {}, "Confidential summary");
  ASSERT_TRUE(r.has_reassess()) << r.DebugString();
  const int64_t reassessed = now();
  // The assignments' counters live in the same record (their service keeps them).
  std::promise<Status> written;
  h_.committer().submit(
      [id = m_.id()](storage::CommitContext& ctx) {
        auto rec = services::load<v1::MentorshipWorkRecord>(ctx, Cf::kMentorshipWork,
                                                            storage::keys::IdKey{.id = id}.encode());
        if (!rec) return rec.status();
        v1::MentorshipWorkRecord w = rec->value_or(v1::MentorshipWorkRecord());
        w.set_assignments_open(3);
        w.set_assignments_overdue(1);
        w.set_assignments_approved(2);
        services::save(ctx, Cf::kMentorshipWork, storage::keys::IdKey{.id = id}.encode(), w);
        return Status::ok();
      },
      [&written](const Status& st) { written.set_value(st); });
  const Status st = written.get_future().get();
  ASSERT_TRUE(st.is_ok()) << st.to_string();
  auto listed = call(director_, frame(&F::mutable_list_mentorships));
  ASSERT_TRUE(listed.has_list_mentorships()) << listed.DebugString();
  ASSERT_EQ(listed.list_mentorships().mentorships_size(), 1);
  const v1::Engagement& e = listed.list_mentorships().mentorships(0).engagement();
  EXPECT_EQ(e.goals_open(), 1u);
  EXPECT_EQ(e.goals_done(), 1u);
  EXPECT_EQ(e.last_reassessment_ms(), reassessed);
  EXPECT_EQ(e.assignments_open(), 3u);
  EXPECT_EQ(e.assignments_overdue(), 1u);
  EXPECT_EQ(e.assignments_approved(), 2u);
  EXPECT_EQ(listed.SerializeAsString().find("Confidential"), std::string::npos);
  // The members see the same counts on their own mentorship.
  auto own = call(mentee_, frame(&F::mutable_list_mentorships));
  ASSERT_EQ(own.list_mentorships().mentorships_size(), 1);
  EXPECT_EQ(own.list_mentorships().mentorships(0).engagement().goals_open(), 1u);
}

// ---- a real server ----

// Due while the server was down: after the restart it comes once, however
// many passes run, and a device that was offline gets it with Sync.
TEST(GoalsRestart, TimeToReassessDueWhileDownArrivesOnceAfterTheRestart) {
  testing::TempDir dir;
  ManualClock clock(utc_ms(2026, 12, 1, 9));
  uint64_t mentorship_id = 0;
  int64_t started = 0;
  {
    testing::TestServer first(testing::test_config(dir.data()), &clock);
    const v1::User mentor = first.add_user("dr.lind", v1::ROLE_MENTOR);
    first.add_user("wei.chen", v1::ROLE_MENTEE);
    {  // the clients leave before the server stops
      testing::TestClient mentor_client, mentee_client;
      ASSERT_EQ(mentor_client.connect(first.port()), "");
      ASSERT_EQ(mentee_client.connect(first.port()), "");
      ASSERT_TRUE(mentor_client.login("dr.lind", testing::TestServer::password_of("dr.lind")).has_login());
      ASSERT_TRUE(mentee_client.login("wei.chen", testing::TestServer::password_of("wei.chen")).has_login());
      v1::ClientFrame req;
      req.set_request_id(mentee_client.next_request_id());
      req.mutable_request_mentorship()->set_mentor_id(mentor.id());
      req.mutable_request_mentorship()->set_purpose(v1::PURPOSE_CAREER);
      auto asked = mentee_client.call(req);
      ASSERT_TRUE(asked && testing::has_mentorship(*asked)) << (asked ? asked->DebugString() : "no answer");
      v1::ClientFrame acc;
      acc.set_request_id(mentor_client.next_request_id());
      acc.mutable_accept_mentorship()->set_mentorship_id(testing::mentorship_of(*asked).id());
      auto accepted = mentor_client.call(acc);
      ASSERT_TRUE(accepted && testing::has_mentorship(*accepted));
      mentorship_id = testing::mentorship_of(*accepted).id();
      started = testing::mentorship_of(*accepted).started_at_ms();
      v1::ClientFrame goal;
      goal.set_request_id(mentee_client.next_request_id());
      goal.mutable_add_goal()->set_mentorship_id(mentorship_id);
      goal.mutable_add_goal()->set_what("Pass the board exam");
      auto g = mentee_client.call(goal);
      ASSERT_TRUE(g && g->has_add_goal()) << (g ? g->DebugString() : "no answer");
    }
    first.server().run_scheduler_once();  // nothing due yet
    first.stop();
  }
  clock.set_ms(started + 12 * kWeek + 3 * kDay);  // down across the end of the period
  testing::TestServer second(testing::test_config(dir.data()), &clock);
  second.server().run_scheduler_once();
  second.server().run_scheduler_once();
  testing::TestClient client;
  ASSERT_EQ(client.connect(second.port()), "");
  ASSERT_TRUE(client.login("dr.lind", testing::TestServer::password_of("dr.lind")).has_login());
  v1::ClientFrame sync;
  sync.set_request_id(client.next_request_id());
  sync.mutable_sync()->set_limit(1000);
  auto r = client.call(sync);
  ASSERT_TRUE(r && r->has_sync()) << (r ? r->DebugString() : "no answer");
  std::vector<v1::ReassessmentDue> got;
  for (const auto& e : r->sync().events())
    if (e.has_reassessment_due()) got.push_back(e.reassessment_due());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].mentorship_id(), mentorship_id);
  EXPECT_EQ(got[0].due_ms(), started + 12 * kWeek);
  EXPECT_EQ(got[0].open_goals(), 1u);
}

}  // namespace
}  // namespace preceptor::goals_test
