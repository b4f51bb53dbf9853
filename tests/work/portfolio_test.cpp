// The portfolio export (server/services/portfolio.h): a mentorship's work
// made through the real services (goals, a reassessment, an assignment with
// a review, a reply and an approval), one document stored as the documents
// service stores it (pieces in document_chunks), then the zip read back with
// libzip: every file there, the document byte for byte, the texts in place;
// and who may export.
#include "server/services/portfolio.h"

#include <gtest/gtest.h>
#include <zip.h>

#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <string>

#include "server/services/membership.h"
#include "storage/keys.h"
#include "tests/harness/services_harness.h"
#include "tests/temp/temp_dir.h"

namespace preceptor::portfolio_test {
namespace {

using harness::frame;
using storage::Cf;
using F = v1::ClientFrame;
namespace keys = storage::keys;

Status commit_and_wait(storage::Committer& committer, storage::ApplyFn apply) {
  auto done = std::make_shared<std::promise<Status>>();
  auto future = done->get_future();
  committer.submit(std::move(apply), [done](const Status& st) { done->set_value(st); });
  if (future.wait_for(std::chrono::seconds(20)) != std::future_status::ready)
    return internal_error("The test gave up waiting for the committer.");
  return future.get();
}

// Every entry of the zip at `path`: name -> content.
std::map<std::string, std::string> read_zip(const std::filesystem::path& path) {
  std::map<std::string, std::string> out;
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &err);
  EXPECT_NE(z, nullptr) << "libzip error " << err;
  if (z == nullptr) return out;
  const zip_int64_t n = zip_get_num_entries(z, 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    EXPECT_EQ(zip_stat_index(z, static_cast<zip_uint64_t>(i), 0, &st), 0);
    zip_file_t* f = zip_fopen_index(z, static_cast<zip_uint64_t>(i), 0);
    EXPECT_NE(f, nullptr);
    if (f == nullptr) continue;
    std::string content(st.size, '\0');
    EXPECT_EQ(zip_fread(f, content.data(), st.size), static_cast<zip_int64_t>(st.size));
    zip_fclose(f);
    out[st.name] = std::move(content);
  }
  zip_close(z);
  return out;
}

class Portfolio : public ::testing::Test {
 protected:
  Portfolio()
      : mentor_(h_.add_user("dr.lind", v1::ROLE_MENTOR)),
        mentee_(h_.add_user("wei.chen", v1::ROLE_MENTEE)),
        stranger_(h_.add_user("lucia", v1::ROLE_MENTEE)),
        director_(h_.add_user("director", v1::ROLE_PROGRAM_DIRECTOR)),
        membership_(h_.store()),
        portfolio_(h_.store(), membership_, h_.accounts(), h_.clock()) {}

  v1::Response call(const v1::User& who, F f) { return h_.call(h_.caller(who), std::move(f)); }

  uint64_t pair() {
    v1::RequestMentorship req;
    req.set_mentor_id(mentor_.id());
    req.set_purpose(v1::PURPOSE_CAREER);
    auto asked = call(mentee_, frame(&F::mutable_request_mentorship, req));
    EXPECT_TRUE(asked.has_request_mentorship()) << asked.DebugString();
    v1::AcceptMentorship accept;
    accept.set_mentorship_id(asked.request_mentorship().mentorship().id());
    auto accepted = call(mentor_, frame(&F::mutable_accept_mentorship, accept));
    EXPECT_TRUE(accepted.has_accept_mentorship()) << accepted.DebugString();
    return accepted.accept_mentorship().mentorship().id();
  }

  // A complete document of `bytes`, stored in pieces of `piece` bytes keyed
  // by their offsets, as the documents service leaves an upload.
  uint64_t store_document(uint64_t mentorship, const std::string& bytes, size_t piece) {
    uint64_t id = 0;
    Status st = commit_and_wait(h_.committer(), [&](storage::CommitContext& ctx) -> Status {
      v1::DocumentRecord rec;
      v1::Document* d = rec.mutable_document();
      d->set_id(ctx.next_id("document"));
      d->set_mentorship_id(mentorship);
      d->set_owner_id(mentee_.id());
      d->set_name("CV draft (v2).pdf");
      d->set_size(bytes.size());
      d->set_content_type("application/pdf");
      d->set_sha256(std::string(64, 'b'));
      d->set_created_ms(ctx.now_ms());
      rec.set_state(v1::DOCUMENT_STATE_COMPLETE);
      rec.set_declared_size(bytes.size());
      ctx.put(Cf::kDocuments, keys::IdKey{.id = d->id()}.encode(), rec.SerializeAsString());
      for (size_t at = 0; at < bytes.size(); at += piece) {
        ctx.put(Cf::kDocumentChunks, keys::PairKey{.parent = d->id(), .child = at}.encode(),
                bytes.substr(at, piece));
      }
      id = d->id();
      return Status::ok();
    });
    EXPECT_TRUE(st.is_ok()) << st.to_string();
    return id;
  }

