#include "storage/committer.h"

#include <pthread.h>
#include <rocksdb/iterator.h>

#include <algorithm>
#include <cassert>
#include <chrono>
#include <exception>

#include "common/log.h"
#include "preceptor/v1/records.pb.h"
#include "storage/keys.h"
#include "storage/message_text.h"
#include "storage/redactor.h"
#include "storage/rocksdb_status.h"

namespace preceptor::storage {
namespace {

using SteadyClock = std::chrono::steady_clock;

double seconds_since(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// Thrown by the CommitContext helpers that have no error channel (next_id)
// and caught around apply: it rejects that mutation only.
struct AbortMutation {
  Status status;
};

Status shutting_down() { return unavailable("The server is shutting down; try again in a moment."); }

// The queue is full: the client should come back once about the waiting
// groups have been written.
Status busy(size_t waiting, int64_t last_write_ms) {
  const int64_t groups = static_cast<int64_t>(waiting / 1024) + 1;
  const int64_t retry = std::clamp<int64_t>(groups * std::max<int64_t>(last_write_ms, 1), 50, 5000);
  return Status(v1::ERROR_CODE_UNAVAILABLE,
                "The server is busy saving other changes and did not take this one; retry after " +
                    std::to_string(retry) + " ms.",
                "", retry);
}

Status failed_earlier() {
  return unavailable("The server's database is not accepting writes after an I/O error; restart it.");
}

// Runs one mutation's apply; whatever it throws becomes that mutation's error.
Status run_apply(const ApplyFn& apply, CommitContext& ctx) {
  try {
    return apply(ctx);
  } catch (const AbortMutation& abort) {
    return abort.status;
  } catch (const std::exception& e) {
    log::error("apply_failed").kv("error", e.what());
    return internal_error("The change failed with an unexpected error; the server's log has the details.")
        .with_detail(e.what());
  } catch (...) {
    return internal_error("The change failed with an unexpected error.");
  }
}

// Runs a callback of the caller's (sink, done) so that nothing it throws can
// end the writer or delivery thread; there is no one to return the error to.
template <class F>
void call_guarded(const char* what, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    log::error("committer_callback_threw").kv("callback", what).kv("error", e.what());
  } catch (...) {
    log::error("committer_callback_threw").kv("callback", what);
  }
}

}  // namespace

struct Committer::Pending {
  ApplyFn apply;
  DoneFn done;
  SteadyClock::time_point submitted;
  uint64_t origin = 0;
};

// ---- CommitContext ----

void CommitContext::Overlay::start_group() {
  group.clear();
  undo.clear();
  if (kept.size() > kMaxKept) kept.clear();
}

const std::optional<std::string>* CommitContext::Overlay::find(Cf cf, std::string_view key) {
  scratch.clear();
  scratch.push_back(static_cast<char>(cf));
  scratch.append(key);
  Map& map = kept_by_committer(cf) ? kept : group;
  auto it = map.find(scratch);
  return it == map.end() ? nullptr : &it->second;
}

void CommitContext::Overlay::set(Cf cf, std::string_view key, std::optional<std::string> value) {
  const bool in_kept = kept_by_committer(cf);
  Map& map = in_kept ? kept : group;
  std::string k;
  k.reserve(1 + key.size());
  k.push_back(static_cast<char>(cf));
  k.append(key);
  auto it = map.find(k);
  if (it == map.end()) {
    undo.push_back(Undo{in_kept, k, std::nullopt});
    map.emplace(std::move(k), std::move(value));
  } else {
    undo.push_back(Undo{in_kept, std::move(k), std::move(it->second)});
    it->second = std::move(value);
  }
}

void CommitContext::Overlay::rollback_mutation() {
  for (auto u = undo.rbegin(); u != undo.rend(); ++u) {
    Map& map = u->kept ? kept : group;
    if (u->before) {
      map[u->key] = std::move(*u->before);
    } else {
      map.erase(u->key);
    }
  }
  undo.clear();
}

CommitContext::Overlay::Entries CommitContext::Overlay::in_range(Cf cf, KeyRange range) const {
  const Map& map = kept_by_committer(cf) ? kept : group;
  const char family = static_cast<char>(cf);
  Entries out;
  for (const auto& [prefixed, value] : map) {
    if (prefixed.empty() || prefixed[0] != family) continue;
    const std::string_view key = std::string_view(prefixed).substr(1);
    if (key < range.begin || (!range.end.empty() && key >= range.end)) continue;
    out.emplace_back(std::string(key), value);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

Result<std::optional<std::string>> CommitContext::get(Cf cf, std::string_view key) {
  if (const std::optional<std::string>* seen = overlay_.find(cf, key)) return *seen;
  return store_.get(cf, key);
}

Result<ScanEnd> CommitContext::scan(Cf cf, KeyRange range, ScanFn fn, ScanLimits limits) {
  const Overlay::Entries written = overlay_.in_range(cf, range);
  rocksdb::ReadOptions options;
  rocksdb::Slice upper(range.end);
  if (!range.end.empty()) options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(store_.db()->NewIterator(options, store_.cf(cf)));
  it->Seek(range.begin);
  internal::ScanBudget budget(limits);
  ScanEnd end = ScanEnd::kEndOfRange;
  size_t next = 0;  // the first of `written` not merged yet
  while (it->Valid() || (next < written.size() && it->status().ok())) {
    std::string_view key;
    std::string_view value;
    // The smaller key next; on a tie the group's write wins.
    const bool stored =
        it->Valid() && (next == written.size() || it->key().ToStringView() < written[next].first);
    if (!stored) {
      const auto& [written_key, written_value] = written[next++];
      // The group's write replaces the stored value of the same key.
      if (it->Valid() && written_key == it->key().ToStringView()) it->Next();
      if (!written_value) continue;  // deleted in this group
      key = written_key;
      value = *written_value;
    } else {
      key = it->key().ToStringView();
      value = it->value().ToStringView();
    }
    if (!budget.entries_left() || !budget.take(key.size() + value.size())) {
      end = ScanEnd::kLimitReached;
      break;
    }
    if (!fn(key, value)) {
      end = ScanEnd::kStoppedByFn;
      break;
    }
    if (stored) it->Next();
  }
  if (!it->status().ok()) {
    return from_rocksdb(it->status(), "The database could not read " + std::string(cf_name(cf)));
  }
  return end;
}

Result<ScanEnd> CommitContext::scan_prefix(Cf cf, std::string_view prefix, ScanFn fn, ScanLimits limits) {
  const std::string end = keys::prefix_end(prefix);
  return scan(cf, KeyRange{.begin = prefix, .end = end}, fn, limits);
}

void CommitContext::put(Cf cf, std::string_view key, std::string_view value) {
  note(batch_.Put(store_.cf(cf), key, value));
  overlay_.set(cf, key, std::string(value));
  if (watched_families_ && (*watched_families_)[static_cast<size_t>(cf)]) {
    watched_.push_back(WatchedWrite{cf, std::string(key), std::string(value)});
  }
}

void CommitContext::del(Cf cf, std::string_view key) {
  note(batch_.Delete(store_.cf(cf), key));
  overlay_.set(cf, key, std::nullopt);
  if (watched_families_ && (*watched_families_)[static_cast<size_t>(cf)]) {
    watched_.push_back(WatchedWrite{cf, std::string(key), std::nullopt});
  }
}

void CommitContext::note(const rocksdb::Status& s) {
  if (!s.ok() && error_.is_ok()) error_ = from_rocksdb(s, "The change could not be added to the write batch");
}

uint64_t CommitContext::append_event(v1::Event event, std::vector<uint64_t> audience, InReply in_reply) {
  const uint64_t position = next_position_++;
  event.set_position(position);
  event.set_time_ms(now_ms_);

  // Live delivery gets the event whole.
  auto bytes = std::make_shared<std::string>(event.SerializeAsString());
  // The stored copies hold no message text: `messages` alone does, so a
  // deletion or an edit overwrites the one copy. Readers hydrate them.
  v1::EventRecord record;
  std::shared_ptr<const std::string> stored = bytes;
  if (has_message_text(event)) {
    *record.mutable_event() = event;
    strip_message_text(*record.mutable_event());
    stored = std::make_shared<const std::string>(record.event().SerializeAsString());
    record.mutable_audience()->Add(audience.begin(), audience.end());
    put(Cf::kEvents, keys::Event{.position = position}.encode(), record.SerializeAsString());
  } else {
    // Borrow the event into the record for serialization instead of copying it.
    record.mutable_event()->Swap(&event);
    record.mutable_audience()->Add(audience.begin(), audience.end());
    put(Cf::kEvents, keys::Event{.position = position}.encode(), record.SerializeAsString());
    record.mutable_event()->Swap(&event);
  }

  // Each inbox entry carries the (stored form of the) event itself, so
  // catching up reads one user's key range in order instead of looking up
  // every position.
  for (uint64_t user_id : audience) {
    put(Cf::kUserInbox, keys::UserInbox{.user_id = user_id, .position = position}.encode(), *stored);
  }
  events_.push_back(CommittedEvent{std::make_shared<const v1::Event>(std::move(event)),
                                   std::make_shared<const std::vector<uint64_t>>(std::move(audience)),
                                   std::move(bytes), in_reply == InReply::kCarried ? origin_ : 0});
  return position;
}

uint64_t CommitContext::next_id(std::string_view kind) {
  // meta["next_id/<kind>"] holds the next value to hand out; absent means 1.
  // Read through the batch, so a rolled-back mutation gives its ids back.
  const std::string key = keys::NextId{.kind = kind}.encode();
  Result<std::optional<std::string>> stored = get(Cf::kMeta, key);
  if (!stored.is_ok()) throw AbortMutation{stored.status()};
  uint64_t id = 1;
  if (stored->has_value()) {
    const std::string& bytes = **stored;
    if (bytes.size() != 8) {
      throw AbortMutation{data_loss("The counter " + key + " in the database is unreadable.")};
    }
    id = *decode_u64(bytes);
  }
  put(Cf::kMeta, key, encode_u64(id + 1));
  return id;
}

// ---- Committer ----

Committer::Committer(Store& store, const Clock& clock, CommitterOptions options)
    : store_(store),
      clock_(clock),
      options_(options),
      next_position_(store.last_position_at_open() + 1),
      last_position_(store.last_position_at_open()),
      batch_sizes_({1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}),
      latency_({0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}),
      write_seconds_({0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}) {
  if (options_.max_batch == 0) options_.max_batch = 1;
  write_fn_ = [db = store_.db()](const rocksdb::WriteOptions& write_options, rocksdb::WriteBatch* batch) {
    return db->Write(write_options, batch);
  };
  delivery_thread_ = std::thread([this] { deliver_all(); });
  thread_ = std::thread([this] {
    run();
    {
      std::lock_guard lock(delivery_mu_);
      writer_done_ = true;
    }
    delivery_cv_.notify_all();
  });
}

Committer::~Committer() { stop(); }

void Committer::submit(ApplyFn apply, DoneFn done, uint64_t origin) {
  Status refused;
  {
    std::lock_guard lock(mu_);
    if (failed_) {
      refused = failed_earlier();
    } else if (stopping_) {
      refused = shutting_down();
    } else if (queue_.size() >= options_.max_queue) {
      refused_busy_total_.fetch_add(1, std::memory_order_relaxed);
      refused = busy(queue_.size(), last_write_ms_.load(std::memory_order_relaxed));
    } else {
      queue_.push_back(Pending{std::move(apply), std::move(done), SteadyClock::now(), origin});
    }
  }
  if (refused.is_ok()) {
    cv_.notify_one();
  } else if (done) {
    done(refused);
  }
}

void Committer::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  std::lock_guard join_lock(join_mu_);
  // From a `done` callback or the sink the delivery thread cannot join
  // itself; both threads exit once everything is complete, and the
  // destructor (on another thread) joins them.
  if (delivery_thread_.joinable() && delivery_thread_.get_id() == std::this_thread::get_id()) return;
  if (thread_.joinable()) thread_.join();
  if (delivery_thread_.joinable()) delivery_thread_.join();
}

bool Committer::running() const {
  std::lock_guard lock(mu_);
  return !stopping_ && !failed_;
}

void Committer::run() {
  pthread_setname_np(pthread_self(), "committer");
  rocksdb::WriteBatch batch;
  CommitContext::Overlay overlay;
  std::vector<Pending> group;
  for (;;) {
    bool failed = false;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;  // stopping, and everything submitted is complete
      const size_t take = std::min(queue_.size(), options_.max_batch);
      auto end = queue_.begin() + static_cast<std::ptrdiff_t>(take);
      group.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(end));
      queue_.erase(queue_.begin(), end);  // from the front of a deque: no shifting
      failed = failed_;
    }
    if (failed) {
      // Submitted before the failure was known: the counters may be ahead of
      // the disk, so nothing more is applied.
      fail_all(group, failed_earlier());
    } else {
      commit_group(group, batch, overlay);
    }
    group.clear();
  }
}

