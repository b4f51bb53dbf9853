// Mentorships and chat through a real server, real sockets, real RocksDB.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "server/net/metrics.h"
#include "tests/support/test_client.h"
#include "tests/support/test_server.h"
#include "tests/temp/files_containing.h"

namespace preceptor::testing {
namespace {

using v1::ErrorCode;

// A signed-in client with request helpers that return the Response.
class User {
 public:
  User(uint16_t port, const v1::User& who) : user_(who) {
    EXPECT_EQ(client_.connect(port), "");
    auto r = client_.login(who.username(), TestServer::password_of(who.username()));
    EXPECT_TRUE(r.has_login()) << r.DebugString();
    token_ = r.login().token();
  }
  User(uint16_t port, const v1::User& who, const std::string& token) : user_(who), token_(token) {
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
  v1::Response send(uint64_t conversation, const std::string& body, const std::string& client_id = {}) {
    v1::ClientFrame f;
    auto* s = f.mutable_send_message();
    s->set_conversation_id(conversation);
    s->set_body(body);
    s->set_client_message_id(client_id.empty() ? "c-" + std::to_string(++sent_) + "-" + user_.username()
                                               : client_id);
    return call(f);
  }
  v1::Response history(uint64_t conversation, uint32_t limit = 0, uint64_t before = 0,
                       std::optional<uint64_t> after = std::nullopt) {
    v1::ClientFrame f;
    auto* h = f.mutable_history();
    h->set_conversation_id(conversation);
    h->set_limit(limit);
    h->set_before_seq(before);
    if (after) h->set_after_seq(*after);
    return call(f);
  }
  v1::Response sync(uint64_t store_id, uint64_t position, uint32_t limit = 0) {
    v1::ClientFrame f;
    f.mutable_sync()->mutable_since()->set_store_id(store_id);
    f.mutable_sync()->mutable_since()->set_position(position);
    f.mutable_sync()->set_limit(limit);
    return call(f);
  }
  // Next event satisfying `pred`, skipping others; nullopt on timeout.
  template <class Pred>
  std::optional<v1::Event> event_where(Pred pred, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto e = client_.next_event(
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
      if (!e) return std::nullopt;
      if (pred(*e)) return e;
    }
    return std::nullopt;
  }

  const v1::User& user() const { return user_; }
  uint64_t id() const { return user_.id(); }
  const std::string& token() const { return token_; }
  TestClient& client() { return client_; }

 private:
  v1::User user_;
  TestClient client_;
  std::string token_;
  int sent_ = 0;
};

v1::ClientFrame request_frame(uint64_t mentor, v1::Purpose purpose, const std::string& note = "Hello") {
  v1::ClientFrame f;
  f.mutable_request_mentorship()->set_mentor_id(mentor);
  f.mutable_request_mentorship()->set_purpose(purpose);
  f.mutable_request_mentorship()->set_note(note);
  return f;
}
v1::ClientFrame accept_frame(uint64_t id) {
  v1::ClientFrame f;
  f.mutable_accept_mentorship()->set_mentorship_id(id);
  return f;
}

ErrorCode code_of(const v1::Response& r) { return r.error().code(); }

class Chat : public ::testing::Test {
 protected:
  void start(const Clock* clock = nullptr, const MonotonicClock* monotonic_clock = nullptr,
             uint64_t user_quota_mb = 256) {
    auto config = test_config(dir_.path());
    config.user_quota_mb = user_quota_mb;
    config.scheduler_interval_ms = 0;                       // tests run the scheduler by hand
    config.redaction_interval_ms = redaction_interval_ms_;  // 0: tests run it by hand
    // Tests move a manual clock on by weeks; sessions must outlive that
    // (a live session ends when its token expires).
    config.accounts.token_idle_timeout_ms = 365LL * 24 * 3600 * 1000;
    config.accounts.token_lifetime_ms = 400LL * 24 * 3600 * 1000;
    server_ =
        std::make_unique<TestServer>(config, clock, std::function<void(server::Server&)>(), monotonic_clock);
  }
  // Waits (up to 5 s) until the server has `n` connections open; false on timeout.
  bool connections_settle_at(int64_t n) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (server_->server().metrics().connections_open.load() != n) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(1ms);
    }
    return true;
  }
  uint16_t port() { return server_->port(); }

  // Mentee requests, mentor accepts; returns the active mentorship.
  v1::Mentorship pair(User& mentee, User& mentor, v1::Purpose purpose = v1::PURPOSE_CAREER) {
    auto req = mentee.call(request_frame(mentor.id(), purpose));
    EXPECT_TRUE(has_mentorship(req)) << req.DebugString();
    auto acc = mentor.call(accept_frame(mentorship_of(req).id()));
    EXPECT_TRUE(has_mentorship(acc)) << acc.DebugString();
    EXPECT_NE(mentorship_of(acc).conversation_id(), 0u);
    return mentorship_of(acc);
  }

