// Runs one scenario of the Node bench on one implementation in a loop, for a profiler:
//   perf record -g node --perf-basic-prof benches/node/profile.mjs c_include native 3000
//   node --cpu-prof benches/node/profile.mjs c_include native 3000
// (after `node benches/node/bench.mjs` has created and seeded its schema).
import pg from "pg";
import { readFileSync } from "node:fs";
import { createClient } from "quarry";
import { pgAdapter } from "quarry/adapters/pg";

const [scenario = "c_include", kind = "native", n = "3000"] = process.argv.slice(2);
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const schema = readFileSync(new URL("../../tests/fixtures/schemas/bench.prisma", import.meta.url), "utf8");
const namespace = "quarry_bench_node";
const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
const db =
  kind === "native"
    ? createClient({ schema, url: `${DATABASE_URL}?connection_limit=4&sslmode=disable`, namespace })
    : createClient({ schema, adapter: pgAdapter(pool), namespace });
const t = db.$forTenant(1);
const requests = {
  a_findUnique: (i) => t.user.findUnique({ where: { id: 1 + 10 * (i % 100) } }),
  b_findMany20: () => t.post.findMany({ where: { published: true }, orderBy: { createdAt: "desc" }, take: 20 }),
  c_include: () => t.user.findMany({ take: 20, include: { posts: true } }),
  f_aggregate: () => t.post.groupBy({ by: ["authorId"], _sum: { views: true } }),
};
const start = performance.now();
for (let i = 0; i < Number(n); i++) await requests[scenario](i);
console.log(`${scenario} on ${kind}: ${((Number(n) / (performance.now() - start)) * 1000).toFixed(0)} ops/s`);
if (kind === "native") await db.$disconnect();
await pool.end();
