// The databases the Node runners use, each behind the package's own adapter: PGlite in this
// process (started from a data-dir snapshot, see `startPGlite`), the PostgreSQL server in
// DATABASE_URL through node-postgres, and the same server through Neon's WebSocket driver (behind
// a local websockify). Every suite or case gets its own PostgreSQL schema
// (namespace), created with the engine's DDL and seeded, so nothing is shared between tests or
// with other users of the server.

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

export async function dropNamespace(adapter, namespace) {
  await adapter.executeRaw(statement(`DROP SCHEMA IF EXISTS ${quote(namespace)} CASCADE`)).catch(() => {});
}

/** `{ name, adapter, concurrency, close }` for a backend name: `pglite`, `pg` or `neon`. */
export async function openBackend(name) {
  if (name === "pglite") {
    const db = await startPGlite();
    // PGlite has one connection: cases take turns.
    return { name, adapter: pgliteAdapter(db), concurrency: 1, close: () => db.close(), pglite: db };
  }
  if (name === "pg") {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 8 });
    try {
      await pool.query("SELECT 1");
    } catch (e) {
      await pool.end();
      throw new Error(`cannot reach PostgreSQL at ${DATABASE_URL} (set DATABASE_URL): ${e.message}`);
    }
    return { name, adapter: pgAdapter(pool), concurrency: 4, close: () => pool.end(), pool };
  }
  if (name === "neon") {
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
    return { name, adapter: neonAdapter(pool), concurrency: 4, close };
  }
  throw new Error(`unknown backend ${name}`);
}

let namespaces = 0;

/**
 * A fresh namespace on `backend` with a schema's tables and seed, and `client(options)` to create
 * clients on it. `drop()` removes it.
 */
export async function freshNamespace(backend, { schema, seed, prefix = "qn" }) {
  const namespace = `${prefix}_${process.pid}_${Date.now() % 100000}_${namespaces++}`;
  const schemaText = readTestFile(schema);
  const client = (options = {}) => createClient({ schema: schemaText, adapter: backend.adapter, namespace, ...options });
  await prepareNamespace(backend.adapter, client().$ddl(), namespace, seed ? readTestFile(seed) : undefined);
  return { namespace, client, drop: () => dropNamespace(backend.adapter, namespace) };
}
