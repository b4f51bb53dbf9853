#pragma once

#include <functional>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "common/clock.h"
#include "common/status.h"
#include "common/token_bucket.h"
#include "preceptor/v1/chat.pb.h"
#include "preceptor/v1/events.pb.h"
#include "preceptor/v1/records.pb.h"
#include "server/services/membership.h"
#include "server/services/usage.h"
#include "storage/committer.h"
#include "storage/store.h"

namespace preceptor::hub {
class Hub;
}

namespace preceptor::services {

inline constexpr size_t kMaxBodyBytes = 16 * 1024;
inline constexpr size_t kMaxClientMessageIdBytes = 64;
inline constexpr uint32_t kMaxHistoryPage = 200;
inline constexpr uint32_t kMaxSyncPage = 1000;

// One conversation per active mentorship: messages with gap-free seqs,
// idempotent sends, history, per-user sync, read markers, and live-only
// typing and presence. Thread-safe; callbacks run on the committer's delivery thread.
//
// Authorization: only the two members read or write a conversation. Anyone
// else gets NOT_FOUND ("No conversation N among yours."), except program
// directors and admins, who get PERMISSION_DENIED: they see engagement
// figures through ListMentorships, never message bodies.
class Chat {
 public:
  template <class T>
  using Done = std::function<void(Result<T>)>;

  // `clock` dates events; `monotonic_clock` times the typing limit. Both must outlive the Chat.
  Chat(storage::Store& store, storage::Committer& committer, hub::Hub& hub, const Membership& membership,
       const Clock& clock, const MonotonicClock& monotonic_clock, StorageQuota quota = {});

  // The reply carries the stored message, so the connection that sent it
  // (`origin`, a connection id; 0: none) is not sent its MessagePosted;
  // the sender's other sessions and the counterpart's are.
  void send(const v1::User& actor, const v1::SendMessage& req, Done<v1::SendMessageResult> done,
            uint64_t origin = 0);
  void edit(const v1::User& actor, const v1::EditMessage& req, Done<v1::Message> done);
  void remove(const v1::User& actor, const v1::DeleteMessage& req, Done<v1::Message> done);
  Result<v1::HistoryResult> history(const v1::User& actor, const v1::History& req) const;
  Result<v1::SyncResult> sync(const v1::User& actor, const v1::Sync& req) const;
  void mark_read(const v1::User& actor, const v1::MarkRead& req, Done<v1::MarkReadResult> done);
  Result<v1::ListConversationsResult> list(const v1::User& actor) const;
  // Live only. `true` is shown at most once a second per user and
  // conversation (RESOURCE_EXHAUSTED beyond); `false` withdraws a `true`
  // that was shown and is otherwise answered without sending anything, so
  // no sequence of values gets past the limit.
  Status set_typing(const v1::User& actor, const v1::SetTyping& req);

  // The hub's presence listener: tells a user's active counterparts. Changes
  // are limited per user (kPresenceRate); one past the limit is held back,
  // and the latest held-back state goes out from flush_presence().
  void on_presence(uint64_t user_id, bool online);
  // Sends the latest held-back presence of every user whose limit allows it
  // again. Called by the scheduler (ChatModule::run_timed_work).
  void flush_presence();

 private:
  Result<v1::ConversationRecord> readable(const v1::User& actor, uint64_t conversation_id) const;

  storage::Store& store_;
  storage::Committer& committer_;
  hub::Hub& hub_;
  const Membership& membership_;
  const Clock& clock_;
  const StorageQuota quota_;

  void publish_presence(uint64_t user_id, bool online);

  static constexpr size_t kMaxTypingKeys = 100'000;
  std::mutex typing_mu_;
  KeyedTokenBuckets typing_;  // GUARDED_BY(typing_mu_); (user id, conversation id), big-endian -> bucket of 1
  // Keys as above whose last event sent was `typing: true`. GUARDED_BY(typing_mu_); at most kMaxTypingKeys.
  std::unordered_set<std::string> typing_shown_;

  // A burst of 4 changes (a flaky network's reconnects), then one every 10 s.
  static constexpr int64_t kPresenceBurst = 4;
  static constexpr int64_t kPresenceIntervalMs = 10'000;
  static constexpr size_t kMaxPresenceKeys = 100'000;
  std::mutex presence_mu_;
  KeyedTokenBuckets presence_;  // GUARDED_BY(presence_mu_); user id, big-endian
  // user id -> the latest state held back by the limit. GUARDED_BY(presence_mu_); at most kMaxPresenceKeys.
  std::unordered_map<uint64_t, bool> presence_held_;
};

}  // namespace preceptor::services
