// The databases and engines the Node runners use: the WebAssembly engine behind the package's own
// adapters, on PGlite in this process (started from a data-dir snapshot, see `startPGlite`), on
// the PostgreSQL server in DATABASE_URL through node-postgres and through Neon's WebSocket driver
// (behind a local websockify); the native addon, which connects to DATABASE_URL itself; and, with
// the schemas switched to `provider = "mysql"`, the WebAssembly engine over mysql2 and PlanetScale's
// driver on the MariaDB server in MYSQL_URL (./mysql.mjs). Every suite or case gets its own
// namespace — a PostgreSQL schema, or a MySQL database — created with the engine's DDL and
// seeded, so nothing is shared between tests or with other users of the server.

import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { Pool as NeonPool, neonConfig } from "@neondatabase/serverless";
import pg from "pg";
import { neonAdapter } from "quarry/adapters/neon";
import { pgAdapter } from "quarry/adapters/pg";
import { pgliteAdapter } from "quarry/adapters/pglite";
import { createClient } from "quarry";
import { WebSocket } from "ws";
import { neonLocalConfig, startWebsockify } from "../../../runtimes/support/websockify.mjs";
import { readTestFile, splitSql } from "./corpus.mjs";
import { openMysqlBackend } from "./mysql.mjs";

export const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

function pgliteVersion() {
  const pkg = new URL("../../../../node_modules/@electric-sql/pglite/package.json", import.meta.url);
  return JSON.parse(readFileSync(pkg, "utf8")).version;
}

/**
 * A fresh PGlite. Creating one runs initdb (seconds); loading the data directory of one that was
 * just created takes about a second, so the first start on a machine saves its data directory
 * (under $QUARRY_TOOLS) and later starts load it.
 */
export async function startPGlite() {
  const dir = join(process.env.QUARRY_TOOLS ?? join(homedir(), ".cache", "quarry-tools"), "pglite");
  const file = join(dir, `datadir-${pgliteVersion()}.tar.gz`);
  let snapshot;
  try {
    snapshot = readFileSync(file);
  } catch {
    const db = await PGlite.create();
    const blob = await db.dumpDataDir("gzip");
    await db.close();
    snapshot = Buffer.from(await blob.arrayBuffer());
    try {
      mkdirSync(dir, { recursive: true });
      const partial = `${file}.${process.pid}`;
      writeFileSync(partial, snapshot);
      renameSync(partial, file);
    } catch {
      // A read-only cache only costs time.
    }
  }
  return PGlite.create({ loadDataDir: new Blob([snapshot]) });
}

const quote = (name) => `"${name.replaceAll('"', '""')}"`;
const statement = (sql) => ({ sql, args: [], argTypes: [] });

/** Creates `namespace` with the schema's tables (the engine's DDL) and runs the seed, in one transaction. */
export async function prepareNamespace(adapter, ddl, namespace, seed) {
  const tx = await adapter.startTransaction();
  try {
    await tx.executeRaw(statement(`DROP SCHEMA IF EXISTS ${quote(namespace)} CASCADE`));
    await tx.executeRaw(statement(`CREATE SCHEMA ${quote(namespace)}`));
    await tx.executeRaw(statement(`SET LOCAL search_path TO ${quote(namespace)}`));
    for (const stmt of ddl) await tx.executeRaw(statement(stmt));
    for (const stmt of seed ? splitSql(seed) : []) await tx.queryRaw(statement(stmt));
  } catch (e) {
    await tx.rollback().catch(() => {});
    throw e;
  }
  await tx.commit();
}

/**
 * Empties the namespace's tables (sequences restarted) and runs the seed again, in one
 * transaction: the data of a fresh `prepareNamespace` in the same tables, so statements a driver
 * prepared on them stay valid.
 */
export async function reseedNamespace(adapter, namespace, seed) {
  const tx = await adapter.startTransaction();
  try {
    await tx.executeRaw(statement(`SET LOCAL search_path TO ${quote(namespace)}`));
    const list = await tx.queryRaw(
      statement(`SELECT string_agg(format('%I.%I', schemaname, tablename), ', ') AS t FROM pg_tables WHERE schemaname = '${namespace.replace(/'/g, "''")}'`),
    );
    const tables = list.rows[0]?.[0];
    if (tables) await tx.executeRaw(statement(`TRUNCATE ${tables} RESTART IDENTITY CASCADE`));
    for (const stmt of seed ? splitSql(seed) : []) await tx.queryRaw(statement(stmt));
  } catch (e) {
    await tx.rollback().catch(() => {});
    throw e;
  }
  await tx.commit();
}

export async function dropNamespace(adapter, namespace) {
  await adapter.executeRaw(statement(`DROP SCHEMA IF EXISTS ${quote(namespace)} CASCADE`)).catch(() => {});
}

