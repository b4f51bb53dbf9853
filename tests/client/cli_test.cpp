// preceptor-cli, run as a child process against a real in-process server.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "tests/client/client_test_util.h"

namespace preceptor::testing {
namespace {

// preceptor-cli as a child process, its stdout and stderr in one pipe.
class Cli {
 public:
  explicit Cli(std::vector<std::string> args) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    args.insert(args.begin(), PRECEPTOR_CLI_PATH);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::dup2(fds[1], STDERR_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      const int devnull = ::open("/dev/null", O_RDONLY);
      if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    fd_ = fds[0];
  }
  ~Cli() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status;
      ::waitpid(pid_, &status, 0);
    }
    if (fd_ >= 0) ::close(fd_);
  }

  // Reads output until `needle` appears; false after `timeout`.
  bool wait_output(const std::string& needle, std::chrono::milliseconds timeout = 15s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (output_.find(needle) == std::string::npos) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !read_some(static_cast<int>(left.count()))) return false;
    }
    return true;
  }

  // Waits for exit (reading all output); the exit code, or -1 on timeout.
  int wait_exit(std::chrono::milliseconds timeout = 30s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!read_some(50)) {
        // EOF: the child closed its output; reap it.
        int status = 0;
        while (std::chrono::steady_clock::now() < deadline) {
          if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
          }
          ::usleep(5'000);  // polling a child's exit with a deadline
        }
        return -1;
      }
    }
    return -1;
  }

  void signal(int signo) { ::kill(pid_, signo); }
  const std::string& output() const { return output_; }

 private:
  // False at EOF (or error); true when data came or the wait timed out.
  bool read_some(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    const int n = ::poll(&p, 1, timeout_ms);
    if (n == 0) return true;
    if (n < 0) return false;
    char buf[4096];
    const ssize_t got = ::read(fd_, buf, sizeof buf);
    if (got <= 0) return false;
    output_.append(buf, static_cast<size_t>(got));
    return true;
  }

  pid_t pid_ = 0;
  int fd_ = -1;
  std::string output_;
};

// Today's date in UTC, "YYYY-MM-DD".
std::string utc_date_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

class CliTest : public ClientFixture {
 protected:
  std::string server() const { return "ws://127.0.0.1:" + std::to_string(server_->port()); }
  std::string token_file(const std::string& who) const { return (dir_.path() / (who + ".token")).string(); }

  // Runs one command as `who` (whose token file it uses); returns exit code and output.
  std::pair<int, std::string> run(const std::string& who, std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", server(), "--token-file", token_file(who)});
    Cli cli(std::move(args));
    const int code = cli.wait_exit();
    return {code, cli.output()};
  }

  void login(const std::string& username) {
    auto [code, out] =
        run(username, {"login", "--username", username, "--password", TestServer::password_of(username)});
    ASSERT_EQ(code, 0) << out;
  }

  // The number right after the first `prefix` in `text`; 0 when there is none.
  static uint64_t number_after(const std::string& text, const std::string& prefix) {
    const size_t at = text.find(prefix);
    if (at == std::string::npos) return 0;
    uint64_t n = 0;
    for (size_t i = at + prefix.size(); i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]));
         ++i) {
      n = n * 10 + static_cast<uint64_t>(text[i] - '0');
    }
    return n;
  }
};

