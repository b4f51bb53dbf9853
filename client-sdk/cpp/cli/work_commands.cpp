// preceptor-cli's commands for the work between meetings: goals (and
// reassessment), assignments, reviews.
#include <date/date.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "cli.h"
#include "work_text.h"

namespace preceptor::cli {

namespace {

// "Submit the abstract" [open, target 2027-03-01, revision 2]
std::string goal_line(const v1::Goal& g) {
  std::ostringstream out;
  out << "goal " << g.id() << "  [" << goal_state_name(g.state()) << "]  " << g.what();
  if (!g.target_date().empty()) out << "  (target " << g.target_date() << ")";
  if (g.purpose() != 0) out << "  " << purpose_name(static_cast<v1::Purpose>(g.purpose()));
  if (!g.measure().empty()) out << "\n      measured by: " << g.measure();
  if (g.state() == v1::GOAL_STATE_DROPPED && !g.drop_reason().empty()) {
    out << "\n      dropped: " << g.drop_reason();
  }
  if (g.note_count() > 0)
    out << "\n      " << g.note_count() << " progress note" << (g.note_count() == 1 ? "" : "s");
  return out.str();
}

// The goal as it is now: the `after` of its newest history entry.
v1::Goal current_goal(Session& s, uint64_t goal_id) {
  v1::GetGoalHistory req;
  req.set_goal_id(goal_id);
  req.set_limit(200);
  v1::Goal latest;
  for (;;) {
    auto page = must(s.client().get_goal_history_sync(req, s.timeout()),
                     "Check the goal id with 'preceptor-cli goals --mentorship ID'.");
    for (const auto& e : page.entries()) {
      if (e.has_after()) latest = e.after();
      req.set_after_seq(e.seq());
    }
    if (!page.has_more() || page.entries().empty()) break;
  }
  if (latest.id() == 0) throw Failed{"Goal " + std::to_string(goal_id) + " has no history to read it from."};
  return latest;
}

void check_date(const std::string& what, const std::string& text) {
  if (text.empty()) return;
  int y = 0;
  unsigned m = 0, d = 0;
  char tail = 0;
  if (std::sscanf(text.c_str(), "%4d-%2u-%2u%c", &y, &m, &d, &tail) != 3 || text.size() != 10 ||
      !date::year_month_day{date::year{y}, date::month{m}, date::day{d}}.ok()) {
    throw UsageError{what + " must be a date like 2027-03-01, not '" + text + "'."};
  }
}

uint32_t purpose_option(const po::variables_map& vm) {
  if (!vm.count("purpose")) return 0;
  auto p = parse_purpose(vm["purpose"].as<std::string>());
  if (!p) {
    throw UsageError{"Unknown purpose '" + vm["purpose"].as<std::string>() +
                     "'; use clinical-skills, career, research, wellbeing or other."};
  }
  return static_cast<uint32_t>(*p);
}

std::string joined(const po::variables_map& vm, const char* name) {
  if (!vm.count(name)) return {};
  std::string out;
  for (const auto& w : vm[name].as<std::vector<std::string>>()) out += (out.empty() ? "" : " ") + w;
  return out;
}

const char* const kGoalsSynopsis =
    "[list|add|edit|done|drop|reopen|note|history|reassess] [GOAL_ID] [options]";
const char* const kGoalsExamples =
    "preceptor-cli goals --mentorship 3              # the open goals (--all: done and dropped too)\n"
    "  preceptor-cli goals add --mentorship 3 --what \"Submit the abstract\" --measure \"Accepted by the "
    "committee\" --target 2027-03-01\n"
    "  preceptor-cli goals edit 12 --target 2027-04-01   # what you leave out stays as it is\n"
    "  preceptor-cli goals done 12\n"
    "  preceptor-cli goals drop 12 --reason \"The rotation changed\"\n"
    "  preceptor-cli goals reopen 12\n"
    "  preceptor-cli goals note 12 \"First draft sent to the co-authors\"\n"
    "  preceptor-cli goals history 12\n"
    "  preceptor-cli goals reassess --mentorship 3 --keep 12 --refine \"13 target=2027-05-01\" --drop \"14 "
    "No "
    "longer needed\" --new \"what=Learn survival analysis; target=2027-06-01\" --summary \"Spring review\"\n"
    "  preceptor-cli goals reassess --mentorship 3 --file review.txt\n"
    "\n"
    "A reassessment decides for every open goal: keep, refine (new what, measure or target) or drop (with a\n"
    "reason), may add new goals, and has a summary. --keep-rest keeps every open goal not named. The same\n"
    "lines work in a --file, one decision per line ('#' starts a comment):\n"
    "  summary Spring review: the abstract is on track\n"
    "  keep 12\n"
    "  refine 13 target=2027-05-01; what=Submit two abstracts\n"
    "  drop 14 No longer needed after the rotation change\n"
    "  new what=Learn survival analysis; measure=Finish the course; target=2027-06-01; purpose=research";

// "key=value; key=value" into a map (keys what, measure, target, purpose).
std::map<std::string, std::string> fields_of(const std::string& text, const std::string& where) {
  std::map<std::string, std::string> out;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ';')) {
    const auto b = part.find_first_not_of(" \t");
    if (b == std::string::npos) continue;
    part = part.substr(b, part.find_last_not_of(" \t") - b + 1);
    const size_t eq = part.find('=');
    const std::string key = eq == std::string::npos ? "" : part.substr(0, eq);
    if (key != "what" && key != "measure" && key != "target" && key != "purpose") {
      throw UsageError{where + ": '" + part +
                       "' is not one of what=..., measure=..., target=YYYY-MM-DD, purpose=..."};
    }
    out[key] = part.substr(eq + 1);
  }
  return out;
}

