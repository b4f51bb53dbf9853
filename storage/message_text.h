#pragma once

// Where a message's text lives: only in `messages` (conversation|seq ->
// Message, the latest text, or the tombstone once deleted). The stored copies
// of MessagePosted and MessageEdited (in `events` and in each member's
// `user_inbox`) hold the message without its text, a reference; readers put
// the current text back from `messages` (hydrate_message_events). So deleting
// or editing a message is one overwrite of one record, and no earlier text is
// kept anywhere once compaction has run (see Redactor).

#include <span>

#include "common/status.h"
#include "preceptor/v1/events.pb.h"

namespace preceptor::storage {

class Store;

// Removes what the user typed (body, check-in) from a MessagePosted or
// MessageEdited event, keeping the reference and harmless metadata
// (conversation_id, seq, sender_id, client_message_id, kind, reply_to_seq,
// times, deleted, position). True if the event is of those kinds and had any
// text; other events are left alone. Idempotent.
bool strip_message_text(v1::Event& event);

// Whether `event` is a MessagePosted or MessageEdited still carrying text
// (the stored form of stores written before the text moved to `messages`).
bool has_message_text(const v1::Event& event);

// Replaces the message of every MessagePosted / MessageEdited in `events`
// with its current record in `messages` (latest text; the tombstone when
// deleted), reading all of them in one batched lookup. A message that is
// not there (it never is, short of damage) is left as stored. DATA_LOSS when
// a stored message does not parse. Any thread.
Status hydrate_message_events(const Store& store, std::span<v1::Event* const> events);

}  // namespace preceptor::storage
