// The call's signaling through a real server, real sockets, real RocksDB:
// ringing, answers and hang-ups reach the right sessions, signals go only to
// the other member, nobody outside the pair can touch a call, the limits
// answer and leave the connection working, and TURN credentials are what
// coturn's use-auth-secret computes.
#include "server/services/calls.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <future>
#include <thread>

#include "server/config.h"
#include "server/net/metrics.h"
#include "server/services/meeting_book.h"
#include "storage/committer.h"
#include "storage/keys.h"
#include "tests/support/test_client.h"
#include "tests/support/test_server.h"

namespace preceptor::testing {
namespace {

using v1::ErrorCode;

constexpr int64_t kMinute = 60'000;
constexpr char kTurnSecret[] = "north-wing-turn-secret";

// A signed-in connection of one user.
class Device {
 public:
  Device(uint16_t port, const v1::User& who) : user_(who) {
    EXPECT_EQ(client_.connect(port), "");
    auto r = client_.login(who.username(), TestServer::password_of(who.username()));
    EXPECT_TRUE(r.has_login()) << r.DebugString();
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
  v1::Response start_meeting_call(uint64_t meeting_id) {
    v1::ClientFrame f;
    f.mutable_start_call()->set_meeting_id(meeting_id);
    return call(f);
  }
  v1::Response start_queue_call(uint64_t mentee_id) {
    v1::ClientFrame f;
    f.mutable_start_call()->set_mentee_id(mentee_id);
    return call(f);
  }
  v1::Response answer(uint64_t call_id, bool accept) {
    v1::ClientFrame f;
    f.mutable_answer_call()->set_call_id(call_id);
    f.mutable_answer_call()->set_accept(accept);
    return call(f);
  }
  v1::Response hang_up(uint64_t call_id) {
    v1::ClientFrame f;
    f.mutable_hang_up()->set_call_id(call_id);
    return call(f);
  }
  v1::Response offer(uint64_t call_id, const std::string& sdp) {
    v1::ClientFrame f;
    f.mutable_send_call_signal()->mutable_signal()->set_call_id(call_id);
    f.mutable_send_call_signal()->mutable_signal()->set_sdp_offer(sdp);
    return call(f);
  }
  v1::Response sdp_answer(uint64_t call_id, const std::string& sdp) {
    v1::ClientFrame f;
    f.mutable_send_call_signal()->mutable_signal()->set_call_id(call_id);
    f.mutable_send_call_signal()->mutable_signal()->set_sdp_answer(sdp);
    return call(f);
  }
  v1::Response candidate(uint64_t call_id, const std::string& json) {
    v1::ClientFrame f;
    f.mutable_send_call_signal()->mutable_signal()->set_call_id(call_id);
    f.mutable_send_call_signal()->mutable_signal()->set_ice_candidate(json);
    return call(f);
  }
  v1::Response ice_servers() {
    v1::ClientFrame f;
    f.mutable_get_ice_servers();
    return call(f);
  }
  bool healthy() { return client_.ping("still here").has_ping(); }

  // The next call event (CallUpdate or CallSignal), skipping others; nullopt on timeout.
  std::optional<v1::Event> next_call_event(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      auto e = client_.next_event(left);
      if (!e) return std::nullopt;
      if (e->has_call_update() || e->has_call_signal()) return e;
    }
  }
  std::optional<v1::CallUpdate> next_update() {
    auto e = next_call_event();
    if (!e || !e->has_call_update()) {
      ADD_FAILURE() << user_.username() << " expected a CallUpdate, got "
                    << (e ? e->DebugString() : std::string("nothing"));
      return std::nullopt;
    }
    EXPECT_EQ(e->position(), 0u);  // live only
    return e->call_update();
  }
  std::optional<v1::CallSignal> next_signal() {
    auto e = next_call_event();
    if (!e || !e->has_call_signal()) {
      ADD_FAILURE() << user_.username() << " expected a CallSignal, got "
                    << (e ? e->DebugString() : std::string("nothing"));
      return std::nullopt;
    }
    EXPECT_EQ(e->position(), 0u);
    return e->call_signal();
  }
  // The call events this connection got before the answer to a Ping sent
  // now. Every event published before this returns was queued ahead of
  // that answer on the connection, so none is missed.
  std::vector<v1::Event> call_events_so_far() {
    EXPECT_TRUE(client_.ping("flush").has_ping());
    std::vector<v1::Event> out;
    while (auto e = client_.next_event(0ms)) {
      if (e->has_call_update() || e->has_call_signal()) out.push_back(*e);
    }
    return out;
  }

  uint64_t id() const { return user_.id(); }
  TestClient& client() { return client_; }

