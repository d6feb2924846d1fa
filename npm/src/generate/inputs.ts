// The write and filter side of one model: `where` (and unique `where`, one key at least), the
// create and update inputs in Prisma's two forms — checked (relations written as nested writes)
// and unchecked (foreign keys written as values) — and the nested writes each relation takes.
//
// The two forms exclude each other as Prisma's XOR does, written out: the checked input marks the
// foreign keys `?: never`, the unchecked one the relations they belong to. A nested create or
// update through a relation leaves out the other side (the parent fills it in): those are the
// `…Without…Input` types. The tenant field, and a relation that only sets it, may be left out of a
// create: the engine fills it in under a tenant (outside one, give it).

import { type ModelInfo, type Relation, type Scalar, capitalize, filterType } from "./model.js";
import { alias, iface, prop, union } from "./write.js";

/** The models by name, for the other side of a relation. */
export type Models = Map<string, ModelInfo>;

// ---------------------------------------------------------------------------------------------
// where

function scalarWhere(s: Scalar): string {
  if (s.list || s.json) return filterType(s);
  return union(filterType(s), s.input, s.optional ? "null" : "");
}

function relationWhere(r: Relation): string {
  const w = `${r.target}WhereInput`;
  if (r.list) return `$.ListRelationFilter<${w}>`;
  return union(`$.RelationFilter<${w}>`, w, r.optional ? "null" : "");
}

/** `UserWhereInput` and `UserWhereUniqueInput`. */
export function where(m: ModelInfo): string {
  const n = m.name;
  const members = [
    ...prop("AND", `${n}WhereInput | readonly ${n}WhereInput[]`, true),
    ...prop("OR", `readonly ${n}WhereInput[]`, true),
    ...prop("NOT", `${n}WhereInput | readonly ${n}WhereInput[]`, true),
    ...m.scalars.flatMap((s) => prop(s.name, scalarWhere(s), true)),
    ...m.relations.flatMap((r) => prop(r.name, relationWhere(r), true)),
  ];
  const out = [iface(`${n}WhereInput`, members, `Conditions on ${n} rows: a value is \`equals\`; relations filter by their rows.`)];
  out.push(alias(`${n}WhereUniqueInput`, uniqueWhere(m), `Finds at most one ${n}: names a whole unique key (one at least), and may add other conditions.`));
  return out.join("\n\n");
}

function uniqueWhere(m: ModelInfo): string {
  if (m.keys.length === 0) return "never";
  const keys = m.keys.map((k) => {
    if (k.fields.length === 1) {
      const s = m.scalar(k.fields[0]);
      return `{ ${k.name}: ${s ? s.input : "unknown"} }`;
    }
    const inner = k.fields.map((f) => `${f}: ${m.scalar(f)?.input ?? "unknown"}`).join("; ");
    return `{ ${k.name}: { ${inner} } }`;
  });
  const compound = m.keys.filter((k) => k.fields.length > 1);
  const base = compound.length
    ? `${m.name}WhereInput & { ${compound.map((k) => `${k.name}?: { ${k.fields.map((f) => `${f}: ${m.scalar(f)?.input ?? "unknown"}`).join("; ")} }`).join("; ")} }`
    : `${m.name}WhereInput`;
  return `${base} & (${keys.join(" | ")})`;
}

// ---------------------------------------------------------------------------------------------
// create

function createValue(s: Scalar): string {
  if (s.list) return `$.ListCreate<${s.input}>`;
  if (s.json) return union(s.input, "$.JsonNullValue", s.optional ? "$.DbNullValue | null" : "");
  return union(s.input, s.optional ? "null" : "");
}

function updateValue(s: Scalar): string {
  if (s.list) return `readonly ${s.input}[] | $.ListUpdate<${s.input}>`;
  if (s.json) return union(s.input, "$.JsonNullValue", s.optional ? "$.DbNullValue | null" : "");
  const value = union(s.input, s.optional ? "null" : "");
  if (s.numeric) return union(value, s.optional ? `$.NullableNumberUpdate<${s.input}>` : `$.NumberUpdate<${s.input}>`);
  return union(value, `$.SetUpdate<${value}>`);
}

