#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/status.h"
#include "preceptor/v1/accounts.pb.h"
#include "preceptor/v1/mentorship.pb.h"
#include "storage/committer.h"
#include "storage/store.h"

namespace preceptor::services {

// Program directors and admins oversee the program: they see engagement
// figures, never the content of a conversation, and are never members.
inline bool oversees_program(const v1::User& user) {
  return user.role() == v1::ROLE_PROGRAM_DIRECTOR || user.role() == v1::ROLE_ADMIN;
}

// The one answer to "is this user a member of mentorship X, and in which
// role". Every service that acts inside a mentorship (chat, meetings,
// assignments, goals) asks here instead of reading mentorship records;
// the mentorships service owns and writes those. Read only; thread-safe.
class Membership {
 public:
  enum class Role { kMentor, kMentee };

  // One user's place in one mentorship.
  struct Member {
    uint64_t mentorship_id = 0;
    Role role = Role::kMentee;
    uint64_t counterpart_id = 0;  // the other member
    v1::MentorshipState state = v1::MENTORSHIP_STATE_UNSPECIFIED;
    uint64_t conversation_id = 0;  // 0 until the mentorship became active
    bool active() const { return state == v1::MENTORSHIP_STATE_ACTIVE; }
  };

  explicit Membership(const storage::Store& store) : store_(store) {}

  // The user's place in mentorship `mentorship_id`; nullopt when there is
  // no such mentorship or the user is not one of its two members (callers
  // answer both the same way, so ids reveal nothing).
  Result<std::optional<Member>> find(uint64_t user_id, uint64_t mentorship_id) const;
  // The same inside a mutation: sees the writes of its own group.
  static Result<std::optional<Member>> find(storage::CommitContext& ctx, uint64_t user_id,
                                            uint64_t mentorship_id);

  // Every mentorship the user belongs to, in any state, by id.
  Result<std::vector<Member>> of_user(uint64_t user_id) const;

  // The place of `user_id` in `m`; nullopt when not a member.
  static std::optional<Member> member_of(const v1::Mentorship& m, uint64_t user_id);

 private:
  const storage::Store& store_;
};

}  // namespace preceptor::services