void Committer::commit_group(std::vector<Pending>& group, rocksdb::WriteBatch& batch,
                             CommitContext::Overlay& overlay) {
  batch.Clear();
  overlay.start_group();
  CommitContext ctx(store_, batch, overlay);
  if (write_watcher_) ctx.watched_families_ = &watched_families_;
  ctx.now_ms_ = clock_.now_ms();
  ctx.next_position_ = next_position_;

  std::vector<Status> results;
  results.reserve(group.size());
  std::vector<size_t> events_end;  // per mutation: one past its last event in ctx.events_
  events_end.reserve(group.size());
  for (Pending& p : group) {
    const uint64_t position_before = ctx.next_position_;
    const size_t events_before = ctx.events_.size();
    const size_t redacted_before = ctx.redacted_.size();
    const size_t watched_before = ctx.watched_.size();
    ctx.error_ = Status();
    ctx.origin_ = p.origin;
    batch.SetSavePoint();
    Status status = run_apply(p.apply, ctx);
    if (status.is_ok()) {
      // Each redaction is noted durably with the overwrite (see Redactor).
      for (size_t r = redacted_before; r < ctx.redacted_.size(); ++r) {
        ctx.put(Cf::kMeta, pending_redaction_key(ctx.redacted_[r].first, ctx.redacted_[r].second), "");
      }
    }
    if (status.is_ok()) status = ctx.error_;
    if (status.is_ok()) {
      batch.PopSavePoint().PermitUncheckedError();  // there is one: set just above
      overlay.commit_mutation();
    } else {
      overlay.rollback_mutation();
      rocksdb::Status rolled_back = batch.RollbackToSavePoint();
      if (!rolled_back.ok()) {
        // The batch is in an unknown state; writing any of it could store
        // half a mutation.
        {
          std::lock_guard lock(mu_);
          failed_ = true;
        }
        overlay.forget_all();
        log::error("commit_failed")
            .kv("reason", "rollback of a rejected mutation failed")
            .kv("error", rolled_back.ToString())
            .kv("mutations", static_cast<uint64_t>(group.size()));
        fail_all(group, from_rocksdb(rolled_back,
                                     "The server could not undo a rejected change, so nothing of this group "
                                     "was saved; restart the server"));
        return;
      }
      ctx.next_position_ = position_before;
      ctx.events_.erase(ctx.events_.begin() + static_cast<std::ptrdiff_t>(events_before), ctx.events_.end());
      ctx.redacted_.resize(redacted_before);
      ctx.watched_.resize(watched_before);
    }
    results.push_back(std::move(status));
    events_end.push_back(ctx.events_.size());
  }
  batch_sizes_.observe(static_cast<double>(group.size()));
  groups_total_.fetch_add(1);

  // Mutations that wrote nothing (all rejected, or read-only) need no Write.
  if (batch.Count() > 0) {
    rocksdb::WriteOptions write_options;
    write_options.sync = options_.sync;
    const SteadyClock::time_point write_start = SteadyClock::now();
    rocksdb::Status written;
    try {
      written = write_fn_(write_options, &batch);
    } catch (const std::exception& e) {
      written = rocksdb::Status::Aborted("the write threw", e.what());
    }
    write_seconds_.observe(seconds_since(write_start));
    last_write_ms_.store(static_cast<int64_t>(seconds_since(write_start) * 1000.0 + 0.5),
                         std::memory_order_relaxed);
    if (!written.ok()) {
      {
        std::lock_guard lock(mu_);
        failed_ = true;
      }
      overlay.forget_all();  // it may hold values the disk never got
      log::error("commit_failed")
          .kv("reason", "the synced write failed; no more writes are accepted until a restart")
          .kv("error", written.ToString())
          .kv("mutations", static_cast<uint64_t>(group.size()));
      // The write may have reached the log before the sync failed, so the
      // change can still appear after a restart: the client is told so, and
      // a retry with the same ids is applied at most once.
      fail_all(group, from_rocksdb(written,
                                   "The server could not confirm that the change was saved. It may still "
                                   "appear after the server restarts; retry later with the same message id, "
                                   "which is never stored twice"));
      return;
    }
  }

  next_position_ = ctx.next_position_;
  last_position_.store(next_position_ - 1);
  uint64_t ok = 0;
  for (size_t i = 0; i < group.size(); ++i) {
    if (!results[i].is_ok()) continue;
    latency_.observe(seconds_since(group[i].submitted));
    ++ok;
  }
  // Counted before any `done` runs, so whoever waits on `done` sees them.
  commits_total_.fetch_add(ok);
  if (redaction_sink_ && !ctx.redacted_.empty()) {
    call_guarded("the redaction sink", [&] { redaction_sink_(ctx.redacted_); });
  }
  if (write_watcher_ && !ctx.watched_.empty()) {
    call_guarded("the write watcher", [&] { write_watcher_(ctx.watched_); });
  }

  Delivery delivery;
  delivery.events = std::move(ctx.events_);
  delivery.events_end = std::move(events_end);
  delivery.results = std::move(results);
  delivery.dones.reserve(group.size());
  for (Pending& p : group) delivery.dones.push_back(std::move(p.done));
  hand_over(std::move(delivery));
}

