import { describe, expect, it } from "vitest";
import { ErrorCode, PreceptorError } from "../src/index.js";
import { makeClient, pairUp, Recorder, serverPerTest } from "./support/helpers.js";

async function rejection(p: Promise<unknown>): Promise<PreceptorError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(PreceptorError);
    return e as PreceptorError;
  }
  throw new Error("expected a rejection");
}

describe("errors", () => {
  const server = serverPerTest();

  it("maps the server's errors, and the client's own limits, to PreceptorError", async () => {
    const chen = makeClient(server().url);
    const lind = makeClient(server().url);
    const novak = makeClient(server().url, { maxOutbox: 2 });
    const rn = new Recorder(novak);
    await Promise.all([chen.start(), lind.start(), novak.start()]);

    const wrong = await rejection(novak.login("mentee.novak", "guess"));
    expect(wrong.code).toBe(ErrorCode.UNAUTHENTICATED);
    expect(wrong.message).toBe("Wrong username or password.");
    expect(novak.hasToken).toBe(false);

    await chen.login("mentee.chen", "demo-mentee.chen");
    await lind.login("mentor.lindqvist", "demo-mentor.lindqvist");
    await novak.login("mentee.novak", "demo-mentee.novak");
    const conversationId = await pairUp(chen, lind, "mentor.lindqvist");

    // Someone else's conversation: NOT_FOUND with the server's sentence.
    const notYours = await rejection(novak.call("history", { conversationId }));
    expect(notYours.code).toBe(ErrorCode.NOT_FOUND);
    expect(notYours.codeName).toBe("NOT_FOUND");
    expect(notYours.message).toBe(`No conversation ${conversationId} among yours.`);
    // The same through the outbox: the server's answer ends the send.
    const sent = novak.send({ conversationId, body: "Hi?" });
    const refused = await rejection(sent.done);
    expect(refused.code).toBe(ErrorCode.NOT_FOUND);
    expect(novak.outbox).toEqual([]);
    // A field at fault is named.
    const tooLong = await rejection(chen.send({ conversationId, body: "x".repeat(16_385) }).done);
    expect(tooLong.code).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(tooLong.field).toBe("body");

    // A request in flight when the link drops: UNAVAILABLE, and the client comes back.
    const from = rn.states.length;
    const inFlight = novak.call("listConversations", {});
    novak.dropConnectionForTest();
    const droppedError = await rejection(inFlight);
    expect(droppedError.code).toBe(ErrorCode.UNAVAILABLE);
    expect(droppedError.message).toBe("The connection dropped; retry.");
    await rn.untilState("authenticated", 5_000, from);

    // The outbox is bounded.
    novak.goOffline();
    novak.send({ conversationId: 999n, body: "one" });
    novak.send({ conversationId: 999n, body: "two" });
    const full = await rejection(novak.send({ conversationId: 999n, body: "three" }).done);
    expect(full.code).toBe(ErrorCode.RESOURCE_EXHAUSTED);
    expect(full.message).toMatch(/already waiting to be sent/);
    expect(novak.outbox).toHaveLength(2);
  });
});
