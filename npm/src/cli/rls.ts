// `quarry rls`: the row-level security statements for the schema (policies on every tenant-scoped
// table, FORCE ROW LEVEL SECURITY, tenant-matching composite foreign keys), printed or applied.

import { type Command, SCHEMA_OPTION, type Schema, URL_OPTION, connect, databaseUrl, flags, main, namespaceIfKnown, offlineEngine, readSchema, shownUrl, step } from "./context.js";

export const summary = "Print or apply row-level security policies and tenant keys";

export const help = `
Usage: quarry rls [--apply] [--schema path] [--url url]

Prints the SQL that turns on PostgreSQL row-level security for the schema's tenant-scoped tables:
ENABLE and FORCE ROW LEVEL SECURITY, SELECT / INSERT / UPDATE / DELETE policies on the
transaction-local setting app.current_tenant_id, and composite (tenantId, …) foreign keys so rows
only refer to rows of their own tenant. The statements can run again. With --apply they run in one
transaction on the database, as the tables' owner. Then create the client with rls: true.

Names are qualified with ?schema= of the URL when it has one.

Options:
  --apply          run the statements on the database instead of printing them
  --schema <path>  the schema file (default: prisma/schema.prisma, schema.prisma)
  --url <url>      the database (default: the datasource's url, DATABASE_URL)
  -h, --help       this help

Exit code: 0 done, 1 failed, 2 wrong command line.
`;

export async function run(argv: string[]): Promise<number> {
  let schema: Schema | undefined;
  return main({ help }, argv, async () => {
    const { values } = flags(argv, { ...SCHEMA_OPTION, ...URL_OPTION, apply: { type: "boolean" } });
    schema = readSchema(values.schema);
    if (!values.apply) {
      const out = await offlineEngine(schema, namespaceIfKnown(values.url, schema)).migrate<{ statements: string[] }>({ command: "rls" });
      if (out.statements.length === 0) {
        process.stderr.write("The schema has no tenant-scoped models: there is nothing to secure.\n");
        return 0;
      }
      process.stdout.write(out.statements.map((s) => `${s};\n`).join(""));
      return 0;
    }
    const url = databaseUrl(values.url, schema);
    const db = await connect(schema, url);
    try {
      const out = await step(`Applying row-level security to ${shownUrl(url)}`, () =>
        db.engine.migrate<{ statements: string[] }>({ command: "rls", apply: true }),
      );
      process.stdout.write(
        out.statements.length
          ? `Applied ${out.statements.length} statements: row-level security is on for the tenant-scoped tables.\n`
          : "The schema has no tenant-scoped models: there is nothing to secure.\n",
      );
      return 0;
    } finally {
      await db.close();
    }
  }, () => schema);
}

export default { summary, help, run } satisfies Command;
