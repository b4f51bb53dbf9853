#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace preceptor::client {

// Where a Preceptor server listens, parsed from `ws://host[:port][/path]`.
// A plain value; any thread.
struct ServerAddress {
  std::string host;
  uint16_t port = 80;
  std::string path = "/v1/ws";

  std::string to_string() const;  // "ws://host:port/path"
};

// Parses `ws://HOST[:PORT][/PATH]` (also `HOST:PORT` without a scheme). An
// empty path or "/" means "/v1/ws". IPv6 hosts go in brackets: ws://[::1]:8080.
// `wss://` is refused with INVALID_ARGUMENT: this client does not speak TLS
// yet (put a local TLS proxy such as stunnel in front for remote servers).
Result<ServerAddress> parse_server_url(const std::string& url);

}  // namespace preceptor::client