TEST_F(CliTest, HelpExplainsEveryCommandWithAnExample) {
  Cli cli({"--help"});
  ASSERT_EQ(cli.wait_exit(), 0) << cli.output();
  for (const char* command :
       {"login", "logout",  "whoami", "mentorships",   "mentors",  "request", "accept",   "decline",
        "send",  "history", "tail",   "conversations", "meetings", "propose", "slots",    "book",
        "queue", "goals",   "assign", "upload",        "submit",   "review",  "download", "export"}) {
    EXPECT_NE(cli.output().find(std::string("preceptor-cli ") + command), std::string::npos) << command;
  }
  Cli one({"send", "--help"});
  ASSERT_EQ(one.wait_exit(), 0) << one.output();
  EXPECT_NE(one.output().find("--conversation"), std::string::npos) << one.output();
  Cli goals({"goals", "--help"});
  ASSERT_EQ(goals.wait_exit(), 0) << goals.output();
  for (const char* part : {"reassess", "--keep-rest", "refine 13 target=", "--reason"}) {
    EXPECT_NE(goals.output().find(part), std::string::npos) << part << "\n" << goals.output();
  }
  Cli review({"review", "--help"});
  ASSERT_EQ(review.wait_exit(), 0) << review.output();
  EXPECT_NE(review.output().find("--quote"), std::string::npos) << review.output();
}

TEST_F(CliTest, LoginSavesAPrivateTokenThatWhoamiUses) {
  server_->add_user("wei.chen");
  auto [code, out] =
      run("wei", {"login", "--username", "wei.chen", "--password", TestServer::password_of("wei.chen")});
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("Signed in as wei.chen"), std::string::npos) << out;
  std::ifstream in(token_file("wei"));
  std::string token;
  in >> token;
  EXPECT_EQ(token.size(), 64u);
  struct stat st {};
  ASSERT_EQ(::stat(token_file("wei").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto [code2, out2] = run("wei", {"whoami"});
  ASSERT_EQ(code2, 0) << out2;
  EXPECT_NE(out2.find("wei.chen"), std::string::npos) << out2;
  EXPECT_NE(out2.find("mentee"), std::string::npos) << out2;
}

TEST_F(CliTest, WrongPasswordPrintsTheServersSentenceAndFails) {
  server_->add_user("lucia.garcia");
  auto [code, out] = run("lucia", {"login", "--username", "lucia.garcia", "--password", "not-her-password"});
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("Wrong username or password."), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(token_file("lucia")));
}

TEST_F(CliTest, WithoutATokenItSaysHowToSignIn) {
  auto [code, out] = run("nobody", {"whoami"});
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("preceptor-cli login"), std::string::npos) << out;
}

TEST_F(CliTest, UnreachableServerFailsWithTheReason) {
  Cli cli({"--server", "ws://127.0.0.1:1", "--token-file", token_file("x"), "login", "--username", "a.b",
           "--password", "whatever-password"});
  EXPECT_EQ(cli.wait_exit(), 1) << cli.output();
  EXPECT_NE(cli.output().find("Could not connect"), std::string::npos) << cli.output();
}

TEST_F(CliTest, UsageMistakesExitTwo) {
  auto [code, out] = run("x", {"frobnicate"});
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("Unknown command"), std::string::npos) << out;
  auto [code2, out2] = run("x", {"accept", "twelve"});
  EXPECT_EQ(code2, 2) << out2;
  auto [code3, out3] = run("x", {"request", "--mentor", "3", "--purpose", "fun"});
  EXPECT_EQ(code3, 2) << out3;
  EXPECT_NE(out3.find("Unknown purpose"), std::string::npos) << out3;
}

