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
import { meetingWhen } from "./labels.js";
import { errorCode, errorText, type Model } from "./model.js";

export interface MeetingItem {
  meeting: Meeting;
  privateNotes: string;
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
        const r = k.value;
        if (r.meeting) this.apply(r.meeting);
        if (fresh && r.meeting) {
          const m = r.meeting;
          const other = this.model.userName(m.mentorId === me ? m.menteeId : m.mentorId);
          this.model.notify(
            `Reminder: your meeting with ${other} starts ${startsIn(Number(m.startMs))} (${meetingWhen(m)})` +
              (r.late ? " — this reminder comes late." : "."),
          );
        }
        break;
      }
      case "fitAnswered":
        this.fit.set(k.value.mentorshipId, k.value.answer);
        this.model.changed();
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

function startsIn(startMs: number): string {
  const min = Math.round((startMs - Date.now()) / 60_000);
  if (min <= 0) return "now";
  if (min < 90) return `in ${min} minute${min === 1 ? "" : "s"}`;
  const h = Math.round(min / 60);
  if (h < 36) return `in ${h} hours`;
  return `in ${Math.round(h / 24)} days`;
}
