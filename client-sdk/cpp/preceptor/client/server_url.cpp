#include "preceptor/client/server_url.h"

#include <charconv>

namespace preceptor::client {

std::string ServerAddress::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  return "ws://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + path;
}

Result<ServerAddress> parse_server_url(const std::string& url) {
  auto bad = [&](const std::string& why) {
    return invalid_argument("The server address '" + url + "' " + why +
                                "; write it like ws://127.0.0.1:8080 or ws://chat.example.org:8080/v1/ws.",
                            "url");
  };
  std::string rest = url;
  if (rest.starts_with("wss://")) {
    return invalid_argument(
        "This client does not speak TLS (wss://) yet; use ws:// to a local TLS proxy "
        "(for example stunnel) that forwards to the server.",
        "url");
  }
  if (rest.starts_with("ws://")) {
    rest = rest.substr(5);
  } else if (rest.find("://") != std::string::npos) {
    return bad("has a scheme other than ws://");
  }
  ServerAddress out;
  const size_t slash = rest.find('/');
  if (slash != std::string::npos) {
    out.path = rest.substr(slash);
    rest = rest.substr(0, slash);
  }
  if (out.path.empty() || out.path == "/") out.path = "/v1/ws";
  std::string port;
  if (rest.starts_with("[")) {
    const size_t close = rest.find(']');
    if (close == std::string::npos) return bad("opens '[' without closing it");
    out.host = rest.substr(1, close - 1);
    const std::string after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad("has something other than :PORT after the IPv6 address");
      port = after.substr(1);
    }
  } else {
    const size_t colon = rest.rfind(':');
    if (colon != std::string::npos) {
      out.host = rest.substr(0, colon);
      port = rest.substr(colon + 1);
    } else {
      out.host = rest;
    }
  }
  if (out.host.empty()) return bad("names no host");
  if (!port.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return bad("has a port that is not a number from 1 to 65535");
    }
    out.port = static_cast<uint16_t>(value);
  }
  return out;
}

}  // namespace preceptor::client
