// preceptor-cli: a terminal client of a Preceptor server, built on the C++
// SDK (preceptor::client::Client and Documents). Signs in once, keeps the
// token in a file, and runs one command per invocation (tail runs until
// Ctrl-C). This file holds the overview and picks the command; the commands
// live in *_commands.cpp, their shared plumbing in cli.h.

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "cli.h"

namespace preceptor::cli {
namespace {

const char* const kOverview = R"(preceptor-cli: use a Preceptor server from a terminal.

Usage: preceptor-cli [--server URL] [--token-file FILE] COMMAND [OPTIONS]

Sign in once with 'login'; the session token is saved in the token file and
every other command uses it (it ends after 7 idle days, or at 'logout').

Commands:
  login           Sign in and save the session token. The password comes from
                  --password or, when that is absent, from standard input
                  (asked for on a terminal, without echo).
                    preceptor-cli login --username mentee.chen --device "Wei's laptop"

  logout          End the saved session on every device using it, and delete
                  the token file.
                    preceptor-cli logout

  whoami          Show who the saved session belongs to.
                    preceptor-cli whoami

  mentorships     List your mentorships (program directors: all, with
                  engagement figures) with their ids and conversations.
                    preceptor-cli mentorships

  mentors         List mentors who accept requests, optionally filtered by
                  purpose and specialty.
                    preceptor-cli mentors --purpose research --specialty Cardiology

  request         Mentees: ask a mentor (by user id, from 'mentors') to mentor
                  you for a purpose, with an optional note.
                    preceptor-cli request --mentor 3 --purpose career --note "Fellowship applications"

  accept          Mentors: accept a requested mentorship; its conversation opens.
                    preceptor-cli accept 12

  decline         Mentors: decline a request, optionally with a reason the
                  mentee sees and a colleague (user id) to refer them to.
                    preceptor-cli decline 12 --reason "Full this term" --refer 5

  send            Send a message to a conversation (ids from 'conversations').
                    preceptor-cli send --conversation 7 "I uploaded the revised CV."

  history         Show the latest messages of a conversation, oldest first.
                    preceptor-cli history --conversation 7 --limit 20

  tail            Print new messages of a conversation as they arrive, until
                  Ctrl-C. Rides out disconnects: reconnects and catches up.
                    preceptor-cli tail --conversation 7

  conversations   List your conversations with unread counts.
                    preceptor-cli conversations

  meetings        List your meetings of the next 30 days (--days, --past), or
                  act on one: accept, decline, cancel (with --reason), held,
                  no-show.
                    preceptor-cli meetings
                    preceptor-cli meetings accept 4

  propose         Propose a meeting in a mentorship, at a local time in a time
                  zone; the other member accepts it.
                    preceptor-cli propose --mentorship 3 --start "2026-12-01 15:30" --time-zone Europe/Stockholm

  slots           A mentor's free office-hours slots, in the mentor's zone.
                    preceptor-cli slots --mentor 3 --days 7

  book            Mentees: book a slot (START as 'slots' prints it).
                    preceptor-cli book --mentor 3 --start 2026-12-01T14:30Z --agenda "Residency applications"

  queue           The drop-in line while a mentor's office hours are open:
                  mentees show, join or leave it; the mentor shows it, calls
                  the next one, or skips someone.
                    preceptor-cli queue join --mentor 3
                    preceptor-cli queue next

  goals           A mentorship's goals: list them, add one, edit, mark done,
                  drop (with --reason), reopen, add a progress note, show a
                  goal's history, or record a reassessment of every open goal.
                    preceptor-cli goals --mentorship 3
                    preceptor-cli goals add --mentorship 3 --what "Submit the abstract" --target 2027-03-01
                    preceptor-cli goals done 12
                    preceptor-cli goals reassess --mentorship 3 --keep 12 --drop 14="No longer needed" --summary "Spring review"

  assign          Assignments: hand one off (mentors) or open one for your own
                  work (mentees) with a title, instructions, a kind and a due
                  date in a time zone; list them; show one with its versions
                  and reviews; acknowledge it; withdraw it with a reason.
                    preceptor-cli assign create --mentorship 3 --title "Revise your CV" --kind cv --due "2026-12-15 17:00" --time-zone Europe/Stockholm
                    preceptor-cli assign list --mentorship 3
                    preceptor-cli assign show 8

  upload          Upload a file (PDF, DOCX, ODT, text or Markdown) to a
                  mentorship with a progress bar; prints its document id.
                  An upload cut off resumes by itself.
                    preceptor-cli upload protocol-draft.docx --mentorship 3

