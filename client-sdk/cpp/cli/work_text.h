#pragma once

// Names of the work.proto enums as preceptor-cli prints and reads them.

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>

#include "preceptor/v1/work.pb.h"

namespace preceptor::cli {

inline const char* goal_state_name(v1::GoalState s) {
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

inline const char* goal_change_name(v1::GoalChangeKind k) {
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

inline const char* assignment_state_name(v1::AssignmentState s) {
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

inline const char* assignment_kind_name(v1::AssignmentKind k) {
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

inline std::string lowered_dashed(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) {
    return c == '_' || c == ' ' ? '-' : static_cast<char>(std::tolower(c));
  });
  return s;
}

inline std::optional<v1::AssignmentKind> parse_assignment_kind(std::string s) {
  s = lowered_dashed(std::move(s));
  if (s == "cv") return v1::ASSIGNMENT_KIND_CV;
  if (s == "study-protocol" || s == "protocol") return v1::ASSIGNMENT_KIND_STUDY_PROTOCOL;
  if (s == "abstract") return v1::ASSIGNMENT_KIND_ABSTRACT;
  if (s == "personal-statement" || s == "statement") return v1::ASSIGNMENT_KIND_PERSONAL_STATEMENT;
  if (s == "other") return v1::ASSIGNMENT_KIND_OTHER;
  return std::nullopt;
}

inline const char* verdict_name(v1::ReviewVerdict v) {
  switch (v) {
    case v1::REVIEW_VERDICT_CHANGES_REQUESTED:
      return "changes requested";
    case v1::REVIEW_VERDICT_APPROVED:
      return "approved";
    case v1::REVIEW_VERDICT_COMMENT_ONLY:
      return "comments only";
    default:
      return "unknown";
  }
}

inline std::optional<v1::ReviewVerdict> parse_verdict(std::string s) {
  s = lowered_dashed(std::move(s));
  if (s == "approve" || s == "approved") return v1::REVIEW_VERDICT_APPROVED;
  if (s == "changes" || s == "changes-requested" || s == "request-changes")
    return v1::REVIEW_VERDICT_CHANGES_REQUESTED;
  if (s == "comment" || s == "comments" || s == "comment-only") return v1::REVIEW_VERDICT_COMMENT_ONLY;
  return std::nullopt;
}

// "version 2, page 3, \"quoted\""
inline std::string anchor_text(const v1::CommentAnchor& a) {
  std::string out = "version " + std::to_string(a.version());
  if (a.page() != 0) out += ", page " + std::to_string(a.page());
  if (!a.quote().empty()) out += ", \"" + a.quote() + "\"";
  return out;
}

}  // namespace preceptor::cli
