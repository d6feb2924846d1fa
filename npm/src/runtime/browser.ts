// Entry point for browsers and any other runtime (the `browser` and `default` export
// conditions): the engine module is fetched next to this file and compiled before the entry
// point finishes loading (top-level await), so `createClient` stays synchronous.

import { provideEngineModule } from "../engine.js";

declare const WebAssembly: { compile(bytes: ArrayBuffer): Promise<object> };

const url = new URL("../../../../wasm/quarry_engine_wasm_bg.wasm", import.meta.url);
const response = await fetch(url);
if (!response.ok) throw new Error(`quarry: cannot load its engine module from ${url} (HTTP ${response.status})`);
const compiled = await WebAssembly.compile(await response.arrayBuffer());
provideEngineModule(() => compiled);

export * from "../index.js";
