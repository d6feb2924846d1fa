// `quarry doctor`: counts the rows of a database that refer to a row of another tenant, per
// relation between tenant-scoped models — what the engine's tenant-matching foreign keys make
// impossible, in a database made without them (by another tool, an import, or before the schema
// declared its tenancy). Reads only keys and tenant columns; prints counts, never values.

import { type Command, SCHEMA_OPTION, type Schema, URL_OPTION, connect, databaseUrl, flags, main, readSchema, shownUrl, step } from "./context.js";

export const summary = "Find rows that refer to another tenant's rows";

export const help = `
Usage: quarry doctor [--schema path] [--url url] [--field name]

Counts, for every relation between two tenant-scoped models (foreign keys and implicit
many-to-many tables), the rows that refer to a row of another tenant. Such links let one tenant's
delete cascade into another's rows; the tables Quarry creates carry tenant-matching foreign keys
that refuse them, and adding those keys to a database fails while such rows exist. Fix or remove
the rows listed, then run quarry db push (or a migration) to add the keys.

Options:
  --schema <path>  the schema file (default: prisma/schema.prisma, schema.prisma)
  --url <url>      the database (default: the datasource's url, DATABASE_URL)
  --field <name>   the tenant field's name, as the client's tenancy.field
  -h, --help       this help

Exit code: 0 no link between tenants, 1 some found (or the check failed), 2 wrong command line.
`;

export async function run(argv: string[]): Promise<number> {
  let schema: Schema | undefined;
  return main({ help }, argv, async () => {
    const { values } = flags(argv, { ...SCHEMA_OPTION, ...URL_OPTION, field: { type: "string" } });
    schema = readSchema(values.schema);
    const url = databaseUrl(values.url, schema);
    const db = await connect(schema, url, values.field);
    try {
      const links = await step(`Looking for links between tenants in ${shownUrl(url)}`, () => db.engine.tenantLinks());
      if (links.length === 0) {
        process.stdout.write("The schema has no relations between tenant-scoped models: nothing to check.\n");
        return 0;
      }
      const width = Math.max(...links.map((l) => l.relation.length));
      for (const l of links) process.stdout.write(`${l.relation.padEnd(width)}  ${l.links === 0 ? "ok" : `${l.links} row(s) refer to another tenant's row`}\n`);
      const bad = links.filter((l) => l.links > 0).length;
      if (bad > 0) {
        process.stderr.write(`${bad} relation(s) link tenants: fix those rows before adding the tenant-matching keys.\n`);
        return 1;
      }
      return 0;
    } finally {
      await db.close();
    }
  }, () => schema);
}

export default { summary, help, run } satisfies Command;
