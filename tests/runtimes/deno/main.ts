// A Supabase Edge Function, as Supabase runs one on Deno: a `Deno.serve` handler using Quarry
// (its `deno` export reads the engine module with Deno's file API) with Neon's driver over
// WebSocket and over HTTP. WS_PROXY_PORT and NEON_HTTP_ENDPOINT point Neon's driver at local
// stand-ins; against Neon itself they are left out. PORT=0 picks a free port, printed as JSON.

import { neon, neonConfig, Pool } from "npm:@neondatabase/serverless@^1.2.0";
import * as quarry from "quarry";
import * as adapters from "quarry/adapters/neon";
import { smoke } from "../shared/smoke.mjs";

const env = Deno.env.toObject();
if (env.WS_PROXY_PORT) {
  neonConfig.wsProxy = (host: string, port: number | string) => `127.0.0.1:${env.WS_PROXY_PORT}/v2?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;
}
if (env.NEON_HTTP_ENDPOINT) neonConfig.fetchEndpoint = () => env.NEON_HTTP_ENDPOINT;

Deno.serve(
  { hostname: "127.0.0.1", port: Number(env.PORT ?? 8000), onListen: ({ port }) => console.log(JSON.stringify({ port })) },
  async (request: Request) => {
    const params = Object.fromEntries(new URL(request.url).searchParams);
    try {
      const out = await smoke({ quarry, adapters, neon: { Pool, neon }, connectionString: env.DATABASE_URL, params, runtime: "deno" });
      return Response.json(out);
    } catch (e) {
      return Response.json({ error: String((e as Error)?.stack ?? e) }, { status: 500 });
    }
  },
);
