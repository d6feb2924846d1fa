// What the generator needs to know about each model, worked out once from the description: its
// scalar and relation fields, which scalars are foreign keys set through a relation, which fields a
// create must name, the tenant field the engine fills in, the unique keys, and the TypeScript type
// of each field as the client returns it, takes it in writes and compares it in filters.

import type { FieldDescription, KeyDescription, ModelDescription, SchemaDescription } from "./schema.js";

/** Prisma Client's delegate name: `User` -> `user`, `BlogPost` -> `blogPost`. */
export function delegateName(model: string): string {
  return model.charAt(0).toLowerCase() + model.slice(1);
}

export function capitalize(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

const NUMERIC = new Set(["Int", "BigInt", "Float", "Decimal"]);

/** A scalar (or enum) field with its TypeScript types. */
export interface Scalar {
  field: FieldDescription;
  name: string;
  /** The value as a result carries it (without `| null` or `[]`). */
  output: string;
  /** The value a write or filter takes (without `| null` or `[]`). */
  input: string;
  numeric: boolean;
  /** Json fields: no ordering, distinct or min/max; filters and writes of their own. */
  json: boolean;
  optional: boolean;
  list: boolean;
  /** A create may leave it out: optional, a list, a default, @updatedAt, or the tenant field. */
  canOmitInCreate: boolean;
}

export interface Relation {
  field: FieldDescription;
  name: string;
  /** The related model. */
  target: string;
  list: boolean;
  optional: boolean;
  link: "foreignKey" | "backReference" | "joinTable";
  /** This model's foreign key fields (a `foreignKey` link), else none. */
  ownFields: string[];
  /** The related model's foreign key fields to this one (a `backReference` link), else none. */
  targetFields: string[];
  /** The relation field on the related model that is the other side. */
  back: string | null;
}

export class ModelInfo {
  readonly name: string;
  readonly model: ModelDescription;
  readonly scalars: Scalar[];
  readonly relations: Relation[];
  /** The tenant field, when the engine fills it in under a tenant (scoped and shared models). */
  readonly tenantField: string | undefined;
  /** Scalars written through a relation in the checked create and update inputs. */
  readonly foreignKeys: Set<string>;
  readonly keys: KeyDescription[];

  constructor(model: ModelDescription, schema: SchemaDescription) {
    this.name = model.name;
    this.model = model;
    const scoped = model.tenancy === "scoped" || model.tenancy === "shared";
    this.tenantField = scoped ? schema.tenancy.field : undefined;
    const enums = new Set(schema.enums.map((e) => e.name));
    this.scalars = model.fields
      .filter((f) => f.kind === "scalar" || (f.kind === "enum" && enums.has(f.type)))
      .map((f) => scalarOf(f, f.name === this.tenantField));
    this.relations = model.fields
      .filter((f): f is FieldDescription & { relation: NonNullable<FieldDescription["relation"]> } => f.kind === "relation" && !!f.relation)
      .map((f) => ({
        field: f,
        name: f.name,
        target: f.type,
        list: f.list,
        optional: !f.required && !f.list,
        link: f.relation.link,
        ownFields: f.relation.link === "foreignKey" ? f.relation.fields : [],
        targetFields: f.relation.link === "backReference" ? f.relation.fields : [],
        back: f.relation.back,
      }));
    this.foreignKeys = new Set(this.relations.flatMap((r) => r.ownFields));
    this.keys = [...(model.primaryKey ? [model.primaryKey] : []), ...model.uniques];
  }

  scalar(name: string): Scalar | undefined {
    return this.scalars.find((s) => s.name === name);
  }

  /** A relation whose only foreign key is the tenant field: the engine sets it under a tenant. */
  isTenantRelation(r: Relation): boolean {
    return this.tenantField !== undefined && r.ownFields.length > 0 && r.ownFields.every((f) => f === this.tenantField);
  }

  /** Whether a checked create must name the relation (a required foreign key with no default). */
  relationRequiredInCreate(r: Relation): boolean {
    if (r.link !== "foreignKey" || this.isTenantRelation(r)) return false;
    return r.ownFields.some((f) => {
      const s = this.scalar(f);
      return s !== undefined && !s.canOmitInCreate;
    });
  }

  get hasListRelations(): boolean {
    return this.relations.some((r) => r.list);
  }
}

function scalarOf(f: FieldDescription, isTenantField: boolean): Scalar {
  const types = f.kind === "enum" ? { output: f.type, input: f.type } : SCALAR_TYPES[f.type] ?? { output: "unknown", input: "unknown" };
  const optional = !f.required && !f.list;
  return {
    field: f,
    name: f.name,
    output: types.output,
    input: types.input,
    numeric: f.kind === "scalar" && NUMERIC.has(f.type),
    json: f.kind === "scalar" && f.type === "Json",
    optional,
    list: f.list,
    canOmitInCreate: optional || f.list || f.default !== null || f.updatedAt || isTenantField,
  };
}

/** Each scalar type as results carry it and as writes and filters take it (`$` is `Typed`). */
const SCALAR_TYPES: Record<string, { output: string; input: string }> = {
  String: { output: "string", input: "string" },
  Boolean: { output: "boolean", input: "boolean" },
  Int: { output: "number", input: "number" },
  Float: { output: "number", input: "number" },
  BigInt: { output: "bigint", input: "$.BigIntInput" },
  Decimal: { output: "$.Decimal", input: "$.DecimalInput" },
  DateTime: { output: "$.DateTime", input: "$.DateTimeInput" },
  Json: { output: "$.JsonValue", input: "$.InputJsonValue" },
  Bytes: { output: "$.Bytes", input: "$.Bytes" },
};

/** The filter type of a scalar in `where` (its value alone is also accepted, as `equals`). */
export function filterType(s: Scalar): string {
  if (s.list) return `$.ScalarListFilter<${s.input}>`;
  if (s.json) return "$.JsonFilter";
  const n = s.optional ? "Nullable" : "";
  const type = s.field.kind === "enum" ? "Enum" : s.field.type;
  switch (type) {
    case "String":
      return `$.${n}StringFilter`;
    case "Boolean":
      return `$.${n}BoolFilter`;
    case "Enum":
    case "Bytes":
      return `$.${n}EqualityFilter<${s.input}>`;
    default:
      return s.optional ? `$.NullableFilter<${s.input}>` : `$.Filter<${s.input}>`;
  }
}
