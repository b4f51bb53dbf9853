#include "server/hub/hub.h"

#include <algorithm>

#include "preceptor/v1/frames.pb.h"

namespace preceptor::hub {

uint64_t Hub::attach(uint64_t user_id, const std::string& token_hash, std::weak_ptr<SessionSink> sink) {
  uint64_t id;
  bool first;
  {
    std::lock_guard lock(mu_);
    id = next_id_++;
    entries_.emplace(id, Entry{user_id, token_hash, std::move(sink)});
    auto& regs = by_user_[user_id];
    first = regs.empty();
    regs.push_back(id);
  }
  if (first && presence_) presence_(user_id, true);
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
  if (last && presence_) presence_(user_id, false);
}

void Hub::publish_live(const std::vector<uint64_t>& audience, const v1::Event& event) {
  std::vector<std::shared_ptr<SessionSink>> targets;
  {
    std::lock_guard lock(mu_);
    for (uint64_t user : audience) {
      auto sinks = sinks_of_user(user);
      targets.insert(targets.end(), sinks.begin(), sinks.end());
    }
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