 private:
  v1::User user_;
  TestClient client_;
};

ErrorCode code_of(const v1::Response& r) { return r.error().code(); }

class Calls : public ::testing::Test {
 protected:
  void start(const std::function<void(server::ServerConfig&)>& adjust = {}) {
    auto config = test_config(dir_.path());
    config.scheduler_interval_ms = 0;  // tests run timed work by hand
    // The connection's own request limit would answer before the calls'
    // limits do; these tests measure the latter.
    config.rate_per_second = 1e6;
    config.rate_burst = 1'000'000;
    config.accounts.token_idle_timeout_ms = 365LL * 24 * 3600 * 1000;
    config.accounts.token_lifetime_ms = 400LL * 24 * 3600 * 1000;
    config.calls.stun_urls = {"stun:stun.example.org:3478"};
    config.calls.turn_urls = {"turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349"};
    config.calls.turn_secret = kTurnSecret;
    if (adjust) adjust(config);
    server_ =
        std::make_unique<TestServer>(config, &clock_, std::function<void(server::Server&)>(), &monotonic_);
    mentor_ = server_->add_user("dr.lind", v1::ROLE_MENTOR);
    mentee_ = server_->add_user("wei.chen", v1::ROLE_MENTEE);
    other_mentor_ = server_->add_user("dr.okafor", v1::ROLE_MENTOR);
    other_mentee_ = server_->add_user("sara.berg", v1::ROLE_MENTEE);
    stranger_ = server_->add_user("stranger", v1::ROLE_MENTEE);
    director_ = server_->add_user("director", v1::ROLE_PROGRAM_DIRECTOR);
  }
  uint16_t port() { return server_->port(); }

  // A meeting written as the meetings service would (store_meeting, through
  // the committer): `state`, starting at `start_ms`.
  uint64_t add_meeting(const v1::User& mentor, const v1::User& mentee, int64_t start_ms,
                       uint32_t minutes = 60, v1::MeetingState state = v1::MEETING_STATE_ACCEPTED) {
    std::promise<Status> done;
    uint64_t id = 0;
    server_->server().committer().submit(
        [&](storage::CommitContext& ctx) -> Status {
          id = ctx.next_id("meeting");
          v1::MeetingRecord rec;
          v1::Meeting* m = rec.mutable_meeting();
          m->set_id(id);
          m->set_mentor_id(mentor.id());
          m->set_mentee_id(mentee.id());
          m->set_state(state);
          m->set_start_ms(start_ms);
          m->set_duration_minutes(minutes);
          m->set_time_zone("Europe/Stockholm");
          m->mutable_where()->set_kind(v1::WHERE_KIND_IN_APP_CALL);
          m->set_proposed_by(mentee.id());
          m->set_revision(2);
          m->set_created_ms(ctx.now_ms());
          m->set_updated_ms(ctx.now_ms());
          return services::store_meeting(ctx, nullptr, rec);
        },
        [&](const Status& s) { done.set_value(s); });
    Status st = done.get_future().get();
    EXPECT_TRUE(st.is_ok()) << st.to_string();
    return id;
  }
  // `mentor` called `mentee` from their drop-in queue at `called_ms`.
  void add_queue_call(const v1::User& mentor, const v1::User& mentee, int64_t called_ms) {
    std::promise<Status> done;
    server_->server().committer().submit(
        [&](storage::CommitContext& ctx) -> Status {
          v1::QueueRecord rec;
          rec.set_called_mentee_id(mentee.id());
          rec.set_called_ms(called_ms);
          ctx.put(storage::Cf::kQueues, storage::keys::MentorKey{.mentor_id = mentor.id()}.encode(),
                  rec.SerializeAsString());
          return Status::ok();
        },
        [&](const Status& s) { done.set_value(s); });
    Status st = done.get_future().get();
    EXPECT_TRUE(st.is_ok()) << st.to_string();
  }
  // Waits (up to 5 s) until the server has `n` connections open.
  bool connections_settle_at(int64_t n) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (server_->server().metrics().connections_open.load() != n) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(1ms);
    }
    return true;
  }

  TempDir dir_;
  ManualClock clock_;
  ManualMonotonicClock monotonic_;
  std::unique_ptr<TestServer> server_;
  v1::User mentor_, mentee_, other_mentor_, other_mentee_, stranger_, director_;
};

