// Quarry in five minutes, with no database server: PostgreSQL runs in this process (PGlite, compiled
// to WebAssembly) and so does Quarry's engine. Creates the tables with the engine's DDL, seeds two
// tenants with nested writes, reads as one tenant and shows the SQL each request ran, then asks
// for the other tenant's row.
//
// Run it with `scripts/quickstart` (which builds the package first).

import { readFileSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { createClient } from "quarry";
import { pgliteAdapter } from "quarry/adapters/pglite";

const color = process.stdout.isTTY && !process.env.NO_COLOR;
const bold = (s) => (color ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s) => (color ? `\x1b[2m${s}\x1b[0m` : s);
const heading = (s) => console.log(`\n${bold(`== ${s}`)}`);
/** Rows one per line, a single object indented. */
const show = (value) =>
  console.log(Array.isArray(value) ? value.map((row) => `  ${JSON.stringify(row)}`).join("\n") : JSON.stringify(value, null, 2).replace(/^/gm, "  "));

// The benchmark schema: Tenant, and User, Post, Comment scoped by their tenantId field.
const schema = readFileSync(new URL("../../tests/fixtures/schemas/bench.prisma", import.meta.url), "utf8");

console.log(bold("Quarry quickstart: a multi-tenant blog, with no database server"));
console.log("\nStarting PGlite (PostgreSQL compiled to WebAssembly, running inside this process).");
console.log("It needs a few seconds to initialise a fresh database...");
const started = performance.now();
const pglite = await PGlite.create();
console.log(`PGlite is ready (${((performance.now() - started) / 1000).toFixed(1)} s).`);

// Every statement the engine sends is reported here: the SQL and how many parameters it bound
// (never their values). The quickstart prints them for the requests it wants to show.
const db = createClient({ schema, adapter: pgliteAdapter(pglite), log: [{ level: "query", emit: "event" }] });
let shown = null;
db.$on("query", (e) => shown?.push(e));
async function withSql(run) {
  shown = [];
  try {
    return await run();
  } finally {
    for (const e of shown) console.log(dim(`  SQL  ${e.query}   (${e.paramCount} params, ${e.duration.toFixed(1)} ms)`));
    shown = null;
  }
}

heading("1. Create the tables with the engine's DDL");
const ddl = db.$ddl();
await pglite.exec(ddl.join(";\n"));
console.log(`  ${ddl.length} statements: tables, keys, indexes and foreign keys for Tenant, User, Post, Comment`);

heading("2. Seed two tenants: the tenants unscoped, everything else as its tenant");
const admin = db.$unscoped();
const tenants = {};
for (const name of ["acme", "globex"]) {
  const tenant = await admin.tenant.create({ data: { name } });
  tenants[name] = db.$forTenant(tenant.id);
  for (const [who, titles] of [["alice", ["Hello", "Draft"]], ["bob", ["Building", "Notes"]]]) {
    // One nested write: the user and two posts. The tenant id comes from the view, not the data.
    await tenants[name].user.create({
      data: {
        email: `${who}@${name}.test`,
        name: who,
        posts: { create: [{ title: `${titles[0]} (${name})`, published: true, views: 10 }, { title: `${titles[1]} (${name})` }] },
      },
    });
  }
  console.log(`  tenant ${name} (id ${tenant.id}): 2 users with 2 posts each`);
}
const { acme, globex } = tenants;

heading("3. Read as acme: published posts with their author and comment count");
const published = () =>
  acme.post.findMany({
    where: { published: true },
    orderBy: { id: "asc" },
    select: { id: true, title: true, author: { select: { email: true } }, _count: { select: { comments: true } } },
  });
const posts = await withSql(published);
// $compile shows what a request would run without running it, parameters included.
console.log(dim(`  params ${JSON.stringify(db.$compile(published()).statements[0].params)}   ($1 = published, $2 = acme's tenant id)`));
show(posts);
console.log(dim("  One statement: the nested rows are built in the database, and every table reference carries the tenant."));

heading("4. A nested write as acme: a comment on acme's first post, returned with its post");
const comment = await withSql(() =>
  acme.comment.create({
    data: { body: "Nice!", post: { connect: { id: posts[0].id } }, author: { connect: { id: 2 } } },
    include: { post: { select: { title: true } } },
  }),
);
show(comment);

const globexPost = await globex.post.findFirstOrThrow({ orderBy: { id: "asc" } });
heading(`5. Acme asks for globex's post ${globexPost.id}, and tries to comment on it`);
const other = await withSql(() => acme.post.findUnique({ where: { id: globexPost.id } }));
console.log(`  findUnique        -> ${JSON.stringify(other)}   (the post is globex's: for acme it does not exist)`);
for (const [label, request] of [
  ["findUniqueOrThrow", () => acme.post.findUniqueOrThrow({ where: { id: globexPost.id } })],
  ["connect", () => acme.comment.create({ data: { body: "sneaky", post: { connect: { id: globexPost.id } }, author: { connect: { id: 2 } } } })],
  ["update", () => acme.post.update({ where: { id: globexPost.id }, data: { title: "mine now" } })],
  ["without a tenant", () => db.post.findMany()],
]) {
  try {
    await request();
    console.log(`  ${label.padEnd(17)} -> unexpectedly succeeded`);
    process.exitCode = 1;
  } catch (e) {
    console.log(`  ${label.padEnd(17)} -> ${e.code} ${e.message}`);
  }
}
const untouched = await globex.post.findUnique({ where: { id: globexPost.id }, select: { title: true, _count: { select: { comments: true } } } });
console.log(`  globex still sees -> ${JSON.stringify(untouched)}`);

await pglite.close();
console.log("\nDone. The database lived in memory; nothing was written to disk.");
