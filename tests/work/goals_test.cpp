// Tests of the goals service (issue 13). Until it lands: its requests
// answer UNIMPLEMENTED, with a sentence.
#include <gtest/gtest.h>

#include "tests/harness/services_harness.h"

namespace preceptor {
namespace {

TEST(WorkGoals, NotBuiltYetAnswersUnimplemented) {
  harness::ServicesHarness h;
  const v1::User mentee = h.add_user("mentee.goals", v1::ROLE_MENTEE);
  v1::ClientFrame f;
  f.set_request_id(1);
  f.mutable_list_goals()->set_mentorship_id(1);
  auto out = h.call(h.caller(mentee), std::move(f));
  ASSERT_TRUE(out.has_error());
  EXPECT_EQ(out.error().code(), v1::ERROR_CODE_UNIMPLEMENTED);
  EXPECT_FALSE(out.error().message().empty());
}

}  // namespace
}  // namespace preceptor
