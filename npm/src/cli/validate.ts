// `quarry validate`: reads the schema the way the client does and reports the first mistake with
// its line and column, or what the schema defines.

import { type Command, SCHEMA_OPTION, type Schema, flags, main, offlineEngine, readSchema } from "./context.js";

export const summary = "Check the schema: errors with their line and column";

export const help = `
Usage: quarry validate [--schema path]

Reads the Prisma schema as the client will (datasource, models, relations, tenancy) and reports
the first error with its line and column, or what the schema defines.

Options:
  --schema <path>  the schema file (default: package.json "prisma.schema", prisma/schema.prisma,
                   schema.prisma)
  -h, --help       this help

Exit code: 0 valid, 1 not valid, 2 wrong command line.
`;

export async function run(argv: string[]): Promise<number> {
  let schema: Schema | undefined;
  return main({ help }, argv, async () => {
    const { values } = flags(argv, SCHEMA_OPTION);
    schema = readSchema(values.schema);
    const { models } = offlineEngine(schema).describe();
    process.stdout.write(`The schema at ${schema.shown} is valid: ${models.length} model${models.length === 1 ? "" : "s"}${models.length ? ` (${models.join(", ")})` : ""}.\n`);
    return 0;
  }, () => schema);
}

export default { summary, help, run } satisfies Command;
