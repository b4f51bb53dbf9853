// preceptor::client::Client against a real server: signing in, errors,
// reconnects, and the ways a session ends.
#include "preceptor/client/client.h"

#include <gtest/gtest.h>

#include <atomic>

#include "preceptor/client/server_url.h"
#include "tests/client/client_test_util.h"

namespace preceptor::testing {
namespace {

using ClientTest = ClientFixture;

TEST_F(ClientTest, LoginThenReconnectWithTheSavedTokenAlone) {
  const v1::User wei = server_->add_user("wei.chen");
  std::string token;
  {
    Recorder rec;
    auto c = signed_in("wei.chen", &rec);
    token = c->token();
    EXPECT_EQ(token.size(), 64u);
    EXPECT_EQ(c->user().id(), wei.id());
    EXPECT_GE(rec.count(State::kConnecting), 1);
    EXPECT_GE(rec.count(State::kConnected), 1);
  }
  client::Options o = options();
  o.token = token;
  Recorder rec;
  auto again = started(o, &rec);
  ASSERT_TRUE(rec.wait_count(State::kAuthenticated, 1));
  auto me = again->who_am_i_sync({});
  ASSERT_TRUE(me) << me.status().to_string();
  EXPECT_EQ(me->user().username(), "wei.chen");
  EXPECT_EQ(me->device_name(), "test");
  EXPECT_EQ(again->user().id(), wei.id());
}

TEST_F(ClientTest, PingWorksBeforeSigningIn) {
  auto c = started(options());
  v1::Ping ping;
  ping.set_payload("are you there");
  auto pong = c->ping_sync(ping);
  ASSERT_TRUE(pong) << pong.status().to_string();
  EXPECT_EQ(pong->payload(), "are you there");
  EXPECT_GT(pong->server_time_ms(), 0);
}

TEST_F(ClientTest, WrongPasswordIsUnauthenticatedWithTheServersSentence) {
  server_->add_user("lucia.garcia");
  auto c = started(options());
  v1::Login l = login_of("lucia.garcia");
  l.set_password("not-her-password");
  auto r = c->login_sync(l);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), v1::ERROR_CODE_UNAUTHENTICATED);
  EXPECT_EQ(r.status().message(), "Wrong username or password.");
  EXPECT_TRUE(c->token().empty());
  // The connection stays usable: the right password works on it.
  auto ok = c->login_sync(login_of("lucia.garcia"));
  ASSERT_TRUE(ok) << ok.status().to_string();
}

TEST_F(ClientTest, RequestsBeforeSigningInAreRefusedByTheServer) {
  auto c = started(options());
  auto r = c->who_am_i_sync({});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), v1::ERROR_CODE_UNAUTHENTICATED);
  EXPECT_FALSE(r.status().message().empty());
}

TEST_F(ClientTest, ServerErrorKeepsCodeMessageAndField) {
  server_->add_user("mentee.ana");
  auto c = signed_in("mentee.ana");
  v1::RevokeTokens revoke;
  revoke.set_username("mentee.ana");
  auto r = c->revoke_tokens_sync(revoke);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), v1::ERROR_CODE_PERMISSION_DENIED);
  EXPECT_EQ(r.status().message(), "Only an administrator can end another person's sessions.");
}

TEST_F(ClientTest, ReconnectsAndSignsInAgainByItselfAfterTheConnectionDrops) {
  server_->add_user("priya.raman", v1::ROLE_MENTOR);
  Recorder rec;
  auto c = signed_in("priya.raman", &rec);
  auto first = c->who_am_i_sync({});
  ASSERT_TRUE(first) << first.status().to_string();

  for (int round = 1; round <= 3; ++round) {
    c->drop_connection_for_test();
    ASSERT_TRUE(rec.wait_count(State::kAuthenticated, 1 + round)) << "round " << round;
  }
  // Every drop was reported as a disconnect the client recovers from.
  int disconnects = 0;
  for (const auto& s : rec.states()) {
    if (s.state != State::kDisconnected) continue;
    ++disconnects;
    EXPECT_TRUE(s.will_reconnect) << s.reason;
  }
  EXPECT_EQ(disconnects, 3);
  auto again = c->who_am_i_sync({});
  ASSERT_TRUE(again) << again.status().to_string();
  EXPECT_EQ(again->user().username(), "priya.raman");
  EXPECT_NE(again->connection_id(), first->connection_id());
  EXPECT_EQ(c->token().size(), 64u);
}

TEST_F(ClientTest, RequestInFlightWhenTheConnectionDropsFailsUnavailable) {
  server_->add_user("omar.haddad");
  Recorder rec;
  auto c = signed_in("omar.haddad", &rec);
  std::mutex mu;
  std::vector<Status> outcomes;
  // The request goes out, then the connection drops before its reply can be read.
  ASSERT_NO_FATAL_FAILURE(on_client_thread(*c, [&] {
    c->who_am_i({}, [&](Result<v1::WhoAmIResult> r) {
      std::lock_guard lock(mu);
      outcomes.push_back(r.status());
    });
    c->drop_connection_for_test();
  }));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mu);
    return !outcomes.empty();
  }));
  ASSERT_TRUE(rec.wait_count(State::kAuthenticated, 2));
  // A round trip after the reconnect: the dropped request's callback did not fire again.
  ASSERT_TRUE(c->who_am_i_sync({}));
  std::lock_guard lock(mu);
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].code(), v1::ERROR_CODE_UNAVAILABLE);
  EXPECT_EQ(outcomes[0].message(), "The connection dropped; retry.");
}

