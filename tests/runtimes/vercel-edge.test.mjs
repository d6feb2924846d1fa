// Vercel Edge semantics: the function in vercel-edge/function.mjs, bundled with the `edge-light`
// condition, runs in edge-runtime's sandbox (Vercel's Edge Runtime for local use). As Vercel's
// bundler does, the `.wasm?module` import becomes a binding to a `WebAssembly.Module` compiled
// outside the sandbox (another realm), which the package's loader must accept. Reads and a nested
// write under a tenant go to the real PostgreSQL through Neon's WebSocket and HTTP drivers.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { EdgeRuntime } from "edge-runtime";
import { build } from "esbuild";
import { DATABASE_URL, checkSmokeAnswers, smokeQuery, startSmokeEnvironment } from "./support/harness.mjs";

let env;
let runtime;

/** What Vercel's bundler does with `import m from "x.wasm?module"`: a binding to a compiled module. */
const wasmBindings = (modules) => ({
  name: "wasm-module-bindings",
  setup(b) {
    b.onResolve({ filter: /\.wasm\?module$/ }, (args) => {
      const path = fileURLToPath(new URL(args.path.replace(/\?module$/, ""), `file://${args.resolveDir}/`));
      const name = `wasm_${modules.size}`;
      modules.set(name, path);
      return { path: name, namespace: "wasm-binding" };
    });
    b.onLoad({ filter: /.*/, namespace: "wasm-binding" }, (args) => ({ contents: `export default globalThis.${args.path};`, loader: "js" }));
  },
});

before(async () => {
  env = await startSmokeEnvironment("qrt_edge");
  const modules = new Map();
  const out = await build({
    entryPoints: [fileURLToPath(new URL("vercel-edge/function.mjs", import.meta.url))],
    bundle: true,
    write: false,
    format: "iife",
    platform: "neutral",
    target: "es2022",
    conditions: ["edge-light", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    plugins: [wasmBindings(modules)],
    logLevel: "error",
  });
  assert.equal(modules.size, 1, "the edge-light entry imports the engine as .wasm?module");
  runtime = new EdgeRuntime({
    initialCode: out.outputFiles[0].text,
    extend(context) {
      // Compiled here, outside the sandbox: a module of another realm, as on Vercel.
      for (const [name, path] of modules) context[name] = new WebAssembly.Module(readFileSync(path));
      context.process = { env: { DATABASE_URL, WS_PROXY_PORT: String(env.wsPort), NEON_HTTP_ENDPOINT: env.httpEndpoint } };
      return context;
    },
  });
}, { timeout: 60_000 });

after(async () => {
  await env?.close();
});

test("an edge function in edge-runtime reads and writes under a tenant through Neon's WebSocket and HTTP drivers", { timeout: 60_000 }, async () => {
  // The premise: inside the sandbox, the module fails `instanceof` (another realm's class).
  assert.equal(runtime.evaluate("wasm_0 instanceof WebAssembly.Module"), false);
  assert.equal(runtime.evaluate("Object.prototype.toString.call(wasm_0)"), "[object WebAssembly.Module]");
  const run = `e${Date.now() % 1e6}`;
  const answers = [];
  for (const tenant of [1, 2]) {
    const res = await runtime.dispatchFetch(`http://localhost/?${smokeQuery(env, tenant, `${run}-${tenant}`)}`);
    const body = await res.json();
    assert.equal(res.status, 200, body.error);
    answers.push(body);
  }
  await checkSmokeAnswers(env, "edge-light", run, answers);
});
