// Assignments, versions and reviews (issue 13): the state machine and every
// refused transition, versions kept, reviews with anchored comments, replies
// and resolved marks, the limits, who may do what, paging, the nudges (once
// each, quiet hours, a second pass) and the directors' counts, through the
// services harness on a manual clock; and the flow with a nudge across a
// restart against a real server.
#include "server/services/assignments.h"

#include <date/date.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "server/services/record_io.h"
#include "server/services/work_book.h"
#include "storage/keys.h"
#include "tests/harness/services_harness.h"
#include "tests/support/test_client.h"
#include "tests/support/test_server.h"

namespace preceptor::assignments_test {
namespace {

using harness::FakeSession;
using harness::frame;
using harness::ServicesHarness;
using storage::Cf;
using F = v1::ClientFrame;
using v1::ErrorCode;
namespace keys = storage::keys;

constexpr int64_t kMin = 60'000;
constexpr int64_t kHour = 60 * kMin;
constexpr int64_t kDay = 24 * kHour;

int64_t utc_ms(int y, unsigned mo, unsigned d, int h, int mi = 0) {
  using namespace std::chrono;
  const auto t = date::sys_days{date::year{y} / date::month{mo} / date::day{d}} + hours{h} + minutes{mi};
  return duration_cast<milliseconds>(t.time_since_epoch()).count();
}

ErrorCode code_of(const v1::Response& r) { return r.error().code(); }

// Runs `apply` on the committer and waits for it (bounded); its status.
Status commit_and_wait(storage::Committer& committer, storage::ApplyFn apply) {
  auto done = std::make_shared<std::promise<Status>>();
  auto future = done->get_future();
  committer.submit(std::move(apply), [done](const Status& st) { done->set_value(st); });
  if (future.wait_for(std::chrono::seconds(20)) != std::future_status::ready)
    return internal_error("The test gave up waiting for the committer.");
  return future.get();
}

// A document as the documents service leaves it once an upload is
// complete (or, with `complete` false, still uploading), written directly
// in one committed mutation; its id.
uint64_t add_document(storage::Committer& committer, uint64_t mentorship_id, uint64_t owner_id,
                      const std::string& name = "cv-draft.pdf", bool complete = true) {
  uint64_t id = 0;
  Status st = commit_and_wait(committer, [&](storage::CommitContext& ctx) -> Status {
    v1::DocumentRecord rec;
    v1::Document* d = rec.mutable_document();
    d->set_id(ctx.next_id("document"));
    d->set_mentorship_id(mentorship_id);
    d->set_owner_id(owner_id);
    d->set_name(name);
    rec.set_declared_size(2048);
    if (complete) {
      d->set_size(2048);
      d->set_content_type("application/pdf");
      d->set_sha256(std::string(64, 'a'));
      d->set_created_ms(ctx.now_ms());
      rec.set_state(v1::DOCUMENT_STATE_COMPLETE);
    } else {
      rec.set_state(v1::DOCUMENT_STATE_UPLOADING);
      rec.set_durable_size(1024);
    }
    ctx.put(Cf::kDocuments, keys::IdKey{.id = d->id()}.encode(), rec.SerializeAsString());
    id = d->id();
    return Status::ok();
  });
  EXPECT_TRUE(st.is_ok()) << st.to_string();
  return id;
}

template <class T, class Pred>
std::vector<T> picked(const std::vector<v1::Event>& events, Pred pick) {
  std::vector<T> out;
  for (const auto& e : events)
    if (auto* p = pick(e)) out.push_back(*p);
  return out;
}
std::vector<v1::AssignmentChanged> assignment_changes(const std::vector<v1::Event>& events) {
  return picked<v1::AssignmentChanged>(events, [](const v1::Event& e) {
    return e.has_assignment_changed() ? &e.assignment_changed() : nullptr;
  });
}
std::vector<v1::ReviewChanged> review_changes(const std::vector<v1::Event>& events) {
  return picked<v1::ReviewChanged>(
      events, [](const v1::Event& e) { return e.has_review_changed() ? &e.review_changed() : nullptr; });
}
std::vector<v1::AssignmentNudge> nudges_in(const std::vector<v1::Event>& events) {
  return picked<v1::AssignmentNudge>(
      events, [](const v1::Event& e) { return e.has_assignment_nudge() ? &e.assignment_nudge() : nullptr; });
}

v1::NewComment comment(uint32_t version, uint32_t page, const std::string& quote, const std::string& text) {
  v1::NewComment c;
  c.mutable_anchor()->set_version(version);
  c.mutable_anchor()->set_page(page);
  c.mutable_anchor()->set_quote(quote);
  c.set_text(text);
  return c;
}

class Assignments : public ::testing::Test {
 protected:
  Assignments()
      : mentor_(h_.add_user("dr.lind", v1::ROLE_MENTOR)),
        mentee_(h_.add_user("wei.chen", v1::ROLE_MENTEE)),
        other_mentor_(h_.add_user("dr.priya", v1::ROLE_MENTOR)),
        other_mentee_(h_.add_user("lucia", v1::ROLE_MENTEE)),
        director_(h_.add_user("director", v1::ROLE_PROGRAM_DIRECTOR)),
        admin_(h_.add_user("admin", v1::ROLE_ADMIN)) {}

  int64_t now() { return h_.clock().now_ms(); }
  v1::Response call(const v1::User& who, F f) { return h_.call(h_.caller(who), std::move(f)); }

  // Mentee asks, mentor accepts: the active mentorship's id.
  uint64_t pair(const v1::User& mentee, const v1::User& mentor) {
    v1::RequestMentorship req;
    req.set_mentor_id(mentor.id());
    req.set_purpose(v1::PURPOSE_CAREER);
    auto asked = call(mentee, frame(&F::mutable_request_mentorship, req));
    EXPECT_TRUE(asked.has_request_mentorship()) << asked.DebugString();
    v1::AcceptMentorship accept;
    accept.set_mentorship_id(asked.request_mentorship().mentorship().id());
    auto accepted = call(mentor, frame(&F::mutable_accept_mentorship, accept));
    EXPECT_TRUE(accepted.has_accept_mentorship()) << accepted.DebugString();
    return accepted.accept_mentorship().mentorship().id();
  }

  v1::Response create(const v1::User& who, uint64_t mentorship, const std::string& title = "Revise your CV",
                      int64_t due_ms = 0, const std::string& instructions = "Two pages, newest first.",
                      const std::string& tz = "Europe/Stockholm", uint64_t goal_id = 0,
                      v1::AssignmentKind kind = v1::ASSIGNMENT_KIND_CV) {
    v1::CreateAssignment c;
    c.set_mentorship_id(mentorship);
    c.set_title(title);
    c.set_instructions(instructions);
    c.set_kind(kind);
    c.set_due_ms(due_ms);
    if (due_ms != 0) c.set_time_zone(tz);
    c.set_goal_id(goal_id);
    return call(who, frame(&F::mutable_create_assignment, c));
  }
  // Creates and returns the assignment; fails the test when refused.
  v1::Assignment created(const v1::User& who, uint64_t mentorship, int64_t due_ms = 0) {
    auto r = create(who, mentorship, "Revise your CV", due_ms);
    EXPECT_TRUE(r.has_create_assignment()) << r.DebugString();
    return r.create_assignment().assignment();
  }
  v1::Response ack(const v1::User& who, uint64_t id) {
    v1::AcknowledgeAssignment a;
    a.set_assignment_id(id);
    return call(who, frame(&F::mutable_acknowledge_assignment, a));
  }
  v1::Response submit(const v1::User& who, uint64_t id, uint64_t document_id,
                      const std::string& note = "First draft.", uint32_t revision = 0) {
    v1::SubmitVersion s;
    s.set_assignment_id(id);
    s.set_document_id(document_id);
    s.set_note(note);
    s.set_revision(revision);
    return call(who, frame(&F::mutable_submit_version, s));
  }
  // Uploads (directly) and submits a new version as the mentee; the result.
  v1::SubmitVersionResult submitted(uint64_t mentorship, uint64_t id, const std::string& note = "A draft.") {
    auto r = submit(mentee_, id, add_document(h_.committer(), mentorship, mentee_.id()), note);
    EXPECT_TRUE(r.has_submit_version()) << r.DebugString();
    return r.submit_version();
  }
  v1::Response review(const v1::User& who, uint64_t id, uint32_t version, v1::ReviewVerdict verdict,
                      const std::vector<v1::NewComment>& comments = {},
                      const std::string& summary = "Good progress.") {
    v1::ReviewVersion r;
    r.set_assignment_id(id);
    r.set_version(version);
    r.set_verdict(verdict);
    r.set_summary(summary);
    for (const auto& c : comments) *r.add_comments() = c;
    return call(who, frame(&F::mutable_review_version, r));
  }
  v1::Response reply(const v1::User& who, uint64_t review_id, uint32_t comment_id, const std::string& text) {
    v1::ReplyToComment r;
    r.set_review_id(review_id);
    r.set_comment_id(comment_id);
    r.set_text(text);
    return call(who, frame(&F::mutable_reply_to_comment, r));
  }
  v1::Response resolve(const v1::User& who, uint64_t review_id, uint32_t comment_id, bool resolved) {
    v1::ResolveComment r;
    r.set_review_id(review_id);
    r.set_comment_id(comment_id);
    r.set_resolved(resolved);
    return call(who, frame(&F::mutable_resolve_comment, r));
  }
  v1::Response withdraw(const v1::User& who, uint64_t id, const std::string& reason = "No longer needed.") {
    v1::WithdrawAssignment w;
    w.set_assignment_id(id);
    w.set_reason(reason);
    return call(who, frame(&F::mutable_withdraw_assignment, w));
  }
  v1::Response list(const v1::User& who, uint64_t mentorship, bool include_closed = false,
                    uint64_t before = 0, uint32_t limit = 0) {
    v1::ListAssignments l;
    l.set_mentorship_id(mentorship);
    l.set_include_closed(include_closed);
    l.set_before_id(before);
    l.set_limit(limit);
    return call(who, frame(&F::mutable_list_assignments, l));
  }
  v1::Response get(const v1::User& who, uint64_t id, uint64_t reviews_before = 0, uint32_t limit = 0) {
    v1::GetAssignment g;
    g.set_assignment_id(id);
    g.set_reviews_before_id(reviews_before);
    g.set_review_limit(limit);
    return call(who, frame(&F::mutable_get_assignment, g));
  }
  v1::Response end_mentorship(const v1::User& who, uint64_t mentorship) {
    v1::EndMentorship e;
    e.set_mentorship_id(mentorship);
    e.set_private_reason("Moving on.");
    return call(who, frame(&F::mutable_end_mentorship, e));
  }
  v1::Response quiet_hours(const v1::User& who, uint32_t start_minute, uint32_t end_minute,
                           const std::string& tz = "Europe/Stockholm") {
    v1::SetMeetingPreferences p;
    p.mutable_preferences()->mutable_quiet_hours()->mutable_window()->set_start_minute(start_minute);
    p.mutable_preferences()->mutable_quiet_hours()->mutable_window()->set_end_minute(end_minute);
    p.mutable_preferences()->mutable_quiet_hours()->set_time_zone(tz);
    return call(who, frame(&F::mutable_set_meeting_preferences, p));
  }

