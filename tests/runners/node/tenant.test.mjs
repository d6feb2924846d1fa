// Tenant scope through the package on every backend (Wasm on PGlite, node-postgres and Neon's
// driver, the native addon, and Wasm on MariaDB through mysql2 and PlanetScale's driver), over the
// benchmark schema and the blog seed (three tenants with overlapping emails and titles): what
// `$forTenant(id)` sees and changes, what another tenant's row looks like, how requests without a
// tenant fail closed, and that batches, interactive transactions and raw SQL keep the tenant. Raw
// SQL is written in each database's dialect; where a check is about one database's session state
// (search_path, set_config on PostgreSQL; variables and executable comments on MySQL), each gets
// its own.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { QuarryKnownRequestError, QuarryTenantError, raw } from "quarry";
import { MYSQL_BACKENDS, freshNamespace, openBackend } from "./support/backends.mjs";
import { checker } from "./support/corpus.mjs";

const BLOG = { schema: "fixtures/schemas/bench.prisma", seed: "corpus/seeds/blog.sql" };

for (const backendName of ["pglite", "pg", "neon", "native", ...MYSQL_BACKENDS]) {
  describe(`tenant scope on ${backendName}`, () => {
    const check = checker(test, backendName === "native" ? "native" : `wasm-${backendName}`, "tenant");
    const mysql = MYSQL_BACKENDS.includes(backendName);
    /** A name in raw SQL, quoted in the backend's dialect (and qualified with `ns`). */
    const ident = (name, ns) => raw(ns ? `${backend.quote(ns)}.${backend.quote(name)}` : backend.quote(name));
    let backend;
    let blog;
    let db;
    const fresh = async () => (await freshNamespace(backend, { ...BLOG, prefix: "qtenant_w" })).client();

    before(async () => {
      backend = await openBackend(backendName);
      blog = await freshNamespace(backend, { ...BLOG, prefix: "qtenant" });
      db = blog.client();
    });

    after(async () => {
      await blog?.drop();
      await backend?.close();
    });

    check("a tenant view reads only its tenant's rows, at every depth", async () => {
      const acme = db.$forTenant(1);
      const posts = await acme.post.findMany({ orderBy: { id: "asc" }, select: { id: true, tenantId: true } });
      assert.deepEqual(posts.map((p) => p.id), [1, 2, 3, 4, 5]);
      assert.ok(posts.every((p) => p.tenantId === 1));
      const users = await acme.user.findMany({ include: { posts: true, comments: { include: { post: true } } } });
      for (const u of users) {
        assert.equal(u.tenantId, 1);
        assert.ok(u.posts.every((p) => p.tenantId === 1));
        assert.ok(u.comments.every((c) => c.tenantId === 1 && c.post.tenantId === 1));
      }
      assert.equal(await acme.post.count({ where: { OR: [{ tenantId: 2 }, { id: 7 }] } }), 0);
      assert.deepEqual(await db.$forTenant("2").post.count(), 2);
      assert.deepEqual(await db.$forTenant(2n).post.count(), 2);
    });

    check("another tenant's row does not exist", async () => {
      const acme = db.$forTenant(1);
      assert.equal(await acme.post.findUnique({ where: { id: 6 } }), null);
      await assert.rejects(acme.post.findUniqueOrThrow({ where: { id: 6 } }), (e) => e instanceof QuarryKnownRequestError && e.code === "P2025");
      await assert.rejects(acme.post.update({ where: { id: 6 }, data: { title: "mine now" } }), { code: "P2025" });
      await assert.rejects(acme.post.delete({ where: { id: 6 } }), { code: "P2025" });
      assert.deepEqual(await acme.post.updateMany({ where: { id: { in: [5, 6, 7] } }, data: { views: { increment: 1 } } }), { count: 1 });
      // Nothing of globex changed.
      const globex = await db.$forTenant(2).post.findMany({ orderBy: { id: "asc" }, select: { id: true, title: true, views: true } });
      assert.deepEqual(globex, [
        { id: 6, title: "Hello from Alice", views: 999 },
        { id: 7, title: "Globex secrets", views: 7 },
      ]);
    });

    check("writes take the tenant; naming another tenant is refused", async () => {
      const w = await fresh();
      const acme = w.$forTenant(1);
      const post = await acme.post.create({ data: { title: "New", author: { connect: { id: 1 } } } });
      assert.equal(post.tenantId, 1);
      await assert.rejects(acme.post.create({ data: { title: "x", tenantId: 2, author: { connect: { id: 1 } } } }), (e) => e instanceof QuarryTenantError && e.code === "Q3002");
      // Connecting another tenant's user is "not found", never a link.
      await assert.rejects(acme.comment.create({ data: { body: "sneaky", post: { connect: { id: 1 } }, author: { connect: { id: 4 } } } }), { code: "P2025" });
      // Nested writes stay in the tenant.
      const user = await acme.user.create({
        data: { email: "new@acme.test", posts: { create: [{ title: "one" }, { title: "two" }] } },
        include: { posts: true },
      });
      assert.ok(user.posts.length === 2 && user.posts.every((p) => p.tenantId === 1));
    });

    check("without a tenant, scoped models fail closed; $unscoped is the explicit way around", async () => {
      await assert.rejects(db.post.findMany(), (e) => e instanceof QuarryTenantError && e.code === "Q3001");
      await assert.rejects(db.$forTenant("").post.count(), { code: "Q3001" });
      await assert.rejects(db.$forTenant(null).post.count(), { code: "Q3001" });
      await assert.rejects(db.$forTenant("not a number").post.count(), { code: "Q3005" });
      assert.equal(await db.$unscoped().post.count(), 7);
      // The tenant model itself is scoped by its key: a tenant sees its own row.
      await assert.rejects(db.tenant.count(), { code: "Q3001" });
      assert.deepEqual(await db.$forTenant(2).tenant.findMany({ select: { id: true, name: true } }), [{ id: 2, name: "globex" }]);
    });

    check("batches and interactive transactions keep the tenant", async () => {
      const w = await fresh();
      const acme = w.$forTenant(1);
      const [count, other] = await acme.$transaction([acme.post.count(), acme.post.findUnique({ where: { id: 6 } })]);
      assert.deepEqual([count, other], [5, null]);
      const inside = await acme.$transaction(async (tx) => {
        await tx.post.create({ data: { title: "tx", author: { connect: { id: 2 } } } });
        const seen = await tx.post.findMany({ select: { tenantId: true } });
        await assert.rejects(tx.post.update({ where: { id: 7 }, data: { title: "x" } }), { code: "P2025" });
        return seen;
      }).catch((e) => e);
      // The P2025 inside the callback was awaited and asserted, so the transaction committed.
      assert.ok(Array.isArray(inside), String(inside));
      assert.ok(inside.length === 6 && inside.every((p) => p.tenantId === 1));
      assert.equal(await w.$forTenant(2).post.count(), 2);
    });

    check("$compile shows the tenant predicate and binds the tenant id", () => {
      const { statements } = db.$compile(db.$forTenant(42).post.findMany({ where: { published: true } }));
      // PostgreSQL numbers its placeholders; MySQL's are `?`.
      assert.match(statements[0].sql, mysql ? /`tenantId` = \?/ : /"tenantId" = \$\d/);
      assert.ok(statements[0].params.includes(42));
      // Raw SQL as a tagged template: its values are the database's placeholders too.
      const rawSql = db.$compile(db.$forTenant(42).$queryRaw`SELECT id FROM ${ident("Post")} WHERE views > ${7}`).statements.at(-1);
      if (mysql) assert.ok(rawSql.sql.includes("?") && !/\$\d/.test(rawSql.sql), rawSql.sql);
      else assert.match(rawSql.sql, /\$\d/);
      assert.ok(rawSql.params.includes(42) && rawSql.params.includes(7), JSON.stringify(rawSql.params));
    });

    check("raw SQL under a tenant reaches only that tenant's rows", async () => {
      const posts = ident("Post", blog.namespace);
      const rows = await db.$forTenant(1).$queryRaw`SELECT id FROM ${posts} ORDER BY id`;
      assert.deepEqual(rows.map((r) => r.id), [1, 2, 3, 4, 5]);
      const none = await db.$forTenant(1).$queryRaw`SELECT id FROM ${posts} WHERE id = ${6}`;
      assert.deepEqual(none, []);
      const w = await freshNamespace(backend, { ...BLOG, prefix: "qtenant_w" });
      const wPosts = ident("Post", w.namespace);
      // Every row it reaches changes (MySQL counts changed rows as affected, PostgreSQL matched ones).
      assert.equal(await w.client().$forTenant(1).$executeRaw`UPDATE ${wPosts} SET views = views + 1000`, 5);
      const globex = await w.client().$forTenant(2).post.findMany({ orderBy: { id: "asc" }, select: { views: true } });
      assert.deepEqual(globex.map((p) => p.views), [999, 7]);
    });

    check("raw SQL that changes session state is refused under a tenant", async () => {
      const t = db.$forTenant(1);
      const refused = (e) => e instanceof QuarryTenantError && e.code === "Q3004";
      if (mysql) {
        // MySQL's session state: variables (user and system), SET, and executable comments, whose
        // contents MySQL runs.
        await assert.rejects(t.$executeRaw`SET @tenant = 2`, refused);
        await assert.rejects(t.$executeRaw`SET time_zone = '+01:00'`, refused);
        await assert.rejects(t.$queryRawUnsafe("SELECT @tenant := 2"), refused);
        await assert.rejects(t.$queryRawUnsafe("SELECT @@session.sql_mode"), refused);
        await assert.rejects(t.$queryRawUnsafe("SELECT id INTO @x FROM `Post` LIMIT 1"), refused);
        await assert.rejects(t.$queryRawUnsafe("SELECT 1 /*! , (SELECT count(*) FROM `Post`) */"), refused);
        await assert.rejects(t.$queryRawUnsafe("SELECT 1 /*M! , 2 */"), refused);
      } else {
        await assert.rejects(t.$executeRaw`SET search_path TO public`, refused);
        await assert.rejects(t.$queryRawUnsafe("SELECT set_config('app.current_tenant_id', '2', false)"), { code: "Q3004" });
      }
      await assert.rejects(t.$executeRawUnsafe(`SELECT 1; SELECT 2`), { code: "Q3004" });
    });

    check("raw SQL under a tenant is rewritten in the Wasm engine: fenced reads, checked writes", async () => {
      const t = db.$forTenant(1);
      const [Post, Comment] = [ident("Post"), ident("Comment")];
      // Unqualified names mean the client's namespace; an expression that raises on another
      // tenant's value never runs (PostgreSQL: a failing cast; MySQL, whose casts do not fail: a
      // malformed regular expression).
      const rows = mysql
        ? await t.$queryRaw`SELECT id FROM ${Post} WHERE 'x' REGEXP CASE WHEN title = 'Globex secrets' THEN '(' ELSE 'x' END ORDER BY id`
        : await t.$queryRaw`SELECT id FROM ${Post} WHERE CASE WHEN title = 'Globex secrets' THEN CAST(title AS int) ELSE 0 END = 0 ORDER BY id`;
      assert.deepEqual(rows.map((r) => r.id), [1, 2, 3, 4, 5]);
      const [{ n }] = mysql
        ? await t.$queryRaw`SELECT count(*) AS n FROM ${Post} p JOIN ${Comment} c ON c.${ident("postId")} = p.id WHERE p.id IN (${1}, ${6}, ${7})`
        : await t.$queryRaw`SELECT count(*) AS n FROM ${Post} p JOIN ${Comment} c ON c."postId" = p.id WHERE p.id = ANY(${[1, 6, 7]})`;
      assert.equal(n, 2n);
      // A function that reads what the statement does not name: PostgreSQL's query_to_xml, MySQL's LOAD_FILE.
      const reader = mysql ? "SELECT LOAD_FILE('/etc/hostname')" : `SELECT query_to_xml('SELECT * FROM "Post"', true, false, '')`;
      await assert.rejects(t.$queryRawUnsafe(reader), { code: "Q3004" });
      await assert.rejects(t.$queryRawUnsafe(`SELECT ${"(".repeat(300)}1${")".repeat(300)}`), { code: "Q3004" });
      const [tenantId, authorId] = [ident("tenantId"), ident("authorId")];
      await assert.rejects(t.$executeRaw`INSERT INTO ${Post} (${tenantId}, ${authorId}, title) VALUES (${2}, ${4}, 'x')`, { code: "Q3002" });
      await assert.rejects(t.$executeRaw`INSERT INTO ${Post} (${authorId}, title) VALUES (${4}, 'x')`, { code: "P2003" });
      await assert.rejects(db.$queryRaw`SELECT id FROM ${Post}`, (e) => e instanceof QuarryTenantError && e.code === "Q3001");
    });
  });
}
