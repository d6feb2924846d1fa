// The Neon adapter over Neon's HTTP query function, `neon()`, against the real PostgreSQL through
// the local test double of Neon's /sql endpoint (tests/runtimes/support/neon-http.mjs): values
// and errors cross as on the other adapters; single-statement reads and writes run under a tenant;
// batches whose statements are all known up front run as one transaction in one HTTP request (all
// or nothing, tenant scope intact); anything that needs a transaction held open across
// statements is refused before a statement runs, with a message that says what to use instead,
// and leaves nothing behind.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { neon, neonConfig } from "@neondatabase/serverless";
import { createClient, DriverAdapterError, QuarryDriverError, raw } from "quarry";
import { NEON_HTTP_NO_TRANSACTION, neonHttpAdapter } from "quarry/adapters/neon";
import { startNeonHttp } from "../../runtimes/support/neon-http.mjs";
import { DATABASE_URL, freshNamespace, openBackend } from "./support/backends.mjs";

const q = (sql, args = [], argTypes = args.map(() => "String")) => ({ sql, args, argTypes });
const BLOG = { schema: "fixtures/schemas/bench.prisma", seed: "corpus/seeds/blog.sql" };

describe("neon-http adapter", () => {
  let server;
  let adapter;
  let pgBackend;
  let blog;
  const table = `qneonhttp_${process.pid}`;

  before(async () => {
    server = await startNeonHttp();
    neonConfig.fetchEndpoint = () => server.endpoint;
    adapter = neonHttpAdapter(neon(DATABASE_URL));
    pgBackend = await openBackend("pg");
    blog = await freshNamespace(pgBackend, { ...BLOG, prefix: "qneonhttp" });
    await adapter.executeRaw(q(`CREATE TABLE "${table}" (id int PRIMARY KEY, email text UNIQUE, amount numeric(10,2), at timestamp(3), data jsonb, raw bytea, tags text[])`));
  });

  after(async () => {
    await adapter?.executeRaw(q(`DROP TABLE IF EXISTS "${table}"`)).catch(() => {});
    await blog?.drop();
    await pgBackend?.close();
    await server?.close();
  });

  test("values come back as text with their type OIDs", async () => {
    const n = await adapter.executeRaw(
      q(`INSERT INTO "${table}" VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [1, "a@x", "12.50", "2025-01-02T03:04:05.678Z", '{"k": [1, 2]}', new Uint8Array([1, 255]), ["x", 'y"z', null]],
        ["Int", "String", "Decimal", "DateTime", "Json", "Bytes", "List"]),
    );
    assert.equal(n, 1);
    const rs = await adapter.queryRaw(q(`SELECT id, email, amount, at, data, raw, tags, true AS flag, NULL::int AS nothing FROM "${table}"`));
    assert.deepEqual(rs.columnNames, ["id", "email", "amount", "at", "data", "raw", "tags", "flag", "nothing"]);
    assert.deepEqual(rs.columnTypes, [23, 25, 1700, 1114, 3802, 17, 1009, 16, 23]);
    assert.deepEqual(rs.rows, [["1", "a@x", "12.50", "2025-01-02 03:04:05.678", '{"k": [1, 2]}', "\\x01ff", '{x,"y\\"z",NULL}', "t", null]]);
  });

  test("database errors carry their SQLSTATE and constraint", async () => {
    await adapter.executeRaw(q(`INSERT INTO "${table}" (id, email) VALUES (2, 'dup@x')`));
    await assert.rejects(adapter.executeRaw(q(`INSERT INTO "${table}" (id, email) VALUES (3, 'dup@x')`)), (e) => {
      assert.ok(e instanceof DriverAdapterError);
      assert.equal(e.cause.kind, "database");
      assert.equal(e.cause.sqlstate, "23505");
      assert.equal(e.cause.constraint, `${table}_email_key`);
      assert.equal(e.cause.table, table);
      return true;
    });
  });

  test("tenant-scoped reads and single-statement writes run over HTTP", async () => {
    const db = createClient({ schema: (await import("./support/corpus.mjs")).readTestFile(BLOG.schema), adapter, namespace: blog.namespace });
    const before = server.stats.requests;
    const t1 = db.$forTenant(1);
    const posts = await t1.post.findMany({ include: { author: true }, orderBy: { id: "asc" } });
    assert.ok(posts.length > 0);
    for (const p of posts) {
      assert.equal(p.tenantId, 1);
      assert.equal(p.author.tenantId, 1);
    }
    const pg = createClient({ schema: (await import("./support/corpus.mjs")).readTestFile(BLOG.schema), adapter: pgBackend.adapter, namespace: blog.namespace });
    assert.deepEqual(posts, await pg.$forTenant(1).post.findMany({ include: { author: true }, orderBy: { id: "asc" } }));
    const { count } = await t1.post.updateMany({ where: { published: false }, data: { title: "draft" } });
    assert.equal(count, await pg.$forTenant(1).post.count({ where: { title: "draft" } }));
    assert.ok(server.stats.requests > before, "the requests went through the HTTP endpoint");
  });

  test("a batch runs as one transaction in one HTTP request", async () => {
    const schema = (await import("./support/corpus.mjs")).readTestFile(BLOG.schema);
    const db = createClient({ schema, adapter, namespace: blog.namespace });
    const pg = createClient({ schema, adapter: pgBackend.adapter, namespace: blog.namespace });
    const t1 = db.$forTenant(1);
    const email = `batch-${process.pid}@x`;
    const drafts = await pg.$forTenant(1).post.count({ where: { published: false } });
    const requests = server.stats.requests;
    const batches = server.stats.batches;
    const [created, updated, found, posts] = await t1.$transaction([
      t1.user.create({ data: { email, name: "batched" } }),
      t1.post.updateMany({ where: { published: false }, data: { title: "batched draft" } }),
      t1.user.findMany({ where: { email } }),
      t1.post.count({ where: { title: "batched draft" } }),
    ]);
    assert.equal(server.stats.requests, requests + 1, "one HTTP request");
    assert.equal(server.stats.batches, batches + 1, "sent as a batch");
    assert.equal(created.email, email);
    assert.equal(created.tenantId, 1);
    assert.deepEqual(updated, { count: drafts });
    assert.deepEqual(found, [created]);
    assert.equal(posts, drafts);
    assert.deepEqual(await pg.$forTenant(1).user.findMany({ where: { email } }), [created]);

    // Raw SQL batches too, scoped to the tenant like any raw statement.
    const users = raw(`"${blog.namespace}"."User"`);
    const [renamedCount, emails] = await t1.$transaction([
      t1.$executeRaw`UPDATE ${users} SET name = ${"raw"} WHERE email = ${email}`,
      t1.$queryRaw`SELECT email, name FROM ${users} WHERE email = ${email}`,
    ]);
    assert.equal(renamedCount, 1);
    assert.deepEqual(emails, [{ email, name: "raw" }]);
    assert.equal(server.stats.batches, batches + 2);

    // A write with a "record not found" check batches when it is the batch's only write.
    const [renamed, again] = await t1.$transaction([
      t1.user.update({ where: { id: created.id }, data: { name: "renamed" } }),
      t1.user.findUnique({ where: { id: created.id } }),
    ], { isolationLevel: "Serializable" });
    assert.equal(renamed.name, "renamed");
    assert.equal(again.id, created.id);
    assert.equal(server.stats.batches, batches + 3);
  });

  test("a failing statement rolls the whole batch back", async () => {
    const schema = (await import("./support/corpus.mjs")).readTestFile(BLOG.schema);
    const db = createClient({ schema, adapter, namespace: blog.namespace });
    const pg = createClient({ schema, adapter: pgBackend.adapter, namespace: blog.namespace });
    const t1 = db.$forTenant(1);
    const taken = (await pg.$forTenant(1).user.findFirst({ orderBy: { id: "asc" } })).email;
    const email = `rolled-back-${process.pid}@x`;
    const requests = server.stats.requests;
    await assert.rejects(
      t1.$transaction([
        t1.user.create({ data: { email, name: "first" } }),
        t1.post.updateMany({ data: { views: { increment: 1000 } } }),
        t1.user.create({ data: { email: taken, name: "duplicate" } }),
      ]),
      (e) => {
        assert.equal(e.code, "P2002", `${e}`);
        return true;
      },
    );
    assert.equal(server.stats.requests, requests + 1, "one HTTP request");
    assert.equal(await pg.$forTenant(1).user.count({ where: { email } }), 0, "the first create was rolled back");
    assert.equal(await pg.$forTenant(1).post.count({ where: { views: { gte: 1000 } } }), 0, "the update was rolled back");
  });

  test("tenant scope holds in a batch", async () => {
    const schema = (await import("./support/corpus.mjs")).readTestFile(BLOG.schema);
    const db = createClient({ schema, adapter, namespace: blog.namespace });
    const pg = createClient({ schema, adapter: pgBackend.adapter, namespace: blog.namespace }).$unscoped();
    const t1 = db.$forTenant(1);
    const theirs = await pg.post.findMany({ where: { tenantId: 2 }, orderBy: { id: "asc" } });
    const theirUser = await pg.user.findFirst({ where: { tenantId: 2 }, orderBy: { id: "asc" } });
    assert.ok(theirs.length > 0 && theirUser);
    const batches = server.stats.batches;
    const [{ count }, mine] = await t1.$transaction([
      t1.post.updateMany({ data: { title: "tenant one only" } }),
      t1.post.findMany({ where: { id: { in: theirs.map((p) => p.id) } } }),
    ]);
    assert.equal(server.stats.batches, batches + 1);
    assert.equal(count, await pg.post.count({ where: { tenantId: 1 } }));
    assert.deepEqual(mine, [], "another tenant's rows are not read");
    assert.deepEqual(await pg.post.findMany({ where: { tenantId: 2 }, orderBy: { id: "asc" } }), theirs, "nor written");
    await assert.rejects(
      t1.$transaction([
        t1.user.update({ where: { id: theirUser.id }, data: { name: "taken over" } }),
        t1.user.count(),
      ]),
      (e) => {
        assert.equal(e.code, "P2025", `${e}`);
        return true;
      },
    );
    assert.equal((await pg.user.findUnique({ where: { id: theirUser.id } })).name, theirUser.name);
  });

  test("what cannot be sent up front is refused with a clear error before anything runs", async () => {
    const schema = (await import("./support/corpus.mjs")).readTestFile(BLOG.schema);
    const db = createClient({ schema, adapter, namespace: blog.namespace });
    const t1 = db.$forTenant(1);
    const users = await t1.user.count();
    const [a, b] = await t1.user.findMany({ orderBy: { id: "asc" }, take: 2 });
    const requestsBefore = server.stats.requests;
    const refused = (e) => {
      assert.ok(e instanceof QuarryDriverError, `${e}`);
      assert.equal(e.message, NEON_HTTP_NO_TRANSACTION);
      return true;
    };
    // Interactive: the transaction would have to stay open between round trips.
    await assert.rejects(t1.$transaction(async (tx) => tx.user.count()), refused);
    // The INSERT needs the id the lookup of the connected row returns.
    await assert.rejects(t1.post.create({ data: { title: "connected", author: { connect: { id: a.id } } } }), refused);
    // The children's statement needs the id the parent's statement returns, and the include reaches
    // another table, so the create is not one statement.
    await assert.rejects(
      t1.user.create({ data: { email: `nested-${process.pid}@x`, name: "n", posts: { create: [{ title: "p" }] } }, include: { tenant: true } }),
      refused,
    );
    // An upsert chooses between an update and a create by what it finds.
    await assert.rejects(
      t1.user.upsert({ where: { id: a.id }, create: { email: `upsert-${process.pid}@x` }, update: { name: "upserted" } }),
      refused,
    );
    // Two checked writes: the second failing its check could not undo the first.
    await assert.rejects(
      t1.$transaction([
        t1.user.update({ where: { id: a.id }, data: { name: "one" } }),
        t1.user.update({ where: { id: b.id }, data: { name: "two" } }),
      ]),
      refused,
    );
    assert.equal(server.stats.requests, requestsBefore, "nothing reached the database");
    assert.equal(await t1.user.count(), users);
    assert.notEqual((await t1.user.findUnique({ where: { id: a.id } })).name, "one");
  });

  test("a nested create that is one statement runs over HTTP", async () => {
    const schema = (await import("./support/corpus.mjs")).readTestFile(BLOG.schema);
    const db = createClient({ schema, adapter, namespace: blog.namespace });
    const t1 = db.$forTenant(1);
    const requestsBefore = server.stats.requests;
    const user = await t1.user.create({
      data: { email: `one-statement-${process.pid}@x`, name: "n", posts: { create: [{ title: "p1" }, { title: "p2" }] } },
      include: { posts: { orderBy: { id: "asc" } } },
    });
    assert.equal(server.stats.requests, requestsBefore + 1, "one request");
    assert.deepEqual(user.posts.map((p) => [p.title, p.tenantId, p.authorId]), [["p1", 1, user.id], ["p2", 1, user.id]]);
    assert.equal(user.tenantId, 1);
  });
});
