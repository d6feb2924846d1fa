// `quarry migrate status`: which migrations the database has, which are pending, and whether the
// history and the migrations folder agree.

import { type Command, SCHEMA_OPTION, type Schema, URL_OPTION, connect, databaseUrl, flags, main, readSchema, shownUrl, step } from "./context.js";
import { history, migrationsDir, readMigrations } from "./migrations.js";

export const summary = "Show applied and pending migrations";

export const help = `
Usage: quarry migrate status [--schema path] [--url url]

Lists the migrations in the migrations folder that the database has not had yet, and any
migration the database has had that is missing from the folder or was changed after it ran.

Options:
  --schema <path>  the schema file; migrations are in the migrations folder next to it
  --url <url>      the database (default: the datasource's url, DATABASE_URL)
  -h, --help       this help

Exit code: 0 up to date, 1 pending migrations or a mismatch, 2 wrong command line.
`;

export async function run(argv: string[]): Promise<number> {
  let schema: Schema | undefined;
  return main({ help }, argv, async () => {
    const { values } = flags(argv, { ...SCHEMA_OPTION, ...URL_OPTION });
    schema = readSchema(values.schema);
    const folders = readMigrations(migrationsDir(schema));
    const url = databaseUrl(values.url, schema);
    const db = await connect(schema, url);
    try {
      const { applied, problems } = await step(`Reading the migration history of ${shownUrl(url)}`, () => history(db.engine, folders));
      const pending = folders.filter((f) => !applied.has(f.name));
      process.stdout.write(`${folders.length} migration${folders.length === 1 ? "" : "s"} found, ${folders.length - pending.length} applied.\n`);
      if (pending.length) process.stdout.write(`Not yet applied:\n${pending.map((f) => `  ${f.name}`).join("\n")}\nRun quarry migrate deploy to apply them.\n`);
      for (const p of problems) process.stdout.write(`${p}\n`);
      if (!pending.length && !problems.length) process.stdout.write("The database is up to date.\n");
      return pending.length || problems.length ? 1 : 0;
    } finally {
      await db.close();
    }
  }, () => schema);
}

export default { summary, help, run } satisfies Command;
