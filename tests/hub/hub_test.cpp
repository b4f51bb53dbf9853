// The hub: fan-out of committed events to live sessions, the reply that
// already carried an event, ending sessions, presence.
#include "server/hub/hub.h"

#include <gtest/gtest.h>

#include "storage/committer.h"
#include "tests/harness/services_harness.h"

namespace preceptor::hub {
namespace {

using harness::FakeSession;

storage::CommittedEvent committed(uint64_t position, std::vector<uint64_t> audience,
                                  uint64_t carried_to = 0) {
  v1::Event e;
  e.set_position(position);
  e.mutable_message_deleted()->set_seq(position);
  storage::CommittedEvent c;
  c.bytes = std::make_shared<const std::string>(e.SerializeAsString());
  c.event = std::make_shared<const v1::Event>(std::move(e));
  c.audience = std::make_shared<const std::vector<uint64_t>>(std::move(audience));
  c.carried_in_reply_to = carried_to;
  return c;
}

TEST(Hub, PublishesEachEventToEverySessionOfItsAudienceInOrder) {
  Hub hub;
  auto a1 = std::make_shared<FakeSession>(), a2 = std::make_shared<FakeSession>(),
       b = std::make_shared<FakeSession>();
  hub.attach(1, "ta", a1, 10);
  hub.attach(1, "ta2", a2, 11);
  hub.attach(2, "tb", b, 20);
  std::vector<storage::CommittedEvent> events = {committed(5, {1}), committed(6, {1, 2})};
  hub.publish(events);
  ASSERT_EQ(a1->events().size(), 2u);
  EXPECT_EQ(a1->events()[0].position(), 5u);
  EXPECT_EQ(a1->events()[1].position(), 6u);
  EXPECT_EQ(a2->events().size(), 2u);
  ASSERT_EQ(b->events().size(), 1u);
  EXPECT_EQ(b->events()[0].position(), 6u);
}

TEST(Hub, TheConnectionWhoseReplyCarriedTheEventIsNotSentItAgain) {
  Hub hub;
  auto sender = std::make_shared<FakeSession>(), other_device = std::make_shared<FakeSession>();
  hub.attach(1, "t1", sender, 10);
  hub.attach(1, "t2", other_device, 11);
  std::vector<storage::CommittedEvent> events = {committed(7, {1}, /*carried_to=*/10)};
  hub.publish(events);
  EXPECT_TRUE(sender->events().empty());
  EXPECT_EQ(other_device->events().size(), 1u);
}

TEST(Hub, EndingATokenEndsItsSessionsButTheOneThatAsked) {
  Hub hub;
  auto asking = std::make_shared<FakeSession>(), same_token = std::make_shared<FakeSession>(),
       other_token = std::make_shared<FakeSession>();
  hub.attach(1, "token", asking, 10);
  hub.attach(1, "token", same_token, 11);
  hub.attach(1, "other", other_token, 12);
  hub.end_token("token", "You signed out.", 10);
  EXPECT_FALSE(asking->ended());
  EXPECT_EQ(same_token->ended().value_or(""), "You signed out.");
  EXPECT_FALSE(other_token->ended());
  hub.end_user(1, "ended");
  EXPECT_EQ(other_token->ended().value_or(""), "ended");
}

TEST(Hub, PresenceChangesOnTheFirstAttachAndTheLastDetach) {
  Hub hub;
  std::vector<std::pair<uint64_t, bool>> seen;
  hub.add_presence_listener([&](uint64_t user, bool online) { seen.emplace_back(user, online); });
  auto s = std::make_shared<FakeSession>();
  const uint64_t r1 = hub.attach(4, "t", s, 1);
  const uint64_t r2 = hub.attach(4, "t", s, 2);
  EXPECT_TRUE(hub.is_online(4));
  hub.detach(r1);
  EXPECT_TRUE(hub.is_online(4));
  hub.detach(r2);
  EXPECT_FALSE(hub.is_online(4));
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], std::make_pair(uint64_t{4}, true));
  EXPECT_EQ(seen[1], std::make_pair(uint64_t{4}, false));
}

}  // namespace
}  // namespace preceptor::hub
