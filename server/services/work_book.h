#pragma once

// What the work services (goals, assignments, documents, the portfolio)
// share: who may act in a mentorship, and the per-mentorship record of
// counts, limits and the reassessment schedule (mentorship_work). Internal
// to server/services.

#include <cstdint>
#include <string_view>

#include "common/status.h"
#include "preceptor/v1/accounts.pb.h"
#include "preceptor/v1/records.pb.h"
#include "server/services/membership.h"
#include "storage/committer.h"
#include "storage/store.h"

namespace preceptor::services {

inline constexpr int64_t kDayMs = 24LL * 60 * 60 * 1000;
inline constexpr int64_t kWeekMs = 7 * kDayMs;
// "Time to reassess" every this many weeks unless the agreement says otherwise.
inline constexpr uint32_t kDefaultReassessWeeks = 12;
inline constexpr uint32_t kMinReassessWeeks = 4;
inline constexpr uint32_t kMaxReassessWeeks = 52;

// Whether `actor` may act in mentorship `mentorship_id`, and as whom.
//   program director or admin: PERMISSION_DENIED ("Program directors see
//     counts only; ...");
//   not one of the two members, or no such mentorship: NOT_FOUND ("No
//     mentorship N among yours.", field "mentorship_id");
//   `need_active` and the mentorship is not ACTIVE: FAILED_PRECONDITION
//     ("This mentorship is not active; ...").
Result<Membership::Member> work_member(storage::CommitContext& ctx, const v1::User& actor,
                                       uint64_t mentorship_id, bool need_active);
// The same outside a mutation (reads).
Result<Membership::Member> work_member(const Membership& membership, const v1::User& actor,
                                       uint64_t mentorship_id, bool need_active);

// The mentorship's work record (empty when none yet); save it in the same
// mutation that changes what it counts.
Result<v1::MentorshipWorkRecord> load_work(storage::CommitContext& ctx, uint64_t mentorship_id);
Result<v1::MentorshipWorkRecord> load_work(const storage::Store& store, uint64_t mentorship_id);
void save_work(storage::CommitContext& ctx, uint64_t mentorship_id, const v1::MentorshipWorkRecord& work);

// OK for "" (when `optional`) or a real calendar date "YYYY-MM-DD" between
// 2000-01-01 and 2100-12-31; else INVALID_ARGUMENT on `field`.
Status check_calendar_date(std::string_view date, std::string_view field, bool optional);

}  // namespace preceptor::services
