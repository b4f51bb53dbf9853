import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";

let dialogSeq = 0;

/**
 * A modal <dialog>: the browser traps focus and closes it on Escape; focus
 * goes back to whatever had it before. Render it only while it is open.
 */
export function Dialog({
  title,
  onClose,
  children,
  testId,
}: {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  testId?: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const closeRef = useRef(onClose);
  closeRef.current = onClose;
  const idRef = useRef(`dialog-title-${++dialogSeq}`);

  useEffect(() => {
    const d = ref.current!;
    const before = document.activeElement as HTMLElement | null;
    if (!d.open) d.showModal();
    const onCloseEvent = () => closeRef.current();
    d.addEventListener("close", onCloseEvent);
    return () => {
      d.removeEventListener("close", onCloseEvent);
      if (d.open) d.close();
      if (before && before.isConnected) before.focus();
    };
  }, []);

  return (
    <dialog ref={ref} class="dialog" aria-labelledby={idRef.current} data-testid={testId}>
      <div class="dialog-head">
        <h2 id={idRef.current}>{title}</h2>
        <button type="button" class="btn btn-quiet btn-small" onClick={() => ref.current?.close()}>
          Close<span class="visually-hidden"> dialog</span>
        </button>
      </div>
      {children}
    </dialog>
  );
}

/** A form's error line, read out when it appears; nothing when there is none. */
export function FormError({ error, testId }: { error: string | null | undefined; testId?: string }) {
  if (!error) return null;
  return (
    <p class="form-error" role="alert" data-testid={testId}>
      {error}
    </p>
  );
}

/** A dialog form's buttons: its submit button, then Cancel. */
export function SubmitOrCancel({
  label,
  kind = "btn-primary",
  disabled,
  onCancel,
}: {
  label: string;
  kind?: string;
  disabled: boolean;
  onCancel: () => void;
}) {
  return (
    <div class="actions">
      <button type="submit" class={`btn ${kind}`} disabled={disabled}>
        {label}
      </button>
      <button type="button" class="btn" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}
