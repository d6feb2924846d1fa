// Size of a minimal Worker using Quarry (workers/minimal.mjs), bundled and minified as wrangler
// does: the script (Quarry's client, Neon's driver) and the engine's .wasm module, each raw and
// gzipped (level 9), printed for the README. It must fit Cloudflare's smallest Worker size limit
// (3 MB gzipped on the free plan), and it must answer in workerd (a bundle that does not run
// has no size).

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { bundleWorker, sizes } from "./support/bundle.mjs";
import { DATABASE_URL, startSmokeEnvironment } from "./support/harness.mjs";

const FREE_PLAN_LIMIT = 3 * 1024 * 1024;

test("a minimal Worker with Quarry fits Cloudflare's free-plan limit", { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "quarry-minimal-"));
  const env = await startSmokeEnvironment("qrt_size");
  let mf;
  try {
    const { script, wasm } = await bundleWorker(fileURLToPath(new URL("workers/minimal.mjs", import.meta.url)), dir, { minify: true });
    const s = sizes(script);
    const w = sizes(wasm);
    const total = s.gzip + w.gzip;
    t.diagnostic(`minimal Worker script: ${s.raw} bytes raw, ${s.gzip} bytes gzip`);
    t.diagnostic(`engine module (.wasm): ${w.raw} bytes raw, ${w.gzip} bytes gzip`);
    t.diagnostic(`Worker upload: ${s.raw + w.raw} bytes raw, ${total} bytes gzip`);
    assert.ok(total < FREE_PLAN_LIMIT, `${total} bytes gzip is over ${FREE_PLAN_LIMIT}`);
    mf = new Miniflare({
      modules: true,
      modulesRoot: dir,
      scriptPath: script,
      modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
      compatibilityDate: "2026-04-01",
      bindings: { DATABASE_URL, NEON_HTTP_ENDPOINT: env.httpEndpoint, NAMESPACE: env.namespace },
    });
    const res = await mf.dispatchFetch("http://localhost/?tenant=2");
    const posts = await res.json();
    assert.equal(res.status, 200, JSON.stringify(posts));
    assert.deepEqual(posts.map((p) => [p.title, p.tenantId, p.author.name]), [["one", 2, "Ann of 2"]]);
  } finally {
    await mf?.dispose();
    await env.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
