// The driver adapters against their real databases: values come back as PostgreSQL's text output
// with their type OIDs, driver errors become DriverAdapterErrors with the SQLSTATE and the
// constraint, transactions set their isolation level and end exactly once, and failures to
// connect are told apart from database errors.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { DriverAdapterError } from "quarry";
import { pgAdapter } from "quarry/adapters/pg";
import { openBackend } from "./support/backends.mjs";
import { checker } from "./support/corpus.mjs";

const q = (sql, args = []) => ({ sql, args, argTypes: args.map(() => "String") });

for (const backendName of ["pglite", "pg", "neon"]) {
  describe(`${backendName} adapter`, () => {
    const check = checker(test, `wasm-${backendName}`, "adapter");
    let backend;
    let adapter;
    const table = `qadapter_${process.pid}_${backendName}`;

    before(async () => {
      backend = await openBackend(backendName);
      adapter = backend.adapter;
      await adapter.executeRaw(q(`CREATE TABLE "${table}" (id int PRIMARY KEY, email text UNIQUE, amount numeric(10,2), at timestamp(3), data jsonb, raw bytea, tags text[])`));
    });

    after(async () => {
      await adapter.executeRaw(q(`DROP TABLE IF EXISTS "${table}"`));
      await backend.close();
    });

    check("values come back as text with their type OIDs", async () => {
      const n = await adapter.executeRaw({
        sql: `INSERT INTO "${table}" VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        args: [1, "a@x", "12.50", "2025-01-02T03:04:05.678Z", '{"k": [1, 2]}', new Uint8Array([1, 255]), ["x", 'y"z', null]],
        argTypes: ["Int", "String", "Decimal", "DateTime", "Json", "Bytes", "List"],
      });
      assert.equal(n, 1);
      const rs = await adapter.queryRaw(q(`SELECT id, email, amount, at, data, raw, tags, true AS flag, NULL::int AS nothing FROM "${table}"`));
      assert.deepEqual(rs.columnNames, ["id", "email", "amount", "at", "data", "raw", "tags", "flag", "nothing"]);
      assert.deepEqual(rs.columnTypes, [23, 25, 1700, 1114, 3802, 17, 1009, 16, 23]);
      assert.deepEqual(rs.rows, [["1", "a@x", "12.50", "2025-01-02 03:04:05.678", '{"k": [1, 2]}', "\\x01ff", '{x,"y\\"z",NULL}', "t", null]]);
    });

    check("database errors carry their SQLSTATE and constraint", async () => {
      await adapter.executeRaw(q(`INSERT INTO "${table}" (id, email) VALUES (2, 'dup@x')`));
      await assert.rejects(adapter.executeRaw(q(`INSERT INTO "${table}" (id, email) VALUES (3, 'dup@x')`)), (e) => {
        assert.ok(e instanceof DriverAdapterError);
        assert.equal(e.cause.kind, "database");
        assert.equal(e.cause.sqlstate, "23505");
        assert.equal(e.cause.constraint, `${table}_email_key`);
        assert.equal(e.cause.table, table);
        return true;
      });
      await assert.rejects(adapter.queryRaw(q("SELEC 1")), (e) => e.cause.kind === "database" && e.cause.sqlstate === "42601");
    });

    check("transactions set their isolation level and end exactly once", async () => {
      const tx = await adapter.startTransaction("RepeatableRead");
      const rs = await tx.queryRaw(q("SHOW transaction_isolation"));
      assert.deepEqual(rs.rows, [["repeatable read"]]);
      await tx.executeRaw(q(`INSERT INTO "${table}" (id) VALUES (10)`));
      await tx.rollback();
      await assert.rejects(tx.commit(), (e) => e.cause.kind === "transactionClosed");
      const after = await adapter.queryRaw(q(`SELECT count(*) FROM "${table}" WHERE id = 10`));
      assert.deepEqual(after.rows, [["0"]]);
      const tx2 = await adapter.startTransaction();
      await tx2.executeRaw(q(`INSERT INTO "${table}" (id) VALUES (11)`));
      await tx2.commit();
      const committed = await adapter.queryRaw(q(`SELECT count(*) FROM "${table}" WHERE id = 11`));
      assert.deepEqual(committed.rows, [["1"]]);
    });

    check("a failed statement inside a transaction still lets it roll back", async () => {
      const tx = await adapter.startTransaction();
      await assert.rejects(tx.queryRaw(q("SELECT 1/0")), (e) => e.cause.sqlstate === "22012");
      await tx.rollback();
      assert.deepEqual((await adapter.queryRaw(q("SELECT 1 AS one"))).rows, [["1"]]);
    });
  });
}

describe("pg adapter failures to connect", () => {
  test("an unreachable server is a connection error, a full pool a pool timeout", async () => {
    const unreachable = new pg.Pool({ connectionString: "postgres://postgres@127.0.0.1:1/test", connectionTimeoutMillis: 2000 });
    try {
      await assert.rejects(pgAdapter(unreachable).queryRaw(q("SELECT 1")), (e) => e.cause.kind === "connection");
    } finally {
      await unreachable.end();
    }
    const { DATABASE_URL } = await import("./support/backends.mjs");
    const one = new pg.Pool({ connectionString: DATABASE_URL, max: 1, connectionTimeoutMillis: 100 });
    try {
      const adapter = pgAdapter(one);
      const held = await adapter.startTransaction();
      await assert.rejects(adapter.startTransaction(), (e) => e.cause.kind === "poolTimeout");
      await held.rollback();
    } finally {
      await one.end();
    }
  });
});
