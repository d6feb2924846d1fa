// Named prepared statements in the node-postgres and Neon WebSocket adapters, against the real
// PostgreSQL: a recurring text is parsed once per connection and reused (read from
// pg_prepared_statements on that connection), one-off and parameterless texts stay unnamed, the
// number of names is bounded, a plan whose result type changed under it (ALTER TABLE) runs again,
// a statement the server refuses keeps its connection (and what was prepared on it) in the pool,
// a lost connection prepares anew, and PgBouncer in transaction mode (which does not keep
// prepared statements before 1.21) works with `pgbouncer=true` and survives without it.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Pool as NeonPool, neonConfig } from "@neondatabase/serverless";
import pg from "pg";
import { neonAdapter } from "quarry/adapters/neon";
import { pgAdapter } from "quarry/adapters/pg";
import { WebSocket } from "ws";
import { neonLocalConfig, startWebsockify } from "../../runtimes/support/websockify.mjs";

const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const q = (sql, args = []) => ({ sql, args, argTypes: args.map(() => "Int") });

/** The named statements of the session a one-connection pool holds. */
async function prepared(pool) {
  const res = await pool.query("SELECT name, statement, generic_plans + custom_plans AS runs FROM pg_prepared_statements ORDER BY prepare_time, name");
  return res.rows.map((r) => ({ name: r.name, statement: r.statement, runs: Number(r.runs) }));
}

const kinds = {
  pg: { pool: (options) => new pg.Pool({ connectionString: DATABASE_URL, ...options }), adapter: pgAdapter },
  neon: { pool: (options) => new NeonPool({ connectionString: DATABASE_URL, ...options }), adapter: neonAdapter },
};

let proxy;
before(async () => {
  proxy = await startWebsockify(new URL(DATABASE_URL).host || "127.0.0.1:5432");
  neonLocalConfig(neonConfig, proxy.port);
  neonConfig.webSocketConstructor = WebSocket;
});
after(() => proxy?.close());

