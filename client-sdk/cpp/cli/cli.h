#pragma once

// preceptor-cli's shared plumbing: what every command uses to parse its
// options, reach the server and print. Each command is a function
// `int cmd_x(const Global&, const std::vector<std::string>& args)` that
// returns an exit code or throws UsageError (exit 2) or Failed (exit 1).

#include <boost/program_options.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "preceptor/client/client.h"

namespace date {
class time_zone;
}

namespace preceptor::cli {

namespace po = boost::program_options;
using client::Client;
using client::State;
using client::StateChange;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;  // the server refused, or could not be reached
constexpr int kExitUsage = 2;   // the command line itself is wrong

// The command line is wrong: print the sentence and the usage hint, exit 2.
struct UsageError {
  std::string message;
};

// The server refused, or could not be reached: print the sentence, exit 1.
struct Failed {
  std::string message;
};

struct Global {
  std::string server;
  std::string token_file;
  std::chrono::seconds timeout{15};
};

// ---- formatting ----

std::string format_time(int64_t ms);  // "2026-12-01 14:30Z", "-" for 0
const char* role_name(v1::Role r);
const char* purpose_name(v1::Purpose p);
std::optional<v1::Purpose> parse_purpose(std::string s);
const char* state_of(v1::MentorshipState s);
std::string describe(const v1::User& u);  // "username (Display Name)"

// ---- the token file ----

std::string default_token_file();
// The saved token, or throws Failed saying how to sign in.
std::string read_token(const std::string& path);
void save_token(const std::string& path, const std::string& token);

// ---- talking to the server ----

// One Client and what it reported, for a command that waits on it.
class Session {
 public:
  using EventFn = std::function<void(const v1::Event&)>;
  using StateFn = std::function<void(const StateChange&)>;

  // Connects; with a token (read from the token file) also signs in. For
  // tail: `sync_events` and handlers, which run on the client's thread.
  Session(const Global& g, bool with_token, bool sync_events = false, EventFn on_event = nullptr,
          StateFn on_state = nullptr)
      : global_(g) {
    preceptor::client::Options o;
    o.url = g.server;
    if (with_token) o.token = read_token(g.token_file);
    o.sync_events = sync_events;
    client_ = std::make_unique<Client>(o);
    if (on_event) client_->on_event(std::move(on_event));
    client_->on_state([this, on_state = std::move(on_state)](const StateChange& s) {
      {
        std::lock_guard lock(mu_);
        last_ = s;
      }
      cv_.notify_all();
      if (on_state) on_state(s);
    });
    Status st = client_->start();
    if (!st) throw UsageError{st.message()};
    // One-shot commands give up at the first failure instead of retrying.
    const State want = with_token ? State::kAuthenticated : State::kConnected;
    std::unique_lock lock(mu_);
    const bool settled = cv_.wait_for(lock, g.timeout, [&] {
      return last_ && (last_->state == want || last_->state == State::kAuthenticated ||
                       last_->state == State::kDisconnected);
    });
    if (!settled)
      throw Failed{"The server at " + g.server + " did not answer within " +
                   std::to_string(g.timeout.count()) + " s."};
    if (last_->state == State::kDisconnected) {
      std::string why = last_->reason;
      if (why.find("sign in again") != std::string::npos) why += " (preceptor-cli login --username NAME)";
      throw Failed{why};
    }
  }

  Client& client() { return *client_; }
  Client::Timeout timeout() const { return global_.timeout; }

  // The value, or throws Failed with the server's sentence.
  template <class T>
  T must(Result<T> r) {
    if (!r) throw Failed{r.status().message()};
    return std::move(r).value();
  }

 private:
  Global global_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<StateChange> last_;
  std::unique_ptr<Client> client_;
};

// What to do after a refusal with `st`'s code, as a sentence ("Sign in
// again with ..."); empty when the server's sentence says it all.
std::string next_step(const Status& st);
// The value, or throws Failed with the server's sentence followed by `next`
// (when empty: next_step() of the refusal).
template <class T>
T must(Result<T> r, const std::string& next = {}) {
  if (!r) {
    std::string message = r.status().message();
    const std::string then = next.empty() ? next_step(r.status()) : next;
    if (!r.status().field().empty() && message.find(r.status().field()) == std::string::npos) {
      message += " (" + r.status().field() + ")";
    }
    throw Failed{then.empty() ? message : message + " " + then};
  }
  return std::move(r).value();
}

// Usernames by user id, from the mentorships the user can see.
std::map<uint64_t, std::string> known_names(Session& s);
std::string name_of(const std::map<uint64_t, std::string>& names, uint64_t id);

// ---- command-line plumbing ----

po::variables_map parse_command(const std::string& name, const po::options_description& options,
                                const po::positional_options_description& positional,
                                const std::vector<std::string>& args);
// Prints the command's usage, options and example(s) when --help was given.
bool help_requested(const po::variables_map& vm, const std::string& name, const char* synopsis,
                    const char* example, const po::options_description& options);
// A positive number, or throws UsageError naming `what`.
uint64_t parse_id(const std::string& what, const std::string& text);

// ---- times ----

// The zone a local time on the command line is read in: --time-zone, else
// $TZ, else UTC.
std::string default_zone();
const date::time_zone* zone_named(const std::string& name);
// "YYYY-MM-DD HH:MM" (or with a 'T') in `zone`, or ending in 'Z' for UTC,
// as UTC milliseconds.
int64_t parse_when(const std::string& what, const std::string& text, const std::string& zone);
std::string local_time(int64_t ms, const std::string& zone);  // "Tue 2026-12-01 15:30" in `zone`
std::string utc_time(int64_t ms);                             // "2026-12-01T14:30Z"
int64_t now_ms();

// ---- the commands ----

using Command = int (*)(const Global&, const std::vector<std::string>&);
int cmd_login(const Global& g, const std::vector<std::string>& args);
int cmd_logout(const Global& g, const std::vector<std::string>& args);
int cmd_whoami(const Global& g, const std::vector<std::string>& args);
int cmd_mentorships(const Global& g, const std::vector<std::string>& args);
int cmd_mentors(const Global& g, const std::vector<std::string>& args);
int cmd_request(const Global& g, const std::vector<std::string>& args);
int cmd_accept(const Global& g, const std::vector<std::string>& args);
int cmd_decline(const Global& g, const std::vector<std::string>& args);
int cmd_send(const Global& g, const std::vector<std::string>& args);
int cmd_history(const Global& g, const std::vector<std::string>& args);
int cmd_tail(const Global& g, const std::vector<std::string>& args);
int cmd_conversations(const Global& g, const std::vector<std::string>& args);
int cmd_meetings(const Global& g, const std::vector<std::string>& args);
int cmd_propose(const Global& g, const std::vector<std::string>& args);
int cmd_slots(const Global& g, const std::vector<std::string>& args);
int cmd_book(const Global& g, const std::vector<std::string>& args);
int cmd_queue(const Global& g, const std::vector<std::string>& args);
// work_commands.cpp
int cmd_goals(const Global& g, const std::vector<std::string>& args);
int cmd_assign(const Global& g, const std::vector<std::string>& args);
int cmd_review(const Global& g, const std::vector<std::string>& args);
// document_commands.cpp
int cmd_upload(const Global& g, const std::vector<std::string>& args);
int cmd_submit(const Global& g, const std::vector<std::string>& args);
int cmd_download(const Global& g, const std::vector<std::string>& args);
int cmd_export(const Global& g, const std::vector<std::string>& args);

}  // namespace preceptor::cli
