// A Cloudflare Worker using Quarry as a user would: `quarry` (its `workerd` export imports the
// engine's .wasm as a compiled module) with Neon's driver over WebSocket and over HTTP, and (at
// `/planetscale`) with PlanetScale's HTTP driver on MySQL. The `WS_PROXY_PORT` and
// `NEON_HTTP_ENDPOINT` bindings point Neon's driver at local stand-ins, `PLANETSCALE_URL` is the
// PlanetScale driver's `url` (a local stand-in here, the database's own address in production).

import { Pool, neon, neonConfig } from "@neondatabase/serverless";
import { Client } from "@planetscale/database";
import * as quarry from "quarry";
import * as adapters from "quarry/adapters/neon";
import * as planetscale from "quarry/adapters/planetscale";
import { smoke, smokePlanetScale } from "../shared/smoke.mjs";

export default {
  async fetch(request, env) {
    if (env.WS_PROXY_PORT) {
      neonConfig.wsProxy = (host, port) => `127.0.0.1:${env.WS_PROXY_PORT}/v2?address=${host}:${port}`;
      neonConfig.useSecureWebSocket = false;
      neonConfig.pipelineTLS = false;
      neonConfig.pipelineConnect = false;
    }
    if (env.NEON_HTTP_ENDPOINT) neonConfig.fetchEndpoint = () => env.NEON_HTTP_ENDPOINT;
    const url = new URL(request.url);
    const params = Object.fromEntries(url.searchParams);
    try {
      if (url.pathname === "/planetscale") {
        return Response.json(await smokePlanetScale({ quarry, adapters: planetscale, Client, url: env.PLANETSCALE_URL, params, runtime: "workerd" }));
      }
      const out = await smoke({ quarry, adapters, neon: { Pool, neon }, connectionString: env.DATABASE_URL, params, runtime: "workerd" });
      return Response.json(out);
    } catch (e) {
      return Response.json({ error: String(e?.stack ?? e) }, { status: 500 });
    }
  },
};
