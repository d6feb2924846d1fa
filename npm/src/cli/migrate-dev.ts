// `quarry migrate dev`: for development databases. Applies pending migrations, checks that the
// database is what its migrations make (drift), then writes a migration for what the schema
// changed since the last one (the difference between that migration's snapshot and the schema,
// computed by the engine) and applies it.

import { QuarryError } from "../errors.js";
import { type Command, SCHEMA_OPTION, type Schema, URL_OPTION, connect, databaseUrl, flags, main, progress, readSchema, shownUrl, step } from "./context.js";
import { describeRisks, describeSteps } from "./db-push.js";
import type { Risk, Step } from "./engine.js";
import { applyPending } from "./migrate-deploy.js";
import { expectedState, history, migrationsDir, readMigrations, writeMigration } from "./migrations.js";

export const summary = "Create a migration from schema changes and apply it (development)";

export const help = `
Usage: quarry migrate dev [--name name] [--create-only] [--accept-data-loss] [--rls] [--schema path] [--url url]

1. Applies the migrations the database has not had yet.
2. Checks for drift: changes in the database that its migrations do not make. If there are any,
   it stops and lists them.
3. Compares the schema with the state the last migration left (its snapshot.json, or all
   migrations replayed in a temporary schema) and writes the difference to
   migrations/<timestamp>_<name>/migration.sql (with a snapshot.json of the new state), in Prisma
   Migrate's layout, then applies it. Nothing to write when the schema did not change.

Changes that would lose data on this database are refused unless --accept-data-loss; changes that
cannot run on its data are refused, with what to do. Edit a migration before it runs with
--create-only, then run migrate dev again to apply it.

Options:
  --name <name>       the migration's name (default: "migration")
  --create-only       write the migration without applying it
  --accept-data-loss  write and apply changes that lose data
  --rls               include row-level security policies and tenant keys in migrations (kept
                      once the last migration has them)
  --schema <path>     the schema file; migrations go in the migrations folder next to it
  --url <url>         the development database (default: the datasource's url, DATABASE_URL)
  -h, --help          this help

Exit code: 0 done, 1 refused or failed, 2 wrong command line.
`;

interface Diff {
  steps: Step[];
  script: string;
  risks: Risk[];
  snapshot: unknown;
}

export async function run(argv: string[]): Promise<number> {
  let schema: Schema | undefined;
  return main({ help }, argv, async () => {
    const { values } = flags(argv, {
      ...SCHEMA_OPTION,
      ...URL_OPTION,
      name: { type: "string", short: "n" },
      "create-only": { type: "boolean" },
      "accept-data-loss": { type: "boolean" },
      rls: { type: "boolean" },
    });
    schema = readSchema(values.schema);
    const dir = migrationsDir(schema);
    const folders = readMigrations(dir);
    const url = databaseUrl(values.url, schema);
    const db = await connect(schema, url);
    try {
      progress(`Database: ${shownUrl(url)} (schema "${db.namespace}"); ${folders.length} migration${folders.length === 1 ? "" : "s"} found`);
      const { applied, problems } = await step("Reading the migration history", () => history(db.engine, folders));
      if (problems.length) {
        throw new QuarryError(
          "Q5005",
          `The migration history does not match the migrations folder:\n${problems.map((p) => `  - ${p}`).join("\n")}\n` +
            "Restore the migration files as they were applied, or reset the development database (drop its schema) and run migrate dev again.",
        );
      }
      const done = await applyPending(db.engine, folders, applied);
      const expected = expectedState(folders);
      const drift = await step("Checking the database for drift", () =>
        db.engine.migrate<{ differences: Step[] }>({ command: "drift", expected }),
      );
      if (drift.differences.length) {
        throw new QuarryError(
          "Q5003",
          `Drift detected: the database has changes its migrations do not make:\n${describeSteps(drift.differences)}\n` +
            "Put them in a migration by hand (migrate dev --create-only, then edit it), or reset the development database (drop its schema) and run migrate dev again.",
        );
      }
      const diff = await step("Comparing the schema with the migrations", () =>
        db.engine.migrate<Diff>({
          command: "diff",
          from: expected,
          to: { schema: true },
          rls: values.rls === true ? true : undefined,
          check: true,
        }),
      );
      if (diff.steps.length === 0) {
        const applyLine = done.length ? `Applied ${done.length} pending migration${done.length === 1 ? "" : "s"}. ` : "";
        process.stdout.write(`${applyLine}Already in sync: the schema has no changes since the last migration.\n`);
        return 0;
      }
      const unexecutable = diff.risks.filter((r) => r.level === "unexecutable");
      if (unexecutable.length) {
        throw new QuarryError("Q5002", `These changes cannot run on the data in the database:\n${describeRisks(unexecutable)}`);
      }
      const loss = diff.risks.filter((r) => r.level === "dataLoss");
      if (loss.length && !values["accept-data-loss"] && !values["create-only"]) {
        throw new QuarryError(
          "Q5001",
          `These changes would lose data:\n${describeRisks(loss)}\nRun again with --accept-data-loss to create and apply the migration anyway, or --create-only to write it and edit it first.`,
        );
      }
      const created = writeMigration(dir, values.name ?? "migration", diff.script, diff.snapshot, folders);
      process.stdout.write(`Created migrations/${created.name}/migration.sql (${diff.steps.length} statement${diff.steps.length === 1 ? "" : "s"}):\n${describeSteps(diff.steps)}\n`);
      if (loss.length) process.stdout.write(`It loses data:\n${describeRisks(loss)}\n`);
      if (values["create-only"]) {
        process.stdout.write("Not applied (--create-only): edit it if needed, then run quarry migrate dev to apply it.\n");
        return 0;
      }
      await applyPending(db.engine, [created], new Set());
      process.stdout.write("Applied. The database is in sync with the schema.\n");
      return 0;
    } finally {
      await db.close();
    }
  }, () => schema);
}

export default { summary, help, run } satisfies Command;
