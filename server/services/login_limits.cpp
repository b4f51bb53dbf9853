#include "server/services/login_limits.h"

#include <algorithm>
#include <cstdint>

namespace preceptor::services {

LoginLimits::LoginLimits(TokenRate per_username, TokenRate per_address, const MonotonicClock& clock,
                         size_t max_keys)
    : by_username_(per_username, clock, max_keys), by_address_(per_address, clock, max_keys) {}

Status LoginLimits::check(const std::string& username_key, const std::string& peer_address) {
  int64_t wait = 0;
  {
    std::lock_guard lock(mu_);
    wait = by_username_.retry_after_ms(username_key);
    if (!peer_address.empty()) wait = std::max(wait, by_address_.retry_after_ms(peer_address));
  }
  if (wait == 0) return Status::ok();
  const int64_t seconds = (wait + 999) / 1000;
  return resource_exhausted("Too many failed sign-in attempts; try again in " + std::to_string(seconds) +
                                (seconds == 1 ? " second." : " seconds."),
                            wait);
}

void LoginLimits::record_failure(const std::string& username_key, const std::string& peer_address) {
  std::lock_guard lock(mu_);
  // A refusal means the bucket is empty already; the failure is then not counted twice.
  static_cast<void>(by_username_.try_take(username_key));
  if (!peer_address.empty()) static_cast<void>(by_address_.try_take(peer_address));
}

}  // namespace preceptor::services
