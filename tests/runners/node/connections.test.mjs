// Lost connections: the server ends the client's backend (pg_terminate_backend from a second
// connection, as a restart or a failover would) during a statement, inside an interactive
// transaction, in the middle of a batch and in the middle of a nested write, on every engine and
// adapter that reaches a PostgreSQL server here (the WebAssembly engine over node-postgres and
// over Neon's WebSocket driver, and the native addon). Each time the request fails with a typed
// error, the process keeps running, nothing is half-written, and the next request succeeds. Each
// client names its connections (`application_name`) so that only its own are ended.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Pool as NeonPool, neonConfig } from "@neondatabase/serverless";
import pg from "pg";
import { QuarryError, createClient } from "quarry";
import { neonAdapter } from "quarry/adapters/neon";
import { pgAdapter } from "quarry/adapters/pg";
import { WebSocket } from "ws";
import { neonLocalConfig, startWebsockify } from "../../runtimes/support/websockify.mjs";
import { DATABASE_URL } from "./support/backends.mjs";

const SCHEMA = `
datasource db {
  provider = "postgresql"
}

model Parent {
  id       Int     @id @default(autoincrement())
  name     String
  children Child[]
}

model Child {
  id       Int    @id @default(autoincrement())
  name     String
  parentId Int
  parent   Parent @relation(fields: [parentId], references: [id])
}
`;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const withParam = (url, key, value) => `${url}${url.includes("?") ? "&" : "?"}${key}=${encodeURIComponent(value)}`;

/** The admin connection that watches and ends the client's backends. */
let admin;
/** The backends ended so far. */
const killed = new Set();

