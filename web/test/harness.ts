// Shared by the browser tests and the benchmark: a real preceptor-server on a
// free loopback port with a temp data folder, serving web/dist, and Debian's
// Chromium driven by playwright-core.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

export const WEB_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const DIST_DIR = join(WEB_DIR, "dist");
export const OUTPUT_DIR = join(WEB_DIR, "test-output");

export const SERVER_PATH = resolve(
  WEB_DIR,
  process.env.PRECEPTOR_SERVER_PATH || "../build-test/server/preceptor-server",
);
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  // The call's tests: a fake camera and microphone, allowed without a prompt.
  "--use-fake-ui-for-media-stream",
  "--use-fake-device-for-media-stream",
];

export function password(username: string): string {
  return `demo-${username}`;
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.unref();
    s.on("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => res(port));
    });
  });
}

export interface ServerHandle {
  port: number;
  origin: string;
  dataDir: string;
  /** Starts (or starts again, on the same port and data) the server. */
  start(): Promise<void>;
  /** SIGKILL: no shutdown at all, as a crash. */
  kill(): Promise<void>;
  /** SIGTERM and wait; removes the data folder when `cleanup`. */
  stop(cleanup?: boolean): Promise<void>;
}

export interface ServerOptions {
  /**
   * More flags for preceptor-server. `--scheduler-interval-ms` and
   * `--log-level` given here replace the defaults (the scheduler is off unless
   * a test turns it on, e.g. `["--scheduler-interval-ms", "200"]` for the
   * reminders); the address, data folder and web root are the harness's own.
   */
  extraArgs?: string[];
}

function serverArgs(dataDir: string, port: number, extra: string[]): string[] {
  const fixed = ["--demo", "--data-dir", "--port", "--listen-address", "--web-root", "--fast-password-hashing"];
  const clash = extra.find((a) => fixed.includes(a));
  if (clash) throw new Error(`startServer: ${clash} is set by the harness (see ServerHandle)`);
  const given = new Set(extra.filter((a) => a.startsWith("--")));
  const tunable = [
    ["--scheduler-interval-ms", "0"],
    ["--log-level", "warn"],
  ].filter(([flag]) => !given.has(flag!));
  return [
    "--demo",
    "--data-dir",
    dataDir,
    "--port",
    String(port),
    "--listen-address",
    "127.0.0.1",
    "--web-root",
    DIST_DIR,
    "--fast-password-hashing",
    ...tunable.flat(),
    ...extra,
  ];
}

