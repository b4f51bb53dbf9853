import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { makeClient, Recorder, stopAll } from "./support/helpers.js";
import { TestServer } from "./support/server.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("keeping the link alive", () => {
  let server: TestServer | undefined;
  let silent: Server | undefined;
  const sockets: Socket[] = [];
  afterEach(async () => {
    stopAll();
    await server?.dispose();
    server = undefined;
    for (const s of sockets.splice(0)) s.destroy();
    await new Promise<void>((r) => (silent ? silent.close(() => r()) : r()));
    silent = undefined;
  });

  it("pings a quiet but healthy link instead of dropping it, and drops a server that stopped answering", async () => {
    server = await TestServer.start();
    const chen = makeClient(server.url, { idleTimeoutMs: 400 });
    const rc = new Recorder(chen);
    await chen.start();
    await chen.login("mentee.chen", "demo-mentee.chen");
    await rc.untilState("authenticated");

    // Five idle periods with nothing to say: the pings keep the link up.
    const settled = rc.states.length;
    await sleep(2_000);
    expect(chen.state).toBe("authenticated");
    expect(rc.states.slice(settled)).toEqual([]);

    // A hung server (its socket open, nothing answered): the client gives up on
    // the link by itself, says why, and is back once the server answers again.
    server.freeze();
    await rc.untilState("disconnected", 5_000);
    const dropped = rc.states[rc.states.length - 1]!;
    expect(dropped.reason).toBe("Nothing heard from the server for 400 ms; reconnecting.");
    expect(dropped.willReconnect).toBe(true);
    server.thaw();
    const from = rc.states.length;
    await rc.untilState("authenticated", 10_000, from);
    await chen.call("whoAmI", {});
  });

  it("gives up on a connection the server never answers, and keeps trying", async () => {
    // A TCP port that accepts and never says a word (no WebSocket handshake).
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((r) => silent!.listen(0, "127.0.0.1", () => r()));
    const port = (silent.address() as { port: number }).port;
    const client = makeClient(`ws://127.0.0.1:${port}/v1/ws`, { connectTimeoutMs: 300 });
    const rec = new Recorder(client);
    await client.start();
    await rec.untilState("disconnected", 5_000);
    const change = rec.states.find((s) => s.state === "disconnected")!;
    expect(change.reason).toBe("Could not connect within 300 ms.");
    expect(change.willReconnect).toBe(true);
    // It tries again by itself (a second connection reaches the port).
    await rec.untilState("connecting", 5_000, rec.states.indexOf(change) + 1);
    await expect.poll(() => sockets.length, { timeout: 5_000 }).toBeGreaterThanOrEqual(2);
  });
});
