// Builds web/dist unless it is newer than every source it is made from, so
// `npm run test:browser` right after `npm run build` (scripts/web-test) does
// not build twice, and a lone `npm run test:browser` never tests a stale app.
import { execSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const web = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const root = resolve(web, "..");

function newest(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let t = 0;
  for (const name of readdirSync(path)) {
    if (name === "node_modules" || name === "gen") continue;
    t = Math.max(t, newest(join(path, name)));
  }
  return t;
}

const built = join(web, "dist", "index.html");
const sources = [
  join(web, "src"),
  join(web, "index.html"),
  join(web, "vite.config.ts"),
  join(web, "package.json"),
  join(root, "client-sdk", "ts", "src"),
  join(root, "proto"),
  join(root, "package-lock.json"),
];
const builtAt = existsSync(built) ? statSync(built).mtimeMs : 0;
const changedAt = Math.max(...sources.map(newest));
if (builtAt > changedAt) {
  console.log("web/dist is up to date.");
} else {
  console.log(builtAt ? "web/dist is older than its sources: building." : "No web/dist yet: building.");
  execSync("npm run build", { cwd: web, stdio: "inherit" });
}
