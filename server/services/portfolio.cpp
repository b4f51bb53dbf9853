#include "server/services/portfolio.h"

#include <zip.h>

#include <algorithm>
#include <atomic>
#include <ctime>
#include <deque>
#include <map>
#include <memory>
#include <string_view>
#include <vector>

#include "preceptor/v1/records.pb.h"
#include "preceptor/v1/work.pb.h"
#include "server/services/record_io.h"
#include "server/services/work_book.h"
#include "storage/keys.h"

namespace preceptor::services {
namespace {

using storage::Cf;
namespace keys = storage::keys;

std::string id_key(uint64_t id) { return keys::IdKey{.id = id}.encode(); }

// "2026-11-29 14:05 UTC"
std::string utc_text(int64_t ms) {
  if (ms <= 0) return "-";
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

// A name safe in any file system: letters, digits, '.', '-', '_' (others
// become '-'), at most 60 bytes, never empty or only dots.
std::string safe_name(std::string_view s) {
  std::string out;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (out.size() >= 60) break;
    if (ok) {
      out.push_back(c);
    } else if (!out.empty() && out.back() != '-') {
      out.push_back('-');
    }
  }
  while (!out.empty() && (out.back() == '-' || out.back() == '.')) out.pop_back();
  if (out.find_first_not_of('.') == std::string::npos) return "file";
  return out;
}

// Someone's text as a Markdown quote (kept as they wrote it, shown as theirs).
std::string as_quote(std::string_view text) {
  if (text.empty()) return "> (empty)\n";
  std::string out = "> ";
  for (char c : text) {
    out.push_back(c);
    if (c == '\n') out += "> ";
  }
  out.push_back('\n');
  return out;
}

std::string_view goal_state_text(v1::GoalState s) {
  switch (s) {
    case v1::GOAL_STATE_OPEN:
      return "open";
    case v1::GOAL_STATE_DONE:
      return "done";
    case v1::GOAL_STATE_DROPPED:
      return "dropped";
    default:
      return "unknown";
  }
}

std::string_view goal_change_text(v1::GoalChangeKind k) {
  switch (k) {
    case v1::GOAL_CHANGE_KIND_ADDED:
      return "added";
    case v1::GOAL_CHANGE_KIND_EDITED:
      return "edited";
    case v1::GOAL_CHANGE_KIND_DONE:
      return "marked done";
    case v1::GOAL_CHANGE_KIND_DROPPED:
      return "dropped";
    case v1::GOAL_CHANGE_KIND_REOPENED:
      return "reopened";
    case v1::GOAL_CHANGE_KIND_NOTE:
      return "progress note";
    case v1::GOAL_CHANGE_KIND_REASSESSED:
      return "reassessed";
    default:
      return "changed";
  }
}

std::string_view decision_text(v1::GoalDecisionKind k) {
  switch (k) {
    case v1::GOAL_DECISION_KIND_KEEP:
      return "keep";
    case v1::GOAL_DECISION_KIND_REFINE:
      return "refine";
    case v1::GOAL_DECISION_KIND_DROP:
      return "drop";
    default:
      return "?";
  }
}

std::string_view assignment_state_text(v1::AssignmentState s) {
  switch (s) {
    case v1::ASSIGNMENT_STATE_ASSIGNED:
      return "assigned";
    case v1::ASSIGNMENT_STATE_ACKNOWLEDGED:
      return "acknowledged";
    case v1::ASSIGNMENT_STATE_SUBMITTED:
      return "submitted";
    case v1::ASSIGNMENT_STATE_CHANGES_REQUESTED:
      return "changes requested";
    case v1::ASSIGNMENT_STATE_RESUBMITTED:
      return "resubmitted";
    case v1::ASSIGNMENT_STATE_APPROVED:
      return "approved";
    case v1::ASSIGNMENT_STATE_WITHDRAWN:
      return "withdrawn";
    default:
      return "unknown";
  }
}

std::string_view kind_text(v1::AssignmentKind k) {
  switch (k) {
    case v1::ASSIGNMENT_KIND_CV:
      return "CV";
    case v1::ASSIGNMENT_KIND_STUDY_PROTOCOL:
      return "study protocol";
    case v1::ASSIGNMENT_KIND_ABSTRACT:
      return "abstract";
    case v1::ASSIGNMENT_KIND_PERSONAL_STATEMENT:
      return "personal statement";
    default:
      return "other";
  }
}

std::string_view verdict_text(v1::ReviewVerdict v) {
  switch (v) {
    case v1::REVIEW_VERDICT_CHANGES_REQUESTED:
      return "changes requested";
    case v1::REVIEW_VERDICT_APPROVED:
      return "approved";
    case v1::REVIEW_VERDICT_COMMENT_ONLY:
      return "comments only";
    default:
      return "?";
  }
}

// The children of `parent` in a PairKey family, in order.
Result<std::vector<uint64_t>> children(const storage::Store& store, Cf cf, uint64_t parent, size_t max) {
  std::vector<uint64_t> out;
  auto scanned = store.scan_prefix(cf, keys::PairKey::prefix(parent),
                                   [&](std::string_view k, std::string_view) {
                                     if (auto key = keys::PairKey::decode(k)) out.push_back(key->child);
                                     return true;
                                   },
                                   {.max_entries = max});
  if (!scanned) return scanned.status();
  return out;
}

// Values of a PairKey family under `parent`, parsed as M, in order.
template <class M>
Result<std::vector<M>> child_values(const storage::Store& store, Cf cf, uint64_t parent, size_t max) {
  std::vector<M> out;
  bool bad = false;
  auto scanned = store.scan_prefix(cf, keys::PairKey::prefix(parent),
                                   [&](std::string_view, std::string_view v) {
                                     M m;
                                     if (!m.ParseFromArray(v.data(), static_cast<int>(v.size()))) {
                                       bad = true;
                                       return false;
                                     }
                                     out.push_back(std::move(m));
                                     return true;
                                   },
                                   {.max_entries = max});
  if (!scanned) return scanned.status();
  if (bad) return data_loss("A stored record of the portfolio could not be read.");
  return out;
}

// A document's bytes for libzip, read piece by piece from document_chunks
// (each piece keyed by the offset it starts at).
class ChunkSource {
 public:
  ChunkSource(const storage::Store& store, uint64_t document_id, uint64_t size, int64_t mtime_ms)
      : store_(store), document_id_(document_id), size_(size), mtime_ms_(mtime_ms) {
    zip_error_init(&error_);
  }
  ~ChunkSource() { zip_error_fini(&error_); }

