// Entry point for Vercel Edge Functions and Next.js edge routes (the `edge-light` export
// condition): their bundlers compile a `.wasm?module` import into a `WebAssembly.Module`, created
// outside the function's sandbox (another realm, which the loader accepts).

import engineModule from "../../../../wasm/quarry_engine_wasm_bg.wasm?module";
import { provideEngineModule } from "../engine.js";

provideEngineModule(() => engineModule);

export * from "../index.js";
