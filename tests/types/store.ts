// Type tests of the client `quarry generate` writes for the store schema (tests/corpus/schemas/
// store.prisma: every scalar type, every relation kind, compound keys, no tenancy). Compiled by
// `tsc -p tests/types` (tests/runners/node/generate.test.mjs), never run: each `@ts-expect-error`
// is a mistake the types must catch, each `expectType` / `Assert` a result they must infer.

import { type Assert, type Equal, expectType } from "./expect.js";
import {
  type Account,
  type AccountGetPayload,
  type AccountWhereInput,
  Role,
  Status,
  type OrderLine,
  type QuarryClient,
  Prisma,
  createClient,
} from "./generated/store/index.js";
import { Decimal, JsonNull, type Typed } from "quarry";

declare const db: QuarryClient;

export async function reads(): Promise<void> {
  // Rows carry the client's value types.
  const account = await db.account.findUniqueOrThrow({ where: { id: 1 } });
  expectType<Decimal>(account.balance);
  expectType<bigint>(account.visits);
  expectType<Date>(account.createdAt);
  expectType<Uint8Array | null>(account.avatar);
  expectType<Typed.JsonValue>(account.settings);
  expectType<string[]>(account.tags);
  expectType<Role>(account.role);
  type _row = Assert<Equal<typeof account, Account>>;
  // @ts-expect-error relations are not in a row without include
  account.orders;
  // @ts-expect-error a nullable column may be null
  expectType<string>(account.name);

  // findUnique may find nothing.
  const maybe = await db.account.findUnique({ where: { email: "a@b.c" } });
  // @ts-expect-error possibly null
  maybe.email;
  expectType<string | undefined>(maybe?.email);

  // select: exactly the selected fields, at every depth.
  const picked = await db.account.findMany({ select: { id: true, email: true, orders: { select: { number: true, lines: true } } } });
  expectType<{ id: number; email: string }[]>(picked);
  expectType<string>(picked[0].orders[0].number);
  expectType<number>(picked[0].orders[0].lines[0].quantity);
  // @ts-expect-error an unselected field
  picked[0].name;
  // @ts-expect-error an unselected field of a nested select
  picked[0].orders[0].placedAt;

  // include: the row plus relations, optional ones nullable.
  const withProfile = await db.account.findFirst({ include: { profile: true, manager: { select: { email: true } }, _count: true } });
  expectType<string | undefined>(withProfile?.profile?.bio);
  expectType<string | undefined>(withProfile?.manager?.email);
  expectType<number | undefined>(withProfile?._count.following);
  // @ts-expect-error an optional relation may be null
  withProfile?.profile.bio;
  // @ts-expect-error manager was narrowed to its email
  withProfile?.manager?.name;
  const counts = await db.account.findMany({ select: { _count: { select: { orders: true, reviews: { where: { rating: { gte: 4 } } } } } } });
  expectType<{ orders: number; reviews: number }>(counts[0]._count);
  // @ts-expect-error only to-many relations are counted
  await db.account.findMany({ select: { _count: { select: { profile: true } } } });

  // omit: the row without the omitted scalars.
  const slim = await db.account.findMany({ omit: { avatar: true, settings: true } });
  expectType<string>(slim[0].email);
  // @ts-expect-error omitted
  slim[0].avatar;
  // @ts-expect-error select and omit exclude each other
  await db.account.findMany({ select: { id: true }, omit: { email: true } });
  // @ts-expect-error select and include exclude each other
  await db.account.findMany({ select: { id: true }, include: { orders: true } });

  // Deep includes: a line's product's categories.
  const order = await db.order.findFirstOrThrow({ include: { lines: { include: { product: { include: { categories: true } } } }, account: true } });
  expectType<string>(order.lines[0].product.categories[0].slug);
  expectType<Decimal>(order.lines[0].unitPrice);
  expectType<string>(order.account.email);
  type _payload = Assert<Equal<AccountGetPayload<{ select: { id: true } }>, { id: number }>>;

  // where: operators per type; mistakes in names, types and nesting.
  await db.product.findMany({
    where: {
      price: { gte: new Decimal("9.99"), lt: 100 },
      status: { in: [Status.ACTIVE, "DRAFT"] },
      releasedAt: { not: null },
      name: { contains: "chair", mode: "insensitive" },
      attributes: { path: ["color"], equals: "red" },
      categories: { some: { slug: "office" } },
      reviews: { every: { rating: { gte: 3 } } },
      OR: [{ stock: 0 }, { weight: null }],
      NOT: { sku: { startsWith: "X" } },
    },
    orderBy: [{ price: "desc" }, { releasedAt: { sort: "asc", nulls: "last" } }, { reviews: { _count: "desc" } }],
    take: 10,
    skip: 5,
    cursor: { sku: "A1" },
    distinct: ["status"],
  });
  await db.account.findMany({ where: { tags: { has: "vip" }, visits: { gt: 10n }, createdAt: { gte: "2025-01-01T00:00:00Z" }, profile: { is: null } } });
  await db.review.findMany({ where: { author: { email: { endsWith: "@x.test" } }, product: { isNot: { status: "ARCHIVED" } } } });
  // @ts-expect-error a misspelt field in where
  await db.account.findMany({ where: { emial: "a" } });
  // @ts-expect-error a misspelt field next to a correct one
  await db.account.findMany({ where: { email: "a", nmae: "b" } });
  // @ts-expect-error a value of the wrong type
  await db.account.findMany({ where: { id: "1" } });
  // @ts-expect-error an operator the type does not have
  await db.account.findMany({ where: { active: { gt: true } } });
  // @ts-expect-error not a value of the enum
  await db.account.findMany({ where: { role: "OWNER" } });
  // @ts-expect-error a required field compared with null
  await db.account.findMany({ where: { email: null } });
  // @ts-expect-error a to-many relation takes some / every / none
  await db.account.findMany({ where: { orders: { number: "x" } } });
  // @ts-expect-error a misspelt field in a nested relation filter
  await db.account.findMany({ where: { orders: { some: { numbr: "x" } } } });
  // @ts-expect-error Json fields cannot be ordered
  await db.product.findMany({ orderBy: { attributes: "asc" } });
  // @ts-expect-error not a sort order
  await db.product.findMany({ orderBy: { price: "up" } });
  // @ts-expect-error take is a number
  await db.product.findMany({ take: "10" });
  // @ts-expect-error distinct takes field names
  await db.product.findMany({ distinct: ["colour"] });
  // @ts-expect-error include takes relations, not scalars
  await db.account.findMany({ include: { email: true } });
  // @ts-expect-error a misspelt argument
  await db.account.findMany({ wher: { id: 1 } });

  // Unique where: one whole key at least (Prisma's AtLeast).
  await db.orderLine.findUnique({ where: { orderId_productId: { orderId: 1, productId: 2 } } });
  await db.review.findUnique({ where: { oneReviewPerAuthor: { productId: 1, authorId: 2 }, rating: { gte: 1 } } });
  await db.order.findUnique({ where: { number: "f0e0", status: "ACTIVE" } });
  // @ts-expect-error bio is not a unique key
  await db.profile.findUnique({ where: { bio: "x" } });
  // @ts-expect-error half of a compound key
  await db.orderLine.findUnique({ where: { orderId_productId: { orderId: 1 } } });
  // @ts-expect-error findUnique needs a where
  await db.account.findUnique({});
  const line: OrderLine | null = await db.orderLine.findUnique({ where: { orderId_productId: { orderId: 1, productId: 2 } } });
  void line;

  const filter: AccountWhereInput = { OR: [{ email: { contains: "@" } }, { name: null }] };
  expectType<number>(await db.account.count({ where: filter }));
}

