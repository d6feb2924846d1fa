// Next.js with the package as published: the app in next-native/ (a Node.js route that calls
// `createClient({ schema, url })` when its module loads, and no Quarry-specific configuration)
// gets the packed `quarry` and this platform's engine package installed in its node_modules, is
// built with `next build` (Turbopack) — skipped when its inputs are those of the last build — and
// served by `next start`; the route must run on the native engine, with no fallback said.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { bundledAddonPath } from "../../npm/dist/npm/src/native.js";
import { ROOT, npmInstall, packHost } from "../runners/node/support/install.mjs";
import { DATABASE_URL } from "./support/harness.mjs";

const APP = join(ROOT, "tests/runtimes/next-native");
const NEXT = join(ROOT, "node_modules/next/dist/bin/next");
const STAMP = join(APP, ".next/quarry-inputs");
const ENV = { ...process.env, NEXT_TELEMETRY_DISABLED: "1", DATABASE_URL };
delete ENV.QUARRY_NATIVE_LIBRARY;

function hashTree(hash, dir, skip = () => false) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (skip(name)) continue;
    if (statSync(path).isDirectory()) hashTree(hash, path, skip);
    else hash.update(path).update(readFileSync(path));
  }
}

function inputsHash() {
  const hash = createHash("sha256");
  hashTree(hash, APP, (name) => name === ".next" || name === "node_modules" || name === "next-env.d.ts");
  hashTree(hash, join(ROOT, "npm/dist"), (name) => name.endsWith(".map") || name === ".tsbuildinfo");
  hashTree(hash, join(ROOT, "npm/wasm"));
  hash.update(readFileSync(join(ROOT, "npm/package.json")));
  hash.update(readFileSync(join(ROOT, "scripts/npm/pack.mjs")));
  hash.update(readFileSync(bundledAddonPath()));
  hash.update(readFileSync(join(ROOT, "node_modules/next/package.json")));
  return hash.digest("hex");
}

function runNext(args) {
  return spawn(process.execPath, [NEXT, ...args], { cwd: APP, env: ENV, stdio: ["ignore", "pipe", "pipe"] });
}

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

let server;
let serverLog = "";
let port;

before(async () => {
  const inputs = inputsHash();
  if (!existsSync(STAMP) || readFileSync(STAMP, "utf8") !== inputs) {
    const tmp = mkdtempSync(join(tmpdir(), "quarry-next-native-"));
    try {
      const packed = packHost(tmp);
      rmSync(join(APP, "node_modules"), { recursive: true, force: true });
      rmSync(join(APP, ".next"), { recursive: true, force: true });
      await npmInstall(APP, ["--no-save", "--no-package-lock", packed.main.file, packed.platform.file]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    const build = runNext(["build"]);
    let log = "";
    build.stdout.on("data", (d) => (log += d));
    build.stderr.on("data", (d) => (log += d));
    const code = await new Promise((r) => build.on("exit", r));
    assert.equal(code, 0, `next build failed:\n${log}`);
    // The route's module ran while Next.js collected its configuration: on the native engine.
    assert.match(log, /Quarry engine \(native\) ready/, log);
    assert.doesNotMatch(log, /cannot be loaded/, log);
    writeFileSync(STAMP, inputs);
  }
  port = await freePort();
  server = runNext(["start", "-p", String(port), "-H", "127.0.0.1"]);
  server.stderr.on("data", (d) => (serverLog += d));
  await new Promise((resolve, reject) => {
    server.stdout.on("data", (d) => {
      serverLog += d;
      if (/Ready in/.test(serverLog)) resolve();
    });
    server.on("exit", (code) => reject(new Error(`next start exited (${code}):\n${serverLog}`)));
  });
}, { timeout: 400_000 });

after(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.on("exit", r));
    server.kill("SIGTERM");
    const timer = setTimeout(() => server.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(timer);
  }
});

test("a Node.js route with createClient({ schema, url }) runs on the native engine, no configuration", { timeout: 60_000 }, async () => {
  const res = await fetch(`http://127.0.0.1:${port}/api/native`);
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.deepEqual(body, { rows: [{ n: 42 }] });
  assert.match(serverLog, /Quarry engine \(native\) ready: 1 models/);
  assert.doesNotMatch(serverLog, /cannot be loaded/);
});
