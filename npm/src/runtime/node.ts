// Entry point for Node.js (the `node` export condition): the engine module is read from the
// package's wasm/ folder, synchronously, on first use.

import { readFileSync } from "node:fs";
import { provideEngineModule } from "../engine.js";

// This file runs from dist/npm/src/runtime/; the module sits in wasm/ at the package's root.
provideEngineModule(() => readFileSync(new URL("../../../../wasm/quarry_engine_wasm_bg.wasm", import.meta.url)));

export * from "../index.js";