  int64_t redaction_interval_ms_ = 0;
  TempDir dir_;
  ManualClock clock_;            // outlives the server, which reads it until it stops
  ManualMonotonicClock frozen_;  // rate limits whose time stands still (start(nullptr, &frozen_)); likewise
  std::unique_ptr<TestServer> server_;
};

TEST_F(Chat, RequestAcceptAndTalk) {
  start();
  User mentor(port(), server_->add_user("mentor.erik", v1::ROLE_MENTOR));
  User mentee(port(), server_->add_user("wei.chen", v1::ROLE_MENTEE));

  auto req =
      mentee.call(request_frame(mentor.id(), v1::PURPOSE_RESEARCH, "Could you help with my first study?"));
  ASSERT_TRUE(has_mentorship(req)) << req.DebugString();
  EXPECT_EQ(mentorship_of(req).state(), v1::MENTORSHIP_STATE_REQUESTED);
  auto asked = mentor.event_where([](const v1::Event& e) { return e.has_mentorship_changed(); });
  ASSERT_TRUE(asked);
  EXPECT_EQ(asked->mentorship_changed().change(), v1::MENTORSHIP_CHANGE_REQUESTED);
  EXPECT_EQ(asked->mentorship_changed().mentorship().request_note(), "Could you help with my first study?");
  EXPECT_GT(asked->position(), 0u);

  auto acc = mentor.call(accept_frame(mentorship_of(req).id()));
  ASSERT_TRUE(has_mentorship(acc));
  const uint64_t conv = mentorship_of(acc).conversation_id();
  auto accepted = mentee.event_where([](const v1::Event& e) {
    return e.has_mentorship_changed() && e.mentorship_changed().change() == v1::MENTORSHIP_CHANGE_ACCEPTED;
  });
  ASSERT_TRUE(accepted);
  EXPECT_EQ(accepted->mentorship_changed().mentorship().conversation_id(), conv);

  for (int i = 1; i <= 3; ++i) {
    auto sent = mentee.send(conv, "question " + std::to_string(i));
    ASSERT_TRUE(sent.has_send_message()) << sent.DebugString();
    EXPECT_EQ(sent.send_message().message().seq(), static_cast<uint64_t>(i));
    EXPECT_FALSE(sent.send_message().duplicate());
  }
  for (int i = 1; i <= 3; ++i) {
    auto got = mentor.event_where([](const v1::Event& e) { return e.has_message_posted(); });
    ASSERT_TRUE(got);
    EXPECT_EQ(got->message_posted().message().seq(), static_cast<uint64_t>(i));
    EXPECT_EQ(got->message_posted().message().body(), "question " + std::to_string(i));
    EXPECT_EQ(got->message_posted().message().sender_id(), mentee.id());
  }
  auto reply = mentor.send(conv, "Happy to help.");
  ASSERT_TRUE(reply.has_send_message());
  EXPECT_EQ(reply.send_message().message().seq(), 4u);
  auto heard = mentee.event_where(
      [](const v1::Event& e) { return e.has_message_posted() && e.message_posted().message().seq() == 4; });
  ASSERT_TRUE(heard);
  EXPECT_EQ(heard->message_posted().message().body(), "Happy to help.");
}

TEST_F(Chat, DuplicateRequestAndCapacity) {
  start();
  User mentor(port(), server_->add_user("mentor.priya", v1::ROLE_MENTOR));
  User a(port(), server_->add_user("mentee.a", v1::ROLE_MENTEE));
  User b(port(), server_->add_user("mentee.b", v1::ROLE_MENTEE));

  v1::ClientFrame profile;
  auto* p = profile.mutable_update_mentor_profile()->mutable_profile();
  p->set_accepting_requests(true);
  p->set_capacity(1);
  p->add_purposes(v1::PURPOSE_CAREER);
  p->add_purposes(v1::PURPOSE_CLINICAL_SKILLS);
  ASSERT_TRUE(mentor.call(profile).has_update_mentor_profile());

  ASSERT_TRUE(has_mentorship(a.call(request_frame(mentor.id(), v1::PURPOSE_CAREER))));
  auto dup = a.call(request_frame(mentor.id(), v1::PURPOSE_CAREER));
  EXPECT_EQ(code_of(dup), v1::ERROR_CODE_ALREADY_EXISTS) << dup.DebugString();
  // A second purpose with the same mentor is a different mentorship.
  auto second = a.call(request_frame(mentor.id(), v1::PURPOSE_CLINICAL_SKILLS));
  ASSERT_TRUE(has_mentorship(second));
  auto off_topic = a.call(request_frame(mentor.id(), v1::PURPOSE_WELLBEING));
  EXPECT_EQ(code_of(off_topic), v1::ERROR_CODE_FAILED_PRECONDITION);

  pair(b, mentor, v1::PURPOSE_CAREER);  // fills the capacity of 1
  auto full = a.call(request_frame(mentor.id(), v1::PURPOSE_RESEARCH));
  EXPECT_NE(code_of(full), v1::ERROR_CODE_UNSPECIFIED);
  auto accept_over = mentor.call(accept_frame(mentorship_of(second).id()));
  EXPECT_EQ(code_of(accept_over), v1::ERROR_CODE_FAILED_PRECONDITION);
  EXPECT_NE(accept_over.error().message().find("capacity"), std::string::npos);

  v1::ClientFrame list;
  list.mutable_list_mentors()->set_purpose(v1::PURPOSE_CAREER);
  auto directory = a.call(list);
  ASSERT_TRUE(directory.has_list_mentors());
  ASSERT_EQ(directory.list_mentors().mentors_size(), 1);
  EXPECT_EQ(directory.list_mentors().mentors(0).profile().active_mentorships(), 1u);
}

TEST_F(Chat, DeclineWithReferralLeadsToNewRequest) {
  start();
  User erik(port(), server_->add_user("mentor.erik", v1::ROLE_MENTOR));
  User priya(port(), server_->add_user("mentor.priya", v1::ROLE_MENTOR));
  User mentee(port(), server_->add_user("lucia", v1::ROLE_MENTEE));
  auto req = mentee.call(request_frame(erik.id(), v1::PURPOSE_CLINICAL_SKILLS));
  ASSERT_TRUE(has_mentorship(req));

  v1::ClientFrame decline;
  decline.mutable_decline_mentorship()->set_mentorship_id(mentorship_of(req).id());
  decline.mutable_decline_mentorship()->set_reason("My clinic schedule is full this term.");
  decline.mutable_decline_mentorship()->set_referred_mentor_id(priya.id());
  ASSERT_TRUE(has_mentorship(erik.call(decline)));

  auto told = mentee.event_where([](const v1::Event& e) {
    return e.has_mentorship_changed() && e.mentorship_changed().change() == v1::MENTORSHIP_CHANGE_DECLINED;
  });
  ASSERT_TRUE(told);
  const auto& declined = told->mentorship_changed().mentorship();
  EXPECT_EQ(declined.state(), v1::MENTORSHIP_STATE_DECLINED);
  EXPECT_EQ(declined.decline_reason(), "My clinic schedule is full this term.");
  ASSERT_EQ(declined.referred_mentor_id(), priya.id());

  // One step: request the referred colleague for the same purpose.
  auto again = mentee.call(request_frame(declined.referred_mentor_id(), declined.purpose()));
  ASSERT_TRUE(has_mentorship(again)) << again.DebugString();
  auto asked = priya.event_where([](const v1::Event& e) { return e.has_mentorship_changed(); });
  ASSERT_TRUE(asked);
  EXPECT_EQ(asked->mentorship_changed().mentorship().mentee_id(), mentee.id());
  // And the declined pair may be requested again later too (it is no longer open).
  EXPECT_TRUE(has_mentorship(mentee.call(request_frame(erik.id(), v1::PURPOSE_CLINICAL_SKILLS))));
}

TEST_F(Chat, DirectorAssignsAndSeesEngagementNotBodies) {
  start();
  User director(port(), server_->add_user("director.okafor", v1::ROLE_PROGRAM_DIRECTOR));
  User mentor(port(), server_->add_user("mentor.erik", v1::ROLE_MENTOR));
  User mentee(port(), server_->add_user("tomas", v1::ROLE_MENTEE));

  v1::ClientFrame assign;
  assign.mutable_assign_mentorship()->set_mentor_id(mentor.id());
  assign.mutable_assign_mentorship()->set_mentee_id(mentee.id());
  assign.mutable_assign_mentorship()->set_purpose(v1::PURPOSE_WELLBEING);
  EXPECT_EQ(code_of(mentor.call(assign)), v1::ERROR_CODE_PERMISSION_DENIED);
  auto assigned = director.call(assign);
  ASSERT_TRUE(has_mentorship(assigned)) << assigned.DebugString();
  const auto& m = mentorship_of(assigned);
  EXPECT_EQ(m.state(), v1::MENTORSHIP_STATE_ACTIVE);
  EXPECT_EQ(m.assigned_by(), director.id());
  ASSERT_TRUE(mentee.send(m.conversation_id(), "The secret about my rotation").has_send_message());
  ASSERT_TRUE(mentor.send(m.conversation_id(), "Let us talk").has_send_message());

  v1::ClientFrame list;
  list.mutable_list_mentorships();
  auto seen = director.call(list);
  ASSERT_TRUE(seen.has_list_mentorships());
  ASSERT_EQ(seen.list_mentorships().mentorships_size(), 1);
  const auto& view = seen.list_mentorships().mentorships(0);
  EXPECT_EQ(view.engagement().message_count(), 2u);
  EXPECT_GT(view.engagement().last_contact_ms(), 0);
  EXPECT_EQ(seen.SerializeAsString().find("secret"), std::string::npos);
  EXPECT_EQ(code_of(director.history(m.conversation_id())), v1::ERROR_CODE_PERMISSION_DENIED);
}

TEST_F(Chat, EndedMentorshipIsReadOnlyAndTheReasonStaysPrivate) {
  start();
  User mentor(port(), server_->add_user("mentor.erik", v1::ROLE_MENTOR));
  User mentee(port(), server_->add_user("wei", v1::ROLE_MENTEE));
  auto m = pair(mentee, mentor);
  ASSERT_TRUE(mentee.send(m.conversation_id(), "Thanks for everything").has_send_message());

  v1::ClientFrame end;
  end.mutable_end_mentorship()->set_mentorship_id(m.id());
  end.mutable_end_mentorship()->set_private_reason("We never clicked personally");
  auto ended = mentor.call(end);
  ASSERT_TRUE(has_mentorship(ended));
  EXPECT_EQ(mentorship_of(ended).state(), v1::MENTORSHIP_STATE_ENDED);

  auto told = mentee.event_where([](const v1::Event& e) {
    return e.has_mentorship_changed() && e.mentorship_changed().change() == v1::MENTORSHIP_CHANGE_ENDED;
  });
  ASSERT_TRUE(told);
  EXPECT_EQ(told->SerializeAsString().find("clicked"), std::string::npos);
  v1::ClientFrame list;
  list.mutable_list_mentorships();
  EXPECT_EQ(mentee.call(list).SerializeAsString().find("clicked"), std::string::npos);

  auto refused = mentee.send(m.conversation_id(), "One more thing");
  EXPECT_EQ(code_of(refused), v1::ERROR_CODE_FAILED_PRECONDITION);
  EXPECT_NE(refused.error().message().find("read-only"), std::string::npos);
  auto hist = mentee.history(m.conversation_id());
  ASSERT_TRUE(hist.has_history());
  ASSERT_EQ(hist.history().messages_size(), 1);
  EXPECT_EQ(hist.history().messages(0).body(), "Thanks for everything");
}

TEST_F(Chat, RetryWithSameClientIdMakesNoDuplicateEvenAfterRestart) {
  start();
  const v1::User mentor_u = server_->add_user("mentor.erik", v1::ROLE_MENTOR);
  const v1::User mentee_u = server_->add_user("wei", v1::ROLE_MENTEE);
  uint64_t conv;
  std::string token;
  {
    User mentor(port(), mentor_u);
    User mentee(port(), mentee_u);
    conv = pair(mentee, mentor).conversation_id();
    token = mentee.token();
    auto first = mentee.send(conv, "draft CV attached", "outbox-42");
    auto retry = mentee.send(conv, "draft CV attached", "outbox-42");
    ASSERT_TRUE(first.has_send_message() && retry.has_send_message());
    EXPECT_EQ(retry.send_message().message().seq(), first.send_message().message().seq());
    EXPECT_TRUE(retry.send_message().duplicate());
  }
  server_.reset();
  start();
  User mentee(port(), mentee_u, token);
  auto after_restart = mentee.send(conv, "draft CV attached", "outbox-42");
  ASSERT_TRUE(after_restart.has_send_message()) << after_restart.DebugString();
  EXPECT_TRUE(after_restart.send_message().duplicate());
  EXPECT_EQ(after_restart.send_message().message().seq(), 1u);
  auto next = mentee.send(conv, "and the cover letter", "outbox-43");
  EXPECT_EQ(next.send_message().message().seq(), 2u);
  auto hist = mentee.history(conv);
  ASSERT_EQ(hist.history().messages_size(), 2);
}

// What one account keeps stored is bounded (--user-quota-mb): past it a
// message is refused with a sentence that says what to do, the counterpart
// is not affected, deleting gives room back, and the count survives a restart.
TEST_F(Chat, StoredTextIsBoundedPerAccountAndDeletingGivesRoomBack) {
  start(nullptr, nullptr, /*user_quota_mb=*/1);
  const v1::User mentor_u = server_->add_user("mentor.erik", v1::ROLE_MENTOR);
  const v1::User mentee_u = server_->add_user("wei", v1::ROLE_MENTEE);
  const std::string page(16 * 1024, 'p');
  uint64_t conv = 0;
  std::string mentee_token, mentor_token;
  {
    User mentor(port(), mentor_u);
    User mentee(port(), mentee_u);
    conv = pair(mentee, mentor).conversation_id();
    mentee_token = mentee.token();
    mentor_token = mentor.token();
    // 63 full pages and one 4 bytes short: 4 bytes under 1 MiB.
    for (int i = 1; i <= 64; ++i) {
      auto r = mentee.send(conv, i < 64 ? page : page.substr(4));
      ASSERT_TRUE(r.has_send_message()) << i << ": " << r.error().DebugString();
    }
    auto refused = mentee.send(conv, "one more line");
    ASSERT_EQ(code_of(refused), v1::ERROR_CODE_RESOURCE_EXHAUSTED) << refused.DebugString();
    EXPECT_NE(refused.error().message().find("Delete messages you no longer need"), std::string::npos)
        << refused.error().message();
    EXPECT_EQ(mentor.history(conv, 1).history().messages(0).seq(), 64u)
        << "nothing of the refused one stored";
    EXPECT_TRUE(mentor.send(conv, "Your quota is yours; mine is mine.").has_send_message());

    // Edits count their new length: growing to exactly the limit passes, a
    // shrinking one gives room back.
    auto edit = [&](uint64_t seq, const std::string& body) {
      v1::ClientFrame f;
      f.mutable_edit_message()->set_conversation_id(conv);
      f.mutable_edit_message()->set_seq(seq);
      f.mutable_edit_message()->set_body(body);
      return mentee.call(f);
    };
    EXPECT_TRUE(edit(64, page).has_edit_message());
    EXPECT_EQ(code_of(mentee.send(conv, "x")), v1::ERROR_CODE_RESOURCE_EXHAUSTED);
    EXPECT_TRUE(edit(2, "short now").has_edit_message());
    EXPECT_TRUE(mentee.send(conv, "x").has_send_message());
    EXPECT_EQ(code_of(mentee.send(conv, page)), v1::ERROR_CODE_RESOURCE_EXHAUSTED);

    v1::ClientFrame del;
    del.mutable_delete_message()->set_conversation_id(conv);
    del.mutable_delete_message()->set_seq(1);
    ASSERT_TRUE(mentee.call(del).has_delete_message());
    EXPECT_TRUE(mentee.send(conv, "room again").has_send_message());
  }
  server_.reset();
  start(nullptr, nullptr, /*user_quota_mb=*/1);
  User mentee(port(), mentee_u, mentee_token);
  // About 32 KiB are free: one page fits, a second does not.
  auto fits = mentee.send(conv, page, "after-restart-1");
  ASSERT_TRUE(fits.has_send_message()) << fits.DebugString();
  EXPECT_FALSE(fits.send_message().duplicate());
  EXPECT_EQ(code_of(mentee.send(conv, page, "after-restart-2")), v1::ERROR_CODE_RESOURCE_EXHAUSTED)
      << "the count was forgotten at restart";
}

TEST_F(Chat, HistoryPagesBothWaysWithGapFreeSeqs) {
  start();
  User mentor(port(), server_->add_user("mentor.erik", v1::ROLE_MENTOR));
  User mentee(port(), server_->add_user("wei", v1::ROLE_MENTEE));
  const uint64_t conv = pair(mentee, mentor).conversation_id();
  for (int i = 1; i <= 25; ++i)
    ASSERT_TRUE((i % 2 ? mentee : mentor).send(conv, "m" + std::to_string(i)).has_send_message());

  std::vector<uint64_t> seen;
  uint64_t before = 0;
  for (;;) {
    auto page = mentor.history(conv, 10, before);
    ASSERT_TRUE(page.has_history());
    for (const auto& m : page.history().messages()) seen.push_back(m.seq());
    if (!page.history().has_more()) break;
    before = page.history().messages(page.history().messages_size() - 1).seq();
  }
  ASSERT_EQ(seen.size(), 25u);
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], 25 - i);  // newest first, no gaps

  auto forward = mentor.history(conv, 10, 0, 20);
  ASSERT_EQ(forward.history().messages_size(), 5);
  EXPECT_EQ(forward.history().messages(0).seq(), 21u);
  EXPECT_FALSE(forward.history().has_more());
  EXPECT_EQ(code_of(mentor.history(conv, 500)), v1::ERROR_CODE_INVALID_ARGUMENT);
}

