// Errors a developer can act on, on every backend (Wasm on PGlite and node-postgres, the native
// addon): a database that cannot be reached names where it was looked for; a wrong database or
// role says which; raw SQL naming a missing column or table says which (Prisma's P2022 / P2021);
// every database error carries the names PostgreSQL reported (`meta.database`) and, for the
// common ones, a hint. Names only: no value from the request or the database appears.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { createClient, QuarryDriverError, QuarryKnownRequestError, QuarryTenantError } from "quarry";
import { pgAdapter } from "quarry/adapters/pg";
import { DATABASE_URL, freshNamespace, openBackend } from "./support/backends.mjs";
import { readTestFile } from "./support/corpus.mjs";

const BLOG = { schema: "fixtures/schemas/bench.prisma", seed: "corpus/seeds/blog.sql" };
const SECRET = "s3cr3t-value-xyz";

/** A URL like DATABASE_URL with another port, database or user. */
function urlWith(change) {
  const u = new URL(DATABASE_URL);
  change(u);
  return u.toString();
}

/** A client on `url`: the native addon, or the WebAssembly engine over node-postgres. */
function clientOn(engine, url, pools) {
  const schema = readTestFile(BLOG.schema);
  if (engine === "native") return createClient({ schema, url });
  const pool = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 5000 });
  pool.on("error", () => {});
  pools.push(pool);
  return createClient({ schema, adapter: pgAdapter(pool) });
}

for (const engine of ["pg", "native"]) {
  describe(`connection errors on ${engine}`, () => {
    const pools = [];
    const clients = [];
    const open = (url) => {
      const db = clientOn(engine, url, pools);
      clients.push(db);
      return db;
    };
    after(async () => {
      for (const db of clients) await db.$disconnect().catch(() => {});
      for (const p of pools) await p.end().catch(() => {});
    });

    test("an unreachable database names the host and port, with a hint", async () => {
      const db = open(urlWith((u) => (u.port = "1")));
      await assert.rejects(db.$unscoped().tenant.count(), (e) => {
        assert.ok(e instanceof QuarryDriverError, `${e}`);
        assert.equal(e.code, "Q4001");
        assert.equal(e.meta.kind, "connection");
        assert.match(e.message, /127\.0\.0\.1:1\b/);
        assert.match(e.message, /Is PostgreSQL running/);
        return true;
      });
    });

    test("a database that does not exist is named, with a hint", async () => {
      const db = open(urlWith((u) => (u.pathname = "/quarry_no_such_database")));
      await assert.rejects(db.$unscoped().tenant.count(), (e) => {
        assert.equal(e.code, "Q4001");
        assert.equal(e.meta.sqlstate, "3D000");
        assert.match(e.message, /database "quarry_no_such_database" does not exist/);
        assert.match(e.message, /Create the database/);
        if (engine === "native") assert.match(e.message, /127\.0\.0\.1:\d+/);
        return true;
      });
    });

    test("a role that does not exist is named, never its password", async () => {
      const db = open(urlWith((u) => ((u.username = "quarry_no_such_role"), (u.password = SECRET))));
      await assert.rejects(db.$unscoped().tenant.count(), (e) => {
        assert.equal(e.code, "Q4001");
        assert.match(e.meta.sqlstate, /^28/);
        assert.match(e.message, /quarry_no_such_role/);
        assert.match(e.message, /Check the user and password/);
        assert.ok(!JSON.stringify({ m: e.message, meta: e.meta }).includes(SECRET), e.message);
        return true;
      });
    });
  });
}

for (const backendName of ["pglite", "pg", "native"]) {
  describe(`database errors on ${backendName}`, () => {
    let backend;
    let blog;
    let db;

    before(async () => {
      backend = await openBackend(backendName);
      blog = await freshNamespace(backend, { ...BLOG, prefix: "qerr" });
      db = blog.client();
    });

    after(async () => {
      await blog?.drop();
      await backend?.close();
    });

    test("raw SQL naming a missing column says which (P2022)", async () => {
      await assert.rejects(db.$unscoped().$queryRawUnsafe(`SELECT "nope" FROM "Post" WHERE "title" = $1`, SECRET), (e) => {
        assert.ok(e instanceof QuarryKnownRequestError, `${e}`);
        assert.equal(e.code, "P2022");
        assert.equal(e.meta.column, "nope");
        assert.equal(e.meta.sqlstate, "42703");
        assert.match(e.message, /The column `nope` does not exist/);
        assert.ok(!e.message.includes(SECRET));
        return true;
      });
    });

    test("raw SQL naming a missing table says which (P2021)", async () => {
      await assert.rejects(db.$unscoped().$queryRawUnsafe(`SELECT 1 FROM "NoSuchTable"`), (e) => {
        assert.equal(e.code, "P2021");
        assert.equal(e.meta.table, "NoSuchTable");
        assert.match(e.message, /quarry db push/);
        return true;
      });
    });

    test("a database error carries the names PostgreSQL reports, not the values", async () => {
      // A title too long for no column: use a NOT NULL violation from raw SQL instead.
      await assert.rejects(
        db.$unscoped().$executeRawUnsafe(`INSERT INTO "Tenant" ("id", "name") VALUES ($1, NULL)`, 777),
        (e) => {
          assert.equal(e.code, "P2011");
          assert.equal(e.meta.database.table, "Tenant");
          assert.equal(e.meta.database.column, "name");
          assert.equal(e.meta.database.schema, blog.namespace);
          assert.ok(!JSON.stringify({ m: e.message, meta: e.meta }).includes("777"));
          return true;
        },
      );
      await assert.rejects(db.$unscoped().$queryRawUnsafe(`SELECT 1/0 WHERE $1::text IS NOT NULL`, SECRET), (e) => {
        assert.equal(e.code, "Q4001");
        assert.equal(e.meta.sqlstate, "22012");
        assert.ok(!JSON.stringify({ m: e.message, meta: e.meta }).includes(SECRET));
        return true;
      });
    });

    test("a tenant id of the wrong type names the tenant field and its type (Q3005)", async () => {
      await assert.rejects(
        db.$forTenant("acme-" + SECRET).post.count(),
        (e) => {
          assert.ok(e instanceof QuarryTenantError, `${e}`);
          assert.equal(e.code, "Q3005");
          assert.equal(e.meta.tenantField, "tenantId");
          assert.equal(e.meta.type, "Int");
          assert.match(e.message, /tenantId \(Int\)/);
          assert.ok(!e.message.includes(SECRET));
          return true;
        },
      );
    });

    test("a transaction past its timeout says the timeout and how to raise it (P2028)", async () => {
      let inner;
      await assert.rejects(
        db.$unscoped().$transaction(
          async (tx) => {
            await new Promise((r) => setTimeout(r, 300));
            inner = await tx.tenant.count().catch((e) => e);
          },
          { timeout: 100 },
        ),
        { code: "P2028" },
      );
      assert.equal(inner?.code, "P2028");
      assert.match(inner.message, /timeout for this transaction was 100 ms/);
      assert.match(inner.message, /timeout: ms/);
      assert.equal(inner.meta.timeout, 100);
    });
  });
}
