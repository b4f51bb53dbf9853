import { describe, expect, it } from "vitest";
import { MemoryStorage } from "../src/index.js";
import { makeClient, pairUp, Recorder, serverPerTest } from "./support/helpers.js";

describe("a restarted client", () => {
  const server = serverPerTest();

  it("resumes from storage: the token is reused, no event comes twice, the saved outbox is sent", async () => {
    const storage = new MemoryStorage();
    const first = makeClient(server().url, { storage });
    const lind = makeClient(server().url);
    const r1 = new Recorder(first);
    const rl = new Recorder(lind);
    await Promise.all([first.start(), lind.start()]);
    await first.login("mentee.chen", "demo-mentee.chen");
    await lind.login("mentor.lindqvist", "demo-mentor.lindqvist");
    const conversationId = await pairUp(first, lind, "mentor.lindqvist");
    await first.send({ conversationId, body: "Hello from the first run" }).done;
    await lind.send({ conversationId, body: "Welcome!" }).done;
    await r1.untilPosted("Welcome!");

    // The app goes offline, writes a message, and is closed (a page reload while offline).
    first.goOffline();
    await r1.untilState("disconnected");
    const typed = first.send({ conversationId, body: "Written offline before the reload" });
    const lastPosition = first.position.position;
    const token = await storage.getItem("token");
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    first.stop();
    await expect(typed.done).rejects.toMatchObject({ codeName: "CANCELLED" });

    // Meanwhile the mentor writes.
    await lind.send({ conversationId, body: "Are you there?" }).done;

    const second = makeClient(server().url, { storage });
    const r2 = new Recorder(second);
    await second.start();
    // Known at once from storage: the app can show its main screen before the connection is up.
    expect(second.hasToken).toBe(true);
    expect(second.user?.username).toBe("mentee.chen");
    expect(second.outbox.map((p) => p.clientMessageId)).toEqual([typed.clientMessageId]);
    await r2.untilState("authenticated");
    await r2.untilPosted("Are you there?");
    await rl.untilPosted("Written offline before the reload");
    await r2.untilPosted("Written offline before the reload"); // its own reply, as its event

    // Signed in with the saved token, not a new login.
    expect(await storage.getItem("token")).toBe(token);
    // Only what the first run had not seen: nothing twice.
    expect(r2.positions().every((p) => p > lastPosition)).toBe(true);
    const all = [...r1.positions(), ...r2.positions()];
    expect(new Set(all).size).toBe(all.length);
    expect(r2.posted(conversationId)).toEqual(["Are you there?", "Written offline before the reload"]);
    expect(second.outbox).toEqual([]);
    expect(await storage.getItem("outbox")).toBe("[]");

    const history = await lind.call("history", { conversationId, limit: 50 });
    expect(history.messages.filter((m) => m.clientMessageId === typed.clientMessageId)).toHaveLength(1);
  });

  it("logout ends the session everywhere it is used: the other client gets SessionEnded and stops", async () => {
    const storage = new MemoryStorage();
    const phone = makeClient(server().url, { storage });
    const rp = new Recorder(phone);
    await phone.start();
    await phone.login("mentee.garcia", "demo-mentee.garcia");
    await rp.untilState("authenticated");

    // A second client started from the same saved session (same token).
    const tabletStorage = new MemoryStorage();
    await tabletStorage.setItem("token", (await storage.getItem("token"))!);
    const tablet = makeClient(server().url, { storage: tabletStorage });
    const rt = new Recorder(tablet);
    await tablet.start();
    await rt.untilState("authenticated");
    expect(tablet.user?.username).toBe("mentee.garcia");

    await phone.logout();
    expect(phone.state).toBe("disconnected");
    expect(rp.states.at(-1)).toMatchObject({ state: "disconnected", willReconnect: false });
    expect(phone.hasToken).toBe(false);
    expect(phone.user).toBeUndefined();
    expect(await storage.getItem("token")).toBeNull();
    expect(await storage.getItem("user")).toBeNull();

    await rt.untilState("disconnected");
    expect(rt.events.some((e) => e.kind.case === "sessionEnded")).toBe(true);
    expect(rt.states.at(-1)).toMatchObject({ state: "disconnected", willReconnect: false });
    expect(rt.states.at(-1)!.reason).toMatch(/^Your session ended/);
    expect(tablet.hasToken).toBe(false);
    await expect(tablet.call("listConversations", {})).rejects.toMatchObject({ codeName: "UNAUTHENTICATED" });

    // Signing in again brings the stopped client back.
    await tablet.login("mentee.garcia", "demo-mentee.garcia");
    await rt.untilState("authenticated");
    await tablet.call("listConversations", {});
  });
});
