// The authorization matrix of the work between meetings (issue 13): every
// request of work.proto (frames 90-108) and every HTTP route of documents
// and the portfolio, against a real server over real sockets, for each
// kind of caller:
//   - the two members: allowed as work.proto's rules say (only the mentee
//     acknowledges and submits, only the other member reviews, only the
//     author resolves, the reviewer answers back once the author replied,
//     only the uploader writes, inspects or abandons an upload);
//   - a member of another pair and a stranger: NOT_FOUND / 404, with the
//     same sentence (and field) as for an id that does not exist;
//   - a program director and an admin: PERMISSION_DENIED / 403, the same
//     for an id that exists and one that does not.
// Each outsider's refusal is also checked to change nothing.

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/test_client.h"
#include "tests/support/test_server.h"

namespace preceptor::work_authorization_test {
namespace {

using namespace preceptor::testing;
using F = v1::ClientFrame;
using v1::ErrorCode;

constexpr uint64_t kMissing = 987654321;  // an id nothing has
const std::string kMissingText = std::to_string(kMissing);

// `text` with every `from` replaced by `to`.
std::string replaced(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

// A string or number field of a flat JSON object ("name":"value" / "name":12).
std::string json_field(const std::string& body, const std::string& name) {
  const std::string key = "\"" + name + "\":";
  size_t at = body.find(key);
  if (at == std::string::npos) return {};
  at += key.size();
  if (at < body.size() && body[at] == '"') {
    std::string out;
    for (size_t i = at + 1; i < body.size() && body[i] != '"'; ++i) {
      if (body[i] == '\\' && i + 1 < body.size()) ++i;
      out.push_back(body[i]);
    }
    return out;
  }
  size_t end = at;
  while (end < body.size() && std::isdigit(static_cast<unsigned char>(body[end]))) ++end;
  return body.substr(at, end - at);
}

ErrorCode code_of(const v1::Response& r) {
  return r.has_error() ? r.error().code() : v1::ERROR_CODE_UNSPECIFIED;
}

struct Person {
  const char* label;
  v1::User user;
  std::string token;
  std::unique_ptr<TestClient> ws;
};

class WorkAuthorization : public ::testing::Test {
 protected:
  void SetUp() override {
    server::ServerConfig config = test_config(dir_.path());
    config.scheduler_interval_ms = 0;
    server_ = std::make_unique<TestServer>(std::move(config));
    sign_in(mentee_, "mentee", "wei.chen", v1::ROLE_MENTEE);
    sign_in(mentor_, "mentor", "mentor.erik", v1::ROLE_MENTOR);
    sign_in(other_mentee_, "other pair's mentee", "ana.other", v1::ROLE_MENTEE);
    sign_in(other_mentor_, "other pair's mentor", "mentor.other", v1::ROLE_MENTOR);
    sign_in(stranger_, "stranger", "sam.stranger", v1::ROLE_MENTEE);
    sign_in(director_, "program director", "director.okafor", v1::ROLE_PROGRAM_DIRECTOR);
    sign_in(admin_, "admin", "admin.root", v1::ROLE_ADMIN);
    mentorship_ = pair(mentee_, mentor_);
    pair(other_mentee_, other_mentor_);
  }

  void sign_in(Person& p, const char* label, const std::string& username, v1::Role role) {
    p.label = label;
    p.user = server_->add_user(username, role);
    p.ws = std::make_unique<TestClient>();
    ASSERT_EQ(p.ws->connect(server_->port()), "");
    auto login = p.ws->login(username, TestServer::password_of(username));
    ASSERT_TRUE(login.has_login()) << login.DebugString();
    p.token = login.login().token();
  }

  v1::Response call(Person& who, F f) {
    f.set_request_id(who.ws->next_request_id());
    auto r = who.ws->call(std::move(f));
    return r.value_or(v1::Response());
  }

  uint64_t pair(Person& mentee, Person& mentor) {
    F ask;
    ask.mutable_request_mentorship()->set_mentor_id(mentor.user.id());
    ask.mutable_request_mentorship()->set_purpose(v1::PURPOSE_CAREER);
    auto asked = call(mentee, ask);
    EXPECT_TRUE(has_mentorship(asked)) << asked.DebugString();
    F accept;
    accept.mutable_accept_mentorship()->set_mentorship_id(mentorship_of(asked).id());
    auto accepted = call(mentor, accept);
    EXPECT_TRUE(has_mentorship(accepted)) << accepted.DebugString();
    return mentorship_of(accepted).id();
  }

  HttpResult http(const Person& who, const std::string& method, const std::string& path,
                  std::vector<std::pair<std::string, std::string>> headers = {},
                  const std::string& body = {}) {
    headers.emplace_back("Authorization", "Bearer " + who.token);
    return http_request(server_->port(), method, path, headers, body);
  }
  std::string uploads_of(uint64_t mentorship) {
    return "/v1/mentorships/" + std::to_string(mentorship) + "/uploads";
  }
  HttpResult start_upload(const Person& who, uint64_t mentorship, uint64_t length, const std::string& name) {
    return http(who, "POST", uploads_of(mentorship),
                {{"Upload-Length", std::to_string(length)}, {"Upload-Name", name}});
  }
  // A complete document of `who` in the pair's mentorship; its id.
  uint64_t upload(const Person& who, const std::string& name, const std::string& content) {
    HttpResult started = start_upload(who, mentorship_, content.size(), name);
    EXPECT_EQ(started.status, 201) << started.body;
    const std::string id = json_field(started.body, "upload_id");
    HttpResult done = http(who, "PATCH", "/v1/uploads/" + id, {{"Upload-Offset", "0"}}, content);
    EXPECT_EQ(done.status, 201) << done.body;
    return std::stoull(json_field(done.body, "id").empty() ? "0" : json_field(done.body, "id"));
  }

  // The assignment's revision, its versions and reviews as the mentee sees them.
  std::string assignment_snapshot(uint64_t id) {
    F f;
    f.mutable_get_assignment()->set_assignment_id(id);
    auto r = call(mentee_, f);
    EXPECT_TRUE(r.has_get_assignment()) << r.DebugString();
    return r.get_assignment().SerializeAsString();
  }
  std::string goals_snapshot() {
    F f;
    f.mutable_list_goals()->set_mentorship_id(mentorship_);
    f.mutable_list_goals()->set_include_closed(true);
    auto r = call(mentee_, f);
    EXPECT_TRUE(r.has_list_goals()) << r.DebugString();
    return r.list_goals().SerializeAsString();
  }

  TempDir dir_;
  std::unique_ptr<TestServer> server_;
  Person mentee_, mentor_, other_mentee_, other_mentor_, stranger_, director_, admin_;
  uint64_t mentorship_ = 0;
};

// One request of work.proto, made with the id it is about (a mentorship,
// goal, document, assignment or review id): `fill(frame, id)`.
struct Request {
  std::string name;
  std::function<void(F&, uint64_t)> fill;
  uint64_t id = 0;  // the existing one
};

TEST_F(WorkAuthorization, EveryRequestAndRouteByCaller) {
  // ---- What there is: a goal, a document, an assignment with version 1 and a review with a comment.
  F f;
  f.mutable_add_goal()->set_mentorship_id(mentorship_);
  f.mutable_add_goal()->set_what("Present a case at grand rounds");
  auto goal_added = call(mentee_, f);
  ASSERT_TRUE(goal_added.has_add_goal()) << goal_added.DebugString();
  const uint64_t goal = goal_added.add_goal().goal().id();

  const std::string cv = "Wei Chen\nPGY-1, internal medicine\n\nResearch: sepsis bundle compliance audit.\n";
  const uint64_t document = upload(mentee_, "cv.txt", cv);
  const uint64_t spare_document = upload(mentee_, "cv-2.txt", cv + "Teaching: ECG workshop.\n");
  ASSERT_NE(document, 0u);
  ASSERT_NE(spare_document, 0u);

  f.Clear();
  f.mutable_create_assignment()->set_mentorship_id(mentorship_);
  f.mutable_create_assignment()->set_title("Revise the CV");
  f.mutable_create_assignment()->set_kind(v1::ASSIGNMENT_KIND_CV);
  auto created = call(mentor_, f);
  ASSERT_TRUE(created.has_create_assignment()) << created.DebugString();
  const uint64_t assignment = created.create_assignment().assignment().id();
  f.Clear();
  f.mutable_submit_version()->set_assignment_id(assignment);
  f.mutable_submit_version()->set_document_id(document);
  auto submitted = call(mentee_, f);
  ASSERT_TRUE(submitted.has_submit_version()) << submitted.DebugString();
  f.Clear();
  f.mutable_review_version()->set_assignment_id(assignment);
  f.mutable_review_version()->set_version(1);
  f.mutable_review_version()->set_verdict(v1::REVIEW_VERDICT_COMMENT_ONLY);
  auto* comment = f.mutable_review_version()->add_comments();
  comment->mutable_anchor()->set_version(1);
  comment->mutable_anchor()->set_page(1);
  comment->set_text("Say what your part in the audit was.");
  auto reviewed = call(mentor_, f);
  ASSERT_TRUE(reviewed.has_review_version()) << reviewed.DebugString();
  const uint64_t review = reviewed.review_version().review().id();

  // An unfinished upload of the mentee's.
  HttpResult pending_started = start_upload(mentee_, mentorship_, 100, "draft.txt");
  ASSERT_EQ(pending_started.status, 201) << pending_started.body;
  const uint64_t pending = std::stoull(json_field(pending_started.body, "upload_id"));

  // ---- Every request of work.proto (frames 90-108).
  const std::vector<Request> requests = {
      {"AddGoal",
       [](F& f, uint64_t id) {
         f.mutable_add_goal()->set_mentorship_id(id);
         f.mutable_add_goal()->set_what("Intrude");
       },
       mentorship_},
      {"EditGoal",
       [](F& f, uint64_t id) {
         f.mutable_edit_goal()->set_goal_id(id);
         f.mutable_edit_goal()->set_what("Intrude");
       },
       goal},
      {"SetGoalState",
       [](F& f, uint64_t id) {
         f.mutable_set_goal_state()->set_goal_id(id);
         f.mutable_set_goal_state()->set_state(v1::GOAL_STATE_DONE);
       },
       goal},
      {"AddGoalNote",
       [](F& f, uint64_t id) {
         f.mutable_add_goal_note()->set_goal_id(id);
         f.mutable_add_goal_note()->set_text("Intrude");
       },
       goal},
      {"ListGoals", [](F& f, uint64_t id) { f.mutable_list_goals()->set_mentorship_id(id); }, mentorship_},
      {"GetGoalHistory", [](F& f, uint64_t id) { f.mutable_get_goal_history()->set_goal_id(id); }, goal},
      {"Reassess",
       [goal](F& f, uint64_t id) {
         f.mutable_reassess()->set_mentorship_id(id);
         auto* d = f.mutable_reassess()->add_decisions();
         d->set_goal_id(goal);
         d->set_decision(v1::GOAL_DECISION_KIND_KEEP);
         f.mutable_reassess()->set_summary("Intrude");
       },
       mentorship_},
      {"ListReassessments", [](F& f, uint64_t id) { f.mutable_list_reassessments()->set_mentorship_id(id); },
       mentorship_},
      {"GetDocument", [](F& f, uint64_t id) { f.mutable_get_document()->set_document_id(id); }, document},
      {"CreateAssignment",
       [](F& f, uint64_t id) {
         f.mutable_create_assignment()->set_mentorship_id(id);
         f.mutable_create_assignment()->set_title("Intrude");
         f.mutable_create_assignment()->set_kind(v1::ASSIGNMENT_KIND_OTHER);
       },
       mentorship_},
      {"AcknowledgeAssignment",
       [](F& f, uint64_t id) { f.mutable_acknowledge_assignment()->set_assignment_id(id); }, assignment},
      {"SubmitVersion",
       [spare_document](F& f, uint64_t id) {
         f.mutable_submit_version()->set_assignment_id(id);
         f.mutable_submit_version()->set_document_id(spare_document);
       },
       assignment},
      {"ReviewVersion",
       [](F& f, uint64_t id) {
         f.mutable_review_version()->set_assignment_id(id);
         f.mutable_review_version()->set_version(1);
         f.mutable_review_version()->set_verdict(v1::REVIEW_VERDICT_APPROVED);
       },
       assignment},
      {"ReplyToComment",
       [](F& f, uint64_t id) {
         f.mutable_reply_to_comment()->set_review_id(id);
         f.mutable_reply_to_comment()->set_comment_id(1);
         f.mutable_reply_to_comment()->set_text("Intrude");
       },
       review},
      {"ResolveComment",
       [](F& f, uint64_t id) {
         f.mutable_resolve_comment()->set_review_id(id);
         f.mutable_resolve_comment()->set_comment_id(1);
         f.mutable_resolve_comment()->set_resolved(true);
       },
       review},
      {"WithdrawAssignment",
       [](F& f, uint64_t id) {
         f.mutable_withdraw_assignment()->set_assignment_id(id);
         f.mutable_withdraw_assignment()->set_reason("Intrude");
       },
       assignment},
      {"ListAssignments", [](F& f, uint64_t id) { f.mutable_list_assignments()->set_mentorship_id(id); },
       mentorship_},
      {"GetAssignment", [](F& f, uint64_t id) { f.mutable_get_assignment()->set_assignment_id(id); },
       assignment},
  };
  // Every work.proto request is here: the frames 90-108 that exist.
  {
    const auto* oneof = F::descriptor()->FindOneofByName("request");
    ASSERT_NE(oneof, nullptr);
    size_t work_requests = 0;
    for (int i = 0; i < oneof->field_count(); ++i) {
      const int number = oneof->field(i)->number();
      if (number < 90 || number > 108) continue;
      ++work_requests;
      const std::string type = oneof->field(i)->message_type()->name();
      EXPECT_TRUE(
          std::any_of(requests.begin(), requests.end(), [&](const Request& r) { return r.name == type; }))
          << type << " is not in the matrix";
    }
    EXPECT_EQ(work_requests, requests.size());
  }

  const std::string goals_before = goals_snapshot();
  const std::string assignment_before = assignment_snapshot(assignment);
  auto build = [](const Request& r, uint64_t id) {
    F f;
    r.fill(f, id);
    return f;
  };

  // A member asking about an id that does not exist: the answer outsiders must get too.
  for (const Request& r : requests) {
    auto none = call(mentee_, build(r, kMissing));
    EXPECT_EQ(code_of(none), v1::ERROR_CODE_NOT_FOUND) << "mentee x " << r.name << " (missing id)";
  }

  // Outsiders who are users like the members: what a missing id gets, to the letter.
  for (Person* who : {&other_mentee_, &other_mentor_, &stranger_}) {
    for (const Request& r : requests) {
      SCOPED_TRACE(std::string(who->label) + " x " + r.name);
      auto theirs = call(*who, build(r, r.id));
      auto none = call(mentee_, build(r, kMissing));
      EXPECT_EQ(code_of(theirs), v1::ERROR_CODE_NOT_FOUND) << theirs.DebugString();
      EXPECT_FALSE(theirs.error().message().empty());
      EXPECT_EQ(theirs.error().message(),
                replaced(none.error().message(), kMissingText, std::to_string(r.id)));
      EXPECT_EQ(theirs.error().field(), none.error().field());
      auto own_missing = call(*who, build(r, kMissing));
      EXPECT_EQ(own_missing.error().message(), none.error().message());
    }
  }
  // Program directors and admins: refused, and an id that exists is not told from one that does not.
  for (Person* who : {&director_, &admin_}) {
    for (const Request& r : requests) {
      SCOPED_TRACE(std::string(who->label) + " x " + r.name);
      auto theirs = call(*who, build(r, r.id));
      auto none = call(*who, build(r, kMissing));
      EXPECT_EQ(code_of(theirs), v1::ERROR_CODE_PERMISSION_DENIED) << theirs.DebugString();
      EXPECT_FALSE(theirs.error().message().empty());
      EXPECT_EQ(code_of(none), v1::ERROR_CODE_PERMISSION_DENIED) << none.DebugString();
      EXPECT_EQ(theirs.error().message(),
                replaced(none.error().message(), kMissingText, std::to_string(r.id)));
    }
  }

  // ---- The HTTP routes, with the same callers.
  struct Route {
    std::string name;
    std::string method;
    std::function<std::string(uint64_t)> path;
    uint64_t id;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
  };
  const std::vector<Route> routes = {
      {"POST uploads",
       "POST",
       [this](uint64_t id) { return uploads_of(id); },
       mentorship_,
       {{"Upload-Length", "10"}, {"Upload-Name", "x.txt"}},
       ""},
      {"PATCH upload",
       "PATCH",
       [](uint64_t id) { return "/v1/uploads/" + std::to_string(id); },
       pending,
       {{"Upload-Offset", "0"}},
       "Intrude"},
      {"HEAD upload",
       "HEAD",
       [](uint64_t id) { return "/v1/uploads/" + std::to_string(id); },
       pending,
       {},
       ""},
      {"DELETE upload",
       "DELETE",
       [](uint64_t id) { return "/v1/uploads/" + std::to_string(id); },
       pending,
       {},
       ""},
      {"GET document",
       "GET",
       [](uint64_t id) { return "/v1/documents/" + std::to_string(id); },
       document,
       {},
       ""},
      {"HEAD document",
       "HEAD",
       [](uint64_t id) { return "/v1/documents/" + std::to_string(id); },
       document,
       {},
       ""},
      {"GET portfolio",
       "GET",
       [](uint64_t id) { return "/v1/mentorships/" + std::to_string(id) + "/portfolio.zip"; },
       mentorship_,
       {},
       ""},
  };
  for (const Route& r : routes) {
    auto none = http(mentee_, r.method, r.path(kMissing), r.headers, r.body);
    EXPECT_EQ(none.status, 404) << "mentee x " << r.name << " (missing id): " << none.body;
    for (Person* who : {&other_mentee_, &other_mentor_, &stranger_}) {
      SCOPED_TRACE(std::string(who->label) + " x " + r.name);
      auto theirs = http(*who, r.method, r.path(r.id), r.headers, r.body);
      EXPECT_EQ(theirs.status, 404) << theirs.body;
      if (r.method == "HEAD") continue;  // no body to compare
      EXPECT_FALSE(json_field(theirs.body, "message").empty()) << theirs.body;
      EXPECT_EQ(json_field(theirs.body, "message"),
                replaced(json_field(none.body, "message"), kMissingText, std::to_string(r.id)));
    }
    for (Person* who : {&director_, &admin_}) {
      SCOPED_TRACE(std::string(who->label) + " x " + r.name);
      auto theirs = http(*who, r.method, r.path(r.id), r.headers, r.body);
      auto missing = http(*who, r.method, r.path(kMissing), r.headers, r.body);
      EXPECT_EQ(theirs.status, 403) << theirs.body;
      EXPECT_EQ(missing.status, 403) << missing.body;
      if (r.method == "HEAD") continue;
      EXPECT_FALSE(json_field(theirs.body, "message").empty()) << theirs.body;
      EXPECT_EQ(json_field(theirs.body, "message"),
                replaced(json_field(missing.body, "message"), kMissingText, std::to_string(r.id)));
    }
  }

  // Nothing an outsider asked changed anything.
  EXPECT_EQ(goals_snapshot(), goals_before);
  EXPECT_EQ(assignment_snapshot(assignment), assignment_before);
  {
    auto head = http(mentee_, "HEAD", "/v1/uploads/" + std::to_string(pending));
    EXPECT_EQ(head.status, 200);
  }

  // ---- The two members, as the rules say.
  auto ok = [&](Person& who, const F& frame, auto has) {
    auto r = call(who, frame);
    EXPECT_TRUE((r.*has)()) << who.label << ": " << r.DebugString();
    return r;
  };
  auto refused = [&](Person& who, const F& frame, ErrorCode code) {
    auto r = call(who, frame);
    EXPECT_EQ(code_of(r), code) << who.label << ": " << r.DebugString();
    EXPECT_FALSE(r.error().message().empty());
  };
  // Reads: both.
  for (Person* who : {&mentee_, &mentor_}) {
    for (const char* name : {"ListGoals", "GetGoalHistory", "ListReassessments", "GetDocument",
                             "ListAssignments", "GetAssignment"}) {
      const Request& r =
          *std::find_if(requests.begin(), requests.end(), [&](const Request& x) { return x.name == name; });
      auto answer = call(*who, build(r, r.id));
      EXPECT_FALSE(answer.has_error()) << who->label << " x " << name << ": " << answer.DebugString();
    }
  }
  // Goals: either member adds, edits, closes and reopens, notes and reassesses.
  std::vector<uint64_t> open_goals = {goal};
  for (Person* who : {&mentee_, &mentor_}) {
    F add;
    add.mutable_add_goal()->set_mentorship_id(mentorship_);
    add.mutable_add_goal()->set_what(std::string("A goal of the ") + who->label);
    open_goals.push_back(ok(*who, add, &v1::Response::has_add_goal).add_goal().goal().id());
    F edit;
    edit.mutable_edit_goal()->set_goal_id(goal);
    edit.mutable_edit_goal()->set_what(std::string("Present a case at grand rounds, edited by the ") +
                                       who->label);
    ok(*who, edit, &v1::Response::has_edit_goal);
    F note;
    note.mutable_add_goal_note()->set_goal_id(goal);
    note.mutable_add_goal_note()->set_text("Picked the case.");
    ok(*who, note, &v1::Response::has_add_goal_note);
  }
  F done;
  done.mutable_set_goal_state()->set_goal_id(goal);
  done.mutable_set_goal_state()->set_state(v1::GOAL_STATE_DONE);
  ok(mentor_, done, &v1::Response::has_set_goal_state);
  done.mutable_set_goal_state()->set_state(v1::GOAL_STATE_OPEN);
  ok(mentee_, done, &v1::Response::has_set_goal_state);
  for (Person* who : {&mentee_, &mentor_}) {
    F reassess;
    reassess.mutable_reassess()->set_mentorship_id(mentorship_);
    for (uint64_t id : open_goals) {
      auto* d = reassess.mutable_reassess()->add_decisions();
      d->set_goal_id(id);
      d->set_decision(v1::GOAL_DECISION_KIND_KEEP);
    }
    reassess.mutable_reassess()->set_summary("On track.");
    ok(*who, reassess, &v1::Response::has_reassess);
  }

  // Assignments: either member opens one; only the mentee acknowledges and submits.
  F handed;
  handed.mutable_create_assignment()->set_mentorship_id(mentorship_);
  handed.mutable_create_assignment()->set_title("Draft the case summary");
  handed.mutable_create_assignment()->set_kind(v1::ASSIGNMENT_KIND_OTHER);
  auto handed_off =
      ok(mentor_, handed, &v1::Response::has_create_assignment).create_assignment().assignment();
  EXPECT_EQ(handed_off.state(), v1::ASSIGNMENT_STATE_ASSIGNED);
  handed.mutable_create_assignment()->set_title("Please look at my personal statement");
  auto own = ok(mentee_, handed, &v1::Response::has_create_assignment).create_assignment().assignment();
  EXPECT_EQ(own.state(), v1::ASSIGNMENT_STATE_ACKNOWLEDGED);
  F ack;
  ack.mutable_acknowledge_assignment()->set_assignment_id(handed_off.id());
  refused(mentor_, ack, v1::ERROR_CODE_PERMISSION_DENIED);
  ok(mentee_, ack, &v1::Response::has_acknowledge_assignment);
  F submit;
  submit.mutable_submit_version()->set_assignment_id(handed_off.id());
  submit.mutable_submit_version()->set_document_id(spare_document);
  refused(mentor_, submit, v1::ERROR_CODE_PERMISSION_DENIED);
  ok(mentee_, submit, &v1::Response::has_submit_version);
  // Only the other member reviews.
  F review_it;
  review_it.mutable_review_version()->set_assignment_id(handed_off.id());
  review_it.mutable_review_version()->set_version(1);
  review_it.mutable_review_version()->set_verdict(v1::REVIEW_VERDICT_CHANGES_REQUESTED);
  auto* c = review_it.mutable_review_version()->add_comments();
  c->mutable_anchor()->set_version(1);
  c->mutable_anchor()->set_quote("sepsis bundle");
  c->set_text("Which bundle elements?");
  refused(mentee_, review_it, v1::ERROR_CODE_PERMISSION_DENIED);
  const uint64_t new_review =
      ok(mentor_, review_it, &v1::Response::has_review_version).review_version().review().id();
  // Replies: the author first, then the reviewer may answer back; only the author resolves.
  F reply;
  reply.mutable_reply_to_comment()->set_review_id(new_review);
  reply.mutable_reply_to_comment()->set_comment_id(1);
  reply.mutable_reply_to_comment()->set_text("All five.");
  refused(mentor_, reply, v1::ERROR_CODE_FAILED_PRECONDITION);
  ok(mentee_, reply, &v1::Response::has_reply_to_comment);
  ok(mentor_, reply, &v1::Response::has_reply_to_comment);
  F resolve;
  resolve.mutable_resolve_comment()->set_review_id(new_review);
  resolve.mutable_resolve_comment()->set_comment_id(1);
  resolve.mutable_resolve_comment()->set_resolved(true);
  refused(mentor_, resolve, v1::ERROR_CODE_PERMISSION_DENIED);
  ok(mentee_, resolve, &v1::Response::has_resolve_comment);
  // Either member withdraws.
  F withdraw;
  withdraw.mutable_withdraw_assignment()->set_assignment_id(handed_off.id());
  withdraw.mutable_withdraw_assignment()->set_reason("Covered in person.");
  ok(mentor_, withdraw, &v1::Response::has_withdraw_assignment);
  withdraw.mutable_withdraw_assignment()->set_assignment_id(own.id());
  ok(mentee_, withdraw, &v1::Response::has_withdraw_assignment);

  // HTTP: both members start uploads and download documents and the portfolio; only the
  // uploader writes, inspects and abandons an upload.
  for (Person* who : {&mentee_, &mentor_}) {
    SCOPED_TRACE(who->label);
    auto started = start_upload(*who, mentorship_, 10, "notes.txt");
    EXPECT_EQ(started.status, 201) << started.body;
    auto abandoned = http(*who, "DELETE", "/v1/uploads/" + json_field(started.body, "upload_id"));
    EXPECT_EQ(abandoned.status, 204) << abandoned.body;
    auto got = http(*who, "GET", "/v1/documents/" + std::to_string(document));
    EXPECT_EQ(got.status, 200);
    EXPECT_EQ(got.body, cv);
    EXPECT_EQ(http(*who, "HEAD", "/v1/documents/" + std::to_string(document)).status, 200);
    auto zip = http(*who, "GET", "/v1/mentorships/" + std::to_string(mentorship_) + "/portfolio.zip");
    EXPECT_EQ(zip.status, 200) << zip.body.substr(0, 200);
    EXPECT_EQ(zip.body.substr(0, 2), "PK");
  }
  const std::string upload_path = "/v1/uploads/" + std::to_string(pending);
  EXPECT_EQ(http(mentor_, "PATCH", upload_path, {{"Upload-Offset", "0"}}, "Intrude").status, 403);
  EXPECT_EQ(http(mentor_, "HEAD", upload_path).status, 403);
  EXPECT_EQ(http(mentor_, "DELETE", upload_path).status, 403);
  EXPECT_EQ(http(mentee_, "PATCH", upload_path, {{"Upload-Offset", "0"}}, "Begun").status, 204);
  EXPECT_EQ(http(mentee_, "HEAD", upload_path).status, 200);
  EXPECT_EQ(http(mentee_, "DELETE", upload_path).status, 204);
  EXPECT_EQ(http(mentee_, "HEAD", upload_path).status, 404);
}

}  // namespace
}  // namespace preceptor::work_authorization_test
