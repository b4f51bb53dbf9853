// A Preceptor connection that stays up: a client of ws://host:port/v1/ws that
// reconnects by itself (exponential backoff with jitter), signs in again with
// its saved token, resumes the event stream with Sync from the last position it
// delivered, and resends unacknowledged messages with their original
// client_message_id, so the user sees every stored event once and every
// message is stored once. It mirrors the C++ SDK (client-sdk/cpp).
//
// The core touches no DOM: the WebSocket comes from options.webSocket (default
// globalThis.WebSocket), saved state goes through options.storage, and time
// through setTimeout.

import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import type { GenMessage } from "@bufbuild/protobuf/codegenv2";
import { UserSchema, type LoginResult, type User } from "./gen/preceptor/v1/accounts_pb.js";
import {
  SendMessageSchema,
  type CheckIn,
  type CheckInSchema,
  type SendMessage,
  type SendMessageResult,
} from "./gen/preceptor/v1/chat_pb.js";
import { ErrorCode } from "./gen/preceptor/v1/errors_pb.js";
import { EventSchema, SyncPositionSchema, type Event, type SyncPosition } from "./gen/preceptor/v1/events_pb.js";
import {
  ClientFrameSchema,
  ServerFrameSchema,
  type ClientFrame,
  type Response,
} from "./gen/preceptor/v1/frames_pb.js";
import { PreceptorError } from "./errors.js";
import { MemoryStorage, type ClientStorage } from "./storage.js";

export type ConnectionState =
  | "connecting" // opening the WebSocket
  | "connected" // open, not signed in (no token: call login())
  | "authenticated" // signed in, caught up with Sync, outbox resent
  | "disconnected"; // no connection; willReconnect tells whether it comes back by itself

export interface StateChange {
  state: ConnectionState;
  /** disconnected: why (close reason, network error, "Your session ended: ..."). authenticated: a note, usually "". */
  reason: string;
  /** disconnected: true while the client will reconnect by itself. */
  willReconnect: boolean;
}

// A handler type that TypeScript checks bivariantly, so that both the DOM's
// WebSocket and the `ws` package's fit WebSocketLike.
type Handler<E> = { bivarianceHack(event: E): void }["bivarianceHack"];

/** What the client needs of a WebSocket: the browser's, React Native's, or the `ws` package's. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ data: unknown }> | null;
  onclose: Handler<{ code: number; reason: string }> | null;
  onerror: Handler<unknown> | null;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  /** `ws` only: drops the TCP connection without a close handshake (used by a test hook). */
  terminate?(): void;
}
export type WebSocketFactory = (url: string) => WebSocketLike;

export interface ClientOptions {
  /** "ws://127.0.0.1:8080/v1/ws"; in a browser (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/v1/ws". */
  url: string;
  /** Where the token, position, user and outbox are kept. Default: new MemoryStorage(). */
  storage?: ClientStorage;
  /** Default: (url) => new globalThis.WebSocket(url). Node 18 tests pass the `ws` package. */
  webSocket?: WebSocketFactory;
  /** Sent with Login. */
  deviceName?: string;
  /** Default true: page through Sync after every sign-in and deliver the stored events. */
  syncEvents?: boolean;
  /** Events per Sync page, 1-1000; default 500. */
  syncPageSize?: number;
  initialBackoffMs?: number; // 100
  maxBackoffMs?: number; // 10000
  backoffMultiplier?: number; // 2
  jitter?: number; // 0.2 (+-20%)
  /** Per request, from call() on (not for sends in the outbox: those wait for the server). Default 30000. */
  requestTimeoutMs?: number;
  /** No traffic this long drops the link; the client pings at half of it. Default 40000. */
  idleTimeoutMs?: number;
  /** Opening the WebSocket may take this long before the attempt counts as failed. Default 10000. */
  connectTimeoutMs?: number;
  /** Messages waiting in the outbox at most; send() beyond rejects with RESOURCE_EXHAUSTED. Default 1000. */
  maxOutbox?: number;
  /** Requests (call()) waiting or in flight at most; beyond, RESOURCE_EXHAUSTED. Default 1000. */
  maxPendingRequests?: number;
}

/** A SendMessage not yet acknowledged by the server. */
export interface PendingMessage {
  clientMessageId: string;
  conversationId: bigint;
  body: string;
  checkIn?: CheckIn;
  replyToSeq: bigint;
  queuedAtMs: number;
}

export type RequestCase = Exclude<ClientFrame["request"]["case"], undefined>;
type RequestMessage<C extends RequestCase> = Extract<ClientFrame["request"], { case: C }>["value"];
export type RequestInit<C extends RequestCase> = MessageInitShape<GenMessage<RequestMessage<C>>>;
export type ResultOf<C extends RequestCase> = Extract<Response["result"], { case: C }>["value"];

export interface SendInit {
  conversationId: bigint;
  body: string;
  replyToSeq?: bigint;
  checkIn?: MessageInitShape<typeof CheckInSchema>;
}

// ---- internals ----

type Phase =
  | "idle" // no connection: waiting to reconnect, offline, stopped
  | "connecting" // WebSocket opening
  | "open" // open, not signed in
  | "authenticating" // our Authenticate with the saved token is in flight
  | "resuming" // signed in, paging through Sync
  | "ready"; // signed in and caught up

