#include "server/net/origin.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include "server/api/http.h"

namespace preceptor::server {

namespace {

std::string lowered(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// The host of an authority "host", "host:port", "[v6]" or "[v6]:port",
// lower-cased; empty when it is not of that form (a port of digits only).
std::string host_of_authority(std::string_view authority) {
  std::string_view host;
  std::string_view rest;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return {};
    host = authority.substr(0, close + 1);
    rest = authority.substr(close + 1);
  } else {
    const size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view() : authority.substr(colon);
  }
  if (!rest.empty()) {
    if (rest.front() != ':' || rest.size() == 1 ||
        !std::all_of(rest.begin() + 1, rest.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return {};
  }
  const bool plain = std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' || c == '[' ||
           c == ']' || c == ':';
  });
  if (!plain) return {};
  return lowered(host);
}

// The host of "scheme://authority[/...]"; empty when there is none.
std::string host_of_origin(std::string_view origin) {
  const size_t sep = origin.find("://");
  if (sep == std::string_view::npos) return {};
  std::string_view authority = origin.substr(sep + 3);
  authority = authority.substr(0, authority.find('/'));
  return host_of_authority(authority);
}

bool is_ip_literal(const std::string& host) {
  unsigned char bytes[16];
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    return ::inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), bytes) == 1;
  }
  return ::inet_pton(AF_INET, host.c_str(), bytes) == 1;
}

}  // namespace

bool browser_origin_allowed(const std::vector<std::string>& allowed_origins, std::string_view origin,
                            std::optional<std::string_view> host) {
  const bool listed =
      std::any_of(allowed_origins.begin(), allowed_origins.end(),
                  [&](const std::string& allowed) { return allowed == "*" || allowed == origin; });
  if (listed) return true;
  if (!host || host->empty()) return false;
  constexpr std::string_view kScheme = "http://";
  if (!api::equals_ignoring_case(origin, std::string(kScheme) + std::string(*host))) return false;
  const std::string name = host_of_authority(*host);
  if (name.empty()) return false;
  if (name == "localhost" || is_ip_literal(name)) return true;
  return std::any_of(allowed_origins.begin(), allowed_origins.end(),
                     [&](const std::string& allowed) { return host_of_origin(allowed) == name; });
}

}  // namespace preceptor::server