async function pgPool() {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 8 });
  try {
    await pool.query("SELECT 1");
  } catch (e) {
    await pool.end();
    throw new Error(`cannot reach PostgreSQL at ${DATABASE_URL} (set DATABASE_URL): ${e.message}`);
  }
  return pool;
}

/** The client options for a backend's engine: a driver adapter (Wasm) or a URL (native addon). */
function withDriver(backend, options) {
  return backend.url ? { url: backend.url, ...options } : { adapter: backend.adapter, ...options };
}

/** The backends whose database is MySQL (MariaDB here): see ./mysql.mjs. */
export const MYSQL_BACKENDS = ["mysql2", "planetscale"];

/**
 * `{ name, label, dialect, quote, adapter, concurrency, client(options), release(db), close }` for a
 * backend name: `pglite`, `pg` or `neon` (the WebAssembly engine over that driver adapter),
 * `native` (the native addon with its own pool to DATABASE_URL; `adapter` is then node-postgres,
 * for setting up namespaces), or `mysql2` / `planetscale` (the WebAssembly engine on MariaDB, the
 * schemas given to `client` switched to MySQL). `client(options)` creates a client on the backend;
 * `release(db)` lets a client go (the native addon's pool closes); `close()` releases every
 * client left and the backend. `label` names the backend's known-failure list; `dialect` is
 * `"postgres"` or `"mysql"`, and `quote(name)` quotes an identifier in it.
 */
export async function openBackend(name) {
  if (MYSQL_BACKENDS.includes(name)) return openMysqlBackend(name);
  let backend;
  if (name === "pglite") {
    const db = await startPGlite();
    // PGlite has one connection: cases take turns.
    backend = { name, adapter: pgliteAdapter(db), concurrency: 1, close: () => db.close(), pglite: db };
  } else if (name === "pg") {
    const pool = await pgPool();
    backend = { name, adapter: pgAdapter(pool), concurrency: 4, close: () => pool.end(), pool };
  } else if (name === "neon") {
    const proxy = await startWebsockify(new URL(DATABASE_URL).host || "127.0.0.1:5432");
    neonLocalConfig(neonConfig, proxy.port);
    // Node 20 has no global WebSocket.
    neonConfig.webSocketConstructor = WebSocket;
    const pool = new NeonPool({ connectionString: DATABASE_URL, max: 8 });
    try {
      await pool.query("SELECT 1");
    } catch (e) {
      await pool.end();
      await proxy.close();
      throw new Error(`cannot reach PostgreSQL at ${DATABASE_URL} through websockify: ${e.message}`);
    }
    const close = async () => {
      await pool.end();
      await proxy.close();
    };
    backend = { name, adapter: neonAdapter(pool), concurrency: 4, close };
  } else if (name === "native") {
    const pool = await pgPool();
    // A small pool per client: the corpus creates a client per case.
    const url = `${DATABASE_URL}${DATABASE_URL.includes("?") ? "&" : "?"}connection_limit=2`;
    backend = { name, url, adapter: pgAdapter(pool), concurrency: 4, close: () => pool.end(), pool };
  } else {
    throw new Error(`unknown backend ${name}`);
  }
  const open = new Set();
  const closeBackend = backend.close;
  return Object.assign(backend, {
    label: name === "native" ? "native" : `wasm-${name}`,
    dialect: "postgres",
    quote,
    client(options) {
      const db = createClient(withDriver(backend, options));
      if (backend.url) open.add(db);
      return db;
    },
    async release(db) {
      if (!open.delete(db)) return;
      await db.$disconnect();
    },
    async close() {
      for (const db of [...open]) await backend.release(db);
      await closeBackend();
    },
  });
}

let namespaces = 0;

/**
 * A fresh namespace on `backend` with a schema's tables and seed, and `client(options)` to create
 * clients on it. `drop()` removes it.
 */
export async function freshNamespace(backend, { schema, seed, prefix = "qn" }) {
  return namespaceOf(backend, { schema: readTestFile(schema), seed: seed ? readTestFile(seed) : undefined, prefix });
}

/**
 * The same from texts: `schema` (PostgreSQL's provider; a MySQL backend switches it), `seed`
 * (PostgreSQL SQL; a MySQL backend translates it into bound inserts) and the options of the
 * engine's DDL (`$ddl(ddlOptions)`).
 */
export async function namespaceOf(backend, { schema, seed, prefix = "qn", ddlOptions }) {
  const namespace = `${prefix}_${process.pid}_${Date.now() % 100000}_${namespaces++}`;
  const client = (options = {}) => backend.client({ schema, namespace, ...options });
  const first = client();
  const ddl = first.$ddl(ddlOptions);
  await backend.release(first);
  if (backend.prepare) await backend.prepare(ddl, namespace, seed, schema);
  else await prepareNamespace(backend.adapter, ddl, namespace, seed);
  const drop = () => (backend.drop ? backend.drop(namespace) : dropNamespace(backend.adapter, namespace));
  return { namespace, client, drop };
}
