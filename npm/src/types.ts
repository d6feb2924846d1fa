// The client's TypeScript surface without code generation: argument shapes follow Prisma Client's,
// with fields typed loosely (names come from your schema at run time). Pass your row types to
// `createClient<{ user: User; post: Post }>(...)` to type what each delegate returns; a call can
// name its own result type (`findMany<{ id: number }>({ select: { id: true } })`).

import type { IsolationLevel, SqlDriverAdapter } from "./adapter.js";
import type { QuarryPromise } from "./promise.js";
import type { Extended, ExtensionArgs } from "./extensions.js";

export type { IsolationLevel };

/** A row as the engine returns it: Date, bigint, Decimal, Uint8Array and JSON values decoded. */
export type Row = Record<string, unknown>;

export type Where = Record<string, unknown>;
export type Selection = Record<string, unknown>;
export type Data = Record<string, unknown>;
export type SortOrder = "asc" | "desc";
export type OrderBy = Record<string, unknown>;

interface Shaping {
  select?: Selection | null;
  include?: Selection | null;
  omit?: Record<string, boolean> | null;
}

export interface FindUniqueArgs extends Shaping {
  where: Where;
}

export interface FindManyArgs extends Shaping {
  where?: Where;
  orderBy?: OrderBy | OrderBy[];
  cursor?: Where;
  take?: number;
  skip?: number;
  distinct?: string | string[];
}

export type FindFirstArgs = FindManyArgs;

export interface CountArgs {
  where?: Where;
  orderBy?: OrderBy | OrderBy[];
  cursor?: Where;
  take?: number;
  skip?: number;
  distinct?: string | string[];
  select?: true | Record<string, boolean>;
}

type AggregateSelection = true | Record<string, boolean>;

export interface AggregateArgs {
  where?: Where;
  orderBy?: OrderBy | OrderBy[];
  cursor?: Where;
  take?: number;
  skip?: number;
  _count?: AggregateSelection;
  _avg?: Record<string, boolean>;
  _sum?: Record<string, boolean>;
  _min?: Record<string, boolean>;
  _max?: Record<string, boolean>;
}

export interface GroupByArgs extends Omit<AggregateArgs, "cursor"> {
  by: string | string[];
  having?: Where;
}

export interface CreateArgs extends Shaping {
  data: Data;
}

export interface CreateManyArgs {
  data: Data | Data[];
  skipDuplicates?: boolean;
}

export interface CreateManyAndReturnArgs extends CreateManyArgs, Shaping {}

export interface UpdateArgs extends Shaping {
  where: Where;
  data: Data;
}

export interface UpdateManyArgs {
  where?: Where;
  data: Data;
  limit?: number;
}

export interface UpdateManyAndReturnArgs extends UpdateManyArgs, Shaping {}

export interface UpsertArgs extends Shaping {
  where: Where;
  create: Data;
  update: Data;
}

export interface DeleteArgs extends Shaping {
  where: Where;
}

export interface DeleteManyArgs {
  where?: Where;
  limit?: number;
}

export interface BatchPayload {
  count: number;
}

/** Every action of the engine on one model. */
export interface ModelDelegate<T = Row> {
  findUnique<R = T>(args: FindUniqueArgs): QuarryPromise<R | null>;
  findUniqueOrThrow<R = T>(args: FindUniqueArgs): QuarryPromise<R>;
  findFirst<R = T>(args?: FindFirstArgs): QuarryPromise<R | null>;
  findFirstOrThrow<R = T>(args?: FindFirstArgs): QuarryPromise<R>;
  findMany<R = T>(args?: FindManyArgs): QuarryPromise<R[]>;
  /** A number, or `{ _all, field }` counts when `select` is given. */
  count<R = number>(args?: CountArgs): QuarryPromise<R>;
  aggregate<R = Row>(args: AggregateArgs): QuarryPromise<R>;
  groupBy<R = Row>(args: GroupByArgs): QuarryPromise<R[]>;
  create<R = T>(args: CreateArgs): QuarryPromise<R>;
  createMany(args: CreateManyArgs): QuarryPromise<BatchPayload>;
  createManyAndReturn<R = T>(args: CreateManyAndReturnArgs): QuarryPromise<R[]>;
  update<R = T>(args: UpdateArgs): QuarryPromise<R>;
  updateMany(args: UpdateManyArgs): QuarryPromise<BatchPayload>;
  updateManyAndReturn<R = T>(args: UpdateManyAndReturnArgs): QuarryPromise<R[]>;
  upsert<R = T>(args: UpsertArgs): QuarryPromise<R>;
  delete<R = T>(args: DeleteArgs): QuarryPromise<R>;
  deleteMany(args?: DeleteManyArgs): QuarryPromise<BatchPayload>;
}