  static zip_int64_t callback(void* self, void* data, zip_uint64_t len, zip_source_cmd_t cmd) {
    return static_cast<ChunkSource*>(self)->handle(data, len, cmd);
  }

 private:
  zip_int64_t handle(void* data, zip_uint64_t len, zip_source_cmd_t cmd) {
    switch (cmd) {
      case ZIP_SOURCE_OPEN:
        offset_ = 0;
        piece_.clear();
        at_ = 0;
        return 0;
      case ZIP_SOURCE_READ:
        return read(static_cast<char*>(data), len);
      case ZIP_SOURCE_CLOSE:
        return 0;
      case ZIP_SOURCE_STAT: {
        auto* st = static_cast<zip_stat_t*>(data);
        zip_stat_init(st);
        st->size = size_;
        st->mtime = static_cast<time_t>(mtime_ms_ / 1000);
        st->valid |= ZIP_STAT_SIZE | ZIP_STAT_MTIME;
        return sizeof(zip_stat_t);
      }
      case ZIP_SOURCE_ERROR:
        return zip_error_to_data(&error_, data, len);
      case ZIP_SOURCE_FREE:
        delete this;
        return 0;
      case ZIP_SOURCE_SUPPORTS:
        return zip_source_make_command_bitmap(ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE,
                                              ZIP_SOURCE_STAT, ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE, -1);
      default:
        zip_error_set(&error_, ZIP_ER_OPNOTSUPP, 0);
        return -1;
    }
  }

  zip_int64_t read(char* out, zip_uint64_t len) {
    zip_uint64_t done = 0;
    while (done < len && (offset_ < size_ || at_ < piece_.size())) {
      if (at_ == piece_.size()) {
        auto got =
            store_.get(Cf::kDocumentChunks, keys::PairKey{.parent = document_id_, .child = offset_}.encode());
        if (!got || !got->has_value() || (*got)->empty()) {
          zip_error_set(&error_, ZIP_ER_READ, 0);
          return -1;
        }
        piece_ = std::move(**got);
        at_ = 0;
        offset_ += piece_.size();
      }
      const size_t n = static_cast<size_t>(std::min<zip_uint64_t>(len - done, piece_.size() - at_));
      std::copy_n(piece_.data() + at_, n, out + done);
      at_ += n;
      done += n;
    }
    return static_cast<zip_int64_t>(done);
  }

