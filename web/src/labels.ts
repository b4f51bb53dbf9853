// Words for the protocol's enums, and small formatting helpers.
import {
  Cadence,
  Channel,
  CheckInStatus,
  FitAnswer,
  MeetingState,
  MentorshipState,
  Purpose,
  Role,
  Weekday,
  WhereKind,
} from "@preceptor/client";

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

// ---- meetings ---------------------------------------------------------------

/** The viewer's IANA time zone (the browser's). */
export function browserZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

function zoned(opts: Intl.DateTimeFormatOptions, zone?: string): Intl.DateTimeFormat {
  try {
    return new Intl.DateTimeFormat(undefined, zone ? { ...opts, timeZone: zone } : opts);
  } catch {
    return new Intl.DateTimeFormat(undefined, opts); // an unknown zone: the viewer's
  }
}

/** "Tue, Dec 3, 16:00–16:30" in `zone` (default: the viewer's). */
export function timeRange(startMs: bigint | number, minutes: number, zone?: string): string {
  const start = new Date(Number(startMs));
  const end = new Date(Number(startMs) + minutes * 60_000);
  const day = zoned({ weekday: "short", month: "short", day: "numeric" }, zone).format(start);
  const hm = zoned({ hour: "2-digit", minute: "2-digit" }, zone);
  return `${day}, ${hm.format(start)}–${hm.format(end)}`;
}

/** The same range in the meeting's zone, when that reads differently from the viewer's; else "". */
export function otherZoneRange(startMs: bigint | number, minutes: number, zone: string): string {
  if (!zone || zone === browserZone()) return "";
  const mine = timeRange(startMs, minutes);
  const theirs = timeRange(startMs, minutes, zone);
  return mine === theirs ? "" : `${theirs} ${zone.replace(/_/g, " ")}`;
}

export function meetingWhen(m: { startMs: bigint; durationMinutes: number }): string {
  return timeRange(m.startMs, m.durationMinutes);
}

/** "HH:MM" local day key and label for grouping slots by the viewer's day. */
export function dayKey(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}
export function dayLabel(ms: number): string {
  return zoned({ weekday: "long", month: "long", day: "numeric" }).format(new Date(ms));
}
export function hourMinute(ms: number, zone?: string): string {
  return zoned({ hour: "2-digit", minute: "2-digit" }, zone).format(new Date(ms));
}

/** A `datetime-local` value (the viewer's zone) for a time. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
/** A `datetime-local` value back to UTC ms (NaN when empty or invalid). */
export function fromLocalInput(v: string): number {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v)) return NaN;
  return new Date(v).getTime();
}

/** "16:30" ⇄ minutes since midnight. */
export function minutesToHm(min: number): string {
  if (min >= 1440) return "24:00";
  return `${String(Math.floor(min / 60)).padStart(2, "0")}:${String(min % 60).padStart(2, "0")}`;
}
export function hmToMinutes(v: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(v);
  if (!m) return NaN;
  return Number(m[1]) * 60 + Number(m[2]);
}

export function meetingStateLabel(s: MeetingState): string {
  switch (s) {
    case MeetingState.PROPOSED:
      return "Proposed";
    case MeetingState.ACCEPTED:
      return "Accepted";
    case MeetingState.DECLINED:
      return "Declined";
    case MeetingState.CANCELLED:
      return "Cancelled";
    case MeetingState.HELD:
      return "Held";
    case MeetingState.NO_SHOW:
      return "No-show";
    default:
      return "Unknown";
  }
}

export const WHERE_KINDS: WhereKind[] = [WhereKind.IN_APP_CALL, WhereKind.PLACE, WhereKind.PHONE, WhereKind.LINK];

export function whereKindLabel(k: WhereKind): string {
  switch (k) {
    case WhereKind.IN_APP_CALL:
      return "Call in Preceptor";
    case WhereKind.PLACE:
      return "A place";
    case WhereKind.PHONE:
      return "By phone";
    case WhereKind.LINK:
      return "A meeting link";
    default:
      return "Not set";
  }
}

export function whereDetailLabel(k: WhereKind): string {
  switch (k) {
    case WhereKind.PLACE:
      return "Room or place";
    case WhereKind.PHONE:
      return "Phone number";
    case WhereKind.LINK:
      return "Link (https://…)";
    default:
      return "";
  }
}

export function whereText(w: { kind: WhereKind; detail: string } | undefined): string {
  if (!w || w.kind === WhereKind.UNSPECIFIED || w.kind === WhereKind.IN_APP_CALL) return "Call in Preceptor";
  return `${whereKindLabel(w.kind)}: ${w.detail}`;
}

export const WEEKDAYS: Weekday[] = [
  Weekday.MONDAY,
  Weekday.TUESDAY,
  Weekday.WEDNESDAY,
  Weekday.THURSDAY,
  Weekday.FRIDAY,
  Weekday.SATURDAY,
  Weekday.SUNDAY,
];

export function weekdayLabel(d: Weekday): string {
  return ["", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"][d] ?? "";
}

export function fitLabel(a: FitAnswer): string {
  switch (a) {
    case FitAnswer.YES:
      return "Yes";
    case FitAnswer.UNSURE:
      return "Unsure";
    case FitAnswer.NO:
      return "No";
    default:
      return "Not answered";
  }
}

export function durationLabel(min: number): string {
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  const r = min % 60;
  return r ? `${h} h ${r} min` : `${h} h`;
}
