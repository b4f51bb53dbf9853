// Assignments end to end, two people on a real server: the mentor hands off a
// CV revision, the mentee uploads PDFs over the HTTP protocol (one piece of
// the upload dropped and resumed from the server's offset) and submits, the
// mentor reviews live, comments are anchored, replied to and resolved, the
// second version is approved and in the mentee's portfolio; a ".pdf" that is not a PDF is refused with the
// server's sentence; the director sees counts, never the title. (The nudges'
// banners are in goals.test.ts, whose server runs the scheduler.)
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Locator, Page } from "playwright-core";
import type { PreceptorClient } from "@preceptor/client";
import { clearOfClockChanges, closedOrFailed, localInputValue, shownOrFailed } from "./flows.js";
import { DESKTOP, PHONE, contrastFailures, launchBrowser, newContext, screenshot, signIn, startServer, type ServerHandle } from "./harness.js";
import { pairUp, sdkClient } from "./sdk.js";
import { openConversationWith, pageToken, pdfBytes, pngBytes, realErrors, uploadAnswer } from "./work.js";

let browser: Browser;
let server: ServerHandle;
const clients: PreceptorClient[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
  server = await startServer("assignments");
});
afterAll(async () => {
  for (const c of clients) c.stop();
  await browser?.close();
  await server?.stop();
});

async function sdk(username: string): Promise<PreceptorClient> {
  const c = await sdkClient(server.origin, username);
  clients.push(c);
  return c;
}

const DAY = 86_400_000;
const MiB = 1024 * 1024;
const TITLE = "Revise your CV for the residency application";

const stateOf = (page: Page) => page.getByTestId("assignment").getByTestId("assignment-state").textContent();

/** Picks a file in the submit panel, writes the note and submits; waits until the panel's form is done. */
async function submitFile(page: Page, name: string, bytes: Buffer, note: string): Promise<void> {
  const panel = page.getByTestId("submit-panel");
  await panel.getByLabel(/^Document/).setInputFiles({ name, mimeType: "application/pdf", buffer: bytes });
  await panel.getByLabel(/^Note for/).fill(note);
  await panel.getByRole("button", { name: "Upload and submit" }).click();
}

function version(page: Page, n: number): Locator {
  return page.getByTestId("version").and(page.locator(`[data-version="${n}"]`));
}

