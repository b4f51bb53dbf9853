import { describe, expect, it } from "vitest";
import { makeClient, pairUp, Recorder, serverPerTest } from "./support/helpers.js";

describe("two clients chatting live", () => {
  const server = serverPerTest();

  it("delivers messages both ways once, in order, and a client's own send as its MessagePosted", async () => {
    const chen = makeClient(server().url);
    const lind = makeClient(server().url);
    const rc = new Recorder(chen);
    const rl = new Recorder(lind);
    await chen.start();
    await lind.start();
    expect(chen.hasToken).toBe(false);
    await rc.untilState("connected");

    const login = await chen.login("mentee.chen", "demo-mentee.chen");
    expect(login.user?.username).toBe("mentee.chen");
    expect(chen.hasToken).toBe(true);
    await lind.login("mentor.lindqvist", "demo-mentor.lindqvist");
    await Promise.all([rc.untilState("authenticated"), rl.untilState("authenticated")]);
    expect(chen.user?.username).toBe("mentee.chen");

    const conversationId = await pairUp(chen, lind, "mentor.lindqvist");

    const expected: string[] = [];
    const ownIds: string[] = [];
    for (let i = 1; i <= 3; i++) {
      const a = `Chen ${i}: could you look at my personal statement?`;
      const sent = chen.send({ conversationId, body: a });
      ownIds.push(sent.clientMessageId);
      const result = await sent.done;
      expect(result.duplicate).toBe(false);
      expect(result.message?.clientMessageId).toBe(sent.clientMessageId);
      // The reply is delivered as the MessagePosted event, before `done`.
      expect(rc.posted(conversationId)).toContain(a);
      await rl.untilPosted(a);
      expected.push(a);

      const b = `Lindqvist ${i}: yes, send it over.`;
      await lind.send({ conversationId, body: b }).done;
      await rc.untilPosted(b);
      expected.push(b);
    }

    expect(rc.posted(conversationId)).toEqual(expected);
    expect(rl.posted(conversationId)).toEqual(expected);
    for (const r of [rc, rl]) {
      const positions = r.positions();
      expect(new Set(positions).size).toBe(positions.length); // once each
      expect([...positions].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))).toEqual(positions); // in order
    }
    // Chen's own messages reached Chen as events too, once each, with the ids send() gave.
    const chenOwn = rc.events
      .map((e) => (e.kind.case === "messagePosted" ? e.kind.value.message?.clientMessageId : undefined))
      .filter((id) => id !== undefined && ownIds.includes(id));
    expect(chenOwn).toEqual(ownIds);
    // And the mentorship change reached both.
    expect(rc.events.some((e) => e.kind.case === "mentorshipChanged")).toBe(true);
    expect(rl.events.some((e) => e.kind.case === "mentorshipChanged")).toBe(true);
    expect(chen.outbox).toEqual([]);
  });
});