export async function startServer(name: string, opts: ServerOptions = {}): Promise<ServerHandle> {
  if (!existsSync(SERVER_PATH)) {
    throw new Error(`No preceptor-server at ${SERVER_PATH}; set PRECEPTOR_SERVER_PATH.`);
  }
  if (!existsSync(join(DIST_DIR, "index.html"))) {
    throw new Error(`No web build at ${DIST_DIR}; run \`npm run build -w web\` first.`);
  }
  mkdirSync(OUTPUT_DIR, { recursive: true });
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), "preceptor-web-test-"));
  let proc: ChildProcess | undefined;
  let runs = 0;

  async function start(): Promise<void> {
    const log = createWriteStream(join(OUTPUT_DIR, `server-${name}-${++runs}.log`));
    proc = spawn(
      SERVER_PATH,
      serverArgs(dataDir, port, opts.extraArgs ?? []),
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    proc.stdout!.pipe(log);
    proc.stderr!.pipe(log);
    const exited = new Promise<never>((_, rej) =>
      proc!.once("exit", (code, sig) => rej(new Error(`preceptor-server exited early (${code ?? sig})`))),
    );
    exited.catch(() => {});
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        const r = await Promise.race([fetch(`${origin}/healthz`), exited]);
        if (r.ok) return;
      } catch (err) {
        if (String(err).includes("exited early")) throw err;
      }
      if (Date.now() > deadline) throw new Error("preceptor-server did not answer /healthz within 20 s");
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function waitExit(p: ChildProcess): Promise<void> {
    if (p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((r) => p.once("exit", () => r()));
  }

  const handle: ServerHandle = {
    port,
    origin,
    dataDir,
    start,
    async kill() {
      const p = proc;
      if (!p) return;
      p.kill("SIGKILL");
      await waitExit(p);
      proc = undefined;
    },
    async stop(cleanup = true) {
      const p = proc;
      if (p) {
        p.kill("SIGTERM");
        const t = setTimeout(() => p.kill("SIGKILL"), 8000);
        await waitExit(p);
        clearTimeout(t);
        proc = undefined;
      }
      if (cleanup) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  await start();
  return handle;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

export interface Viewport {
  width: number;
  height: number;
}
export const DESKTOP: Viewport = { width: 1280, height: 800 };
export const PHONE: Viewport = { width: 360, height: 740 };

/**
 * The policy the server sends with every file of the app: no inline script or
 * style, nothing from elsewhere. Every test runs under it, so a violation
 * shows up as a console error; csp.test.ts checks the header itself.
 */
export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** A fresh browser profile (its own localStorage) with console errors collected. */
export async function newContext(
  browser: Browser,
  viewport: Viewport = DESKTOP,
  opts: { timezoneId?: string } = {},
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({
    viewport,
    ...(opts.timezoneId ? { timezoneId: opts.timezoneId } : {}),
    acceptDownloads: true,
    deviceScaleFactor: 1,
    ...(viewport.width < 600 ? { isMobile: true, hasTouch: true } : {}),
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(msg.text());
  });
  page.on("pageerror", (err) => errors.push(String(err)));
  return { context, page, errors };
}

export async function signIn(page: Page, origin: string, username: string): Promise<void> {
  await page.goto(`${origin}/#/signin`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password(username));
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  await page.screenshot({ path: join(OUTPUT_DIR, `${name}.png`) });
}

export function cleanupDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface ContrastFailure {
  text: string;
  ratio: number;
  needed: number;
  color: string;
  background: string;
}

/**
 * WCAG contrast of every visible text on the page against the background
 * behind it (the first opaque background up the tree; white when none).
 */
export async function contrastFailures(page: Page): Promise<ContrastFailure[]> {
  return page.evaluate(() => {
    const parse = (c: string): number[] => {
      const m = /rgba?\(([^)]+)\)/.exec(c);
      if (!m) return [0, 0, 0, 0];
      const p = m[1]!.split(/[ ,/]+/).filter(Boolean).map(Number);
      return [p[0]!, p[1]!, p[2]!, p.length > 3 ? p[3]! : 1];
    };
    const lum = ([r, g, b]: number[]) => {
      const f = (v: number) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
      };
      return 0.2126 * f(r!) + 0.7152 * f(g!) + 0.0722 * f(b!);
    };
    const blend = (fg: number[], bg: number[]) => {
      const a = fg[3]!;
      return [0, 1, 2].map((i) => fg[i]! * a + bg[i]! * (1 - a)).concat(1);
    };
    const backgroundOf = (el: Element | null): number[] => {
      const layers: number[][] = [];
      for (let e = el; e; e = e.parentElement) {
        const bg = parse(getComputedStyle(e).backgroundColor);
        if (bg[3]! > 0) layers.push(bg);
        if (bg[3] === 1) break;
      }
      let out = [255, 255, 255, 1];
      for (const l of layers.reverse()) out = blend(l, out);
      return out;
    };
    const failures: ContrastFailure[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const seen = new Set<Element>();
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || seen.has(el) || !n.textContent?.trim()) continue;
      seen.add(el);
      const style = getComputedStyle(el);
      const rect = el.getBoundingClientRect();
      if (style.visibility === "hidden" || rect.width <= 1 || rect.height <= 1) continue;
      if (el.closest("[disabled], .visually-hidden, option")) continue;
      const fg = parse(style.color);
      const bg = backgroundOf(el);
      const color = blend(fg, bg);
      const [l1, l2] = [lum(color), lum(bg)].sort((a, b) => b - a);
      const ratio = (l1! + 0.05) / (l2! + 0.05);
      const size = parseFloat(style.fontSize);
      const bold = Number(style.fontWeight) >= 700;
      const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
      if (ratio < needed) {
        failures.push({
          text: n.textContent.trim().slice(0, 40),
          ratio: Math.round(ratio * 100) / 100,
          needed,
          color: style.color,
          background: `rgb(${bg.slice(0, 3).map(Math.round).join(", ")})`,
        });
      }
    }
    return failures;
  });
}
