// Declared tenancy through the package on every backend (Wasm on PGlite, node-postgres and Neon's
// WebSocket driver, the native addon, and Wasm on MariaDB through mysql2 and PlanetScale's driver):
// a misnamed tenant field is an error or a refusal, never a silent absence of scope; raw SQL cannot
// reach outside its WITH names or set the tenant column from another row; a tenant cannot delete
// its tenant row or publish its rows; the engine's DDL makes links between tenants impossible and
// `$tenantLinks` finds the ones an older database holds; global rows are read-only under a tenant;
// and RLS mode works from TypeScript on both engines (on MySQL, which has no row-level security,
// it is refused when the client is created). The schemas and seeds are written for PostgreSQL; the
// MySQL backends switch the provider and translate the seeds (support/mysql.mjs).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { QuarryTenantError, createClient, raw } from "quarry";
import { pgAdapter } from "quarry/adapters/pg";
import { neonAdapter } from "quarry/adapters/neon";
import { Pool as NeonPool } from "@neondatabase/serverless";
import pg from "pg";
import { DATABASE_URL, MYSQL_BACKENDS, freshNamespace, namespaceOf, openBackend } from "./support/backends.mjs";
import { checker, readTestFile } from "./support/corpus.mjs";

const BLOG = { schema: "fixtures/schemas/bench.prisma", seed: "corpus/seeds/blog.sql" };

const DATASOURCE = `datasource db {\n  provider = "postgresql"\n}\n`;

/** A schema whose tenant column is `organizationId`. */
const ORGS = `${DATASOURCE}
model Organization {
  id    String @id
  name  String
  tasks Task[]
  teams Team[]
}
model Team {
  id             Int          @id
  organizationId String
  organization   Organization @relation(fields: [organizationId], references: [id])
  tasks          Task[]
}
model Task {
  id             Int          @id
  organizationId String
  organization   Organization @relation(fields: [organizationId], references: [id])
  teamId         Int
  team           Team         @relation(fields: [teamId], references: [id])
  title          String
}
`;

const ORGS_SEED = `
INSERT INTO "Organization" (id, name) VALUES ('a', 'A'), ('b', 'B');
INSERT INTO "Team" (id, "organizationId") VALUES (1, 'a'), (2, 'b');
INSERT INTO "Task" (id, "organizationId", "teamId", title) VALUES (1, 'a', 1, 'a1'), (2, 'a', 1, 'a2'), (3, 'b', 2, 'b secret');
`;

let roles = 0;

