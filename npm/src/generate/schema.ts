// The resolved schema the generator works from, as the engine describes it (`describeSchema` in
// the WebAssembly module; engine/src/schema/describe.rs owns the shape). The generator never
// parses Prisma schema text itself: the engine's resolution (relations paired, keys named,
// tenancy worked out) is the one the client runs with.

import { describeSchema } from "../engine.js";

export interface SchemaDescription {
  provider: "postgresql" | "mysql" | "sqlite";
  /** Generator blocks and their string settings (`output`, `provider`, ...). */
  generators: { name: string; config: Record<string, string> }[];
  tenancy: { field: string; tenantModel: string | null };
  enums: EnumDescription[];
  models: ModelDescription[];
}

export interface EnumDescription {
  name: string;
  values: string[];
  documentation?: string;
}

/** How tenant scope treats a model (see the README's tenant rules). */
export type ModelTenancy = "unscoped" | "scoped" | "shared" | "tenant";

export interface KeyDescription {
  /** The key in a unique `where`: the field for one field, else the `@@id`/`@@unique` name or `a_b`. */
  name: string;
  fields: string[];
}

export interface ModelDescription {
  name: string;
  documentation?: string;
  tenancy: ModelTenancy;
  primaryKey: KeyDescription | null;
  uniques: KeyDescription[];
  fields: FieldDescription[];
}

export interface FieldDescription {
  name: string;
  kind: "scalar" | "enum" | "relation" | "unsupported";
  /** `Int`, `String`, ... for scalars; the enum's or related model's name otherwise. */
  type: string;
  list: boolean;
  required: boolean;
  id: boolean;
  unique: boolean;
  updatedAt: boolean;
  default: { kind: string; value?: unknown } | null;
  relation?: RelationDescription;
  documentation?: string;
}

export interface RelationDescription {
  name: string;
  /** Who holds the foreign key: this model (`foreignKey`), the related one, or a join table. */
  link: "foreignKey" | "backReference" | "joinTable";
  /** The foreign key fields (this model's for `foreignKey`, the related model's otherwise). */
  fields: string[];
  references: string[];
  /** The relation field on the related model that is the other side. */
  back: string | null;
}

/** The engine's description of a schema; throws the engine's error (with line:column) when invalid. */
export function describe(schemaText: string, options: { tenantField?: string } = {}): SchemaDescription {
  return describeSchema(schemaText, options) as SchemaDescription;
}
