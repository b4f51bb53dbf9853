// preceptor-admin: administration of a Preceptor store (users, passwords,
// roster import, token revocation, disabling accounts, the audit log). By
// default it opens the store itself, so preceptor-server must not be running
// on the same data folder; with --server it signs in to the running server
// as an admin and sends the request there instead (reset-password,
// revoke-tokens, disable-user, enable-user, audit).

#include <sodium.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/executor.h"
#include "common/terminal.h"
#include "preceptor/client/client.h"
#include "server/services/accounts.h"
#include "server/services/audit.h"
#include "server/services/roster.h"
#include "storage/committer.h"
#include "storage/store.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;
using preceptor::NoEcho;
using preceptor::Result;
using preceptor::Status;
using preceptor::services::Accounts;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;  // validation, a user's mistake, or the store refused
constexpr int kExitUsage = 2;   // the command line itself is wrong

constexpr size_t kMaxRosterBytes = 64u << 20;

const char* const kOverview = R"(preceptor-admin: manage the users of a Preceptor store.

It opens the store directly, so stop preceptor-server first. While the server
runs, give --server and --admin instead: reset-password, revoke-tokens,
disable-user, enable-user and audit then go through the server, which ends the
user's live sessions at once. The admin's password comes from PRECEPTOR_ADMIN_PASSWORD
or is asked for on the terminal.

Usage: preceptor-admin [--data-dir DIR] COMMAND [OPTIONS]
       preceptor-admin --server ws://HOST:PORT/v1/ws --admin USERNAME COMMAND [OPTIONS]

Commands:
  add-user        Create one user. The password comes from --password or, when
                  that is absent, from standard input (prompted on a terminal).
                    preceptor-admin add-user --username dr.lee --display-name "Dr. Ana Lee" \
                        --role mentor --specialty Cardiology --time-zone Europe/Berlin

  import-roster   Create every user of a CSV file, all or none. The header line is
                    username,display_name,role,specialty,training_level,time_zone,password
                  (the password column may be left out or empty: a password is
                  generated and printed at the end). Bad rows are listed with their
                  line numbers and nothing is written. --dry-run only checks.
                    preceptor-admin import-roster cohort-2025.csv --dry-run
                    preceptor-admin import-roster cohort-2025.csv

  reset-password  Give a user a new password (from --password or standard input).
                  Every token of theirs ends: they sign in again with the new one.
                    echo 'a-long-new-password' | preceptor-admin reset-password --username dr.lee
                    preceptor-admin --server ws://127.0.0.1:8080/v1/ws --admin admin.ada \
                        reset-password --username dr.lee

  disable-user    Stop a user from signing in; every token and live session of
  enable-user     theirs ends at once. enable-user lets them sign in again.
                    preceptor-admin --server ws://127.0.0.1:8080/v1/ws --admin admin.ada \
                        disable-user --username dr.lee

  revoke-tokens   Sign a user out everywhere: every token of theirs ends.
                    preceptor-admin revoke-tokens --username dr.lee

  list-users      Print every user: id, username, role, name, specialty,
                  training level, time zone.
                    preceptor-admin list-users
                    preceptor-admin --data-dir /var/lib/preceptor list-users

  audit           Print the audit log (sign-ins, failed ones, sign-outs, ended
                  sessions, account changes, created users, directors' reads),
                  oldest first, one entry a line, times in UTC. --after N starts
                  after entry N; --user NAME keeps the entries by or about NAME.
                    preceptor-admin audit --user dr.lee
                    preceptor-admin --server ws://127.0.0.1:8080/v1/ws --admin admin.ada \
                        audit --after 1200

Roles: mentee, mentor, program_director (or director), admin.
Usernames: 3-64 letters, digits, '.', '_', '-', '@'; unique ignoring case.
Passwords: 10-1024 bytes. Time zones: IANA names such as America/Chicago or UTC.

Run 'preceptor-admin COMMAND --help' for the options of one command.
add-user, import-roster and list-users work on the data folder only.
Exit status: 0 done, 1 refused (bad input, unknown user, store unavailable), 2 usage error.
)";

