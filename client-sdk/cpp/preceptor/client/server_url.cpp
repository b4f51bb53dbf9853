#include "preceptor/client/server_url.h"

#include <charconv>
#include <optional>
#include <string_view>
#include <utility>

namespace preceptor::client {

std::string ServerAddress::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  return "ws://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + path;
}

namespace {

// Splits "HOST[:PORT]" (IPv6 in brackets) into `host` and `port`; an error
// names what is wrong.
std::optional<std::string> split_host_port(const std::string& rest, std::string& host, uint16_t& port) {
  std::string port_text;
  if (rest.starts_with("[")) {
    const size_t close = rest.find(']');
    if (close == std::string::npos) return "opens '[' without closing it";
    host = rest.substr(1, close - 1);
    const std::string after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return "has something other than :PORT after the IPv6 address";
      port_text = after.substr(1);
    }
  } else {
    const size_t colon = rest.rfind(':');
    if (colon != std::string::npos) {
      host = rest.substr(0, colon);
      port_text = rest.substr(colon + 1);
    } else {
      host = rest;
    }
  }
  if (host.empty()) return "names no host";
  if (!port_text.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || value == 0 || value > 65535) {
      return "has a port that is not a number from 1 to 65535";
    }
    port = static_cast<uint16_t>(value);
  }
  return std::nullopt;
}

}  // namespace

std::string HttpAddress::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  return std::string(tls ? "https://" : "http://") + (v6 ? "[" + host + "]" : host) + ":" +
         std::to_string(port) + prefix;
}

Result<HttpAddress> parse_http_url(const std::string& url) {
  HttpAddress out;
  std::string rest = url;
  for (const auto& [scheme, tls] : {std::pair{"ws://", false}, std::pair{"http://", false},
                                    std::pair{"wss://", true}, std::pair{"https://", true}}) {
    if (rest.starts_with(scheme)) {
      rest = rest.substr(std::string_view(scheme).size());
      out.tls = tls;
      out.port = tls ? 443 : 80;
      break;
    }
  }
  if (rest.find("://") != std::string::npos) {
    return invalid_argument("The server address '" + url +
                                "' has a scheme other than ws://, wss://, http:// or https://; write it like "
                                "ws://127.0.0.1:8080 or https://chat.example.org.",
                            "url");
  }
  std::string path;
  if (const size_t slash = rest.find('/'); slash != std::string::npos) {
    path = rest.substr(slash);
    rest = rest.substr(0, slash);
  }
  while (path.ends_with("/")) path.pop_back();
  if (path.ends_with("/v1/ws")) path.resize(path.size() - 6);
  out.prefix = path;
  if (auto why = split_host_port(rest, out.host, out.port)) {
    return invalid_argument("The server address '" + url + "' " + *why +
                                "; write it like ws://127.0.0.1:8080 or https://chat.example.org.",
                            "url");
  }
  return out;
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
  if (auto why = split_host_port(rest, out.host, out.port)) return bad(*why);
  return out;
}

}  // namespace preceptor::client
