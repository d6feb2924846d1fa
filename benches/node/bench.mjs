// End to end in Node, one process, one run, four implementations of the same workload:
// - "pg hand SQL": raw node-postgres running the SQL a person would write for each scenario (the
//   tenant predicate by hand; c_include as two queries stitched in JavaScript, e as one
//   transaction), named prepared statements, rows as pg returns them;
// - "pg Quarry SQL": raw node-postgres running the engine's own statements, parameters bound by
//   hand;
// - "native": the native addon (`createClient({ schema, url })`);
// - "Wasm + pg": the WebAssembly engine over node-postgres (`createClient({ schema, adapter })`);
// - "Drizzle": drizzle-orm's node-postgres driver on the same pool, the workload written as its
//   documentation shows (query builder; c_include through its relational queries, which build one
//   statement with JSON aggregation; e as a transaction of two INSERTs), the tenant predicate by
//   hand.
// Workload: the benchmark schema and seed, scenarios a-f under tenant 1 (the same requests as
// benches/src/lib.rs), in a PostgreSQL schema of its own that is re-created and seeded at the
// start. For each concurrency level (requests in flight; every pool has `--pool` connections):
// scenario after scenario, a warm-up, then rounds in which each implementation runs it for a
// fixed time, implementations taking turns; the tables show the median ops/s over the rounds with
// the ratios to both raw pg baselines, the p50 / p99 latency of every request timed, and the CPU
// time per request of this process (all threads: the addon's runtime too) and of the whole machine
// (PostgreSQL included; on two cores saturated at 32 in flight, that is what bounds ops/s). The
// machine's load average (1 minute) is printed with every scenario: on a shared machine the
// figures mean little without it. Then cold start: a fresh Node process per run, from spawn to
// its first result row, median.
//
//   node benches/node/bench.mjs [--rounds N] [--ms MS] [--concurrency 1,32] [--pool 10] [--cold N]
//                               [--without native]   (leave implementations out)
//                               [--scenarios c_include,e_nestedCreate]   (only these scenarios)
// (after scripts/build; needs the PostgreSQL in DATABASE_URL)

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { and, desc, eq, relations, sum } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import { boolean, integer, pgSchema, serial, text, timestamp } from "drizzle-orm/pg-core";
import pg from "pg";
import { createClient } from "quarry";
import { pgAdapter } from "quarry/adapters/pg";

const { values: flags } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    ms: { type: "string", default: "1000" },
    cold: { type: "string", default: "7" },
    concurrency: { type: "string", default: "1,32" },
    pool: { type: "string", default: "10" },
    without: { type: "string", default: "" },
    scenarios: { type: "string", default: "" },
  },
});
const LEVELS = flags.concurrency.split(",").map(Number);
const POOL = Number(flags.pool);
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
const ALL_SCENARIOS = ["a_findUnique", "b_findMany20", "c_include", "d_create", "e_nestedCreate", "f_aggregate"];
const SCENARIOS = flags.scenarios ? ALL_SCENARIOS.filter((s) => flags.scenarios.split(",").includes(s)) : ALL_SCENARIOS;

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
      return [[`bench-${run}-raw-${i}@example.com`, "Bench", TENANT, "First", "Second", TENANT, TENANT]][n];
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
      // Every scenario is one statement (e_nestedCreate too: data-modifying CTEs).
      return (await q(0)).rows;
    } finally {
      c.release();
    }
  };
}

/** The SQL a person would write for each scenario, with the tenant predicate by hand. */
const q = (table) => `"${NAMESPACE}"."${table}"`;
const HAND = {
  a_findUnique: `SELECT "id", "tenantId", "email", "name", "createdAt" FROM ${q("User")} WHERE "id" = $1 AND "tenantId" = $2`,
  b_findMany20: `SELECT "id", "tenantId", "authorId", "title", "published", "views", "createdAt" FROM ${q("Post")}
    WHERE "tenantId" = $1 AND "published" = $2 ORDER BY "createdAt" DESC LIMIT $3`,
  c_users: `SELECT "id", "tenantId", "email", "name", "createdAt" FROM ${q("User")} WHERE "tenantId" = $1 ORDER BY "id" LIMIT $2`,
  c_posts: `SELECT "id", "tenantId", "authorId", "title", "published", "views", "createdAt" FROM ${q("Post")}
    WHERE "tenantId" = $1 AND "authorId" = ANY($2) ORDER BY "id"`,
  d_create: `INSERT INTO ${q("Post")} ("tenantId", "authorId", "title") VALUES ($1, $2, $3)
    RETURNING "id", "tenantId", "authorId", "title", "published", "views", "createdAt"`,
  e_user: `INSERT INTO ${q("User")} ("tenantId", "email", "name") VALUES ($1, $2, $3) RETURNING "id", "tenantId", "email", "name", "createdAt"`,
  e_posts: `INSERT INTO ${q("Post")} ("tenantId", "authorId", "title") VALUES ($1, $2, $3), ($1, $2, $4)
    RETURNING "id", "tenantId", "authorId", "title", "published", "views", "createdAt"`,
  f_aggregate: `SELECT "authorId", SUM("views") AS "views" FROM ${q("Post")} WHERE "tenantId" = $1 GROUP BY "authorId"`,
};

