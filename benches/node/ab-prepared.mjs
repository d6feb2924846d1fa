// The WebAssembly engine over node-postgres with and without named prepared statements in the
// adapter (`pgAdapter(pool)` against `pgAdapter(pool, { statementCacheSize: 0 })`), taking turns
// on the same pool and data: ops/s per scenario, one request in flight, and the load average over
// each scenario. Needs the schema bench.mjs creates (run it first).
//   node benches/node/ab-prepared.mjs [rounds] [ms] [a_findUnique,b_findMany20,c_include]
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import pg from "pg";
import { Engine } from "../../npm/dist/npm/src/engine.js";
import { pgAdapter } from "quarry/adapters/pg";
import "quarry"; // the package's Node entry point provides the module to the engine

const [rounds = 5, ms = 1000] = process.argv.slice(2).map(Number);
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test", max: 10 });
const schema = readFileSync(new URL("../../tests/fixtures/schemas/bench.prisma", import.meta.url), "utf8");
const options = { namespace: "quarry_bench_node" };
const engines = {
  unnamed: new Engine(schema, options, pgAdapter(pool, { statementCacheSize: 0 })),
  named: new Engine(schema, options, pgAdapter(pool)),
};
const requests = {
  a_findUnique: (i) => ({ model: "User", action: "findUnique", args: { where: { id: 1 + 10 * (i % 100) } } }),
  b_findMany20: () => ({ model: "Post", action: "findMany", args: { where: { published: true }, orderBy: { createdAt: "desc" }, take: 20 } }),
  c_include: () => ({ model: "User", action: "findMany", args: { take: 20, include: { posts: true } } }),
};
const only = process.argv[4]?.split(",");
console.log(`median ops/s of ${rounds} rounds of ${ms} ms, one request in flight`);
for (const [name, req] of Object.entries(requests)) {
  if (only && !only.includes(name)) continue;
  // Warm both: the plan cache and, for the named adapter, the statement's second use.
  for (const engine of Object.values(engines)) for (let i = 0; i < 20; i++) await engine.request({ request: req(i), tenant: 1 });
  const loadBefore = loadavg()[0];
  const ops = { unnamed: [], named: [] };
  for (let r = 0; r < rounds; r++) {
    for (const k of r % 2 ? ["named", "unnamed"] : ["unnamed", "named"]) {
      let i = 0;
      const start = performance.now();
      const end = start + ms;
      while (performance.now() < end) await engines[k].request({ request: req(i++), tenant: 1 });
      ops[k].push((i / (performance.now() - start)) * 1000);
    }
  }
  const med = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
  const [u, n] = [med(ops.unnamed), med(ops.named)];
  console.log(`${name}: unnamed ${u.toFixed(0)}, named ${n.toFixed(0)} (${(n / u).toFixed(2)}x); load ${loadBefore.toFixed(1)}–${loadavg()[0].toFixed(1)}`);
}
await pool.end();