  const storage::Store& store_;
  uint64_t document_id_;
  uint64_t size_;
  int64_t mtime_ms_;
  uint64_t offset_ = 0;  // the next piece starts here
  std::string piece_;
  size_t at_ = 0;  // read so far of piece_
  zip_error_t error_;
};

// A zip being written; discarded unless closed.
class ZipWriter {
 public:
  static Result<std::unique_ptr<ZipWriter>> create(const std::filesystem::path& path) {
    int err = 0;
    zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (z == nullptr) {
      zip_error_t e;
      zip_error_init_with_code(&e, err);
      std::string why = zip_error_strerror(&e);
      zip_error_fini(&e);
      return internal_error("The portfolio could not be started (" + why + "); try again later.");
    }
    return std::unique_ptr<ZipWriter>(new ZipWriter(z));
  }
  ~ZipWriter() {
    if (zip_ != nullptr) zip_discard(zip_);
  }

  // A text file (deflated). The text is kept until close().
  Status add_text(const std::string& name, std::string text, int64_t mtime_ms) {
    texts_.push_back(std::move(text));
    const std::string& kept = texts_.back();
    zip_source_t* src = zip_source_buffer(zip_, kept.data(), kept.size(), 0);
    return add(name, src, mtime_ms, ZIP_CM_DEFLATE);
  }

  // A document, stored as it is (PDF, DOCX and ODT are compressed already).
  Status add_document(const std::string& name, const storage::Store& store, const v1::Document& doc) {
    auto* reader = new ChunkSource(store, doc.id(), doc.size(), doc.created_ms());
    zip_source_t* src = zip_source_function(zip_, &ChunkSource::callback, reader);
    if (src == nullptr) {
      delete reader;
      return internal_error("The portfolio could not take document " + std::to_string(doc.id()) + ".");
    }
    return add(name, src, doc.created_ms(), ZIP_CM_STORE);
  }

  Status close() {
    if (zip_close(zip_) != 0) {
      std::string why = zip_strerror(zip_);
      return internal_error("The portfolio could not be written (" + why +
                            "); a document may be unreadable. Try again later.");
    }
    zip_ = nullptr;
    return Status::ok();
  }

 private:
  explicit ZipWriter(zip_t* z) : zip_(z) {}

  Status add(const std::string& name, zip_source_t* src, int64_t mtime_ms, zip_int32_t method) {
    if (src == nullptr) return internal_error("The portfolio could not take " + name + ".");
    const zip_int64_t index = zip_file_add(zip_, name.c_str(), src, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE);
    if (index < 0) {
      zip_source_free(src);
      return internal_error("The portfolio could not take " + name + " (" + zip_strerror(zip_) + ").");
    }
    zip_set_file_compression(zip_, static_cast<zip_uint64_t>(index), method, 0);
    if (mtime_ms > 0) {
      zip_file_set_mtime(zip_, static_cast<zip_uint64_t>(index), static_cast<time_t>(mtime_ms / 1000), 0);
    }
    return Status::ok();
  }

