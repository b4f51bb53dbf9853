#include "server/services/membership.h"

#include "preceptor/v1/records.pb.h"
#include "server/services/record_io.h"

namespace preceptor::services {

using storage::Cf;
namespace keys = storage::keys;

std::optional<Membership::Member> Membership::member_of(const v1::Mentorship& m, uint64_t user_id) {
  if (user_id == 0 || (m.mentor_id() != user_id && m.mentee_id() != user_id)) return std::nullopt;
  Member out;
  out.mentorship_id = m.id();
  out.role = m.mentor_id() == user_id ? Role::kMentor : Role::kMentee;
  out.counterpart_id = m.mentor_id() == user_id ? m.mentee_id() : m.mentor_id();
  out.state = m.state();
  out.conversation_id = m.conversation_id();
  return out;
}

Result<std::optional<Membership::Member>> Membership::find(uint64_t user_id, uint64_t mentorship_id) const {
  auto rec = load<v1::MentorshipRecord>(store_, Cf::kMentorships,
                                        keys::Mentorship{.mentorship_id = mentorship_id}.encode());
  if (!rec) return rec.status();
  if (!rec->has_value()) return std::optional<Member>();
  return member_of((*rec)->mentorship(), user_id);
}

Result<std::optional<Membership::Member>> Membership::find(storage::CommitContext& ctx, uint64_t user_id,
                                                           uint64_t mentorship_id) {
  auto rec = load<v1::MentorshipRecord>(ctx, Cf::kMentorships,
                                        keys::Mentorship{.mentorship_id = mentorship_id}.encode());
  if (!rec) return rec.status();
  if (!rec->has_value()) return std::optional<Member>();
  return member_of((*rec)->mentorship(), user_id);
}

Result<std::vector<Membership::Member>> Membership::of_user(uint64_t user_id) const {
  std::vector<Member> out;
  Status inner;
  auto add = [&](std::string_view key, std::string_view) {
    const std::optional<keys::UserMentorship> entry = keys::UserMentorship::decode(key);
    if (!entry) {
      inner = data_loss("A stored index entry of " + std::string(storage::cf_name(Cf::kUserMentorships)) +
                        " is damaged.");
      return false;
    }
    auto rec = load<v1::MentorshipRecord>(store_, Cf::kMentorships,
                                          keys::Mentorship{.mentorship_id = entry->mentorship_id}.encode());
    if (!rec) {
      inner = rec.status();
      return false;
    }
    if (rec->has_value()) {
      if (auto member = member_of((*rec)->mentorship(), user_id)) out.push_back(*member);
    }
    return true;
  };
  auto scanned = store_.scan_prefix(Cf::kUserMentorships, keys::UserMentorship::prefix(user_id), add);
  if (!scanned) return scanned.status();
  if (!inner) return inner;
  return out;
}

}  // namespace preceptor::services