  submit          Mentees: upload a file (PDF, DOCX, ODT, text or Markdown) with
                  a progress bar, and submit it as the assignment's next
                  version with a note. An upload cut off resumes by itself.
                    preceptor-cli submit cv.pdf --assignment 8 --note "Shortened the research section"

  review          Review an assignment's latest version: a verdict
                  (approve, changes, comment), a summary and comments on a
                  page and/or a quoted passage; reply to a comment; resolve it.
                    preceptor-cli review 8 --verdict changes --summary "Close" --comment "Too long" --page 2
                    preceptor-cli review reply --review 5 --comment-id 1 "Shortened it"
                    preceptor-cli review resolve --review 5 --comment-id 1

  download        Save a document (an assignment version's file) by its id.
                    preceptor-cli download 21 --out cv-v2.pdf

  export          The mentee's portfolio of a mentorship as a .zip: approved
                  versions, reviews, goal history and reassessments.
                    preceptor-cli export 3 --out portfolio.zip

Purposes: clinical-skills, career, research, wellbeing, other.

Global options:
  --server URL       the server, ws://HOST:PORT (default ws://127.0.0.1:8080, or
                     $PRECEPTOR_SERVER when set); uploads and downloads go
                     over HTTP to the same HOST:PORT with the same token
  --token-file FILE  where the session token is kept (default ~/.preceptor-token)
  --timeout SECONDS  how long to wait for the server (default 15)

Run 'preceptor-cli COMMAND --help' for the options of one command.
Exit status: 0 done, 1 refused by the server or the server unreachable (the
server's sentence is printed), 2 usage error.
)";

int run(int argc, char** argv) {
  const char* env_server = std::getenv("PRECEPTOR_SERVER");
  po::options_description global("Global options");
  global.add_options()("help,h", "explain every command, with examples")(
      "server",
      po::value<std::string>()->default_value(env_server && *env_server ? env_server : "ws://127.0.0.1:8080"),
      "the server, ws://HOST:PORT (documents travel over HTTP to the same HOST:PORT)")(
      "token-file", po::value<std::string>()->default_value(default_token_file()),
      "where the session token is kept")("timeout", po::value<unsigned>()->default_value(15),
                                         "seconds to wait for the server");
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
  std::vector<std::string> args = po::collect_unrecognized(parsed.options, po::include_positional);
  if (!args.empty() && args.front() == command) args.erase(args.begin());
  if (vm.count("help")) args.push_back("--help");

  Global g;
  g.server = vm["server"].as<std::string>();
  g.token_file = vm["token-file"].as<std::string>();
  g.timeout = std::chrono::seconds(std::max(1u, vm["timeout"].as<unsigned>()));

  if (command == "help") {
    std::cout << kOverview;
    return kExitOk;
  }
  static const std::vector<std::pair<std::string, Command>> kCommands = {
      {"login", cmd_login},       {"logout", cmd_logout},
      {"whoami", cmd_whoami},     {"mentorships", cmd_mentorships},
      {"mentors", cmd_mentors},   {"request", cmd_request},
      {"accept", cmd_accept},     {"decline", cmd_decline},
      {"send", cmd_send},         {"history", cmd_history},
      {"tail", cmd_tail},         {"conversations", cmd_conversations},
      {"meetings", cmd_meetings}, {"propose", cmd_propose},
      {"slots", cmd_slots},       {"book", cmd_book},
      {"queue", cmd_queue},       {"goals", cmd_goals},
      {"assign", cmd_assign},     {"upload", cmd_upload},
      {"submit", cmd_submit},     {"review", cmd_review},
      {"download", cmd_download}, {"export", cmd_export},
  };
  std::string names;
  for (const auto& [name, fn] : kCommands) {
    if (name == command) return fn(g, args);
    names += (names.empty() ? "" : ", ") + name;
  }
  throw UsageError{"Unknown command '" + command + "'; the commands are " + names + "."};
}

}  // namespace
}  // namespace preceptor::cli

int main(int argc, char** argv) {
  namespace cli = preceptor::cli;
  try {
    return cli::run(argc, argv);
  } catch (const cli::UsageError& e) {
    std::cerr << "preceptor-cli: " << e.message << "\nRun 'preceptor-cli --help' for usage.\n";
    return cli::kExitUsage;
  } catch (const cli::Failed& e) {
    std::cerr << e.message << "\n";
    return cli::kExitFailed;
  }
}
