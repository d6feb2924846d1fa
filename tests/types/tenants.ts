// Type tests of the client `quarry generate` writes for the multi-tenant schema (tests/corpus/
// schemas/tenants.prisma): tenant-scoped models are reachable only through a tenant view or
// `$unscoped()`, creates under a tenant need not name it, and transactions and batches keep the
// view's delegates. Compiled by `tsc -p tests/types`, never run.

import { type Assert, type Equal, expectType } from "./expect.js";
import { type Post, type QuarryClient, type TenantClient, type TransactionClient, Role, Status } from "./generated/tenants/index.js";

declare const db: QuarryClient;

export async function views(): Promise<void> {
  // Global models work without a tenant.
  expectType<{ code: string; name: string }[]>(await db.country.findMany());
  await db.skill.create({ data: { name: "sql" } });
  // @ts-expect-error a tenant-scoped model needs $forTenant or $unscoped (it fails closed)
  await db.post.findMany();
  // @ts-expect-error the tenant model too
  await db.tenant.findMany();
  // @ts-expect-error shared-row models too
  await db.tag.count();

  const t: TenantClient = db.$forTenant("tnt_a");
  // @ts-expect-error the tenant field is a String: a number is never a tenant id here
  db.$forTenant(1);
  const admin = db.$unscoped();
  type _same = Assert<Equal<typeof admin, TenantClient>>;

  // Reads: optional relations chain with ?. (`post?.project?.name`).
  const post = await t.post.findFirst({ include: { project: true, author: { include: { manager: true } } } });
  expectType<string | undefined>(post?.project?.name);
  expectType<string | undefined>(post?.author.manager?.email);
  expectType<Status | undefined>(post?.status);
  // @ts-expect-error project may be null
  post?.project.name;
  const own = await t.tenant.findFirstOrThrow({ select: { slug: true, _count: { select: { posts: true } } } });
  expectType<{ slug: string; _count: { posts: number } }>(own);
  expectType<(string | null)[]>((await t.tag.findMany()).map((tag) => tag.tenantId));

  // Compound keys.
  await t.user.findUnique({ where: { tenantId_email: { tenantId: "tnt_a", email: "alice@example.com" } } });
  await t.membership.delete({ where: { userId_projectId: { userId: 1, projectId: "prj_a1" } } });
  // @ts-expect-error email alone is not unique (tenantId_email is)
  await t.user.findUnique({ where: { email: "alice@example.com" } });
  // @ts-expect-error half of the compound id
  await t.membership.findUnique({ where: { userId: 1 } });

  // Creates under a tenant leave the tenant out: the engine sets it.
  const created = await t.post.create({ data: { title: "New", author: { connect: { id: 1 } } } });
  expectType<Post>(created);
  await t.comment.create({ data: { body: "hi", post: { connect: { id: 1 } }, author: { connect: { id: 1 } } } });
  await t.user.create({ data: { email: "new@acme.test", name: "New", role: Role.ADMIN, posts: { create: [{ title: "one" }] } } });
  // Unscoped (admin) creates name it; the types cannot require it only there.
  await admin.user.create({ data: { tenantId: "tnt_a", email: "x@acme.test", name: "X" } });
  await admin.post.create({ data: { tenant: { connect: { id: "tnt_a" } }, title: "T", author: { connect: { id: 1 } } } });
  // @ts-expect-error the author is required
  await t.post.create({ data: { title: "No author" } });
  // @ts-expect-error email is required
  await t.user.create({ data: { name: "No email" } });
  // @ts-expect-error not a value of the enum
  await t.post.create({ data: { title: "x", status: "LIVE", author: { connect: { id: 1 } } } });
  // @ts-expect-error the tenant id is a string in this schema
  await t.comment.create({ data: { body: "x", tenantId: 5, post: { connect: { id: 1 } }, author: { connect: { id: 1 } } } });
  // @ts-expect-error a misspelt field in a nested include's where
  await t.user.findMany({ include: { posts: { where: { titel: "x" } } } });
  // @ts-expect-error a post's author is required: no disconnect
  await t.post.update({ where: { id: 1 }, data: { author: { disconnect: true } } });
  // Optional relations can be unlinked.
  await t.post.update({ where: { id: 1 }, data: { project: { disconnect: true }, tags: { connect: { id: 1 } } } });
}

export async function transactions(): Promise<void> {
  const t = db.$forTenant("tnt_a");
  const [count, users, raw] = await t.$transaction([t.post.count(), t.user.findMany({ select: { email: true } }), t.$executeRaw`UPDATE "Post" SET views = views + 1`]);
  expectType<number>(count);
  expectType<{ email: string }[]>(users);
  expectType<number>(raw);
  // @ts-expect-error a batch takes requests
  await t.$transaction([t.post.count(), 42]);

  const titles = await t.$transaction(async (tx: TransactionClient) => {
    await tx.post.updateMany({ where: { status: "DRAFT" }, data: { views: { increment: 1 } } });
    return (await tx.post.findMany({ select: { title: true } })).map((p) => p.title);
  });
  expectType<string[]>(titles);
  // A transaction of the client itself reaches scoped models through a tenant view of it.
  const n = await db.$transaction(async (tx) => {
    // @ts-expect-error no tenant context in this transaction
    await tx.post.count();
    return tx.$forTenant("tnt_a").post.count();
  });
  expectType<number>(n);

  const rows = await t.$queryRaw<{ title: string }>`SELECT title FROM "Post" WHERE views > ${10}`;
  expectType<string>(rows[0].title);
  const grouped = await t.post.groupBy({ by: "status", _sum: { views: true }, having: { views: { _sum: { gt: 100 } } } });
  expectType<Status>(grouped[0].status);
  expectType<number | null>(grouped[0]._sum.views);
}

export async function extensions(): Promise<void> {
  // `$extends`: model methods on the delegates, client members, kept by tenant views and chained.
  const x = db.$extends({
    model: { post: { async titles(): Promise<string[]> { return []; } } },
    client: { $hello: (): string => "hi" },
    query: {
      post: {
        async findMany({ args, query }) {
          args.where = { ...args.where, title: { not: "hidden" } };
          return query(args);
        },
      },
    },
  });
  expectType<string>(x.$hello());
  const t = x.$forTenant("tnt_a");
  expectType<string[]>(await t.post.titles());
  expectType<{ title: string }[]>(await t.post.findMany({ select: { title: true } }));
  const y = x.$extends({ client: { $bye: (): number => 1 } });
  expectType<number>(y.$bye());
  expectType<string>(y.$hello());
  expectType<string[]>(await y.$unscoped().post.titles());
  // @ts-expect-error no extension has this method
  t.post.nope();
  // Interactive transactions of an extended view get the extended client; batches keep their types.
  expectType<string[]>(await t.$transaction(async (tx) => tx.post.titles()));
  const [n, titles] = await t.$transaction([t.post.count(), t.post.findMany({ select: { title: true } })]);
  expectType<number>(n);
  expectType<{ title: string }[]>(titles);
  // @ts-expect-error the client without a tenant still has no tenant-scoped delegates
  x.post.titles();
}
