// The generated clients at run time: typed programs over the store and tenants schemas that
// tests/runners/node/generate.test.mjs type-checks (with the other type tests), bundles and runs
// against PostgreSQL through the package, on both engines. Values are used through their types
// (`balance.toFixed`, `visits + 1n`, `createdAt.getTime()`), so a type that promised something
// the client does not return fails here.

import assert from "node:assert/strict";
import { Decimal, JsonNull } from "quarry";
import * as store from "./generated/store/index.js";
import * as tenants from "./generated/tenants/index.js";

export async function storeProgram(options: store.ClientOptions): Promise<void> {
  const db = store.createClient(options);
  try {
    const alice = await db.account.create({
      data: {
        email: "alice@store.test",
        name: "Alice",
        role: store.Role.ADMIN,
        balance: new Decimal("10.25"),
        visits: 41n,
        avatar: new Uint8Array([1, 2, 3]),
        settings: { theme: "dark", sizes: [1, 2] },
        tags: ["vip"],
        profile: { create: { bio: "Buys chairs" } },
      },
      include: { profile: true },
    });
    assert.equal(alice.balance.toFixed(2), "10.25");
    assert.equal(alice.visits + 1n, 42n);
    assert.ok(alice.createdAt.getTime() > 0);
    assert.deepEqual([...(alice.avatar ?? [])], [1, 2, 3]);
    assert.deepEqual(alice.settings, { theme: "dark", sizes: [1, 2] });
    assert.equal(alice.profile?.bio.toUpperCase(), "BUYS CHAIRS");
    assert.equal(alice.role, "ADMIN");

    const chair = await db.product.create({ data: { sku: "CH-1", name: "Chair", price: "19.90", attributes: { color: "red" } } });
    const order = await db.order.create({
      data: { account: { connect: { email: "alice@store.test" } }, lines: { create: [{ quantity: 2, unitPrice: chair.price, product: { connect: { id: chair.id } } }] } },
      select: { id: true, number: true, lines: { select: { quantity: true, product: { select: { sku: true } } } } },
    });
    assert.match(order.number, /^[0-9a-f-]{36}$/);
    assert.equal(order.lines[0].product.sku, "CH-1");
    await db.account.create({ data: { email: "bob@store.test", settings: JsonNull, manager: { connect: { id: alice.id } } } });

    const reads = await db.account.findMany({
      where: { OR: [{ email: { endsWith: "@store.test" } }], orders: { none: { status: "ARCHIVED" } } },
      orderBy: { email: "asc" },
      select: { email: true, manager: { select: { name: true } }, _count: { select: { orders: true } } },
    });
    assert.deepEqual(
      reads.map((a) => [a.email, a.manager?.name ?? null, a._count.orders]),
      [
        ["alice@store.test", null, 1],
        ["bob@store.test", "Alice", 0],
      ],
    );

    const updated = await db.account.update({
      where: { email: "alice@store.test" },
      data: { visits: { increment: 1 }, balance: { decrement: 0.25 }, tags: { push: "gold" } },
      omit: { avatar: true },
    });
    assert.equal(updated.visits, 42n);
    assert.equal(updated.balance.toString(), "10");
    assert.deepEqual(updated.tags, ["vip", "gold"]);
    assert.equal((updated as Record<string, unknown>).avatar, undefined);

    const agg = await db.product.aggregate({ _count: true, _sum: { stock: true }, _avg: { price: true }, _max: { price: true } });
    assert.equal(agg._count, 1);
    assert.equal(agg._sum.stock, 0);
    assert.equal(agg._avg.price?.toFixed(2), "19.90");
    assert.equal(agg._max.price?.toFixed(1), "19.9");
    const visits = await db.account.aggregate({ _sum: { visits: true } });
    assert.equal(visits._sum.visits, 42n);
    const groups = await db.account.groupBy({ by: ["role"], _count: { _all: true }, orderBy: { role: "asc" } });
    assert.deepEqual(
      groups.map((g) => [g.role, g._count._all]),
      [
        ["ADMIN", 1],
        ["MEMBER", 1],
      ],
    );
    const [count, first] = await db.$transaction([db.account.count(), db.product.findFirstOrThrow({ select: { price: true } })]);
    assert.equal(count + 1, 3);
    assert.equal(first.price.toFixed(2), "19.90");
    const line = await db.orderLine.findUniqueOrThrow({ where: { orderId_productId: { orderId: order.id, productId: chair.id } } });
    assert.equal(line.unitPrice.toFixed(2), "19.90");
  } finally {
    await db.$disconnect();
  }
}

export async function tenantsProgram(options: tenants.ClientOptions): Promise<void> {
  const db = tenants.createClient(options);
  try {
    const acme = db.$forTenant("tnt_a");
    // The tenant is left out of creates: the engine sets it.
    const post = await acme.post.create({ data: { title: "Typed", author: { connect: { id: 1 } } }, include: { author: true } });
    assert.equal(post.tenantId, "tnt_a");
    assert.equal(post.author.email, "alice@example.com");
    const comment = await acme.comment.create({ data: { body: "First", post: { connect: { id: post.id } }, author: { connect: { id: 3 } } } });
    assert.equal(comment.tenantId, "tnt_a");
    // Another tenant's row is not found through the typed client either.
    assert.equal(await acme.user.findUnique({ where: { id: 2 } }), null);
    const withProject = await acme.post.findMany({ where: { id: post.id }, include: { project: true, tags: true } });
    assert.equal(withProject[0]?.project?.name, undefined);
    const countries = await db.country.findMany({ orderBy: { code: "asc" }, select: { code: true } });
    assert.deepEqual(
      countries.map((c) => c.code),
      ["DE", "FR", "JP"],
    );
    const titles = await acme.$transaction(async (tx) => (await tx.post.findMany({ where: { title: "Typed" }, select: { title: true } })).map((p) => p.title));
    assert.deepEqual(titles, ["Typed"]);
    const users = await db.$unscoped().user.count({ where: { email: "alice@example.com" } });
    assert.equal(users, 2);
  } finally {
    await db.$disconnect();
  }
}
