import { describe, expect, it } from "vitest";
import type { PendingMessage, PreceptorClient } from "../src/index.js";
import { makeClient, pairUp, Recorder, serverPerTest, until } from "./support/helpers.js";
import type { TestServer } from "./support/server.js";

async function signedInPair(server: TestServer) {
  const chen = makeClient(server.url);
  const lind = makeClient(server.url);
  const rc = new Recorder(chen);
  const rl = new Recorder(lind);
  await Promise.all([chen.start(), lind.start()]);
  await chen.login("mentee.chen", "demo-mentee.chen");
  await lind.login("mentor.lindqvist", "demo-mentor.lindqvist");
  const conversationId = await pairUp(chen, lind, "mentor.lindqvist");
  return { chen, lind, rc, rl, conversationId };
}

async function historyOf(client: PreceptorClient, conversationId: bigint) {
  const page = await client.call("history", { conversationId, limit: 200 });
  expect(page.hasMore).toBe(false);
  return page.messages;
}

describe("reconnecting", () => {
  const server = serverPerTest();

  it("survives a server crash: both reconnect, and messages written meanwhile arrive exactly once", async () => {
    const { chen, lind, rc, rl, conversationId } = await signedInPair(server());
    await chen.send({ conversationId, body: "Before the crash" }).done;
    await rl.untilPosted("Before the crash");

    const outboxSeen: PendingMessage[][] = [];
    chen.onOutbox((pending) => outboxSeen.push(pending));
    const fromC = rc.states.length;
    const fromL = rl.states.length;
    await server().kill("SIGKILL");
    await Promise.all([rc.untilState("disconnected", 5_000, fromC), rl.untilState("disconnected", 5_000, fromL)]);
    for (const r of [rc, rl]) {
      const down = r.states.slice(r === rc ? fromC : fromL).find((s) => s.state === "disconnected")!;
      expect(down.willReconnect).toBe(true);
      expect(down.reason).not.toBe("");
    }

    // Written while the server is down: they wait in the outbox, which the app can show.
    const offline = ["While you were away 1", "While you were away 2", "While you were away 3"];
    const sends = offline.map((body) => chen.send({ conversationId, body }));
    const reply = lind.send({ conversationId, body: "Mentor, offline too" });
    expect(chen.outbox.map((p) => p.body)).toEqual(offline);
    expect(outboxSeen.at(-1)?.map((p) => p.clientMessageId)).toEqual(sends.map((s) => s.clientMessageId));
    expect(lind.outbox).toHaveLength(1);

    const upC = rc.states.length;
    const upL = rl.states.length;
    await server().restart();
    await Promise.all([rc.untilState("authenticated", 10_000, upC), rl.untilState("authenticated", 10_000, upL)]);

    const results = await Promise.all(sends.map((s) => s.done));
    await reply.done;
    for (const body of offline) await rl.untilPosted(body);
    await rc.untilPosted("Mentor, offline too");
    expect(chen.outbox).toEqual([]);
    expect(outboxSeen.at(-1)).toEqual([]);
    expect(results.map((r) => r.message?.clientMessageId)).toEqual(sends.map((s) => s.clientMessageId));

    // Exactly once at the other client, and once in the stored history.
    for (const body of [...offline, "Before the crash"]) {
      expect(rl.posted(conversationId).filter((b) => b === body)).toHaveLength(1);
      expect(rc.posted(conversationId).filter((b) => b === body)).toHaveLength(1);
    }
    const history = await historyOf(lind, conversationId);
    const ids = history.map((m) => m.clientMessageId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const s of sends) expect(ids.filter((id) => id === s.clientMessageId)).toHaveLength(1);
    expect(ids).toContain(reply.clientMessageId);
    // Written in this order, stored in this order.
    const stored = [...history].reverse().map((m) => m.body).filter((b) => offline.includes(b));
    expect(stored).toEqual(offline);
  });

  it("resends a message whose reply was lost without storing it twice", async () => {
    const { chen, rc, rl, lind, conversationId } = await signedInPair(server());
    let settled = 0;
    const sent = chen.send({ conversationId, body: "Is Thursday still good?" });
    void sent.done.then(() => settled++, () => settled++);
    const from = rc.states.length;
    chen.dropConnectionAfterWritesForTest(); // the SendMessage reaches the server; its reply is lost

    await rc.untilState("disconnected", 5_000, from);
    expect(chen.outbox.map((p) => p.clientMessageId)).toEqual([sent.clientMessageId]);
    const result = await sent.done;
    await rc.untilState("authenticated", 5_000, from);
    expect(result.message?.clientMessageId).toBe(sent.clientMessageId);
    expect(result.duplicate).toBe(true); // the first one was stored; the resend found it
    await rl.untilPosted("Is Thursday still good?");
    expect(settled).toBe(1);
    expect(chen.outbox).toEqual([]);

    const history = await historyOf(lind, conversationId);
    expect(history.filter((m) => m.body === "Is Thursday still good?")).toHaveLength(1);
    expect(rl.posted(conversationId).filter((b) => b === "Is Thursday still good?")).toHaveLength(1);
    expect(rc.posted(conversationId).filter((b) => b === "Is Thursday still good?")).toHaveLength(1);
    // And the conversation goes on.
    await chen.send({ conversationId, body: "Great." }).done;
    await rl.untilPosted("Great.");
    await until((n) => chen.onOutbox(n), () => chen.outbox.length === 0, "an empty outbox");
  });
});
