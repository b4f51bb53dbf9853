// Meetings, office-hours queue, reminders and meeting preferences: what the
// Meetings, Office hours and Settings screens show. The Model owns one of
// these and hands it every event.
import {
  ErrorCode,
  FitAnswer,
  MeetingChange,
  MeetingState,
  QueueState,
  type Event as ServerEvent,
  type Meeting,
  type MeetingPreferences,
  type QueueEntry,
} from "@preceptor/client";
import { meetingWhen, timeRange } from "./labels.js";
import { errorCode, errorText, type Model } from "./model.js";

export interface MeetingItem {
  meeting: Meeting;
  privateNotes: string;
}

/** A reminder the server sent, shown until dismissed or the meeting ends. */
export interface ShownReminder {
  meetingId: bigint;
  /** The meeting's start the reminder was for (a meeting moved since has new reminders). */
  startMs: bigint;
  late: boolean;
  heldForQuietHours: boolean;
}

/** A mentee's place in a mentor's drop-in queue. */
export interface MyQueueEntry {
  state: QueueState;
  place: number;
}

const DAY_MS = 86_400_000;
const LIST_BACK_DAYS = 30;
const LIST_AHEAD_DAYS = 60; // with LIST_BACK_DAYS: under the server's 92-day window
const NEWS_MAX_AGE_MS = 10 * 60_000;
/**
 * The caller's own "good fit?" answers, kept in this browser: the server has
 * no request that reads them back, and a reloaded page resumes Sync after the
 * FitAnswered event. One key per user; removed at sign-out.
 */
const FIT_KEY = "preceptor-web.fit.";

export class MeetingsState {
  items = new Map<bigint, MeetingItem>();
  loaded = false;
  loading = false;
  error = "";
  /** mentorship id → the caller's own "good fit?" answer. */
  fit = new Map<bigint, FitAnswer>();
  preferences: MeetingPreferences | undefined;
  /** mentor id → the caller's entry in that mentor's queue (mentees). */
  myQueue = new Map<bigint, MyQueueEntry>();
  /** The caller's own line (mentors); undefined until asked. */
  line: QueueEntry[] | undefined;
  lineOpen = false;
  /** The mentee this mentor called from the queue last (they may start a call with them). */
  called: QueueEntry | undefined;
  /** meeting id → its latest reminder, until dismissed (see activeReminders). */
  reminders = new Map<bigint, ShownReminder>();

  private loadAgain = false;

  constructor(private readonly model: Model) {}

  reset(): void {
    this.items.clear();
    this.loaded = false;
    this.fit.clear();
    this.preferences = undefined;
    this.myQueue.clear();
    this.line = undefined;
    this.called = undefined;
    this.reminders.clear();
  }

  /** The answer saved in this browser for the signed-in user, where none came from the server yet. */
  private restoreFit(): void {
    const me = this.model.me?.id;
    if (me === undefined) return;
    try {
      const saved = JSON.parse(localStorage.getItem(FIT_KEY + me) ?? "{}") as Record<string, number>;
      for (const [id, a] of Object.entries(saved)) {
        if (/^\d+$/.test(id) && !this.fit.has(BigInt(id))) this.fit.set(BigInt(id), a as FitAnswer);
      }
    } catch {
      // Storage blocked or unreadable: the answer shows once the server sends it again.
    }
  }

  /** Records the caller's fit answer (from AnswerFit's reply or a FitAnswered event). */
  setFit(mentorshipId: bigint, answer: FitAnswer): void {
    this.fit.set(mentorshipId, answer);
    const me = this.model.me?.id;
    if (me !== undefined) {
      try {
        const all: Record<string, number> = {};
        for (const [id, a] of this.fit) all[String(id)] = a;
        localStorage.setItem(FIT_KEY + me, JSON.stringify(all));
      } catch {
        // Storage blocked: kept for this page only.
      }
    }
    this.model.changed();
  }

  /** Removes every fit answer this browser keeps (sign-out, session ended). */
  static forgetSaved(): void {
    try {
      for (let i = localStorage.length - 1; i >= 0; i--) {
        const k = localStorage.key(i);
        if (k?.startsWith(FIT_KEY)) localStorage.removeItem(k);
      }
    } catch {
      // Storage blocked: nothing was saved.
    }
  }

  /** The reminders to show now: meetings still accepted and not over, soonest first. */
  activeReminders(now = Date.now()): { reminder: ShownReminder; meeting: Meeting }[] {
    const out: { reminder: ShownReminder; meeting: Meeting }[] = [];
    for (const r of this.reminders.values()) {
      const m = this.items.get(r.meetingId)?.meeting;
      if (!m || m.state !== MeetingState.ACCEPTED || m.startMs !== r.startMs) continue;
      if (Number(m.startMs) + m.durationMinutes * 60_000 <= now) continue;
      out.push({ reminder: r, meeting: m });
    }
    return out.sort((a, b) => Number(a.meeting.startMs - b.meeting.startMs));
  }