interface Job {
  kind: RequestCase;
  value: unknown; // the request's init or message
  resolve(r: Response): void;
  reject(e: PreceptorError): void;
  settled: boolean;
  timer?: TimerId;
}

type InFlight =
  | { kind: "user"; job: Job }
  | { kind: "outbox"; clientMessageId: string }
  | { kind: "internal"; handle(r: Response): void };

interface OutboxEntry {
  message: SendMessage;
  queuedAtMs: number;
  requestId: bigint; // 0n: not sent on the current connection
  resolve?: (r: SendMessageResult) => void;
  reject?: (e: PreceptorError) => void;
}

const KEY_TOKEN = "token";
const KEY_POSITION = "position";
const KEY_USER = "user";
const KEY_OUTBOX = "outbox";
const CLOSE_SESSION_ENDED = 4001;
const OUTBOX_WINDOW = 8; // SendMessages in flight at once

// Timers through globalThis: the same in browsers, React Native and Node, no DOM or Node types needed.
type TimerId = unknown;
const timers = globalThis as unknown as {
  setTimeout(fn: () => void, ms: number): TimerId;
  clearTimeout(id: TimerId | undefined): void;
};

function allowedBeforeSignIn(c: RequestCase): boolean {
  return c === "login" || c === "authenticate" || c === "ping";
}

const dropped = () => new PreceptorError(ErrorCode.UNAVAILABLE, "The connection dropped; retry.");

/** A fresh client_message_id: 128 random bits as 32 lowercase hex digits. */
export function newClientMessageId(): string {
  const bytes = new Uint8Array(16);
  const c = (globalThis as { crypto?: { getRandomValues?(a: Uint8Array): Uint8Array } }).crypto;
  if (c?.getRandomValues) {
    c.getRandomValues(bytes);
  } else {
    // No Web Crypto (Node 18 without the global, some React Native set-ups): the id
    // only has to be unique per sender and conversation, not secret.
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  }
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
function toBase64(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i]!, b = bytes[i + 1], c = bytes[i + 2];
    out += B64[a >> 2]! + B64[((a & 3) << 4) | ((b ?? 0) >> 4)]!;
    out += b === undefined ? "=" : B64[((b & 15) << 2) | ((c ?? 0) >> 6)]!;
    out += c === undefined ? "=" : B64[c & 63]!;
  }
  return out;
}
function fromBase64(text: string): Uint8Array {
  const clean = text.replace(/[^A-Za-z0-9+/]/g, "");
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0, acc = 0, n = 0;
  for (const ch of clean) {
    acc = (acc << 6) | B64.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, n);
}

function toBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined; // a text frame: not ours
}

function report(error: unknown): void {
  // A handler threw: surface it without breaking the client's own bookkeeping.
  timers.setTimeout(() => {
    throw error;
  }, 0);
}

/**
 * The Preceptor client. One instance per signed-in app; see ClientOptions and
 * client-sdk/ts/README.md.
 */
export class PreceptorClient {
  private readonly opts: Required<Omit<ClientOptions, "deviceName" | "webSocket" | "storage">> & {
    deviceName: string;
  };
  private readonly storage: ClientStorage;
  private readonly factory: WebSocketFactory | undefined;

  private readonly eventHandlers = new Set<(e: Event) => void>();
  private readonly stateHandlers = new Set<(c: StateChange) => void>();
  private readonly storeChangedHandlers = new Set<(next: SyncPosition) => void>();
  private readonly outboxHandlers = new Set<(p: PendingMessage[]) => void>();

  private ws: WebSocketLike | undefined;
  private gen = 0; // of ws; callbacks of older sockets are ignored
  private phase: Phase = "idle";
  private _state: ConnectionState = "disconnected";
  private started = false;
  private stopped = false;
  private halted: PreceptorError | undefined; // session over (ended, refused, signed out) until login()
  private offline = false;
  private ignoreIncoming = false; // test hook: the rest of this connection's frames are lost
  private closeReason = ""; // set when this side closes, reported instead of the socket's
  private errorReason = "";
  private attempts = 0;
  private retryAfterMs = 0;
  private reconnectTimer: TimerId | undefined;
  private connectTimer: TimerId | undefined;
  private idleTimer: TimerId | undefined;
  private outboxRetryTimer: TimerId | undefined;
  private positionSaveTimer: TimerId | undefined;
  private lastReceivedAt = 0;
  private lastSentAt = 0;

  private token = "";
  private _user: User | undefined;
  private _position: SyncPosition = create(SyncPositionSchema);
  private backlog: Event[] = []; // live stored events held while Sync pages come
  private syncNote = "";

  private nextRequestId = 0n;
  private readonly inflight = new Map<bigint, InFlight>();
  private queue: Job[] = [];
  private outboxEntries: OutboxEntry[] = []; // in the order written
  private loading: Promise<void> | undefined;
  private loaded = false; // storage read: only then is the outbox written back (never over an earlier run's)

