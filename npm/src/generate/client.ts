// The arguments of every action on one model, the model's delegate, and the client: a delegate
// per model (the tenant-scoped ones only on tenant views and `$unscoped()`), `createClient` bound
// to the schema the module was generated from, and the enums as values.

import { type ModelInfo, delegateName } from "./model.js";
import { shapingProps } from "./outputs.js";
import type { EnumDescription } from "./schema.js";
import { alias, doc, iface, literals, prop } from "./write.js";

/** `UserFindManyArgs` and the rest, `UserTypes` (all of them), `UserDelegate`. */
export function args(m: ModelInfo): string {
  const n = m.name;
  const shape = shapingProps(m);
  const where = prop("where", `${n}WhereInput`, true);
  const unique = prop("where", `${n}WhereUniqueInput`, false);
  const orderBy = prop("orderBy", `${n}OrderByWithRelationInput | readonly ${n}OrderByWithRelationInput[]`, true);
  const window = [
    ...where,
    ...orderBy,
    ...prop("cursor", `${n}WhereUniqueInput`, true),
    ...prop("take", "number", true),
    ...prop("skip", "number", true),
    ...prop("distinct", `${n}ScalarField | readonly ${n}ScalarField[]`, true),
  ];
  const createData = `${n}CreateInput | ${n}UncheckedCreateInput`;
  const updateData = `${n}UpdateInput | ${n}UncheckedUpdateInput`;
  const createMany = [...prop("data", `${n}CreateManyInput | readonly ${n}CreateManyInput[]`, false), ...prop("skipDuplicates", "boolean", true)];
  const updateMany = [...where, ...prop("data", `${n}UpdateManyMutationInput`, false), ...prop("limit", "number", true)];
  const out = [
    iface(`${n}FindUniqueArgs`, [...unique, ...shape]),
    iface(`${n}FindManyArgs`, [...window, ...shape]),
    alias(`${n}FindFirstArgs`, `${n}FindManyArgs`),
    iface(`${n}CountArgs`, [...window, ...prop("select", `true | ${n}CountAggregateInput`, true)]),
    iface(`${n}AggregateArgs`, window, undefined, ` extends ${n}AggregateSelection`),
    iface(
      `${n}GroupByArgs`,
      [
        ...prop("by", `${n}ScalarField | readonly ${n}ScalarField[]`, false),
        ...where,
        ...prop("having", `${n}HavingInput`, true),
        ...prop("orderBy", `${n}OrderByWithAggregationInput | readonly ${n}OrderByWithAggregationInput[]`, true),
        ...prop("take", "number", true),
        ...prop("skip", "number", true),
      ],
      undefined,
      ` extends ${n}AggregateSelection`,
    ),
    iface(`${n}CreateArgs`, [...prop("data", createData, false), ...shape]),
    iface(`${n}CreateManyArgs`, createMany),
    iface(`${n}CreateManyAndReturnArgs`, [...createMany, ...shape]),
    iface(`${n}UpdateArgs`, [...unique, ...prop("data", updateData, false), ...shape]),
    iface(`${n}UpdateManyArgs`, updateMany),
    iface(`${n}UpdateManyAndReturnArgs`, [...updateMany, ...shape]),
    iface(`${n}UpsertArgs`, [...unique, ...prop("create", createData, false), ...prop("update", updateData, false), ...shape]),
    iface(`${n}DeleteArgs`, [...unique, ...shape]),
    iface(`${n}DeleteManyArgs`, [...where, ...prop("limit", "number", true)]),
  ];
  const actions: [string, string][] = [
    ["findUnique", "FindUniqueArgs"],
    ["findFirst", "FindFirstArgs"],
    ["findMany", "FindManyArgs"],
    ["count", "CountArgs"],
    ["aggregate", "AggregateArgs"],
    ["groupBy", "GroupByArgs"],
    ["create", "CreateArgs"],
    ["createMany", "CreateManyArgs"],
    ["createManyAndReturn", "CreateManyAndReturnArgs"],
    ["update", "UpdateArgs"],
    ["updateMany", "UpdateManyArgs"],
    ["updateManyAndReturn", "UpdateManyAndReturnArgs"],
    ["upsert", "UpsertArgs"],
    ["delete", "DeleteArgs"],
    ["deleteMany", "DeleteManyArgs"],
  ];
  out.push(
    iface(
      `${n}Types`,
      [`  payload: $${n}Payload;`, ...actions.map(([action, suffix]) => `  ${action}: ${n}${suffix};`)],
      "Every action's arguments, for the delegate.",
    ),
  );
  out.push(alias(`${n}Delegate`, `$.Delegate<${n}Types>`, `\`db.${delegateName(n)}\`: every action on ${n}.`));
  return out.join("\n\n");
}

/** An enum as a type and as a frozen object of its values (declaration). */
export function enumDeclaration(e: EnumDescription): string {
  return [
    ...doc(e.documentation),
    `export declare const ${e.name}: {`,
    ...e.values.map((v) => `  readonly ${v}: ${JSON.stringify(v)};`),
    "};",
    `export type ${e.name} = (typeof ${e.name})[keyof typeof ${e.name}];`,
  ].join("\n");
}

/** The client types and `createClient`'s declaration. */
export function clientDeclaration(models: ModelInfo[]): string {
  const scoped = models.filter((m) => m.model.tenancy !== "unscoped").map((m) => delegateName(m.name));
  // A String tenant field takes strings only; an Int or BigInt one also takes the id as a string.
  const field = models.map((m) => (m.tenantField ? m.scalar(m.tenantField) : undefined)).find((s) => s !== undefined);
  const tenantId = field?.field.type === "String" ? "string" : "string | number | bigint";
  return [
    iface(
      "Delegates",
      models.map((m) => `  readonly ${delegateName(m.name)}: ${m.name}Delegate;`),
      "A delegate per model.",
    ),
    iface(
      "ClientShape",
      ["  delegates: Delegates;", `  scoped: ${literals(scoped)};`, `  tenantId: ${tenantId};`],
      "The client's delegates; `scoped` are those of tenant-scoped models, which only a tenant view or `$unscoped()` has;\n`tenantId` is what `$forTenant` takes.",
    ),
    alias(
      "QuarryClient",
      "$.Client<ClientShape>",
      "What `createClient` returns. Without a tenant context it has no delegates of tenant-scoped models (they fail closed):\n`db.$forTenant(id)` or `db.$unscoped()` gives a view that has them.",
    ),
    alias("TenantClient", "$.Client<ClientShape, true>", "A view under a tenant (`$forTenant`) or without scope (`$unscoped`)."),
    alias("TransactionClient", "$.TransactionClient<ClientShape, true>", "The client an interactive transaction of a tenant view gets."),
    alias("ClientOptions", '$.Without<$.ClientOptions, "schema"> & { schema?: string }', "createClient's options; the schema defaults to the one this module was generated from."),
    "/** The schema this module was generated from. */\nexport declare const schema: string;",
    "/** A client for this schema: `createClient({ url })` (native engine) or `createClient({ adapter })`. */\nexport declare function createClient(options: ClientOptions): QuarryClient;",
  ].join("\n\n");
}
