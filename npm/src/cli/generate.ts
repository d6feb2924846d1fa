// `quarry generate`: writes the typed client module for a Prisma schema (see generate/index.ts)
// into a folder: `index.d.ts`, `index.js` and a `package.json` that marks the folder as ESM.
//
// Where things are, first found wins:
// - the schema: `--schema`, then `prisma/schema.prisma`, then `schema.prisma`;
// - the output: `--output`, then `output` of the schema's `generator quarry` block (relative to
//   the schema file, as Prisma resolves it), then `generated/quarry` next to the schema.
//
// Run by `prisma generate` (a `generator quarry { provider = "quarry generate" }` block), it
// speaks Prisma's generator protocol instead: JSON-RPC requests on stdin, answers on stderr.

import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { dirname, relative, resolve, sep } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import "../runtime/node.js";
import { QuarryError } from "../errors.js";
import { type SchemaDescription, describe, generateFrom } from "../generate/index.js";

const HELP = `Usage: quarry generate [--schema <file>] [--output <folder>]

Writes TypeScript types and a typed client for the schema:

  import { createClient } from "./generated/quarry/index.js";
  const db = createClient({ url: process.env.DATABASE_URL });

  --schema   the Prisma schema (default: prisma/schema.prisma, then schema.prisma)
  --output   the folder to write (default: the \`output\` of the schema's \`generator quarry\`
             block, relative to the schema, else generated/quarry next to the schema)

Also runs as a generator of \`prisma generate\`:

  generator quarry {
    provider = "quarry generate"
    output   = "../generated/quarry"
  }`;

/** The default output folder, relative to the schema's folder. */
export const DEFAULT_OUTPUT = "generated/quarry";

export async function run(argv: string[]): Promise<number> {
  if (process.env.PRISMA_GENERATOR_INVOCATION) return serveGenerator();
  let args;
  try {
    args = parseArgs({ args: argv, options: { schema: { type: "string" }, output: { type: "string" }, help: { type: "boolean", short: "h" } } }).values;
  } catch (e) {
    // A wrong command line: exit code 2, as for every command.
    console.error(`quarry generate: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (args.help) {
    console.log(HELP);
    return 0;
  }
  const schemaPath = args.schema ?? ["prisma/schema.prisma", "schema.prisma"].find((p) => existsSync(p));
  if (!schemaPath) {
    console.error("quarry generate: no schema found: pass --schema <file>, or put it at prisma/schema.prisma or schema.prisma");
    return 1;
  }
  let text: string;
  try {
    text = readFileSync(schemaPath, "utf8");
  } catch (e) {
    console.error(`quarry generate: cannot read ${schemaPath}: ${(e as Error).message}`);
    return 1;
  }
  const started = Date.now();
  const schema = describeOrReport(text, schemaPath);
  if (!schema) return 1;
  const configured = quarryGenerator(schema)?.config.output;
  const output = args.output !== undefined ? resolve(args.output) : resolve(dirname(schemaPath), configured ?? DEFAULT_OUTPUT);
  write(schema, text, schemaPath, output);
  const shown = relative(process.cwd(), output) || ".";
  console.log(
    `Generated the Quarry client (${schema.models.length} models, ${schema.enums.length} enums) in ${Date.now() - started} ms to ${shown}\n\n` +
      `  import { createClient } from "./${shown.split(sep).join("/")}/index.js";`,
  );
  return 0;
}

/** The schema's description, or an error printed as `file:line:column: message` (undefined). */
function describeOrReport(text: string, schemaPath: string): SchemaDescription | undefined {
  try {
    return describe(text);
  } catch (e) {
    if (e instanceof QuarryError) {
      const { line, column } = e.meta as { line?: number; column?: number };
      const at = line !== undefined ? `${schemaPath}:${line}:${column ?? 1}` : schemaPath;
      console.error(`${at}: ${e.message.replace(/^line \d+, column \d+: /, "")} (${e.code})`);
      return undefined;
    }
    throw e;
  }
}

/** The schema's `generator quarry` block: named `quarry`, or whose provider is `quarry generate`. */
function quarryGenerator(schema: SchemaDescription) {
  return (
    schema.generators.find((g) => g.name === "quarry") ??
    schema.generators.find((g) => /(^|[\s/])quarry(\.js)?\s+generate\b/.test(g.config.provider ?? ""))
  );
}

/** Writes the module into `output`, naming the schema relative to it in the header. */
function write(schema: SchemaDescription, text: string, schemaPath: string, output: string): void {
  const files = generateFrom(schema, text, { schemaPath: relative(output, resolve(schemaPath)).split(sep).join("/") });
  mkdirSync(output, { recursive: true });
  // The module is ESM whatever the project's own package.json says.
  files["package.json"] = `${JSON.stringify({ type: "module", types: "./index.d.ts", main: "./index.js" }, null, 2)}\n`;
  for (const [name, content] of Object.entries(files)) writeFileSync(resolve(output, name), content);
}

// ---------------------------------------------------------------------------------------------
// Prisma's generator protocol: `prisma generate` starts the provider command with
// PRISMA_GENERATOR_INVOCATION set, writes one JSON-RPC request per line to its stdin
// (`getManifest`, then `generate` with the schema text, its path and the resolved output folder)
// and reads one answer per line from its stderr.

interface RpcRequest {
  jsonrpc: "2.0";
  id: number;
  method: string;
  params: { datamodel?: string; schemaPath?: string; generator?: { output?: { value?: string } } };
}

function serveGenerator(): Promise<number> {
  const answer = (id: number, body: { result: unknown } | { error: { code: number; message: string } }) =>
    process.stderr.write(`${JSON.stringify({ jsonrpc: "2.0", id, ...body })}\n`);
  return new Promise((done) => {
    const lines = createInterface({ input: process.stdin });
    lines.on("line", (line) => {
      let request: RpcRequest;
      try {
        request = JSON.parse(line) as RpcRequest;
      } catch {
        return;
      }
      try {
        if (request.method === "getManifest") {
          answer(request.id, { result: { manifest: { prettyName: "Quarry client", defaultOutput: DEFAULT_OUTPUT, requiresEngines: [] } } });
        } else if (request.method === "generate") {
          const { datamodel = "", schemaPath = "schema.prisma", generator } = request.params;
          const output = generator?.output?.value;
          if (!output) throw new Error("prisma generate gave no output folder");
          write(describe(datamodel), datamodel, schemaPath, output);
          answer(request.id, { result: null });
        } else {
          answer(request.id, { error: { code: -32601, message: `unknown method ${request.method}` } });
        }
      } catch (e) {
        const message = e instanceof QuarryError ? `${e.message} (${e.code})` : e instanceof Error ? e.message : String(e);
        answer(request.id, { error: { code: -32000, message } });
      }
    });
    lines.on("close", () => done(0));
  });
}
