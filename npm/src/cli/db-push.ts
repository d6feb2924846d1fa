// `quarry db push`: makes the database match the schema without migration files: creates what is
// missing, adds and changes columns, keys and indexes, and refuses changes that would lose data
// unless told to accept that (the engine compares the database's catalogs with the schema's own
// DDL and checks the data each risky change touches).

import { type Command, SCHEMA_OPTION, type Schema, URL_OPTION, connect, databaseUrl, flags, main, progress, readSchema, shownUrl, step } from "./context.js";
import type { Risk, Step } from "./engine.js";

export const summary = "Make the database match the schema (no migration files)";

export const help = `
Usage: quarry db push [--accept-data-loss] [--dry-run] [--rls] [--schema path] [--url url]

Compares the database with the schema and changes the database to match: creates enum types,
tables, columns, keys, indexes and foreign keys that are missing, changes those that differ, and
drops what the schema no longer has. Changes that would lose data (dropping a table or a column
that holds data, a type change that may not convert, removing enum values) are refused and
listed unless --accept-data-loss is given; changes that cannot run on the data there (a required
column without a default on a table with rows, a unique index over duplicates, NULLs in a column
made required) are always refused, with what to do. Everything runs in one transaction.

The tables go in the PostgreSQL schema named by ?schema= in the URL (default public), created if
missing. Row-level security (see quarry rls) is kept once the database has it.

Options:
  --accept-data-loss  apply changes that lose data
  --dry-run           print the SQL, change nothing
  --rls               also bring row-level security policies and tenant keys in line
  --schema <path>     the schema file (default: prisma/schema.prisma, schema.prisma)
  --url <url>         the database (default: the datasource's url, DATABASE_URL)
  -h, --help          this help

Exit code: 0 in sync, 1 refused or failed, 2 wrong command line.
`;

export function describeSteps(steps: Step[]): string {
  return steps.map((s) => `  ${s.kind.padEnd(16)} ${s.sql.split("\n")[0]}`).join("\n");
}

export function describeRisks(risks: Risk[]): string {
  return risks.map((r) => `  - ${r.message}`).join("\n");
}

export async function run(argv: string[]): Promise<number> {
  let schema: Schema | undefined;
  return main({ help }, argv, async () => {
    const { values } = flags(argv, {
      ...SCHEMA_OPTION,
      ...URL_OPTION,
      "accept-data-loss": { type: "boolean" },
      "dry-run": { type: "boolean" },
      rls: { type: "boolean" },
    });
    schema = readSchema(values.schema);
    const url = databaseUrl(values.url, schema);
    const db = await connect(schema, url);
    try {
      progress(`Database: ${shownUrl(url)} (schema "${db.namespace}")`);
      const out = await step("Comparing the database with the schema", () =>
        db.engine.migrate<{ steps: Step[]; script: string; risks: Risk[]; applied: boolean }>({
          command: "push",
          acceptDataLoss: values["accept-data-loss"] === true,
          dryRun: values["dry-run"] === true,
          rls: values.rls === true ? true : undefined,
        }),
      );
      if (out.steps.length === 0) {
        process.stdout.write("The database is already in sync with the schema.\n");
        return 0;
      }
      if (values["dry-run"]) {
        process.stdout.write(out.script);
        if (out.risks.length) process.stderr.write(`\nThese changes need attention:\n${describeRisks(out.risks)}\n`);
        return 0;
      }
      if (out.risks.length) process.stdout.write(`Applied although they lose data (--accept-data-loss):\n${describeRisks(out.risks)}\n`);
      process.stdout.write(`The database is now in sync with the schema (${out.steps.length} change${out.steps.length === 1 ? "" : "s"}):\n${describeSteps(out.steps)}\n`);
      return 0;
    } finally {
      await db.close();
    }
  }, () => schema);
}

export default { summary, help, run } satisfies Command;