describe("assignments", () => {
  it("the whole hand-off: assign, a refused file, upload (resumed after a drop) and submit, review live with an anchored comment, reply, resolve, version 2, approve, download", async () => {
    const mentorshipId = await pairUp(await sdk("mentee.chen"), await sdk("mentor.raman"), "mentor.raman");
    const mentee = await newContext(browser, undefined, { timezoneId: "America/Chicago" });
    const mentor = await newContext(browser, undefined, { timezoneId: "Europe/Stockholm" });
    await Promise.all([signIn(mentee.page, server.origin, "mentee.chen"), signIn(mentor.page, server.origin, "mentor.raman")]);
    await Promise.all([openConversationWith(mentee.page, "Dr. Priya Raman"), openConversationWith(mentor.page, "Wei Chen")]);

    // The mentor goes from the conversation's header to the pair's assignments and hands one off.
    await mentor.page.getByTestId("conversation").getByRole("link", { name: "Assignments" }).click();
    await mentor.page.getByRole("heading", { name: "Assignments with Wei Chen" }).waitFor();
    await mentor.page.getByRole("button", { name: "Hand off an assignment" }).click();
    const dialog = mentor.page.getByTestId("create-assignment-dialog");
    await dialog.getByLabel("Title").fill(TITLE);
    await dialog.getByLabel("Kind").selectOption({ label: "CV" });
    await dialog.getByLabel("Instructions").fill("Put your research first and cut the CV to two pages.");
    const due = clearOfClockChanges(Date.now() + 5 * DAY);
    await dialog.getByLabel(/^Due/).fill(await localInputValue(mentor.page, due));
    await dialog.getByRole("button", { name: "Create assignment" }).click();
    await closedOrFailed(dialog);
    const card = mentor.page.getByTestId("assignment-card").filter({ hasText: TITLE });
    await card.waitFor();
    expect(await card.getByTestId("assignment-state").textContent()).toBe("Assigned");
    expect(new Date((await card.getByTestId("due-time").getAttribute("datetime"))!).getTime()).toBe(due);

    // The mentee's open conversation shows it live, as a row that links to it.
    const row = mentee.page.getByTestId("work-row").filter({ hasText: TITLE });
    await row.waitFor();
    expect(await row.getByTestId("work-row-text").textContent()).toBe(
      `Assignment “${TITLE}” handed off by Dr. Priya Raman to you`,
    );
    await row.getByRole("link", { name: "Open assignment" }).click();
    await mentee.page.getByRole("heading", { name: TITLE }).waitFor();
    expect(await stateOf(mentee.page)).toBe("Assigned");
    expect(await mentee.page.getByTestId("instructions").textContent()).toBe("Put your research first and cut the CV to two pages.");
    // The due time in the mentee's own zone (America/Chicago), the mentor's zone alongside.
    const dueText = await mentee.page.getByTestId("assignment").getByTestId("due-time").textContent();
    expect(dueText).toBe(
      await mentee.page.evaluate(
        (ms) =>
          new Intl.DateTimeFormat(undefined, { weekday: "short", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }).format(ms),
        due,
      ),
    );
    await mentee.page.getByRole("button", { name: "Acknowledge" }).click();
    await expect.poll(() => stateOf(mentee.page)).toBe("Acknowledged");

    // The mentor opens the assignment and stays there.
    await card.getByRole("link", { name: TITLE }).click();
    await mentor.page.getByRole("heading", { name: TITLE }).waitFor();
    await expect.poll(() => stateOf(mentor.page)).toBe("Acknowledged");

    // A file named .pdf that is something else: refused, in the server's own words.
    const fake = pngBytes();
    const said = await uploadAnswer(server.origin, await pageToken(mentee.page), mentorshipId, "cv.pdf", fake);
    expect(said.status).toBe(415);
    expect(said.message.length).toBeGreaterThan(0);
    await submitFile(mentee.page, "cv.pdf", fake, "Not really a PDF");
    const uploadError = mentee.page.getByTestId("upload-error");
    await uploadError.waitFor();
    expect(await uploadError.textContent()).toContain(said.message);
    expect(await uploadError.textContent()).toMatch(/^This file is not one the server accepts/);
    expect(await stateOf(mentee.page)).toBe("Acknowledged");
    expect(await mentee.page.getByTestId("version").count()).toBe(0);

    // Version 1: 9 MiB (three pieces); the second piece's connection drops once, and the upload
    // resumes from the offset the server reports. Progress is recorded as the bar moves.
    let dropped = 0;
    await mentee.page.route("**/v1/uploads/*", async (route) => {
      const req = route.request();
      if (req.method() === "PATCH" && req.headers()["upload-offset"] === String(4 * MiB) && dropped === 0) {
        dropped++;
        await route.abort("connectionreset");
        return;
      }
      await route.continue();
    });
    await mentee.page.evaluate(() => {
      const seen: number[] = [];
      (window as unknown as { __progress: number[] }).__progress = seen;
      new MutationObserver(() => {
        const bar = document.querySelector<HTMLProgressElement>('[data-testid="upload-progress"] progress');
        if (bar && seen[seen.length - 1] !== bar.value) seen.push(bar.value);
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ["value"] });
    });
    const v1 = pdfBytes("version 1", 9 * MiB);
    await submitFile(mentee.page, "cv-v1.pdf", v1, "First draft: research moved up.");
    await shownOrFailed(version(mentee.page, 1), mentee.page.getByTestId("submit-panel"), 30_000);
    expect(dropped).toBe(1);
    const progress = await mentee.page.evaluate(() => (window as unknown as { __progress: number[] }).__progress);
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress); // only grows
    expect(progress[progress.length - 1]).toBe(v1.length);
    await mentee.page.unroute("**/v1/uploads/*");
    expect(await stateOf(mentee.page)).toBe("Submitted");

    // The mentor sees it live, reviews: changes requested, a comment on page 1 with a quote.
    const v1ForMentor = version(mentor.page, 1);
    await v1ForMentor.waitFor();
    await expect.poll(() => stateOf(mentor.page)).toBe("Submitted");
    expect(await v1ForMentor.getByTestId("version-note").textContent()).toBe("First draft: research moved up.");
    expect(await v1ForMentor.getByTestId("download").textContent()).toBe("Download cv-v1.pdf");
    const form = mentor.page.getByTestId("review-form");
    await form.getByLabel("Request changes").check();
    await form.getByLabel("Summary").fill("Good start; two things to fix.");
    await form.getByRole("button", { name: "Add a comment" }).click();
    const comment = form.getByTestId("comment-draft").first();
    await comment.getByLabel("Page").fill("1");
    await comment.getByLabel("Quoted passage").fill("Research experience");
    await comment.getByLabel("Comment").fill("Lead with the cardiology project and its abstract.");
    await form.getByRole("button", { name: "Post review" }).click();
    await shownOrFailed(mentor.page.getByTestId("review"), form);
    await expect.poll(() => stateOf(mentor.page)).toBe("Changes requested");

    // The mentee sees the review live, replies to the comment and resolves it.
    const review = mentee.page.getByTestId("review").first();
    await review.waitFor();
    await expect.poll(() => stateOf(mentee.page)).toBe("Changes requested");
    expect(await review.getByTestId("review-verdict").textContent()).toBe("Changes requested");
    expect(await review.getByTestId("review-summary").textContent()).toBe("Good start; two things to fix.");
    const c1 = review.getByTestId("review-comment").first();
    expect(await c1.getByTestId("comment-anchor").textContent()).toBe("Version 1 · page 1 · “Research experience”");
    expect(await c1.getByTestId("comment-text").textContent()).toBe("Lead with the cardiology project and its abstract.");
    await c1.getByRole("button", { name: /^Reply/ }).click();
    await c1.getByLabel("Your reply").fill("Moved it to the top, with the abstract under it.");
    await c1.getByRole("button", { name: "Send reply" }).click();
    await shownOrFailed(c1.getByTestId("comment-reply"), c1);
    await c1.getByRole("button", { name: "Mark resolved" }).click();
    await expect.poll(() => c1.getByTestId("comment-status").textContent()).toBe("Resolved by you");
    // Live on the mentor's side too; only the author may resolve.
    const c1ForMentor = mentor.page.getByTestId("review-comment").first();
    await expect.poll(() => c1ForMentor.getByTestId("comment-status").textContent()).toBe("Resolved by Wei Chen");
    expect(await c1ForMentor.getByTestId("reply-text").textContent()).toBe("Moved it to the top, with the abstract under it.");
    expect(await c1ForMentor.getByRole("button", { name: /Mark (un)?resolved/ }).count()).toBe(0);

    // Version 2, then the mentor approves it.
    const v2 = pdfBytes("version 2");
    expect(v2.length).toBeLessThan(1000);
    await submitFile(mentee.page, "cv-v2.pdf", v2, "Two pages now.");
    await shownOrFailed(version(mentee.page, 2), mentee.page.getByTestId("submit-panel"));
    await expect.poll(() => stateOf(mentee.page)).toBe("Resubmitted");
    await version(mentor.page, 2).waitFor();
    await expect.poll(() => stateOf(mentor.page)).toBe("Resubmitted");
    await form.getByLabel("Approve").check();
    await form.getByLabel("Summary").fill("Ready to send.");
    await form.getByRole("button", { name: "Post review" }).click();
    await expect.poll(() => stateOf(mentor.page)).toBe("Approved");
    await expect.poll(() => stateOf(mentee.page)).toBe("Approved");
    expect(await mentee.page.getByTestId("next-step").textContent()).toBe("Approved (version 2).");
    expect(await mentee.page.getByTestId("submit-panel").count()).toBe(0);
    await screenshot(mentee.page, "30-assignment-approved");
    expect(await contrastFailures(mentee.page)).toEqual([]);
    await mentee.page.setViewportSize(PHONE);
    expect(await mentee.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await mentee.page.setViewportSize(DESKTOP);

    // The mentor downloads version 2: the same bytes, under its name.
    const [download] = await Promise.all([
      mentor.page.waitForEvent("download"),
      version(mentor.page, 2).getByTestId("download").click(),
    ]);
    expect(download.suggestedFilename()).toBe("cv-v2.pdf");
    expect(readFileSync((await download.path())!).equals(v2)).toBe(true);

    // The mentee's portfolio: one .zip with the approved version as uploaded, and its index.
    await mentee.page.getByRole("link", { name: "← Assignments with Dr. Priya Raman" }).click();
    await mentee.page.getByRole("heading", { name: "Assignments with Dr. Priya Raman" }).waitFor();
    const [zip] = await Promise.all([
      mentee.page.waitForEvent("download"),
      mentee.page.getByRole("button", { name: "Portfolio (.zip)" }).click(),
    ]);
    expect(zip.suggestedFilename()).toMatch(/^portfolio-\d+-Wei-Chen\.zip$/);
    const zipBytes = readFileSync((await zip.path())!);
    expect(zipBytes.subarray(0, 4).toString("latin1")).toBe("PK\x03\x04");
    expect(zipBytes.includes("index.md")).toBe(true);
    expect(zipBytes.includes(v2)).toBe(true);

    // The conversation's row says where it ended.
    await openConversationWith(mentee.page, "Dr. Priya Raman");
    const done = mentee.page.getByTestId("work-row").filter({ hasText: TITLE });
    await expect.poll(() => done.getByTestId("work-row-state").textContent()).toBe("Approved");
    expect(await done.getByTestId("work-row-text").textContent()).toBe(`“${TITLE}” approved by Dr. Priya Raman (version 2)`);

    expect([...realErrors(mentee.errors), ...realErrors(mentor.errors)]).toEqual([]);
    await Promise.all([mentee.context.close(), mentor.context.close()]);

    // The program director: counts only, never the title.
    const d = await newContext(browser);
    await signIn(d.page, server.origin, "director.okafor");
    const table = d.page.getByTestId("engagement-table");
    await table.waitFor();
    const head = (await table.locator("thead th").allTextContents()).map((h) => h.trim());
    const counts = async (mentee: string) => {
      const row = table.locator("tbody tr").filter({ hasText: mentee });
      await expect.poll(() => row.count()).toBe(1);
      const cells = await row.locator("td").allTextContents();
      return ["Assignments open", "Overdue", "Approved"].map((name) => cells[head.indexOf(name)]);
    };
    expect(await counts("Wei Chen")).toEqual(["0", "0", "1"]);
    expect(await d.page.content()).not.toContain("Revise your CV");
    expect(d.errors).toEqual([]);
    await d.context.close();
  });
});
