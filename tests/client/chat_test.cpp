// Chat through preceptor::client::Client against a real server: ordering,
// several devices, retries after lost acknowledgements, and resuming after
// disconnects. What a user would notice: every message shows up once, in
// order, and nothing sent twice is stored twice.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>

#include "tests/client/client_test_util.h"

namespace preceptor::testing {
namespace {

class ChatTest : public ClientFixture {
 protected:
  ChatTest() {
    mentor_ = server_->add_user("mentor.erik", v1::ROLE_MENTOR);
    mentee_ = server_->add_user("mentee.wei", v1::ROLE_MENTEE);
  }

  // The mentee asks, the mentor accepts; returns the conversation.
  void open_conversation(Client& mentee, Client& mentor, uint64_t* conversation_id) {
    v1::RequestMentorship req;
    req.set_mentor_id(mentor_.id());
    req.set_purpose(v1::PURPOSE_CAREER);
    req.set_note("I am applying for cardiology fellowships.");
    auto requested = mentee.request_mentorship_sync(req);
    ASSERT_TRUE(requested) << requested.status().to_string();
    v1::AcceptMentorship accept;
    accept.set_mentorship_id(requested->mentorship().id());
    auto accepted = mentor.accept_mentorship_sync(accept);
    ASSERT_TRUE(accepted) << accepted.status().to_string();
    *conversation_id = accepted->mentorship().conversation_id();
    ASSERT_NE(*conversation_id, 0u);
  }

  // Sends and expects success; returns the stored message.
  v1::Message send(Client& c, uint64_t conversation_id, const std::string& body) {
    auto r = c.send_message_sync(text(conversation_id, body));
    EXPECT_TRUE(r) << body << ": " << r.status().to_string();
    return r ? r->message() : v1::Message{};
  }

  // The whole conversation as the server stores it, oldest first.
  std::vector<v1::Message> stored(Client& c, uint64_t conversation_id) {
    v1::History h;
    h.set_conversation_id(conversation_id);
    h.set_limit(200);
    auto r = c.history_sync(h);
    EXPECT_TRUE(r) << r.status().to_string();
    if (!r) return {};
    std::vector<v1::Message> out(r->messages().begin(), r->messages().end());
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.seq() < b.seq(); });
    return out;
  }

  v1::User mentor_;
  v1::User mentee_;
};

TEST_F(ChatTest, TwoUsersEachSeeTheOthersMessagesInOrder) {
  Recorder mentee_rec, mentor_rec;
  auto mentee = signed_in("mentee.wei", &mentee_rec);
  auto mentor = signed_in("mentor.erik", &mentor_rec);
  uint64_t conv = 0;
  ASSERT_NO_FATAL_FAILURE(open_conversation(*mentee, *mentor, &conv));

  for (int i = 0; i < 10; ++i) {
    Client& sender = i % 2 == 0 ? *mentee : *mentor;
    v1::Message m = send(sender, conv, "message " + std::to_string(i));
    EXPECT_EQ(m.seq(), static_cast<uint64_t>(i + 1));
  }
  for (Recorder* rec : {&mentee_rec, &mentor_rec}) {
    ASSERT_TRUE(rec->wait_messages(conv, 10));
    auto got = rec->messages(conv);
    EXPECT_EQ(seqs(got), one_to(10));
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].body(), "message " + std::to_string(i));
      EXPECT_EQ(got[i].sender_id(), i % 2 == 0 ? mentee_.id() : mentor_.id());
    }
  }
}

TEST_F(ChatTest, EveryDeviceOfAUserGetsEveryMessageOnce) {
  Recorder phone_rec, laptop_rec, tablet_rec, mentor_rec;
  auto phone = signed_in("mentee.wei", &phone_rec, "phone");
  auto laptop = signed_in("mentee.wei", &laptop_rec, "laptop");
  auto tablet = signed_in("mentee.wei", &tablet_rec, "tablet");
  auto mentor = signed_in("mentor.erik", &mentor_rec);
  uint64_t conv = 0;
  ASSERT_NO_FATAL_FAILURE(open_conversation(*phone, *mentor, &conv));

  send(*mentor, conv, "How did the interview go?");
  send(*phone, conv, "Well, I think.");
  send(*mentor, conv, "Tell me more.");
  send(*laptop, conv, "They asked about my research.");
  send(*mentor, conv, "Good sign.");
  send(*tablet, conv, "Thanks!");

  Recorder* recs[] = {&phone_rec, &laptop_rec, &tablet_rec, &mentor_rec};
  for (Recorder* rec : recs) {
    ASSERT_TRUE(rec->wait_messages(conv, 6));
    EXPECT_EQ(seqs(rec->messages(conv)), one_to(6));
  }
  // A reconnect (Sync from the last position) brings nothing twice.
  laptop->drop_connection_for_test();
  ASSERT_TRUE(laptop_rec.wait_count(State::kAuthenticated, 2));
  send(*mentor, conv, "See you Thursday.");
  for (Recorder* rec : recs) {
    ASSERT_TRUE(rec->wait_messages(conv, 7));
    EXPECT_EQ(seqs(rec->messages(conv)), one_to(7));
  }
}

