// A panic in the engine (a bug) must reach the caller as an error and leave the process running:
// the requests the WebAssembly instance was running fail with QuarryPanicError, the transactions
// it held are rolled back and their connections go back to the pool, and the next request runs
// on a fresh instance. Runs in its own process, since it panics on purpose.

import assert from "node:assert/strict";
import { test } from "node:test";
import { QuarryError, QuarryPanicError, createClient } from "quarry";
import { debugPanic, debugPanicInTask } from "../../../npm/dist/npm/src/engine.js";
import { freshNamespace, openBackend } from "./support/backends.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test("a panic fails what the instance was running, and the next request runs on a fresh instance", async () => {
  const backend = await openBackend("pg");
  const ns = await freshNamespace(backend, { schema: "corpus/schemas/store.prisma", prefix: "qpanic" });
  try {
    // Statements take 200 ms, so a request is still waiting for the database when the panic comes.
    const slow = {
      ...backend.adapter,
      queryRaw: async (q) => {
        await sleep(200);
        return backend.adapter.queryRaw(q);
      },
    };
    const db = ns.client({ adapter: slow });
    const u = db.$unscoped();
    assert.equal(await u.account.count(), 0);

    // An interactive transaction holding a connection with a row written, and a request in flight.
    let txError;
    let resumeTx;
    const resumed = new Promise((r) => (resumeTx = r));
    const tx = u
      .$transaction(
        async (t) => {
          await t.account.create({ data: { email: "in-tx@x" } });
          resumeTx();
          await sleep(400);
          await t.account.create({ data: { email: "in-tx-2@x" } });
        },
        { timeout: 20_000 },
      )
      .catch((e) => (txError = e));
    await resumed;
    const inFlight = u.account.count().then(
      (v) => v,
      (e) => e,
    );
    await sleep(20);
    await assert.rejects(debugPanicInTask("deliberate panic for the test"), (e) => {
      assert.ok(e instanceof QuarryPanicError);
      assert.equal(e.code, "Q9001");
      assert.match(e.message, /deliberate panic for the test/);
      return true;
    });
    assert.ok((await inFlight) instanceof QuarryPanicError);
    // The transaction of the dead instance fails cleanly, and nothing of it was committed.
    await tx;
    assert.ok(txError instanceof QuarryError, `a typed error, got ${txError}`);
    // Its connection went back to the pool: none is checked out.
    await sleep(300);
    assert.equal(backend.pool.totalCount - backend.pool.idleCount, 0);
    // The next request of the same client runs on a fresh instance and sees no half-written row.
    assert.equal(await u.account.count(), 0);
    assert.equal((await u.account.create({ data: { email: "after@x" } })).email, "after@x");
    assert.equal(db.$compile(u.account.count()).statements.length, 1);
    // A synchronous trap too: the call fails, the next one works.
    assert.throws(() => debugPanic("again"), QuarryPanicError);
    assert.equal(await u.account.count(), 1);
    const other = createClient({ schema: "model A { id Int @id }", adapter: backend.adapter });
    assert.equal(other.$ddl().length, 1);
  } finally {
    await ns.drop();
    await backend.close();
  }
});
