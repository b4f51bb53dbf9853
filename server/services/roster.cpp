#include "server/services/roster.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <map>
#include <optional>
#include <utility>

#include "storage/keys.h"

namespace preceptor::services {

namespace {

// One CSV record: its fields and the line it starts on.
struct CsvRecord {
  int line = 0;
  std::vector<std::string> fields;
};

struct LineError {
  int line;
  std::string message;
};

struct CsvParse {
  std::vector<CsvRecord> records;
  std::vector<LineError> errors;
};

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// "Display Name", "display-name" -> "display_name".
std::string normalize_name(std::string_view s) {
  std::string out = lower(trim(s));
  for (char& c : out) {
    if (c == ' ' || c == '-') c = '_';
  }
  return out;
}

// RFC 4180 with the usual leniencies: LF, CRLF or CR line ends; spaces
// before an opening quote; a stray quote inside an unquoted field is kept.
// Newlines inside quoted fields become "\n". A record with a quoting error
// is reported and left out.
CsvParse parse_csv(std::string_view text) {
  CsvParse out;
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  const size_t n = text.size();
  size_t i = 0;
  int line = 1;
  auto at_eol = [&](size_t k) { return k >= n || text[k] == '\n' || text[k] == '\r'; };
  auto consume_eol = [&] {
    if (i < n && text[i] == '\r') ++i;
    if (i < n && text[i] == '\n') ++i;
    ++line;
  };

  while (i < n) {
    CsvRecord rec;
    rec.line = line;
    bool bad = false;
    while (true) {
      std::string field;
      size_t k = i;
      while (k < n && is_space(text[k])) ++k;
      if (k < n && text[k] == '"') {
        i = k + 1;
        const int quote_line = line;
        bool closed = false;
        while (i < n) {
          char c = text[i];
          if (c == '"') {
            if (i + 1 < n && text[i + 1] == '"') {
              field += '"';
              i += 2;
              continue;
            }
            ++i;
            closed = true;
            break;
          }
          if (c == '\r' || c == '\n') {
            if (c == '\r' && i + 1 < n && text[i + 1] == '\n') ++i;
            field += '\n';
            ++line;
            ++i;
            continue;
          }
          field += c;
          ++i;
        }
        if (!closed) {
          out.errors.push_back(
              {quote_line,
               "A quoted field starts here but its closing quote (\") is missing, so the rest "
               "of the file was read as part of it."});
          return out;
        }
        while (i < n && is_space(text[i])) ++i;
        if (i < n && text[i] != ',' && !at_eol(i)) {
          if (!bad) {
            out.errors.push_back({rec.line,
                                  "There is text after a closing quote; a quoted field must end with its "
                                  "closing quote (write a quote inside quotes as \"\")."});
          }
          bad = true;
          while (i < n && text[i] != ',' && !at_eol(i)) ++i;
        }
      } else {
        while (i < n && text[i] != ',' && !at_eol(i)) field += text[i++];
      }
      rec.fields.push_back(std::move(field));
      if (i < n && text[i] == ',') {
        ++i;
        continue;
      }
      consume_eol();
      break;
    }
    if (!bad) out.records.push_back(std::move(rec));
  }
  return out;
}

enum class Column {
  kUsername,
  kDisplayName,
  kRole,
  kSpecialty,
  kTrainingLevel,
  kTimeZone,
  kPassword,
  kCount
};

constexpr std::array<std::string_view, static_cast<size_t>(Column::kCount)> kColumnNames = {
    "username", "display_name", "role", "specialty", "training_level", "time_zone", "password",
};

constexpr const char* kExpectedHeader =
    "username,display_name,role,specialty,training_level,time_zone,password";

bool all_blank(const std::vector<std::string>& fields) {
  return std::all_of(fields.begin(), fields.end(), [](const std::string& f) { return trim(f).empty(); });
}

// The parse plus, per row, which fields already have an error (so the full
// checks do not report them twice).
struct ParsedRoster {
  std::vector<RosterRow> rows;
  std::vector<std::vector<std::string>> reported_fields;  // parallel to rows
  std::vector<LineError> errors;
};

ParsedRoster parse(std::string_view csv) {
  ParsedRoster out;
  CsvParse csv_parse = parse_csv(csv);
  out.errors = std::move(csv_parse.errors);
  auto& records = csv_parse.records;

  auto first =
      std::find_if(records.begin(), records.end(), [](const CsvRecord& r) { return !all_blank(r.fields); });
  if (first == records.end()) {
    if (out.errors.empty()) {
      out.errors.push_back(
          {1, std::string("The file has no header line; the first line must name the columns, "
                          "for example: ") +
                  kExpectedHeader});
    }
    return out;
  }

  // Header: column name -> index.
  const CsvRecord& header = *first;
  std::array<int, static_cast<size_t>(Column::kCount)> index;
  index.fill(-1);
  bool header_ok = true;
  for (size_t c = 0; c < header.fields.size(); ++c) {
    const std::string name = normalize_name(header.fields[c]);
    auto known = std::find(kColumnNames.begin(), kColumnNames.end(), name);
    if (known == kColumnNames.end()) {
      out.errors.push_back({header.line, "The header names an unknown column '" + trim(header.fields[c]) +
                                             "'; the columns are: " + kExpectedHeader +
                                             " (the first line must be this header)."});
      header_ok = false;
      continue;
    }
    int& slot = index[static_cast<size_t>(known - kColumnNames.begin())];
    if (slot >= 0) {
      out.errors.push_back({header.line, "The header names the column '" + name + "' twice."});
      header_ok = false;
    }
    slot = static_cast<int>(c);
  }
  for (Column required : {Column::kUsername, Column::kDisplayName, Column::kRole}) {
    if (index[static_cast<size_t>(required)] < 0) {
      out.errors.push_back({header.line, "The header has no '" +
                                             std::string(kColumnNames[static_cast<size_t>(required)]) +
                                             "' column; the columns are: " + kExpectedHeader + "."});
      header_ok = false;
    }
  }
  if (!header_ok) return out;

  std::map<std::string, int> first_line_of;  // canonical username -> line
  for (auto it = first + 1; it != records.end(); ++it) {
    const CsvRecord& rec = *it;
    if (all_blank(rec.fields)) continue;
    if (rec.fields.size() != header.fields.size()) {
      out.errors.push_back({rec.line, "Expected " + std::to_string(header.fields.size()) +
                                          " fields, as in the header, but found " +
                                          std::to_string(rec.fields.size()) +
                                          "; put fields that contain commas in double quotes."});
      continue;
    }
    auto field = [&](Column c) -> std::string {
      int k = index[static_cast<size_t>(c)];
      if (k < 0) return {};
      // Passwords are taken exactly as written.
      return c == Column::kPassword ? rec.fields[static_cast<size_t>(k)]
                                    : trim(rec.fields[static_cast<size_t>(k)]);
    };
    RosterRow row;
    row.line = rec.line;
    std::vector<std::string> reported;
    NewUser& u = row.user;
    u.username = field(Column::kUsername);
    u.display_name = field(Column::kDisplayName);
    u.specialty = field(Column::kSpecialty);
    u.training_level = field(Column::kTrainingLevel);
    u.time_zone = field(Column::kTimeZone);
    if (u.time_zone.empty()) u.time_zone = "UTC";
    u.password = field(Column::kPassword);
    if (u.password.empty()) {
      u.password = generate_password();
      row.password_generated = true;
    }

    if (u.username.empty()) {
      out.errors.push_back({rec.line, "The username is missing."});
      reported.push_back("username");
    }
    if (u.display_name.empty()) {
      out.errors.push_back({rec.line, "The display name is missing."});
      reported.push_back("display_name");
    }
    const std::string role_text = field(Column::kRole);
    if (role_text.empty()) {
      out.errors.push_back({rec.line, "The role is missing; use mentee, mentor, program_director or admin."});
      reported.push_back("role");
    } else if (auto role = parse_role_name(role_text)) {
      u.role = *role;
    } else {
      out.errors.push_back(
          {rec.line, "The role '" + role_text +
                         "' is not known; use mentee, mentor, program_director (or director) "
                         "or admin."});
      reported.push_back("role");
    }
    if (!u.username.empty()) {
      const std::string key = storage::username_key(u.username);
      auto [prev, inserted] = first_line_of.emplace(key, rec.line);
      if (!inserted) {
        out.errors.push_back({rec.line, "The username " + u.username + " is already used on line " +
                                            std::to_string(prev->second) +
                                            " of this file (usernames ignore case)."});
        reported.push_back("username");
      }
    }
    out.rows.push_back(std::move(row));
    out.reported_fields.push_back(std::move(reported));
  }
  return out;
}

RosterCheck finish(ParsedRoster parsed) {
  std::stable_sort(parsed.errors.begin(), parsed.errors.end(),
                   [](const LineError& a, const LineError& b) { return a.line < b.line; });
  RosterCheck check;
  check.rows = std::move(parsed.rows);
  for (const LineError& e : parsed.errors)
    check.errors.push_back("line " + std::to_string(e.line) + ": " + e.message);
  return check;
}

// Stands in for a field that already has an error, so that the checks go on
// to the next field.
void patch_field(NewUser& u, const std::string& field) {
  if (field == "username")
    u.username = "placeholder.user";
  else if (field == "password")
    u.password = "placeholder-password";
  else if (field == "display_name")
    u.display_name = "Placeholder";
  else if (field == "role")
    u.role = v1::ROLE_MENTEE;
  else if (field == "specialty")
    u.specialty.clear();
  else if (field == "training_level")
    u.training_level.clear();
  else if (field == "time_zone")
    u.time_zone = "UTC";
}

}  // namespace

std::optional<v1::Role> parse_role_name(std::string_view text) {
  const std::string r = normalize_name(text);
  if (r == "mentee") return v1::ROLE_MENTEE;
  if (r == "mentor") return v1::ROLE_MENTOR;
  if (r == "program_director" || r == "director") return v1::ROLE_PROGRAM_DIRECTOR;
  if (r == "admin") return v1::ROLE_ADMIN;
  return std::nullopt;
}

std::string_view role_name(v1::Role role) {
  switch (role) {
    case v1::ROLE_MENTEE:
      return "mentee";
    case v1::ROLE_MENTOR:
      return "mentor";
    case v1::ROLE_PROGRAM_DIRECTOR:
      return "program_director";
    case v1::ROLE_ADMIN:
      return "admin";
    default:
      return "unspecified";
  }
}

std::string generate_password() {
  if (sodium_init() < 0) {
    std::fputs("preceptor: libsodium failed to initialise (no usable random source)\n", stderr);
    std::abort();
  }
  static constexpr std::string_view kAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
  std::string out(16, '\0');
  for (char& c : out) c = kAlphabet[randombytes_uniform(static_cast<uint32_t>(kAlphabet.size()))];
  return out;
}

RosterCheck parse_roster(std::string_view csv) { return finish(parse(csv)); }

RosterCheck check_roster(std::string_view csv, const Accounts* accounts) {
  ParsedRoster parsed = parse(csv);
  for (size_t r = 0; r < parsed.rows.size(); ++r) {
    std::vector<std::string>& reported = parsed.reported_fields[r];
    NewUser probe = parsed.rows[r].user;
    for (const std::string& f : reported) patch_field(probe, f);
    // Each check stops at its first problem; patch that field and check again
    // so that one pass over the file reports every problem of every row.
    for (int round = 0; round < 8; ++round) {
      Status st = accounts != nullptr ? accounts->validate_new_user(probe) : validate_new_user_format(probe);
      if (st) break;
      if (std::find(reported.begin(), reported.end(), st.field()) == reported.end()) {
        parsed.errors.push_back({parsed.rows[r].line, st.message()});
      }
      if (st.field().empty() || std::find(reported.begin(), reported.end(), st.field()) != reported.end()) {
        break;  // nothing more to learn (e.g. a storage error, or the placeholder itself is taken)
      }
      reported.push_back(st.field());
      patch_field(probe, st.field());
    }
  }
  return finish(std::move(parsed));
}

Result<RosterImport> import_roster(Accounts& accounts, std::string_view csv,
                                   const RosterImportOptions& options) {
  RosterImport result;
  result.check = check_roster(csv, &accounts);
  if (!result.check.ok() || options.dry_run || result.check.rows.empty()) return result;

  std::vector<NewUser> users;
  users.reserve(result.check.rows.size());
  for (const RosterRow& row : result.check.rows) users.push_back(row.user);

  std::promise<Result<std::vector<v1::User>>> promise;
  auto future = promise.get_future();
  accounts.create_users(
      users, [&promise](Result<std::vector<v1::User>> r) { promise.set_value(std::move(r)); },
      options.on_hashed);
  Result<std::vector<v1::User>> created = future.get();
  if (!created) return created.status();

  result.written = true;
  for (size_t k = 0; k < created->size(); ++k) {
    const RosterRow& row = result.check.rows[k];
    result.created.push_back(
        {std::move((*created)[k]), row.password_generated ? row.user.password : std::string()});
  }
  return result;
}

}  // namespace preceptor::services
