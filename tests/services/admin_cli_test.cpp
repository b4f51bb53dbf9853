// Runs the built preceptor-admin binary against a temporary data folder.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "server/services/accounts.h"
#include "tests/services/services_test_util.h"

extern char** environ;

namespace preceptor::services {
namespace {

using testing::AccountsHarness;
using testing::TempDir;

struct ToolRun {
  int exit_code = -1;  // -1: did not exit normally (signal or timeout)
  bool timed_out = false;
  std::string output;  // stdout and stderr, interleaved
};

// Runs preceptor-admin with `args`, feeding `input` on stdin, with
// PRECEPTOR_PWHASH_FAST=1. Gives up (and kills the child) after kWaitTimeout.
ToolRun run_admin(const std::vector<std::string>& args, const std::string& input = "") {
  ToolRun run;
  std::vector<std::string> argv_s = {PRECEPTOR_ADMIN_PATH};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  // The environment is built before fork: the child only calls async-signal-safe functions.
  std::vector<std::string> env_s;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string_view(*e).rfind("PRECEPTOR_PWHASH_FAST=", 0) != 0) env_s.emplace_back(*e);
  }
  env_s.emplace_back("PRECEPTOR_PWHASH_FAST=1");
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  int in_pipe[2], out_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe failed";
    return run;
  }
  pid_t pid = fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork failed";
    return run;
  }
  if (pid == 0) {
    dup2(in_pipe[0], STDIN_FILENO);
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(out_pipe[1], STDERR_FILENO);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  // Small inputs fit in the pipe buffer, so this never blocks on the child.
  if (!input.empty() && write(in_pipe[1], input.data(), input.size()) != static_cast<ssize_t>(input.size())) {
    ADD_FAILURE() << "writing stdin failed";
  }
  close(in_pipe[1]);

  const auto deadline = std::chrono::steady_clock::now() + testing::kWaitTimeout;
  char buf[4096];
  while (true) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      run.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    pollfd p{out_pipe[0], POLLIN, 0};
    int ready = poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;  // timeout is handled at the top
    ssize_t n = read(out_pipe[0], buf, sizeof buf);
    if (n <= 0) break;  // EOF: the child closed its output (it has exited)
    run.output.append(buf, static_cast<size_t>(n));
  }
  close(out_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!run.timed_out && WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  return run;
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

constexpr const char* kGoodRoster =
    "username,display_name,role,specialty,training_level,time_zone,password\n"
    "dr.lee,\"Lee, Ana\",mentor,Cardiology,Attending,Europe/Berlin,mentor password 1\n"
    "sam.k,Sam Kim,mentee,,PGY-1,America/Chicago,\n"
    "pat,Pat Director,program director,,,,\n";

TEST(AdminCli, HelpExplainsEveryCommand) {
  ToolRun r = run_admin({"--help"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const char* cmd : {"add-user", "import-roster", "reset-password", "revoke-tokens", "list-users"}) {
    EXPECT_TRUE(contains(r.output, cmd)) << cmd;
    EXPECT_TRUE(contains(r.output, std::string("preceptor-admin ") + cmd)) << "an example of " << cmd;
  }
  ToolRun sub = run_admin({"import-roster", "--help"});
  EXPECT_EQ(sub.exit_code, 0) << sub.output;
  EXPECT_TRUE(contains(sub.output, "--dry-run")) << sub.output;
}

TEST(AdminCli, UsageErrorsExitTwo) {
  TempDir dir;
  EXPECT_EQ(run_admin({}).exit_code, 2);
  ToolRun unknown = run_admin({"--data-dir", dir.str(), "make-coffee"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
  EXPECT_TRUE(contains(unknown.output, "Unknown command 'make-coffee'")) << unknown.output;
  ToolRun missing = run_admin({"--data-dir", dir.str(), "revoke-tokens"});
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_TRUE(contains(missing.output, "username")) << missing.output;
  ToolRun bad_role = run_admin({"--data-dir", dir.str(), "add-user", "--username", "ana", "--display-name",
                                "Ana", "--role", "surgeon", "--password", "long enough pw"});
  EXPECT_EQ(bad_role.exit_code, 2) << bad_role.output;
}

TEST(AdminCli, DryRunOfABadRosterListsLineNumbersAndWritesNothing) {
  TempDir dir;
  const auto data = dir.path() / "data";
  const auto csv = dir.path() / "roster.csv";
  write_file(csv,
             "username,display_name,role,specialty,training_level,time_zone,password\n"
             "good.one,Good,mentee,,,UTC,\n"
             "bad.role,Bad,nurse,,,UTC,\n"
             "bad.zone,Zone,mentor,,,Atlantis/Capital,\n");
  ToolRun r = run_admin({"--data-dir", data.string(), "import-roster", csv.string(), "--dry-run"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "line 3: The role 'nurse' is not known")) << r.output;
  EXPECT_TRUE(contains(r.output, "line 4: The time zone 'Atlantis/Capital'")) << r.output;
  EXPECT_FALSE(contains(r.output, "line 2:")) << r.output;
  EXPECT_TRUE(contains(r.output, "Dry run: nothing was written.")) << r.output;
  EXPECT_FALSE(std::filesystem::exists(data)) << "a dry run must not create a store";

  // A real import of the same file writes nothing either.
  ToolRun real = run_admin({"--data-dir", data.string(), "import-roster", csv.string()});
  EXPECT_EQ(real.exit_code, 1) << real.output;
  EXPECT_TRUE(contains(real.output, "Nothing was imported")) << real.output;
  ToolRun list = run_admin({"--data-dir", data.string(), "list-users"});
  EXPECT_EQ(list.exit_code, 0) << list.output;
  EXPECT_TRUE(contains(list.output, "No users yet")) << list.output;
}

TEST(AdminCli, ImportedUsersAreListed) {
  TempDir dir;
  const auto data = dir.path() / "data";
  const auto csv = dir.path() / "roster.csv";
  write_file(csv, kGoodRoster);

  ToolRun dry = run_admin({"--data-dir", data.string(), "import-roster", csv.string(), "--dry-run"});
  EXPECT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_TRUE(contains(dry.output, "All 3 rows")) << dry.output;

  ToolRun r = run_admin({"--data-dir", data.string(), "import-roster", csv.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "Hashed 3 of 3 passwords")) << r.output;
  EXPECT_TRUE(contains(r.output, "Imported 3 users")) << r.output;
  EXPECT_TRUE(contains(r.output, "sam.k\t")) << "generated passwords are printed: " << r.output;
  EXPECT_FALSE(contains(r.output, "dr.lee\t")) << "given passwords are not: " << r.output;

  ToolRun list = run_admin({"--data-dir", data.string(), "list-users"});
  ASSERT_EQ(list.exit_code, 0) << list.output;
  for (const char* s : {"dr.lee", "Lee, Ana", "mentor", "Cardiology", "Europe/Berlin", "sam.k", "PGY-1",
                        "pat", "program_director", "3 users."}) {
    EXPECT_TRUE(contains(list.output, s)) << s << " in\n" << list.output;
  }

  // Importing the same file again: every row is taken, nothing changes.
  ToolRun again = run_admin({"--data-dir", data.string(), "import-roster", csv.string(), "--dry-run"});
  EXPECT_EQ(again.exit_code, 1) << again.output;
  EXPECT_TRUE(contains(again.output, "line 2: A user named dr.lee already exists.")) << again.output;
}

TEST(AdminCli, ResetPasswordFromStdinThenLoginWorks) {
  TempDir dir;
  const auto data = dir.path() / "data";
  ToolRun add = run_admin({"--data-dir", data.string(), "add-user", "--username", "dr.lee", "--display-name",
                           "Dr. Ana Lee", "--role", "mentor", "--time-zone", "Europe/Berlin"},
                          "first password 1\n");
  ASSERT_EQ(add.exit_code, 0) << add.output;
  EXPECT_TRUE(contains(add.output, "Created user dr.lee")) << add.output;

  ToolRun dup = run_admin({"--data-dir", data.string(), "add-user", "--username", "DR.LEE", "--display-name",
                           "X", "--role", "mentee", "--password", "another password"});
  EXPECT_EQ(dup.exit_code, 1) << dup.output;
  EXPECT_TRUE(contains(dup.output, "A user named DR.LEE already exists.")) << dup.output;

  ToolRun reset = run_admin({"--data-dir", data.string(), "reset-password", "--username", "Dr.Lee"},
                            "second password 2\r\n");
  ASSERT_EQ(reset.exit_code, 0) << reset.output;

  ToolRun nobody =
      run_admin({"--data-dir", data.string(), "reset-password", "--username", "nobody"}, "whatever pw 1\n");
  EXPECT_EQ(nobody.exit_code, 1) << nobody.output;
  EXPECT_TRUE(contains(nobody.output, "No user named nobody.")) << nobody.output;

  ToolRun short_pw = run_admin(
      {"--data-dir", data.string(), "reset-password", "--username", "dr.lee", "--password", "short"});
  EXPECT_EQ(short_pw.exit_code, 1) << short_pw.output;

  // The tool has exited; the store is ours now.
  storage::StoreOptions so;
  so.path = data.string();
  auto store = storage::Store::open(so);
  ASSERT_TRUE(store) << store.status().to_string();
  ManualClock clock;
  ManualMonotonicClock monotonic;
  storage::Committer committer(**store, clock);
  InlineExecutor blocking;
  {
    Accounts accounts(**store, committer, clock, monotonic, blocking, testing::fast_options());
    auto login = [&](const std::string& password) {
      v1::Login req;
      req.set_username("dr.lee");
      req.set_password(password);
      testing::Waiter<Result<LoginOutcome>> w;
      accounts.login(req, LoginSource{.address = "192.0.2.1"}, w.callback());
      return w.wait().value_or(Result<LoginOutcome>(testing::timed_out()));
    };
    auto with_new = login("second password 2");
    EXPECT_TRUE(with_new) << with_new.status().to_string();
    EXPECT_EQ(login("first password 1").status().code(), v1::ERROR_CODE_UNAUTHENTICATED);
  }
  committer.stop();
}

TEST(AdminCli, RevokeTokensEndsSessionsCreatedEarlier) {
  TempDir dir;
  const auto data = dir.path() / "data";
  ToolRun add = run_admin({"--data-dir", data.string(), "add-user", "--username", "sam", "--display-name",
                           "Sam", "--role", "mentee", "--password", "sam's password"});
  ASSERT_EQ(add.exit_code, 0) << add.output;

  std::string token;
  {
    storage::StoreOptions so;
    so.path = data.string();
    auto store = storage::Store::open(so);
    ASSERT_TRUE(store) << store.status().to_string();
    SystemClock clock;
    ManualMonotonicClock monotonic;
    storage::Committer committer(**store, clock);
    InlineExecutor blocking;
    Accounts accounts(**store, committer, clock, monotonic, blocking, testing::fast_options());
    v1::Login req;
    req.set_username("sam");
    req.set_password("sam's password");
    testing::Waiter<Result<LoginOutcome>> w;
    accounts.login(req, LoginSource{}, w.callback());
    auto out = w.wait().value_or(Result<LoginOutcome>(testing::timed_out()));
    ASSERT_TRUE(out) << out.status().to_string();
    token = out->token;

    // While we hold the store, the tool cannot open it and says what to do.
    ToolRun locked = run_admin({"--data-dir", data.string(), "revoke-tokens", "--username", "sam"});
    EXPECT_EQ(locked.exit_code, 1) << locked.output;
    EXPECT_TRUE(contains(locked.output,
                         "Stop preceptor-server first, or revoke tokens through the server with an "
                         "admin account (RevokeTokens request)."))
        << locked.output;
    committer.stop();
  }

  ToolRun revoke = run_admin({"--data-dir", data.string(), "revoke-tokens", "--username", "sam"});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.output;
  EXPECT_TRUE(contains(revoke.output, "Ended 1 session of sam.")) << revoke.output;

  storage::StoreOptions so;
  so.path = data.string();
  auto store = storage::Store::open(so);
  ASSERT_TRUE(store) << store.status().to_string();
  SystemClock clock;
  ManualMonotonicClock monotonic;
  storage::Committer committer(**store, clock);
  InlineExecutor blocking;
  {
    Accounts accounts(**store, committer, clock, monotonic, blocking, testing::fast_options());
    EXPECT_EQ(accounts.authenticate(token).status().code(), v1::ERROR_CODE_UNAUTHENTICATED);
  }
  committer.stop();
}

TEST(AdminCli, CommandsOnAMissingDataFolderSaySo) {
  TempDir dir;
  ToolRun r = run_admin({"--data-dir", (dir.path() / "nope").string(), "list-users"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "There is no data folder at")) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "nope"));
}

}  // namespace
}  // namespace preceptor::services
