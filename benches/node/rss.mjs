// Memory over a long run: one engine per Node process (so their heaps do not mix), the benchmark
// workload's reads under tenant 1 (a_findUnique and b_findMany20 in turn, every 20th request a
// c_include instead; the plan cache on), `--in-flight` requests at a time. The resident set size (RSS) and the JavaScript heap
// are printed after 10,000 requests and at every checkpoint after it, each after a full garbage
// collection; the last line compares the RSS at the end with the RSS after 10,000 requests (the
// goal: within 10%). Reads only, so the data stays the same size for the whole run; the workload
// is seeded into a PostgreSQL schema of its own (`quarry_bench_rss`, so that bench.mjs can run
// beside it) when that schema is missing or with `--seed`.
//
//   node --expose-gc benches/node/rss.mjs [--engine native|wasm|both] [--requests 1000000]
//                                         [--in-flight 8] [--seed]
// (after scripts/build; needs the PostgreSQL in DATABASE_URL)

import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import { createClient } from "quarry";
import { pgAdapter } from "quarry/adapters/pg";

const { values: flags } = parseArgs({
  options: {
    engine: { type: "string", default: "both" },
    requests: { type: "string", default: "1000000" },
    "in-flight": { type: "string", default: "8" },
    seed: { type: "boolean", default: false },
  },
});
const ROOT = new URL("../../", import.meta.url);
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const NAMESPACE = "quarry_bench_rss";
const SCHEMA = readFileSync(new URL("tests/fixtures/schemas/bench.prisma", ROOT), "utf8");
const REQUESTS = Number(flags.requests);
const IN_FLIGHT = Number(flags["in-flight"]);

if (flags.engine === "both") {
  // Each engine in a process of its own.
  for (const engine of ["native", "wasm"]) {
    const args = ["--expose-gc", fileURLToPath(import.meta.url), "--engine", engine, "--requests", flags.requests, "--in-flight", flags["in-flight"]];
    if (flags.seed && engine === "native") args.push("--seed");
    const r = spawnSync(process.execPath, args, { stdio: "inherit", cwd: ROOT });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  process.exit(0);
}
if (typeof globalThis.gc !== "function") throw new Error("run with node --expose-gc");

const mb = (n) => (n / 1048576).toFixed(1);
function measure() {
  globalThis.gc();
  globalThis.gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed, external: m.external };
}

const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10 });
pool.on("error", () => {});
const wasm = createClient({ schema: SCHEMA, adapter: pgAdapter(pool), namespace: NAMESPACE });
const present = await pool.query("SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'Comment'", [NAMESPACE]);
if (flags.seed || present.rowCount === 0) {
  // The same schema and seed as bench.mjs.
  const seed = readFileSync(new URL("benches/workload/seed.sql", ROOT), "utf8");
  const c = await pool.connect();
  await c.query(`DROP SCHEMA IF EXISTS "${NAMESPACE}" CASCADE; CREATE SCHEMA "${NAMESPACE}"; SET search_path TO "${NAMESPACE}"`);
  for (const s of wasm.$ddl({ tenantKeys: false })) await c.query(s);
  await c.query(seed);
  await c.query("RESET search_path");
  c.release();
}
const sep = DATABASE_URL.includes("?") ? "&" : "?";
const db =
  flags.engine === "native"
    ? createClient({ schema: SCHEMA, url: `${DATABASE_URL}${sep}connection_limit=10&sslmode=disable`, namespace: NAMESPACE })
    : wasm;
const t = db.$forTenant(1);
const calls = [
  (i) => t.user.findUnique({ where: { id: 1 + 10 * (i % 100) } }),
  () => t.post.findMany({ where: { published: true }, orderBy: { createdAt: "desc" }, take: 20 }),
  () => t.user.findMany({ take: 20, include: { posts: true } }),
];

const checkpoints = [10_000, 100_000, 250_000, 500_000, 750_000, 1_000_000, 2_000_000, 5_000_000].filter((n) => n <= REQUESTS);
if (!checkpoints.includes(REQUESTS)) checkpoints.push(REQUESTS);
const start = performance.now();
let done = 0;
let base;
console.log(`${flags.engine}: ${REQUESTS} requests, ${IN_FLIGHT} in flight; load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}`);
const first = measure();
console.log(`  after 0: RSS ${mb(first.rss)} MB, heap ${mb(first.heap)} MB, external ${mb(first.external)} MB`);
for (const target of checkpoints) {
  let next = done;
  const worker = async () => {
    while (next < target) {
      const i = next++;
      const row = await calls[i % 20 === 19 ? 2 : i % 2](i);
      if (!row) throw new Error("no row");
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  done = target;
  const m = measure();
  base ??= m;
  const s = (performance.now() - start) / 1000;
  console.log(
    `  after ${target}: RSS ${mb(m.rss)} MB (${((m.rss / base.rss - 1) * 100).toFixed(1)}% vs 10,000), heap ${mb(m.heap)} MB, external ${mb(m.external)} MB; ${s.toFixed(0)} s, load ${loadavg()[0].toFixed(1)}`,
  );
}
const end = measure();
const growth = end.rss / base.rss - 1;
console.log(`  at the end: RSS ${mb(end.rss)} MB`);
console.log(`${flags.engine}: RSS after ${done} requests is ${(growth * 100).toFixed(1)}% ${growth >= 0 ? "above" : "below"} the RSS after 10,000 (goal: within 10%): ${Math.abs(growth) <= 0.1 ? "met" : "not met"}`);
if (flags.engine === "native") await db.$disconnect();
await pool.end();
