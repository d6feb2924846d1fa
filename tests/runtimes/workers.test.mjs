// Cloudflare Workers: the Worker in workers/worker.mjs, bundled the way wrangler does (esbuild,
// the `workerd` condition, .wasm files kept as compiled-module imports) and run in workerd through
// Miniflare, answers tenant-scoped reads and a nested write against the real PostgreSQL through
// Neon's WebSocket driver (websockify) and HTTP driver (the local /sql test double), and the same
// against MariaDB through PlanetScale's HTTP driver (the local test double of its HTTP API).

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { bundleWorker } from "./support/bundle.mjs";
import {
  DATABASE_URL,
  checkPlanetScaleSmokeAnswers,
  checkSmokeAnswers,
  smokeQuery,
  startPlanetScaleSmokeEnvironment,
  startSmokeEnvironment,
} from "./support/harness.mjs";

let env;
let ps;
let mf;
let dir;

before(async () => {
  env = await startSmokeEnvironment("qrt_workers");
  ps = await startPlanetScaleSmokeEnvironment("qrt_workers_ps");
  dir = mkdtempSync(join(tmpdir(), "quarry-worker-"));
  const { script } = await bundleWorker(fileURLToPath(new URL("workers/worker.mjs", import.meta.url)), dir);
  mf = new Miniflare({
    modules: true,
    modulesRoot: dir,
    scriptPath: script,
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
    compatibilityDate: "2026-04-01",
    bindings: { DATABASE_URL, WS_PROXY_PORT: String(env.wsPort), NEON_HTTP_ENDPOINT: env.httpEndpoint, PLANETSCALE_URL: ps.url },
  });
  await mf.ready;
}, { timeout: 120_000 });

after(async () => {
  await mf?.dispose();
  await env?.close();
  await ps?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("a Worker in workerd reads and writes under a tenant through Neon's WebSocket and HTTP drivers", { timeout: 60_000 }, async () => {
  const run = `w${Date.now() % 1e6}`;
  const answers = [];
  for (const tenant of [1, 2]) {
    const res = await mf.dispatchFetch(`http://localhost/?${smokeQuery(env, tenant, `${run}-${tenant}`)}`);
    const body = await res.json();
    assert.equal(res.status, 200, body.error);
    answers.push(body);
  }
  await checkSmokeAnswers(env, "workerd", run, answers);
});

test("a Worker in workerd reads and writes under a tenant on MySQL through PlanetScale's HTTP driver", { timeout: 60_000 }, async () => {
  const run = `p${Date.now() % 1e6}`;
  const answers = [];
  for (const tenant of [1, 2]) {
    const res = await mf.dispatchFetch(`http://localhost/planetscale?${smokeQuery(ps, tenant, `${run}-${tenant}`)}`);
    const body = await res.json();
    assert.equal(res.status, 200, body.error);
    answers.push(body);
  }
  await checkPlanetScaleSmokeAnswers(ps, "workerd", run, answers);
});
