#include "storage/message_text.h"

#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>

#include <string>
#include <vector>

#include "common/log.h"
#include "preceptor/v1/records.pb.h"
#include "storage/keys.h"
#include "storage/rocksdb_status.h"
#include "storage/store.h"

namespace preceptor::storage {
namespace {

v1::Message* message_of(v1::Event& event) {
  if (event.has_message_posted()) return event.mutable_message_posted()->mutable_message();
  if (event.has_message_edited()) return event.mutable_message_edited()->mutable_message();
  return nullptr;
}

const v1::Message* message_of(const v1::Event& event) {
  if (event.has_message_posted()) return &event.message_posted().message();
  if (event.has_message_edited()) return &event.message_edited().message();
  return nullptr;
}

}  // namespace

bool has_message_text(const v1::Event& event) {
  const v1::Message* m = message_of(event);
  return m != nullptr && (!m->body().empty() || m->has_check_in());
}

bool strip_message_text(v1::Event& event) {
  if (!has_message_text(event)) return false;
  v1::Message* m = message_of(event);
  m->clear_body();
  m->clear_check_in();  // status and note: both are what the user chose to say
  return true;
}

Status hydrate_message_events(const Store& store, std::span<v1::Event* const> events) {
  std::vector<v1::Message*> targets;
  std::vector<std::string> keys;
  for (v1::Event* event : events) {
    v1::Message* m = message_of(*event);
    if (m == nullptr) continue;
    targets.push_back(m);
    keys.push_back(keys::Message{.conversation_id = m->conversation_id(), .seq = m->seq()}.encode());
  }
  if (keys.empty()) return Status::ok();
  auto values = store.multi_get(Cf::kMessages, keys);
  if (!values) return values.status();
  for (size_t i = 0; i < targets.size(); ++i) {
    const std::optional<std::string>& value = (*values)[i];
    if (!value) continue;
    v1::Message current;
    if (!current.ParseFromString(*value)) return data_loss("A stored message is damaged.");
    *targets[i] = std::move(current);
  }
  return Status::ok();
}

Status Store::upgrade_message_text() {
  auto done = get(Cf::kMeta, keys::kUpgradeMessageTextKey);
  if (!done) return done.status();
  if (done->has_value()) return Status::ok();

  // Rewrites in batches as it reads; the iterator's implicit snapshot keeps
  // it reading the store as it was. Re-running after a crash only finds what
  // is still unstripped.
  constexpr size_t kBatchPuts = 4096;
  rocksdb::WriteOptions synced;
  synced.sync = true;
  rocksdb::WriteBatch batch;
  uint64_t rewritten_events = 0;
  uint64_t rewritten_inbox = 0;
  auto write_if_full = [&](bool force) -> rocksdb::Status {
    if (batch.Count() == 0 || (!force && batch.Count() < kBatchPuts)) return rocksdb::Status::OK();
    rocksdb::Status s = db_->Write(synced, &batch);
    batch.Clear();
    return s;
  };
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf(Cf::kEvents)));
    v1::EventRecord record;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const rocksdb::Slice value = it->value();
      if (!record.ParseFromArray(value.data(), static_cast<int>(value.size())))
        return data_loss("A stored event in " + path_ + " is damaged; restore the store from a backup.");
      if (!strip_message_text(*record.mutable_event())) continue;
      rocksdb::Status s = batch.Put(cf(Cf::kEvents), it->key(), record.SerializeAsString());
      if (s.ok()) s = write_if_full(false);
      if (!s.ok()) return from_rocksdb(s, "Could not rewrite the stored events of " + path_);
      ++rewritten_events;
    }
    if (!it->status().ok()) return from_rocksdb(it->status(), "Could not read the events of " + path_);
  }
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf(Cf::kUserInbox)));
    v1::Event event;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const rocksdb::Slice value = it->value();
      if (value.empty()) continue;  // an entry that points at `events`
      if (!event.ParseFromArray(value.data(), static_cast<int>(value.size())))
        return data_loss("A stored inbox event in " + path_ +
                         " is damaged; restore the store from a backup.");
      if (!strip_message_text(event)) continue;
      rocksdb::Status s = batch.Put(cf(Cf::kUserInbox), it->key(), event.SerializeAsString());
      if (s.ok()) s = write_if_full(false);
      if (!s.ok()) return from_rocksdb(s, "Could not rewrite the stored inboxes of " + path_);
      ++rewritten_inbox;
    }
    if (!it->status().ok()) return from_rocksdb(it->status(), "Could not read the inboxes of " + path_);
  }
  rocksdb::Status s = write_if_full(true);
  if (!s.ok()) return from_rocksdb(s, "Could not rewrite the stored events of " + path_);

  if (rewritten_events + rewritten_inbox > 0) {
    // The old versions must leave the disk too, before completion is recorded.
    PRECEPTOR_RETURN_IF_ERROR(compact_away(Cf::kEvents, {}));
    PRECEPTOR_RETURN_IF_ERROR(compact_away(Cf::kUserInbox, {}));
    log::info("upgrade_message_text")
        .kv("events_rewritten", rewritten_events)
        .kv("inbox_entries_rewritten", rewritten_inbox);
  }
  s = batch.Put(cf(Cf::kMeta), keys::kUpgradeMessageTextKey, "");
  if (s.ok()) s = db_->Write(synced, &batch);
  if (!s.ok()) return from_rocksdb(s, "Could not record the message-text upgrade of " + path_);
  return Status::ok();
}

}  // namespace preceptor::storage