/** The names a nested write through `r` leaves out of the related model's inputs: the other side and its foreign key. */
function otherSide(models: Models, r: Relation): string[] {
  if (!r.back) return [];
  const target = models.get(r.target);
  const back = target?.relations.find((x) => x.name === r.back);
  return [r.back, ...(back?.ownFields ?? [])];
}

/** `PostCreateWithoutAuthorInput` (what creating a Post through User.posts takes), or the plain create input. */
function createThrough(r: Relation): string {
  return r.back ? `${r.target}CreateWithout${capitalize(r.back)}Input` : `${r.target}CreateInput | ${r.target}UncheckedCreateInput`;
}

function updateThrough(r: Relation): string {
  return r.back ? `${r.target}UpdateWithout${capitalize(r.back)}Input` : `${r.target}UpdateInput | ${r.target}UncheckedUpdateInput`;
}

/** Rows of a nested createMany: the related model's scalars without the foreign key to the parent. */
function createManyThrough(models: Models, r: Relation): string {
  const omit = otherSide(models, r).filter((f) => models.get(r.target)?.scalar(f));
  return omit.length ? `$.Without<${r.target}CreateManyInput, ${omit.map((f) => JSON.stringify(f)).join(" | ")}>` : `${r.target}CreateManyInput`;
}

function updateManyThrough(models: Models, r: Relation): string {
  const omit = otherSide(models, r).filter((f) => models.get(r.target)?.scalar(f));
  return omit.length
    ? `$.Without<${r.target}UpdateManyMutationInput, ${omit.map((f) => JSON.stringify(f)).join(" | ")}>`
    : `${r.target}UpdateManyMutationInput`;
}

/** Whether the relation's rows can be unlinked from this side (no required foreign key in the way). */
function canDisconnect(models: Models, m: ModelInfo, r: Relation): boolean {
  if (r.link === "joinTable") return true;
  if (r.link === "foreignKey") return r.ownFields.every((f) => m.scalar(f)?.optional !== false);
  const target = models.get(r.target);
  return r.targetFields.every((f) => target?.scalar(f)?.optional !== false);
}

/** Whether the related row can be deleted through a to-one relation (not when this row's required key points at it). */
function canDelete(m: ModelInfo, r: Relation): boolean {
  if (r.link !== "foreignKey") return true;
  return r.ownFields.every((f) => m.scalar(f)?.optional !== false);
}

function nestedCreate(models: Models, r: Relation): string {
  const args = `${createThrough(r)}, ${r.target}WhereUniqueInput`;
  if (!r.list) return `$.CreateOneNested<${args}>`;
  if (r.link === "backReference") return `$.CreateListNested<${args}> & $.CreateManyNested<${createManyThrough(models, r)}>`;
  return `$.CreateListNested<${args}>`;
}

function nestedUpdate(models: Models, m: ModelInfo, r: Relation): string {
  const t = r.target;
  if (!r.list) {
    const parts = [`$.UpdateOneNested<${createThrough(r)}, ${t}WhereUniqueInput, ${t}WhereInput, ${updateThrough(r)}>`];
    if (canDisconnect(models, m, r)) parts.push(`$.DisconnectOne<${t}WhereInput>`);
    if (canDelete(m, r)) parts.push(`$.DeleteOne<${t}WhereInput>`);
    return parts.join(" & ");
  }
  const parts = [`$.UpdateListNested<${createThrough(r)}, ${t}WhereUniqueInput, ${t}WhereInput, ${updateThrough(r)}, ${updateManyThrough(models, r)}>`];
  if (r.link === "backReference") parts.push(`$.CreateManyNested<${createManyThrough(models, r)}>`);
  if (canDisconnect(models, m, r)) parts.push(`$.DisconnectList<${t}WhereUniqueInput>`);
  return parts.join(" & ");
}