  dismissReminder(meetingId: bigint): void {
    this.reminders.delete(meetingId);
    this.model.changed();
  }

  /** A mentorship's meetings, oldest change first (the conversation's timeline). */
  ofMentorship(mentorshipId: bigint): Meeting[] {
    const out: Meeting[] = [];
    for (const it of this.items.values()) if (it.meeting.mentorshipId === mentorshipId) out.push(it.meeting);
    return out.sort((a, b) => Number(a.updatedMs - b.updatedMs) || Number(a.id - b.id));
  }

  /** Upcoming first (soonest at the top), then the past (latest first). */
  sorted(now = Date.now()): { upcoming: MeetingItem[]; past: MeetingItem[] } {
    const upcoming: MeetingItem[] = [];
    const past: MeetingItem[] = [];
    for (const it of this.items.values()) {
      const m = it.meeting;
      const end = Number(m.startMs) + m.durationMinutes * 60_000;
      const live = m.state === MeetingState.PROPOSED || m.state === MeetingState.ACCEPTED;
      if (live && end > now) upcoming.push(it);
      else past.push(it);
    }
    upcoming.sort((a, b) => Number(a.meeting.startMs - b.meeting.startMs));
    past.sort((a, b) => Number(b.meeting.startMs - a.meeting.startMs));
    return { upcoming, past };
  }

  async load(): Promise<void> {
    if (this.loading) {
      this.loadAgain = true;
      return;
    }
    this.loading = true;
    this.model.changed();
    try {
      const now = Date.now();
      const from = BigInt(now - LIST_BACK_DAYS * DAY_MS);
      const to = BigInt(now + LIST_AHEAD_DAYS * DAY_MS);
      const got = new Map<bigint, MeetingItem>();
      let after: { startMs: bigint; meetingId: bigint } | undefined;
      for (let page = 0; page < 20; page++) {
        const r = await this.model.client.call("listMeetings", {
          fromMs: from,
          toMs: to,
          limit: 200,
          ...(after ? { after } : {}),
        });
        for (const v of r.meetings) {
          if (!v.meeting) continue;
          got.set(v.meeting.id, { meeting: v.meeting, privateNotes: v.privateNotes });
          if (v.mentor) this.model.users.set(v.mentor.id, v.mentor);
          if (v.mentee) this.model.users.set(v.mentee.id, v.mentee);
        }
        if (!r.hasMore || !r.nextAfter) break;
        after = { startMs: r.nextAfter.startMs, meetingId: r.nextAfter.meetingId };
      }
      // Keep what events brought in while the pages were read, when newer.
      for (const [id, it] of this.items) {
        const g = got.get(id);
        if (!g || g.meeting.revision < it.meeting.revision) got.set(id, it);
      }
      this.items = got;
      this.restoreFit();
      this.loaded = true;
      this.error = "";
    } catch (err) {
      if (errorCode(err) !== ErrorCode.UNAVAILABLE && errorCode(err) !== ErrorCode.CANCELLED) {
        this.error = errorText(err);
      }
    } finally {
      this.loading = false;
      this.model.changed();
      if (this.loadAgain) {
        this.loadAgain = false;
        void this.load();
      }
    }
  }

  /** A meeting as a reply or an event carried it; an older revision never replaces a newer one. */
  apply(m: Meeting | undefined, privateNotes?: string): void {
    if (!m) return;
    const old = this.items.get(m.id);
    if (old && old.meeting.revision > m.revision) return;
    this.items.set(m.id, { meeting: m, privateNotes: privateNotes ?? old?.privateNotes ?? "" });
    const names = [m.mentorId, m.menteeId];
    if (names.some((id) => !this.model.users.has(id))) void this.load(); // someone new: fetch their name
    this.model.changed();
  }

