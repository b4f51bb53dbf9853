// The meetings state without a browser: what events do to it and which notices they raise.
import { describe, expect, it } from "vitest";
import { QueueState, create, EventSchema, MeetingState, type Event, type User } from "@preceptor/client";
import { MeetingsState } from "../src/meetings.js";
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
  it("a reminder shows as a notice naming the other member and when; a late one says so", () => {
    const { model, notices } = fakeModel();
    const s = new MeetingsState(model);
    s.onEvent(ev({ case: "meetingReminder", value: { meeting: meeting(2), minutesBefore: 15, late: false } as never }));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/^Reminder: your meeting with Dr\. Priya Raman starts in 1[45] minutes \(/);
    s.onEvent(ev({ case: "meetingReminder", value: { meeting: meeting(2), minutesBefore: 15, late: true } as never }));
    expect(notices[1]).toContain("this reminder comes late");
    // An old one replayed by Sync makes no notice.
    s.onEvent(ev({ case: "meetingReminder", value: { meeting: meeting(2), minutesBefore: 1440 } as never }, 3 * 86_400_000));
    expect(notices).toHaveLength(2);
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
