// The audit log as an administrator and an operator see it: real server,
// real sockets, the admin tool as a child process. Other loopback addresses
// (127.0.0.2, ...) stand for other clients.
#include "server/services/audit.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <future>
#include <memory>
#include <regex>
#include <string>
#include <tuple>
#include <vector>

#include "preceptor/v1/records.pb.h"
#include "server/services/record_io.h"
#include "storage/keys.h"
#include "storage/store.h"
#include "tests/support/test_client.h"
#include "tests/support/test_server.h"

namespace preceptor::testing {
namespace {

constexpr int64_t kDayMs = 24LL * 3600 * 1000;

// Every entry in the store's audit family, raw, in sequence order.
std::vector<std::pair<std::string, std::string>> raw_audit(storage::Store& store) {
  std::vector<std::pair<std::string, std::string>> out;
  auto scanned =
      store.scan_prefix(storage::Cf::kAudit, "", [&](std::string_view key, std::string_view value) {
        out.emplace_back(std::string(key), std::string(value));
        return true;
      });
  EXPECT_TRUE(scanned) << scanned.status().to_string();
  return out;
}

std::vector<v1::AuditEntry> stored_entries(storage::Store& store) {
  std::vector<v1::AuditEntry> out;
  for (const auto& [key, value] : raw_audit(store)) {
    v1::AuditRecord record;
    EXPECT_TRUE(record.ParseFromString(value));
    out.push_back(record.entry());
  }
  return out;
}

std::vector<v1::AuditKind> kinds_of(const std::vector<v1::AuditEntry>& entries) {
  std::vector<v1::AuditKind> out;
  for (const auto& e : entries) out.push_back(e.kind());
  return out;
}

class Audit : public ::testing::Test {
 protected:
  void start(server::ServerConfig config, const Clock* clock = nullptr,
             const MonotonicClock* monotonic_clock = nullptr) {
    config.scheduler_interval_ms = 0;  // tests run timed work by hand
    server_ = std::make_unique<TestServer>(std::move(config), clock, std::function<void(server::Server&)>(),
                                           monotonic_clock);
  }
  void start() { start(test_config(dir_.path())); }

  std::unique_ptr<TestClient> connected(const std::string& from = {}) {
    auto c = std::make_unique<TestClient>();
    if (!from.empty()) c->set_source_address(from);
    EXPECT_EQ(c->connect(server_->port()), "");
    return c;
  }
  std::unique_ptr<TestClient> signed_in(const std::string& username, const std::string& from = {}) {
    auto c = connected(from);
    auto r = c->login(username, TestServer::password_of(username));
    EXPECT_TRUE(r.has_login()) << r.DebugString();
    return c;
  }
  static v1::Response call(TestClient& c, const v1::ClientFrame& f) {
    auto r = c.call(f);
    if (!r) {
      v1::Response none;
      none.mutable_error()->set_message("no reply");
      return none;
    }
    return *r;
  }
  // Every entry ListAudit gives `admin`, following has_more.
  static std::vector<v1::AuditEntry> list_all(TestClient& admin, const std::string& username = {}) {
    std::vector<v1::AuditEntry> out;
    v1::ClientFrame f;
    f.mutable_list_audit()->set_username(username);
    f.mutable_list_audit()->set_limit(1000);
    for (int page = 0; page < 1000; ++page) {
      auto r = call(admin, f);
      EXPECT_TRUE(r.has_list_audit()) << r.DebugString();
      if (!r.has_list_audit()) break;
      for (const auto& e : r.list_audit().entries()) out.push_back(e);
      if (!r.list_audit().has_more()) break;
      f.mutable_list_audit()->set_after_sequence(r.list_audit().next_after_sequence());
    }
    return out;
  }
  std::string admin_tool() const {
    return std::string("PRECEPTOR_ADMIN_PASSWORD='") + TestServer::password_of("admin.ada") + "' " +
           PRECEPTOR_ADMIN_PATH + " --server ws://127.0.0.1:" + std::to_string(server_->port()) +
           "/v1/ws --admin admin.ada ";
  }