for (const [kind, { pool: makePool, adapter: makeAdapter }] of Object.entries(kinds)) {
  describe(`${kind}: named statements`, () => {
    const table = `qprepared_${process.pid}_${kind}`;
    let pools = [];
    /** A pool of one connection, so what the adapter prepared can be read from its session. */
    const onePool = () => {
      const pool = makePool({ max: 1 });
      pools.push(pool);
      return pool;
    };

    after(async () => {
      const pool = onePool();
      await pool.query(`DROP TABLE IF EXISTS "${table}"`);
      await Promise.all(pools.map((p) => p.end()));
      pools = [];
    });

    test("a recurring text is named from its second use and parsed once", async () => {
      const pool = onePool();
      const adapter = makeAdapter(pool);
      const sql = "SELECT $1::int + 1 AS n";
      assert.deepEqual((await adapter.queryRaw(q(sql, [0]))).rows, [["1"]]);
      assert.deepEqual(await prepared(pool), [], "a text seen once runs unnamed");
      for (let i = 1; i <= 4; i++) assert.deepEqual((await adapter.queryRaw(q(sql, [i]))).rows, [[String(i + 1)]]);
      const [statement, ...others] = await prepared(pool);
      assert.deepEqual(others, []);
      assert.match(statement.name, /^quarry_[a-z0-9]+_1$/);
      assert.equal(statement.statement, sql);
      assert.equal(statement.runs, 4, "one prepared statement served the four later runs");
      // The same text in a transaction (the same connection here) runs under the same name.
      const tx = await adapter.startTransaction();
      assert.deepEqual((await tx.queryRaw(q(sql, [9]))).rows, [["10"]]);
      await tx.commit();
      assert.equal((await prepared(pool))[0].runs, 5);
    });

    test("a statement the server refuses leaves its connection, and what it prepared, in the pool", async () => {
      const pool = onePool();
      const adapter = makeAdapter(pool);
      const pid = q("SELECT pg_backend_pid() AS pid, $1::int AS n", [1]);
      const [[first]] = (await adapter.queryRaw(pid)).rows;
      await adapter.queryRaw(pid);
      assert.equal((await prepared(pool)).length, 1);
      // Errors the server reports for the statement alone: a division by zero, a unique violation,
      // a failed cast, a statement timeout; each leaves the connection ready for the next.
      await pool.query(`CREATE TEMPORARY TABLE "${table}_u" (id int PRIMARY KEY)`);
      const failing = [
        [q("SELECT 1 / $1::int AS n", [0]), "22012"],
        [q(`INSERT INTO "${table}_u" VALUES ($1), ($1)`, [1]), "23505"],
        [q("SELECT $1::text::int AS n", ["x"]), "22P02"],
        [q("SELECT pg_sleep($1)", [1]), "57014"],
      ];
      for (const [query, code] of failing) {
        if (code === "57014") await pool.query("SET statement_timeout = 50");
        await assert.rejects(adapter.queryRaw(query), (e) => e.cause?.originalCode === code || e.cause?.code === code || String(e.message).includes(code));
        await pool.query("RESET statement_timeout");
        const [[after]] = (await adapter.queryRaw(pid)).rows;
        assert.equal(after, first, `the connection was kept after ${code}`);
      }
      const statements = (await prepared(pool)).map((s) => s.statement);
      assert.ok(statements.includes(pid.sql), "the named statement is still prepared on it");
      // A connection the server ends is still thrown away, and the next statement gets another.
      await assert.rejects(adapter.queryRaw(q("SELECT pg_sleep($1) FROM (SELECT pg_terminate_backend(pg_backend_pid())) s", [0])));
      const [[next]] = (await adapter.queryRaw(pid)).rows;
      assert.notEqual(next, first);
    });

    test("texts without parameters keep the simple protocol and are never named", async () => {
      const pool = onePool();
      const adapter = makeAdapter(pool);
      for (let i = 0; i < 3; i++) await adapter.executeRaw(q("SELECT 1; SELECT 2"));
      assert.deepEqual(await prepared(pool), []);
    });

    test("two adapters on one pool give their texts different names", async () => {
      const pool = onePool();
      const [a, b] = [makeAdapter(pool), makeAdapter(pool)];
      for (let i = 0; i < 2; i++) {
        assert.deepEqual((await a.queryRaw(q("SELECT $1::int AS a", [1]))).rows, [["1"]]);
        assert.deepEqual((await b.queryRaw(q("SELECT $1::int AS b", [2]))).rows, [["2"]]);
      }
      const names = (await prepared(pool)).map((s) => s.name);
      assert.equal(names.length, 2);
      assert.notEqual(names[0], names[1]);
    });

    test("at most statementCacheSize texts get names", async () => {
      const pool = onePool();
      const adapter = makeAdapter(pool, { statementCacheSize: 3 });
      for (let round = 0; round < 3; round++) {
        for (let k = 0; k < 8; k++) assert.deepEqual((await adapter.queryRaw(q(`SELECT $1::int + ${k} AS n`, [round]))).rows, [[String(round + k)]]);
      }
      assert.deepEqual(
        (await prepared(pool)).map((s) => s.statement),
        [0, 1, 2].map((k) => `SELECT $1::int + ${k} AS n`),
      );
      const off = onePool();
      const unnamed = makeAdapter(off, { statementCacheSize: 0 });
      for (let i = 0; i < 3; i++) await unnamed.queryRaw(q("SELECT $1::int AS n", [i]));
      assert.deepEqual(await prepared(off), []);
    });

    if (kind === "pg") {
      test("the default bound is 256 texts", async () => {
        const pool = onePool();
        const adapter = makeAdapter(pool);
        for (let round = 0; round < 2; round++) {
          for (let k = 0; k < 300; k++) await adapter.queryRaw(q(`SELECT $1::int + ${k} AS n`, [round]));
        }
        assert.equal((await prepared(pool)).length, 256);
      });
    }

    test("a statement whose result type changed under it (ALTER TABLE) runs again", async () => {
      const pool = onePool();
      const adapter = makeAdapter(pool);
      await pool.query(`DROP TABLE IF EXISTS "${table}"`);
      await pool.query(`CREATE TABLE "${table}" (id int PRIMARY KEY, a text)`);
      await pool.query(`INSERT INTO "${table}" VALUES (1, 'x')`);
      const star = q(`SELECT * FROM "${table}" WHERE id = $1`, [1]);
      const listed = q(`SELECT id, a FROM "${table}" WHERE id = $1`, [1]);
      for (let i = 0; i < 3; i++) {
        assert.deepEqual((await adapter.queryRaw(star)).rows, [["1", "x"]]);
        assert.deepEqual((await adapter.queryRaw(listed)).rows, [["1", "x"]]);
      }
      assert.equal((await prepared(pool)).length, 2);

      await pool.query(`ALTER TABLE "${table}" ADD COLUMN b int DEFAULT 7`);
      for (let i = 0; i < 2; i++) {
        const rs = await adapter.queryRaw(star);
        assert.deepEqual(rs.columnNames, ["id", "a", "b"]);
        assert.deepEqual(rs.rows, [["1", "x", "7"]]);
        // Its column list did not change: PostgreSQL plans it again by itself.
        assert.deepEqual((await adapter.queryRaw(listed)).rows, [["1", "x"]]);
      }
      await pool.query(`ALTER TABLE "${table}" ALTER COLUMN a TYPE varchar(10)`);
      for (let i = 0; i < 2; i++) {
        const rs = await adapter.queryRaw(listed);
        assert.deepEqual(rs.columnTypes, [23, 1043]);
        assert.deepEqual(rs.rows, [["1", "x"]]);
      }

      // In a transaction the failure aborts it: the error is the database's, and the next
      // transaction runs the text under a fresh name. (The failures above cost pool.query its
      // connection: node-postgres's pool drops a client whose query failed. Prepare it again.)
      for (let i = 0; i < 2; i++) assert.deepEqual((await adapter.queryRaw(star)).rows, [["1", "x", "7"]]);
      assert.ok((await prepared(pool)).some((s) => s.statement === star.sql));
      await pool.query(`ALTER TABLE "${table}" ADD COLUMN c int DEFAULT 8`);
      const tx = await adapter.startTransaction();
      await assert.rejects(tx.queryRaw(star), (e) => e.cause.kind === "database" && e.cause.sqlstate === "0A000");
      await tx.rollback();
      const again = await adapter.startTransaction();
      assert.deepEqual((await again.queryRaw(star)).rows, [["1", "x", "7", "8"]]);
      await again.commit();
    });

    test("a lost connection prepares the text again on the next one", async () => {
      const pool = onePool();
      const adapter = makeAdapter(pool);
      const sql = "SELECT $1::int * 2 AS n";
      for (let i = 0; i < 2; i++) await adapter.queryRaw(q(sql, [i]));
      const pid = (await pool.query("SELECT pg_backend_pid() AS pid")).rows[0].pid;
      const killer = makePool({ max: 1 });
      pools.push(killer);
      await killer.query("SELECT pg_terminate_backend($1)", [pid]);
      // The pool drops the idle client when its connection's end arrives.
      for (let i = 0; i < 50 && pool.totalCount > 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual((await adapter.queryRaw(q(sql, [21]))).rows, [["42"]]);
      assert.notEqual((await pool.query("SELECT pg_backend_pid() AS pid")).rows[0].pid, pid);
      assert.deepEqual(
        (await prepared(pool)).map((s) => [s.statement, s.runs]),
        [[sql, 1]],
      );
    });
  });
}

/** A free local port. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** PgBouncer (Debian's, 1.18 here: no prepared statement support) in transaction mode, one server connection. */
async function startPgBouncer() {
  const upstream = new URL(DATABASE_URL);
  const database = upstream.pathname.slice(1) || "postgres";
  const user = decodeURIComponent(upstream.username || "postgres");
  const dir = mkdtempSync(join(tmpdir(), "quarry-prepared-pgbouncer-"));
  chmodSync(dir, 0o755);
  const port = await freePort();
  writeFileSync(join(dir, "users.txt"), `"${user}" ""\n`, { mode: 0o644 });
  const root = process.getuid?.() === 0;
  const config = [
    "[databases]",
    `${database} = host=${upstream.hostname || "127.0.0.1"} port=${upstream.port || 5432} dbname=${database}`,
    "[pgbouncer]",
    "listen_addr = 127.0.0.1",
    `listen_port = ${port}`,
    "unix_socket_dir =",
    "auth_type = trust",
    `auth_file = ${join(dir, "users.txt")}`,
    "pool_mode = transaction",
    "default_pool_size = 1",
    "min_pool_size = 0",
    "reserve_pool_size = 0",
    "max_client_conn = 100",
    "ignore_startup_parameters = extra_float_digits",
    ...(root ? [`user = ${readFileSync("/etc/passwd", "utf8").includes("\npostgres:") ? "postgres" : "nobody"}`] : []),
    "",
  ].join("\n");
  writeFileSync(join(dir, "pgbouncer.ini"), config, { mode: 0o644 });
  const binary = process.env.PGBOUNCER ?? "/usr/sbin/pgbouncer";
  const child = spawn(binary, [join(dir, "pgbouncer.ini")], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const deadline = Date.now() + 10_000;
  while (!log.includes(`listening on 127.0.0.1:${port}`)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`pgbouncer did not start:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    url: `postgres://${user}@127.0.0.1:${port}/${database}`,
    async stop() {
      child.kill();
      await new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe("pg behind PgBouncer in transaction mode", () => {
  let bouncer;
  before(async () => {
    bouncer = await startPgBouncer();
  });
  after(() => bouncer?.stop());

  /** Rounds of two requests at once (two client connections, one server connection), then transactions. */
  async function exercise(adapter) {
    const sql = "SELECT $1::int + 100 AS n";
    for (let round = 0; round < 10; round++) {
      const results = await Promise.all([adapter.queryRaw(q(sql, [round])), adapter.queryRaw(q(sql, [round + 1]))]);
      assert.deepEqual(
        results.map((r) => r.rows),
        [[[String(round + 100)]], [[String(round + 101)]]],
      );
    }
    // One at a time: the single server connection is held from BEGIN to COMMIT.
    for (let i = 0; i < 4; i++) {
      const tx = await adapter.startTransaction();
      assert.deepEqual((await tx.queryRaw(q(sql, [i]))).rows, [[String(i + 100)]]);
      assert.deepEqual((await tx.queryRaw(q(sql, [i + 1]))).rows, [[String(i + 101)]]);
      await tx.commit();
    }
  }

  test("pgbouncer=true in the connection string sends every statement unnamed", async () => {
    const pool = new pg.Pool({ connectionString: `${bouncer.url}?pgbouncer=true`, max: 2 });
    try {
      await exercise(pgAdapter(pool));
      const direct = new pg.Pool({ connectionString: bouncer.url, max: 1 });
      try {
        assert.deepEqual(await prepared(direct), [], "nothing was prepared on the server connection");
      } finally {
        await direct.end();
      }
    } finally {
      await pool.end();
    }
  });

  test("statementCacheSize: 0 does the same for any connection string", async () => {
    const pool = new pg.Pool({ connectionString: bouncer.url, max: 2 });
    try {
      await exercise(pgAdapter(pool, { statementCacheSize: 0 }));
    } finally {
      await pool.end();
    }
  });

  test("without the switch, the adapter notices the pooler and stops naming before any request fails", async () => {
    const pool = new pg.Pool({ connectionString: bouncer.url, max: 2 });
    try {
      const adapter = pgAdapter(pool);
      const sql = "SELECT $1::int + 100 AS n";
      // Outside transactions a statement the pooler's server connection does not know (or already
      // knows) runs again unnamed; after that nothing is named, transactions included.
      for (let round = 0; round < 10; round++) {
        const results = await Promise.all([adapter.queryRaw(q(sql, [round])), adapter.queryRaw(q(sql, [round + 1]))]);
        assert.deepEqual(
          results.map((r) => r.rows),
          [[[String(round + 100)]], [[String(round + 101)]]],
        );
      }
      await exercise(adapter);
    } finally {
      await pool.end();
    }
  });
});
