// Turns wasm-bindgen's glue (target `web`) into a module whose one export, `instantiate()`, returns
// a fresh copy of the glue's exports with its own state: its own `wasm` instance, memory views,
// closures and finalizers. The client starts a new instance after the engine traps, and callbacks
// still pending in the dead instance (timers, driver promises, finalizers) must keep reaching the
// dead instance, never the new one: with the glue's single module-level `wasm` variable they would
// call into the new instance with the old instance's pointers.
//
// Usage: node scripts/npm/instantiable.mjs <dir> (rewrites quarry_engine_wasm.js and its .d.ts there;
// the original declarations are kept as quarry_engine_wasm_exports.d.ts).

import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2];
const js = join(dir, "quarry_engine_wasm.js");
const dts = join(dir, "quarry_engine_wasm.d.ts");

const fail = (why) => {
  console.error(`scripts/npm/instantiable.mjs: ${why}; the wasm-bindgen glue changed, update this script`);
  process.exit(1);
};

const names = new Map(); // exported name -> local name
const imports = [];
const body = [];
for (const line of readFileSync(js, "utf8").split("\n")) {
  let m;
  if (/^import\s/.test(line) || /^\/\* @ts-self-types=/.test(line)) imports.push(line);
  else if ((m = /^export (function|class|const|let) ([A-Za-z_$][\w$]*)/.exec(line))) {
    names.set(m[2], m[2]);
    body.push(line.slice("export ".length));
  } else if ((m = /^export \{([^}]*)\};?\s*$/.exec(line))) {
    for (const part of m[1].split(",").map((p) => p.trim()).filter(Boolean)) {
      const [local, exported = local] = part.split(/\s+as\s+/);
      names.set(exported, local);
    }
  } else if ((m = /^export default ([A-Za-z_$][\w$]*);?\s*$/.exec(line))) names.set("default", m[1]);
  else if (/^export\b/.test(line)) fail(`an export this script does not know: ${line}`);
  else body.push(line);
}
for (const needed of ["initSync", "installHost", "pollTask", "QuarryEngine"]) {
  if (!names.has(needed)) fail(`no export ${needed}`);
}
const entries = [...names].map(([exported, local]) => (exported === local ? local : `${JSON.stringify(exported)}: ${local}`));
const out = [
  ...imports,
  "/** A fresh copy of the engine's glue: its own instance, memory views, closures and finalizers. */",
  "export function instantiate() {",
  ...body,
  `return { ${entries.join(", ")} };`,
  "}",
  "",
].join("\n");
writeFileSync(js, out);

renameSync(dts, join(dir, "quarry_engine_wasm_exports.d.ts"));
writeFileSync(
  dts,
  [
    "// The glue's exports, as each call of `instantiate()` returns them (see quarry_engine_wasm_exports.d.ts).",
    'export type * from "./quarry_engine_wasm_exports.js";',
    'export declare function instantiate(): typeof import("./quarry_engine_wasm_exports.js");',
    "",
  ].join("\n"),
);