for (const backendName of ["pglite", "pg", "neon", "native", ...MYSQL_BACKENDS]) {
  describe(`declared tenancy on ${backendName}`, () => {
    const check = checker(test, backendName === "native" ? "native" : `wasm-${backendName}`, "tenancy");
    const mysql = MYSQL_BACKENDS.includes(backendName);
    /** A name in raw SQL, quoted in the backend's dialect. */
    const ident = (name) => raw(backend.quote(name));
    let backend;
    let blog;
    let db;

    before(async () => {
      backend = await openBackend(backendName);
      blog = await freshNamespace(backend, { ...BLOG, prefix: "qtenancy" });
      db = blog.client();
    });

    after(async () => {
      await blog?.drop();
      await backend?.close();
    });

    /** A namespace with `schema`'s tables (the engine's DDL, `ddlOptions`) and `seed`. */
    const namespaceFor = (schema, seed, ddlOptions) => namespaceOf(backend, { schema, seed, ddlOptions, prefix: "qtenancy" });

    check("a misnamed tenant field is an error, never an absence of scope", async () => {
      const ns = await namespaceFor(ORGS, ORGS_SEED);
      try {
        // Not configured: the schema has no scoped model, says so, and refuses a tenant view.
        const warnings = [];
        const plain = ns.client({ log: [{ level: "warn", emit: "event" }] });
        plain.$on("warn", (e) => warnings.push(e.message));
        await new Promise((r) => setTimeout(r, 0));
        assert.equal(warnings.length, 1, String(warnings));
        assert.match(warnings[0], /^W3003 .*organizationId/);
        assert.throws(() => plain.$forTenant("a"), (e) => e instanceof QuarryTenantError && e.code === "Q3006" && /did you mean organizationId/.test(e.message));
        assert.ok(plain.$tenancy().every((m) => m.tenancy === "global"));
        // A configured name that matches no model fails at createClient, with the likely name.
        assert.throws(() => ns.client({ tenancy: { field: "orgId" } }), (e) => e.code === "Q1003" && /did you mean organizationId\?/.test(e.message));
        // Named right: scoped, and strict without a tenant.
        const scoped = ns.client({ tenancy: { field: "organizationId" } });
        assert.deepEqual(scoped.$tenancy().map((m) => [m.model, m.tenancy]), [["Organization", "tenant"], ["Team", "scoped"], ["Task", "scoped"]]);
        await assert.rejects(scoped.task.findMany(), { code: "Q3001" });
        const tasks = await scoped.$forTenant("a").task.findMany({ orderBy: { id: "asc" } });
        assert.deepEqual(tasks.map((t) => t.title), ["a1", "a2"]);
        await backend.release(plain);
        await backend.release(scoped);
      } finally {
        await ns.drop();
      }
    });

    check("a model that refers to the tenant model must be scoped or declared global", () => {
      const schema = `${DATASOURCE}
model Tenant { id Int @id  users User[]  invoices Invoice[] }
model User { id Int @id  tenantId Int  tenant Tenant @relation(fields: [tenantId], references: [id]) }
model Invoice { id Int @id  orgId Int  org Tenant @relation(fields: [orgId], references: [id]) }`;
      assert.throws(() => backend.client({ schema }), (e) => e.code === "Q1003" && /Invoice refers to the tenant model Tenant/.test(e.message) && e.meta.line > 0);
      const declared = backend.client({ schema: schema.replace("model Invoice", "/// @quarry.global\nmodel Invoice") });
      assert.equal(declared.$tenancy().find((m) => m.model === "Invoice").tenancy, "global");
      return backend.release(declared);
    });

    check("raw SQL: a WITH name is not visible outside the query that defines it", async () => {
      const t = db.$forTenant(1);
      // Names of tables that are not the schema's: PostgreSQL's system views; on MySQL, whose
      // system tables live in other databases, a table of the namespace the schema does not have.
      const [outside, other] = mysql ? ["processlist", "secrets"] : ["pg_stat_activity", "pg_stats"];
      for (const text of [
        `SELECT j.* FROM (WITH ${outside} AS (SELECT 1) SELECT 1) s, ${outside} j`,
        `SELECT s.* FROM (WITH ${other} AS (SELECT 1) SELECT 1) x, ${other} s`,
        `WITH a AS (SELECT * FROM ${outside}), ${outside} AS (SELECT 1) SELECT * FROM a`,
      ]) {
        await assert.rejects(t.$queryRawUnsafe(text), (e) => e instanceof QuarryTenantError && e.code === "Q3004", text);
        await assert.rejects(db.$queryRawUnsafe(text), (e) => e.code === "Q3004", `without a tenant: ${text}`);
      }
      const [{ n }] = await t.$queryRaw`WITH a AS (SELECT id FROM ${ident("Post")}), b AS (SELECT id FROM a) SELECT count(*) AS n FROM b`;
      assert.equal(Number(n), 5);
    });

    check("raw SQL: the tenant column cannot be set from another row (PostgreSQL: excluded outside ON CONFLICT; MySQL: a join, a subquery, ON DUPLICATE KEY)", async () => {
      const w = await freshNamespace(backend, { ...BLOG, prefix: "qtenancy_w" });
      try {
        const t = w.client().$forTenant(1);
        const refused = (e) => e instanceof QuarryTenantError && e.code === "Q3004";
        if (mysql) {
          // MySQL has no `excluded`: another row's tenant comes in through a join, a subquery, or
          // ON DUPLICATE KEY UPDATE's VALUES().
          const because = (pattern) => (e) => refused(e) && pattern.test(e.message);
          await assert.rejects(
            t.$executeRaw`UPDATE \`Post\` p JOIN \`User\` u ON u.id = p.\`authorId\` SET p.\`tenantId\` = u.\`tenantId\` WHERE p.id = ${1}`,
            because(/this form of UPDATE is not supported/),
          );
          await assert.rejects(
            t.$executeRaw`UPDATE \`Post\` SET \`tenantId\` = (SELECT \`tenantId\` FROM \`User\` WHERE id = ${4}) WHERE id = ${1}`,
            because(/tenant column must be given as a bound parameter or a literal/),
          );
          await assert.rejects(
            t.$executeRaw`INSERT INTO \`Post\` (id, \`authorId\`, title) VALUES (${6}, ${1}, 'x') ON DUPLICATE KEY UPDATE \`tenantId\` = VALUES(\`tenantId\`)`,
            because(/ON DUPLICATE KEY UPDATE is refused/),
          );
        } else {
          await assert.rejects(t.$executeRaw`UPDATE "Post" SET "tenantId" = excluded."tenantId" FROM (SELECT 2 AS "tenantId") AS excluded WHERE id = ${1}`, refused);
        }
        assert.equal(await w.client().$forTenant(1).post.count({ where: { id: 1 } }), 1);
        assert.equal(await w.client().$forTenant(2).post.count(), 2);
      } finally {
        await w.drop();
      }
    });

    check("a tenant cannot delete its own tenant row or publish its rows", async () => {
      const w = await freshNamespace(backend, { ...BLOG, prefix: "qtenancy_w" });
      try {
        const t = w.client().$forTenant(1);
        await assert.rejects(t.tenant.delete({ where: { id: 1 } }), (e) => e.code === "Q3003" && e.meta.model === "Tenant");
        await assert.rejects(t.tenant.deleteMany(), { code: "Q3003" });
        await assert.rejects(t.$executeRaw`DELETE FROM ${ident("Tenant")}`, { code: "Q3003" });
        assert.equal(await w.client().$unscoped().tenant.count(), 3);
        // SetNull on the tenant relation (Prisma's default for an optional one) is refused outright.
        const setNull = `${DATASOURCE}
model Tenant { id Int @id  tags Tag[] }
/// @quarry.shared
model Tag { id Int @id  tenantId Int?  tenant Tenant? @relation(fields: [tenantId], references: [id], onDelete: SetNull) }`;
        assert.throws(() => backend.client({ schema: setNull }), (e) => e.code === "Q1003" && /onDelete: SetNull/.test(e.message));
        // Left to its default, it is Restrict: deleting the tenant unscoped keeps the tags' tenant.
        const restrict = backend.client({ schema: setNull.replace(", onDelete: SetNull", "") });
        assert.ok(restrict.$ddl().some((s) => s.includes(backend.quote("Tag_tenantId_fkey")) && s.includes("ON DELETE RESTRICT")));
        await backend.release(restrict);
      } finally {
        await w.drop();
      }
    });

    check("links between tenants cannot be made, and $tenantLinks finds the ones a database holds", async () => {
      // The engine's DDL: an admin job cannot link a comment to another tenant's post either.
      const keyed = await freshNamespace(backend, { ...BLOG, prefix: "qtenancy_k" });
      try {
        const admin = keyed.client().$unscoped();
        await assert.rejects(admin.comment.create({ data: { tenantId: 1, postId: 6, authorId: 1, body: "x" } }), (e) => e.code === "P2003");
        assert.ok((await keyed.client().$tenantLinks()).every((r) => r.links === 0));
      } finally {
        await keyed.drop();
      }
      // A database made without the keys (by another tool) can hold such links: found, counted.
      const seed = `${readBlogSeed()}
INSERT INTO "Comment" ("tenantId", "postId", "authorId", body) VALUES (2, 1, 4, 'across');`;
      const legacy = await namespaceFor(blogSchema(), seed, { tenantKeys: false });
      try {
        const links = await legacy.client().$tenantLinks();
        assert.deepEqual(links.filter((r) => r.links > 0), [{ relation: "Comment.post -> Post", links: 1 }]);
      } finally {
        await legacy.drop();
      }
    });

    check("global rows are read-only under a tenant, in raw SQL too", async () => {
      const schema = `${DATASOURCE}
model Tenant { id Int @id  users User[] }
/// @quarry.global
model Plan { id Int @id  name String }
model User { id Int @id  tenantId Int  tenant Tenant @relation(fields: [tenantId], references: [id]) }`;
      const ns = await namespaceFor(schema, `INSERT INTO "Tenant" VALUES (1);\nINSERT INTO "Plan" VALUES (1, 'free');\n`);
      try {
        const t = ns.client().$forTenant(1);
        await assert.rejects(t.plan.update({ where: { id: 1 }, data: { name: "pro" } }), { code: "Q3003" });
        await assert.rejects(t.plan.create({ data: { id: 2, name: "x" } }), { code: "Q3003" });
        await assert.rejects(t.$executeRaw`UPDATE ${ident("Plan")} SET name = 'pro'`, { code: "Q3003" });
        assert.deepEqual(await t.plan.findMany(), [{ id: 1, name: "free" }]);
        assert.equal(await ns.client().plan.update({ where: { id: 1 }, data: { name: "pro" } }).then((p) => p.name), "pro");
      } finally {
        await ns.drop();
      }
    });

    check("RLS mode from TypeScript: policies hold and a role that bypasses them is warned of", async () => {
      const options = { schema: blogSchema(), rls: true, log: [{ level: "warn", emit: "event" }] };
      if (mysql) {
        // MySQL has no row-level security: asking for it is an error when the client is created,
        // never a mode that silently has no second wall.
        assert.throws(() => backend.client({ ...options, namespace: blog.namespace }), (e) => e.code === "Q1004" && /row-level security/i.test(e.message));
        assert.throws(() => db.$ddl({ rls: true }), (e) => typeof e.code === "string" && e.code.startsWith("Q"));
        return;
      }
      if (backendName === "pglite") {
        // PGlite has one connection as its superuser: RLS mode runs, and warns that the policies
        // never apply to that role. The policies themselves are checked on the server backends.
        const client = backend.client({ ...options, namespace: blog.namespace });
        const warnings = [];
        client.$on("warn", (e) => warnings.push(e.message));
        assert.equal(await client.$forTenant(1).post.count(), 5);
        await waitFor(() => warnings.length > 0);
        assert.match(warnings[0], /^W3001 /);
        return;
      }
      const ns = await namespaceFor(blogSchema(), readBlogSeed(), { rls: true });
      const role = `quarry_rls_${process.pid}_${roles++}`;
      const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
      const q = (s) => `"${s}"`;
      let client;
      let cleanup = async () => {};
      try {
        await admin.query(`CREATE ROLE ${q(role)} LOGIN NOSUPERUSER NOBYPASSRLS`);
        await admin.query(`GRANT USAGE ON SCHEMA ${q(ns.namespace)} TO ${q(role)}`);
        await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${q(ns.namespace)} TO ${q(role)}`);
        await admin.query(`GRANT USAGE ON ALL SEQUENCES IN SCHEMA ${q(ns.namespace)} TO ${q(role)}`);
        // The backend's connection as the application role.
        const url = new URL(DATABASE_URL);
        url.username = role;
        const mine = { ...options, namespace: ns.namespace };
        if (backendName === "native") {
          client = createClient({ ...mine, url: `${url}${url.search ? "&" : "?"}connection_limit=2` });
          cleanup = () => client.$disconnect();
        } else {
          const pool = backendName === "pg" ? new pg.Pool({ connectionString: String(url), max: 2 }) : new NeonPool({ connectionString: String(url), max: 2 });
          client = createClient({ ...mine, adapter: backendName === "pg" ? pgAdapter(pool) : neonAdapter(pool) });
          cleanup = () => pool.end();
        }
        const warnings = [];
        client.$on("warn", (e) => warnings.push(e.message));
        const t = client.$forTenant(1);
        assert.equal(await t.post.count(), 5);
        assert.deepEqual((await t.$queryRaw`SELECT DISTINCT "tenantId" FROM "Post"`).map((r) => r.tenantId), [1]);
        // The database itself refuses what the engine would: SQL it never saw runs under the policies.
        const plain = new pg.Pool({ connectionString: String(url), max: 1 });
        try {
          const c = await plain.connect();
          c.on("error", () => {});
          await c.query("BEGIN");
          await c.query(`SELECT set_config('app.current_tenant_id', '1', true)`);
          const { rows } = await c.query(`SELECT count(*)::int AS n FROM ${q(ns.namespace)}."Post"`);
          assert.equal(rows[0].n, 5);
          await c.query("ROLLBACK");
          c.release();
        } finally {
          await plain.end();
        }
        assert.deepEqual(warnings, []);
        // Connected as the superuser, RLS mode warns.
        const superClient = backend.client(mine);
        const superWarnings = [];
        superClient.$on("warn", (e) => superWarnings.push(e.message));
        await waitFor(() => superWarnings.length > 0);
        assert.match(superWarnings[0], /^W3001 /);
        await backend.release(superClient);
      } finally {
        await cleanup();
        await ns.drop();
        await admin.query(`DROP OWNED BY ${q(role)}`).catch(() => {});
        await admin.query(`DROP ROLE IF EXISTS ${q(role)}`).catch(() => {});
        await admin.end();
      }
    });
  });
}

const blogSchema = () => readTestFile(BLOG.schema);
const readBlogSeed = () => readTestFile(BLOG.seed);

async function waitFor(cond, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}

