// The client's own behaviour on every backend (Wasm on PGlite and node-postgres, the native addon), over the store schema and seed: values in and out
// (Date, bigint, Decimal, Uint8Array, Json, JsonNull), error classes with Prisma's codes and meta,
// $compile without a database, query logging without values, batch and interactive transactions
// (commit, rollback, timeout, maxWait), and raw SQL as tagged templates.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  Decimal,
  JsonNull,
  QuarryKnownRequestError,
  QuarryPromise,
  QuarryTenantError,
  QuarryValidationError,
  join,
  raw,
  sql,
} from "quarry";
import { freshNamespace, openBackend } from "./support/backends.mjs";
import { checker } from "./support/corpus.mjs";

const STORE = { schema: "corpus/schemas/store.prisma", seed: "corpus/seeds/store.sql" };

for (const backendName of ["pglite", "pg", "neon", "native"]) {
  describe(`client on ${backendName}`, () => {
    const check = checker(test, backendName === "native" ? "native" : `wasm-${backendName}`, "client");
    let backend;
    let store;
    let db;

    before(async () => {
      backend = await openBackend(backendName);
      store = await freshNamespace(backend, { ...STORE, prefix: "qclient" });
      db = store.client();
    });

    after(async () => {
      await store?.drop();
      await backend?.close();
    });

    check("values decode into Date, bigint, Decimal, Uint8Array and JSON", async () => {
      const ada = await db.account.findUniqueOrThrow({ where: { id: 1 } });
      assert.ok(ada.createdAt instanceof Date);
      assert.equal(ada.createdAt.toISOString(), "2024-01-01T09:00:00.000Z");
      assert.equal(ada.visits, 9007199254740993n);
      assert.ok(Decimal.isDecimal(ada.balance));
      assert.equal(ada.balance.toFixed(2), "1250.50");
      assert.ok(ada.avatar instanceof Uint8Array);
      assert.deepEqual([...ada.avatar], [1, 2, 255]);
      assert.deepEqual(ada.settings.limits, [1, 2, 3]);
      assert.deepEqual(ada.tags, ["admin", "founder"]);
      assert.equal(ada.role, "ADMIN");
      assert.equal(ada.score, 9.5);
    });

    check("values encode from Date, bigint, Decimal and Uint8Array", async () => {
      const created = await db.account.create({
        data: {
          email: `values-${backendName}@example.com`,
          balance: new Decimal("12345678.91"),
          visits: 2n ** 62n,
          avatar: new Uint8Array([0, 7, 255]),
          settings: { nested: { list: [1, "two", null] } },
          createdAt: new Date("2030-05-06T07:08:09.123Z"),
          tags: ["a", 'quote"d', "back\\slash"],
        },
      });
      const back = await db.account.findFirstOrThrow({
        where: { visits: { gte: 2n ** 62n }, createdAt: new Date("2030-05-06T07:08:09.123Z"), balance: new Decimal("12345678.91") },
      });
      assert.equal(back.id, created.id);
      assert.equal(back.visits, 2n ** 62n);
      assert.equal(back.balance.toString(), "12345678.91");
      assert.deepEqual([...back.avatar], [0, 7, 255]);
      assert.deepEqual(back.settings, { nested: { list: [1, "two", null] } });
      assert.deepEqual(back.tags, ["a", 'quote"d', "back\\slash"]);
      const withTags = await db.account.count({ where: { tags: { hasSome: ['quote"d'] } } });
      assert.equal(withTags, 1);
    });

    check("JsonNull is the JSON null, a plain null the database NULL", async () => {
      const jsonNull = await db.account.create({ data: { email: `jsonnull-${backendName}@example.com`, settings: JsonNull } });
      const dbNull = await db.account.create({ data: { email: `dbnull-${backendName}@example.com`, settings: null } });
      const nulls = await db.account.findMany({ where: { id: { in: [jsonNull.id, dbNull.id] }, settings: { equals: JsonNull } }, select: { id: true } });
      assert.deepEqual(nulls, [{ id: jsonNull.id }]);
      // An object shaped like a tag is a Json value like any other.
      const tagLike = { $type: "DateTime", value: "not a date" };
      const t = await db.account.create({ data: { email: `taglike-${backendName}@example.com`, settings: tagLike } });
      assert.deepEqual(t.settings, tagLike);
    });

    check("errors are classes with Prisma's codes and meta", async () => {
      await assert.rejects(db.account.create({ data: { email: "ada@example.com" } }), (e) => {
        assert.ok(e instanceof QuarryKnownRequestError);
        assert.equal(e.code, "P2002");
        assert.deepEqual(e.meta.target, ["email"]);
        assert.ok(!e.message.includes("ada@example.com"), "no value in the message");
        return true;
      });
      await assert.rejects(db.account.update({ where: { id: 999999 }, data: { name: "x" } }), { name: "QuarryKnownRequestError", code: "P2025" });
      await assert.rejects(db.order.create({ data: { accountId: 999999 } }), (e) => e.code === "P2003" && e.meta.field_name === "accountId");
      await assert.rejects(db.account.findMany({ where: { emial: "x" } }), (e) => {
        assert.ok(e instanceof QuarryValidationError);
        assert.equal(e.code, "Q2004");
        assert.equal(e.meta.path, "args.where.emial");
        assert.match(e.message, /did you mean "email"/);
        return true;
      });
      await assert.rejects(db.account.findMany({ take: "ten" }), QuarryValidationError);
      await assert.rejects(db.account.create({ data: { email: "x", createdAt: new Date("nope") } }), { code: "Q2005" });
    });

    check("requests are lazy until awaited", async () => {
      const before = await db.category.count();
      const p = db.category.create({ data: { name: `lazy-${backendName}`, slug: `lazy-${backendName}` } });
      assert.ok(p instanceof QuarryPromise);
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(await db.category.count(), before);
      await p;
      assert.equal(await db.category.count(), before + 1);
      // Awaiting again does not run it again.
      await p;
      assert.equal(await db.category.count(), before + 1);
    });

    check("$compile shows SQL and parameters without running anything", async () => {
      const events = [];
      const logged = store.client({ log: [{ level: "query", emit: "event" }] });
      logged.$on("query", (e) => events.push(e));
      const since = new Date("2024-01-01T00:00:00.000Z");
      const out = logged.$compile(logged.order.findMany({ where: { placedAt: { gte: since }, account: { is: { role: "ADMIN" } } }, take: 2 }));
      assert.equal(events.length, 0);
      assert.equal(out.statements.length, 1);
      const [{ sql: text, params }] = out.statements;
      assert.match(text, /^SELECT /);
      assert.match(text, new RegExp(`"${store.namespace}"\\."Order"`));
      assert.ok(text.includes("$1"));
      assert.ok(params.some((p) => p instanceof Date && p.getTime() === since.getTime()), JSON.stringify(params));
      const batch = logged.$compile([logged.account.count(), logged.product.count()]);
      assert.equal(batch.length, 2);
      assert.throws(() => logged.$compile({ model: "Account", action: "count" }), QuarryValidationError);
    });

    check("query events carry SQL, parameter count and duration, never values", async () => {
      const events = [];
      const logged = store.client({ log: [{ level: "query", emit: "event" }, { level: "error", emit: "event" }] });
      logged.$on("query", (e) => events.push(e));
      const errors = [];
      logged.$on("error", (e) => errors.push(e));
      const secret = "top-secret-value@example.com";
      await logged.account.findMany({ where: { email: secret } });
      await logged.account.create({ data: { email: "ada@example.com" } }).catch(() => {});
      assert.equal(events.length, 2);
      const [read] = events;
      assert.match(read.query, /^SELECT /);
      assert.equal(read.paramCount, 1);
      assert.equal(typeof read.duration, "number");
      assert.ok(read.duration >= 0);
      assert.ok(read.timestamp instanceof Date);
      assert.ok(!JSON.stringify(events).includes(secret));
      assert.equal(errors.length, 1);
      assert.match(errors[0].message, /^P2002 /);
      assert.ok(!errors[0].message.includes("ada@example.com"));
    });

    check("log: ['query'] prints to stdout", async () => {
      const lines = [];
      const original = console.log;
      console.log = (line) => lines.push(line);
      try {
        await store.client({ log: ["query", "info"] }).profile.count();
      } finally {
        console.log = original;
      }
      assert.ok(lines.some((l) => /^quarry:info Quarry engine \((WebAssembly|native)\) ready/.test(l)), lines.join("\n"));
      assert.ok(lines.some((l) => /^quarry:query SELECT COUNT\(\*\) .* \(0 params, [\d.]+ ms\)$/.test(l)), lines.join("\n"));
    });

    check("the ready message reaches an info listener added right after createClient", async () => {
      const infos = [];
      const db = store.client({ log: [{ level: "info", emit: "event" }] });
      db.$on("info", (e) => infos.push(e.message));
      await db.profile.count();
      assert.equal(infos.filter((m) => /^Quarry engine \((WebAssembly|native)\) ready/.test(m)).length, 1, JSON.stringify(infos));
    });

    check("batch transactions are all or nothing", async () => {
      const before = await db.category.count();
      await assert.rejects(
        db.$transaction([
          db.category.create({ data: { name: `batch-${backendName}`, slug: `batch-${backendName}` } }),
          db.category.create({ data: { name: "Hardware", slug: `dup-${backendName}` } }),
        ]),
        { code: "P2002" },
      );
      assert.equal(await db.category.count(), before);
      const [count, created] = await db.$transaction(
        [db.category.count(), db.category.create({ data: { name: `ok-${backendName}`, slug: `ok-${backendName}` } })],
        { isolationLevel: "Serializable" },
      );
      assert.equal(count, before);
      assert.equal(created.name, `ok-${backendName}`);
      assert.deepEqual(await db.$transaction([]), []);
    });

    check("interactive transactions commit, and roll back when the function throws", async () => {
      const before = await db.category.count();
      const made = await db.$transaction(async (tx) => {
        await tx.category.create({ data: { name: `itx-${backendName}`, slug: `itx-${backendName}` } });
        return tx.category.count();
      });
      assert.equal(made, before + 1);
      assert.equal(await db.category.count(), before + 1);
      const boom = new Error("changed my mind");
      await assert.rejects(
        db.$transaction(async (tx) => {
          await tx.category.create({ data: { name: `gone-${backendName}`, slug: `gone-${backendName}` } });
          throw boom;
        }),
        (e) => e === boom,
      );
      assert.equal(await db.category.count(), before + 1);
    });

    check("an interactive transaction past its timeout is rolled back (P2028)", async () => {
      const before = await db.category.count();
      let inner;
      await assert.rejects(
        db.$transaction(
          async (tx) => {
            await tx.category.create({ data: { name: `slow-${backendName}`, slug: `slow-${backendName}` } });
            await new Promise((r) => setTimeout(r, 400));
            inner = await tx.category.count().catch((e) => e);
          },
          { timeout: 150 },
        ),
        { code: "P2028" },
      );
      assert.equal(inner?.code, "P2028");
      assert.equal(await db.category.count(), before);
    });

    check("maxWait bounds the wait for a connection, and a late transaction is given back", async () => {
      // Hold the only connection (PGlite has one; the pg and Neon clients get a pool of one).
      let one = db;
      let pool;
      const { DATABASE_URL } = await import("./support/backends.mjs");
      if (backendName === "pg") {
        const pg = (await import("pg")).default;
        const { pgAdapter } = await import("quarry/adapters/pg");
        pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
        one = store.client({ adapter: pgAdapter(pool) });
      } else if (backendName === "native") {
        one = store.client({ url: backend.url.replace(/connection_limit=\d+/, "connection_limit=1") });
      } else if (backendName === "neon") {
        const { Pool } = await import("@neondatabase/serverless");
        const { neonAdapter } = await import("quarry/adapters/neon");
        pool = new Pool({ connectionString: DATABASE_URL, max: 1 });
        one = store.client({ adapter: neonAdapter(pool) });
      }
      try {
        let release;
        const holding = new Promise((r) => {
          release = r;
        });
        let started;
        const startedP = new Promise((r) => {
          started = r;
        });
        const first = one.$transaction(async (tx) => {
          await tx.category.count();
          started();
          await holding;
        });
        await startedP;
        const t0 = Date.now();
        await assert.rejects(one.$transaction(async (tx) => tx.category.count(), { maxWait: 100 }), { code: "P2028" });
        assert.ok(Date.now() - t0 < 3000);
        release();
        await first;
        // The transaction that was still being started is rolled back when it arrives, so the
        // single connection is free again.
        assert.equal(typeof (await one.category.count()), "number");
        assert.equal(typeof (await one.$transaction(async (tx) => tx.category.count())), "number");
      } finally {
        await pool?.end();
      }
    });

    check("a batch must come from one tenant view", async () => {
      await assert.rejects(db.$transaction([db.account.count(), db.$unscoped().account.count()]), { code: "Q2009" });
      await assert.rejects(db.$transaction([1]), QuarryValidationError);
    });

    check("createClient refuses an invalid schema or adapter", () => {
      assert.throws(() => store.client({ schema: "model {" }), (e) => e instanceof QuarryValidationError && e.code === "Q1001");
      if (backendName === "native") {
        // A MySQL url runs the WebAssembly engine over mysql2, which a PostgreSQL schema cannot use.
        assert.throws(() => store.client({ url: "mysql://localhost/x" }), (e) => e instanceof QuarryValidationError && e.code === "Q1004");
      } else {
        assert.throws(() => store.client({ adapter: {} }), (e) => e.code === "Q2005" && e.meta.path === "adapter");
      }
      assert.throws(() => store.client({ namespace: 7 }), (e) => e.code === "Q2005" && e.meta.path === "options.namespace");
    });

    check("$queryRaw runs a tagged template with $n parameters", async () => {
      const table = raw(`"${store.namespace}"."accounts"`);
      const rows = await db.$queryRaw`SELECT id, email, balance, visits, created_at FROM ${table} WHERE id = ${1}`;
      assert.equal(rows.length, 1);
      assert.equal(rows[0].email, "ada@example.com");
      assert.equal(rows[0].visits, 9007199254740993n);
      assert.ok(Decimal.isDecimal(rows[0].balance));
      assert.ok(rows[0].created_at instanceof Date);
      const ids = await db.$queryRaw`SELECT id FROM ${table} WHERE id IN (${join([2, 3])}) ORDER BY id`;
      assert.deepEqual(ids, [{ id: 2 }, { id: 3 }]);
      const fragment = sql`WHERE email = ${"bob@example.com"}`;
      assert.deepEqual(await db.$queryRaw`SELECT id FROM ${table} ${fragment}`, [{ id: 2 }]);
    });

    check("$executeRaw returns the affected row count", async () => {
      const table = raw(`"${store.namespace}"."Category"`);
      const n = await db.$executeRaw`UPDATE ${table} SET name = name WHERE id IN (${join([1, 2])})`;
      assert.equal(n, 2);
    });

    check("the Unsafe forms take SQL text and parameters", async () => {
      const rows = await db.$queryRawUnsafe(`SELECT email FROM "${store.namespace}"."accounts" WHERE id = $1`, 2);
      assert.deepEqual(rows, [{ email: "bob@example.com" }]);
      const n = await db.$executeRawUnsafe(`UPDATE "${store.namespace}"."Category" SET name = name WHERE id = $1`, 3);
      assert.equal(n, 1);
    });

    check("raw SQL takes part in batch and interactive transactions", async () => {
      const table = `"${store.namespace}"."Category"`;
      const [n, count] = await db.$transaction([
        db.$executeRawUnsafe(`UPDATE ${table} SET name = name WHERE id = $1`, 1),
        db.category.count(),
      ]);
      assert.equal(n, 1);
      assert.equal(typeof count, "number");
      const rows = await db.$transaction(async (tx) => tx.$queryRawUnsafe(`SELECT count(*)::int AS n FROM ${table}`));
      assert.equal(rows[0].n, count);
    });

    check("tenant errors are QuarryTenantError", async () => {
      const tenantDb = (await freshNamespace(backend, { schema: "fixtures/schemas/bench.prisma", prefix: "qclient_t" })).client();
      await assert.rejects(tenantDb.post.findMany(), (e) => e instanceof QuarryTenantError && e.code === "Q3001");
    });
  });
}
