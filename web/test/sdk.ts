// A member's other device in a test: the TypeScript SDK in Node, signed in as
// a demo user. For what the page cannot do quickly: pairing before the pages
// sign in, and meetings that start within seconds (the form's times are whole
// minutes). What the people do is still done in the pages.
//
// `ws` is the npm workspace's (client-sdk/ts's dev dependency, in the root
// node_modules): Node 20 has no WebSocket of its own.
import WebSocket from "ws";
import { MemoryStorage, PreceptorClient, Purpose, WhereKind } from "@preceptor/client";
import { password } from "./harness.js";

export async function sdkClient(origin: string, username: string): Promise<PreceptorClient> {
  const client = new PreceptorClient({
    url: `${origin.replace(/^http/, "ws")}/v1/ws`,
    webSocket: (url) => new WebSocket(url),
    storage: new MemoryStorage(),
    deviceName: "web test (SDK)",
    syncEvents: false,
  });
  await client.start();
  await client.login(username, password(username));
  return client;
}

/** The mentee asks the mentor (by username), the mentor accepts: the mentorship's id. */
export async function pairUp(mentee: PreceptorClient, mentor: PreceptorClient, mentorUsername: string): Promise<bigint> {
  const list = await mentee.call("listMentors", {});
  const entry = list.mentors.find((m) => m.mentor?.username === mentorUsername);
  if (!entry?.mentor) throw new Error(`${mentorUsername} is not in the directory`);
  const asked = await mentee.call("requestMentorship", {
    mentorId: entry.mentor.id,
    purpose: Purpose.CAREER,
    note: "I would like help preparing for ward rounds.",
  });
  const accepted = await mentor.call("acceptMentorship", { mentorshipId: asked.mentorship!.id });
  return accepted.mentorship!.id;
}

/**
 * `proposer` proposes a meeting in the mentorship starting `inMs` from now
 * (to the millisecond) and `accepter` accepts it at once: its id and start.
 */
export async function acceptedMeeting(
  proposer: PreceptorClient,
  accepter: PreceptorClient,
  mentorshipId: bigint,
  opts: { inMs: number; agenda: string; minutes?: number },
): Promise<{ id: bigint; startMs: number }> {
  const startMs = Date.now() + opts.inMs;
  const p = await proposer.call("proposeMeeting", {
    mentorshipId,
    startMs: BigInt(startMs),
    durationMinutes: opts.minutes ?? 15,
    timeZone: "Europe/Stockholm",
    agenda: opts.agenda,
    where: { kind: WhereKind.IN_APP_CALL },
  });
  await accepter.call("acceptMeeting", { meetingId: p.meeting!.id, revision: p.meeting!.revision });
  return { id: p.meeting!.id, startMs };
}
