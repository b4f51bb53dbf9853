// The router: every request has a handler and a result named after it; the
// two ways a handler answers; who may send what.
#include "server/api/router.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "tests/harness/services_harness.h"

namespace preceptor::api {
namespace {

namespace pb = google::protobuf;
using harness::frame;
using harness::ServicesHarness;

const pb::OneofDescriptor* requests() { return v1::ClientFrame::descriptor()->FindOneofByName("request"); }

TEST(Router, EveryClientFrameRequestHasAHandler) {
  ServicesHarness h;
  for (int i = 0; i < requests()->field_count(); ++i) {
    const pb::FieldDescriptor* f = requests()->field(i);
    EXPECT_TRUE(h.router().handles(f->number()))
        << "No module handles ClientFrame." << f->name() << " (" << f->message_type()->full_name() << ")";
  }
}

TEST(Router, EveryRequestHasAResultNamedAfterItUnderTheSameNumber) {
  for (int i = 0; i < requests()->field_count(); ++i) {
    const pb::FieldDescriptor* req = requests()->field(i);
    const pb::FieldDescriptor* res = v1::Response::descriptor()->FindFieldByNumber(req->number());
    ASSERT_NE(res, nullptr) << "Response has no field " << req->number() << " for " << req->name();
    EXPECT_EQ(res->name(), req->name());
    EXPECT_EQ(res->message_type()->name(), req->message_type()->name() + "Result");
    ASSERT_NE(res->containing_oneof(), nullptr);
    EXPECT_EQ(res->containing_oneof()->name(), "result");
  }
}

TEST(Router, AnAnswerGivenInsideTheHandlerIsReturnedAndTheCallbackNeverRuns) {
  ManualClock clock;
  Router router(clock);
  router.handle_now<v1::Ping, v1::PingResult>(Access::anyone(), [](const Caller&, const v1::Ping& p) {
    v1::PingResult r;
    r.set_payload(p.payload());
    return Result<v1::PingResult>(r);
  });
  v1::Ping ping;
  ping.set_payload("hello");
  auto f = frame(&v1::ClientFrame::mutable_ping, ping);
  f.set_request_id(7);
  std::atomic<int> later_calls{0};
  auto now = router.dispatch(Caller{}, f, [&](Outcome) { ++later_calls; });
  ASSERT_TRUE(now.has_value());
  EXPECT_EQ(now->response.request_id(), 7u);
  EXPECT_EQ(now->response.ping().payload(), "hello");
  EXPECT_EQ(later_calls.load(), 0);
}

TEST(Router, AnAnswerFromAnotherThreadArrivesOnceThroughTheCallback) {
  ManualClock clock;
  Router router(clock);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::thread worker;
  router.handle<v1::Ping, v1::PingResult>(Access::anyone(),
                                          [&](const Caller&, const v1::Ping& p, Reply<v1::PingResult> reply) {
                                            v1::PingResult r;
                                            r.set_payload(p.payload());
                                            worker = std::thread([released, reply, r] {
                                              released.wait();
                                              reply(r);
                                            });
                                          });
  v1::Ping ping;
  ping.set_payload("later");
  std::promise<Outcome> got;
  std::atomic<int> calls{0};
  auto now = router.dispatch(Caller{}, frame(&v1::ClientFrame::mutable_ping, ping), [&](Outcome o) {
    if (++calls == 1) got.set_value(std::move(o));
  });
  EXPECT_FALSE(now.has_value());
  release.set_value();
  auto future = got.get_future();
  ASSERT_EQ(future.wait_for(harness::kWait), std::future_status::ready);
  EXPECT_EQ(future.get().response.ping().payload(), "later");
  worker.join();
  EXPECT_EQ(calls.load(), 1);
}

// The committer may answer before the handler has returned on the network
// thread. That answer must still go through the callback (the way events
// go), or it could overtake events sent before it.
TEST(Router, AnAnswerFromAnotherThreadBeforeTheHandlerReturnsStillGoesThroughTheCallback) {
  ManualClock clock;
  Router router(clock);
  router.handle<v1::Ping, v1::PingResult>(Access::anyone(),
                                          [](const Caller&, const v1::Ping& p, Reply<v1::PingResult> reply) {
                                            v1::PingResult r;
                                            r.set_payload(p.payload());
                                            std::thread([reply, r] { reply(r); }).join();
                                          });
  v1::Ping ping;
  ping.set_payload("raced");
  std::vector<Outcome> later;
  auto now = router.dispatch(Caller{}, frame(&v1::ClientFrame::mutable_ping, ping),
                             [&](Outcome o) { later.push_back(std::move(o)); });
  EXPECT_FALSE(now.has_value());
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].response.ping().payload(), "raced");
}