TEST_F(Calls, RingAcceptRelayAndHangUpReachTheRightSessions) {
  start();
  const uint64_t meeting = add_meeting(mentor_, mentee_, clock_.now_ms() + 10 * kMinute);
  Device mentor_laptop(port(), mentor_), mentor_phone(port(), mentor_);
  Device mentee_laptop(port(), mentee_), mentee_phone(port(), mentee_);
  Device stranger(port(), stranger_);

  auto started = mentor_laptop.start_meeting_call(meeting);
  ASSERT_TRUE(started.has_start_call()) << started.DebugString();
  const uint64_t call = started.start_call().call_id();
  EXPECT_NE(call, 0u);
  EXPECT_EQ(started.start_call().peer_id(), mentee_.id());

  // Both of the mentee's devices ring; the caller's devices and others do not.
  for (Device* d : {&mentee_laptop, &mentee_phone}) {
    auto ring = d->next_update();
    ASSERT_TRUE(ring);
    EXPECT_EQ(ring->change(), v1::CALL_CHANGE_RINGING);
    EXPECT_EQ(ring->call_id(), call);
    EXPECT_EQ(ring->meeting_id(), meeting);
    EXPECT_EQ(ring->caller_id(), mentor_.id());
    EXPECT_EQ(ring->callee_id(), mentee_.id());
    EXPECT_EQ(ring->actor_id(), mentor_.id());
  }
  EXPECT_TRUE(mentor_laptop.call_events_so_far().empty());
  EXPECT_TRUE(mentor_phone.call_events_so_far().empty());

  // The caller may send its offer while it rings.
  ASSERT_TRUE(mentor_laptop.offer(call, "v=0 offer-sdp").has_send_call_signal());
  for (Device* d : {&mentee_laptop, &mentee_phone}) {
    auto sig = d->next_signal();
    ASSERT_TRUE(sig);
    EXPECT_EQ(sig->call_id(), call);
    EXPECT_EQ(sig->from_id(), mentor_.id());
    EXPECT_EQ(sig->sdp_offer(), "v=0 offer-sdp");
  }

  ASSERT_TRUE(mentee_phone.answer(call, true).has_answer_call());
  for (Device* d : {&mentor_laptop, &mentor_phone, &mentee_laptop, &mentee_phone}) {
    auto accepted = d->next_update();
    ASSERT_TRUE(accepted);
    EXPECT_EQ(accepted->change(), v1::CALL_CHANGE_ACCEPTED);
    EXPECT_EQ(accepted->call_id(), call);
    EXPECT_EQ(accepted->actor_id(), mentee_.id());
  }

  // The answer and candidates, each way; from_id is the server's, whatever the client wrote.
  v1::ClientFrame forged;
  auto* s = forged.mutable_send_call_signal()->mutable_signal();
  s->set_call_id(call);
  s->set_from_id(stranger_.id());
  s->set_sdp_answer("v=0 answer-sdp");
  ASSERT_TRUE(mentee_phone.call(forged).has_send_call_signal());
  ASSERT_TRUE(
      mentee_phone.candidate(call, R"({"candidate":"candidate:1 1 udp 2122260223 10.0.0.2 50000 typ host"})")
          .has_send_call_signal());
  ASSERT_TRUE(
      mentor_laptop.candidate(call, R"({"candidate":"candidate:2 1 udp 2122260223 10.0.0.3 50001 typ host"})")
          .has_send_call_signal());
  for (Device* d : {&mentor_laptop, &mentor_phone}) {
    auto answer = d->next_signal();
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->from_id(), mentee_.id());
    EXPECT_EQ(answer->sdp_answer(), "v=0 answer-sdp");
    auto cand = d->next_signal();
    ASSERT_TRUE(cand);
    EXPECT_EQ(cand->from_id(), mentee_.id());
    EXPECT_NE(cand->ice_candidate().find("10.0.0.2"), std::string::npos);
    EXPECT_TRUE(d->call_events_so_far().empty()) << "the mentor's own candidate came back";
  }
  for (Device* d : {&mentee_laptop, &mentee_phone}) {
    auto cand = d->next_signal();
    ASSERT_TRUE(cand);
    EXPECT_EQ(cand->from_id(), mentor_.id());
    EXPECT_NE(cand->ice_candidate().find("10.0.0.3"), std::string::npos);
    EXPECT_TRUE(d->call_events_so_far().empty()) << "the mentee's own signals came back";
  }

  ASSERT_TRUE(mentee_laptop.hang_up(call).has_hang_up());
  for (Device* d : {&mentor_laptop, &mentor_phone, &mentee_laptop, &mentee_phone}) {
    auto ended = d->next_update();
    ASSERT_TRUE(ended);
    EXPECT_EQ(ended->change(), v1::CALL_CHANGE_ENDED);
    EXPECT_EQ(ended->actor_id(), mentee_.id());
  }
  // The call is over: nothing more goes through it.
  auto late = mentor_laptop.offer(call, "v=0 again");
  EXPECT_EQ(code_of(late), v1::ERROR_CODE_NOT_FOUND) << late.DebugString();
  EXPECT_EQ(late.error().message(), "No call " + std::to_string(call) + " among yours.");
  EXPECT_TRUE(stranger.call_events_so_far().empty());
  EXPECT_TRUE(mentee_laptop.call_events_so_far().empty());
}

TEST_F(Calls, DeclineTellsTheCallerAndFreesBoth) {
  start();
  const uint64_t meeting = add_meeting(mentor_, mentee_, clock_.now_ms() + 5 * kMinute);
  Device mentor(port(), mentor_);
  Device mentee_laptop(port(), mentee_), mentee_phone(port(), mentee_);
  auto started = mentee_laptop.start_meeting_call(meeting);  // either member may call
  ASSERT_TRUE(started.has_start_call()) << started.DebugString();
  const uint64_t call = started.start_call().call_id();
  EXPECT_EQ(started.start_call().peer_id(), mentor_.id());
  ASSERT_EQ(mentor.next_update()->change(), v1::CALL_CHANGE_RINGING);

  // Only the one called answers.
  EXPECT_EQ(code_of(mentee_phone.answer(call, true)), v1::ERROR_CODE_FAILED_PRECONDITION);

  ASSERT_TRUE(mentor.answer(call, false).has_answer_call());
  for (Device* d : {&mentee_laptop, &mentee_phone, &mentor}) {
    auto declined = d->next_update();
    ASSERT_TRUE(declined);
    EXPECT_EQ(declined->change(), v1::CALL_CHANGE_DECLINED);
    EXPECT_EQ(declined->actor_id(), mentor_.id());
  }
  EXPECT_EQ(code_of(mentee_laptop.offer(call, "v=0")), v1::ERROR_CODE_NOT_FOUND);
  EXPECT_EQ(code_of(mentor.answer(call, true)), v1::ERROR_CODE_NOT_FOUND);
  // Neither is in a call any more: they can call again.
  auto again = mentor.start_meeting_call(meeting);
  ASSERT_TRUE(again.has_start_call()) << again.DebugString();
  EXPECT_NE(again.start_call().call_id(), call);
}

