// End to end in Node, one process, one run: the native addon (`createClient({ schema, url })`)
// against raw node-postgres running the engine's own SQL with parameters bound by hand (named
// prepared statements, rows as pg returns them) and against the WebAssembly engine over
// node-postgres (`createClient({ schema, adapter })`). Workload: the benchmark schema and seed,
// scenarios a-f under tenant 1 (the same requests as benches/src/lib.rs), in a PostgreSQL schema
// of its own that is re-created and seeded at the start. One request at a time; scenario after
// scenario, a warm-up, then rounds in which each implementation runs it for a fixed time,
// implementations taking turns; the tables show the median ops/s over the rounds with the ratio
// to raw pg, and the p50 / p99 latency of every request timed.
// Then cold start: a fresh Node process per run, from spawn to its first result row, median.
//
//   node benches/node/bench.mjs [--rounds N] [--ms MS] [--cold N]
// (after scripts/build; needs the PostgreSQL in DATABASE_URL)

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import pg from "pg";
import { createClient } from "quarry";
import { pgAdapter } from "quarry/adapters/pg";

const { values: flags } = parseArgs({
  options: { rounds: { type: "string", default: "5" }, ms: { type: "string", default: "1000" }, cold: { type: "string", default: "7" } },
});
const ROUNDS = Number(flags.rounds);
const MS = Number(flags.ms);
const COLD = Number(flags.cold);

const ROOT = new URL("../../", import.meta.url);
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const NAMESPACE = "quarry_bench_node";
const SCHEMA = readFileSync(new URL("tests/fixtures/schemas/bench.prisma", ROOT), "utf8");
const SEED = readFileSync(new URL("benches/workload/seed.sql", ROOT), "utf8");
const TENANT = 1;
const RUN = `${process.pid}`;
const SCENARIOS = ["a_findUnique", "b_findMany20", "c_include", "d_create", "e_nestedCreate", "f_aggregate"];

/** The tenant's users: the seed deals users out to tenants in turn. */
const tenantUser = (i) => 1 + 10 * (i % 100);

/** The scenario's request as a client call on a tenant view (benches/src/lib.rs, `scenario`). */
function request(t, name, i, run) {
  switch (name) {
    case "a_findUnique":
      return t.user.findUnique({ where: { id: tenantUser(i) } });
    case "b_findMany20":
      return t.post.findMany({ where: { published: true }, orderBy: { createdAt: "desc" }, take: 20 });
    case "c_include":
      return t.user.findMany({ take: 20, include: { posts: true } });
    case "d_create":
      return t.post.create({ data: { authorId: tenantUser(i), title: `Bench post ${i}` } });
    case "e_nestedCreate":
      return t.user.create({
        data: { email: `bench-${run}-${i}@example.com`, name: "Bench", posts: { create: [{ title: "First" }, { title: "Second" }] } },
        include: { posts: true },
      });
    case "f_aggregate":
      return t.post.groupBy({ by: ["authorId"], _sum: { views: true } });
  }
  throw new Error(name);
}

/** The parameters raw pg binds for statement `n` of a scenario, in the engine's order. */
function rawParams(name, i, run, n, id) {
  switch (name) {
    case "a_findUnique":
      return [tenantUser(i), TENANT];
    case "b_findMany20":
      return [true, 20, TENANT];
    case "c_include":
      return [20, TENANT];
    case "d_create":
      return [tenantUser(i), `Bench post ${i}`, TENANT];
    case "e_nestedCreate":
      return [[`bench-${run}-raw-${i}@example.com`, "Bench", TENANT], [id, "First", TENANT], [id, "Second", TENANT], [id, TENANT]][n];
    case "f_aggregate":
      return [TENANT];
  }
  throw new Error(name);
}

function splitSql(text) {
  const out = [];
  let current = "";
  for (const line of text.split("\n")) {
    if (line.trimStart().startsWith("--")) continue;
    current += `${line}\n`;
    if (line.trimEnd().endsWith(";")) {
      out.push(current);
      current = "";
    }
  }
  return out;
}