export const ACTIONS = [
  "findUnique",
  "findUniqueOrThrow",
  "findFirst",
  "findFirstOrThrow",
  "findMany",
  "count",
  "aggregate",
  "groupBy",
  "create",
  "createMany",
  "createManyAndReturn",
  "update",
  "updateMany",
  "updateManyAndReturn",
  "upsert",
  "delete",
  "deleteMany",
] as const satisfies readonly (keyof ModelDelegate)[];

export type LogLevel = "query" | "info" | "warn" | "error";
export type LogDefinition = LogLevel | { level: LogLevel; emit: "stdout" | "event" };

/** A statement the engine ran. Parameter values are never part of an event, only their count. */
export interface QueryEvent {
  timestamp: Date;
  query: string;
  paramCount: number;
  /** Milliseconds the driver took. */
  duration: number;
  target: string;
}

export interface LogEvent {
  timestamp: Date;
  message: string;
  target: string;
}

/** How one model is treated under a tenant. */
export interface ModelTenancy {
  model: string;
  /** `scoped` (the tenant field), `shared` (optional tenant field), `global` (none), `tenant`. */
  tenancy: "scoped" | "shared" | "global" | "tenant";
  /** The tenant field (the key, for the tenant model). */
  field?: string;
  /** Whether tenants may write its rows that belong to no tenant. */
  writable: boolean;
}

export interface ClientOptions {
  /** The Prisma schema (text). */
  schema: string;
  /**
   * A PostgreSQL URL for the native engine (Node): `postgres://user:pass@host:5432/db` with
   * Prisma's parameters (`connection_limit`, `pool_timeout`, `connect_timeout`, `sslmode`,
   * `pgbouncer=true`, `schema`). The native addon connects itself, with its own pool. Where the
   * addon cannot be loaded, the WebAssembly engine runs over node-postgres (`pg`) for this URL.
   * A MySQL URL (`mysql://`, `mariadb://`; Node only) runs the WebAssembly engine over a mysql2
   * pool of the client's own (`mysql2` must be installed), for a schema with `provider = "mysql"`.
   */
  url?: string;
  /**
   * A driver adapter for the WebAssembly engine. Alone, it selects the WebAssembly engine; with
   * `url`, it is the fallback used when the native addon cannot be loaded on this platform.
   */
  adapter?: SqlDriverAdapter;
  tenancy?: {
    /** The tenant field's name, when it is not `tenantId` (or the schema's `generator quarry`). */
    field?: string;
  };
  /**
   * Row-level security mode (PostgreSQL, with the policies of `quarry rls` applied): every request
   * under a tenant runs in a transaction that first sets the tenant with a bound, transaction-local
   * `set_config`, so the database's policies hold even for SQL the engine never saw. Connect as a
   * role without SUPERUSER and BYPASSRLS; the client warns (`W3001`, `W3002`) when it is not.
   */
  rls?: boolean;
  /**
   * The PostgreSQL schema the tables live in (`?schema=` in `url` says the same; they must agree);
   * unqualified names (the search path) when neither is given.
   */
  namespace?: string;
  /**
   * `maxTake`, `maxDepth`: the largest `take` and the deepest nesting a request may have.
   * `planCache`: how many request shapes keep their plan (default 512; 0 plans every request).
   */
  limits?: { maxTake?: number; maxDepth?: number; planCache?: number };
  /** `['query', 'info', 'warn', 'error']` print to stdout; `{ level, emit: 'event' }` goes to `$on`. */
  log?: LogDefinition[];
}

export interface TransactionOptions {
  isolationLevel?: IsolationLevel;
  /** Milliseconds to wait for a connection (default 2000). */
  maxWait?: number;
  /** Milliseconds the transaction may live before it is rolled back (default 5000). */
  timeout?: number;
}

