// What every command shares: reading its flags, finding the schema file and the database URL (the
// way Prisma's CLI does), connecting through node-postgres (an optional peer dependency, loaded
// only by commands that need a database), progress lines on stderr, and errors that say what to
// do, with the exit codes of the README: 0 done, 1 failed, 2 the command line was wrong.

import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { QuarryError } from "../errors.js";
import { ToolEngine, offlineAdapter } from "./engine.js";

/** A mistake on the command line (exit code 2). */
export class UsageError extends Error {}

/** A failure that is not the engine's, such as a missing file (exit code 1, no stack). */
export class Failure extends Error {}

/** What a command module exports; the dispatcher loads it only when the command runs. */
export interface Command {
  summary: string;
  help: string;
  run(argv: string[]): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig["options"]>;

export const SCHEMA_OPTION = { schema: { type: "string" } } as const;
export const URL_OPTION = { url: { type: "string" } } as const;

/** The values of parsed flags: strings and booleans by their declared type. */
export type Values<O extends Options> = { [K in keyof O]?: O[K] extends { type: "boolean" } ? boolean : string };

/** Parses flags (`--help` is always there); unknown flags are usage errors. */
export function flags<O extends Options>(argv: string[], options: O, positionals = false): { values: Values<O>; positionals: string[] } {
  try {
    const parsed = parseArgs({ args: argv, options: { ...options, help: { type: "boolean", short: "h" } }, allowPositionals: positionals, strict: true });
    return { values: parsed.values as Values<O>, positionals: parsed.positionals };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** Progress on stderr, so stdout carries only results. */
export function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Runs a slow step with a line saying what it waits for, and how long it took. */
export async function step<T>(what: string, f: () => Promise<T>): Promise<T> {
  const start = Date.now();
  process.stderr.write(`${what}…`);
  try {
    const out = await f();
    process.stderr.write(` done (${Date.now() - start} ms)\n`);
    return out;
  } catch (e) {
    process.stderr.write(" failed\n");
    throw e;
  }
}

/** `.env` next to the schema and in the working directory, as Prisma reads them (set variables win). */
function loadEnv(schemaPath: string | undefined): void {
  const load = (process as { loadEnvFile?: (path: string) => void }).loadEnvFile;
  if (!load) return;
  const files = [resolve(".env"), ...(schemaPath ? [join(dirname(schemaPath), ".env")] : [])];
  for (const file of new Set(files)) {
    if (!existsSync(file)) continue;
    const before = { ...process.env };
    load(file);
    for (const [k, v] of Object.entries(before)) process.env[k] = v;
  }
}

export interface Schema {
  path: string;
  /** The path as shown to the user. */
  shown: string;
  text: string;
}

/** The schema: `--schema`, package.json's `prisma.schema`, `prisma/schema.prisma`, `schema.prisma`. */
export function readSchema(given: string | undefined): Schema {
  let path = given;
  if (!path && existsSync("package.json")) {
    try {
      const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { prisma?: { schema?: unknown } };
      if (typeof pkg.prisma?.schema === "string") path = pkg.prisma.schema;
    } catch {
      // An unreadable package.json is not ours to report.
    }
  }
  path ??= ["prisma/schema.prisma", "schema.prisma"].find((p) => existsSync(p));
  if (!path) {
    throw new Failure("No schema found: pass --schema path/to/schema.prisma (looked for prisma/schema.prisma and schema.prisma).");
  }
  const full = resolve(path);
  if (!existsSync(full)) throw new Failure(`The schema file ${path} does not exist.`);
  loadEnv(full);
  return { path: full, shown: relative(process.cwd(), full) || full, text: readFileSync(full, "utf8") };
}

/** The database URL: `--url`, the datasource's `url` (`env("X")` or a string), `DATABASE_URL`. */
export function databaseUrl(given: string | undefined, schema: Schema): string {
  const block = /datasource\s+\w+\s*\{([^}]*)\}/.exec(schema.text)?.[1] ?? "";
  const fromEnv = /^\s*url\s*=\s*env\(\s*"([^"]+)"\s*\)/m.exec(block)?.[1];
  const literal = /^\s*url\s*=\s*"([^"]+)"/m.exec(block)?.[1];
  const name = fromEnv ?? "DATABASE_URL";
  const url = given || (literal ?? process.env[name]);
  if (!url) {
    throw new QuarryError("Q2005", `No database URL: set ${name} (in the environment or a .env file) or pass --url postgresql://…`, { path: "url" });
  }
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new QuarryError("Q2005", `The database URL must start with postgresql:// (got ${url.split(":")[0]}:…): the CLI runs on PostgreSQL.`, {
      path: "url",
    });
  }
  return url;
}