export async function writes(): Promise<void> {
  // create: required fields, defaults optional, values of the client's types.
  const created = await db.account.create({
    data: { email: "a@b.c", balance: new Decimal("1.50"), visits: 3n, avatar: new Uint8Array([1]), settings: { theme: "dark" }, tags: ["a"] },
  });
  expectType<number>(created.id);
  await db.account.create({ data: { email: "b@b.c", settings: JsonNull, tags: { set: ["x"] }, role: Role.ADMIN } });
  await db.product.create({ data: { sku: "S", name: "Chair", price: "19.99", attributes: JsonNull, releasedAt: new Date() } });
  // @ts-expect-error a required field is missing
  await db.account.create({ data: { name: "no email" } });
  // @ts-expect-error a value of the wrong type
  await db.account.create({ data: { email: "c@b.c", active: "yes" } });
  // @ts-expect-error not a value of the enum
  await db.account.create({ data: { email: "c@b.c", role: "OWNER" } });
  // @ts-expect-error a misspelt field
  await db.account.create({ data: { email: "c@b.c", nmae: "C" } });
  // @ts-expect-error a BigInt column takes a bigint or a number, not a string
  await db.account.create({ data: { email: "c@b.c", visits: "3" } });
  // @ts-expect-error Bytes are a Uint8Array
  await db.account.create({ data: { email: "c@b.c", avatar: "AQ==" } });

  // Nested writes on every relation kind.
  await db.account.create({
    data: {
      email: "d@b.c",
      profile: { create: { bio: "hi" } },
      orders: { create: [{ note: "first", lines: { create: { quantity: 1, unitPrice: 5, product: { connect: { sku: "S" } } } } }] },
      following: { connect: [{ id: 1 }, { email: "a@b.c" }] },
      manager: { connectOrCreate: { where: { email: "boss@b.c" }, create: { email: "boss@b.c" } } },
      reviews: { createMany: { data: [{ rating: 5, title: "Great", productId: 1 }], skipDuplicates: true } },
    },
    include: { profile: true, orders: { include: { lines: true } } },
  });
  // Foreign keys as values (the unchecked form).
  await db.order.create({ data: { accountId: 1, note: "direct" } });
  await db.review.create({ data: { rating: 4, title: "Ok", product: { connect: { id: 1 } }, author: { connect: { id: 1 } } } });
  // @ts-expect-error a relation and its foreign key together (Prisma's XOR)
  await db.order.create({ data: { accountId: 1, account: { connect: { id: 1 } } } });
  // @ts-expect-error the required relation is missing
  await db.order.create({ data: { note: "orphan" } });
  // @ts-expect-error a nested create names the parent, which the parent sets
  await db.account.create({ data: { email: "e@b.c", orders: { create: { account: { connect: { id: 2 } } } } } });
  // @ts-expect-error connect takes a unique where
  await db.account.create({ data: { email: "e@b.c", following: { connect: { name: "x" } } } });
  // @ts-expect-error a nested write that does not exist
  await db.account.create({ data: { email: "e@b.c", orders: { link: { id: 1 } } } });
  // @ts-expect-error createMany takes no nested writes
  await db.account.createMany({ data: [{ email: "f@b.c", orders: { create: {} } }] });
  // @ts-expect-error createMany is not offered on an implicit many-to-many relation
  await db.account.create({ data: { email: "f@b.c", following: { createMany: { data: [] } } } });

  // update: operations per type, nested writes of an update.
  const updated = await db.account.update({
    where: { email: "a@b.c" },
    data: {
      visits: { increment: 1 },
      score: { multiply: 2 },
      name: null,
      tags: { push: "new" },
      balance: { decrement: new Decimal(1) },
      profile: { upsert: { create: { bio: "new" }, update: { bio: { set: "changed" } } } },
      orders: { updateMany: { where: { status: "DRAFT" }, data: { status: "ACTIVE" } }, deleteMany: { note: null } },
      following: { set: [{ id: 2 }], disconnect: { id: 3 } },
      manager: { disconnect: true },
    },
    select: { id: true, visits: true },
  });
  expectType<bigint>(updated.visits);
  await db.order.update({ where: { id: 1 }, data: { accountId: 2 } });
  await db.order.update({ where: { id: 1 }, data: { account: { connect: { id: 2 } } } });
  // @ts-expect-error a required relation cannot be disconnected
  await db.order.update({ where: { id: 1 }, data: { account: { disconnect: true } } });
  // @ts-expect-error a required field cannot be set to null
  await db.account.update({ where: { id: 1 }, data: { email: null } });
  // @ts-expect-error increment applies to numbers
  await db.account.update({ where: { id: 1 }, data: { email: { increment: 1 } } });
  // @ts-expect-error update needs a unique where
  await db.account.update({ where: { name: "x" }, data: { name: "y" } });
  // @ts-expect-error a profile's required link to its account cannot be disconnected from the account
  await db.account.update({ where: { id: 1 }, data: { profile: { disconnect: true } } });

  const many = await db.account.updateMany({ where: { role: "GUEST" }, data: { active: false }, limit: 10 });
  expectType<{ count: number }>(many);
  const returned = await db.account.updateManyAndReturn({ where: { role: "GUEST" }, data: { active: false }, select: { email: true } });
  expectType<{ email: string }[]>(returned);
  const upserted = await db.product.upsert({ where: { sku: "S" }, create: { sku: "S", name: "S", price: 1 }, update: { stock: { increment: 1 } } });
  expectType<number>(upserted.stock);
  const rows = await db.product.createManyAndReturn({ data: [{ sku: "T", name: "T", price: 2 }], select: { id: true, sku: true } });
  expectType<{ id: number; sku: string }[]>(rows);
  expectType<{ count: number }>(await db.order.deleteMany({ where: { status: "ARCHIVED" } }));
  const deleted = await db.orderLine.delete({ where: { orderId_productId: { orderId: 1, productId: 1 } }, include: { product: true } });
  expectType<string>(deleted.product.sku);
  // @ts-expect-error deleteMany has no select
  await db.order.deleteMany({ where: {}, select: { id: true } });
}