/** A scalar the checked inputs write through a relation (`?: never` there). */
function viaRelation(m: ModelInfo, s: Scalar): boolean {
  return m.foreignKeys.has(s.name);
}

/** The create and update inputs, both forms, and the `…Without…` forms nested writes take. */
export function writes(models: Models, m: ModelInfo): string {
  const n = m.name;
  const out: string[] = [];
  const ownRelations = m.relations.filter((r) => r.link === "foreignKey");
  const otherRelations = m.relations.filter((r) => r.link !== "foreignKey");
  const never = (names: string[]) => names.flatMap((f) => prop(f, "never", true));
  const checked = ownRelations.length > 0;

  const createScalars = (all: boolean) =>
    m.scalars.filter((s) => all || !viaRelation(m, s)).flatMap((s) => prop(s.name, createValue(s), s.canOmitInCreate));
  const createRelations = (rs: Relation[]) => rs.flatMap((r) => prop(r.name, nestedCreate(models, r), !m.relationRequiredInCreate(r)));
  if (checked) {
    out.push(
      iface(
        `${n}CreateInput`,
        [...createScalars(false), ...createRelations(m.relations), ...never([...m.foreignKeys])],
        `A new ${n} with its relations written as nested writes (connect, create, ...).`,
      ),
    );
    out.push(
      iface(
        `${n}UncheckedCreateInput`,
        [...createScalars(true), ...createRelations(otherRelations), ...never(ownRelations.map((r) => r.name))],
        `A new ${n} with its foreign keys written as values.`,
      ),
    );
  } else {
    out.push(iface(`${n}CreateInput`, [...createScalars(true), ...createRelations(m.relations)], `A new ${n}.`));
    out.push(alias(`${n}UncheckedCreateInput`, `${n}CreateInput`));
  }
  out.push(iface(`${n}CreateManyInput`, createScalars(true), `A row of createMany: scalars only.`));

  const updateScalars = (all: boolean) => m.scalars.filter((s) => all || !viaRelation(m, s)).flatMap((s) => prop(s.name, updateValue(s), true));
  const updateRelations = (rs: Relation[]) => rs.flatMap((r) => prop(r.name, nestedUpdate(models, m, r), true));
  if (checked) {
    out.push(iface(`${n}UpdateInput`, [...updateScalars(false), ...updateRelations(m.relations), ...never([...m.foreignKeys])], `Changes to a ${n}, relations as nested writes.`));
    out.push(
      iface(
        `${n}UncheckedUpdateInput`,
        [...updateScalars(true), ...updateRelations(otherRelations), ...never(ownRelations.map((r) => r.name))],
        `Changes to a ${n}, foreign keys as values.`,
      ),
    );
  } else {
    out.push(iface(`${n}UpdateInput`, [...updateScalars(true), ...updateRelations(m.relations)], `Changes to a ${n}.`));
    out.push(alias(`${n}UncheckedUpdateInput`, `${n}UpdateInput`));
  }
  out.push(iface(`${n}UpdateManyMutationInput`, updateScalars(true), "Changes updateMany makes: scalars only."));

  // What a nested write through the other side of each relation of this model takes.
  for (const r of m.relations) {
    const omit = [r.name, ...r.ownFields].map((f) => JSON.stringify(f)).join(" | ");
    const B = capitalize(r.name);
    const both = (kind: string) =>
      checked ? `$.Without<${n}${kind}Input, ${omit}> | $.Without<${n}Unchecked${kind}Input, ${omit}>` : `$.Without<${n}${kind}Input, ${omit}>`;
    const through = r.back ? `${r.target}.${r.back}` : `a relation of ${r.target}`;
    out.push(alias(`${n}CreateWithout${B}Input`, both("Create"), `A ${n} created through ${through}, which provides its ${r.name}.`));
    out.push(alias(`${n}UpdateWithout${B}Input`, both("Update"), `Changes to a ${n} made through ${through}, which provides its ${r.name}.`));
  }
  return out.join("\n\n");
}
