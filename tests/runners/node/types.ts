// Type-level checks of the package's declarations (compiled with `tsc --noEmit`, never run): what
// the TypeScript surface accepts, refuses (`@ts-expect-error`) and infers without generated types.

import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import {
  Decimal,
  JsonNull,
  type QueryEvent,
  QuarryKnownRequestError,
  type QuarryClient,
  type SqlDriverAdapter,
  type TransactionClient,
  createClient,
  defineExtension,
  join,
  sql,
} from "quarry";
import { pgAdapter } from "quarry/adapters/pg";
import { pgliteAdapter } from "quarry/adapters/pglite";

interface User {
  id: number;
  email: string;
  balance: Decimal;
}
interface Post {
  id: number;
  title: string;
}
type Models = { user: User; post: Post };

declare const pool: pg.Pool;
const adapter: SqlDriverAdapter = pgAdapter(pool);
const db: QuarryClient<Models> = createClient<Models>({
  schema: "model User { id Int @id }",
  adapter,
  tenancy: { field: "orgId" },
  log: ["query", { level: "warn", emit: "event" }],
});

export async function typed(): Promise<void> {
  const users: User[] = await db.user.findMany({ where: { email: { contains: "a" } }, orderBy: { id: "asc" }, take: 10 });
  const one: User | null = await db.user.findUnique({ where: { id: 1 } });
  const sure: User = await db.user.findUniqueOrThrow({ where: { id: 1 } });
  // @ts-expect-error findUnique needs its where
  await db.user.findUnique();
  // @ts-expect-error take is a number
  await db.user.findMany({ take: "ten" });
  const ids: { id: number }[] = await db.user.findMany<{ id: number }>({ select: { id: true } });
  const count: number = await db.user.count();
  const { count: changed }: { count: number } = await db.user.updateMany({ where: {}, data: { email: "x" } });
  const created: User = await db.user.create({ data: { email: "x", balance: new Decimal("1.5"), settings: JsonNull } });
  const [n, posts] = await db.$transaction([db.user.count(), db.post.findMany()]);
  const n2: number = n;
  const posts2: Post[] = posts;
  const result: string = await db.$transaction(
    async (tx: TransactionClient<Models>) => {
      await tx.user.create({ data: { email: "y" } });
      // @ts-expect-error no nested $transaction on a transaction client
      await tx.$transaction([]);
      return "done";
    },
    { isolationLevel: "Serializable", maxWait: 1000, timeout: 5000 },
  );
  // @ts-expect-error not an isolation level
  await db.$transaction(async () => 1, { isolationLevel: "Chaos" });
  const rows: { id: number }[] = await db.$forTenant(1).$queryRaw<{ id: number }>`SELECT id FROM "User" WHERE id IN (${join([1, 2])})`;
  const affected: number = await db.$unscoped().$executeRaw`UPDATE "User" SET email = ${"x"} ${sql`WHERE id = ${1}`}`;
  const unsafe: number = await db.$executeRawUnsafe('DELETE FROM "User" WHERE id = $1', 1);
  const compiled: string = db.$compile(db.user.findMany()).statements[0].sql;
  const batch: number = db.$compile([db.user.count(), db.post.count()]).length;
  db.$on("query", (e: QueryEvent) => e.duration + e.paramCount + e.query.length);
  db.$on("warn", (e) => e.message.length);
  const statements: string[] = db.$ddl();
  await db.$disconnect();
  try {
    await db.user.create({ data: { email: "dup" } });
  } catch (e) {
    if (e instanceof QuarryKnownRequestError && e.code === "P2002") console.log(e.meta.target);
  }
  void [users, one, sure, ids, count, changed, created, n2, posts2, result, rows, affected, unsafe, compiled, batch, statements];
}

export async function untyped(): Promise<void> {
  // Without row types every model name is a delegate returning plain records.
  const loose = createClient({ schema: "", adapter: pgliteAdapter(await PGlite.create()) });
  const rows: Record<string, unknown>[] = await loose.anything.findMany();
  const tenantView = loose.$forTenant("acme");
  await tenantView.post.deleteMany({ where: { id: 1 } });
  void rows;
}

// Client extensions: model methods, client members and computed fields on untyped rows.
{
  const x = db.$extends({
    model: { user: { async byEmail(email: string): Promise<User | null> { return email ? null : null; } } },
    client: { $tag: "x" as const },
    result: { user: { label: { needs: { email: true }, compute: (u: { email: string }) => u.email.toUpperCase() } } },
  });
  const found: Promise<User | null> = x.$forTenant(1).user.byEmail("a@b.c");
  void found;
  const tag: "x" = x.$tag;
  void tag;
  const inTx: Promise<User | null> = x.$forTenant(1).$transaction(async (tx) => tx.user.byEmail("a@b.c"));
  void inTx;
  const chained = x.$extends(getExtension());
  void chained.user.byEmail;
  // @ts-expect-error not a method of the extension
  void x.user.nope;
}
function getExtension() {
  return defineExtension({ query: { $allModels: { async $allOperations({ args, query }) { return query(args); } } } });
}
