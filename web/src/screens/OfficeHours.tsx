import {
  Audience,
  ErrorCode,
  MentorshipState,
  QueueState,
  Role,
  WhereKind,
  type OfficeHours,
  type Slot,
  type User,
} from "@preceptor/client";
import { useEffect, useState } from "preact/hooks";
import { Dialog, FormError, SubmitOrCancel } from "../components/Dialog.js";
import { navigate, useModel } from "../hooks.js";
import {
  WEEKDAYS,
  WHERE_KINDS,
  browserZone,
  dayKey,
  dayLabel,
  hmToMinutes,
  hourMinute,
  minutesToHm,
  weekdayLabel,
  whereDetailLabel,
  whereKindLabel,
} from "../labels.js";
import { errorCode, errorText, type Model } from "../model.js";

const SLOT_DAYS = 21;
const DAY_MS = 86_400_000;

export function OfficeHoursScreen({ model, mentorId }: { model: Model; mentorId?: bigint }) {
  useModel(model);
  const me = model.me?.id;
  if (model.role === Role.MENTOR && (mentorId === undefined || mentorId === me)) {
    return (
      <section class="office-hours" aria-labelledby="oh-title">
        <h1 id="oh-title">Your office hours</h1>
        <QueuePanel model={model} />
        <OfficeHoursEditor model={model} />
      </section>
    );
  }
  return <MentorOfficeHours model={model} mentorId={mentorId} />;
}

// ---- the mentor's editor ----------------------------------------------------

interface WindowDraft {
  key: number;
  start: string; // "HH:MM"
  end: string; // "HH:MM"; "00:00" (or "24:00") as an end: midnight
}
interface OverrideDraft {
  key: number;
  date: string;
  away: boolean;
  start: string;
  end: string;
}
interface Draft {
  enabled: boolean;
  timeZone: string;
  days: Map<number, WindowDraft[]>; // Weekday → windows
  slotMinutes: number;
  bufferMinutes: number;
  noticeHours: number;
  horizonDays: number;
  seats: number;
  audience: Audience;
  cancelNoticeHours: number;
  whereKind: WhereKind;
  whereDetail: string;
  overrides: OverrideDraft[];
}

let keySeq = 0;

function toDraft(published: OfficeHours | undefined): Draft {
  // Never set (no zone): the defaults, open to booking once saved.
  const oh = published && published.timeZone ? published : undefined;
  const days = new Map<number, WindowDraft[]>();
  for (const d of WEEKDAYS) days.set(d, []);
  for (const r of oh?.rules ?? []) {
    if (!r.window) continue;
    days.get(r.day)?.push({ key: ++keySeq, start: minutesToHm(r.window.startMinute), end: endText(r.window.endMinute) });
  }
  return {
    enabled: oh ? oh.enabled : true,
    timeZone: oh?.timeZone || browserZone(),
    days,
    slotMinutes: oh?.slotMinutes || 30,
    bufferMinutes: oh?.bufferMinutes ?? 0,
    noticeHours: oh ? Math.round(oh.minNoticeMinutes / 60) : 12,
    horizonDays: oh?.horizonDays || 28,
    seats: oh?.seats || 1,
    audience: oh?.audience || Audience.OWN_MENTEES,
    cancelNoticeHours: oh ? Math.round(oh.cancelNoticeMinutes / 60) : 24,
    whereKind: oh?.where?.kind || WhereKind.IN_APP_CALL,
    whereDetail: oh?.where?.detail ?? "",
    overrides: (oh?.overrides ?? []).map((o) => ({
      key: ++keySeq,
      date: o.date,
      away: o.away,
      start: o.extra[0] ? minutesToHm(o.extra[0].startMinute) : "",
      end: o.extra[0] ? endText(o.extra[0].endMinute) : "",
    })),
  };
}

