#pragma once

// Whether a server has the documents' HTTP routes at all: until the
// documents service is on the branch under test, its router answers every
// upload and download address with "Nothing is served at ...", and the tests
// that need the service skip with that reason instead of failing.

#include <sstream>
#include <string>

#include "preceptor/client/documents.h"

namespace preceptor::testing {

// An empty string when the routes are there; else why they are not.
inline std::string documents_missing(uint16_t port, const std::string& token) {
  client::DocumentsOptions o;
  o.url = "ws://127.0.0.1:" + std::to_string(port);
  o.token = token;
  std::ostringstream sink;
  auto r = client::Documents(o).download(~0ull >> 1, sink);
  if (!r && r.status().code() == v1::ERROR_CODE_NOT_FOUND &&
      r.status().message().starts_with("Nothing is served at")) {
    return "the documents service is not on this server yet (" + r.status().message() + ")";
  }
  return {};
}

}  // namespace preceptor::testing
