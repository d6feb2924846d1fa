// A Vercel Edge Function using Quarry as a user would: `quarry` (its `edge-light` export imports
// the engine as `.wasm?module`, which Vercel's bundler compiles outside the function's sandbox)
// with Neon's driver over WebSocket and over HTTP. `WS_PROXY_PORT` and `NEON_HTTP_ENDPOINT` point
// Neon's driver at local stand-ins; against Neon itself they are left out.

import { Pool, neon, neonConfig } from "@neondatabase/serverless";
import * as quarry from "quarry";
import * as adapters from "quarry/adapters/neon";
import { smoke } from "../shared/smoke.mjs";

async function handler(request) {
  const env = process.env;
  if (env.WS_PROXY_PORT) {
    neonConfig.wsProxy = (host, port) => `127.0.0.1:${env.WS_PROXY_PORT}/v2?address=${host}:${port}`;
    neonConfig.useSecureWebSocket = false;
    neonConfig.pipelineTLS = false;
    neonConfig.pipelineConnect = false;
  }
  if (env.NEON_HTTP_ENDPOINT) neonConfig.fetchEndpoint = () => env.NEON_HTTP_ENDPOINT;
  const params = Object.fromEntries(new URL(request.url).searchParams);
  try {
    const out = await smoke({ quarry, adapters, neon: { Pool, neon }, connectionString: env.DATABASE_URL, params, runtime: "edge-light" });
    return Response.json(out);
  } catch (e) {
    return Response.json({ error: String(e?.stack ?? e) }, { status: 500 });
  }
}

addEventListener("fetch", (event) => event.respondWith(handler(event.request)));
