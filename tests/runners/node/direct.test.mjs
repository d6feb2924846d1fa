// Reads shaped by the client (npm/src/direct.ts) against reads shaped by the engine: every request
// of the corpus's read suites runs on two WebAssembly engines over the same node-postgres pool and
// data, one that takes the direct path where the engine offers it and one that sends everything
// through the module, twice each (cold, then from the plan cache). Results must be identical as
// tagged JSON (before the client decodes them), errors must have the same code; and the direct
// path must have answered most of the reads, so this cannot pass by never taking it.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { DriverAdapterError } from "../../../npm/dist/npm/src/adapter.js";
import { Engine } from "../../../npm/dist/npm/src/engine.js";
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
      for (const round of ["cold", "cached"]) {
        const before = withDirect.directReads;
        const a = await outcome(withDirect, envelope);
        const b = await outcome(viaModule, envelope);
        assert.deepStrictEqual(a, b, `${suite.name} / ${c.name} (${round}): the direct path gave ${JSON.stringify(a)}, the module ${JSON.stringify(b)}`);
        reads++;
        direct += withDirect.directReads - before;
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
  console.log(`${direct} of ${reads} reads took the direct path, ${aggregates} of them aggregate or groupBy`);
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
    const b = await viaModule.request(envelope).then(() => undefined, (e) => e);
    assert.ok(a instanceof Error && b instanceof Error);
    assert.deepStrictEqual(
      { name: a.name, code: a.code, message: a.message, meta: a.meta },
      { name: b.name, code: b.code, message: b.message, meta: b.meta },
      failure.message,
    );
    assert.equal(withDirect.directReads, 0);
  }
});
