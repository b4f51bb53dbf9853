#pragma once

#include <rocksdb/write_batch.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/histogram.h"
#include "common/status.h"
#include "preceptor/v1/events.pb.h"
#include "storage/store.h"

namespace preceptor::storage {

// Whether the reply to the mutation that appends an event carries the event
// itself ("the reply already carried it"). Then the mutation's origin (the
// connection that asked, see Committer::submit) is left out of the event's
// fan-out, and gets it exactly once, in position order with the events
// around it. One concept from the service (a chat send) through the
// committer (CommittedEvent::carried_in_reply_to) to the hub.
enum class InReply : bool { kNotCarried = false, kCarried = true };

// An event that reached disk, handed to the event sink in position order.
struct CommittedEvent {
  std::shared_ptr<const v1::Event> event;                 // position and time_ms set
  std::shared_ptr<const std::vector<uint64_t>> audience;  // user ids
  // `event` serialized whole, as sent live. The stored copy may differ: a
  // message event is stored without its text (storage/message_text.h).
  std::shared_ptr<const std::string> bytes;
  // The connection whose reply carried this event (InReply::kCarried), so
  // the hub does not send it again; 0 when every session gets it.
  uint64_t carried_in_reply_to = 0;
};

// One write to a watched family (see Committer::watch): the key and the
// value it now holds (nullopt: deleted).
struct WatchedWrite {
  Cf cf;
  std::string key;
  std::optional<std::string> value;
};

// What a mutation sees while the committer applies it. Only valid inside the
// apply function, on the committer thread.
class CommitContext {
 public:
  // Reads the database as it will be after every earlier mutation of this
  // group and this mutation's own writes so far.
  Result<std::optional<std::string>> get(Cf cf, std::string_view key);

  // Store::scan over the same view as get(): the database merged, in key
  // order, with this group's earlier writes and this mutation's own (puts
  // seen, deletes hidden). fn may write through this context; the scan goes
  // on over the state as it was when it started.
  //
  // Cost: each call walks every write the committer holds in memory for the
  // family (this group's; for kept_by_committer() families up to
  // Overlay::kMaxKept recent ones too) to pick and sort those in `range`,
  // then merges them with a database iterator. Fine for the occasional scan
  // in a mutation; keep scans off a per-message path.
  Result<ScanEnd> scan(Cf cf, KeyRange range, ScanFn fn, ScanLimits limits = {});
  // The keys starting with `prefix`; see Store::scan_prefix.
  Result<ScanEnd> scan_prefix(Cf cf, std::string_view prefix, ScanFn fn, ScanLimits limits = {});
  void put(Cf cf, std::string_view key, std::string_view value);
  void del(Cf cf, std::string_view key);

  // Stores `event` at the next global position (setting event.position and
  // event.time_ms) in `events`, and indexes it in each audience member's
  // inbox. A MessagePosted / MessageEdited is stored without its text (the
  // text lives in `messages` only; see storage/message_text.h), while the
  // event sink gets it whole, text included. Returns the position. Positions are gap-free: a rejected
  // mutation gives its positions back. See InReply for `in_reply`.
  uint64_t append_event(v1::Event event, std::vector<uint64_t> audience,
                        InReply in_reply = InReply::kNotCarried);

  // The values `key` of `cf` had before this mutation must leave the disk
  // (a deleted or edited message's text): once the group's write is durable
  // the key goes to the redaction sink (see Committer::set_redaction_sink).
  // Forgotten if the mutation is rejected.
  void redact(Cf cf, std::string_view key) { redacted_.emplace_back(cf, std::string(key)); }

  // Next value of a named counter kept in `meta` ("next_id/<kind>"), starting at 1.
  // Rolled back with the mutation if it fails.
  uint64_t next_id(std::string_view kind);

  // The position the next append_event() will return.
  uint64_t next_position() const { return next_position_; }

  // Commit time for this group (one clock read per group).
  int64_t now_ms() const { return now_ms_; }