  constructor(options: ClientOptions) {
    this.opts = {
      url: options.url,
      deviceName: options.deviceName ?? "",
      syncEvents: options.syncEvents ?? true,
      syncPageSize: Math.min(1000, Math.max(1, options.syncPageSize ?? 500)),
      initialBackoffMs: options.initialBackoffMs ?? 100,
      maxBackoffMs: options.maxBackoffMs ?? 10_000,
      backoffMultiplier: options.backoffMultiplier ?? 2,
      jitter: options.jitter ?? 0.2,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      idleTimeoutMs: options.idleTimeoutMs ?? 40_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      maxOutbox: options.maxOutbox ?? 1000,
      maxPendingRequests: options.maxPendingRequests ?? 1000,
    };
    this.storage = options.storage ?? new MemoryStorage();
    this.factory = options.webSocket;
  }

  // ---- snapshots ----

  get state(): ConnectionState {
    return this._state;
  }
  /** The signed-in user (from Login/Authenticate), also restored from storage by start(). */
  get user(): User | undefined {
    return this._user;
  }
  /** A saved session exists (known once start() resolved). */
  get hasToken(): boolean {
    return this.token !== "";
  }
  /** The last stored event's position delivered (or reached by Sync). */
  get position(): SyncPosition {
    return create(SyncPositionSchema, { storeId: this._position.storeId, position: this._position.position });
  }
  /** Messages written but not yet acknowledged by the server, oldest first. */
  get outbox(): PendingMessage[] {
    return this.outboxEntries.map((e) => ({
      clientMessageId: e.message.clientMessageId,
      conversationId: e.message.conversationId,
      body: e.message.body,
      checkIn: e.message.checkIn,
      replyToSeq: e.message.replyToSeq,
      queuedAtMs: e.queuedAtMs,
    }));
  }

  // ---- handlers ----

  onEvent(handler: (event: Event) => void): () => void {
    return subscribe(this.eventHandlers, handler);
  }
  onState(handler: (change: StateChange) => void): () => void {
    return subscribe(this.stateHandlers, handler);
  }
  /** A Sync found another store than the saved position's (data replaced or restored): drop caches, refetch. */
  onStoreChanged(handler: (next: SyncPosition) => void): () => void {
    return subscribe(this.storeChangedHandlers, handler);
  }
  onOutbox(handler: (pending: PendingMessage[]) => void): () => void {
    return subscribe(this.outboxHandlers, handler);
  }

  // ---- life ----

  /** Loads token, user, position and outbox from storage, then connects (and keeps reconnecting). */
  async start(): Promise<void> {
    if (this.stopped) {
      throw new PreceptorError(ErrorCode.FAILED_PRECONDITION, "This client was stopped; make a new PreceptorClient.");
    }
    if (!/^wss?:\/\/[^/]+/i.test(this.opts.url)) {
      throw new PreceptorError(ErrorCode.INVALID_ARGUMENT, `"${this.opts.url}" is not a ws:// or wss:// URL.`, "url");
    }
    if (!this.factory && typeof (globalThis as { WebSocket?: unknown }).WebSocket !== "function") {
      throw new PreceptorError(
        ErrorCode.FAILED_PRECONDITION,
        "There is no WebSocket here (Node 18?): pass options.webSocket, e.g. (url) => new WebSocket(url) from the ws package.",
      );
    }
    await this.load();
    if (this.stopped) return;
    if (this.halted && !this.token) this.halted = undefined; // start() again after a session ended
    if (this.started) return;
    this.started = true;
    if (!this.offline) this.connect();
  }

  /** Closes for good. Waiting requests and sends reject with CANCELLED; the outbox stays saved. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    const why = new PreceptorError(ErrorCode.CANCELLED, "The client was stopped.");
    this.shutDown(why, true);
    for (const e of this.outboxEntries) {
      e.reject?.(why);
      e.resolve = e.reject = undefined;
    }
    this.setState("disconnected", why.message, false);
  }

  /** Closes the connection and stays offline (requests and sends wait) until goOnline(). */
  goOffline(): void {
    if (this.stopped || this.offline) return;
    this.offline = true;
    timers.clearTimeout(this.reconnectTimer);
    if (this.ws) {
      this.closeSocket("Offline until goOnline().", true);
    } else if (this.started) {
      this.setState("disconnected", "Offline until goOnline().", false);
    }
  }

  goOnline(): void {
    if (this.stopped || !this.offline) return;
    this.offline = false;
    if (this.started && !this.ws && !this.halted) {
      this.attempts = 0;
      this.connect();
    }
  }

  /**
   * Test hook: drops the connection as a network failure would (no reply to
   * anything in flight). The client reconnects by itself.
   */
  dropConnectionForTest(): void {
    if (!this.ws) return;
    this.ignoreIncoming = true;
    this.closeReason = "Dropped for a test.";
    if (this.ws.terminate) this.ws.terminate();
    else this.ws.close();
  }

  /**
   * Test hook: every frame sent before it still goes out, but nothing that
   * arrives from then on is read, and the connection is closed: requests reach
   * the server while their replies are lost. The client reconnects by itself.
   */
  dropConnectionAfterWritesForTest(): void {
    if (!this.ws) return;
    this.ignoreIncoming = true;
    this.closeReason = "Dropped for a test.";
    this.ws.close(); // the close frame goes after everything queued before it
  }

  // ---- accounts ----

