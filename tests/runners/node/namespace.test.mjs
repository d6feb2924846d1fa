// The PostgreSQL schema a client's tables live in, on every engine: `?schema=` in the URL (the
// native addon) and the `namespace` option (the WebAssembly engine over PGlite, node-postgres and
// Neon) reach the same tables from generated SQL and from raw SQL, under a tenant, without one and
// explicitly unscoped. The tables exist only in that schema, so anything that resolved a name by
// the connection's default search path would fail with 42P01.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createClient } from "quarry";
import { DATABASE_URL, freshNamespace, openBackend } from "./support/backends.mjs";
import { readTestFile } from "./support/corpus.mjs";

const BLOG = { schema: "fixtures/schemas/bench.prisma", seed: "corpus/seeds/blog.sql", prefix: "qns" };

function withSchema(url, namespace) {
  const u = new URL(url);
  u.searchParams.set("schema", namespace);
  u.searchParams.set("connection_limit", "2");
  return u.toString();
}

for (const backendName of ["pglite", "pg", "neon", "native"]) {
  describe(`the tables' schema on ${backendName}`, () => {
    let backend;
    let blog;
    let db;

    before(async () => {
      backend = await openBackend(backendName);
      blog = await freshNamespace(backend, BLOG);
      // The native addon reads the schema from the URL alone, as a Prisma user writes it.
      db = backend.url
        ? createClient({ schema: readTestFile(BLOG.schema), url: withSchema(DATABASE_URL, blog.namespace) })
        : blog.client();
    });

    after(async () => {
      if (backend?.url) await db?.$disconnect();
      await blog?.drop();
      await backend?.close();
    });

    test("generated SQL reads and writes the schema's tables", async () => {
      const t1 = db.$forTenant(1);
      const [first] = t1.$compile(t1.post.findMany()).statements;
      assert.ok(first.sql.includes(`FROM "${blog.namespace}"."Post"`), first.sql);
      assert.equal(await t1.post.count(), 5);
      const post = await t1.post.create({ data: { authorId: 1, title: "In the schema" } });
      assert.equal((await t1.post.findUnique({ where: { id: post.id }, include: { author: true } })).author.email, "alice@acme.test");
      await t1.post.delete({ where: { id: post.id } });
    });

    test("raw SQL names the same tables, with a tenant, without and unscoped", async () => {
      const t1 = db.$forTenant(1);
      assert.deepEqual(await t1.$queryRaw`SELECT count(*)::int AS n FROM "Post"`, [{ n: 5 }]);
      const all = db.$unscoped();
      assert.deepEqual(await all.$queryRaw`SELECT count(*)::int AS n FROM "Post" WHERE "tenantId" = ${2}`, [{ n: 2 }]);
      assert.deepEqual(await all.$queryRawUnsafe(`SELECT p.title FROM "Post" p JOIN "User" u ON u.id = p."authorId" WHERE u.email = $1 AND p."tenantId" = $2 ORDER BY p.id LIMIT 1`, "alice@acme.test", 1), [
        { title: "Hello from Alice" },
      ]);
      // Writes too, and a name a WITH query defines is that query, not a table.
      assert.equal(await all.$executeRaw`UPDATE "Post" SET views = views + 1 WHERE id = ${1}`, 1);
      assert.deepEqual(await all.$queryRaw`WITH "Post" AS (SELECT 42 AS views) SELECT views FROM "Post"`, [{ views: 42 }]);
      assert.deepEqual(await all.$queryRaw`SELECT views FROM "Post" WHERE id = ${1}`, [{ views: 121 }]);
    });
  });
}

describe("the tables' schema, given twice", () => {
  test("a namespace and a URL that name different schemas are refused at createClient", () => {
    const schema = readTestFile(BLOG.schema);
    const url = withSchema(DATABASE_URL, "one");
    assert.throws(
      () => createClient({ schema, url, namespace: "two" }),
      (e) => e.code === "Q2009" && e.meta.path === "namespace" && /"two".*"one"/.test(e.message),
    );
  });
});
