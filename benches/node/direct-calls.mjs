// The client's and the module's own cost of a one-statement read, without a database: the bench's
// findUnique and findMany on a tenant view, through an adapter that answers each statement from
// memory (the rows node-postgres gave for it once). The WebAssembly engine three ways, taking turns
// in one process: every request through the module (`module`), the direct path with the whole
// envelope each time (`envelope`), and the direct path served by a handle for a shape seen before
// (`handle`). Median of 7 runs of N requests, µs per request. Needs the schema bench.mjs creates.
//   node benches/node/direct-calls.mjs [N]                    (after scripts/build)
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import pg from "pg";
import { Engine } from "../../npm/dist/npm/src/engine.js";
import { pgAdapter } from "quarry/adapters/pg";
import "quarry"; // the package's Node entry point provides the module to the engine

const N = Number(process.argv[2] ?? 20000);
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test", max: 2 });
const real = pgAdapter(pool);
const answers = new Map();
const replay = {
  ...real,
  provider: real.provider,
  adapterName: real.adapterName,
  async queryRaw(q) {
    const key = `${q.sql}\u0000${JSON.stringify(q.args)}`;
    let r = answers.get(key);
    if (r === undefined) answers.set(key, (r = await real.queryRaw(q)));
    return r;
  },
};
const schema = readFileSync(new URL("../../tests/fixtures/schemas/bench.prisma", import.meta.url), "utf8");
const options = { namespace: "quarry_bench_node" };
const engines = {
  module: new Engine(schema, options, replay, { direct: false }),
  envelope: new Engine(schema, options, replay, { handles: false }),
  handle: new Engine(schema, options, replay),
};
const requests = {
  a_findUnique: (i) => ({ model: "User", action: "findUnique", args: { where: { id: 1 + 10 * (i % 100) } } }),
  b_findMany20: () => ({ model: "Post", action: "findMany", args: { where: { published: true }, orderBy: { createdAt: "desc" }, take: 20 } }),
};
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`µs per request, median of 7 runs of ${N} (load ${loadavg()[0].toFixed(1)})\n`);
console.log(`| request | ${Object.keys(engines).join(" | ")} |\n|---|${Object.keys(engines).map(() => "---").join("|")}|`);
for (const [name, req] of Object.entries(requests)) {
  for (const e of Object.values(engines)) for (let i = 0; i < 2000; i++) await e.request({ request: req(i), tenant: 1 }); // warm-up, answers recorded
  const runs = Object.fromEntries(Object.keys(engines).map((k) => [k, []]));
  for (let r = 0; r < 7; r++) {
    for (const [k, e] of Object.entries(engines)) {
      const start = performance.now();
      for (let i = 0; i < N; i++) await e.request({ request: req(i), tenant: 1 });
      runs[k].push(((performance.now() - start) * 1000) / N);
    }
  }
  console.log(`| ${name} | ${Object.keys(engines).map((k) => median(runs[k]).toFixed(1)).join(" | ")} |`);
}
console.log(`\nhandle reads: ${engines.handle.handleReads} of ${engines.handle.directReads} direct reads`);
await pool.end();