  /** Signs in with a password; the token is kept (storage) for every reconnect. */
  login(username: string, password: string): Promise<LoginResult> {
    if (this.halted) {
      // The last session ended: signing in again brings the connection back.
      this.halted = undefined;
      if (this.started && !this.ws && !this.offline) {
        this.attempts = 0;
        this.connect();
      }
    }
    return this.call("login", { username, password, deviceName: this.opts.deviceName });
  }

  /**
   * Ends the session on the server (when signed in now; it waits at most 5 s for
   * the answer), then clears the saved token, user, position and outbox, and
   * stops reconnecting. Resolves either way: locally, the user is signed out.
   * (Offline, the token stays valid on the server until it expires.)
   */
  async logout(): Promise<void> {
    if (this.token && this.phase === "ready" && !this.halted && !this.stopped) {
      let timer: TimerId | undefined;
      try {
        await Promise.race([
          this.call("logout", {}),
          new Promise((resolve) => (timer = timers.setTimeout(() => resolve(undefined), 5_000))),
        ]);
      } catch {
        // Already ended, or the link dropped: sign out locally all the same.
      } finally {
        timers.clearTimeout(timer);
      }
    }
    this.signOutLocally("Signed out.");
  }

  // ---- requests ----

  /**
   * Any request of ClientFrame by its case name; resolves with the Response's
   * result of the same name, rejects with PreceptorError. Waits for sign-in
   * (Login, Authenticate and Ping go as soon as a connection is open); a
   * request in flight when the link drops rejects with UNAVAILABLE.
   * Use send() for messages: it keeps them across drops and reloads.
   */
  call<C extends RequestCase>(kind: C, request: RequestInit<C>): Promise<ResultOf<C>> {
    return new Promise<ResultOf<C>>((resolve, reject) => {
      if (this.stopped) return reject(new PreceptorError(ErrorCode.CANCELLED, "The client was stopped."));
      if (this.halted && kind !== "login") return reject(this.halted);
      if (this.pendingCount() >= this.opts.maxPendingRequests) {
        return reject(
          new PreceptorError(
            ErrorCode.RESOURCE_EXHAUSTED,
            `${this.opts.maxPendingRequests} requests are already waiting for the server; wait for some to finish.`,
          ),
        );
      }
      const job: Job = {
        kind,
        value: request,
        settled: false,
        resolve: (r) => {
          if (job.settled) return;
          job.settled = true;
          timers.clearTimeout(job.timer);
          if (r.result.case === "error") return reject(PreceptorError.fromProto(r.result.value));
          if (r.result.case !== kind) {
            return reject(
              new PreceptorError(
                ErrorCode.INTERNAL,
                `The server answered ${kind} with ${r.result.case ?? "nothing"}; the client and server versions may not match.`,
              ),
            );
          }
          (resolve as (v: unknown) => void)(r.result.value);
        },
        reject: (e) => {
          if (job.settled) return;
          job.settled = true;
          timers.clearTimeout(job.timer);
          reject(e);
        },
      };
      if (this.opts.requestTimeoutMs > 0) {
        job.timer = timers.setTimeout(() => {
          this.queue = this.queue.filter((q) => q !== job);
          job.reject(
            new PreceptorError(
              ErrorCode.DEADLINE_EXCEEDED,
              `No answer within ${this.opts.requestTimeoutMs} ms; the server may be unreachable.`,
            ),
          );
        }, this.opts.requestTimeoutMs);
      }
      if (this.canSend(kind)) this.writeJob(job);
      else this.queue.push(job);
    });
  }

  /**
   * SendMessage through the outbox: saved in storage at once, sent when signed
   * in, resent after reconnects with the same client_message_id until the
   * server answers. `done` resolves with the stored message (duplicate or not),
   * or rejects with the server's error (or CANCELLED on stop(), RESOURCE_EXHAUSTED
   * when the outbox is full).
   */
  send(request: SendInit): { clientMessageId: string; done: Promise<SendMessageResult> } {
    const clientMessageId = newClientMessageId();
    let resolve!: (r: SendMessageResult) => void;
    let reject!: (e: PreceptorError) => void;
    const done = new Promise<SendMessageResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    done.catch(() => {}); // an app may follow events only; never an unhandled rejection
    if (this.stopped) {
      reject(new PreceptorError(ErrorCode.CANCELLED, "The client was stopped."));
    } else if (this.outboxEntries.length >= this.opts.maxOutbox) {
      reject(
        new PreceptorError(
          ErrorCode.RESOURCE_EXHAUSTED,
          `${this.outboxEntries.length} messages are already waiting to be sent, the most this client keeps; ` +
            "wait until the connection is back before writing more.",
        ),
      );
    } else {
      const message = create(SendMessageSchema, {
        conversationId: request.conversationId,
        clientMessageId,
        body: request.body,
        replyToSeq: request.replyToSeq ?? 0n,
        checkIn: request.checkIn,
      });
      this.outboxEntries.push({ message, queuedAtMs: Date.now(), requestId: 0n, resolve, reject });
      this.outboxChanged();
      this.flushOutbox();
    }
    return { clientMessageId, done };
  }

  // ---- storage ----

