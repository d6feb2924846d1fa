// `createClient({ schema, url })` with a MySQL URL (`mysql://`, `mariadb://`) on Node.js: the
// WebAssembly engine over a mysql2 pool the client makes from the URL and ends on `$disconnect`,
// said in its ready message; Prisma's MySQL URL parameters become the pool's options; a schema for
// another database is Q1004; and without the mysql2 package, a Q2010 that says to install it.
// Runs against the MariaDB server in MYSQL_URL, the blog data in a database of its own. Processes
// that must start clean (or without mysql2) run as children.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { QuarryValidationError, createClient } from "quarry";
import { mysqlPoolConfig } from "../../../npm/dist/npm/src/fallback.js";
import { freshNamespace, openBackend } from "./support/backends.mjs";
import { readTestFile } from "./support/corpus.mjs";
import { MYSQL_URL, mysqlSchema } from "./support/mysql.mjs";

const ROOT = new URL("../../../", import.meta.url);
const BLOG = { schema: "fixtures/schemas/bench.prisma", seed: "corpus/seeds/blog.sql" };
const SCHEMA = mysqlSchema(readTestFile(BLOG.schema));

/** MYSQL_URL with another database and scheme, and `params` added. */
function urlFor(database, { scheme, params } = {}) {
  const u = new URL(MYSQL_URL);
  u.pathname = `/${database}`;
  let s = u.toString();
  if (scheme) s = s.replace(/^mysql:/, `${scheme}:`);
  return params ? `${s}${s.includes("?") ? "&" : "?"}${params}` : s;
}

