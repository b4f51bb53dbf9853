// A real preceptor-server child process for the tests: --demo, a temporary data
// folder, a free port (the server picks it with --port 0 and prints it), and
// restarts on the same folder and port.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export function serverBinary(): string {
  const path = resolve(pkgDir, process.env.PRECEPTOR_SERVER_PATH ?? "../../build-test/server/preceptor-server");
  if (!existsSync(path)) {
    throw new Error(
      `No preceptor-server at ${path}. Build it (cmake --preset test) or point PRECEPTOR_SERVER_PATH at one.`,
    );
  }
  return path;
}

export class TestServer {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  output = "";
  port = 0;

  private constructor(readonly dataDir: string, private readonly ownsDir: boolean) {}

  /** Starts a server on a fresh (or the given) data folder and a free port. */
  static async start(options: { dataDir?: string } = {}): Promise<TestServer> {
    const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "preceptor-ts-"));
    const server = new TestServer(dataDir, options.dataDir === undefined);
    await server.launch(0);
    return server;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/v1/ws`;
  }

  /** Starts the process again on the same data folder and port. */
  async restart(): Promise<void> {
    if (this.child) throw new Error("The server is still running.");
    // The port was just released by a killed process: retry briefly if it is not free yet.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.launch(this.port);
      } catch (e) {
        if (attempt >= 20) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** SIGKILL (a crash) or SIGTERM; resolves once the process has exited. */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill(signal);
    await this.exited;
  }

  /** Freezes the process (SIGSTOP): its sockets stay open but nothing is answered, as with a hung server. */
  freeze(): void {
    this.child?.kill("SIGSTOP");
  }

  /** Lets a frozen process run again (SIGCONT). */
  thaw(): void {
    this.child?.kill("SIGCONT");
  }

  /** Stops the server and removes its data folder (when it made it). */
  async dispose(): Promise<void> {
    this.thaw();
    await this.kill("SIGKILL");
    if (this.ownsDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  private launch(port: number): Promise<void> {
    const args = [
      "--demo",
      "--data-dir", this.dataDir,
      "--port", String(port),
      "--fast-password-hashing",
      "--log-level", "warn",
      "--scheduler-interval-ms", "0",
    ];
    const child = spawn(serverBinary(), args, { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    this.exited = new Promise((res) => child.once("exit", () => res()));
    void this.exited.then(() => {
      if (this.child === child) this.child = undefined;
    });
    return new Promise<void>((res, rej) => {
      let out = "";
      const timer = setTimeout(() => fail(new Error(`The server did not start within 10 s:\n${this.output}`)), 10_000);
      const fail = (e: Error) => {
        clearTimeout(timer);
        child.kill("SIGKILL");
        rej(e);
      };
      child.stdout!.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        this.output += chunk.toString();
        const m = /listening on ws:\/\/[^:]+:(\d+)\/v1\/ws/.exec(out);
        if (m) {
          clearTimeout(timer);
          this.port = Number(m[1]);
          res();
        }
      });
      child.stderr!.on("data", (chunk: Buffer) => {
        this.output += chunk.toString();
      });
      child.once("exit", (code, signal) => fail(new Error(`The server exited (${code ?? signal}):\n${this.output}`)));
    });
  }
}
