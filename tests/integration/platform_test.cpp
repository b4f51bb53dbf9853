// The platform as a client sees it: real server, real sockets, real RocksDB.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>
#include <tuple>

#include "server/net/metrics.h"
#include "tests/support/test_client.h"
#include "tests/support/test_server.h"

namespace preceptor::testing {
namespace {

constexpr uint16_t kCloseSessionEnded = 4001;

v1::ClientFrame who_am_i() {
  v1::ClientFrame f;
  f.mutable_who_am_i();
  return f;
}

class Platform : public ::testing::Test {
 protected:
  void start(server::ServerConfig config) { server_ = std::make_unique<TestServer>(std::move(config)); }
  void start() { start(test_config(dir_.path())); }

  std::unique_ptr<TestClient> connected() {
    auto c = std::make_unique<TestClient>();
    EXPECT_EQ(c->connect(server_->port()), "");
    return c;
  }
  std::unique_ptr<TestClient> signed_in(const std::string& username, std::string* token = nullptr) {
    auto c = connected();
    auto r = c->login(username, TestServer::password_of(username));
    EXPECT_TRUE(r.has_login()) << r.DebugString();
    if (token) *token = r.login().token();
    return c;
  }

  TempDir dir_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(Platform, LoginThenReconnectWithTokenAlone) {
  start();
  const v1::User mentee = server_->add_user("wei.chen");
  std::string token;
  {
    auto c = signed_in("wei.chen", &token);
    EXPECT_EQ(token.size(), 64u);
  }
  TestClient again;
  ASSERT_EQ(again.connect(server_->port()), "");
  auto auth = again.authenticate(token);
  ASSERT_TRUE(auth.has_authenticate()) << auth.DebugString();
  EXPECT_EQ(auth.authenticate().user().id(), mentee.id());
  auto me = again.call(who_am_i());
  ASSERT_TRUE(me && me->has_who_am_i());
  EXPECT_EQ(me->who_am_i().user().username(), "wei.chen");
  EXPECT_EQ(me->who_am_i().device_name(), "test");
}

TEST_F(Platform, WrongPasswordAndUnknownUserLookTheSame) {
  start();
  server_->add_user("lucia.garcia");
  auto c = connected();
  auto wrong = c->login("lucia.garcia", "not-her-password");
  auto unknown = c->login("nobody.here", "whatever-password");
  ASSERT_TRUE(wrong.has_error());
  ASSERT_TRUE(unknown.has_error());
  EXPECT_EQ(wrong.error().code(), v1::ERROR_CODE_UNAUTHENTICATED);
  EXPECT_EQ(wrong.error().code(), unknown.error().code());
  EXPECT_EQ(wrong.error().message(), unknown.error().message());
  EXPECT_EQ(wrong.error().field(), unknown.error().field());
}

TEST_F(Platform, RequestsBeforeSignInAreRefused) {
  start();
  auto c = connected();
  auto r = c->call(who_am_i());
  ASSERT_TRUE(r && r->has_error());
  EXPECT_EQ(r->error().code(), v1::ERROR_CODE_UNAUTHENTICATED);
  EXPECT_NE(r->error().message().find("Sign in"), std::string::npos);
  // Ping works unauthenticated, and the connection is still up.
  EXPECT_TRUE(c->ping("x").has_ping());
}

TEST_F(Platform, LogoutEndsTheTokenOnEveryConnection) {
  start();
  server_->add_user("tomas.novak");
  std::string token;
  auto phone = signed_in("tomas.novak", &token);
  TestClient laptop;
  ASSERT_EQ(laptop.connect(server_->port()), "");
  ASSERT_TRUE(laptop.authenticate(token).has_authenticate());

  v1::ClientFrame logout;
  logout.mutable_logout();
  auto r = phone->call(logout);
  ASSERT_TRUE(r && r->has_logout()) << (r ? r->DebugString() : "no reply");
  EXPECT_EQ(phone->wait_closed().close_code, 1000);

  auto ended = laptop.next_event();
  ASSERT_TRUE(ended && ended->has_session_ended());
  EXPECT_EQ(laptop.wait_closed().close_code, kCloseSessionEnded);

  TestClient later;
  ASSERT_EQ(later.connect(server_->port()), "");
  auto auth = later.authenticate(token);
  ASSERT_TRUE(auth.has_error());
  EXPECT_EQ(auth.error().code(), v1::ERROR_CODE_UNAUTHENTICATED);
}

TEST_F(Platform, RevokedTokenIsRefusedAndKicksLiveConnection) {
  start();
  server_->add_user("admin.ada", v1::ROLE_ADMIN);
  server_->add_user("mentor.erik", v1::ROLE_MENTOR);
  std::string token;
  auto mentor = signed_in("mentor.erik", &token);
  auto admin = signed_in("admin.ada");

  // A non-admin may not revoke.
  v1::ClientFrame revoke;
  revoke.mutable_revoke_tokens()->set_username("admin.ada");
  auto denied = mentor->call(revoke);
  ASSERT_TRUE(denied && denied->has_error());
  EXPECT_EQ(denied->error().code(), v1::ERROR_CODE_PERMISSION_DENIED);

  revoke.mutable_revoke_tokens()->set_username("mentor.erik");
  auto r = admin->call(revoke);
  ASSERT_TRUE(r && r->has_revoke_tokens()) << (r ? r->DebugString() : "no reply");
  EXPECT_EQ(r->revoke_tokens().revoked(), 1u);

  auto ended = mentor->next_event();
  ASSERT_TRUE(ended && ended->has_session_ended());
  auto closed = mentor->wait_closed();
  EXPECT_EQ(closed.kind, Received::Kind::kClosed);
  EXPECT_EQ(closed.close_code, kCloseSessionEnded);

  TestClient again;
  ASSERT_EQ(again.connect(server_->port()), "");
  auto auth = again.authenticate(token);
  ASSERT_TRUE(auth.has_error());
  EXPECT_EQ(auth.error().code(), v1::ERROR_CODE_UNAUTHENTICATED);
  // The admin's own session is untouched.
  EXPECT_TRUE(admin->call(who_am_i())->has_who_am_i());

  revoke.mutable_revoke_tokens()->set_username("no.such.user");
  auto missing = admin->call(revoke);
  ASSERT_TRUE(missing && missing->has_error());
  EXPECT_EQ(missing->error().code(), v1::ERROR_CODE_NOT_FOUND);
}

// A Login whose reply reaches its connection just after a revocation went to
// the hub must not leave that connection with access: each round races one
// against the other, and whichever wins, a revoked token serves nothing more.
TEST_F(Platform, RevocationRacingASignInLeavesNoAccessWhateverTheTiming) {
  start();
  server_->add_user("admin.ada", v1::ROLE_ADMIN);
  server_->add_user("mentor.erik", v1::ROLE_MENTOR);
  auto admin = signed_in("admin.ada");
  v1::ClientFrame revoke;
  revoke.mutable_revoke_tokens()->set_username("mentor.erik");
  int revoked_live = 0;
  for (int round = 0; round < 30; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    auto mentor = connected();
    v1::ClientFrame login;
    login.set_request_id(mentor->next_request_id());
    login.mutable_login()->set_username("mentor.erik");
    login.mutable_login()->set_password(TestServer::password_of("mentor.erik"));
    login.mutable_login()->set_device_name("racing");
    ASSERT_TRUE(mentor->send(login));
    revoke.set_request_id(admin->next_request_id());
    ASSERT_TRUE(admin->send(revoke));
    auto revoked = admin->call(who_am_i());  // the revoke's reply arrives first
    ASSERT_TRUE(revoked.has_value());
    // Wait for the Login's reply on the mentor's connection.
    std::optional<v1::Response> reply;
    for (int i = 0; i < 20 && !reply; ++i) {
      Received r = mentor->receive();
      if (r.kind != Received::Kind::kFrame) break;
      if (r.frame.has_reply() && r.frame.reply().request_id() == login.request_id()) reply = r.frame.reply();
    }
    ASSERT_TRUE(reply.has_value());
    if (!reply->has_login()) continue;  // revoked before the token existed: nothing to check
    // Signed in; the token may have been revoked right after. If it was,
    // no request may be served any more.
    TestClient check;
    ASSERT_EQ(check.connect(server_->port()), "");
    const bool token_alive = check.authenticate(reply->login().token()).has_authenticate();
    if (token_alive) continue;
    ++revoked_live;
    auto after = mentor->call(who_am_i());
    EXPECT_FALSE(after && after->has_who_am_i()) << "a revoked token still served a request";
  }
  RecordProperty("revoked_after_sign_in", revoked_live);
}

// Token expiry ends live connections, not only new sign-ins; use of the
// connection counts as use of its token.
TEST_F(Platform, IdleExpiryEndsALiveSessionButUseKeepsItAlive) {
  auto config = test_config(dir_.path());
  config.accounts.token_idle_timeout_ms = 1500;
  config.accounts.token_touch_interval_ms = 100;
  start(config);
  server_->add_user("idle.irene");
  server_->add_user("busy.bo");
  auto idle = signed_in("idle.irene");
  auto busy = signed_in("busy.bo");
  // Bo makes a request every 200 ms for over twice the idle timeout.
  const auto until = std::chrono::steady_clock::now() + 3500ms;
  while (std::chrono::steady_clock::now() < until) {
    auto r = busy->call(who_am_i());
    ASSERT_TRUE(r && r->has_who_am_i()) << "use of the connection did not keep the token alive";
    std::this_thread::sleep_for(200ms);
  }
  // Irene sent nothing: her session ended with SessionEnded and 4001.
  auto ended = idle->next_event(10s);
  ASSERT_TRUE(ended && ended->has_session_ended());
  EXPECT_NE(ended->session_ended().reason().find("without use"), std::string::npos)
      << ended->session_ended().reason();
  EXPECT_EQ(idle->wait_closed(10s).close_code, kCloseSessionEnded);
}

TEST_F(Platform, AbsoluteLifetimeEndsALiveSessionEvenInUse) {
  auto config = test_config(dir_.path());
  config.accounts.token_lifetime_ms = 1500;
  start(config);
  server_->add_user("busy.bo");
  auto busy = signed_in("busy.bo");
  std::optional<v1::Event> ended;
  const auto until = std::chrono::steady_clock::now() + 15s;
  while (!ended && std::chrono::steady_clock::now() < until) {
    (void)busy->call(who_am_i(), 500ms);
    ended = busy->next_event(100ms);
  }
  ASSERT_TRUE(ended && ended->has_session_ended());
  EXPECT_NE(ended->session_ended().reason().find("expired"), std::string::npos);
  EXPECT_EQ(busy->wait_closed(10s).close_code, kCloseSessionEnded);
}

// An admin disables an account or resets a password while the server runs:
// every live session of the user ends at once and old tokens stop working.
TEST_F(Platform, AdminDisablesAndResetsPasswordOnlineEndingEverySession) {
  start();
  server_->add_user("admin.ada", v1::ROLE_ADMIN);
  server_->add_user("mentor.erik", v1::ROLE_MENTOR);
  auto admin = signed_in("admin.ada");
  std::string token;
  auto phone = signed_in("mentor.erik", &token);
  auto laptop = signed_in("mentor.erik");

  v1::ClientFrame disable;
  disable.mutable_set_account_disabled()->set_username("mentor.erik");
  disable.mutable_set_account_disabled()->set_disabled(true);
  auto denied = phone->call(disable);
  ASSERT_TRUE(denied && denied->has_error());
  EXPECT_EQ(denied->error().code(), v1::ERROR_CODE_PERMISSION_DENIED);
  auto r = admin->call(disable);
  ASSERT_TRUE(r && r->has_set_account_disabled()) << (r ? r->DebugString() : "no reply");
  EXPECT_EQ(r->set_account_disabled().tokens_ended(), 2u);
  for (TestClient* c : {phone.get(), laptop.get()}) {
    auto ended = c->next_event();
    ASSERT_TRUE(ended && ended->has_session_ended());
    EXPECT_NE(ended->session_ended().reason().find("disabled"), std::string::npos);
    EXPECT_EQ(c->wait_closed().close_code, kCloseSessionEnded);
  }
  TestClient again;
  ASSERT_EQ(again.connect(server_->port()), "");
  EXPECT_EQ(again.login("mentor.erik", TestServer::password_of("mentor.erik")).error().code(),
            v1::ERROR_CODE_UNAUTHENTICATED);
  EXPECT_EQ(again.authenticate(token).error().code(), v1::ERROR_CODE_UNAUTHENTICATED);

  // Enabled again, the old password works; a reset ends that session too.
  disable.mutable_set_account_disabled()->set_disabled(false);
  ASSERT_TRUE(admin->call(disable)->has_set_account_disabled());
  auto back = signed_in("mentor.erik");
  v1::ClientFrame reset;
  reset.mutable_reset_password()->set_username("mentor.erik");
  reset.mutable_reset_password()->set_new_password("short");
  auto too_short = admin->call(reset);
  ASSERT_TRUE(too_short && too_short->has_error());
  EXPECT_EQ(too_short->error().code(), v1::ERROR_CODE_INVALID_ARGUMENT);
  reset.mutable_reset_password()->set_new_password("a-brand-new-passphrase");
  auto done = admin->call(reset);
  ASSERT_TRUE(done && done->has_reset_password()) << (done ? done->DebugString() : "no reply");
  EXPECT_EQ(done->reset_password().tokens_ended(), 1u);
  auto ended = back->next_event();
  ASSERT_TRUE(ended && ended->has_session_ended());
  EXPECT_EQ(back->wait_closed().close_code, kCloseSessionEnded);
  TestClient fresh;
  ASSERT_EQ(fresh.connect(server_->port()), "");
  EXPECT_TRUE(fresh.login("mentor.erik", "a-brand-new-passphrase").has_login());

  // An admin cannot lock themselves out.
  disable.mutable_set_account_disabled()->set_username("admin.ada");
  disable.mutable_set_account_disabled()->set_disabled(true);
  auto self = admin->call(disable);
  ASSERT_TRUE(self && self->has_error());
  EXPECT_EQ(self->error().code(), v1::ERROR_CODE_FAILED_PRECONDITION);
}

TEST_F(Platform, AdminToolTalksToTheRunningServer) {
  start();
  server_->add_user("admin.ada", v1::ROLE_ADMIN);
  server_->add_user("mentor.erik", v1::ROLE_MENTOR);
  auto erik = signed_in("mentor.erik");
  const std::string tool = std::string("PRECEPTOR_ADMIN_PASSWORD='") + TestServer::password_of("admin.ada") +
                           "' " + PRECEPTOR_ADMIN_PATH +
                           " --server ws://127.0.0.1:" + std::to_string(server_->port()) +
                           "/v1/ws --admin admin.ada ";
  auto [code, out] = run_command(tool + "disable-user --username mentor.erik");
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("Disabled mentor.erik and ended 1 session of theirs."), std::string::npos) << out;
  auto ended = erik->next_event();
  ASSERT_TRUE(ended && ended->has_session_ended());

