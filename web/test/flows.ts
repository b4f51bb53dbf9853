// Steps several tests share, done through the UI as a person would.
import assert from "node:assert/strict";
import type { Locator, Page } from "playwright-core";

/** The mentee requests the mentor from the directory; the mentor accepts. Returns the conversation's hash URL. */
export async function pairThroughUi(
  mentee: Page,
  mentor: Page,
  mentorName: string,
  opts: { purpose?: string; note?: string; onDirectory?: () => Promise<void> } = {},
): Promise<string> {
  await mentee.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Find a mentor" }).click();
  const card = mentee.getByTestId("mentor-card").filter({ hasText: mentorName });
  await card.waitFor();
  if (opts.onDirectory) await opts.onDirectory();
  await card.getByRole("button", { name: `Request ${mentorName}` }).click();
  const dialog = mentee.getByTestId("request-dialog");
  await dialog.waitFor();
  if (opts.purpose) await dialog.getByLabel("What would you like help with?").selectOption({ label: opts.purpose });
  await dialog.getByLabel(`A note for ${mentorName}`).fill(opts.note ?? "I would like help preparing for ward rounds.");
  await dialog.getByRole("button", { name: "Send request" }).click();
  await mentee.getByTestId("outgoing-request").filter({ hasText: mentorName }).waitFor();

  // The mentor sees the request live (no reload) and accepts it.
  const request = mentor.getByTestId("incoming-request").first();
  await request.waitFor();
  await request.getByRole("button", { name: "Accept" }).click();
  await mentor.getByTestId("conversation").waitFor();
  const url = new URL(mentor.url());
  assert.match(url.hash, /^#\/c\/\d+$/);

  // The mentee's list shows the new conversation live.
  const row = mentee.getByTestId("conversation-row").filter({ hasText: mentorName });
  await row.waitFor();
  await row.click();
  await mentee.getByTestId("conversation").waitFor();
  assert.equal(new URL(mentee.url()).hash, url.hash);
  return url.hash;
}

export async function sendMessage(page: Page, text: string): Promise<void> {
  const box = page.getByTestId("composer");
  await box.fill(text);
  await box.press("Enter");
}

/** How many stored messages on the page have exactly this text. */
export async function countMessages(page: Page, text: string): Promise<number> {
  return page.getByTestId("message-body").filter({ hasText: new RegExp(`^${escapeRegExp(text)}$`) }).count();
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Sends many messages from inside the page, as typing + Enter would, spaced
 * so one connection stays under the server's 50 requests a second.
 */
export async function sendMany(page: Page, texts: string[], spacingMs = 25): Promise<void> {
  await page.evaluate(
    async ({ texts, spacingMs }) => {
      const box = document.querySelector<HTMLTextAreaElement>('[data-testid="composer"]')!;
      const set = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, "value")!.set!;
      for (const t of texts) {
        set.call(box, t);
        box.dispatchEvent(new Event("input", { bubbles: true }));
        await new Promise((r) => setTimeout(r, 0));
        box.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true, cancelable: true }));
        await new Promise((r) => setTimeout(r, spacingMs));
      }
    },
    { texts, spacingMs },
  );
}

/**
 * The first whole hour from `ms` on that is more than two hours from any
 * clock change in the zones the tests' pages use (and the runner's own).
 * In the hour a clock goes back a local time names two instants, and a
 * `datetime-local` field picks the first: a time typed there must not be
 * one of those, or the test would fail on one night a year.
 */
export function clearOfClockChanges(ms: number): number {
  const HOUR = 3_600_000;
  const zones = ["Europe/Stockholm", "America/Chicago", Intl.DateTimeFormat().resolvedOptions().timeZone];
  const offset = (zone: string, t: number) =>
    new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "longOffset" })
      .formatToParts(new Date(t))
      .find((part) => part.type === "timeZoneName")?.value;
  const near = (t: number) => zones.some((zone) => offset(zone, t - 2 * HOUR) !== offset(zone, t + 2 * HOUR));
  let t = Math.ceil(ms / HOUR) * HOUR;
  while (near(t)) t += HOUR;
  return t;
}

/** A `datetime-local` value for `ms`, in the page's (browser's) time zone. */
export async function localInputValue(page: Page, ms: number): Promise<string> {
  return page.evaluate((ms) => {
    const d = new Date(ms);
    const p = (n: number) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
  }, ms);
}