TEST_F(Calls, NobodyOutsideThePairTouchesACall) {
  start();
  const int64_t soon = clock_.now_ms() + 5 * kMinute;
  const uint64_t meeting = add_meeting(mentor_, mentee_, soon);
  const uint64_t other_meeting = add_meeting(other_mentor_, other_mentee_, soon);
  Device mentor(port(), mentor_), mentee(port(), mentee_);
  Device other_mentor(port(), other_mentor_), other_mentee(port(), other_mentee_);
  Device stranger(port(), stranger_), director(port(), director_);

  // Starting a call for someone else's meeting.
  for (Device* d : {&stranger, &other_mentor, &other_mentee}) {
    auto r = d->start_meeting_call(meeting);
    EXPECT_EQ(code_of(r), v1::ERROR_CODE_NOT_FOUND) << r.DebugString();
    EXPECT_EQ(r.error().message(), "No meeting " + std::to_string(meeting) + " among yours.");
    EXPECT_EQ(r.error().field(), "meeting_id");
  }
  EXPECT_EQ(code_of(director.start_meeting_call(meeting)), v1::ERROR_CODE_PERMISSION_DENIED);
  // ...or one that does not exist, the same answer.
  EXPECT_EQ(code_of(mentor.start_meeting_call(meeting + 1000)), v1::ERROR_CODE_NOT_FOUND);
  // Calling a mentee "from the queue" without having called them.
  EXPECT_EQ(code_of(other_mentor.start_queue_call(mentee_.id())), v1::ERROR_CODE_FAILED_PRECONDITION);
  EXPECT_EQ(code_of(stranger.start_queue_call(mentee_.id())), v1::ERROR_CODE_PERMISSION_DENIED);
  EXPECT_EQ(code_of(director.start_queue_call(mentee_.id())), v1::ERROR_CODE_PERMISSION_DENIED);

  auto started = mentor.start_meeting_call(meeting);
  ASSERT_TRUE(started.has_start_call()) << started.DebugString();
  const uint64_t call = started.start_call().call_id();
  ASSERT_EQ(mentee.next_update()->change(), v1::CALL_CHANGE_RINGING);
  // The other pair's call, running beside it.
  auto other_started = other_mentee.start_meeting_call(other_meeting);
  ASSERT_TRUE(other_started.has_start_call()) << other_started.DebugString();
  const uint64_t other_call = other_started.start_call().call_id();
  ASSERT_EQ(other_mentor.next_update()->change(), v1::CALL_CHANGE_RINGING);

  const std::string not_ours = "No call " + std::to_string(call) + " among yours.";
  for (Device* d : {&stranger, &other_mentor, &other_mentee, &director}) {
    for (const v1::Response& r :
         {d->answer(call, true), d->answer(call, false), d->offer(call, "v=0 intruder"),
          d->candidate(call, R"({"candidate":"x"})"), d->hang_up(call)}) {
      EXPECT_EQ(code_of(r), v1::ERROR_CODE_NOT_FOUND) << r.DebugString();
      EXPECT_EQ(r.error().message(), not_ours);
    }
  }
  // Members of one call cannot reach into the other.
  EXPECT_EQ(code_of(mentor.offer(other_call, "v=0")), v1::ERROR_CODE_NOT_FOUND);
  EXPECT_EQ(code_of(mentee.hang_up(other_call)), v1::ERROR_CODE_NOT_FOUND);

  // The call is untouched: it still rings, and answering it works.
  ASSERT_TRUE(mentee.answer(call, true).has_answer_call());
  EXPECT_EQ(mentor.next_update()->change(), v1::CALL_CHANGE_ACCEPTED);
  EXPECT_EQ(mentee.next_update()->change(), v1::CALL_CHANGE_ACCEPTED);
  // Nothing of it reached anyone else.
  for (Device* d : {&stranger, &director, &other_mentee}) EXPECT_TRUE(d->call_events_so_far().empty());
  EXPECT_TRUE(other_mentor.call_events_so_far().empty());
}