  std::tie(code, out) = run_command(tool + "enable-user --username mentor.erik");
  EXPECT_EQ(code, 0) << out;
  std::tie(code, out) =
      run_command(tool + "reset-password --username mentor.erik --password 'a-new-passphrase'");
  EXPECT_EQ(code, 0) << out;
  TestClient fresh;
  ASSERT_EQ(fresh.connect(server_->port()), "");
  EXPECT_TRUE(fresh.login("mentor.erik", "a-new-passphrase").has_login());

  std::tie(code, out) = run_command(tool + "disable-user --username nobody.here");
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("No user named nobody.here"), std::string::npos) << out;
  std::tie(code, out) =
      run_command("PRECEPTOR_ADMIN_PASSWORD='wrong-password-1' " + std::string(PRECEPTOR_ADMIN_PATH) +
                  " --server ws://127.0.0.1:" + std::to_string(server_->port()) +
                  "/v1/ws --admin admin.ada revoke-tokens --username mentor.erik </dev/null");
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("Could not sign in"), std::string::npos) << out;
}

TEST_F(Platform, BadFramesGetTheirErrorsAndTheServerKeepsServing) {
  start();
  server_->add_user("priya.raman", v1::ROLE_MENTOR);
  auto bystander = signed_in("priya.raman");
  auto c = connected();

  ASSERT_TRUE(c->send_raw(std::string("\xff\xff\xff\xff garbage", 12)));
  auto garbage = c->receive();
  ASSERT_EQ(garbage.kind, Received::Kind::kFrame);
  EXPECT_EQ(garbage.frame.reply().error().code(), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_NE(garbage.frame.reply().error().message().find("could not be decoded"), std::string::npos);

  ASSERT_TRUE(c->send_raw("{\"login\": {}}", /*text=*/true));
  auto text = c->receive();
  ASSERT_EQ(text.kind, Received::Kind::kFrame);
  EXPECT_EQ(text.frame.reply().error().code(), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_NE(text.frame.reply().error().message().find("text frame"), std::string::npos);

  v1::ClientFrame big;
  big.set_request_id(7);
  big.mutable_ping()->set_payload(std::string(100 * 1024, 'x'));
  ASSERT_TRUE(c->send(big));
  auto oversized = c->receive();
  ASSERT_EQ(oversized.kind, Received::Kind::kFrame);
  EXPECT_EQ(oversized.frame.reply().error().code(), v1::ERROR_CODE_RESOURCE_EXHAUSTED);
  EXPECT_NE(oversized.frame.reply().error().message().find("limit is 65536 bytes"), std::string::npos);

  // A request type this server does not know (field 99 of ClientFrame).
  ASSERT_TRUE(c->send_raw(std::string("\x08\x05\x9a\x06\x00", 5)));
  auto unknown = c->receive();
  ASSERT_EQ(unknown.kind, Received::Kind::kFrame);
  EXPECT_EQ(unknown.frame.reply().request_id(), 5u);
  EXPECT_EQ(unknown.frame.reply().error().code(), v1::ERROR_CODE_UNIMPLEMENTED);

  // Still connected and served, and so is everyone else.
  EXPECT_TRUE(c->ping("still here").has_ping());
  EXPECT_TRUE(bystander->ping("me too").has_ping());
}

// The server gathers queued frames into one socket write and frames them
// itself: replies of every WebSocket length form (7-bit, 16-bit, 64-bit)
// arrive whole and in order when many are in flight at once.
TEST_F(Platform, PipelinedRepliesOfEverySizeArriveWholeAndInOrder) {
  auto config = test_config(dir_.path());
  config.max_frame_bytes = 512 * 1024;
  start(config);
  auto c = connected();
  const std::vector<size_t> sizes = {0, 1, 100, 125, 126, 127, 1000, 65535, 65536, 70000, 300000};
  for (int round = 0; round < 3; ++round) {
    for (size_t i = 0; i < sizes.size(); ++i) {
      v1::ClientFrame ping;
      ping.set_request_id(100 * round + i + 1);
      ping.mutable_ping()->set_payload(std::string(sizes[i], static_cast<char>('a' + i)));
      ASSERT_TRUE(c->send(ping));
    }
    for (size_t i = 0; i < sizes.size(); ++i) {
      auto got = c->receive();
      ASSERT_EQ(got.kind, Received::Kind::kFrame);
      ASSERT_EQ(got.frame.reply().request_id(), 100u * round + i + 1);
      ASSERT_EQ(got.frame.reply().ping().payload(), std::string(sizes[i], static_cast<char>('a' + i)));
    }
  }
}

TEST_F(Platform, ClientThatKeepsSendingGarbageIsClosed) {
  auto config = test_config(dir_.path());
  config.max_bad_frames = 5;
  start(config);
  auto c = connected();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c->send_raw("\x01\x02\x03"));
  auto closed = c->wait_closed();
  ASSERT_EQ(closed.kind, Received::Kind::kClosed);
  EXPECT_EQ(closed.close_code, 1008);
  EXPECT_NE(closed.close_reason.find("Too many frames"), std::string::npos);
  auto other = connected();
  EXPECT_TRUE(other->ping().has_ping());
}

TEST_F(Platform, FrameOverTheHardLimitClosesWith1009) {
  auto config = test_config(dir_.path());
  config.hard_frame_bytes = 128 * 1024;
  start(config);
  auto c = connected();
  v1::ClientFrame huge;
  huge.mutable_ping()->set_payload(std::string(200 * 1024, 'y'));
  c->send(huge);
  // The server closes with 1009 while the client may still be writing, so
  // the client sees either that close or a reset: either way it is gone.
  auto closed = c->wait_closed();
  ASSERT_NE(closed.kind, Received::Kind::kTimeout);
  if (closed.kind == Received::Kind::kClosed) {
    EXPECT_EQ(closed.close_code, 1009);
  }
  // The client may see the reset before the server's read loop has counted it.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (server_->server().metrics().bad_frame_disconnects_total.load() == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);  // polling with a deadline, not settling
  }
  EXPECT_EQ(server_->server().metrics().bad_frame_disconnects_total.load(), 1u);
  auto other = connected();
  EXPECT_TRUE(other->ping().has_ping());
}

