#include "server/services/chat.h"

#include "server/hub/hub.h"
#include "server/services/indexes.h"
#include "server/services/membership.h"
#include "server/services/record_io.h"
#include "server/services/usage.h"
#include "storage/message_text.h"

namespace preceptor::services {
namespace {

using storage::Cf;
namespace keys = storage::keys;

Status not_a_member(const v1::User& actor, uint64_t conversation_id) {
  if (oversees_program(actor)) {
    return permission_denied(
        "Program directors see engagement figures (ListMentorships), never the messages of a "
        "conversation.");
  }
  return not_found("No conversation " + std::to_string(conversation_id) + " among yours.", "conversation_id");
}

bool is_member(const v1::ConversationRecord& c, uint64_t user) {
  return c.mentor_id() == user || c.mentee_id() == user;
}

uint64_t counterpart(const v1::ConversationRecord& c, uint64_t user) {
  return c.mentor_id() == user ? c.mentee_id() : c.mentor_id();
}

// The conversation, if the actor is a member; inside a mutation.
Result<v1::ConversationRecord> writable(storage::CommitContext& ctx, const v1::User& actor, uint64_t id) {
  auto conv = load<v1::ConversationRecord>(ctx, Cf::kConversations,
                                           keys::Conversation{.conversation_id = id}.encode());
  if (!conv) return conv.status();
  if (!conv->has_value() || !is_member(**conv, actor.id())) return not_a_member(actor, id);
  if ((*conv)->read_only()) {
    return failed_precondition(
        "This mentorship has ended, so its conversation is read-only: the history stays "
        "readable, but nothing new can be sent.");
  }
  return std::move(**conv);
}

// Moves the user's read marker forward to `seq` (never back); true if moved.
Result<bool> advance_read(storage::CommitContext& ctx, uint64_t user, uint64_t conv, uint64_t seq) {
  const std::string key = keys::ReadMarker{.user_id = user, .conversation_id = conv}.encode();
  auto raw = ctx.get(Cf::kReadMarkers, key);
  if (!raw) return raw.status();
  uint64_t current = raw->has_value() ? storage::decode_u64(**raw).value_or(0) : 0;
  if (seq <= current) return false;
  ctx.put(Cf::kReadMarkers, key, storage::encode_u64(seq));
  return true;
}

Status load_message(storage::CommitContext& ctx, uint64_t conv, uint64_t seq, v1::Message& out) {
  auto msg =
      load<v1::Message>(ctx, Cf::kMessages, keys::Message{.conversation_id = conv, .seq = seq}.encode());
  if (!msg) return msg.status();
  if (!msg->has_value())
    return not_found("No message " + std::to_string(seq) + " in this conversation.", "seq");
  out = std::move(**msg);
  return Status::ok();
}

}  // namespace

Chat::Chat(storage::Store& store, storage::Committer& committer, hub::Hub& hub, const Membership& membership,
           const Clock& clock, const MonotonicClock& monotonic_clock, StorageQuota quota)
    : store_(store),
      committer_(committer),
      hub_(hub),
      membership_(membership),
      clock_(clock),
      quota_(quota),
      typing_(TokenRate::one_every_ms(1000, 1), monotonic_clock, kMaxTypingKeys),
      presence_(TokenRate::one_every_ms(kPresenceIntervalMs, kPresenceBurst), monotonic_clock,
                kMaxPresenceKeys) {}

void Chat::send(const v1::User& actor, const v1::SendMessage& req, Done<v1::SendMessageResult> done,
                uint64_t origin) {
  if (req.client_message_id().empty() || req.client_message_id().size() > kMaxClientMessageIdBytes) {
    return done(
        invalid_argument("client_message_id must be 1 to 64 bytes, unique per message; clients generate it "
                         "once and reuse it on retries.",
                         "client_message_id"));
  }
  if (req.body().size() > kMaxBodyBytes) {
    return done(invalid_argument("The message is " + std::to_string(req.body().size()) +
                                     " bytes; the limit is 16384. Split it, or share a document instead.",
                                 "body"));
  }
  const bool checkin = req.has_check_in();
  if (checkin && (req.check_in().status() < v1::CHECK_IN_STATUS_ON_TRACK ||
                  req.check_in().status() > v1::CHECK_IN_STATUS_BLOCKED)) {
    return done(
        invalid_argument("A check-in needs a status: on track, need help or blocked.", "check_in.status"));
  }
  if (checkin && req.check_in().note().size() > kMaxBodyBytes) {
    return done(invalid_argument("The check-in note may be at most 16384 bytes.", "check_in.note"));
  }
  if (!checkin && req.body().empty()) return done(invalid_argument("The message is empty.", "body"));

  commit_with_result<v1::SendMessageResult>(
      committer_,
      [actor, req, checkin, quota = quota_](storage::CommitContext& ctx,
                                            v1::SendMessageResult& out) -> Status {
        const uint64_t conv_id = req.conversation_id();
        // A retry of a stored message answers with the original, even after
        // the conversation became read-only.
        const std::string conv_key = keys::Conversation{.conversation_id = conv_id}.encode();
        auto conv_any = load<v1::ConversationRecord>(ctx, Cf::kConversations, conv_key);
        if (!conv_any) return conv_any.status();
        if (!conv_any->has_value() || !is_member(**conv_any, actor.id())) return not_a_member(actor, conv_id);
        const std::string id_key = keys::ClientMessageId{.conversation_id = conv_id,
                                                         .sender_id = actor.id(),
                                                         .client_message_id = req.client_message_id()}
                                       .encode();
        auto existing = ctx.get(Cf::kClientMessageIds, id_key);
        if (!existing) return existing.status();
        if (existing->has_value()) {
          PRECEPTOR_RETURN_IF_ERROR(load_message(ctx, conv_id, storage::decode_u64(**existing).value_or(0),
                                                 *out.mutable_message()));
          out.set_duplicate(true);
          return Status::ok();
        }
        auto conv = writable(ctx, actor, conv_id);
        if (!conv) return conv.status();
        if (req.reply_to_seq() > conv->last_seq()) {
          return invalid_argument("reply_to_seq " + std::to_string(req.reply_to_seq()) +
                                      " is not a message of this conversation.",
                                  "reply_to_seq");
        }
        const v1::ConversationRecord before = *conv;
        const uint64_t seq = conv->last_seq() + 1;
        v1::Message m;
        m.set_conversation_id(conv_id);
        m.set_seq(seq);
        m.set_sender_id(actor.id());
        m.set_client_message_id(req.client_message_id());
        m.set_kind(checkin ? v1::MESSAGE_KIND_CHECKIN : v1::MESSAGE_KIND_TEXT);
        m.set_body(req.body());
        m.set_reply_to_seq(req.reply_to_seq());
        m.set_sent_at_ms(ctx.now_ms());
        if (checkin) {  // field by field: nothing else the client sent is stored
          m.mutable_check_in()->set_status(req.check_in().status());
          m.mutable_check_in()->set_note(req.check_in().note());
        }
        PRECEPTOR_RETURN_IF_ERROR(
            charge_stored_bytes(ctx, actor.id(), static_cast<int64_t>(quota_bytes_of(m)), quota));
        m.set_position(ctx.next_position());
        save(ctx, Cf::kMessages, keys::Message{.conversation_id = conv_id, .seq = seq}.encode(), m);
        ctx.put(Cf::kClientMessageIds, id_key, storage::encode_u64(seq));
        conv->set_last_seq(seq);
        if (checkin) {
          conv->set_checkin_count(conv->checkin_count() + 1);
        } else {
          conv->set_message_count(conv->message_count() + 1);
        }
        conv->set_last_contact_ms(ctx.now_ms());
        conv->set_checkin_due_notified_ms(0);
        save(ctx, Cf::kConversations, conv_key, *conv);
        PRECEPTOR_RETURN_IF_ERROR(conversation_due_changed(ctx, before, *conv));  // the check-in is due later
        auto moved = advance_read(ctx, actor.id(), conv_id, seq);                 // one's own message is read
        if (!moved) return moved.status();
        v1::Event e;
        *e.mutable_message_posted()->mutable_message() = m;
        ctx.append_event(std::move(e), {conv->mentor_id(), conv->mentee_id()}, storage::InReply::kCarried);
        *out.mutable_message() = std::move(m);
        return Status::ok();
      },
      std::move(done), origin);
}

void Chat::edit(const v1::User& actor, const v1::EditMessage& req, Done<v1::Message> done) {
  if (req.body().empty())
    return done(invalid_argument("The new text is empty; delete the message instead.", "body"));
  if (req.body().size() > kMaxBodyBytes)
    return done(invalid_argument("The message may be at most 16384 bytes.", "body"));
  commit_with_result<v1::Message>(
      committer_,
      [actor, req, quota = quota_](storage::CommitContext& ctx, v1::Message& out) -> Status {
        auto conv = writable(ctx, actor, req.conversation_id());
        if (!conv) return conv.status();
        PRECEPTOR_RETURN_IF_ERROR(load_message(ctx, req.conversation_id(), req.seq(), out));
        if (out.sender_id() != actor.id()) return permission_denied("You can edit only your own messages.");
        if (out.deleted()) return failed_precondition("This message was deleted; it cannot be edited.");
        const auto before = static_cast<int64_t>(quota_bytes_of(out));
        out.set_body(req.body());
        PRECEPTOR_RETURN_IF_ERROR(
            charge_stored_bytes(ctx, actor.id(), static_cast<int64_t>(quota_bytes_of(out)) - before, quota));
        out.set_edited_at_ms(ctx.now_ms());
        // The one copy of the text is overwritten: the earlier text is not
        // kept (no edit history), and its bytes are compacted away.
        const std::string key =
            keys::Message{.conversation_id = req.conversation_id(), .seq = req.seq()}.encode();
        save(ctx, Cf::kMessages, key, out);
        ctx.redact(Cf::kMessages, key);
        v1::Event e;
        *e.mutable_message_edited()->mutable_message() = out;
        ctx.append_event(std::move(e), {conv->mentor_id(), conv->mentee_id()});
        return Status::ok();
      },
      std::move(done));
}

void Chat::remove(const v1::User& actor, const v1::DeleteMessage& req, Done<v1::Message> done) {
  commit_with_result<v1::Message>(
      committer_,
      [actor, req, quota = quota_](storage::CommitContext& ctx, v1::Message& out) -> Status {
        auto conv = writable(ctx, actor, req.conversation_id());
        if (!conv) return conv.status();
        PRECEPTOR_RETURN_IF_ERROR(load_message(ctx, req.conversation_id(), req.seq(), out));
        if (out.sender_id() != actor.id()) return permission_denied("You can delete only your own messages.");
        if (out.deleted()) return Status::ok();  // already a tombstone
        PRECEPTOR_RETURN_IF_ERROR(
            charge_stored_bytes(ctx, actor.id(), -static_cast<int64_t>(quota_bytes_of(out)), quota));
        out.clear_body();
        out.clear_check_in();
        out.set_deleted(true);
        out.set_edited_at_ms(ctx.now_ms());
        // The tombstone overwrites the one copy of the text (the stored
        // events hold none); the old bytes are compacted away.
        const std::string key =
            keys::Message{.conversation_id = req.conversation_id(), .seq = req.seq()}.encode();
        save(ctx, Cf::kMessages, key, out);
        ctx.redact(Cf::kMessages, key);
        v1::Event e;
        e.mutable_message_deleted()->set_conversation_id(req.conversation_id());
        e.mutable_message_deleted()->set_seq(req.seq());
        ctx.append_event(std::move(e), {conv->mentor_id(), conv->mentee_id()});
        return Status::ok();
      },
      std::move(done));
}

Result<v1::ConversationRecord> Chat::readable(const v1::User& actor, uint64_t conversation_id) const {
  auto conv = load<v1::ConversationRecord>(store_, Cf::kConversations,
                                           keys::Conversation{.conversation_id = conversation_id}.encode());
  if (!conv) return conv.status();
  if (!conv->has_value() || !is_member(**conv, actor.id())) return not_a_member(actor, conversation_id);
  return std::move(**conv);
}

Result<v1::HistoryResult> Chat::history(const v1::User& actor, const v1::History& req) const {
  if (req.limit() > kMaxHistoryPage)
    return invalid_argument("limit may be at most 200 messages a page.", "limit");
  if (req.before_seq() != 0 && req.has_after_seq()) {
    return invalid_argument("Give before_seq or after_seq, not both.", "after_seq");
  }
  const uint32_t limit = req.limit() == 0 ? 50 : req.limit();
  auto conv = readable(actor, req.conversation_id());
  if (!conv) return conv.status();
  v1::HistoryResult out;
  const uint64_t conv_id = req.conversation_id();
  bool damaged = false;
  auto add = [&](std::string_view, std::string_view value) {
    damaged = !out.add_messages()->ParseFromArray(value.data(), static_cast<int>(value.size()));
    return !damaged;
  };
  if (req.has_after_seq()) {
    // From after_seq to the end of this conversation's keys, a page at most.
    const std::string begin = keys::Message{.conversation_id = conv_id, .seq = req.after_seq() + 1}.encode();
    const std::string end = keys::prefix_end(keys::Message::prefix(conv_id));
    auto scanned = store_.scan(Cf::kMessages, {.begin = begin, .end = end}, add,
                               {.max_entries = limit, .max_bytes = kMaxPageBytes});
    if (!scanned) return scanned.status();
    if (damaged) return data_loss("A stored message is damaged.");
    out.set_has_more(*scanned == storage::ScanEnd::kLimitReached);
  } else {
    // Seqs are gap-free from 1 and messages are never removed (a deletion
    // leaves a tombstone), so the page below `below` is exactly the seqs
    // [from, below): read them forward (a backward walk over RocksDB's
    // merged sources costs several times more) and hand them out newest first.
    const uint64_t below = req.before_seq() == 0 ? conv->last_seq() + 1
                                                 : std::min<uint64_t>(req.before_seq(), conv->last_seq() + 1);
    if (below <= 1) return out;
    const uint64_t from = below > limit ? below - limit : 1;
    const std::string begin = keys::Message{.conversation_id = conv_id, .seq = from}.encode();
    const std::string end = keys::Message{.conversation_id = conv_id, .seq = below}.encode();
    auto scanned = store_.scan(Cf::kMessages, {.begin = begin, .end = end}, add);
    if (!scanned) return scanned.status();
    if (damaged) return data_loss("A stored message is damaged.");
    auto* messages = out.mutable_messages();
    // The newest that fit in the byte budget (at least one); the older rest is the next page's.
    size_t bytes = 0;
    int keep = 0;
    for (int i = messages->size() - 1; i >= 0; --i, ++keep) {
      const size_t size = messages->Get(i).ByteSizeLong();
      if (keep > 0 && bytes + size > kMaxPageBytes) break;
      bytes += size;
    }
    const int dropped = messages->size() - keep;
    if (dropped > 0) messages->DeleteSubrange(0, dropped);
    for (int i = 0, j = messages->size() - 1; i < j; ++i, --j) messages->SwapElements(i, j);
    out.set_has_more(from > 1 || dropped > 0);
  }
  return out;
}

Result<v1::SyncResult> Chat::sync(const v1::User& actor, const v1::Sync& req) const {
  if (req.limit() > kMaxSyncPage)
    return invalid_argument("limit may be at most 1000 events a page.", "limit");
  const uint32_t limit = req.limit() == 0 ? 500 : req.limit();
  v1::SyncResult out;
  out.mutable_next()->set_store_id(store_.store_id());
  uint64_t since = req.since().position();
  if (since != 0 && req.since().store_id() != store_.store_id()) {
    // Positions from another store mean nothing here: start over.
    out.set_store_changed(true);
    since = 0;
  }
  out.mutable_next()->set_position(since);
  // The user's inbox range holds the events themselves, in position order,
  // message events without their text: that is put back from `messages`
  // below, in one batched read for the page.
  const std::string begin = keys::UserInbox{.user_id = actor.id(), .position = since + 1}.encode();
  const std::string end = keys::prefix_end(keys::UserInbox::prefix(actor.id()));
  struct Entry {
    uint64_t position;
    std::optional<v1::Event> event;  // nullopt: its event is gone (takes no room)
  };
  std::vector<Entry> entries;
  Status inner;
  size_t stored_bytes = 0;  // a lower bound of the page's size: hydration only adds text
  uint32_t counted = 0;
  auto add = [&](std::string_view key, std::string_view value) {
    // The page counts events handed out; an entry whose event is gone takes no room in it.
    if (counted == limit) {
      out.set_has_more(true);
      return false;
    }
    const std::optional<keys::UserInbox> entry = keys::UserInbox::decode(key);
    if (!entry) {
      inner = data_loss("A stored inbox key is damaged.");
      return false;
    }
    v1::Event event;
    if (!value.empty()) {
      if (!event.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
        inner = data_loss("A stored event is damaged.");
        return false;
      }
    } else {
      // An inbox entry from before events were copied into inboxes.
      auto rec =
          load<v1::EventRecord>(store_, Cf::kEvents, keys::Event{.position = entry->position}.encode());
      if (!rec) {
        inner = rec.status();
        return false;
      }
      if (!rec->has_value()) {
        entries.push_back(Entry{entry->position, std::nullopt});
        return true;
      }
      event = std::move(*(*rec)->mutable_event());
    }
    const size_t size = event.ByteSizeLong();
    if (counted > 0 && stored_bytes + size > kMaxPageBytes) {
      out.set_has_more(true);
      return false;
    }
    stored_bytes += size;
    ++counted;
    entries.push_back(Entry{entry->position, std::move(event)});
    return true;
  };
  auto scanned = store_.scan(Cf::kUserInbox, {.begin = begin, .end = end}, add);
  if (!scanned) return scanned.status();
  if (!inner) return inner;

  std::vector<v1::Event*> to_hydrate;
  to_hydrate.reserve(entries.size());
  for (Entry& entry : entries) {
    if (entry.event) to_hydrate.push_back(&*entry.event);
  }
  PRECEPTOR_RETURN_IF_ERROR(storage::hydrate_message_events(store_, to_hydrate));

  // The byte budget holds for the events as sent, text included: a page
  // stops before the event that would pass it (at least one goes out).
  size_t bytes = 0;
  for (Entry& entry : entries) {
    if (entry.event) {
      const size_t size = entry.event->ByteSizeLong();
      if (out.events_size() > 0 && bytes + size > kMaxPageBytes) {
        out.set_has_more(true);
        break;
      }
      bytes += size;
      *out.add_events() = std::move(*entry.event);
    }
    out.mutable_next()->set_position(entry.position);
  }
  return out;
}

void Chat::mark_read(const v1::User& actor, const v1::MarkRead& req, Done<v1::MarkReadResult> done) {
  commit_with_result<v1::MarkReadResult>(
      committer_,
      [actor, req](storage::CommitContext& ctx, v1::MarkReadResult& out) -> Status {
        auto conv = load<v1::ConversationRecord>(
            ctx, Cf::kConversations, keys::Conversation{.conversation_id = req.conversation_id()}.encode());
        if (!conv) return conv.status();
        if (!conv->has_value() || !is_member(**conv, actor.id()))
          return not_a_member(actor, req.conversation_id());
        if (req.seq() > (*conv)->last_seq()) {
          return invalid_argument("seq " + std::to_string(req.seq()) + " is past the newest message (" +
                                      std::to_string((*conv)->last_seq()) + ").",
                                  "seq");
        }
        auto moved = advance_read(ctx, actor.id(), req.conversation_id(), req.seq());
        if (!moved) return moved.status();
        auto raw = ctx.get(
            Cf::kReadMarkers,
            keys::ReadMarker{.user_id = actor.id(), .conversation_id = req.conversation_id()}.encode());
        if (!raw) return raw.status();
        out.set_read_seq(raw->has_value() ? storage::decode_u64(**raw).value_or(0) : 0);
        if (*moved) {
          v1::Event e;
          auto* marker = e.mutable_read_marker();
          marker->set_conversation_id(req.conversation_id());
          marker->set_user_id(actor.id());
          marker->set_read_seq(out.read_seq());
          ctx.append_event(std::move(e), {actor.id()});
        }
        return Status::ok();
      },
      std::move(done));
}

Result<v1::ListConversationsResult> Chat::list(const v1::User& actor) const {
  auto memberships = membership_.of_user(actor.id());
  if (!memberships) return memberships.status();
  v1::ListConversationsResult out;
  for (const Membership::Member& member : *memberships) {
    if (member.conversation_id == 0) continue;
    const uint64_t conv_id = member.conversation_id;
    auto conv = load<v1::ConversationRecord>(store_, Cf::kConversations,
                                             keys::Conversation{.conversation_id = conv_id}.encode());
    if (!conv) return conv.status();
    if (!conv->has_value()) continue;
    auto marker = store_.get(Cf::kReadMarkers,
                             keys::ReadMarker{.user_id = actor.id(), .conversation_id = conv_id}.encode());
    if (!marker) return marker.status();
    const uint64_t read = marker->has_value() ? storage::decode_u64(**marker).value_or(0) : 0;
    auto* s = out.add_conversations();
    s->set_conversation_id(conv_id);
    s->set_mentorship_id((*conv)->mentorship_id());
    s->set_counterpart_id(member.counterpart_id);
    s->set_last_seq((*conv)->last_seq());
    s->set_read_seq(read);
    s->set_unread((*conv)->last_seq() > read ? (*conv)->last_seq() - read : 0);
    s->set_read_only((*conv)->read_only());
    s->set_last_message_ms((*conv)->last_contact_ms());
  }
  return out;
}

Status Chat::set_typing(const v1::User& actor, const v1::SetTyping& req) {
  auto conv = readable(actor, req.conversation_id());
  if (!conv) return conv.status();
  if (conv->read_only()) return failed_precondition("This conversation is read-only.");
  const int64_t now = clock_.now_ms();
  {
    // `true` takes the user's token for this conversation; `false` takes none
    // but is sent only to withdraw a `true` that was sent, so at most one of
    // each goes out per token.
    const std::string key = storage::encode_u64(actor.id()) + storage::encode_u64(req.conversation_id());
    std::lock_guard lock(typing_mu_);
    if (!req.typing()) {
      if (typing_shown_.erase(key) == 0) return Status::ok();  // nothing shown: nothing to withdraw
    } else if (const TokenTake take = typing_.try_take(key); !take) {
      return resource_exhausted("Typing updates are limited to one a second per conversation.",
                                take.retry_after_ms);
    } else if (typing_shown_.size() < kMaxTypingKeys) {
      typing_shown_.insert(key);
    }
  }
  v1::Event e;
  e.set_time_ms(now);
  auto* typing = e.mutable_typing();
  typing->set_conversation_id(req.conversation_id());
  typing->set_user_id(actor.id());
  typing->set_typing(req.typing());
  hub_.publish_live({counterpart(*conv, actor.id())}, e);
  return Status::ok();
}

void Chat::on_presence(uint64_t user_id, bool online) {
  {
    std::lock_guard lock(presence_mu_);
    if (!presence_.try_take(storage::encode_u64(user_id))) {
      // Held back; flush_presence() sends the latest state once the limit allows.
      if (presence_held_.size() < kMaxPresenceKeys || presence_held_.contains(user_id))
        presence_held_[user_id] = online;
      return;
    }
    presence_held_.erase(user_id);  // this change is newer than any held back
  }
  publish_presence(user_id, online);
}

void Chat::flush_presence() {
  std::vector<std::pair<uint64_t, bool>> due;
  {
    std::lock_guard lock(presence_mu_);
    for (auto it = presence_held_.begin(); it != presence_held_.end();) {
      if (presence_.try_take(storage::encode_u64(it->first))) {
        due.emplace_back(*it);
        it = presence_held_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& [user_id, online] : due) publish_presence(user_id, online);
}

void Chat::publish_presence(uint64_t user_id, bool online) {
  auto memberships = membership_.of_user(user_id);
  if (!memberships) return;  // presence is best effort; the next change tells again
  std::vector<uint64_t> audience;
  for (const Membership::Member& member : *memberships) {
    if (member.active()) audience.push_back(member.counterpart_id);
  }
  if (audience.empty()) return;
  v1::Event e;
  e.set_time_ms(clock_.now_ms());
  e.mutable_presence()->set_user_id(user_id);
  e.mutable_presence()->set_online(online);
  hub_.publish_live(audience, e);
}

}  // namespace preceptor::services
