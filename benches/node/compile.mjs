// Compile time through the client API, no database: `$compile` of the bench's findUnique and
// nested create on a tenant view, on the WebAssembly engine and the native addon, each with the
// plan cache (`limits.planCache`, default) and without it (0). Each request's values change from
// call to call (ids, emails), so the cached figures are of a shape seen before, not of one
// document. Median of 7 runs of N calls each, µs per call.
//
//   node benches/node/compile.mjs [N] [Wasm,native]          (after scripts/build)

import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { createClient } from "quarry";
import { pgAdapter } from "quarry/adapters/pg";
import pg from "pg";

const N = Number(process.argv[2] ?? 20000);
const schema = readFileSync(new URL("../../tests/fixtures/schemas/bench.prisma", import.meta.url), "utf8");
const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const requests = {
  findUnique: (t, i) => t.user.findUnique({ where: { id: 1 + 10 * (i % 100) } }),
  nestedCreate: (t, i) =>
    t.user.create({
      data: { email: `c-${i}@example.com`, name: "Bench", posts: { create: [{ title: `First ${i}` }, { title: "Second" }] } },
      include: { posts: true },
    }),
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const pool = new pg.Pool({ connectionString: url, max: 1 });
const rows = [];
for (const engine of (process.argv[3] ?? "Wasm,native").split(",")) {
  for (const planCache of [undefined, 0]) {
    const options = { schema, limits: { planCache } };
    const db = engine === "Wasm" ? createClient({ ...options, adapter: pgAdapter(pool) }) : createClient({ ...options, url });
    const t = db.$forTenant(1);
    const cells = [];
    for (const [name, request] of Object.entries(requests)) {
      for (let i = 0; i < 2000; i++) t.$compile(request(t, i)); // warm-up
      const runs = [];
      for (let r = 0; r < 7; r++) {
        const start = performance.now();
        for (let i = 0; i < N; i++) t.$compile(request(t, i));
        runs.push(((performance.now() - start) * 1000) / N);
      }
      cells.push(median(runs).toFixed(1));
    }
    rows.push(`| ${engine} | ${planCache === 0 ? "off" : "on"} | ${cells.join(" | ")} |`);
    if (engine === "native") await db.$disconnect();
  }
}
await pool.end();
console.log(`$compile through the client, µs per call (median of 7 runs of ${N}; load ${loadavg()[0].toFixed(1)})\n`);
console.log(`| engine | plan cache | ${Object.keys(requests).join(" | ")} |\n|---|---|${Object.keys(requests).map(() => "---").join("|")}|`);
for (const r of rows) console.log(r);
