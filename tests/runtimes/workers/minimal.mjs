// The smallest useful Worker with Quarry, for the size report: one client over Neon's HTTP driver,
// one tenant-scoped read. NEON_HTTP_ENDPOINT and NAMESPACE are for the local test only.

import { neon, neonConfig } from "@neondatabase/serverless";
import { createClient } from "quarry";
import { neonHttpAdapter } from "quarry/adapters/neon";
import { SCHEMA } from "../shared/schema.mjs";

export default {
  async fetch(request, env) {
    if (env.NEON_HTTP_ENDPOINT) neonConfig.fetchEndpoint = () => env.NEON_HTTP_ENDPOINT;
    const db = createClient({ schema: SCHEMA, adapter: neonHttpAdapter(neon(env.DATABASE_URL)), namespace: env.NAMESPACE });
    const tenant = Number(new URL(request.url).searchParams.get("tenant"));
    return Response.json(await db.$forTenant(tenant).post.findMany({ include: { author: true }, orderBy: { id: "asc" } }));
  },
};
