// Entry point for Node.js (the `node` export condition): the engine module is read from the
// package's wasm/ folder, synchronously, on first use; the native addon is offered for a PostgreSQL
// `url`, and where it cannot be loaded, the WebAssembly engine over node-postgres; a MySQL `url`
// runs the WebAssembly engine over mysql2.

import { readFileSync } from "node:fs";
import { provideNativeSupport } from "../client.js";
import { provideEngineModule } from "../engine.js";
import { mysqlFallback, pgFallback } from "../fallback.js";
import { NativeEngine, loadNative } from "../native.js";

// This file runs from dist/npm/src/runtime/; the module sits in wasm/ at the package's root.
provideEngineModule(() => readFileSync(new URL("../../../../wasm/quarry_engine_wasm_bg.wasm", import.meta.url)));
// `createClient({ schema, url })`: the native addon, on Node only.
provideNativeSupport({ load: loadNative, engine: (...args) => new NativeEngine(...args), fallback: pgFallback, mysql: mysqlFallback });

export * from "../index.js";
