// The index families behind the directory and the scheduler (users_by_role,
// mentorships_by_due), through the router on the harness: what a mentee
// browsing the directory and an operator watching the commits would notice,
// and the start-up step that builds them for a store written without them.
#include "server/services/indexes.h"

#include <gtest/gtest.h>

#include <future>
#include <string>
#include <vector>

#include "server/services/work_book.h"
#include "storage/keys.h"
#include "tests/harness/services_harness.h"

namespace preceptor::services {
namespace {

using harness::frame;
using harness::ServicesHarness;
using F = v1::ClientFrame;
constexpr int64_t kDay = 24LL * 3600 * 1000;

// `n` users of `role` in one write (as a roster import makes them).
std::vector<v1::User> add_users(ServicesHarness& h, const std::string& prefix, int n, v1::Role role) {
  std::vector<NewUser> users;
  for (int i = 0; i < n; ++i) {
    NewUser u;
    u.username = prefix + std::to_string(i);
    u.password = "password-" + u.username;
    u.display_name = "User " + u.username;
    u.role = role;
    users.push_back(std::move(u));
  }
  std::promise<Result<std::vector<v1::User>>> promise;
  auto created = promise.get_future();
  h.accounts().create_users(users, [&](Result<std::vector<v1::User>> r) { promise.set_value(std::move(r)); });
  auto result = created.get();
  EXPECT_TRUE(result.is_ok()) << result.status().to_string();
  return result.is_ok() ? *result : std::vector<v1::User>();
}

// Every mentor the directory lists, following its pages of `limit`.
std::vector<uint64_t> directory(ServicesHarness& h, const v1::User& who, uint32_t limit) {
  std::vector<uint64_t> ids;
  v1::ListMentors req;
  req.set_limit(limit);
  for (int pages = 0; pages < 100; ++pages) {
    auto r = h.call(h.caller(who), frame(&F::mutable_list_mentors, req));
    EXPECT_TRUE(r.has_list_mentors()) << r.DebugString();
    for (const auto& e : r.list_mentors().mentors()) ids.push_back(e.mentor().id());
    if (!r.list_mentors().has_more()) break;
    req.set_after_mentor_id(r.list_mentors().next_after_mentor_id());
  }
  return ids;
}

// A mentee paired with a mentor on a weekly agreement; returns the mentorship.
v1::Mentorship weekly_pair(ServicesHarness& h, const v1::User& mentor, const v1::User& mentee) {
  v1::RequestMentorship req;
  req.set_mentor_id(mentor.id());
  req.set_purpose(v1::PURPOSE_RESEARCH);
  auto asked = h.call(h.caller(mentee), frame(&F::mutable_request_mentorship, req));
  EXPECT_TRUE(asked.has_request_mentorship()) << asked.DebugString();
  const uint64_t id = asked.request_mentorship().mentorship().id();
  v1::AcceptMentorship accept;
  accept.set_mentorship_id(id);
  EXPECT_TRUE(h.call(h.caller(mentor), frame(&F::mutable_accept_mentorship, accept)).has_accept_mentorship());
  v1::ProposeAgreement propose;
  propose.set_mentorship_id(id);
  propose.set_cadence(v1::CADENCE_WEEKLY);
  propose.add_channels(v1::CHANNEL_CHAT);
  EXPECT_TRUE(
      h.call(h.caller(mentee), frame(&F::mutable_propose_agreement, propose)).has_propose_agreement());
  v1::AcceptAgreement agree;
  agree.set_mentorship_id(id);
  auto agreed = h.call(h.caller(mentor), frame(&F::mutable_accept_agreement, agree));
  EXPECT_TRUE(agreed.has_accept_agreement()) << agreed.DebugString();
  return agreed.accept_agreement().mentorship();
}

size_t checkins_due(const std::vector<v1::Event>& events) {
  size_t n = 0;
  for (const auto& e : events) n += e.has_checkin_due();
  return n;
}

// Commits made by one pass of every module's timed work.
uint64_t commits_of_a_pass(ServicesHarness& h) {
  const uint64_t before = h.committer().commits_total();
  h.run_timed_work();
  return h.committer().commits_total() - before;
}

TEST(Directory, AFullPageOfMentorsEvenWithThousandsOfOtherUsersBetweenThem) {
  ServicesHarness h;
  std::vector<v1::User> mentors = add_users(h, "mentor.a", 3, v1::ROLE_MENTOR);
  add_users(h, "mentee.", 3000, v1::ROLE_MENTEE);  // more than a page ever looked at before
  for (const v1::User& m : add_users(h, "mentor.b", 3, v1::ROLE_MENTOR)) mentors.push_back(m);
  const v1::User mentee = h.add_user("mentee.asking", v1::ROLE_MENTEE);
  std::vector<uint64_t> expected;
  for (const v1::User& m : mentors) expected.push_back(m.id());

  v1::ListMentors req;
  req.set_limit(6);
  auto page = h.call(h.caller(mentee), frame(&F::mutable_list_mentors, req));
  ASSERT_TRUE(page.has_list_mentors()) << page.DebugString();
  EXPECT_EQ(page.list_mentors().mentors_size(), 6);
  EXPECT_FALSE(page.list_mentors().has_more());
  // Paging is as before: id order, each page after the last one seen.
  for (uint32_t limit : {1u, 2u, 100u}) EXPECT_EQ(directory(h, mentee, limit), expected) << "limit " << limit;
}

TEST(Directory, HiddenAndDisabledMentorsStayOut) {
  ServicesHarness h;
  const v1::User shown = h.add_user("mentor.shown", v1::ROLE_MENTOR);
  const v1::User hidden = h.add_user("mentor.hidden", v1::ROLE_MENTOR);
  const v1::User disabled = h.add_user("mentor.disabled", v1::ROLE_MENTOR);
  const v1::User mentee = h.add_user("mentee.asking", v1::ROLE_MENTEE);
  v1::UpdateMentorProfile hide;
  hide.mutable_profile()->set_accepting_requests(false);
  hide.mutable_profile()->set_capacity(3);
  ASSERT_TRUE(
      h.call(h.caller(hidden), frame(&F::mutable_update_mentor_profile, hide)).has_update_mentor_profile());
  std::promise<void> off;
  h.accounts().set_disabled(AuditActor{}, disabled.id(), true, [&](auto r) {
    EXPECT_TRUE(r.is_ok());
    off.set_value();
  });
  off.get_future().wait();
  EXPECT_EQ(directory(h, mentee, 100), std::vector<uint64_t>{shown.id()});
}

TEST(Scheduler, APassWithNothingDueCommitsNothingAndTheCheckInStillComes) {
  ServicesHarness h;
  const v1::User mentor = h.add_user("mentor.kim", v1::ROLE_MENTOR);
  const v1::User mentee = h.add_user("mentee.chen", v1::ROLE_MENTEE);
  auto mentee_session = h.connect(mentee, 1);
  const v1::Mentorship m = weekly_pair(h, mentor, mentee);

  EXPECT_EQ(commits_of_a_pass(h), 0u);
  h.clock().advance_ms(6 * kDay);
  EXPECT_EQ(commits_of_a_pass(h), 0u);
  EXPECT_EQ(checkins_due(mentee_session->events()), 0u);

  h.clock().advance_ms(kDay);  // a week of silence
  size_t seen = mentee_session->events().size();
  EXPECT_EQ(commits_of_a_pass(h), 1u);
  EXPECT_EQ(checkins_due(mentee_session->wait_events(seen + 1)), 1u);
  EXPECT_EQ(commits_of_a_pass(h), 0u);  // once per lapsed week

  // A message moves the next check-in a week on.
  v1::SendMessage msg;
  msg.set_conversation_id(m.conversation_id());
  msg.set_client_message_id("c1");
  msg.set_body("How is the abstract going?");
  ASSERT_TRUE(h.call(h.caller(mentor), frame(&F::mutable_send_message, msg)).has_send_message());
  h.clock().advance_ms(6 * kDay);
  EXPECT_EQ(commits_of_a_pass(h), 0u);
  h.clock().advance_ms(kDay);
  seen = mentee_session->wait_events(seen + 2).size();  // the message has arrived
  EXPECT_EQ(commits_of_a_pass(h), 1u);
  EXPECT_EQ(checkins_due(mentee_session->wait_events(seen + 1)), 2u);

  // Ended, nothing is due again.
  v1::EndMentorship end;
  end.set_mentorship_id(m.id());
  ASSERT_TRUE(h.call(h.caller(mentee), frame(&F::mutable_end_mentorship, end)).has_end_mentorship());
  h.clock().advance_ms(30 * kDay);
  EXPECT_EQ(commits_of_a_pass(h), 0u);
}

// Empties both index families and forgets that they were built: a store as
// a binary without them left it.
void forget_indexes(ServicesHarness& h) {
  std::promise<Status> written;
  h.committer().submit(
      [](storage::CommitContext& ctx) -> Status {
        for (storage::Cf cf : {storage::Cf::kUsersByRole, storage::Cf::kMentorshipsByDue}) {
          std::vector<std::string> keys;
          auto scanned = ctx.scan(cf, {}, [&](std::string_view key, std::string_view) {
            keys.emplace_back(key);
            return true;
          });
          if (!scanned) return scanned.status();
          for (const auto& k : keys) ctx.del(cf, k);
          ctx.del(storage::Cf::kMeta, storage::keys::UpgradeDone{.name = storage::cf_name(cf)}.encode());
        }
        return Status::ok();
      },
      [&](const Status& st) { written.set_value(st); });
  ASSERT_TRUE(written.get_future().get().is_ok());
}

TEST(Indexes, AStoreWrittenWithoutThemGetsThemAtStartUp) {
  ServicesHarness h;
  const v1::User mentor = h.add_user("mentor.kim", v1::ROLE_MENTOR);
  const v1::User other = h.add_user("mentor.ruiz", v1::ROLE_MENTOR);
  const v1::User mentee = h.add_user("mentee.chen", v1::ROLE_MENTEE);
  auto mentee_session = h.connect(mentee, 1);
  auto other_session = h.connect(other, 2);
  weekly_pair(h, mentor, mentee);
  v1::RequestMentorship req;  // unanswered: the mentor is reminded after a week
  req.set_mentor_id(other.id());
  req.set_purpose(v1::PURPOSE_CAREER);
  ASSERT_TRUE(h.call(h.caller(mentee), frame(&F::mutable_request_mentorship, req)).has_request_mentorship());

  forget_indexes(h);
  EXPECT_TRUE(directory(h, mentee, 100).empty());  // the directory reads the index alone

  ASSERT_TRUE(build_missing_indexes(h.store(), h.committer()).is_ok());
  EXPECT_EQ(directory(h, mentee, 100), (std::vector<uint64_t>{mentor.id(), other.id()}));
  const uint64_t commits = h.committer().commits_total();
  ASSERT_TRUE(build_missing_indexes(h.store(), h.committer()).is_ok());  // once only
  EXPECT_EQ(h.committer().commits_total(), commits);

  const size_t before = other_session->events().size();
  const size_t mentee_before = mentee_session->events().size();
  h.clock().advance_ms(7 * kDay);
  EXPECT_EQ(commits_of_a_pass(h), 2u);  // the check-in and the reminder, found in the rebuilt index
  auto reminded = other_session->wait_events(before + 1);
  ASSERT_GT(reminded.size(), before);
  EXPECT_EQ(reminded.back().mentorship_changed().change(), v1::MENTORSHIP_CHANGE_REMINDER);
  EXPECT_EQ(checkins_due(mentee_session->wait_events(mentee_before + 1)), 1u);
}

// An active mentorship of a store written before "time to reassess" existed
// (no schedule in mentorship_work, no work_due entry) gets its schedule at
// start-up, and both members hear about it after 12 weeks.
TEST(Indexes, AnActiveMentorshipOfAnOlderStoreIsToldToReassess) {
  ServicesHarness h;
  const v1::User mentor = h.add_user("mentor.kim", v1::ROLE_MENTOR);
  const v1::User mentee = h.add_user("mentee.chen", v1::ROLE_MENTEE);
  const v1::Mentorship m = weekly_pair(h, mentor, mentee);
  std::promise<Status> written;
  h.committer().submit(
      [id = m.id()](storage::CommitContext& ctx) -> Status {
        std::vector<std::string> keys;
        auto scanned = ctx.scan(storage::Cf::kWorkDue, {}, [&](std::string_view key, std::string_view) {
          auto entry = storage::keys::WorkDue::decode(key);
          if (entry && entry->kind == storage::keys::WorkDue::kReassessment) keys.emplace_back(key);
          return true;
        });
        if (!scanned) return scanned.status();
        for (const auto& k : keys) ctx.del(storage::Cf::kWorkDue, k);
        auto work = load_work(ctx, id);
        if (!work) return work.status();
        work->set_next_reassessment_ms(0);
        save_work(ctx, id, *work);
        ctx.del(storage::Cf::kMeta, storage::keys::UpgradeDone{.name = "reassessment_schedule"}.encode());
        return Status::ok();
      },
      [&](const Status& st) { written.set_value(st); });
  ASSERT_TRUE(written.get_future().get().is_ok());
  auto mentee_session = h.connect(mentee, 1);
  const auto reassess_dues = [&] {
    size_t n = 0;
    for (const v1::Event& e : mentee_session->events()) n += e.has_reassessment_due() ? 1 : 0;
    return n;
  };
  h.clock().advance_ms(12 * 7 * kDay + kDay);
  h.run_timed_work();
  EXPECT_EQ(reassess_dues(), 0u) << "without a schedule nothing is due";

  ASSERT_TRUE(build_missing_indexes(h.store(), h.committer()).is_ok());
  const uint64_t commits = h.committer().commits_total();
  ASSERT_TRUE(build_missing_indexes(h.store(), h.committer()).is_ok());  // once only
  EXPECT_EQ(h.committer().commits_total(), commits);
  const size_t seen = mentee_session->events().size();
  h.run_timed_work();  // 12 weeks after activation have passed: due at once
  mentee_session->wait_events(seen + 1);
  EXPECT_EQ(reassess_dues(), 1u);
  h.clock().advance_ms(11 * 7 * kDay);
  h.run_timed_work();
  EXPECT_EQ(reassess_dues(), 1u) << "the next one 24 weeks after activation";
}

}  // namespace
}  // namespace preceptor::services