// One reassessment line ("keep 12", "drop 14 reason", ...) into `req`.
void reassess_line(const std::string& line, const std::string& where, v1::Reassess& req) {
  std::string verb, rest;
  {
    std::istringstream in(line);
    in >> verb;
    std::getline(in, rest);
    const auto b = rest.find_first_not_of(" \t");
    rest = b == std::string::npos ? "" : rest.substr(b);
  }
  auto id_and_rest = [&](std::string& after) {
    std::istringstream in(rest);
    std::string id;
    in >> id;
    std::getline(in, after);
    const auto b = after.find_first_not_of(" \t");
    after = b == std::string::npos ? "" : after.substr(b);
    if (id.empty()) throw UsageError{where + ": '" + verb + "' needs a goal id."};
    return parse_id(where + ": the goal id", id);
  };
  std::string after;
  if (verb == "summary") {
    req.set_summary(rest);
  } else if (verb == "keep") {
    auto* d = req.add_decisions();
    d->set_goal_id(id_and_rest(after));
    d->set_decision(v1::GOAL_DECISION_KIND_KEEP);
    if (!after.empty()) throw UsageError{where + ": 'keep' takes only a goal id."};
  } else if (verb == "drop") {
    auto* d = req.add_decisions();
    d->set_goal_id(id_and_rest(after));
    d->set_decision(v1::GOAL_DECISION_KIND_DROP);
    if (after.empty())
      throw UsageError{where + ": 'drop " + std::to_string(d->goal_id()) + "' needs a reason."};
    d->set_reason(after);
  } else if (verb == "refine") {
    auto* d = req.add_decisions();
    d->set_goal_id(id_and_rest(after));
    d->set_decision(v1::GOAL_DECISION_KIND_REFINE);
    auto f = fields_of(after, where);
    if (f.count("purpose")) throw UsageError{where + ": a refinement changes what, measure or target only."};
    if (f.empty()) throw UsageError{where + ": 'refine' needs what=..., measure=... or target=..."};
    check_date(where + ": target", f["target"]);
    d->set_what(f["what"]);
    d->set_measure(f["measure"]);
    d->set_target_date(f["target"]);
  } else if (verb == "new") {
    auto f = fields_of(rest, where);
    if (f["what"].empty()) throw UsageError{where + ": a new goal needs what=..."};
    check_date(where + ": target", f["target"]);
    auto* g = req.add_new_goals();
    g->set_what(f["what"]);
    g->set_measure(f["measure"]);
    g->set_target_date(f["target"]);
    if (!f["purpose"].empty()) {
      auto p = parse_purpose(f["purpose"]);
      if (!p) throw UsageError{where + ": unknown purpose '" + f["purpose"] + "'."};
      g->set_purpose(static_cast<uint32_t>(*p));
    }
  } else {
    throw UsageError{where + ": '" + verb + "' is not summary, keep, refine, drop or new."};
  }
}

