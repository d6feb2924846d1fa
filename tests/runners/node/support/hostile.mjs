// The hostile requests of hostile.test.mjs, generated from a seed: wide lists, deep nesting, huge
// values, prototype keys, tagged values with garbage payloads, mutations of the corpus's requests.
// Also run on its own (`node support/hostile.mjs`) to send one generated request in a child
// process, for requests known to end the process they run in.

import { readFileSync, readdirSync } from "node:fs";

export const SEED = Number(process.env.QUARRY_HOSTILE_SEED ?? 20261206);
export const MUTATIONS = Number(process.env.QUARRY_HOSTILE_CASES ?? 600);

/** mulberry32: a small seeded generator, so a run can be replayed. */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (list) => list[Math.floor(next() * list.length)],
  };
}

const nest = (depth, leaf, wrap) => {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = wrap(v, i);
  return v;
};

/** Requests (delegate calls) made to be hostile; each `[name, model, action, args]`. */
export function generated(r) {
  const out = [];
  const add = (name, action, args, model = "Account") => out.push([name, model, action, args]);
  // Wide lists.
  for (const n of [1_000, 70_000, 200_000]) {
    add(`in list of ${n}`, "findMany", { where: { id: { in: Array.from({ length: n }, (_, i) => i) } }, select: { id: true } });
    add(`notIn list of ${n}`, "count", { where: { id: { notIn: Array.from({ length: n }, (_, i) => i) } } });
  }
  for (const n of [100, 5_000, 50_000]) {
    add(`OR of ${n}`, "findMany", { where: { OR: Array.from({ length: n }, (_, i) => ({ id: i })) }, select: { id: true } });
    add(`AND of ${n}`, "count", { where: { AND: Array.from({ length: n }, (_, i) => ({ email: { not: `x${i}` } })) } });
  }
  add("createMany of 20,000 rows", "createMany", { data: Array.from({ length: 20_000 }, (_, i) => ({ email: `wide${i}@x` })) });
  add("select of 10,000 unknown keys", "findMany", { select: Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`f${i}`, true])) });
  add("tags list of 100,000", "updateMany", { where: { id: -1 }, data: { tags: Array.from({ length: 100_000 }, (_, i) => `t${i}`) } });
  // Deep nesting.
  for (const depth of [20, 40, 200, 3_000, 20_000]) {
    add(`NOT nested ${depth} deep`, "count", { where: nest(depth, { id: 1 }, (v) => ({ NOT: v })) });
    add(`AND nested ${depth} deep`, "count", { where: nest(depth, { id: 1 }, (v) => ({ AND: [v] })) });
    add(`include nested ${depth} deep`, "findMany", nest(depth, { take: 1 }, (v, i) => ({ include: { [i % 2 ? "manager" : "reports"]: v } })));
    add(`relation filter nested ${depth} deep`, "count", { where: nest(depth, { id: 1 }, (v) => ({ manager: { is: v } })) });
    add(`Json value nested ${depth} deep`, "updateMany", { where: { id: -1 }, data: { settings: nest(depth, 1, (v) => ({ a: v })) } });
    add(`nested create ${depth} deep`, "create", {
      data: nest(depth, { email: `deep${depth}@x` }, (v, i) => ({ email: `deep${depth}-${i}@x`, manager: { create: v } })),
    });
  }
  const cyclic = { id: 1 };
  cyclic.AND = [cyclic];
  add("a where that contains itself", "count", { where: cyclic });
  const cyclicJson = { a: 1 };
  cyclicJson.self = cyclicJson;
  add("a Json value that contains itself", "updateMany", { where: { id: -1 }, data: { settings: cyclicJson } });
  // Huge values.
  const big = "x".repeat(8 * 1024 * 1024);
  add("an 8 MB string in a filter", "count", { where: { email: big } });
  add("an 8 MB string in a contains", "count", { where: { email: { contains: big } } });
  for (const v of [1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, -0, Number.NaN, Number.POSITIVE_INFINITY, 2n ** 200n, -(2n ** 70n)]) {
    add(`id = ${String(v)}`, "findMany", { where: { id: v }, select: { id: true } });
    add(`take = ${String(v)}`, "findMany", { take: v, select: { id: true } });
    add(`visits = ${String(v)}`, "updateMany", { where: { id: -1 }, data: { visits: v } });
    add(`score = ${String(v)}`, "updateMany", { where: { id: -1 }, data: { score: v } });
  }
  add("an invalid Date", "updateMany", { where: { id: -1 }, data: { createdAt: new Date(Number.NaN) } });
  add("a 16 MB Bytes value", "updateMany", { where: { id: -1 }, data: { avatar: new Uint8Array(16 * 1024 * 1024) } });
  // Prototype keys, in every place a key goes.
  for (const key of ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty"]) {
    const obj = (v) => JSON.parse(`{${JSON.stringify(key)}: ${JSON.stringify(v)}}`);
    add(`${key} in where`, "count", { where: obj({ id: 1 }) });
    add(`${key} as a field filter`, "count", { where: { email: obj("x") } });
    add(`${key} in select`, "findMany", { select: obj(true) });
    add(`${key} in include`, "findMany", { include: obj(true) });
    add(`${key} in data`, "updateMany", { where: { id: -1 }, data: obj("x") });
    add(`${key} in orderBy`, "findMany", { orderBy: obj("asc") });
    add(`${key} as the args`, "findMany", obj({ where: { id: 1 } }));
    add(`${key} in a Json value`, "updateMany", { where: { id: -1 }, data: { settings: obj({ polluted: true }) } });
  }
  const bare = Object.create(null);
  bare.id = 1;
  add("a where without a prototype", "count", { where: bare });
  const bareArgs = Object.assign(Object.create(null), { where: { id: 1 }, select: Object.assign(Object.create(null), { id: true }) });
  add("args without a prototype", "findMany", bareArgs);
  // Random garbage in random places.
  const garbage = () =>
    r.pick([
      null,
      true,
      -1,
      1.5,
      "",
      "💥".repeat(r.int(100)),
      [],
      {},
      [[[]]],
      { $type: "DateTime", value: 1 },
      { $type: "Nope", value: "x" },
      new Date(0),
      2n ** 64n,
      new Uint8Array(3),
    ]);
  for (let i = 0; i < 40; i++) {
    add(`garbage args ${i}`, r.pick(["findMany", "count", "create", "updateMany", "deleteMany", "groupBy", "aggregate"]), {
      [r.pick(["where", "data", "select", "include", "orderBy", "take", "skip", "cursor", "by", "_count", "distinct"])]: garbage(),
    });
  }
  return out;
}

