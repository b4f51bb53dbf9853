import { afterEach, describe, expect, it } from "vitest";
import { MemoryStorage } from "../src/index.js";
import { makeClient, Recorder, stopAll, until } from "./support/helpers.js";
import { TestServer } from "./support/server.js";

describe("a saved position from another data folder", () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    stopAll();
    await Promise.all(servers.splice(0).map((s) => s.dispose()));
  });

  it("refuses the old token (stops, clears it), and after login reports the store change", async () => {
    const [a, b] = await Promise.all([TestServer.start(), TestServer.start()]);
    servers.push(a, b);
    const storage = new MemoryStorage();

    const old = makeClient(a.url, { storage });
    const ra = new Recorder(old);
    await old.start();
    await old.login("mentor.raman", "demo-mentor.raman");
    await ra.untilState("authenticated");
    // Something stored in this user's inbox, so the saved position is past 0.
    await old.call("updateMentorProfile", { profile: { acceptingRequests: true, capacity: 4, bio: "Cardiology" } });
    await until(
      (n) => old.onEvent(n),
      () => ra.events.some((e) => e.kind.case === "mentorProfile"),
      "MentorProfileChanged",
    );
    const oldStore = old.position.storeId;
    expect(oldStore).not.toBe(0n);
    expect(old.position.position).toBeGreaterThan(0n);
    old.stop();

    // The same saved state, pointed at a server with other data (restored from elsewhere).
    const moved = makeClient(b.url, { storage });
    const rb = new Recorder(moved);
    await moved.start();
    expect(moved.hasToken).toBe(true);
    await rb.untilState("disconnected", 5_000, 0);
    await rb.untilState("disconnected"); // and stays there
    const refused = rb.states.at(-1)!;
    expect(refused.willReconnect).toBe(false);
    expect(refused.reason).toMatch(/no longer valid/);
    expect(moved.hasToken).toBe(false);
    expect(await storage.getItem("token")).toBeNull();
    expect(rb.storeChanges).toEqual([]);

    await moved.login("mentor.raman", "demo-mentor.raman");
    await rb.untilState("authenticated");
    expect(rb.storeChanges).toHaveLength(1);
    expect(rb.storeChanges[0]).not.toBe(oldStore);
    expect(moved.position.storeId).toBe(rb.storeChanges[0]);
  });
});
