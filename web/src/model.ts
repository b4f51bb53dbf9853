// The app's state: what the SDK tells us, kept in one place the screens read.
// Screens subscribe through useModel(); every change bumps `version` and
// notifies once per microtask, so a burst of Sync events renders once.
import {
  ErrorCode,
  MentorshipChange,
  MentorshipState,
  PreceptorError,
  Role,
  type ConversationSummary,
  type DirectoryEntry,
  type Event as ServerEvent,
  type Message,
  type Mentorship,
  type MentorshipView,
  type PendingMessage,
  type PreceptorClient,
  type StateChange,
  type User,
  type Purpose,
} from "@preceptor/client";
import { CallState } from "./call.js";
import { MeetingsState } from "./meetings.js";
import { WorkState } from "./work.js";

export interface ConvState {
  id: bigint;
  messages: Map<bigint, Message>; // by seq
  oldestSeq: bigint; // oldest seq loaded; 0n while none
  hasMoreOlder: boolean;
  loading: boolean;
  loaded: boolean;
  error?: { code: ErrorCode; message: string };
  counterpartReadSeq: bigint;
  typingUntil: number; // Date.now() until which the counterpart is shown typing
}

export interface Notice {
  id: number;
  text: string;
  kind: "info" | "error";
}

const TYPING_SHOWN_MS = 6000;
const TYPING_RESEND_MS = 3000;
const TYPING_IDLE_MS = 4000;
const TYPING_MIN_GAP_MS = 1100; // the server takes one `true` per second
const HISTORY_PAGE = 50;
const READ_DELAY_MS = 400;
const NEWS_MAX_AGE_MS = 10 * 60_000; // older changes (first sync) make no toast