  v1::MentorshipWorkRecord work(uint64_t mentorship) {
    auto w = services::load_work(h_.store(), mentorship);
    EXPECT_TRUE(w.is_ok());
    return w.is_ok() ? *w : v1::MentorshipWorkRecord();
  }
  v1::AssignmentRecord record(uint64_t id) {
    auto r =
        services::load<v1::AssignmentRecord>(h_.store(), Cf::kAssignments, keys::IdKey{.id = id}.encode());
    EXPECT_TRUE(r.is_ok() && r->has_value());
    return r.is_ok() && r->has_value() ? **r : v1::AssignmentRecord();
  }
  // The work_due entries of assignments (kinds due soon and overdue).
  std::vector<keys::WorkDue> nudge_entries() {
    std::vector<keys::WorkDue> out;
    auto st = h_.store().scan(Cf::kWorkDue, {}, [&](std::string_view k, std::string_view) {
      auto e = keys::WorkDue::decode(k);
      if (e && (e->kind == keys::WorkDue::kAssignmentDueSoon || e->kind == keys::WorkDue::kAssignmentOverdue))
        out.push_back(*e);
      return true;
    });
    EXPECT_TRUE(st.is_ok());
    return out;
  }
  void run_at(int64_t at_ms) {
    h_.clock().set_ms(at_ms);
    h_.run_timed_work();
  }