 private:
  friend class Committer;
  // What reads inside a mutation see before the database: the group's
  // writes so far (family byte + key -> value; nullopt: deleted), and for the
  // families kept_by_committer() the latest value written in any earlier
  // group too (the committer is the store's only writer while it runs).
  // Unordered, for the per-message path's point reads; scan() sorts what it
  // needs per call.
  struct Overlay {
    using Map = std::unordered_map<std::string, std::optional<std::string>>;
    using Entries = std::vector<std::pair<std::string, std::optional<std::string>>>;
    struct Undo {
      bool kept;
      std::string key;
      std::optional<std::optional<std::string>> before;  // nullopt: the key was not in the map
    };
    static constexpr size_t kMaxKept = 65536;  // entries; beyond, the kept map starts over
    Map group;                                 // this group's writes to the other families
    Map kept;
    std::vector<Undo> undo;  // the current mutation's changes, oldest first
    std::string scratch;     // lookup key, reused
    void start_group();
    void forget_all() { kept.clear(), group.clear(), undo.clear(); }
    void set(Cf cf, std::string_view key, std::optional<std::string> value);
    const std::optional<std::string>* find(Cf cf, std::string_view key);
    // Copies of the entries of `cf` in `range` (keys without the family
    // byte), sorted by key.
    Entries in_range(Cf cf, KeyRange range) const;
    void commit_mutation() { undo.clear(); }
    void rollback_mutation();
  };
  CommitContext(Store& store, rocksdb::WriteBatch& batch, Overlay& overlay)
      : store_(store), batch_(batch), overlay_(overlay) {}
  // Remembers the first failed batch operation; it rejects the mutation.
  void note(const rocksdb::Status& s);
  Store& store_;
  rocksdb::WriteBatch& batch_;
  Overlay& overlay_;
  int64_t now_ms_ = 0;
  uint64_t next_position_ = 0;                                    // next to hand out
  uint64_t origin_ = 0;                                           // of the mutation being applied
  std::vector<CommittedEvent> events_;                            // appended in this group so far
  std::vector<std::pair<Cf, std::string>> redacted_;              // redact() in this group so far
  const std::array<bool, kCfCount>* watched_families_ = nullptr;  // the committer's, see Committer::watch
  std::vector<WatchedWrite> watched_;                             // writes to them in this group so far
  Status error_;                                                  // from note(); reset for each mutation
};

// A unit of change. `apply` runs on the committer thread and adds writes
// through the context; returning an error rejects this mutation only (its
// writes and positions are rolled back) and that error goes to `done`.
// `done` runs on the committer's delivery thread after the group's synced
// write (or with the write's error), right after the sink got this
// mutation's events and before the next mutation's: keep it short, e.g.
// post to a strand.
using ApplyFn = std::function<Status(CommitContext&)>;
using DoneFn = std::function<void(const Status&)>;

// Receives every committed event, in position order, after the write that
// made it durable: one call per mutation, just before that mutation's
// `done`, so a reply and the events around it leave in position order.
// Delivery thread (see Committer).
using EventSink = std::function<void(std::span<const CommittedEvent>)>;

// Receives the keys a group's mutations passed to CommitContext::redact,
// after that group's write is durable (e.g. Redactor::note). Committer thread.
using RedactionSink = std::function<void(std::span<const std::pair<Cf, std::string>>)>;

// Receives the writes a group made to the watched families, in the order
// the mutations made them (rejected mutations' writes left out), after that
// group's write is durable and before any `done` of the group runs: so a
// reader that consults what the watcher keeps sees a change no later than
// the reply that confirms it. Committer thread: keep it short.
using WriteWatcher = std::function<void(std::span<const WatchedWrite>)>;

struct CommitterOptions {
  size_t max_batch = 1024;  // mutations per WriteBatch at most (default 1024)
  // Mutations waiting at most (default 16 384, about 16 full groups); more
  // are refused at once with UNAVAILABLE and retry_after_ms.
  size_t max_queue = 16384;
  bool sync = true;  // fdatasync each group; false only in benchmarks that say so
};

// The single writer of the store (group commit). Any thread may submit();
// one thread applies waiting mutations in submission order, writes them as
// one WriteBatch with sync=true, then completes them. The batch is sized by
// what is waiting, never by a timer.
//
// Completing a group (the event sink's fan-out to live sessions, then each
// `done`) runs on a second thread, the delivery thread, in group order: the
// writer hands each written group over and goes on to apply and write the
// next one, so a slow fan-out never delays a commit. At most
// kMaxGroupsAwaitingDelivery written groups wait for delivery; beyond, the
// writer waits (and its own queue, bounded by max_queue, then refuses work).
//
// A failed write (disk full, I/O error) fails every mutation of that group,
// is logged (event=commit_failed), and puts the committer in a failed state: later submissions fail at once
// with UNAVAILABLE, because the in-memory counters may be ahead of the disk.
class Committer {
 public:
  // Starts the writer thread. `store` must outlive the committer.
  Committer(Store& store, const Clock& clock, CommitterOptions options = {});
  ~Committer();  // stop()

