#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "preceptor/v1/accounts.pb.h"
#include "server/services/accounts.h"

namespace preceptor::services {

// A roster is a CSV file of people to create at once, with a header line:
//
//   username,display_name,role,specialty,training_level,time_zone,password
//
// Columns are matched by name (any order, case-insensitive); username,
// display_name and role are required, the others optional. An empty
// time_zone means UTC; an empty or absent password means "generate one".
// RFC 4180 quoting ("a, b" and "say ""hi"""), CRLF or LF line ends, a UTF-8
// byte-order mark and blank lines are all accepted. Fields other than the
// password are trimmed of surrounding spaces.

struct RosterRow {
  int line = 0;  // 1-based line where the row starts in the file
  NewUser user;
  bool password_generated = false;  // user.password was made up here; hand it to the person
};

struct RosterCheck {
  std::vector<RosterRow> rows;      // every row that parsed (valid or not)
  std::vector<std::string> errors;  // "line N: <sentence>", in line order
  bool ok() const { return errors.empty(); }
};

// Parses the CSV text and checks each row's fields (role name, missing
// fields, column count, duplicate usernames within the file). Does not look
// at any store. Pure; any thread.
RosterCheck parse_roster(std::string_view csv);

// parse_roster, then the full NewUser checks of each row: through
// `accounts` (format, and whether the username is taken in its store) or,
// when `accounts` is null (no store yet), the format checks only.
// Any thread (reads only).
RosterCheck check_roster(std::string_view csv, const Accounts* accounts);

// "mentee", "Mentor", "program director", "program_director", "director",
// "admin" (case, spaces and '-' ignored) -> the role; nullopt otherwise.
std::optional<v1::Role> parse_role_name(std::string_view text);
// The name parse_role_name reads back: "mentee", "mentor", "program_director", "admin".
std::string_view role_name(v1::Role role);

// A random password of 16 characters from an alphabet without look-alikes
// (no 0/O, 1/l/I), for people imported without one.
std::string generate_password();

struct ImportedUser {
  v1::User user;
  std::string generated_password;  // empty when the roster gave the password
};

struct RosterImport {
  RosterCheck check;
  bool written = false;  // true only when every row was valid, it was not a dry run, and the write succeeded
  std::vector<ImportedUser> created;  // in file order
};

struct RosterImportOptions {
  bool dry_run = false;  // check only; write nothing
  // Called on the calling thread after each password is hashed: (hashed, total).
  std::function<void(size_t, size_t)> on_hashed;
};

// Checks the roster against `accounts` and, when every row is valid and this
// is not a dry run, creates all its users in one write (all or none).
// Blocks until the write is durable (hashing runs on this thread): for tools
// and tests, never a network thread. The Status is an error only when the
// write itself failed (e.g. someone created one of the usernames meanwhile);
// invalid rows are reported in `check.errors` with an OK status.
Result<RosterImport> import_roster(Accounts& accounts, std::string_view csv,
                                   const RosterImportOptions& options = {});

}  // namespace preceptor::services
