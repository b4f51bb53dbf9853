// The one-to-one call: ringing and answering through the server's CallUpdate
// events, WebRTC between the two browsers, its SDP and ICE candidates relayed
// by the server (SendCallSignal → CallSignal). Media never passes the server.
import { CallChange, type CallSignal, type CallUpdate, type Event as ServerEvent } from "@preceptor/client";
import { errorText, type Model } from "./model.js";

export type CallPhase =
  | "idle"
  | "outgoing" // we ring the other member
  | "incoming" // the other member rings us
  | "connecting" // accepted: media being set up
  | "connected"
  | "ended"; // shows why for a moment, then idle

const ENDED_SHOWN_MS = 5000;

export class CallState {
  phase: CallPhase = "idle";
  callId = 0n;
  peerId = 0n;
  meetingId = 0n;
  caller = false;
  /** What the panel says: "Ringing…", "Dr. Raman declined.", a media error. */
  status = "";
  /** RTCPeerConnection.connectionState, for the panel (and tests). */
  linkState = "";
  /** The remote video has decoded frames. */
  receiving = false;
  localStream: MediaStream | undefined;
  remoteStream: MediaStream | undefined;

  private pc: RTCPeerConnection | undefined;
  private ready: Promise<void> | undefined; // local media and the connection are set up
  private chain: Promise<void> = Promise.resolve(); // signals handled one after another, in order
  private remoteSet = false;
  private earlyCandidates: RTCIceCandidateInit[] = [];
  private statsTimer: ReturnType<typeof setInterval> | undefined;
  private endTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly model: Model) {}

  get active(): boolean {
    return this.phase !== "idle" && this.phase !== "ended";
  }

  onEvent(ev: ServerEvent): void {
    if (ev.kind.case === "callUpdate") this.onUpdate(ev.kind.value);
    else if (ev.kind.case === "callSignal") this.onSignal(ev.kind.value);
  }

  /** Rings the other member of a meeting (meetingId) or the mentee called from the queue (menteeId). */
  async start(target: { meetingId?: bigint; menteeId?: bigint }): Promise<void> {
    if (this.active) return;
    this.clearEnded();
    this.phase = "outgoing";
    this.caller = true;
    this.meetingId = target.meetingId ?? 0n;
    this.status = "Calling…";
    this.model.changed();
    try {
      const r = await this.model.client.call("startCall", {
        meetingId: target.meetingId ?? 0n,
        menteeId: target.menteeId ?? 0n,
      });
      this.callId = r.callId;
      this.peerId = r.peerId;
      this.status = `Ringing ${this.model.userName(r.peerId)}…`;
      this.model.changed();
      // Camera and microphone while it rings: the preview shows, and the offer goes at once on accept.
      this.ready = this.setUp();
      this.ready.catch(() => {});
    } catch (err) {
      this.finish(`The call could not start: ${errorText(err)}`);
    }
  }

  async accept(): Promise<void> {
    if (this.phase !== "incoming") return;
    this.phase = "connecting";
    this.status = "Connecting…";
    this.model.changed();
    this.ready = this.setUp();
    this.ready.catch(() => {});
    try {
      await this.model.client.call("answerCall", { callId: this.callId, accept: true });
    } catch (err) {
      this.finish(`The call could not be answered: ${errorText(err)}`);
    }
  }

  async decline(): Promise<void> {
    if (this.phase !== "incoming") return;
    const id = this.callId;
    this.finish("You declined the call.");
    await this.model.client.call("answerCall", { callId: id, accept: false }).catch(() => {});
  }

  async hangUp(): Promise<void> {
    const id = this.callId;
    this.finish("You hung up.");
    if (id !== 0n) await this.model.client.call("hangUp", { callId: id }).catch(() => {});
  }

  // ---- events --------------------------------------------------------------

  private onUpdate(u: CallUpdate): void {
    const me = this.model.me?.id;
    switch (u.change) {
      case CallChange.RINGING:
        if (u.calleeId !== me) break;
        if (this.active) {
          // Already in a call: this one is declined at once.
          void this.model.client.call("answerCall", { callId: u.callId, accept: false }).catch(() => {});
          break;
        }
        this.clearEnded();
        this.phase = "incoming";
        this.caller = false;
        this.callId = u.callId;
        this.peerId = u.callerId;
        this.meetingId = u.meetingId;
        this.status = `${this.model.userName(u.callerId)} is calling you.`;
        this.model.changed();
        break;
      case CallChange.ACCEPTED:
        if (u.callId !== this.callId) break;
        if (this.caller && this.phase === "outgoing") {
          this.phase = "connecting";
          this.status = "Connecting…";
          this.model.changed();
          this.enqueue(() => this.sendOffer());
        }
        break;
      case CallChange.DECLINED:
        if (u.callId !== this.callId) break;
        this.finish(`${this.model.userName(this.peerId)} declined the call${u.reason ? `: ${u.reason}` : "."}`);
        break;
      case CallChange.ENDED:
        if (u.callId !== this.callId || !this.active) break;
        this.finish(u.actorId === this.peerId ? `${this.model.userName(this.peerId)} hung up.` : `The call ended${u.reason ? `: ${u.reason}` : "."}`);
        break;
      default:
        break;
    }
  }

  private onSignal(s: CallSignal): void {
    if (s.callId !== this.callId || !this.active) return;
    const p = s.payload;
    this.enqueue(async () => {
      const pc = this.pc;
      if (!pc) return;
      if (p.case === "sdpOffer") {
        await pc.setRemoteDescription({ type: "offer", sdp: p.value });
        await this.remoteReady();
        const answer = await pc.createAnswer();
        await pc.setLocalDescription(answer);
        await this.signal({ case: "sdpAnswer", value: answer.sdp ?? "" });
      } else if (p.case === "sdpAnswer") {
        await pc.setRemoteDescription({ type: "answer", sdp: p.value });
        await this.remoteReady();
      } else if (p.case === "iceCandidate") {
        const c = JSON.parse(p.value) as RTCIceCandidateInit;
        if (this.remoteSet) await pc.addIceCandidate(c);
        else this.earlyCandidates.push(c);
      }
    });
  }

  // ---- WebRTC --------------------------------------------------------------

  /** Runs `job` after the media is set up and every earlier signal is handled. */
  private enqueue(job: () => Promise<void>): void {
    const callId = this.callId;
    this.chain = this.chain
      .then(() => this.ready)
      .then(() => (this.callId === callId && this.active ? job() : undefined))
      .catch((err) => {
        if (this.callId === callId && this.active) this.finish(`The call failed: ${errorText(err)}`);
      });
  }

  private async setUp(): Promise<void> {
    const callId = this.callId;
    let ice: RTCIceServer[] = [];
    try {
      const r = await this.model.client.call("getIceServers", {});
      ice = r.iceServers.map((s) => ({
        urls: s.urls,
        ...(s.username ? { username: s.username, credential: s.credential } : {}),
      }));
    } catch {
      // No ICE servers from the server: direct connections only.
    }
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    } catch (err) {
      const msg = `No camera or microphone: ${errorText(err)}`;
      if (this.callId === callId) void this.hangUpWith(msg);
      throw new Error(msg);
    }
    if (this.callId !== callId || !this.active) {
      for (const t of stream.getTracks()) t.stop();
      return;
    }
    this.localStream = stream;
    const pc = new RTCPeerConnection({ iceServers: ice });
    this.pc = pc;
    this.remoteSet = false;
    this.earlyCandidates = [];
    for (const t of stream.getTracks()) pc.addTrack(t, stream);
    pc.onicecandidate = (e) => {
      if (e.candidate) void this.signal({ case: "iceCandidate", value: JSON.stringify(e.candidate.toJSON()) });
    };
    pc.ontrack = (e) => {
      this.remoteStream = e.streams[0] ?? new MediaStream([e.track]);
      this.model.changed();
    };
    pc.onconnectionstatechange = () => {
      if (this.pc !== pc) return;
      this.linkState = pc.connectionState;
      if (pc.connectionState === "connected") {
        this.phase = "connected";
        this.status = `In a call with ${this.model.userName(this.peerId)}.`;
        this.watchStats(pc);
      } else if (pc.connectionState === "failed") {
        void this.hangUpWith("The connection failed (no route between the two of you).");
      }
      this.model.changed();
    };
    this.model.changed();
  }

  private async sendOffer(): Promise<void> {
    const pc = this.pc;
    if (!pc) return;
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    await this.signal({ case: "sdpOffer", value: offer.sdp ?? "" });
  }

  private async remoteReady(): Promise<void> {
    this.remoteSet = true;
    const early = this.earlyCandidates;
    this.earlyCandidates = [];
    for (const c of early) await this.pc?.addIceCandidate(c);
  }

  private async signal(payload: CallSignal["payload"]): Promise<void> {
    await this.model.client.call("sendCallSignal", { signal: { callId: this.callId, payload } });
  }

  private watchStats(pc: RTCPeerConnection): void {
    if (this.statsTimer !== undefined) return;
    this.statsTimer = setInterval(async () => {
      if (this.pc !== pc) return;
      const stats = await pc.getStats();
      let frames = 0;
      stats.forEach((s: { type?: string; kind?: string; framesDecoded?: number }) => {
        if (s.type === "inbound-rtp" && s.kind === "video") frames += s.framesDecoded ?? 0;
      });
      const receiving = frames > 0;
      if (receiving !== this.receiving) {
        this.receiving = receiving;
        this.model.changed();
      }
    }, 500);
  }

  private async hangUpWith(status: string): Promise<void> {
    const id = this.callId;
    this.finish(status);
    if (id !== 0n) await this.model.client.call("hangUp", { callId: id }).catch(() => {});
  }

  /** Ends the call here: media stopped, the connection closed; the reason shows for a moment. */
  private finish(status: string): void {
    if (this.statsTimer !== undefined) clearInterval(this.statsTimer);
    this.statsTimer = undefined;
    this.pc?.close();
    this.pc = undefined;
    for (const t of this.localStream?.getTracks() ?? []) t.stop();
    this.localStream = undefined;
    this.remoteStream = undefined;
    this.ready = undefined;
    this.receiving = false;
    this.linkState = "";
    this.callId = 0n;
    this.phase = "ended";
    this.status = status;
    this.model.changed();
    this.clearEnded();
    this.endTimer = setTimeout(() => {
      this.endTimer = undefined;
      if (this.phase === "ended") {
        this.phase = "idle";
        this.status = "";
        this.model.changed();
      }
    }, ENDED_SHOWN_MS);
  }

  private clearEnded(): void {
    if (this.endTimer !== undefined) clearTimeout(this.endTimer);
    this.endTimer = undefined;
  }
}