TEST_F(ChatTest, RetryAfterALostAcknowledgementMakesNoDuplicate) {
  Recorder rec, mentor_rec;
  auto mentee = signed_in("mentee.wei", &rec);
  auto mentor = signed_in("mentor.erik", &mentor_rec);
  uint64_t conv = 0;
  ASSERT_NO_FATAL_FAILURE(open_conversation(*mentee, *mentor, &conv));

  std::mutex mu;
  std::vector<Result<v1::SendMessageResult>> replies;
  auto keep = [&](Result<v1::SendMessageResult> r) {
    std::lock_guard lock(mu);
    replies.push_back(std::move(r));
  };
  // One with the caller's id, one with an id the client makes up. Both reach
  // the server; the connection drops before either reply is read.
  ASSERT_NO_FATAL_FAILURE(on_client_thread(*mentee, [&] {
    mentee->send_message(text(conv, "My CV, revised.", "cv-revision-1"), keep);
    mentee->send_message(text(conv, "And the cover letter."), keep);
    mentee->drop_connection_after_writes_for_test();
  }));

  ASSERT_TRUE(eventually(
      [&] {
        std::lock_guard lock(mu);
        return replies.size() == 2;
      },
      20s));
  ASSERT_TRUE(rec.wait_count(State::kAuthenticated, 2));
  // One more round trip: no reply comes a second time.
  ASSERT_TRUE(mentee->who_am_i_sync({}));
  EXPECT_EQ(mentee->outbox_size(), 0u);
  {
    std::lock_guard lock(mu);
    ASSERT_EQ(replies.size(), 2u);
    for (const auto& r : replies) {
      ASSERT_TRUE(r) << r.status().to_string();
      // The resend was answered with the message stored the first time.
      EXPECT_TRUE(r->duplicate()) << r->DebugString();
    }
    std::set<std::string> ids{replies[0]->message().client_message_id(),
                              replies[1]->message().client_message_id()};
    EXPECT_TRUE(ids.count("cv-revision-1"));
    for (const auto& id : ids) {
      if (id != "cv-revision-1") {
        EXPECT_EQ(id.size(), 32u) << id;
      }
    }
  }
  auto history = stored(*mentor, conv);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].body(), "My CV, revised.");
  EXPECT_EQ(history[1].body(), "And the cover letter.");
  // The sender's own device got each message once (event or Sync, not both).
  ASSERT_TRUE(rec.wait_messages(conv, 2));
  EXPECT_EQ(seqs(rec.messages(conv)), one_to(2));
  ASSERT_TRUE(mentor_rec.wait_messages(conv, 2));
  EXPECT_EQ(seqs(mentor_rec.messages(conv)), one_to(2));
}

TEST_F(ChatTest, RefusedMessageFailsWithTheServersCodeAndFieldAndLeavesTheOutbox) {
  auto mentee = signed_in("mentee.wei");
  auto mentor = signed_in("mentor.erik");
  uint64_t conv = 0;
  ASSERT_NO_FATAL_FAILURE(open_conversation(*mentee, *mentor, &conv));
  auto empty = mentee->send_message_sync(text(conv, ""));
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.status().code(), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_EQ(empty.status().field(), "body");
  EXPECT_FALSE(empty.status().message().empty());
  auto elsewhere = mentee->send_message_sync(text(conv + 1000, "Hello?"));
  ASSERT_FALSE(elsewhere);
  EXPECT_EQ(elsewhere.status().code(), v1::ERROR_CODE_NOT_FOUND);
  EXPECT_EQ(mentee->outbox_size(), 0u);
  // Nothing was stored, and the conversation still works.
  EXPECT_TRUE(stored(*mentor, conv).empty());
  EXPECT_EQ(send(*mentee, conv, "Hello!").seq(), 1u);
}

