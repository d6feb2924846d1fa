// The README's examples of generated types, kept compiling: the quickstart's (over the benchmark
// schema, tests/fixtures/schemas/bench.prisma) and the `quarry generate` section's (over the
// tenants schema). Compiled by `tsc -p tests/types`, never run.

import { expectType } from "./expect.js";
import * as bench from "./generated/bench/index.js";
import { Prisma, createClient } from "./generated/tenants/index.js";

declare const session: { tenantId: string };
declare const tenantId: string;

export async function quickstart(): Promise<void> {
  const db = bench.createClient({ url: process.env.DATABASE_URL });
  const t = db.$forTenant(session.tenantId);
  const posts = await t.post.findMany({ where: { published: true }, include: { author: true } });
  expectType<string | undefined>(posts[0]?.author.email);
  await db.$disconnect();
}

export async function generateSection(): Promise<void> {
  const db = createClient({ url: process.env.DATABASE_URL });
  const t = db.$forTenant(tenantId);
  const post = await t.post.findFirst({
    where: { status: "PUBLISHED", author: { email: { endsWith: "@acme.test" } } },
    include: { author: { select: { email: true } }, project: true },
  });
  expectType<string | undefined>(post?.author.email);
  expectType<string | undefined>(post?.project?.name);
  // @ts-expect-error only `email` was selected
  post?.author.name;
  await t.post.create({ data: { title: "Hi", author: { connect: { id: 1 } } } });
  // @ts-expect-error Post is tenant-scoped; use db.$forTenant(id) or db.$unscoped()
  await db.post.findMany();
  const where: Prisma.PostWhereInput = { title: { contains: "x", mode: "insensitive" } };
  void where;
}