function endText(min: number): string {
  return min >= 1440 ? "00:00" : minutesToHm(min);
}
function endMinutes(v: string): number {
  const m = hmToMinutes(v);
  return m === 0 ? 1440 : m;
}

function OfficeHoursEditor({ model }: { model: Model }) {
  const me = model.me!.id;
  const [draft, setDraft] = useState<Draft | null>(null);
  const [loadError, setLoadError] = useState("");
  const [error, setError] = useState("");
  const [saved, setSaved] = useState("");
  const [busy, setBusy] = useState(false);
  const authenticated = model.conn.state === "authenticated";

  useEffect(() => {
    if (!authenticated || draft) return;
    model.client
      .call("getOfficeHours", { mentorId: me })
      .then((r) => setDraft(toDraft(r.officeHours)))
      .catch((err) => {
        if (errorCode(err) === ErrorCode.NOT_FOUND) setDraft(toDraft(undefined));
        else setLoadError(errorText(err));
      });
  }, [authenticated]);

  if (!draft) {
    return (
      <section class="group" aria-labelledby="oh-editor-title">
        <h2 id="oh-editor-title">Weekly hours</h2>
        <FormError error={loadError} />
        {!loadError && (
          <p class="muted" role="status">
            Loading your office hours…
          </p>
        )}
      </section>
    );
  }

  const set = (patch: Partial<Draft>) => {
    setDraft({ ...draft, ...patch });
    setSaved("");
  };
  const setDay = (day: number, windows: WindowDraft[]) => {
    const days = new Map(draft.days);
    days.set(day, windows);
    set({ days });
  };
  const zones = supportedZones(draft.timeZone);

  async function save(e: SubmitEvent) {
    e.preventDefault();
    const d = draft!;
    const rules = [];
    for (const day of WEEKDAYS) {
      for (const w of d.days.get(day) ?? []) {
        const start = hmToMinutes(w.start);
        const end = endMinutes(w.end);
        if (!Number.isFinite(start) || !Number.isFinite(end)) {
          return setError(`${weekdayLabel(day)}: fill in both times of each window.`);
        }
        rules.push({ day, window: { startMinute: start, endMinute: end } });
      }
    }
    const overrides = [];
    for (const o of d.overrides) {
      if (!o.date) return setError("Each date override needs a date.");
      const extra = [];
      if (!o.away && o.start && o.end) extra.push({ startMinute: hmToMinutes(o.start), endMinute: endMinutes(o.end) });
      overrides.push({ date: o.date, away: o.away, extra });
    }
    setBusy(true);
    setError("");
    setSaved("");
    try {
      const r = await model.client.call("setOfficeHours", {
        officeHours: {
          enabled: d.enabled,
          timeZone: d.timeZone,
          rules,
          slotMinutes: d.slotMinutes,
          bufferMinutes: d.bufferMinutes,
          minNoticeMinutes: Math.round(d.noticeHours * 60),
          horizonDays: d.horizonDays,
          seats: d.seats,
          audience: d.audience,
          overrides,
          cancelNoticeMinutes: Math.round(d.cancelNoticeHours * 60),
          where: { kind: d.whereKind, detail: d.whereKind === WhereKind.IN_APP_CALL ? "" : d.whereDetail.trim() },
        },
      });
      setDraft(toDraft(r.officeHours));
      setSaved("Office hours saved.");
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="form oh-editor group" onSubmit={save} data-testid="office-hours-editor" aria-labelledby="oh-editor-title">
      <h2 id="oh-editor-title">Weekly hours</h2>
      <label class="choice">
        <input type="checkbox" checked={draft.enabled} onChange={(e) => set({ enabled: e.currentTarget.checked })} />
        Mentees can book my office hours
      </label>
      <div class="field">
        <label for="oh-zone">Time zone of these hours</label>
        <select id="oh-zone" value={draft.timeZone} onChange={(e) => set({ timeZone: e.currentTarget.value })}>
          {zones.map((z) => (
            <option key={z} value={z}>
              {z.replace(/_/g, " ")}
            </option>
          ))}
        </select>
      </div>
      <div class="oh-days">
        {WEEKDAYS.map((day) => {
          const windows = draft.days.get(day) ?? [];
          const name = weekdayLabel(day);
          return (
            <fieldset key={day} class="oh-day" data-testid={`oh-day-${name.toLowerCase()}`}>
              <legend>{name}</legend>
              {windows.length === 0 && <p class="muted small">No hours.</p>}
              {windows.map((w, i) => (
                <div key={w.key} class="oh-window">
                  <label>
                    <span class="visually-hidden">
                      {name} hours {i + 1}{" "}
                    </span>
                    from
                    <input
                      type="time"
                      required
                      value={w.start}
                      onInput={(e) => setDay(day, windows.map((x) => (x === w ? { ...x, start: e.currentTarget.value } : x)))}
                    />
                  </label>
                  <label>
                    <span class="visually-hidden">
                      {name} hours {i + 1}{" "}
                    </span>
                    to
                    <input
                      type="time"
                      required
                      value={w.end}
                      onInput={(e) => setDay(day, windows.map((x) => (x === w ? { ...x, end: e.currentTarget.value } : x)))}
                    />
                  </label>
                  <button type="button" class="btn btn-quiet btn-small" onClick={() => setDay(day, windows.filter((x) => x !== w))}>
                    Remove<span class="visually-hidden"> {name} hours {i + 1}</span>
                  </button>
                </div>
              ))}
              <button
                type="button"
                class="btn btn-small"
                onClick={() => setDay(day, [...windows, { key: ++keySeq, start: "09:00", end: "12:00" }])}
              >
                Add hours<span class="visually-hidden"> on {name}</span>
              </button>
            </fieldset>
          );
        })}
      </div>
      <div class="actions">
        <button
          type="button"
          class="btn btn-small"
          onClick={() => {
            const monday = draft.days.get(WEEKDAYS[0]!) ?? [];
            const days = new Map<number, WindowDraft[]>();
            for (const d of WEEKDAYS) days.set(d, monday.map((w) => ({ ...w, key: ++keySeq })));
            set({ days });
          }}
        >
          Copy Monday's hours to every day
        </button>
      </div>
      <div class="oh-numbers">
        <NumberField id="oh-slot" label="Slot length (minutes)" min={10} max={240} value={draft.slotMinutes} onChange={(v) => set({ slotMinutes: v })} />
        <NumberField id="oh-buffer" label="Break between slots (minutes)" min={0} max={120} value={draft.bufferMinutes} onChange={(v) => set({ bufferMinutes: v })} />
        <NumberField id="oh-notice" label="Minimum notice (hours)" min={0} max={336} value={draft.noticeHours} onChange={(v) => set({ noticeHours: v })} />
        <NumberField id="oh-horizon" label="Bookable up to (days ahead)" min={1} max={180} value={draft.horizonDays} onChange={(v) => set({ horizonDays: v })} />
        <NumberField id="oh-seats" label="Seats per slot (1: one-to-one)" min={1} max={50} value={draft.seats} onChange={(v) => set({ seats: v })} />
        <NumberField id="oh-cancel" label="Mentees may cancel up to (hours before)" min={0} max={168} value={draft.cancelNoticeHours} onChange={(v) => set({ cancelNoticeHours: v })} />
      </div>
      <fieldset class="choices">
        <legend>Who may book</legend>
        <label class="choice">
          <input type="radio" name="oh-audience" checked={draft.audience === Audience.OWN_MENTEES} onChange={() => set({ audience: Audience.OWN_MENTEES })} />
          My mentees only
        </label>
        <label class="choice">
          <input type="radio" name="oh-audience" checked={draft.audience === Audience.PROGRAM} onChange={() => set({ audience: Audience.PROGRAM })} />
          Every mentee of the program
        </label>
      </fieldset>
      <fieldset class="choices">
        <legend>Where the slots take place</legend>
        {WHERE_KINDS.map((k) => (
          <label key={k} class="choice">
            <input type="radio" name="oh-where" checked={draft.whereKind === k} onChange={() => set({ whereKind: k })} />
            {whereKindLabel(k)}
          </label>
        ))}
      </fieldset>
      {draft.whereKind !== WhereKind.IN_APP_CALL && (
        <div class="field">
          <label for="oh-where-detail">{whereDetailLabel(draft.whereKind)}</label>
          <input id="oh-where-detail" maxLength={500} value={draft.whereDetail} onInput={(e) => set({ whereDetail: e.currentTarget.value })} />
        </div>
      )}
      <fieldset class="oh-overrides">
        <legend>Dates that differ</legend>
        {draft.overrides.length === 0 && <p class="muted small">None: the weekly hours hold every week.</p>}
        {draft.overrides.map((o, i) => {
          const upd = (patch: Partial<OverrideDraft>) =>
            set({ overrides: draft.overrides.map((x) => (x === o ? { ...x, ...patch } : x)) });
          return (
            <div key={o.key} class="oh-window" data-testid="oh-override">
              <label>
                Date<span class="visually-hidden"> {i + 1}</span>
                <input type="date" required value={o.date} onInput={(e) => upd({ date: e.currentTarget.value })} />
              </label>
              <label class="choice">
                <input type="checkbox" checked={o.away} onChange={(e) => upd({ away: e.currentTarget.checked })} />
                Away all day
              </label>
              {!o.away && (
                <>
                  <label>
                    Extra hours from
                    <input type="time" value={o.start} onInput={(e) => upd({ start: e.currentTarget.value })} />
                  </label>
                  <label>
                    to
                    <input type="time" value={o.end} onInput={(e) => upd({ end: e.currentTarget.value })} />
                  </label>
                </>
              )}
              <button type="button" class="btn btn-quiet btn-small" onClick={() => set({ overrides: draft.overrides.filter((x) => x !== o) })}>
                Remove<span class="visually-hidden"> date {i + 1}</span>
              </button>
            </div>
          );
        })}
        {draft.overrides.length < 100 && (
          <button
            type="button"
            class="btn btn-small"
            onClick={() => set({ overrides: [...draft.overrides, { key: ++keySeq, date: "", away: true, start: "", end: "" }] })}
          >
            Add a date
          </button>
        )}
      </fieldset>
      <FormError error={error} />
      <p role="status" class="small" data-testid="oh-saved">
        {saved}
      </p>
      <div class="actions">
        <button type="submit" class="btn btn-primary" disabled={busy}>
          Save office hours
        </button>
      </div>
    </form>
  );
}

function NumberField({
  id,
  label,
  min,
  max,
  value,
  onChange,
}: {
  id: string;
  label: string;
  min: number;
  max: number;
  value: number;
  onChange: (v: number) => void;
}) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input
        id={id}
        type="number"
        inputMode="numeric"
        min={min}
        max={max}
        required
        value={String(value)}
        onInput={(e) => onChange(Number(e.currentTarget.value))}
      />
    </div>
  );
}

