#include "server/hub/hub.h"

#include <algorithm>

#include "preceptor/v1/frames.pb.h"

namespace preceptor::hub {

uint64_t Hub::attach(uint64_t user_id, const std::string& token_hash, std::weak_ptr<SessionSink> sink) {
  std::lock_guard lock(mu_);
  uint64_t id = next_id_++;
  entries_.emplace(id, Entry{user_id, token_hash, std::move(sink)});
  by_user_[user_id].push_back(id);
  return id;
}

void Hub::detach(uint64_t registration) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(registration);
  if (it == entries_.end()) return;
  auto user = by_user_.find(it->second.user_id);
  if (user != by_user_.end()) {
    std::erase(user->second, registration);
    if (user->second.empty()) by_user_.erase(user);
  }
  entries_.erase(it);
}

std::vector<std::shared_ptr<SessionSink>> Hub::sinks_of_user(uint64_t user_id) const {
  std::vector<std::shared_ptr<SessionSink>> out;
  auto user = by_user_.find(user_id);
  if (user == by_user_.end()) return out;
  for (uint64_t id : user->second) {
    if (auto sink = entries_.at(id).sink.lock()) out.push_back(std::move(sink));
  }
  return out;
}

void Hub::end_token(const std::string& token_hash, const std::string& reason) {
  std::vector<std::shared_ptr<SessionSink>> targets;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, entry] : entries_) {
      if (entry.token_hash != token_hash) continue;
      if (auto sink = entry.sink.lock()) targets.push_back(std::move(sink));
    }
  }
  for (auto& sink : targets) sink->end_session(reason);
}

void Hub::end_user(uint64_t user_id, const std::string& reason) {
  std::vector<std::shared_ptr<SessionSink>> targets;
  {
    std::lock_guard lock(mu_);
    targets = sinks_of_user(user_id);
  }
  for (auto& sink : targets) sink->end_session(reason);
}

void Hub::publish(const std::vector<storage::CommittedEvent>& events) {
  for (const auto& committed : events) {
    std::vector<std::shared_ptr<SessionSink>> targets;
    {
      std::lock_guard lock(mu_);
      for (uint64_t user : *committed.audience) {
        auto sinks = sinks_of_user(user);
        targets.insert(targets.end(), sinks.begin(), sinks.end());
      }
    }
    if (targets.empty()) continue;
    v1::ServerFrame frame;
    *frame.mutable_event() = *committed.event;
    auto bytes = std::make_shared<const std::string>(frame.SerializeAsString());
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