  private load(): Promise<void> {
    this.loading ??= (async () => {
      const [token, position, user, outbox] = await Promise.all([
        this.storage.getItem(KEY_TOKEN),
        this.storage.getItem(KEY_POSITION),
        this.storage.getItem(KEY_USER),
        this.storage.getItem(KEY_OUTBOX),
      ]);
      if (token && !this.token) this.token = token;
      if (user && !this._user) {
        try {
          this._user = fromBinary(UserSchema, fromBase64(user));
        } catch {
          /* unreadable: signs in afresh */
        }
      }
      if (position) {
        try {
          const p = JSON.parse(position) as { storeId: string; position: string };
          this._position = create(SyncPositionSchema, { storeId: BigInt(p.storeId), position: BigInt(p.position) });
        } catch {
          /* unreadable: from the beginning */
        }
      }
      if (outbox) {
        const saved: OutboxEntry[] = [];
        try {
          for (const item of JSON.parse(outbox) as { m: string; t: number }[]) {
            saved.push({ message: fromBinary(SendMessageSchema, fromBase64(item.m)), queuedAtMs: item.t, requestId: 0n });
          }
        } catch {
          /* unreadable entries are dropped */
        }
        // Messages from an earlier run go first; sends made before start() after them.
        const ids = new Set(this.outboxEntries.map((e) => e.message.clientMessageId));
        const restored = saved.filter((e) => !ids.has(e.message.clientMessageId));
        if (restored.length) this.outboxEntries = [...restored, ...this.outboxEntries];
      }
      this.loaded = true;
      if (this.outboxEntries.length) this.outboxChanged();
    })();
    return this.loading;
  }

  private save(key: string, value: string | undefined): void {
    const op = value === undefined ? this.storage.removeItem(key) : this.storage.setItem(key, value);
    op.catch(report);
  }

  private savePosition(): void {
    timers.clearTimeout(this.positionSaveTimer);
    this.positionSaveTimer = undefined;
    this.save(
      KEY_POSITION,
      JSON.stringify({ storeId: this._position.storeId.toString(), position: this._position.position.toString() }),
    );
  }

  /**
   * Saves the position once the current task is done, not before the event's
   * handlers run: storage such as localStorage writes synchronously, and a
   * burst of events needs only the last position. If the page goes before it
   * runs, the next Sync delivers those events again (handlers see each once
   * per run of the app, as after any restart).
   */
  private savePositionSoon(): void {
    if (this.positionSaveTimer !== undefined) return;
    this.positionSaveTimer = timers.setTimeout(() => {
      this.positionSaveTimer = undefined;
      this.savePosition();
    }, 0);
  }

  private outboxChanged(): void {
    if (this.loaded) {
      this.save(
        KEY_OUTBOX,
        JSON.stringify(this.outboxEntries.map((e) => ({ m: toBase64(toBinary(SendMessageSchema, e.message)), t: e.queuedAtMs }))),
      );
    }
    const snapshot = this.outbox;
    for (const h of [...this.outboxHandlers]) call(h, snapshot);
  }

  // ---- connection life ----

  private connect(): void {
    this.phase = "connecting";
    this.closeReason = "";
    this.errorReason = "";
    this.ignoreIncoming = false;
    const gen = ++this.gen;
    this.setState("connecting", "", false);
    let ws: WebSocketLike;
    try {
      const factory =
        this.factory ?? ((url: string) => new (globalThis as unknown as { WebSocket: new (u: string) => WebSocketLike }).WebSocket(url));
      ws = factory(this.opts.url);
      ws.binaryType = "arraybuffer";
    } catch (e) {
      this.phase = "idle";
      this.scheduleReconnect(`Could not open a WebSocket to ${this.opts.url}: ${(e as Error).message}`);
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (gen === this.gen) this.onOpen();
    };
    ws.onmessage = (ev) => {
      if (gen === this.gen && !this.ignoreIncoming) this.onMessage(ev.data);
    };
    ws.onerror = (ev) => {
      if (gen !== this.gen) return;
      const msg = (ev as { message?: unknown } | null)?.message;
      if (typeof msg === "string" && msg) this.errorReason = msg;
    };
    ws.onclose = (ev) => {
      if (gen === this.gen) this.onClosed(ev.code, ev.reason);
    };
    this.connectTimer = timers.setTimeout(() => {
      if (gen === this.gen && this.phase === "connecting") {
        this.closeSocket(`Could not connect within ${this.opts.connectTimeoutMs} ms.`, false);
      }
    }, this.opts.connectTimeoutMs);
  }

  private onOpen(): void {
    timers.clearTimeout(this.connectTimer);
    this.phase = "open";
    this.lastReceivedAt = this.lastSentAt = Date.now();
    this.armIdle();
    this.setState("connected", "", false);
    if (this.token) {
      this.authenticateWithToken();
    } else {
      this.attempts = 0; // nothing to sign in with: an open connection is success
      this.flushQueue();
    }
  }

  private onClosed(code: number, reason: string): void {
    timers.clearTimeout(this.connectTimer);
    timers.clearTimeout(this.idleTimer);
    this.ws = undefined;
    this.gen++;
    this.phase = "idle";
    this.backlog = []; // stored events not yet delivered come again through Sync
    const why =
      this.closeReason ||
      reason ||
      this.errorReason ||
      (code === 1006 ? "The connection was lost." : `The connection closed (code ${code}).`);
    this.closeReason = "";
    if (code === CLOSE_SESSION_ENDED && !this.stopped && !this.halted) {
      this.failInFlight();
      return this.haltSession(`Your session ended: ${reason || "the token ended."} Sign in again.`, true);
    }
    this.failInFlight();
    if (this.stopped || this.halted) return;
    if (this.offline) return this.setState("disconnected", why, false);
    this.scheduleReconnect(why);
  }

