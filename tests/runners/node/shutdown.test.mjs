// Shutdown and timeouts, on both engines (the WebAssembly engine over node-postgres and over Neon's
// WebSocket driver, and the native addon): `$disconnect()` is final — open transactions are rolled back (a statement they are
// running is cancelled, not waited for), a transaction still waiting for a connection never
// starts, nothing starts afterwards (Q4002), and no connection of the client's is left when it
// resolves (the pool the client owns is closed; a pool the caller gave has nothing checked out).
// A transaction past its timeout has its running statement cancelled. Each client names its
// connections (`application_name`) so the test sees only its own in pg_stat_activity.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { QuarryError, createClient } from "quarry";
import { Pool as NeonPool, neonConfig } from "@neondatabase/serverless";
import { neonAdapter } from "quarry/adapters/neon";
import { pgAdapter } from "quarry/adapters/pg";
import { WebSocket } from "ws";
import { neonLocalConfig, startWebsockify } from "../../runtimes/support/websockify.mjs";
import { DATABASE_URL } from "./support/backends.mjs";

const SCHEMA = `
datasource db {
  provider = "postgresql"
}

model Item {
  id   Int    @id @default(autoincrement())
  name String
}
`;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const withParam = (url, key, value) => `${url}${url.includes("?") ? "&" : "?"}${key}=${encodeURIComponent(value)}`;

let admin;
before(async () => {
  admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
});
after(async () => {
  await admin.end();
});

/** The client's backends in pg_stat_activity: `[{ state, query }]`. */
async function backends(app) {
  const { rows } = await admin.query("SELECT state, query FROM pg_stat_activity WHERE application_name = $1", [app]);
  return rows;
}

/** Waits (at most `ms`) for `check` to hold; the last value it returned. */
async function eventually(check, ms = 2000) {
  const start = Date.now();
  let last;
  while (Date.now() - start < ms) {
    last = await check();
    if (last === true) return true;
    await sleep(20);
  }
  return last;
}

const engines = [
  {
    name: "wasm-pg",
    async open(app) {
      const pool = new pg.Pool({ connectionString: DATABASE_URL, application_name: app, max: 2, connectionTimeoutMillis: 5000 });
      return {
        options: { adapter: pgAdapter(pool) },
        // A pool the caller gave stays the caller's: after $disconnect nothing of it is in use.
        settled: async () => (await backends(app)).every((b) => b.state === "idle") && pool.totalCount === pool.idleCount,
        close: () => pool.end(),
      };
    },
  },
  {
    name: "wasm-neon",
    async open(app) {
      const proxy = await startWebsockify(new URL(DATABASE_URL).host || "127.0.0.1:5432");
      neonLocalConfig(neonConfig, proxy.port);
      neonConfig.webSocketConstructor = WebSocket;
      const pool = new NeonPool({ connectionString: withParam(DATABASE_URL, "application_name", app), max: 2 });
      return {
        options: { adapter: neonAdapter(pool) },
        settled: async () => (await backends(app)).every((b) => b.state === "idle") && pool.totalCount === pool.idleCount,
        close: async () => {
          await pool.end();
          await proxy.close();
        },
      };
    },
  },
  {
    name: "native",
    async open(app) {
      const url = withParam(withParam(DATABASE_URL, "application_name", app), "connection_limit", "2");
      return {
        options: { url },
        // The native engine's pool is the client's: after $disconnect no connection is left.
        settled: async () => (await backends(app)).length === 0,
        close: async () => {},
      };
    },
  },
];