TEST_F(ChatTest, MessagesWrittenOfflineAreSentOnceBackOnline) {
  Recorder rec, mentor_rec;
  auto mentee = signed_in("mentee.wei", &rec);
  auto mentor = signed_in("mentor.erik", &mentor_rec);
  uint64_t conv = 0;
  ASSERT_NO_FATAL_FAILURE(open_conversation(*mentee, *mentor, &conv));

  mentee->go_offline();
  ASSERT_TRUE(rec.wait_stopped());
  std::atomic<int> calls{0};
  std::mutex mu;
  std::vector<uint64_t> reply_seqs;
  for (int i = 0; i < 3; ++i) {
    mentee->send_message(text(conv, "offline " + std::to_string(i)), [&](Result<v1::SendMessageResult> r) {
      EXPECT_TRUE(r) << r.status().to_string();
      if (r) {
        std::lock_guard lock(mu);
        reply_seqs.push_back(r->message().seq());
      }
      ++calls;
    });
  }
  ASSERT_TRUE(eventually([&] { return mentee->outbox_size() == 3; }));
  mentee->go_online();
  ASSERT_TRUE(eventually([&] { return calls.load() == 3; }));
  ASSERT_TRUE(mentor_rec.wait_messages(conv, 3));
  auto history = stored(*mentor, conv);
  ASSERT_EQ(history.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(history[i].body(), "offline " + std::to_string(i));
  ASSERT_TRUE(mentee->who_am_i_sync({}));
  EXPECT_EQ(calls.load(), 3);
  std::lock_guard lock(mu);
  std::sort(reply_seqs.begin(), reply_seqs.end());
  EXPECT_EQ(reply_seqs, one_to(3));
}

TEST_F(ChatTest, ResumeAfterAForcedDisconnectLosesNothing) {
  Recorder rec, mentor_rec;
  auto mentee = signed_in("mentee.wei", &rec);
  auto mentor = signed_in("mentor.erik", &mentor_rec);
  uint64_t conv = 0;
  ASSERT_NO_FATAL_FAILURE(open_conversation(*mentee, *mentor, &conv));
  send(*mentor, conv, "m1");
  ASSERT_TRUE(rec.wait_messages(conv, 1));

  // Dropped and held offline while the mentor writes.
  ASSERT_NO_FATAL_FAILURE(on_client_thread(*mentee, [&] {
    mentee->drop_connection_for_test();
    mentee->go_offline();
  }));
  ASSERT_TRUE(rec.wait_stopped());
  for (int i = 2; i <= 6; ++i) send(*mentor, conv, "m" + std::to_string(i));
  mentee->go_online();
  ASSERT_TRUE(rec.wait_messages(conv, 6));

  // Dropped while the mentor writes: some arrive live, some through Sync.
  mentee->drop_connection_for_test();
  for (int i = 7; i <= 11; ++i) send(*mentor, conv, "m" + std::to_string(i));
  ASSERT_TRUE(rec.wait_messages(conv, 11));
  ASSERT_TRUE(rec.wait_count(State::kAuthenticated, 3));
  // A last message after the dust settled, to see nothing else is on its way.
  send(*mentor, conv, "m12");
  ASSERT_TRUE(rec.wait_messages(conv, 12));

  auto got = rec.messages(conv);
  EXPECT_EQ(seqs(got), one_to(12));
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].body(), "m" + std::to_string(i + 1));
  // Stored events, as delivered, never go backwards or repeat.
  uint64_t last = 0;
  for (const auto& e : rec.events()) {
    if (e.position() == 0) continue;
    EXPECT_GT(e.position(), last);
    last = e.position();
  }
  EXPECT_EQ(mentee->position().position(), last);
}

// A counterpart's large check-ins (more than the 1 MiB a connection may
// have waiting) are caught up page by page, not in a loop of disconnects.
TEST_F(ChatTest, CatchingUpOnMegabytesOfCheckInsFinishes) {
  auto mentee = signed_in("mentee.wei");
  uint64_t conv = 0;
  {
    auto mentor = signed_in("mentor.erik");
    ASSERT_NO_FATAL_FAILURE(open_conversation(*mentee, *mentor, &conv));
  }
  constexpr int kCheckIns = 60;  // ~32 KiB each
  for (int i = 0; i < kCheckIns; ++i) {
    v1::SendMessage m = text(conv, std::string(16 * 1024, 'b'));
    m.mutable_check_in()->set_status(v1::CHECK_IN_STATUS_ON_TRACK);
    m.mutable_check_in()->set_note(std::string(16 * 1024, 'n'));
    auto r = mentee->send_message_sync(m);
    ASSERT_TRUE(r) << r.status().to_string();
  }
  Recorder rec;
  client::Options o = options();
  o.sync_page_size = 1000;
  auto mentor = started(o, &rec);
  ASSERT_TRUE(mentor->login_sync(login_of("mentor.erik")));
  ASSERT_TRUE(rec.wait_messages(conv, kCheckIns, 30s)) << rec.messages(conv).size() << " arrived";
  EXPECT_EQ(seqs(rec.messages(conv)), one_to(kCheckIns));
  EXPECT_EQ(rec.count(State::kAuthenticated), 1);  // one connection did it all
}

