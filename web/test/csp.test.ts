import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { pairThroughUi, sendMessage } from "./flows.js";
import { CSP, launchBrowser, newContext, screenshot, signIn, startServer, type ServerHandle } from "./harness.js";

let browser: Browser;
let server: ServerHandle;

beforeAll(async () => {
  browser = await launchBrowser();
  server = await startServer("csp");
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe("content security policy", () => {
  it("the app runs under the server's strict CSP with no violation", async () => {
    const a = await newContext(browser);
    const b = await newContext(browser);
    const violations: string[] = [];
    for (const p of [a.page, b.page]) {
      await p.exposeFunction("__cspViolation", (v: string) => violations.push(v));
      await p.addInitScript(() =>
        document.addEventListener("securitypolicyviolation", (e) =>
          (window as unknown as { __cspViolation: (v: string) => void }).__cspViolation(
            `${e.violatedDirective} ${e.blockedURI}`,
          ),
        ),
      );
    }
    // The server itself sends the policy with the page (no test rewrites it).
    const page = await a.page.request.get(`${server.origin}/`);
    expect(page.headers()["content-security-policy"]).toBe(CSP);
    await signIn(a.page, server.origin, "mentee.chen");
    await signIn(b.page, server.origin, "mentor.raman");
    await pairThroughUi(a.page, b.page, "Dr. Priya Raman");
    await sendMessage(a.page, "Under a strict policy");
    await b.page.getByText("Under a strict policy").waitFor();
    // Dialogs, the auto-growing composer (el.style from script) and the CSV blob all work.
    await a.page.getByTestId("composer").fill("line one\nline two\nline three");
    const height = await a.page.getByTestId("composer").evaluate((el) => el.getBoundingClientRect().height);
    expect(height).toBeGreaterThan(60); // grew with its three lines
    await screenshot(a.page, "13-composer-three-lines");
    await a.page.getByRole("button", { name: "Check in" }).click();
    await a.page.keyboard.press("Escape");
    expect(violations).toEqual([]);
    expect([...a.errors, ...b.errors]).toEqual([]);

    // And the policy is really in force: an inline script is refused.
    const ran = await a.page.evaluate(() => {
      const s = document.createElement("script");
      s.textContent = "window.__inlineRan = true";
      document.head.append(s);
      return (window as unknown as { __inlineRan?: boolean }).__inlineRan ?? false;
    });
    expect(ran).toBe(false);
    await expect.poll(() => violations.length).toBe(1);
    expect(violations[0]).toMatch(/^script-src/);
    expect(CSP).toContain("script-src 'self'");
    await Promise.all([a.context.close(), b.context.close()]);
  });
});