// A command-line mistake: exit 2 with the message.
struct UsageError {
  std::string message;
};

// Everything a command needs once the store is open.
struct Env {
  std::unique_ptr<preceptor::storage::Store> store;
  preceptor::SystemClock clock;
  preceptor::SteadyClock steady_clock;
  std::unique_ptr<preceptor::storage::Committer> committer;
  preceptor::InlineExecutor blocking;
  std::unique_ptr<Accounts> accounts;

  ~Env() {
    accounts.reset();
    if (committer) committer->stop();  // completes what was submitted, joins the writer
    committer.reset();
    store.reset();
  }
};

preceptor::services::AccountsOptions accounts_options() {
  preceptor::services::AccountsOptions options;
  const char* fast = std::getenv("PRECEPTOR_PWHASH_FAST");
  if (fast != nullptr && std::string(fast) == "1") {
    options.pwhash_opslimit = crypto_pwhash_OPSLIMIT_MIN;
    options.pwhash_memlimit_bytes = crypto_pwhash_MEMLIMIT_MIN;
    std::cerr << "PRECEPTOR_PWHASH_FAST=1: hashing passwords at the minimum cost; use this only in tests.\n";
  }
  return options;
}

void print_status(const Status& st) {
  std::cerr << st.message();
  if (!st.detail().empty()) std::cerr << " Details: " << st.detail();
  std::cerr << "\n";
}

// Opens the store, a committer and the accounts service. On failure prints
// why and returns null. `create` makes a new store when the folder has none.
std::unique_ptr<Env> open_env(const std::string& data_dir, bool create) {
  if (!create && !fs::exists(data_dir)) {
    std::cerr << "There is no data folder at " << data_dir
              << "; pass --data-dir with the folder preceptor-server uses.\n";
    return nullptr;
  }
  auto env = std::make_unique<Env>();
  preceptor::storage::StoreOptions options;
  options.path = data_dir;
  options.create_if_missing = create;
  auto store = preceptor::storage::Store::open(options);
  if (!store) {
    print_status(store.status());
    if (store.status().code() == preceptor::v1::ERROR_CODE_UNAVAILABLE) {
      std::cerr << "Stop preceptor-server first, or revoke tokens through the server with an admin account "
                   "(RevokeTokens request).\n";
    }
    return nullptr;
  }
  env->store = std::move(*store);
  env->committer = std::make_unique<preceptor::storage::Committer>(*env->store, env->clock);
  env->committer->set_event_sink([](std::span<const preceptor::storage::CommittedEvent>) {});
  env->accounts = std::make_unique<Accounts>(*env->store, *env->committer, env->clock, env->steady_clock,
                                             env->blocking, accounts_options(), nullptr);
  return env;
}