  onEvent(ev: ServerEvent): void {
    const k = ev.kind;
    const me = this.model.me?.id;
    const fresh = this.model.everAuthenticated && Date.now() - Number(ev.timeMs) < NEWS_MAX_AGE_MS;
    switch (k.case) {
      case "meetingChanged":
        this.apply(k.value.meeting);
        if (fresh && k.value.actorId !== me && k.value.meeting) this.tellNews(k.value.change, k.value.meeting, k.value.actorId);
        break;
      case "privateNotes": {
        const it = this.items.get(k.value.meetingId);
        if (it) {
          it.privateNotes = k.value.text;
          this.model.changed();
        }
        break;
      }
      case "meetingReminder": {
        // Shown as a banner over every screen until dismissed or the meeting
        // ends (also when Sync brings it: a phone that was off still learns).
        const r = k.value;
        if (!r.meeting) break;
        this.apply(r.meeting);
        this.reminders.set(r.meeting.id, {
          meetingId: r.meeting.id,
          startMs: r.meeting.startMs,
          late: r.late,
          heldForQuietHours: r.heldForQuietHours,
        });
        this.model.changed();
        break;
      }
      case "fitAnswered":
        this.setFit(k.value.mentorshipId, k.value.answer);
        break;
      case "meetingPreferences":
        this.preferences = k.value.preferences;
        this.model.changed();
        break;
      case "queueChanged": {
        const q = k.value;
        if (q.mentorId === me) {
          this.line = q.entries;
          for (const e of q.entries) if (e.mentee) this.model.users.set(e.mentee.id, e.mentee);
          if (fresh && q.state === QueueState.WAITING) {
            this.model.notify(`${this.model.userName(q.menteeId)} joined your drop-in line (${q.entries.length} waiting).`);
          }
          this.model.changed();
          break;
        }
        if (q.menteeId !== me) break;
        this.myQueue.set(q.mentorId, { state: q.state, place: q.place });
        if (fresh) {
          const mentor = this.model.userName(q.mentorId);
          if (q.state === QueueState.CALLED) this.model.notify(`${mentor} called you from the queue: the call rings here.`);
          if (q.state === QueueState.SKIPPED) this.model.notify(`${mentor} skipped you in the queue.`);
          if (q.state === QueueState.CLOSED) this.model.notify(`${mentor}'s office hours ended before your turn.`);
        }
        this.model.changed();
        break;
      }
      default:
        break;
    }
  }

  private tellNews(change: MeetingChange, m: Meeting, actorId: bigint): void {
    const who = actorId === 0n ? "The server" : this.model.userName(actorId);
    const when = meetingWhen(m);
    switch (change) {
      case MeetingChange.PROPOSED:
        this.model.notify(`${who} proposed a meeting: ${when}.`);
        break;
      case MeetingChange.ACCEPTED:
        this.model.notify(`${who} accepted the meeting on ${when}.`);
        break;
      case MeetingChange.DECLINED:
        this.model.notify(`${who} declined the meeting on ${when}.`);
        break;
      case MeetingChange.NEW_TIME_PROPOSED:
        this.model.notify(`${who} proposed a new time for a meeting.`);
        break;
      case MeetingChange.NEW_TIME_DECLINED:
        this.model.notify(`${who} declined the new time; the meeting keeps ${when}.`);
        break;
      case MeetingChange.CANCELLED:
        this.model.notify(`${who} cancelled the meeting on ${when}.`);
        break;
      case MeetingChange.BOOKED:
        this.model.notify(`${who} booked your office hours: ${when}.`);
        break;
      default:
        break;
    }
  }
}

/** "in 5 minutes", "in 3 hours", "now": how soon a meeting starts. */
export function startsIn(startMs: number, now = Date.now()): string {
  const min = Math.round((startMs - now) / 60_000);
  if (min <= 0) return "now";
  if (min < 90) return `in ${min} minute${min === 1 ? "" : "s"}`;
  const h = Math.round(min / 60);
  if (h < 36) return `in ${h} hours`;
  return `in ${Math.round(h / 24)} days`;
}

/** The words of a meeting's row in the conversation: what happened last, in the viewer's time. */
export function meetingRowText(m: Meeting, me: bigint | undefined, name: (id: bigint) => string): string {
  const who = (id: bigint) => (id === me ? "you" : id === 0n ? "the server" : name(id));
  const when = timeRange(m.startMs, m.durationMinutes);
  const pending = m.pending && m.pending.startMs !== 0n ? m.pending : undefined;
  const live = m.state === MeetingState.PROPOSED || m.state === MeetingState.ACCEPTED;
  if (pending && live) {
    const next = timeRange(pending.startMs, pending.durationMinutes || m.durationMinutes);
    return `New time asked by ${who(pending.proposedBy)}: ${next} instead of ${when} (your time)`;
  }
  const reason = m.reason ? `: ${m.reason}` : "";
  switch (m.state) {
    case MeetingState.PROPOSED:
      return `Meeting proposed by ${who(m.proposedBy)} for ${when} (your time)`;
    case MeetingState.ACCEPTED:
      return m.officeHours
        ? `Office hours booked by ${who(m.menteeId)} for ${when} (your time)`
        : `Meeting for ${when} (your time) accepted`;
    case MeetingState.DECLINED:
      return `Meeting for ${when} (your time) declined by ${who(m.changedBy)}${reason}`;
    case MeetingState.CANCELLED:
      return `Meeting for ${when} (your time) cancelled by ${who(m.changedBy)}${reason}`;
    case MeetingState.HELD:
      return `Meeting of ${when} (your time) held, marked by ${who(m.outcomeBy)}`;
    case MeetingState.NO_SHOW:
      return `Meeting of ${when} (your time): no-show, marked by ${who(m.outcomeBy)}`;
    default:
      return `Meeting for ${when} (your time)`;
  }
}