/** Ends every backend of `app` that is running a statement containing `marker`, once one is. */
async function terminateWhenRunning(app, marker) {
  for (let i = 0; i < 200; i++) {
    const { rows } = await admin.query(
      "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND state = 'active' AND position($2 in query) > 0",
      [app, marker],
    );
    if (rows.length > 0) {
      const ended = await admin.query("SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [app]);
      for (const r of ended.rows) killed.add(r.pid);
      return rows.length;
    }
    await sleep(20);
  }
  throw new Error(`no statement with ${marker} ran for ${app}`);
}

/** Ends every backend of `app`, whatever it is doing. */
async function terminateAll(app) {
  const { rows } = await admin.query("SELECT pid, pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1", [app]);
  for (const r of rows) killed.add(r.pid);
  return rows.length;
}

/**
 * Waits until the backends the test ended are gone. A request that takes an idle connection at
 * the very moment the server ends it fails like the one that was running (the driver learns of it
 * only then); the one after gets a working connection.
 */
async function gone() {
  if (killed.size === 0) return;
  for (let i = 0; i < 200; i++) {
    const { rows } = await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ANY($1)", [[...killed]]);
    if (rows[0].n === 0) break;
    await sleep(20);
  }
  killed.clear();
  await sleep(100);
}

const typed = (e) => {
  assert.ok(e instanceof QuarryError, `expected a QuarryError, got ${e?.stack ?? e}`);
  assert.match(e.code, /^(P|Q)\d{4}$/);
  return true;
};

const engines = [
  {
    name: "pg",
    async open(app) {
      const pool = new pg.Pool({ connectionString: DATABASE_URL, application_name: app, max: 4 });
      return { options: { adapter: pgAdapter(pool) }, close: () => pool.end() };
    },
  },
  {
    name: "neon",
    async open(app) {
      const proxy = await startWebsockify(new URL(DATABASE_URL).host || "127.0.0.1:5432");
      neonLocalConfig(neonConfig, proxy.port);
      neonConfig.webSocketConstructor = WebSocket;
      const pool = new NeonPool({ connectionString: withParam(DATABASE_URL, "application_name", app), max: 4 });
      return {
        options: { adapter: neonAdapter(pool) },
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
      return { options: { url: withParam(withParam(DATABASE_URL, "application_name", app), "connection_limit", "4") }, close: async () => {} };
    },
  },
];

before(async () => {
  admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
});

after(async () => {
  await admin.end();
});

for (const engine of engines) {
  describe(`a connection ended by the server (${engine.name})`, () => {
    const app = `quarry_conn_${engine.name}_${process.pid}`;
    const namespace = `qconn_${engine.name}_${process.pid}`;
    let driver;
    let db;
    const count = async () => {
      const { rows } = await admin.query(
        `SELECT (SELECT count(*) FROM "${namespace}"."Parent")::int AS parents, (SELECT count(*) FROM "${namespace}"."Child")::int AS children`,
      );
      return rows[0];
    };
    const nextRequestWorks = async () => {
      await gone();
      const created = await db.parent.create({ data: { name: "after" } });
      assert.equal(created.name, "after");
      await db.parent.delete({ where: { id: created.id } });
    };

    before(async () => {
      driver = await engine.open(app);
      db = createClient({ schema: SCHEMA, namespace, ...driver.options });
      await admin.query(`DROP SCHEMA IF EXISTS "${namespace}" CASCADE`);
      await admin.query(`CREATE SCHEMA "${namespace}"`);
      for (const statement of db.$ddl()) await admin.query(`SET search_path TO "${namespace}"; ${statement}`);
      await admin.query("SET search_path TO DEFAULT");
      // Inserting a child takes a while, so a nested write can be caught between its statements.
      await admin.query(`CREATE FUNCTION "${namespace}".slow_child() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.name = 'slow' THEN PERFORM pg_sleep(5); END IF; RETURN NEW; END $$`);
      await admin.query(`CREATE TRIGGER slow_child BEFORE INSERT ON "${namespace}"."Child" FOR EACH ROW EXECUTE FUNCTION "${namespace}".slow_child()`);
    });

    after(async () => {
      await db?.$disconnect();
      await driver?.close();
      await admin.query(`DROP SCHEMA IF EXISTS "${namespace}" CASCADE`);
    });

    test("during a statement", async () => {
      await nextRequestWorks();
      const running = db.$queryRawUnsafe("SELECT pg_sleep(5) AS during_statement").then(
        () => assert.fail("the statement should have failed"),
        (e) => e,
      );
      await terminateWhenRunning(app, "during_statement");
      typed(await running);
      await nextRequestWorks();
    });

    test("inside an interactive transaction, between statements", async () => {
      const before = await count();
      const outcome = await db
        .$transaction(
          async (tx) => {
            await tx.parent.create({ data: { name: "in transaction" } });
            assert.ok((await terminateAll(app)) >= 1);
            await sleep(200);
            await tx.parent.create({ data: { name: "in transaction 2" } });
          },
          { timeout: 20_000 },
        )
        .then(
          () => assert.fail("the transaction should have failed"),
          (e) => e,
        );
      typed(outcome);
      assert.deepEqual(await count(), before);
      await nextRequestWorks();
    });

    test("inside an interactive transaction, during a statement", async () => {
      const before = await count();
      const outcome = db
        .$transaction(
          async (tx) => {
            await tx.parent.create({ data: { name: "in transaction" } });
            await tx.$queryRawUnsafe("SELECT pg_sleep(5) AS in_transaction");
          },
          { timeout: 20_000 },
        )
        .then(
          () => assert.fail("the transaction should have failed"),
          (e) => e,
        );
      await terminateWhenRunning(app, "in_transaction");
      typed(await outcome);
      assert.deepEqual(await count(), before);
      await nextRequestWorks();
    });

    test("in the middle of a batch", async () => {
      const before = await count();
      const outcome = db
        .$transaction([
          db.parent.create({ data: { name: "batch 1" } }),
          db.$queryRawUnsafe("SELECT pg_sleep(5) AS mid_batch"),
          db.parent.create({ data: { name: "batch 2" } }),
        ])
        .then(
          () => assert.fail("the batch should have failed"),
          (e) => e,
        );
      await terminateWhenRunning(app, "mid_batch");
      typed(await outcome);
      assert.deepEqual(await count(), before);
      await nextRequestWorks();
    });

    test("in the middle of a nested write", async () => {
      const before = await count();
      const outcome = db.parent
        .create({ data: { name: "nested", children: { create: [{ name: "fast" }, { name: "slow" }] } } })
        .then(
          () => assert.fail("the nested write should have failed"),
          (e) => e,
        );
      await terminateWhenRunning(app, "INSERT");
      typed(await outcome);
      assert.deepEqual(await count(), before);
      await nextRequestWorks();
    });

    test("idle pooled connections", async () => {
      await nextRequestWorks();
      await terminateAll(app);
      await sleep(200);
      await nextRequestWorks();
    });
  });
}