std::optional<std::string> read_line_from_stdin() {
  std::string line;
  if (!std::getline(std::cin, line)) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// --password if given; else a line of standard input (asked twice on a terminal).
std::optional<std::string> password_from(const po::variables_map& vm, const std::string& username) {
  if (vm.count("password")) return vm["password"].as<std::string>();
  if (isatty(STDIN_FILENO)) {
    std::string first, second;
    {
      NoEcho quiet;
      std::cerr << "New password for " << username << ": " << std::flush;
      auto a = read_line_from_stdin();
      std::cerr << "\nRepeat it: " << std::flush;
      auto b = read_line_from_stdin();
      std::cerr << "\n";
      if (!a || !b) return std::nullopt;
      first = *a;
      second = *b;
    }
    if (first != second) {
      std::cerr << "The two passwords differ; nothing was changed.\n";
      return std::nullopt;
    }
    return first;
  }
  auto line = read_line_from_stdin();
  if (!line || line->empty()) {
    std::cerr << "No password given: pass --password, or write it as one line on standard input.\n";
    return std::nullopt;
  }
  return line;
}

Result<uint32_t> set_password_sync(Accounts& accounts, uint64_t user_id, const std::string& password) {
  std::promise<Result<uint32_t>> promise;
  auto f = promise.get_future();
  accounts.set_password(preceptor::services::AuditActor{}, user_id, password,
                        [&promise](Result<uint32_t> r) { promise.set_value(std::move(r)); });
  return f.get();  // the committer always completes what it was given
}

Result<uint32_t> revoke_tokens_sync(Accounts& accounts, uint64_t user_id) {
  std::promise<Result<uint32_t>> promise;
  auto f = promise.get_future();
  accounts.revoke_tokens(preceptor::services::AuditActor{}, user_id,
                         [&promise](Result<uint32_t> r) { promise.set_value(std::move(r)); });
  return f.get();  // the committer always completes what it was given
}

// Parses a command's own options; throws UsageError.
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

void print_command_help(const std::string& name, const char* synopsis, const char* example,
                        const po::options_description& options) {
  std::cout << "Usage: preceptor-admin [--data-dir DIR] " << name << " " << synopsis << "\n\n"
            << options << "\nExample:\n  " << example << "\n";
}

int cmd_add_user(const std::string& data_dir, const std::vector<std::string>& args) {
  po::options_description options("add-user options");
  options.add_options()("help,h", "show this help")("username", po::value<std::string>()->required(),
                                                    "3-64 letters, digits, '.', '_', '-', '@'")(
      "display-name", po::value<std::string>()->required(), "the name people see, e.g. \"Dr. Ana Lee\"")(
      "role", po::value<std::string>()->required(), "mentee, mentor, program_director or admin")(
      "specialty", po::value<std::string>()->default_value(""), "e.g. \"Internal medicine\"")(
      "training-level", po::value<std::string>()->default_value(""), "e.g. PGY-2, MS3, Attending")(
      "time-zone", po::value<std::string>()->default_value("UTC"), "IANA name, e.g. Europe/Berlin")(
      "password", po::value<std::string>(),
      "10-1024 bytes; when absent it is read from standard input (safer: not visible in `ps`)");
  auto vm = parse_command("add-user", options, {}, args);
  if (vm.count("help")) {
    print_command_help(
        "add-user", "--username U --display-name N --role R [options]",
        "preceptor-admin add-user --username dr.lee --display-name \"Dr. Ana Lee\" --role mentor "
        "--specialty Cardiology --time-zone Europe/Berlin < password.txt",
        options);
    return kExitOk;
  }
  preceptor::services::NewUser user;
  user.username = vm["username"].as<std::string>();
  user.display_name = vm["display-name"].as<std::string>();
  auto role = preceptor::services::parse_role_name(vm["role"].as<std::string>());
  if (!role) {
    throw UsageError{"add-user: the role '" + vm["role"].as<std::string>() +
                     "' is not known; use mentee, mentor, program_director or admin."};
  }
  user.role = *role;
  user.specialty = vm["specialty"].as<std::string>();
  user.training_level = vm["training-level"].as<std::string>();
  user.time_zone = vm["time-zone"].as<std::string>();
  // Check what can be checked before asking for a password.
  user.password = std::string(10, 'x');
  if (Status st = preceptor::services::validate_new_user_format(user); !st) {
    print_status(st);
    return kExitFailed;
  }
  auto password = password_from(vm, user.username);
  if (!password) return kExitFailed;
  user.password = std::move(*password);

  auto env = open_env(data_dir, /*create=*/true);
  if (!env) return kExitFailed;
  auto created = preceptor::services::create_user_sync(*env->accounts, user);
  if (!created) {
    print_status(created.status());
    return kExitFailed;
  }
  std::cout << "Created user " << created->username() << " (id " << created->id() << ", "
            << preceptor::services::role_name(created->role()) << ").\n";
  return kExitOk;
}

std::optional<std::string> read_file(const std::string& path) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec) {
    std::cerr << "Cannot read " << path << ": " << ec.message() << ".\n";
    return std::nullopt;
  }
  if (size > kMaxRosterBytes) {
    std::cerr << path << " is larger than " << (kMaxRosterBytes >> 20)
              << " MiB; split the roster into several files.\n";
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in && !in.eof()) {
    std::cerr << "Cannot read " << path << ".\n";
    return std::nullopt;
  }
  return text.str();
}