TEST_F(Chat, SyncReturnsEverythingSinceAPositionAndDetectsAReplacedStore) {
  start();
  User mentor(port(), server_->add_user("mentor.erik", v1::ROLE_MENTOR));
  User mentee(port(), server_->add_user("wei", v1::ROLE_MENTEE));
  const uint64_t conv = pair(mentee, mentor).conversation_id();
  auto first = mentor.sync(0, 0);
  ASSERT_TRUE(first.has_sync());
  const uint64_t store_id = first.sync().next().store_id();
  const uint64_t mark = first.sync().next().position();
  EXPECT_NE(store_id, 0u);
  EXPECT_FALSE(first.sync().store_changed());

  for (int i = 1; i <= 7; ++i)
    ASSERT_TRUE(mentee.send(conv, "while you were away " + std::to_string(i)).has_send_message());
  std::vector<uint64_t> seqs;
  uint64_t position = mark;
  for (;;) {
    auto page = mentor.sync(store_id, position, 3);
    ASSERT_TRUE(page.has_sync());
    uint64_t last = position;
    for (const auto& e : page.sync().events()) {
      EXPECT_GT(e.position(), last);  // in order
      last = e.position();
      if (e.has_message_posted()) seqs.push_back(e.message_posted().message().seq());
    }
    position = page.sync().next().position();
    if (!page.sync().has_more()) break;
  }
  EXPECT_EQ(seqs, (std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7}));

  auto replaced = mentor.sync(store_id ^ 0x5555, position);
  ASSERT_TRUE(replaced.has_sync());
  EXPECT_TRUE(replaced.sync().store_changed());
  EXPECT_EQ(replaced.sync().next().store_id(), store_id);
}

TEST_F(Chat, ReadMarkersReachOtherDevicesAndUnreadCounts) {
  start();
  const v1::User mentor_u = server_->add_user("mentor.erik", v1::ROLE_MENTOR);
  User mentor(port(), mentor_u);
  User mentor_phone(port(), mentor_u, mentor.token());
  User mentee(port(), server_->add_user("wei", v1::ROLE_MENTEE));
  const uint64_t conv = pair(mentee, mentor).conversation_id();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(mentee.send(conv, "note").has_send_message());

  v1::ClientFrame list;
  list.mutable_list_conversations();
  auto before = mentor.call(list);
  ASSERT_EQ(before.list_conversations().conversations_size(), 1);
  EXPECT_EQ(before.list_conversations().conversations(0).unread(), 4u);
  EXPECT_EQ(mentee.call(list).list_conversations().conversations(0).unread(), 0u);  // own messages are read

  v1::ClientFrame mark;
  mark.mutable_mark_read()->set_conversation_id(conv);
  mark.mutable_mark_read()->set_seq(3);
  ASSERT_EQ(mentor.call(mark).mark_read().read_seq(), 3u);
  auto synced = mentor_phone.event_where([](const v1::Event& e) { return e.has_read_marker(); });
  ASSERT_TRUE(synced);
  EXPECT_EQ(synced->read_marker().read_seq(), 3u);
  EXPECT_EQ(mentor_phone.call(list).list_conversations().conversations(0).unread(), 1u);
  mark.mutable_mark_read()->set_seq(99);
  EXPECT_EQ(code_of(mentor.call(mark)), v1::ERROR_CODE_INVALID_ARGUMENT);
}

// The sending connection gets its message in the reply, not again as an
// event; the sender's other device and the counterpart get the event. With
// both members sending without waiting, the sending connection still sees
// replies and events strictly in position order.
TEST_F(Chat, TheSendingConnectionGetsItsMessageInTheReplyInPositionOrder) {
  start();
  const v1::User mentee_u = server_->add_user("wei", v1::ROLE_MENTEE);
  User mentee(port(), mentee_u);
  User mentee_tablet(port(), mentee_u, mentee.token());
  User mentor(port(), server_->add_user("mentor.erik", v1::ROLE_MENTOR));
  const uint64_t conv = pair(mentee, mentor).conversation_id();

  constexpr int kEach = 60;
  auto send_frame = [conv](int i, const std::string& who) {
    v1::ClientFrame f;
    f.mutable_send_message()->set_conversation_id(conv);
    f.mutable_send_message()->set_body(who + " " + std::to_string(i));
    f.mutable_send_message()->set_client_message_id(who + "-" + std::to_string(i));
    return f;
  };
  // Both pipeline all their messages, so groups mix the two senders.
  std::thread mentor_sends([&] {
    for (int i = 0; i < kEach; ++i) {
      v1::ClientFrame f = send_frame(i, "mentor");
      f.set_request_id(mentor.client().next_request_id());
      ASSERT_TRUE(mentor.client().send(f));
    }
  });
  for (int i = 0; i < kEach; ++i) {
    v1::ClientFrame f = send_frame(i, "mentee");
    f.set_request_id(mentee.client().next_request_id());
    ASSERT_TRUE(mentee.client().send(f));
  }
  mentor_sends.join();

  // On the sending connection: kEach replies carrying the mentee's messages,
  // kEach events carrying the mentor's, all in position order.
  std::vector<uint64_t> positions;
  int replies = 0, own_events = 0, their_events = 0;
  while (replies < kEach || their_events < kEach) {
    Received got = mentee.client().receive(5s);
    ASSERT_EQ(got.kind, Received::Kind::kFrame)
        << "after " << replies << " replies and " << their_events << " events";
    if (got.frame.has_reply()) {
      const v1::Response& r = got.frame.reply();
      ASSERT_TRUE(r.has_send_message()) << r.DebugString();
      EXPECT_EQ(r.send_message().message().sender_id(), mentee.id());
      positions.push_back(r.send_message().message().position());
      ++replies;
    } else if (got.frame.event().has_message_posted()) {
      const v1::Message& m = got.frame.event().message_posted().message();
      EXPECT_EQ(m.position(), got.frame.event().position());
      positions.push_back(got.frame.event().position());
      ++(m.sender_id() == mentee.id() ? own_events : their_events);
    }
  }
  EXPECT_EQ(own_events, 0) << "the reply already carried those";
  EXPECT_TRUE(std::is_sorted(positions.begin(), positions.end()));
  EXPECT_EQ(std::set<uint64_t>(positions.begin(), positions.end()).size(), positions.size());
  EXPECT_EQ(mentee.client().receive(300ms).kind, Received::Kind::kTimeout)
      << "nothing more for the sending connection";

  // The mentee's tablet gets all 2 * kEach as events, in seq order.
  for (int seen = 0; seen < 2 * kEach; ++seen) {
    auto e = mentee_tablet.event_where([](const v1::Event& ev) { return ev.has_message_posted(); });
    ASSERT_TRUE(e) << "the tablet saw " << seen;
    EXPECT_EQ(e->message_posted().message().seq(), static_cast<uint64_t>(seen + 1));
  }
  // The mentor, a sending connection too, gets the mentee's kEach as events.
  uint64_t last_seq = 0;
  for (int seen = 0; seen < kEach; ++seen) {
    auto e = mentor.event_where([](const v1::Event& ev) { return ev.has_message_posted(); });
    ASSERT_TRUE(e) << "the mentor saw " << seen;
    EXPECT_EQ(e->message_posted().message().sender_id(), mentee.id());
    EXPECT_GT(e->message_posted().message().seq(), last_seq);
    last_seq = e->message_posted().message().seq();
  }
  EXPECT_FALSE(mentor.event_where([](const v1::Event& ev) { return ev.has_message_posted(); }, 300ms));
}

TEST_F(Chat, EditAndDeleteShowInHistory) {
  start();
  User mentor(port(), server_->add_user("mentor.erik", v1::ROLE_MENTOR));
  User mentee(port(), server_->add_user("wei", v1::ROLE_MENTEE));
  const uint64_t conv = pair(mentee, mentor).conversation_id();
  ASSERT_TRUE(mentee.send(conv, "teh plan").has_send_message());
  ASSERT_TRUE(mentee.send(conv, "oops, wrong chat").has_send_message());
  v1::ClientFrame edit;
  edit.mutable_edit_message()->set_conversation_id(conv);
  edit.mutable_edit_message()->set_seq(1);
  edit.mutable_edit_message()->set_body("the plan");
  ASSERT_TRUE(mentee.call(edit).has_edit_message());
  EXPECT_EQ(code_of(mentor.call(edit)), v1::ERROR_CODE_PERMISSION_DENIED);
  v1::ClientFrame del;
  del.mutable_delete_message()->set_conversation_id(conv);
  del.mutable_delete_message()->set_seq(2);
  ASSERT_TRUE(mentee.call(del).has_delete_message());

  auto hist = mentor.history(conv);
  ASSERT_EQ(hist.history().messages_size(), 2);
  const auto& deleted = hist.history().messages(0);
  const auto& edited = hist.history().messages(1);
  EXPECT_TRUE(deleted.deleted());
  EXPECT_EQ(deleted.body(), "");
  EXPECT_EQ(edited.body(), "the plan");
  EXPECT_GT(edited.edited_at_ms(), 0);
  auto ev = mentor.event_where([](const v1::Event& e) { return e.has_message_deleted(); });
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->message_deleted().seq(), 2u);
}

