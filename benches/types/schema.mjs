// A 100-model Prisma schema for measuring the type checker on generated clients, and the calls a
// program makes on it. Deterministic: a tenant model and 99 tenant-scoped models in chains, each
// with the usual scalar types (an enum, optional fields, Decimal, DateTime, Json, BigInt, a list),
// a required and an optional foreign key to earlier models, a compound unique key, and an implicit
// many-to-many relation on every tenth model. Valid for Prisma 7 (no `url` in the datasource).

export const MODELS = 100;

const name = (i) => `Model${String(i).padStart(3, "0")}`;
const lower = (s) => s.charAt(0).toLowerCase() + s.slice(1);

/** The schema text; `generators` are the generator blocks to put at the top. */
export function hundredModels(generators = "") {
  const out = [generators, 'datasource db {\n  provider = "postgresql"\n}', "enum Status {\n  DRAFT\n  ACTIVE\n  ARCHIVED\n}"];
  const back = new Map(); // model index -> back-relation lines
  const add = (i, line) => back.set(i, [...(back.get(i) ?? []), line]);
  const tenantLines = [];
  for (let i = 1; i < MODELS; i++) {
    const m = name(i);
    const lines = [
      "  id          Int       @id @default(autoincrement())",
      "  tenantId    String",
      `  tenant      Tenant    @relation(fields: [tenantId], references: [id])`,
      "  name        String",
      "  description String?",
      "  status      Status    @default(DRAFT)",
      "  amount      Decimal?",
      "  quantity    Int       @default(0)",
      "  big         BigInt?",
      "  data        Json?",
      "  labels      String[]",
      "  createdAt   DateTime  @default(now())",
      "  updatedAt   DateTime  @updatedAt",
    ];
    tenantLines.push(`  ${lower(m)}s ${m}[]`);
    if (i > 1) {
      const parent = name(i - 1);
      lines.push(`  parentId    Int`, `  parent      ${parent} @relation("${m}Parent", fields: [parentId], references: [id])`);
      add(i - 1, `  children${i} ${m}[] @relation("${m}Parent")`);
    }
    if (i > 3) {
      const j = 1 + ((i * 7) % (i - 1));
      const other = name(j);
      lines.push(`  ownerId     Int?`, `  owner       ${other}? @relation("${m}Owner", fields: [ownerId], references: [id])`);
      add(j, `  owned${i} ${m}[] @relation("${m}Owner")`);
    }
    if (i % 10 === 0) {
      const k = i - 5;
      lines.push(`  peers       ${name(k)}[] @relation("${m}Peers")`);
      add(k, `  peers${i} ${m}[] @relation("${m}Peers")`);
    }
    lines.push("", "  @@unique([tenantId, name])", "  @@index([tenantId])");
    out.push({ i, text: `model ${m} {\n${lines.join("\n")}\n` });
  }
  const text = out.map((b) => (typeof b === "string" ? b : `${b.text}${(back.get(b.i) ?? []).join("\n")}${back.has(b.i) ? "\n" : ""}}`));
  text.push(`model Tenant {\n  id   String @id\n  name String\n${tenantLines.join("\n")}\n}`);
  return `${text.filter(Boolean).join("\n\n")}\n`;
}

/**
 * The calls a program makes, over `db` (a client whose every model is reachable): reads with
 * filters, nested include and select, writes with nested writes, aggregates, a transaction. The
 * same text type-checks against Quarry's and Prisma's generated clients.
 */
export function usage() {
  const calls = [];
  for (let i = 5; i < MODELS; i += 5) {
    const m = lower(name(i));
    calls.push(`
  {
    const rows = await db.${m}.findMany({
      where: { status: "ACTIVE", name: { contains: "a", mode: "insensitive" }, parent: { quantity: { gt: 1 } } },
      include: { parent: { select: { id: true, name: true } }, tenant: true },
      orderBy: [{ createdAt: "desc" }, { id: "asc" }],
      take: 20,
    });
    const first: string | undefined = rows[0]?.parent.name;
    const one = await db.${m}.findUnique({ where: { tenantId_name: { tenantId: "t", name: "n" } }, select: { id: true, amount: true, labels: true } });
    const amount = one?.amount?.toFixed(2);
    const created = await db.${m}.create({
      data: { name: "x", labels: ["a"], data: { k: 1 }, parent: { connect: { id: 1 } }, tenant: { connect: { id: "t" } } },
      select: { id: true, createdAt: true },
    });
    const when: Date = created.createdAt;
    await db.${m}.update({ where: { id: created.id }, data: { quantity: { increment: 1 }, status: "ARCHIVED", description: null } });
    const counted = await db.${m}.count({ where: { quantity: { gte: 2 } } });
    const agg = await db.${m}.aggregate({ _sum: { quantity: true }, _max: { createdAt: true }, where: { tenantId: "t" } });
    const groups = await db.${m}.groupBy({ by: ["status"], _count: { _all: true }, orderBy: { status: "asc" } });
    void [first, amount, when, counted, agg._sum.quantity, groups[0]?.status];
  }`);
  }
  return `export async function program(): Promise<void> {${calls.join("")}
}
`;
}
