// The WebAssembly engine with and without the direct path for one-statement reads
// (npm/src/direct.ts), and on the direct path with and without handles for shapes seen before
// (npm/src/engine.ts), taking turns on the same pool and data: ops/s per scenario, one request in
// flight. Needs the schema bench.mjs creates (run it first).
//   node benches/node/ab-direct.mjs [rounds] [ms]
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
  module: new Engine(schema, options, pgAdapter(pool), { direct: false }),
  direct: new Engine(schema, options, pgAdapter(pool), { handles: false }),
  handle: new Engine(schema, options, pgAdapter(pool)),
};
const names = Object.keys(engines);
const requests = {
  a_findUnique: (i) => ({ model: "User", action: "findUnique", args: { where: { id: 1 + 10 * (i % 100) } } }),
  b_findMany20: () => ({ model: "Post", action: "findMany", args: { where: { published: true }, orderBy: { createdAt: "desc" }, take: 20 } }),
  c_include: () => ({ model: "User", action: "findMany", args: { take: 20, include: { posts: true } } }),
  f_aggregate: () => ({ model: "Post", action: "groupBy", args: { by: ["authorId"], _sum: { views: true } } }),
};
console.log(`load ${loadavg()[0].toFixed(1)}; median ops/s of ${rounds} rounds of ${ms} ms`);
for (const [name, req] of Object.entries(requests)) {
  const ops = Object.fromEntries(names.map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    for (const k of r % 2 ? [...names].reverse() : names) {
      let i = 0;
      const end = performance.now() + ms;
      const start = performance.now();
      while (performance.now() < end) await engines[k].request({ request: req(i++), tenant: 1 });
      ops[k].push((i / (performance.now() - start)) * 1000);
    }
  }
  const med = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
  const [m, d, h] = names.map((k) => med(ops[k]));
  console.log(
    `${name}: module ${m.toFixed(0)}, direct ${d.toFixed(0)} (${(d / m).toFixed(2)}x), handle ${h.toFixed(0)} (${(h / d).toFixed(2)}x of direct); ` +
      `direct reads ${engines.direct.directReads}, by handle ${engines.handle.handleReads} of ${engines.handle.directReads}`,
  );
}
await pool.end();
