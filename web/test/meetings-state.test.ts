// The meetings state without a browser: what events do to it and which notices they raise.
import { describe, expect, it } from "vitest";
import { QueueState, create, EventSchema, MeetingState, type Event, type User } from "@preceptor/client";
import { MeetingsState, meetingRowText } from "../src/meetings.js";
import type { Model } from "../src/model.js";

const ME = 7n;
const MENTOR = 3n;

function fakeModel() {
  const users = new Map<bigint, User>([[MENTOR, { id: MENTOR, displayName: "Dr. Priya Raman" } as User]]);
  const notices: string[] = [];
  let loads = 0;
  const model = {
    me: { id: ME },
    users,
    everAuthenticated: true,
    notices,
    notify: (t: string) => notices.push(t),
    changed: () => {},
    userName: (id: bigint) => (id === ME ? "You" : (users.get(id)?.displayName ?? `User ${id}`)),
    client: { call: async () => { loads++; return { meetings: [], hasMore: false }; } },
  };
  return { model: model as unknown as Model, notices, loads: () => loads };
}

function ev(kind: Event["kind"], ageMs = 0): Event {
  return create(EventSchema, { position: 1n, timeMs: BigInt(Date.now() - ageMs), kind });
}

const meeting = (revision: number, state = MeetingState.ACCEPTED, startMs = Date.now() + 15 * 60_000) => ({
  id: 11n,
  mentorId: MENTOR,
  menteeId: ME,
  state,
  startMs: BigInt(startMs),
  durationMinutes: 30,
  revision,
});

describe("meetings state", () => {
  it("a reminder stays shown until dismissed, and only while its meeting is accepted, not moved and not over", () => {
    const { model, notices } = fakeModel();
    const s = new MeetingsState(model);
    s.onEvent(ev({ case: "meetingReminder", value: { meeting: meeting(2), minutesBefore: 15, late: false } as never }));
    expect(s.activeReminders().map((r) => [r.meeting.id, r.reminder.late])).toEqual([[11n, false]]);
    expect(notices).toEqual([]); // a banner, not a notice that goes away
    s.onEvent(ev({ case: "meetingReminder", value: { meeting: meeting(2), minutesBefore: 5, late: true } as never }));
    expect(s.activeReminders().map((r) => r.reminder.late)).toEqual([true]);
    s.dismissReminder(11n);
    expect(s.activeReminders()).toEqual([]);
    // One that Sync brings for a meeting still ahead shows; for a meeting over, not.
    s.onEvent(ev({ case: "meetingReminder", value: { meeting: meeting(2), minutesBefore: 1440 } as never }, 86_400_000));
    expect(s.activeReminders()).toHaveLength(1);
    s.onEvent(ev({ case: "meetingChanged", value: { meeting: meeting(3, MeetingState.CANCELLED), actorId: MENTOR } as never }));
    expect(s.activeReminders()).toEqual([]);
    const old = { ...meeting(1, MeetingState.ACCEPTED, Date.now() - 3_600_000), id: 12n };
    s.onEvent(ev({ case: "meetingReminder", value: { meeting: old, minutesBefore: 15 } as never }, 3_700_000));
    expect(s.activeReminders()).toEqual([]);
    // Moved to a new time after the reminder: that time has reminders of its own.
    const moving = { ...meeting(1), id: 13n };
    s.onEvent(ev({ case: "meetingReminder", value: { meeting: moving, minutesBefore: 15 } as never }));
    expect(s.activeReminders()).toHaveLength(1);
    s.apply({ ...moving, revision: 2, startMs: moving.startMs + 86_400_000n } as never);
    expect(s.activeReminders()).toEqual([]);
  });

  it("a meeting's row in the conversation says what happened last, in words", () => {
    const name = (id: bigint) => (id === MENTOR ? "Dr. Priya Raman" : `User ${id}`);
    const m = (over: object) => ({ ...meeting(1, MeetingState.PROPOSED), proposedBy: MENTOR, ...over }) as never;
    expect(meetingRowText(m({}), ME, name)).toMatch(/^Meeting proposed by Dr\. Priya Raman for .+ \(your time\)$/);
    expect(meetingRowText(m({ proposedBy: ME }), ME, name)).toMatch(/^Meeting proposed by you for /);
    expect(meetingRowText(m({ state: MeetingState.ACCEPTED }), ME, name)).toMatch(/ accepted$/);
    expect(meetingRowText(m({ state: MeetingState.CANCELLED, changedBy: ME, reason: "On call" }), ME, name)).toMatch(
      / cancelled by you: On call$/,
    );
    expect(meetingRowText(m({ state: MeetingState.DECLINED, changedBy: MENTOR, reason: "Away" }), ME, name)).toMatch(
      / declined by Dr\. Priya Raman: Away$/,
    );
    expect(
      meetingRowText(m({ state: MeetingState.ACCEPTED, pending: { startMs: 5n, durationMinutes: 30, proposedBy: ME } }), ME, name),
    ).toMatch(/^New time asked by you: .+ instead of .+ \(your time\)$/);
    expect(meetingRowText(m({ state: MeetingState.HELD, outcomeBy: MENTOR }), ME, name)).toMatch(/ held, marked by Dr\. Priya Raman$/);
    expect(meetingRowText(m({ state: MeetingState.NO_SHOW, outcomeBy: ME }), ME, name)).toMatch(/: no-show, marked by you$/);
  });

  it("an older revision never replaces a newer one", () => {
    const { model } = fakeModel();
    const s = new MeetingsState(model);
    s.apply(meeting(3, MeetingState.CANCELLED) as never);
    s.onEvent(ev({ case: "meetingChanged", value: { meeting: meeting(2, MeetingState.ACCEPTED), actorId: MENTOR } as never }));
    expect(s.items.get(11n)?.meeting.state).toBe(MeetingState.CANCELLED);
    s.onEvent(ev({ case: "meetingChanged", value: { meeting: meeting(4, MeetingState.PROPOSED), actorId: MENTOR } as never }));
    expect(s.items.get(11n)?.meeting.state).toBe(MeetingState.PROPOSED);
  });

  it("the queue: a mentee's place, and the notice when the mentor calls them", () => {
    const { model, notices } = fakeModel();
    const s = new MeetingsState(model);
    s.onEvent(ev({ case: "queueChanged", value: { mentorId: MENTOR, menteeId: ME, state: QueueState.WAITING, place: 2 } as never }));
    expect(s.myQueue.get(MENTOR)).toEqual({ state: QueueState.WAITING, place: 2 });
    expect(notices).toEqual([]);
    s.onEvent(ev({ case: "queueChanged", value: { mentorId: MENTOR, menteeId: ME, state: QueueState.CALLED } as never }));
    expect(s.myQueue.get(MENTOR)?.state).toBe(QueueState.CALLED);
    expect(notices).toEqual(["Dr. Priya Raman called you from the queue: the call rings here."]);
  });
});
