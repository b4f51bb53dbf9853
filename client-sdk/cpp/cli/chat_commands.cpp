// preceptor-cli's commands for accounts, mentorships, chat, meetings and
// office hours.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>

#include "cli.h"
#include "common/terminal.h"

namespace preceptor::cli {

namespace {

std::string message_line(const v1::Message& m, const std::map<uint64_t, std::string>& names) {
  std::ostringstream out;
  out << "#" << m.seq() << " " << format_time(m.sent_at_ms()) << " " << name_of(names, m.sender_id()) << ": ";
  if (m.deleted()) {
    out << "(deleted)";
  } else if (m.kind() == v1::MESSAGE_KIND_CHECKIN) {
    const char* status = m.check_in().status() == v1::CHECK_IN_STATUS_ON_TRACK    ? "on track"
                         : m.check_in().status() == v1::CHECK_IN_STATUS_NEED_HELP ? "need help"
                         : m.check_in().status() == v1::CHECK_IN_STATUS_BLOCKED   ? "blocked"
                                                                                  : "unspecified";
    out << "[check-in: " << status << "] " << m.check_in().note();
    if (!m.body().empty()) out << " " << m.body();
  } else {
    out << m.body();
  }
  if (m.edited_at_ms() != 0 && !m.deleted()) out << " (edited)";
  return out.str();
}

const char* meeting_state(v1::MeetingState s) {
  switch (s) {
    case v1::MEETING_STATE_PROPOSED:
      return "proposed";
    case v1::MEETING_STATE_ACCEPTED:
      return "accepted";
    case v1::MEETING_STATE_DECLINED:
      return "declined";
    case v1::MEETING_STATE_CANCELLED:
      return "cancelled";
    case v1::MEETING_STATE_HELD:
      return "held";
    case v1::MEETING_STATE_NO_SHOW:
      return "no-show";
    default:
      return "unknown";
  }
}

std::string where_text(const v1::Where& w) {
  switch (w.kind()) {
    case v1::WHERE_KIND_PLACE:
      return "at " + w.detail();
    case v1::WHERE_KIND_PHONE:
      return "by phone " + w.detail();
    case v1::WHERE_KIND_LINK:
      return "at " + w.detail();
    default:
      return "in-app call";
  }
}

}  // namespace

// ---- commands ----

int cmd_login(const Global& g, const std::vector<std::string>& args) {
  po::options_description options("login options");
  options.add_options()("help,h", "show this help")("username", po::value<std::string>()->required(),
                                                    "your username")(
      "password", po::value<std::string>(), "your password; when absent it is read from standard input")(
      "device", po::value<std::string>()->default_value("preceptor-cli"),
      "a name for this device, shown when you list or revoke sessions");
  auto vm = parse_command("login", options, {}, args);
  if (help_requested(vm, "login", "--username NAME [--password P] [--device NAME]",
                     "preceptor-cli login --username mentee.chen --device \"Wei's laptop\"", options)) {
    return kExitOk;
  }
  v1::Login login;
  login.set_username(vm["username"].as<std::string>());
  login.set_device_name(vm["device"].as<std::string>());
  if (vm.count("password")) {
    login.set_password(vm["password"].as<std::string>());
  } else {
    std::string line;
    if (isatty(STDIN_FILENO)) {
      NoEcho quiet;
      std::cerr << "Password for " << login.username() << ": " << std::flush;
      std::getline(std::cin, line);
      std::cerr << "\n";
    } else {
      std::getline(std::cin, line);
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) throw UsageError{"No password given: pass --password, or write it on standard input."};
    login.set_password(line);
  }
  Session s(g, /*with_token=*/false);
  auto result = s.must(s.client().login_sync(login, s.timeout()));
  save_token(g.token_file, result.token());
  std::cout << "Signed in as " << describe(result.user()) << ", " << role_name(result.user().role())
            << ". The session token is in " << g.token_file << ".\n";
  return kExitOk;
}

int cmd_logout(const Global& g, const std::vector<std::string>& args) {
  po::options_description options("logout options");
  options.add_options()("help,h", "show this help");
  auto vm = parse_command("logout", options, {}, args);
  if (help_requested(vm, "logout", "", "preceptor-cli logout", options)) return kExitOk;
  Session s(g, /*with_token=*/true);
  s.must(s.client().logout_sync({}, s.timeout()));
  std::remove(g.token_file.c_str());
  std::cout << "Signed out; the session token no longer works anywhere.\n";
  return kExitOk;
}

int cmd_whoami(const Global& g, const std::vector<std::string>& args) {
  po::options_description options("whoami options");
  options.add_options()("help,h", "show this help");
  auto vm = parse_command("whoami", options, {}, args);
  if (help_requested(vm, "whoami", "", "preceptor-cli whoami", options)) return kExitOk;
  Session s(g, true);
  auto me = s.must(s.client().who_am_i_sync({}, s.timeout()));
  const v1::User& u = me.user();
  std::cout << describe(u) << ", " << role_name(u.role()) << ", user " << u.id();
  if (!u.specialty().empty()) std::cout << ", " << u.specialty();
  if (!u.training_level().empty()) std::cout << ", " << u.training_level();
  if (!u.time_zone().empty()) std::cout << ", " << u.time_zone();
  std::cout << "\nSigned in on \"" << me.device_name() << "\".\n";
  return kExitOk;
}

int cmd_mentorships(const Global& g, const std::vector<std::string>& args) {
  po::options_description options("mentorships options");
  options.add_options()("help,h", "show this help");
  auto vm = parse_command("mentorships", options, {}, args);
  if (help_requested(vm, "mentorships", "", "preceptor-cli mentorships", options)) return kExitOk;
  Session s(g, true);
  auto list = s.must(s.client().list_all_mentorships_sync({}, s.timeout()));
  if (list.mentorships().empty()) std::cout << "No mentorships yet.\n";
  for (const auto& v : list.mentorships()) {
    const auto& m = v.mentorship();
    std::cout << "mentorship " << m.id() << "  " << purpose_name(m.purpose()) << "  " << state_of(m.state())
              << "  mentor " << describe(v.mentor()) << " [" << m.mentor_id() << "]  mentee "
              << describe(v.mentee()) << " [" << m.mentee_id() << "]";
    if (m.conversation_id() != 0) std::cout << "  conversation " << m.conversation_id();
    if (v.has_engagement()) {
      std::cout << "  last contact " << format_time(v.engagement().last_contact_ms()) << ", "
                << v.engagement().message_count() << " messages";
      if (v.engagement().checkin_overdue()) std::cout << ", check-in overdue";
    }
    if (!m.decline_reason().empty()) std::cout << "  declined: " << m.decline_reason();
    if (m.referred_mentor_id() != 0) std::cout << " (referred to user " << m.referred_mentor_id() << ")";
    std::cout << "\n";
  }
  return kExitOk;
}

int cmd_mentors(const Global& g, const std::vector<std::string>& args) {
  po::options_description options("mentors options");
  options.add_options()("help,h", "show this help")(
      "purpose", po::value<std::string>(),
      "only mentors for this purpose: clinical-skills, career, research, wellbeing, other")(
      "specialty", po::value<std::string>(), "only mentors of this specialty (exact, any case)");
  auto vm = parse_command("mentors", options, {}, args);
  if (help_requested(vm, "mentors", "[--purpose P] [--specialty S]",
                     "preceptor-cli mentors --purpose research --specialty Cardiology", options)) {
    return kExitOk;
  }
  v1::ListMentors req;
  if (vm.count("purpose")) {
    auto p = parse_purpose(vm["purpose"].as<std::string>());
    if (!p)
      throw UsageError{"Unknown purpose '" + vm["purpose"].as<std::string>() +
                       "'; use clinical-skills, career, research, wellbeing or other."};
    req.set_purpose(*p);
  }
  if (vm.count("specialty")) req.set_specialty(vm["specialty"].as<std::string>());
  Session s(g, true);
  auto list = s.must(s.client().list_all_mentors_sync(req, s.timeout()));
  if (list.mentors().empty()) std::cout << "No mentor matches.\n";
  for (const auto& e : list.mentors()) {
    std::cout << "user " << e.mentor().id() << "  " << describe(e.mentor());
    if (!e.mentor().specialty().empty()) std::cout << "  " << e.mentor().specialty();
    std::cout << "  purposes:";
    for (int p : e.profile().purposes()) std::cout << " " << purpose_name(static_cast<v1::Purpose>(p));
    std::cout << "  " << e.profile().active_mentorships() << "/" << e.profile().capacity() << " mentees";
    if (!e.profile().bio().empty()) std::cout << "\n    " << e.profile().bio();
    std::cout << "\n";
  }
  return kExitOk;
}

int cmd_request(const Global& g, const std::vector<std::string>& args) {
  po::options_description options("request options");
  options.add_options()("help,h", "show this help")("mentor", po::value<std::string>()->required(),
                                                    "the mentor's user id (see 'mentors')")(
      "purpose", po::value<std::string>()->required(),
      "clinical-skills, career, research, wellbeing or other")(
      "note", po::value<std::string>()->default_value(""), "a note for the mentor (up to 2000 bytes)");
  auto vm = parse_command("request", options, {}, args);
  if (help_requested(vm, "request", "--mentor ID --purpose P [--note N]",
                     "preceptor-cli request --mentor 3 --purpose career --note \"Fellowship applications\"",
                     options)) {
    return kExitOk;
  }
  v1::RequestMentorship req;
  req.set_mentor_id(parse_id("--mentor", vm["mentor"].as<std::string>()));
  auto p = parse_purpose(vm["purpose"].as<std::string>());
  if (!p)
    throw UsageError{"Unknown purpose '" + vm["purpose"].as<std::string>() +
                     "'; use clinical-skills, career, research, wellbeing or other."};
  req.set_purpose(*p);
  req.set_note(vm["note"].as<std::string>());
  Session s(g, true);
  auto r = s.must(s.client().request_mentorship_sync(req, s.timeout()));
  std::cout << "Requested mentorship " << r.mentorship().id() << " ("
            << purpose_name(r.mentorship().purpose()) << ") from user " << r.mentorship().mentor_id()
            << "; it is " << state_of(r.mentorship().state()) << ".\n";
  return kExitOk;
}

int cmd_accept(const Global& g, const std::vector<std::string>& args) {
  po::options_description options("accept options");
  options.add_options()("help,h", "show this help")("id", po::value<std::string>()->required(),
                                                    "the mentorship id");
  po::positional_options_description positional;
  positional.add("id", 1);
  auto vm = parse_command("accept", options, positional, args);
  if (help_requested(vm, "accept", "ID", "preceptor-cli accept 12", options)) return kExitOk;
  v1::AcceptMentorship req;
  req.set_mentorship_id(parse_id("The mentorship id", vm["id"].as<std::string>()));
  Session s(g, true);
  auto r = s.must(s.client().accept_mentorship_sync(req, s.timeout()));
  std::cout << "Accepted mentorship " << r.mentorship().id() << "; conversation "
            << r.mentorship().conversation_id() << " is open.\n";
  return kExitOk;
}

int cmd_decline(const Global& g, const std::vector<std::string>& args) {
  po::options_description options("decline options");
  options.add_options()("help,h", "show this help")("id", po::value<std::string>()->required(),
                                                    "the mentorship id")(
      "reason", po::value<std::string>()->default_value(""), "why, shown to the mentee (up to 2000 bytes)")(
      "refer", po::value<std::string>(), "a colleague's user id to suggest instead");
  po::positional_options_description positional;
  positional.add("id", 1);
  auto vm = parse_command("decline", options, positional, args);
  if (help_requested(vm, "decline", "ID [--reason R] [--refer ID]",
                     "preceptor-cli decline 12 --reason \"Full this term\" --refer 5", options)) {
    return kExitOk;
  }
  v1::DeclineMentorship req;
  req.set_mentorship_id(parse_id("The mentorship id", vm["id"].as<std::string>()));
  req.set_reason(vm["reason"].as<std::string>());
  if (vm.count("refer")) req.set_referred_mentor_id(parse_id("--refer", vm["refer"].as<std::string>()));
  Session s(g, true);
  auto r = s.must(s.client().decline_mentorship_sync(req, s.timeout()));
  std::cout << "Declined mentorship " << r.mentorship().id() << ".\n";
  return kExitOk;
}

int cmd_send(const Global& g, const std::vector<std::string>& args) {
  po::options_description options("send options");
  options.add_options()("help,h", "show this help")("conversation", po::value<std::string>()->required(),
                                                    "the conversation id (see 'conversations')")(
      "text", po::value<std::vector<std::string>>()->required(), "the message");
  po::positional_options_description positional;
  positional.add("text", -1);
  auto vm = parse_command("send", options, positional, args);
  if (help_requested(vm, "send", "--conversation ID TEXT",
                     "preceptor-cli send --conversation 7 \"I uploaded the revised CV.\"", options)) {
    return kExitOk;
  }
  std::string body;
  for (const auto& word : vm["text"].as<std::vector<std::string>>()) body += (body.empty() ? "" : " ") + word;
  v1::SendMessage req;
  req.set_conversation_id(parse_id("--conversation", vm["conversation"].as<std::string>()));
  req.set_body(body);
  Session s(g, true);
  auto r = s.must(s.client().send_message_sync(req, s.timeout()));
  std::cout << "Sent #" << r.message().seq() << " to conversation " << r.message().conversation_id() << ".\n";
  return kExitOk;
}

int cmd_history(const Global& g, const std::vector<std::string>& args) {
  po::options_description options("history options");
  options.add_options()("help,h", "show this help")("conversation", po::value<std::string>()->required(),
                                                    "the conversation id")(
      "limit", po::value<unsigned>()->default_value(50), "how many of the latest messages (1-200)");
  auto vm = parse_command("history", options, {}, args);
  if (help_requested(vm, "history", "--conversation ID [--limit N]",
                     "preceptor-cli history --conversation 7 --limit 20", options)) {
    return kExitOk;
  }
  v1::History req;
  req.set_conversation_id(parse_id("--conversation", vm["conversation"].as<std::string>()));
  req.set_limit(vm["limit"].as<unsigned>());
  Session s(g, true);
  // A page may hold fewer than asked (pages are bounded in bytes too): page on, older each time.
  const size_t wanted = vm["limit"].as<unsigned>();
  std::vector<v1::Message> messages;
  v1::HistoryResult r;
  do {
    r = s.must(s.client().history_sync(req, s.timeout()));
    messages.insert(messages.end(), r.messages().begin(), r.messages().end());
    if (r.messages().empty()) break;
    req.set_before_seq(r.messages(r.messages_size() - 1).seq());  // newest first: the last is the oldest
    req.set_limit(static_cast<uint32_t>(wanted - std::min(wanted, messages.size())));
  } while (r.has_more() && messages.size() < wanted);
  auto names = known_names(s);
  std::sort(messages.begin(), messages.end(), [](const auto& a, const auto& b) { return a.seq() < b.seq(); });
  if (messages.empty()) std::cout << "No messages yet.\n";
  if (r.has_more()) std::cout << "(older messages not shown; raise --limit)\n";
  for (const auto& m : messages) std::cout << message_line(m, names) << "\n";
  return kExitOk;
}

int cmd_conversations(const Global& g, const std::vector<std::string>& args) {
  po::options_description options("conversations options");
  options.add_options()("help,h", "show this help");
  auto vm = parse_command("conversations", options, {}, args);
  if (help_requested(vm, "conversations", "", "preceptor-cli conversations", options)) return kExitOk;
  Session s(g, true);
  auto r = s.must(s.client().list_conversations_sync({}, s.timeout()));
  auto names = known_names(s);
  if (r.conversations().empty()) std::cout << "No conversations yet.\n";
  for (const auto& c : r.conversations()) {
    std::cout << "conversation " << c.conversation_id() << "  with " << name_of(names, c.counterpart_id())
              << "  mentorship " << c.mentorship_id() << "  " << c.last_seq() << " messages, " << c.unread()
              << " unread  last " << format_time(c.last_message_ms());
    if (c.read_only()) std::cout << "  (ended, read-only)";
    std::cout << "\n";
  }
  return kExitOk;
}

int cmd_tail(const Global& g, const std::vector<std::string>& args) {
  po::options_description options("tail options");
  options.add_options()("help,h", "show this help")("conversation", po::value<std::string>()->required(),
                                                    "the conversation id");
  auto vm = parse_command("tail", options, {}, args);
  if (help_requested(vm, "tail", "--conversation ID", "preceptor-cli tail --conversation 7", options))
    return kExitOk;
  const uint64_t conv = parse_id("--conversation", vm["conversation"].as<std::string>());

  // Ctrl-C is taken with sigwait below; block it before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // Messages up to `baseline` were there before tail started. Until it is
  // known (History answers after the catch-up Sync), events are held.
  std::mutex mu;
  std::optional<uint64_t> baseline;
  std::vector<v1::Event> early;
  std::map<uint64_t, std::string> names;
  std::atomic<bool> ended{false};
  std::string end_reason;
  auto print = [&](const v1::Event& e) {  // REQUIRES: mu held, baseline known
    if (e.has_message_posted() && e.message_posted().message().conversation_id() == conv &&
        e.message_posted().message().seq() > *baseline) {
      std::cout << message_line(e.message_posted().message(), names) << std::endl;
    } else if (e.has_message_edited() && e.message_edited().message().conversation_id() == conv) {
      std::cout << "edited " << message_line(e.message_edited().message(), names) << std::endl;
    } else if (e.has_message_deleted() && e.message_deleted().conversation_id() == conv) {
      std::cout << "#" << e.message_deleted().seq() << " was deleted" << std::endl;
    }
  };

  auto on_event = [&](const v1::Event& e) {
    std::lock_guard lock(mu);
    if (!baseline) {
      early.push_back(e);
    } else {
      print(e);
    }
  };
  auto on_state = [&](const StateChange& st) {
    if (st.state == State::kDisconnected && st.will_reconnect) {
      std::cerr << "(connection lost: " << st.reason << " Reconnecting...)" << std::endl;
    } else if (st.state == State::kAuthenticated) {
      std::cerr << "(connected)" << std::endl;
    } else if (st.state == State::kDisconnected) {
      std::lock_guard lock(mu);
      end_reason = st.reason;
      ended = true;
    }
  };
  Session s(g, true, /*sync_events=*/true, on_event, on_state);
  v1::History latest;
  latest.set_conversation_id(conv);
  latest.set_limit(1);
  auto h = s.must(s.client().history_sync(latest, s.timeout()));
  auto known = known_names(s);
  {
    std::lock_guard lock(mu);
    names = std::move(known);
    baseline = h.messages().empty() ? 0 : h.messages(0).seq();
    std::cerr << "(showing new messages of conversation " << conv << "; Ctrl-C to stop)" << std::endl;
    for (const auto& e : early) print(e);
    early.clear();
  }
  const timespec tick{0, 200'000'000};
  while (!ended) {
    if (sigtimedwait(&signals, nullptr, &tick) > 0) return kExitOk;
  }
  std::lock_guard lock(mu);
  throw Failed{end_reason};
}

int cmd_meetings(const Global& g, const std::vector<std::string>& args) {
  po::options_description options("meetings options");
  options.add_options()("help,h", "show this help")("action", po::value<std::string>()->default_value("list"),
                                                    "list, accept, decline, cancel, held or no-show")(
      "id", po::value<std::string>(), "the meeting id")("days", po::value<unsigned>()->default_value(30),
                                                        "list: how many days ahead (1-92)")(
      "past", po::value<unsigned>()->default_value(0), "list: also this many days back")(
      "reason", po::value<std::string>()->default_value(""), "decline, cancel: why (both members see it)");
  po::positional_options_description positional;
  positional.add("action", 1).add("id", 1);
  auto vm = parse_command("meetings", options, positional, args);
  if (help_requested(vm, "meetings", "[list|accept|decline|cancel|held|no-show] [ID] [--days N] [--reason R]",
                     "preceptor-cli meetings accept 4", options)) {
    return kExitOk;
  }
  const std::string action = vm["action"].as<std::string>();
  if (action == "list") {
    const unsigned days = vm["days"].as<unsigned>(), past = vm["past"].as<unsigned>();
    if (days < 1 || days + past > 92) throw UsageError{"--days and --past together cover 1 to 92 days."};
    Session s(g, true);
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    v1::ListMeetings req;
    req.set_from_ms(now - static_cast<int64_t>(past) * 86'400'000);
    req.set_to_ms(now + static_cast<int64_t>(days) * 86'400'000);
    size_t shown = 0;
    while (true) {
      auto page = s.must(s.client().list_meetings_sync(req, s.timeout()));
      for (const auto& v : page.meetings()) {
        const v1::Meeting& m = v.meeting();
        const bool i_am_mentor = s.client().user().id() == m.mentor_id();
        std::cout << "#" << m.id() << "  " << local_time(m.start_ms(), m.time_zone()) << " " << m.time_zone()
                  << " (" << utc_time(m.start_ms()) << "), " << m.duration_minutes() << " min, "
                  << meeting_state(m.state()) << (m.pending().start_ms() != 0 ? ", new time asked" : "")
                  << ", with " << describe(i_am_mentor ? v.mentee() : v.mentor())
                  << (m.office_hours() ? ", office hours" : "") << ", " << where_text(m.where()) << "\n";
        if (!m.agenda().empty()) std::cout << "      " << m.agenda() << "\n";
        ++shown;
      }
      if (!page.has_more()) break;
      *req.mutable_after() = page.next_after();
    }
    if (shown == 0) std::cout << "No meetings in those days.\n";
    return kExitOk;
  }
  if (!vm.count("id")) throw UsageError{"meetings " + action + " needs a meeting id (see 'meetings')."};
  const uint64_t id = parse_id("The meeting id", vm["id"].as<std::string>());
  const std::string reason = vm["reason"].as<std::string>();
  Session s(g, true);
  v1::Meeting m;
  if (action == "accept") {
    v1::AcceptMeeting req;
    req.set_meeting_id(id);
    m = s.must(s.client().accept_meeting_sync(req, s.timeout())).meeting();
  } else if (action == "decline") {
    v1::DeclineMeeting req;
    req.set_meeting_id(id);
    req.set_reason(reason);
    m = s.must(s.client().decline_meeting_sync(req, s.timeout())).meeting();
  } else if (action == "cancel") {
    v1::CancelMeeting req;
    req.set_meeting_id(id);
    req.set_reason(reason);
    m = s.must(s.client().cancel_meeting_sync(req, s.timeout())).meeting();
  } else if (action == "held" || action == "no-show") {
    v1::MarkMeeting req;
    req.set_meeting_id(id);
    req.set_outcome(action == "held" ? v1::MEETING_OUTCOME_HELD : v1::MEETING_OUTCOME_NO_SHOW);
    m = s.must(s.client().mark_meeting_sync(req, s.timeout())).meeting();
  } else {
    throw UsageError{"Unknown meetings action '" + action +
                     "'; use list, accept, decline, cancel, held or no-show."};
  }
  std::cout << "Meeting " << m.id() << " is " << meeting_state(m.state()) << ": "
            << local_time(m.start_ms(), m.time_zone()) << " " << m.time_zone() << ".\n";
  return kExitOk;
}

int cmd_propose(const Global& g, const std::vector<std::string>& args) {
  po::options_description options("propose options");
  options.add_options()("help,h", "show this help")("mentorship", po::value<std::string>()->required(),
                                                    "the mentorship id (see 'mentorships')")(
      "start", po::value<std::string>()->required(),
      "local start, e.g. \"2026-12-01 15:30\" (or UTC with a Z)")(
      "time-zone", po::value<std::string>()->default_value(default_zone()),
      "the zone of --start (IANA name)")("minutes", po::value<unsigned>()->default_value(30),
                                         "how long (5-480)")(
      "agenda", po::value<std::string>()->default_value(""), "what to talk about")(
      "place", po::value<std::string>(), "meet in person, in this room")("phone", po::value<std::string>(),
                                                                         "meet by phone, at this number")(
      "link", po::value<std::string>(), "meet at this https:// link (default: the in-app call)");
  auto vm = parse_command("propose", options, {}, args);
  if (help_requested(vm, "propose", "--mentorship ID --start \"YYYY-MM-DD HH:MM\" [options]",
                     "preceptor-cli propose --mentorship 3 --start \"2026-12-01 15:30\" --time-zone "
                     "Europe/Stockholm --agenda \"CV review\"",
                     options)) {
    return kExitOk;
  }
  const std::string zone = vm["time-zone"].as<std::string>();
  v1::ProposeMeeting req;
  req.set_mentorship_id(parse_id("--mentorship", vm["mentorship"].as<std::string>()));
  req.set_start_ms(parse_when("--start", vm["start"].as<std::string>(), zone));
  req.set_duration_minutes(vm["minutes"].as<unsigned>());
  req.set_time_zone(zone);
  req.set_agenda(vm["agenda"].as<std::string>());
  if (vm.count("place") + vm.count("phone") + vm.count("link") > 1) {
    throw UsageError{"Give at most one of --place, --phone and --link."};
  }
  if (vm.count("place"))
    req.mutable_where()->set_kind(v1::WHERE_KIND_PLACE),
        req.mutable_where()->set_detail(vm["place"].as<std::string>());
  if (vm.count("phone"))
    req.mutable_where()->set_kind(v1::WHERE_KIND_PHONE),
        req.mutable_where()->set_detail(vm["phone"].as<std::string>());
  if (vm.count("link"))
    req.mutable_where()->set_kind(v1::WHERE_KIND_LINK),
        req.mutable_where()->set_detail(vm["link"].as<std::string>());
  if (!req.has_where()) req.mutable_where()->set_kind(v1::WHERE_KIND_IN_APP_CALL);
  Session s(g, true);
  auto m = s.must(s.client().propose_meeting_sync(req, s.timeout())).meeting();
  std::cout << "Proposed meeting " << m.id() << ": " << local_time(m.start_ms(), m.time_zone()) << " "
            << m.time_zone() << " (" << utc_time(m.start_ms()) << "), " << m.duration_minutes()
            << " min. It is on both calendars once the other member accepts.\n";
  return kExitOk;
}

int cmd_slots(const Global& g, const std::vector<std::string>& args) {
  po::options_description options("slots options");
  options.add_options()("help,h", "show this help")("mentor", po::value<std::string>()->required(),
                                                    "the mentor's user id (see 'mentors')")(
      "days", po::value<unsigned>()->default_value(14), "how many days ahead (1-42)");
  auto vm = parse_command("slots", options, {}, args);
  if (help_requested(vm, "slots", "--mentor ID [--days N]", "preceptor-cli slots --mentor 3 --days 7",
                     options)) {
    return kExitOk;
  }
  const unsigned days = vm["days"].as<unsigned>();
  if (days < 1 || days > 42) throw UsageError{"--days must be 1 to 42."};
  Session s(g, true);
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  v1::ListSlots req;
  req.set_mentor_id(parse_id("--mentor", vm["mentor"].as<std::string>()));
  req.set_from_ms(now);
  req.set_to_ms(now + static_cast<int64_t>(days) * 86'400'000);
  auto r = s.must(s.client().list_slots_sync(req, s.timeout()));
  if (r.slots_size() == 0) {
    std::cout << "No free slots in the next " << days << " days.\n";
    return kExitOk;
  }
  std::cout << "Free slots (" << r.time_zone() << "); book one with: preceptor-cli book --mentor "
            << req.mentor_id() << " --start START\n";
  for (const auto& slot : r.slots()) {
    std::cout << "  " << local_time(slot.start_ms(), r.time_zone()) << "  START " << utc_time(slot.start_ms())
              << "  " << (slot.end_ms() - slot.start_ms()) / 60'000 << " min";
    if (slot.seats() > 1) std::cout << ", " << slot.seats_left() << " of " << slot.seats() << " seats left";
    std::cout << "\n";
  }
  return kExitOk;
}

int cmd_book(const Global& g, const std::vector<std::string>& args) {
  po::options_description options("book options");
  options.add_options()("help,h", "show this help")("mentor", po::value<std::string>()->required(),
                                                    "the mentor's user id")(
      "start", po::value<std::string>()->required(),
      "the slot's START as 'slots' prints it (UTC, ends in Z)")(
      "agenda", po::value<std::string>()->default_value(""), "what you would like to talk about");
  auto vm = parse_command("book", options, {}, args);
  if (help_requested(
          vm, "book", "--mentor ID --start START [--agenda TEXT]",
          "preceptor-cli book --mentor 3 --start 2026-12-01T14:30Z --agenda \"Residency applications\"",
          options)) {
    return kExitOk;
  }
  v1::BookSlot req;
  req.set_mentor_id(parse_id("--mentor", vm["mentor"].as<std::string>()));
  req.set_start_ms(parse_when("--start", vm["start"].as<std::string>(), "UTC"));
  req.set_agenda(vm["agenda"].as<std::string>());
  Session s(g, true);
  auto m = s.must(s.client().book_slot_sync(req, s.timeout())).meeting();
  std::cout << "Booked: meeting " << m.id() << ", " << local_time(m.start_ms(), m.time_zone()) << " "
            << m.time_zone() << " (" << utc_time(m.start_ms()) << "), " << m.duration_minutes() << " min, "
            << where_text(m.where()) << ".\n";
  return kExitOk;
}

int cmd_queue(const Global& g, const std::vector<std::string>& args) {
  po::options_description options("queue options");
  options.add_options()("help,h", "show this help")("action", po::value<std::string>()->default_value("show"),
                                                    "show, join, leave, next or skip")(
      "mentor", po::value<std::string>(), "show, join, leave: the mentor's user id (a mentor: yourself)")(
      "mentee", po::value<std::string>(), "skip: the mentee's user id");
  po::positional_options_description positional;
  positional.add("action", 1);
  auto vm = parse_command("queue", options, positional, args);
  if (help_requested(vm, "queue", "[show|join|leave|next|skip] [--mentor ID] [--mentee ID]",
                     "preceptor-cli queue join --mentor 3", options)) {
    return kExitOk;
  }
  const std::string action = vm["action"].as<std::string>();
  Session s(g, true);
  auto mentor_id = [&] {
    if (vm.count("mentor")) return parse_id("--mentor", vm["mentor"].as<std::string>());
    if (s.client().user().role() == v1::ROLE_MENTOR) return s.client().user().id();
    throw UsageError{"queue " + action + " needs --mentor ID."};
  };
  if (action == "join") {
    v1::JoinQueue req;
    req.set_mentor_id(mentor_id());
    auto r = s.must(s.client().join_queue_sync(req, s.timeout()));
    std::cout << "You are in line, place " << r.entry().place() << ".\n";
  } else if (action == "leave") {
    v1::LeaveQueue req;
    req.set_mentor_id(mentor_id());
    s.must(s.client().leave_queue_sync(req, s.timeout()));
    std::cout << "You left the line.\n";
  } else if (action == "next") {
    auto r = s.must(s.client().call_next_sync(v1::CallNext(), s.timeout()));
    if (r.called().mentee_id() == 0) {
      std::cout << "Nobody is waiting.\n";
    } else {
      std::cout << "Called " << describe(r.called().mentee()) << " (user " << r.called().mentee_id()
                << "); they were notified.\n";
    }
  } else if (action == "skip") {
    if (!vm.count("mentee")) throw UsageError{"queue skip needs --mentee ID."};
    v1::SkipInQueue req;
    req.set_mentee_id(parse_id("--mentee", vm["mentee"].as<std::string>()));
    s.must(s.client().skip_in_queue_sync(req, s.timeout()));
    std::cout << "Skipped.\n";
  } else if (action == "show") {
    v1::GetQueue req;
    req.set_mentor_id(mentor_id());
    auto r = s.must(s.client().get_queue_sync(req, s.timeout()));
    std::cout << (r.open() ? "Office hours are open now." : "Office hours are closed now.") << "\n";
    if (r.entries_size() == 0) std::cout << "Nobody is waiting.\n";
    for (const auto& e : r.entries()) {
      std::cout << "  " << e.place() << ". " << (e.mentee().id() != 0 ? describe(e.mentee()) : "you")
                << ", since " << format_time(e.joined_ms()) << "\n";
    }
  } else {
    throw UsageError{"Unknown queue action '" + action + "'; use show, join, leave, next or skip."};
  }
  return kExitOk;
}

}  // namespace preceptor::cli