/** `?schema=` of a URL: the PostgreSQL schema the tables live in. */
export function namespaceOf(url: string): string | undefined {
  try {
    return new URL(url).searchParams.get("schema") ?? undefined;
  } catch {
    throw new QuarryError("Q2005", "The database URL is not a valid URL.", { path: "url" });
  }
}

/** `?schema=` of the URL when there is one; commands that print SQL need no database. */
export function namespaceIfKnown(given: string | undefined, schema: Schema): string | undefined {
  try {
    return namespaceOf(databaseUrl(given, schema));
  } catch {
    return undefined;
  }
}

/** The URL without its password, for messages. */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "****";
    return u.toString();
  } catch {
    return "the database";
  }
}

/** An engine that never connects (validate, sql, printing rls, tenancy); `tenantField` as the client's. */
export function offlineEngine(schema: Schema, namespace?: string, tenantField?: string): ToolEngine {
  return new ToolEngine(schema.text, { namespace, tenantField }, offlineAdapter(schema.text));
}

export interface Connected {
  engine: ToolEngine;
  namespace: string;
  close(): Promise<void>;
}

/** The engine over a node-postgres pool to the URL. */
export async function connect(schema: Schema, url: string, tenantField?: string): Promise<Connected> {
  type PgModule = { default: { Pool: new (config: object) => PgPool } };
  type PgPool = { on(event: "error", listener: (e: Error) => void): void; end(): Promise<void> };
  let pg: PgModule;
  try {
    pg = (await import("pg" as string)) as PgModule;
  } catch {
    throw new QuarryError(
      "Q2010",
      "The quarry CLI connects to PostgreSQL with node-postgres, which is not installed: run `npm install --save-dev pg`.",
    );
  }
  const { pgAdapter } = await import("../../../adapters/pg/index.js");
  const namespace = namespaceOf(url);
  const pool = new pg.default.Pool({ connectionString: url, max: 2 });
  // A connection the server ends (restart, failover) must not end the process unheard.
  pool.on("error", () => {});
  const engine = new ToolEngine(schema.text, { namespace, tenantField }, pgAdapter(pool as never));
  return { engine, namespace: namespace ?? "public", close: () => pool.end() };
}

/** The source line of a schema error with a caret under its column. */
function excerpt(schema: Schema, line: number, column: number): string {
  const text = schema.text.split("\n")[line - 1];
  if (text === undefined) return "";
  const gutter = String(line).length;
  return [
    `  --> ${schema.shown}:${line}:${column}`,
    `${" ".repeat(gutter)} |`,
    `${line} | ${text}`,
    `${" ".repeat(gutter)} | ${" ".repeat(Math.max(0, column - 1))}^`,
  ].join("\n");
}

/** Prints an error the way a user can act on it; returns the exit code. */
export function report(e: unknown, schema?: Schema): number {
  if (e instanceof UsageError) {
    process.stderr.write(`${e.message}\nRun with --help for the options.\n`);
    return 2;
  }
  if (e instanceof QuarryError) {
    const line = typeof e.meta.line === "number" ? e.meta.line : undefined;
    const column = typeof e.meta.column === "number" ? e.meta.column : 1;
    const message = line !== undefined ? e.message.replace(/^line \d+, column \d+: /, "") : e.message;
    process.stderr.write(`Error ${e.code}: ${message}\n`);
    if (line !== undefined && schema) process.stderr.write(`${excerpt(schema, line, column)}\n`);
    if (e.meta.kind === "connection") {
      process.stderr.write("Is the database running, and is the URL right? Set DATABASE_URL or pass --url.\n");
    }
    return 1;
  }
  if (e instanceof Failure) {
    process.stderr.write(`Error: ${e.message}\n`);
    return 1;
  }
  // Not ours to explain (a file that cannot be written, ...): everything there is to know.
  process.stderr.write(`Error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  return 1;
}

/** Runs a command's body; `--help` prints its help. */
export async function main(cmd: Pick<Command, "help">, argv: string[], body: () => Promise<number>, schema?: () => Schema | undefined): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${cmd.help.trim()}\n`);
    return 0;
  }
  try {
    return await body();
  } catch (e) {
    return report(e, schema?.());
  }
}
