import { readFileSync } from "node:fs";
import pg from "pg";
import { createClient } from "quarry";
import { pgAdapter } from "quarry/adapters/pg";
const NS="quarry_bench_node";
const schema = readFileSync("/work/main/tests/fixtures/schemas/bench.prisma","utf8");
const pool = new pg.Pool({ connectionString: "postgres://postgres@127.0.0.1:5432/test", max: 4, options: `-c search_path=${NS}` });
const db = createClient({ schema, adapter: pgAdapter(pool), namespace: NS });
const t = db.$forTenant(1);
const which = process.argv[2];
const f = { a: (i)=>t.user.findUnique({ where: { id: 1+10*(i%100) } }), c: ()=>t.user.findMany({ take: 20, include: { posts: true } }), f: ()=>t.post.groupBy({ by: ["authorId"], _sum: { views: true } }) }[which];
for (let i=0;i<200;i++) await f(i);
const c0=process.cpuUsage(); let n=0;
while (n < 1000) { await f(n++); }
const u=process.cpuUsage(c0); console.log(which, "cpu µs/req", ((u.user+u.system)/n).toFixed(0));
await pool.end();