/** Envelopes with tagged values whose payloads are garbage: straight to the engine. */
export function taggedGarbage() {
  const payloads = [null, 1, -1, 1.5, true, "", "not a value", "9".repeat(400), "1e999", "NaN", "-", "2025-13-45", "AAAA====", "!!!", [], {}, [1, 2], { value: 1 }];
  const out = [];
  for (const $type of ["DateTime", "BigInt", "Decimal", "Bytes", "Json", "Float", "Unknown", "", null, 1]) {
    for (const value of payloads) {
      const tagged = { $type, value };
      const field = { DateTime: "createdAt", BigInt: "visits", Decimal: "balance", Bytes: "avatar", Json: "settings", Float: "score" }[$type] ?? "email";
      out.push([`${$type} tag with ${JSON.stringify(value)?.slice(0, 20)} in a filter`, { model: "Account", action: "count", args: { where: { [field]: tagged } } }]);
      out.push([`${$type} tag with ${JSON.stringify(value)?.slice(0, 20)} in data`, { model: "Account", action: "updateMany", args: { where: { id: -1 }, data: { [field]: tagged } } }]);
    }
    out.push([`${$type} tag without a value`, { model: "Account", action: "count", args: { where: { createdAt: { $type } } } }]);
    out.push([`${$type} tag with extra keys`, { model: "Account", action: "count", args: { where: { createdAt: { $type, value: "2025-01-01T00:00:00Z", more: 1 } } } }]);
  }
  return out;
}

