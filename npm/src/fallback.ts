// The driver adapters a client makes itself from `url` on Node.js, each over a pool the client
// owns and ends on `$disconnect`, its driver an optional peer dependency loaded only then:
// - where the native addon cannot be loaded (a platform without a prebuilt package, an addon that
//   fails to load), a PostgreSQL URL runs the WebAssembly engine over node-postgres (`pg`);
// - a MySQL URL (`mysql://`, `mariadb://`) always runs the WebAssembly engine over mysql2 (the
//   native addon speaks PostgreSQL only).
// Prisma's URL parameters become the pool's options where the driver has one; the rest are the
// native driver's own and are dropped.

import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { mysql2PoolAdapter } from "../../adapters/mysql2/pool.js";
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

/** A connection string as a URL; one that is not is Q2005 at `url`. */
function parseUrl(url: string): URL {
  try {
    return new URL(url);
  } catch {
    throw new QuarryValidationError("Q2005", "createClient: `url` is not a valid connection string", { path: "url" });
  }
}

/** Prisma's `connection_limit` parameter, when the URL has one: a positive integer. */
function connectionLimit(q: URLSearchParams): number | undefined {
  const limit = q.get("connection_limit");
  if (limit === null) return undefined;
  const n = Number(limit);
  if (!Number.isInteger(n) || n <= 0) {
    throw new QuarryValidationError("Q2005", "createClient: `url`: connection_limit must be a positive integer", { path: "url" });
  }
  return n;
}

/** node-postgres's pool options for a Prisma-style PostgreSQL URL. */
export function pgPoolConfig(url: string): Record<string, unknown> {
  const parsed = parseUrl(url);
  const q = parsed.searchParams;
  const config: Record<string, unknown> = {
    // The native engine's defaults: twice the cores plus one connections, 10 s to get one.
    max: availableParallelism() * 2 + 1,
    connectionTimeoutMillis: 10_000,
  };
  const limit = connectionLimit(q);
  if (limit !== undefined) config.max = limit;
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
 * How many statement texts the adapter names for `url`: none with `pgbouncer=true` (PgBouncer in
 * transaction mode, as the native engine reads it), `statement_cache_size` when given, else the
 * adapter's default.
 */
export function pgStatementCacheSize(url: string): number | undefined {
  const q = new URL(url).searchParams;
  if (q.get("pgbouncer") === "true") return 0;
  const size = q.get("statement_cache_size");
  if (size === null) return undefined;
  const n = Number(size);
  if (size === "" || !Number.isInteger(n) || n < 0) {
    throw new QuarryValidationError("Q2005", "createClient: `url`: statement_cache_size must be a non-negative integer", { path: "url" });
  }
  return n;
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
  const config = pgPoolConfig(url);
  const statementCacheSize = pgStatementCacheSize(url);
  const pool = new pg.Pool(config);
  // An idle connection the server closed: node-postgres drops it and the next query opens another.
  // Without a listener, its 'error' event would end the process.
  pool.on("error", () => {});
  const adapter = pgAdapter(pool as never, { statementCacheSize });
  adapter.dispose = () => pool.end();
  return { adapter };
}

/** What is used of mysql2's promise module. */
interface Mysql2Module {
  createPool(config: object): { end(): Promise<void> };
}

/** Parameters of Prisma's MySQL URLs that mysql2 does not read from a URL (it warns of each). */
const MYSQL_PRISMA_ONLY = ["connection_limit", "connect_timeout", "pool_timeout", "socket_timeout", "sslaccept", "sslcert", "sslidentity", "sslpassword", "socket", "schema"];

/** mysql2's pool options for a Prisma-style MySQL URL (`mysql://` or `mariadb://`). */
export function mysqlPoolConfig(url: string): Record<string, unknown> {
  const parsed = parseUrl(url);
  const q = parsed.searchParams;
  const config: Record<string, unknown> = {
    // Prisma's default for MySQL: twice the cores plus one connections.
    connectionLimit: availableParallelism() * 2 + 1,
    connectTimeout: 5_000,
  };
  const limit = connectionLimit(q);
  if (limit !== undefined) config.connectionLimit = limit;
  const connect = q.get("connect_timeout");
  if (connect !== null) config.connectTimeout = seconds(connect, "connect_timeout");
  // mysql2's pool waits for a free connection without a limit: `pool_timeout` is checked, not used.
  const pool = q.get("pool_timeout");
  if (pool !== null) seconds(pool, "pool_timeout");
  const socket = q.get("socket");
  if (socket !== null) config.socketPath = socket;
  // TLS as Prisma reads it: `sslcert` (a CA file) or `sslaccept` asks for it; `strict` checks the certificate.
  const accept = q.get("sslaccept");
  const cert = q.get("sslcert");
  if (accept !== null && accept !== "strict" && accept !== "accept_invalid_certs") {
    throw new QuarryValidationError("Q2005", `createClient: \`url\`: unknown sslaccept ${accept}`, { path: "url" });
  }
  if (accept !== null || cert !== null) {
    config.ssl = { rejectUnauthorized: accept === "strict", ...(cert ? { ca: readFileSync(cert, "utf8") } : {}) };
  }
  for (const key of MYSQL_PRISMA_ONLY) q.delete(key);
  // mysql2 reads `mysql://` URLs; `mariadb://` is the same server protocol.
  config.uri = parsed.toString().replace(/^mariadb:/i, "mysql:");
  return config;
}

/**
 * The driver adapter over mysql2 for a MySQL `url`, or why there is none (`mysql2` not
 * installed). The pool is the client's: `dispose` (called by `$disconnect`) ends it.
 */
export function mysqlFallback(url: string): { adapter: SqlDriverAdapter } | { reason: string } {
  let mysql2: Mysql2Module;
  try {
    mysql2 = nodeRequire()("mysql2/promise") as Mysql2Module;
  } catch (e) {
    return { reason: `mysql2 cannot be loaded: ${(e as Error).message.split("\n")[0]}` };
  }
  const config = mysqlPoolConfig(url);
  const pool = mysql2.createPool(config);
  const adapter = mysql2PoolAdapter(pool as never, mysql2);
  adapter.dispose = () => pool.end();
  return { adapter };
}
