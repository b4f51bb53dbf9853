#include "server/net/connection_limits.h"

#include <boost/asio/ip/address.hpp>

namespace preceptor::server {

std::string address_part(std::string_view peer) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(std::string(peer), ec);
  if (!ec) return std::string(peer);
  const size_t colon = peer.rfind(':');
  if (colon == std::string_view::npos) return std::string(peer);
  std::string_view host = peer.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return std::string(host);
}

std::shared_ptr<void> ConnectionLimits::admit(const std::string& address, std::string& refusal) {
  {
    std::lock_guard lock(mu_);
    if (max_total_ != 0 && open_ >= max_total_) {
      refusal = "The server has as many connections as it takes (" + std::to_string(max_total_) +
                "); try again in a minute.";
      return nullptr;
    }
    size_t& mine = by_address_[address];
    if (max_per_address_ != 0 && mine >= max_per_address_) {
      refusal = "Too many connections from your address (" + std::to_string(max_per_address_) +
                "); close some and try again.";
      if (mine == 0) by_address_.erase(address);
      return nullptr;
    }
    ++mine;
    ++open_;
  }
  // An empty object whose deleter gives the place back.
  return std::shared_ptr<void>(static_cast<void*>(this), [this, address](void*) { release(address); });
}

void ConnectionLimits::release(const std::string& address) {
  std::lock_guard lock(mu_);
  --open_;
  auto it = by_address_.find(address);
  if (it != by_address_.end() && --it->second == 0) by_address_.erase(it);
}

size_t ConnectionLimits::open() const {
  std::lock_guard lock(mu_);
  return open_;
}

}  // namespace preceptor::server
