// Runs the conformance corpus through the npm package on one backend (the WebAssembly engine on
// PGlite, node-postgres, Neon, or MySQL through mysql2 and PlanetScale's driver, or the native addon): each case's request goes
// through the client a JavaScript user writes (`db.$forTenant(t).post.findMany(args)`, batches
// through `$transaction([...])`), with the case's tagged argument values turned into Date,
// bigint, Decimal and Uint8Array first; results are compared as the user gets them. The few
// cases about malformed request documents (an unknown model, a request that is not an object),
// which no client call can produce, go to the engine directly. Read suites share one seeded
// namespace; each write case gets its own.

import { after, describe, test } from "node:test";
import { JsonNull, delegateName } from "quarry";
import { Engine } from "../../../../npm/dist/npm/src/engine.js";
import { NativeEngine, loadNative } from "../../../../npm/dist/npm/src/native.js";
import { decode } from "../../../../npm/dist/npm/src/values.js";
import { dropNamespace, openBackend, prepareNamespace, reseedNamespace } from "./backends.mjs";
import { assertError, assertSame, caseId, expectOutcome, knownFailures, loadSuites, readTestFile } from "./corpus.mjs";

const tagged = (v) => (v === undefined ? undefined : decode(structuredClone(v)));

/**
 * A case's arguments as a JavaScript user writes them: Date, bigint, Decimal, Uint8Array for the
 * tagged values, plain values in Json fields, and `JsonNull` for the JSON null.
 */
function forClient(v) {
  if (Array.isArray(v)) return v.map(forClient);
  if (v === null || typeof v !== "object") return v;
  const keys = Object.keys(v);
  if (keys.length === 2 && typeof v.$type === "string" && "value" in v) {
    if (v.$type === "Json") return v.value === null ? JsonNull : structuredClone(v.value);
    return tagged(v);
  }
  return Object.fromEntries(keys.map((k) => [k, forClient(v[k])]));
}

function clientFor(suite, backend, namespace) {
  return backend.client({ schema: readTestFile(suite.schema), namespace });
}

/** The backend's engine itself, for requests no client call can express. */
function engineFor(suite, backend, namespace) {
  const schema = backend.schema ? backend.schema(readTestFile(suite.schema)) : readTestFile(suite.schema);
  if (!backend.url) return new Engine(schema, { namespace }, backend.adapter);
  const native = loadNative();
  if (!("addon" in native)) throw new Error(native.reason);
  return new NativeEngine(native.addon, schema, { namespace }, backend.url);
}

function viewOf(db, c) {
  if (c.unscoped) return db.$unscoped();
  return "tenant" in c ? db.$forTenant(c.tenant) : db;
}

/** The client call for one request document, or undefined when no call can express it. */
function call(view, request) {
  if (request === null || typeof request !== "object" || Array.isArray(request)) return undefined;
  const { model, action, args, ...rest } = request;
  if (Object.keys(rest).length > 0 || typeof model !== "string") return undefined;
  const delegate = view[delegateName(model)];
  if (!delegate || typeof delegate[action] !== "function") return undefined;
  return delegate[action](forClient(args));
}

async function run(suite, backend, namespace, db, c) {
  const view = viewOf(db, c);
  if (Array.isArray(c.request)) {
    const calls = c.request.map((r) => call(view, r));
    if (calls.every((p) => p !== undefined)) return view.$transaction(calls);
  } else {
    const p = call(view, c.request);
    if (p !== undefined) return p;
  }
  const engine = engineFor(suite, backend, namespace);
  const ctx = c.unscoped ? { unscoped: true } : "tenant" in c ? { tenant: c.tenant } : {};
  try {
    return decode(await engine.request({ request: c.request, ...ctx }));
  } finally {
    if (backend.url) await engine.close();
  }
}

/**
 * Runs a case twice on one client: cold (the engine plans every request), then again (requests of
 * a shape it has seen come from its plan cache); both must give the case's outcome. `reset`, for
 * write cases, makes the namespace afresh before each run.
 */
async function check(suite, backend, namespace, c, reset) {
  const db = clientFor(suite, backend, namespace);
  try {
    for (const round of ["cold", "cached"]) {
      if (reset) await reset(round);
      try {
        await checkWith(suite, backend, namespace, c, db);
      } catch (e) {
        if (e instanceof Error) e.message = `${round} run: ${e.message}`;
        throw e;
      }
    }
  } finally {
    await backend.release(db);
  }
}

async function checkWith(suite, backend, namespace, c, db) {
  let outcome;
  let failure;
  try {
    outcome = await run(suite, backend, namespace, db, c);
  } catch (e) {
    failure = e;
  }
  if (c.error) {
    if (failure === undefined) throw new Error(`expected error ${c.error.code} but got a result: ${JSON.stringify(outcome)}`);
    assertError(c.error, failure);
  } else {
    if (failure !== undefined) throw failure;
    assertSame(tagged(c.result), outcome);
  }
  for (const [i, a] of (c.after ?? []).entries()) {
    const got = await call(viewOf(db, a), a.request);
    assertSame(tagged(a.result), got, `after[${i}]`);
  }
}

export async function runCorpus(backendName) {
  const backend = await openBackend(backendName);
  // Backends with databases of their own (MySQL) bring their own steps for them.
  const dropNs = (ns) => (backend.drop ? backend.drop(ns) : dropNamespace(backend.adapter, ns));
  const label = backend.label;
  const known = knownFailures(label);
  const created = [];
  const readNamespaces = new Map();
  const suffix = `${process.pid}_${Date.now() % 100000}`;

  async function prepare(suite, namespace) {
    const db = clientFor(suite, backend, namespace);
    const ddl = db.$ddl();
    await backend.release(db);
    const seed = suite.seed ? readTestFile(suite.seed) : undefined;
    if (backend.prepare) await backend.prepare(ddl, namespace, seed, readTestFile(suite.schema));
    else await prepareNamespace(backend.adapter, ddl, namespace, seed);
  }

  function readNamespace(suite) {
    if (!readNamespaces.has(suite.name)) {
      const ns = `qn_${suite.name}_${suffix}`;
      readNamespaces.set(
        suite.name,
        prepare(suite, ns).then(() => {
          created.push(ns);
          return ns;
        }),
      );
    }
    return readNamespaces.get(suite.name);
  }

  after(async () => {
    for (const ns of created) await dropNs(ns);
    await backend.close();
  });

  for (const suite of loadSuites()) {
    describe(suite.name, { concurrency: backend.concurrency }, () => {
      suite.cases.forEach((c, i) => {
        test(c.name, (t) =>
          expectOutcome(t, known, label, caseId(suite, c), async () => {
            if (suite.mode !== "write") return check(suite, backend, await readNamespace(suite), c);
            const ns = `qn_${suite.name}_${i}_${suffix}`;
            // The second run gets the data afresh in the same tables, so statements a driver
            // prepared on them stay valid.
            const reset = (round) =>
              round === "cold"
                ? prepare(suite, ns)
                : backend.reseed
                  ? backend.reseed(ns, suite.seed ? readTestFile(suite.seed) : undefined, readTestFile(suite.schema))
                  : reseedNamespace(backend.adapter, ns, suite.seed ? readTestFile(suite.seed) : undefined);
            try {
              await check(suite, backend, ns, c, reset);
            } finally {
              await dropNs(ns);
            }
          }),
        );
      });
    });
  }
}
