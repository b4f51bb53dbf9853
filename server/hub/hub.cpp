#include "server/hub/hub.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>

#include <algorithm>

#include "preceptor/v1/frames.pb.h"
#include "storage/committer.h"

namespace preceptor::hub {
namespace {

// ServerFrame{event} on the wire, from the event's stored bytes (the same
// encoding the protobuf serializer produces, without parsing or copying the
// event again).
std::string event_frame(const std::string& event_bytes) {
  namespace pb = google::protobuf;
  std::string out;
  out.reserve(event_bytes.size() + 6);
  {
    pb::io::StringOutputStream sink(&out);
    pb::io::CodedOutputStream coded(&sink);
    coded.WriteTag(pb::internal::WireFormatLite::MakeTag(
        v1::ServerFrame::kEventFieldNumber, pb::internal::WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
    coded.WriteVarint32(static_cast<uint32_t>(event_bytes.size()));
    coded.WriteString(event_bytes);
  }
  return out;
}

}  // namespace

uint64_t Hub::attach(uint64_t user_id, const std::string& token_hash, std::weak_ptr<SessionSink> sink,
                     uint64_t connection_id, size_t max_per_user) {
  uint64_t id;
  bool first;
  {
    std::lock_guard lock(mu_);
    if (max_per_user != 0) {
      auto have = by_user_.find(user_id);
      if (have != by_user_.end() && have->second.size() >= max_per_user) return 0;
    }
    id = next_id_++;
    entries_.emplace(id, Entry{user_id, token_hash, std::move(sink), connection_id});
    auto& regs = by_user_[user_id];
    first = regs.empty();
    regs.push_back(id);
  }
  if (first) notify_presence(user_id, true);
  return id;
}

void Hub::detach(uint64_t registration) {
  uint64_t user_id = 0;
  bool last = false;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(registration);
    if (it == entries_.end()) return;
    user_id = it->second.user_id;
    auto user = by_user_.find(user_id);
    if (user != by_user_.end()) {
      std::erase(user->second, registration);
      if (user->second.empty()) {
        by_user_.erase(user);
        last = true;
      }
    }
    entries_.erase(it);
  }
  if (last) notify_presence(user_id, false);
}

void Hub::notify_presence(uint64_t user_id, bool online) {
  for (const PresenceListener& listener : presence_) listener(user_id, online);
}

void Hub::publish_live(const std::vector<uint64_t>& audience, const v1::Event& event) {
  std::vector<std::shared_ptr<SessionSink>> targets;
  {
    std::lock_guard lock(mu_);
    for (uint64_t user : audience) sinks_of_user(user, targets);
  }
  if (targets.empty()) return;
  v1::ServerFrame frame;
  *frame.mutable_event() = event;
  auto bytes = std::make_shared<const std::string>(frame.SerializeAsString());
  for (auto& sink : targets) sink->deliver(bytes, event.kind_case());
}

bool Hub::is_online(uint64_t user_id) const {
  std::lock_guard lock(mu_);
  return by_user_.count(user_id) > 0;
}

void Hub::sinks_of_user(uint64_t user_id, std::vector<std::shared_ptr<SessionSink>>& out,
                        uint64_t except) const {
  auto user = by_user_.find(user_id);
  if (user == by_user_.end()) return;
  for (uint64_t id : user->second) {
    const Entry& entry = entries_.at(id);
    if (except != 0 && entry.connection_id == except) continue;
    if (auto sink = entry.sink.lock()) out.push_back(std::move(sink));
  }
}

void Hub::end_token(const std::string& token_hash, const std::string& reason, uint64_t except_connection) {
  std::vector<std::shared_ptr<SessionSink>> targets;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, entry] : entries_) {
      if (entry.token_hash != token_hash) continue;
      if (except_connection != 0 && entry.connection_id == except_connection) continue;
      if (auto sink = entry.sink.lock()) targets.push_back(std::move(sink));
    }
  }
  for (auto& sink : targets) sink->end_session(reason);
}

void Hub::end_user(uint64_t user_id, const std::string& reason) {
  std::vector<std::shared_ptr<SessionSink>> targets;
  {
    std::lock_guard lock(mu_);
    sinks_of_user(user_id, targets);
  }
  for (auto& sink : targets) sink->end_session(reason);
}

void Hub::publish(std::span<const storage::CommittedEvent> events) {
  std::vector<std::shared_ptr<SessionSink>> targets;
  for (const auto& committed : events) {
    targets.clear();
    {
      std::lock_guard lock(mu_);
      for (uint64_t user : *committed.audience) sinks_of_user(user, targets, committed.carried_in_reply_to);
    }
    if (targets.empty()) continue;
    std::shared_ptr<const std::string> bytes;
    if (committed.bytes) {
      bytes = std::make_shared<const std::string>(event_frame(*committed.bytes));
    } else {
      v1::ServerFrame frame;
      *frame.mutable_event() = *committed.event;
      bytes = std::make_shared<const std::string>(frame.SerializeAsString());
    }
    const int kind = committed.event->kind_case();
    for (auto& sink : targets) sink->deliver(bytes, kind);
  }
}

size_t Hub::session_count() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

size_t Hub::user_count() const {
  std::lock_guard lock(mu_);
  return by_user_.size();
}

}  // namespace preceptor::hub
