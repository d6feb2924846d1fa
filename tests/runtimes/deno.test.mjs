// Deno, as a Supabase Edge Function runs: deno/main.ts serves with `Deno.serve`, imports Neon's
// driver with an `npm:` specifier and `quarry` through node_modules (resolved with Deno's `deno`
// export condition), and answers tenant-scoped reads and a nested write against the real
// PostgreSQL through Neon's WebSocket and HTTP drivers. Deno is the npm package `deno`.

import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { DATABASE_URL, checkSmokeAnswers, smokeQuery, startSmokeEnvironment } from "./support/harness.mjs";

// The binary itself (the `deno` package's bin is a Node wrapper that would outlive a kill), from
// the platform package npm installs beside it.
const require = createRequire(import.meta.url);
const DENO = join(dirname(require.resolve(`@deno/${process.platform}-${process.arch}-glibc/package.json`)), "deno");
const DIR = fileURLToPath(new URL("deno/", import.meta.url));
let env;
/** The deno process (started by this test, ended by it). */
let child;
let port;

before(async () => {
  env = await startSmokeEnvironment("qrt_deno");
  child = spawn(DENO, ["run", "--allow-net", "--allow-env", "--allow-read", "main.ts"], {
    cwd: DIR,
    env: { ...process.env, DATABASE_URL, PORT: "0", WS_PROXY_PORT: String(env.wsPort), NEON_HTTP_ENDPOINT: env.httpEndpoint, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  port = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/\{"port":(\d+)\}/);
      if (m) resolve(Number(m[1]));
    });
    child.on("exit", (code) => reject(new Error(`deno exited (${code}) before listening:\n${stderr}`)));
    child.on("error", (e) => reject(new Error(`cannot start deno (npm package deno, installed by scripts/setup): ${e.message}`)));
  });
}, { timeout: 90_000 });

after(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.on("exit", r));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(timer);
  }
  await env?.close();
});

test("deno resolves quarry to its Deno entry point", async () => {
  const { stdout } = await promisify(execFile)(DENO, ["eval", "console.log(import.meta.resolve('quarry'))"], { cwd: DIR, env: { ...process.env, NO_COLOR: "1" } });
  assert.match(stdout.trim(), /\/dist\/npm\/src\/runtime\/deno\.js$/);
});

test("a Deno.serve function reads and writes under a tenant through Neon's WebSocket and HTTP drivers", { timeout: 60_000 }, async () => {
  const run = `d${Date.now() % 1e6}`;
  const answers = [];
  for (const tenant of [1, 2]) {
    const res = await fetch(`http://127.0.0.1:${port}/?${smokeQuery(env, tenant, `${run}-${tenant}`)}`);
    const body = await res.json();
    assert.equal(res.status, 200, body.error);
    answers.push(body);
  }
  await checkSmokeAnswers(env, "deno", run, answers);
});
