// `quarry tenancy`: how each model of the schema is treated under a tenant — scoped, shared,
// global or the tenant model — as the engine worked it out from the schema, with its warnings.
// A misdeclared tenancy is the schema error the client would throw (Q1003, with the line).

import { type Command, SCHEMA_OPTION, type Schema, flags, main, offlineEngine, readSchema } from "./context.js";

export const summary = "Print how each model is scoped under a tenant";

export const help = `
Usage: quarry tenancy [--schema path] [--field name]

Prints the schema's models and how each is treated under a tenant:
  scoped   it has the tenant field; its rows belong to the tenant in it
  shared   its tenant field is optional (/// @quarry.shared): rows without a tenant are shared,
           read by every tenant, written by none
  global   no tenant field: read by every tenant, written only without a tenant
  tenant   the tenant model: under a tenant only its own row
"writable" marks models whose rows of no tenant tenants may write (@quarry.global(writable),
@quarry.shared(writable)). A schema whose tenancy is misdeclared fails as the client would.

Options:
  --schema <path>  the schema file (default: prisma/schema.prisma, schema.prisma)
  --field <name>   the tenant field's name, as the client's tenancy.field (default tenantId, or
                   the schema's generator quarry { tenantField })
  -h, --help       this help

Exit code: 0 done, 1 failed, 2 wrong command line.
`;

export async function run(argv: string[]): Promise<number> {
  let schema: Schema | undefined;
  return main({ help }, argv, async () => {
    const { values } = flags(argv, { ...SCHEMA_OPTION, field: { type: "string" } });
    schema = readSchema(values.schema);
    const described = offlineEngine(schema, undefined, values.field).describe();
    const rows = described.tenancy.map((t) => [t.model, t.tenancy, t.field ?? "", t.writable ? "writable" : ""]);
    const header = ["model", "tenancy", "field", ""];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
    process.stdout.write(`${[header, ...rows].map(line).join("\n")}\n`);
    for (const w of described.warnings) process.stderr.write(`Warning ${w.code}: ${w.message}\n`);
    return 0;
  }, () => schema);
}

export default { summary, help, run } satisfies Command;
