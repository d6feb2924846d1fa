// The `quarry` package: a Prisma-Client-shaped API over Quarry's engine (WebAssembly), reaching
// the database through a driver adapter (`quarry/adapters/pg`, `quarry/adapters/pglite`,
// `quarry/adapters/neon`). Runtimes import it through an entry point in runtime/ that provides the
// engine module the way that runtime can (see package.json `exports`).

export { createClient, delegateName } from "./client.js";
export { QuarryPromise } from "./promise.js";
export {
  QuarryError,
  QuarryKnownRequestError,
  QuarryValidationError,
  QuarryTenantError,
  QuarryDriverError,
  QuarryInternalError,
  QuarryPanicError,
  type ErrorMeta,
} from "./errors.js";
export { Decimal, JsonNull, DbNull, type JsonNullValue, type DbNullValue } from "./values.js";
export { default as sql, join, raw, empty } from "sql-template-tag";
export {
  DriverAdapterError,
  POSTGRES_ISOLATION,
  postgresError,
  type ArgType,
  type DriverErrorCause,
  type IsolationLevel,
  type SqlDriverAdapter,
  type SqlQuery,
  type SqlBatchResult,
  type SqlQueryable,
  type SqlResultSet,
  type SqlTransaction,
} from "./adapter.js";
export {
  defineExtension,
  getExtensionContext,
  type ComputedField,
  type ExtensionArgs,
  type QueryHook,
  type QueryHookParams,
} from "./extensions.js";
import { defineExtension, getExtensionContext } from "./extensions.js";
import { Decimal, JsonNull, DbNull } from "./values.js";
/** Prisma Client's `Prisma` namespace, for what ported code reaches through it. */
export const Prisma = { defineExtension, getExtensionContext, Decimal, JsonNull, DbNull } as const;
export type * from "./types.js";
/** The types `quarry generate` writes its output in (filters, results, the typed client). */
export type * as Typed from "./typed.js";
