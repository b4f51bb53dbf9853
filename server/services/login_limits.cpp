#include "server/services/login_limits.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

namespace preceptor::services {

namespace {

// Separates the two parts of a (username, address) key; in neither part.
constexpr char kPairSeparator = '\x1f';

Status too_many_failures(int64_t wait_ms) {
  const int64_t seconds = (wait_ms + 999) / 1000;
  return resource_exhausted("Too many failed sign-in attempts; try again in " + std::to_string(seconds) +
                                (seconds == 1 ? " second." : " seconds."),
                            wait_ms);
}

}  // namespace

std::string address_limit_key(std::string_view address) {
  if (address.empty() || address.size() >= INET6_ADDRSTRLEN) return std::string(address);
  const std::string text(address);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return text;
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) != 1) return text;
  std::array<char, INET6_ADDRSTRLEN> out{};
  if (IN6_IS_ADDR_V4MAPPED(&v6)) {
    std::memcpy(&v4, &v6.s6_addr[12], 4);
    if (inet_ntop(AF_INET, &v4, out.data(), out.size()) == nullptr) return text;
    return out.data();
  }
  std::memset(&v6.s6_addr[8], 0, 8);
  if (inet_ntop(AF_INET6, &v6, out.data(), out.size()) == nullptr) return text;
  return std::string(out.data()) + "/64";
}

LoginLimits::LoginLimits(LoginLimitRates rates, const MonotonicClock& clock, size_t max_keys)
    : pair_capacity_(rates.per_username_address.limits() ? rates.per_username_address.capacity : 0),
      by_pair_(rates.per_username_address, clock, max_keys),
      by_address_(rates.per_address, clock, max_keys),
      by_username_(rates.per_username, clock, max_keys) {}

Result<LoginLimits::Reservation> LoginLimits::reserve(const std::string& username_key,
                                                      const std::string& address) {
  Reservation r;
  r.username_key = username_key;
  r.address_key = address_limit_key(address);
  const std::string pair = username_key + kPairSeparator + r.address_key;

  std::lock_guard lock(mu_);
  // The username is being guessed from many addresses: one guess per address per full refill.
  const bool under_attack = by_username_.retry_after_ms(username_key) > 0;
  int64_t wait = under_attack ? by_pair_.full_after_ms(pair) : by_pair_.retry_after_ms(pair);
  if (!r.address_key.empty()) wait = std::max(wait, by_address_.retry_after_ms(r.address_key));
  if (wait > 0) return too_many_failures(wait);

  if (under_attack) {
    if (by_pair_.try_take_all(pair)) r.pair_tokens = pair_capacity_;
  } else {
    if (by_pair_.try_take(pair)) r.pair_tokens = pair_capacity_ > 0 ? 1 : 0;
    r.took_username = static_cast<bool>(by_username_.try_take(username_key));
  }
  if (!r.address_key.empty()) r.took_address = static_cast<bool>(by_address_.try_take(r.address_key));
  return r;
}

void LoginLimits::release(const Reservation& r) {
  std::lock_guard lock(mu_);
  if (r.pair_tokens > 0) by_pair_.give_back(r.username_key + kPairSeparator + r.address_key, r.pair_tokens);
  if (r.took_address) by_address_.give_back(r.address_key, 1);
  if (r.took_username) by_username_.give_back(r.username_key, 1);
}

Result<LoginQueue::Place> LoginQueue::enter(uint64_t connection_id, const std::string& address_key) {
  const std::string retry = " try again in 1 second.";
  {
    std::lock_guard lock(mu_);
    if (bounds_.per_connection > 0 && connection_id != 0) {
      auto it = by_connection_.find(connection_id);
      if (it != by_connection_.end() && it->second >= bounds_.per_connection) {
        return resource_exhausted("This connection already has " + std::to_string(it->second) +
                                      " sign-ins waiting for their answers; wait for them, or" + retry,
                                  kBusyRetryAfterMs);
      }
    }
    if (bounds_.per_address > 0 && !address_key.empty()) {
      auto it = by_address_.find(address_key);
      if (it != by_address_.end() && it->second >= bounds_.per_address) {
        return resource_exhausted("Too many sign-ins from your address are waiting to be checked;" + retry,
                                  kBusyRetryAfterMs);
      }
    }
    if (bounds_.total > 0 && total_ >= bounds_.total) {
      return resource_exhausted("The server is busy checking other sign-ins;" + retry, kBusyRetryAfterMs);
    }
    ++total_;
    if (connection_id != 0) ++by_connection_[connection_id];
    if (!address_key.empty()) ++by_address_[address_key];
  }
  // No object of its own (it points at the queue, never deleted): the deleter gives the place back.
  return Place(static_cast<void*>(this),
               [this, connection_id, address_key](void*) { leave(connection_id, address_key); });
}

void LoginQueue::leave(uint64_t connection_id, const std::string& address_key) {
  std::lock_guard lock(mu_);
  --total_;
  if (connection_id != 0) {
    auto it = by_connection_.find(connection_id);
    if (it != by_connection_.end() && --it->second <= 0) by_connection_.erase(it);
  }
  if (!address_key.empty()) {
    auto it = by_address_.find(address_key);
    if (it != by_address_.end() && --it->second <= 0) by_address_.erase(it);
  }
}

size_t LoginQueue::total() const {
  std::lock_guard lock(mu_);
  return static_cast<size_t>(total_);
}

}  // namespace preceptor::services
