#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace preceptor::server {

// The address part of a peer written "ip:port", "[v6]:port" or a bare
// address; the input itself when it is none of those.
std::string address_part(std::string_view peer);

// Open connections, overall and per client address, with their limits
// (0 = no limit). Thread-safe.
class ConnectionLimits {
 public:
  ConnectionLimits(size_t max_total, size_t max_per_address)
      : max_total_(max_total), max_per_address_(max_per_address) {}

  // A place for one more connection from `address`: the connection holds the
  // returned slot while it is open, and the place is free again when the
  // last copy goes. nullptr, with `refusal` set to a sentence, when full.
  std::shared_ptr<void> admit(const std::string& address, std::string& refusal);

  size_t open() const;

 private:
  void release(const std::string& address);

  const size_t max_total_;
  const size_t max_per_address_;
  mutable std::mutex mu_;
  size_t open_ = 0;                                     // guarded by mu_
  std::unordered_map<std::string, size_t> by_address_;  // guarded by mu_
};

}  // namespace preceptor::server