TEST_F(Platform, RateLimitAnswersResourceExhausted) {
  auto config = test_config(dir_.path());
  config.rate_per_second = 2;
  config.rate_burst = 5;
  start(config);
  auto c = connected();
  for (int i = 1; i <= 20; ++i) {
    v1::ClientFrame f;
    f.set_request_id(i);
    f.mutable_ping();
    ASSERT_TRUE(c->send(f));
  }
  int pongs = 0, limited = 0;
  int64_t retry_after = 0;
  for (int i = 0; i < 20; ++i) {
    auto r = c->receive();
    ASSERT_EQ(r.kind, Received::Kind::kFrame);
    if (r.frame.reply().has_ping()) ++pongs;
    if (r.frame.reply().error().code() == v1::ERROR_CODE_RESOURCE_EXHAUSTED) {
      ++limited;
      retry_after = r.frame.reply().error().retry_after_ms();
    }
  }
  EXPECT_GE(pongs, 5);
  EXPECT_GE(limited, 10);
  EXPECT_EQ(pongs + limited, 20);
  EXPECT_GT(retry_after, 0);
}

TEST_F(Platform, ClientThatDoesNotReadIsDroppedOthersUnaffected) {
  auto config = test_config(dir_.path());
  config.outbound_queue_bytes = 256 * 1024;
  config.rate_per_second = 1e6;
  config.rate_burst = 1'000'000;
  start(config);
  auto reader = connected();
  auto lazy = connected();
  v1::ClientFrame ping;
  ping.mutable_ping()->set_payload(std::string(32 * 1024, 'p'));
  // Pongs pile up: kernel buffers fill, then the server's queue passes its bound.
  bool send_failed = false;
  for (int i = 0; i < 4000 && !send_failed; ++i) {
    ping.set_request_id(i + 1);
    send_failed = !lazy->send(ping);
    if (i % 200 == 0) {
      EXPECT_TRUE(reader->ping("ok").has_ping());
    }
    if (server_->server().metrics().slow_client_disconnects_total.load() > 0 && i % 50 == 0) break;
  }
  // Drain whatever was buffered: the stream must end with the server's close.
  auto end = lazy->wait_closed(10s);
  EXPECT_NE(end.kind, Received::Kind::kTimeout);
  EXPECT_EQ(server_->server().metrics().slow_client_disconnects_total.load(), 1u);
  EXPECT_TRUE(reader->ping("still fine").has_ping());
}

