// preceptor-cli's shared plumbing: errors, the token file, the session,
// formatting and command-line parsing (declared in cli/cli.h).
#include "cli.h"

#include <date/tz.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>

namespace preceptor::cli {

// ---- formatting ----

std::string format_time(int64_t ms) {
  if (ms <= 0) return "-";
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%MZ", &tm);
  return buf;
}

const char* role_name(v1::Role r) {
  switch (r) {
    case v1::ROLE_MENTEE:
      return "mentee";
    case v1::ROLE_MENTOR:
      return "mentor";
    case v1::ROLE_PROGRAM_DIRECTOR:
      return "program director";
    case v1::ROLE_ADMIN:
      return "admin";
    default:
      return "unknown role";
  }
}

const char* purpose_name(v1::Purpose p) {
  switch (p) {
    case v1::PURPOSE_CLINICAL_SKILLS:
      return "clinical-skills";
    case v1::PURPOSE_CAREER:
      return "career";
    case v1::PURPOSE_RESEARCH:
      return "research";
    case v1::PURPOSE_WELLBEING:
      return "wellbeing";
    case v1::PURPOSE_OTHER:
      return "other";
    default:
      return "unspecified";
  }
}

std::optional<v1::Purpose> parse_purpose(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return c == '_' ? '-' : std::tolower(c); });
  if (s == "clinical-skills" || s == "clinical") return v1::PURPOSE_CLINICAL_SKILLS;
  if (s == "career" || s == "job-search") return v1::PURPOSE_CAREER;
  if (s == "research") return v1::PURPOSE_RESEARCH;
  if (s == "wellbeing" || s == "well-being") return v1::PURPOSE_WELLBEING;
  if (s == "other") return v1::PURPOSE_OTHER;
  return std::nullopt;
}

const char* state_of(v1::MentorshipState s) {
  switch (s) {
    case v1::MENTORSHIP_STATE_REQUESTED:
      return "requested";
    case v1::MENTORSHIP_STATE_ACTIVE:
      return "active";
    case v1::MENTORSHIP_STATE_DECLINED:
      return "declined";
    case v1::MENTORSHIP_STATE_EXPIRED:
      return "expired";
    case v1::MENTORSHIP_STATE_ENDED:
      return "ended";
    default:
      return "unknown";
  }
}

std::string describe(const v1::User& u) {
  std::string s = u.username();
  if (!u.display_name().empty()) s += " (" + u.display_name() + ")";
  return s;
}

// ---- the token file ----

std::string default_token_file() {
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.preceptor-token";
}

std::string read_token(const std::string& path) {
  std::ifstream in(path);
  std::string token;
  if (!in || !(in >> token) || token.empty()) {
    throw Failed{"Not signed in (no token in " + path +
                 "); run 'preceptor-cli login --username NAME' first."};
  }
  return token;
}

void save_token(const std::string& path, const std::string& token) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw Failed{"Could not write the token to " + path + ": " + std::strerror(errno) + "."};
  ::fchmod(fd, 0600);  // it may have existed with wider permissions
  const std::string line = token + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::close(fd);
  if (!ok) throw Failed{"Could not write the token to " + path + "."};
}

// ---- talking to the server ----

std::string next_step(const Status& st) {
  switch (st.code()) {
    case v1::ERROR_CODE_UNAUTHENTICATED:
      return "Sign in again with 'preceptor-cli login --username NAME'.";
    case v1::ERROR_CODE_UNAVAILABLE:
    case v1::ERROR_CODE_DEADLINE_EXCEEDED:
      return "Check that the server is running and reachable (--server), then try again.";
    case v1::ERROR_CODE_ABORTED:
      return "It changed meanwhile: look at it again, then retry.";
    case v1::ERROR_CODE_RESOURCE_EXHAUSTED:
      return st.retry_after_ms() > 0
                 ? "Try again in " + std::to_string((st.retry_after_ms() + 999) / 1000) + " s."
                 : "";
    case v1::ERROR_CODE_UNIMPLEMENTED:
      return "This server does not offer it yet; ask its operator to update it.";
    default:
      return "";
  }
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Usernames by user id, from the mentorships the user can see.
std::map<uint64_t, std::string> known_names(Session& s) {
  std::map<uint64_t, std::string> names;
  auto me = s.client().user();
  names[me.id()] = me.username();
  auto list = s.client().list_all_mentorships_sync({}, s.timeout());
  if (list) {
    for (const auto& v : list->mentorships()) {
      names[v.mentor().id()] = v.mentor().username();
      names[v.mentee().id()] = v.mentee().username();
    }
  }
  return names;
}

std::string name_of(const std::map<uint64_t, std::string>& names, uint64_t id) {
  auto it = names.find(id);
  return it == names.end() ? "user " + std::to_string(id) : it->second;
}

// ---- command-line plumbing ----

po::variables_map parse_command(const std::string& name, const po::options_description& options,
                                const po::positional_options_description& positional,
                                const std::vector<std::string>& args) {
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(options).positional(positional).run(), vm);
    if (vm.count("help")) return vm;
    po::notify(vm);
  } catch (const po::too_many_positional_options_error&) {
    throw UsageError{name + " got an argument it does not take; options start with --."};
  } catch (const po::error& e) {
    throw UsageError{name + ": " + e.what() + "."};
  }
  return vm;
}

