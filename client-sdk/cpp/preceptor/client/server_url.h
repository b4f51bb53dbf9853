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

// Where the same server answers HTTP (documents, the portfolio): the host and
// port of the WebSocket address, and the folder it lives under. A plain value.
struct HttpAddress {
  std::string host;
  uint16_t port = 80;
  bool tls = false;    // https
  std::string prefix;  // "" or "/under/a/proxy": prepended to every /v1/... path

  std::string to_string() const;  // "http://host:port" + prefix
};

// The HTTP side of a server address: `ws://` and `http://` are plain HTTP,
// `wss://` and `https://` HTTP over TLS (default ports 80 and 443), and
// `HOST:PORT` without a scheme is plain. A path ending in the WebSocket's
// `/v1/ws` (or empty) means the server's root; any other path is kept as a
// prefix (for a server behind a proxy at https://example.org/preceptor).
Result<HttpAddress> parse_http_url(const std::string& url);

}  // namespace preceptor::client