int goals_reassess(const Global& g, const po::variables_map& vm, uint64_t mentorship) {
  v1::Reassess req;
  req.set_mentorship_id(mentorship);
  if (vm.count("file")) {
    const std::string path = vm["file"].as<std::string>();
    std::ifstream in(path);
    if (!in) throw UsageError{"Could not read " + path + "."};
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const auto b = line.find_first_not_of(" \t");
      if (b == std::string::npos || line[b] == '#') continue;
      reassess_line(line.substr(b), path + " line " + std::to_string(n), req);
    }
  }
  auto each = [&](const char* flag, const char* verb) {
    if (!vm.count(flag)) return;
    for (const auto& v : vm[flag].as<std::vector<std::string>>()) {
      reassess_line(std::string(verb) + " " + v, std::string("--") + flag, req);
    }
  };
  each("keep", "keep");
  each("refine", "refine");
  each("drop", "drop");
  each("new", "new");
  if (vm.count("summary")) req.set_summary(vm["summary"].as<std::string>());
  if (req.summary().empty()) throw UsageError{"A reassessment needs a --summary (or a 'summary' line)."};
  Session s(g, true);
  if (vm.count("keep-rest")) {
    std::set<uint64_t> named;
    for (const auto& d : req.decisions()) named.insert(d.goal_id());
    v1::ListGoals list;
    list.set_mentorship_id(mentorship);
    const auto open_goals = must(s.client().list_goals_sync(list, s.timeout()));
    for (const auto& goal : open_goals.goals()) {
      if (goal.state() != v1::GOAL_STATE_OPEN || named.count(goal.id())) continue;
      auto* d = req.add_decisions();
      d->set_goal_id(goal.id());
      d->set_decision(v1::GOAL_DECISION_KIND_KEEP);
    }
  }
  auto r =
      must(s.client().reassess_sync(req, s.timeout()),
           "Every open goal needs exactly one decision: see them with 'preceptor-cli goals --mentorship " +
               std::to_string(mentorship) + "', or add --keep-rest.");
  const int decided = r.reassessment().decisions_size(), added = r.reassessment().new_goal_ids_size();
  std::cout << "Recorded reassessment " << r.reassessment().id() << " (" << decided << " decision"
            << (decided == 1 ? "" : "s") << ", " << added << " new goal" << (added == 1 ? "" : "s") << ").\n";
  for (const auto& goal : r.goals()) std::cout << "  " << goal_line(goal) << "\n";
  return kExitOk;
}

int goals_list(Session& s, uint64_t mentorship, bool all) {
  v1::ListGoals req;
  req.set_mentorship_id(mentorship);
  req.set_include_closed(all);
  auto r =
      must(s.client().list_goals_sync(req, s.timeout()), "Check the id with 'preceptor-cli mentorships'.");
  if (r.goals().empty()) {
    std::cout << (all ? "No goals yet." : "No open goals.")
              << " Add one with: preceptor-cli goals add --mentorship " << mentorship << " --what \"...\"\n";
  }
  for (;;) {  // a page at a time (about 256 KiB each)
    for (const auto& goal : r.goals()) std::cout << goal_line(goal) << "\n";
    if (!r.has_more()) break;
    *req.mutable_after() = r.next_after();
    r = must(s.client().list_goals_sync(req, s.timeout()));
  }
  std::cout << "Last reassessment: "
            << (r.last_reassessment_ms() ? format_time(r.last_reassessment_ms()) : "never");
  if (r.next_reassessment_ms() > 0) std::cout << "; next due " << format_time(r.next_reassessment_ms());
  std::cout << ".\n";
  return kExitOk;
}

}  // namespace

