// What every runtime smoke app does for one request, given the `quarry` it imported: tenant-scoped
// reads (a list with an include, a count) and a nested write (a user with two posts) through
// Neon's WebSocket Pool, and the same reads through Neon's HTTP query function, where the nested
// write must be refused (it needs a transaction held open). The answer is JSON for the test to check.

import { SCHEMA } from "./schema.mjs";

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
    await http.$forTenant(tenant).user.create({ data: { email: `http-${params.run}@x`, posts: { create: [{ title: "refused" }] } } });
    out.http.nestedWrite = "ran";
  } catch (e) {
    out.http.nestedWrite = { name: e.name, code: e.code, message: e.message };
  }
  return out;
}
