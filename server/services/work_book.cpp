#include "server/services/work_book.h"

#include <string>

#include "server/services/record_io.h"
#include "server/services/slots.h"
#include "storage/keys.h"

namespace preceptor::services {
namespace {

using storage::Cf;

std::string work_key(uint64_t mentorship_id) { return storage::keys::IdKey{.id = mentorship_id}.encode(); }

Result<Membership::Member> decide(const v1::User& actor, uint64_t mentorship_id,
                                  Result<std::optional<Membership::Member>> found, bool need_active) {
  if (!found) return found.status();
  if (!found->has_value()) {
    return not_found("No mentorship " + std::to_string(mentorship_id) + " among yours.", "mentorship_id");
  }
  if (need_active && !(*found)->active()) {
    return failed_precondition(
        "This mentorship is not active, so its goals and assignments can be read but no longer changed.");
  }
  static_cast<void>(actor);
  return **found;
}

Status refuse_overseer() {
  return permission_denied(
      "Program directors and admins see counts only; goals, assignments and documents belong to the "
      "mentor and the mentee.");
}

}  // namespace

Result<Membership::Member> work_member(storage::CommitContext& ctx, const v1::User& actor,
                                       uint64_t mentorship_id, bool need_active) {
  if (oversees_program(actor)) return refuse_overseer();
  return decide(actor, mentorship_id, Membership::find(ctx, actor.id(), mentorship_id), need_active);
}

Result<Membership::Member> work_member(const Membership& membership, const v1::User& actor,
                                       uint64_t mentorship_id, bool need_active) {
  if (oversees_program(actor)) return refuse_overseer();
  return decide(actor, mentorship_id, membership.find(actor.id(), mentorship_id), need_active);
}

Result<v1::MentorshipWorkRecord> load_work(storage::CommitContext& ctx, uint64_t mentorship_id) {
  auto rec = load<v1::MentorshipWorkRecord>(ctx, Cf::kMentorshipWork, work_key(mentorship_id));
  if (!rec) return rec.status();
  return rec->value_or(v1::MentorshipWorkRecord{});
}

Result<v1::MentorshipWorkRecord> load_work(const storage::Store& store, uint64_t mentorship_id) {
  auto rec = load<v1::MentorshipWorkRecord>(store, Cf::kMentorshipWork, work_key(mentorship_id));
  if (!rec) return rec.status();
  return rec->value_or(v1::MentorshipWorkRecord{});
}

void save_work(storage::CommitContext& ctx, uint64_t mentorship_id, const v1::MentorshipWorkRecord& work) {
  save(ctx, Cf::kMentorshipWork, work_key(mentorship_id), work);
}

Status check_calendar_date(std::string_view date, std::string_view field, bool optional) {
  if (date.empty() && optional) return Status::ok();
  constexpr int32_t k2000 = 10957;  // days from 1970-01-01 to 2000-01-01
  constexpr int32_t k2101 = 47847;  // to 2101-01-01
  auto day = parse_local_date(date);
  if (!day || *day < k2000 || *day >= k2101) {
    return invalid_argument(
        "Give the date as YYYY-MM-DD, a real day between 2000 and 2100 (for example 2027-03-31).",
        std::string(field));
  }
  return Status::ok();
}

}  // namespace preceptor::services
