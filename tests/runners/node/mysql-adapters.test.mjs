// The MySQL driver adapters (`quarry/adapters/mysql2` over a mysql2 pool, and
// `quarry/adapters/planetscale` over @planetscale/database through the local test double of
// PlanetScale's HTTP API, tests/runtimes/support/planetscale-http.mjs) against the real MariaDB,
// through the adapter interface: every value kind round trip with the column types the engine
// reads, transactions committed and rolled back, isolation levels, MySQL's errors as the kinds and
// SQLSTATEs the engine maps to Prisma's codes, and a connection killed mid-query as a typed error
// with no unhandled 'error' event. Each adapter gets a database of its own.
// `MYSQL_URL` overrides the server (default `mysql://root@127.0.0.1:3306/test`).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import mysql from "mysql2/promise";
import { Client } from "@planetscale/database";
import { mysql2Adapter } from "quarry/adapters/mysql2";
import { planetscaleAdapter } from "quarry/adapters/planetscale";
import { startPlanetScaleHttp } from "../../runtimes/support/planetscale-http.mjs";

const MYSQL_URL = process.env.MYSQL_URL ?? "mysql://root@127.0.0.1:3306/test";
const withDb = (db) => {
  const u = new URL(MYSQL_URL);
  u.pathname = `/${db}`;
  return u.toString();
};
const q = (sql, args = [], argTypes = args.map(() => "String")) => ({ sql, args, argTypes });

// An 'error' event nobody listens to ends the process: count any that reach the top.
const uncaught = [];
process.on("uncaughtException", (e) => uncaught.push(e));

async function rejection(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  assert.fail("expected the call to fail");
}

/** `e` is a DriverAdapterError of `kind`, with `fields` in its cause. */
function assertCause(e, kind, fields = {}) {
  assert.equal(e?.name, "DriverAdapterError", `${e?.stack ?? e}`);
  assert.equal(e.cause.kind, kind, JSON.stringify(e.cause));
  for (const [k, v] of Object.entries(fields)) assert.equal(e.cause[k], v, `${k} in ${JSON.stringify(e.cause)}`);
}

const DDL = [
  "CREATE TABLE vals (id INT PRIMARY KEY, i INT NULL, big BIGINT NULL, amount DECIMAL(14,4) NULL, f DOUBLE NULL, fl FLOAT NULL, b TINYINT(1) NULL, s VARCHAR(191) NULL, at DATETIME(3) NULL, day DATE NULL, data JSON NULL, raw LONGBLOB NULL, short VARCHAR(5) NULL, req VARCHAR(10) NOT NULL DEFAULT 'x', UNIQUE KEY vals_s_key (s))",
  "CREATE TABLE parent (id INT PRIMARY KEY)",
  "CREATE TABLE child (id INT PRIMARY KEY, parentId INT NOT NULL, CONSTRAINT child_parentId_fkey FOREIGN KEY (parentId) REFERENCES parent (id))",
  "CREATE TABLE locks (id INT PRIMARY KEY, n INT NOT NULL)",
  "INSERT INTO parent VALUES (1), (2)",
  "INSERT INTO child VALUES (1, 1)",
  "INSERT INTO locks VALUES (1, 0), (2, 0)",
];

const BACKENDS = {
  async mysql2(db) {
    const pool = mysql.createPool({ uri: withDb(db), connectionLimit: 5 });
    return { adapter: mysql2Adapter(pool), running: null, close: () => pool.end() };
  },
  async planetscale(db) {
    const server = await startPlanetScaleHttp({ url: MYSQL_URL, database: db });
    const adapter = planetscaleAdapter(new Client({ url: server.url }));
    return { adapter, running: server.running, close: () => server.close() };
  },
};