/** Raw node-postgres with the hand-written SQL: what an application without an ORM runs. */
function handRunner(pool) {
  return async (name, i) => {
    const c = await pool.connect();
    const run = (key, values) => c.query({ name: `hand_${key}`, text: HAND[key], values });
    try {
      switch (name) {
        case "a_findUnique":
          return (await run(name, [tenantUser(i), TENANT])).rows[0] ?? null;
        case "b_findMany20":
          return (await run(name, [TENANT, true, 20])).rows;
        case "c_include": {
          const users = (await run("c_users", [TENANT, 20])).rows;
          const posts = (await run("c_posts", [TENANT, users.map((u) => u.id)])).rows;
          const byAuthor = new Map(users.map((u) => [u.id, (u.posts = [])]));
          for (const p of posts) byAuthor.get(p.authorId)?.push(p);
          return users;
        }
        case "d_create":
          return (await run(name, [TENANT, tenantUser(i), `Bench post ${i}`])).rows[0];
        case "e_nestedCreate": {
          await c.query("BEGIN");
          try {
            const user = (await run("e_user", [TENANT, `bench-h${RUN}-${i}@example.com`, "Bench"])).rows[0];
            user.posts = (await run("e_posts", [TENANT, user.id, "First", "Second"])).rows;
            await c.query("COMMIT");
            return user;
          } catch (e) {
            await c.query("ROLLBACK");
            throw e;
          }
        }
        case "f_aggregate":
          return (await run(name, [TENANT])).rows;
      }
      throw new Error(name);
    } finally {
      c.release();
    }
  };
}

/** The benchmark schema as Drizzle tables (the columns the workload touches). */
const dz = pgSchema(NAMESPACE);
const dUser = dz.table("User", {
  id: serial("id").primaryKey(),
  tenantId: integer("tenantId").notNull(),
  email: text("email").notNull(),
  name: text("name"),
  createdAt: timestamp("createdAt", { precision: 3, mode: "date" }).notNull().defaultNow(),
});
const dPost = dz.table("Post", {
  id: serial("id").primaryKey(),
  tenantId: integer("tenantId").notNull(),
  authorId: integer("authorId").notNull(),
  title: text("title").notNull(),
  published: boolean("published").notNull().default(false),
  views: integer("views").notNull().default(0),
  createdAt: timestamp("createdAt", { precision: 3, mode: "date" }).notNull().defaultNow(),
});
const dUserRelations = relations(dUser, ({ many }) => ({ posts: many(dPost) }));
const dPostRelations = relations(dPost, ({ one }) => ({ author: one(dUser, { fields: [dPost.authorId], references: [dUser.id] }) }));

