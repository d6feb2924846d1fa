// What the runtime smoke tests share on the Node side: a fresh PostgreSQL schema (namespace) with
// the smoke schema's tables and seed, the local stand-ins for Neon's endpoints (websockify for the
// WebSocket driver, the /sql test double for the HTTP driver), and the checks every runtime's
// answer must pass, compared with what node-postgres reads from the same database. The same for
// MySQL: a fresh MariaDB database made with the engine's MySQL DDL, the local stand-in for
// PlanetScale's HTTP API, and the checks of the PlanetScale path against what mysql2 reads.

import assert from "node:assert/strict";
import mysql from "mysql2/promise";
import pg from "pg";
import { createClient } from "quarry";
import { mysql2Adapter } from "quarry/adapters/mysql2";
import { pgAdapter } from "quarry/adapters/pg";
import { MYSQL_SCHEMA, MYSQL_SEED, SCHEMA, SEED } from "../shared/schema.mjs";
import { startNeonHttp } from "./neon-http.mjs";
import { startPlanetScaleHttp } from "./planetscale-http.mjs";
import { startWebsockify } from "./websockify.mjs";

export const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const MYSQL_URL = process.env.MYSQL_URL ?? "mysql://root@127.0.0.1:3306/test";

let count = 0;

async function createNamespace(pool, namespace) {
  const ddl = createClient({ schema: SCHEMA, adapter: pgAdapter(pool), namespace }).$ddl();
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query(`DROP SCHEMA IF EXISTS "${namespace}" CASCADE`);
    await client.query(`CREATE SCHEMA "${namespace}"`);
    await client.query(`SET LOCAL search_path TO "${namespace}"`);
    for (const s of [...ddl, ...SEED]) await client.query(s);
    await client.query("COMMIT");
  } finally {
    client.release();
  }
}

/**
 * Starts the endpoints and creates a namespace; `another()` gives the same environment with a
 * fresh namespace of its own; `close()` undoes all of it.
 */
export async function startSmokeEnvironment(prefix) {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  const namespaces = [];
  const fresh = async () => {
    const namespace = `${prefix}_${process.pid}_${count++}`;
    namespaces.push(namespace);
    await createNamespace(pool, namespace);
    return namespace;
  };
  const namespace = await fresh();
  const ws = await startWebsockify(new URL(DATABASE_URL).host);
  const http = await startNeonHttp();
  const env = {
    namespace,
    wsPort: ws.port,
    httpEndpoint: http.endpoint,
    http,
    pool,
    async another() {
      return { ...env, namespace: await fresh() };
    },
    async close() {
      for (const ns of namespaces) await pool.query(`DROP SCHEMA IF EXISTS "${ns}" CASCADE`).catch(() => {});
      await pool.end();
      await ws.close();
      await http.close();
    },
  };
  return env;
}

/** The query string a smoke app reads. */
export function smokeQuery(env, tenant, run) {
  return new URLSearchParams({ tenant: String(tenant), namespace: env.namespace, run }).toString();
}

/**
 * Checks one runtime's answer for tenant 1 then tenant 2 (`answers`), made with runs
 * `${run}-1` and `${run}-2`, against the database.
 */
export async function checkSmokeAnswers(env, runtime, run, answers) {
  const [one, two] = answers;
  for (const [answer, tenant] of [[one, 1], [two, 2]]) {
    const tag = `${run}-${tenant}`;
    assert.equal(answer.runtime, runtime);
    assert.equal(answer.tenant, tenant);
    // Reads over the WebSocket: only the tenant's published posts, each with its own tenant's author.
    const seeded = tenant === 1 ? [["one", "Ann"], ["two", "Ben"]] : [["one", "Ann of 2"]];
    assert.deepEqual(answer.ws.posts.map((p) => [p.title, p.author.name]), seeded);
    for (const p of answer.ws.posts) assert.deepEqual([p.tenantId, p.author.tenantId], [tenant, tenant]);
    assert.equal(answer.ws.users, tenant === 1 ? 2 : 1);
    // The nested write: a user and two posts, all in the tenant.
    const created = answer.ws.created;
    assert.equal(created.tenantId, tenant);
    assert.deepEqual(created.posts.map((p) => [p.title, p.tenantId, p.authorId]), [[`${tag}-a`, tenant, created.id], [`${tag}-b`, tenant, created.id]]);
    assert.equal(answer.ws.interactive, 2);
    // Reads over HTTP see the committed write; the nested write over HTTP is refused, not half done.
    assert.deepEqual(answer.http.posts.map((p) => p.title), [...seeded.map(([t]) => t), `${tag}-b`]);
    for (const p of answer.http.posts) assert.deepEqual([p.tenantId, p.author.tenantId], [tenant, tenant]);
    assert.equal(answer.http.users, answer.ws.users + 1);
    assert.equal(answer.http.nestedWrite.name, "QuarryDriverError");
    assert.match(answer.http.nestedWrite.message, /cannot hold a transaction open/);
  }
  // The database agrees: the writes landed in their tenants, nothing of the refused write exists.
  const { rows } = await env.pool.query(
    `SELECT u."tenantId", u.email, p.title, p."tenantId" AS "postTenant" FROM "${env.namespace}"."User" u
       JOIN "${env.namespace}"."Post" p ON p."authorId" = u.id WHERE u.email LIKE 'new-%' OR u.email LIKE 'http-%' ORDER BY p.id`,
  );
  assert.deepEqual(rows, [
    { tenantId: 1, email: `new-${run}-1@x`, title: `${run}-1-a`, postTenant: 1 },
    { tenantId: 1, email: `new-${run}-1@x`, title: `${run}-1-b`, postTenant: 1 },
    { tenantId: 2, email: `new-${run}-2@x`, title: `${run}-2-a`, postTenant: 2 },
    { tenantId: 2, email: `new-${run}-2@x`, title: `${run}-2-b`, postTenant: 2 },
  ]);
  assert.ok(env.http.stats.requests > 0, "the HTTP reads went through the /sql endpoint");
}

