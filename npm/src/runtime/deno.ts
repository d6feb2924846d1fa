// Entry point for Deno and Supabase Edge Functions (the `deno` export condition): the engine
// module is read from the package's wasm/ folder with Deno's own file API, on first use.

import { provideEngineModule } from "../engine.js";

declare const Deno: { readFileSync(path: URL): Uint8Array };

provideEngineModule(() => Deno.readFileSync(new URL("../../../../wasm/quarry_engine_wasm_bg.wasm", import.meta.url)));

export * from "../index.js";