function supportedZones(current: string): string[] {
  let zones: string[] = [];
  try {
    zones = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.("timeZone") ?? [];
  } catch {
    zones = [];
  }
  const all = new Set([...zones, current, browserZone(), "UTC"]);
  return [...all].sort();
}

// ---- the mentor's drop-in queue ------------------------------------------------

function QueuePanel({ model }: { model: Model }) {
  const me = model.me!.id;
  const mt = model.meetings;
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const authenticated = model.conn.state === "authenticated";

  useEffect(() => {
    if (!authenticated) return;
    model.client
      .call("getQueue", { mentorId: me })
      .then((r) => {
        mt.line = r.entries;
        mt.lineOpen = r.open;
        for (const e of r.entries) if (e.mentee) model.users.set(e.mentee.id, e.mentee);
        model.changed();
      })
      .catch((err) => setError(errorText(err)));
  }, [authenticated]);

  const line = mt.line ?? [];
  for (const e of line) if (e.mentee && !model.users.has(e.mentee.id)) model.users.set(e.mentee.id, e.mentee);

  async function callNext() {
    setBusy(true);
    setError("");
    try {
      const r = await model.client.call("callNext", {});
      if (r.called && r.called.menteeId !== 0n) {
        if (r.called.mentee) model.users.set(r.called.mentee.id, r.called.mentee);
        mt.called = r.called;
        model.changed();
      } else {
        model.notify("Nobody is waiting.");
      }
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  async function skip(menteeId: bigint) {
    setError("");
    try {
      await model.client.call("skipInQueue", { menteeId });
    } catch (err) {
      setError(errorText(err));
    }
  }

  return (
    <section class="group card" aria-labelledby="queue-title" data-testid="queue-panel">
      <h2 id="queue-title">Drop-in queue</h2>
      <p class="muted small">
        {mt.lineOpen ? "Your office hours are open now: mentees can join the line." : "Mentees can join the line while your office hours are open."}
      </p>
      {line.length === 0 ? (
        <p data-testid="queue-empty">Nobody is waiting.</p>
      ) : (
        <ol class="queue-line" data-testid="queue-line">
          {line.map((e) => (
            <li key={String(e.menteeId)} data-testid="queue-entry">
              <span>{e.mentee?.displayName ?? model.userName(e.menteeId)}</span>
              <button type="button" class="btn btn-quiet btn-small" onClick={() => skip(e.menteeId)}>
                Skip<span class="visually-hidden"> {e.mentee?.displayName ?? ""}</span>
              </button>
            </li>
          ))}
        </ol>
      )}
      <FormError error={error} />
      <div class="actions">
        <button type="button" class="btn btn-primary" disabled={busy || line.length === 0} onClick={callNext}>
          Call next
        </button>
      </div>
      {mt.called && (
        <p class="called" data-testid="queue-called">
          You called <strong>{model.userName(mt.called.menteeId)}</strong>.{" "}
          <button
            type="button"
            class="btn btn-small btn-primary"
            disabled={model.call.active}
            onClick={() => void model.call.start({ menteeId: mt.called!.menteeId })}
          >
            Start call<span class="visually-hidden"> with {model.userName(mt.called.menteeId)}</span>
          </button>
        </p>
      )}
    </section>
  );
}

// ---- a mentor's office hours, for mentees ---------------------------------------

function MentorOfficeHours({ model, mentorId }: { model: Model; mentorId?: bigint }) {
  const [mentors, setMentors] = useState<User[] | null>(null);
  const authenticated = model.conn.state === "authenticated";
  useEffect(() => {
    if (!authenticated) return;
    model
      .listAllMentors(0)
      .then((all) => setMentors(all.map((e) => e.mentor!).filter(Boolean)))
      .catch(() => setMentors([]));
  }, [authenticated]);

  // One's own mentors first, then the program's.
  const mine = new Set<bigint>();
  for (const v of model.mentorships.values()) {
    if (v.mentorship?.state === MentorshipState.ACTIVE) mine.add(v.mentorship.mentorId);
  }
  const list = [...(mentors ?? [])].sort((a, b) => Number(mine.has(b.id)) - Number(mine.has(a.id)));
  const chosen = mentorId ?? list[0]?.id;
  const mentor = chosen !== undefined ? model.users.get(chosen) : undefined;

  return (
    <section class="office-hours" aria-labelledby="oh-title">
      <h1 id="oh-title">Office hours</h1>
      <div class="field field-inline">
        <label for="oh-mentor">Mentor</label>
        <select
          id="oh-mentor"
          value={chosen !== undefined ? String(chosen) : ""}
          onChange={(e) => navigate(`/office-hours/${e.currentTarget.value}`)}
        >
          {mentors === null && <option value="">Loading…</option>}
          {list.map((u) => (
            <option key={String(u.id)} value={String(u.id)}>
              {u.displayName}
              {mine.has(u.id) ? " (your mentor)" : ""}
            </option>
          ))}
        </select>
      </div>
      {chosen !== undefined && (
        <>
          <MenteeQueue key={`q${chosen}`} model={model} mentorId={chosen} name={mentor?.displayName ?? "this mentor"} />
          <SlotList key={`s${chosen}`} model={model} mentorId={chosen} name={mentor?.displayName ?? "this mentor"} />
        </>
      )}
    </section>
  );
}

function SlotList({ model, mentorId, name }: { model: Model; mentorId: bigint; name: string }) {
  const [slots, setSlots] = useState<Slot[] | null>(null);
  const [zone, setZone] = useState("");
  const [error, setError] = useState("");
  const [booking, setBooking] = useState<Slot | null>(null);
  const [round, setRound] = useState(0);
  const authenticated = model.conn.state === "authenticated";

  useEffect(() => {
    if (!authenticated) return;
    let live = true;
    const now = Date.now();
    model.client
      .call("listSlots", { mentorId, fromMs: BigInt(now), toMs: BigInt(now + SLOT_DAYS * DAY_MS) })
      .then((r) => {
        if (!live) return;
        setSlots(r.slots);
        setZone(r.timeZone);
        setError("");
      })
      .catch((err) => {
        if (!live) return;
        setSlots([]);
        setError(
          errorCode(err) === ErrorCode.NOT_FOUND
            ? `${name} has no office hours open to you.`
            : errorText(err),
        );
      });
    return () => {
      live = false;
    };
  }, [authenticated, mentorId, round]);

  const days = new Map<string, Slot[]>();
  for (const s of slots ?? []) {
    const k = dayKey(Number(s.startMs));
    const list = days.get(k) ?? [];
    list.push(s);
    days.set(k, list);
  }
  const showZone = zone && zone !== browserZone();

  return (
    <section class="group" aria-labelledby="slots-title" data-testid="slots">
      <h2 id="slots-title">Free slots, next {SLOT_DAYS / 7} weeks</h2>
      <p class="muted small">
        In your time zone ({browserZone().replace(/_/g, " ")})
        {showZone && `; ${name} keeps these hours in ${zone.replace(/_/g, " ")}`}.
      </p>
      <FormError error={error} />
      {slots === null && (
        <p class="muted" role="status">
          Loading free slots…
        </p>
      )}
      {slots && slots.length === 0 && !error && <p class="muted">No free slots in the next {SLOT_DAYS / 7} weeks.</p>}
      {[...days].map(([k, list], i) => (
        <details key={k} class="slot-day" open={i === 0} data-testid="slot-day">
          <summary>
            {dayLabel(Number(list[0]!.startMs))} <span class="muted small">· {list.length} free</span>
          </summary>
          <ul class="slot-list">
            {list.map((s) => {
              const label = `${hourMinute(Number(s.startMs))}–${hourMinute(Number(s.endMs))}`;
              const seats = s.seats > 1 ? ` · ${s.seatsLeft} of ${s.seats} seats left` : "";
              return (
                <li key={String(s.startMs)}>
                  <button type="button" class="btn btn-small slot" data-testid="slot" onClick={() => setBooking(s)}>
                    {label}
                    <span class="slot-seats">{seats}</span>
                    <span class="visually-hidden">, book this slot</span>
                  </button>
                </li>
              );
            })}
          </ul>
        </details>
      ))}
      {booking && (
        <BookDialog
          model={model}
          mentorId={mentorId}
          name={name}
          slot={booking}
          onClose={() => setBooking(null)}
          onBooked={() => setRound((r) => r + 1)}
        />
      )}
    </section>
  );
}

function BookDialog({
  model,
  mentorId,
  name,
  slot,
  onClose,
  onBooked,
}: {
  model: Model;
  mentorId: bigint;
  name: string;
  slot: Slot;
  onClose: () => void;
  onBooked: () => void;
}) {
  const [agenda, setAgenda] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const when = `${dayLabel(Number(slot.startMs))}, ${hourMinute(Number(slot.startMs))}–${hourMinute(Number(slot.endMs))}`;
  return (
    <Dialog title={`Book ${name}'s office hours`} onClose={onClose} testId="book-dialog">
      <form
        class="form"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError("");
          try {
            const r = await model.client.call("bookSlot", { mentorId, startMs: slot.startMs, agenda: agenda.trim() });
            model.meetings.apply(r.meeting);
            model.notify(`Booked: ${when}. It is in your meetings.`);
            onBooked();
            onClose();
          } catch (err) {
            setError(errorText(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <p>{when}</p>
        <div class="field">
          <label for="book-agenda">What would you like to talk about?</label>
          <textarea id="book-agenda" rows={3} maxLength={4000} value={agenda} onInput={(e) => setAgenda(e.currentTarget.value)} />
        </div>
        <FormError error={error} />
        <SubmitOrCancel label="Book this slot" disabled={busy} onCancel={onClose} />
      </form>
    </Dialog>
  );
}

function MenteeQueue({ model, mentorId, name }: { model: Model; mentorId: bigint; name: string }) {
  const mt = model.meetings;
  const [open, setOpen] = useState<boolean | null>(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const authenticated = model.conn.state === "authenticated";

  useEffect(() => {
    if (!authenticated) return;
    model.client
      .call("getQueue", { mentorId })
      .then((r) => {
        setOpen(r.open);
        const mine = r.entries.find((e) => e.menteeId === model.me?.id);
        if (mine) mt.myQueue.set(mentorId, { state: QueueState.WAITING, place: mine.place });
        else if (mt.myQueue.get(mentorId)?.state === QueueState.WAITING) mt.myQueue.delete(mentorId);
        model.changed();
      })
      .catch((err) => {
        setOpen(false);
        if (errorCode(err) !== ErrorCode.NOT_FOUND) setError(errorText(err));
      });
  }, [authenticated, mentorId]);

  const entry = mt.myQueue.get(mentorId);
  const waiting = entry?.state === QueueState.WAITING;

  async function join() {
    setBusy(true);
    setError("");
    try {
      const r = await model.client.call("joinQueue", { mentorId });
      if (r.entry) mt.myQueue.set(mentorId, { state: QueueState.WAITING, place: r.entry.place });
      model.changed();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }
  async function leave() {
    setBusy(true);
    setError("");
    try {
      await model.client.call("leaveQueue", { mentorId });
      mt.myQueue.set(mentorId, { state: QueueState.LEFT, place: 0 });
      model.changed();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  if (open === null) return null;
  return (
    <section class="group card" aria-labelledby="mq-title" data-testid="mentee-queue">
      <h2 id="mq-title">Drop in now</h2>
      <p role="status" data-testid="queue-status">
        {waiting
          ? entry.place === 1
            ? `You are next in line. ${name} will call you here.`
            : `You are number ${entry.place} in line.`
          : entry?.state === QueueState.CALLED
            ? `${name} called you: the call rings here.`
            : entry?.state === QueueState.SKIPPED
              ? `${name} skipped you this time.`
              : open
                ? `${name}'s office hours are open now. Join the line and they call you in turn.`
                : `${name}'s office hours are not open right now.`}
      </p>
      <FormError error={error} />
      <div class="actions">
        {waiting ? (
          <button type="button" class="btn" disabled={busy} onClick={leave}>
            Leave the line
          </button>
        ) : (
          open && (
            <button type="button" class="btn btn-primary" disabled={busy} onClick={join}>
              Join the line
            </button>
          )
        )}
      </div>
    </section>
  );
}
