// Two builds of the native addon in one process, taking turns with raw node-postgres running the
// engine's statement, one request in flight: per scenario the median wall time and process CPU
// time (every thread: the addon's runtime and Node's) per request over the rounds. CPU time moves
// far less than wall time on a shared machine. Needs the schema bench.mjs creates (run it first);
// the first build is the one given, the second the package's.
//   QUARRY_NATIVE_BEFORE=/path/to/old/quarry.node node benches/node/ab-native.mjs [rounds] [requests per round] [scenarios]
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { createRequire } from "node:module";
import pg from "pg";
import { bundledAddonPath } from "../../npm/dist/npm/src/native.js";
import { decode } from "../../npm/dist/npm/src/values.js";

const [rounds = 5, per = 5, only = "c_include,f_aggregate"] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const URL_ = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const schema = readFileSync(new URL("../../tests/fixtures/schemas/bench.prisma", import.meta.url), "utf8");
const ns = "quarry_bench_node";
const pool = new pg.Pool({ connectionString: URL_, max: 4 });
const open = (path) => new (require(path).QuarryEngine)(schema, JSON.stringify({ namespace: ns }), `${URL_}?connection_limit=4&sslmode=disable`, false);
const engines = { before: open(process.env.QUARRY_NATIVE_BEFORE ?? bundledAddonPath()), after: open(bundledAddonPath()) };
const scenarios = {
  a_findUnique: { model: "User", action: "findUnique", args: { where: { id: 11 } } },
  b_findMany20: { model: "Post", action: "findMany", args: { where: { published: true }, orderBy: { createdAt: "desc" }, take: 20 } },
  c_include: { model: "User", action: "findMany", args: { take: 20, include: { posts: true } } },
  f_aggregate: { model: "Post", action: "groupBy", args: { by: ["authorId"], _sum: { views: true } } },
};
/** The parameters of each scenario's statement, in the engine's order. */
const values = { a_findUnique: [11, 1], b_findMany20: [true, 20, 1], c_include: [20, 1], f_aggregate: [1] };
for (const name of only.split(",")) {
  const envelope = JSON.stringify({ request: scenarios[name], tenant: 1 });
  const [{ sql: text }] = JSON.parse(engines.after.compile(envelope)).statements;
  const impls = {
    "raw pg": async () => (await pool.query({ name, text, values: values[name] })).rows,
    before: async () => decode(JSON.parse(await engines.before.request(envelope))),
    after: async () => decode(JSON.parse(await engines.after.request(envelope))),
  };
  const wall = {};
  const cpu = {};
  for (const f of Object.values(impls)) await f();
  for (let r = 0; r < Number(rounds); r++) {
    const order = Object.keys(impls);
    for (const k of r % 2 ? order.reverse() : order) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < Number(per); i++) await impls[k]();
      const c = process.cpuUsage(c0);
      (wall[k] ??= []).push((performance.now() - t0) / Number(per));
      (cpu[k] ??= []).push((c.user + c.system) / 1000 / Number(per));
    }
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const cells = Object.keys(impls).map((k) => `${k} ${med(wall[k]).toFixed(3)} ms wall, ${med(cpu[k]).toFixed(3)} ms CPU`);
  console.log(`${name} (load ${loadavg()[0].toFixed(1)}): ${cells.join("; ")}`);
}
await Promise.all(Object.values(engines).map((e) => e.close()));
await pool.end();