// Pongs count against the same bound as every other byte queued to a client.
TEST_F(Platform, ClientThatPingsAndNeverReadsIsDroppedOthersUnaffected) {
  auto config = test_config(dir_.path());
  config.outbound_queue_bytes = 64 * 1024;
  start(config);
  auto reader = connected();
  auto lazy = connected();
  const std::string payload(125, 'p');
  // Without a bound the server would keep every pong: 400 000 of them are
  // about 50 MB, far past the kernel's socket buffers and the 64 KiB bound.
  bool send_failed = false;
  int sent = 0;
  for (; sent < 400'000 && !send_failed; ++sent) {
    send_failed = !lazy->send_ws_ping(payload);
    if (sent % 1000 == 0 && server_->server().metrics().slow_client_disconnects_total.load() > 0) break;
  }
  EXPECT_EQ(server_->server().metrics().slow_client_disconnects_total.load(), 1u)
      << "after " << sent << " pings";
  EXPECT_TRUE(reader->ping("still fine").has_ping());
  auto end = lazy->wait_closed(10s);
  EXPECT_NE(end.kind, Received::Kind::kTimeout);
}

TEST_F(Platform, ConnectionsPerAddressAndOverallAreLimitedWithAClearRefusal) {
  auto config = test_config(dir_.path());
  config.max_connections_per_address = 3;
  start(config);
  std::vector<std::unique_ptr<TestClient>> open;
  for (int i = 0; i < 3; ++i) open.push_back(connected());
  TestClient fourth;
  const std::string refused = fourth.connect(server_->port());
  EXPECT_NE(refused, "");                                        // the upgrade was answered 503, not 101
  EXPECT_EQ(http_get(server_->port(), "/healthz").status, 503);  // plain HTTP counts too
  EXPECT_GE(server_->server().metrics().connections_refused_total.load(), 2u);
  // The open ones are unharmed, and a place comes free when one closes.
  EXPECT_TRUE(open[0]->ping("ok").has_ping());
  open.pop_back();
  bool admitted = false;
  for (int i = 0; i < 50 && !admitted; ++i) {
    TestClient again;
    admitted = again.connect(server_->port()).empty() && again.ping("in").has_ping();
    if (!admitted) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(admitted);

  server_.reset();
  config.max_connections_per_address = 0;
  config.max_connections = 2;
  start(config);
  auto a = connected();
  auto b = connected();
  TestClient c;
  EXPECT_NE(c.connect(server_->port()), "");
  EXPECT_TRUE(a->ping().has_ping());
}

TEST_F(Platform, SessionsPerUserAreLimitedOthersUnaffected) {
  auto config = test_config(dir_.path());
  config.max_sessions_per_user = 2;
  start(config);
  server_->add_user("many.devices");
  server_->add_user("other.person");
  auto phone = signed_in("many.devices");
  auto laptop = signed_in("many.devices");
  auto third = connected();
  auto r = third->login("many.devices", TestServer::password_of("many.devices"));
  ASSERT_TRUE(r.has_error()) << r.DebugString();
  EXPECT_EQ(r.error().code(), v1::ERROR_CODE_RESOURCE_EXHAUSTED);
  EXPECT_NE(r.error().message().find("2 connections already"), std::string::npos) << r.error().message();
  EXPECT_EQ(third->wait_closed().close_code, 1008);
  EXPECT_TRUE(phone->call(who_am_i())->has_who_am_i());
  auto other = signed_in("other.person");
  EXPECT_TRUE(other->call(who_am_i())->has_who_am_i());
}

TEST_F(Platform, AuthenticationMustComeInTime) {
  auto config = test_config(dir_.path());
  config.auth_timeout_ms = 300;
  start(config);
  auto c = connected();
  auto closed = c->wait_closed(5s);
  ASSERT_EQ(closed.kind, Received::Kind::kClosed);
  EXPECT_EQ(closed.close_code, 1008);
  EXPECT_NE(closed.close_reason.find("No Login or Authenticate"), std::string::npos);
}

TEST_F(Platform, BrowserOriginsAreChecked) {
  start();
  TestClient evil;
  EXPECT_NE(evil.connect(server_->port(), "http://evil.example"), "");
  TestClient ours;
  EXPECT_EQ(ours.connect(server_->port(), "http://localhost:8080"), "");
  EXPECT_TRUE(ours.ping().has_ping());
}

// The web app served by the server itself, on whatever port it runs, opens
// the WebSocket from its own origin without being listed.
TEST_F(Platform, APageFromTheServersOwnAddressMayConnectOnAnyPort) {
  start();
  const std::string port = std::to_string(server_->port());
  ASSERT_NE(port, "8080");
  TestClient same;  // Host is 127.0.0.1:<port>
  ASSERT_EQ(same.connect(server_->port(), "http://127.0.0.1:" + port), "");
  EXPECT_TRUE(same.ping().has_ping());

  TestClient by_name;
  by_name.set_host_header("localhost:" + port);
  ASSERT_EQ(by_name.connect(server_->port(), "http://localhost:" + port), "");
  EXPECT_TRUE(by_name.ping().has_ping());

  TestClient other_port;  // another local page, not the server's
  EXPECT_NE(other_port.connect(server_->port(), "http://127.0.0.1:1"), "");
  TestClient foreign;
  EXPECT_NE(foreign.connect(server_->port(), "http://evil.example:" + port), "");
}

// DNS rebinding: a page on evil.example whose name now resolves to this
// server sends Origin and Host of evil.example alike. Such a name is trusted
// only when --allowed-origins names it.
TEST_F(Platform, SameOriginByAForeignNameIsRefusedUnlessThatNameIsListed) {
  auto config = test_config(dir_.path());
  config.allowed_origins = {"http://localhost:8080", "https://chat.hospital.example"};
  start(config);
  TestClient rebound;
  rebound.set_host_header("evil.example:8080");
  EXPECT_NE(rebound.connect(server_->port(), "http://evil.example:8080"), "");

  TestClient listed;
  listed.set_host_header("chat.hospital.example:8080");
  ASSERT_EQ(listed.connect(server_->port(), "http://chat.hospital.example:8080"), "");
  EXPECT_TRUE(listed.ping().has_ping());
}

TEST_F(Platform, HttpRoutes) {
  start();
  EXPECT_EQ(http_get(server_->port(), "/healthz").status, 200);
  EXPECT_EQ(http_get(server_->port(), "/readyz").status, 200);
  EXPECT_EQ(http_get(server_->port(), "/nope").status, 404);
  auto c = connected();
  ASSERT_TRUE(c->ping().has_ping());
  ASSERT_TRUE(c->send_raw("junk"));
  ASSERT_EQ(c->receive().kind, Received::Kind::kFrame);
  server_->add_user("someone");
  auto metrics = http_get(server_->port(), "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("preceptor_connections_open 1"), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("preceptor_frames_in_total{type=\"ping\"} 1"), std::string::npos);
  EXPECT_NE(metrics.body.find("preceptor_errors_total{code=\"INVALID_ARGUMENT\"} 1"), std::string::npos);
  EXPECT_NE(metrics.body.find("preceptor_commit_batch_size_bucket"), std::string::npos);
  EXPECT_NE(metrics.body.find("preceptor_commit_latency_seconds_count"), std::string::npos);
}

TEST_F(Platform, RestartKeepsUsersAndTokens) {
  std::string token;
  {
    start();
    server_->add_user("ines.duarte");
    auto c = signed_in("ines.duarte", &token);
    c.reset();
    server_.reset();
  }
  start();
  TestClient c;
  ASSERT_EQ(c.connect(server_->port()), "");
  auto auth = c.authenticate(token);
  ASSERT_TRUE(auth.has_authenticate()) << auth.DebugString();
  EXPECT_EQ(auth.authenticate().user().username(), "ines.duarte");
  TestClient d;
  ASSERT_EQ(d.connect(server_->port()), "");
  EXPECT_TRUE(d.login("ines.duarte", TestServer::password_of("ines.duarte")).has_login());
}

TEST(ServerProcessTest, SigtermClosesSessionsWith1001AndExitsZero) {
  TempDir dir;
  ServerProcess proc(PRECEPTOR_SERVER_PATH, dir.path(), {"--demo"});
  ASSERT_NE(proc.port(), 0) << proc.output();
  EXPECT_NE(proc.output().find("mentee.chen"), std::string::npos) << proc.output();
  TestClient c;
  ASSERT_EQ(c.connect(proc.port()), "");
  ASSERT_TRUE(c.login("mentee.chen", "demo-mentee.chen").has_login());
  proc.send_signal(SIGTERM);
  auto closed = c.wait_closed(10s);
  EXPECT_EQ(closed.kind, Received::Kind::kClosed);
  EXPECT_EQ(closed.close_code, 1001);
  int status = proc.wait_exit(15s);
  ASSERT_NE(status, -1) << "did not exit within 15 s";
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);

  // The same folder opens again, with the demo users in it.
  ServerProcess again(PRECEPTOR_SERVER_PATH, dir.path());
  ASSERT_NE(again.port(), 0) << again.output();
  TestClient d;
  ASSERT_EQ(d.connect(again.port()), "");
  EXPECT_TRUE(d.login("mentor.raman", "demo-mentor.raman").has_login());
}

