#include "server/services/login_limits.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

namespace preceptor::services {

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

LoginLimits::LoginLimits(TokenRate per_username, TokenRate per_address, const MonotonicClock& clock,
                         size_t max_keys)
    : by_username_(per_username, clock, max_keys), by_address_(per_address, clock, max_keys) {}

Status LoginLimits::check(const std::string& username_key, const std::string& peer_address) {
  const std::string address = address_limit_key(peer_address);
  int64_t wait = 0;
  {
    std::lock_guard lock(mu_);
    wait = by_username_.retry_after_ms(username_key);
    if (!address.empty()) wait = std::max(wait, by_address_.retry_after_ms(address));
  }
  if (wait == 0) return Status::ok();
  const int64_t seconds = (wait + 999) / 1000;
  return resource_exhausted("Too many failed sign-in attempts; try again in " + std::to_string(seconds) +
                                (seconds == 1 ? " second." : " seconds."),
                            wait);
}

void LoginLimits::record_failure(const std::string& username_key, const std::string& peer_address) {
  const std::string address = address_limit_key(peer_address);
  std::lock_guard lock(mu_);
  // A refusal means the bucket is empty already; the failure is then not counted twice.
  static_cast<void>(by_username_.try_take(username_key));
  if (!address.empty()) static_cast<void>(by_address_.try_take(address));
}

}  // namespace preceptor::services