  TempDir dir_;
  // For tests that move time on; declared before the server, which reads it
  // until it has stopped (its sessions' presence limits too).
  ManualMonotonicClock monotonic_{1'000'000'000};
  ManualClock clock_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(Audit, FailedThenSuccessfulSignInAreRecordedWithTheAddress) {
  start();
  const v1::User lucia = server_->add_user("lucia.garcia");
  server_->add_user("admin.ada", v1::ROLE_ADMIN);
  auto c = connected("127.0.0.2");
  ASSERT_EQ(c->login("lucia.garcia", "not-her-password").error().code(), v1::ERROR_CODE_UNAUTHENTICATED);
  ASSERT_EQ(c->login("nobody.here", "whatever-password").error().code(), v1::ERROR_CODE_UNAUTHENTICATED);
  ASSERT_TRUE(c->login("lucia.garcia", TestServer::password_of("lucia.garcia")).has_login());

  auto admin = signed_in("admin.ada", "127.0.0.3");
  const auto about_lucia = list_all(*admin, "lucia.garcia");
  ASSERT_EQ(kinds_of(about_lucia),
            (std::vector<v1::AuditKind>{v1::AUDIT_KIND_USER_CREATED, v1::AUDIT_KIND_SIGN_IN_FAILED,
                                        v1::AUDIT_KIND_SIGN_IN_SUCCEEDED}));
  const v1::AuditEntry& failed = about_lucia[1];
  EXPECT_EQ(failed.subject_id(), lucia.id());
  EXPECT_EQ(failed.actor_id(), 0u);  // nobody is known to have made a failed attempt
  EXPECT_EQ(failed.address(), "127.0.0.2");
  EXPECT_EQ(failed.detail(), "wrong password");
  const v1::AuditEntry& succeeded = about_lucia[2];
  EXPECT_EQ(succeeded.actor_id(), lucia.id());
  EXPECT_EQ(succeeded.subject_id(), lucia.id());
  EXPECT_EQ(succeeded.address(), "127.0.0.2");
  EXPECT_LT(failed.sequence(), succeeded.sequence());
  EXPECT_GT(succeeded.time_ms(), 0);

  // An unknown name is kept as the name tried, with no subject.
  const auto about_nobody = list_all(*admin, "nobody.here");
  ASSERT_EQ(about_nobody.size(), 1u);
  EXPECT_EQ(about_nobody[0].kind(), v1::AUDIT_KIND_SIGN_IN_FAILED);
  EXPECT_EQ(about_nobody[0].subject_id(), 0u);
  EXPECT_EQ(about_nobody[0].username(), "nobody.here");
  EXPECT_EQ(about_nobody[0].detail(), "no such user");
  EXPECT_EQ(about_nobody[0].address(), "127.0.0.2");
}

TEST_F(Audit, AdminActionsRecordWhoDidThemToWhom) {
  start();
  const v1::User ada = server_->add_user("admin.ada", v1::ROLE_ADMIN);
  const v1::User erik = server_->add_user("mentor.erik", v1::ROLE_MENTOR);
  auto erik_client = signed_in("mentor.erik", "127.0.0.4");
  v1::ClientFrame logout;
  logout.mutable_logout();
  ASSERT_TRUE(call(*erik_client, logout).has_logout());
  auto again = signed_in("mentor.erik", "127.0.0.4");
  auto admin = signed_in("admin.ada", "127.0.0.5");

  v1::ClientFrame f;
  f.mutable_revoke_tokens()->set_username("mentor.erik");
  ASSERT_EQ(call(*admin, f).revoke_tokens().revoked(), 1u);
  f.mutable_set_account_disabled()->set_username("mentor.erik");
  f.mutable_set_account_disabled()->set_disabled(true);
  ASSERT_TRUE(call(*admin, f).has_set_account_disabled());
  f.mutable_set_account_disabled()->set_disabled(false);
  ASSERT_TRUE(call(*admin, f).has_set_account_disabled());
  f.mutable_reset_password()->set_username("mentor.erik");
  f.mutable_reset_password()->set_new_password("a-new-passphrase");
  ASSERT_TRUE(call(*admin, f).has_reset_password());

  const auto entries = list_all(*admin, "mentor.erik");
  ASSERT_EQ(kinds_of(entries),
            (std::vector<v1::AuditKind>{v1::AUDIT_KIND_USER_CREATED, v1::AUDIT_KIND_SIGN_IN_SUCCEEDED,
                                        v1::AUDIT_KIND_SIGNED_OUT, v1::AUDIT_KIND_SIGN_IN_SUCCEEDED,
                                        v1::AUDIT_KIND_TOKENS_REVOKED, v1::AUDIT_KIND_ACCOUNT_DISABLED,
                                        v1::AUDIT_KIND_ACCOUNT_ENABLED, v1::AUDIT_KIND_PASSWORD_RESET}));
  EXPECT_EQ(entries[0].role(), v1::ROLE_MENTOR);
  EXPECT_EQ(entries[0].actor_id(), 0u);  // created by the server's own tooling
  EXPECT_EQ(entries[2].actor_id(), erik.id());
  EXPECT_EQ(entries[2].address(), "127.0.0.4");
  for (size_t i = 4; i < entries.size(); ++i) {
    SCOPED_TRACE(entries[i].DebugString());
    EXPECT_EQ(entries[i].actor_id(), ada.id());
    EXPECT_EQ(entries[i].actor_username(), "admin.ada");
    EXPECT_EQ(entries[i].subject_id(), erik.id());
    EXPECT_EQ(entries[i].username(), "mentor.erik");
    EXPECT_EQ(entries[i].address(), "127.0.0.5");
  }
  EXPECT_EQ(entries[4].detail(), "ended 1 session");
  EXPECT_EQ(entries[5].detail(), "ended 0 sessions");  // the revocation had ended it already
  // Filtering by the admin shows what they did (and their own sign-in).
  EXPECT_EQ(list_all(*admin, "admin.ada").size(), 1u + 1u + 4u);
}

TEST_F(Audit, DirectorReadsAreRecordedAndMembersReadsAreNot) {
  start();
  const v1::User director = server_->add_user("director.okafor", v1::ROLE_PROGRAM_DIRECTOR);
  const v1::User mentor = server_->add_user("mentor.erik", v1::ROLE_MENTOR);
  const v1::User mentee = server_->add_user("tomas", v1::ROLE_MENTEE);
  server_->add_user("admin.ada", v1::ROLE_ADMIN);
  auto dir_client = signed_in("director.okafor", "127.0.0.6");
  auto mentee_client = signed_in("tomas");
  v1::ClientFrame assign;
  assign.mutable_assign_mentorship()->set_mentor_id(mentor.id());
  assign.mutable_assign_mentorship()->set_mentee_id(mentee.id());
  assign.mutable_assign_mentorship()->set_purpose(v1::PURPOSE_WELLBEING);
  ASSERT_TRUE(has_mentorship(call(*dir_client, assign)));

  v1::ClientFrame list;
  list.mutable_list_mentorships();
  auto seen = call(*dir_client, list);
  ASSERT_TRUE(seen.has_list_mentorships()) << seen.DebugString();
  ASSERT_EQ(seen.list_mentorships().mentorships_size(), 1);
  ASSERT_TRUE(call(*mentee_client, list).has_list_mentorships());

  auto admin = signed_in("admin.ada");
  std::vector<v1::AuditEntry> reads;
  for (const auto& e : list_all(*admin)) {
    if (e.kind() == v1::AUDIT_KIND_DIRECTOR_READ) reads.push_back(e);
  }
  ASSERT_EQ(reads.size(), 1u);  // the director's, not the mentee's
  EXPECT_EQ(reads[0].actor_id(), director.id());
  EXPECT_EQ(reads[0].actor_username(), "director.okafor");
  EXPECT_EQ(reads[0].address(), "127.0.0.6");
  EXPECT_EQ(reads[0].detail(), "listed 1 mentorship after id 0");
}

TEST_F(Audit, OnlyAdminsMayReadTheLog) {
  start();
  server_->add_user("director.okafor", v1::ROLE_PROGRAM_DIRECTOR);
  server_->add_user("mentor.erik", v1::ROLE_MENTOR);
  server_->add_user("admin.ada", v1::ROLE_ADMIN);
  v1::ClientFrame f;
  f.mutable_list_audit();
  for (const char* name : {"director.okafor", "mentor.erik"}) {
    auto c = signed_in(name);
    auto r = call(*c, f);
    ASSERT_TRUE(r.has_error()) << r.DebugString();
    EXPECT_EQ(r.error().code(), v1::ERROR_CODE_PERMISSION_DENIED);
    EXPECT_EQ(r.error().message(), "Only an administrator can read the audit log.");
  }
  auto anonymous = connected();
  EXPECT_EQ(call(*anonymous, f).error().code(), v1::ERROR_CODE_UNAUTHENTICATED);
  auto admin = signed_in("admin.ada");
  f.mutable_list_audit()->set_limit(1001);
  EXPECT_EQ(call(*admin, f).error().field(), "limit");
  f.mutable_list_audit()->set_limit(0);
  f.mutable_list_audit()->set_username("not a name");
  EXPECT_EQ(call(*admin, f).error().field(), "username");
}

TEST_F(Audit, MessageTextAndPasswordsNeverReachTheLog) {
  start();
  const std::string canary = "CANARY-7f3a9 the patient in bed 12";
  const std::string canary_password = "CANARY-pw-0b1c2d3e4f";
  const v1::User mentor = server_->add_user("mentor.erik", v1::ROLE_MENTOR);
  const v1::User mentee = server_->add_user("tomas", v1::ROLE_MENTEE);
  server_->add_user("director.okafor", v1::ROLE_PROGRAM_DIRECTOR);
  server_->add_user("admin.ada", v1::ROLE_ADMIN);
  auto mentee_client = signed_in("tomas");
  auto mentor_client = signed_in("mentor.erik");
  v1::ClientFrame request;
  request.mutable_request_mentorship()->set_mentor_id(mentor.id());
  request.mutable_request_mentorship()->set_purpose(v1::PURPOSE_CAREER);
  request.mutable_request_mentorship()->set_note(canary);
  auto requested = call(*mentee_client, request);
  ASSERT_TRUE(has_mentorship(requested)) << requested.DebugString();
  v1::ClientFrame accept;
  accept.mutable_accept_mentorship()->set_mentorship_id(mentorship_of(requested).id());
  auto accepted = call(*mentor_client, accept);
  ASSERT_TRUE(has_mentorship(accepted));
  v1::ClientFrame send;
  send.mutable_send_message()->set_conversation_id(mentorship_of(accepted).conversation_id());
  send.mutable_send_message()->set_body(canary);
  send.mutable_send_message()->set_client_message_id("c-1");
  ASSERT_TRUE(call(*mentee_client, send).has_send_message());
  // A password, and one typed into the username field.
  auto guesser = connected("127.0.0.7");
  EXPECT_TRUE(guesser->login("tomas", canary_password).has_error());
  EXPECT_TRUE(guesser->login(canary_password + " x", canary_password).has_error());
  auto director = signed_in("director.okafor");
  v1::ClientFrame list;
  list.mutable_list_mentorships();
  ASSERT_TRUE(call(*director, list).has_list_mentorships());

  auto admin = signed_in("admin.ada");
  const auto entries = list_all(*admin);
  ASSERT_GE(entries.size(), 10u);
  for (const auto& e : entries) {
    const std::string bytes = e.SerializeAsString();
    EXPECT_EQ(bytes.find("CANARY"), std::string::npos) << e.DebugString();
  }
  for (const auto& [key, value] : raw_audit(server_->server().store())) {
    EXPECT_EQ(value.find("CANARY"), std::string::npos);
  }
  // The attempt with the password as its username is there, without it.
  bool found = false;
  for (const auto& e : entries) {
    if (e.kind() == v1::AUDIT_KIND_SIGN_IN_FAILED && e.detail() == "not a valid username") {
      found = true;
      EXPECT_EQ(e.username(), "");
      EXPECT_EQ(e.address(), "127.0.0.7");
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(Audit, PagesAreBoundedInBytesAndLoseNothing) {
  start();
  server_->add_user("admin.ada", v1::ROLE_ADMIN);
  // 1500 entries of the largest size, written as the services write them.
  std::promise<Status> written;
  server_->server().committer().submit(
      [](storage::CommitContext& ctx) -> Status {
        for (int i = 0; i < 1500; ++i) {
          services::append_audit(
              ctx,
              services::audit_entry(v1::AUDIT_KIND_SIGN_IN_REFUSED,
                                    services::AuditActor{.address = "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"},
                                    0, std::string(64, 'u'), std::string(300, 'd')));
        }
        return Status::ok();
      },
      [&written](const Status& st) { written.set_value(st); });
  ASSERT_TRUE(written.get_future().get());
  auto admin = signed_in("admin.ada");

  v1::ClientFrame f;
  f.mutable_list_audit()->set_limit(1000);
  auto first = call(*admin, f);
  ASSERT_TRUE(first.has_list_audit()) << first.error().DebugString();
  const auto& page = first.list_audit();
  EXPECT_TRUE(page.has_more());
  EXPECT_LT(page.entries_size(), 1000);  // the bytes stopped it, not the limit
  EXPECT_GT(page.entries_size(), 100);
  size_t bytes = 0;
  for (const auto& e : page.entries()) {
    if (e.kind() == v1::AUDIT_KIND_SIGN_IN_REFUSED) {
      EXPECT_EQ(e.detail().size(), services::kMaxAuditDetailBytes);  // cut from 300
    }
    bytes += e.ByteSizeLong();
  }
  EXPECT_LE(bytes, services::kMaxPageBytes);

  const auto all = list_all(*admin);
  ASSERT_EQ(all.size(), 1u + 1500u + 1u);  // the admin's creation, the 1500, the admin's sign-in
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].sequence(), i + 1);
}

TEST_F(Audit, RefusedSignInsAreRecordedAtMostOnceAMinutePerAddress) {
  auto config = test_config(dir_.path());
  config.accounts.login_failures_per_address_burst = 2;
  config.accounts.login_failures_per_address_refill_ms = 3600 * 1000;
  config.accounts.login_failures_per_username_address_burst = 0;
  config.accounts.login_failures_per_username_burst = 0;
  start(config, nullptr, &monotonic_);
  server_->add_user("admin.ada", v1::ROLE_ADMIN);
  auto attacker = connected("127.0.0.8");
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(attacker->login("admin.ada", "guess-number-" + std::to_string(i)).error().code(),
              v1::ERROR_CODE_UNAUTHENTICATED);
  }
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(attacker->login("admin.ada", "guess-more").error().code(), v1::ERROR_CODE_RESOURCE_EXHAUSTED);
  }
  monotonic_.advance_ms(61 * 1000);
  ASSERT_EQ(attacker->login("admin.ada", "guess-more").error().code(), v1::ERROR_CODE_RESOURCE_EXHAUSTED);

  auto admin = signed_in("admin.ada", "127.0.0.9");
  std::vector<v1::AuditEntry> refused;
  for (const auto& e : list_all(*admin, "admin.ada")) {
    if (e.kind() == v1::AUDIT_KIND_SIGN_IN_REFUSED) refused.push_back(e);
  }
  ASSERT_EQ(refused.size(), 2u);
  EXPECT_EQ(refused[0].address(), "127.0.0.8");
  EXPECT_EQ(refused[0].username(), "admin.ada");
  EXPECT_NE(refused[0].detail().find("Too many failed sign-in attempts"), std::string::npos);
  EXPECT_NE(refused[1].detail().find("(4 refusals since the last entry were not recorded)"),
            std::string::npos)
      << refused[1].detail();
}

TEST_F(Audit, RetentionSweepDeletesOnlyEntriesPastIt) {
  auto config = test_config(dir_.path());
  config.accounts.token_lifetime_ms = 400 * kDayMs;
  config.accounts.token_idle_timeout_ms = 400 * kDayMs;
  config.audit.sweep_batch = 2;  // several batches in one run
  start(config, &clock_);
  for (const char* name : {"ana.one", "ben.two", "cai.three"}) server_->add_user(name);
  const size_t old_entries = stored_entries(server_->server().store()).size();
  ASSERT_EQ(old_entries, 3u);

  clock_.advance_ms(200 * kDayMs);
  server_->add_user("admin.ada", v1::ROLE_ADMIN);
  auto admin = signed_in("admin.ada");
  clock_.advance_ms(166 * kDayMs);  // the first three are now 366 days old, past the 365 kept
  server_->server().run_scheduler_once();
  auto entries = stored_entries(server_->server().store());
  ASSERT_EQ(entries.size(), 2u);  // the admin's creation and sign-in
  EXPECT_EQ(entries[0].sequence(), 4u);
  EXPECT_EQ(kinds_of(entries),
            (std::vector<v1::AuditKind>{v1::AUDIT_KIND_USER_CREATED, v1::AUDIT_KIND_SIGN_IN_SUCCEEDED}));
  // Reading starts at the oldest kept; new entries go on numbering.
  const auto listed = list_all(*admin);
  ASSERT_EQ(listed.size(), 2u);
  server_->server().run_scheduler_once();  // nothing more is due
  EXPECT_EQ(stored_entries(server_->server().store()).size(), 2u);
  clock_.advance_ms(200 * kDayMs);
  server_->server().run_scheduler_once();
  EXPECT_TRUE(stored_entries(server_->server().store()).empty());
}

TEST_F(Audit, AdminToolPrintsTheLogOfflineAndOnline) {
  ManualClock clock(1'700'000'000'000);  // 2023-11-14T22:13:20.000Z
  start(test_config(dir_.path()), &clock);
  server_->add_user("admin.ada", v1::ROLE_ADMIN);
  server_->add_user("mentor.erik", v1::ROLE_MENTOR);
  auto guesser = connected("127.0.0.2");
  ASSERT_TRUE(guesser->login("mentor.erik", "not-his-password").has_error());

  auto [code, out] = run_command(admin_tool() + "audit --user mentor.erik");
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("2023-11-14T22:13:20.000Z #3 sign_in_failed by=- user=mentor.erik(#2) address=127.0.0.2 "
                     "detail=\"wrong password\""),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("2 entries."), std::string::npos) << out;

