// An exhausted pool is P2024 on both engines, with the same message and meta: a request waits for
// the pool's timeout while every connection is held by an interactive transaction, then fails,
// and the next request after the transaction ends runs.

import assert from "node:assert/strict";
import { test } from "node:test";
import pg from "pg";
import { QuarryKnownRequestError, createClient } from "quarry";
import { pgAdapter } from "quarry/adapters/pg";
import { DATABASE_URL } from "./support/backends.mjs";

const SCHEMA = `
datasource db {
  provider = "postgresql"
}

model Item {
  id Int @id
}
`;

const withParams = (url, params) => `${url}${url.includes("?") ? "&" : "?"}${new URLSearchParams(params)}`;

/** The error of a request made while the pool's one connection is held. */
async function exhausted(db) {
  let release;
  const held = new Promise((r) => (release = r));
  let inside;
  const entered = new Promise((r) => (inside = r));
  const tx = db.$transaction(
    async (t) => {
      await t.$queryRawUnsafe("SELECT 1");
      inside();
      await held;
    },
    { timeout: 20_000 },
  );
  await entered;
  const error = await db.$queryRawUnsafe("SELECT 1 AS waited").then(
    () => assert.fail("the request should have timed out waiting for a connection"),
    (e) => e,
  );
  release();
  await tx;
  assert.deepEqual(await db.$queryRawUnsafe("SELECT 1 AS one"), [{ one: 1 }]);
  return error;
}

test("an exhausted pool is P2024 on both engines, alike", async () => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1, connectionTimeoutMillis: 1000 });
  const wasm = createClient({ schema: SCHEMA, adapter: pgAdapter(pool) });
  const native = createClient({ schema: SCHEMA, url: withParams(DATABASE_URL, { connection_limit: "1", pool_timeout: "1" }) });
  try {
    const errors = [await exhausted(wasm), await exhausted(native)];
    for (const e of errors) {
      assert.ok(e instanceof QuarryKnownRequestError, `${e?.stack ?? e}`);
      assert.equal(e.code, "P2024");
    }
    assert.equal(errors[0].message, errors[1].message);
    assert.deepEqual(errors[0].meta, errors[1].meta);
    // Prisma's meta: the pool's size and wait, from the URL (native) or the pg pool's options.
    assert.equal(errors[0].meta.connection_limit, 1);
    assert.equal(errors[0].meta.timeout, 1);
  } finally {
    await wasm.$disconnect();
    await native.$disconnect();
    await pool.end();
  }
});
