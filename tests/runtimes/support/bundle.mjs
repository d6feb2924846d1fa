// Bundles a Worker as wrangler does (esbuild; `workerd` first among the export conditions; the
// engine's .wasm stays a separate module that Workers compile at upload), so the smoke test runs
// what a deployment would run and the size report measures it.

import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

export async function bundleWorker(entry, outdir, { minify = false } = {}) {
  await build({
    entryPoints: { worker: entry },
    outdir,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    loader: { ".wasm": "copy" },
    assetNames: "[name]",
    minify,
    logLevel: "error",
  });
  const files = readdirSync(outdir);
  const wasm = files.find((f) => f.endsWith(".wasm"));
  if (!wasm) throw new Error("the Worker bundle has no .wasm module: the `workerd` export condition was not used");
  return { script: join(outdir, "worker.js"), wasm: join(outdir, wasm) };
}

/** Raw and gzip (level 9) size of a file. */
export function sizes(file) {
  const bytes = readFileSync(file);
  return { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}
