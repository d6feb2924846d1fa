// Where the native addon cannot be loaded (a platform without a prebuilt package, an addon that
// fails to load): `createClient({ schema, url })` with a PostgreSQL URL runs the WebAssembly engine
// over node-postgres instead (`pg`, an optional peer dependency), with a pool the client owns and
// ends on `$disconnect`. Prisma's URL parameters become the pool's options where node-postgres has
// one; the rest are the native driver's own and are dropped.

import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { pgAdapter } from "../../adapters/pg/index.js";
import type { SqlDriverAdapter } from "./adapter.js";
import { QuarryValidationError } from "./errors.js";
import { nodeRequire } from "./native.js";

/** What is used of node-postgres's module. */
interface PgModule {
  Pool: new (config: object) => {
    on(event: "error", listener: (e: Error) => void): unknown;
    end(): Promise<void>;
  };
}

/** Parameters of Prisma's PostgreSQL URLs that node-postgres does not know. */
const NATIVE_ONLY = ["schema", "connection_limit", "pool_timeout", "pgbouncer", "sslaccept", "sslidentity", "sslpassword", "statement_cache_size", "socket_timeout"];

function seconds(value: string, key: string): number {
  const n = Number(value);
  if (value === "" || !Number.isFinite(n) || n < 0) {
    throw new QuarryValidationError("Q2005", `createClient: \`url\`: ${key} must be a number of seconds`, { path: "url" });
  }
  return n * 1000;
}

/** node-postgres's pool options for a Prisma-style PostgreSQL URL. */
export function pgPoolConfig(url: string): Record<string, unknown> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new QuarryValidationError("Q2005", "createClient: `url` is not a valid connection string", { path: "url" });
  }
  const q = parsed.searchParams;
  const config: Record<string, unknown> = {
    // The native engine's defaults: twice the cores plus one connections, 10 s to get one.
    max: availableParallelism() * 2 + 1,
    connectionTimeoutMillis: 10_000,
  };
  const limit = q.get("connection_limit");
  if (limit !== null) {
    const n = Number(limit);
    if (!Number.isInteger(n) || n <= 0) {
      throw new QuarryValidationError("Q2005", "createClient: `url`: connection_limit must be a positive integer", { path: "url" });
    }
    config.max = n;
  }
  // node-postgres has one timeout for waiting on the pool and for connecting: the longer of the two.
  const timeouts = (["pool_timeout", "connect_timeout"] as const).filter((k) => q.get(k) !== null).map((k) => seconds(q.get(k) as string, k));
  if (timeouts.length > 0) config.connectionTimeoutMillis = Math.max(...timeouts);
  // TLS as libpq and the native engine read `sslmode`: `require` encrypts without checking the
  // certificate, `verify-ca` / `verify-full` check it (against `sslrootcert` when given). node-postgres
  // cannot fall back to plain text, so `prefer` (the default) connects without TLS.
  const mode = q.get("sslmode") ?? "prefer";
  const rootCert = q.get("sslrootcert") ?? q.get("sslcert");
  const acceptInvalid = q.get("sslaccept") === "accept_invalid_certs";
  if (mode === "require") config.ssl = { rejectUnauthorized: false };
  else if (mode === "verify-ca" || mode === "verify-full") {
    config.ssl = {
      rejectUnauthorized: !acceptInvalid,
      ...(rootCert ? { ca: readFileSync(rootCert, "utf8") } : {}),
      ...(mode === "verify-ca" ? { checkServerIdentity: () => undefined } : {}),
    };
  } else if (mode !== "disable" && mode !== "prefer" && mode !== "allow") {
    throw new QuarryValidationError("Q2005", `createClient: \`url\`: unknown sslmode ${mode}`, { path: "url" });
  }
  for (const key of [...NATIVE_ONLY, "connect_timeout", "sslmode", "sslrootcert", "sslcert"]) q.delete(key);
  config.connectionString = parsed.toString();
  return config;
}

/**
 * The driver adapter over node-postgres for `url`, or why there is none (`pg` not installed).
 * The pool is the client's: `dispose` (called by `$disconnect`) ends it.
 */
export function pgFallback(url: string): { adapter: SqlDriverAdapter } | { reason: string } {
  let pg: PgModule;
  try {
    pg = nodeRequire()("pg") as PgModule;
  } catch (e) {
    return { reason: `node-postgres (\`pg\`) cannot be loaded: ${(e as Error).message.split("\n")[0]}` };
  }
  const pool = new pg.Pool(pgPoolConfig(url));
  // An idle connection the server closed: node-postgres drops it and the next query opens another.
  // Without a listener, its 'error' event would end the process.
  pool.on("error", () => {});
  const adapter = pgAdapter(pool as never);
  adapter.dispose = () => pool.end();
  return { adapter };
}