int cmd_goals(const Global& g, const std::vector<std::string>& args) {
  po::options_description options("goals options");
  options.add_options()("help,h", "show this help")(
      "action", po::value<std::string>()->default_value("list"),
      "list, add, edit, done, drop, reopen, note, history or reassess")(
      "id", po::value<std::string>(), "the goal id (edit, done, drop, reopen, note, history)")(
      "text", po::value<std::vector<std::string>>(), "note: the progress note")(
      "mentorship", po::value<std::string>(), "list, add, reassess: the mentorship id (see 'mentorships')")(
      "all", "list: done and dropped goals too")("what", po::value<std::string>(),
                                                 "add, edit: the specific goal (1-1000 bytes)")(
      "measure", po::value<std::string>(), "add, edit: how progress is measured")(
      "target", po::value<std::string>(), "add, edit: the target date, YYYY-MM-DD (edit: \"\" clears it)")(
      "purpose", po::value<std::string>(),
      "add, edit: clinical-skills, career, research, wellbeing or other")(
      "reason", po::value<std::string>(), "drop: why (required)")("summary", po::value<std::string>(),
                                                                  "reassess: a short summary (1-4000 bytes)")(
      "keep", po::value<std::vector<std::string>>(), "reassess: keep goal ID as it is (repeatable)")(
      "refine", po::value<std::vector<std::string>>(),
      "reassess: \"ID what=...; measure=...; target=YYYY-MM-DD\" (repeatable)")(
      "drop", po::value<std::vector<std::string>>(), "reassess: \"ID reason\" (repeatable)")(
      "new", po::value<std::vector<std::string>>(),
      "reassess: a new goal, \"what=...; measure=...; target=...; purpose=...\" (repeatable)")(
      "keep-rest", "reassess: keep every open goal not named")(
      "file", po::value<std::string>(), "reassess: read the decisions from this file (see below)");
  po::positional_options_description positional;
  positional.add("action", 1).add("id", 1).add("text", -1);
  auto vm = parse_command("goals", options, positional, args);
  if (help_requested(vm, "goals", kGoalsSynopsis, kGoalsExamples, options)) return kExitOk;
  const std::string action = vm["action"].as<std::string>();
  auto mentorship = [&] {
    if (!vm.count("mentorship"))
      throw UsageError{"goals " + action + " needs --mentorship ID (see 'mentorships')."};
    return parse_id("--mentorship", vm["mentorship"].as<std::string>());
  };
  auto goal_id = [&] {
    if (!vm.count("id"))
      throw UsageError{"goals " + action + " needs a goal id (see 'goals --mentorship ID')."};
    return parse_id("The goal id", vm["id"].as<std::string>());
  };
  if (vm.count("text") && action != "note")
    throw UsageError{"goals " + action + " got words it does not take."};

  if (action == "list") {
    const uint64_t m =
        vm.count("id") ? parse_id("The mentorship id", vm["id"].as<std::string>()) : mentorship();
    Session s(g, true);
    return goals_list(s, m, vm.count("all") > 0);
  }
  if (action == "reassess") return goals_reassess(g, vm, mentorship());
  if (action == "add") {
    v1::AddGoal req;
    req.set_mentorship_id(mentorship());
    if (!vm.count("what")) throw UsageError{"goals add needs --what: the specific goal."};
    req.set_what(vm["what"].as<std::string>());
    if (vm.count("measure")) req.set_measure(vm["measure"].as<std::string>());
    if (vm.count("target")) req.set_target_date(vm["target"].as<std::string>());
    check_date("--target", req.target_date());
    req.set_purpose(purpose_option(vm));
    Session s(g, true);
    auto r = must(s.client().add_goal_sync(req, s.timeout()));
    std::cout << "Added " << goal_line(r.goal()) << "\n";
    return kExitOk;
  }
  const uint64_t id = goal_id();
  Session s(g, true);
  const std::string see = "See the goals with 'preceptor-cli goals --mentorship ID --all'.";
  if (action == "edit") {
    if (!vm.count("what") && !vm.count("measure") && !vm.count("target") && !vm.count("purpose")) {
      throw UsageError{"goals edit needs at least one of --what, --measure, --target, --purpose."};
    }
    const v1::Goal now = current_goal(s, id);
    v1::EditGoal req;
    req.set_goal_id(id);
    req.set_what(vm.count("what") ? vm["what"].as<std::string>() : now.what());
    req.set_measure(vm.count("measure") ? vm["measure"].as<std::string>() : now.measure());
    req.set_target_date(vm.count("target") ? vm["target"].as<std::string>() : now.target_date());
    check_date("--target", req.target_date());
    req.set_purpose(vm.count("purpose") ? purpose_option(vm) : now.purpose());
    req.set_revision(now.revision());
    auto r = must(s.client().edit_goal_sync(req, s.timeout()), see);
    std::cout << "Edited " << goal_line(r.goal()) << "\n";
  } else if (action == "done" || action == "drop" || action == "reopen") {
    v1::SetGoalState req;
    req.set_goal_id(id);
    req.set_state(action == "done"   ? v1::GOAL_STATE_DONE
                  : action == "drop" ? v1::GOAL_STATE_DROPPED
                                     : v1::GOAL_STATE_OPEN);
    if (action == "drop") {
      if (!vm.count("reason")) throw UsageError{"goals drop needs --reason: why the goal no longer matters."};
      req.set_reason(vm["reason"].as<std::string>());
    }
    auto r = must(s.client().set_goal_state_sync(req, s.timeout()), see);
    std::cout << goal_line(r.goal()) << "\n";
  } else if (action == "note") {
    const std::string text = joined(vm, "text");
    if (text.empty()) throw UsageError{"goals note needs the note: goals note ID \"what happened\"."};
    v1::AddGoalNote req;
    req.set_goal_id(id);
    req.set_text(text);
    auto r = must(s.client().add_goal_note_sync(req, s.timeout()), see);
    std::cout << "Noted on goal " << r.goal().id() << " (note " << r.goal().note_count() << ").\n";
  } else if (action == "history") {
    auto names = known_names(s);
    v1::GetGoalHistory req;
    req.set_goal_id(id);
    req.set_limit(200);
    for (;;) {
      auto page = must(s.client().get_goal_history_sync(req, s.timeout()), see);
      for (const auto& e : page.entries()) {
        std::cout << format_time(e.at_ms()) << "  " << name_of(names, e.actor_id()) << "  "
                  << goal_change_name(e.kind());
        if (e.kind() == v1::GOAL_CHANGE_KIND_NOTE || e.kind() == v1::GOAL_CHANGE_KIND_DROPPED) {
          if (!e.note().empty()) std::cout << ": " << e.note();
        }
        if (e.reassessment_id() != 0) std::cout << " (reassessment " << e.reassessment_id() << ")";
        std::cout << "\n";
        const v1::Goal& b = e.before();
        const v1::Goal& a2 = e.after();
        if (e.has_before() && e.has_after()) {
          if (b.what() != a2.what()) std::cout << "    what: " << b.what() << "  ->  " << a2.what() << "\n";
          if (b.measure() != a2.measure())
            std::cout << "    measure: " << b.measure() << "  ->  " << a2.measure() << "\n";
          if (b.target_date() != a2.target_date())
            std::cout << "    target: " << (b.target_date().empty() ? "-" : b.target_date()) << "  ->  "
                      << (a2.target_date().empty() ? "-" : a2.target_date()) << "\n";
          if (b.state() != a2.state())
            std::cout << "    state: " << goal_state_name(b.state()) << "  ->  "
                      << goal_state_name(a2.state()) << "\n";
        } else if (e.kind() == v1::GOAL_CHANGE_KIND_ADDED && e.has_after()) {
          std::cout << "    " << a2.what()
                    << (a2.target_date().empty() ? "" : " (target " + a2.target_date() + ")") << "\n";
        }
        req.set_after_seq(e.seq());
      }
      if (!page.has_more() || page.entries().empty()) break;
    }
  } else {
    throw UsageError{"Unknown goals action '" + action +
                     "'; use list, add, edit, done, drop, reopen, note, history or reassess."};
  }
  return kExitOk;
}

