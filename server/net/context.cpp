#include "server/net/context.h"

namespace preceptor::server {

void ServerContext::add_session(uint64_t id, std::weak_ptr<WsSession> session) {
  std::lock_guard lock(mu_);
  sessions_.emplace(id, std::move(session));
}

void ServerContext::remove_session(uint64_t id) {
  std::lock_guard lock(mu_);
  sessions_.erase(id);
}

std::vector<std::shared_ptr<WsSession>> ServerContext::sessions() {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<WsSession>> out;
  for (auto& [id, weak] : sessions_) {
    if (auto s = weak.lock()) out.push_back(std::move(s));
  }
  return out;
}

size_t ServerContext::session_count() {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

}  // namespace preceptor::server