for (const [name, open] of Object.entries(BACKENDS)) {
  describe(`${name} adapter on MariaDB`, () => {
    const db = `qmyadapter_${name}_${process.pid}`;
    let admin;
    let backend;
    let adapter;

    before(async () => {
      admin = await mysql.createConnection({ uri: MYSQL_URL });
      await admin.query(`DROP DATABASE IF EXISTS \`${db}\``);
      await admin.query(`CREATE DATABASE \`${db}\``);
      await admin.query(`USE \`${db}\``);
      for (const s of DDL) await admin.query(s);
      backend = await open(db);
      adapter = backend.adapter;
    });

    after(async () => {
      await backend?.close();
      await admin?.query(`DROP DATABASE IF EXISTS \`${db}\``);
      await admin?.end();
      assert.deepEqual(uncaught, [], "no error reached the process unhandled");
    });

    test("provider and placeholders", async () => {
      assert.equal(adapter.provider, "mysql");
      const rs = await adapter.queryRaw(q("SELECT ? + 1 AS n", [41], ["Int"]));
      assert.deepEqual(rs.columnNames, ["n"]);
      assert.deepEqual(rs.rows, [[42]]);
      // A BigInt argument stays exact in arithmetic (a string would be computed as DOUBLE).
      const big = await adapter.queryRaw(q("SELECT CAST(? + 1 AS CHAR) AS n", ["9007199254740993"], ["BigInt"]));
      assert.deepEqual(big.rows, [["9007199254740994"]]);
      const dec = await adapter.queryRaw(q("SELECT CAST(? + 1 AS CHAR) AS n", ["12345678901234567.123456789"], ["Decimal"]));
      assert.deepEqual(dec.rows, [["12345678901234568.123456789"]]);
    });

    test("every value kind round trips with the column types the engine reads", async () => {
      const bytes = new Uint8Array([0, 1, 2, 0x27, 0x5c, 255]);
      const text = `it's \\ "q" ünï 😀`;
      const n = await adapter.executeRaw(
        q(
          "INSERT INTO vals (id, i, big, amount, f, fl, b, s, at, day, data, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          [1, 42, "9007199254740993", "12345678.1234", 1.5, 0.25, true, text, "2025-01-01 10:00:00.123+00", "2025-02-03 00:00:00.000+00", '{"a":[1,"x"]}', bytes],
          ["Int", "Int", "BigInt", "Decimal", "Float", "Float", "Boolean", "String", "DateTime", "DateTime", "Json", "Bytes"],
        ),
      );
      assert.equal(n, 1);
      await adapter.executeRaw(q("INSERT INTO vals (id) VALUES (?)", [2], ["Int"]));
      const rs = await adapter.queryRaw(q("SELECT id, i, big, amount, f, fl, b, s, at, day, data, raw FROM vals ORDER BY id"));
      assert.deepEqual(rs.columnNames, ["id", "i", "big", "amount", "f", "fl", "b", "s", "at", "day", "data", "raw"]);
      // MariaDB's JSON is LONGTEXT: text (25); MySQL's JSON type would be 114.
      assert.deepEqual(rs.columnTypes, [23, 23, 20, 1700, 701, 700, 16, 25, 1114, 1082, 25, 17]);
      const [one, two] = rs.rows;
      assert.deepEqual(one.slice(0, 11), [1, 42, "9007199254740993", "12345678.1234", 1.5, 0.25, 1, text, "2025-01-01 10:00:00.123000", "2025-02-03", '{"a":[1,"x"]}']);
      assert.ok(one[11] instanceof Uint8Array, "bytes are a Uint8Array");
      assert.deepEqual([...one[11]], [...bytes]);
      assert.deepEqual(two, [2, null, null, null, null, null, null, null, null, null, null, null]);
      // Values as arguments compare as stored.
      const back = await adapter.queryRaw(
        q("SELECT id FROM vals WHERE big = ? AND amount = ? AND at = ? AND raw = ? AND s = ?", ["9007199254740993", "12345678.1234", "2025-01-01 10:00:00.123+00", bytes, text], ["BigInt", "Decimal", "DateTime", "Bytes", "String"]),
      );
      assert.deepEqual(back.rows, [[1]]);
    });

    test("the session runs in UTC with room for GROUP_CONCAT, and affected rows are changed rows", async () => {
      const rs = await adapter.queryRaw(q("SELECT @@session.time_zone AS tz, @@session.group_concat_max_len AS len"));
      assert.equal(rs.rows[0][0], "+00:00");
      // 4294967295 asked for; MariaDB caps it (at 1 GiB here), far above its default of 1 MiB.
      assert.ok(Number(rs.rows[0][1]) >= 2 ** 30, `group_concat_max_len ${rs.rows[0][1]}`);
      const tx = await adapter.startTransaction();
      assert.deepEqual((await tx.queryRaw(q("SELECT @@session.time_zone AS tz"))).rows, [["+00:00"]]);
      await tx.rollback();
      // Two rows match, one changes.
      await adapter.executeRaw(q("INSERT INTO locks VALUES (50, 1), (51, 2)"));
      assert.equal(await adapter.executeRaw(q("UPDATE locks SET n = 2 WHERE id IN (50, 51)")), 1);
      await adapter.executeRaw(q("DELETE FROM locks WHERE id IN (50, 51)"));
    });

    test("a transaction commits and rolls back", async () => {
      const tx = await adapter.startTransaction();
      assert.equal(await tx.executeRaw(q("INSERT INTO vals (id, s) VALUES (?, ?)", [10, "tx-commit"], ["Int", "String"])), 1);
      // Not visible outside before COMMIT.
      assert.deepEqual((await adapter.queryRaw(q("SELECT id FROM vals WHERE id = 10"))).rows, []);
      assert.deepEqual((await tx.queryRaw(q("SELECT id FROM vals WHERE id = 10"))).rows, [[10]]);
      await tx.commit();
      assert.deepEqual((await adapter.queryRaw(q("SELECT id FROM vals WHERE id = 10"))).rows, [[10]]);

      const tx2 = await adapter.startTransaction();
      await tx2.executeRaw(q("INSERT INTO vals (id, s) VALUES (?, ?)", [11, "tx-rollback"], ["Int", "String"]));
      await tx2.rollback();
      assert.deepEqual((await adapter.queryRaw(q("SELECT id FROM vals WHERE id = 11"))).rows, []);
      assertCause(await rejection(tx2.commit()), "transactionClosed");
    });

    test("isolation levels are set before the transaction starts", async () => {
      // Seen by what each level lets a transaction see of another's writes.
      const other = async (sql) => admin.query(sql);
      const read = async (tx) => (await tx.queryRaw(q("SELECT n FROM locks WHERE id = 2"))).rows[0][0];
      await other("UPDATE locks SET n = 0 WHERE id = 2");

      // REPEATABLE READ (and Snapshot): a second read does not see a commit made in between.
      for (const level of ["RepeatableRead", "Snapshot"]) {
        const tx = await adapter.startTransaction(level);
        assert.equal(await read(tx), 0);
        await other("UPDATE locks SET n = n + 1 WHERE id = 2");
        assert.equal(await read(tx), 0, level);
        await tx.rollback();
        await other("UPDATE locks SET n = 0 WHERE id = 2");
      }
      // READ COMMITTED: it does.
      {
        const tx = await adapter.startTransaction("ReadCommitted");
        assert.equal(await read(tx), 0);
        await other("UPDATE locks SET n = n + 1 WHERE id = 2");
        assert.equal(await read(tx), 1);
        await tx.rollback();
        await other("UPDATE locks SET n = 0 WHERE id = 2");
      }
      // READ UNCOMMITTED: it sees another transaction's uncommitted write.
      {
        await other("START TRANSACTION");
        await other("UPDATE locks SET n = 42 WHERE id = 2");
        const tx = await adapter.startTransaction("ReadUncommitted");
        assert.equal(await read(tx), 42);
        await tx.rollback();
        await other("ROLLBACK");
      }
      // SERIALIZABLE: its plain reads lock the row, so another writer waits (and times out).
      {
        const tx = await adapter.startTransaction("Serializable");
        assert.equal(await read(tx), 0);
        await other("SET SESSION innodb_lock_wait_timeout = 1");
        await assert.rejects(other("UPDATE locks SET n = n + 1 WHERE id = 2"), (e) => e.errno === 1205);
        await tx.rollback();
      }
      // Without a level the server's default applies (REPEATABLE READ on MariaDB).
      {
        const tx = await adapter.startTransaction();
        assert.equal(await read(tx), 0);
        await other("UPDATE locks SET n = 7 WHERE id = 2");
        assert.equal(await read(tx), 0);
        await tx.rollback();
        await other("UPDATE locks SET n = 0 WHERE id = 2");
      }
    });

    test("MySQL's errors map to the kinds and SQLSTATEs the engine turns into Prisma's codes", async () => {
      await adapter.executeRaw(q("INSERT INTO vals (id, s) VALUES (100, 'dup')"));
      // 1062 → P2002, with the key's name.
      assertCause(await rejection(adapter.executeRaw(q("INSERT INTO vals (id, s) VALUES (101, 'dup')"))), "database", { sqlstate: "23505", errno: 1062, mysqlSqlstate: "23000", constraint: "vals_s_key" });
      assertCause(await rejection(adapter.executeRaw(q("INSERT INTO vals (id) VALUES (100)"))), "database", { sqlstate: "23505", errno: 1062, constraint: "PRIMARY" });
      // 1452 / 1451 → P2003, with the foreign key's name.
      assertCause(await rejection(adapter.executeRaw(q("INSERT INTO child VALUES (2, 99)"))), "database", { sqlstate: "23503", errno: 1452, constraint: "child_parentId_fkey", column: "parentId", table: "child" });
      assertCause(await rejection(adapter.executeRaw(q("DELETE FROM parent WHERE id = 1"))), "database", { sqlstate: "23503", errno: 1451, constraint: "child_parentId_fkey" });
      // 1048 → P2011, 1406 → P2000.
      assertCause(await rejection(adapter.executeRaw(q("INSERT INTO vals (id, req) VALUES (102, ?)", [null], ["Null"]))), "database", { sqlstate: "23502", errno: 1048, column: "req" });
      assertCause(await rejection(adapter.executeRaw(q("INSERT INTO vals (id, short) VALUES (103, ?)", ["too long"]))), "database", { sqlstate: "22001", errno: 1406, column: "short" });
      // 1146 → P2021, 1054 → P2022.
      assertCause(await rejection(adapter.queryRaw(q("SELECT * FROM nope"))), "database", { sqlstate: "42P01", errno: 1146, table: "nope" });
      assertCause(await rejection(adapter.queryRaw(q("SELECT nope FROM vals"))), "database", { sqlstate: "42703", errno: 1054, column: "nope" });
      // Anything else keeps MySQL's SQLSTATE.
      assertCause(await rejection(adapter.queryRaw(q("SELEC 1"))), "database", { sqlstate: "42000", errno: 1064 });
    });

    test("a deadlock (1213) and a lock wait timeout (1205) map to P2034's SQLSTATE", async () => {
      const a = await adapter.startTransaction();
      const b = await adapter.startTransaction();
      await a.executeRaw(q("UPDATE locks SET n = n + 1 WHERE id = 1"));
      await b.executeRaw(q("UPDATE locks SET n = n + 1 WHERE id = 2"));
      const waiting = a.executeRaw(q("UPDATE locks SET n = n + 1 WHERE id = 2")).then(() => null, (e) => e);
      await new Promise((r) => setTimeout(r, 200));
      const other = await b.executeRaw(q("UPDATE locks SET n = n + 1 WHERE id = 1")).then(() => null, (e) => e);
      const failed = (await waiting) ?? other;
      assertCause(failed, "database", { sqlstate: "40P01", errno: 1213 });
      await a.rollback();
      await b.rollback();

      const c = await adapter.startTransaction();
      const d = await adapter.startTransaction();
      await d.executeRaw(q("SET SESSION innodb_lock_wait_timeout = 1"));
      await c.executeRaw(q("UPDATE locks SET n = n + 1 WHERE id = 1"));
      assertCause(await rejection(d.executeRaw(q("UPDATE locks SET n = n + 1 WHERE id = 1"))), "database", { sqlstate: "40001", errno: 1205 });
      await c.rollback();
      await d.rollback();
    });

    test("a connection killed mid-query is a connection error, and the adapter goes on", async () => {
      const tx = await adapter.startTransaction();
      await tx.executeRaw(q("INSERT INTO vals (id, s) VALUES (200, 'killed')"));
      const pending = tx.queryRaw(q("SELECT SLEEP(20) AS s"));
      const settled = pending.then(() => null, (e) => e);
      let id;
      for (let i = 0; i < 100 && id === undefined; i++) {
        await new Promise((r) => setTimeout(r, 50));
        const [rows] = await admin.query("SELECT id FROM information_schema.processlist WHERE info = 'SELECT SLEEP(20) AS s'");
        id = rows[0]?.id;
      }
      assert.ok(id, "the statement is running");
      await admin.query(`KILL ${Number(id)}`);
      const e = await settled;
      assertCause(e, "connection");
      // The killed transaction is over: rolling back is harmless, and its insert is gone.
      await tx.rollback();
      assert.deepEqual((await adapter.queryRaw(q("SELECT id FROM vals WHERE id = 200"))).rows, []);
      // Outside a transaction too.
      const outside = adapter.queryRaw(q("SELECT SLEEP(21) AS s")).then(() => null, (e) => e);
      id = undefined;
      for (let i = 0; i < 100 && id === undefined; i++) {
        await new Promise((r) => setTimeout(r, 50));
        const [rows] = await admin.query("SELECT id FROM information_schema.processlist WHERE info = 'SELECT SLEEP(21) AS s'");
        id = rows[0]?.id;
      }
      await admin.query(`KILL ${Number(id)}`);
      assertCause(await outside, "connection");
      assert.deepEqual((await adapter.queryRaw(q("SELECT 1 AS one"))).rows, [[1]]);
    });
  });
}

describe("MySQL adapters without a server", () => {
  test("a server that does not answer is a connection error", async () => {
    const pool = mysql.createPool({ uri: "mysql://root@127.0.0.1:1/test", connectTimeout: 2000 });
    try {
      assertCause(await rejection(mysql2Adapter(pool).queryRaw(q("SELECT 1"))), "connection");
      assertCause(await rejection(mysql2Adapter(pool).startTransaction()), "connection");
    } finally {
      await pool.end();
    }
    const ps = planetscaleAdapter(new Client({ url: "http://root:x@127.0.0.1:1" }));
    assertCause(await rejection(ps.queryRaw(q("SELECT 1"))), "connection");
    assertCause(await rejection(ps.startTransaction()), "connection");
  });
});