for (const engine of engines) {
  describe(`shutdown and timeouts (${engine.name})`, () => {
    const namespace = `qshutdown_${engine.name.replace("-", "_")}_${process.pid}`;
    let n = 0;
    const client = async (app, extra = {}) => {
      const driver = await engine.open(app);
      const db = createClient({ schema: SCHEMA, namespace, ...driver.options, ...extra });
      return { db, driver };
    };
    const items = async () => (await admin.query(`SELECT name FROM "${namespace}"."Item" ORDER BY name`)).rows.map((r) => r.name);

    before(async () => {
      await admin.query(`DROP SCHEMA IF EXISTS "${namespace}" CASCADE`);
      await admin.query(`CREATE SCHEMA "${namespace}"`);
      const { db, driver } = await client(`quarry_shutdown_ddl_${process.pid}`);
      for (const statement of db.$ddl()) await admin.query(`SET search_path TO "${namespace}"; ${statement}`);
      await admin.query("SET search_path TO DEFAULT");
      await db.$disconnect();
      await driver.close();
    });

    after(async () => {
      await admin.query(`DROP SCHEMA IF EXISTS "${namespace}" CASCADE`);
    });

    test("$disconnect rolls back open transactions, starts no queued one, and leaves no connection", async () => {
      const app = `quarry_shutdown_${engine.name}_${process.pid}_${n++}`;
      const { db, driver } = await client(app);
      try {
        let release;
        const held = new Promise((r) => (release = r));
        let started = 0;
        // Two transactions hold both connections: one waits in its callback, one runs a long statement.
        const waiting = db.$transaction(
          async (tx) => {
            started++;
            await tx.item.create({ data: { name: "waiting" } });
            await held;
            await tx.item.create({ data: { name: "waiting 2" } });
          },
          { timeout: 60_000, maxWait: 10_000 },
        );
        const running = db.$transaction(
          async (tx) => {
            started++;
            await tx.item.create({ data: { name: "running" } });
            await tx.$queryRawUnsafe("SELECT pg_sleep(30) AS shutdown_running");
          },
          { timeout: 60_000, maxWait: 10_000 },
        );
        const outcomes = [waiting, running].map((p) => p.then(() => "committed", (e) => e));
        assert.equal(await eventually(async () => started === 2 && (await backends(app)).some((b) => b.query.includes("shutdown_running"))), true);
        // A third waits for a connection.
        let queuedRan = false;
        const queued = db
          .$transaction(
            async (tx) => {
              queuedRan = true;
              await tx.item.create({ data: { name: "queued" } });
            },
            { timeout: 60_000, maxWait: 10_000 },
          )
          .then(() => "committed", (e) => e);
        await sleep(100);

        const start = Date.now();
        await db.$disconnect();
        const took = Date.now() - start;
        assert.ok(took < 10_000, `$disconnect waited for the running statement (${took} ms)`);
        release();
        for (const outcome of [...(await Promise.all(outcomes)), await queued]) {
          assert.ok(outcome instanceof QuarryError, `a typed error, got ${outcome}`);
        }
        assert.equal(queuedRan, false, "a transaction started during shutdown");
        assert.deepEqual(await items(), []);
        assert.equal(await eventually(driver.settled), true, JSON.stringify(await backends(app)));

        // Final: nothing starts any more.
        await assert.rejects(db.item.count(), (e) => e instanceof QuarryError && e.code === "Q4002");
        await assert.rejects(
          db.$transaction(async () => {}),
          (e) => e instanceof QuarryError && e.code === "Q4002",
        );
        await db.$disconnect();
      } finally {
        await driver.close();
      }
    });

    test("a transaction past its timeout has its running statement cancelled", async () => {
      const app = `quarry_timeout_${engine.name}_${process.pid}_${n++}`;
      const { db, driver } = await client(app);
      try {
        const start = Date.now();
        await assert.rejects(
          db.$transaction(
            async (tx) => {
              await tx.item.create({ data: { name: "timed out" } });
              await tx.$queryRawUnsafe("SELECT pg_sleep(30) AS past_timeout");
            },
            { timeout: 500 },
          ),
          (e) => e instanceof QuarryError,
        );
        const took = Date.now() - start;
        assert.ok(took < 10_000, `the statement ran on past the timeout (${took} ms)`);
        assert.equal(await eventually(async () => !(await backends(app)).some((b) => b.query.includes("past_timeout") && b.state === "active")), true);
        assert.deepEqual(await items(), []);
        assert.equal(await db.item.count(), 0);
      } finally {
        await db.$disconnect();
        await driver.close();
      }
    });
  });
}
