// A panic in the engine (a bug) must reach the caller as an error and leave the process running.
// Runs in its own process: after a panic the WebAssembly instance refuses every call.

import assert from "node:assert/strict";
import { test } from "node:test";
import { QuarryPanicError, createClient } from "quarry";
import { debugPanic, debugPanicInTask } from "../../../npm/dist/npm/src/engine.js";
import { openBackend } from "./support/backends.mjs";
import { readTestFile } from "./support/corpus.mjs";

test("a panic inside a running request becomes a QuarryPanicError, and so does every later call", async () => {
  const backend = await openBackend("pg");
  try {
    // Statements take 200 ms, so a request is still waiting for the database when the panic comes.
    const slow = {
      ...backend.adapter,
      queryRaw: async (q) => {
        await new Promise((r) => setTimeout(r, 200));
        return backend.adapter.queryRaw(q);
      },
    };
    const db = createClient({ schema: readTestFile("corpus/schemas/store.prisma"), adapter: slow });
    assert.deepEqual(db.$compile(db.account.count()).statements.length, 1);
    // A request in flight when the engine panics fails too, rather than waiting forever.
    const inFlight = db.$unscoped().account.count().then(
      (v) => v,
      (e) => e,
    );
    await new Promise((r) => setTimeout(r, 20));
    await assert.rejects(debugPanicInTask("deliberate panic for the test"), (e) => {
      assert.ok(e instanceof QuarryPanicError);
      assert.equal(e.code, "Q9001");
      assert.match(e.message, /deliberate panic for the test/);
      assert.match(e.message, /restart/);
      return true;
    });
    assert.ok((await inFlight) instanceof QuarryPanicError);
    // The database's late answer to the abandoned request is ignored without disturbing anything.
    await new Promise((r) => setTimeout(r, 400));
    await assert.rejects(db.$unscoped().account.count(), QuarryPanicError);
    assert.throws(() => db.$compile(db.account.count()), QuarryPanicError);
    assert.throws(() => createClient({ schema: "model A { id Int @id }", adapter: backend.adapter }), QuarryPanicError);
    assert.throws(() => debugPanic("again"), QuarryPanicError);
  } finally {
    await backend.close();
  }
});
