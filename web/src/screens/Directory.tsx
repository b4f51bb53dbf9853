import { Purpose, Role, type DirectoryEntry } from "@preceptor/client";
import { useEffect, useState } from "preact/hooks";
import { Dialog, FormError, SubmitOrCancel } from "../components/Dialog.js";
import { navigate, useModel } from "../hooks.js";
import { PURPOSES, purposeLabel } from "../labels.js";
import { errorText, type Model } from "../model.js";

export function DirectoryScreen({ model }: { model: Model }) {
  useModel(model);
  const [purpose, setPurpose] = useState<Purpose>(Purpose.UNSPECIFIED);
  const [entries, setEntries] = useState<DirectoryEntry[] | null>(null);
  const [error, setError] = useState("");
  const [requesting, setRequesting] = useState<DirectoryEntry | null>(null);
  const authenticated = model.conn.state === "authenticated";

  useEffect(() => {
    let live = true;
    setError("");
    model
      .listAllMentors(purpose)
      .then((all) => live && setEntries(all))
      .catch((err) => live && setError(errorText(err)));
    return () => {
      live = false;
    };
  }, [purpose, authenticated]);

  const isMentee = model.role === Role.MENTEE;

  return (
    <section class="directory" aria-labelledby="directory-title">
      <h1 id="directory-title">Find a mentor</h1>
      <div class="field field-inline">
        <label for="purpose-filter">Help with</label>
        <select
          id="purpose-filter"
          value={String(purpose)}
          onChange={(e) => setPurpose(Number(e.currentTarget.value) as Purpose)}
        >
          <option value={String(Purpose.UNSPECIFIED)}>Any purpose</option>
          {PURPOSES.map((p) => (
            <option key={p} value={String(p)}>
              {purposeLabel(p)}
            </option>
          ))}
        </select>
      </div>
      <FormError error={error} />
      {entries === null && !error && (
        <p class="muted" role="status">
          Loading the directory…
        </p>
      )}
      {entries && entries.length === 0 && <p class="muted">No mentor accepts requests for this purpose right now.</p>}
      {entries && entries.length > 0 && (
        <ul class="cards" aria-live="polite">
          {entries.map((e) => {
            const u = e.mentor!;
            const p = e.profile;
            return (
              <li key={String(u.id)} class="card mentor-card" data-testid="mentor-card">
                <h2 class="card-title">{u.displayName}</h2>
                <p class="muted">
                  {[u.trainingLevel, u.specialty, u.timeZone].filter(Boolean).join(" · ")}
                </p>
                {p?.bio && <p>{p.bio}</p>}
                {p && p.purposes.length > 0 && (
                  <ul class="chips" aria-label="Mentors for">
                    {p.purposes.map((x) => (
                      <li key={x} class="chip">
                        {purposeLabel(x)}
                      </li>
                    ))}
                  </ul>
                )}
                {p && (
                  <p class="muted small">
                    {p.activeMentorships} of {p.capacity} places taken
                  </p>
                )}
                {isMentee && (
                  <div class="actions">
                    <button type="button" class="btn btn-primary" onClick={() => setRequesting(e)}>
                      Request {u.displayName}
                    </button>
                  </div>
                )}
              </li>
            );
          })}
        </ul>
      )}
      {requesting && (
        <RequestDialog
          model={model}
          entry={requesting}
          defaultPurpose={purpose}
          onClose={() => setRequesting(null)}
        />
      )}
    </section>
  );
}

function RequestDialog({
  model,
  entry,
  defaultPurpose,
  onClose,
}: {
  model: Model;
  entry: DirectoryEntry;
  defaultPurpose: Purpose;
  onClose: () => void;
}) {
  const offered = entry.profile?.purposes.length ? entry.profile.purposes : PURPOSES;
  const [purpose, setPurpose] = useState<Purpose>(
    offered.includes(defaultPurpose) ? defaultPurpose : offered[0]!,
  );
  const [note, setNote] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const u = entry.mentor!;

  async function submit(e: SubmitEvent) {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      const r = await model.client.call("requestMentorship", { mentorId: u.id, purpose, note: note.trim() });
      model.applyMentorship(r.mentorship);
      model.notify(`Request sent to ${u.displayName}.`);
      onClose();
      navigate("/");
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog title={`Request ${u.displayName} as your mentor`} onClose={onClose} testId="request-dialog">
      <form class="form" onSubmit={submit}>
        <div class="field">
          <label for="request-purpose">What would you like help with?</label>
          <select
            id="request-purpose"
            value={String(purpose)}
            onChange={(e) => setPurpose(Number(e.currentTarget.value) as Purpose)}
          >
            {offered.map((p) => (
              <option key={p} value={String(p)}>
                {purposeLabel(p)}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="request-note">A note for {u.displayName}</label>
          <textarea
            id="request-note"
            rows={4}
            maxLength={2000}
            value={note}
            onInput={(e) => setNote(e.currentTarget.value)}
          />
        </div>
        <FormError error={error} />
        <SubmitOrCancel label="Send request" disabled={busy} onCancel={onClose} />
      </form>
    </Dialog>
  );
}
