// Entry point for Cloudflare Workers (the `workerd` export condition): Workers' bundler (wrangler,
// or Miniflare's module rules) turns an imported `.wasm` file into a compiled `WebAssembly.Module`;
// Workers cannot compile Wasm from bytes at run time.

import engineModule from "../../../../wasm/quarry_engine_wasm_bg.wasm";
import { provideEngineModule } from "../engine.js";

provideEngineModule(() => engineModule);

export * from "../index.js";