export async function aggregates(): Promise<void> {
  const agg = await db.product.aggregate({ _count: true, _avg: { price: true, stock: true }, _sum: { stock: true }, _min: { releasedAt: true }, _max: { name: true }, where: { status: "ACTIVE" } });
  expectType<number>(agg._count);
  expectType<Decimal | null>(agg._avg.price);
  expectType<number | null>(agg._avg.stock);
  expectType<number | null>(agg._sum.stock);
  expectType<Date | null>(agg._min.releasedAt);
  expectType<string | null>(agg._max.name);
  // @ts-expect-error not aggregated
  agg._sum.price;
  const counted = await db.product.aggregate({ _count: { _all: true, weight: true } });
  expectType<{ _all: number; weight: number }>(counted._count);
  // @ts-expect-error _sum applies to number fields
  await db.product.aggregate({ _sum: { name: true } });
  const visits = await db.account.aggregate({ _sum: { visits: true } });
  expectType<bigint | null>(visits._sum.visits);

  const groups = await db.product.groupBy({
    by: ["status"],
    _count: { _all: true },
    _avg: { price: true },
    having: { price: { _avg: { gt: 10 } } },
    orderBy: { _count: { id: "desc" } },
    where: { stock: { gt: 0 } },
  });
  expectType<Status>(groups[0].status);
  expectType<number>(groups[0]._count._all);
  expectType<Decimal | null>(groups[0]._avg.price);
  // @ts-expect-error not grouped by
  groups[0].name;
  const byTwo = await db.order.groupBy({ by: ["status", "accountId"], _max: { placedAt: true } });
  expectType<number>(byTwo[0].accountId);
  expectType<Date | null>(byTwo[0]._max.placedAt);
  // @ts-expect-error by takes scalar fields
  await db.order.groupBy({ by: ["lines"] });
  // @ts-expect-error groupBy needs by
  await db.order.groupBy({ _count: true });

  expectType<number>(await db.review.count());
  const fields = await db.review.count({ select: { _all: true, body: true } });
  expectType<{ _all: number; body: number }>(fields);
}

