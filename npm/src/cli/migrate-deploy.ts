// `quarry migrate deploy`: applies the migrations the database has not had yet, in order, each in
// one transaction with its row in the history table, under Prisma Migrate's advisory lock (two
// deploys at once apply each migration once). Running it again applies nothing.

import { QuarryError } from "../errors.js";
import { type Command, SCHEMA_OPTION, type Schema, URL_OPTION, connect, databaseUrl, flags, main, progress, readSchema, shownUrl, step } from "./context.js";
import type { ToolEngine } from "./engine.js";
import { type MigrationFolder, history, migrationsDir, readMigrations } from "./migrations.js";

export const summary = "Apply pending migrations (production, CI)";

export const help = `
Usage: quarry migrate deploy [--schema path] [--url url]

Applies every migration in the migrations folder (next to the schema) that the database's
history table (_prisma_migrations, the one Prisma Migrate keeps) does not list yet, oldest first.
Each migration runs in one transaction together with its history row: it is applied completely
or not at all, and a failed one can be fixed and deployed again. Running deploy again applies
nothing. It never creates migrations and never resets anything.

Options:
  --schema <path>  the schema file; migrations are in the migrations folder next to it
  --url <url>      the database (default: the datasource's url, DATABASE_URL); ?schema= picks
                   the PostgreSQL schema
  -h, --help       this help

Exit code: 0 done, 1 a migration failed, 2 wrong command line.
`;

/** Applies the folders the history does not have, with a line for each. */
export async function applyPending(engine: ToolEngine, folders: MigrationFolder[], applied: Set<string>): Promise<string[]> {
  const done: string[] = [];
  for (const f of folders.filter((f) => !applied.has(f.name))) {
    const out = await step(`Applying migration ${f.name}`, () =>
      engine.migrate<{ applied: boolean }>({ command: "deploy", migration: { name: f.name, sql: f.sql, checksum: f.checksum } }),
    );
    if (out.applied) done.push(f.name);
  }
  return done;
}

export async function run(argv: string[]): Promise<number> {
  let schema: Schema | undefined;
  return main({ help }, argv, async () => {
    const { values } = flags(argv, { ...SCHEMA_OPTION, ...URL_OPTION });
    schema = readSchema(values.schema);
    const folders = readMigrations(migrationsDir(schema));
    const url = databaseUrl(values.url, schema);
    const db = await connect(schema, url);
    try {
      progress(`Database: ${shownUrl(url)} (schema "${db.namespace}"); ${folders.length} migration${folders.length === 1 ? "" : "s"} found`);
      const { applied, problems } = await step("Reading the migration history", () => history(db.engine, folders));
      for (const p of problems) progress(`Warning: ${p}`);
      const done = await applyPending(db.engine, folders, applied);
      if (done.length === 0) {
        process.stdout.write("No pending migrations to apply.\n");
      } else {
        process.stdout.write(`Applied ${done.length} migration${done.length === 1 ? "" : "s"}:\n${done.map((n) => `  ${n}`).join("\n")}\n`);
      }
      return 0;
    } catch (e) {
      if (e instanceof QuarryError && typeof e.meta.migration === "string") {
        progress(`The migration ${e.meta.migration} was rolled back: nothing of it is in the database. Fix it and deploy again.`);
      }
      throw e;
    } finally {
      await db.close();
    }
  }, () => schema);
}

export default { summary, help, run } satisfies Command;