// A frame whose strings are not UTF-8 is answered like any undecodable
// frame; it must not also write a line to the server's log (libprotobuf
// prints one per bad field by default), or a client could fill the disk
// the log is on. Real process, its stderr captured.
TEST(ServerProcessTest, FramesWithInvalidUtf8DoNotFillTheLog) {
  TempDir dir;
  const std::filesystem::path log = dir.path() / "server.log";
  ServerProcess proc(PRECEPTOR_SERVER_PATH, dir.path() / "data", {}, log);
  ASSERT_NE(proc.port(), 0) << proc.output();
  v1::ClientFrame frame;
  frame.set_request_id(1);
  frame.mutable_login()->set_username("ok");
  std::string bytes = frame.SerializeAsString();
  bytes.back() = '\xff';  // the username's last byte: not UTF-8 any more
  constexpr int kConnections = 20, kFramesEach = 5;
  for (int i = 0; i < kConnections; ++i) {
    TestClient c;
    ASSERT_EQ(c.connect(proc.port()), "");
    for (int j = 0; j < kFramesEach; ++j) {
      ASSERT_TRUE(c.send_raw(bytes));
      auto answer = c.receive();
      ASSERT_EQ(answer.kind, Received::Kind::kFrame);
      EXPECT_EQ(answer.frame.reply().error().code(), v1::ERROR_CODE_INVALID_ARGUMENT);
    }
  }
  ASSERT_NE(proc.signal_and_wait(SIGTERM, 15s), -1);
  std::ifstream in(log);
  const std::string written((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(written.find("invalid UTF-8"), std::string::npos) << written.substr(0, 2000);
  EXPECT_NE(written.find("event=listening"), std::string::npos) << "the log was not captured: " << written;
}

// Ready means ready: once start() returns (the log says "listening" and
// /readyz answers 200), the demo program's users exist and can sign in.
TEST(ServerStart, ReadyMeansTheDemoUsersCanSignInAtOnce) {
  TempDir dir;
  server::ServerConfig config = test_config(dir.path());
  config.demo = true;
  TestServer server(config);
  EXPECT_EQ(http_get(server.port(), "/readyz").status, 200);
  EXPECT_EQ(server.server().demo_logins().size(), 6u);
  TestClient c;
  ASSERT_EQ(c.connect(server.port()), "");
  auto login = c.login("mentee.chen", "demo-mentee.chen");
  EXPECT_TRUE(login.has_login()) << login.DebugString();
  // The demo mentors hold office hours a mentee can book at once: Dr. Lindqvist one-to-one
  // on weekday afternoons in Stockholm, Dr. Raman in groups of four in Chicago.
  v1::ClientFrame list_mentors;
  list_mentors.mutable_list_mentors();
  auto mentors = c.call(list_mentors);
  ASSERT_TRUE(mentors && mentors->has_list_mentors()) << (mentors ? mentors->DebugString() : "no answer");
  int with_hours = 0;
  for (const auto& entry : mentors->list_mentors().mentors()) {
    const std::string& name = entry.mentor().username();
    v1::ClientFrame slots;
    slots.mutable_list_slots()->set_mentor_id(entry.mentor().id());
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    slots.mutable_list_slots()->set_from_ms(now);
    slots.mutable_list_slots()->set_to_ms(now + 14LL * 24 * 3600 * 1000);
    auto listed = c.call(slots);
    ASSERT_TRUE(listed && listed->has_list_slots()) << name << ": " << (listed ? listed->DebugString() : "");
    ASSERT_GT(listed->list_slots().slots_size(), 0) << name;
    const v1::Slot& first = listed->list_slots().slots(0);
    EXPECT_EQ(first.end_ms() - first.start_ms(), 30 * 60 * 1000) << name;
    if (name == "mentor.lindqvist") {
      EXPECT_EQ(listed->list_slots().time_zone(), "Europe/Stockholm");
      EXPECT_EQ(first.seats(), 1u);
      ++with_hours;
    } else if (name == "mentor.raman") {
      EXPECT_EQ(listed->list_slots().time_zone(), "America/Chicago");
      EXPECT_EQ(first.seats(), 4u);
      ++with_hours;
    }
  }
  EXPECT_EQ(with_hours, 2);
  // And a meeting to see at once: Tomas Novak's booking of Dr. Lindqvist's office hours.
  TestClient novak;
  ASSERT_EQ(novak.connect(server.port()), "");
  ASSERT_TRUE(novak.login("mentee.novak", "demo-mentee.novak").has_login());
  v1::ClientFrame meetings;
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  meetings.mutable_list_meetings()->set_from_ms(now);
  meetings.mutable_list_meetings()->set_to_ms(now + 20LL * 24 * 3600 * 1000);
  auto listed = novak.call(meetings);
  ASSERT_TRUE(listed && listed->has_list_meetings()) << (listed ? listed->DebugString() : "no answer");
  ASSERT_EQ(listed->list_meetings().meetings_size(), 1);
  const v1::MeetingView& booked = listed->list_meetings().meetings(0);
  EXPECT_EQ(booked.mentor().username(), "mentor.lindqvist");
  EXPECT_EQ(booked.meeting().state(), v1::MEETING_STATE_ACCEPTED);
  EXPECT_TRUE(booked.meeting().office_hours());
}

// What the demo shows of the work between meetings, as Lucia Garcia and Dr.
// Raman see it over the wire: their mentorship, its goal, the CV assignment
// with Lucia's draft (downloadable byte for byte) and Dr. Raman's review.
struct DemoWork {
  v1::Mentorship mentorship;
  std::vector<v1::Goal> goals;
  std::vector<v1::Assignment> assignments;
  v1::GetAssignmentResult assignment;  // the first one, whole
  std::string token;                   // Lucia's
};

DemoWork read_demo_work(uint16_t port) {
  DemoWork out;
  TestClient c;
  EXPECT_EQ(c.connect(port), "");
  auto login = c.login("mentee.garcia", "demo-mentee.garcia");
  EXPECT_TRUE(login.has_login()) << login.DebugString();
  out.token = login.login().token();
  v1::ClientFrame frame;
  frame.mutable_list_mentorships();
  auto mentorships = c.call(frame);
  EXPECT_TRUE(mentorships && mentorships->has_list_mentorships());
  int with_raman = 0;
  if (mentorships) {
    for (const auto& view : mentorships->list_mentorships().mentorships()) {
      if (view.mentor().username() != "mentor.raman") continue;
      ++with_raman;
      out.mentorship = view.mentorship();
    }
  }
  EXPECT_EQ(with_raman, 1);
  frame.Clear();
  frame.mutable_list_goals()->set_mentorship_id(out.mentorship.id());
  frame.mutable_list_goals()->set_include_closed(true);
  auto goals = c.call(frame);
  EXPECT_TRUE(goals && goals->has_list_goals()) << (goals ? goals->DebugString() : "no answer");
  if (goals) out.goals.assign(goals->list_goals().goals().begin(), goals->list_goals().goals().end());
  frame.Clear();
  frame.mutable_list_assignments()->set_mentorship_id(out.mentorship.id());
  frame.mutable_list_assignments()->set_include_closed(true);
  auto assignments = c.call(frame);
  EXPECT_TRUE(assignments && assignments->has_list_assignments());
  if (assignments) {
    out.assignments.assign(assignments->list_assignments().assignments().begin(),
                           assignments->list_assignments().assignments().end());
  }
  if (out.assignments.empty()) return out;
  frame.Clear();
  frame.mutable_get_assignment()->set_assignment_id(out.assignments[0].id());
  auto got = c.call(frame);
  EXPECT_TRUE(got && got->has_get_assignment()) << (got ? got->DebugString() : "no answer");
  if (got) out.assignment = got->get_assignment();
  return out;
}

// The demo program shows the work between meetings at once: Lucia Garcia
// and Dr. Raman have a goal, a CV assignment with Lucia's draft and Dr.
// Raman's review asking for changes; a second start adds nothing.
TEST(ServerStart, TheDemoShowsAGoalAnAssignmentADraftAndAReviewOnce) {
  TempDir dir;
  server::ServerConfig config = test_config(dir.path());
  config.demo = true;
  auto server = std::make_unique<TestServer>(config);
  auto raman = server->accounts().find_user("mentor.raman");
  auto garcia = server->accounts().find_user("mentee.garcia");
  ASSERT_TRUE(raman.is_ok() && garcia.is_ok());
  DemoWork work = read_demo_work(server->port());
  EXPECT_EQ(work.mentorship.state(), v1::MENTORSHIP_STATE_ACTIVE);
  EXPECT_EQ(work.mentorship.mentee_id(), garcia->id());
  EXPECT_EQ(work.mentorship.purpose(), v1::PURPOSE_CAREER);

  ASSERT_EQ(work.goals.size(), 1u);
  EXPECT_EQ(work.goals[0].state(), v1::GOAL_STATE_OPEN);
  EXPECT_FALSE(work.goals[0].what().empty());
  EXPECT_FALSE(work.goals[0].target_date().empty());

  ASSERT_EQ(work.assignments.size(), 1u);
  const v1::Assignment& a = work.assignment.assignment();
  EXPECT_EQ(a.title(), server::kDemoAssignmentTitle);
  EXPECT_EQ(a.kind(), v1::ASSIGNMENT_KIND_CV);
  EXPECT_EQ(a.created_by(), raman->id());
  EXPECT_EQ(a.state(), v1::ASSIGNMENT_STATE_CHANGES_REQUESTED);
  EXPECT_EQ(a.goal_id(), work.goals[0].id());
  EXPECT_EQ(a.version_count(), 1u);
  EXPECT_EQ(a.review_count(), 1u);

  // Version 1: Lucia's CV, a complete document with its SHA-256, that both download byte for byte.
  ASSERT_EQ(work.assignment.versions_size(), 1);
  const v1::AssignmentVersion& version = work.assignment.versions(0);
  EXPECT_EQ(version.version(), 1u);
  EXPECT_EQ(version.submitted_by(), garcia->id());
  const std::string cv = server::kDemoCvDraft;
  const v1::Document& doc = version.document();
  EXPECT_EQ(doc.name(), server::kDemoDocumentName);
  EXPECT_EQ(doc.content_type(), "text/markdown");
  EXPECT_EQ(doc.size(), cv.size());
  EXPECT_EQ(doc.sha256(), sha256_hex(cv));
  const std::string path = "/v1/documents/" + std::to_string(doc.id());
  HttpResult downloaded =
      http_request(server->port(), "GET", path, {{"Authorization", "Bearer " + work.token}});
  EXPECT_EQ(downloaded.status, 200);
  EXPECT_TRUE(downloaded.body == cv) << downloaded.body.substr(0, 200);
  {  // The mentor signs out before the restart below.
    TestClient mentor;
    ASSERT_EQ(mentor.connect(server->port()), "");
    auto mentor_login = mentor.login("mentor.raman", "demo-mentor.raman");
    ASSERT_TRUE(mentor_login.has_login());
    HttpResult for_mentor = http_request(server->port(), "GET", path,
                                         {{"Authorization", "Bearer " + mentor_login.login().token()}});
    EXPECT_EQ(for_mentor.status, 200);
    EXPECT_TRUE(for_mentor.body == cv);
  }

  // Dr. Raman's review: changes requested, one comment on page 1 quoting the draft.
  ASSERT_EQ(work.assignment.reviews_size(), 1);
  const v1::Review& review = work.assignment.reviews(0);
  EXPECT_EQ(review.reviewer_id(), raman->id());
  EXPECT_EQ(review.version(), 1u);
  EXPECT_EQ(review.verdict(), v1::REVIEW_VERDICT_CHANGES_REQUESTED);
  EXPECT_FALSE(review.summary().empty());
  ASSERT_EQ(review.comments_size(), 1);
  const v1::CommentAnchor& anchor = review.comments(0).anchor();
  EXPECT_EQ(anchor.version(), 1u);
  EXPECT_EQ(anchor.page(), 1u);
  ASSERT_FALSE(anchor.quote().empty());
  EXPECT_NE(cv.find(anchor.quote()), std::string::npos) << anchor.quote();
  EXPECT_FALSE(review.comments(0).text().empty());

  // A second start of the same folder finds it all there and adds nothing.
  server.reset();
  server = std::make_unique<TestServer>(config);
  DemoWork again = read_demo_work(server->port());
  EXPECT_EQ(again.mentorship.id(), work.mentorship.id());
  ASSERT_EQ(again.goals.size(), 1u);
  EXPECT_EQ(again.goals[0].revision(), work.goals[0].revision());
  ASSERT_EQ(again.assignments.size(), 1u);
  EXPECT_EQ(again.assignment.assignment().revision(), a.revision());
  EXPECT_EQ(again.assignment.versions_size(), 1);
  EXPECT_EQ(again.assignment.reviews_size(), 1);
}

TEST(ServerProcessTest, HelpExplainsOptions) {
  TempDir dir;
  FILE* p = ::popen((std::string(PRECEPTOR_SERVER_PATH) + " --help").c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  EXPECT_EQ(WEXITSTATUS(::pclose(p)), 0);
  for (const char* option :
       {"--data-dir", "--port", "--demo", "--max-frame-bytes", "--rate-per-second", "--allowed-origins",
        "--token-idle-days", "--trusted-proxy-header", "--trusted-proxies", "PRECEPTOR_DATA_DIR"}) {
    EXPECT_NE(out.find(option), std::string::npos) << option;
  }
}

}  // namespace
}  // namespace preceptor::testing