// ---- assignments ----

namespace {

std::string assignment_line(const v1::Assignment& a) {
  std::ostringstream out;
  out << "assignment " << a.id() << "  [" << assignment_state_name(a.state()) << "]  " << a.title() << "  ("
      << assignment_kind_name(a.kind());
  if (a.due_ms() != 0) out << ", due " << local_time(a.due_ms(), a.time_zone()) << " " << a.time_zone();
  if (a.version_count() > 0)
    out << ", " << a.version_count() << " version" << (a.version_count() == 1 ? "" : "s");
  if (a.goal_id() != 0) out << ", for goal " << a.goal_id();
  out << ")";
  return out.str();
}

}  // namespace

int cmd_assign(const Global& g, const std::vector<std::string>& args) {
  po::options_description options("assign options");
  options.add_options()("help,h", "show this help")("action", po::value<std::string>()->default_value("list"),
                                                    "create, list, show, acknowledge or withdraw")(
      "id", po::value<std::string>(), "show, acknowledge, withdraw: the assignment id")(
      "mentorship", po::value<std::string>(), "create, list: the mentorship id (see 'mentorships')")(
      "title", po::value<std::string>(), "create: the title (1-200 bytes)")(
      "instructions", po::value<std::string>(), "create: what to do (up to 8 KiB)")(
      "instructions-file", po::value<std::string>(), "create: read the instructions from this file")(
      "kind", po::value<std::string>()->default_value("other"),
      "create: cv, study-protocol, abstract, personal-statement or other")(
      "due", po::value<std::string>(),
      "create: due time, \"YYYY-MM-DD HH:MM\" in --time-zone (or UTC with a Z)")(
      "time-zone", po::value<std::string>()->default_value(default_zone()),
      "create: the zone of --due (IANA name)")(
      "goal", po::value<std::string>(), "create: the goal it serves (a goal id of the same mentorship)")(
      "all", "list: approved and withdrawn ones too")("reason", po::value<std::string>(),
                                                      "withdraw: why (required)");
  po::positional_options_description positional;
  positional.add("action", 1).add("id", 1);
  auto vm = parse_command("assign", options, positional, args);
  if (help_requested(vm, "assign", "[create|list|show|acknowledge|withdraw] [ID] [options]",
                     "preceptor-cli assign create --mentorship 3 --title \"Revise your CV\" --kind cv "
                     "--instructions \"Two pages at "
                     "most\" --due \"2026-12-15 17:00\" --time-zone Europe/Stockholm\n"
                     "  preceptor-cli assign list --mentorship 3 [--all]\n"
                     "  preceptor-cli assign show 8          # versions, reviews and their comments\n"
                     "  preceptor-cli assign acknowledge 8   # mentees: you have seen it\n"
                     "  preceptor-cli assign withdraw 8 --reason \"Covered in the meeting\"\n"
                     "\n"
                     "Mentors hand an assignment off; mentees may open one for their own work (\"please look "
                     "at my CV\").\n"
                     "States: assigned -> acknowledged -> submitted -> changes requested <-> resubmitted -> "
                     "approved, or "
                     "withdrawn.\n"
                     "Submit a version with 'preceptor-cli submit FILE --assignment ID'; review it with "
                     "'preceptor-cli review "
                     "ID'.",
                     options)) {
    return kExitOk;
  }
  const std::string action = vm["action"].as<std::string>();
  auto mentorship = [&] {
    if (!vm.count("mentorship"))
      throw UsageError{"assign " + action + " needs --mentorship ID (see 'mentorships')."};
    return parse_id("--mentorship", vm["mentorship"].as<std::string>());
  };
  if (action == "create") {
    v1::CreateAssignment req;
    req.set_mentorship_id(mentorship());
    if (!vm.count("title")) throw UsageError{"assign create needs --title."};
    req.set_title(vm["title"].as<std::string>());
    if (vm.count("instructions") && vm.count("instructions-file")) {
      throw UsageError{"Give --instructions or --instructions-file, not both."};
    }
    if (vm.count("instructions")) req.set_instructions(vm["instructions"].as<std::string>());
    if (vm.count("instructions-file")) {
      const std::string path = vm["instructions-file"].as<std::string>();
      std::ifstream in(path, std::ios::binary);
      if (!in) throw UsageError{"Could not read " + path + "."};
      std::ostringstream text;
      text << in.rdbuf();
      req.set_instructions(text.str());
    }
    auto kind = parse_assignment_kind(vm["kind"].as<std::string>());
    if (!kind) {
      throw UsageError{"Unknown kind '" + vm["kind"].as<std::string>() +
                       "'; use cv, study-protocol, abstract, personal-statement or other."};
    }
    req.set_kind(*kind);
    if (vm.count("due")) {
      const std::string zone = vm["time-zone"].as<std::string>();
      zone_named(zone);
      req.set_due_ms(parse_when("--due", vm["due"].as<std::string>(), zone));
      req.set_time_zone(zone);
      if (req.due_ms() <= now_ms()) throw UsageError{"--due is in the past; give a time to come."};
    }
    if (vm.count("goal")) req.set_goal_id(parse_id("--goal", vm["goal"].as<std::string>()));
    Session s(g, true);
    auto r = must(s.client().create_assignment_sync(req, s.timeout()));
    std::cout << "Created " << assignment_line(r.assignment()) << ".\n";
    if (r.assignment().state() == v1::ASSIGNMENT_STATE_ASSIGNED) {
      std::cout << "The mentee sees it now; they submit with: preceptor-cli submit FILE --assignment "
                << r.assignment().id() << "\n";
    } else {
      std::cout << "Submit your draft with: preceptor-cli submit FILE --assignment " << r.assignment().id()
                << "\n";
    }
    return kExitOk;
  }
  if (action == "list") {
    v1::ListAssignments req;
    req.set_mentorship_id(vm.count("id") ? parse_id("The mentorship id", vm["id"].as<std::string>())
                                         : mentorship());
    req.set_include_closed(vm.count("all") > 0);
    req.set_limit(100);
    Session s(g, true);
    size_t shown = 0;
    for (;;) {
      auto page = must(s.client().list_assignments_sync(req, s.timeout()),
                       "Check the id with 'preceptor-cli mentorships'.");
      for (const auto& a : page.assignments()) {
        std::cout << assignment_line(a) << "\n";
        req.set_before_id(a.id());
        ++shown;
      }
      if (!page.has_more() || page.assignments().empty()) break;
    }
    if (shown == 0) std::cout << (req.include_closed() ? "No assignments yet.\n" : "No open assignments.\n");
    return kExitOk;
  }
  if (!vm.count("id")) throw UsageError{"assign " + action + " needs an assignment id (see 'assign list')."};
  const uint64_t id = parse_id("The assignment id", vm["id"].as<std::string>());
  const std::string see = "See it with 'preceptor-cli assign show " + std::to_string(id) + "'.";
  Session s(g, true);
  if (action == "show") {
    auto names = known_names(s);
    v1::GetAssignment req;
    req.set_assignment_id(id);
    req.set_review_limit(50);
    auto r = must(s.client().get_assignment_sync(req, s.timeout()),
                  "Check the id with 'preceptor-cli assign list --mentorship ID'.");
    const v1::Assignment& a = r.assignment();
    std::cout << assignment_line(a) << "\n  mentorship " << a.mentorship_id() << ", by "
              << name_of(names, a.created_by()) << ", for " << name_of(names, a.author_id())
              << ", reviewed by " << name_of(names, a.reviewer_id()) << ", revision " << a.revision() << "\n";
    if (!a.instructions().empty()) std::cout << "  Instructions: " << a.instructions() << "\n";
    if (a.state() == v1::ASSIGNMENT_STATE_WITHDRAWN)
      std::cout << "  Withdrawn: " << a.withdraw_reason() << "\n";
    for (const auto& v : r.versions()) {
      std::cout << "  version " << v.version() << "  " << format_time(v.submitted_ms()) << "  document "
                << v.document().id() << " " << v.document().name() << " (" << v.document().size()
                << " bytes, " << v.document().content_type() << ")";
      if (!v.note().empty()) std::cout << "\n      note: " << v.note();
      std::cout << "\n";
    }
    for (const auto& rv : r.reviews()) {
      std::cout << "  review " << rv.id() << " of version " << rv.version() << "  "
                << format_time(rv.created_ms()) << "  " << name_of(names, rv.reviewer_id()) << ": "
                << verdict_name(rv.verdict()) << "\n";
      if (!rv.summary().empty()) std::cout << "      " << rv.summary() << "\n";
      for (const auto& c : rv.comments()) {
        std::cout << "      comment " << c.id() << " (" << anchor_text(c.anchor()) << ")"
                  << (c.resolved() ? " [resolved]" : "") << ": " << c.text() << "\n";
        for (const auto& reply : c.replies()) {
          std::cout << "        " << name_of(names, reply.by()) << ": " << reply.text() << "\n";
        }
      }
    }
    if (r.more_reviews()) std::cout << "  (older reviews not shown)\n";
    return kExitOk;
  }
  if (action == "acknowledge") {
    v1::AcknowledgeAssignment req;
    req.set_assignment_id(id);
    auto r = must(s.client().acknowledge_assignment_sync(req, s.timeout()), see);
    std::cout << "Acknowledged " << assignment_line(r.assignment()) << ".\n";
  } else if (action == "withdraw") {
    if (!vm.count("reason")) throw UsageError{"assign withdraw needs --reason: both members see it."};
    v1::WithdrawAssignment req;
    req.set_assignment_id(id);
    req.set_reason(vm["reason"].as<std::string>());
    auto r = must(s.client().withdraw_assignment_sync(req, s.timeout()), see);
    std::cout << "Withdrew " << assignment_line(r.assignment()) << ".\n";
  } else {
    throw UsageError{"Unknown assign action '" + action +
                     "'; use create, list, show, acknowledge or withdraw."};
  }
  return kExitOk;
}