/**
 * A MariaDB database with the smoke schema (the engine's MySQL DDL) and seed, and the PlanetScale
 * HTTP double over it: `{ namespace, url, admin, close }` (`url` for the driver's `url` option).
 */
export async function startPlanetScaleSmokeEnvironment(prefix) {
  const namespace = `${prefix}_${process.pid}_${count++}`;
  const admin = await mysql.createConnection({ uri: MYSQL_URL });
  const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 1 });
  let server;
  try {
    await admin.query(`DROP DATABASE IF EXISTS \`${namespace}\``);
    await admin.query(`CREATE DATABASE \`${namespace}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    const ddl = createClient({ schema: MYSQL_SCHEMA, adapter: mysql2Adapter(pool), namespace }).$ddl();
    for (const s of ddl) await admin.query(s);
    await admin.query(`USE \`${namespace}\``);
    for (const s of MYSQL_SEED) await admin.query(s);
    server = await startPlanetScaleHttp({ url: MYSQL_URL, database: namespace });
  } catch (e) {
    await admin.end();
    await pool.end();
    throw e;
  }
  await pool.end();
  return {
    namespace,
    url: server.url,
    admin,
    async close() {
      await server.close();
      await admin.query(`DROP DATABASE IF EXISTS \`${namespace}\``).catch(() => {});
      await admin.end();
    },
  };
}

/** Checks the PlanetScale path's answers for tenants 1 and 2 (runs `${run}-1`, `${run}-2`). */
export async function checkPlanetScaleSmokeAnswers(env, runtime, run, answers) {
  for (const [answer, tenant] of [[answers[0], 1], [answers[1], 2]]) {
    const tag = `${run}-${tenant}`;
    assert.equal(answer.runtime, runtime);
    assert.equal(answer.tenant, tenant);
    const seeded = tenant === 1 ? [["one", "Ann"], ["two", "Ben"]] : [["one", "Ann of 2"]];
    assert.deepEqual(answer.posts.map((p) => [p.title, p.author.name]), seeded);
    for (const p of [...answer.posts, ...answer.after.posts]) assert.deepEqual([p.tenantId, p.author.tenantId], [tenant, tenant]);
    assert.equal(answer.users, tenant === 1 ? 2 : 1);
    // The other tenant's row, asked for by its id, is not there.
    assert.equal(answer.foreign, null);
    const created = answer.created;
    assert.equal(created.tenantId, tenant);
    assert.equal(created.name, runtime);
    assert.deepEqual(created.posts.map((p) => [p.title, p.tenantId, p.authorId, p.published]), [[`${tag}-a`, tenant, created.id, false], [`${tag}-b`, tenant, created.id, true]]);
    assert.equal(answer.interactive, 2);
    assert.deepEqual(answer.after.posts.map((p) => p.title), [...seeded.map(([t]) => t), `${tag}-b`]);
    assert.equal(answer.after.users, answer.users + 1);
  }
  const [rows] = await env.admin.query(
    `SELECT u.tenantId, u.email, p.title, p.tenantId AS postTenant FROM \`${env.namespace}\`.User u
       JOIN \`${env.namespace}\`.Post p ON p.authorId = u.id WHERE u.email LIKE 'new-%' ORDER BY p.id`,
  );
  assert.deepEqual(rows.map((r) => ({ ...r })), [
    { tenantId: 1, email: `new-${run}-1@x`, title: `${run}-1-a`, postTenant: 1 },
    { tenantId: 1, email: `new-${run}-1@x`, title: `${run}-1-b`, postTenant: 1 },
    { tenantId: 2, email: `new-${run}-2@x`, title: `${run}-2-a`, postTenant: 2 },
    { tenantId: 2, email: `new-${run}-2@x`, title: `${run}-2-b`, postTenant: 2 },
  ]);
}
