// The director's engagement export: one row per mentorship, metadata only
// (never a message, a request note or a decline reason).
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
  ];
}