  zip_t* zip_;
  std::deque<std::string> texts_;  // stable addresses until close()
};

std::atomic<uint64_t> next_file{0};

}  // namespace

Result<PortfolioFile> Portfolio::build(const v1::User& actor, uint64_t mentorship_id,
                                       const std::filesystem::path& folder) const {
  auto member = work_member(membership_, actor, mentorship_id, false);
  if (!member) return member.status();
  const uint64_t mentor_id = member->role == Membership::Role::kMentor ? actor.id() : member->counterpart_id;
  const uint64_t mentee_id = member->role == Membership::Role::kMentee ? actor.id() : member->counterpart_id;
  auto name_of = [&](uint64_t id) {
    auto u = accounts_.get_user(id);
    if (!u) return "user " + std::to_string(id);
    return u->display_name().empty() ? u->username() : u->display_name();
  };
  const std::string mentor = name_of(mentor_id);
  const std::string mentee = name_of(mentee_id);
  const int64_t now = clock_.now_ms();

  // Goals and their history.
  auto goal_ids = children(store_, Cf::kMentorshipGoals, mentorship_id, 1000);
  if (!goal_ids) return goal_ids.status();
  std::string goals_md = "# Goals\n\nEvery goal of the mentorship with its whole history, oldest first.\n";
  for (uint64_t gid : *goal_ids) {
    auto rec = load<v1::GoalRecord>(store_, Cf::kGoals, id_key(gid));
    if (!rec) return rec.status();
    if (!rec->has_value()) continue;
    const v1::Goal& g = (*rec)->goal();
    goals_md +=
        "\n## Goal " + std::to_string(g.id()) + " (" + std::string(goal_state_text(g.state())) + ")\n\n";
    goals_md += as_quote(g.what());
    if (!g.measure().empty()) goals_md += "\nMeasured by:\n\n" + as_quote(g.measure());
    if (!g.target_date().empty()) goals_md += "\nTarget date: " + g.target_date() + "\n";
    auto history = child_values<v1::GoalHistoryEntry>(store_, Cf::kGoalHistory, gid, 1000);
    if (!history) return history.status();
    goals_md += "\nHistory:\n\n";
    for (const auto& h : *history) {
      goals_md += "- " + utc_text(h.at_ms()) + ", " + std::string(goal_change_text(h.kind())) + " by " +
                  name_of(h.actor_id());
      if (h.has_after() && h.has_before() && h.before().what() != h.after().what()) {
        goals_md += "; now: \"" + h.after().what() + "\"";
      }
      goals_md += "\n";
      if (!h.note().empty()) goals_md += "\n  " + as_quote(h.note());
    }
  }
  if (goal_ids->empty()) goals_md += "\nNo goals yet.\n";

  // Reassessments.
  auto reassessments = child_values<v1::Reassessment>(store_, Cf::kReassessments, mentorship_id, 1000);
  if (!reassessments) return reassessments.status();
  std::string reassess_md = "# Reassessments\n\nOldest first.\n";
  for (const auto& r : *reassessments) {
    reassess_md += "\n## " + utc_text(r.at_ms()) + ", by " + name_of(r.by()) + "\n\n" + as_quote(r.summary());
    for (const auto& d : r.decisions()) {
      reassess_md +=
          "- goal " + std::to_string(d.goal_id()) + ": " + std::string(decision_text(d.decision()));
      if (!d.what().empty()) reassess_md += ", now \"" + d.what() + "\"";
      if (!d.target_date().empty()) reassess_md += ", target " + d.target_date();
      if (!d.reason().empty()) reassess_md += " (" + d.reason() + ")";
      reassess_md += "\n";
    }
    for (uint64_t gid : r.new_goal_ids()) reassess_md += "- new goal " + std::to_string(gid) + "\n";
  }
  if (reassessments->empty()) reassess_md += "\nNo reassessment yet.\n";

  // Assignments: the approved version's document, and every review.
  auto assignment_ids = children(store_, Cf::kMentorshipAssignments, mentorship_id, 10000);
  if (!assignment_ids) return assignment_ids.status();
  struct Entry {
    std::string folder;
    v1::Assignment a;
    std::optional<v1::Document> approved;
    std::string reviews_md;
  };
  std::vector<Entry> entries;
  uint64_t document_bytes = 0;
  for (uint64_t aid : *assignment_ids) {
    auto rec = load<v1::AssignmentRecord>(store_, Cf::kAssignments, id_key(aid));
    if (!rec) return rec.status();
    if (!rec->has_value()) continue;
    Entry e;
    e.a = (*rec)->assignment();
    e.folder = "assignments/" + std::to_string(aid) + "-" + safe_name(e.a.title()) + "/";
    if (e.a.state() == v1::ASSIGNMENT_STATE_APPROVED && e.a.approved_version() > 0) {
      auto version =
          load<v1::AssignmentVersion>(store_, Cf::kAssignmentVersions,
                                      keys::PairKey{.parent = aid, .child = e.a.approved_version()}.encode());
      if (!version) return version.status();
      if (version->has_value()) {
        e.approved = (*version)->document();
        document_bytes += e.approved->size();
      }
    }
    auto review_ids = children(store_, Cf::kAssignmentReviews, aid, 1000);
    if (!review_ids) return review_ids.status();
    for (uint64_t rid : *review_ids) {
      auto review = load<v1::Review>(store_, Cf::kReviews, id_key(rid));
      if (!review) return review.status();
      if (!review->has_value()) continue;
      const v1::Review& r = **review;
      e.reviews_md += "\n## Review of version " + std::to_string(r.version()) + ": " +
                      std::string(verdict_text(r.verdict())) + " (" + name_of(r.reviewer_id()) + ", " +
                      utc_text(r.created_ms()) + ")\n\n";
      if (!r.summary().empty()) e.reviews_md += as_quote(r.summary());
      for (const auto& c : r.comments()) {
        e.reviews_md +=
            "\n### Comment " + std::to_string(c.id()) + " on version " + std::to_string(c.anchor().version());
        if (c.anchor().page() > 0) e.reviews_md += ", page " + std::to_string(c.anchor().page());
        e.reviews_md += c.resolved() ? " (resolved)\n\n" : "\n\n";
        if (!c.anchor().quote().empty()) e.reviews_md += "About: \"" + c.anchor().quote() + "\"\n\n";
        e.reviews_md += as_quote(c.text());
        for (const auto& reply : c.replies()) {
          e.reviews_md += '\n';
          e.reviews_md += name_of(reply.by());
          e.reviews_md += ", " + utc_text(reply.at_ms()) + ":\n\n" + as_quote(reply.text());
        }
      }
    }
    if (e.approved || !e.reviews_md.empty()) entries.push_back(std::move(e));
  }
  if (document_bytes > kMaxPortfolioDocumentBytes) {
    return Status(v1::ERROR_CODE_RESOURCE_EXHAUSTED,
                  "This portfolio's documents add up to " + std::to_string(document_bytes >> 20) +
                      " MiB, more than the " + std::to_string(kMaxPortfolioDocumentBytes >> 20) +
                      " MiB one export may hold; download the largest documents one by one instead.");
  }

  // Write it.
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  const std::filesystem::path path =
      folder / ("portfolio-" + std::to_string(mentorship_id) + "-" + std::to_string(now) + "-" +
                std::to_string(next_file.fetch_add(1)) + ".zip");
  auto zip = ZipWriter::create(path);
  if (!zip) return zip.status();
  std::string index = "# Portfolio\n\n" + mentee + "'s work with " + mentor + " (mentorship " +
                      std::to_string(mentorship_id) + "), exported " + utc_text(now) +
                      ".\n\n## In this file\n\n- goals.md: every goal and its history\n"
                      "- reassessments.md: every reassessment\n";
  for (const Entry& e : entries) {
    std::string readme = "# " + e.a.title() + "\n\n" + std::string(kind_text(e.a.kind())) + ", " +
                         std::string(assignment_state_text(e.a.state())) + ". Created " +
                         utc_text(e.a.created_ms()) + ".";
    if (e.a.due_ms() > 0) readme += " Due " + utc_text(e.a.due_ms()) + ".";
    readme += "\n\n## Instructions\n\n" + as_quote(e.a.instructions());
    index += "- " + e.folder + "README.md: \"" + e.a.title() + "\" (" +
             std::string(assignment_state_text(e.a.state())) + ")\n";
    PRECEPTOR_RETURN_IF_ERROR((*zip)->add_text(e.folder + "README.md", std::move(readme), e.a.updated_ms()));
    if (e.approved) {
      const std::string file = e.folder + "approved-v" + std::to_string(e.a.approved_version()) + "-" +
                               safe_name(e.approved->name());
      index += "- " + file + ": the approved version (" + std::to_string(e.approved->size()) +
               " bytes, SHA-256 " + e.approved->sha256() + ")\n";
      PRECEPTOR_RETURN_IF_ERROR((*zip)->add_document(file, store_, *e.approved));
    }
    if (!e.reviews_md.empty()) {
      index += "- " + e.folder + "reviews.md: every review, comment and reply\n";
      PRECEPTOR_RETURN_IF_ERROR((*zip)->add_text(e.folder + "reviews.md",
                                                 "# Reviews of \"" + e.a.title() + "\"\n" + e.reviews_md,
                                                 e.a.updated_ms()));
    }
  }
  PRECEPTOR_RETURN_IF_ERROR((*zip)->add_text("goals.md", std::move(goals_md), now));
  PRECEPTOR_RETURN_IF_ERROR((*zip)->add_text("reassessments.md", std::move(reassess_md), now));
  PRECEPTOR_RETURN_IF_ERROR((*zip)->add_text("index.md", std::move(index), now));
  if (Status closed = (*zip)->close(); !closed) {
    std::filesystem::remove(path, ec);
    return closed;
  }
  PortfolioFile out;
  out.path = path;
  out.size = std::filesystem::file_size(path, ec);
  out.download_name = "portfolio-" + std::to_string(mentorship_id) + "-" + safe_name(mentee) + ".zip";
  return out;
}

}  // namespace preceptor::services