// ---- reviews ----

int cmd_review(const Global& g, const std::vector<std::string>& args) {
  po::options_description options("review options");
  options.add_options()("help,h", "show this help")("target", po::value<std::string>(),
                                                    "the assignment id, or reply / resolve")(
      "text", po::value<std::vector<std::string>>(), "reply: the reply")("verdict", po::value<std::string>(),
                                                                         "approve, changes or comment")(
      "summary", po::value<std::string>()->default_value(""), "the review's summary (up to 8 KiB)")(
      "comment", po::value<std::vector<std::string>>(),
      "a comment; the --page, --quote and --in-version after it anchor it (repeatable)")(
      "page", po::value<std::vector<unsigned>>(), "the page the comment before it points at")(
      "quote", po::value<std::vector<std::string>>(), "the passage the comment before it quotes")(
      "in-version", po::value<std::vector<unsigned>>(),
      "the version the comment before it is about (default: the one reviewed)")(
      "review", po::value<std::string>(), "reply, resolve: the review id")(
      "comment-id", po::value<unsigned>(), "reply, resolve: the comment's number in its review")(
      "undo", "resolve: mark the comment unresolved again");
  po::positional_options_description positional;
  positional.add("target", 1).add("text", -1);
  // Anchors belong to the comment before them, so the options are read in order.
  po::variables_map vm;
  po::parsed_options parsed(&options);
  try {
    parsed = po::command_line_parser(args).options(options).positional(positional).run();
    po::store(parsed, vm);
    if (!vm.count("help")) po::notify(vm);
  } catch (const po::too_many_positional_options_error&) {
    throw UsageError{"review got an argument it does not take; options start with --."};
  } catch (const po::error& e) {
    throw UsageError{std::string("review: ") + e.what() + "."};
  }
  if (help_requested(
          vm, "review", "ASSIGNMENT_ID --verdict V [--summary S] [--comment C [--page N] [--quote Q]]...",
          "preceptor-cli review 8 --verdict changes --summary \"Nearly there\" --comment \"Too long\" "
          "--page 2 --comment \"Say which year\" --quote \"in my final year\"\n"
          "  preceptor-cli review 8 --verdict approve --summary \"Ready to send\"\n"
          "  preceptor-cli review reply --review 5 --comment-id 1 \"Shortened it to one page\"\n"
          "  preceptor-cli review resolve --review 5 --comment-id 1 [--undo]\n"
          "\n"
          "A review is of the assignment's latest version, by the member who did not submit it.\n"
          "Verdicts: changes (the mentee revises and resubmits), approve (final), comment (no change of "
          "state).\n"
          "Every comment points at a --page, a --quote of the text, or both. The version's author replies "
          "to\n"
          "comments and resolves them.",
          options)) {
    return kExitOk;
  }
  if (!vm.count("target")) throw UsageError{"review needs an assignment id, or reply / resolve."};
  const std::string target = vm["target"].as<std::string>();
  if (target == "reply" || target == "resolve") {
    if (!vm.count("review") || !vm.count("comment-id")) {
      throw UsageError{"review " + target + " needs --review ID and --comment-id N (see 'assign show ID')."};
    }
    const uint64_t review = parse_id("--review", vm["review"].as<std::string>());
    const unsigned comment = vm["comment-id"].as<unsigned>();
    Session s(g, true);
    const std::string see = "See the comments with 'preceptor-cli assign show ASSIGNMENT_ID'.";
    if (target == "reply") {
      const std::string text = joined(vm, "text");
      if (text.empty()) throw UsageError{"review reply needs the reply's text."};
      v1::ReplyToComment req;
      req.set_review_id(review);
      req.set_comment_id(comment);
      req.set_text(text);
      auto r = must(s.client().reply_to_comment_sync(req, s.timeout()), see);
      std::cout << "Replied to comment " << comment << " of review " << r.review().id() << ".\n";
    } else {
      if (vm.count("text")) throw UsageError{"review resolve takes no text."};
      v1::ResolveComment req;
      req.set_review_id(review);
      req.set_comment_id(comment);
      req.set_resolved(!vm.count("undo"));
      auto r = must(s.client().resolve_comment_sync(req, s.timeout()), see);
      std::cout << "Comment " << comment << " of review " << r.review().id() << " is "
                << (req.resolved() ? "resolved" : "open again") << ".\n";
    }
    return kExitOk;
  }
  if (vm.count("text")) throw UsageError{"review got words it does not take; put comments after --comment."};
  const uint64_t assignment = parse_id("The assignment id", target);
  if (!vm.count("verdict")) throw UsageError{"review needs --verdict approve, changes or comment."};
  auto verdict = parse_verdict(vm["verdict"].as<std::string>());
  if (!verdict) {
    throw UsageError{"Unknown verdict '" + vm["verdict"].as<std::string>() +
                     "'; use approve, changes or comment."};
  }
  v1::ReviewVersion req;
  req.set_assignment_id(assignment);
  req.set_verdict(*verdict);
  req.set_summary(vm["summary"].as<std::string>());
  std::vector<unsigned> versions;  // per comment, 0 = the reviewed one
  for (const auto& o : parsed.options) {
    if (o.value.empty()) continue;
    const std::string& v = o.value.front();
    if (o.string_key == "comment") {
      req.add_comments()->set_text(v);
      versions.push_back(0);
    } else if (o.string_key == "page" || o.string_key == "quote" || o.string_key == "in-version") {
      if (req.comments().empty())
        throw UsageError{"--" + o.string_key + " belongs after the --comment it anchors."};
      auto* anchor = req.mutable_comments(req.comments_size() - 1)->mutable_anchor();
      if (o.string_key == "quote") {
        anchor->set_quote(v);
      } else {
        unsigned n = 0;
        try {
          n = static_cast<unsigned>(std::stoul(v));
        } catch (const std::exception&) {
        }
        if (n == 0) throw UsageError{"--" + o.string_key + " must be a positive number, not '" + v + "'."};
        if (o.string_key == "page") {
          anchor->set_page(n);
        } else {
          versions.back() = n;
        }
      }
    }
  }
  for (int i = 0; i < req.comments_size(); ++i) {
    const auto& anchor = req.comments(i).anchor();
    if (anchor.page() == 0 && anchor.quote().empty()) {
      throw UsageError{"Comment " + std::to_string(i + 1) + " (\"" + req.comments(i).text() +
                       "\") needs --page N or --quote TEXT after it."};
    }
  }
  Session s(g, true);
  v1::GetAssignment get;
  get.set_assignment_id(assignment);
  get.set_review_limit(1);
  auto current = must(s.client().get_assignment_sync(get, s.timeout()),
                      "Check the id with 'preceptor-cli assign list --mentorship ID'.");
  const uint32_t latest = current.assignment().version_count();
  if (latest == 0)
    throw Failed{"Assignment " + std::to_string(assignment) + " has no version to review yet."};
  req.set_version(latest);
  for (int i = 0; i < req.comments_size(); ++i) {
    req.mutable_comments(i)->mutable_anchor()->set_version(
        versions[static_cast<size_t>(i)] != 0 ? versions[static_cast<size_t>(i)] : latest);
  }
  auto r = must(s.client().review_version_sync(req, s.timeout()),
                "See the assignment with 'preceptor-cli assign show " + std::to_string(assignment) + "'.");
  std::cout << "Posted review " << r.review().id() << " of version " << r.review().version() << " ("
            << verdict_name(r.review().verdict()) << ", " << r.review().comments_size() << " comment"
            << (r.review().comments_size() == 1 ? "" : "s") << "); the assignment is "
            << assignment_state_name(r.assignment().state()) << ".\n";
  return kExitOk;
}

}  // namespace preceptor::cli
