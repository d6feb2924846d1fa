// The `quarry` command line as a user runs it: `node <package>/dist/npm/src/cli/index.js` in a
// project folder with prisma/schema.prisma, against the PostgreSQL in DATABASE_URL, each test in a
// PostgreSQL schema of its own (`?schema=` in the URL). Exit codes, output, and what the commands
// leave in the database (read back with node-postgres).

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { DATABASE_URL } from "./support/backends.mjs";

const CLI = fileURLToPath(new URL("../../../npm/dist/npm/src/cli/index.js", import.meta.url));
const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
pool.on("error", () => {});
const folders = [];
const namespaces = [];

after(async () => {
  for (const ns of namespaces) await pool.query(`DROP SCHEMA IF EXISTS "${ns}" CASCADE`).catch(() => {});
  await pool.end();
  for (const f of folders) rmSync(f, { recursive: true, force: true });
});

/** A project folder with a schema, and a namespace of its own in the URL. */
function project(name, schema) {
  const dir = mkdtempSync(join(tmpdir(), `quarry-cli-${name}-`));
  folders.push(dir);
  mkdirSync(join(dir, "prisma"));
  writeFileSync(join(dir, "prisma", "schema.prisma"), schema);
  const ns = `quarry_cli_${name}_${process.pid}`;
  namespaces.push(ns);
  const url = new URL(DATABASE_URL);
  url.searchParams.set("schema", ns);
  return { dir, ns, url: url.toString(), write: (text) => writeFileSync(join(dir, "prisma", "schema.prisma"), text) };
}

