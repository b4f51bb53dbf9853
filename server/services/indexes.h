#pragma once

// The index families the services keep beside their records (see kCfTable):
// users_by_role for the directory and mentorships_by_due for the scheduler.
// Each entry is written in the same mutation as the record it follows, so an
// index and its records never disagree; the start-up step builds them for a
// store written before they existed. Internal to server/services.

#include <cstdint>
#include <optional>

#include "common/status.h"
#include "preceptor/v1/records.pb.h"
#include "storage/committer.h"
#include "storage/store.h"

namespace preceptor::services {

// Files a new user under their role. Inside the user's creating mutation;
// roles never change afterwards.
void index_user_role(storage::CommitContext& ctx, const v1::User& user);

// When the scheduler next has work for `m`, in UTC ms: a request's reminder
// (7 days) or, once reminded, its expiry (14 days); an active mentorship's
// check-in due (its agreed cadence after the last contact, or after the last
// CheckInDue). nullopt when it never will (answered, ended, no agreement).
// `conv` is m's conversation, nullptr when it has none.
std::optional<int64_t> mentorship_due_ms(const v1::Mentorship& m, const v1::ConversationRecord* conv);

// mentorship_due_ms as the mutation sees `m` now (loads its conversation when
// the answer depends on it).
Result<std::optional<int64_t>> mentorship_due_ms(storage::CommitContext& ctx, const v1::Mentorship& m);

// Moves the mentorship's entry in mentorships_by_due from `before` to
// `after`; either may be none. Nothing is written when they are equal.
void move_due(storage::CommitContext& ctx, uint64_t mentorship_id, std::optional<int64_t> before,
              std::optional<int64_t> after);

// For a mutation that rewrote a conversation from `before` to `after` (a
// message, a check-in): moves its mentorship's due entry to match.
Status conversation_due_changed(storage::CommitContext& ctx, const v1::ConversationRecord& before,
                                const v1::ConversationRecord& after);

// Start-up: fills users_by_role and mentorships_by_due from the records of
// a store written before they existed, and plans "time to reassess" for the
// active mentorships of such a store (work_due), once each, and records
// "upgrade/<family>" in meta when one is complete (an interrupted run starts
// over; every write is idempotent). Call before requests are served or the
// scheduler runs; blocks until committed.
Status build_missing_indexes(storage::Store& store, storage::Committer& committer);

}  // namespace preceptor::services
