import WebSocket from "ws";
import { afterEach, beforeEach } from "vitest";
import { TestServer } from "./server.js";
import {
  MemoryStorage,
  PreceptorClient,
  Purpose,
  type ClientOptions,
  type ClientStorage,
  type ConnectionState,
  type Event,
  type StateChange,
  type WebSocketFactory,
} from "../../src/index.js";

/** Node 18 has no global WebSocket: the `ws` package, through the factory option. */
export const nodeWebSocket: WebSocketFactory = (url) => new WebSocket(url);

const clients: PreceptorClient[] = [];

/** A client with quick reconnects; stopped by stopAll() after each test. */
export function makeClient(url: string, options: Partial<ClientOptions> & { storage?: ClientStorage } = {}): PreceptorClient {
  const client = new PreceptorClient({
    url,
    webSocket: nodeWebSocket,
    storage: options.storage ?? new MemoryStorage(),
    initialBackoffMs: 50,
    maxBackoffMs: 300,
    requestTimeoutMs: 10_000,
    deviceName: "vitest",
    ...options,
  });
  clients.push(client);
  return client;
}

export function stopAll(): void {
  for (const c of clients.splice(0)) c.stop();
}

/**
 * A fresh server for each test of the enclosing describe(); after the test its
 * clients are stopped and the server is disposed. Call the result for the server.
 */
export function serverPerTest(): () => TestServer {
  let server: TestServer | undefined;
  beforeEach(async () => {
    server = await TestServer.start();
  });
  afterEach(async () => {
    stopAll();
    await server?.dispose();
    server = undefined;
  });
  return () => {
    if (!server) throw new Error("No server outside a test.");
    return server;
  };
}

/** Resolves when `check` returns true, checked at once and at every notification. */
export function until(subscribe: (notify: () => void) => () => void, check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (check()) return resolve();
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`Timed out waiting for ${what}`));
    }, timeoutMs);
    const unsubscribe = subscribe(() => {
      if (!check()) return;
      clearTimeout(timer);
      unsubscribe();
      resolve();
    });
  });
}

/** Records a client's events and state changes, and waits on them. */
export class Recorder {
  readonly events: Event[] = [];
  readonly states: StateChange[] = [];
  readonly storeChanges: bigint[] = [];

  constructor(readonly client: PreceptorClient) {
    client.onEvent((e) => this.events.push(e));
    client.onState((s) => this.states.push(s));
    client.onStoreChanged((next) => this.storeChanges.push(next.storeId));
  }

  /** Bodies of the MessagePosted events, in the order delivered. */
  posted(conversationId?: bigint): string[] {
    return this.events
      .filter((e) => e.kind.case === "messagePosted")
      .map((e) => (e.kind.case === "messagePosted" ? e.kind.value.message! : undefined)!)
      .filter((m) => conversationId === undefined || m.conversationId === conversationId)
      .map((m) => m.body);
  }

  positions(): bigint[] {
    return this.events.filter((e) => e.position !== 0n).map((e) => e.position);
  }

  untilPosted(body: string, timeoutMs?: number): Promise<void> {
    return until((n) => this.client.onEvent(n), () => this.posted().includes(body), `a MessagePosted "${body}"`, timeoutMs);
  }

  /** Until the client is in `state`, or (with `from`) has passed through it since states[from]. */
  untilState(state: ConnectionState, timeoutMs?: number, from?: number): Promise<void> {
    return until(
      (n) => this.client.onState(n),
      () => (from === undefined ? this.client.state === state : this.states.slice(from).some((s) => s.state === state)),
      `state ${state}`,
      timeoutMs,
    );
  }
}

/** Signs both in and makes them a pair: the mentee requests, the mentor accepts. Returns the conversation id. */
export async function pairUp(mentee: PreceptorClient, mentor: PreceptorClient, mentorUsername: string): Promise<bigint> {
  const list = await mentee.call("listMentors", {});
  const entry = list.mentors.find((m) => m.mentor?.username === mentorUsername);
  if (!entry?.mentor) throw new Error(`${mentorUsername} is not in the directory`);
  const requested = await mentee.call("requestMentorship", {
    mentorId: entry.mentor.id,
    purpose: Purpose.CAREER,
    note: "Residency applications",
  });
  const accepted = await mentor.call("acceptMentorship", { mentorshipId: requested.mentorship!.id });
  const conversationId = accepted.mentorship!.conversationId;
  if (!conversationId) throw new Error("The accepted mentorship has no conversation");
  return conversationId;
}