// The SDK follows the pages of the directory and of the mentorships.
TEST_F(ChatTest, ListingAllFollowsEveryPage) {
  std::vector<uint64_t> mentors = {mentor_.id()};
  for (int i = 0; i < 3; ++i)
    mentors.push_back(server_->add_user("mentor." + std::to_string(i), v1::ROLE_MENTOR).id());
  auto mentee = signed_in("mentee.wei");
  for (uint64_t id : mentors) {
    v1::RequestMentorship req;
    req.set_mentor_id(id);
    req.set_purpose(v1::PURPOSE_CAREER);
    ASSERT_TRUE(mentee->request_mentorship_sync(req));
  }
  v1::ListMentors by_one;
  by_one.set_limit(1);
  auto directory = mentee->list_all_mentors_sync(by_one);
  ASSERT_TRUE(directory) << directory.status().to_string();
  EXPECT_FALSE(directory->has_more());
  std::vector<uint64_t> listed;
  for (const auto& e : directory->mentors()) listed.push_back(e.mentor().id());
  EXPECT_EQ(listed, mentors);
  v1::ListMentorships two;
  two.set_limit(2);
  auto mine = mentee->list_all_mentorships_sync(two);
  ASSERT_TRUE(mine) << mine.status().to_string();
  EXPECT_EQ(mine->mentorships_size(), static_cast<int>(mentors.size()));
}

TEST_F(ChatTest, SavedPositionAndTokenResumeWhereTheAppLeftOff) {
  Recorder mentor_rec;
  auto mentor = signed_in("mentor.erik", &mentor_rec);
  uint64_t conv = 0;
  std::string token;
  v1::SyncPosition saved;
  {
    Recorder rec;
    auto mentee = signed_in("mentee.wei", &rec);
    ASSERT_NO_FATAL_FAILURE(open_conversation(*mentee, *mentor, &conv));
    for (int i = 1; i <= 3; ++i) send(*mentor, conv, "m" + std::to_string(i));
    ASSERT_TRUE(rec.wait_messages(conv, 3));
    token = mentee->token();
    saved = mentee->position();
    EXPECT_NE(saved.store_id(), 0u);
    EXPECT_GT(saved.position(), 0u);
  }  // the app quits
  send(*mentor, conv, "m4");
  send(*mentor, conv, "m5");

  client::Options o = options();
  o.token = token;
  o.resume_from = saved;
  Recorder rec;
  auto mentee = started(o, &rec);
  ASSERT_TRUE(rec.wait_messages(conv, 2));
  ASSERT_TRUE(rec.wait_count(State::kAuthenticated, 1));
  auto got = rec.messages(conv);
  EXPECT_EQ(seqs(got), (std::vector<uint64_t>{4, 5}));
  for (const auto& e : rec.events()) {
    if (e.position() != 0) {
      EXPECT_GT(e.position(), saved.position());
    }
  }
  EXPECT_TRUE(rec.store_changes().empty());
}

TEST_F(ChatTest, PositionFromAnotherStoreIsReportedAndEverythingComesAgain) {
  Recorder mentor_rec;
  auto mentor = signed_in("mentor.erik", &mentor_rec);
  uint64_t conv = 0;
  std::string token;
  {
    auto mentee = signed_in("mentee.wei");
    ASSERT_NO_FATAL_FAILURE(open_conversation(*mentee, *mentor, &conv));
    token = mentee->token();
  }
  send(*mentor, conv, "m1");
  send(*mentor, conv, "m2");

  client::Options o = options();
  o.token = token;
  o.resume_from.set_store_id(0x5eed5eed5eed5eedULL);  // not this server's store
  o.resume_from.set_position(1'000'000);
  Recorder rec;
  auto mentee = started(o, &rec);
  ASSERT_TRUE(rec.wait_messages(conv, 2));
  ASSERT_TRUE(rec.wait_count(State::kAuthenticated, 1));
  ASSERT_EQ(rec.store_changes().size(), 1u);
  EXPECT_NE(rec.store_changes()[0].store_id(), o.resume_from.store_id());
  EXPECT_EQ(seqs(rec.messages(conv)), one_to(2));
  EXPECT_EQ(mentee->position().store_id(), rec.store_changes()[0].store_id());
}

}  // namespace
}  // namespace preceptor::testing
