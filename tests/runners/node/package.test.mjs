// The package as published: publint (strict) finds nothing wrong with package.json and the files
// it names, and @arethetypeswrong/cli finds every entry point's types under every resolution
// TypeScript has: node10, node16 from CommonJS (the `.d.cts` declarations and the `.cjs` entry that
// loads the ES module) and from ES modules, and bundlers'. Each runtime's export condition leads to
// its own Wasm loader.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const ROOT = new URL("../../../", import.meta.url);
const PKG = fileURLToPath(new URL("npm/", ROOT));
const bin = (name) => fileURLToPath(new URL(`node_modules/.bin/${name}`, ROOT));
const run = promisify(execFile);

test("publint --strict reports nothing", async () => {
  const { stdout } = await run(bin("publint"), [PKG, "--strict"]).catch((e) => assert.fail(`publint failed:\n${e.stdout}${e.stderr}`));
  assert.doesNotMatch(stdout, /Errors|Warnings|Suggestions/, stdout);
});

test("@arethetypeswrong/cli finds the types of every entry point (node10, node16 CommonJS and ESM, bundler)", async () => {
  const out = await run(bin("attw"), ["--pack", PKG, "--format", "json"], { maxBuffer: 16 << 20 }).catch((e) => e);
  const report = JSON.parse(out.stdout);
  const problems = report.analysis?.problems ?? [];
  assert.deepEqual(problems, [], JSON.stringify(problems, null, 2));
  const entries = Object.keys(report.analysis.entrypoints);
  for (const e of [".", "./adapters/pg", "./adapters/pglite", "./adapters/neon", "./adapters/mysql2", "./adapters/planetscale"]) assert.ok(entries.includes(e), `attw checked ${e}`);
});

test("export conditions go from the most specific runtime to the most generic", () => {
  const pkg = JSON.parse(readFileSync(new URL("npm/package.json", ROOT), "utf8"));
  const conditions = Object.keys(pkg.exports["."]);
  assert.deepEqual(conditions, ["types", "workerd", "edge-light", "deno", "node", "browser", "default"]);
  // Every file a condition leads to, nested ones (`node` -> `require`) included, exists.
  const files = (target) => (typeof target === "string" ? [target] : Object.values(target).flatMap(files));
  for (const file of files(pkg.exports)) readFileSync(new URL(file, new URL("npm/", ROOT)));
});
