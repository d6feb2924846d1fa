// The node-postgres pool the client creates for a PostgreSQL `url` where the native addon cannot
// be loaded: Prisma's URL parameters become the pool's options the way the native driver reads
// them, parameters node-postgres does not know leave the connection string, and a bad value is a
// Q2005 at `url`; `pgbouncer=true` and `statement_cache_size` set how many statements the
// adapter names. (The fallback itself runs in native.test.mjs and install.test.mjs.)

import assert from "node:assert/strict";
import { test } from "node:test";
import { QuarryValidationError } from "quarry";
import { pgPoolConfig, pgStatementCacheSize } from "../../../npm/dist/npm/src/fallback.js";

test("Prisma's URL parameters become node-postgres's pool options", () => {
  const config = pgPoolConfig(
    "postgresql://us%40er:p%2Fss@db.example.com:6543/app?schema=tenant_a&connection_limit=3&pool_timeout=2.5&connect_timeout=7&pgbouncer=true&sslmode=require&application_name=web",
  );
  assert.equal(config.max, 3);
  assert.equal(config.connectionTimeoutMillis, 7000);
  assert.deepEqual(config.ssl, { rejectUnauthorized: false });
  assert.equal(config.connectionString, "postgresql://us%40er:p%2Fss@db.example.com:6543/app?application_name=web");
});

test("defaults: the native engine's pool size and timeout, no TLS for sslmode=prefer", () => {
  const config = pgPoolConfig("postgres://localhost/db");
  assert.ok(Number.isInteger(config.max) && config.max >= 3);
  assert.equal(config.connectionTimeoutMillis, 10_000);
  assert.equal(config.ssl, undefined);
  assert.equal(pgPoolConfig("postgres://localhost/db?sslmode=disable").ssl, undefined);
});

test("verify-full checks the certificate, verify-ca only the chain, sslaccept=accept_invalid_certs neither", () => {
  assert.deepEqual(pgPoolConfig("postgres://h/db?sslmode=verify-full").ssl, { rejectUnauthorized: true });
  const ca = pgPoolConfig("postgres://h/db?sslmode=verify-ca").ssl;
  assert.equal(ca.rejectUnauthorized, true);
  assert.equal(ca.checkServerIdentity(), undefined);
  assert.equal(pgPoolConfig("postgres://h/db?sslmode=verify-full&sslaccept=accept_invalid_certs").ssl.rejectUnauthorized, false);
});

test("a bad value is Q2005 at url", () => {
  for (const url of ["postgres://h/db?connection_limit=0", "postgres://h/db?pool_timeout=soon", "postgres://h/db?sslmode=sometimes", "not a url"]) {
    assert.throws(() => pgPoolConfig(url), (e) => e instanceof QuarryValidationError && e.code === "Q2005" && e.meta.path === "url", url);
  }
});

test("pgbouncer=true turns named statements off, statement_cache_size bounds them", () => {
  assert.equal(pgStatementCacheSize("postgres://h/db"), undefined);
  assert.equal(pgStatementCacheSize("postgres://h/db?pgbouncer=true"), 0);
  assert.equal(pgStatementCacheSize("postgres://h/db?pgbouncer=true&statement_cache_size=50"), 0);
  assert.equal(pgStatementCacheSize("postgres://h/db?statement_cache_size=50"), 50);
  assert.equal(pgStatementCacheSize("postgres://h/db?statement_cache_size=0"), 0);
  for (const url of ["postgres://h/db?statement_cache_size=-1", "postgres://h/db?statement_cache_size=lots", "postgres://h/db?statement_cache_size="]) {
    assert.throws(() => pgStatementCacheSize(url), (e) => e instanceof QuarryValidationError && e.code === "Q2005" && e.meta.path === "url", url);
  }
});