TEST_F(CliTest, MenteeAsksMentorAcceptsAndTheyChat) {
  const v1::User mentor = server_->add_user("mentor.erik", v1::ROLE_MENTOR);
  server_->add_user("mentee.wei");
  ASSERT_NO_FATAL_FAILURE(login("mentor.erik"));
  ASSERT_NO_FATAL_FAILURE(login("mentee.wei"));

  auto [c1, mentors] = run("mentee.wei", {"mentors", "--purpose", "career"});
  ASSERT_EQ(c1, 0) << mentors;
  EXPECT_NE(mentors.find("user " + std::to_string(mentor.id()) + "  mentor.erik"), std::string::npos)
      << mentors;

  auto [c2, requested] = run("mentee.wei", {"request", "--mentor", std::to_string(mentor.id()), "--purpose",
                                            "career", "--note", "Fellowship applications"});
  ASSERT_EQ(c2, 0) << requested;
  const uint64_t mentorship = number_after(requested, "Requested mentorship ");
  ASSERT_NE(mentorship, 0u) << requested;

  auto [c3, accepted] = run("mentor.erik", {"accept", std::to_string(mentorship)});
  ASSERT_EQ(c3, 0) << accepted;
  const uint64_t conv = number_after(accepted, "conversation ");
  ASSERT_NE(conv, 0u) << accepted;

  auto [c4, sent] =
      run("mentee.wei", {"send", "--conversation", std::to_string(conv), "I", "uploaded", "my", "CV."});
  ASSERT_EQ(c4, 0) << sent;
  EXPECT_NE(sent.find("Sent #1"), std::string::npos) << sent;

  auto [c5, history] = run("mentor.erik", {"history", "--conversation", std::to_string(conv)});
  ASSERT_EQ(c5, 0) << history;
  EXPECT_NE(history.find("mentee.wei: I uploaded my CV."), std::string::npos) << history;

  auto [c6, convs] = run("mentor.erik", {"conversations"});
  ASSERT_EQ(c6, 0) << convs;
  EXPECT_NE(convs.find("conversation " + std::to_string(conv) + "  with mentee.wei"), std::string::npos)
      << convs;

  auto [c7, list] = run("mentee.wei", {"mentorships"});
  ASSERT_EQ(c7, 0) << list;
  EXPECT_NE(list.find("active"), std::string::npos) << list;

  // tail prints what arrives after it started, and stops cleanly on Ctrl-C.
  Cli tail({"--server", server(), "--token-file", token_file("mentor.erik"), "tail", "--conversation",
            std::to_string(conv)});
  ASSERT_TRUE(tail.wait_output("Ctrl-C to stop")) << tail.output();
  auto [c8, sent2] =
      run("mentee.wei", {"send", "--conversation", std::to_string(conv), "Are you free Thursday?"});
  ASSERT_EQ(c8, 0) << sent2;
  ASSERT_TRUE(tail.wait_output("mentee.wei: Are you free Thursday?")) << tail.output();
  EXPECT_EQ(tail.output().find("I uploaded my CV."), std::string::npos) << "tail replayed old messages:\n"
                                                                        << tail.output();
  tail.signal(SIGINT);
  EXPECT_EQ(tail.wait_exit(), 0) << tail.output();

  // Declining: a second request, refused with a reason.
  const v1::User other = server_->add_user("mentor.ines", v1::ROLE_MENTOR);
  ASSERT_NO_FATAL_FAILURE(login("mentor.ines"));
  auto [c9, requested2] =
      run("mentee.wei", {"request", "--mentor", std::to_string(other.id()), "--purpose", "research"});
  ASSERT_EQ(c9, 0) << requested2;
  const uint64_t second = number_after(requested2, "Requested mentorship ");
  auto [c10, declined] =
      run("mentor.ines", {"decline", std::to_string(second), "--reason", "Full this term"});
  ASSERT_EQ(c10, 0) << declined;
  EXPECT_NE(declined.find("Declined mentorship " + std::to_string(second)), std::string::npos) << declined;

  auto [c11, out] = run("mentee.wei", {"logout"});
  ASSERT_EQ(c11, 0) << out;
  auto [c12, after] = run("mentee.wei", {"whoami"});
  EXPECT_EQ(c12, 1) << after;
}

