// Hostile input, on both engines (the WebAssembly engine over node-postgres and the native addon),
// from a fixed seed: wide lists, deep nesting (and a document that contains itself), huge values,
// prototype keys (`__proto__`, `constructor`, `prototype`, objects without a prototype), tagged
// values whose payload is garbage (sent straight to the engine, past the client's encoding), and
// random mutations of the conformance corpus's requests. Every outcome must be a result or a typed
// error (a QuarryError with a P or Q code, never a panic), the process must keep running, and the
// engine must still answer a plain query afterwards. The counts per outcome are printed
// (`QUARRY_HOSTILE_SEED=S` replays another sequence, `QUARRY_HOSTILE_CASES=N` runs more mutations).

import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { QuarryError, QuarryPanicError } from "quarry";
import { Engine } from "../../../npm/dist/npm/src/engine.js";
import { NativeEngine, loadNative } from "../../../npm/dist/npm/src/native.js";
import { freshNamespace, openBackend } from "./support/backends.mjs";
import { checker, readTestFile } from "./support/corpus.mjs";

const SEED = Number(process.env.QUARRY_HOSTILE_SEED ?? 20261206);
const MUTATIONS = Number(process.env.QUARRY_HOSTILE_CASES ?? 600);

/** mulberry32: a small seeded generator, so a run can be replayed. */
function rng(seed) {
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
function generated(r) {
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
function taggedGarbage() {
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
function mutations(r, count) {
  const dir = new URL("../../corpus/cases/", import.meta.url);
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

const delegateName = (model) => model.charAt(0).toLowerCase() + model.slice(1);

for (const backendName of ["pg", "native"]) {
  describe(`hostile input (${backendName === "pg" ? "WebAssembly engine over node-postgres" : "native addon"})`, () => {
    let backend;
    let ns;
    let db;
    let engine;
    const schema = readTestFile("corpus/schemas/store.prisma");
    const outcomes = new Map();
    const failures = [];
    let total = 0;
    const note = (what) => {
      total++;
      outcomes.set(what, (outcomes.get(what) ?? 0) + 1);
    };
    /** Records a settled outcome; anything but a result or a typed, non-panic error fails. */
    const settle = async (name, run) => {
      let outcome;
      try {
        outcome = { ok: await run() };
      } catch (e) {
        outcome = { error: e };
      }
      if ("ok" in outcome) return note("result");
      const e = outcome.error;
      if (!(e instanceof QuarryError) || !/^[PQ]\d{4}$/.test(e.code)) {
        note("untyped");
        failures.push(`${name}: not a typed error: ${e?.stack ?? e}`);
      } else if (e instanceof QuarryPanicError) {
        note(`${e.code} panic`);
        failures.push(`${name}: the engine failed: ${e.message}`);
      } else note(e.code);
    };
    /** Every outcome so far was a result or a typed error. */
    const noFailures = () => assert.deepEqual(failures.splice(0), []);

    before(async () => {
      backend = await openBackend(backendName);
      ns = await freshNamespace(backend, { schema: "corpus/schemas/store.prisma", seed: "corpus/seeds/store.sql", prefix: "qhostile" });
      db = ns.client();
      const options = { namespace: ns.namespace };
      if (backendName === "native") {
        const native = loadNative();
        assert.ok("addon" in native, native.reason);
        engine = new NativeEngine(native.addon, schema, options, backend.url);
      } else {
        engine = new Engine(schema, options, backend.adapter);
      }
    });

    after(async () => {
      const counts = [...outcomes].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`);
      console.log(`hostile input, ${backendName}: ${total} requests (seed ${SEED}): ${counts.join(", ")}`);
      await engine?.close().catch(() => {});
      await ns?.drop();
      await backend?.close();
    });

    // One test per generated request, held to the backend's known-failure list (`hostile/<name>`).
    describe("generated requests through the client", () => {
      const check = checker(test, backendName === "native" ? "native" : `wasm-${backendName}`, "hostile");
      for (const [name, model, action, args] of generated(rng(SEED))) {
        check(name, async () => {
          await settle(name, () => db[delegateName(model)][action](args));
          noFailures();
        });
      }
      test("afterwards, a plain query", async () => {
        assert.equal(await db.account.count({ where: { id: 1 } }), 1);
      });
    });

    test("tagged values with garbage payloads, straight to the engine", { timeout: 60_000 }, async () => {
      for (const [name, request] of taggedGarbage()) {
        await settle(name, () => engine.request({ request }));
      }
      noFailures();
      assert.deepEqual(await engine.request({ request: { model: "Account", action: "count", args: { where: { id: 1 } } } }), 1);
    });

    test("mutations of the corpus's requests, through the client and straight to the engine", { timeout: 120_000 }, async () => {
      const r = rng(SEED + 1);
      for (const [name, request] of mutations(r, MUTATIONS)) {
        if (r.next() < 0.5) {
          const d = db[delegateName(String(request.model))];
          const call = d?.[request.action];
          if (typeof call === "function") {
            await settle(`${name} (client)`, () => call(request.args));
            continue;
          }
        }
        await settle(`${name} (engine)`, () => engine.request({ request }));
      }
      noFailures();
      assert.equal(await db.account.count({ where: { id: 1 } }), 1);
    });

    test("the engine still answers a plain query", async () => {
      const rows = await db.account.findMany({ where: { id: { in: [1, 2] } }, select: { id: true }, orderBy: { id: "asc" } });
      assert.deepEqual(rows, [{ id: 1 }, { id: 2 }]);
    });
  });
}
