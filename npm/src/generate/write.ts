// Small helpers for writing TypeScript declarations as text: doc comments, properties and
// interfaces, so the emitters read as the shape of the code they write.

/** A `/** … *\/` comment from documentation text (`///` lines of the schema), or nothing. */
export function doc(text: string | undefined, indent = ""): string[] {
  if (!text) return [];
  const lines = text.replace(/\*\//g, "*\\/").split("\n");
  if (lines.length === 1) return [`${indent}/** ${lines[0]} */`];
  return [`${indent}/**`, ...lines.map((l) => `${indent} * ${l}`.trimEnd()), `${indent} */`];
}

/** A property line: `name?: type;` */
export function prop(name: string, type: string, optional: boolean, documentation?: string): string[] {
  return [...doc(documentation, "  "), `  ${name}${optional ? "?" : ""}: ${type};`];
}

/** An interface (`members` are property lines), or an empty object type alias when there are none. */
export function iface(name: string, members: string[], documentation?: string, generics = ""): string {
  const head = doc(documentation);
  if (members.length === 0) return [...head, `export interface ${name}${generics} {}`].join("\n");
  return [...head, `export interface ${name}${generics} {`, ...members, "}"].join("\n");
}

/** A type alias. */
export function alias(name: string, type: string, documentation?: string): string {
  return [...doc(documentation), `export type ${name} = ${type};`].join("\n");
}

/** `A | B`, without repeats. */
export function union(...types: string[]): string {
  return [...new Set(types.filter((t) => t !== ""))].join(" | ");
}

/** A string literal union of names, or `never`. */
export function literals(names: string[]): string {
  return names.length === 0 ? "never" : names.map((n) => JSON.stringify(n)).join(" | ");
}