// The folder holds a store (or something that may be one) rather than nothing.
bool has_store(const std::string& data_dir) {
  std::error_code ec;
  return fs::is_directory(data_dir, ec) && !fs::is_empty(data_dir, ec);
}

int cmd_import_roster(const std::string& data_dir, const std::vector<std::string>& args) {
  po::options_description options("import-roster options");
  options.add_options()("help,h", "show this help")("file", po::value<std::string>(),
                                                    "the roster CSV (also accepted as the first argument)")(
      "dry-run", po::bool_switch(), "check every row, report problems, write nothing");
  po::positional_options_description positional;
  positional.add("file", 1);
  auto vm = parse_command("import-roster", options, positional, args);
  if (vm.count("help")) {
    print_command_help("import-roster", "FILE.csv [--dry-run]",
                       "preceptor-admin import-roster cohort.csv --dry-run", options);
    std::cout << "\nThe first line of the file names the columns:\n"
                 "  username,display_name,role,specialty,training_level,time_zone,password\n"
                 "username, display_name and role are required; an empty time_zone means UTC; an empty or\n"
                 "missing password is generated and printed after the import.\n";
    return kExitOk;
  }
  if (!vm.count("file")) {
    throw UsageError{
        "import-roster needs the roster file, as in: preceptor-admin import-roster cohort.csv --dry-run"};
  }
  const std::string file = vm["file"].as<std::string>();
  const bool dry_run = vm["dry-run"].as<bool>();
  auto csv = read_file(file);
  if (!csv) return kExitFailed;

  std::unique_ptr<Env> env;
  if (dry_run) {
    // A dry run never creates a store; without one it checks the file alone.
    if (has_store(data_dir)) {
      env = open_env(data_dir, /*create=*/false);
      if (!env) return kExitFailed;
    } else {
      std::cout << "No store at " << data_dir << " yet, so usernames were checked within the file only.\n";
    }
    auto check = preceptor::services::check_roster(*csv, env ? env->accounts.get() : nullptr);
    for (const auto& e : check.errors) std::cerr << file << ": " << e << "\n";
    if (!check.ok()) {
      std::cout << check.errors.size() << " problem" << (check.errors.size() == 1 ? "" : "s") << " found in "
                << file << ". Dry run: nothing was written.\n";
      return kExitFailed;
    }
    std::cout << "All " << check.rows.size() << " rows of " << file
              << " are valid. Dry run: nothing was written.\n";
    return kExitOk;
  }

  env = open_env(data_dir, /*create=*/true);
  if (!env) return kExitFailed;
  preceptor::services::RosterImportOptions import_options;
  import_options.on_hashed = [](size_t hashed, size_t total) {
    if (hashed % 50 == 0 || hashed == total) {
      std::cout << "Hashed " << hashed << " of " << total << " passwords...\n" << std::flush;
    }
  };
  auto result = preceptor::services::import_roster(*env->accounts, *csv, import_options);
  if (!result) {
    print_status(result.status());
    std::cerr << "Nothing was imported.\n";
    return kExitFailed;
  }
  for (const auto& e : result->check.errors) std::cerr << file << ": " << e << "\n";
  if (!result->check.ok()) {
    std::cout << result->check.errors.size() << " problem" << (result->check.errors.size() == 1 ? "" : "s")
              << " found in " << file << ". Nothing was imported: fix the rows above and run again.\n";
    return kExitFailed;
  }
  if (result->check.rows.empty()) {
    std::cout << file << " has a header but no rows; nothing was imported.\n";
    return kExitOk;
  }
  size_t generated = 0;
  for (const auto& u : result->created) generated += u.generated_password.empty() ? 0 : 1;
  std::cout << "Imported " << result->created.size() << " user" << (result->created.size() == 1 ? "" : "s")
            << " from " << file << ".\n";
  if (generated > 0) {
    std::cout << "\nGenerated passwords (hand each to its person privately; they are not shown again):\n";
    for (const auto& u : result->created) {
      if (!u.generated_password.empty())
        std::cout << "  " << u.user.username() << "\t" << u.generated_password << "\n";
    }
  }
  return kExitOk;
}