export function errorText(err: unknown): string {
  if (err instanceof PreceptorError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

export function errorCode(err: unknown): ErrorCode | undefined {
  return err instanceof PreceptorError ? err.code : undefined;
}

export class Model {
  readonly client: PreceptorClient;
  version = 0;

  conn: StateChange = { state: "connecting", reason: "", willReconnect: true };
  everAuthenticated = false;
  browserOffline = typeof navigator !== "undefined" && navigator.onLine === false;
  /** A saved session exists or we signed in: show the main screens. */
  signedIn: boolean;
  started = false;
  signedOutReason = "";

  users = new Map<bigint, User>();
  mentorships = new Map<bigint, MentorshipView>();
  conversations = new Map<bigint, ConversationSummary>();
  listsLoaded = false;
  listsError = "";
  convs = new Map<bigint, ConvState>();
  outbox: PendingMessage[] = [];
  online = new Map<bigint, boolean>();
  notices: Notice[] = [];
  /** Meetings, the office-hours queue, reminders and preferences (meetings.ts). */
  readonly meetings: MeetingsState = new MeetingsState(this);
  /** Goals, reassessments, assignments and reviews, per mentorship (work.ts). */
  readonly work: WorkState = new WorkState(this);
  /** The one-to-one call (call.ts). */
  readonly call: CallState = new CallState(this);
  /** Whose data the caches hold. */
  private shownUserId: bigint | undefined;
  /** The conversation on screen, if any (its new messages are marked read). */
  openConversation: bigint | undefined;

  private listeners = new Set<() => void>();
  private notifyQueued = false;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;
  private skipNextAuthRefresh = false;
  private typingSent = new Map<bigint, number>(); // conv → Date.now() of the last `true`
  private typingActive = new Set<bigint>(); // convs where we told the server we type
  private typingPending = new Map<bigint, ReturnType<typeof setTimeout>>();
  private typingStop = new Map<bigint, ReturnType<typeof setTimeout>>();
  private typingExpiry: ReturnType<typeof setTimeout> | undefined;
  private noticeSeq = 0;
  private serverRead = new Map<bigint, bigint>(); // conv → read seq the server has (or was sent)
  private readWanted = new Map<bigint, bigint>(); // conv → read seq waiting to be sent
  private readTimers = new Map<bigint, ReturnType<typeof setTimeout>>();

  constructor(client: PreceptorClient, savedSessionHint: boolean) {
    this.client = client;
    this.signedIn = savedSessionHint;
    client.onState((c) => this.onState(c));
    client.onEvent((e) => this.onEvent(e));
    client.onOutbox((p) => {
      this.outbox = p;
      this.changed();
    });
    client.onStoreChanged(() => this.onStoreChanged());
  }

  async start(): Promise<void> {
    await this.client.start();
    this.started = true;
    this.signedIn = this.client.hasToken;
    this.outbox = this.client.outbox;
    this.shownUserId = this.client.user?.id;
    if (this.client.hasToken) {
      // Asked now, the lists go out right after Authenticate (the SDK holds
      // requests until then) instead of after the Sync that follows it.
      this.skipNextAuthRefresh = true;
      void this.refreshLists();
    }
    if (this.client.user) this.users.set(this.client.user.id, this.client.user);
    this.changed();
  }

  // ---- subscription -------------------------------------------------------

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  changed(): void {
    this.version++;
    if (this.notifyQueued) return;
    this.notifyQueued = true;
    queueMicrotask(() => {
      this.notifyQueued = false;
      for (const l of [...this.listeners]) l();
    });
  }

  get me(): User | undefined {
    return this.client.user;
  }

  get role(): Role {
    return this.client.user?.role ?? Role.UNSPECIFIED;
  }

  notify(text: string, kind: Notice["kind"] = "info"): void {
    const n = { id: ++this.noticeSeq, text, kind };
    this.notices = [...this.notices, n].slice(-3);
    this.changed();
    setTimeout(() => this.dismiss(n.id), kind === "error" ? 10000 : 4000);
  }

  dismiss(id: number): void {
    this.notices = this.notices.filter((n) => n.id !== id);
    this.changed();
  }

  // ---- connection ---------------------------------------------------------

  private onState(c: StateChange): void {
    this.conn = c;
    if (c.state === "authenticated") {
      this.everAuthenticated = true;
      this.signedIn = true;
      this.signedOutReason = "";
      if (this.skipNextAuthRefresh) this.skipNextAuthRefresh = false;
      else this.scheduleRefresh(0);
      for (const convId of this.readWanted.keys()) {
        if (!this.readTimers.has(convId)) this.readTimers.set(convId, setTimeout(() => this.flushRead(convId), 0));
      }
      // Conversations that failed while the link was down: try again.
      for (const conv of this.convs.values()) {
        if (!conv.loaded && !conv.loading && conv.error?.code !== ErrorCode.NOT_FOUND &&
            conv.error?.code !== ErrorCode.PERMISSION_DENIED) {
          void this.loadConversation(conv.id);
        }
      }
    } else if (this.started && this.signedIn && !this.client.hasToken) {
      // The session ended (sign-out elsewhere, revoked, expired).
      this.signedIn = false;
      MeetingsState.forgetSaved();
      if (!this.signedOutReason) this.signedOutReason = c.reason || "Your session ended. Please sign in again.";
    }
    this.changed();
  }

  setBrowserOffline(offline: boolean): void {
    this.browserOffline = offline;
    if (offline) this.client.goOffline();
    else this.client.goOnline();
    this.changed();
  }

  async login(username: string, password: string): Promise<void> {
    await this.client.login(username, password);
    const before = this.shownUserId;
    this.shownUserId = this.client.user?.id;
    if (before !== undefined && before !== this.shownUserId) {
      // Someone else signs in on this page (after a session ended): forget
      // everything the previous user's session showed.
      this.users.clear();
      this.mentorships.clear();
      this.conversations.clear();
      this.convs.clear();
      this.online.clear();
      this.listsLoaded = false;
      this.meetings.reset();
      this.work.reset();
    }
    this.signedIn = true;
    this.signedOutReason = "";
    if (this.client.user) this.users.set(this.client.user.id, this.client.user);
    this.scheduleRefresh(0);
    this.changed();
  }

  async logout(): Promise<void> {
    MeetingsState.forgetSaved();
    try {
      await this.client.logout();
    } catch {
      // Offline: the SDK clears the saved session anyway; the token idles out.
    }
    this.client.stop();
  }

  // ---- lists --------------------------------------------------------------

  private onStoreChanged(): void {
    // The server's data was replaced: drop every cache and fetch again.
    this.mentorships.clear();
    this.conversations.clear();
    const open = [...this.convs.keys()];
    this.convs.clear();
    this.listsLoaded = false;
    const meetingsShown = this.meetings.loaded;
    this.meetings.reset();
    if (meetingsShown) void this.meetings.load();
    this.work.reset(); // each screen reads its mentorship's work again
    this.changed();
    this.scheduleRefresh(0);
    for (const id of open) void this.loadConversation(id);
  }

  scheduleRefresh(delayMs = 150): void {
    if (this.refreshTimer !== undefined) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      void this.refreshLists();
    }, delayMs);
  }

  async refreshLists(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      try {
        const member = this.role === Role.MENTEE || this.role === Role.MENTOR;
        const convsAsked = member ? this.client.call("listConversations", {}) : undefined;
        convsAsked?.catch(() => {}); // awaited below; never unhandled if the pages fail first
        const views: MentorshipView[] = [];
        let after = 0n;
        for (;;) {
          const page = await this.client.call("listMentorships", { afterMentorshipId: after, limit: 200 });
          views.push(...page.mentorships);
          if (!page.hasMore) break;
          after = page.nextAfterMentorshipId;
        }
        const convs = convsAsked ? (await convsAsked).conversations : [];
        this.mentorships.clear();
        for (const v of views) {
          if (!v.mentorship) continue;
          this.mentorships.set(v.mentorship.id, v);
          if (v.mentor) this.users.set(v.mentor.id, v.mentor);
          if (v.mentee) this.users.set(v.mentee.id, v.mentee);
        }
        for (const s of convs) this.mergeSummary(s);
        this.listsLoaded = true;
        this.listsError = "";
      } catch (err) {
        if (errorCode(err) !== ErrorCode.UNAVAILABLE && errorCode(err) !== ErrorCode.CANCELLED) {
          this.listsError = errorText(err);
        }
      } finally {
        this.refreshing = undefined;
        this.changed();
        if (this.refreshAgain) {
          this.refreshAgain = false;
          this.scheduleRefresh(0);
        }
      }
    })();
    return this.refreshing;
  }

  /** A summary from the server, merged so a newer local view is never moved back. */
  private mergeSummary(s: ConversationSummary): void {
    this.noteServerRead(s.conversationId, s.readSeq);
    const old = this.conversations.get(s.conversationId);
    if (old) {
      if (old.lastSeq > s.lastSeq) {
        s.lastSeq = old.lastSeq;
        s.lastMessageMs = old.lastMessageMs > s.lastMessageMs ? old.lastMessageMs : s.lastMessageMs;
      }
      if (old.readSeq > s.readSeq) s.readSeq = old.readSeq;
      s.unread = s.lastSeq > s.readSeq ? s.lastSeq - s.readSeq : 0n;
    }
    this.conversations.set(s.conversationId, s);
  }

  mentorshipOfConversation(convId: bigint): MentorshipView | undefined {
    for (const v of this.mentorships.values()) if (v.mentorship?.conversationId === convId) return v;
    return undefined;
  }

  counterpartOf(m: Mentorship): User | undefined {
    const me = this.me?.id;
    const other = m.mentorId === me ? m.menteeId : m.mentorId;
    return this.users.get(other);
  }

  userName(id: bigint): string {
    if (id === this.me?.id) return "You";
    return this.users.get(id)?.displayName ?? `User ${id}`;
  }

  rememberDirectory(entries: DirectoryEntry[]): void {
    for (const e of entries) if (e.mentor) this.users.set(e.mentor.id, e.mentor);
  }

  async listAllMentors(purpose: Purpose): Promise<DirectoryEntry[]> {
    const out: DirectoryEntry[] = [];
    let after = 0n;
    for (let page = 0; page < 50; page++) {
      const r = await this.client.call("listMentors", { purpose, afterMentorId: after, limit: 200 });
      out.push(...r.mentors);
      if (!r.hasMore) break;
      after = r.nextAfterMentorId;
    }
    this.rememberDirectory(out);
    this.changed();
    return out;
  }

  /** The mentorship as a mutation returned it; users are kept, lists refetched soon. */
  applyMentorship(m: Mentorship | undefined): void {
    if (!m) return;
    // A list fetched before this change would put the old state back: fetch again after it.
    if (this.refreshing) this.refreshAgain = true;
    const old = this.mentorships.get(m.id);
    const view = { ...(old ?? { $typeName: "preceptor.v1.MentorshipView" }), mentorship: m } as MentorshipView;
    this.mentorships.set(m.id, view);
    if (m.conversationId !== 0n) {
      const s = this.conversations.get(m.conversationId);
      if (s) s.readOnly = m.state === MentorshipState.ENDED;
    }
    if (!old || !old.mentor || !old.mentee) {
      this.scheduleRefresh(0); // someone new: fetch their name now
    } else if (m.conversationId !== 0n && !this.conversations.has(m.conversationId)) {
      this.scheduleRefresh();
    }
    this.changed();
  }

  // ---- events -------------------------------------------------------------

  private onEvent(ev: ServerEvent): void {
    const k = ev.kind;
    this.meetings.onEvent(ev);
    this.work.onEvent(ev);
    this.call.onEvent(ev);
    switch (k.case) {
      case "messagePosted":
      case "messageEdited":
        if (k.value.message) this.upsertMessage(k.value.message);
        break;
      case "messageDeleted": {
        const conv = this.convs.get(k.value.conversationId);
        const m = conv?.messages.get(k.value.seq);
        if (conv && m) {
          conv.messages.set(m.seq, { ...m, deleted: true, body: "", checkIn: undefined });
          this.changed();
        }
        break;
      }
      case "readMarker": {
        const r = k.value;
        if (r.userId === this.me?.id) {
          this.noteServerRead(r.conversationId, r.readSeq);
          const s = this.conversations.get(r.conversationId);
          if (s && r.readSeq > s.readSeq) {
            s.readSeq = r.readSeq;
            s.unread = s.lastSeq > s.readSeq ? s.lastSeq - s.readSeq : 0n;
          }
        } else {
          const conv = this.convs.get(r.conversationId);
          if (conv && r.readSeq > conv.counterpartReadSeq) conv.counterpartReadSeq = r.readSeq;
        }
        this.changed();
        break;
      }
      case "mentorshipChanged":
        this.applyMentorship(k.value.mentorship);
        if (this.everAuthenticated && Date.now() - Number(ev.timeMs) < NEWS_MAX_AGE_MS) {
          this.tellMentorshipNews(k.value.change, k.value.mentorship, k.value.actorId);
        }
        break;
      case "checkinDue":
        this.scheduleRefresh();
        break;
      case "typing": {
        const t = k.value;
        if (t.userId === this.me?.id) break;
        const conv = this.convs.get(t.conversationId);
        if (!conv) break;
        conv.typingUntil = t.typing ? Date.now() + TYPING_SHOWN_MS : 0;
        this.scheduleTypingExpiry();
        this.changed();
        break;
      }
      case "presence":
        this.online.set(k.value.userId, k.value.online);
        this.changed();
        break;
      case "sessionEnded":
        this.signedOutReason = k.value.reason || "Your session ended. Please sign in again.";
        this.signedIn = false;
        MeetingsState.forgetSaved();
        this.changed();
        break;
      case "mentorProfile":
      case "userCreated":
      case undefined:
        break;
    }
  }

  /** A toast for what the other side did (not for one's own actions, nor old history). */
  private tellMentorshipNews(change: MentorshipChange, m: Mentorship | undefined, actorId: bigint): void {
    const me = this.me?.id;
    if (!m || actorId === me) return;
    const known = this.users.get(actorId)?.displayName;
    const who = known ?? (change === MentorshipChange.REQUESTED ? "A mentee" : actorId !== 0n ? "Your counterpart" : "The program");
    switch (change) {
      case MentorshipChange.REQUESTED:
        if (m.mentorId === me) this.notify(`${who} asked you for mentorship.`);
        break;
      case MentorshipChange.ACCEPTED:
        this.notify(`${who} accepted your request.`);
        break;
      case MentorshipChange.DECLINED:
        this.notify(`${who} declined your request.`);
        break;
      case MentorshipChange.ASSIGNED:
        this.notify("The program director paired you with a new mentorship.");
        break;
      case MentorshipChange.ENDED:
        this.notify(`${who} ended the mentorship.`);
        break;
      case MentorshipChange.AGREEMENT_PROPOSED:
        this.notify(`${who} proposed an agreement.`);
        break;
      case MentorshipChange.AGREEMENT_ACCEPTED:
        this.notify(`${who} accepted the agreement.`);
        break;
      default:
        break;
    }
  }

  private scheduleTypingExpiry(): void {
    if (this.typingExpiry !== undefined) clearTimeout(this.typingExpiry);
    let next = Infinity;
    const now = Date.now();
    for (const c of this.convs.values()) if (c.typingUntil > now) next = Math.min(next, c.typingUntil);
    if (next === Infinity) return;
    this.typingExpiry = setTimeout(() => {
      this.typingExpiry = undefined;
      this.changed();
      this.scheduleTypingExpiry();
    }, next - now + 20);
  }

  private upsertMessage(m: Message): void {
    const me = this.me?.id;
    const s = this.conversations.get(m.conversationId);
    if (s && m.seq > s.lastSeq) {
      s.lastSeq = m.seq;
      s.lastMessageMs = m.sentAtMs;
      if (m.senderId === me) {
        if (m.seq > s.readSeq) s.readSeq = m.seq;
        this.noteServerRead(m.conversationId, m.seq); // sending marks it read
      } else if (this.openConversation === m.conversationId && document.visibilityState === "visible") {
        // On screen: read as it arrives (no unread badge flashes by).
        this.markRead(m.conversationId, m.seq);
      }
      s.unread = s.lastSeq > s.readSeq ? s.lastSeq - s.readSeq : 0n;
    } else if (!s) {
      this.scheduleRefresh();
    }
    const conv = this.convs.get(m.conversationId);
    // While the first page loads, keep what arrives: the page may have been
    // read before this message was stored.
    if (conv && (conv.loaded ? conv.messages.has(m.seq) || m.seq >= conv.oldestSeq : conv.loading)) {
      conv.messages.set(m.seq, m);
      if (conv.oldestSeq === 0n) conv.oldestSeq = m.seq;
      if (m.senderId !== me) conv.typingUntil = 0;
    }
    this.changed();
  }

  // ---- conversations ------------------------------------------------------

  conv(id: bigint): ConvState {
    let c = this.convs.get(id);
    if (!c) {
      c = {
        id,
        messages: new Map(),
        oldestSeq: 0n,
        hasMoreOlder: false,
        loading: false,
        loaded: false,
        counterpartReadSeq: 0n,
        typingUntil: 0,
      };
      this.convs.set(id, c);
    }
    return c;
  }

  async loadConversation(id: bigint): Promise<void> {
    const c = this.conv(id);
    if (c.loading) return;
    c.loading = true;
    c.error = undefined;
    this.changed();
    try {
      const r = await this.client.call("history", { conversationId: id, beforeSeq: 0n, limit: HISTORY_PAGE });
      for (const m of r.messages) c.messages.set(m.seq, m);
      let oldest = 0n;
      for (const seq of c.messages.keys()) if (oldest === 0n || seq < oldest) oldest = seq;
      c.oldestSeq = oldest;
      c.hasMoreOlder = r.hasMore;
      c.loaded = true;
    } catch (err) {
      c.error = { code: errorCode(err) ?? ErrorCode.UNKNOWN, message: errorText(err) };
    } finally {
      c.loading = false;
      this.changed();
    }
  }

  async loadOlder(id: bigint): Promise<void> {
    const c = this.conv(id);
    if (c.loading || !c.loaded || !c.hasMoreOlder || c.oldestSeq <= 1n) return;
    c.loading = true;
    this.changed();
    try {
      const r = await this.client.call("history", {
        conversationId: id,
        beforeSeq: c.oldestSeq,
        limit: HISTORY_PAGE,
      });
      for (const m of r.messages) {
        c.messages.set(m.seq, m);
        if (m.seq < c.oldestSeq) c.oldestSeq = m.seq;
      }
      c.hasMoreOlder = r.hasMore;
    } catch (err) {
      this.notify(`Could not load older messages: ${errorText(err)}`, "error");
    } finally {
      c.loading = false;
      this.changed();
    }
  }

  sortedMessages(id: bigint): Message[] {
    const c = this.convs.get(id);
    if (!c) return [];
    return [...c.messages.values()].sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
  }

  /**
   * Marks everything up to `seq` read: at once on screen, and on the server
   * at most every READ_DELAY_MS (each MarkRead is a durable write there, so a
   * burst of messages read as they arrive costs one).
   */
  markRead(convId: bigint, seq: bigint): void {
    const s = this.conversations.get(convId);
    if (!s) return;
    if (seq > s.readSeq) {
      s.readSeq = seq;
      s.unread = s.lastSeq > seq ? s.lastSeq - seq : 0n;
      this.changed();
    }
    const known = this.serverRead.get(convId) ?? 0n;
    if (seq <= known || seq <= (this.readWanted.get(convId) ?? 0n)) return;
    this.readWanted.set(convId, seq);
    if (!this.readTimers.has(convId)) {
      this.readTimers.set(
        convId,
        setTimeout(() => this.flushRead(convId), READ_DELAY_MS),
      );
    }
  }

  /** Sends every waiting read marker now (the page is being hidden or left). */
  flushReads(): void {
    for (const [convId, t] of [...this.readTimers]) {
      clearTimeout(t);
      this.flushRead(convId);
    }
  }

  private flushRead(convId: bigint): void {
    this.readTimers.delete(convId);
    const seq = this.readWanted.get(convId);
    if (seq === undefined) return;
    if (this.conn.state !== "authenticated") return; // sent when the link is back (onState)
    this.readWanted.delete(convId);
    if (seq <= (this.serverRead.get(convId) ?? 0n)) return;
    this.noteServerRead(convId, seq);
    this.client.call("markRead", { conversationId: convId, seq }).catch(() => {
      // Not stored: the next visit or message marks it again.
      if (this.serverRead.get(convId) === seq) this.serverRead.delete(convId);
    });
  }

  private noteServerRead(convId: bigint, seq: bigint): void {
    if (seq > (this.serverRead.get(convId) ?? 0n)) this.serverRead.set(convId, seq);
  }

  send(convId: bigint, body: string, checkIn?: { status: number; note: string }): void {
    this.stopTyping(convId);
    const { done } = this.client.send({
      conversationId: convId,
      body,
      ...(checkIn ? { checkIn: { status: checkIn.status, note: checkIn.note } } : {}),
    });
    done.catch((err) => {
      if (errorCode(err) === ErrorCode.CANCELLED) return;
      this.notify(`Your message was not sent: ${errorText(err)}`, "error");
    });
  }

  /**
   * Call on every keystroke in the composer. Sends `typing: true` at most
   * every few seconds while typing and never faster than the server's one per
   * second per conversation (a keystroke inside that second is sent when it
   * ends); `false` after a pause or when the message is sent.
   */
  typingInput(convId: bigint): void {
    if (this.conn.state !== "authenticated") return;
    const t = this.typingStop.get(convId);
    if (t !== undefined) clearTimeout(t);
    this.typingStop.set(
      convId,
      setTimeout(() => this.stopTyping(convId), TYPING_IDLE_MS),
    );
    const active = this.typingActive.has(convId);
    const last = this.typingSent.get(convId) ?? 0;
    const now = Date.now();
    if (active && now - last < TYPING_RESEND_MS) return;
    this.typingActive.add(convId);
    const wait = Math.max(0, last + TYPING_MIN_GAP_MS - now);
    if (this.typingPending.has(convId)) return;
    const go = () => {
      this.typingPending.delete(convId);
      if (!this.typingActive.has(convId) || this.conn.state !== "authenticated") return;
      this.typingSent.set(convId, Date.now());
      this.client.call("setTyping", { conversationId: convId, typing: true }).catch((err) => {
        if (err instanceof PreceptorError && err.code === ErrorCode.RESOURCE_EXHAUSTED) {
          this.typingSent.set(convId, Date.now() + Number(err.retryAfterMs || 1000) - TYPING_MIN_GAP_MS);
        }
      });
    };
    if (wait === 0) go();
    else this.typingPending.set(convId, setTimeout(go, wait));
  }

  stopTyping(convId: bigint): void {
    const t = this.typingStop.get(convId);
    if (t !== undefined) clearTimeout(t);
    this.typingStop.delete(convId);
    const p = this.typingPending.get(convId);
    if (p !== undefined) clearTimeout(p);
    this.typingPending.delete(convId);
    if (!this.typingActive.delete(convId)) return;
    if (this.conn.state !== "authenticated") return;
    this.client.call("setTyping", { conversationId: convId, typing: false }).catch(() => {});
  }

  async editMessage(convId: bigint, seq: bigint, body: string): Promise<void> {
    const r = await this.client.call("editMessage", { conversationId: convId, seq, body });
    if (r.message) this.upsertMessage(r.message);
  }

  async deleteMessage(convId: bigint, seq: bigint): Promise<void> {
    const r = await this.client.call("deleteMessage", { conversationId: convId, seq });
    if (r.message) this.upsertMessage(r.message);
  }
}
