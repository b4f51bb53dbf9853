#pragma once

// Meetings made directly through the shared meeting layer (store_meeting),
// as the meeting and office-hours services make them, for the reminder and
// calendar tests: one committer mutation each, waited for.

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>
#include <string>

#include "server/services/meeting_book.h"
#include "storage/committer.h"

namespace preceptor::testing {

inline constexpr int64_t kMinute = 60'000;
inline constexpr int64_t kHour = 60 * kMinute;
inline constexpr int64_t kDay = 24 * kHour;

// Runs `apply` on the committer and waits for it (bounded); its status.
inline Status commit_and_wait(storage::Committer& committer, storage::ApplyFn apply) {
  auto done = std::make_shared<std::promise<Status>>();
  auto future = done->get_future();
  committer.submit(std::move(apply), [done](const Status& st) { done->set_value(st); });
  if (future.wait_for(std::chrono::seconds(20)) != std::future_status::ready)
    return internal_error("The test gave up waiting for the committer.");
  return future.get();
}

struct NewMeeting {
  uint64_t mentor_id = 0;
  uint64_t mentee_id = 0;
  int64_t start_ms = 0;
  uint32_t duration_minutes = 60;
  v1::MeetingState state = v1::MEETING_STATE_ACCEPTED;
  std::string agenda = "Career plans";
  v1::Where where = {};
  std::string time_zone = "Europe/Stockholm";
};

// Creates a meeting (accepted by default; its reminders scheduled by
// store_meeting); returns its id, 0 on failure (the test fails too).
inline uint64_t create_meeting(storage::Committer& committer, const NewMeeting& n) {
  uint64_t id = 0;
  Status st = commit_and_wait(committer, [&n, &id](storage::CommitContext& ctx) -> Status {
    v1::MeetingRecord rec;
    v1::Meeting* m = rec.mutable_meeting();
    m->set_id(ctx.next_id("meeting"));
    m->set_mentor_id(n.mentor_id);
    m->set_mentee_id(n.mentee_id);
    m->set_state(n.state);
    m->set_start_ms(n.start_ms);
    m->set_duration_minutes(n.duration_minutes);
    m->set_time_zone(n.time_zone);
    m->set_agenda(n.agenda);
    *m->mutable_where() = n.where;
    m->set_proposed_by(n.mentor_id);
    m->set_revision(n.state == v1::MEETING_STATE_PROPOSED ? 1 : 2);
    m->set_created_ms(ctx.now_ms());
    m->set_updated_ms(ctx.now_ms());
    m->set_changed_by(n.mentee_id);
    PRECEPTOR_RETURN_IF_ERROR(services::store_meeting(ctx, nullptr, rec));
    services::emit_meeting_changed(ctx, v1::MEETING_CHANGE_ACCEPTED, *m, n.mentee_id);
    id = m->id();
    return Status::ok();
  });
  EXPECT_TRUE(st.is_ok()) << st.to_string();
  return id;
}

// Changes meeting `id` as a service would: `change` edits the meeting, the
// revision grows, and store_meeting moves every index.
inline Status change_meeting(storage::Committer& committer, uint64_t id,
                             std::function<void(v1::Meeting&)> change,
                             v1::MeetingChange kind = v1::MEETING_CHANGE_NEW_TIME_PROPOSED) {
  return commit_and_wait(committer, [id, change, kind](storage::CommitContext& ctx) -> Status {
    auto loaded = services::load_meeting(ctx, id);
    if (!loaded) return loaded.status();
    if (!loaded->has_value()) return not_found("no such meeting");
    const v1::MeetingRecord before = **loaded;
    v1::MeetingRecord after = before;
    change(*after.mutable_meeting());
    after.mutable_meeting()->set_revision(before.meeting().revision() + 1);
    after.mutable_meeting()->set_updated_ms(ctx.now_ms());
    PRECEPTOR_RETURN_IF_ERROR(services::store_meeting(ctx, &before, after));
    services::emit_meeting_changed(ctx, kind, after.meeting(), 0);
    return Status::ok();
  });
}

}  // namespace preceptor::testing