void Committer::set_write_watcher(std::span<const Cf> families, WriteWatcher watcher) {
  watched_families_.fill(false);
  for (Cf cf : families) watched_families_[static_cast<size_t>(cf)] = true;
  write_watcher_ = std::move(watcher);
}

void Committer::fail_all(std::vector<Pending>& group, const Status& status) {
  Delivery delivery;
  delivery.events_end.assign(group.size(), 0);
  delivery.results.assign(group.size(), status);
  delivery.dones.reserve(group.size());
  for (Pending& p : group) delivery.dones.push_back(std::move(p.done));
  hand_over(std::move(delivery));
}

void Committer::hand_over(Delivery delivery) {
  {
    std::unique_lock lock(delivery_mu_);
    delivery_cv_.wait(lock, [this] { return deliveries_.size() < kMaxGroupsAwaitingDelivery; });
    deliveries_.push_back(std::move(delivery));
  }
  delivery_cv_.notify_all();
}

void Committer::deliver_all() {
  pthread_setname_np(pthread_self(), "delivery");
  for (;;) {
    Delivery d;
    {
      std::unique_lock lock(delivery_mu_);
      delivery_cv_.wait(lock, [this] { return !deliveries_.empty() || writer_done_; });
      if (deliveries_.empty()) return;  // the writer ended and everything is delivered
      d = std::move(deliveries_.front());
      deliveries_.pop_front();
    }
    delivery_cv_.notify_all();  // room for the writer
    // Mutation by mutation: its events, then its reply. A session then sees
    // the reply to its own request between the events before and after it.
    const std::span<const CommittedEvent> events(d.events);
    size_t begin = 0;
    for (size_t i = 0; i < d.dones.size(); ++i) {
      if (sink_ && d.events_end[i] > begin) {
        call_guarded("the event sink", [&] { sink_(events.subspan(begin, d.events_end[i] - begin)); });
      }
      begin = std::max(begin, d.events_end[i]);
      if (d.dones[i]) call_guarded("a done callback", [&] { d.dones[i](d.results[i]); });
    }
  }
}

}  // namespace preceptor::storage