/**
 * From an open conversation: "Propose meeting", the time, the agenda and
 * optionally a place; waits for the dialog to close.
 */
export async function proposeMeeting(
  page: Page,
  opts: { startMs: number; agenda: string; durationLabel?: string; place?: string },
): Promise<void> {
  await page.getByRole("button", { name: "Propose meeting" }).click();
  const dialog = page.getByTestId("propose-dialog");
  await dialog.waitFor();
  await dialog.getByLabel(/^Date and time/).fill(await localInputValue(page, opts.startMs));
  if (opts.durationLabel) await dialog.getByLabel("Duration").selectOption({ label: opts.durationLabel });
  if (opts.place) {
    await dialog.getByLabel("A place").check();
    await dialog.getByLabel("Room or place").fill(opts.place);
  }
  await dialog.getByLabel("Agenda").fill(opts.agenda);
  await dialog.getByRole("button", { name: "Propose meeting" }).click();
  await closedOrFailed(dialog);
}

/**
 * Waits for a submitted dialog (or form) to close; throws with the error line
 * it shows instead (what the server said), so a refusal fails at once.
 */
export async function closedOrFailed(dialog: Locator, timeoutMs = 10_000): Promise<void> {
  const err = dialog.locator(".form-error");
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await dialog.count()) === 0) return;
    if ((await err.count()) > 0) throw new Error(`The form says: ${await err.first().textContent()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`The dialog did not close within ${timeoutMs} ms`);
}

/** Waits for `ok` to show; throws with the error line of `scope` if one shows first. */
export async function shownOrFailed(ok: Locator, scope: Locator, timeoutMs = 10_000): Promise<void> {
  const err = scope.locator(".form-error");
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await ok.count()) > 0 && (await ok.first().isVisible())) return;
    if ((await err.count()) > 0) throw new Error(`The page says: ${await err.first().textContent()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Not shown within ${timeoutMs} ms`);
}

export async function openNav(page: Page, name: string): Promise<void> {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name }).click();
}

/**
 * The mentor's editor: whatever was there (the demo's hours) removed, then
 * every day open all day in the zone the hours already had (the editor keeps
 * it: Stockholm for Lindqvist, Chicago for Raman), 30-minute slots, no
 * notice, `seats` seats, open to the whole program, one date away (two weeks
 * ahead in the browser's zone); saved. The server counts the days as one
 * opening across midnight, so the drop-in line holds at any hour.
 */
export async function openAllDay(page: Page, seats: number): Promise<void> {
  await openNav(page, "Office hours");
  const editor = page.getByTestId("office-hours-editor");
  await editor.waitFor();
  for (let n = await editor.getByRole("button", { name: /^Remove/ }).count(); n > 0; n--) {
    await editor.getByRole("button", { name: /^Remove/ }).first().click();
  }
  await editor.getByRole("button", { name: "Add hours on Monday" }).click();
  await editor.getByLabel("Monday hours 1 from").fill("00:00");
  await editor.getByLabel("Monday hours 1 to").fill("00:00"); // midnight: the end of the day
  await editor.getByRole("button", { name: "Copy Monday's hours to every day" }).click();
  assert.equal(await editor.getByLabel("Sunday hours 1 from").inputValue(), "00:00");
  await editor.getByLabel("Mentees can book my office hours").check();
  await editor.getByLabel("Slot length (minutes)").fill("30");
  await editor.getByLabel("Break between slots (minutes)").fill("0");
  await editor.getByLabel("Minimum notice (hours)").fill("0");
  await editor.getByLabel("Bookable up to (days ahead)").fill("28");
  await editor.getByLabel("Seats per slot (1: one-to-one)").fill(String(seats));
  await editor.getByLabel("Every mentee of the program").check();
  await editor.getByLabel("Call in Preceptor").check();
  // Away on a day two weeks ahead.
  await editor.getByRole("button", { name: "Add a date" }).click();
  const away = await page.evaluate(() => {
    const d = new Date(Date.now() + 14 * 86_400_000);
    const p = (n: number) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
  });
  await editor.getByTestId("oh-override").getByLabel("Date").fill(away);
  await editor.getByRole("button", { name: "Save office hours" }).click();
  await shownOrFailed(editor.getByText("Office hours saved."), editor);
}