// The running server, when --server was given: where, and as which admin.
struct Server {
  std::string url;    // empty: work on the data folder
  std::string admin;  // the admin's username
};

// A signed-in connection to the running server for one request. On failure
// prints why and returns null.
std::unique_ptr<preceptor::client::Client> sign_in(const Server& server) {
  std::string password;
  if (const char* env = std::getenv("PRECEPTOR_ADMIN_PASSWORD"); env != nullptr && *env != '\0') {
    password = env;
  } else if (isatty(STDIN_FILENO)) {
    NoEcho quiet;
    std::cerr << "Password of " << server.admin << ": " << std::flush;
    auto line = read_line_from_stdin();
    std::cerr << "\n";
    if (!line) return nullptr;
    password = *line;
  } else {
    std::cerr << "Set PRECEPTOR_ADMIN_PASSWORD to the password of " << server.admin
              << " (standard input is not a terminal to ask on).\n";
    return nullptr;
  }
  preceptor::client::Options options;
  options.url = server.url;
  options.sync_events = false;
  options.max_backoff = std::chrono::milliseconds(1000);
  auto client = std::make_unique<preceptor::client::Client>(options);
  if (Status st = client->start(); !st) {
    print_status(st);
    return nullptr;
  }
  preceptor::v1::Login login;
  login.set_username(server.admin);
  login.set_password(password);
  login.set_device_name("preceptor-admin");
  auto signed_in = client->login_sync(login, std::chrono::seconds(15));
  if (!signed_in) {
    std::cerr << "Could not sign in to " << server.url << " as " << server.admin << ": ";
    print_status(signed_in.status());
    return nullptr;
  }
  return client;
}

// Prints the outcome of a request to the server; ends the admin's token.
template <class T>
int finish_online(preceptor::client::Client& client, const Result<T>& result, const std::string& done_text) {
  (void)client.logout_sync(preceptor::v1::Logout(), std::chrono::seconds(5));
  if (!result) {
    print_status(result.status());
    return kExitFailed;
  }
  std::cout << done_text;
  return kExitOk;
}

std::string sessions_text(uint32_t n) { return std::to_string(n) + " session" + (n == 1 ? "" : "s"); }

int cmd_reset_password(const std::string& data_dir, const std::vector<std::string>& args,
                       const Server& server) {
  po::options_description options("reset-password options");
  options.add_options()("help,h", "show this help")("username", po::value<std::string>()->required(),
                                                    "whose password to set")(
      "password", po::value<std::string>(), "10-1024 bytes; when absent it is read from standard input");
  auto vm = parse_command("reset-password", options, {}, args);
  if (vm.count("help")) {
    print_command_help("reset-password", "--username U [--password P]",
                       "echo 'a-long-new-password' | preceptor-admin reset-password --username dr.lee",
                       options);
    return kExitOk;
  }
  const std::string username = vm["username"].as<std::string>();
  if (!server.url.empty()) {
    auto password = password_from(vm, username);
    if (!password) return kExitFailed;
    auto client = sign_in(server);
    if (!client) return kExitFailed;
    preceptor::v1::ResetPassword request;
    request.set_username(username);
    request.set_new_password(*password);
    auto result = client->reset_password_sync(request);
    return finish_online(*client, result,
                         result ? "Set a new password for " + username + " and ended " +
                                      sessions_text(result->tokens_ended()) + " of theirs.\n"
                                : "");
  }
  auto env = open_env(data_dir, /*create=*/false);
  if (!env) return kExitFailed;
  auto user = env->accounts->find_user(username);
  if (!user) {
    print_status(user.status());
    return kExitFailed;
  }
  auto password = password_from(vm, user->username());
  if (!password) return kExitFailed;
  auto ended = set_password_sync(*env->accounts, user->id(), *password);
  if (!ended) {
    print_status(ended.status());
    return kExitFailed;
  }
  std::cout << "Set a new password for " << user->username() << " and ended " << sessions_text(*ended)
            << " of theirs.\n";
  return kExitOk;
}