// A mentee finds a mentor's free slots, books one, and both see the meeting;
// then the drop-in line while the office hours are open.
TEST_F(CliTest, SlotsBookMeetingsAndTheQueue) {
  const v1::User mentor = server_->add_user("mentor.lind", v1::ROLE_MENTOR);
  server_->add_user("wei.chen");
  {
    auto c = signed_in("mentor.lind");
    v1::SetOfficeHours set;
    auto* oh = set.mutable_office_hours();
    oh->set_enabled(true);
    oh->set_time_zone("Europe/Stockholm");
    for (int day = v1::WEEKDAY_MONDAY; day <= v1::WEEKDAY_SUNDAY; ++day) {
      auto* rule = oh->add_rules();
      rule->set_day(static_cast<v1::Weekday>(day));
      rule->mutable_window()->set_start_minute(0);
      rule->mutable_window()->set_end_minute(1440);
    }
    oh->set_slot_minutes(30);
    oh->set_horizon_days(14);
    oh->set_seats(2);
    oh->set_audience(v1::AUDIENCE_PROGRAM);
    auto r = c->set_office_hours_sync(set);
    ASSERT_TRUE(r) << r.status().to_string();
  }
  login("wei.chen");
  login("mentor.lind");
  const std::string mentor_id = std::to_string(mentor.id());

  auto [code, out] = run("wei.chen", {"slots", "--mentor", mentor_id, "--days", "2"});
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("Europe/Stockholm"), std::string::npos) << out;
  EXPECT_NE(out.find("2 of 2 seats left"), std::string::npos) << out;
  // The second slot: the first may start between listing and booking.
  const size_t first = out.find("START ");
  ASSERT_NE(first, std::string::npos) << out;
  const size_t at = out.find("START ", first + 1);
  ASSERT_NE(at, std::string::npos) << out;
  const std::string start = out.substr(at + 6, out.find(' ', at + 6) - (at + 6));
  ASSERT_EQ(start.size(), 17u) << start;  // 2026-12-01T14:30Z

  auto [code2, out2] =
      run("wei.chen", {"book", "--mentor", mentor_id, "--start", start, "--agenda", "My CV"});
  ASSERT_EQ(code2, 0) << out2;
  const uint64_t meeting = number_after(out2, "Booked: meeting ");
  ASSERT_NE(meeting, 0u) << out2;
  auto [code3, out3] = run("wei.chen", {"book", "--mentor", mentor_id, "--start", start});
  EXPECT_EQ(code3, 1) << out3;  // the same slot twice: the server's sentence
  EXPECT_FALSE(out3.empty());

  for (const char* who : {"wei.chen", "mentor.lind"}) {
    auto [c, o] = run(who, {"meetings", "--days", "3"});
    ASSERT_EQ(c, 0) << o;
    EXPECT_NE(o.find("#" + std::to_string(meeting)), std::string::npos) << who << ": " << o;
    EXPECT_NE(o.find("accepted"), std::string::npos) << o;
    EXPECT_NE(o.find("office hours"), std::string::npos) << o;
    EXPECT_NE(o.find("My CV"), std::string::npos) << o;
  }
  auto [code4, out4] = run("wei.chen", {"meetings", "cancel", std::to_string(meeting), "--reason", "Clash"});
  ASSERT_EQ(code4, 0) << out4;
  EXPECT_NE(out4.find("cancelled"), std::string::npos) << out4;

  // The office hours are open all day: the line.
  auto [code5, out5] = run("wei.chen", {"queue", "join", "--mentor", mentor_id});
  ASSERT_EQ(code5, 0) << out5;
  EXPECT_NE(out5.find("place 1"), std::string::npos) << out5;
  auto [code6, out6] = run("mentor.lind", {"queue"});
  ASSERT_EQ(code6, 0) << out6;
  EXPECT_NE(out6.find("open now"), std::string::npos) << out6;
  EXPECT_NE(out6.find("1. wei.chen"), std::string::npos) << out6;
  auto [code7, out7] = run("mentor.lind", {"queue", "next"});
  ASSERT_EQ(code7, 0) << out7;
  EXPECT_NE(out7.find("Called wei.chen"), std::string::npos) << out7;
  auto [code8, out8] = run("mentor.lind", {"queue", "next"});
  ASSERT_EQ(code8, 0) << out8;
  EXPECT_NE(out8.find("Nobody is waiting"), std::string::npos) << out8;
}

