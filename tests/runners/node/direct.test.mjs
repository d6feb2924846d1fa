// Reads shaped by the client (npm/src/direct.ts) against reads shaped by the engine: every request
// of the corpus's read suites runs on two WebAssembly engines over the same node-postgres pool and
// data, one that takes the direct path where the engine offers it and one that sends everything
// through the module, four times each (cold, from the plan cache, then twice by the handle the
// first direct answer gave for the request's shape). Results must be identical as tagged JSON
// (before the client decodes them), errors must have the same code; and the direct path and its
// handles must have answered most of the reads, so this cannot pass by never taking them.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { DriverAdapterError } from "../../../npm/dist/npm/src/adapter.js";
import { Engine, debugPanic } from "../../../npm/dist/npm/src/engine.js";
import { dropNamespace, openBackend, prepareNamespace } from "./support/backends.mjs";
import { loadSuites, readTestFile } from "./support/corpus.mjs";

let backend;
const created = [];
before(async () => {
  backend = await openBackend("pg");
});
after(async () => {
  for (const ns of created) await dropNamespace(backend.adapter, ns);
  await backend.close();
});

async function outcome(engine, envelope) {
  try {
    return { result: await engine.request(envelope) };
  } catch (e) {
    return { error: e.code ?? String(e) };
  }
}

test("reads shaped by the client are the engine's, on every read case of the corpus", async () => {
  let reads = 0;
  let direct = 0;
  let aggregates = 0;
  let handled = 0;
  const suffix = `${process.pid}_${Date.now() % 100000}`;
  for (const suite of loadSuites().filter((s) => s.mode !== "write")) {
    const namespace = `qd_${suite.name}_${suffix}`;
    const schema = readTestFile(suite.schema);
    const withDirect = new Engine(schema, { namespace }, backend.adapter);
    const viaModule = new Engine(schema, { namespace }, backend.adapter, { direct: false });
    await prepareNamespace(backend.adapter, withDirect.ddl(), namespace, suite.seed ? readTestFile(suite.seed) : undefined);
    created.push(namespace);
    for (const c of suite.cases) {
      if (Array.isArray(c.request)) continue;
      const envelope = { request: c.request, ...(c.unscoped ? { unscoped: true } : "tenant" in c ? { tenant: c.tenant } : {}) };
      for (const round of ["cold", "cached", "handle", "handle again"]) {
        const before = withDirect.directReads;
        const handledBefore = withDirect.handleReads;
        const a = await outcome(withDirect, envelope);
        const b = await outcome(viaModule, envelope);
        assert.deepStrictEqual(a, b, `${suite.name} / ${c.name} (${round}): the direct path gave ${JSON.stringify(a)}, the module ${JSON.stringify(b)}`);
        reads++;
        direct += withDirect.directReads - before;
        handled += withDirect.handleReads - handledBefore;
        if (["aggregate", "groupBy"].includes(c.request.action)) aggregates += withDirect.directReads - before;
      }
    }
    assert.equal(viaModule.directReads, 0);
  }
  // Most reads are one statement of types the client converts; the rest (counts, BigInt /
  // Decimal / Bytes / Json fields, errors) go through the module.
  assert.ok(reads > 300, `${reads} reads`);
  assert.ok(direct > reads / 3, `only ${direct} of ${reads} reads took the direct path`);
  assert.ok(aggregates > 20, `only ${aggregates} aggregates took the direct path`);
  assert.ok(handled > direct / 3, `only ${handled} of ${direct} direct reads were served by a handle`);
  console.log(`${direct} of ${reads} reads took the direct path, ${aggregates} of them aggregate or groupBy, ${handled} by a handle`);
});

test("a statement the adapter fails on the direct path is the engine's error, and runs once", async () => {
  const suite = loadSuites().find((s) => s.name === "store_read_actions");
  const schema = readTestFile(suite.schema);
  const failures = [
    new DriverAdapterError({ kind: "database", sqlstate: "57014", message: "canceling statement due to statement timeout" }),
    new DriverAdapterError({ kind: "poolTimeout", message: "timeout exceeded when trying to connect", connectionLimit: 3, timeout: 2 }),
    new DriverAdapterError({ kind: "connection", message: "Connection terminated unexpectedly" }),
    new Error("something else"),
  ];
  for (const failure of failures) {
    let calls = 0;
    const failing = { ...backend.adapter, queryRaw: async () => (calls++, Promise.reject(failure)) };
    const withDirect = new Engine(schema, { namespace: "qd_unused" }, failing);
    const viaModule = new Engine(schema, { namespace: "qd_unused" }, failing, { direct: false });
    const envelope = { request: { model: "Account", action: "findMany", args: { where: { id: 1 }, select: { id: true, email: true } } } };
    const a = await withDirect.request(envelope).then(() => undefined, (e) => e);
    assert.equal(calls, 1, "the direct path ran the statement once");
    // Again, by the handle the first answer gave for the shape.
    const again = await withDirect.request(envelope).then(() => undefined, (e) => e);
    assert.equal(calls, 2, "the handle ran the statement once");
    assert.equal(withDirect.handleReads, 1);
    const b = await viaModule.request(envelope).then(() => undefined, (e) => e);
    assert.ok(a instanceof Error && b instanceof Error && again instanceof Error);
    const face = (e) => ({ name: e.name, code: e.code, message: e.message, meta: e.meta });
    assert.deepStrictEqual(face(a), face(b), failure.message);
    assert.deepStrictEqual(face(again), face(b), failure.message);
    assert.equal(withDirect.directReads, 0);
  }
});