/** The SQL a request runs: `{ statements: [{ sql, params }] }` (a list of those for a batch). */
export interface CompiledRequest {
  statements: { sql: string; params: unknown[] }[];
}

export type TenantId = string | number | bigint;

/** What every client view has: raw SQL, compile, tenant scoping. */
export interface QueryMethods<Models extends Record<string, object>> {
  /** A view whose every call runs under this tenant. Cheap: create one per request. */
  $forTenant(tenantId: TenantId): QuarryClient<Models>;
  /** A view that runs without tenant scope: for admin jobs and migrations. */
  $unscoped(): QuarryClient<Models>;
  /** Raw SQL as a tagged template: interpolated values become `$1..$n` parameters. */
  $queryRaw<R = Row>(query: TemplateStringsArray | RawSql, ...values: unknown[]): QuarryPromise<R[]>;
  $executeRaw(query: TemplateStringsArray | RawSql, ...values: unknown[]): QuarryPromise<number>;
  /** Raw SQL text with `$1..$n` placeholders. Never build `query` from user input. */
  $queryRawUnsafe<R = Row>(query: string, ...values: unknown[]): QuarryPromise<R[]>;
  $executeRawUnsafe(query: string, ...values: unknown[]): QuarryPromise<number>;
  /** The SQL and parameters a request (or a list of them) would run, without a database. */
  $compile(request: QuarryPromise<unknown>): CompiledRequest;
  $compile(requests: readonly QuarryPromise<unknown>[]): CompiledRequest[];
}

export interface ClientMethods<Models extends Record<string, object>> extends QueryMethods<Models> {
  /** Runs the requests in one transaction, all or nothing. */
  $transaction<P extends readonly QuarryPromise<unknown>[]>(
    requests: [...P],
    options?: { isolationLevel?: IsolationLevel },
  ): Promise<{ -readonly [K in keyof P]: Awaited<P[K]> }>;
  /** Runs `fn` in an interactive transaction: committed when it resolves, rolled back when it throws. */
  $transaction<R>(fn: (tx: TransactionClient<Models>) => Promise<R>, options?: TransactionOptions): Promise<R>;
  $on(level: "query", listener: (e: QueryEvent) => void): void;
  $on(level: "info" | "warn" | "error", listener: (e: LogEvent) => void): void;
  /**
   * The CREATE statements for the schema (tables, keys, indexes, foreign keys, enums), in order,
   * with the tenant-matching foreign keys between scoped tables; `{ tenantKeys: false }` leaves
   * those out (only for data that already links tenants: see `$tenantLinks`); `{ rls: true }` adds
   * the row-level security policies (run them as the tables' owner).
   */
  $ddl(options?: { tenantKeys?: boolean; rls?: boolean }): string[];
  /** How each model is treated under a tenant: scoped, shared, global or the tenant model. */
  $tenancy(): ModelTenancy[];
  /**
   * Counts the rows that refer to a row of another tenant, per relation between tenant-scoped
   * models: what the tenant-matching keys forbid, in a database made without them. Runs unscoped.
   */
  $tenantLinks(): Promise<{ relation: string; links: number }[]>;
  /** Rolls back open interactive transactions and releases what the adapter holds. */
  $disconnect(): Promise<void>;
  /**
   * A client with client extensions (Prisma's `$extends`): `query` hooks, `model` methods,
   * `result` computed fields, `client` members. Tenant views and transactions keep them.
   */
  $extends<E extends ExtensionArgs>(extension: E): Extended<QuarryClient<Models>, E>;
  $extends<R>(extension: (client: QuarryClient<Models>) => R): R;
}

type Delegates<Models extends Record<string, object>> = { readonly [K in keyof Models]: ModelDelegate<Models[K]> };

export type QuarryClient<Models extends Record<string, object> = Record<string, Row>> = ClientMethods<Models> &
  Delegates<Models>;

export type TransactionClient<Models extends Record<string, object> = Record<string, Row>> = QueryMethods<Models> &
  Delegates<Models>;

/** A SQL fragment built with the `sql` tag (nestable, with `join`, `raw`, `empty`). */
export interface RawSql {
  readonly strings: readonly string[];
  readonly values: readonly unknown[];
  readonly text: string;
}
