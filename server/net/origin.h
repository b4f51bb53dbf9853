#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace preceptor::server {

// Whether a browser page at `origin` (the upgrade request's Origin header)
// may open the WebSocket, given the request's Host header (`host`, nullopt
// when there is none) and --allowed-origins. Clients that send no Origin are
// not browsers and are not asked about (the caller lets them in).
//
// Allowed:
//  - an Origin listed in `allowed_origins` exactly, or any Origin when the
//    list holds "*";
//  - the same origin as the request: Origin is "http://" + Host (the server
//    speaks plain HTTP; behind a TLS proxy, list the https:// origin), and
//    Host names a host that DNS rebinding cannot forge: an IP address
//    literal (IPv4, or IPv6 in brackets), "localhost", or a host named by one
//    of `allowed_origins` (at any scheme and port). A page of a foreign
//    site whose name an attacker points at this server (DNS rebinding)
//    sends its own name as Host and Origin alike: its names are none of
//    these, so it is refused. docs/security.md says more.
// Host and scheme compare without regard to case, as browsers send them lower-cased.
bool browser_origin_allowed(const std::vector<std::string>& allowed_origins, std::string_view origin,
                            std::optional<std::string_view> host);

}  // namespace preceptor::server
