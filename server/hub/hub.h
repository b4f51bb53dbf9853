#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "preceptor/v1/events.pb.h"

namespace preceptor::storage {
struct CommittedEvent;
}

namespace preceptor::hub {

// One live, authenticated connection as the hub sees it. Implemented by the
// network layer; every method is thread-safe and must not block (post to the
// connection's strand).
class SessionSink {
 public:
  virtual ~SessionSink() = default;
  // Queues one encoded ServerFrame (an Event of the given Event.kind field
  // number) for sending.
  virtual void deliver(std::shared_ptr<const std::string> frame, int event_kind) = 0;
  // The session's token ended: tell the client (SessionEnded event) and close.
  virtual void end_session(const std::string& reason) = 0;
};

// Who is connected where, and fan-out of committed events to them.
// Thread-safe: network threads attach/detach, the committer's delivery thread publishes.
class Hub {
 public:
  // Registers an authenticated session; returns an id for detach().
  // `connection_id` is the origin the session's requests are submitted
  // under (storage::Committer::submit): it is not sent events whose reply
  // already carried them.
  // With `max_per_user` (0: no limit), a user who already has that many
  // live sessions is refused: 0 is returned and nothing is registered. This
  // also bounds the fan-out of one event (members × max_per_user).
  uint64_t attach(uint64_t user_id, const std::string& token_hash, std::weak_ptr<SessionSink> sink,
                  uint64_t connection_id = 0, size_t max_per_user = 0);
  void detach(uint64_t registration);

  // Ends every live session using this token (but the one on connection
  // `except_connection`, 0: none) / of this user.
  void end_token(const std::string& token_hash, const std::string& reason, uint64_t except_connection = 0);
  void end_user(uint64_t user_id, const std::string& reason);

  // The committer's event sink: encodes each event once as a ServerFrame and
  // delivers it to every live session of its audience, in position order,
  // except the connection it was answered to.
  void publish(std::span<const storage::CommittedEvent> events);

  // Delivers a live-only event (position 0, never stored) to every live
  // session of `audience`. Any thread.
  void publish_live(const std::vector<uint64_t>& audience, const v1::Event& event);

  // Called (outside the hub's lock) when a user's first session attaches or
  // last session detaches. Added at start-up, before any attach.
  using PresenceListener = std::function<void(uint64_t user_id, bool online)>;
  void add_presence_listener(PresenceListener listener) { presence_.push_back(std::move(listener)); }

  bool is_online(uint64_t user_id) const;
  size_t session_count() const;
  size_t user_count() const;

 private:
  struct Entry {
    uint64_t user_id;
    std::string token_hash;
    std::weak_ptr<SessionSink> sink;
    uint64_t connection_id = 0;
  };
  // Appends the live sessions of `user_id` to `out`, leaving out the one
  // with connection id `except` (0: none). REQUIRES: mu_ held.
  void sinks_of_user(uint64_t user_id, std::vector<std::shared_ptr<SessionSink>>& out,
                     uint64_t except = 0) const;
  void notify_presence(uint64_t user_id, bool online);

  std::vector<PresenceListener> presence_;
  mutable std::mutex mu_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, Entry> entries_;
  std::unordered_map<uint64_t, std::vector<uint64_t>> by_user_;  // user -> registrations
};

}  // namespace preceptor::hub