TEST_F(Calls, StartNeedsAnAcceptedMeetingAtItsTimeAndTheOtherOnline) {
  start();
  const int64_t t0 = clock_.now_ms();
  const uint64_t proposed = add_meeting(mentor_, mentee_, t0 + 5 * kMinute, 60, v1::MEETING_STATE_PROPOSED);
  const uint64_t later = add_meeting(mentor_, mentee_, t0 + 120 * kMinute, 30);
  Device mentor(port(), mentor_);

  auto r = mentor.start_meeting_call(proposed);
  EXPECT_EQ(code_of(r), v1::ERROR_CODE_FAILED_PRECONDITION) << r.DebugString();

  // Too early: the sentence says from when.
  r = mentor.start_meeting_call(later);
  EXPECT_EQ(code_of(r), v1::ERROR_CODE_FAILED_PRECONDITION) << r.DebugString();
  EXPECT_NE(r.error().message().find("can start from"), std::string::npos) << r.error().message();

  // In the window, but the mentee is not connected.
  clock_.advance_ms(106 * kMinute);  // 14 minutes before the start
  r = mentor.start_meeting_call(later);
  EXPECT_EQ(code_of(r), v1::ERROR_CODE_FAILED_PRECONDITION) << r.DebugString();
  EXPECT_NE(r.error().message().find("not connected"), std::string::npos) << r.error().message();

  {
    Device mentee(port(), mentee_);
    r = mentor.start_meeting_call(later);
    ASSERT_TRUE(r.has_start_call()) << r.DebugString();
    const uint64_t call = r.start_call().call_id();
    // One call per user at a time, either side.
    EXPECT_EQ(code_of(mentor.start_meeting_call(later)), v1::ERROR_CODE_FAILED_PRECONDITION);
    EXPECT_EQ(code_of(mentee.start_meeting_call(later)), v1::ERROR_CODE_FAILED_PRECONDITION);
    ASSERT_TRUE(mentor.hang_up(call).has_hang_up());

    // Too late: an hour after the end (start + 30 min) is the last moment.
    clock_.set_ms(t0 + 120 * kMinute + 30 * kMinute + 60 * kMinute);
    r = mentor.start_meeting_call(later);
    ASSERT_TRUE(r.has_start_call()) << r.DebugString();
    ASSERT_TRUE(mentee.hang_up(r.start_call().call_id()).has_hang_up());
    clock_.advance_ms(1000);
    r = mentor.start_meeting_call(later);
    EXPECT_EQ(code_of(r), v1::ERROR_CODE_FAILED_PRECONDITION) << r.DebugString();
    EXPECT_NE(r.error().message().find("ended at"), std::string::npos) << r.error().message();
  }

  // Neither or both of meeting_id and mentee_id.
  v1::ClientFrame f;
  f.mutable_start_call();
  EXPECT_EQ(code_of(mentor.call(f)), v1::ERROR_CODE_INVALID_ARGUMENT);
  f.mutable_start_call()->set_meeting_id(later);
  f.mutable_start_call()->set_mentee_id(mentee_.id());
  EXPECT_EQ(code_of(mentor.call(f)), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_TRUE(mentor.healthy());
}

TEST_F(Calls, AMentorCallsTheMenteeTheyCalledFromTheQueue) {
  start();
  add_queue_call(mentor_, mentee_, clock_.now_ms());
  Device mentor(port(), mentor_), mentee(port(), mentee_), other_mentor(port(), other_mentor_);

  // Only that mentor, and only that mentee.
  EXPECT_EQ(code_of(other_mentor.start_queue_call(mentee_.id())), v1::ERROR_CODE_FAILED_PRECONDITION);
  EXPECT_EQ(code_of(mentor.start_queue_call(other_mentee_.id())), v1::ERROR_CODE_FAILED_PRECONDITION);
  EXPECT_EQ(code_of(mentee.start_queue_call(mentee_.id())), v1::ERROR_CODE_PERMISSION_DENIED);

  auto r = mentor.start_queue_call(mentee_.id());
  ASSERT_TRUE(r.has_start_call()) << r.DebugString();
  auto ring = mentee.next_update();
  ASSERT_TRUE(ring);
  EXPECT_EQ(ring->change(), v1::CALL_CHANGE_RINGING);
  EXPECT_EQ(ring->meeting_id(), 0u);
  EXPECT_EQ(ring->caller_id(), mentor_.id());
  ASSERT_TRUE(mentor.hang_up(r.start_call().call_id()).has_hang_up());

  // Half an hour after CallNext the call can no longer be started.
  clock_.advance_ms(31 * kMinute);
  r = mentor.start_queue_call(mentee_.id());
  EXPECT_EQ(code_of(r), v1::ERROR_CODE_FAILED_PRECONDITION) << r.DebugString();
  EXPECT_NE(r.error().message().find("CallNext"), std::string::npos);
}

TEST_F(Calls, OversizedOrEmptySignalsAreRefused) {
  start();
  const uint64_t meeting = add_meeting(mentor_, mentee_, clock_.now_ms());
  Device mentor(port(), mentor_), mentee(port(), mentee_);
  auto r = mentor.start_meeting_call(meeting);
  ASSERT_TRUE(r.has_start_call()) << r.DebugString();
  const uint64_t call = r.start_call().call_id();
  ASSERT_EQ(mentee.next_update()->change(), v1::CALL_CHANGE_RINGING);
  ASSERT_TRUE(mentee.answer(call, true).has_answer_call());
  ASSERT_EQ(mentee.next_update()->change(), v1::CALL_CHANGE_ACCEPTED);
  ASSERT_EQ(mentor.next_update()->change(), v1::CALL_CHANGE_ACCEPTED);

  const std::string sdp_max(services::kMaxCallSdpBytes, 'o');
  EXPECT_TRUE(mentor.offer(call, sdp_max).has_send_call_signal());
  auto big = mentor.offer(call, sdp_max + "o");
  EXPECT_EQ(code_of(big), v1::ERROR_CODE_INVALID_ARGUMENT) << big.DebugString();
  EXPECT_EQ(big.error().field(), "signal.sdp_offer");
  big = mentee.sdp_answer(call, std::string(services::kMaxCallSdpBytes + 1, 'a'));
  EXPECT_EQ(code_of(big), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_EQ(big.error().field(), "signal.sdp_answer");
  const std::string cand_max(services::kMaxCallCandidateBytes, 'c');
  EXPECT_TRUE(mentee.candidate(call, cand_max).has_send_call_signal());
  big = mentee.candidate(call, cand_max + "c");
  EXPECT_EQ(code_of(big), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_EQ(big.error().field(), "signal.ice_candidate");
  EXPECT_EQ(code_of(mentee.candidate(call, "")), v1::ERROR_CODE_INVALID_ARGUMENT);
  v1::ClientFrame none;
  none.mutable_send_call_signal()->mutable_signal()->set_call_id(call);
  EXPECT_EQ(code_of(mentor.call(none)), v1::ERROR_CODE_INVALID_ARGUMENT);

  // Only what passed was relayed, and both connections still work.
  auto offer = mentee.next_signal();
  ASSERT_TRUE(offer);
  EXPECT_EQ(offer->sdp_offer().size(), services::kMaxCallSdpBytes);
  auto cand = mentor.next_signal();
  ASSERT_TRUE(cand);
  EXPECT_EQ(cand->ice_candidate().size(), services::kMaxCallCandidateBytes);
  EXPECT_TRUE(mentor.call_events_so_far().empty());
  EXPECT_TRUE(mentee.call_events_so_far().empty());
  EXPECT_TRUE(mentor.healthy());
  EXPECT_TRUE(mentee.healthy());
}

TEST_F(Calls, SignalRateAndPerCallCapAnswerResourceExhausted) {
  start();
  const uint64_t meeting = add_meeting(mentor_, mentee_, clock_.now_ms());
  Device mentor(port(), mentor_), mentee(port(), mentee_);
  auto r = mentor.start_meeting_call(meeting);
  ASSERT_TRUE(r.has_start_call()) << r.DebugString();
  const uint64_t call = r.start_call().call_id();
  ASSERT_TRUE(mentee.answer(call, true).has_answer_call());
  const std::string cand = R"({"candidate":"candidate:1 1 udp 1 10.0.0.2 5000 typ host"})";

  // The burst, at one instant (the monotonic clock stands still).
  for (int64_t i = 0; i < services::kCallSignalBurst; ++i)
    ASSERT_TRUE(mentor.candidate(call, cand).has_send_call_signal()) << i;
  auto limited = mentor.candidate(call, cand);
  ASSERT_EQ(code_of(limited), v1::ERROR_CODE_RESOURCE_EXHAUSTED) << limited.DebugString();
  EXPECT_GT(limited.error().retry_after_ms(), 0);
  // The limit is the sender's: the other member still signals.
  EXPECT_TRUE(mentee.candidate(call, cand).has_send_call_signal());
  EXPECT_TRUE(mentor.healthy());
  // After the wait it names, one more goes through.
  monotonic_.advance_ms(limited.error().retry_after_ms());
  EXPECT_TRUE(mentor.candidate(call, cand).has_send_call_signal());

  // The whole call relays at most max_signals_per_call, both members together.
  size_t sent = services::kCallSignalBurst + 2;
  const size_t cap = services::CallOptions{}.max_signals_per_call;
  for (int round = 0; sent < cap; ++round) {
    monotonic_.advance_ms(10'000);  // both buckets full again
    Device& who = round % 2 ? mentor : mentee;
    for (int64_t i = 0; i < services::kCallSignalBurst && sent < cap; ++i, ++sent)
      ASSERT_TRUE(who.candidate(call, cand).has_send_call_signal()) << sent;
  }
  monotonic_.advance_ms(10'000);
  for (Device* d : {&mentor, &mentee}) {
    auto over = d->candidate(call, cand);
    EXPECT_EQ(code_of(over), v1::ERROR_CODE_RESOURCE_EXHAUSTED) << over.DebugString();
    EXPECT_NE(over.error().message().find("2000"), std::string::npos) << over.error().message();
    EXPECT_TRUE(d->healthy());
  }
  // Every relayed signal arrived, none of the refused ones.
  size_t received = 0;
  for (Device* d : {&mentor, &mentee}) {
    for (const auto& e : d->call_events_so_far()) received += e.has_call_signal() ? 1 : 0;
  }
  EXPECT_EQ(received, cap);
  // Hanging up still works.
  ASSERT_TRUE(mentee.hang_up(call).has_hang_up());
  EXPECT_EQ(mentor.next_update()->change(), v1::CALL_CHANGE_ENDED);
}

TEST_F(Calls, TheServerCarriesAtMostMaxCalls) {
  start([](server::ServerConfig& c) { c.calls.max_calls = 1; });
  const int64_t soon = clock_.now_ms() + 5 * kMinute;
  const uint64_t meeting = add_meeting(mentor_, mentee_, soon);
  const uint64_t other_meeting = add_meeting(other_mentor_, other_mentee_, soon);
  Device mentor(port(), mentor_), mentee(port(), mentee_);
  Device other_mentor(port(), other_mentor_), other_mentee(port(), other_mentee_);
  auto first = mentor.start_meeting_call(meeting);
  ASSERT_TRUE(first.has_start_call()) << first.DebugString();
  auto second = other_mentor.start_meeting_call(other_meeting);
  EXPECT_EQ(code_of(second), v1::ERROR_CODE_RESOURCE_EXHAUSTED) << second.DebugString();
  EXPECT_GT(second.error().retry_after_ms(), 0);
  EXPECT_TRUE(other_mentee.call_events_so_far().empty());
  EXPECT_TRUE(other_mentor.healthy());
  // Room again once the first ends.
  ASSERT_TRUE(mentee.hang_up(first.start_call().call_id()).has_hang_up());
  EXPECT_TRUE(other_mentor.start_meeting_call(other_meeting).has_start_call());
}

TEST_F(Calls, ARingNobodyAnswersEndsAfterAMinute) {
  start();
  const uint64_t meeting = add_meeting(mentor_, mentee_, clock_.now_ms());
  Device mentor(port(), mentor_), mentee(port(), mentee_);
  auto r = mentor.start_meeting_call(meeting);
  ASSERT_TRUE(r.has_start_call());
  const uint64_t call = r.start_call().call_id();
  ASSERT_EQ(mentee.next_update()->change(), v1::CALL_CHANGE_RINGING);

  // By the timed work.
  monotonic_.advance_ms(59'000);
  server_->server().run_scheduler_once();
  EXPECT_TRUE(mentor.call_events_so_far().empty());
  monotonic_.advance_ms(1'000);
  server_->server().run_scheduler_once();
  for (Device* d : {&mentor, &mentee}) {
    auto ended = d->next_update();
    ASSERT_TRUE(ended);
    EXPECT_EQ(ended->change(), v1::CALL_CHANGE_ENDED);
    EXPECT_EQ(ended->call_id(), call);
    EXPECT_EQ(ended->actor_id(), 0u);
    EXPECT_NE(ended->reason().find("Not answered"), std::string::npos) << ended->reason();
  }
  EXPECT_EQ(code_of(mentee.answer(call, true)), v1::ERROR_CODE_NOT_FOUND);

  // Or by the next call request, whoever sends it.
  r = mentor.start_meeting_call(meeting);
  ASSERT_TRUE(r.has_start_call());
  const uint64_t second = r.start_call().call_id();
  ASSERT_EQ(mentee.next_update()->change(), v1::CALL_CHANGE_RINGING);
  monotonic_.advance_ms(61'000);
  EXPECT_EQ(code_of(mentee.answer(second, true)), v1::ERROR_CODE_NOT_FOUND);
  EXPECT_EQ(mentor.next_update()->change(), v1::CALL_CHANGE_ENDED);
  EXPECT_EQ(mentee.next_update()->change(), v1::CALL_CHANGE_ENDED);

  // An answered call does not time out.
  r = mentor.start_meeting_call(meeting);
  ASSERT_TRUE(r.has_start_call());
  ASSERT_TRUE(mentee.answer(r.start_call().call_id(), true).has_answer_call());
  monotonic_.advance_ms(3'600'000);
  server_->server().run_scheduler_once();
  EXPECT_TRUE(mentor.offer(r.start_call().call_id(), "v=0").has_send_call_signal());
}

TEST_F(Calls, AMemberWhoseLastSessionLeavesEndsTheCall) {
  start();
  const uint64_t meeting = add_meeting(mentor_, mentee_, clock_.now_ms());
  Device mentor(port(), mentor_);
  auto mentee_laptop = std::make_unique<Device>(port(), mentee_);
  auto mentee_phone = std::make_unique<Device>(port(), mentee_);
  auto r = mentor.start_meeting_call(meeting);
  ASSERT_TRUE(r.has_start_call()) << r.DebugString();
  const uint64_t call = r.start_call().call_id();
  ASSERT_TRUE(mentee_phone->answer(call, true).has_answer_call());
  ASSERT_EQ(mentor.next_update()->change(), v1::CALL_CHANGE_ACCEPTED);

  // One of the mentee's devices goes: the call goes on.
  mentee_laptop->client().drop();
  mentee_laptop.reset();
  ASSERT_TRUE(connections_settle_at(2));
  EXPECT_TRUE(mentor.offer(call, "v=0 renegotiate").has_send_call_signal());
  EXPECT_TRUE(mentor.call_events_so_far().empty());

  // The last one goes (no WebSocket close: the network dropped): it ends.
  mentee_phone->client().drop();
  auto ended = mentor.next_update();
  ASSERT_TRUE(ended);
  EXPECT_EQ(ended->change(), v1::CALL_CHANGE_ENDED);
  EXPECT_EQ(ended->call_id(), call);
  EXPECT_EQ(ended->actor_id(), mentee_.id());
  EXPECT_NE(ended->reason().find("disconnected"), std::string::npos);
  EXPECT_EQ(code_of(mentor.offer(call, "v=0")), v1::ERROR_CODE_NOT_FOUND);
  // The mentor is free again (and the mentee is not there to call).
  auto again = mentor.start_meeting_call(meeting);
  EXPECT_NE(again.error().message().find("not connected"), std::string::npos) << again.DebugString();
}

// coturn (use-auth-secret) accepts a credential when base64(HMAC-SHA1(secret,
// username)) matches and the username's expiry is ahead: computed here
// independently with the openssl command.
TEST_F(Calls, IceServersCarryCoturnCredentials) {
  clock_.set_ms(1'800'000'000'123);
  start();
  Device mentee(port(), mentee_), director(port(), director_);
  auto r = mentee.ice_servers();
  ASSERT_TRUE(r.has_get_ice_servers()) << r.DebugString();
  const auto& result = r.get_ice_servers();
  ASSERT_EQ(result.ice_servers_size(), 2);
  const v1::IceServer& stun = result.ice_servers(0);
  ASSERT_EQ(stun.urls_size(), 1);
  EXPECT_EQ(stun.urls(0), "stun:stun.example.org:3478");
  EXPECT_TRUE(stun.username().empty());
  EXPECT_TRUE(stun.credential().empty());
  const v1::IceServer& turn = result.ice_servers(1);
  ASSERT_EQ(turn.urls_size(), 2);
  EXPECT_EQ(turn.urls(0), "turn:turn.example.org:3478?transport=udp");
  EXPECT_EQ(turn.urls(1), "turns:turn.example.org:5349");

  const int64_t expiry = 1'800'000'000 + 3600;
  EXPECT_EQ(turn.username(), std::to_string(expiry) + ":" + std::to_string(mentee_.id()));
  EXPECT_EQ(result.expires_ms(), expiry * 1000);
  auto [status, out] = run_command("printf '%s' '" + turn.username() + "' | openssl dgst -sha1 -hmac '" +
                                   kTurnSecret + "' -binary | base64");
  ASSERT_EQ(status, 0) << out;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  EXPECT_EQ(turn.credential(), out);
  EXPECT_EQ(turn.credential().size(), 28u);  // 20 bytes, base64 with padding

  // Each user gets their own; a later request a later expiry.
  clock_.advance_ms(10'000);
  auto d = director.ice_servers();
  ASSERT_TRUE(d.has_get_ice_servers());
  ASSERT_EQ(d.get_ice_servers().ice_servers_size(), 2);
  EXPECT_EQ(d.get_ice_servers().ice_servers(1).username(),
            std::to_string(expiry + 10) + ":" + std::to_string(director_.id()));
  EXPECT_NE(d.get_ice_servers().ice_servers(1).credential(), turn.credential());
}

TEST_F(Calls, NoIceServersConfiguredGivesAnEmptyList) {
  start([](server::ServerConfig& c) { c.calls = services::CallOptions{}; });
  Device mentee(port(), mentee_);
  auto r = mentee.ice_servers();
  ASSERT_TRUE(r.has_get_ice_servers()) << r.DebugString();
  EXPECT_EQ(r.get_ice_servers().ice_servers_size(), 0);
  EXPECT_EQ(r.get_ice_servers().expires_ms(), 0);
}

TEST(CallsConfig, FlagsEnvironmentAndSecretFile) {
  TempDir dir;
  const std::string secret_file = (dir.path() / "turn-secret").string();
  {
    std::ofstream f(secret_file);
    f << "  from-a-file \n";
  }
  {
    const char* argv[] = {"preceptor-server",
                          "--stun-url",
                          "stun:a.example.org:3478",
                          "--stun-url",
                          "stun:b.example.org:3478, stuns:c.example.org:5349",
                          "--turn-url",
                          "turn:t.example.org:3478?transport=udp",
                          "--turn-secret-file",
                          secret_file.c_str(),
                          "--turn-ttl-seconds",
                          "600"};
    auto out = server::parse_config(static_cast<int>(std::size(argv)), argv);
    ASSERT_EQ(out.kind, server::ConfigOutcome::Kind::kRun) << out.text;
    EXPECT_EQ(out.config.calls.stun_urls,
              (std::vector<std::string>{"stun:a.example.org:3478", "stun:b.example.org:3478",
                                        "stuns:c.example.org:5349"}));
    EXPECT_EQ(out.config.calls.turn_urls, std::vector<std::string>{"turn:t.example.org:3478?transport=udp"});
    EXPECT_EQ(out.config.calls.turn_secret, "from-a-file");
    EXPECT_EQ(out.config.calls.turn_ttl_seconds, 600);
  }
  {
    const char* argv[] = {"preceptor-server"};
    auto out = server::parse_config(1, argv);
    ASSERT_EQ(out.kind, server::ConfigOutcome::Kind::kRun) << out.text;
    EXPECT_TRUE(out.config.calls.stun_urls.empty());
    EXPECT_TRUE(out.config.calls.turn_urls.empty());
    EXPECT_EQ(out.config.calls.turn_ttl_seconds, 3600);
  }
  {
    // The environment, as a deployment gives the secret (not in ps).
    ::setenv("PRECEPTOR_TURN_URL", "turn:t.example.org:3478,turns:t.example.org:5349", 1);
    ::setenv("PRECEPTOR_TURN_SECRET", "from-the-environment", 1);
    const char* argv[] = {"preceptor-server"};
    auto out = server::parse_config(1, argv);
    ::unsetenv("PRECEPTOR_TURN_URL");
    ::unsetenv("PRECEPTOR_TURN_SECRET");
    ASSERT_EQ(out.kind, server::ConfigOutcome::Kind::kRun) << out.text;
    EXPECT_EQ(out.config.calls.turn_urls,
              (std::vector<std::string>{"turn:t.example.org:3478", "turns:t.example.org:5349"}));
    EXPECT_EQ(out.config.calls.turn_secret, "from-the-environment");
  }
  auto refused = [](std::vector<const char*> args, const std::string& says) {
    args.insert(args.begin(), "preceptor-server");
    auto out = server::parse_config(static_cast<int>(args.size()), args.data());
    EXPECT_EQ(out.kind, server::ConfigOutcome::Kind::kError) << says;
    EXPECT_NE(out.text.find(says), std::string::npos) << out.text;
  };
  refused({"--turn-url", "turn:t.example.org"}, "secret");
  refused({"--turn-url", "http://t.example.org", "--turn-secret", "x"}, "--turn-url");
  refused({"--stun-url", "turn:t.example.org"}, "--stun-url");
  refused({"--turn-secret", "x", "--turn-secret-file", secret_file.c_str()}, "give one of them");
  const std::string missing = (dir.path() / "missing").string();
  refused({"--turn-secret-file", missing.c_str()}, "Cannot read the TURN secret");
  refused({"--turn-ttl-seconds", "5"}, "--turn-ttl-seconds");
}

}  // namespace
}  // namespace preceptor::testing