async function prepare(pool, ddl) {
  const c = await pool.connect();
  try {
    await c.query("BEGIN");
    await c.query(`DROP SCHEMA IF EXISTS "${NAMESPACE}" CASCADE`);
    await c.query(`CREATE SCHEMA "${NAMESPACE}"`);
    await c.query(`SET LOCAL search_path TO "${NAMESPACE}"`);
    for (const s of ddl) await c.query(s);
    for (const s of splitSql(SEED)) await c.query(s);
    await c.query("COMMIT");
  } finally {
    c.release();
  }
}

/** Raw node-postgres: the engine's statements, named prepared statements, parameters by hand. */
function rawRunner(pool, statements) {
  return async (name, i) => {
    const sql = statements[name];
    const c = await pool.connect();
    try {
      const q = (n, id) => c.query({ name: `${name}_${n}`, text: sql[n], values: rawParams(name, i, RUN, n, id) });
      if (name !== "e_nestedCreate") return (await q(0)).rows;
      await c.query("BEGIN");
      const id = (await q(0)).rows[0].id;
      await q(1, id);
      await q(2, id);
      const rows = (await q(3, id)).rows;
      await c.query("COMMIT");
      return rows;
    } finally {
      c.release();
    }
  };
}

/** Checks that the hand-bound parameters are the engine's, so raw pg runs exactly its statements. */
function checkParams(name, compiled) {
  const expect = compiled.statements.map((_, n) => rawParams(name, 0, "check", n, "$ref"));
  const actual = compiled.statements.map((s) => s.params.map((p) => (p && typeof p === "object" && "$ref" in p ? "$ref" : p)));
  if (name === "e_nestedCreate") expect[0][0] = "bench-check-0@example.com";
  if (JSON.stringify(expect) !== JSON.stringify(actual)) {
    throw new Error(`${name}: the engine's parameters changed (${JSON.stringify(actual)}); update the raw baseline`);
  }
}

/** Runs `fn` one call at a time for `ms`; returns ops/s and adds each call's latency to `lat`. */
async function timeFor(ms, fn, lat = []) {
  let i = 0;
  const start = performance.now();
  const end = start + ms;
  let t = start;
  while (t < end) {
    await fn(i++);
    const now = performance.now();
    lat.push(now - t);
    t = now;
  }
  return (i / (t - start)) * 1000;
}
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function coldStartScript(kind) {
  const imports =
    kind === "raw pg"
      ? `import pg from "pg";`
      : kind === "native"
        ? `import { createClient } from "quarry";`
        : `import { createClient } from "quarry"; import { pgAdapter } from "quarry/adapters/pg"; import pg from "pg";`;
  const connect =
    kind === "raw pg"
      ? `const pool = new pg.Pool({ connectionString: url });
         const rows = (await pool.query('SELECT * FROM "${NAMESPACE}"."User" WHERE id = $1 AND "tenantId" = $2', [1, 1])).rows;
         const close = () => pool.end();`
      : kind === "native"
        ? `const db = createClient({ schema, url, namespace: "${NAMESPACE}" });
           const rows = [await db.$forTenant(1).user.findUnique({ where: { id: 1 } })];
           const close = () => db.$disconnect();`
        : `const pool = new pg.Pool({ connectionString: url });
           const db = createClient({ schema, adapter: pgAdapter(pool), namespace: "${NAMESPACE}" });
           const rows = [await db.$forTenant(1).user.findUnique({ where: { id: 1 } })];
           const close = () => pool.end();`;
  return `${imports}
    import { readFileSync } from "node:fs";
    const url = ${JSON.stringify(DATABASE_URL)};
    const schema = readFileSync("tests/fixtures/schemas/bench.prisma", "utf8");
    ${connect}
    if (!rows[0]) throw new Error("no row");
    process.stdout.write("first row\\n");
    await close();`;
}

function coldStart(kind) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ["--input-type=module", "-e", coldStartScript(kind)], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
    let first;
    child.stdout.on("data", (d) => {
      if (first === undefined && String(d).includes("first row")) first = performance.now() - t0;
    });
    child.on("exit", (code) => (code === 0 && first !== undefined ? resolve(first) : reject(new Error(`${kind}: cold start exited with ${code}`))));
  });
}