bool help_requested(const po::variables_map& vm, const std::string& name, const char* synopsis,
                    const char* example, const po::options_description& options) {
  if (!vm.count("help")) return false;
  std::cout << "Usage: preceptor-cli [--server URL] [--token-file FILE] " << name << " " << synopsis << "\n\n"
            << options << "\nExample:\n  " << example << "\n";
  return true;
}

uint64_t parse_id(const std::string& what, const std::string& text) {
  uint64_t v = 0;
  size_t used = 0;
  try {
    v = std::stoull(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || v == 0 || text.starts_with("-")) {
    throw UsageError{what + " must be a positive number, not '" + text + "'."};
  }
  return v;
}

// ---- meetings and office hours ----

// The zone a local time on the command line is read in: --time-zone, else
// $TZ, else UTC.
std::string default_zone() {
  const char* tz = std::getenv("TZ");
  return tz && *tz && *tz != ':' ? tz : "UTC";
}

const date::time_zone* zone_named(const std::string& name) {
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    throw UsageError{"Unknown time zone '" + name + "'; use an IANA name such as Europe/Stockholm or UTC."};
  }
}

// "YYYY-MM-DD HH:MM" (or with a 'T') in `zone`, or ending in 'Z' for UTC,
// as UTC milliseconds.
int64_t parse_when(const std::string& what, const std::string& text, const std::string& zone) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0;
  char sep = 0;
  char z = 0;
  const int n = std::sscanf(text.c_str(), "%4d-%2d-%2d%c%2d:%2d%c", &y, &mo, &d, &sep, &h, &mi, &z);
  const bool utc = n == 7 && z == 'Z';
  const date::year_month_day ymd{date::year{y}, date::month{static_cast<unsigned>(mo)},
                                 date::day{static_cast<unsigned>(d)}};
  if ((n != 6 && !utc) || (sep != ' ' && sep != 'T') || !ymd.ok() || h > 23 || mi > 59 || h < 0 || mi < 0) {
    throw UsageError{what + " must look like 2026-12-01 15:30 (local) or 2026-12-01T14:30Z (UTC), not '" +
                     text + "'."};
  }
  const auto minutes = std::chrono::hours{h} + std::chrono::minutes{mi};
  if (utc) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               (date::sys_days{ymd} + minutes).time_since_epoch())
        .count();
  }
  try {
    const auto sys = zone_named(zone)->to_sys(date::local_days{ymd} + minutes);
    return std::chrono::duration_cast<std::chrono::milliseconds>(sys.time_since_epoch()).count();
  } catch (const date::nonexistent_local_time&) {
    throw UsageError{text + " does not exist in " + zone +
                     " (the clocks move forward then); choose another time."};
  } catch (const date::ambiguous_local_time&) {
    throw UsageError{text + " happens twice in " + zone +
                     " (the clocks move back then); give it in UTC with a Z, e.g. 2026-10-25T00:30Z."};
  }
}

// "Tue 2026-12-01 15:30" in `zone` (UTC when the zone is unknown here).
std::string local_time(int64_t ms, const std::string& zone) {
  const date::sys_time<std::chrono::milliseconds> t{std::chrono::milliseconds{ms}};
  try {
    return date::format("%a %Y-%m-%d %H:%M", date::make_zoned(date::locate_zone(zone), t));
  } catch (const std::exception&) {
    return date::format("%a %Y-%m-%d %H:%MZ", std::chrono::time_point_cast<std::chrono::minutes>(t));
  }
}

std::string utc_time(int64_t ms) {
  const date::sys_time<std::chrono::milliseconds> t{std::chrono::milliseconds{ms}};
  return date::format("%Y-%m-%dT%H:%MZ", std::chrono::time_point_cast<std::chrono::minutes>(t));
}

}  // namespace preceptor::cli