TEST_F(Chat, CheckInDueFiresAfterTheCadenceWithAFakeClock) {
  ManualClock& clock = clock_;
  start(&clock);
  User mentor(port(), server_->add_user("mentor.erik", v1::ROLE_MENTOR));
  User mentee(port(), server_->add_user("wei", v1::ROLE_MENTEE));
  auto m = pair(mentee, mentor);
  v1::ClientFrame propose;
  propose.mutable_propose_agreement()->set_mentorship_id(m.id());
  propose.mutable_propose_agreement()->set_cadence(v1::CADENCE_WEEKLY);
  propose.mutable_propose_agreement()->add_channels(v1::CHANNEL_CHAT);
  ASSERT_TRUE(has_mentorship(mentee.call(propose)));
  v1::ClientFrame accept;
  accept.mutable_accept_agreement()->set_mentorship_id(m.id());
  EXPECT_EQ(code_of(mentee.call(accept)), v1::ERROR_CODE_FAILED_PRECONDITION);  // not one's own proposal
  auto agreed = mentor.call(accept);
  ASSERT_TRUE(has_mentorship(agreed));
  EXPECT_EQ(mentorship_of(agreed).agreement().cadence(), v1::CADENCE_WEEKLY);

  auto is_due = [](const v1::Event& e) { return e.has_checkin_due(); };
  clock.advance_ms(6LL * 24 * 3600 * 1000);
  server_->server().run_scheduler_once();
  v1::ClientFrame check_in;
  auto* s = check_in.mutable_send_message();
  s->set_conversation_id(m.conversation_id());
  s->set_client_message_id("checkin-1");
  s->mutable_check_in()->set_status(v1::CHECK_IN_STATUS_NEED_HELP);
  s->mutable_check_in()->set_note("Stuck on the stats section");
  ASSERT_TRUE(mentee.call(check_in).has_send_message());  // contact resets the cadence

  clock.advance_ms(6LL * 24 * 3600 * 1000);  // 6 days after the check-in: not due yet
  server_->server().run_scheduler_once();
  clock.advance_ms(2LL * 24 * 3600 * 1000);  // 8 days: due
  server_->server().run_scheduler_once();
  server_->server().run_scheduler_once();  // running again does not repeat it
  auto due_mentor = mentor.event_where(is_due);
  auto due_mentee = mentee.event_where(is_due);
  ASSERT_TRUE(due_mentor && due_mentee);
  EXPECT_EQ(due_mentor->checkin_due().conversation_id(), m.conversation_id());
  EXPECT_FALSE(mentor.event_where(is_due, 300ms));

  v1::ClientFrame list;
  list.mutable_list_mentorships();
  auto view = mentor.call(list).list_mentorships().mentorships(0);
  EXPECT_TRUE(view.engagement().checkin_overdue());
  EXPECT_EQ(view.engagement().checkin_count(), 1u);
}