test("one handle serves each tenant its own rows, and no request without a tenant", async () => {
  const suite = loadSuites().find((s) => s.name === "blog_read_tenant");
  const schema = readTestFile(suite.schema);
  const namespace = `qd_handle_${process.pid}_${Date.now() % 100000}`;
  const engine = new Engine(schema, { namespace }, backend.adapter);
  const viaModule = new Engine(schema, { namespace }, backend.adapter, { direct: false });
  await prepareNamespace(backend.adapter, engine.ddl(), namespace, suite.seed ? readTestFile(suite.seed) : undefined);
  created.push(namespace);
  const request = { model: "Post", action: "findMany", args: { select: { id: true, title: true }, orderBy: { id: "asc" } } };
  const first = await engine.request({ request, tenant: 1 });
  const rows = { 1: first };
  for (const tenant of [2, 1, 2]) {
    const before = engine.handleReads;
    const result = await engine.request({ request, tenant });
    assert.equal(engine.handleReads, before + 1, `tenant ${tenant} was served by the handle`);
    assert.deepStrictEqual(result, await viaModule.request({ request, tenant }), `tenant ${tenant}`);
    rows[tenant] ??= result;
    assert.deepStrictEqual(result, rows[tenant]);
  }
  assert.ok(rows[1].length > 0 && rows[2].length > 0, "both tenants have posts");
  const ids = (r) => new Set(r.map((a) => a.id));
  assert.ok([...ids(rows[1])].every((id) => !ids(rows[2]).has(id)), "the tenants' rows are their own");
  // The same structure without a tenant, or unscoped, is another context: never the handle's.
  const before = engine.handleReads;
  const missing = await engine.request({ request }).then(
    () => undefined,
    (e) => e.code,
  );
  assert.equal(missing, "Q3001", "without a tenant the request is refused");
  assert.deepStrictEqual(await engine.request({ request, unscoped: true }), await viaModule.request({ request, unscoped: true }));
  assert.equal(engine.handleReads, before, "no request without a tenant was served by the tenant's handle");
});

test("handles end with the module instance that gave them", async () => {
  const suite = loadSuites().find((s) => s.name === "blog_read_tenant");
  const engine = new Engine(readTestFile(suite.schema), { namespace: "qd_unused" }, backend.adapter);
  const envelope = (id) => ({ request: { model: "Post", action: "findUnique", args: { where: { id } } }, tenant: 1 });
  const reads = async (n) => {
    // Ids other than the tenant's (a leaf equal to the tenant is another shape).
    for (let id = 11; id <= 10 + n; id++) await engine.request(envelope(id)).catch(() => {});
  };
  await reads(3);
  assert.equal(engine.handleReads, 2, "the first request gave a handle, the next two used it");
  assert.throws(() => debugPanic("on purpose"), (e) => e.code === "Q9001");
  // The next request runs in a fresh instance: the old instance's handle is not sent to it.
  await reads(1);
  assert.equal(engine.handleReads, 2);
  await reads(2);
  assert.equal(engine.handleReads, 4, "the fresh instance gave a handle of its own, which the next two used");
});

test("a document JSON writes otherwise than it looks is never served by a handle", async () => {
  const suite = loadSuites().find((s) => s.name === "blog_read_tenant");
  const schema = readTestFile(suite.schema);
  const namespace = `qd_tojson_${process.pid}_${Date.now() % 100000}`;
  const engine = new Engine(schema, { namespace }, backend.adapter);
  const viaModule = new Engine(schema, { namespace }, backend.adapter, { direct: false });
  await prepareNamespace(backend.adapter, engine.ddl(), namespace, suite.seed ? readTestFile(suite.seed) : undefined);
  created.push(namespace);
  // Two filters of one look whose JSON differs (toJSON), then keys JSON leaves out (undefined).
  const where = [{ toJSON: () => ({ id: 2 }) }, { toJSON: () => ({ title: { contains: "Alice" } }) }, { id: 3, title: undefined }, { id: 4 }];
  for (const w of [...where, ...where]) {
    const envelope = { request: { model: "Post", action: "findMany", args: { where: w, select: { id: true }, orderBy: { id: "asc" } } }, tenant: 1 };
    assert.deepStrictEqual(await outcome(engine, envelope), await outcome(viaModule, envelope), JSON.stringify(envelope));
  }
  // Only the plain filters (`{ id }`, with or without an undefined key: one structure) took handles.
  assert.equal(engine.handleReads, 3);
});