int cmd_revoke_tokens(const std::string& data_dir, const std::vector<std::string>& args,
                      const Server& server) {
  po::options_description options("revoke-tokens options");
  options.add_options()("help,h", "show this help")("username", po::value<std::string>()->required(),
                                                    "whose sessions to end");
  auto vm = parse_command("revoke-tokens", options, {}, args);
  if (vm.count("help")) {
    print_command_help("revoke-tokens", "--username U", "preceptor-admin revoke-tokens --username dr.lee",
                       options);
    return kExitOk;
  }
  if (!server.url.empty()) {
    auto client = sign_in(server);
    if (!client) return kExitFailed;
    preceptor::v1::RevokeTokens request;
    request.set_username(vm["username"].as<std::string>());
    auto result = client->revoke_tokens_sync(request);
    return finish_online(
        *client, result,
        result ? "Ended " + sessions_text(result->revoked()) + " of " + request.username() + ".\n" : "");
  }
  auto env = open_env(data_dir, /*create=*/false);
  if (!env) return kExitFailed;
  auto user = env->accounts->find_user(vm["username"].as<std::string>());
  if (!user) {
    print_status(user.status());
    return kExitFailed;
  }
  auto revoked = revoke_tokens_sync(*env->accounts, user->id());
  if (!revoked) {
    print_status(revoked.status());
    return kExitFailed;
  }
  std::cout << "Ended " << *revoked << " session" << (*revoked == 1 ? "" : "s") << " of " << user->username()
            << ".\n";
  return kExitOk;
}

int cmd_set_disabled(const std::string& data_dir, const std::vector<std::string>& args, const Server& server,
                     bool disabled) {
  const std::string name = disabled ? "disable-user" : "enable-user";
  po::options_description options(name + " options");
  options.add_options()("help,h", "show this help")(
      "username", po::value<std::string>()->required(),
      disabled ? "whose account to disable" : "whose account to enable");
  auto vm = parse_command(name, options, {}, args);
  if (vm.count("help")) {
    const std::string example = "preceptor-admin " + name + " --username dr.lee";
    print_command_help(name, "--username U", example.c_str(), options);
    return kExitOk;
  }
  const std::string username = vm["username"].as<std::string>();
  const std::string done_text =
      disabled ? "Disabled " + username + " and ended " : "Enabled " + username + ".\n";
  if (!server.url.empty()) {
    auto client = sign_in(server);
    if (!client) return kExitFailed;
    preceptor::v1::SetAccountDisabled request;
    request.set_username(username);
    request.set_disabled(disabled);
    auto result = client->set_account_disabled_sync(request);
    return finish_online(
        *client, result,
        result && disabled ? done_text + sessions_text(result->tokens_ended()) + " of theirs.\n" : done_text);
  }
  auto env = open_env(data_dir, /*create=*/false);
  if (!env) return kExitFailed;
  auto user = env->accounts->find_user(username);
  if (!user) {
    print_status(user.status());
    return kExitFailed;
  }
  std::promise<Result<std::pair<preceptor::v1::User, uint32_t>>> promise;
  auto f = promise.get_future();
  env->accounts->set_disabled(preceptor::services::AuditActor{}, user->id(), disabled,
                              [&promise](auto r) { promise.set_value(std::move(r)); });
  auto result = f.get();
  if (!result) {
    print_status(result.status());
    return kExitFailed;
  }
  std::cout << (disabled ? done_text + sessions_text(result->second) + " of theirs.\n" : done_text);
  return kExitOk;
}

// "2026-11-29T04:36:48.123Z"
std::string iso_utc(int64_t ms) {
  int64_t secs = ms / 1000;
  int64_t millis = ms % 1000;
  if (millis < 0) millis += 1000, secs -= 1;
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return std::to_string(ms) + "ms";
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", date, static_cast<int>(millis));
  return out;
}

// "dr.lee(#4)", "#4", a name tried at sign-in, or "-".
std::string person(uint64_t id, const std::string& username) {
  if (id == 0) return username.empty() ? "-" : username;
  const std::string number = "#" + std::to_string(id);
  return username.empty() ? number : username + "(" + number + ")";
}