  // `origin` names who submitted (a connection id; 0: nobody in particular):
  // events appended InReply::kCarried carry it as CommittedEvent::carried_in_reply_to.
  void submit(ApplyFn apply, DoneFn done, uint64_t origin = 0);

  // Must be set before the first submit().
  void set_event_sink(EventSink sink) { sink_ = std::move(sink); }
  // Must be set before the first submit(); without one, redact() notes go nowhere.
  void set_redaction_sink(RedactionSink sink) { redaction_sink_ = std::move(sink); }
  // Must be set before the first submit(): the one watcher of the writes to
  // `families` (e.g. an in-memory copy of a hot range kept current).
  void set_write_watcher(std::span<const Cf> families, WriteWatcher watcher);

  // Test hook: replaces the call that writes a group (default: the store's
  // DB::Write). Must be set before the first submit().
  using WriteFn = std::function<rocksdb::Status(const rocksdb::WriteOptions&, rocksdb::WriteBatch*)>;
  void set_write_fn_for_test(WriteFn fn) { write_fn_ = std::move(fn); }

  static constexpr size_t kMaxGroupsAwaitingDelivery = 8;

  // Stops taking work, completes everything already submitted, joins the
  // threads. Later submissions fail with UNAVAILABLE. Idempotent.
  void stop();

  bool running() const;                                             // thread alive and not failed
  uint64_t last_position() const { return last_position_.load(); }  // last durable position

  // Metrics, read by /metrics.
  const Histogram& batch_sizes() const { return batch_sizes_; }         // mutations per group
  const Histogram& commit_latency_seconds() const { return latency_; }  // submit -> durable
  const Histogram& write_seconds() const { return write_seconds_; }     // one synced Write
  uint64_t commits_total() const { return commits_total_.load(); }      // mutations completed OK
  uint64_t groups_total() const { return groups_total_.load(); }
  uint64_t refused_busy_total() const { return refused_busy_total_.load(); }  // queue full

 private:
  struct Pending;
  // One written (or failed) group, as the delivery thread completes it.
  struct Delivery {
    std::vector<CommittedEvent> events;
    std::vector<size_t> events_end;  // per mutation: one past its last event
    std::vector<Status> results;     // per mutation
    std::vector<DoneFn> dones;       // per mutation
  };
  void run();
  // Hands a group to the delivery thread; waits while it is full. Writer thread.
  void hand_over(Delivery delivery);
  void deliver_all();  // the delivery thread
  // Applies, writes and completes one group. Committer thread.
  void commit_group(std::vector<Pending>& group, rocksdb::WriteBatch& batch, CommitContext::Overlay& overlay);
  // Completes every mutation of `group` with `status` (through the delivery thread).
  void fail_all(std::vector<Pending>& group, const Status& status);

  Store& store_;
  const Clock& clock_;
  CommitterOptions options_;
  EventSink sink_;
  RedactionSink redaction_sink_;
  WriteWatcher write_watcher_;
  std::array<bool, kCfCount> watched_families_{};
  WriteFn write_fn_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;  // guarded by mu_; Pending is complete in committer.cpp
  bool stopping_ = false;      // guarded by mu_
  bool failed_ = false;        // guarded by mu_
  std::mutex join_mu_;         // lets stop() be called from several threads

  uint64_t next_position_ = 0;  // committer thread only: first position of the next group

  std::atomic<uint64_t> last_position_{0};
  std::atomic<uint64_t> commits_total_{0};
  std::atomic<uint64_t> refused_busy_total_{0};
  std::atomic<int64_t> last_write_ms_{1};  // the last synced write's duration, for retry_after_ms
  std::atomic<uint64_t> groups_total_{0};
  Histogram batch_sizes_;
  Histogram latency_;
  Histogram write_seconds_;

  std::mutex delivery_mu_;
  std::condition_variable delivery_cv_;  // a group was handed over, taken, or the writer ended
  std::deque<Delivery> deliveries_;      // guarded by delivery_mu_
  bool writer_done_ = false;             // guarded by delivery_mu_

  // Last: started once everything above is constructed.
  std::thread delivery_thread_;
  std::thread thread_;
};

}  // namespace preceptor::storage
