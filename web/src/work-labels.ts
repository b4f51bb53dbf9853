// Words for the work between meetings (work.proto): goals, reassessments,
// assignments, reviews and documents.
import {
  AssignmentKind,
  AssignmentState,
  GoalChangeKind,
  GoalDecisionKind,
  GoalState,
  ReviewVerdict,
  type Assignment,
} from "@preceptor/client";

export function goalStateLabel(s: GoalState): string {
  switch (s) {
    case GoalState.OPEN:
      return "Open";
    case GoalState.DONE:
      return "Done";
    case GoalState.DROPPED:
      return "Dropped";
    default:
      return "Unknown";
  }
}

/** What a history entry did, as a verb phrase: "<who> <this>". */
export function goalChangeVerb(k: GoalChangeKind): string {
  switch (k) {
    case GoalChangeKind.ADDED:
      return "added the goal";
    case GoalChangeKind.EDITED:
      return "edited the goal";
    case GoalChangeKind.DONE:
      return "marked the goal done";
    case GoalChangeKind.DROPPED:
      return "dropped the goal";
    case GoalChangeKind.REOPENED:
      return "reopened the goal";
    case GoalChangeKind.NOTE:
      return "added a progress note";
    case GoalChangeKind.REASSESSED:
      return "reassessed the goal";
    default:
      return "changed the goal";
  }
}

export const DECISIONS: GoalDecisionKind[] = [GoalDecisionKind.KEEP, GoalDecisionKind.REFINE, GoalDecisionKind.DROP];

export function decisionLabel(d: GoalDecisionKind): string {
  switch (d) {
    case GoalDecisionKind.KEEP:
      return "Keep";
    case GoalDecisionKind.REFINE:
      return "Refine";
    case GoalDecisionKind.DROP:
      return "Drop";
    default:
      return "Undecided";
  }
}

export const ASSIGNMENT_KINDS: AssignmentKind[] = [
  AssignmentKind.CV,
  AssignmentKind.STUDY_PROTOCOL,
  AssignmentKind.ABSTRACT,
  AssignmentKind.PERSONAL_STATEMENT,
  AssignmentKind.OTHER,
];

export function assignmentKindLabel(k: AssignmentKind): string {
  switch (k) {
    case AssignmentKind.CV:
      return "CV";
    case AssignmentKind.STUDY_PROTOCOL:
      return "Study protocol";
    case AssignmentKind.ABSTRACT:
      return "Abstract";
    case AssignmentKind.PERSONAL_STATEMENT:
      return "Personal statement";
    case AssignmentKind.OTHER:
      return "Other";
    default:
      return "Not set";
  }
}

export function assignmentStateLabel(s: AssignmentState): string {
  switch (s) {
    case AssignmentState.ASSIGNED:
      return "Assigned";
    case AssignmentState.ACKNOWLEDGED:
      return "Acknowledged";
    case AssignmentState.SUBMITTED:
      return "Submitted";
    case AssignmentState.CHANGES_REQUESTED:
      return "Changes requested";
    case AssignmentState.RESUBMITTED:
      return "Resubmitted";
    case AssignmentState.APPROVED:
      return "Approved";
    case AssignmentState.WITHDRAWN:
      return "Withdrawn";
    default:
      return "Unknown";
  }
}

/** A class suffix for the state's colour. */
export function assignmentStateClass(s: AssignmentState): string {
  return assignmentStateLabel(s).toLowerCase().replace(/ /g, "-");
}

/** Closed for good: approved or withdrawn. */
export function assignmentClosed(a: Assignment): boolean {
  return a.state === AssignmentState.APPROVED || a.state === AssignmentState.WITHDRAWN;
}

/** Waiting for the author's (next) version: the states the due time and the nudges are about. */
export function waitsForVersion(a: Assignment): boolean {
  return (
    a.state === AssignmentState.ASSIGNED ||
    a.state === AssignmentState.ACKNOWLEDGED ||
    a.state === AssignmentState.CHANGES_REQUESTED
  );
}

export const DUE_SOON_MS = 48 * 3_600_000;

/** "overdue", "soon" (within 48 h) or "" for an assignment waiting for a version. */
export function dueStatus(a: Assignment, now: number): "overdue" | "soon" | "" {
  if (a.dueMs === 0n || !waitsForVersion(a)) return "";
  const due = Number(a.dueMs);
  if (due <= now) return "overdue";
  if (due - now <= DUE_SOON_MS) return "soon";
  return "";
}