  private scheduleReconnect(reason: string): void {
    const o = this.opts;
    let delay = o.initialBackoffMs * Math.pow(Math.max(1, o.backoffMultiplier), this.attempts);
    delay = Math.min(delay, o.maxBackoffMs);
    const j = Math.min(1, Math.max(0, o.jitter));
    delay *= 1 - j + Math.random() * 2 * j;
    delay = Math.max(delay, this.retryAfterMs);
    this.retryAfterMs = 0;
    this.attempts++;
    this.setState("disconnected", reason, true);
    timers.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = timers.setTimeout(() => {
      if (this.stopped || this.halted || this.offline || this.ws) return;
      this.connect();
    }, delay);
  }

  /** Closes because this side decided; onClosed then reconnects (or not) as usual. */
  private closeSocket(reason: string, graceful: boolean): void {
    const ws = this.ws;
    if (!ws) return;
    this.closeReason = reason;
    this.ignoreIncoming = true;
    if (!graceful && ws.terminate) ws.terminate();
    else ws.close(1000, reason.slice(0, 120));
  }

  /** Ends the connection now, without waiting for the socket's close; fails what was waiting. */
  private shutDown(why: PreceptorError, graceful: boolean): void {
    timers.clearTimeout(this.reconnectTimer);
    timers.clearTimeout(this.connectTimer);
    timers.clearTimeout(this.idleTimer);
    timers.clearTimeout(this.outboxRetryTimer);
    const ws = this.ws;
    this.ws = undefined;
    this.gen++; // its close is of no interest any more
    if (ws) {
      try {
        if (!graceful && ws.terminate) ws.terminate();
        else ws.close(1000, why.message.slice(0, 120));
      } catch {
        /* closing anyway */
      }
    }
    this.phase = "idle";
    this.backlog = [];
    const inflight = [...this.inflight.values()];
    this.inflight.clear();
    const queue = this.queue;
    this.queue = [];
    for (const e of this.outboxEntries) e.requestId = 0n;
    for (const p of inflight) if (p.kind === "user") p.job.reject(why);
    for (const j of queue) j.reject(why);
  }

  /** The session is over (ended, token refused, signed out): no reconnect until login(). */
  private haltSession(reason: string, clearToken: boolean): void {
    const why = new PreceptorError(ErrorCode.UNAUTHENTICATED, reason);
    this.halted = why;
    this.shutDown(why, true);
    if (clearToken && this.token) {
      this.token = "";
      this.save(KEY_TOKEN, undefined);
    }
    this.setState("disconnected", reason, false);
  }

  private signOutLocally(reason: string): void {
    const wasHalted = this.halted;
    this.halted = new PreceptorError(ErrorCode.UNAUTHENTICATED, reason);
    if (!this.stopped) this.shutDown(this.halted, true);
    this.token = "";
    this._user = undefined;
    this._position = create(SyncPositionSchema);
    timers.clearTimeout(this.positionSaveTimer);
    this.positionSaveTimer = undefined;
    for (const key of [KEY_TOKEN, KEY_USER, KEY_POSITION, KEY_OUTBOX]) this.save(key, undefined);
    const outbox = this.outboxEntries;
    this.outboxEntries = [];
    if (outbox.length) {
      const why = new PreceptorError(ErrorCode.CANCELLED, "Signed out before the message was sent.");
      for (const e of outbox) e.reject?.(why);
      this.outboxChanged();
    }
    if (!this.stopped && (!wasHalted || this._state !== "disconnected")) this.setState("disconnected", reason, false);
  }

  /** Requests that were on the dropped connection. */
  private failInFlight(): void {
    const inflight = [...this.inflight.values()];
    this.inflight.clear();
    for (const e of this.outboxEntries) e.requestId = 0n; // resent after the next sign-in
    for (const p of inflight) if (p.kind === "user") p.job.reject(dropped());
  }

  // ---- keep-alive ----

  private armIdle(): void {
    timers.clearTimeout(this.idleTimer);
    const idle = this.opts.idleTimeoutMs;
    if (idle <= 0) return;
    const gen = this.gen;
    this.idleTimer = timers.setTimeout(() => {
      if (gen !== this.gen || !this.ws) return;
      const now = Date.now();
      if (now - this.lastReceivedAt >= idle) {
        return this.closeSocket(`Nothing heard from the server for ${idle} ms; reconnecting.`, false);
      }
      if (now - Math.max(this.lastReceivedAt, this.lastSentAt) >= idle / 2 - 5) {
        this.writeInternal("ping", {}, () => {});
      }
      this.armIdle();
    }, idle / 2);
  }

  // ---- signing in and resuming ----

  private authenticateWithToken(): void {
    this.phase = "authenticating";
    this.writeInternal("authenticate", { token: this.token }, (r) => {
      if (r.result.case === "error") {
        const err = PreceptorError.fromProto(r.result.value);
        if (err.code === ErrorCode.UNAUTHENTICATED) {
          return this.haltSession(
            `The saved session is no longer valid (${err.message}); sign in again with your password.`,
            true,
          );
        }
        this.retryAfterMs = err.retryAfterMs;
        return this.closeSocket(`Signing in failed: ${err.message}`, true);
      }
      if (r.result.case === "authenticate" && r.result.value.user) this.setUser(r.result.value.user);
      this.beginResume();
    });
  }

