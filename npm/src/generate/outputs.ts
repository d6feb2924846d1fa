// The read side of one model: its row type, the payload result inference walks (`$UserPayload`),
// `select` / `include` / `omit`, ordering, and the inputs of count, aggregate and groupBy.

import type { ModelInfo, Scalar } from "./model.js";
import { alias, iface, literals, prop } from "./write.js";

function outputType(s: Scalar): string {
  if (s.list) return `${s.output}[]`;
  return s.optional ? `${s.output} | null` : s.output;
}

/** `User`: the row as the client returns it. */
export function modelType(m: ModelInfo): string {
  const members = m.scalars.flatMap((s) => prop(s.name, outputType(s), false, s.field.documentation));
  return iface(m.name, members, m.model.documentation ?? `A ${m.name} row as the client returns it.`);
}

/** `$UserPayload`: the row and, per relation, the related model's payload. */
export function payload(m: ModelInfo): string {
  const objects = m.relations.map((r) => {
    const p = `$${r.target}Payload`;
    return `    ${r.name}: ${r.list ? `${p}[]` : r.optional ? `${p} | null` : p};`;
  });
  return [
    `export interface $${m.name}Payload {`,
    `  name: ${JSON.stringify(m.name)};`,
    `  scalars: ${m.name};`,
    objects.length ? `  objects: {\n${objects.join("\n")}\n  };` : "  objects: {};",
    "}",
    alias(`${m.name}GetPayload<A>`, `$.GetResult<$${m.name}Payload, A>`, `What a read or write of ${m.name} returns for arguments \`A\`.`),
  ].join("\n");
}

function relationArgs(m: ModelInfo, name: string): string {
  const r = m.relations.find((x) => x.name === name);
  if (!r) return "never";
  return r.list ? `${r.target}FindManyArgs` : `${r.target}DefaultArgs`;
}

/** `UserSelect`, `UserInclude`, `UserOmit`, `UserCountSelect` and `UserDefaultArgs`. */
export function selection(m: ModelInfo): string {
  const out: string[] = [];
  const lists = m.relations.filter((r) => r.list);
  const count = lists.length ? [...prop("_count", `boolean | { select?: ${m.name}CountSelect }`, true, "A count per to-many relation.")] : [];
  if (lists.length) {
    out.push(iface(`${m.name}CountSelect`, lists.flatMap((r) => prop(r.name, `boolean | { where?: ${r.target}WhereInput }`, true))));
  }
  const relations = m.relations.flatMap((r) => prop(r.name, `boolean | ${relationArgs(m, r.name)}`, true));
  out.push(iface(`${m.name}Select`, [...m.scalars.flatMap((s) => prop(s.name, "boolean", true)), ...relations, ...count], `The fields a ${m.name} result has: \`true\` selects, a relation takes its own arguments.`));
  if (m.relations.length) out.push(iface(`${m.name}Include`, [...relations, ...count], "Relations to add to the row's scalars."));
  out.push(iface(`${m.name}Omit`, m.scalars.flatMap((s) => prop(s.name, "boolean", true)), "Scalars to leave out of the result."));
  out.push(iface(`${m.name}DefaultArgs`, shapingProps(m), `The shape of a ${m.name} result: select, include or omit.`));
  return out.join("\n\n");
}

/** `select` / `include` / `omit` of a model's arguments. */
export function shapingProps(m: ModelInfo): string[] {
  return [
    ...prop("select", `${m.name}Select | null`, true),
    ...(m.relations.length ? prop("include", `${m.name}Include | null`, true) : []),
    ...prop("omit", `${m.name}Omit | null`, true),
  ];
}

function orderable(s: Scalar): boolean {
  return !s.list && !s.json;
}

function sortType(s: Scalar): string {
  return s.optional ? "$.SortOrder | $.SortOrderInput" : "$.SortOrder";
}

/** `UserOrderByWithRelationInput`: scalars, to-one relations' fields, to-many relations' counts. */
export function orderBy(m: ModelInfo): string {
  const members = [
    ...m.scalars.filter(orderable).flatMap((s) => prop(s.name, sortType(s), true)),
    ...m.relations.flatMap((r) => prop(r.name, r.list ? "$.CountOrderBy" : `${r.target}OrderByWithRelationInput`, true)),
  ];
  return iface(`${m.name}OrderByWithRelationInput`, members);
}

