import { type MeetingPreferences } from "@preceptor/client";
import { useEffect, useState } from "preact/hooks";
import { FormError } from "../components/Dialog.js";
import { useModel } from "../hooks.js";
import { browserZone, durationLabel, hmToMinutes, minutesToHm } from "../labels.js";
import { errorText, type Model } from "../model.js";

/** The reminder times offered (minutes before a meeting); the server takes up to 4, each 1-10080. */
const REMINDER_CHOICES = [10080, 1440, 120, 60, 30, 15, 5];
const MAX_REMINDERS = 4;
const MAX_REMINDER_MINUTES = 10080;

export function SettingsScreen({ model }: { model: Model }) {
  useModel(model);
  return (
    <section class="settings" aria-labelledby="settings-title">
      <h1 id="settings-title">Settings</h1>
      <PreferencesForm model={model} />
      <CalendarFeed model={model} />
    </section>
  );
}

function reminderLabel(min: number): string {
  if (min === 10080) return "1 week before";
  if (min === 1440) return "1 day before";
  if (min > 1440 && min % 1440 === 0) return `${min / 1440} days before`;
  return `${durationLabel(min)} before`;
}

function PreferencesForm({ model }: { model: Model }) {
  const [prefs, setPrefs] = useState<MeetingPreferences | undefined>(model.meetings.preferences);
  const [reminders, setReminders] = useState<number[]>([1440, 15]);
  const [none, setNone] = useState(false);
  const [quiet, setQuiet] = useState(false);
  const [quietFrom, setQuietFrom] = useState("22:00");
  const [quietTo, setQuietTo] = useState("07:00");
  const [other, setOther] = useState("");
  const [error, setError] = useState("");
  const [saved, setSaved] = useState("");
  const [busy, setBusy] = useState(false);
  const authenticated = model.conn.state === "authenticated";

  function show(p: MeetingPreferences | undefined) {
    setPrefs(p);
    const list = p?.reminderMinutes ?? [];
    setNone(!!p?.noReminders);
    setReminders(p && (list.length > 0 || p.noReminders) ? [...list] : [1440, 15]);
    const w = p?.quietHours?.window;
    const on = !!w && w.startMinute !== w.endMinute;
    setQuiet(on);
    if (on) {
      setQuietFrom(minutesToHm(w!.startMinute));
      setQuietTo(minutesToHm(w!.endMinute % 1440));
    }
  }

  useEffect(() => {
    if (!authenticated) return;
    model.client
      .call("getMeetingPreferences", {})
      .then((r) => show(r.preferences))
      .catch((err) => setError(errorText(err)));
  }, [authenticated]);

  async function save(e: SubmitEvent) {
    e.preventDefault();
    if (!none && reminders.length > MAX_REMINDERS) return setError(`Choose at most ${MAX_REMINDERS} reminder times.`);
    const from = hmToMinutes(quietFrom);
    const to = hmToMinutes(quietTo);
    if (quiet && (!Number.isFinite(from) || !Number.isFinite(to) || from === to)) {
      return setError("Quiet hours need a start and an end that differ.");
    }
    setBusy(true);
    setError("");
    setSaved("");
    try {
      const r = await model.client.call("setMeetingPreferences", {
        preferences: {
          reminderMinutes: none ? [] : [...reminders].sort((a, b) => b - a),
          noReminders: none || reminders.length === 0,
          quietHours: quiet
            ? { window: { startMinute: from, endMinute: to }, timeZone: browserZone() }
            : { window: { startMinute: 0, endMinute: 0 }, timeZone: browserZone() },
        },
      });
      show(r.preferences);
      model.meetings.preferences = r.preferences;
      setSaved("Reminder settings saved.");
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  const toggle = (min: number, on: boolean) => {
    setSaved("");
    setReminders((r) => (on ? [...r.filter((x) => x !== min), min] : r.filter((x) => x !== min)));
  };

  // The usual times, and any other one chosen here or elsewhere (the CLI), largest first.
  const choices = [...new Set([...REMINDER_CHOICES, ...reminders])].sort((a, b) => b - a);

  function addOther() {
    const min = Number(other.trim());
    if (!/^\d+$/.test(other.trim()) || min < 1 || min > MAX_REMINDER_MINUTES) {
      return setError(`A reminder time is a whole number of minutes from 1 to ${MAX_REMINDER_MINUTES} (a week).`);
    }
    setError("");
    toggle(min, true);
    setOther("");
  }

  return (
    <form class="form group card" onSubmit={save} aria-labelledby="reminders-title" data-testid="preferences">
      <h2 id="reminders-title">Meeting reminders</h2>
      {prefs === undefined && !error && (
        <p class="muted small" role="status">
          Loading your settings…
        </p>
      )}
      <fieldset class="choices" disabled={none}>
        <legend>Remind me (up to {MAX_REMINDERS})</legend>
        {choices.map((min) => (
          <label key={min} class="choice">
            <input type="checkbox" checked={reminders.includes(min)} onChange={(e) => toggle(min, e.currentTarget.checked)} />
            {reminderLabel(min)}
          </label>
        ))}
        <div class="field field-inline other-reminder">
          <label for="reminder-other">Another time (minutes before)</label>
          <input
            id="reminder-other"
            type="number"
            inputMode="numeric"
            min={1}
            max={MAX_REMINDER_MINUTES}
            step={1}
            value={other}
            onInput={(e) => setOther(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter") {
                e.preventDefault();
                addOther();
              }
            }}
          />
          <button type="button" class="btn btn-small" onClick={addOther}>
            Add<span class="visually-hidden"> this reminder time</span>
          </button>
        </div>
      </fieldset>
      <label class="choice">
        <input type="checkbox" checked={none} onChange={(e) => (setNone(e.currentTarget.checked), setSaved(""))} />
        No reminders at all
      </label>
      <h3>Quiet hours</h3>
      <p class="muted small">
        Reminders that fall inside wait until they end (unless the meeting itself starts inside them). Messages still
        arrive. Times in your time zone ({browserZone().replace(/_/g, " ")}).
      </p>
      <label class="choice">
        <input type="checkbox" checked={quiet} onChange={(e) => (setQuiet(e.currentTarget.checked), setSaved(""))} />
        Keep quiet hours
      </label>
      {quiet && (
        <div class="oh-window">
          <label>
            From
            <input type="time" required value={quietFrom} onInput={(e) => setQuietFrom(e.currentTarget.value)} />
          </label>
          <label>
            to
            <input type="time" required value={quietTo} onInput={(e) => setQuietTo(e.currentTarget.value)} />
          </label>
        </div>
      )}
      <FormError error={error} />
      <p class="small" role="status" data-testid="preferences-saved">
        {saved}
      </p>
      <div class="actions">
        <button type="submit" class="btn btn-primary" disabled={busy}>
          Save reminder settings
        </button>
      </div>
    </form>
  );
}

function CalendarFeed({ model }: { model: Model }) {
  const [url, setUrl] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [copied, setCopied] = useState("");

  async function rotate() {
    setBusy(true);
    setError("");
    setCopied("");
    try {
      const r = await model.client.call("rotateCalendarFeed", {});
      setUrl(location.origin + r.path);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  async function copy() {
    try {
      await navigator.clipboard.writeText(url);
      setCopied("Copied.");
    } catch {
      setCopied("Could not copy: select the address and copy it yourself.");
    }
  }

  return (
    <section class="group card" aria-labelledby="feed-title" data-testid="calendar-feed">
      <h2 id="feed-title">Calendar feed</h2>
      <p>
        Subscribe to your meetings from Google Calendar, Outlook or Apple Calendar with a private address. Anyone who has
        the address sees your meeting times, so keep it to yourself.
      </p>
      <p class="banner banner-wait feed-warning">
        Making a new address replaces the old one: calendars subscribed to the old address stop updating.
      </p>
      {url && (
        <div class="field">
          <label for="feed-url">Your calendar address</label>
          <input id="feed-url" readOnly value={url} onFocus={(e) => e.currentTarget.select()} data-testid="feed-url" />
          <div class="actions">
            <button type="button" class="btn btn-small" onClick={copy}>
              Copy address
            </button>
          </div>
          <p class="small" role="status">
            {copied}
          </p>
        </div>
      )}
      <FormError error={error} />
      <div class="actions">
        <button type="button" class="btn" disabled={busy} onClick={rotate}>
          {url ? "Make another new address" : "Make a new calendar address"}
        </button>
      </div>
    </section>
  );
}