  guesser.reset();
  server_->stop();
  std::tie(code, out) =
      run_command(std::string(PRECEPTOR_ADMIN_PATH) + " --data-dir " + dir_.path().string() + " audit");
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("2023-11-14T22:13:20.000Z #1 user_created by=- user=admin.ada(#1) role=admin"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("#3 sign_in_failed by=- user=mentor.erik(#2) address=127.0.0.2"), std::string::npos)
      << out;
  // The online run signed in and out: those are in the log too.
  EXPECT_NE(out.find("sign_in_succeeded by=admin.ada(#1) user=admin.ada(#1) address=127.0.0.1"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("signed_out by=admin.ada(#1)"), std::string::npos) << out;
  const std::regex line(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z #\d+ [a-z_]+ by=)");
  size_t lines = 0;
  size_t start_of_line = 0;
  while (start_of_line < out.size()) {
    const size_t end = out.find('\n', start_of_line);
    const std::string one = out.substr(start_of_line, end - start_of_line);
    if (one.find(" entries.") == std::string::npos) {
      EXPECT_TRUE(std::regex_search(one, line)) << one;
      ++lines;
    }
    if (end == std::string::npos) break;
    start_of_line = end + 1;
  }
  EXPECT_EQ(lines, 5u);

  std::tie(code, out) = run_command(std::string(PRECEPTOR_ADMIN_PATH) + " --data-dir " +
                                    dir_.path().string() + " audit --after 3 --user nobody.here");
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("No audit entries for nobody.here."), std::string::npos) << out;
}

}  // namespace
}  // namespace preceptor::testing
