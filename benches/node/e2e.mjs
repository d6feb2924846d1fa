// End to end in Node, on the benchmark workload (schema, seed, scenarios a-f under tenant 1):
// Quarry's WebAssembly engine over node-postgres against raw node-postgres running the same SQL
// (taken from `$compile`, parameters bound by hand), same process, same pool size, same run. One
// request at a time, warm-up first, then interleaved rounds; reports ops/s, p50 and p99 latency
// and the ratio to raw pg per scenario. Also the cold start: a fresh Node process from start to
// its first row, for each path (median of several).
//
//   node benches/node/e2e.mjs [--seconds 1] [--rounds 5] [--cold 7]
//
// Needs the PostgreSQL in DATABASE_URL and the package built (`scripts/build`). Works in a
// PostgreSQL schema of its own, re-created and seeded at the start.

import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { createClient } from "quarry";
import { pgAdapter } from "quarry/adapters/pg";

const NAMESPACE = "quarry_bench_node";
const TENANT = 1;
const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const schema = readFileSync(here("../../tests/fixtures/schemas/bench.prisma"), "utf8");
const seed = readFileSync(here("../workload/seed.sql"), "utf8");
const tenantUser = (i) => 1 + 10 * (i % 100);
const run = String(process.pid);

/** The scenarios as Quarry requests (the tenant view adds tenantId), as in benches/src/lib.rs. */
const scenarios = {
  a_findUnique: (t, i) => t.user.findUnique({ where: { id: tenantUser(i) } }),
  b_findMany20: (t) => t.post.findMany({ where: { published: true }, orderBy: { createdAt: "desc" }, take: 20 }),
  c_include: (t) => t.user.findMany({ take: 20, include: { posts: true } }),
  d_create: (t, i) => t.post.create({ data: { authorId: tenantUser(i), title: `Bench post ${i}` } }),
  e_nestedCreate: (t, i) =>
    t.user.create({
      data: { email: `bench-${run}-${i}@example.com`, name: "Bench", posts: { create: [{ title: "First" }, { title: "Second" }] } },
      include: { posts: true },
    }),
  f_aggregate: (t) => t.post.groupBy({ by: ["authorId"], _sum: { views: true } }),
};

/** Raw node-postgres running the engine's statements with parameters bound by hand. */
function rawPath(pool, sql) {
  const q = (text, values) => pool.query({ text, values });
  return {
    a_findUnique: async (i) => (await q(sql.a_findUnique[0], [tenantUser(i), TENANT])).rows[0] ?? null,
    b_findMany20: async () => (await q(sql.b_findMany20[0], [true, 20, TENANT])).rows,
    c_include: async () => (await q(sql.c_include[0], [20, TENANT])).rows,
    d_create: async (i) => (await q(sql.d_create[0], [tenantUser(i), `Bench post ${i}`, TENANT])).rows[0],
    e_nestedCreate: async (i) => {
      const c = await pool.connect();
      try {
        await c.query("BEGIN");
        const [s0, s1, s2, s3] = sql.e_nestedCreate;
        const id = (await c.query({ text: s0, values: [`bench-${run}-raw-${i}@example.com`, "Bench", TENANT] })).rows[0].id;
        await c.query({ text: s1, values: [id, "First", TENANT] });
        await c.query({ text: s2, values: [id, "Second", TENANT] });
        const rows = (await c.query({ text: s3, values: [id, TENANT] })).rows;
        await c.query("COMMIT");
        return rows[0];
      } finally {
        c.release();
      }
    },
    f_aggregate: async () => (await q(sql.f_aggregate[0], [TENANT])).rows,
  };
}

/** The parameters each hand-bound baseline assumes, checked against the engine's. */
const expectedParams = {
  a_findUnique: [[tenantUser(0), TENANT]],
  b_findMany20: [[true, 20, TENANT]],
  c_include: [[20, TENANT]],
  d_create: [[tenantUser(0), "Bench post 0", TENANT]],
  f_aggregate: [[TENANT]],
};

function statementsOf(db, name) {
  const compiled = db.$compile(scenarios[name](db.$forTenant(TENANT), 0));
  const statements = compiled.statements;
  const expected = expectedParams[name];
  if (expected && JSON.stringify(statements.map((s) => s.params)) !== JSON.stringify(expected)) {
    throw new Error(`${name}: the engine's parameters changed (${JSON.stringify(statements.map((s) => s.params))}); update the raw baseline`);
  }
  if (name === "e_nestedCreate" && statements.length !== 4) throw new Error(`${name}: expected 4 statements, got ${statements.length}`);
  return statements.map((s) => s.sql);
}

