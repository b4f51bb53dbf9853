#include "server/services/indexes.h"

#include <algorithm>
#include <future>
#include <string>
#include <vector>

#include "server/services/goals.h"
#include "server/services/mentorships.h"
#include "server/services/record_io.h"

namespace preceptor::services {
namespace {

using storage::Cf;
namespace keys = storage::keys;

std::string due_key(uint64_t mentorship_id, int64_t due_ms) {
  // Times before 1970 do not occur; clamped, they would be due at once, which is right.
  return keys::MentorshipByDue{.due_ms = static_cast<uint64_t>(std::max<int64_t>(0, due_ms)),
                               .mentorship_id = mentorship_id}
      .encode();
}

// Entries one start-up mutation writes at most.
constexpr size_t kEntriesPerMutation = 1000;

Status commit_and_wait(storage::Committer& committer, storage::ApplyFn apply) {
  std::promise<Status> written;
  auto result = written.get_future();
  committer.submit(std::move(apply), [&written](const Status& st) { written.set_value(st); });
  return result.get();
}

// Builds `family` once: `collect` reads the records and returns the keys of
// every entry; they are put in mutations of kEntriesPerMutation, the last of
// which also records the upgrade as done.
template <class Collect>
Status build_once(storage::Store& store, storage::Committer& committer, Cf family, Collect collect) {
  const std::string done_key = keys::UpgradeDone{.name = storage::cf_name(family)}.encode();
  auto done = store.get(Cf::kMeta, done_key);
  if (!done) return done.status();
  if (done->has_value()) return Status::ok();
  Result<std::vector<std::string>> entries = collect();
  if (!entries) return entries.status();
  size_t next = 0;
  do {
    const size_t end = std::min(entries->size(), next + kEntriesPerMutation);
    const bool last = end == entries->size();
    PRECEPTOR_RETURN_IF_ERROR(commit_and_wait(committer, [&, next, end, last](storage::CommitContext& ctx) {
      for (size_t i = next; i < end; ++i) ctx.put(family, (*entries)[i], "");
      if (last) ctx.put(Cf::kMeta, done_key, "");
      return Status::ok();
    }));
    next = end;
  } while (next < entries->size());
  return Status::ok();
}

}  // namespace

void index_user_role(storage::CommitContext& ctx, const v1::User& user) {
  ctx.put(Cf::kUsersByRole,
          keys::UserByRole{.role = static_cast<uint64_t>(user.role()), .user_id = user.id()}.encode(), "");
}

std::optional<int64_t> mentorship_due_ms(const v1::Mentorship& m, const v1::ConversationRecord* conv) {
  if (m.state() == v1::MENTORSHIP_STATE_REQUESTED) {
    return m.requested_at_ms() + (m.reminder_sent() ? kRequestExpiryMs : kRequestReminderMs);
  }
  if (m.state() != v1::MENTORSHIP_STATE_ACTIVE || !m.has_agreement() || conv == nullptr) return std::nullopt;
  const int64_t period = cadence_ms(m.agreement().cadence());
  if (period <= 0) return std::nullopt;
  // Due once the cadence has lapsed since the last contact, and again only a
  // full period after the last reminder.
  int64_t due = conv->last_contact_ms() + period;
  if (conv->checkin_due_notified_ms() != 0) due = std::max(due, conv->checkin_due_notified_ms() + period);
  return due;
}

Result<std::optional<int64_t>> mentorship_due_ms(storage::CommitContext& ctx, const v1::Mentorship& m) {
  if (m.state() != v1::MENTORSHIP_STATE_ACTIVE || !m.has_agreement() || m.conversation_id() == 0)
    return mentorship_due_ms(m, nullptr);
  auto conv = load<v1::ConversationRecord>(
      ctx, Cf::kConversations, keys::Conversation{.conversation_id = m.conversation_id()}.encode());
  if (!conv) return conv.status();
  return mentorship_due_ms(m, conv->has_value() ? &**conv : nullptr);
}

void move_due(storage::CommitContext& ctx, uint64_t mentorship_id, std::optional<int64_t> before,
              std::optional<int64_t> after) {
  if (before == after) return;
  if (before) ctx.del(Cf::kMentorshipsByDue, due_key(mentorship_id, *before));
  if (after) ctx.put(Cf::kMentorshipsByDue, due_key(mentorship_id, *after), "");
}

Status conversation_due_changed(storage::CommitContext& ctx, const v1::ConversationRecord& before,
                                const v1::ConversationRecord& after) {
  if (before.last_contact_ms() == after.last_contact_ms() &&
      before.checkin_due_notified_ms() == after.checkin_due_notified_ms())
    return Status::ok();
  auto rec = load<v1::MentorshipRecord>(ctx, Cf::kMentorships,
                                        keys::Mentorship{.mentorship_id = after.mentorship_id()}.encode());
  if (!rec) return rec.status();
  if (!rec->has_value()) return Status::ok();
  const v1::Mentorship& m = (*rec)->mentorship();
  move_due(ctx, m.id(), mentorship_due_ms(m, &before), mentorship_due_ms(m, &after));
  return Status::ok();
}

// Plans "time to reassess" (work_due, mentorship_work) for the active
// mentorships of a store written before it existed, once, in mutations of
// kMentorshipsPerMutation; "upgrade/reassessment_schedule" in meta records
// that it is done. Idempotent: a mentorship already planned is left alone.
Status plan_missing_reassessments(storage::Store& store, storage::Committer& committer) {
  constexpr size_t kMentorshipsPerMutation = 200;
  const std::string done_key = keys::UpgradeDone{.name = "reassessment_schedule"}.encode();
  auto done = store.get(Cf::kMeta, done_key);
  if (!done) return done.status();
  if (done->has_value()) return Status::ok();
  std::vector<uint64_t> active;
  auto scanned = store.scan(Cf::kMentorships, {}, [&](std::string_view, std::string_view value) {
    v1::MentorshipRecord rec;
    if (rec.ParseFromArray(value.data(), static_cast<int>(value.size())) &&
        rec.mentorship().state() == v1::MENTORSHIP_STATE_ACTIVE)
      active.push_back(rec.mentorship().id());
    return true;
  });
  if (!scanned) return scanned.status();
  size_t next = 0;
  do {
    const size_t end = std::min(active.size(), next + kMentorshipsPerMutation);
    const bool last = end == active.size();
    PRECEPTOR_RETURN_IF_ERROR(commit_and_wait(committer, [&, next, end, last](storage::CommitContext& ctx) {
      for (size_t i = next; i < end; ++i)
        PRECEPTOR_RETURN_IF_ERROR(plan_reassessment_if_unplanned(ctx, active[i]));
      if (last) ctx.put(Cf::kMeta, done_key, "");
      return Status::ok();
    }));
    next = end;
  } while (next < active.size());
  return Status::ok();
}

Status build_missing_indexes(storage::Store& store, storage::Committer& committer) {
  PRECEPTOR_RETURN_IF_ERROR(
      build_once(store, committer, Cf::kUsersByRole, [&]() -> Result<std::vector<std::string>> {
        std::vector<std::string> entries;
        auto scanned = store.scan(Cf::kUsers, {}, [&](std::string_view, std::string_view value) {
          v1::UserRecord rec;
          // A damaged record stays out of the index; reading it directly still reports it.
          if (rec.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
            entries.push_back(
                keys::UserByRole{.role = static_cast<uint64_t>(rec.user().role()), .user_id = rec.user().id()}
                    .encode());
          }
          return true;
        });
        if (!scanned) return scanned.status();
        return entries;
      }));
  PRECEPTOR_RETURN_IF_ERROR(plan_missing_reassessments(store, committer));
  return build_once(store, committer, Cf::kMentorshipsByDue, [&]() -> Result<std::vector<std::string>> {
    std::vector<std::string> entries;
    Status st;
    auto scanned = store.scan(Cf::kMentorships, {}, [&](std::string_view, std::string_view value) {
      v1::MentorshipRecord rec;
      if (!rec.ParseFromArray(value.data(), static_cast<int>(value.size()))) return true;
      const v1::Mentorship& m = rec.mentorship();
      v1::ConversationRecord conv;
      bool has_conv = false;
      if (m.conversation_id() != 0) {
        auto raw = store.get(Cf::kConversations,
                             keys::Conversation{.conversation_id = m.conversation_id()}.encode());
        if (!raw) {
          st = raw.status();
          return false;
        }
        // Damaged, it is left out like the record itself: the scheduler could not read it either.
        has_conv = raw->has_value() && conv.ParseFromString(**raw);
      }
      if (auto due = mentorship_due_ms(m, has_conv ? &conv : nullptr))
        entries.push_back(due_key(m.id(), *due));
      return true;
    });
    if (!scanned) return scanned.status();
    if (!st) return st;
    return entries;
  });
}

}  // namespace preceptor::services
