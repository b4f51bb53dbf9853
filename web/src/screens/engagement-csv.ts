// The director's engagement export: one row per mentorship, metadata only
// (never a message, a request note or a decline reason, nor an assignment's
// title, a document, a comment or a goal's text: counts and a date only).
import type { MentorshipView } from "@preceptor/client";
import type { CsvValue } from "../csv.js";
import { isoTime, purposeLabel, stateLabel } from "../labels.js";

export const ENGAGEMENT_CSV_HEADER = [
  "mentorship_id",
  "mentor",
  "mentee",
  "purpose",
  "state",
  "started_at",
  "last_contact_at",
  "message_count",
  "checkin_count",
  "checkin_overdue",
  "checkin_due_since",
  "meetings_held",
  "meetings_upcoming",
  "meeting_no_shows",
  "assignments_open",
  "assignments_overdue",
  "assignments_approved",
  "goals_open",
  "goals_done",
  "last_reassessment_at",
];

export function engagementCsvRow(v: MentorshipView): CsvValue[] {
  const m = v.mentorship!;
  const e = v.engagement;
  return [
    m.id,
    v.mentor?.displayName ?? "",
    v.mentee?.displayName ?? "",
    purposeLabel(m.purpose),
    stateLabel(m.state),
    isoTime(m.startedAtMs),
    isoTime(e?.lastContactMs ?? 0n),
    e?.messageCount ?? 0n,
    e?.checkinCount ?? 0n,
    e?.checkinOverdue ?? false,
    isoTime(e?.checkinDueSinceMs ?? 0n),
    e?.meetingsHeld ?? 0n,
    e?.meetingsUpcoming ?? 0n,
    e?.meetingNoShows ?? 0n,
    e?.assignmentsOpen ?? 0n,
    e?.assignmentsOverdue ?? 0n,
    e?.assignmentsApproved ?? 0n,
    e?.goalsOpen ?? 0n,
    e?.goalsDone ?? 0n,
    isoTime(e?.lastReassessmentMs ?? 0n),
  ];
}