/** Scalar fields `_min` / `_max` apply to. */
function comparable(m: ModelInfo): Scalar[] {
  return m.scalars.filter((s) => orderable(s) && s.field.type !== "Bytes");
}

function numeric(m: ModelInfo): Scalar[] {
  return m.scalars.filter((s) => s.numeric && !s.list);
}

/** The inputs of count, aggregate and groupBy: which fields each aggregate takes, their ordering and `having`. */
export function aggregates(m: ModelInfo): string {
  const n = m.name;
  const out: string[] = [];
  const flags = (fields: Scalar[]) => fields.flatMap((s) => prop(s.name, "boolean", true));
  out.push(iface(`${n}CountAggregateInput`, [...prop("_all", "boolean", true), ...flags(m.scalars)]));
  if (numeric(m).length) {
    out.push(iface(`${n}SumAggregateInput`, flags(numeric(m))));
    out.push(alias(`${n}AvgAggregateInput`, `${n}SumAggregateInput`));
  }
  out.push(iface(`${n}MinAggregateInput`, flags(comparable(m))));
  out.push(alias(`${n}MaxAggregateInput`, `${n}MinAggregateInput`));
  out.push(iface(`${n}AggregateSelection`, aggregateSelectionProps(m), "The aggregates of aggregate() and groupBy()."));

  const orderMembers = [
    ...m.scalars.filter(orderable).flatMap((s) => prop(s.name, sortType(s), true)),
    ...prop("_count", `$.SortBy<keyof ${n}CountAggregateInput>`, true),
    ...(numeric(m).length ? [...prop("_avg", `$.SortBy<keyof ${n}AvgAggregateInput>`, true), ...prop("_sum", `$.SortBy<keyof ${n}SumAggregateInput>`, true)] : []),
    ...prop("_min", `$.SortBy<keyof ${n}MinAggregateInput>`, true),
    ...prop("_max", `$.SortBy<keyof ${n}MaxAggregateInput>`, true),
  ];
  out.push(iface(`${n}OrderByWithAggregationInput`, orderMembers, "groupBy's orderBy: grouped fields or aggregates."));

  const having = [
    ...prop("AND", `${n}HavingInput | readonly ${n}HavingInput[]`, true),
    ...prop("OR", `readonly ${n}HavingInput[]`, true),
    ...prop("NOT", `${n}HavingInput | readonly ${n}HavingInput[]`, true),
    ...m.scalars.filter((s) => !s.list && !s.json).flatMap((s) => {
      const f = havingFilter(s);
      const avg = s.field.type === "Decimal" ? f : "$.NullableFilter<number>";
      return prop(s.name, `$.HavingFilter<${f}, ${avg}>`, true);
    }),
    ...prop("_count", `$.CountFilters<keyof ${n}CountAggregateInput>`, true),
  ];
  out.push(iface(`${n}HavingInput`, having, "groupBy's having: conditions on grouped fields or on aggregates."));
  return out.join("\n\n");
}

/** The nullable filter of a field's type: an aggregate of it may be NULL. */
function havingFilter(s: Scalar): string {
  if (s.field.kind === "enum" || s.field.type === "Bytes") return `$.NullableEqualityFilter<${s.input}>`;
  if (s.field.type === "String") return "$.NullableStringFilter";
  if (s.field.type === "Boolean") return "$.NullableBoolFilter";
  return `$.NullableFilter<${s.input}>`;
}

function aggregateSelectionProps(m: ModelInfo): string[] {
  return [
    ...prop("_count", `true | ${m.name}CountAggregateInput`, true),
    ...(numeric(m).length ? [...prop("_avg", `${m.name}AvgAggregateInput`, true), ...prop("_sum", `${m.name}SumAggregateInput`, true)] : []),
    ...prop("_min", `${m.name}MinAggregateInput`, true),
    ...prop("_max", `${m.name}MaxAggregateInput`, true),
  ];
}

/** `UserScalarField`: the names `distinct` and `by` take. */
export function scalarFieldNames(m: ModelInfo): string {
  return alias(`${m.name}ScalarField`, literals(m.scalars.map((s) => s.name)));
}

