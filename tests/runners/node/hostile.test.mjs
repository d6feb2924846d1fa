// Hostile input, on both engines (the WebAssembly engine over node-postgres and the native addon),
// from a fixed seed: wide lists, deep nesting (and a document that contains itself), huge values,
// prototype keys (`__proto__`, `constructor`, `prototype`, objects without a prototype), tagged
// values whose payload is garbage (sent straight to the engine, past the client's encoding), and
// random mutations of the conformance corpus's requests. Every outcome must be a result or a typed
// error (a QuarryError with a P or Q code, never a panic), the process must keep running, and the
// engine must still answer a plain query afterwards. The counts per outcome are printed
// (`QUARRY_HOSTILE_SEED=S` replays another sequence, `QUARRY_HOSTILE_CASES=N` runs more mutations).

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { QuarryError, QuarryPanicError } from "quarry";
import { Engine } from "../../../npm/dist/npm/src/engine.js";
import { NativeEngine, loadNative } from "../../../npm/dist/npm/src/native.js";
import { DATABASE_URL, freshNamespace, openBackend } from "./support/backends.mjs";
import { checker, knownFailures, readTestFile } from "./support/corpus.mjs";
import { MUTATIONS, SEED, delegateName, generated, mutations, rng, taggedGarbage } from "./support/hostile.mjs";

const CHILD = fileURLToPath(new URL("./support/hostile.mjs", import.meta.url));

/**
 * Runs one generated request in a child process (for requests known to fail, which may end the
 * process they run in): its outcome, as the child printed it, or a failure naming how it died.
 */
function inChild(name, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CHILD], { env: { ...process.env, ...env, QUARRY_HOSTILE_CASE: name }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("close", (code, signal) => {
      if (code === 0 && signal === null) resolve(JSON.parse(out));
      else resolve({ died: `the process died (exit code ${code}, signal ${signal}): ${err.trim().split("\n").slice(-3).join(" | ")}` });
    });
  });
}


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
      const label = backendName === "native" ? "native" : `wasm-${backendName}`;
      const check = checker(test, label, "hostile");
      const known = knownFailures(label);
      for (const [name, model, action, args] of generated(rng(SEED))) {
        check(name, async () => {
          if (known.has(`hostile/${name}`)) {
            // Known to fail, perhaps by ending the process: in a child process, so that it can.
            const driver = backendName === "native" ? { QUARRY_HOSTILE_URL: backend.url } : { QUARRY_HOSTILE_PG: DATABASE_URL };
            const out = await inChild(name, { ...driver, QUARRY_HOSTILE_NAMESPACE: ns.namespace });
            if (out.died) {
              note("process died");
              failures.push(`${name}: ${out.died}`);
            } else if (out.result) note("result");
            else if (!/^[PQ]\d{4}$/.test(out.error.code ?? "")) {
              note("untyped");
              failures.push(`${name}: not a typed error: ${out.error.name} ${out.error.message}`);
            } else if (out.error.panic) {
              note(`${out.error.code} panic`);
              failures.push(`${name}: the engine failed: ${out.error.message}`);
            } else note(out.error.code);
          } else {
            await settle(name, () => db[delegateName(model)][action](args));
          }
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
      await answersPlainly();
    });

    test("the engine still answers a plain query", answersPlainly);

    /**
     * A plain read gives what the database holds. The mutations include writes (a delete whose
     * filter was dropped empties a table), so which rows remain depends on the corpus; the engine's
     * answer is compared with the table read by raw SQL instead.
     */
    async function answersPlainly() {
      const rows = await db.account.findMany({ select: { id: true }, orderBy: { id: "asc" } });
      const raw = await db.$queryRawUnsafe(`SELECT id FROM accounts ORDER BY id`);
      assert.deepEqual(rows, raw.map((r) => ({ id: r.id })));
      assert.equal(await engine.request({ request: { model: "Account", action: "count", args: {} } }), raw.length);
    }
  });
}