/** One sentence on whose turn it is, from the viewer's side. */
export function assignmentNextStep(a: Assignment, me: bigint | undefined, name: (id: bigint) => string): string {
  const author = a.authorId === me ? "you" : name(a.authorId);
  const reviewer = a.reviewerId === me ? "you" : name(a.reviewerId);
  switch (a.state) {
    case AssignmentState.ASSIGNED:
      return a.authorId === me ? "Handed to you: acknowledge it, then submit a version." : `Waiting for ${author} to acknowledge it.`;
    case AssignmentState.ACKNOWLEDGED:
      return `Waiting for ${author} to submit a first version.`;
    case AssignmentState.SUBMITTED:
    case AssignmentState.RESUBMITTED:
      return `Waiting for ${reviewer} to review version ${a.versionCount}.`;
    case AssignmentState.CHANGES_REQUESTED:
      return `Changes requested: waiting for ${author} to submit version ${a.versionCount + 1}.`;
    case AssignmentState.APPROVED:
      return `Approved (version ${a.approvedVersion}).`;
    case AssignmentState.WITHDRAWN:
      return a.withdrawReason ? `Withdrawn: ${a.withdrawReason}` : "Withdrawn.";
    default:
      return "";
  }
}

export const VERDICTS: ReviewVerdict[] = [
  ReviewVerdict.CHANGES_REQUESTED,
  ReviewVerdict.APPROVED,
  ReviewVerdict.COMMENT_ONLY,
];

export function verdictLabel(v: ReviewVerdict): string {
  switch (v) {
    case ReviewVerdict.CHANGES_REQUESTED:
      return "Changes requested";
    case ReviewVerdict.APPROVED:
      return "Approved";
    case ReviewVerdict.COMMENT_ONLY:
      return "Comments only";
    default:
      return "Review";
  }
}

/** The choice in the review form. */
export function verdictChoice(v: ReviewVerdict): string {
  switch (v) {
    case ReviewVerdict.CHANGES_REQUESTED:
      return "Request changes";
    case ReviewVerdict.APPROVED:
      return "Approve";
    case ReviewVerdict.COMMENT_ONLY:
      return "Comment only (the state does not change)";
    default:
      return "";
  }
}

export function contentTypeLabel(t: string): string {
  switch (t) {
    case "application/pdf":
      return "PDF";
    case "application/vnd.openxmlformats-officedocument.wordprocessingml.document":
      return "Word";
    case "application/vnd.oasis.opendocument.text":
      return "OpenDocument";
    case "text/plain":
      return "Text";
    case "text/markdown":
      return "Markdown";
    default:
      return t;
  }
}

/** "812 bytes", "14.2 KB", "3.4 MB". */
export function sizeLabel(bytes: bigint | number): string {
  const n = Number(bytes);
  if (n < 1024) return `${n} byte${n === 1 ? "" : "s"}`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/** "2026-12-03" for a local calendar day `days` from today (a date input's value). */
export function localDate(days = 0): string {
  const d = new Date(Date.now() + days * 86_400_000);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** A "YYYY-MM-DD" calendar date in words ("Dec 3, 2026"), read as that day wherever the viewer is. */
export function dateLabel(ymd: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd);
  if (!m) return ymd;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: "UTC" }).format(d);
}

/** A due time in the viewer's zone: "Fri, Dec 4, 17:00". */
export function dueLabel(ms: bigint | number, zone?: string): string {
  const opts: Intl.DateTimeFormatOptions = {
    weekday: "short",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  };
  try {
    return new Intl.DateTimeFormat(undefined, zone ? { ...opts, timeZone: zone } : opts).format(new Date(Number(ms)));
  } catch {
    return new Intl.DateTimeFormat(undefined, opts).format(new Date(Number(ms)));
  }
}

/** "in 3 hours", "in 2 days", "5 hours ago". */
export function relative(ms: number, now = Date.now()): string {
  if (Math.abs(ms - now) < 60_000) return ms >= now ? "in less than a minute" : "less than a minute ago";
  const min = Math.round((ms - now) / 60_000);
  const abs = Math.abs(min);
  const unit = abs < 90 ? `${abs} minute${abs === 1 ? "" : "s"}` : abs < 36 * 60 ? `${Math.round(abs / 60)} hours` : `${Math.round(abs / 1440)} days`;
  return min >= 0 ? `in ${unit}` : `${unit} ago`;
}
