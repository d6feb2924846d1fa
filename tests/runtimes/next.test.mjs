// Next.js (app router): the app in next/ has one route on the edge runtime (`quarry` resolves to
// its `edge-light` entry, the engine imported as `.wasm?module`, compiled outside the edge
// sandbox) and one on Node.js (its `node` entry). It is built with `next build` — skipped when
// the inputs (the app, the shared smoke code, the package's built files, Next.js's version) are
// those of the last build — and served by `next start`; the requests come from this test, and
// reach the real PostgreSQL through Neon's WebSocket and HTTP drivers.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { DATABASE_URL, checkSmokeAnswers, smokeQuery, startSmokeEnvironment } from "./support/harness.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const APP = join(ROOT, "tests/runtimes/next");
const NEXT = join(ROOT, "node_modules/next/dist/bin/next");
const STAMP = join(APP, ".next/quarry-inputs");

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
  hashTree(hash, join(ROOT, "tests/runtimes/shared"));
  hashTree(hash, join(ROOT, "npm/dist"), (name) => name.endsWith(".map") || name === ".tsbuildinfo");
  hashTree(hash, join(ROOT, "npm/wasm"));
  hash.update(readFileSync(join(ROOT, "npm/package.json")));
  hash.update(readFileSync(join(ROOT, "node_modules/next/package.json")));
  return hash.digest("hex");
}

const ENV = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" };

function runNext(args, extraEnv = {}) {
  return spawn(process.execPath, [NEXT, ...args], { cwd: APP, env: { ...ENV, ...extraEnv }, stdio: ["ignore", "pipe", "pipe"] });
}

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

let env;
/** `next start` (started by this test, ended by it). */
let server;
let port;

before(async () => {
  const inputs = inputsHash();
  if (!existsSync(STAMP) || readFileSync(STAMP, "utf8") !== inputs) {
    const build = runNext(["build"]);
    let log = "";
    build.stdout.on("data", (d) => (log += d));
    build.stderr.on("data", (d) => (log += d));
    const code = await new Promise((r) => build.on("exit", r));
    assert.equal(code, 0, `next build failed:\n${log}`);
    writeFileSync(STAMP, inputs);
  }
  env = await startSmokeEnvironment("qrt_next");
  port = await freePort();
  server = runNext(["start", "-p", String(port), "-H", "127.0.0.1"], {
    DATABASE_URL,
    WS_PROXY_PORT: String(env.wsPort),
    NEON_HTTP_ENDPOINT: env.httpEndpoint,
  });
  let log = "";
  server.stderr.on("data", (d) => (log += d));
  await new Promise((resolve, reject) => {
    server.stdout.on("data", (d) => {
      log += d;
      if (/Ready in/.test(log)) resolve();
    });
    server.on("exit", (code) => reject(new Error(`next start exited (${code}):\n${log}`)));
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
  await env?.close();
});

for (const [route, runtime] of [["edge", "edge"], ["node", "nodejs"]]) {
  test(`the ${route} route reads and writes under a tenant through Neon's WebSocket and HTTP drivers`, { timeout: 60_000 }, async () => {
    const env1 = route === "edge" ? env : await env.another();
    const run = `n${route}${Date.now() % 1e6}`;
    const answers = [];
    for (const tenant of [1, 2]) {
      const res = await fetch(`http://127.0.0.1:${port}/api/${route}?${smokeQuery(env1, tenant, `${run}-${tenant}`)}`);
      const body = await res.json();
      assert.equal(res.status, 200, body.error);
      answers.push(body);
    }
    await checkSmokeAnswers(env1, runtime, run, answers);
  });
}
