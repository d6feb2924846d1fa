// The WebAssembly engine's size budget: the optimized module, gzipped at level 9, must stay under
// the budget in bindings/wasm/size-budget.json. Prints both sizes.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { gzipSync } from "node:zlib";

const ROOT = new URL("../../../", import.meta.url);

test("the engine module stays within its gzip budget", (t) => {
  const { gzipBytes } = JSON.parse(readFileSync(new URL("bindings/wasm/size-budget.json", ROOT), "utf8"));
  const wasm = readFileSync(new URL("npm/wasm/quarry_engine_wasm_bg.wasm", ROOT));
  const gzip = gzipSync(wasm, { level: 9 }).length;
  t.diagnostic(`quarry_engine_wasm_bg.wasm: ${wasm.length} bytes raw, ${gzip} bytes gzip (budget ${gzipBytes})`);
  assert.ok(gzip <= gzipBytes, `the engine module is ${gzip} bytes gzipped, over its budget of ${gzipBytes} bytes`);
});