async function main() {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
  const wasm = createClient({ schema: SCHEMA, adapter: pgAdapter(pool), namespace: NAMESPACE });
  // The workload's seed links comments to other tenants' users: no tenant-matching keys.
  await prepare(pool, wasm.$ddl({ tenantKeys: false }));
  const native = createClient({ schema: SCHEMA, url: `${DATABASE_URL}${DATABASE_URL.includes("?") ? "&" : "?"}connection_limit=4&sslmode=disable`, namespace: NAMESPACE });

  const statements = {};
  const t = wasm.$forTenant(TENANT);
  for (const name of SCENARIOS) {
    const compiled = t.$compile(request(t, name, 0, "check"));
    checkParams(name, compiled);
    statements[name] = compiled.statements.map((s) => s.sql);
  }
  const runners = {
    "raw pg": rawRunner(pool, statements),
    "native addon": ((v) => (name, i) => request(v, name, i, `n${RUN}`))(native.$forTenant(TENANT)),
    "Wasm + pg": ((v) => (name, i) => request(v, name, i, `w${RUN}`))(wasm.$forTenant(TENANT)),
  };
  const kinds = Object.keys(runners);
  const counters = Object.fromEntries(kinds.map((k) => [k, 0]));
  const results = Object.fromEntries(SCENARIOS.map((s) => [s, Object.fromEntries(kinds.map((k) => [k, []]))]));
  const latencies = Object.fromEntries(SCENARIOS.map((s) => [s, Object.fromEntries(kinds.map((k) => [k, []]))]));

  // One scenario at a time, all its rounds before the next: the writes (d, e) add posts and users,
  // which would otherwise grow what the reads before them (c_include, f_aggregate) return from
  // round to round. Within a scenario the implementations take turns, so each sees the same data.
  for (const name of SCENARIOS) {
    for (const k of kinds) await timeFor(Math.min(300, MS), () => runners[k](name, counters[k]++)); // warm-up
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 ? [...kinds].reverse() : kinds;
      for (const k of order) results[name][k].push(await timeFor(MS, () => runners[k](name, counters[k]++), latencies[name][k]));
    }
    process.stderr.write(`${name} done\n`);
  }
  console.log(`\nThroughput, one request at a time (median ops/s of ${ROUNDS} rounds of ${MS} ms; ratio to raw pg)\n`);
  console.log(`| scenario | ${kinds.join(" | ")} |`);
  console.log(`|---|${kinds.map(() => "---").join("|")}|`);
  for (const name of SCENARIOS) {
    const base = median(results[name]["raw pg"]);
    const cells = kinds.map((k) => {
      const m = median(results[name][k]);
      return k === "raw pg" ? `${m.toFixed(0)}` : `${m.toFixed(0)} (${(m / base).toFixed(2)}x)`;
    });
    console.log(`| ${name} | ${cells.join(" | ")} |`);
  }

  console.log(`\nLatency over all rounds, p50 / p99 in ms\n`);
  console.log(`| scenario | ${kinds.join(" | ")} |`);
  console.log(`|---|${kinds.map(() => "---").join("|")}|`);
  for (const name of SCENARIOS) {
    const cells = kinds.map((k) => {
      const sorted = latencies[name][k].sort((a, b) => a - b);
      return `${percentile(sorted, 50).toFixed(2)} / ${percentile(sorted, 99).toFixed(2)}`;
    });
    console.log(`| ${name} | ${cells.join(" | ")} |`);
  }
  await native.$disconnect();
  await pool.end();

  if (COLD > 0) {
    const cold = { "raw pg": [], native: [], "Wasm + pg": [] };
    for (let r = 0; r < COLD; r++) for (const k of Object.keys(cold)) cold[k].push(await coldStart(k));
    console.log(`\nCold start: spawn of a fresh Node process to its first row (median of ${COLD} runs, ms)\n`);
    console.log(`| raw pg | native addon | Wasm + pg |\n|---|---|---|`);
    console.log(`| ${Object.values(cold).map((xs) => median(xs).toFixed(0)).join(" | ")} |`);
  }
}

await main();
