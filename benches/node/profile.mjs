// Runs one scenario of the Node bench on one implementation in a loop, for a profiler, with
// `inFlight` requests in flight (default 1), and prints ops/s and the process's CPU time per
// request (all its threads):
//   perf record -g node --perf-basic-prof benches/node/profile.mjs c_include native 3000 [inFlight]
//   node --cpu-prof benches/node/profile.mjs c_include wasm 3000 32
// Kinds: native; wasm (the client over pgAdapter); and for the reads, the WebAssembly path layer by
// layer: pg (node-postgres running the engine's statement), adapter (pgAdapter running it),
// engine (the client's engine object given the request document, without the client around it).
// (after `node benches/node/bench.mjs` has created and seeded its schema; d_create and
// e_nestedCreate write to it).
import pg from "pg";
import { readFileSync } from "node:fs";
import { createClient } from "quarry";
import { pgAdapter } from "quarry/adapters/pg";
import { Engine } from "../../npm/dist/npm/src/engine.js";

const [scenario = "c_include", kind = "native", n = "3000", inFlight = "1"] = process.argv.slice(2);
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const schema = readFileSync(new URL("../../tests/fixtures/schemas/bench.prisma", import.meta.url), "utf8");
const namespace = "quarry_bench_node";
const POOL = Number(inFlight) > 1 ? 10 : 4;
const pool = new pg.Pool({ connectionString: DATABASE_URL, max: POOL });
const db =
  kind === "native"
    ? createClient({ schema, url: `${DATABASE_URL}?connection_limit=${POOL}&sslmode=disable`, namespace })
    : createClient({ schema, adapter: pgAdapter(pool), namespace });
const t = db.$forTenant(1);
/** Each scenario's request document, as the client hands it to its engine. */
const documents = {
  a_findUnique: (i) => ({ model: "User", action: "findUnique", args: { where: { id: 1 + 10 * (i % 100) } } }),
  b_findMany20: () => ({ model: "Post", action: "findMany", args: { where: { published: true }, orderBy: { createdAt: "desc" }, take: 20 } }),
  c_include: () => ({ model: "User", action: "findMany", args: { take: 20, include: { posts: true } } }),
  d_create: (i) => ({ model: "Post", action: "create", args: { data: { authorId: 1 + 10 * (i % 100), title: `Profile post ${i}` } } }),
  e_nestedCreate: (i) => ({
    model: "User",
    action: "create",
    args: {
      data: { email: `profile-${process.pid}-${i}@example.com`, name: "Bench", posts: { create: [{ title: "First" }, { title: "Second" }] } },
      include: { posts: true },
    },
  }),
  f_aggregate: () => ({ model: "Post", action: "groupBy", args: { by: ["authorId"], _sum: { views: true } } }),
};
/** The same request as a client call on the tenant view. */
const request = (i) => {
  const { model, action, args } = documents[scenario](i);
  return t[model[0].toLowerCase() + model.slice(1)][action](args);
};
const statements = new Map();
/** The engine's statement for request `i` (`a_findUnique` varies its id). */
function statement(i) {
  const key = scenario === "a_findUnique" ? i % 100 : 0;
  let s = statements.get(key);
  if (s === undefined) {
    const [{ sql, params }] = t.$compile(request(i)).statements;
    s = { name: `profile_${scenario}_${key}`, text: sql, values: params };
    statements.set(key, s);
  }
  return s;
}
let engine;
const layers = {
  pg: (i) => pool.query(statement(i)),
  adapter: ((adapter) => (i) => {
    const { text, values } = statement(i);
    return adapter.queryRaw({ sql: text, args: values, argTypes: [] });
  })(pgAdapter(pool)),
  engine: (i) => {
    engine ??= new Engine(schema, { namespace }, pgAdapter(pool));
    return engine.request({ request: documents[scenario](i), tenant: 1 });
  },
};
if (kind in layers && !["a_findUnique", "b_findMany20", "c_include", "f_aggregate"].includes(scenario)) throw new Error(`${kind} runs the reads only`);
if (!(kind in layers) && !["native", "wasm"].includes(kind)) throw new Error(`unknown kind ${kind}`);
const run = layers[kind] ?? request;
let next = 0;
const worker = async () => {
  while (next < Number(n)) await run(next++);
};
const cpu0 = process.cpuUsage();
const start = performance.now();
await Promise.all(Array.from({ length: Number(inFlight) }, worker));
const wall = performance.now() - start;
const cpu = process.cpuUsage(cpu0);
console.log(
  `${scenario} on ${kind}, ${inFlight} in flight: ${((Number(n) / wall) * 1000).toFixed(0)} ops/s, ` +
    `process CPU ${((cpu.user + cpu.system) / Number(n)).toFixed(1)} µs per request (${(cpu.system / Number(n)).toFixed(1)} in the kernel)`,
);
if (kind === "native") await db.$disconnect();
await pool.end();