TEST_F(CliTest, ProposeReadsLocalTimesAndSaysWhatIsWrong) {
  server_->add_user("wei.chen");
  login("wei.chen");
  auto [code, out] = run("wei.chen", {"propose", "--mentorship", "99", "--start", "2030-01-01 10:00",
                                      "--time-zone", "Mars/Olympus"});
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("Unknown time zone 'Mars/Olympus'"), std::string::npos) << out;
  auto [code2, out2] = run("wei.chen", {"propose", "--mentorship", "99", "--start", "next tuesday"});
  EXPECT_EQ(code2, 2) << out2;
  EXPECT_NE(out2.find("must look like"), std::string::npos) << out2;
  // 02:30 on the morning the clocks spring forward does not exist in Stockholm.
  auto [code3, out3] = run("wei.chen", {"propose", "--mentorship", "99", "--start", "2030-03-31 02:30",
                                        "--time-zone", "Europe/Stockholm"});
  EXPECT_EQ(code3, 2) << out3;
  EXPECT_NE(out3.find("does not exist"), std::string::npos) << out3;
  auto [code4, out4] = run("wei.chen", {"propose", "--mentorship", "99", "--start", "2030-01-01 10:00",
                                        "--time-zone", "Europe/Stockholm"});
  EXPECT_EQ(code4, 1) << out4;
  EXPECT_NE(out4.find("No mentorship 99 among yours."), std::string::npos) << out4;
}

// Two members of an active mentorship, both signed in with the CLI.
class CliWorkTest : public CliTest {
 protected:
  void SetUp() override {
    const v1::User mentor = server_->add_user("mentor.lind", v1::ROLE_MENTOR);
    server_->add_user("wei.chen");
    auto mentee = signed_in("wei.chen");
    auto m = signed_in("mentor.lind");
    v1::RequestMentorship req;
    req.set_mentor_id(mentor.id());
    req.set_purpose(v1::PURPOSE_RESEARCH);
    auto requested = mentee->request_mentorship_sync(req);
    ASSERT_TRUE(requested) << requested.status().to_string();
    v1::AcceptMentorship accept;
    accept.set_mentorship_id(requested->mentorship().id());
    ASSERT_TRUE(m->accept_mentorship_sync(accept));
    mentorship_ = accept.mentorship_id();
    ASSERT_NO_FATAL_FAILURE(login("wei.chen"));
    ASSERT_NO_FATAL_FAILURE(login("mentor.lind"));
    ms_ = std::to_string(mentorship_);
    next_year_ = std::to_string(std::stoi(utc_date_now().substr(0, 4)) + 1);
  }

  uint64_t mentorship_ = 0;
  std::string ms_;         // the mentorship id as text
  std::string next_year_;  // for dates to come
};