/** Runs `code` as an ES module in a child Node process; resolves to `{ code, stdout, stderr }`. */
function runChild(code, args = [], limitMs = 20000) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...args, "--input-type=module", "-e", code], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the child process did not exit within ${limitMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, limitMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("a MySQL url", () => {
  let backend;
  let blog;

  before(async () => {
    backend = await openBackend("mysql2");
    blog = await freshNamespace(backend, { ...BLOG, prefix: "qmyurl" });
  });

  after(async () => {
    await blog?.drop();
    await backend?.close();
  });

  test("runs the WebAssembly engine over mysql2: reads, writes, transactions and raw SQL under a tenant", async () => {
    const db = createClient({ schema: SCHEMA, url: urlFor(blog.namespace) });
    try {
      const acme = db.$forTenant(1);
      const users = await acme.user.findMany({ orderBy: { id: "asc" }, include: { posts: { select: { id: true } } } });
      assert.deepEqual(users.map((u) => [u.id, u.posts.map((p) => p.id)]), [[1, [1, 2, 5]], [2, [3, 4]], [3, []]]);
      assert.equal(await db.$forTenant(2).post.count(), 2);
      // Writes, an interactive transaction and raw SQL, all on the client's own pool.
      const created = await acme.$transaction(async (tx) => {
        const p = await tx.post.create({ data: { title: "over the url", author: { connect: { id: 2 } } } });
        await assert.rejects(tx.post.update({ where: { id: 7 }, data: { title: "x" } }), { code: "P2025" });
        return p;
      });
      assert.equal(created.tenantId, 1);
      const rows = await acme.$queryRaw`SELECT id FROM \`Post\` WHERE title = ${"over the url"}`;
      assert.deepEqual(rows.map((r) => r.id), [created.id]);
      assert.equal(await acme.post.delete({ where: { id: created.id } }).then((p) => p.id), created.id);
      await assert.rejects(db.post.count(), { code: "Q3001" });
    } finally {
      await db.$disconnect();
    }
  });

  test("mariadb:// too, with Prisma's parameters; the client's pool is as large as connection_limit", async () => {
    const db = createClient({ schema: SCHEMA, url: urlFor(blog.namespace, { scheme: "mariadb", params: "connection_limit=1&connect_timeout=3" }) });
    try {
      // One connection: a transaction holds it, and a request outside waits until it ends.
      let outside;
      let ended = false;
      const inside = await db.$forTenant(1).$transaction(async (tx) => {
        const n = await tx.post.count();
        outside = db.$forTenant(2).post.count().then((m) => ({ m, afterTheTransaction: ended }));
        await new Promise((r) => setTimeout(r, 200));
        ended = true;
        return n;
      });
      assert.deepEqual([inside, await outside], [5, { m: 2, afterTheTransaction: true }]);
    } finally {
      await db.$disconnect();
    }
    assert.equal(mysqlPoolConfig(urlFor("db", { scheme: "mariadb", params: "connection_limit=1" })).connectionLimit, 1);
  });

  test("a schema for PostgreSQL is Q1004 at createClient", () => {
    assert.throws(() => createClient({ schema: readTestFile(BLOG.schema), url: urlFor(blog.namespace) }), (e) => e.code === "Q1004" && /provider "postgresql"/.test(e.message));
  });

  test("given an adapter as well, the client runs over that adapter and makes no pool", async () => {
    const db = createClient({ schema: SCHEMA, url: "mysql://nobody@192.0.2.1:1/none", adapter: backend.adapter, namespace: blog.namespace });
    assert.equal(await db.$forTenant(1).post.count(), 5);
    await db.$disconnect();
  });

  test("the ready message says which engine and pool; $disconnect ends the pool and the process exits", async () => {
    const code = `
      import { createClient } from "quarry";
      const db = createClient({ schema: ${JSON.stringify(SCHEMA)}, url: ${JSON.stringify(urlFor(blog.namespace))}, log: ["info"] });
      console.log("count " + (await db.$forTenant(1).post.count()));
      await db.$disconnect();
    `;
    const child = await runChild(code);
    assert.equal(child.code, 0, child.stderr);
    assert.match(child.stdout, /Quarry engine \(WebAssembly\) ready: 4 models, adapter mysql2, a pool of its own for the MySQL url\n/);
    assert.match(child.stdout, /count 5\n/);
    // mysql2 warns of URL parameters it does not know: Prisma's never reach it.
    assert.doesNotMatch(child.stderr, /Ignoring invalid configuration option/);
  });

  test("without the mysql2 package: Q2010 at url, saying to install it", async () => {
    // As where mysql2 is not installed: resolving it fails as Node's own resolution does.
    const preload = join(tmpdir(), `quarry-no-mysql2-${process.pid}.cjs`);
    writeFileSync(
      preload,
      `const Module = require("node:module");
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === "mysql2" || request.startsWith("mysql2/")) {
    const e = new Error("Cannot find module '" + request + "'");
    e.code = "MODULE_NOT_FOUND";
    throw e;
  }
  return resolve.call(this, request, ...rest);
};
`,
    );
    const code = `
      import { createClient } from "quarry";
      try {
        createClient({ schema: ${JSON.stringify(SCHEMA)}, url: ${JSON.stringify(urlFor(blog.namespace))} });
        console.log("created");
      } catch (e) {
        console.log(JSON.stringify({ name: e.constructor.name, code: e.code, path: e.meta?.path, message: e.message }));
      }
    `;
    const child = await runChild(code, ["--require", preload]);
    assert.equal(child.code, 0, child.stderr);
    const out = JSON.parse(child.stdout.trim().split("\n").at(-1));
    assert.equal(out.name, "QuarryValidationError");
    assert.equal(out.code, "Q2010");
    assert.equal(out.path, "url");
    assert.match(out.message, /mysql2 cannot be loaded: Cannot find module 'mysql2\/promise'/);
    assert.match(out.message, /npm install mysql2/);
  });
});

test("Prisma's MySQL URL parameters become mysql2's pool options, and leave the URL", () => {
  const config = mysqlPoolConfig("mysql://us%40er:p%2Fss@db.example.com:3307/app?connection_limit=3&connect_timeout=7&pool_timeout=2&socket_timeout=5&sslaccept=strict&charset=utf8mb4");
  assert.equal(config.connectionLimit, 3);
  assert.equal(config.connectTimeout, 7000);
  assert.deepEqual(config.ssl, { rejectUnauthorized: true });
  assert.equal(config.uri, "mysql://us%40er:p%2Fss@db.example.com:3307/app?charset=utf8mb4");
  assert.equal(mysqlPoolConfig("mariadb://h/db").uri, "mysql://h/db");
  assert.deepEqual(mysqlPoolConfig("mysql://h/db?sslaccept=accept_invalid_certs").ssl, { rejectUnauthorized: false });
  assert.equal(mysqlPoolConfig("mysql://h/db").ssl, undefined);
  const defaults = mysqlPoolConfig("mysql://h/db");
  assert.ok(Number.isInteger(defaults.connectionLimit) && defaults.connectionLimit >= 3);
  assert.equal(defaults.connectTimeout, 5000);
});

test("a bad MySQL URL parameter is Q2005 at url", () => {
  for (const url of ["mysql://h/db?connection_limit=0", "mysql://h/db?connect_timeout=soon", "mysql://h/db?pool_timeout=-1", "mysql://h/db?sslaccept=maybe", "not a url"]) {
    assert.throws(() => mysqlPoolConfig(url), (e) => e instanceof QuarryValidationError && e.code === "Q2005" && e.meta.path === "url", url);
  }
});
