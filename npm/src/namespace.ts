// The PostgreSQL schema (namespace) a client's tables live in: the `namespace` option, or
// `?schema=` in the URL as Prisma reads it. The engine qualifies every table of generated SQL with
// it, and the schema's tables in raw SQL too, so both reach the same tables on either engine
// whatever the connection's search path. Two different answers are a mistake, caught at
// `createClient`.

import { QuarryValidationError } from "./errors.js";

export function clientNamespace(options: { namespace?: string; url?: string }): string | undefined {
  let fromUrl: string | undefined;
  if (typeof options.url === "string") {
    try {
      fromUrl = new URL(options.url).searchParams.get("schema") ?? undefined;
    } catch {
      // An unparsable URL is reported by the engine that reads it.
    }
  }
  if (options.namespace !== undefined && fromUrl !== undefined && options.namespace !== fromUrl) {
    throw new QuarryValidationError(
      "Q2009",
      `createClient: \`namespace\` ("${options.namespace}") and ?schema= in the URL ("${fromUrl}") name different schemas; give one of them`,
      { path: "namespace" },
    );
  }
  return options.namespace ?? fromUrl;
}
