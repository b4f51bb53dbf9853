import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { ENGAGEMENT_CSV_HEADER } from "../src/screens/engagement-csv.js";
import { pairThroughUi, sendMessage } from "./flows.js";
import { PHONE, contrastFailures, launchBrowser, newContext, screenshot, signIn, startServer, type ServerHandle } from "./harness.js";

let browser: Browser;
let server: ServerHandle;

beforeAll(async () => {
  browser = await launchBrowser();
  server = await startServer("director");
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe("program director", () => {
  it("sees the engagement table (metadata only) and downloads it as CSV", async () => {
    const a = await newContext(browser);
    const b = await newContext(browser);
    await signIn(a.page, server.origin, "mentee.chen");
    await signIn(b.page, server.origin, "mentor.lindqvist");
    await pairThroughUi(a.page, b.page, "Dr. Erik Lindqvist");
    await sendMessage(a.page, "Confidential: struggling with the night float");
    await b.page.getByText("Confidential: struggling").waitFor();
    await sendMessage(b.page, "Let's talk tomorrow");
    await a.page.getByText("Let's talk tomorrow").waitFor();

    const d = await newContext(browser);
    await signIn(d.page, server.origin, "director.okafor");
    const table = d.page.getByTestId("engagement-table");
    await table.waitFor();
    const row = table.locator("tbody tr").filter({ hasText: "Wei Chen" });
    await expect.poll(() => row.count()).toBe(1);
    const cells = await row.locator("td").allTextContents();
    expect(cells[0]).toBe("Dr. Erik Lindqvist");
    expect(cells[1]).toBe("Wei Chen");
    expect(cells[3]).toBe("Active");
    expect(cells[6]).toBe("2");
    expect(cells[7]).toBe("0");
    expect(await d.page.content()).not.toContain("night float");
    await screenshot(d.page, "07-director-engagement");
    const phone = await newContext(browser, PHONE);
    await signIn(phone.page, server.origin, "director.okafor");
    await phone.page.getByTestId("engagement-table").waitFor();
    await screenshot(phone.page, "07b-phone-engagement");
    expect(await phone.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await phone.context.close();
    expect(await contrastFailures(d.page)).toEqual([]);
    expect(d.errors).toEqual([]);

    const [download] = await Promise.all([
      d.page.waitForEvent("download"),
      d.page.getByRole("button", { name: "Download CSV" }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^preceptor-engagement-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = readFileSync((await download.path())!, "utf8");
    const lines = csv.split("\r\n");
    expect(lines[0]).toBe(ENGAGEMENT_CSV_HEADER.join(","));
    expect(lines[0]).toBe(
      "mentorship_id,mentor,mentee,purpose,state,started_at,last_contact_at,message_count,checkin_count,checkin_overdue,checkin_due_since," +
        "meetings_held,meetings_upcoming,meeting_no_shows," +
        "assignments_open,assignments_overdue,assignments_approved,goals_open,goals_done,last_reassessment_at",
    );
    // The demo's own pair (Dr. Raman and Lucia Garcia) has a row too; this test's pair is the one with Wei Chen.
    expect(lines.filter((l) => l.includes(",Wei Chen,"))).toHaveLength(1);
    expect(lines.find((l) => l.includes(",Wei Chen,"))).toMatch(/^\d+,Dr\. Erik Lindqvist,Wei Chen,Clinical skills,Active,\d{4}-.+Z,\d{4}-.+Z,2,0,no,,0,0,0,0,0,0,0,0,$/);
    expect(csv).not.toContain("night float");

    await Promise.all([a.context.close(), b.context.close(), d.context.close()]);
  });
});