async function prepare(pool, db) {
  const c = await pool.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS "${NAMESPACE}" CASCADE`);
    await c.query(`CREATE SCHEMA "${NAMESPACE}"`);
    await c.query(`SET search_path TO "${NAMESPACE}"`);
    for (const stmt of db.$ddl()) await c.query(stmt);
    await c.query(seed);
  } finally {
    c.release(true);
  }
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Runs `fn(i)` one call at a time for `seconds`, returning the latencies in ms. */
async function timed(fn, seconds, counter) {
  const lat = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const t0 = performance.now();
    await fn(counter.i++);
    lat.push(performance.now() - t0);
  }
  return lat;
}

function coldStart(kind) {
  const child = `
    const t0 = performance.now();
    const pg = (await import("pg")).default;
    const pool = new pg.Pool({ connectionString: ${JSON.stringify(url)}, options: "-c search_path=${NAMESPACE}" });
    let row;
    if (${JSON.stringify(kind)} === "raw pg") {
      row = (await pool.query('SELECT "id", "email" FROM "User" WHERE "id" = $1 AND "tenantId" = $2', [1, ${TENANT}])).rows[0];
    } else {
      const { createClient } = await import("quarry");
      const { pgAdapter } = await import("quarry/adapters/pg");
      const fs = await import("node:fs");
      const db = createClient({ schema: fs.readFileSync(${JSON.stringify(here("../../tests/fixtures/schemas/bench.prisma"))}, "utf8"), adapter: pgAdapter(pool), namespace: ${JSON.stringify(NAMESPACE)} });
      row = await db.$forTenant(${TENANT}).user.findUnique({ where: { id: 1 } });
    }
    if (!row) throw new Error("no row");
    console.log(performance.now() - t0);
    await pool.end();
  `;
  const started = performance.now();
  const out = spawnSync(process.execPath, ["--input-type=module", "-e", child], { cwd: here("."), encoding: "utf8" });
  const total = performance.now() - started;
  if (out.status !== 0) throw new Error(`cold start (${kind}) failed: ${out.stderr}`);
  return { total, inProcess: Number(out.stdout.trim()) };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const seconds = arg("seconds", 1);
  const rounds = arg("rounds", 5);
  const colds = arg("cold", 7);
  const poolOptions = { connectionString: url, max: 4, options: `-c search_path=${NAMESPACE}` };
  const rawPool = new pg.Pool(poolOptions);
  const quarryPool = new pg.Pool(poolOptions);
  const db = createClient({ schema, adapter: pgAdapter(quarryPool), namespace: NAMESPACE });
  await prepare(rawPool, db);
  const tenant = db.$forTenant(TENANT);
  const sql = Object.fromEntries(Object.keys(scenarios).map((name) => [name, statementsOf(db, name)]));
  const raw = rawPath(rawPool, sql);
  const paths = {
    "Quarry Wasm + pg": (name) => (i) => scenarios[name](tenant, i),
    "raw pg": (name) => raw[name],
  };

  console.log(`Node ${process.version}; ${rounds} interleaved rounds of ${seconds} s per path and scenario\n`);
  const rows = [];
  for (const name of Object.keys(scenarios)) {
    const lat = Object.fromEntries(Object.keys(paths).map((p) => [p, []]));
    const counters = Object.fromEntries(Object.keys(paths).map((p) => [p, { i: 0 }]));
    for (const p of Object.keys(paths)) await timed(paths[p](name), 0.3, counters[p]); // warm-up
    for (let r = 0; r < rounds; r++) {
      for (const p of Object.keys(paths)) lat[p].push(...(await timed(paths[p](name), seconds, counters[p])));
    }
    const rawOps = (lat["raw pg"].length / (rounds * seconds));
    for (const p of Object.keys(paths)) {
      const sorted = lat[p].sort((a, b) => a - b);
      const ops = sorted.length / (rounds * seconds);
      rows.push({ scenario: name, path: p, ops: Math.round(ops), p50: percentile(sorted, 50), p99: percentile(sorted, 99), ratio: ops / rawOps });
    }
  }
  console.log("| scenario | path | ops/s | p50 ms | p99 ms | vs raw pg |");
  console.log("|---|---|---|---|---|---|");
  for (const r of rows) {
    console.log(`| ${r.scenario} | ${r.path} | ${r.ops} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${r.ratio.toFixed(2)}x |`);
  }
  await db.$disconnect();
  await rawPool.end();
  await quarryPool.end().catch(() => {});

  console.log(`\nCold start, fresh process to first row (median of ${colds}; ms):\n`);
  console.log("| path | process start to first row | inside the process |");
  console.log("|---|---|---|");
  for (const kind of ["raw pg", "Quarry Wasm + pg"]) {
    const runs = Array.from({ length: colds }, () => coldStart(kind));
    console.log(`| ${kind} | ${median(runs.map((r) => r.total)).toFixed(0)} | ${median(runs.map((r) => r.inProcess)).toFixed(0)} |`);
  }
}

await main();