/** The corpus's requests, each changed a few times at random. */
export function mutations(r, count) {
  const dir = new URL("../../../corpus/cases/", import.meta.url);
  const requests = [];
  for (const file of readdirSync(dir).filter((f) => f.startsWith("store_") && f.endsWith(".json"))) {
    for (const c of JSON.parse(readFileSync(new URL(file, dir), "utf8")).cases) {
      if (c.request && !Array.isArray(c.request) && c.request.model) requests.push(c.request);
    }
  }
  const keys = ["__proto__", "constructor", "prototype", "where", "select", "include", "data", "id", "email", "in", "AND", "OR", "NOT", "some", "every", "none", "is", "create", "connect", "take", "skip", "_count", "_sum", "by", "$type", "value"];
  const values = () =>
    r.pick([
      null,
      0,
      -1,
      2 ** 53,
      1e300,
      "x",
      "",
      true,
      [],
      {},
      Array.from({ length: r.int(3000) }, (_, i) => i),
      nest(r.int(400), 1, (v) => ({ AND: v })),
      { $type: r.pick(["DateTime", "BigInt", "Decimal", "Bytes", "Json"]), value: r.pick([1, "x", null, {}]) },
    ]);
  function mutate(v, depth) {
    if (v === null || typeof v !== "object" || depth > 6) return r.next() < 0.3 ? values() : v;
    if (Array.isArray(v)) {
      const copy = v.map((x) => (r.next() < 0.5 ? mutate(x, depth + 1) : x));
      if (r.next() < 0.2) copy.push(values());
      if (r.next() < 0.1) return copy.concat(Array.from({ length: 2000 }, () => copy[0]));
      return copy;
    }
    const copy = {};
    for (const [k, x] of Object.entries(v)) {
      const roll = r.next();
      if (roll < 0.08) continue; // dropped
      const key = roll < 0.14 ? r.pick(keys) : k;
      const value = roll > 0.5 ? mutate(x, depth + 1) : x;
      Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
    }
    if (r.next() < 0.15) Object.defineProperty(copy, r.pick(keys), { value: values(), enumerable: true, writable: true, configurable: true });
    return copy;
  }
  const out = [];
  for (let i = 0; i < count; i++) {
    const base = r.pick(requests);
    const request = { ...base, args: mutate(base.args ?? {}, 0) };
    if (r.next() < 0.05) request.action = r.pick(["findMany", "upsert", "nope", "__proto__"]);
    out.push([`mutation ${i} of ${base.model}.${base.action}`, request]);
  }
  return out;
}

export const delegateName = (model) => model.charAt(0).toLowerCase() + model.slice(1);

/**
 * In a child process: runs the generated request named by QUARRY_HOSTILE_CASE on a client for
 * QUARRY_HOSTILE_NAMESPACE over QUARRY_HOSTILE_URL (native) or node-postgres (QUARRY_HOSTILE_PG),
 * and prints its outcome as JSON.
 */
async function child() {
  const { createClient } = await import("quarry");
  const { readTestFile } = await import("./corpus.mjs");
  const name = process.env.QUARRY_HOSTILE_CASE;
  const found = generated(rng(SEED)).find(([n]) => n === name);
  if (!found) throw new Error(`no generated request ${name}`);
  const [, model, action, args] = found;
  const schema = readTestFile("corpus/schemas/store.prisma");
  const namespace = process.env.QUARRY_HOSTILE_NAMESPACE;
  let pool;
  let options;
  if (process.env.QUARRY_HOSTILE_PG) {
    const pg = (await import("pg")).default;
    const { pgAdapter } = await import("quarry/adapters/pg");
    pool = new pg.Pool({ connectionString: process.env.QUARRY_HOSTILE_PG, max: 2 });
    options = { adapter: pgAdapter(pool) };
  } else options = { url: process.env.QUARRY_HOSTILE_URL };
  const db = createClient({ schema, namespace, ...options });
  let outcome;
  try {
    await db[delegateName(model)][action](args);
    outcome = { result: true };
  } catch (e) {
    outcome = { error: { name: e?.name, code: e?.code, message: String(e?.message ?? e), panic: e?.meta?.panic === true } };
  }
  await db.$disconnect();
  await pool?.end();
  process.stdout.write(JSON.stringify(outcome));
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) await child();
