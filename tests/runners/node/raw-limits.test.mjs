// Long raw SQL under a tenant, on both engines (the WebAssembly engine over node-postgres, whose
// stack is the module's 1 MiB, and the native addon on Tokio's worker threads): chains of OR, AND,
// arithmetic and parentheses thousands of terms long end in `Q3004` with the path, before any
// parser, scope pass or renderer recursion could exhaust a stack; chains within the bound and long
// IN lists run; and the engine answers the next request.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { QuarryError } from "quarry";
import { freshNamespace, openBackend } from "./support/backends.mjs";

const BLOG = { schema: "fixtures/schemas/bench.prisma", seed: "corpus/seeds/blog.sql" };

const chain = (n, term, op) => Array.from({ length: n }, (_, i) => term(i)).join(op);
const LONG = [
  ["OR of 2,000 terms", `SELECT id FROM "Post" WHERE ${chain(2_000, (i) => `id = ${i}`, " OR ")}`],
  ["OR of 3,000 terms", `SELECT id FROM "Post" WHERE ${chain(3_000, (i) => `id = ${i}`, " OR ")}`],
  ["OR of 20,000 terms", `SELECT id FROM "Post" WHERE ${chain(20_000, (i) => `id = ${i}`, " OR ")}`],
  ["AND of 5,000 terms", `SELECT id FROM "Post" WHERE ${chain(5_000, (i) => `id <> ${i + 100}`, " AND ")}`],
  ["a sum of 20,000 terms", `SELECT ${chain(20_000, () => "1", " + ")} AS n FROM "Post"`],
  ["5,000 nested parentheses", `SELECT id FROM "Post" WHERE ${"(".repeat(5_000)}id = 1${")".repeat(5_000)}`],
  ["UNION ALL of 3,000 selects", chain(3_000, (i) => `SELECT id FROM "Post" WHERE id = ${i}`, " UNION ALL ")],
];

for (const backendName of ["pg", "native"]) {
  describe(`long raw SQL under a tenant (${backendName === "pg" ? "WebAssembly engine over node-postgres" : "native addon"})`, () => {
    let backend;
    let blog;
    let db;

    before(async () => {
      backend = await openBackend(backendName);
      blog = await freshNamespace(backend, { ...BLOG, prefix: "qrawlimits" });
      db = blog.client();
    });

    after(async () => {
      await blog?.drop();
      await backend?.close();
    });

    const stillAnswers = async () => {
      const posts = await db.$forTenant(1).post.findMany({ select: { id: true }, orderBy: { id: "asc" } });
      assert.deepEqual(posts.map((p) => p.id), [1, 2, 3, 4, 5]);
    };

    for (const [name, sql] of LONG) {
      test(`${name}: Q3004 with the path, and the engine answers the next request`, async () => {
        const error = await db.$forTenant(1).$queryRawUnsafe(sql).then(
          () => assert.fail("a statement this deep must be refused"),
          (e) => e,
        );
        assert.ok(error instanceof QuarryError, String(error?.stack ?? error));
        assert.equal(error.code, "Q3004", error.message);
        assert.equal(error.meta?.path, "args.query");
        await stillAnswers();
      });
    }

    test("a chain at the bound and an IN list of 5,000 values run, scoped", async () => {
      const t = db.$forTenant(1);
      // 330 terms of `id = n OR` count about 990 levels: just under the limit of 1,000, so the
      // deepest statement the engine accepts runs on the WebAssembly module's stack too.
      const or = await t.$queryRawUnsafe(`SELECT id FROM "Post" WHERE ${chain(330, (i) => `id = ${i}`, " OR ")} ORDER BY id`);
      assert.deepEqual(or.map((r) => r.id), [1, 2, 3, 4, 5]);
      const list = await t.$queryRawUnsafe(`SELECT id FROM "Post" WHERE id IN (${chain(5_000, (i) => String(i), ", ")}) ORDER BY id`);
      assert.deepEqual(list.map((r) => r.id), [1, 2, 3, 4, 5]);
      await stillAnswers();
    });
  });
}