/** Drizzle on the same pool: the workload as its documentation writes it, tenant predicate by hand. */
function drizzleRunner(pool) {
  const db = drizzle(pool, { schema: { user: dUser, post: dPost, dUserRelations, dPostRelations } });
  return async (name, i) => {
    switch (name) {
      case "a_findUnique":
        return (await db.select().from(dUser).where(and(eq(dUser.id, tenantUser(i)), eq(dUser.tenantId, TENANT))).limit(1))[0] ?? null;
      case "b_findMany20":
        return db.select().from(dPost).where(and(eq(dPost.tenantId, TENANT), eq(dPost.published, true))).orderBy(desc(dPost.createdAt)).limit(20);
      case "c_include":
        return db.query.user.findMany({
          where: eq(dUser.tenantId, TENANT),
          orderBy: dUser.id,
          limit: 20,
          with: { posts: { where: eq(dPost.tenantId, TENANT), orderBy: dPost.id } },
        });
      case "d_create":
        return (await db.insert(dPost).values({ tenantId: TENANT, authorId: tenantUser(i), title: `Bench post ${i}` }).returning())[0];
      case "e_nestedCreate":
        return db.transaction(async (tx) => {
          const [user] = await tx.insert(dUser).values({ tenantId: TENANT, email: `bench-d${RUN}-${i}@example.com`, name: "Bench" }).returning();
          const posts = await tx
            .insert(dPost)
            .values([
              { tenantId: TENANT, authorId: user.id, title: "First" },
              { tenantId: TENANT, authorId: user.id, title: "Second" },
            ])
            .returning();
          return { ...user, posts };
        });
      case "f_aggregate":
        return db.select({ authorId: dPost.authorId, views: sum(dPost.views) }).from(dPost).where(eq(dPost.tenantId, TENANT)).groupBy(dPost.authorId);
    }
    throw new Error(name);
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

/** The machine's busy CPU time so far in µs, all cores (Linux's /proc/stat; undefined elsewhere). */
function machineBusy() {
  try {
    const [, ...ticks] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).map(Number);
    // user nice system idle iowait irq softirq steal: everything but idle and iowait, in USER_HZ (100/s).
    const busy = ticks.slice(0, 8).reduce((a, b) => a + b, 0) - ticks[3] - ticks[4];
    return busy * 10_000;
  } catch {
    return undefined;
  }
}

/** Runs `fn` for `ms` with `inFlight` calls in flight (each worker one call at a time); returns
 * ops/s and adds each call's latency to `lat`, and to `cpu` this process's CPU time (all its
 * threads) and the whole machine's per call, in µs. */
async function timeFor(ms, fn, lat = [], inFlight = 1, cpu = undefined) {
  const cpu0 = process.cpuUsage();
  const busy0 = machineBusy();
  let done = 0;
  const start = performance.now();
  const end = start + ms;
  let last = start;
  const worker = async () => {
    let t = performance.now();
    while (t < end) {
      await fn();
      const now = performance.now();
      lat.push(now - t);
      done++;
      t = now;
      if (now > last) last = now;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  if (cpu) {
    const used = process.cpuUsage(cpu0);
    const busy1 = machineBusy();
    cpu.process.push((used.user + used.system) / done);
    if (busy0 !== undefined && busy1 !== undefined) cpu.machine.push((busy1 - busy0) / done);
  }
  return (done / (last - start)) * 1000;
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
import { loadavg } from "node:os";
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

const load = () => loadavg()[0].toFixed(1);

async function main() {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: POOL });
  pool.on("error", () => {});
  const wasm = createClient({ schema: SCHEMA, adapter: pgAdapter(pool), namespace: NAMESPACE });
  // The workload's seed links comments to other tenants' users: no tenant-matching keys.
  await prepare(pool, wasm.$ddl({ tenantKeys: false }));
  const sep = DATABASE_URL.includes("?") ? "&" : "?";
  const withNative = !flags.without.split(",").includes("native");
  const native = withNative
    ? createClient({ schema: SCHEMA, url: `${DATABASE_URL}${sep}connection_limit=${POOL}&sslmode=disable`, namespace: NAMESPACE })
    : undefined;

  const statements = {};
  const t = wasm.$forTenant(TENANT);
  for (const name of SCENARIOS) {
    const compiled = t.$compile(request(t, name, 0, "check"));
    checkParams(name, compiled);
    statements[name] = compiled.statements.map((s) => s.sql);
  }
  const runners = {
    "pg hand SQL": handRunner(pool),
    "pg Quarry SQL": rawRunner(pool, statements),
    native: native && ((v) => (name, i) => request(v, name, i, `n${RUN}`))(native.$forTenant(TENANT)),
    "Wasm + pg": ((v) => (name, i) => request(v, name, i, `w${RUN}`))(wasm.$forTenant(TENANT)),
    Drizzle: drizzleRunner(pool),
  };
  for (const k of flags.without.split(",").filter(Boolean)) delete runners[k];
  const kinds = Object.keys(runners);
  const counters = Object.fromEntries(kinds.map((k) => [k, 0]));
  console.log(`Node ${process.version}, pools of ${POOL} connections, ${ROUNDS} rounds of ${MS} ms per implementation and scenario; load average at start ${loadavg().map((l) => l.toFixed(1)).join(" ")}`);

  for (const inFlight of LEVELS) {
    const results = Object.fromEntries(SCENARIOS.map((s) => [s, Object.fromEntries(kinds.map((k) => [k, []]))]));
    const latencies = Object.fromEntries(SCENARIOS.map((s) => [s, Object.fromEntries(kinds.map((k) => [k, []]))]));
    const cpus = Object.fromEntries(SCENARIOS.map((s) => [s, Object.fromEntries(kinds.map((k) => [k, { process: [], machine: [] }]))]));
    const loads = {};
    // One scenario at a time, all its rounds before the next: the writes (d, e) add posts and
    // users, which would otherwise grow what the reads before them (c_include, f_aggregate) return
    // from round to round. Within a scenario the implementations take turns, so each sees the
    // same data.
    for (const name of SCENARIOS) {
      // Fresh statistics before each scenario, as autovacuum keeps them on a database in use: the
      // writes of d and e all go to tenant 1, and with the seed's statistics PostgreSQL estimates
      // the tenant's share of Post at a tenth of what it has become. Its plan for a nested read
      // (e's read-back, c_include's posts) then ANDs the author index with a bitmap of the whole
      // tenant's index entries, whose cost grows with every post written (measured: 0.54 ms per
      // read-back at 23,000 posts of tenant 1 instead of 0.01 ms), and when autovacuum's ANALYZE
      // runs would depend on timing alone.
      await pool.query(`ANALYZE "${NAMESPACE}"."Tenant", "${NAMESPACE}"."User", "${NAMESPACE}"."Post", "${NAMESPACE}"."Comment"`);
      const before = load();
      for (const k of kinds) await timeFor(Math.min(300, MS), () => runners[k](name, counters[k]++), [], inFlight); // warm-up
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 ? [...kinds].reverse() : kinds;
        for (const k of order) results[name][k].push(await timeFor(MS, () => runners[k](name, counters[k]++), latencies[name][k], inFlight, cpus[name][k]));
      }
      loads[name] = `${before}–${load()}`;
      process.stderr.write(`${inFlight} in flight: ${name} done\n`);
    }
    console.log(`\n${inFlight} request${inFlight > 1 ? "s" : ""} in flight: median ops/s of ${ROUNDS} rounds; ratios to pg with Quarry's SQL / to pg with hand-written SQL\n`);
    console.log(`| scenario | ${kinds.join(" | ")} | load |`);
    console.log(`|---|${kinds.map(() => "---").join("|")}|---|`);
    for (const name of SCENARIOS) {
      const hand = median(results[name]["pg hand SQL"]);
      const base = median(results[name]["pg Quarry SQL"]);
      const cells = kinds.map((k) => {
        const m = median(results[name][k]);
        if (k === "pg hand SQL") return `${m.toFixed(0)}`;
        if (k === "pg Quarry SQL") return `${m.toFixed(0)} (${(m / hand).toFixed(2)}x hand)`;
        return `${m.toFixed(0)} (${(m / base).toFixed(2)}x / ${(m / hand).toFixed(2)}x)`;
      });
      console.log(`| ${name} | ${cells.join(" | ")} | ${loads[name]} |`);
    }
    console.log(`\n${inFlight} in flight: latency over all rounds, p50 / p99 in ms\n`);
    console.log(`| scenario | ${kinds.join(" | ")} |`);
    console.log(`|---|${kinds.map(() => "---").join("|")}|`);
    for (const name of SCENARIOS) {
      const cells = kinds.map((k) => {
        const sorted = latencies[name][k].sort((a, b) => a - b);
        return `${percentile(sorted, 50).toFixed(2)} / ${percentile(sorted, 99).toFixed(2)}`;
      });
      console.log(`| ${name} | ${cells.join(" | ")} |`);
    }
    console.log(`\n${inFlight} in flight: CPU time per request in µs, median of the rounds: this Node process (all its threads) / the whole machine (PostgreSQL included)\n`);
    console.log(`| scenario | ${kinds.join(" | ")} |`);
    console.log(`|---|${kinds.map(() => "---").join("|")}|`);
    for (const name of SCENARIOS) {
      const cells = kinds.map((k) => {
        const { process: p, machine: m } = cpus[name][k];
        return `${median(p).toFixed(0)} / ${m.length ? median(m).toFixed(0) : "–"}`;
      });
      console.log(`| ${name} | ${cells.join(" | ")} |`);
    }
  }
  await native?.$disconnect();
  await pool.end();

  if (COLD > 0) {
    const cold = { "raw pg": [], native: [], "Wasm + pg": [] };
    for (let r = 0; r < COLD; r++) for (const k of Object.keys(cold)) cold[k].push(await coldStart(k));
    console.log(`\nCold start: spawn of a fresh Node process to its first row (median of ${COLD} runs, ms; load ${load()})\n`);
    console.log(`| raw pg | native addon | Wasm + pg |\n|---|---|---|`);
    console.log(`| ${Object.values(cold).map((xs) => median(xs).toFixed(0)).join(" | ")} |`);
  }
}

await main();
