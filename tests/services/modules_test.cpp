// Chat, mentorships and membership through the router, without sockets
// (tests/harness): what members, outsiders and directors are answered, and
// what each live session is sent.
#include <gtest/gtest.h>

#include "tests/harness/services_harness.h"

namespace preceptor::services {
namespace {

using harness::frame;
using harness::ServicesHarness;
using F = v1::ClientFrame;

struct Pair {
  v1::User mentor;
  v1::User mentee;
  v1::Mentorship mentorship;
};

Pair make_pair(ServicesHarness& h, const std::string& suffix = "") {
  Pair p;
  p.mentor = h.add_user("mentor.kim" + suffix, v1::ROLE_MENTOR);
  p.mentee = h.add_user("mentee.chen" + suffix, v1::ROLE_MENTEE);
  v1::RequestMentorship req;
  req.set_mentor_id(p.mentor.id());
  req.set_purpose(v1::PURPOSE_RESEARCH);
  auto asked = h.call(h.caller(p.mentee), frame(&F::mutable_request_mentorship, req));
  EXPECT_TRUE(asked.has_request_mentorship()) << asked.DebugString();
  v1::AcceptMentorship accept;
  accept.set_mentorship_id(asked.request_mentorship().mentorship().id());
  auto accepted = h.call(h.caller(p.mentor), frame(&F::mutable_accept_mentorship, accept));
  EXPECT_TRUE(accepted.has_accept_mentorship()) << accepted.DebugString();
  p.mentorship = accepted.accept_mentorship().mentorship();
  return p;
}

// The MessagePosted events among `events` (presence comes and goes too).
std::vector<v1::Message> posted(const std::vector<v1::Event>& events) {
  std::vector<v1::Message> out;
  for (const auto& e : events) {
    if (e.has_message_posted()) out.push_back(e.message_posted().message());
  }
  return out;
}

v1::SendMessage text(uint64_t conversation, const std::string& client_id, const std::string& body) {
  v1::SendMessage m;
  m.set_conversation_id(conversation);
  m.set_client_message_id(client_id);
  m.set_body(body);
  return m;
}

TEST(Membership, AnswersWhoBelongsToAMentorshipAndInWhichRole) {
  ServicesHarness h;
  Pair p = make_pair(h);
  v1::User stranger = h.add_user("mentee.zed", v1::ROLE_MENTEE);
  Membership membership(h.store());
  auto mentor = membership.find(p.mentor.id(), p.mentorship.id());
  ASSERT_TRUE(mentor.is_ok() && mentor->has_value());
  EXPECT_EQ((*mentor)->role, Membership::Role::kMentor);
  EXPECT_EQ((*mentor)->counterpart_id, p.mentee.id());
  EXPECT_TRUE((*mentor)->active());
  auto mentee = membership.find(p.mentee.id(), p.mentorship.id());
  ASSERT_TRUE(mentee.is_ok() && mentee->has_value());
  EXPECT_EQ((*mentee)->role, Membership::Role::kMentee);
  EXPECT_EQ((*mentee)->conversation_id, p.mentorship.conversation_id());
  auto outsider = membership.find(stranger.id(), p.mentorship.id());
  ASSERT_TRUE(outsider.is_ok());
  EXPECT_FALSE(outsider->has_value());
  auto missing = membership.find(p.mentor.id(), 999);
  ASSERT_TRUE(missing.is_ok());
  EXPECT_FALSE(missing->has_value());
  auto all = membership.of_user(p.mentee.id());
  ASSERT_TRUE(all.is_ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->front().mentorship_id, p.mentorship.id());
}

TEST(ChatModule, TheCounterpartAndTheSendersOtherDevicesGetTheMessageTheSendingConnectionOnlyItsReply) {
  ServicesHarness h;
  Pair p = make_pair(h);
  auto sender_phone = h.connect(p.mentee, 11);
  auto sender_laptop = h.connect(p.mentee, 12);
  auto counterpart = h.connect(p.mentor, 21);
  auto r = h.call(h.caller(p.mentee, 11),
                  frame(&F::mutable_send_message, text(p.mentorship.conversation_id(), "c1", "hello")));
  ASSERT_TRUE(r.has_send_message()) << r.DebugString();
  EXPECT_EQ(r.send_message().message().seq(), 1u);
  EXPECT_EQ(r.send_message().message().body(), "hello");
  // The mentor came online after the mentee's devices: they got its presence first.
  auto at_counterpart = posted(counterpart->wait_events(1));
  ASSERT_EQ(at_counterpart.size(), 1u);
  EXPECT_EQ(at_counterpart[0].body(), "hello");
  EXPECT_EQ(at_counterpart[0].position(), r.send_message().message().position());
  auto at_laptop = posted(sender_laptop->wait_events(2));
  ASSERT_EQ(at_laptop.size(), 1u);
  EXPECT_EQ(at_laptop[0].body(), "hello");
  // A later message reaches the phone: had the first been sent there, it would have come before it.
  auto send2 = h.call(h.caller(p.mentor, 21),
                      frame(&F::mutable_send_message, text(p.mentorship.conversation_id(), "m1", "hi")));
  ASSERT_TRUE(send2.has_send_message());
  auto at_phone = posted(sender_phone->wait_events(2));
  ASSERT_EQ(at_phone.size(), 1u);
  EXPECT_EQ(at_phone[0].body(), "hi");
}

TEST(ChatModule, ARetryWithTheSameClientIdGivesTheOriginalMessage) {
  ServicesHarness h;
  Pair p = make_pair(h);
  auto send = frame(&F::mutable_send_message, text(p.mentorship.conversation_id(), "same", "once"));
  auto first = h.call(h.caller(p.mentee), send);
  auto again = h.call(h.caller(p.mentee), send);
  ASSERT_TRUE(first.has_send_message() && again.has_send_message());
  EXPECT_FALSE(first.send_message().duplicate());
  EXPECT_TRUE(again.send_message().duplicate());
  EXPECT_EQ(again.send_message().message().seq(), first.send_message().message().seq());
  v1::History history;
  history.set_conversation_id(p.mentorship.conversation_id());
  auto page = h.call(h.caller(p.mentor), frame(&F::mutable_history, history));
  ASSERT_TRUE(page.has_history());
  EXPECT_EQ(page.history().messages_size(), 1);
}

TEST(ChatModule, OutsidersGetNotFoundAndDirectorsPermissionDenied) {
  ServicesHarness h;
  Pair p = make_pair(h);
  v1::User outsider = h.add_user("mentee.eve", v1::ROLE_MENTEE);
  v1::User director = h.add_user("director.oz", v1::ROLE_PROGRAM_DIRECTOR);
  auto send = frame(&F::mutable_send_message, text(p.mentorship.conversation_id(), "x", "let me in"));
  EXPECT_EQ(h.call(h.caller(outsider), send).error().code(), v1::ERROR_CODE_NOT_FOUND);
  EXPECT_EQ(h.call(h.caller(director), send).error().code(), v1::ERROR_CODE_PERMISSION_DENIED);
  v1::History history;
  history.set_conversation_id(p.mentorship.conversation_id());
  EXPECT_EQ(h.call(h.caller(outsider), frame(&F::mutable_history, history)).error().code(),
            v1::ERROR_CODE_NOT_FOUND);
}

TEST(ChatModule, ListConversationsCountsWhatTheReaderHasNotRead) {
  ServicesHarness h;
  Pair p = make_pair(h);
  for (int i = 0; i < 3; ++i) {
    auto r = h.call(h.caller(p.mentee), frame(&F::mutable_send_message, text(p.mentorship.conversation_id(),
                                                                             "c" + std::to_string(i), "m")));
    ASSERT_TRUE(r.has_send_message());
  }
  auto mentor_view = h.call(h.caller(p.mentor), frame(&F::mutable_list_conversations));
  ASSERT_EQ(mentor_view.list_conversations().conversations_size(), 1);
  const auto& c = mentor_view.list_conversations().conversations(0);
  EXPECT_EQ(c.counterpart_id(), p.mentee.id());
  EXPECT_EQ(c.unread(), 3u);
  auto mentee_view = h.call(h.caller(p.mentee), frame(&F::mutable_list_conversations));
  EXPECT_EQ(mentee_view.list_conversations().conversations(0).unread(), 0u);
}

TEST(ChatModule, ACounterpartIsToldWhenTheOtherComesOnlineAndGoesOffline) {
  ServicesHarness h;
  Pair p = make_pair(h);
  auto mentor = h.connect(p.mentor, 1);
  const uint64_t reg = h.hub().attach(p.mentee.id(), "t", std::make_shared<harness::FakeSession>(), 2);
  auto online = mentor->wait_events(1);
  ASSERT_EQ(online.size(), 1u);
  EXPECT_EQ(online[0].presence().user_id(), p.mentee.id());
  EXPECT_TRUE(online[0].presence().online());
  h.hub().detach(reg);
  auto both = mentor->wait_events(2);
  ASSERT_EQ(both.size(), 2u);
  EXPECT_FALSE(both[1].presence().online());
}

TEST(MentorshipsModule, AnUnansweredRequestRemindsAfterSevenDaysAndExpiresAfterFourteen) {
  ServicesHarness h;
  v1::User mentor = h.add_user("mentor.ray", v1::ROLE_MENTOR);
  v1::User mentee = h.add_user("mentee.sol", v1::ROLE_MENTEE);
  auto mentor_session = h.connect(mentor, 1);
  v1::RequestMentorship req;
  req.set_mentor_id(mentor.id());
  req.set_purpose(v1::PURPOSE_CAREER);
  auto asked = h.call(h.caller(mentee), frame(&F::mutable_request_mentorship, req));
  ASSERT_TRUE(asked.has_request_mentorship());
  ASSERT_EQ(mentor_session->wait_events(1).size(), 1u);
  h.clock().advance_ms(7LL * 24 * 3600 * 1000);
  h.run_timed_work();
  auto reminded = mentor_session->wait_events(2);
  ASSERT_EQ(reminded.size(), 2u);
  EXPECT_EQ(reminded[1].mentorship_changed().change(), v1::MENTORSHIP_CHANGE_REMINDER);
  h.run_timed_work();  // once only
  h.clock().advance_ms(7LL * 24 * 3600 * 1000);
  h.run_timed_work();
  auto expired = mentor_session->wait_events(3);
  ASSERT_EQ(expired.size(), 3u);
  EXPECT_EQ(expired[2].mentorship_changed().change(), v1::MENTORSHIP_CHANGE_EXPIRED);
  v1::AcceptMentorship accept;
  accept.set_mentorship_id(asked.request_mentorship().mentorship().id());
  EXPECT_EQ(h.call(h.caller(mentor), frame(&F::mutable_accept_mentorship, accept)).error().code(),
            v1::ERROR_CODE_FAILED_PRECONDITION);
}

TEST(MentorshipsModule, OnlyMenteesRequestAndOnlyDirectorsAssign) {
  ServicesHarness h;
  v1::User mentor = h.add_user("mentor.lu", v1::ROLE_MENTOR);
  v1::User mentee = h.add_user("mentee.vi", v1::ROLE_MENTEE);
  v1::RequestMentorship req;
  req.set_mentor_id(mentor.id());
  req.set_purpose(v1::PURPOSE_CAREER);
  auto refused = h.call(h.caller(mentor), frame(&F::mutable_request_mentorship, req));
  EXPECT_EQ(refused.error().code(), v1::ERROR_CODE_PERMISSION_DENIED);
  v1::AssignMentorship assign;
  assign.set_mentor_id(mentor.id());
  assign.set_mentee_id(mentee.id());
  assign.set_purpose(v1::PURPOSE_CAREER);
  EXPECT_EQ(h.call(h.caller(mentee), frame(&F::mutable_assign_mentorship, assign)).error().code(),
            v1::ERROR_CODE_PERMISSION_DENIED);
  v1::User director = h.add_user("director.ma", v1::ROLE_PROGRAM_DIRECTOR);
  auto assigned = h.call(h.caller(director), frame(&F::mutable_assign_mentorship, assign));
  ASSERT_TRUE(assigned.has_assign_mentorship()) << assigned.DebugString();
  EXPECT_EQ(assigned.assign_mentorship().mentorship().state(), v1::MENTORSHIP_STATE_ACTIVE);
}

}  // namespace
}  // namespace preceptor::services