TEST_F(ClientTest, RevokedSessionEndsAndTheClientStopsReconnecting) {
  server_->add_user("admin.ada", v1::ROLE_ADMIN);
  server_->add_user("mentor.erik", v1::ROLE_MENTOR);
  Recorder rec;
  auto mentor = signed_in("mentor.erik", &rec);
  auto admin = signed_in("admin.ada");

  v1::RevokeTokens revoke;
  revoke.set_username("mentor.erik");
  auto r = admin->revoke_tokens_sync(revoke);
  ASSERT_TRUE(r) << r.status().to_string();
  EXPECT_EQ(r->revoked(), 1u);

  ASSERT_TRUE(rec.wait_stopped());
  EXPECT_NE(rec.stop_reason().find("session ended"), std::string::npos) << rec.stop_reason();
  bool saw_session_ended = false;
  for (const auto& e : rec.events()) saw_session_ended |= e.has_session_ended();
  EXPECT_TRUE(saw_session_ended);
  EXPECT_EQ(mentor->state(), State::kDisconnected);

  // Requests now fail at once, and the client never connects again.
  const int connecting_before = rec.count(State::kConnecting);
  auto after = mentor->who_am_i_sync({}, 5s);
  ASSERT_FALSE(after);
  EXPECT_EQ(after.status().code(), v1::ERROR_CODE_UNAUTHENTICATED);
  EXPECT_EQ(rec.count(State::kConnecting), connecting_before);
  // The admin is untouched.
  EXPECT_TRUE(admin->who_am_i_sync({}));
}

TEST_F(ClientTest, SavedTokenThatNoLongerWorksStopsTheClient) {
  client::Options o = options();
  o.token = std::string(64, 'a');
  Recorder rec;
  auto c = started(o, &rec);
  ASSERT_TRUE(rec.wait_stopped());
  EXPECT_NE(rec.stop_reason().find("sign in again"), std::string::npos) << rec.stop_reason();
  EXPECT_TRUE(c->token().empty());
  auto r = c->who_am_i_sync({}, 5s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), v1::ERROR_CODE_UNAUTHENTICATED);
}

TEST_F(ClientTest, LogoutSignsOutAndStops) {
  server_->add_user("ines.duarte");
  Recorder rec;
  auto c = signed_in("ines.duarte", &rec);
  const std::string token = c->token();
  auto r = c->logout_sync({});
  ASSERT_TRUE(r) << r.status().to_string();
  ASSERT_TRUE(rec.wait_stopped());
  EXPECT_TRUE(c->token().empty());

  // The token is dead for everyone.
  client::Options o = options();
  o.token = token;
  Recorder rec2;
  auto again = started(o, &rec2);
  ASSERT_TRUE(rec2.wait_stopped());
  EXPECT_EQ(rec2.count(State::kAuthenticated), 0);
}

TEST_F(ClientTest, RequestsMadeWhileOfflineGoOutOnceBackOnline) {
  server_->add_user("kofi.mensah");
  Recorder rec;
  auto c = signed_in("kofi.mensah", &rec);
  c->go_offline();
  ASSERT_TRUE(rec.wait_stopped());

  std::atomic<int> calls{0};
  std::string username;
  c->who_am_i({}, [&](Result<v1::WhoAmIResult> r) {
    if (r) username = r->user().username();
    ++calls;
  });
  c->go_online();
  ASSERT_TRUE(eventually([&] { return calls.load() == 1; }));
  EXPECT_EQ(username, "kofi.mensah");
  EXPECT_EQ(rec.count(State::kAuthenticated), 2);
}

TEST_F(ClientTest, ServerRestartIsRiddenOutWithTheSameToken) {
  server_->add_user("hana.sato");
  Recorder rec;
  auto c = signed_in("hana.sato", &rec);
  const uint16_t port = server_->port();

  const int disconnects_before = rec.count(State::kDisconnected);
  server_.reset();  // drains: sessions are closed with 1001
  ASSERT_TRUE(rec.wait_count(State::kDisconnected, disconnects_before + 1));
  for (const auto& s : rec.states()) {
    if (s.state == State::kDisconnected) {
      EXPECT_TRUE(s.will_reconnect) << s.reason;
    }
  }
  start_server(port);  // same data, same port
  ASSERT_TRUE(rec.wait_count(State::kAuthenticated, 2, 20s));
  auto me = c->who_am_i_sync({});
  ASSERT_TRUE(me) << me.status().to_string();
  EXPECT_EQ(me->user().username(), "hana.sato");
}

TEST_F(ClientTest, StartRefusesABadUrl) {
  client::Options o;
  o.url = "http://127.0.0.1:8080";
  Client c(o);
  Status st = c.start();
  EXPECT_EQ(st.code(), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_EQ(st.field(), "url");
}

TEST(ServerUrl, ParsesWhatPeopleType) {
  auto a = client::parse_server_url("ws://127.0.0.1:8080");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8080);
  EXPECT_EQ(a->path, "/v1/ws");
  auto b = client::parse_server_url("chat.example.org:9000/custom/ws");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "chat.example.org");
  EXPECT_EQ(b->port, 9000);
  EXPECT_EQ(b->path, "/custom/ws");
  auto c = client::parse_server_url("ws://[::1]:8080/v1/ws");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->to_string(), "ws://[::1]:8080/v1/ws");
  auto d = client::parse_server_url("ws://example.org");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->port, 80);
  for (const char* bad :
       {"wss://example.org", "http://x", "ws://:80", "ws://host:0", "ws://host:99999", "ws://host:x"}) {
    auto r = client::parse_server_url(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.status().code(), v1::ERROR_CODE_INVALID_ARGUMENT) << bad;
    }
  }
}

TEST(ClientMessageId, Is128RandomBitsInHex) {
  const std::string a = client::new_client_message_id();
  const std::string b = client::new_client_message_id();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace preceptor::testing