// Goals through the CLI binary: added, noted, edited (what is left out stays),
// a reassessment from flags, the list and the history.
TEST_F(CliWorkTest, GoalsAndAReassessment) {
  const std::string ms = ms_;
  const std::string next_year = next_year_;
  // Goals.
  auto [c1, added] = run("wei.chen", {"goals", "add", "--mentorship", ms, "--what", "Submit the abstract",
                                      "--target", next_year + "-03-01", "--purpose", "research"});
  ASSERT_EQ(c1, 0) << added;
  const uint64_t goal = number_after(added, "goal ");
  ASSERT_NE(goal, 0u) << added;
  const std::string gs = std::to_string(goal);
  auto [c2, noted] = run("mentor.lind", {"goals", "note", gs, "First", "draft", "sent"});
  ASSERT_EQ(c2, 0) << noted;
  auto [c3, edited] = run("wei.chen", {"goals", "edit", gs, "--measure", "Accepted by the committee"});
  ASSERT_EQ(c3, 0) << edited;
  EXPECT_NE(edited.find("Submit the abstract"), std::string::npos) << "edit kept the text: " << edited;
  EXPECT_NE(edited.find("measured by: Accepted by the committee"), std::string::npos) << edited;
  auto [c4, second] =
      run("wei.chen", {"goals", "add", "--mentorship", ms, "--what", "Learn survival analysis"});
  ASSERT_EQ(c4, 0) << second;
  const uint64_t goal2 = number_after(second, "goal ");
  auto [c5, nodrop] = run("wei.chen", {"goals", "drop", std::to_string(goal2)});
  EXPECT_EQ(c5, 2) << nodrop;
  EXPECT_NE(nodrop.find("--reason"), std::string::npos) << nodrop;
  auto [c6, reassessed] = run(
      "mentor.lind",
      {"goals", "reassess", "--mentorship", ms, "--refine", gs + " target=" + next_year + "-05-01", "--drop",
       std::to_string(goal2) + " The course is not offered", "--new",
       "what=Present at the spring meeting; target=" + next_year + "-04-15", "--summary", "Spring review"});
  ASSERT_EQ(c6, 0) << reassessed;
  EXPECT_NE(reassessed.find("Recorded reassessment"), std::string::npos) << reassessed;
  // A second look, from a file; --keep-rest keeps the open goals it does not name.
  const auto plan = dir_.path() / "reassess.txt";
  std::ofstream(plan)
      << "# after the rotation\nsummary Second look\nnew what=Write the discussion; purpose=research\n";
  auto [c6b, from_file] =
      run("wei.chen", {"goals", "reassess", "--mentorship", ms, "--file", plan.string(), "--keep-rest"});
  ASSERT_EQ(c6b, 0) << from_file;
  EXPECT_NE(from_file.find(", 1 new goal)."), std::string::npos) << from_file;
  std::ofstream(plan) << "keep twelve\n";
  auto [c6c, bad_file] = run("wei.chen", {"goals", "reassess", "--mentorship", ms, "--file", plan.string()});
  EXPECT_EQ(c6c, 2) << bad_file;
  EXPECT_NE(bad_file.find("reassess.txt line 1"), std::string::npos) << bad_file;
  auto [c7, list] = run("wei.chen", {"goals", "--mentorship", ms, "--all"});
  ASSERT_EQ(c7, 0) << list;
  EXPECT_NE(list.find("(target " + next_year + "-05-01)"), std::string::npos) << list;
  EXPECT_NE(list.find("[dropped]  Learn survival analysis"), std::string::npos) << list;
  EXPECT_NE(list.find("Present at the spring meeting"), std::string::npos) << list;
  EXPECT_NE(list.find("Write the discussion"), std::string::npos) << list;
  EXPECT_EQ(list.find("Last reassessment: never"), std::string::npos) << list;
  auto [c8, history] = run("wei.chen", {"goals", "history", gs});
  ASSERT_EQ(c8, 0) << history;
  for (const char* seen : {"added", "progress note: First draft sent", "edited", "reassessed"}) {
    EXPECT_NE(history.find(seen), std::string::npos) << seen << "\n" << history;
  }
}

