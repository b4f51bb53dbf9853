import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { pairThroughUi, sendMany, sendMessage } from "./flows.js";
import { PHONE, launchBrowser, newContext, screenshot, signIn, startServer, type ServerHandle } from "./harness.js";

let browser: Browser;
let server: ServerHandle;

beforeAll(async () => {
  browser = await launchBrowser();
  server = await startServer("mentorship");
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe("mentorship life", () => {
  it("decline with a referral, request the referred mentor, agree on a cadence, end: read-only", async () => {
    const a = await newContext(browser);
    const lindqvist = await newContext(browser);
    const raman = await newContext(browser);
    await signIn(a.page, server.origin, "mentee.novak");
    await signIn(lindqvist.page, server.origin, "mentor.lindqvist");
    await signIn(raman.page, server.origin, "mentor.raman");

    // Request Dr. Lindqvist for research.
    await a.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Find a mentor" }).click();
    await a.page.getByLabel("Help with").selectOption({ label: "Research" });
    const card = a.page.getByTestId("mentor-card").filter({ hasText: "Dr. Erik Lindqvist" });
    await card.getByRole("button", { name: "Request Dr. Erik Lindqvist" }).click();
    await a.page.getByLabel("A note for Dr. Erik Lindqvist").fill("I want to start a research project in surgery.");
    await a.page.getByRole("button", { name: "Send request" }).click();
    await a.page.getByTestId("outgoing-request").waitFor();

    // Dr. Lindqvist declines with a reason and refers to Dr. Raman; Escape closes the dialog first.
    const request = lindqvist.page.getByTestId("incoming-request");
    await request.waitFor();
    expect(await request.textContent()).toContain("I want to start a research project in surgery.");
    await request.getByText("Tomas Novak").waitFor();
    await screenshot(lindqvist.page, "08-mentor-requests");
    await request.getByRole("button", { name: "Decline…" }).click();
    await lindqvist.page.getByTestId("decline-dialog").waitFor();
    await lindqvist.page.keyboard.press("Escape");
    await expect.poll(() => lindqvist.page.getByTestId("decline-dialog").count()).toBe(0);
    await request.getByRole("button", { name: "Decline…" }).click();
    const dialog = lindqvist.page.getByTestId("decline-dialog");
    await dialog.getByLabel("Reason (shown to the mentee)").fill("My research slots are full this term.");
    await expect.poll(() => dialog.locator("option").count()).toBeGreaterThan(1);
    await dialog.getByLabel("Refer to a colleague (optional)").selectOption({ label: "Dr. Priya Raman — Internal medicine" });
    await dialog.getByRole("button", { name: "Decline request" }).click();
    await expect.poll(() => lindqvist.page.getByTestId("incoming-request").count()).toBe(0);

    // The mentee sees the reason and requests the referred mentor in one step.
    await a.page.getByText("My research slots are full this term.").waitFor();
    await a.page.getByRole("button", { name: "Request Dr. Priya Raman" }).click();
    const fromReferral = raman.page.getByTestId("incoming-request");
    await fromReferral.waitFor();
    expect(await fromReferral.textContent()).toContain("Research");
    await fromReferral.getByRole("button", { name: "Accept" }).click();
    await raman.page.getByTestId("conversation").waitFor();

    // Dr. Raman proposes weekly video calls; the mentee accepts.
    await raman.page.getByRole("button", { name: "Agreement" }).click();
    const ag = raman.page.getByTestId("agreement-dialog");
    await ag.getByLabel("How often").selectOption({ label: "Weekly" });
    await ag.getByLabel("Video").check();
    await ag.getByRole("button", { name: "Propose" }).click();
    await expect.poll(() => raman.page.getByTestId("agreement-dialog").count()).toBe(0);

    const row = a.page.getByTestId("conversation-row").filter({ hasText: "Dr. Priya Raman" });
    await row.click();
    await a.page.getByTestId("conversation").waitFor();
    await a.page.getByRole("button", { name: /Agreement/ }).click();
    const proposal = a.page.getByTestId("proposal");
    await expect.poll(() => proposal.textContent()).toContain("Weekly, by chat, video");
    await screenshot(a.page, "09-agreement-dialog");
    await proposal.getByRole("button", { name: "Accept this agreement" }).click();
    await expect.poll(() => a.page.locator(".conv-title").textContent()).toContain("Weekly");
    await expect.poll(() => raman.page.locator(".conv-title").textContent()).toContain("Weekly");

    await sendMessage(a.page, "Thank you, see you on Monday");
    await raman.page.getByText("Thank you, see you on Monday").waitFor();

    // The mentor ends it: the mentee's conversation turns read-only live.
    await raman.page.getByRole("button", { name: /Agreement/ }).click();
    await raman.page.getByRole("button", { name: "End this mentorship…" }).click();
    await raman.page.getByLabel(/Why\?/).fill("Moving to another hospital");
    await raman.page.getByRole("button", { name: "End mentorship" }).click();
    await a.page.getByTestId("read-only-banner").waitFor();
    expect(await a.page.getByTestId("composer").count()).toBe(0);
    expect(await a.page.content()).not.toContain("Moving to another hospital");
    await a.page.getByText("Thank you, see you on Monday").waitFor();
    await screenshot(a.page, "10-read-only");

    const phone = await newContext(browser, PHONE);
    await signIn(phone.page, server.origin, "mentee.novak");
    await phone.page.getByTestId("mentorship-list").waitFor();
    await screenshot(phone.page, "11-phone-list");
    await phone.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Find a mentor" }).click();
    await phone.page.getByTestId("mentor-card").first().waitFor();
    await screenshot(phone.page, "12-phone-directory");
    expect(await phone.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);

    await Promise.all([a.context.close(), lindqvist.context.close(), raman.context.close(), phone.context.close()]);
  });

  it("works with the keyboard alone: sign in with Enter, tab to a conversation (focus visible), open it", async () => {
    const a = await newContext(browser);
    await a.page.goto(`${server.origin}/#/signin`);
    await a.page.getByLabel("Username").focus();
    await a.page.keyboard.type("mentee.novak");
    await a.page.keyboard.press("Tab");
    await a.page.keyboard.type("demo-mentee.novak");
    await a.page.keyboard.press("Enter");
    await a.page.getByRole("button", { name: "Sign out" }).waitFor();
    await a.page.getByTestId("conversation-row").first().waitFor();
    // Tab to the first conversation and open it with Enter.
    for (let i = 0; i < 12; i++) {
      await a.page.keyboard.press("Tab");
      const testId = await a.page.evaluate(() => document.activeElement?.getAttribute("data-testid"));
      if (testId === "conversation-row") break;
    }
    expect(await a.page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("conversation-row");
    const outline = await a.page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).toBe("solid");
    await a.page.keyboard.press("Enter");
    await a.page.getByTestId("conversation").waitFor();
    await a.context.close();
  });

  it("history: older pages load as one scrolls up, each message once, the view stays put", async () => {
    const a = await newContext(browser);
    const b = await newContext(browser);
    await signIn(a.page, server.origin, "mentee.garcia");
    await signIn(b.page, server.origin, "mentor.lindqvist");
    const hash = await pairThroughUi(a.page, b.page, "Dr. Erik Lindqvist");
    const total = 110; // three pages of 50
    await sendMany(
      a.page,
      Array.from({ length: total }, (_, i) => `Numbered message ${i + 1}`),
    );
    await b.page.getByText(`Numbered message ${total}`, { exact: true }).waitFor();
    // A fresh load of the conversation shows the newest page at the bottom.
    await b.page.goto("about:blank");
    await b.page.goto(`${server.origin}/${hash}`);
    await b.page.getByText(`Numbered message ${total}`, { exact: true }).waitFor();
    const firstCount = await b.page.getByTestId("message").count();
    expect(firstCount).toBeLessThan(total);
    const messages = b.page.getByTestId("messages");
    const atBottom = await messages.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 2);
    expect(atBottom).toBe(true);

    // Scroll to the top repeatedly: older pages come in until the start.
    for (let i = 0; i < 10; i++) {
      const seqBefore = await b.page.getByTestId("message").first().getAttribute("data-seq");
      await messages.evaluate((el) => (el.scrollTop = 0));
      await expect
        .poll(async () =>
          (await b.page.getByText("The beginning of your conversation.").count()) > 0 ||
          (await b.page.getByTestId("message").first().getAttribute("data-seq")) !== seqBefore,
        )
        .toBe(true);
      if ((await b.page.getByText("The beginning of your conversation.").count()) > 0) break;
      // The message that was at the top is still on screen: the view did not jump to the oldest.
      const kept = b.page.locator(`[data-seq="${seqBefore}"]`);
      const box = await kept.boundingBox();
      const frame = await messages.boundingBox();
      expect(box && frame && box.y >= frame.y - 5 && box.y < frame.y + frame.height).toBe(true);
    }
    await b.page.getByText("The beginning of your conversation.").waitFor();
    expect(await b.page.getByTestId("message").count()).toBe(total);
    const seqs = await b.page.getByTestId("message").evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-seq"))));
    expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    await Promise.all([a.context.close(), b.context.close()]);
  });
});
