// What every runtime smoke app does for one request, given the `quarry` it imported: tenant-scoped
// reads (a list with an include, a count) and a nested write (a user with two posts) through
// Neon's WebSocket Pool, and the same reads through Neon's HTTP query function, where a nested
// write that takes several statements must be refused (it needs a transaction held open).
// `smokePlanetScale` does the reads, the nested write and an interactive transaction on MySQL
// through PlanetScale's HTTP driver, whose session holds a transaction open across requests. The answer is JSON for the test to check.

import { MYSQL_SCHEMA, SCHEMA } from "./schema.mjs";

async function reads(db, tenant) {
  const t = db.$forTenant(tenant);
  const posts = await t.post.findMany({ where: { published: true }, include: { author: true }, orderBy: { id: "asc" } });
  const users = await t.user.count();
  return { posts, users };
}

/**
 * `quarry`: the package's exports; `neon`: @neondatabase/serverless's; `params`: the request's
 * `tenant`, `namespace`, `run` (a unique tag); `connectionString`.
 */
export async function smoke({ quarry, adapters, neon, connectionString, params, runtime }) {
  const { createClient } = quarry;
  const tenant = Number(params.tenant);
  const out = { runtime, tenant };
  const pool = new neon.Pool({ connectionString });
  try {
    const db = createClient({ schema: SCHEMA, adapter: adapters.neonAdapter(pool), namespace: params.namespace });
    out.ws = await reads(db, tenant);
    out.ws.created = await db.$forTenant(tenant).user.create({
      data: { email: `new-${params.run}@x`, name: runtime, posts: { create: [{ title: `${params.run}-a` }, { title: `${params.run}-b`, published: true }] } },
      include: { posts: { orderBy: { id: "asc" } } },
    });
    out.ws.interactive = await db.$forTenant(tenant).$transaction(async (tx) => tx.post.count({ where: { title: { startsWith: params.run } } }));
    await db.$disconnect();
  } finally {
    await pool.end();
  }
  const http = createClient({ schema: SCHEMA, adapter: adapters.neonHttpAdapter(neon.neon(connectionString)), namespace: params.namespace });
  out.http = await reads(http, tenant);
  try {
    // Its include reaches a relation of the created rows, so the create is not one statement: the
    // posts' INSERT needs the id the user's INSERT returns, which HTTP cannot wait for in a transaction.
    await http.$forTenant(tenant).user.create({
      data: { email: `http-${params.run}@x`, posts: { create: [{ title: "refused" }] } },
      include: { posts: { include: { author: true } } },
    });
    out.http.nestedWrite = "ran";
  } catch (e) {
    out.http.nestedWrite = { name: e.name, code: e.code, message: e.message };
  }
  return out;
}

/**
 * The PlanetScale path: `adapters` is `quarry/adapters/planetscale`'s exports, `Client`
 * @planetscale/database's, `url` the driver's `url`; `params` as for `smoke` (`namespace` is the
 * MySQL database).
 */
export async function smokePlanetScale({ quarry, adapters, Client, url, params, runtime }) {
  const tenant = Number(params.tenant);
  const db = quarry.createClient({ schema: MYSQL_SCHEMA, adapter: adapters.planetscaleAdapter(new Client({ url })), namespace: params.namespace });
  const t = db.$forTenant(tenant);
  const out = { runtime, tenant, ...(await reads(db, tenant)) };
  // The other tenant's published post "one" (id 4 belongs to tenant 2, id 1 to tenant 1).
  out.foreign = await t.post.findUnique({ where: { id: tenant === 1 ? 4 : 1 } });
  out.created = await t.user.create({
    data: { email: `new-${params.run}@x`, name: runtime, posts: { create: [{ title: `${params.run}-a` }, { title: `${params.run}-b`, published: true }] } },
    include: { posts: { orderBy: { id: "asc" } } },
  });
  out.interactive = await t.$transaction(async (tx) => tx.post.count({ where: { title: { startsWith: params.run } } }));
  out.after = await reads(db, tenant);
  await db.$disconnect();
  return out;
}