  private setUser(next: User): void {
    // Positions are per user's inbox, and the outbox is the user's: another user starts over.
    if (this._user && this._user.id !== 0n && this._user.id !== next.id) {
      this._position = create(SyncPositionSchema);
      this.savePosition();
      this.backlog = [];
      if (this.outboxEntries.length) {
        const outbox = this.outboxEntries;
        this.outboxEntries = [];
        const why = new PreceptorError(ErrorCode.CANCELLED, "Another user signed in; the message was not sent.");
        for (const e of outbox) e.reject?.(why);
        this.outboxChanged();
      }
    }
    this._user = next;
    this.save(KEY_USER, toBase64(toBinary(UserSchema, next)));
  }

  private beginResume(): void {
    this.phase = "resuming";
    this.syncNote = "";
    if (!this.opts.syncEvents) return this.finishResume();
    this.syncPage();
  }

  private syncPage(): void {
    const since = this._position.position;
    const hasSince = this._position.position !== 0n || this._position.storeId !== 0n;
    this.writeInternal(
      "sync",
      { since: hasSince ? { storeId: this._position.storeId, position: this._position.position } : undefined, limit: this.opts.syncPageSize },
      (r) => {
        if (r.result.case === "error") {
          const err = PreceptorError.fromProto(r.result.value);
          if (err.code === ErrorCode.UNIMPLEMENTED) {
            this.syncNote = "This server does not support Sync; events missed while disconnected were not fetched.";
            return this.finishResume();
          }
          this.retryAfterMs = err.retryAfterMs;
          return this.closeSocket(`Catching up (Sync) failed: ${err.message}`, true);
        }
        if (r.result.case !== "sync") return this.closeSocket("The server answered Sync with something else.", true);
        const page = r.result.value;
        const next = page.next ?? create(SyncPositionSchema);
        if (page.storeChanged) {
          // Positions of the old store mean nothing now: start the new one clean.
          this._position = create(SyncPositionSchema, { storeId: next.storeId, position: 0n });
          this.savePosition();
          const copy = create(SyncPositionSchema, { storeId: next.storeId, position: next.position });
          for (const h of [...this.storeChangedHandlers]) call(h, copy);
        }
        for (const e of page.events) this.deliverStored(e, false);
        if (next.storeId !== 0n || next.position !== 0n) this._position = create(SyncPositionSchema, { storeId: next.storeId, position: next.position });
        this.savePosition();
        const progressed = page.storeChanged || page.events.length > 0 || next.position > since;
        if (page.hasMore && progressed) return this.syncPage();
        this.finishResume();
      },
    );
  }

  private finishResume(): void {
    this.phase = "ready";
    this.attempts = 0;
    const backlog = this.backlog;
    this.backlog = [];
    for (const e of backlog) this.deliverStored(e, true);
    this.flushOutbox();
    this.flushQueue();
    this.setState("authenticated", this.syncNote, false);
  }

  // ---- frames ----

  private canSend(kind: RequestCase): boolean {
    if (!this.ws || this.halted || this.stopped) return false;
    if (allowedBeforeSignIn(kind)) return this.phase !== "idle" && this.phase !== "connecting";
    return this.phase === "ready";
  }

  private pendingCount(): number {
    let n = this.queue.length;
    for (const p of this.inflight.values()) if (p.kind === "user" && !p.job.settled) n++;
    return n;
  }

  private flushQueue(): void {
    const queue = this.queue;
    this.queue = [];
    const keep: Job[] = [];
    for (const job of queue) {
      if (job.settled) continue;
      if (this.canSend(job.kind)) this.writeJob(job);
      else keep.push(job);
    }
    this.queue = [...keep, ...this.queue]; // anything queued meanwhile goes after
  }

  /** Sends outbox entries not yet on this connection, oldest first, a few at a time. */
  private flushOutbox(): void {
    if (!this.canSend("sendMessage")) return;
    let inFlight = this.outboxEntries.filter((e) => e.requestId !== 0n).length;
    for (const e of this.outboxEntries) {
      if (inFlight >= OUTBOX_WINDOW) break;
      if (e.requestId !== 0n) continue;
      e.requestId = this.write({ case: "sendMessage", value: e.message }, { kind: "outbox", clientMessageId: e.message.clientMessageId });
      inFlight++;
    }
  }

  private writeJob(job: Job): void {
    this.write({ case: job.kind, value: job.value }, { kind: "user", job });
  }

  private writeInternal<C extends RequestCase>(kind: C, value: RequestInit<C>, handle: (r: Response) => void): void {
    this.write({ case: kind, value }, { kind: "internal", handle });
  }

  private write(request: { case: RequestCase; value: unknown }, p: InFlight): bigint {
    const id = ++this.nextRequestId;
    const frame = create(ClientFrameSchema, {
      requestId: id,
      request,
    } as unknown as MessageInitShape<typeof ClientFrameSchema>);
    this.inflight.set(id, p);
    this.lastSentAt = Date.now();
    try {
      this.ws!.send(toBinary(ClientFrameSchema, frame));
    } catch (e) {
      // The socket is closing: onClosed fails the request (or resends the message).
      this.errorReason ||= (e as Error).message;
    }
    return id;
  }