// The server's nudges wait while a member is in their quiet hours (e.g.
// after a night shift), and come when the quiet hours end.
TEST_F(Chat, CheckInDueWaitsForTheEndOfAMembersQuietHours) {
  ManualClock& clock = clock_;
  start(&clock);
  User mentor(port(), server_->add_user("mentor.erik", v1::ROLE_MENTOR));
  User mentee(port(), server_->add_user("wei", v1::ROLE_MENTEE));
  auto m = pair(mentee, mentor);
  v1::ClientFrame propose;
  propose.mutable_propose_agreement()->set_mentorship_id(m.id());
  propose.mutable_propose_agreement()->set_cadence(v1::CADENCE_WEEKLY);
  ASSERT_TRUE(has_mentorship(mentee.call(propose)));
  v1::ClientFrame accept;
  accept.mutable_accept_agreement()->set_mentorship_id(m.id());
  ASSERT_TRUE(has_mentorship(mentor.call(accept)));

  // A week and ten minutes on the check-in is due (the scheduler runs
  // then); the mentee's quiet hours (UTC) run from 30 minutes before then to
  // an hour after.
  const int64_t due_at = clock.now_ms() + 7LL * 24 * 3600 * 1000 + 10 * 60'000;
  const int64_t minute_of_day = (due_at / 60'000) % 1440;
  v1::ClientFrame prefs;
  auto* quiet = prefs.mutable_set_meeting_preferences()->mutable_preferences()->mutable_quiet_hours();
  quiet->set_time_zone("UTC");
  quiet->mutable_window()->set_start_minute(static_cast<uint32_t>((minute_of_day + 1440 - 30) % 1440));
  quiet->mutable_window()->set_end_minute(static_cast<uint32_t>((minute_of_day + 60) % 1440));
  ASSERT_TRUE(mentee.call(prefs).has_set_meeting_preferences());

  auto is_due = [](const v1::Event& e) { return e.has_checkin_due(); };
  clock.set_ms(due_at);
  server_->server().run_scheduler_once();
  EXPECT_FALSE(mentor.event_where(is_due, 300ms)) << "held for the mentee's quiet hours";
  EXPECT_FALSE(mentee.event_where(is_due, 300ms));
  clock.advance_ms(61LL * 60'000);  // past their end
  server_->server().run_scheduler_once();
  EXPECT_TRUE(mentor.event_where(is_due));
  EXPECT_TRUE(mentee.event_where(is_due));
}

TEST_F(Chat, UnansweredRequestIsRemindedAt7DaysAndExpiresAt14) {
  ManualClock& clock = clock_;
  start(&clock);
  User mentor(port(), server_->add_user("mentor.erik", v1::ROLE_MENTOR));
  User mentee(port(), server_->add_user("wei", v1::ROLE_MENTEE));
  auto req = mentee.call(request_frame(mentor.id(), v1::PURPOSE_CAREER));
  ASSERT_TRUE(has_mentorship(req));
  auto change = [](v1::MentorshipChange c) {
    return [c](const v1::Event& e) {
      return e.has_mentorship_changed() && e.mentorship_changed().change() == c;
    };
  };
  clock.advance_ms(7LL * 24 * 3600 * 1000 + 1);
  server_->server().run_scheduler_once();
  EXPECT_TRUE(mentor.event_where(change(v1::MENTORSHIP_CHANGE_REMINDER)));
  clock.advance_ms(7LL * 24 * 3600 * 1000);
  server_->server().run_scheduler_once();
  auto expired = mentee.event_where(change(v1::MENTORSHIP_CHANGE_EXPIRED));
  ASSERT_TRUE(expired);
  EXPECT_EQ(expired->mentorship_changed().mentorship().state(), v1::MENTORSHIP_STATE_EXPIRED);
  EXPECT_EQ(code_of(mentor.call(accept_frame(mentorship_of(req).id()))), v1::ERROR_CODE_FAILED_PRECONDITION);
}

TEST_F(Chat, TypingAndPresenceAreLiveForTheCounterpart) {
  start();
  const v1::User mentee_u = server_->add_user("wei", v1::ROLE_MENTEE);
  User mentor(port(), server_->add_user("mentor.erik", v1::ROLE_MENTOR));
  uint64_t conv;
  {
    User mentee(port(), mentee_u);
    conv = pair(mentee, mentor).conversation_id();
    v1::ClientFrame typing;
    typing.mutable_set_typing()->set_conversation_id(conv);
    typing.mutable_set_typing()->set_typing(true);
    ASSERT_TRUE(mentee.call(typing).has_set_typing());
    EXPECT_EQ(code_of(mentee.call(typing)), v1::ERROR_CODE_RESOURCE_EXHAUSTED);  // once a second
    auto seen = mentor.event_where([](const v1::Event& e) { return e.has_typing(); });
    ASSERT_TRUE(seen);
    EXPECT_EQ(seen->position(), 0u);  // live only
    EXPECT_EQ(seen->typing().user_id(), mentee_u.id());
  }
  auto offline =
      mentor.event_where([&](const v1::Event& e) { return e.has_presence() && !e.presence().online(); });
  ASSERT_TRUE(offline);
  EXPECT_EQ(offline->presence().user_id(), mentee_u.id());
  User back(port(), mentee_u);
  EXPECT_TRUE(
      mentor.event_where([&](const v1::Event& e) { return e.has_presence() && e.presence().online(); }));
  // Nothing live is stored.
  auto all = mentor.sync(0, 0, 1000);
  for (const auto& e : all.sync().events()) EXPECT_FALSE(e.has_typing() || e.has_presence());
}

// Every live event a client can cause is limited, whatever the value it
// carries: alternating typing true/false does not re-arm the limit.
TEST_F(Chat, AlternatingTypingStillHitsTheLimit) {
  start(nullptr, &frozen_);  // no time passes: no token comes back
  User mentor(port(), server_->add_user("mentor.erik", v1::ROLE_MENTOR));
  User mentee(port(), server_->add_user("wei", v1::ROLE_MENTEE));
  const uint64_t conv = pair(mentee, mentor).conversation_id();
  auto typing = [&](bool on) {
    v1::ClientFrame f;
    f.mutable_set_typing()->set_conversation_id(conv);
    f.mutable_set_typing()->set_typing(on);
    return mentee.call(f);
  };
  ASSERT_TRUE(typing(true).has_set_typing());
  ASSERT_TRUE(typing(false).has_set_typing());  // withdrawing what was shown always passes
  int refused = 0;
  for (int i = 0; i < 10; ++i) {
    auto on = typing(true);
    if (!on.has_set_typing()) {
      EXPECT_EQ(code_of(on), v1::ERROR_CODE_RESOURCE_EXHAUSTED) << on.DebugString();
      ++refused;
    }
    EXPECT_TRUE(typing(false).has_set_typing());  // nothing shown: answered, nothing sent
  }
  EXPECT_EQ(refused, 10);
  // The counterpart saw one "typing" and one "stopped", nothing more.
  ASSERT_TRUE(mentor.client().ping().has_ping());  // every event before it has arrived
  int seen = 0;
  while (auto e = mentor.client().next_event(0ms)) seen += e->has_typing() ? 1 : 0;
  EXPECT_EQ(seen, 2);
}

// Connecting and disconnecting in a loop does not flood the counterparts
// with presence changes; the latest state still reaches them.
TEST_F(Chat, PresenceChangesAreLimitedAndTheLastOneStillArrives) {
  start(nullptr, &frozen_);
  const v1::User mentee_u = server_->add_user("wei", v1::ROLE_MENTEE);
  User mentor(port(), server_->add_user("mentor.erik", v1::ROLE_MENTOR));
  {
    User mentee(port(), mentee_u);
    pair(mentee, mentor);
  }
  ASSERT_TRUE(connections_settle_at(1));
  for (int i = 0; i < 20; ++i) {
    {
      User mentee(port(), mentee_u);
      ASSERT_TRUE(mentee.client().ping().has_ping());
      mentee.client().drop();
    }
    ASSERT_TRUE(connections_settle_at(1)) << "cycle " << i;
  }
  ASSERT_TRUE(mentor.client().ping().has_ping());
  std::vector<bool> changes;
  while (auto e = mentor.client().next_event(0ms)) {
    if (e->has_presence()) changes.push_back(e->presence().online());
  }
  EXPECT_LE(changes.size(), 10u);  // not 42
  // Time passes; the timed work tells the counterparts the state that was held back.
  frozen_.advance_ms(60'000);
  server_->server().run_scheduler_once();
  auto last = mentor.event_where([](const v1::Event& e) { return e.has_presence(); });
  ASSERT_TRUE(last);
  EXPECT_FALSE(last->presence().online());
  EXPECT_EQ(last->presence().user_id(), mentee_u.id());
}

// Fields of a reply that carry what the members wrote (or keep private).
// Program directors and admins get none of them.
const std::set<std::string> kContentFields = {
    "request_note", "decline_reason", "body", "check_in", "note", "private_reason", "end_reason_private"};

// Appends to `found` the path of every content field set anywhere in `m`,
// and of every message carrying unknown fields.
void find_content(const google::protobuf::Message& m, const std::string& path,
                  std::vector<std::string>& found) {
  const auto* reflection = m.GetReflection();
  if (!reflection->GetUnknownFields(m).empty()) found.push_back(path + " (unknown fields)");
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(m, &fields);
  for (const auto* f : fields) {
    const std::string here = path + "." + f->name();
    if (kContentFields.contains(f->name())) found.push_back(here);
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (f->is_repeated()) {
      for (int i = 0; i < reflection->FieldSize(m, f); ++i)
        find_content(reflection->GetRepeatedMessage(m, f, i), here + "[" + std::to_string(i) + "]", found);
    } else {
      find_content(reflection->GetMessage(m, f), here, found);
    }
  }
}

// Every reply a program director (or an admin) can get carries engagement,
// never content: walked field by field, in every state a mentorship can be in.
TEST_F(Chat, EveryReplyToADirectorCarriesNoContent) {
  start();
  User director(port(), server_->add_user("director.okafor", v1::ROLE_PROGRAM_DIRECTOR));
  User admin(port(), server_->add_user("admin.root", v1::ROLE_ADMIN));
  User mentor(port(), server_->add_user("mentor.erik", v1::ROLE_MENTOR));
  User asking(port(), server_->add_user("asking", v1::ROLE_MENTEE));
  User declined(port(), server_->add_user("declined", v1::ROLE_MENTEE));
  User active(port(), server_->add_user("active", v1::ROLE_MENTEE));
  User ended(port(), server_->add_user("ended", v1::ROLE_MENTEE));
  User assigned(port(), server_->add_user("assigned", v1::ROLE_MENTEE));

  v1::ClientFrame profile;
  auto* p = profile.mutable_update_mentor_profile()->mutable_profile();
  p->set_accepting_requests(true);
  p->set_capacity(10);
  p->add_purposes(v1::PURPOSE_CAREER);
  ASSERT_TRUE(mentor.call(profile).has_update_mentor_profile());
  ASSERT_TRUE(has_mentorship(asking.call(request_frame(mentor.id(), v1::PURPOSE_CAREER, "note-SECRET"))));
  auto req = declined.call(request_frame(mentor.id(), v1::PURPOSE_CAREER, "note-SECRET"));
  ASSERT_TRUE(has_mentorship(req));
  v1::ClientFrame decline;
  decline.mutable_decline_mentorship()->set_mentorship_id(mentorship_of(req).id());
  decline.mutable_decline_mentorship()->set_reason("reason-SECRET");
  ASSERT_TRUE(has_mentorship(mentor.call(decline)));
  auto a = pair(active, mentor);
  ASSERT_TRUE(active.send(a.conversation_id(), "body-SECRET").has_send_message());
  v1::ClientFrame checkin;
  checkin.mutable_send_message()->set_conversation_id(a.conversation_id());
  checkin.mutable_send_message()->set_client_message_id("checkin-1");
  checkin.mutable_send_message()->mutable_check_in()->set_status(v1::CHECK_IN_STATUS_NEED_HELP);
  checkin.mutable_send_message()->mutable_check_in()->set_note("checkin-SECRET");
  ASSERT_TRUE(active.call(checkin).has_send_message());
  v1::ClientFrame propose;
  propose.mutable_propose_agreement()->set_mentorship_id(a.id());
  propose.mutable_propose_agreement()->set_cadence(v1::CADENCE_WEEKLY);
  propose.mutable_propose_agreement()->add_channels(v1::CHANNEL_VIDEO);
  ASSERT_TRUE(has_mentorship(active.call(propose)));
  auto e = pair(ended, mentor);
  v1::ClientFrame end;
  end.mutable_end_mentorship()->set_mentorship_id(e.id());
  end.mutable_end_mentorship()->set_private_reason("private-SECRET");
  ASSERT_TRUE(has_mentorship(ended.call(end)));

  for (User* overseer : {&director, &admin}) {
    std::vector<std::pair<std::string, v1::ClientFrame>> requests;
    auto add = [&](const std::string& name, auto fill) {
      v1::ClientFrame f;
      fill(f);
      requests.emplace_back(name, f);
    };
    add("list_mentorships", [](auto& f) { f.mutable_list_mentorships(); });
    add("list_mentors", [](auto& f) { f.mutable_list_mentors(); });
    add("list_conversations", [](auto& f) { f.mutable_list_conversations(); });
    add("sync", [](auto& f) { f.mutable_sync(); });
    add("who_am_i", [](auto& f) { f.mutable_who_am_i(); });
    add("assign", [&](auto& f) {
      f.mutable_assign_mentorship()->set_mentor_id(mentor.id());
      f.mutable_assign_mentorship()->set_mentee_id(assigned.id());
      f.mutable_assign_mentorship()->set_purpose(overseer == &director ? v1::PURPOSE_CAREER
                                                                       : v1::PURPOSE_RESEARCH);
    });
    for (const auto& [name, frame] : requests) {
      auto r = overseer->call(frame);
      ASSERT_FALSE(r.has_error()) << overseer->user().username() << " x " << name << ": " << r.DebugString();
      std::vector<std::string> found;
      find_content(r, name, found);
      EXPECT_TRUE(found.empty()) << overseer->user().username() << ": " << ::testing::PrintToString(found);
      EXPECT_EQ(r.SerializeAsString().find("SECRET"), std::string::npos) << name << ": " << r.DebugString();
    }
    // And the list still shows every mentorship with its engagement.
    v1::ClientFrame list;
    list.mutable_list_mentorships();
    auto seen = overseer->call(list);
    EXPECT_GE(seen.list_mentorships().mentorships_size(), 4);
  }
  // Every event that reached them carries no content either.
  for (User* overseer : {&director, &admin}) {
    ASSERT_TRUE(overseer->client().ping().has_ping());
    while (auto ev = overseer->client().next_event(0ms)) {
      std::vector<std::string> found;
      find_content(*ev, "event", found);
      EXPECT_TRUE(found.empty()) << ::testing::PrintToString(found);
    }
  }
}

// An id answers the same whether nobody has it, it is not a mentor's, or
// its mentor is hidden; and an outsider learns nothing from a referral.
TEST_F(Chat, MentorIdsRevealNothingToProbing) {
  start();
  User hidden(port(), server_->add_user("mentor.hidden", v1::ROLE_MENTOR));
  User mentor(port(), server_->add_user("mentor.priya", v1::ROLE_MENTOR));
  User mentee(port(), server_->add_user("lucia", v1::ROLE_MENTEE));
  User outsider(port(), server_->add_user("mentor.outsider", v1::ROLE_MENTOR));
  v1::ClientFrame hide;
  hide.mutable_update_mentor_profile()->mutable_profile()->set_accepting_requests(false);
  hide.mutable_update_mentor_profile()->mutable_profile()->set_capacity(3);
  hide.mutable_update_mentor_profile()->mutable_profile()->add_purposes(v1::PURPOSE_CAREER);
  ASSERT_TRUE(hidden.call(hide).has_update_mentor_profile());
  const uint64_t nobody = 999'999;

  // The same answer, with the id put back as "ID".
  auto shape = [](const v1::Response& r, uint64_t id) {
    std::string text = r.error().message();
    const std::string digits = std::to_string(id);
    for (size_t at; (at = text.find(digits)) != std::string::npos;) text.replace(at, digits.size(), "ID");
    return std::to_string(r.error().code()) + " " + text + " " + r.error().field();
  };
  // RequestMentorship: a hidden mentor, a mentee's id and no id answer alike, and name nobody.
  const auto expected = shape(mentee.call(request_frame(nobody, v1::PURPOSE_CAREER)), nobody);
  EXPECT_NE(expected.find(std::to_string(v1::ERROR_CODE_NOT_FOUND)), std::string::npos) << expected;
  for (uint64_t id : {hidden.id(), mentee.id(), outsider.id() + 1000}) {
    auto r = mentee.call(request_frame(id, v1::PURPOSE_CAREER));
    EXPECT_EQ(shape(r, id), expected) << id;
    EXPECT_EQ(r.error().message().find("hidden"), std::string::npos) << r.DebugString();
  }

  // DeclineMentorship by an outsider: the referral is never looked at.
  auto req = mentee.call(request_frame(mentor.id(), v1::PURPOSE_CAREER));
  ASSERT_TRUE(has_mentorship(req));
  const uint64_t mid = mentorship_of(req).id();
  for (uint64_t mentorship : {mid, uint64_t{777'777}}) {
    v1::ClientFrame plain;
    plain.mutable_decline_mentorship()->set_mentorship_id(mentorship);
    const auto outsiders_answer = outsider.call(plain);
    EXPECT_EQ(code_of(outsiders_answer), v1::ERROR_CODE_NOT_FOUND);
    for (uint64_t referred : {hidden.id(), mentor.id(), mentee.id(), nobody, outsider.id()}) {
      v1::ClientFrame probe = plain;
      probe.mutable_decline_mentorship()->set_referred_mentor_id(referred);
      auto r = outsider.call(probe);
      EXPECT_EQ(r.SerializeAsString(),
                [&] {
                  auto same = outsiders_answer;
                  same.set_request_id(r.request_id());
                  return same.SerializeAsString();
                }())
          << "mentorship " << mentorship << ", referral " << referred << ": " << r.DebugString();
    }
  }
  // The mentor's own referral: a hidden colleague, a mentee and no id answer alike.
  auto refer = [&](uint64_t referred) {
    v1::ClientFrame f;
    f.mutable_decline_mentorship()->set_mentorship_id(mid);
    f.mutable_decline_mentorship()->set_referred_mentor_id(referred);
    return mentor.call(f);
  };
  const auto refer_expected = shape(refer(nobody), nobody);
  EXPECT_NE(refer_expected.find(std::to_string(v1::ERROR_CODE_NOT_FOUND)), std::string::npos)
      << refer_expected;
  EXPECT_EQ(shape(refer(hidden.id()), hidden.id()), refer_expected);
  EXPECT_EQ(shape(refer(mentee.id()), mentee.id()), refer_expected);
  // A listed colleague is accepted.
  auto ok = refer(outsider.id());
  ASSERT_TRUE(has_mentorship(ok)) << ok.DebugString();
  EXPECT_EQ(mentorship_of(ok).referred_mentor_id(), outsider.id());
}

// Fields the server does not know never reach a stored record, and repeated
// fields are bounded and kept without repeats.
TEST_F(Chat, UnknownAndRepeatedFieldsNeverReachStoredRecords) {
  start();
  User mentor(port(), server_->add_user("mentor.erik", v1::ROLE_MENTOR));
  User mentee(port(), server_->add_user("wei", v1::ROLE_MENTEE));
  const std::string smuggled(20'000, 'x');  // past the 2000-byte bio limit, inside the frame limit
  auto smuggle = [&](google::protobuf::Message* m) {
    m->GetReflection()->MutableUnknownFields(m)->AddLengthDelimited(99, smuggled);
  };
  auto carries_unknown = [](const google::protobuf::Message& m) {
    std::vector<std::string> found;
    find_content(m, "", found);
    return std::any_of(found.begin(), found.end(),
                       [](const std::string& f) { return f.find("unknown") != std::string::npos; });
  };

  v1::ClientFrame profile;
  auto* p = profile.mutable_update_mentor_profile()->mutable_profile();
  p->set_accepting_requests(true);
  p->set_capacity(3);
  p->set_bio("Cardiology fellow.");
  for (int i = 0; i < 3; ++i) p->add_purposes(v1::PURPOSE_CAREER);
  p->add_purposes(v1::PURPOSE_RESEARCH);
  smuggle(p);
  smuggle(profile.mutable_update_mentor_profile());
  auto updated = mentor.call(profile);
  ASSERT_TRUE(updated.has_update_mentor_profile()) << updated.error().DebugString();
  EXPECT_FALSE(carries_unknown(updated));
  v1::ClientFrame list;
  list.mutable_list_mentors();
  auto directory = mentee.call(list);
  ASSERT_TRUE(directory.has_list_mentors());
  ASSERT_EQ(directory.list_mentors().mentors_size(), 1);
  const auto& listed = directory.list_mentors().mentors(0).profile();
  EXPECT_FALSE(carries_unknown(directory));
  EXPECT_LT(directory.ByteSizeLong(), 2000u);
  ASSERT_EQ(listed.purposes_size(), 2);  // each once, in the order given
  EXPECT_EQ(listed.purposes(0), v1::PURPOSE_CAREER);
  EXPECT_EQ(listed.purposes(1), v1::PURPOSE_RESEARCH);
  EXPECT_EQ(listed.bio(), "Cardiology fellow.");

  // More entries than there are purposes: refused, naming the limit.
  for (int i = 0; i < 6; ++i) p->add_purposes(v1::PURPOSE_OTHER);
  auto too_many = mentor.call(profile);
  EXPECT_EQ(code_of(too_many), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_NE(too_many.error().message().find("at most 5 purposes"), std::string::npos)
      << too_many.DebugString();

  // A check-in carries its status and note, nothing else.
  const auto m = pair(mentee, mentor);
  v1::ClientFrame checkin;
  auto* send = checkin.mutable_send_message();
  send->set_conversation_id(m.conversation_id());
  send->set_client_message_id("checkin-1");
  send->mutable_check_in()->set_status(v1::CHECK_IN_STATUS_ON_TRACK);
  send->mutable_check_in()->set_note("Passed the exam.");
  smuggle(send->mutable_check_in());
  smuggle(send);
  auto sent = mentee.call(checkin);
  ASSERT_TRUE(sent.has_send_message()) << sent.DebugString();
  EXPECT_FALSE(carries_unknown(sent));
  auto heard = mentor.event_where([](const v1::Event& e) { return e.has_message_posted(); });
  ASSERT_TRUE(heard);
  EXPECT_FALSE(carries_unknown(*heard));
  auto hist = mentor.history(m.conversation_id());
  ASSERT_EQ(hist.history().messages_size(), 1);
  EXPECT_FALSE(carries_unknown(hist));
  EXPECT_EQ(hist.history().messages(0).check_in().note(), "Passed the exam.");

  // Channels of an agreement: each once, at most four.
  v1::ClientFrame propose;
  propose.mutable_propose_agreement()->set_mentorship_id(m.id());
  propose.mutable_propose_agreement()->set_cadence(v1::CADENCE_WEEKLY);
  for (int i = 0; i < 3; ++i) propose.mutable_propose_agreement()->add_channels(v1::CHANNEL_VIDEO);
  propose.mutable_propose_agreement()->add_channels(v1::CHANNEL_CHAT);
  smuggle(propose.mutable_propose_agreement());
  auto proposed = mentee.call(propose);
  ASSERT_TRUE(has_mentorship(proposed)) << proposed.DebugString();
  EXPECT_FALSE(carries_unknown(proposed));
  const auto& channels = mentorship_of(proposed).proposed_agreement().channels();
  ASSERT_EQ(channels.size(), 2);
  EXPECT_EQ(channels[0], v1::CHANNEL_VIDEO);
  EXPECT_EQ(channels[1], v1::CHANNEL_CHAT);
  for (int i = 0; i < 2; ++i) propose.mutable_propose_agreement()->add_channels(v1::CHANNEL_PHONE);
  auto flood = mentee.call(propose);
  EXPECT_EQ(code_of(flood), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_NE(flood.error().message().find("at most 4 channels"), std::string::npos) << flood.DebugString();
}

// A counterpart's large check-ins never make a page bigger than a
// connection may have waiting (1 MiB): Sync and History come in pages
// bounded in bytes, and following them yields everything once.
TEST_F(Chat, PagesOfLargeCheckInsStayWithinTheOutboundLimit) {
  start();
  const v1::User mentor_u = server_->add_user("mentor.erik", v1::ROLE_MENTOR);
  User mentee(port(), server_->add_user("wei", v1::ROLE_MENTEE));
  uint64_t conv = 0;
  std::string token;
  {  // The mentor is away while the check-ins arrive, and then catches up.
    User mentor(port(), mentor_u);
    conv = pair(mentee, mentor).conversation_id();
    token = mentor.token();
  }
  constexpr int kCheckIns = 60;  // ~32 KiB each: ~2 MiB in all
  for (int i = 1; i <= kCheckIns; ++i) {
    v1::ClientFrame f;
    auto* send = f.mutable_send_message();
    send->set_conversation_id(conv);
    send->set_client_message_id("checkin-" + std::to_string(i));
    send->set_body(std::string(16 * 1024, 'b'));
    send->mutable_check_in()->set_status(v1::CHECK_IN_STATUS_ON_TRACK);
    send->mutable_check_in()->set_note(std::string(16 * 1024, 'n'));
    auto r = mentee.call(f);
    ASSERT_TRUE(r.has_send_message()) << i << ": " << r.error().DebugString();
  }
  constexpr size_t kOutboundLimit = 1024 * 1024;
  User mentor(port(), mentor_u, token);

  // Sync from the start, a page at a time, largest page asked for.
  std::vector<uint64_t> positions;
  std::set<uint64_t> seqs;
  v1::SyncPosition since;
  int pages = 0;
  for (bool more = true; more; ++pages) {
    ASSERT_LT(pages, 100);
    auto r = mentor.sync(since.store_id(), since.position(), 1000);
    ASSERT_TRUE(r.has_sync()) << r.error().DebugString();
    EXPECT_LT(r.ByteSizeLong(), kOutboundLimit / 2);
    EXPECT_GT(r.sync().events_size(), 0);
    for (const auto& e : r.sync().events()) {
      EXPECT_TRUE(positions.empty() || e.position() > positions.back());
      positions.push_back(e.position());
      if (e.has_message_posted()) seqs.insert(e.message_posted().message().seq());
    }
    since = r.sync().next();
    more = r.sync().has_more();
  }
  EXPECT_GT(pages, 2);
  EXPECT_EQ(seqs.size(), static_cast<size_t>(kCheckIns));

  // History newest first (the default page), then paging back.
  std::vector<uint64_t> back;
  uint64_t before = 0;
  for (bool more = true; more;) {
    auto r = mentor.history(conv, 0, before);
    ASSERT_TRUE(r.has_history()) << r.error().DebugString();
    EXPECT_LT(r.ByteSizeLong(), kOutboundLimit / 2);
    ASSERT_GT(r.history().messages_size(), 0);
    for (const auto& msg : r.history().messages()) back.push_back(msg.seq());
    before = back.back();
    more = r.history().has_more();
  }
  ASSERT_EQ(back.size(), static_cast<size_t>(kCheckIns));
  for (int i = 0; i < kCheckIns; ++i)
    EXPECT_EQ(back[static_cast<size_t>(i)], static_cast<uint64_t>(kCheckIns - i));
  // And oldest first from the start, the largest page asked for.
  std::vector<uint64_t> forward;
  uint64_t after = 0;
  for (bool more = true; more;) {
    auto r = mentor.history(conv, 200, 0, after);
    ASSERT_TRUE(r.has_history()) << r.error().DebugString();
    EXPECT_LT(r.ByteSizeLong(), kOutboundLimit / 2);
    ASSERT_GT(r.history().messages_size(), 0);
    for (const auto& msg : r.history().messages()) forward.push_back(msg.seq());
    after = forward.back();
    more = r.history().has_more();
  }
  ASSERT_EQ(forward.size(), static_cast<size_t>(kCheckIns));
  EXPECT_EQ(forward.front(), 1u);
  EXPECT_EQ(forward.back(), static_cast<uint64_t>(kCheckIns));
  // The connection was never closed as "not reading".
  EXPECT_EQ(server_->server().metrics().slow_client_disconnects_total.load(), 0u);
  EXPECT_TRUE(mentor.client().ping().has_ping());
}

// The directory and the list of mentorships come a page at a time, by id,
// and following the pages lists everything once.
TEST_F(Chat, DirectoryAndMentorshipsComeInPages) {
  start();
  User director(port(), server_->add_user("director.okafor", v1::ROLE_PROGRAM_DIRECTOR));
  User mentee(port(), server_->add_user("wei", v1::ROLE_MENTEE));
  std::vector<v1::User> mentors;
  for (int i = 0; i < 5; ++i) {
    mentors.push_back(server_->add_user("mentor." + std::to_string(i), v1::ROLE_MENTOR));
    server_->add_user("mentee." + std::to_string(i), v1::ROLE_MENTEE);  // in between: not listed
  }
  for (const auto& mentor : mentors)
    ASSERT_TRUE(has_mentorship(mentee.call(request_frame(mentor.id(), v1::PURPOSE_CAREER))));

  auto all_mentors = [&](User& who, uint32_t limit) {
    std::vector<uint64_t> ids;
    v1::ClientFrame f;
    f.mutable_list_mentors()->set_limit(limit);
    for (int pages = 0;; ++pages) {
      EXPECT_LT(pages, 50);
      auto r = who.call(f);
      EXPECT_TRUE(r.has_list_mentors()) << r.DebugString();
      EXPECT_LE(r.list_mentors().mentors_size(), static_cast<int>(limit));
      for (const auto& e : r.list_mentors().mentors()) ids.push_back(e.mentor().id());
      if (!r.list_mentors().has_more() || pages >= 50) break;
      EXPECT_GT(r.list_mentors().next_after_mentor_id(), f.list_mentors().after_mentor_id());
      f.mutable_list_mentors()->set_after_mentor_id(r.list_mentors().next_after_mentor_id());
    }
    return ids;
  };
  auto all_mentorships = [&](User& who, uint32_t limit) {
    std::vector<uint64_t> ids;
    v1::ClientFrame f;
    f.mutable_list_mentorships()->set_limit(limit);
    for (int pages = 0;; ++pages) {
      auto r = who.call(f);
      EXPECT_TRUE(r.has_list_mentorships()) << r.DebugString();
      EXPECT_LE(r.list_mentorships().mentorships_size(), static_cast<int>(limit));
      for (const auto& v : r.list_mentorships().mentorships()) ids.push_back(v.mentorship().id());
      if (!r.list_mentorships().has_more() || pages >= 50) break;
      EXPECT_GT(r.list_mentorships().next_after_mentorship_id(), f.list_mentorships().after_mentorship_id());
      f.mutable_list_mentorships()->set_after_mentorship_id(r.list_mentorships().next_after_mentorship_id());
    }
    return ids;
  };
  std::vector<uint64_t> expected_mentors;
  for (const auto& m : mentors) expected_mentors.push_back(m.id());
  for (uint32_t limit : {1u, 2u, 200u}) {
    EXPECT_EQ(all_mentors(mentee, limit), expected_mentors) << "limit " << limit;
    EXPECT_EQ(all_mentorships(mentee, limit).size(), mentors.size()) << "limit " << limit;
    EXPECT_EQ(all_mentorships(director, limit).size(), mentors.size()) << "limit " << limit;
  }
  auto sorted = all_mentorships(mentee, 2);
  EXPECT_TRUE(std::is_sorted(sorted.begin(), sorted.end()));
  EXPECT_EQ(std::set<uint64_t>(sorted.begin(), sorted.end()).size(), sorted.size());
  // Limits are checked.
  v1::ClientFrame too_big;
  too_big.mutable_list_mentorships()->set_limit(201);
  EXPECT_EQ(code_of(mentee.call(too_big)), v1::ERROR_CODE_INVALID_ARGUMENT);
  too_big.mutable_list_mentors()->set_limit(201);
  EXPECT_EQ(code_of(mentee.call(too_big)), v1::ERROR_CODE_INVALID_ARGUMENT);
}

// Every request kind x three outsiders -> the documented code.
TEST_F(Chat, AuthorizationMatrix) {
  start();
  User mentor(port(), server_->add_user("mentor.erik", v1::ROLE_MENTOR));
  User mentee(port(), server_->add_user("wei", v1::ROLE_MENTEE));
  User other_mentor(port(), server_->add_user("mentor.priya", v1::ROLE_MENTOR));
  User other_mentee(port(), server_->add_user("lucia", v1::ROLE_MENTEE));
  User stranger(port(), server_->add_user("stranger", v1::ROLE_MENTEE));
  User director(port(), server_->add_user("director", v1::ROLE_PROGRAM_DIRECTOR));
  auto m = pair(mentee, mentor);
  pair(other_mentee, other_mentor);
  ASSERT_TRUE(mentee.send(m.conversation_id(), "private").has_send_message());
  v1::ClientFrame propose;
  propose.mutable_propose_agreement()->set_mentorship_id(m.id());
  propose.mutable_propose_agreement()->set_cadence(v1::CADENCE_MONTHLY);
  ASSERT_TRUE(has_mentorship(mentee.call(propose)));

  const uint64_t conv = m.conversation_id();
  std::vector<std::pair<std::string, v1::ClientFrame>> requests;
  auto add = [&](const std::string& name, auto fill) {
    v1::ClientFrame f;
    fill(f);
    requests.emplace_back(name, f);
  };
  add("send", [&](auto& f) {
    f.mutable_send_message()->set_conversation_id(conv);
    f.mutable_send_message()->set_client_message_id("x");
    f.mutable_send_message()->set_body("hi");
  });
  add("edit", [&](auto& f) {
    f.mutable_edit_message()->set_conversation_id(conv);
    f.mutable_edit_message()->set_seq(1);
    f.mutable_edit_message()->set_body("x");
  });
  add("delete", [&](auto& f) {
    f.mutable_delete_message()->set_conversation_id(conv);
    f.mutable_delete_message()->set_seq(1);
  });
  add("history", [&](auto& f) { f.mutable_history()->set_conversation_id(conv); });
  add("mark_read", [&](auto& f) {
    f.mutable_mark_read()->set_conversation_id(conv);
    f.mutable_mark_read()->set_seq(1);
  });
  add("typing", [&](auto& f) {
    f.mutable_set_typing()->set_conversation_id(conv);
    f.mutable_set_typing()->set_typing(true);
  });
  add("accept", [&](auto& f) { f.mutable_accept_mentorship()->set_mentorship_id(m.id()); });
  add("decline", [&](auto& f) { f.mutable_decline_mentorship()->set_mentorship_id(m.id()); });
  add("end", [&](auto& f) { f.mutable_end_mentorship()->set_mentorship_id(m.id()); });
  add("propose", [&](auto& f) {
    f.mutable_propose_agreement()->set_mentorship_id(m.id());
    f.mutable_propose_agreement()->set_cadence(v1::CADENCE_WEEKLY);
  });
  add("accept_agreement", [&](auto& f) { f.mutable_accept_agreement()->set_mentorship_id(m.id()); });

  struct Outsider {
    const char* name;
    User* user;
    ErrorCode expected;
  };
  const Outsider outsiders[] = {
      {"stranger", &stranger, v1::ERROR_CODE_NOT_FOUND},
      {"other pair's mentor", &other_mentor, v1::ERROR_CODE_NOT_FOUND},
      {"director", &director, v1::ERROR_CODE_PERMISSION_DENIED},
  };
  for (const auto& who : outsiders) {
    for (const auto& [name, frame] : requests) {
      auto r = who.user->call(frame);
      EXPECT_EQ(code_of(r), who.expected) << who.name << " x " << name << ": " << r.DebugString();
      EXPECT_FALSE(r.error().message().empty());
      EXPECT_EQ(r.SerializeAsString().find("private"), std::string::npos);
    }
  }
  // Role-gated requests.
  v1::ClientFrame assign;
  assign.mutable_assign_mentorship()->set_mentor_id(mentor.id());
  assign.mutable_assign_mentorship()->set_mentee_id(stranger.id());
  assign.mutable_assign_mentorship()->set_purpose(v1::PURPOSE_OTHER);
  EXPECT_EQ(code_of(stranger.call(assign)), v1::ERROR_CODE_PERMISSION_DENIED);
  EXPECT_EQ(code_of(other_mentor.call(assign)), v1::ERROR_CODE_PERMISSION_DENIED);
  EXPECT_EQ(code_of(director.call(request_frame(mentor.id(), v1::PURPOSE_CAREER))),
            v1::ERROR_CODE_PERMISSION_DENIED);
  EXPECT_EQ(code_of(other_mentor.call(request_frame(mentor.id(), v1::PURPOSE_CAREER))),
            v1::ERROR_CODE_PERMISSION_DENIED);
  v1::ClientFrame profile;
  profile.mutable_update_mentor_profile()->mutable_profile()->set_capacity(2);
  EXPECT_EQ(code_of(stranger.call(profile)), v1::ERROR_CODE_PERMISSION_DENIED);
  EXPECT_EQ(code_of(director.call(profile)), v1::ERROR_CODE_PERMISSION_DENIED);
  // The members themselves: the mentee may not accept her own request's mentorship.
  EXPECT_EQ(code_of(mentee.call(accept_frame(m.id()))), v1::ERROR_CODE_PERMISSION_DENIED);
  // Unknown ids.
  v1::ClientFrame nowhere;
  nowhere.mutable_history()->set_conversation_id(999999);
  EXPECT_EQ(code_of(mentee.call(nowhere)), v1::ERROR_CODE_NOT_FOUND);
}

// kill -9 while 20 clients send: every acknowledged message survives, once,
// with gap-free seqs.
TEST(ChatCrash, KillDuringBurstFrom20ClientsLosesNothingAcknowledged) {
  TempDir dir;
  constexpr int kPairs = 10;
  std::vector<v1::User> users;  // mentee, mentor, mentee, mentor...
  std::vector<uint64_t> convs;
  std::vector<std::string> tokens;
  {
    auto config = test_config(dir.path());
    TestServer setup(config);
    for (int i = 0; i < kPairs; ++i) {
      users.push_back(setup.add_user("mentee" + std::to_string(i), v1::ROLE_MENTEE));
      users.push_back(setup.add_user("mentor" + std::to_string(i), v1::ROLE_MENTOR));
      User mentee(setup.port(), users[2 * i]);
      User mentor(setup.port(), users[2 * i + 1]);
      auto req = mentee.call(request_frame(mentor.id(), v1::PURPOSE_CAREER));
      auto acc = mentor.call(accept_frame(mentorship_of(req).id()));
      ASSERT_TRUE(has_mentorship(acc));
      convs.push_back(mentorship_of(acc).conversation_id());
      tokens.push_back(mentee.token());
      tokens.push_back(mentor.token());
    }
  }
  ServerProcess proc(PRECEPTOR_SERVER_PATH, dir.path(),
                     {"--rate-per-second", "100000", "--rate-burst", "100000"});
  ASSERT_NE(proc.port(), 0) << proc.output();

  std::mutex mu;
  std::map<uint64_t, std::set<std::string>> acked;  // conversation -> client ids acknowledged
  std::atomic<int> total_acked{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> senders;
  for (int c = 0; c < 2 * kPairs; ++c) {
    senders.emplace_back([&, c] {
      User me(proc.port(), users[c], tokens[c]);
      const uint64_t conv = convs[c / 2];
      for (int n = 0; n < 2000 && !stop; ++n) {
        const std::string id = users[c].username() + "-" + std::to_string(n);
        auto r = me.send(conv, "burst " + id, id);
        if (!r.has_send_message()) return;  // the server is gone
        std::lock_guard lock(mu);
        acked[conv].insert(id);
        ++total_acked;
      }
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (total_acked < 600 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  ::kill(proc.pid(), SIGKILL);
  stop = true;
  for (auto& t : senders) t.join();
  ASSERT_GE(total_acked.load(), 600);

  ServerProcess again(PRECEPTOR_SERVER_PATH, dir.path());
  ASSERT_NE(again.port(), 0) << again.output();
  for (int i = 0; i < kPairs; ++i) {
    User reader(again.port(), users[2 * i], tokens[2 * i]);
    std::vector<v1::Message> all;
    uint64_t after = 0;
    for (;;) {
      auto page = reader.history(convs[i], 200, 0, after);
      ASSERT_TRUE(page.has_history()) << page.DebugString();
      for (const auto& m : page.history().messages()) all.push_back(m);
      if (!page.history().has_more()) break;
      after = all.back().seq();
    }
    std::set<std::string> stored;
    for (size_t k = 0; k < all.size(); ++k) {
      EXPECT_EQ(all[k].seq(), k + 1) << "gap in conversation " << convs[i];
      EXPECT_TRUE(stored.insert(all[k].client_message_id()).second)
          << "duplicate " << all[k].client_message_id();
    }
    for (const auto& id : acked[convs[i]])
      EXPECT_TRUE(stored.count(id)) << "lost acknowledged message " << id;
  }
}

// ---- Deleted and edited text leaves the store (issue 10, item 15) ----

v1::ClientFrame edit_frame(uint64_t conv, uint64_t seq, const std::string& body) {
  v1::ClientFrame f;
  f.mutable_edit_message()->set_conversation_id(conv);
  f.mutable_edit_message()->set_seq(seq);
  f.mutable_edit_message()->set_body(body);
  return f;
}
v1::ClientFrame delete_frame(uint64_t conv, uint64_t seq) {
  v1::ClientFrame f;
  f.mutable_delete_message()->set_conversation_id(conv);
  f.mutable_delete_message()->set_seq(seq);
  return f;
}

// Every event a user gets from Sync from position 0, all pages.
std::vector<v1::Event> sync_all(User& user) {
  std::vector<v1::Event> events;
  auto first = user.sync(0, 0);
  EXPECT_TRUE(first.has_sync()) << first.DebugString();
  v1::SyncPosition next = first.sync().next();
  events.assign(first.sync().events().begin(), first.sync().events().end());
  bool more = first.sync().has_more();
  for (int pages = 0; more && pages < 1000; ++pages) {
    auto page = user.sync(next.store_id(), next.position(), 2);
    EXPECT_TRUE(page.has_sync()) << page.DebugString();
    if (!page.has_sync()) break;
    events.insert(events.end(), page.sync().events().begin(), page.sync().events().end());
    next = page.sync().next();
    more = page.sync().has_more();
  }
  return events;
}

TEST_F(Chat, DeletedAndEditedTextLeavesEveryFileOfTheDataFolder) {
  start();
  const v1::User mentor_u = server_->add_user("mentor.erik", v1::ROLE_MENTOR);
  const v1::User mentee_u = server_->add_user("wei", v1::ROLE_MENTEE);
  // Random, so nothing else in the folder can match (see random_canary).
  const std::string deleted_flushed = random_canary();
  const std::string edited_flushed = random_canary();
  const std::string deleted_logged = random_canary();
  const std::string edited_logged = random_canary();
  uint64_t conv;
  std::string mentor_token, mentee_token;
  {
    User mentor(port(), mentor_u);
    User mentee(port(), mentee_u);
    conv = pair(mentee, mentor).conversation_id();
    mentor_token = mentor.token();
    mentee_token = mentee.token();
    ASSERT_TRUE(mentee.send(conv, "Patient " + deleted_flushed + " in bed 12").has_send_message());  // seq 1
    ASSERT_TRUE(mentee.send(conv, "Patient " + edited_flushed + " in bed 14").has_send_message());   // seq 2
  }
  // A restart flushes: those two are in table files now, the next two only
  // in the write-ahead log.
  server_.reset();
  start();
  User mentor(port(), mentor_u, mentor_token);
  User mentee(port(), mentee_u, mentee_token);
  // (Client ids of their own: this User's counter starts again.)
  auto third = mentee.send(conv, "Patient " + deleted_logged + " in bed 16", "after-restart-1");
  auto fourth = mentee.send(conv, "Patient " + edited_logged + " in bed 18", "after-restart-2");
  ASSERT_EQ(third.send_message().message().seq(), 3u) << third.DebugString();
  ASSERT_EQ(fourth.send_message().message().seq(), 4u) << fourth.DebugString();
  for (const std::string& canary : {deleted_flushed, edited_flushed, deleted_logged, edited_logged}) {
    ASSERT_FALSE(files_containing(dir_.path(), canary).empty()) << canary << ": the grep must see it first";
  }

  ASSERT_TRUE(mentee.call(delete_frame(conv, 1)).has_delete_message());
  ASSERT_TRUE(mentee.call(edit_frame(conv, 2, "Sorry, wrong chat.")).has_edit_message());
  ASSERT_TRUE(mentee.call(delete_frame(conv, 3)).has_delete_message());
  ASSERT_TRUE(mentee.call(edit_frame(conv, 4, "Sorry, wrong chat again.")).has_edit_message());
  ASSERT_TRUE(server_->server().run_redaction_once().is_ok());

  // Every file: tables, blobs, WAL, MANIFEST, LOG, OPTIONS.
  for (const std::string& canary : {deleted_flushed, edited_flushed, deleted_logged, edited_logged}) {
    EXPECT_EQ(files_containing(dir_.path(), canary), std::vector<std::string>()) << canary;
  }
  // And what readers see agrees.
  auto hist = mentor.history(conv);
  ASSERT_EQ(hist.history().messages_size(), 4);
  for (const std::string& canary : {deleted_flushed, edited_flushed, deleted_logged, edited_logged}) {
    EXPECT_EQ(hist.history().DebugString().find(canary), std::string::npos);
  }
  // Still gone after a restart (nothing comes back from a log replay).
  server_.reset();
  start();
  for (const std::string& canary : {deleted_flushed, edited_flushed, deleted_logged, edited_logged}) {
    EXPECT_EQ(files_containing(dir_.path(), canary), std::vector<std::string>()) << canary;
  }
}

TEST_F(Chat, TheRedactionTimerCompactsDeletedTextAwayUnasked) {
  redaction_interval_ms_ = 50;
  start();
  User mentor(port(), server_->add_user("mentor.erik", v1::ROLE_MENTOR));
  User mentee(port(), server_->add_user("wei", v1::ROLE_MENTEE));
  const uint64_t conv = pair(mentee, mentor).conversation_id();
  const std::string canary =
      "canary-timer-" + std::to_string(::getpid()) + "-" + std::to_string(clock_.now_ms());
  ASSERT_TRUE(mentee.send(conv, canary).has_send_message());
  ASSERT_FALSE(files_containing(dir_.path(), canary).empty());
  ASSERT_TRUE(mentee.call(delete_frame(conv, 1)).has_delete_message());
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!files_containing(dir_.path(), canary).empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(files_containing(dir_.path(), canary), std::vector<std::string>());
}

TEST_F(Chat, SyncFromTheStartShowsTheTombstoneAndTheLatestTextNeverTheOldOne) {
  start();
  User mentor(port(), server_->add_user("mentor.erik", v1::ROLE_MENTOR));
  User mentee(port(), server_->add_user("wei", v1::ROLE_MENTEE));
  const uint64_t conv = pair(mentee, mentor).conversation_id();
  ASSERT_TRUE(mentee.send(conv, "secret-deleted-text").has_send_message());  // seq 1
  ASSERT_TRUE(mentee.send(conv, "secret-first-draft").has_send_message());   // seq 2
  v1::ClientFrame checkin;
  checkin.mutable_send_message()->set_conversation_id(conv);
  checkin.mutable_send_message()->set_client_message_id("checkin-1");
  checkin.mutable_send_message()->mutable_check_in()->set_status(v1::CHECK_IN_STATUS_BLOCKED);
  checkin.mutable_send_message()->mutable_check_in()->set_note("secret-check-in-note");
  ASSERT_TRUE(mentee.call(checkin).has_send_message());                // seq 3
  ASSERT_TRUE(mentee.send(conv, "kept as it is").has_send_message());  // seq 4
  ASSERT_TRUE(mentee.call(delete_frame(conv, 1)).has_delete_message());
  ASSERT_TRUE(mentee.call(edit_frame(conv, 2, "the final wording")).has_edit_message());
  ASSERT_TRUE(mentee.call(delete_frame(conv, 3)).has_delete_message());

  for (User* user : {&mentor, &mentee}) {
    const std::vector<v1::Event> events = sync_all(*user);
    std::map<uint64_t, v1::Message> posted;
    int edits = 0;
    for (const v1::Event& e : events) {
      EXPECT_EQ(e.DebugString().find("secret-"), std::string::npos) << e.DebugString();
      if (e.has_message_posted()) posted[e.message_posted().message().seq()] = e.message_posted().message();
      if (e.has_message_edited()) {
        ++edits;
        EXPECT_EQ(e.message_edited().message().body(), "the final wording");
      }
    }
    ASSERT_EQ(posted.size(), 4u);
    EXPECT_TRUE(posted[1].deleted());
    EXPECT_EQ(posted[1].body(), "");
    EXPECT_EQ(posted[2].body(), "the final wording");
    EXPECT_NE(posted[2].edited_at_ms(), 0);
    EXPECT_TRUE(posted[3].deleted());
    EXPECT_FALSE(posted[3].has_check_in());
    EXPECT_EQ(posted[4].body(), "kept as it is");
    EXPECT_EQ(posted[4].sender_id(), mentee.id());
    EXPECT_EQ(edits, 1);
  }
}

TEST_F(Chat, LiveEventsStillCarryTheTextToTheCounterpartAndTheSendersOtherDevices) {
  start();
  User mentor(port(), server_->add_user("mentor.erik", v1::ROLE_MENTOR));
  User mentee(port(), server_->add_user("wei", v1::ROLE_MENTEE));
  const uint64_t conv = pair(mentee, mentor).conversation_id();
  User other_device(port(), mentee.user(), mentee.token());
  ASSERT_TRUE(mentee.send(conv, "the text as typed").has_send_message());
  for (User* user : {&mentor, &other_device}) {
    auto got = user->event_where([](const v1::Event& e) { return e.has_message_posted(); });
    ASSERT_TRUE(got);
    EXPECT_EQ(got->message_posted().message().body(), "the text as typed");
  }
  ASSERT_TRUE(mentee.call(edit_frame(conv, 1, "the text as corrected")).has_edit_message());
  for (User* user : {&mentor, &other_device}) {
    auto got = user->event_where([](const v1::Event& e) { return e.has_message_edited(); });
    ASSERT_TRUE(got);
    EXPECT_EQ(got->message_edited().message().body(), "the text as corrected");
  }
  v1::ClientFrame checkin;
  checkin.mutable_send_message()->set_conversation_id(conv);
  checkin.mutable_send_message()->set_client_message_id("checkin-1");
  checkin.mutable_send_message()->mutable_check_in()->set_status(v1::CHECK_IN_STATUS_NEED_HELP);
  checkin.mutable_send_message()->mutable_check_in()->set_note("the note as typed");
  ASSERT_TRUE(mentee.call(checkin).has_send_message());
  for (User* user : {&mentor, &other_device}) {
    auto got = user->event_where(
        [](const v1::Event& e) { return e.has_message_posted() && e.message_posted().message().seq() == 2; });
    ASSERT_TRUE(got);
    EXPECT_EQ(got->message_posted().message().check_in().note(), "the note as typed");
  }
}

}  // namespace
}  // namespace preceptor::testing