/** Code written against Prisma Client's `Prisma` namespace keeps compiling. */
export function prismaNames(order: Prisma.OrderGetPayload<{ include: { lines: { include: { product: true } } } }>): void {
  const where: Prisma.ProductWhereInput = { price: { gt: new Prisma.Decimal(1) }, attributes: { equals: Prisma.JsonNull } };
  expectType<Decimal>(order.lines[0].product.price);
  const args: Prisma.AccountFindManyArgs = { where: { role: Role.GUEST }, take: 1 };
  // @ts-expect-error Prisma.AccountWhereInput has no field "customer"
  const wrong: Prisma.AccountWhereInput = { customer: 1 };
  void [where, args, wrong];
}

export async function client(): Promise<void> {
  const typed = createClient({ url: "postgres://localhost/db", log: ["query"] });
  // Batches resolve to a tuple of each request's result.
  const [n, first, created] = await typed.$transaction([
    typed.account.count(),
    typed.product.findFirst({ select: { sku: true } }),
    typed.order.create({ data: { accountId: 1 } }),
  ]);
  expectType<number>(n);
  expectType<{ sku: string } | null>(first);
  expectType<string>(created.number);
  // Interactive transactions: the callback's client has the delegates, not $transaction.
  const total = await typed.$transaction(
    async (tx) => {
      const a = await tx.account.create({ data: { email: "t@b.c" } });
      await tx.order.create({ data: { accountId: a.id } });
      // @ts-expect-error no nested transaction
      await tx.$transaction([]);
      return a.id;
    },
    { isolationLevel: "Serializable", timeout: 10_000 },
  );
  expectType<number>(total);
  const rows = await typed.$queryRaw<{ id: number }>`SELECT id FROM accounts WHERE email = ${"a@b.c"}`;
  expectType<number>(rows[0].id);
  expectType<number>(await typed.$executeRaw`UPDATE accounts SET active = ${false}`);
  const sql = typed.$compile(typed.account.findMany({ where: { id: 1 } })).statements[0].sql;
  expectType<string>(sql);
  // @ts-expect-error not a model
  typed.customer;
  // @ts-expect-error createClient needs options
  createClient();
}
