// Words for the protocol's enums, and small formatting helpers.
import { Cadence, Channel, CheckInStatus, MentorshipState, Purpose, Role } from "@preceptor/client";

export const PURPOSES: Purpose[] = [
  Purpose.CLINICAL_SKILLS,
  Purpose.CAREER,
  Purpose.RESEARCH,
  Purpose.WELLBEING,
  Purpose.OTHER,
];

export function purposeLabel(p: Purpose): string {
  switch (p) {
    case Purpose.CLINICAL_SKILLS:
      return "Clinical skills";
    case Purpose.CAREER:
      return "Career and job search";
    case Purpose.RESEARCH:
      return "Research";
    case Purpose.WELLBEING:
      return "Wellbeing";
    case Purpose.OTHER:
      return "Other";
    default:
      return "Unspecified";
  }
}

export function stateLabel(s: MentorshipState): string {
  switch (s) {
    case MentorshipState.REQUESTED:
      return "Requested";
    case MentorshipState.ACTIVE:
      return "Active";
    case MentorshipState.DECLINED:
      return "Declined";
    case MentorshipState.EXPIRED:
      return "Expired";
    case MentorshipState.ENDED:
      return "Ended";
    default:
      return "Unknown";
  }
}

export function roleLabel(r: Role): string {
  switch (r) {
    case Role.MENTEE:
      return "Mentee";
    case Role.MENTOR:
      return "Mentor";
    case Role.PROGRAM_DIRECTOR:
      return "Program director";
    case Role.ADMIN:
      return "Administrator";
    default:
      return "";
  }
}

export const CADENCES: Cadence[] = [Cadence.WEEKLY, Cadence.BIWEEKLY, Cadence.MONTHLY];

export function cadenceLabel(c: Cadence): string {
  switch (c) {
    case Cadence.WEEKLY:
      return "Weekly";
    case Cadence.BIWEEKLY:
      return "Every two weeks";
    case Cadence.MONTHLY:
      return "Monthly";
    default:
      return "Not set";
  }
}

export const CHANNELS: Channel[] = [Channel.CHAT, Channel.VIDEO, Channel.PHONE, Channel.IN_PERSON];

export function channelLabel(c: Channel): string {
  switch (c) {
    case Channel.CHAT:
      return "Chat";
    case Channel.VIDEO:
      return "Video";
    case Channel.PHONE:
      return "Phone";
    case Channel.IN_PERSON:
      return "In person";
    default:
      return "Other";
  }
}

export const CHECK_IN_STATUSES: CheckInStatus[] = [
  CheckInStatus.ON_TRACK,
  CheckInStatus.NEED_HELP,
  CheckInStatus.BLOCKED,
];

export function checkInLabel(s: CheckInStatus): string {
  switch (s) {
    case CheckInStatus.ON_TRACK:
      return "On track";
    case CheckInStatus.NEED_HELP:
      return "Need help";
    case CheckInStatus.BLOCKED:
      return "Blocked";
    default:
      return "Check-in";
  }
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dateFmt = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** A message time: the hour today, the date otherwise. */
export function shortTime(ms: bigint | number): string {
  const n = Number(ms);
  if (!n) return "";
  const d = new Date(n);
  const now = new Date();
  return d.toDateString() === now.toDateString() ? timeFmt.format(d) : dateFmt.format(d);
}

export function fullTime(ms: bigint | number): string {
  const n = Number(ms);
  return n ? fullFmt.format(new Date(n)) : "";
}

/** An ISO 8601 time for machines (CSV, datetime attributes); empty for 0. */
export function isoTime(ms: bigint | number): string {
  const n = Number(ms);
  return n ? new Date(n).toISOString() : "";
}