// One entry as one line: time, sequence, kind, then key=value fields.
std::string audit_line(const preceptor::v1::AuditEntry& e) {
  std::string line = iso_utc(e.time_ms()) + " #" + std::to_string(e.sequence()) + " " +
                     preceptor::services::audit_kind_name(e.kind());
  line += " by=" + person(e.actor_id(), e.actor_username());
  if (e.subject_id() != 0 || !e.username().empty()) line += " user=" + person(e.subject_id(), e.username());
  if (!e.address().empty()) line += " address=" + e.address();
  if (e.role() != preceptor::v1::ROLE_UNSPECIFIED) {
    line += " role=" + std::string(preceptor::services::role_name(e.role()));
  }
  if (!e.detail().empty()) line += " detail=\"" + e.detail() + "\"";
  return line;
}

int cmd_audit(const std::string& data_dir, const std::vector<std::string>& args, const Server& server) {
  po::options_description options("audit options");
  options.add_options()("help,h", "show this help")("after", po::value<uint64_t>()->default_value(0),
                                                    "start after the entry with this number (#N)")(
      "user", po::value<std::string>(), "only entries by or about this username (sign-in attempts included)");
  auto vm = parse_command("audit", options, {}, args);
  if (vm.count("help")) {
    print_command_help("audit", "[--after N] [--user NAME]", "preceptor-admin audit --user dr.lee", options);
    std::cout
        << "\nEach line: time (UTC), #sequence, kind, by=who did it (- : the server or this tool on the\n"
           "data folder), user=whom it concerns, address=the client's address, role=, detail=.\n";
    return kExitOk;
  }
  preceptor::v1::ListAudit request;
  request.set_after_sequence(vm["after"].as<uint64_t>());
  request.set_limit(1000);
  if (vm.count("user")) request.set_username(vm["user"].as<std::string>());

  std::unique_ptr<preceptor::client::Client> client;
  std::unique_ptr<Env> env;
  if (!server.url.empty()) {
    client = sign_in(server);
    if (!client) return kExitFailed;
  } else {
    env = open_env(data_dir, /*create=*/false);
    if (!env) return kExitFailed;
  }
  size_t printed = 0;
  Result<preceptor::v1::ListAuditResult> page = preceptor::v1::ListAuditResult();
  for (;;) {
    page = client ? client->list_audit_sync(request)
                  : preceptor::services::list_audit(*env->store, *env->accounts, request);
    if (!page) break;
    for (const auto& entry : page->entries()) std::cout << audit_line(entry) << "\n";
    printed += static_cast<size_t>(page->entries_size());
    if (!page->has_more()) break;
    request.set_after_sequence(page->next_after_sequence());
  }
  const std::string summary =
      printed == 0 ? "No audit entries" +
                         std::string(request.username().empty() ? "" : " for " + request.username()) + ".\n"
                   : std::to_string(printed) + " entr" + (printed == 1 ? "y" : "ies") + ".\n";
  if (client) return finish_online(*client, page, summary);
  if (!page) {
    print_status(page.status());
    return kExitFailed;
  }
  std::cout << summary;
  return kExitOk;
}

// Display width of UTF-8 text, counting code points (close enough for names).
size_t width(const std::string& s) {
  size_t w = 0;
  for (unsigned char c : s) w += (c & 0xC0) != 0x80 ? 1 : 0;
  return w;
}