  harness::ServicesHarness h_;
  v1::User mentor_, mentee_, stranger_, director_;
  services::Membership membership_;
  services::Portfolio portfolio_;
  testing::TempDir out_;
};

TEST_F(Portfolio, HoldsTheApprovedDocumentEveryReviewTheGoalsAndTheReassessments) {
  const uint64_t ms = pair();
  v1::AddGoal goal;
  goal.set_mentorship_id(ms);
  goal.set_what("Match into an internal medicine residency");
  goal.set_measure("Interviews at five programs");
  auto added = call(mentee_, frame(&F::mutable_add_goal, goal));
  ASSERT_TRUE(added.has_add_goal()) << added.DebugString();
  v1::AddGoalNote note;
  note.set_goal_id(added.add_goal().goal().id());
  note.set_text("Three letters of recommendation asked for.");
  ASSERT_TRUE(call(mentee_, frame(&F::mutable_add_goal_note, note)).has_add_goal_note());
  v1::Reassess reassess;
  reassess.set_mentorship_id(ms);
  auto* keep = reassess.add_decisions();
  keep->set_goal_id(added.add_goal().goal().id());
  keep->set_decision(v1::GOAL_DECISION_KIND_KEEP);
  reassess.set_summary("On track after the first quarter.");
  ASSERT_TRUE(call(mentor_, frame(&F::mutable_reassess, reassess)).has_reassess());

  v1::CreateAssignment create;
  create.set_mentorship_id(ms);
  create.set_title("Revise your CV for residency applications");
  create.set_instructions("Two pages, newest first.");
  create.set_kind(v1::ASSIGNMENT_KIND_CV);
  auto created = call(mentor_, frame(&F::mutable_create_assignment, create));
  ASSERT_TRUE(created.has_create_assignment()) << created.DebugString();
  const uint64_t aid = created.create_assignment().assignment().id();
  v1::AcknowledgeAssignment ack;
  ack.set_assignment_id(aid);
  ASSERT_TRUE(call(mentee_, frame(&F::mutable_acknowledge_assignment, ack)).has_acknowledge_assignment());
  std::string pdf = "%PDF-1.4\n";
  while (pdf.size() < 70'000) pdf += "line " + std::to_string(pdf.size()) + " of the CV draft\n";
  const uint64_t doc = store_document(ms, pdf, 16'384);
  v1::SubmitVersion submit;
  submit.set_assignment_id(aid);
  submit.set_document_id(doc);
  submit.set_note("With the research section rewritten.");
  ASSERT_TRUE(call(mentee_, frame(&F::mutable_submit_version, submit)).has_submit_version());
  v1::ReviewVersion review;
  review.set_assignment_id(aid);
  review.set_version(1);
  review.set_verdict(v1::REVIEW_VERDICT_APPROVED);
  review.set_summary("Ready to send.");
  auto* c = review.add_comments();
  c->mutable_anchor()->set_version(1);
  c->mutable_anchor()->set_page(1);
  c->mutable_anchor()->set_quote("Research experience");
  c->set_text("Lead with the cardiology project.");
  auto reviewed = call(mentor_, frame(&F::mutable_review_version, review));
  ASSERT_TRUE(reviewed.has_review_version()) << reviewed.DebugString();
  v1::ReplyToComment reply;
  reply.set_review_id(reviewed.review_version().review().id());
  reply.set_comment_id(1);
  reply.set_text("Moved it to the top.");
  ASSERT_TRUE(call(mentee_, frame(&F::mutable_reply_to_comment, reply)).has_reply_to_comment());

  for (const v1::User* who : {&mentee_, &mentor_}) {
    auto file = portfolio_.build(*who, ms, out_.path());
    ASSERT_TRUE(file.is_ok()) << file.status().to_string();
    EXPECT_EQ(file->download_name, "portfolio-" + std::to_string(ms) + "-User-wei.chen.zip");
    const auto entries = read_zip(file->path);
    const std::string folder =
        "assignments/" + std::to_string(aid) + "-Revise-your-CV-for-residency-applications/";
    ASSERT_TRUE(entries.count(folder + "approved-v1-CV-draft-v2.pdf")) << [&] {
      std::string names;
      for (const auto& [n, _] : entries) names += n + " ";
      return names;
    }();
    const std::string& approved = entries.at(folder + "approved-v1-CV-draft-v2.pdf");
    EXPECT_EQ(approved, pdf) << "the document byte for byte";
    EXPECT_NE(entries.at(folder + "reviews.md").find("Lead with the cardiology project."), std::string::npos);
    EXPECT_NE(entries.at(folder + "reviews.md").find("Moved it to the top."), std::string::npos);
    EXPECT_NE(entries.at(folder + "reviews.md").find("page 1"), std::string::npos);
    EXPECT_NE(entries.at(folder + "README.md").find("Two pages, newest first."), std::string::npos);
    EXPECT_NE(entries.at("goals.md").find("Match into an internal medicine residency"), std::string::npos);
    EXPECT_NE(entries.at("goals.md").find("Three letters of recommendation asked for."), std::string::npos);
    EXPECT_NE(entries.at("reassessments.md").find("On track after the first quarter."), std::string::npos);
    EXPECT_NE(entries.at("index.md").find(folder + "reviews.md"), std::string::npos);
    EXPECT_NE(entries.at("index.md").find("User wei.chen's work with User dr.lind"), std::string::npos);
    std::filesystem::remove(file->path);
  }
}

TEST_F(Portfolio, OnlyTheTwoMembersExportIt) {
  const uint64_t ms = pair();
  auto stranger = portfolio_.build(stranger_, ms, out_.path());
  ASSERT_FALSE(stranger.is_ok());
  EXPECT_EQ(stranger.status().code(), v1::ERROR_CODE_NOT_FOUND);
  auto missing = portfolio_.build(mentee_, ms + 1000, out_.path());
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.status().code(), v1::ERROR_CODE_NOT_FOUND);
  // Ids reveal nothing: the same sentence for another pair's mentorship and a missing one.
  EXPECT_EQ(stranger.status().message(), "No mentorship " + std::to_string(ms) + " among yours.");
  EXPECT_EQ(missing.status().message(), "No mentorship " + std::to_string(ms + 1000) + " among yours.");
  auto director = portfolio_.build(director_, ms, out_.path());
  ASSERT_FALSE(director.is_ok());
  EXPECT_EQ(director.status().code(), v1::ERROR_CODE_PERMISSION_DENIED);
  // An empty mentorship still exports (index, goals, reassessments).
  auto empty = portfolio_.build(mentee_, ms, out_.path());
  ASSERT_TRUE(empty.is_ok()) << empty.status().to_string();
  const auto entries = read_zip(empty->path);
  EXPECT_EQ(entries.size(), 3u);
  EXPECT_NE(entries.at("goals.md").find("No goals yet."), std::string::npos);
}

TEST_F(Portfolio, AMissingPieceOfADocumentFailsTheExportAndLeavesNoFile) {
  const uint64_t ms = pair();
  v1::CreateAssignment create;
  create.set_mentorship_id(ms);
  create.set_title("Abstract");
  create.set_kind(v1::ASSIGNMENT_KIND_ABSTRACT);
  auto created = call(mentee_, frame(&F::mutable_create_assignment, create));
  ASSERT_TRUE(created.has_create_assignment()) << created.DebugString();
  const uint64_t aid = created.create_assignment().assignment().id();
  const uint64_t doc = store_document(ms, "%PDF-1.4\n" + std::string(40'000, 'x'), 10'000);
  ASSERT_TRUE(commit_and_wait(h_.committer(), [doc](storage::CommitContext& ctx) {
                ctx.del(Cf::kDocumentChunks, keys::PairKey{.parent = doc, .child = 20'000}.encode());
                return Status::ok();
              }).is_ok());
  v1::SubmitVersion submit;
  submit.set_assignment_id(aid);
  submit.set_document_id(doc);
  ASSERT_TRUE(call(mentee_, frame(&F::mutable_submit_version, submit)).has_submit_version());
  v1::ReviewVersion review;
  review.set_assignment_id(aid);
  review.set_version(1);
  review.set_verdict(v1::REVIEW_VERDICT_APPROVED);
  ASSERT_TRUE(call(mentor_, frame(&F::mutable_review_version, review)).has_review_version());
  auto file = portfolio_.build(mentee_, ms, out_.path());
  ASSERT_FALSE(file.is_ok());
  EXPECT_EQ(file.status().code(), v1::ERROR_CODE_INTERNAL);
  EXPECT_TRUE(std::filesystem::is_empty(out_.path())) << "no half-written zip stays behind";
}

}  // namespace
}  // namespace preceptor::portfolio_test
