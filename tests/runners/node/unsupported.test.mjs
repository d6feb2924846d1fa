// What Quarry does not support is refused when the client is created, on both engines, with
// Q1004 and the line and column of the construct: other providers (and a MySQL schema over a
// PostgreSQL driver), views, composite types, @@schema and the datasource's `schemas`. Nothing is
// translated into wrong SQL later.

import assert from "node:assert/strict";
import { after, test } from "node:test";
import pg from "pg";
import { QuarryValidationError, createClient } from "quarry";
import { pgAdapter } from "quarry/adapters/pg";
import { DATABASE_URL } from "./support/backends.mjs";

const MODEL = "model Post {\n  id    Int    @id\n  title String\n}\n";
const cases = [
  ...["mysql", "sqlite", "sqlserver", "mongodb", "cockroachdb"].map((p) => [p, `datasource db {\n  provider = "${p}"\n}\n${MODEL}`, 2, 3]),
  ["view", `${MODEL}view Titles {\n  id    Int    @unique\n  title String\n}\n`, 5, 1],
  ["type", `${MODEL}type Address {\n  street String\n}\n`, 5, 1],
  ["@@schema", `datasource db {\n  provider = "postgresql"\n}\nmodel Audit {\n  id Int @id\n\n  @@schema("audit")\n}\n`, 7, 3],
  ["schemas", `datasource db {\n  provider = "postgresql"\n  schemas  = ["public", "audit"]\n}\n${MODEL}`, 3, 3],
];

const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
after(() => pool.end());
const engines = [
  ["WebAssembly", (schema) => createClient({ schema, adapter: pgAdapter(pool) })],
  ["native", (schema) => createClient({ schema, url: DATABASE_URL })],
];

for (const [engine, create] of engines) {
  test(`${engine}: unsupported schemas are refused at createClient with Q1004 and the line`, async () => {
    for (const [what, schema, line, column] of cases) {
      assert.throws(
        () => create(schema),
        (e) => e instanceof QuarryValidationError && e.code === "Q1004" && e.meta.line === line && e.meta.column === column,
        what,
      );
    }
    // The same schema with PostgreSQL is fine.
    const db = create(`datasource db {\n  provider = "postgresql"\n}\n${MODEL}`);
    await db.$disconnect();
  });
}