int cmd_list_users(const std::string& data_dir, const std::vector<std::string>& args) {
  po::options_description options("list-users options");
  options.add_options()("help,h", "show this help");
  auto vm = parse_command("list-users", options, {}, args);
  if (vm.count("help")) {
    print_command_help("list-users", "", "preceptor-admin --data-dir /var/lib/preceptor list-users", options);
    return kExitOk;
  }
  auto env = open_env(data_dir, /*create=*/false);
  if (!env) return kExitFailed;
  auto users = env->accounts->list_users();
  if (!users) {
    print_status(users.status());
    return kExitFailed;
  }
  if (users->empty()) {
    std::cout
        << "No users yet. Add one with 'preceptor-admin add-user' or 'preceptor-admin import-roster'.\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> table;
  table.push_back({"ID", "USERNAME", "ROLE", "DISPLAY NAME", "SPECIALTY", "TRAINING", "TIME ZONE"});
  for (const auto& u : *users) {
    table.push_back({std::to_string(u.id()), u.username(),
                     std::string(preceptor::services::role_name(u.role())), u.display_name(), u.specialty(),
                     u.training_level(), u.time_zone()});
  }
  std::vector<size_t> widths(table[0].size(), 0);
  for (const auto& row : table) {
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], width(row[c]));
  }
  for (const auto& row : table) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(widths[c] - width(row[c]) + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::cout << line << "\n";
  }
  std::cout << users->size() << " user" << (users->size() == 1 ? "" : "s") << ".\n";
  return kExitOk;
}

int run(int argc, char** argv) {
  po::options_description global("Global options");
  global.add_options()("help,h", "explain every command, with examples")(
      "data-dir", po::value<std::string>()->default_value("./data"),
      "the store's folder, as given to preceptor-server (default ./data)")(
      "server", po::value<std::string>(),
      "talk to the running server at this WebSocket URL (ws://host:port/v1/ws) instead of the data folder")(
      "admin", po::value<std::string>(), "with --server: the admin account to sign in as");
  po::options_description hidden;
  hidden.add_options()("command", po::value<std::string>())("args", po::value<std::vector<std::string>>());
  po::options_description all;
  all.add(global).add(hidden);
  po::positional_options_description positional;
  positional.add("command", 1).add("args", -1);

  po::variables_map vm;
  po::parsed_options parsed(&all);
  try {
    parsed =
        po::command_line_parser(argc, argv).options(all).positional(positional).allow_unregistered().run();
    po::store(parsed, vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError{std::string(e.what()) + "."};
  }
  if (!vm.count("command")) {
    if (vm.count("help")) {
      std::cout << kOverview;
      return kExitOk;
    }
    throw UsageError{"No command given."};
  }
  const std::string command = vm["command"].as<std::string>();
  // Everything after the command that the global parser did not take: the command's own arguments.
  std::vector<std::string> args = po::collect_unrecognized(parsed.options, po::include_positional);
  if (!args.empty() && args.front() == command) args.erase(args.begin());
  if (vm.count("help")) args.push_back("--help");  // "preceptor-admin add-user --help"
  const std::string data_dir = vm["data-dir"].as<std::string>();

  if (command == "help") {
    std::cout << kOverview;
    return kExitOk;
  }
  if (command == "add-user") return cmd_add_user(data_dir, args);
  if (command == "import-roster") return cmd_import_roster(data_dir, args);
  Server server;
  if (vm.count("server")) {
    server.url = vm["server"].as<std::string>();
    if (!vm.count("admin")) throw UsageError{"--server needs --admin, the admin account to sign in as."};
    server.admin = vm["admin"].as<std::string>();
    if (command == "add-user" || command == "import-roster" || command == "list-users") {
      throw UsageError{command +
                       " works on the data folder only; run it without --server (with the server "
                       "stopped)."};
    }
  }
  if (command == "reset-password") return cmd_reset_password(data_dir, args, server);
  if (command == "revoke-tokens") return cmd_revoke_tokens(data_dir, args, server);
  if (command == "disable-user") return cmd_set_disabled(data_dir, args, server, true);
  if (command == "enable-user") return cmd_set_disabled(data_dir, args, server, false);
  if (command == "list-users") return cmd_list_users(data_dir, args);
  if (command == "audit") return cmd_audit(data_dir, args, server);
  throw UsageError{
      "Unknown command '" + command +
      "'; the commands are add-user, import-roster, reset-password, revoke-tokens, disable-user, "
      "enable-user, list-users and audit."};
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const UsageError& e) {
    std::cerr << "preceptor-admin: " << e.message << "\nRun 'preceptor-admin --help' for usage.\n";
    return kExitUsage;
  }
}
