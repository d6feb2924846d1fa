// The package's CommonJS face, written into npm/dist/ after `tsc`: for `require("quarry")` (and
// each subpath) a `.cjs` file that loads the ES module itself — Node.js 20.19+ and 22.12+ load ES
// modules with require(), so `import` and `require` share one instance of the package — and says
// clearly on an older Node.js that it cannot; and a `.d.cts` beside every `.d.ts`, the same
// declarations read as CommonJS, so TypeScript's `node16` / `nodenext` resolution from a CommonJS
// file finds types that describe what require() returns. Usage: node scripts/npm/cjs.mjs <dist>

import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { basename, join, relative } from "node:path";

const dist = process.argv[2];
if (!dist) throw new Error("usage: node scripts/npm/cjs.mjs <dist folder>");
const pkg = JSON.parse(readFileSync(join(dist, "..", "package.json"), "utf8"));

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else yield path;
  }
}

// Declarations: relative specifiers lead to the `.d.cts` twins. A package that is ES modules only
// (sql-template-tag) is re-exported through type-only imports with `resolution-mode: "import"`,
// which a CommonJS declaration file may name.
const ESM_ONLY = new Set(["sql-template-tag"]);
let declarations = 0;
for (const path of files(dist)) {
  if (!path.endsWith(".d.ts")) continue;
  let text = readFileSync(path, "utf8")
    .replace(/(from\s+|import\()"(\.{1,2}\/[^"]*)\.js"/g, '$1"$2.cjs"')
    .replace(/^\/\/# sourceMappingURL=.*$/m, "");
  text = text.replace(/^export \{([^}]*)\} from "([^"]+)";$/gm, (line, names, from) => {
    if (!ESM_ONLY.has(from)) return line;
    const pairs = names.split(",").map((n) => n.trim()).filter(Boolean).map((n) => {
      const [imported, exported = imported] = n.split(/\s+as\s+/);
      return { imported, exported, local: `__${exported}` };
    });
    const imports = pairs.map((p) => `${p.imported} as ${p.local}`).join(", ");
    const decls = pairs.map((p) => `export declare const ${p.exported}: typeof ${p.local};`).join("\n");
    return `import type { ${imports} } from "${from}" with { "resolution-mode": "import" };\n${decls}`;
  });
  writeFileSync(path.replace(/\.d\.ts$/, ".d.cts"), text);
  declarations++;
}

// One `.cjs` per entry point of `exports` whose ES module has no CommonJS twin yet.
const targets = new Set();
const walk = (value) => {
  if (typeof value === "string") {
    if (value.endsWith(".cjs") && value.startsWith("./dist/")) targets.add(value);
  } else if (value && typeof value === "object") Object.values(value).forEach(walk);
};
walk(pkg.exports);
for (const target of targets) {
  const file = join(dist, "..", target);
  const esm = `./${basename(target, ".cjs")}.js`;
  writeFileSync(
    file,
    `"use strict";
// require() of this package: the ES module ${esm} itself (Node.js 20.19+ and 22.12+ load ES modules
// with require()), so import and require share one instance.
try {
  module.exports = require(${JSON.stringify(esm)});
} catch (e) {
  if (e && e.code === "ERR_REQUIRE_ESM") {
    throw new Error(
      "${pkg.name}: require() of this package needs Node.js 20.19 or newer (22.12 or newer on 22), which load ES modules with require(); this is Node.js " +
        process.version + ". Upgrade Node.js, or load it with import() / an ES module.",
      { cause: e },
    );
  }
  throw e;
}
`,
  );
}
console.log(`CommonJS face: ${declarations} declaration files, ${targets.size} entry points (${[...targets].map((t) => relative("./dist", t)).join(", ")})`);