  ServicesHarness h_;
  v1::User mentor_, mentee_, other_mentor_, other_mentee_, director_, admin_;
};

// ---- the state machine ----

TEST_F(Assignments, AHandOffGoesThroughEveryStateToApprovalWithEachChangeSentToBothMembers) {
  const uint64_t m = pair(mentee_, mentor_);
  auto mentor_live = h_.connect(mentor_, 1);
  auto mentee_live = h_.connect(mentee_, 2);

  auto c = create(mentor_, m, "Revise your CV", now() + 10 * kDay, "Two pages; put the research first.");
  ASSERT_TRUE(c.has_create_assignment()) << c.DebugString();
  const v1::Assignment a = c.create_assignment().assignment();
  EXPECT_EQ(a.state(), v1::ASSIGNMENT_STATE_ASSIGNED);
  EXPECT_EQ(a.created_by(), mentor_.id());
  EXPECT_EQ(a.author_id(), mentee_.id());
  EXPECT_EQ(a.reviewer_id(), mentor_.id());
  EXPECT_EQ(a.kind(), v1::ASSIGNMENT_KIND_CV);
  EXPECT_EQ(a.time_zone(), "Europe/Stockholm");
  EXPECT_EQ(a.revision(), 1u);
  EXPECT_EQ(work(m).assignments_total(), 1u);
  EXPECT_EQ(work(m).assignments_open(), 1u);

  auto k = ack(mentee_, a.id());
  ASSERT_TRUE(k.has_acknowledge_assignment()) << k.DebugString();
  EXPECT_EQ(k.acknowledge_assignment().assignment().state(), v1::ASSIGNMENT_STATE_ACKNOWLEDGED);
  EXPECT_EQ(k.acknowledge_assignment().assignment().revision(), 2u);

  const uint64_t doc1 = add_document(h_.committer(), m, mentee_.id(), "cv-v1.pdf");
  auto s1 = submit(mentee_, a.id(), doc1, "First go.", 2);
  ASSERT_TRUE(s1.has_submit_version()) << s1.DebugString();
  EXPECT_EQ(s1.submit_version().assignment().state(), v1::ASSIGNMENT_STATE_SUBMITTED);
  EXPECT_EQ(s1.submit_version().version().version(), 1u);
  EXPECT_EQ(s1.submit_version().version().document().id(), doc1);
  EXPECT_EQ(s1.submit_version().version().document().name(), "cv-v1.pdf");
  EXPECT_EQ(s1.submit_version().version().note(), "First go.");
  EXPECT_EQ(s1.submit_version().version().submitted_by(), mentee_.id());

  auto r1 = review(mentor_, a.id(), 1, v1::REVIEW_VERDICT_CHANGES_REQUESTED,
                   {comment(1, 1, "Research assistant, 2024", "Say what you did, not the title.")},
                   "Closer; two things.");
  ASSERT_TRUE(r1.has_review_version()) << r1.DebugString();
  EXPECT_EQ(r1.review_version().assignment().state(), v1::ASSIGNMENT_STATE_CHANGES_REQUESTED);
  EXPECT_EQ(r1.review_version().assignment().review_count(), 1u);
  const v1::Review rev1 = r1.review_version().review();
  EXPECT_EQ(rev1.version(), 1u);
  EXPECT_EQ(rev1.reviewer_id(), mentor_.id());
  ASSERT_EQ(rev1.comments_size(), 1);
  EXPECT_EQ(rev1.comments(0).id(), 1u);
  EXPECT_EQ(rev1.comments(0).anchor().quote(), "Research assistant, 2024");

  const uint64_t doc2 = add_document(h_.committer(), m, mentee_.id(), "cv-v2.pdf");
  auto s2 = submit(mentee_, a.id(), doc2, "Reworded.");
  ASSERT_TRUE(s2.has_submit_version()) << s2.DebugString();
  EXPECT_EQ(s2.submit_version().assignment().state(), v1::ASSIGNMENT_STATE_RESUBMITTED);
  EXPECT_EQ(s2.submit_version().version().version(), 2u);

  auto r2 = review(mentor_, a.id(), 2, v1::REVIEW_VERDICT_APPROVED, {}, "");
  ASSERT_TRUE(r2.has_review_version()) << r2.DebugString();
  const v1::Assignment done = r2.review_version().assignment();
  EXPECT_EQ(done.state(), v1::ASSIGNMENT_STATE_APPROVED);
  EXPECT_EQ(done.approved_version(), 2u);
  EXPECT_EQ(done.approved_ms(), now());
  EXPECT_EQ(done.version_count(), 2u);
  EXPECT_EQ(done.revision(), 6u);
  EXPECT_EQ(work(m).assignments_open(), 0u);
  EXPECT_EQ(work(m).assignments_approved(), 1u);
  EXPECT_EQ(work(m).assignments_total(), 1u);

  // Both members got every change, in order, as one AssignmentChanged each
  // (a review also as ReviewChanged).
  for (auto* live : {mentor_live.get(), mentee_live.get()}) {
    const auto events = live->wait_events(8);
    const auto changes = assignment_changes(events);
    ASSERT_EQ(changes.size(), 6u);
    EXPECT_EQ(changes[0].change(), v1::ASSIGNMENT_CHANGE_CREATED);
    EXPECT_EQ(changes[0].actor_id(), mentor_.id());
    EXPECT_EQ(changes[1].change(), v1::ASSIGNMENT_CHANGE_ACKNOWLEDGED);
    EXPECT_EQ(changes[2].change(), v1::ASSIGNMENT_CHANGE_SUBMITTED);
    EXPECT_EQ(changes[2].version().document().id(), doc1);
    EXPECT_EQ(changes[3].change(), v1::ASSIGNMENT_CHANGE_REVIEWED);
    EXPECT_EQ(changes[3].assignment().state(), v1::ASSIGNMENT_STATE_CHANGES_REQUESTED);
    EXPECT_EQ(changes[4].change(), v1::ASSIGNMENT_CHANGE_SUBMITTED);
    EXPECT_EQ(changes[4].version().version(), 2u);
    EXPECT_EQ(changes[5].change(), v1::ASSIGNMENT_CHANGE_REVIEWED);
    EXPECT_EQ(changes[5].assignment().state(), v1::ASSIGNMENT_STATE_APPROVED);
    const auto reviews = review_changes(events);
    ASSERT_EQ(reviews.size(), 2u);
    EXPECT_EQ(reviews[0].change(), v1::REVIEW_CHANGE_POSTED);
    EXPECT_EQ(reviews[0].review().comments(0).text(), "Say what you did, not the title.");
  }

  // Versions are kept as submitted; the reviews newest first.
  auto g = get(mentee_, a.id());
  ASSERT_TRUE(g.has_get_assignment()) << g.DebugString();
  ASSERT_EQ(g.get_assignment().versions_size(), 2);
  EXPECT_EQ(g.get_assignment().versions(0).document().id(), doc1);
  EXPECT_EQ(g.get_assignment().versions(0).note(), "First go.");
  EXPECT_EQ(g.get_assignment().versions(1).document().id(), doc2);
  ASSERT_EQ(g.get_assignment().reviews_size(), 2);
  EXPECT_EQ(g.get_assignment().reviews(0).verdict(), v1::REVIEW_VERDICT_APPROVED);
  EXPECT_EQ(g.get_assignment().reviews(1).id(), rev1.id());
  EXPECT_FALSE(g.get_assignment().more_reviews());
}

TEST_F(Assignments, AMenteeOpensOneForTheirOwnWorkAlreadyAcknowledged) {
  const uint64_t m = pair(mentee_, mentor_);
  auto c = create(mentee_, m, "Please look at my personal statement", 0, "", "", 0,
                  v1::ASSIGNMENT_KIND_PERSONAL_STATEMENT);
  ASSERT_TRUE(c.has_create_assignment()) << c.DebugString();
  const v1::Assignment a = c.create_assignment().assignment();
  EXPECT_EQ(a.state(), v1::ASSIGNMENT_STATE_ACKNOWLEDGED);
  EXPECT_EQ(a.created_by(), mentee_.id());
  EXPECT_EQ(a.author_id(), mentee_.id());
  EXPECT_EQ(a.reviewer_id(), mentor_.id());
  EXPECT_EQ(a.due_ms(), 0);
  EXPECT_TRUE(a.time_zone().empty());
  EXPECT_EQ(code_of(ack(mentee_, a.id())), v1::ERROR_CODE_FAILED_PRECONDITION);
  const auto s = submitted(m, a.id());
  EXPECT_EQ(s.assignment().state(), v1::ASSIGNMENT_STATE_SUBMITTED);
  // A kind left out is "other".
  auto other = create(mentee_, m, "Anything", 0, "", "", 0, v1::ASSIGNMENT_KIND_UNSPECIFIED);
  ASSERT_TRUE(other.has_create_assignment());
  EXPECT_EQ(other.create_assignment().assignment().kind(), v1::ASSIGNMENT_KIND_OTHER);
  EXPECT_EQ(code_of(create(mentee_, m, "Bad kind", 0, "", "", 0, static_cast<v1::AssignmentKind>(42))),
            v1::ERROR_CODE_INVALID_ARGUMENT);
}

TEST_F(Assignments, EveryRefusedTransitionIsFailedPreconditionNamingBothStates) {
  const uint64_t m = pair(mentee_, mentor_);
  auto expect_refused = [&](const v1::Response& r, const std::string& from, const std::string& to) {
    ASSERT_EQ(code_of(r), v1::ERROR_CODE_FAILED_PRECONDITION) << r.DebugString();
    EXPECT_NE(r.error().message().find("\"" + from + "\""), std::string::npos) << r.error().message();
    EXPECT_NE(r.error().message().find(to), std::string::npos) << r.error().message();
  };
  // ASSIGNED: no review.
  const v1::Assignment assigned = created(mentor_, m);
  expect_refused(review(mentor_, assigned.id(), 1, v1::REVIEW_VERDICT_APPROVED), "assigned", "\"approved\"");
  expect_refused(review(mentor_, assigned.id(), 1, v1::REVIEW_VERDICT_CHANGES_REQUESTED, {}, "x"), "assigned",
                 "\"changes requested\"");
  expect_refused(review(mentor_, assigned.id(), 1, v1::REVIEW_VERDICT_COMMENT_ONLY, {}, "x"), "assigned",
                 "be reviewed");

  // ACKNOWLEDGED: not again, no review.
  const v1::Assignment acked = created(mentor_, m);
  ASSERT_TRUE(ack(mentee_, acked.id()).has_acknowledge_assignment());
  expect_refused(ack(mentee_, acked.id()), "acknowledged", "\"acknowledged\"");
  expect_refused(review(mentor_, acked.id(), 1, v1::REVIEW_VERDICT_APPROVED), "acknowledged", "\"approved\"");

  // SUBMITTED: no acknowledgement; after a comment-only review of the latest
  // version, no new version until changes are requested.
  const v1::Assignment sub = created(mentor_, m);
  submitted(m, sub.id());
  expect_refused(ack(mentee_, sub.id()), "submitted", "\"acknowledged\"");
  ASSERT_TRUE(
      review(mentor_, sub.id(), 1, v1::REVIEW_VERDICT_COMMENT_ONLY, {comment(1, 2, "", "Nice start.")}, "")
          .has_review_version());
  EXPECT_EQ(record(sub.id()).assignment().state(), v1::ASSIGNMENT_STATE_SUBMITTED);
  expect_refused(submit(mentee_, sub.id(), add_document(h_.committer(), m, mentee_.id())), "submitted",
                 "\"resubmitted\"");

  // CHANGES_REQUESTED: no acknowledgement, no review.
  ASSERT_TRUE(review(mentor_, sub.id(), 1, v1::REVIEW_VERDICT_CHANGES_REQUESTED, {}, "Shorter, please.")
                  .has_review_version());
  expect_refused(ack(mentee_, sub.id()), "changes requested", "\"acknowledged\"");
  expect_refused(review(mentor_, sub.id(), 1, v1::REVIEW_VERDICT_APPROVED), "changes requested",
                 "\"approved\"");

  // RESUBMITTED: no acknowledgement.
  submitted(m, sub.id());
  EXPECT_EQ(record(sub.id()).assignment().state(), v1::ASSIGNMENT_STATE_RESUBMITTED);
  expect_refused(ack(mentee_, sub.id()), "resubmitted", "\"acknowledged\"");

  // APPROVED: final.
  ASSERT_TRUE(review(mentor_, sub.id(), 2, v1::REVIEW_VERDICT_APPROVED).has_review_version());
  expect_refused(ack(mentee_, sub.id()), "approved", "\"acknowledged\"");
  expect_refused(submit(mentee_, sub.id(), add_document(h_.committer(), m, mentee_.id())), "approved",
                 "\"submitted\"");
  expect_refused(review(mentor_, sub.id(), 2, v1::REVIEW_VERDICT_APPROVED), "approved", "\"approved\"");
  expect_refused(withdraw(mentor_, sub.id()), "approved", "\"withdrawn\"");

  // WITHDRAWN: final, from either member.
  const v1::Assignment gone = created(mentor_, m);
  submitted(m, gone.id());
  auto w = withdraw(mentee_, gone.id(), "Applied elsewhere.");
  ASSERT_TRUE(w.has_withdraw_assignment()) << w.DebugString();
  EXPECT_EQ(w.withdraw_assignment().assignment().withdraw_reason(), "Applied elsewhere.");
  expect_refused(ack(mentee_, gone.id()), "withdrawn", "\"acknowledged\"");
  expect_refused(submit(mentee_, gone.id(), add_document(h_.committer(), m, mentee_.id())), "withdrawn",
                 "\"submitted\"");
  expect_refused(review(mentor_, gone.id(), 1, v1::REVIEW_VERDICT_APPROVED), "withdrawn", "\"approved\"");
  expect_refused(withdraw(mentor_, gone.id()), "withdrawn", "\"withdrawn\"");

  // Who may: only the mentee acknowledges and submits, only the other member reviews.
  const v1::Assignment fresh = created(mentor_, m);
  EXPECT_EQ(code_of(ack(mentor_, fresh.id())), v1::ERROR_CODE_PERMISSION_DENIED);
  EXPECT_EQ(code_of(submit(mentor_, fresh.id(), add_document(h_.committer(), m, mentor_.id()))),
            v1::ERROR_CODE_PERMISSION_DENIED);
  EXPECT_EQ(code_of(withdraw(mentor_, fresh.id(), "")), v1::ERROR_CODE_INVALID_ARGUMENT);

  // The counts follow: 5 made, 1 approved, 1 withdrawn, 3 open.
  EXPECT_EQ(work(m).assignments_total(), 5u);
  EXPECT_EQ(work(m).assignments_open(), 3u);
  EXPECT_EQ(work(m).assignments_approved(), 1u);
}

TEST_F(Assignments, AReviewOfOnesOwnSubmissionIsPermissionDenied) {
  const uint64_t m = pair(mentee_, mentor_);
  const v1::Assignment own = created(mentee_, m);
  submitted(m, own.id());
  auto r = review(mentee_, own.id(), 1, v1::REVIEW_VERDICT_APPROVED);
  ASSERT_EQ(code_of(r), v1::ERROR_CODE_PERMISSION_DENIED) << r.DebugString();
  EXPECT_NE(r.error().message().find("own submission"), std::string::npos);
  EXPECT_EQ(record(own.id()).assignment().state(), v1::ASSIGNMENT_STATE_SUBMITTED);
  EXPECT_TRUE(review(mentor_, own.id(), 1, v1::REVIEW_VERDICT_APPROVED).has_review_version());
}

TEST_F(Assignments, VersionsAreNeverOverwrittenAndEachNeedsItsOwnFinishedUpload) {
  const uint64_t m = pair(mentee_, mentor_);
  const uint64_t other = pair(other_mentee_, other_mentor_);
  const v1::Assignment a = created(mentor_, m);
  const uint64_t doc = add_document(h_.committer(), m, mentee_.id(), "protocol-v1.docx");
  auto s1 = submit(mentee_, a.id(), doc, "v1");
  ASSERT_TRUE(s1.has_submit_version()) << s1.DebugString();
  // Submitted again before any review: a new version, RESUBMITTED.
  const auto s2 = submitted(m, a.id(), "v2, fixed the table");
  EXPECT_EQ(s2.assignment().state(), v1::ASSIGNMENT_STATE_RESUBMITTED);
  EXPECT_EQ(s2.version().version(), 2u);

  // A document already used, another mentorship's, unfinished, or the mentor's.
  EXPECT_EQ(code_of(submit(mentee_, a.id(), doc)), v1::ERROR_CODE_ALREADY_EXISTS);
  EXPECT_EQ(code_of(submit(mentee_, a.id(), add_document(h_.committer(), other, other_mentee_.id()))),
            v1::ERROR_CODE_NOT_FOUND);
  EXPECT_EQ(
      code_of(submit(mentee_, a.id(), add_document(h_.committer(), m, mentee_.id(), "half.pdf", false))),
      v1::ERROR_CODE_FAILED_PRECONDITION);
  EXPECT_EQ(code_of(submit(mentee_, a.id(), add_document(h_.committer(), m, mentor_.id()))),
            v1::ERROR_CODE_PERMISSION_DENIED);
  EXPECT_EQ(code_of(submit(mentee_, a.id(), 0)), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_EQ(
      code_of(submit(mentee_, a.id(), add_document(h_.committer(), m, mentee_.id()), std::string(4001, 'n'))),
      v1::ERROR_CODE_INVALID_ARGUMENT);
  // A stale revision: ABORTED, nothing written.
  auto stale = submit(mentee_, a.id(), add_document(h_.committer(), m, mentee_.id()), "late", 1);
  EXPECT_EQ(code_of(stale), v1::ERROR_CODE_ABORTED);
  EXPECT_EQ(stale.error().field(), "revision");

  auto g = get(mentor_, a.id());
  ASSERT_TRUE(g.has_get_assignment());
  ASSERT_EQ(g.get_assignment().versions_size(), 2);
  EXPECT_EQ(g.get_assignment().versions(0).document().id(), doc);
  EXPECT_EQ(g.get_assignment().versions(0).note(), "v1");
  EXPECT_EQ(g.get_assignment().versions(0).document().name(), "protocol-v1.docx");
  EXPECT_EQ(g.get_assignment().versions(1).note(), "v2, fixed the table");
  EXPECT_EQ(g.get_assignment().assignment().version_count(), 2u);
}

TEST_F(Assignments, ReviewCommentsAreAnchoredToAVersionUpToTheReviewedOneWithAPageOrAQuote) {
  const uint64_t m = pair(mentee_, mentor_);
  const v1::Assignment a = created(mentor_, m);
  submitted(m, a.id());
  submitted(m, a.id());
  auto field_of = [](const v1::Response& r) { return r.error().field(); };

  auto r = review(mentor_, a.id(), 2, v1::REVIEW_VERDICT_COMMENT_ONLY, {comment(0, 1, "", "x")});
  EXPECT_EQ(code_of(r), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_EQ(field_of(r), "comments[0].anchor.version");
  r = review(mentor_, a.id(), 2, v1::REVIEW_VERDICT_COMMENT_ONLY,
             {comment(1, 1, "", "ok"), comment(3, 1, "", "x")});
  EXPECT_EQ(field_of(r), "comments[1].anchor.version");
  r = review(mentor_, a.id(), 2, v1::REVIEW_VERDICT_COMMENT_ONLY, {comment(2, 0, "", "nowhere")});
  EXPECT_EQ(field_of(r), "comments[0].anchor");
  r = review(mentor_, a.id(), 2, v1::REVIEW_VERDICT_COMMENT_ONLY,
             {comment(2, 0, std::string(1001, 'q'), "x")});
  EXPECT_EQ(field_of(r), "comments[0].anchor.quote");
  r = review(mentor_, a.id(), 2, v1::REVIEW_VERDICT_COMMENT_ONLY, {comment(2, 3, "", "")});
  EXPECT_EQ(field_of(r), "comments[0].text");
  r = review(mentor_, a.id(), 2, v1::REVIEW_VERDICT_COMMENT_ONLY,
             {comment(2, 3, "", std::string(4001, 't'))});
  EXPECT_EQ(field_of(r), "comments[0].text");
  r = review(mentor_, a.id(), 2, v1::REVIEW_VERDICT_COMMENT_ONLY, {comment(2, 3, "", "bad \xff utf8")});
  EXPECT_EQ(field_of(r), "comments[0].text");
  r = review(mentor_, a.id(), 2, v1::REVIEW_VERDICT_UNSPECIFIED);
  EXPECT_EQ(field_of(r), "verdict");
  r = review(mentor_, a.id(), 2, v1::REVIEW_VERDICT_CHANGES_REQUESTED, {}, " ");
  EXPECT_EQ(field_of(r), "summary");
  r = review(mentor_, a.id(), 2, v1::REVIEW_VERDICT_COMMENT_ONLY, {}, std::string(8 * 1024 + 1, 's'));
  EXPECT_EQ(field_of(r), "summary");
  // Only the latest version is reviewed: an older one was overtaken (ABORTED),
  // a later one does not exist.
  r = review(mentor_, a.id(), 1, v1::REVIEW_VERDICT_APPROVED);
  EXPECT_EQ(code_of(r), v1::ERROR_CODE_ABORTED);
  EXPECT_EQ(field_of(r), "version");
  r = review(mentor_, a.id(), 3, v1::REVIEW_VERDICT_APPROVED);
  EXPECT_EQ(code_of(r), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_EQ(field_of(r), "version");
  // At most 100 comments.
  std::vector<v1::NewComment> many(101, comment(1, 4, "", "Typo."));
  r = review(mentor_, a.id(), 2, v1::REVIEW_VERDICT_COMMENT_ONLY, many);
  EXPECT_EQ(code_of(r), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_EQ(field_of(r), "comments");
  EXPECT_EQ(record(a.id()).assignment().review_count(), 0u);  // nothing of the refusals was written
  many.pop_back();
  r = review(mentor_, a.id(), 2, v1::REVIEW_VERDICT_COMMENT_ONLY, many);
  ASSERT_TRUE(r.has_review_version()) << r.DebugString();
  EXPECT_EQ(r.review_version().review().comments_size(), 100);
  EXPECT_EQ(r.review_version().review().comments(99).id(), 100u);

  // Anchors on an older version, by page, by quote, or both.
  r = review(mentor_, a.id(), 2, v1::REVIEW_VERDICT_CHANGES_REQUESTED,
             {comment(1, 2, "", "Still as in v1."), comment(2, 0, "n = 40", "Power calculation?"),
              comment(2, 5, "Table 2", "Units missing.")});
  ASSERT_TRUE(r.has_review_version()) << r.DebugString();
  const v1::Review rev = r.review_version().review();
  EXPECT_EQ(rev.comments(0).anchor().version(), 1u);
  EXPECT_EQ(rev.comments(0).anchor().page(), 2u);
  EXPECT_EQ(rev.comments(1).anchor().quote(), "n = 40");
  EXPECT_EQ(rev.comments(2).anchor().page(), 5u);
  EXPECT_EQ(rev.comments(2).anchor().quote(), "Table 2");
  EXPECT_EQ(record(a.id()).latest_review_id(), rev.id());
  EXPECT_EQ(record(a.id()).reviewed_version(), 2u);
}

TEST_F(Assignments, TheAuthorRepliesAndResolvesAndTheReviewerAnswersBack) {
  const uint64_t m = pair(mentee_, mentor_);
  auto mentor_live = h_.connect(mentor_, 1);
  const v1::Assignment a = created(mentor_, m);
  submitted(m, a.id());
  auto r = review(mentor_, a.id(), 1, v1::REVIEW_VERDICT_CHANGES_REQUESTED,
                  {comment(1, 1, "", "Add your audit."), comment(1, 2, "", "Shorter summary.")});
  ASSERT_TRUE(r.has_review_version());
  const uint64_t rid = r.review_version().review().id();

  // The reviewer answers back only once the author has replied.
  EXPECT_EQ(code_of(reply(mentor_, rid, 1, "Also the poster.")), v1::ERROR_CODE_FAILED_PRECONDITION);
  auto mine = reply(mentee_, rid, 1, "Which audit, the 2024 one?");
  ASSERT_TRUE(mine.has_reply_to_comment()) << mine.DebugString();
  auto back = reply(mentor_, rid, 1, "Yes, that one.");
  ASSERT_TRUE(back.has_reply_to_comment()) << back.DebugString();
  const v1::ReviewComment& c = back.reply_to_comment().review().comments(0);
  ASSERT_EQ(c.replies_size(), 2);
  EXPECT_EQ(c.replies(0).by(), mentee_.id());
  EXPECT_EQ(c.replies(1).by(), mentor_.id());
  EXPECT_EQ(c.replies(1).text(), "Yes, that one.");
  EXPECT_EQ(c.replies(1).at_ms(), now());
  EXPECT_EQ(code_of(reply(mentee_, rid, 3, "?")), v1::ERROR_CODE_NOT_FOUND);
  EXPECT_EQ(code_of(reply(mentee_, rid, 0, "?")), v1::ERROR_CODE_NOT_FOUND);
  EXPECT_EQ(code_of(reply(mentee_, rid, 1, " \n")), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_EQ(code_of(reply(mentee_, rid, 1, std::string(4001, 'r'))), v1::ERROR_CODE_INVALID_ARGUMENT);

  // Resolved by the author only; the same mark again changes nothing.
  EXPECT_EQ(code_of(resolve(mentor_, rid, 2, true)), v1::ERROR_CODE_PERMISSION_DENIED);
  auto res = resolve(mentee_, rid, 2, true);
  ASSERT_TRUE(res.has_resolve_comment()) << res.DebugString();
  EXPECT_TRUE(res.resolve_comment().review().comments(1).resolved());
  EXPECT_EQ(res.resolve_comment().review().comments(1).resolved_by(), mentee_.id());
  EXPECT_EQ(res.resolve_comment().review().comments(1).resolved_ms(), now());
  EXPECT_FALSE(res.resolve_comment().review().comments(0).resolved());
  ASSERT_TRUE(resolve(mentee_, rid, 2, true).has_resolve_comment());
  auto un = resolve(mentee_, rid, 2, false);
  ASSERT_TRUE(un.has_resolve_comment());
  EXPECT_FALSE(un.resolve_comment().review().comments(1).resolved());
  EXPECT_EQ(un.resolve_comment().review().comments(1).resolved_by(), 0u);

  // Replies and marks do not change the assignment (no new revision).
  EXPECT_EQ(record(a.id()).assignment().revision(), 3u);  // created, submitted, reviewed

  const auto changes = review_changes(mentor_live->wait_events(8));
  ASSERT_EQ(changes.size(), 5u);  // posted, two replies, resolved, unresolved (not the repeat)
  EXPECT_EQ(changes[1].change(), v1::REVIEW_CHANGE_REPLIED);
  EXPECT_EQ(changes[1].comment_id(), 1u);
  EXPECT_EQ(changes[1].actor_id(), mentee_.id());
  EXPECT_EQ(changes[2].actor_id(), mentor_.id());
  EXPECT_EQ(changes[3].change(), v1::REVIEW_CHANGE_RESOLVED);
  EXPECT_EQ(changes[3].comment_id(), 2u);
  EXPECT_EQ(changes[4].change(), v1::REVIEW_CHANGE_UNRESOLVED);

  // At most 50 replies a comment.
  for (int i = 2; i < 50; ++i)
    ASSERT_TRUE(reply(mentee_, rid, 1, "more " + std::to_string(i)).has_reply_to_comment());
  auto full = reply(mentee_, rid, 1, "one too many");
  EXPECT_EQ(code_of(full), v1::ERROR_CODE_RESOURCE_EXHAUSTED) << full.DebugString();
  EXPECT_EQ(full.error().field(), "comment_id");

  // Withdrawn: its reviews stay as they are.
  ASSERT_TRUE(withdraw(mentor_, a.id()).has_withdraw_assignment());
  EXPECT_EQ(code_of(reply(mentee_, rid, 2, "late")), v1::ERROR_CODE_FAILED_PRECONDITION);
  EXPECT_EQ(code_of(resolve(mentee_, rid, 1, true)), v1::ERROR_CODE_FAILED_PRECONDITION);
}

TEST_F(Assignments, AReviewDiscussionStaysWithinOnePage) {
  const uint64_t m = pair(mentee_, mentor_);
  const v1::Assignment a = created(mentor_, m);
  submitted(m, a.id());
  std::vector<v1::NewComment> comments;
  for (int i = 0; i < 20; ++i)
    comments.push_back(comment(1, 1, std::string(1000, 'q'), std::string(4000, 'c')));
  auto r = review(mentor_, a.id(), 1, v1::REVIEW_VERDICT_CHANGES_REQUESTED, comments);
  ASSERT_TRUE(r.has_review_version());
  const uint64_t rid = r.review_version().review().id();
  // 20 comments of 5 KB, then replies of 4 KB until the review would pass 256 KiB.
  v1::Response last;
  int accepted = 0;
  for (int c = 1; c <= 20 && code_of(last) != v1::ERROR_CODE_RESOURCE_EXHAUSTED; ++c) {
    for (int i = 0; i < 10; ++i) {
      last = reply(mentee_, rid, static_cast<uint32_t>(c), std::string(4000, 'r'));
      if (!last.has_reply_to_comment()) break;
      ++accepted;
    }
  }
  ASSERT_EQ(code_of(last), v1::ERROR_CODE_RESOURCE_EXHAUSTED) << last.DebugString();
  EXPECT_EQ(last.error().field(), "review_id");
  EXPECT_GT(accepted, 30);
  auto g = get(mentee_, a.id());
  ASSERT_TRUE(g.has_get_assignment());
  EXPECT_LE(g.get_assignment().reviews(0).ByteSizeLong(), services::kMaxReviewBytes);
}

// Both requests are handed to the router before either is answered; the
// committer applies them one after the other, each re-checking the state.
TEST_F(Assignments, OfTwoConcurrentVerdictsOrCreatesAtTheLimitExactlyOneWins) {
  const uint64_t m = pair(mentee_, mentor_);
  auto both = [&](F first, F second) {
    std::promise<v1::Response> p1, p2;
    uint64_t request_id = 5000;
    for (auto* job : {&first, &second}) {
      job->set_request_id(++request_id);
    }
    auto later1 = [&p1](api::Outcome o) { p1.set_value(std::move(o.response)); };
    auto later2 = [&p2](api::Outcome o) { p2.set_value(std::move(o.response)); };
    auto now1 = h_.router().dispatch(h_.caller(mentor_), first, later1);
    auto now2 = h_.router().dispatch(h_.caller(mentor_), second, later2);
    if (now1) p1.set_value(std::move(now1->response));
    if (now2) p2.set_value(std::move(now2->response));
    return std::make_pair(p1.get_future().get(), p2.get_future().get());
  };
  int approvals = 0;
  for (int round = 0; round < 4; ++round) {
    const v1::Assignment a = created(mentor_, m);
    submitted(m, a.id());
    F approve, changes;
    approve.mutable_review_version()->set_assignment_id(a.id());
    approve.mutable_review_version()->set_version(1);
    approve.mutable_review_version()->set_verdict(v1::REVIEW_VERDICT_APPROVED);
    changes = approve;
    changes.mutable_review_version()->set_verdict(v1::REVIEW_VERDICT_CHANGES_REQUESTED);
    changes.mutable_review_version()->set_summary("Shorter.");
    auto [r1, r2] = round % 2 == 0 ? both(approve, changes) : both(changes, approve);
    EXPECT_NE(r1.has_review_version(), r2.has_review_version()) << r1.DebugString() << r2.DebugString();
    const v1::Response& lost = r1.has_review_version() ? r2 : r1;
    EXPECT_EQ(code_of(lost), v1::ERROR_CODE_FAILED_PRECONDITION) << lost.DebugString();
    const v1::AssignmentRecord rec = record(a.id());
    EXPECT_EQ(rec.assignment().review_count(), 1u);
    if (rec.assignment().state() == v1::ASSIGNMENT_STATE_APPROVED) ++approvals;
  }
  EXPECT_EQ(work(m).assignments_approved(), static_cast<uint32_t>(approvals));
  EXPECT_EQ(work(m).assignments_open(), static_cast<uint32_t>(4 - approvals));

  // One place left under the limit of 100 open: one of two creates gets it.
  for (uint32_t open = work(m).assignments_open(); open < 99; ++open) created(mentor_, m);
  F create_one;
  create_one.mutable_create_assignment()->set_mentorship_id(m);
  create_one.mutable_create_assignment()->set_title("The last place");
  auto [c1, c2] = both(create_one, create_one);
  EXPECT_NE(c1.has_create_assignment(), c2.has_create_assignment());
  EXPECT_EQ(code_of(c1.has_create_assignment() ? c2 : c1), v1::ERROR_CODE_RESOURCE_EXHAUSTED);
  EXPECT_EQ(work(m).assignments_open(), 100u);
}

// ---- limits ----

TEST_F(Assignments, TitlesInstructionsAndDueTimesAreChecked) {
  const uint64_t m = pair(mentee_, mentor_);
  auto field = [](const v1::Response& r) {
    EXPECT_EQ(code_of(r), v1::ERROR_CODE_INVALID_ARGUMENT) << r.DebugString();
    return r.error().field();
  };
  EXPECT_EQ(field(create(mentor_, m, "")), "title");
  EXPECT_EQ(field(create(mentor_, m, "   ")), "title");
  EXPECT_EQ(field(create(mentor_, m, std::string(201, 't'))), "title");
  EXPECT_EQ(field(create(mentor_, m, "two\nlines")), "title");
  EXPECT_EQ(field(create(mentor_, m, "bad \xc3\x28")), "title");
  EXPECT_TRUE(create(mentor_, m, std::string(200, 't')).has_create_assignment());
  EXPECT_EQ(field(create(mentor_, m, "CV", 0, std::string(8 * 1024 + 1, 'i'))), "instructions");
  EXPECT_TRUE(create(mentor_, m, "CV", 0, std::string(8 * 1024, 'i')).has_create_assignment());
  EXPECT_EQ(field(create(mentor_, m, "CV", now() - kMin)), "due_ms");
  EXPECT_EQ(field(create(mentor_, m, "CV", now())), "due_ms");
  EXPECT_EQ(field(create(mentor_, m, "CV", -5)), "due_ms");
  EXPECT_EQ(field(create(mentor_, m, "CV", now() + 731 * kDay)), "due_ms");
  EXPECT_EQ(field(create(mentor_, m, "CV", now() + kDay, "", "")), "time_zone");
  EXPECT_EQ(field(create(mentor_, m, "CV", now() + kDay, "", "Mars/Olympus")), "time_zone");
  EXPECT_TRUE(create(mentor_, m, "CV", now() + 730 * kDay - kMin).has_create_assignment());
  auto no_goal = create(mentor_, m, "CV", 0, "", "", 12345);
  EXPECT_EQ(code_of(no_goal), v1::ERROR_CODE_NOT_FOUND);
  EXPECT_EQ(no_goal.error().field(), "goal_id");
  EXPECT_EQ(work(m).assignments_total(), 3u);
}

TEST_F(Assignments, AGoalOfTheSameMentorshipMayBeServed) {
  const uint64_t m = pair(mentee_, mentor_);
  const uint64_t other = pair(other_mentee_, other_mentor_);
  // Goals are the goals service's; one is written directly here.
  auto goal_in = [&](uint64_t mentorship) {
    uint64_t id = 0;
    Status st = commit_and_wait(h_.committer(), [&](storage::CommitContext& ctx) -> Status {
      v1::GoalRecord g;
      g.mutable_goal()->set_id(ctx.next_id("goal"));
      g.mutable_goal()->set_mentorship_id(mentorship);
      g.mutable_goal()->set_what("Publish a first-author abstract");
      g.mutable_goal()->set_state(v1::GOAL_STATE_OPEN);
      ctx.put(Cf::kGoals, keys::IdKey{.id = g.goal().id()}.encode(), g.SerializeAsString());
      id = g.goal().id();
      return Status::ok();
    });
    EXPECT_TRUE(st.is_ok());
    return id;
  };
  const uint64_t mine = goal_in(m);
  const uint64_t theirs = goal_in(other);
  auto ok = create(mentor_, m, "Abstract draft", 0, "", "", mine, v1::ASSIGNMENT_KIND_ABSTRACT);
  ASSERT_TRUE(ok.has_create_assignment()) << ok.DebugString();
  EXPECT_EQ(ok.create_assignment().assignment().goal_id(), mine);
  EXPECT_EQ(code_of(create(mentor_, m, "Abstract draft", 0, "", "", theirs)), v1::ERROR_CODE_NOT_FOUND);
}

TEST_F(Assignments, AtMostFiftyVersionsAndAHundredOpenAssignments) {
  const uint64_t m = pair(mentee_, mentor_);
  const v1::Assignment a = created(mentee_, m);
  for (int i = 0; i < 50; ++i) submitted(m, a.id());
  auto over = submit(mentee_, a.id(), add_document(h_.committer(), m, mentee_.id()));
  EXPECT_EQ(code_of(over), v1::ERROR_CODE_RESOURCE_EXHAUSTED) << over.DebugString();
  auto g = get(mentor_, a.id());
  ASSERT_TRUE(g.has_get_assignment());
  EXPECT_EQ(g.get_assignment().versions_size(), 50);

  for (int i = 1; i < 100; ++i)
    ASSERT_TRUE(create(mentor_, m, "Task " + std::to_string(i)).has_create_assignment());
  EXPECT_EQ(work(m).assignments_open(), 100u);
  auto full = create(mentee_, m, "One more");
  EXPECT_EQ(code_of(full), v1::ERROR_CODE_RESOURCE_EXHAUSTED) << full.DebugString();
  // Approved ones are closed: room again.
  ASSERT_TRUE(review(mentor_, a.id(), 50, v1::REVIEW_VERDICT_APPROVED).has_review_version());
  EXPECT_TRUE(create(mentee_, m, "One more").has_create_assignment());
  EXPECT_EQ(code_of(create(mentee_, m, "And another")), v1::ERROR_CODE_RESOURCE_EXHAUSTED);
  EXPECT_EQ(work(m).assignments_total(), 101u);
  EXPECT_EQ(work(m).assignments_open(), 100u);
  EXPECT_EQ(work(m).assignments_approved(), 1u);
}

// ---- who may ----

TEST_F(Assignments, StrangersGetNotFoundAndDirectorsPermissionDeniedForEveryRequest) {
  const uint64_t m = pair(mentee_, mentor_);
  pair(other_mentee_, other_mentor_);
  const v1::Assignment a = created(mentor_, m);
  submitted(m, a.id());
  auto rv = review(mentor_, a.id(), 1, v1::REVIEW_VERDICT_COMMENT_ONLY, {comment(1, 1, "", "Hm.")});
  ASSERT_TRUE(rv.has_review_version());
  const uint64_t rid = rv.review_version().review().id();
  const uint64_t doc = add_document(h_.committer(), m, mentee_.id());

  auto every = [&](const v1::User& who) {
    std::vector<v1::Response> out;
    out.push_back(create(who, m));
    out.push_back(ack(who, a.id()));
    out.push_back(submit(who, a.id(), doc));
    out.push_back(review(who, a.id(), 1, v1::REVIEW_VERDICT_APPROVED));
    out.push_back(reply(who, rid, 1, "hello"));
    out.push_back(resolve(who, rid, 1, true));
    out.push_back(withdraw(who, a.id()));
    out.push_back(list(who, m));
    out.push_back(get(who, a.id()));
    return out;
  };
  for (const v1::User* who : {&other_mentee_, &other_mentor_}) {
    for (const auto& r : every(*who)) EXPECT_EQ(code_of(r), v1::ERROR_CODE_NOT_FOUND) << r.DebugString();
  }
  // The same answer as for ids that do not exist.
  auto missing = get(mentee_, 999'999);
  EXPECT_EQ(code_of(missing), v1::ERROR_CODE_NOT_FOUND);
  auto hidden = get(other_mentee_, a.id());
  EXPECT_EQ(hidden.error().field(), missing.error().field());
  EXPECT_EQ(hidden.error().message(), "No assignment " + std::to_string(a.id()) + " among yours.");
  EXPECT_EQ(code_of(reply(mentee_, 999'999, 1, "x")), v1::ERROR_CODE_NOT_FOUND);
  EXPECT_EQ(code_of(resolve(other_mentee_, rid, 1, true)), v1::ERROR_CODE_NOT_FOUND);

  for (const v1::User* who : {&director_, &admin_}) {
    for (const auto& r : every(*who))
      EXPECT_EQ(code_of(r), v1::ERROR_CODE_PERMISSION_DENIED) << r.DebugString();
  }
  // Nothing changed.
  const v1::AssignmentRecord rec = record(a.id());
  EXPECT_EQ(rec.assignment().state(), v1::ASSIGNMENT_STATE_SUBMITTED);
  EXPECT_EQ(rec.assignment().revision(), 3u);
  EXPECT_EQ(work(m).assignments_total(), 1u);
}

TEST_F(Assignments, AnEndedMentorshipsAssignmentsCanBeReadButNotChanged) {
  const uint64_t m = pair(mentee_, mentor_);
  const v1::Assignment a = created(mentor_, m);
  const v1::Assignment b = created(mentor_, m);
  submitted(m, b.id());
  auto rv = review(mentor_, b.id(), 1, v1::REVIEW_VERDICT_CHANGES_REQUESTED, {comment(1, 1, "", "Hm.")});
  ASSERT_TRUE(rv.has_review_version());
  const uint64_t rid = rv.review_version().review().id();
  const uint64_t doc = add_document(h_.committer(), m, mentee_.id());
  ASSERT_TRUE(end_mentorship(mentee_, m).has_end_mentorship());

  EXPECT_EQ(code_of(create(mentor_, m)), v1::ERROR_CODE_FAILED_PRECONDITION);
  EXPECT_EQ(code_of(ack(mentee_, a.id())), v1::ERROR_CODE_FAILED_PRECONDITION);
  EXPECT_EQ(code_of(submit(mentee_, b.id(), doc)), v1::ERROR_CODE_FAILED_PRECONDITION);
  EXPECT_EQ(code_of(reply(mentee_, rid, 1, "ok")), v1::ERROR_CODE_FAILED_PRECONDITION);
  EXPECT_EQ(code_of(resolve(mentee_, rid, 1, true)), v1::ERROR_CODE_FAILED_PRECONDITION);
  EXPECT_EQ(code_of(withdraw(mentor_, a.id())), v1::ERROR_CODE_FAILED_PRECONDITION);
  auto l = list(mentee_, m);
  ASSERT_TRUE(l.has_list_assignments()) << l.DebugString();
  EXPECT_EQ(l.list_assignments().assignments_size(), 2);
  auto g = get(mentor_, b.id());
  ASSERT_TRUE(g.has_get_assignment()) << g.DebugString();
  EXPECT_EQ(g.get_assignment().reviews_size(), 1);
  // Outsiders still see nothing.
  EXPECT_EQ(code_of(get(other_mentee_, b.id())), v1::ERROR_CODE_NOT_FOUND);
}

// ---- paging ----

TEST_F(Assignments, ListAssignmentsPagesNewestFirstByItemsAndBytes) {
  const uint64_t m = pair(mentee_, mentor_);
  std::vector<uint64_t> ids;
  for (int i = 0; i < 7; ++i) ids.push_back(created(mentor_, m).id());
  ASSERT_TRUE(withdraw(mentor_, ids[5]).has_withdraw_assignment());

  // Open ones only unless asked: 6, newest first, 4 a page.
  auto p1 = list(mentee_, m, false, 0, 4);
  ASSERT_TRUE(p1.has_list_assignments()) << p1.DebugString();
  ASSERT_EQ(p1.list_assignments().assignments_size(), 4);
  EXPECT_TRUE(p1.list_assignments().has_more());
  EXPECT_EQ(p1.list_assignments().assignments(0).id(), ids[6]);
  EXPECT_EQ(p1.list_assignments().assignments(1).id(), ids[4]);  // the withdrawn one left out
  EXPECT_EQ(p1.list_assignments().assignments(3).id(), ids[2]);
  auto p2 = list(mentee_, m, false, ids[2], 4);
  ASSERT_TRUE(p2.has_list_assignments());
  ASSERT_EQ(p2.list_assignments().assignments_size(), 2);
  EXPECT_EQ(p2.list_assignments().assignments(1).id(), ids[0]);
  EXPECT_FALSE(p2.list_assignments().has_more());
  // A page that ends exactly with the last one has no more.
  auto exact = list(mentee_, m, false, ids[2], 2);
  EXPECT_FALSE(exact.list_assignments().has_more());
  auto all = list(mentor_, m, true);
  ASSERT_EQ(all.list_assignments().assignments_size(), 7);
  EXPECT_EQ(all.list_assignments().assignments(1).state(), v1::ASSIGNMENT_STATE_WITHDRAWN);
  EXPECT_EQ(code_of(list(mentee_, m, false, 0, 101)), v1::ERROR_CODE_INVALID_ARGUMENT);

  // By bytes: 40 with 8 KiB of instructions do not fit one page of ~256 KiB.
  const uint64_t big = pair(other_mentee_, other_mentor_);
  for (int i = 0; i < 40; ++i)
    ASSERT_TRUE(create(other_mentor_, big, "Long " + std::to_string(i), 0, std::string(8 * 1024, 'i'))
                    .has_create_assignment());
  uint64_t before = 0;
  size_t seen = 0;
  int pages = 0;
  for (bool more = true; more; ++pages) {
    auto p = list(other_mentee_, big, false, before, 100);
    ASSERT_TRUE(p.has_list_assignments()) << p.DebugString();
    EXPECT_LE(p.list_assignments().ByteSizeLong(), services::kMaxPageBytes + 1024);
    seen += p.list_assignments().assignments_size();
    before = p.list_assignments().assignments(p.list_assignments().assignments_size() - 1).id();
    more = p.list_assignments().has_more();
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(seen, 40u);
  EXPECT_EQ(pages, 2);
}

TEST_F(Assignments, GetAssignmentPagesReviewsNewestFirstByItemsAndBytes) {
  const uint64_t m = pair(mentee_, mentor_);
  const v1::Assignment a = created(mentor_, m);
  submitted(m, a.id());
  std::vector<uint64_t> reviews;
  // Five comment-only reviews of about 60 KB each.
  for (int i = 0; i < 5; ++i) {
    std::vector<v1::NewComment> cs(15, comment(1, 1, "", std::string(4000, static_cast<char>('a' + i))));
    auto r = review(mentor_, a.id(), 1, v1::REVIEW_VERDICT_COMMENT_ONLY, cs);
    ASSERT_TRUE(r.has_review_version()) << r.DebugString();
    reviews.push_back(r.review_version().review().id());
  }
  auto p1 = get(mentee_, a.id(), 0, 2);
  ASSERT_TRUE(p1.has_get_assignment());
  ASSERT_EQ(p1.get_assignment().reviews_size(), 2);
  EXPECT_EQ(p1.get_assignment().reviews(0).id(), reviews[4]);
  EXPECT_EQ(p1.get_assignment().reviews(1).id(), reviews[3]);
  EXPECT_TRUE(p1.get_assignment().more_reviews());
  EXPECT_EQ(p1.get_assignment().versions_size(), 1);  // every version on every page
  auto p2 = get(mentee_, a.id(), reviews[3], 2);
  ASSERT_EQ(p2.get_assignment().reviews_size(), 2);
  EXPECT_EQ(p2.get_assignment().reviews(0).id(), reviews[2]);
  auto p3 = get(mentee_, a.id(), reviews[1], 2);
  ASSERT_EQ(p3.get_assignment().reviews_size(), 1);
  EXPECT_FALSE(p3.get_assignment().more_reviews());
  // By bytes: 5 × 60 KB pass 256 KiB, so the default page (20) holds four.
  auto full = get(mentee_, a.id());
  ASSERT_TRUE(full.has_get_assignment());
  EXPECT_EQ(full.get_assignment().reviews_size(), 4);
  EXPECT_TRUE(full.get_assignment().more_reviews());
  auto rest = get(mentee_, a.id(), reviews[1]);
  ASSERT_EQ(rest.get_assignment().reviews_size(), 1);
  EXPECT_EQ(rest.get_assignment().reviews(0).id(), reviews[0]);
  EXPECT_EQ(code_of(get(mentee_, a.id(), 0, 51)), v1::ERROR_CODE_INVALID_ARGUMENT);
}

// ---- nudges and counts ----

class AssignmentNudges : public Assignments {
 protected:
  AssignmentNudges() {
    // Tuesday 1 December 2026, 09:00 UTC (10:00 in Stockholm).
    h_.clock().set_ms(utc_ms(2026, 12, 1, 9));
    m_ = pair(mentee_, mentor_);
    mentor_live_ = h_.connect(mentor_, 1);
    mentee_live_ = h_.connect(mentee_, 2);
  }
  std::vector<v1::AssignmentNudge> mentee_nudges() { return nudges_in(mentee_live_->events()); }
  std::vector<v1::AssignmentNudge> mentor_nudges() { return nudges_in(mentor_live_->events()); }

  uint64_t m_ = 0;
  std::shared_ptr<FakeSession> mentor_live_;
  std::shared_ptr<FakeSession> mentee_live_;
};

TEST_F(AssignmentNudges, DueSoonToTheMenteeAndOverdueToBothEachOnceAndCounted) {
  const int64_t due = utc_ms(2026, 12, 8, 15);
  const v1::Assignment a = created(mentor_, m_, due);
  ASSERT_TRUE(ack(mentee_, a.id()).has_acknowledge_assignment());
  ASSERT_EQ(nudge_entries().size(), 2u);

  run_at(due - services::kDueSoonBeforeMs - kMin);
  EXPECT_TRUE(mentee_nudges().empty());
  run_at(due - services::kDueSoonBeforeMs);
  auto got = mentee_nudges();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].kind(), v1::ASSIGNMENT_NUDGE_KIND_DUE_SOON);
  EXPECT_EQ(got[0].assignment().id(), a.id());
  EXPECT_EQ(got[0].assignment().state(), v1::ASSIGNMENT_STATE_ACKNOWLEDGED);
  EXPECT_TRUE(mentor_nudges().empty());  // due soon is the mentee's
  h_.run_timed_work();                   // a second pass sends nothing again
  EXPECT_EQ(mentee_nudges().size(), 1u);
  EXPECT_EQ(work(m_).assignments_overdue(), 0u);

  run_at(due);
  ASSERT_EQ(mentee_nudges().size(), 2u);
  EXPECT_EQ(mentee_nudges()[1].kind(), v1::ASSIGNMENT_NUDGE_KIND_OVERDUE);
  ASSERT_EQ(mentor_nudges().size(), 1u);
  EXPECT_EQ(mentor_nudges()[0].kind(), v1::ASSIGNMENT_NUDGE_KIND_OVERDUE);
  EXPECT_EQ(work(m_).assignments_overdue(), 1u);
  EXPECT_TRUE(record(a.id()).overdue_counted());
  run_at(due + kDay);
  EXPECT_EQ(mentee_nudges().size(), 2u);
  EXPECT_EQ(mentor_nudges().size(), 1u);
  EXPECT_EQ(work(m_).assignments_overdue(), 1u);
  EXPECT_TRUE(nudge_entries().empty());
  EXPECT_EQ(record(a.id()).nudges_size(), 0);

  // A late submission: no longer overdue.
  submitted(m_, a.id());
  EXPECT_EQ(work(m_).assignments_overdue(), 0u);
  EXPECT_FALSE(record(a.id()).overdue_counted());
  // Changes requested after the due time: waiting again, past due, counted
  // again; no second overdue nudge for the same due time.
  ASSERT_TRUE(
      review(mentor_, a.id(), 1, v1::REVIEW_VERDICT_CHANGES_REQUESTED, {}, "Again.").has_review_version());
  EXPECT_EQ(work(m_).assignments_overdue(), 1u);
  EXPECT_TRUE(nudge_entries().empty());
  run_at(due + 3 * kDay);
  EXPECT_EQ(mentor_nudges().size(), 1u);
  // Withdrawn: un-counted, closed.
  ASSERT_TRUE(withdraw(mentor_, a.id()).has_withdraw_assignment());
  EXPECT_EQ(work(m_).assignments_overdue(), 0u);
  EXPECT_EQ(work(m_).assignments_open(), 0u);
}

TEST_F(AssignmentNudges, DueSoonComesAtOnceWhenTheDueTimeIsCloserThanTwoDays) {
  const int64_t due = now() + 20 * kHour;
  const v1::Assignment a = created(mentor_, m_, due);
  h_.run_timed_work();
  ASSERT_EQ(mentee_nudges().size(), 1u);
  EXPECT_EQ(mentee_nudges()[0].kind(), v1::ASSIGNMENT_NUDGE_KIND_DUE_SOON);
  EXPECT_EQ(mentee_nudges()[0].assignment().state(), v1::ASSIGNMENT_STATE_ASSIGNED);
  h_.run_timed_work();
  EXPECT_EQ(mentee_nudges().size(), 1u);
  ASSERT_EQ(nudge_entries().size(), 1u);  // the overdue one waits
  EXPECT_EQ(nudge_entries()[0].due_ms, static_cast<uint64_t>(due));
  EXPECT_EQ(nudge_entries()[0].id, a.id());
}

TEST_F(AssignmentNudges, NudgesAreDroppedWhenTheStateMovesOnAndComeBackWithARequestForChanges) {
  const int64_t due = utc_ms(2026, 12, 10, 12);
  const v1::Assignment a = created(mentor_, m_, due);
  const v1::Assignment w = created(mentor_, m_, due);
  ASSERT_EQ(nudge_entries().size(), 4u);
  submitted(m_, a.id());
  ASSERT_TRUE(withdraw(mentee_, w.id()).has_withdraw_assignment());
  EXPECT_TRUE(nudge_entries().empty());
  EXPECT_EQ(record(a.id()).nudges_size(), 0);
  EXPECT_EQ(record(w.id()).nudges_size(), 0);
  run_at(due - services::kDueSoonBeforeMs);
  EXPECT_TRUE(mentee_nudges().empty());

  // Changes requested before the due time: the overdue nudge waits again (the
  // due-soon time has passed, so it is not sent again).
  ASSERT_TRUE(
      review(mentor_, a.id(), 1, v1::REVIEW_VERDICT_CHANGES_REQUESTED, {}, "Closer.").has_review_version());
  ASSERT_EQ(nudge_entries().size(), 1u);
  EXPECT_EQ(nudge_entries()[0].kind, keys::WorkDue::kAssignmentOverdue);
  run_at(due);
  ASSERT_EQ(mentee_nudges().size(), 1u);
  EXPECT_EQ(mentee_nudges()[0].kind(), v1::ASSIGNMENT_NUDGE_KIND_OVERDUE);
  EXPECT_EQ(mentee_nudges()[0].assignment().state(), v1::ASSIGNMENT_STATE_CHANGES_REQUESTED);
  EXPECT_EQ(mentor_nudges().size(), 1u);
  EXPECT_EQ(work(m_).assignments_overdue(), 1u);
  // Approval closes it: open, overdue and approved counts move together.
  submitted(m_, a.id());
  ASSERT_TRUE(review(mentor_, a.id(), 2, v1::REVIEW_VERDICT_APPROVED).has_review_version());
  EXPECT_EQ(work(m_).assignments_overdue(), 0u);
  EXPECT_EQ(work(m_).assignments_open(), 0u);
  EXPECT_EQ(work(m_).assignments_approved(), 1u);
  EXPECT_EQ(work(m_).assignments_total(), 2u);
}

TEST_F(AssignmentNudges, ANudgeWaitsForTheRecipientsQuietHoursAtMostADay) {
  // Quiet 22:00-07:00 in Stockholm (UTC+1 in December).
  ASSERT_TRUE(quiet_hours(mentee_, 22 * 60, 7 * 60).has_set_meeting_preferences());
  const int64_t due = utc_ms(2026, 12, 8, 3);  // 04:00 local
  const v1::Assignment a = created(mentor_, m_, due);
  run_at(due - services::kDueSoonBeforeMs);  // 04:00 local two days before: quiet
  EXPECT_TRUE(mentee_nudges().empty());
  run_at(due - services::kDueSoonBeforeMs + 2 * kHour);
  EXPECT_TRUE(mentee_nudges().empty());
  run_at(utc_ms(2026, 12, 6, 6));  // 07:00 local: the quiet hours end
  ASSERT_EQ(mentee_nudges().size(), 1u);
  EXPECT_EQ(mentee_nudges()[0].kind(), v1::ASSIGNMENT_NUDGE_KIND_DUE_SOON);
  h_.run_timed_work();
  EXPECT_EQ(mentee_nudges().size(), 1u);

  // Overdue at 04:00 local: the mentor is inside their quiet hours too
  // (23:00-06:00); held until the later end, and counted at once all the same.
  ASSERT_TRUE(quiet_hours(mentor_, 23 * 60, 6 * 60).has_set_meeting_preferences());
  run_at(due);
  EXPECT_EQ(mentee_nudges().size(), 1u);
  EXPECT_TRUE(mentor_nudges().empty());
  EXPECT_EQ(work(m_).assignments_overdue(), 1u);
  ASSERT_EQ(record(a.id()).nudges_size(), 1);
  EXPECT_EQ(record(a.id()).nudges(0).due_ms(), utc_ms(2026, 12, 8, 6));  // 07:00 local
  run_at(utc_ms(2026, 12, 8, 5));  // the mentor's end: the mentee's is still ahead
  EXPECT_TRUE(mentor_nudges().empty());
  run_at(utc_ms(2026, 12, 8, 6));
  ASSERT_EQ(mentee_nudges().size(), 2u);
  EXPECT_EQ(mentee_nudges()[1].kind(), v1::ASSIGNMENT_NUDGE_KIND_OVERDUE);
  ASSERT_EQ(mentor_nudges().size(), 1u);
  EXPECT_EQ(work(m_).assignments_overdue(), 1u);  // counted once

  // Quiet hours that together cover the whole day hold a nudge at most a
  // day past its time: it then goes while the recipients are still quiet.
  const int64_t due_b = utc_ms(2026, 12, 20, 12);
  const v1::Assignment b = created(mentor_, m_, due_b);
  ASSERT_TRUE(quiet_hours(mentee_, 7 * 60, 6 * 60 + 59).has_set_meeting_preferences());
  ASSERT_TRUE(quiet_hours(mentor_, 6 * 60 + 59, 6 * 60 + 58).has_set_meeting_preferences());
  for (int64_t t = due_b - services::kDueSoonBeforeMs; t <= due_b + kDay + 2 * kHour; t += 2 * kHour)
    run_at(t);
  std::vector<v1::Event> overdue_b;
  for (const auto& e : mentor_live_->events())
    if (e.has_assignment_nudge() && e.assignment_nudge().assignment().id() == b.id()) overdue_b.push_back(e);
  ASSERT_EQ(overdue_b.size(), 1u);
  EXPECT_GT(overdue_b[0].time_ms(), due_b);
  EXPECT_LE(overdue_b[0].time_ms(), due_b + kDay + 2 * kHour);
  const auto got = mentee_nudges();
  ASSERT_EQ(got.size(), 4u);  // a: due soon, overdue; b: due soon, overdue
  EXPECT_EQ(got[2].assignment().id(), b.id());
  EXPECT_EQ(got[2].kind(), v1::ASSIGNMENT_NUDGE_KIND_DUE_SOON);
  EXPECT_EQ(got[3].kind(), v1::ASSIGNMENT_NUDGE_KIND_OVERDUE);
}

TEST_F(AssignmentNudges, NoNudgesOnceTheMentorshipEnded) {
  const int64_t due = utc_ms(2026, 12, 8, 12);
  const v1::Assignment a = created(mentor_, m_, due);
  ASSERT_TRUE(end_mentorship(mentor_, m_).has_end_mentorship());
  run_at(due - services::kDueSoonBeforeMs);
  run_at(due);
  EXPECT_TRUE(mentee_nudges().empty());
  EXPECT_TRUE(mentor_nudges().empty());
  EXPECT_TRUE(nudge_entries().empty());
  EXPECT_EQ(record(a.id()).nudges_size(), 0);
}

}  // namespace
}  // namespace preceptor::assignments_test

// Against a real server: real sockets, real RocksDB, a restart.
namespace preceptor::testing {
namespace {

class Member {
 public:
  Member(uint16_t port, const v1::User& who) : user_(who) {
    EXPECT_EQ(client_.connect(port), "");
    auto r = client_.login(who.username(), TestServer::password_of(who.username()));
    EXPECT_TRUE(r.has_login()) << r.DebugString();
  }
  v1::Response call(v1::ClientFrame f) {
    f.set_request_id(client_.next_request_id());
    auto r = client_.call(std::move(f));
    if (!r) {
      v1::Response none;
      none.mutable_error()->set_message("no reply");
      return none;
    }
    return *r;
  }
  // The next event of the kind `has` picks, pushed live; nullopt on timeout.
  template <class Has>
  std::optional<v1::Event> next(Has has) {
    for (int i = 0; i < 20; ++i) {
      auto e = client_.next_event(5s);
      if (!e) return std::nullopt;
      if (has(*e)) return e;
    }
    return std::nullopt;
  }
  uint64_t id() const { return user_.id(); }

 private:
  v1::User user_;
  TestClient client_;
};

TEST(AssignmentsServer, TheFlowReachesBothMembersLiveAndAnOverdueNudgeArrivesOnceAcrossARestart) {
  TempDir dir;
  ManualClock clock(1'800'000'000'000);  // 2027-01-15
  const int64_t due = clock.now_ms() + 5 * 24 * 3600 * 1000LL;
  uint64_t assignment_id = 0;
  uint64_t mentorship_id = 0;
  v1::User mentor_u;
  v1::User mentee_u;
  {
    auto config = test_config(dir.data());
    config.scheduler_interval_ms = 0;
    TestServer server(config, &clock);
    mentor_u = server.add_user("dr.lind", v1::ROLE_MENTOR);
    mentee_u = server.add_user("wei.chen", v1::ROLE_MENTEE);
    {  // the members disconnect before the server stops
      Member mentor(server.port(), mentor_u);
      Member mentee(server.port(), mentee_u);

      v1::ClientFrame ask;
      ask.mutable_request_mentorship()->set_mentor_id(mentor.id());
      ask.mutable_request_mentorship()->set_purpose(v1::PURPOSE_RESEARCH);
      auto asked = mentee.call(ask);
      ASSERT_TRUE(asked.has_request_mentorship()) << asked.DebugString();
      const uint64_t m = asked.request_mentorship().mentorship().id();
      mentorship_id = m;
      v1::ClientFrame acc;
      acc.mutable_accept_mentorship()->set_mentorship_id(m);
      ASSERT_TRUE(mentor.call(acc).has_accept_mentorship());

      v1::ClientFrame create;
      create.mutable_create_assignment()->set_mentorship_id(m);
      create.mutable_create_assignment()->set_title("Draft the study protocol");
      create.mutable_create_assignment()->set_kind(v1::ASSIGNMENT_KIND_STUDY_PROTOCOL);
      create.mutable_create_assignment()->set_due_ms(due);
      create.mutable_create_assignment()->set_time_zone("Europe/Stockholm");
      auto made = mentor.call(create);
      ASSERT_TRUE(made.has_create_assignment()) << made.DebugString();
      assignment_id = made.create_assignment().assignment().id();
      for (Member* who : {&mentor, &mentee}) {
        auto e = who->next([](const v1::Event& e) { return e.has_assignment_changed(); });
        ASSERT_TRUE(e) << who->id();
        EXPECT_EQ(e->assignment_changed().change(), v1::ASSIGNMENT_CHANGE_CREATED);
        EXPECT_EQ(e->assignment_changed().assignment().title(), "Draft the study protocol");
      }

      // A first version (its upload made directly), reviewed with changes.
      const uint64_t doc =
          assignments_test::add_document(server.server().committer(), m, mentee.id(), "protocol.odt");
      v1::ClientFrame sub;
      sub.mutable_submit_version()->set_assignment_id(assignment_id);
      sub.mutable_submit_version()->set_document_id(doc);
      sub.mutable_submit_version()->set_note("Aims and methods.");
      ASSERT_TRUE(mentee.call(sub).has_submit_version());
      v1::ClientFrame rev;
      rev.mutable_review_version()->set_assignment_id(assignment_id);
      rev.mutable_review_version()->set_version(1);
      rev.mutable_review_version()->set_verdict(v1::REVIEW_VERDICT_CHANGES_REQUESTED);
      auto* c = rev.mutable_review_version()->add_comments();
      c->mutable_anchor()->set_version(1);
      c->mutable_anchor()->set_quote("convenience sample");
      c->set_text("How will you avoid selection bias?");
      auto reviewed = mentor.call(rev);
      ASSERT_TRUE(reviewed.has_review_version()) << reviewed.DebugString();
      auto posted = mentee.next([](const v1::Event& e) { return e.has_review_changed(); });
      ASSERT_TRUE(posted);
      EXPECT_EQ(posted->review_changed().change(), v1::REVIEW_CHANGE_POSTED);
      EXPECT_EQ(posted->review_changed().review().comments(0).anchor().quote(), "convenience sample");
    }
    server.server().run_scheduler_once();  // nothing due yet
    server.stop();
  }
  // Down across the due time; after the restart, two passes send it once.
  clock.set_ms(due + 3600 * 1000);
  auto config = test_config(dir.data());
  config.scheduler_interval_ms = 0;
  TestServer second(config, &clock);
  second.server().run_scheduler_once();
  second.server().run_scheduler_once();
  for (const v1::User& who : {mentor_u, mentee_u}) {
    Member member(second.port(), who);
    v1::ClientFrame sync;
    sync.mutable_sync()->set_limit(1000);
    auto r = member.call(sync);
    ASSERT_TRUE(r.has_sync()) << r.DebugString();
    std::vector<v1::AssignmentNudge> got;
    for (const auto& e : r.sync().events())
      if (e.has_assignment_nudge()) got.push_back(e.assignment_nudge());
    ASSERT_EQ(got.size(), 1u) << who.username();
    EXPECT_EQ(got[0].kind(), v1::ASSIGNMENT_NUDGE_KIND_OVERDUE);
    EXPECT_EQ(got[0].assignment().id(), assignment_id);
    EXPECT_EQ(got[0].assignment().state(), v1::ASSIGNMENT_STATE_CHANGES_REQUESTED);
  }
  auto w = services::load_work(second.server().store(), mentorship_id);
  ASSERT_TRUE(w.is_ok());
  EXPECT_EQ(w->assignments_overdue(), 1u);
  EXPECT_EQ(w->assignments_open(), 1u);
}

}  // namespace
}  // namespace preceptor::testing