  private onMessage(data: unknown): void {
    this.lastReceivedAt = Date.now();
    const bytes = toBytes(data);
    if (!bytes) return;
    let frame;
    try {
      frame = fromBinary(ServerFrameSchema, bytes);
    } catch {
      return; // a newer server's frame we cannot read: skip it
    }
    if (frame.frame.case === "reply") this.onResponse(frame.frame.value);
    else if (frame.frame.case === "event") this.handleEvent(frame.frame.value);
  }

  private onResponse(r: Response): void {
    const p = this.inflight.get(r.requestId);
    if (!p) return; // e.g. an error about an unreadable frame (request_id 0)
    this.inflight.delete(r.requestId);
    switch (p.kind) {
      case "internal":
        return p.handle(r);
      case "outbox":
        return this.onOutboxReply(p.clientMessageId, r);
      case "user":
        break;
    }
    const job = p.job;
    const ok = r.result.case !== "error";
    if (ok && job.kind === "login" && r.result.case === "login") {
      const res = r.result.value;
      if (res.user) this.setUser(res.user);
      this.token = res.token;
      this.save(KEY_TOKEN, res.token);
      job.resolve(r);
      return this.beginResume();
    }
    if (ok && job.kind === "authenticate" && r.result.case === "authenticate") {
      const res = r.result.value;
      if (res.user) this.setUser(res.user);
      this.token = (job.value as { token?: string }).token ?? "";
      this.save(KEY_TOKEN, this.token);
      job.resolve(r);
      return this.beginResume();
    }
    if (ok && job.kind === "logout") {
      job.resolve(r);
      return this.signOutLocally("Signed out.");
    }
    job.resolve(r);
  }

  private onOutboxReply(clientMessageId: string, r: Response): void {
    const i = this.outboxEntries.findIndex((e) => e.message.clientMessageId === clientMessageId);
    if (i < 0) return;
    const entry = this.outboxEntries[i]!;
    if (r.result.case === "error") {
      const err = PreceptorError.fromProto(r.result.value);
      // Not stored (or not known to be): try again later with the same id, which is never stored twice.
      const retry = err.code === ErrorCode.UNAVAILABLE || (err.code === ErrorCode.RESOURCE_EXHAUSTED && err.retryAfterMs > 0);
      if (retry) {
        entry.requestId = -1n; // held back until the timer (or the next connection)
        timers.clearTimeout(this.outboxRetryTimer);
        const gen = this.gen;
        this.outboxRetryTimer = timers.setTimeout(() => {
          if (gen !== this.gen) return;
          for (const e of this.outboxEntries) if (e.requestId === -1n) e.requestId = 0n;
          this.flushOutbox();
        }, Math.max(err.retryAfterMs, 1000));
        return;
      }
      this.outboxEntries.splice(i, 1);
      this.outboxChanged();
      entry.reject?.(err);
      return this.flushOutbox();
    }
    this.outboxEntries.splice(i, 1);
    this.outboxChanged();
    if (r.result.case !== "sendMessage") {
      entry.reject?.(new PreceptorError(ErrorCode.INTERNAL, "The server answered SendMessage with another result."));
      return this.flushOutbox();
    }
    // The server sends this connection no MessagePosted for its own message: the
    // reply carries it, in its place in position order. Delivered as that event
    // (once, like any other) before `done`.
    const m = r.result.value.message;
    if (m && m.position !== 0n) {
      this.handleEvent(
        create(EventSchema, {
          position: m.position,
          timeMs: m.sentAtMs,
          kind: { case: "messagePosted", value: { message: m } },
        }),
      );
    }
    entry.resolve?.(r.result.value);
    this.flushOutbox();
  }

  private handleEvent(e: Event): void {
    if (e.kind.case === "sessionEnded") {
      for (const h of [...this.eventHandlers]) call(h, e);
      return this.haltSession(`Your session ended: ${e.kind.value.reason} Sign in again.`, true);
    }
    if (e.position === 0n) {
      for (const h of [...this.eventHandlers]) call(h, e);
      return;
    }
    if (this.phase !== "ready") {
      this.backlog.push(e); // after the Sync pages, which may hold older events
      return;
    }
    this.deliverStored(e, true);
  }

  /** Delivers a stored event unless it was delivered already. */
  private deliverStored(e: Event, save: boolean): void {
    if (e.position <= this._position.position) return;
    this._position = create(SyncPositionSchema, { storeId: this._position.storeId, position: e.position });
    if (save) this.savePositionSoon();
    for (const h of [...this.eventHandlers]) call(h, e);
  }

  private setState(state: ConnectionState, reason: string, willReconnect: boolean): void {
    this._state = state;
    const change: StateChange = { state, reason, willReconnect };
    for (const h of [...this.stateHandlers]) call(h, change);
  }
}

function subscribe<T>(set: Set<T>, handler: T): () => void {
  set.add(handler);
  return () => {
    set.delete(handler);
  };
}

function call<A>(handler: (arg: A) => void, arg: A): void {
  try {
    handler(arg);
  } catch (e) {
    report(e);
  }
}