TEST(Router, SignedInRequestsRefuseAConnectionThatHasNotSignedIn) {
  ServicesHarness h;
  auto r = h.call(Caller{}, frame(&v1::ClientFrame::mutable_list_conversations));
  EXPECT_EQ(r.error().code(), v1::ERROR_CODE_UNAUTHENTICATED);
  EXPECT_NE(r.error().message().find("Sign in first"), std::string::npos);
}

TEST(Router, AnExpiredSessionIsRefusedOnEveryRequest) {
  ServicesHarness h;
  v1::User mentee = h.add_user("mentee.ann", v1::ROLE_MENTEE);
  Caller c = h.caller(mentee);
  c.session->expires_at_ms = h.clock().now_ms() + 1000;
  EXPECT_FALSE(h.call(c, frame(&v1::ClientFrame::mutable_list_conversations)).has_error());
  h.clock().advance_ms(1001);
  EXPECT_EQ(h.call(c, frame(&v1::ClientFrame::mutable_list_conversations)).error().code(),
            v1::ERROR_CODE_UNAUTHENTICATED);
}

TEST(Router, ARoleRuleRefusesOtherRolesWithItsSentence) {
  ServicesHarness h;
  v1::User mentee = h.add_user("mentee.bo", v1::ROLE_MENTEE);
  v1::RevokeTokens revoke;
  revoke.set_username("mentee.bo");
  auto r = h.call(h.caller(mentee), frame(&v1::ClientFrame::mutable_revoke_tokens, revoke));
  EXPECT_EQ(r.error().code(), v1::ERROR_CODE_PERMISSION_DENIED);
  EXPECT_EQ(r.error().message(), "Only an administrator can end another person's sessions.");
  v1::User admin = h.add_user("admin.cy", v1::ROLE_ADMIN);
  auto ok = h.call(h.caller(admin), frame(&v1::ClientFrame::mutable_revoke_tokens, revoke));
  EXPECT_TRUE(ok.has_revoke_tokens()) << ok.DebugString();
}

TEST(Router, AFrameWithoutARequestOrWithAnUnknownOneIsAnsweredClearly) {
  ManualClock clock;
  Router router(clock);
  auto empty = router.dispatch(Caller{}, v1::ClientFrame(), [](Outcome) {});
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->response.error().code(), v1::ERROR_CODE_INVALID_ARGUMENT);

  // A request field this build does not know (a newer client): field 2000.
  v1::ClientFrame newer;
  newer.GetReflection()->MutableUnknownFields(&newer)->AddLengthDelimited(2000, "x");
  auto unknown = router.dispatch(Caller{}, newer, [](Outcome) {});
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->response.error().code(), v1::ERROR_CODE_UNIMPLEMENTED);

  // A known request nobody handles here.
  auto unhandled = router.dispatch(Caller{}, frame(&v1::ClientFrame::mutable_ping), [](Outcome) {});
  ASSERT_TRUE(unhandled);
  EXPECT_EQ(unhandled->response.error().code(), v1::ERROR_CODE_UNIMPLEMENTED);
}

TEST(Router, WiringMistakesAreRefusedWhenHandlersAreAdded) {
  ManualClock clock;
  Router router(clock);
  auto pong = [](const Caller&, const v1::Ping&) { return Result<v1::PingResult>(v1::PingResult()); };
  router.handle_now<v1::Ping, v1::PingResult>(Access::anyone(), pong);
  EXPECT_THROW((router.handle_now<v1::Ping, v1::PingResult>(Access::anyone(), pong)), std::logic_error);
  EXPECT_THROW(
      (router.handle_now<v1::WhoAmI, v1::PingResult>(
          Access::anyone(),
          [](const Caller&, const v1::WhoAmI&) { return Result<v1::PingResult>(v1::PingResult()); })),
      std::logic_error);
  EXPECT_THROW((router.handle_now<v1::User, v1::PingResult>(
                   Access::anyone(),
                   [](const Caller&, const v1::User&) { return Result<v1::PingResult>(v1::PingResult()); })),
               std::logic_error);
}

}  // namespace
}  // namespace preceptor::api
