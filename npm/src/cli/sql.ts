// `quarry sql`: the SQL and parameters a request document compiles to, under a tenant or not,
// without a database (the engine's compile).

import { readFileSync } from "node:fs";
import { QuarryError } from "../errors.js";
import { type Command, SCHEMA_OPTION, type Schema, URL_OPTION, UsageError, flags, main, namespaceIfKnown, offlineEngine, readSchema } from "./context.js";

export const summary = "Show the SQL a request compiles to";

export const help = `
Usage: quarry sql <request> [--tenant id | --unscoped] [--json] [--schema path] [--url url]
       quarry sql <model>.<action> [args] [--tenant id | --unscoped] [--json] [--schema path] [--url url]

Prints the SQL statements and parameters the engine would run for a request, with tenant scope
applied, without connecting to a database. The request is a JSON document
({"model": "Post", "action": "findMany", "args": {...}}, a list of them for a batch, or a raw
query {"action": "queryRaw", "args": {"query": "...", "parameters": [...]}}), given as the
argument, read from a file with --file, or from stdin with "-". The short form names a delegate
and an action, with the arguments as JSON: quarry sql post.findMany '{"where": {"id": 1}}'.

Options:
  --tenant <id>    compile for this tenant ($forTenant)
  --unscoped       compile explicitly unscoped ($unscoped)
  --file <path>    read the request from a file
  --json           print the engine's JSON ({ statements: [{ sql, params }] })
  --schema <path>  the schema file (default: prisma/schema.prisma, schema.prisma)
  --url <url>      only its ?schema= is used: table names are qualified with it
  -h, --help       this help

Exit code: 0 done, 1 the request is not valid, 2 wrong command line.
`;

function parse(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${what} is not valid JSON: ${(e as Error).message}`);
  }
}

interface Compiled {
  statements: { sql: string; params: unknown[] }[];
}

export async function run(argv: string[]): Promise<number> {
  let schema: Schema | undefined;
  return main({ help }, argv, async () => {
    const { values, positionals } = flags(
      argv,
      { ...SCHEMA_OPTION, ...URL_OPTION, tenant: { type: "string" }, unscoped: { type: "boolean" }, file: { type: "string" }, json: { type: "boolean" } },
      true,
    );
    if (values.tenant !== undefined && values.unscoped) throw new UsageError("--tenant and --unscoped exclude each other");
    schema = readSchema(values.schema);
    const engine = offlineEngine(schema, namespaceIfKnown(values.url, schema));
    let request: unknown;
    const [first, second, ...rest] = positionals;
    if (rest.length) throw new UsageError(`unexpected argument ${rest[0]}`);
    if (values.file) {
      request = parse(readFileSync(values.file, "utf8"), values.file);
    } else if (first === "-") {
      request = parse(readFileSync(0, "utf8"), "stdin");
    } else if (first && /^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z]+$/.test(first)) {
      const [delegate, action] = first.split(".");
      const model = engine.describe().models.find((m) => m.toLowerCase() === delegate.toLowerCase());
      if (!model) throw new QuarryError("Q2002", `The schema has no model ${delegate}.`, { path: "model" });
      request = second === undefined ? { model, action } : { model, action, args: parse(second, "the arguments") };
    } else if (first) {
      if (second !== undefined) throw new UsageError(`unexpected argument ${second}`);
      request = parse(first, "the request");
    } else {
      throw new UsageError("give a request: quarry sql '{\"model\": \"User\", \"action\": \"findMany\"}'");
    }
    const envelope = { request, tenant: values.tenant, unscoped: values.unscoped === true ? true : undefined };
    const out = engine.compile(envelope) as Compiled | Compiled[];
    if (values.json) {
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return 0;
    }
    const lists = Array.isArray(out) ? out : [out];
    const lines: string[] = [];
    lists.forEach((c, i) => {
      if (lists.length > 1) lines.push(`-- request ${i + 1}`);
      for (const s of c.statements) {
        lines.push(`${s.sql};`);
        if (s.params.length) lines.push(`-- params: ${JSON.stringify(s.params)}`);
      }
    });
    process.stdout.write(`${lines.join("\n")}\n`);
    return 0;
  }, () => schema);
}

export default { summary, help, run } satisfies Command;
