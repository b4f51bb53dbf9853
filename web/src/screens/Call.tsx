import { useEffect, useRef } from "preact/hooks";
import { useSelect } from "../hooks.js";
import type { Model } from "../model.js";

/**
 * The call, over every screen: the ringing banner (accept / decline), then the
 * two videos and Hang up. Nothing while there is no call.
 */
export function CallPanel({ model }: { model: Model }) {
  const c = model.call;
  useSelect(model, (m) => [
    m.call.phase,
    m.call.status,
    m.call.linkState,
    m.call.receiving,
    m.call.localStream,
    m.call.remoteStream,
  ]);
  if (c.phase === "idle") return null;

  if (c.phase === "ended") {
    return (
      <div class="call-ended banner banner-info" role="status" data-testid="call-ended">
        {c.status}
      </div>
    );
  }

  if (c.phase === "incoming") {
    return (
      <section class="call-ringing" role="alert" aria-label="Incoming call" data-testid="call-ringing">
        <p>
          <strong>{c.status}</strong>
        </p>
        <div class="actions">
          <button type="button" class="btn btn-ok" onClick={() => void c.accept()}>
            Accept call
          </button>
          <button type="button" class="btn btn-danger" onClick={() => void c.decline()}>
            Decline
          </button>
        </div>
      </section>
    );
  }

  const peer = model.userName(c.peerId);
  return (
    <section class="call" aria-label={`Call with ${peer}`} data-testid="call">
      <p class="call-status" role="status">
        <strong data-testid="call-status">{c.status}</strong>{" "}
        <span class="muted small">
          Connection: <span data-testid="call-link">{c.linkState || "starting"}</span>
          {c.phase === "connected" && (
            <>
              {" · "}
              <span data-testid="call-video">{c.receiving ? "receiving video" : "waiting for video"}</span>
            </>
          )}
        </span>
      </p>
      <div class="call-videos">
        <Video stream={c.remoteStream} label={`${peer}'s video`} testId="remote-video" />
        <Video stream={c.localStream} label="Your video" testId="local-video" muted />
      </div>
      <div class="actions">
        <button type="button" class="btn btn-danger" onClick={() => void c.hangUp()}>
          Hang up
        </button>
      </div>
    </section>
  );
}

function Video({
  stream,
  label,
  testId,
  muted = false,
}: {
  stream: MediaStream | undefined;
  label: string;
  testId: string;
  muted?: boolean;
}) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const v = ref.current;
    if (!v) return;
    if (v.srcObject !== (stream ?? null)) v.srcObject = stream ?? null;
    if (stream) v.play().catch(() => {});
  }, [stream]);
  return (
    <figure class="call-video">
      <video ref={ref} autoplay playsInline muted={muted} aria-label={label} data-testid={testId} />
      <figcaption class="small">{label}</figcaption>
    </figure>
  );
}