/** Runs the CLI; resolves to { code, stdout, stderr } whatever the exit code. */
function quarry(p, args, env = {}) {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: p.dir, env: { ...process.env, DATABASE_URL: p.url, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function ok(p, args) {
  const out = await quarry(p, args);
  assert.equal(out.code, 0, `quarry ${args.join(" ")} failed:\n${out.stdout}${out.stderr}`);
  return out;
}

const rows = async (sql, params) => (await pool.query(sql, params)).rows;

const BASE = `datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model User {
  id    Int    @id @default(autoincrement())
  email String @unique
  bio   String?
  posts Post[]
}

model Post {
  id       Int    @id @default(autoincrement())
  title    String
  authorId Int
  author   User   @relation(fields: [authorId], references: [id])
}
`;

// A model (Tag, many-to-many with Post), a field (User.role with a new enum), an index and a
// relation (Comment -> Post).
const GROWN = BASE.replace("  bio   String?\n", "  bio   String?\n  role  Role   @default(MEMBER)\n")
  .replace("  author   User   @relation(fields: [authorId], references: [id])\n", "  author   User   @relation(fields: [authorId], references: [id])\n  tags     Tag[]\n  comments Comment[]\n\n  @@index([title])\n")
  .concat(`
enum Role {
  MEMBER
  ADMIN
}

model Tag {
  id    Int    @id @default(autoincrement())
  name  String @unique
  posts Post[]
}

model Comment {
  id     Int    @id @default(autoincrement())
  body   String
  postId Int
  post   Post   @relation(fields: [postId], references: [id], onDelete: Cascade)
}
`);

describe("quarry (the command line)", () => {
  test("usage, help and unknown commands", async () => {
    const p = project("usage", BASE);
    const none = await quarry(p, []);
    assert.equal(none.code, 2);
    for (const c of ["validate", "db push", "migrate dev", "migrate deploy", "migrate status", "rls", "sql"]) assert.match(none.stdout, new RegExp(`\\n  ${c} `));
    assert.equal((await quarry(p, ["--help"])).code, 0);
    for (const c of [["validate"], ["db", "push"], ["migrate", "dev"], ["migrate", "deploy"], ["migrate", "status"], ["rls"], ["sql"]]) {
      const help = await ok(p, [...c, "--help"]);
      assert.match(help.stdout, new RegExp(`^Usage: quarry ${c.join(" ")}`), help.stdout);
      assert.match(help.stdout, /Exit code: 0/);
    }
    const unknown = await quarry(p, ["migrate", "up"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Unknown command: quarry migrate up; did you mean quarry migrate dev or quarry migrate deploy/);
    const flag = await quarry(p, ["db", "push", "--force"]);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /Unknown option '--force'/);
  });

  test("validate reports the first mistake with its line and column", async () => {
    const p = project("validate", BASE);
    assert.match((await ok(p, ["validate"])).stdout, /The schema at prisma\/schema.prisma is valid: 2 models \(User, Post\)/);
    p.write(BASE.replace("title    String", "title    Strng"));
    const bad = await quarry(p, ["validate"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Error Q1002: unknown type "Strng" for field title — did you mean "String"\?/);
    assert.match(bad.stderr, /--> prisma\/schema.prisma:15:12\n.*\n15 \|   title {4}Strng\n\s+\| {12}\^/);
    p.write(BASE.replace('"postgresql"', '"mysql"'));
    assert.match((await ok(p, ["validate"])).stdout, /The schema at prisma\/schema.prisma is valid: 2 models \(User, Post\)/);
    p.write(BASE.replace('"postgresql"', '"sqlite"'));
    const sqlite = await quarry(p, ["validate"]);
    assert.equal(sqlite.code, 1);
    assert.match(sqlite.stderr, /Error Q1004: provider "sqlite" is not supported/);
    assert.match(sqlite.stderr, /prisma\/schema.prisma:2:3/);
    const missing = await quarry(p, ["validate", "--schema", "nope.prisma"]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, "Error: The schema file nope.prisma does not exist.\n");
  });

  test("sql prints what a request compiles to, under a tenant or not", async () => {
    const p = project("sql", BASE.replace("  email String @unique\n", "  email String @unique\n  tenantId Int\n"));
    const out = await ok(p, ["sql", "user.findMany", '{"where": {"email": "a@x"}}', "--tenant", "7"]);
    assert.match(out.stdout, /^SELECT .* FROM "quarry_cli_sql_\d+"\."User" AS "t0" WHERE .*"tenantId" = \$\d/m);
    assert.match(out.stdout, /-- params: \[.*"a@x".*7.*\]|-- params: \[.*7.*"a@x".*\]/);
    const json = JSON.parse((await ok(p, ["sql", '{"model": "Post", "action": "count"}', "--json", "--unscoped"])).stdout);
    assert.equal(json.statements.length, 1);
    const refused = await quarry(p, ["sql", "user.findMany"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /Error Q3001/);
    const invalid = await quarry(p, ["sql", "post.findMany", '{"where": {"nope": 1}}', "--unscoped"]);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /Error Q2004: args.where.nope/);
    assert.equal((await quarry(p, ["sql", "{not json"])).code, 2);
  });

  test("db push creates the tables, refuses to lose data, and applies what is accepted", async () => {
    const p = project("push", BASE);
    const first = await ok(p, ["db", "push"]);
    assert.match(first.stdout, /The database is now in sync with the schema \(4 changes\)/);
    assert.match(first.stderr, /Comparing the database with the schema… done/);
    assert.match((await ok(p, ["db", "push"])).stdout, /already in sync/);
    await pool.query(`INSERT INTO "${p.ns}"."User" (email, bio) VALUES ('a@x', 'hello')`);
    // Dropping a column that holds data: refused, nothing changes.
    p.write(BASE.replace("  bio   String?\n", ""));
    const refused = await quarry(p, ["db", "push"]);
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(refused.stderr, /Error Q5001: these changes would lose data:\n {2}- You are about to drop the column `bio` on the `User` table, which still contains non-null values\./);
    assert.match(refused.stderr, /--accept-data-loss/);
    assert.deepEqual(await rows(`SELECT bio FROM "${p.ns}"."User"`), [{ bio: "hello" }]);
    const dry = await ok(p, ["db", "push", "--dry-run"]);
    assert.equal(dry.stdout.trim(), `-- AlterTable\nALTER TABLE "User" DROP COLUMN "bio";`);
    const accepted = await ok(p, ["db", "push", "--accept-data-loss"]);
    assert.match(accepted.stdout, /Applied although they lose data/);
    assert.deepEqual(await rows(`SELECT email FROM "${p.ns}"."User"`), [{ email: "a@x" }]);
    // A required column without a default on a table with rows cannot run at all.
    p.write(BASE.replace("  bio   String?\n", "  name  String\n"));
    const impossible = await quarry(p, ["db", "push", "--accept-data-loss"]);
    assert.equal(impossible.code, 1);
    assert.match(impossible.stderr, /Error Q5002: .*\n {2}- Added the required column `name` to the `User` table without a default value/);
  });

  test("migrate dev adds a model, a field, an index and a relation to a database with data", async () => {
    const p = project("dev", BASE);
    const init = await ok(p, ["migrate", "dev", "--name", "init"]);
    assert.match(init.stdout, /Created migrations\/\d{14}_init\/migration.sql \(4 statements\)/);
    await pool.query(`INSERT INTO "${p.ns}"."User" (email) VALUES ('a@x')`);
    await pool.query(`INSERT INTO "${p.ns}"."Post" (title, "authorId") VALUES ('first', 1)`);
    p.write(GROWN);
    const grown = await ok(p, ["migrate", "dev", "--name", "Tags and comments"]);
    assert.match(grown.stdout, /Created migrations\/\d{14}_tags_and_comments\/migration.sql/);
    const migrations = join(p.dir, "prisma", "migrations");
    const names = readdirSync(migrations).sort();
    assert.equal(names.length, 3, names.join());
    assert.equal(readFileSync(join(migrations, "migration_lock.toml"), "utf8").match(/provider = "postgresql"/)?.length, 1);
    const sql = readFileSync(join(migrations, names[1], "migration.sql"), "utf8");
    for (const expected of [
      `-- CreateEnum\nCREATE TYPE "Role" AS ENUM ('MEMBER', 'ADMIN');`,
      `-- AlterTable\nALTER TABLE "User" ADD COLUMN "role" "Role" NOT NULL DEFAULT 'MEMBER';`,
      `-- CreateTable\nCREATE TABLE "Tag" (`,
      `-- CreateIndex\nCREATE INDEX "Post_title_idx" ON "Post"("title");`,
      `-- AddForeignKey\nALTER TABLE "Comment" ADD CONSTRAINT "Comment_postId_fkey" FOREIGN KEY ("postId") REFERENCES "Post"("id") ON DELETE CASCADE ON UPDATE CASCADE;`,
    ]) {
      assert.ok(sql.includes(expected), `missing ${expected} in\n${sql}`);
    }
    assert.ok(JSON.parse(readFileSync(join(migrations, names[1], "snapshot.json"), "utf8")).database.tables.length >= 5);
    // The data is still there, and the new columns and tables work with it.
    assert.deepEqual(await rows(`SELECT u.email, u.role::text AS role, p.title FROM "${p.ns}"."User" u JOIN "${p.ns}"."Post" p ON p."authorId" = u.id`), [
      { email: "a@x", role: "MEMBER", title: "first" },
    ]);
    await pool.query(`INSERT INTO "${p.ns}"."Comment" (body, "postId") VALUES ('nice', 1)`);
    assert.match((await ok(p, ["migrate", "dev"])).stdout, /Already in sync/);
    assert.match((await ok(p, ["migrate", "status"])).stdout, /2 migrations found, 2 applied\.\nThe database is up to date\./);
    const history = await rows(`SELECT migration_name, checksum, finished_at IS NOT NULL AS done FROM "${p.ns}"."_prisma_migrations" ORDER BY migration_name`);
    assert.deepEqual(history.map((h) => [h.migration_name, h.done]), [[names[0], true], [names[1], true]]);
    // A change made by hand is drift: migrate dev stops and says what differs.
    await pool.query(`ALTER TABLE "${p.ns}"."Tag" ADD COLUMN color text`);
    const drift = await quarry(p, ["migrate", "dev"]);
    assert.equal(drift.code, 1);
    assert.match(drift.stderr, /Error Q5003: Drift detected: the database has changes its migrations do not make:\n {2}AlterTable +ALTER TABLE "Tag" ADD COLUMN "color" text/);
    // A migration changed after it ran is refused too.
    writeFileSync(join(migrations, names[0], "migration.sql"), `${readFileSync(join(migrations, names[0], "migration.sql"), "utf8")}\n-- edited\n`);
    const edited = await quarry(p, ["migrate", "dev"]);
    assert.equal(edited.code, 1);
    assert.match(edited.stderr, new RegExp(`Error Q5005: .*\\n {2}- The migration ${names[0]} was modified after it was applied\\.`));
  });

  test("migrate dev refuses to lose data unless accepted, and --create-only writes without applying", async () => {
    const p = project("devloss", BASE);
    await ok(p, ["migrate", "dev", "--name", "init"]);
    await pool.query(`INSERT INTO "${p.ns}"."User" (email, bio) VALUES ('a@x', 'hello')`);
    p.write(BASE.replace("  bio   String?\n", ""));
    const refused = await quarry(p, ["migrate", "dev", "--name", "drop bio"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /Error Q5001: These changes would lose data:\n {2}- You are about to drop the column `bio`/);
    assert.equal(readdirSync(join(p.dir, "prisma", "migrations")).length, 2, "nothing written");
    const created = await ok(p, ["migrate", "dev", "--name", "drop bio", "--create-only"]);
    assert.match(created.stdout, /Not applied \(--create-only\)/);
    assert.deepEqual(await rows(`SELECT bio FROM "${p.ns}"."User"`), [{ bio: "hello" }]);
    const status = await quarry(p, ["migrate", "status"]);
    assert.equal(status.code, 1);
    assert.match(status.stdout, /Not yet applied:\n {2}\d{14}_drop_bio/);
    await ok(p, ["migrate", "deploy"]);
    assert.deepEqual(await rows(`SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'User' ORDER BY 1`, [p.ns]), [
      { column_name: "email" },
      { column_name: "id" },
    ]);
  });

  test("migrate deploy applies pending migrations once, in another database too", async () => {
    const dev = project("deploysrc", BASE);
    await ok(dev, ["migrate", "dev", "--name", "init"]);
    dev.write(GROWN);
    await ok(dev, ["migrate", "dev", "--name", "grown"]);
    // Production: the same project folder, another namespace.
    const prod = { ...dev, ...project("deploy", GROWN), dir: dev.dir };
    const first = await ok(prod, ["migrate", "deploy"]);
    assert.match(first.stdout, /Applied 2 migrations:\n {2}\d{14}_init\n {2}\d{14}_grown/);
    assert.match(first.stderr, /Applying migration \d{14}_init… done/);
    const again = await ok(prod, ["migrate", "deploy"]);
    assert.match(again.stdout, /No pending migrations to apply\./);
    assert.deepEqual(await rows(`SELECT count(*)::int AS n FROM "${prod.ns}"."_prisma_migrations"`), [{ n: 2 }]);
    // A failing migration leaves nothing behind and can be deployed again once fixed.
    const folder = join(dev.dir, "prisma", "migrations", "99999999999999_broken");
    mkdirSync(folder);
    writeFileSync(join(folder, "migration.sql"), `CREATE TABLE "Extra" (id int);\nALTER TABLE "Nope" ADD COLUMN x int;\n`);
    const broken = await quarry(prod, ["migrate", "deploy"]);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /Error Q5004: applying migration 99999999999999_broken: relation "Nope" does not exist \(SQLSTATE 42P01\)/);
    assert.match(broken.stderr, /was rolled back: nothing of it is in the database/);
    assert.deepEqual(await rows(`SELECT to_regclass($1) AS t`, [`"${prod.ns}"."Extra"`]), [{ t: null }]);
    writeFileSync(join(folder, "migration.sql"), `CREATE TABLE "Extra" (id int);\n`);
    assert.match((await ok(prod, ["migrate", "deploy"])).stdout, /Applied 1 migration:\n {2}99999999999999_broken/);
  });

  test("rls prints the policies and tenant keys, and applies them", async () => {
    const schema = readFileSync(new URL("../../fixtures/rls/schema.prisma", import.meta.url), "utf8");
    const p = project("rls", schema);
    const printed = await ok(p, ["rls"]);
    assert.match(printed.stdout, /^ALTER TABLE "quarry_cli_rls_\d+"\."Post" ENABLE ROW LEVEL SECURITY;$/m);
    assert.match(printed.stdout, /CREATE POLICY "Post_tenant_select" ON /);
    assert.match(printed.stdout, /FOREIGN KEY \("tenantId", "authorId"\) REFERENCES/);
    await ok(p, ["db", "push"]);
    assert.match((await ok(p, ["rls", "--apply"])).stdout, /Applied \d+ statements/);
    const [{ n }] = await rows(`SELECT count(*)::int AS n FROM pg_policies WHERE schemaname = $1`, [p.ns]);
    assert.ok(n >= 20, `policies: ${n}`);
    // db push keeps them.
    assert.match((await ok(p, ["db", "push"])).stdout, /already in sync/);
  });

  test("without a database URL the commands that need one say how to give it", async () => {
    const p = project("nourl", BASE);
    const out = await quarry(p, ["db", "push"], { DATABASE_URL: "" });
    assert.equal(out.code, 1);
    assert.match(out.stderr, /No database URL: set DATABASE_URL \(in the environment or a \.env file\) or pass --url/);
    const wrong = await quarry(p, ["db", "push", "--url", "mysql://root@127.0.0.1/test"]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /must start with postgresql:\/\//);
    const down = await quarry(p, ["migrate", "deploy", "--url", "postgresql://postgres@127.0.0.1:1/test"]);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /Is the database running, and is the URL right\?/);
  });
});

const TENANTS = `datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model Organization {
  id       Int       @id
  projects Project[]
  tasks    Task[]
}

/// @quarry.global
model Plan {
  id   Int    @id
  name String
}

model Project {
  id             Int          @id
  organizationId Int
  organization   Organization @relation(fields: [organizationId], references: [id])
  tasks          Task[]
}

model Task {
  id             Int          @id
  organizationId Int
  organization   Organization @relation(fields: [organizationId], references: [id])
  projectId      Int
  project        Project      @relation(fields: [projectId], references: [id])
}
`;

describe("quarry tenancy and quarry doctor", () => {
  test("tenancy prints how each model is scoped, and a misnamed tenant field fails with its line", async () => {
    // Nothing declared and no tenant field named: nothing is scoped, and the warning names the
    // likely tenant field.
    const p = project("tenancy", TENANTS.replace("/// @quarry.global\n", ""));
    const plain = await ok(p, ["tenancy"]);
    assert.match(plain.stdout, /^Project\s+global\s*$/m);
    assert.match(plain.stderr, /Warning W3003: .*organizationId/);
    // A declaration says the schema is multi-tenant: without the right field it is an error.
    p.write(TENANTS);
    const declared = await quarry(p, ["tenancy"]);
    assert.equal(declared.code, 1);
    assert.match(declared.stderr, /Error Q1003: the schema declares tenancy, but no model has the tenant field tenantId \(did you mean organizationId\?/);
    const scoped = await ok(p, ["tenancy", "--field", "organizationId"]);
    assert.match(scoped.stdout, /^Organization\s+tenant\s+id$/m);
    assert.match(scoped.stdout, /^Task\s+scoped\s+organizationId$/m);
    assert.match(scoped.stdout, /^Plan\s+global$/m);
    const wrong = await quarry(p, ["tenancy", "--field", "orgId"]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /Error Q1003: .*did you mean organizationId\?/);
  });

  test("doctor counts rows that refer to another tenant's rows", async () => {
    const p = project("doctor", TENANTS);
    // A database made without the tenant-matching keys, holding one task of organization 2 that
    // belongs to a project of organization 1.
    await pool.query(`CREATE SCHEMA "${p.ns}"`);
    for (const sql of [
      `CREATE TABLE "${p.ns}"."Organization" (id int PRIMARY KEY)`,
      `CREATE TABLE "${p.ns}"."Plan" (id int PRIMARY KEY, name text NOT NULL)`,
      `CREATE TABLE "${p.ns}"."Project" (id int PRIMARY KEY, "organizationId" int NOT NULL REFERENCES "${p.ns}"."Organization"(id))`,
      `CREATE TABLE "${p.ns}"."Task" (id int PRIMARY KEY, "organizationId" int NOT NULL REFERENCES "${p.ns}"."Organization"(id), "projectId" int NOT NULL REFERENCES "${p.ns}"."Project"(id))`,
      `INSERT INTO "${p.ns}"."Organization" VALUES (1), (2)`,
      `INSERT INTO "${p.ns}"."Project" VALUES (10, 1), (20, 2)`,
      `INSERT INTO "${p.ns}"."Task" VALUES (100, 1, 10), (200, 2, 10)`,
    ]) {
      await pool.query(sql);
    }
    const found = await quarry(p, ["doctor", "--field", "organizationId"]);
    assert.equal(found.code, 1, found.stdout + found.stderr);
    assert.match(found.stdout, /^Task\.project -> Project\s+1 row\(s\) refer to another tenant's row$/m);
    await pool.query(`UPDATE "${p.ns}"."Task" SET "projectId" = 20 WHERE id = 200`);
    const clean = await ok(p, ["doctor", "--field", "organizationId"]);
    assert.match(clean.stdout, /^Task\.project -> Project\s+ok$/m);
  });
});
