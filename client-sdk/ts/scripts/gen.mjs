// Generates src/gen/ from proto/preceptor/v1/*.proto with the system's protoc
// (Debian: protobuf-compiler) and protoc-gen-es from the workspace's node_modules.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const root = resolve(pkg, "../..");
const protoDir = join(root, "proto");
const out = join(pkg, "src/gen");
const ext = process.platform === "win32" ? ".cmd" : "";
const plugin = [join(root, "node_modules/.bin/protoc-gen-es" + ext), join(pkg, "node_modules/.bin/protoc-gen-es" + ext)]
  .find((p) => existsSync(p));
if (!plugin) {
  console.error("protoc-gen-es is not installed: run `npm ci` at the repository root first.");
  process.exit(1);
}
const protoc = process.env.PROTOC || "protoc";
const files = readdirSync(join(protoDir, "preceptor/v1"))
  .filter((f) => f.endsWith(".proto"))
  .sort()
  .map((f) => join("preceptor/v1", f));

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const args = [
  `--plugin=protoc-gen-es=${plugin}`,
  `--es_out=${out}`,
  "--es_opt=target=ts,import_extension=js",
  `-I${protoDir}`,
  ...files,
];
const r = spawnSync(protoc, args, { cwd: protoDir, stdio: "inherit" });
if (r.error) {
  console.error(`Could not run ${protoc} (${r.error.message}); install protobuf-compiler or set PROTOC.`);
  process.exit(1);
}
if (r.status !== 0) process.exit(r.status ?? 1);
console.log(`Generated ${files.length} files into ${relative(root, out)}/`);