// An assignment through the CLI binary: created with a due time in a zone,
// acknowledged, a file submitted with a progress bar, reviewed with anchored
// comments, replied to and resolved, downloaded by the other member.
TEST_F(CliWorkTest, AssignmentSubmitReviewAndDownload) {
  const std::string ms = ms_;
  const std::string next_year = next_year_;
  // An assignment, acknowledged, submitted with a file, reviewed.
  auto [c9, created] =
      run("mentor.lind", {"assign", "create", "--mentorship", ms, "--title", "Revise your CV", "--kind", "cv",
                          "--instructions", "Two pages at most", "--due", next_year + "-01-15 17:00",
                          "--time-zone", "Europe/Stockholm"});
  ASSERT_EQ(c9, 0) << created;
  const uint64_t assignment = number_after(created, "assignment ");
  ASSERT_NE(assignment, 0u) << created;
  const std::string as = std::to_string(assignment);
  EXPECT_NE(created.find("17:00 Europe/Stockholm"), std::string::npos) << created;
  auto [c10, acked] = run("wei.chen", {"assign", "acknowledge", as});
  ASSERT_EQ(c10, 0) << acked;
  EXPECT_NE(acked.find("[acknowledged]"), std::string::npos) << acked;

  std::string cv = "# Wei Chen\n\n";
  while (cv.size() < 300 * 1024) cv += "- Research fellow, cardiology, in my final year of training.\n";
  const auto cv_path = dir_.path() / "cv.md";
  std::ofstream(cv_path, std::ios::binary) << cv;
  auto [c11, submitted] = run("wei.chen", {"submit", cv_path.string(), "--assignment", as, "--note",
                                           "Shortened the research section"});
  ASSERT_EQ(c11, 0) << submitted;
  EXPECT_NE(submitted.find("100%"), std::string::npos) << "a progress bar: " << submitted;
  EXPECT_NE(submitted.find("Submitted version 1"), std::string::npos) << submitted;
  const uint64_t document = number_after(submitted, "as document ");
  ASSERT_NE(document, 0u) << submitted;

  auto [c12, unanchored] =
      run("mentor.lind", {"review", as, "--verdict", "changes", "--comment", "Too long"});
  EXPECT_EQ(c12, 2) << unanchored;
  EXPECT_NE(unanchored.find("--page N or --quote"), std::string::npos) << unanchored;
  auto [c13, reviewed] =
      run("mentor.lind",
          {"review", as, "--verdict", "changes", "--summary", "Nearly there", "--comment", "Too long",
           "--page", "2", "--comment", "Which year exactly?", "--quote", "in my final year"});
  ASSERT_EQ(c13, 0) << reviewed;
  EXPECT_NE(reviewed.find("changes requested, 2 comments"), std::string::npos) << reviewed;
  const uint64_t review = number_after(reviewed, "Posted review ");
  ASSERT_NE(review, 0u) << reviewed;
  auto [c14, own] = run("wei.chen", {"review", as, "--verdict", "approve"});
  EXPECT_EQ(c14, 1) << "the author cannot review their own version: " << own;
  auto [c15, replied] = run("wei.chen", {"review", "reply", "--review", std::to_string(review),
                                         "--comment-id", "1", "Cut", "to", "one", "page"});
  ASSERT_EQ(c15, 0) << replied;
  auto [c16, resolved] =
      run("wei.chen", {"review", "resolve", "--review", std::to_string(review), "--comment-id", "1"});
  ASSERT_EQ(c16, 0) << resolved;
  auto [c17, shown] = run("mentor.lind", {"assign", "show", as});
  ASSERT_EQ(c17, 0) << shown;
  for (const char* seen : {"[changes requested]", "version 1", "Shortened the research section",
                           "comment 1 (version 1, page 2) [resolved]: Too long", "wei.chen: Cut to one page",
                           "comment 2 (version 1, \"in my final year\"): Which year exactly?"}) {
    EXPECT_NE(shown.find(seen), std::string::npos) << seen << "\n" << shown;
  }

  // The mentor downloads the version's file: the same bytes.
  const auto copy = dir_.path() / "copy.md";
  auto [c18, downloaded] = run("mentor.lind", {"download", std::to_string(document), "--out", copy.string()});
  ASSERT_EQ(c18, 0) << downloaded;
  std::ifstream in(copy, std::ios::binary);
  const std::string back((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(back, cv);

  // Someone else cannot.
  server_->add_user("mentee.other");
  ASSERT_NO_FATAL_FAILURE(login("mentee.other"));
  auto [c19, refused] =
      run("mentee.other", {"download", std::to_string(document), "--out", (dir_.path() / "x.md").string()});
  EXPECT_EQ(c19, 1) << refused;
  EXPECT_NE(refused.find("Only the two members"), std::string::npos) << refused;
}

// 'upload' stores a file in the mentorship with a progress bar and prints
// its id; 'submit --document' makes it an assignment's version later.
TEST_F(CliWorkTest, UploadThenSubmitTheStoredDocument) {
  std::string draft = "# Study protocol draft\n\n";
  while (draft.size() < 200 * 1024) draft += "Primary outcome: 30-day readmission after discharge.\n";
  const auto path = dir_.path() / "protocol.md";
  std::ofstream(path, std::ios::binary) << draft;
  auto [c1, uploaded] = run("wei.chen", {"upload", path.string(), "--mentorship", ms_});
  ASSERT_EQ(c1, 0) << uploaded;
  EXPECT_NE(uploaded.find("100%"), std::string::npos) << "a progress bar: " << uploaded;
  EXPECT_NE(uploaded.find("text/markdown"), std::string::npos) << uploaded;
  const uint64_t document = number_after(uploaded, "as document ");
  ASSERT_NE(document, 0u) << uploaded;
  EXPECT_NE(uploaded.find("preceptor-cli submit --document " + std::to_string(document)), std::string::npos)
      << uploaded;

  auto [c2, created] = run("wei.chen", {"assign", "create", "--mentorship", ms_, "--title",
                                        "My protocol draft", "--kind", "other"});
  ASSERT_EQ(c2, 0) << created;
  const std::string as = std::to_string(number_after(created, "assignment "));
  auto [c3, submitted] =
      run("wei.chen", {"submit", "--document", std::to_string(document), "--assignment", as});
  ASSERT_EQ(c3, 0) << submitted;
  EXPECT_NE(submitted.find("Submitted version 1"), std::string::npos) << submitted;

  auto [c4, nowhere] = run("wei.chen", {"upload", path.string(), "--mentorship", "999"});
  EXPECT_EQ(c4, 1) << nowhere;
  auto [c5, missing] = run("wei.chen", {"upload", (dir_.path() / "nope.pdf").string(), "--mentorship", ms_});
  EXPECT_EQ(c5, 2) << missing;
  EXPECT_NE(missing.find("There is no file"), std::string::npos) << missing;
}

TEST_F(CliWorkTest, SubmitOfARefusedTypeSaysWhatToDo) {
  // The mentee opens an assignment for their own work.
  auto [c1, created] =
      run("wei.chen", {"assign", "create", "--mentorship", ms_, "--title", "My CV, please look"});
  ASSERT_EQ(c1, 0) << created;
  EXPECT_NE(created.find("[acknowledged]"), std::string::npos) << created;
  const uint64_t assignment = number_after(created, "assignment ");
  const auto fake = dir_.path() / "cv.pdf";
  {
    std::ofstream out(fake, std::ios::binary);
    for (int i = 0; i < 70000; ++i) out.put(static_cast<char>((i * 7919) & 0xff));
  }
  auto [code, out] = run("wei.chen", {"submit", fake.string(), "--assignment", std::to_string(assignment)});
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("Save it as PDF, DOCX, ODT, plain text or Markdown"), std::string::npos) << out;
}

TEST_F(CliWorkTest, ExportSavesTheZipAndSaysWhyNotPlainly) {
  const auto zip = dir_.path() / "portfolio.zip";
  auto [code, out] = run("wei.chen", {"export", ms_, "--out", zip.string()});
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("100%"), std::string::npos) << "a progress bar: " << out;
  EXPECT_NE(out.find("Saved the portfolio of mentorship " + ms_), std::string::npos) << out;
  std::ifstream in(zip, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  EXPECT_EQ(std::string(magic, 4), std::string("PK\x03\x04", 4)) << "a zip file";
  // Someone else's mentorship, or none: NOT_FOUND said plainly either way, and no file.
  auto [code2, out2] = run("wei.chen", {"export", "999", "--out", (dir_.path() / "other.zip").string()});
  EXPECT_EQ(code2, 1) << out2;
  EXPECT_NE(out2.find("mentorship 999"), std::string::npos) << out2;
  EXPECT_NE(out2.find("Only its mentee and mentor can export it"), std::string::npos) << out2;
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "other.zip"));
}

}  // namespace
}  // namespace preceptor::testing
