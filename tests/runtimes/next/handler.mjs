// The body both Next.js routes share: configure Neon's driver from the environment (local
// stand-ins when WS_PROXY_PORT and NEON_HTTP_ENDPOINT are set) and run the smoke request.

import { Pool, neon, neonConfig } from "@neondatabase/serverless";
import * as quarry from "quarry";
import * as adapters from "quarry/adapters/neon";
import { smoke } from "../shared/smoke.mjs";

export async function handle(request, runtime) {
  const env = process.env;
  if (env.WS_PROXY_PORT) {
    neonConfig.wsProxy = (host, port) => `127.0.0.1:${env.WS_PROXY_PORT}/v2?address=${host}:${port}`;
    neonConfig.useSecureWebSocket = false;
    neonConfig.pipelineTLS = false;
    neonConfig.pipelineConnect = false;
  }
  if (env.NEON_HTTP_ENDPOINT) neonConfig.fetchEndpoint = () => env.NEON_HTTP_ENDPOINT;
  if (runtime === "nodejs" && !neonConfig.webSocketConstructor && typeof WebSocket === "undefined") {
    // Node 20 has no global WebSocket: Neon's documented setup passes `ws`.
    neonConfig.webSocketConstructor = (await import("ws")).WebSocket;
  }
  const params = Object.fromEntries(new URL(request.url).searchParams);
  try {
    const out = await smoke({ quarry, adapters, neon: { Pool, neon }, connectionString: env.DATABASE_URL, params, runtime });
    return Response.json(out);
  } catch (e) {
    return Response.json({ error: String(e?.stack ?? e) }, { status: 500 });
  }
}
