// libFuzzer target: roster import's CSV reading (server/services/roster.h):
// parse_roster and check_roster without a store (the format checks of every
// row), on arbitrary bytes.
//
// Checked beyond the sanitizers: errors are "line N: ..." in line order with
// N within the file; rows come in line order; a roster that passes the
// checks has every field an import needs; the full checks never pass what
// the parse refused; role names read back.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "server/services/roster.h"

namespace {

namespace services = preceptor::services;
namespace v1 = preceptor::v1;

void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "roster_fuzz: %s\n", what);
  std::abort();
}

// The line number of an error "line N: ...", or -1 when it is not so formed.
long error_line(const std::string& e) {
  if (!e.starts_with("line ")) return -1;
  const size_t colon = e.find(": ", 5);
  if (colon == std::string::npos || colon == 5) return -1;
  long n = 0;
  for (size_t i = 5; i < colon; ++i) {
    if (e[i] < '0' || e[i] > '9' || n > 100'000'000) return -1;
    n = n * 10 + (e[i] - '0');
  }
  return n;
}

void check(const services::RosterCheck& c, long lines) {
  long last = 0;
  for (const std::string& e : c.errors) {
    const long line = error_line(e);
    require(line >= 1 && line <= lines, "an error without a line of the file");
    require(line >= last, "errors out of line order");
    last = line;
  }
  last = 0;
  for (const services::RosterRow& row : c.rows) {
    require(row.line >= 1 && row.line <= lines, "a row outside the file");
    require(row.line > last, "rows out of line order");
    last = row.line;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view csv(reinterpret_cast<const char*>(data), size);
  // Lines as the reader counts them: LF, CRLF and a lone CR each end one.
  long lines = 1;
  for (size_t i = 0; i < size; ++i) {
    if (csv[i] == '\n' || (csv[i] == '\r' && (i + 1 == size || csv[i + 1] != '\n'))) ++lines;
  }

  const services::RosterCheck parsed = services::parse_roster(csv);
  check(parsed, lines);
  if (parsed.ok()) {
    for (const services::RosterRow& row : parsed.rows) {
      const services::NewUser& u = row.user;
      require(!u.username.empty() && !u.display_name.empty() && !u.password.empty() && !u.time_zone.empty(),
              "a row passed with a field missing");
      require(u.role != v1::ROLE_UNSPECIFIED, "a row passed without a role");
      require(services::parse_role_name(services::role_name(u.role)) == u.role,
              "role name does not read back");
    }
  }

  const services::RosterCheck full = services::check_roster(csv, nullptr);
  check(full, lines);
  require(full.rows.size() == parsed.rows.size(), "the full checks read other rows");
  require(parsed.ok() || !full.ok(), "the full checks passed a roster the parse refused");

  if (auto role = services::parse_role_name(csv)) {
    require(services::parse_role_name(services::role_name(*role)) == role, "role name does not read back");
  }
  return 0;
}
