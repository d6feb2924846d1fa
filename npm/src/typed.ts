// The types `quarry generate` writes its output in: values as the client takes and returns them,
// scalar filters and update operations, result inference from `select` / `include` / `omit` at
// every depth (`GetResult`), count, aggregate and groupBy results, and the typed client (a
// delegate per model, tenant views, transactions, raw SQL). Types only: nothing here exists at
// run time. The package exports them as the namespace `Typed`; generated modules import it as `$`.

import type { Decimal } from "decimal.js";
import type { QuarryPromise } from "./promise.js";
import type { Extended, ExtensionArgs } from "./extensions.js";
import type {
  ClientOptions,
  CompiledRequest,
  IsolationLevel,
  LogEvent,
  QueryEvent,
  RawSql,
  TenantId,
  TransactionOptions,
} from "./types.js";
import type { DbNullValue, JsonNullValue } from "./values.js";

export type { ClientOptions, Decimal, QuarryPromise };

// ---------------------------------------------------------------------------------------------
// Values

/** A DateTime field's value as the client returns it. */
export type DateTime = Date;
/** A Bytes field's value. */
export type Bytes = Uint8Array;
/** A Json field's value as the client returns it. */
export type JsonValue = string | number | boolean | null | JsonObject | JsonArray;
export type JsonObject = { [key: string]: JsonValue };
export interface JsonArray extends Array<JsonValue> {}

/** A Json value the client accepts (`JsonNull` for the JSON `null`, plain `null` for SQL NULL). */
export type InputJsonValue = string | number | boolean | InputJsonObject | InputJsonArray | { toJSON(): unknown };
export type InputJsonObject = { readonly [key: string]: InputJsonValue | null | undefined };
export interface InputJsonArray extends ReadonlyArray<InputJsonValue | null> {}

export type DateTimeInput = Date | string;
export type BigIntInput = bigint | number;
export type DecimalInput = Decimal | number | string;
export type { DbNullValue, JsonNullValue };

// ---------------------------------------------------------------------------------------------
// Filters (`where`), one family per field type; the `Nullable…` ones for optional fields

export type QueryMode = "default" | "insensitive";

export interface Filter<T> {
  equals?: T;
  in?: readonly T[];
  notIn?: readonly T[];
  lt?: T;
  lte?: T;
  gt?: T;
  gte?: T;
  not?: T | Filter<T>;
}

export interface NullableFilter<T> {
  equals?: T | null;
  in?: readonly T[];
  notIn?: readonly T[];
  lt?: T;
  lte?: T;
  gt?: T;
  gte?: T;
  not?: T | null | NullableFilter<T>;
}

interface StringOps {
  contains?: string;
  startsWith?: string;
  endsWith?: string;
  mode?: QueryMode;
}

export interface StringFilter extends Omit<Filter<string>, "not">, StringOps {
  not?: string | StringFilter;
}

export interface NullableStringFilter extends Omit<NullableFilter<string>, "not">, StringOps {
  not?: string | null | NullableStringFilter;
}

export interface BoolFilter {
  equals?: boolean;
  not?: boolean | BoolFilter;
}

export interface NullableBoolFilter {
  equals?: boolean | null;
  not?: boolean | null | NullableBoolFilter;
}

/** Enums and Bytes: equality and lists, no ordering. */
export interface EqualityFilter<T> {
  equals?: T;
  in?: readonly T[];
  notIn?: readonly T[];
  not?: T | EqualityFilter<T>;
}

export interface NullableEqualityFilter<T> {
  equals?: T | null;
  in?: readonly T[];
  notIn?: readonly T[];
  not?: T | null | NullableEqualityFilter<T>;
}

/** Json fields: `path` into the value, then a comparison. */
export interface JsonFilter {
  path?: readonly string[] | string;
  equals?: InputJsonValue | JsonNullValue | DbNullValue | null;
  not?: InputJsonValue | JsonNullValue | DbNullValue | null;
  string_contains?: string;
  string_starts_with?: string;
  string_ends_with?: string;
  array_contains?: InputJsonValue | null;
  array_starts_with?: InputJsonValue | null;
  array_ends_with?: InputJsonValue | null;
  lt?: number | string;
  lte?: number | string;
  gt?: number | string;
  gte?: number | string;
  mode?: QueryMode;
}

/** Scalar lists (`String[]`). */
export interface ScalarListFilter<T> {
  equals?: readonly T[] | null;
  has?: T;
  hasEvery?: readonly T[];
  hasSome?: readonly T[];
  isEmpty?: boolean;
}

/** A to-many relation in `where`. */
export interface ListRelationFilter<W> {
  some?: W;
  every?: W;
  none?: W;
}

/** A to-one relation in `where` (or a where object on the related model directly). */
export interface RelationFilter<W> {
  is?: W | null;
  isNot?: W | null;
}

// ---------------------------------------------------------------------------------------------
// Ordering

export type SortOrder = "asc" | "desc";
export type NullsOrder = "first" | "last";
/** An optional field's ordering, with where its NULLs go. */
export interface SortOrderInput {
  sort: SortOrder;
  nulls?: NullsOrder;
}

export interface CountOrderBy {
  _count?: SortOrder;
}

// ---------------------------------------------------------------------------------------------
// Update operations (`data` of update)

export interface SetUpdate<T> {
  set?: T;
}

export interface NumberUpdate<T> {
  set?: T;
  increment?: T;
  decrement?: T;
  multiply?: T;
  divide?: T;
}

export interface NullableNumberUpdate<T> {
  set?: T | null;
  increment?: T;
  decrement?: T;
  multiply?: T;
  divide?: T;
}

export interface ListUpdate<T> {
  set?: readonly T[];
  push?: T | readonly T[];
}

/** A scalar list's value in a create. */
export type ListCreate<T> = readonly T[] | { set: readonly T[] };

export interface BatchPayload {
  count: number;
}

/** `T` without the keys `K` (an alias of `Omit`, so a model named `Omit` cannot shadow it). */
export type Without<T, K extends PropertyKey> = Omit<T, K>;

// ---------------------------------------------------------------------------------------------
// Nested writes. `C`: the related row to create, `U`: its unique where, `W`: its where, `Upd`: its
// changes, `M`: a createMany row, `UpdMany`: updateMany's changes.

/** A to-one relation in a create. */
export interface CreateOneNested<C, U> {
  create?: C;
  connect?: U;
  connectOrCreate?: { where: U; create: C };
}

/** A to-many relation in a create. */
export interface CreateListNested<C, U> {
  create?: C | readonly C[];
  connect?: U | readonly U[];
  connectOrCreate?: { where: U; create: C } | readonly { where: U; create: C }[];
}

/** createMany on a to-many relation whose rows hold the foreign key. */
export interface CreateManyNested<M> {
  createMany?: { data: M | readonly M[]; skipDuplicates?: boolean };
}

/** A to-one relation in an update. */
export interface UpdateOneNested<C, U, W, Upd> extends CreateOneNested<C, U> {
  update?: Upd | { where?: W; data: Upd };
  upsert?: { where?: W; create: C; update: Upd };
}

/** Unlinking a to-one relation (not offered when a required foreign key is in the way). */
export interface DisconnectOne<W> {
  disconnect?: boolean | W;
}

/** Deleting the related row of a to-one relation. */
export interface DeleteOne<W> {
  delete?: boolean | W;
}

/** A to-many relation in an update. */
export interface UpdateListNested<C, U, W, Upd, UpdMany> extends CreateListNested<C, U> {
  update?: { where: U; data: Upd } | readonly { where: U; data: Upd }[];
  updateMany?: { where?: W; data: UpdMany } | readonly { where?: W; data: UpdMany }[];
  upsert?: { where: U; create: C; update: Upd } | readonly { where: U; create: C; update: Upd }[];
  delete?: U | readonly U[];
  deleteMany?: W | readonly W[];
}

/** Replacing or unlinking rows of a to-many relation (not offered when their foreign key is required). */
export interface DisconnectList<U> {
  set?: U | readonly U[];
  disconnect?: U | readonly U[];
}

/** groupBy's `having` on a field: a condition on the field, or on its aggregates. */
export type HavingFilter<F, Avg> = F | AggregateFilters<F, Avg>;

/** groupBy's `having` on counts: a number condition per field (`_all` too). */
export type CountFilters<K extends PropertyKey> = { [F in K]?: Filter<number> };

/** groupBy's `orderBy` on an aggregate: a sort order per field. */
export type SortBy<K extends PropertyKey> = { [F in K]?: SortOrder };

/** Conditions on a field's aggregates. */
export interface AggregateFilters<F, Avg> {
  _count?: Filter<number>;
  _avg?: Avg;
  _sum?: F;
  _min?: F;
  _max?: F;
}

// ---------------------------------------------------------------------------------------------
// Argument checking

/**
 * What a call's arguments are checked against: keys the argument type does not have become
 * `never` (so a misspelt key is an error rather than silently dropped), and `select` cannot be
 * combined with `include` or `omit` (the engine refuses both, as Prisma does).
 */
export type Exact<A, W> = { [K in keyof A]: K extends keyof W ? A[K] : never } & (A extends { select: object }
  ? A extends { include: object }
    ? "Use either `select` or `include`, not both."
    : A extends { omit: object }
      ? "Use either `select` or `omit`, not both."
      : unknown
  : unknown);

// ---------------------------------------------------------------------------------------------
// Results

/**
 * What result inference knows of a model (generated as `$UserPayload` and the like): its row type
 * and, per relation, the related model's payload (`P[]` for lists, `P | null` for optional ones).
 */
export interface Payload {
  name: string;
  scalars: object;
  objects: object;
}

type Selected<V> = V extends false | undefined | null ? false : true;

/** A relation's value in a result: the related model's result, as a list or nullable as declared. */
type RelationResult<O, V> = O extends readonly (infer E extends Payload)[]
  ? GetResult<E, V>[]
  : O extends Payload
    ? GetResult<O, V>
    : O;

/** `_count` in a result: a number per selected to-many relation. */
type CountResult<P extends Payload, V> = V extends { select: infer S extends object }
  ? { [K in keyof S as Selected<S[K]> extends true ? K : never]: number }
  : { [K in keyof P["objects"] as P["objects"][K] extends readonly unknown[] ? K : never]: number };

type OmitResult<P extends Payload, A> = A extends { omit: infer O extends object }
  ? { [K in keyof P["scalars"] as K extends keyof O ? (O[K] extends true ? never : K) : K]: P["scalars"][K] }
  : P["scalars"];

type SelectResult<P extends Payload, S> = {
  [K in keyof S as Selected<S[K]> extends true ? K : never]: K extends keyof P["scalars"]
    ? P["scalars"][K]
    : K extends keyof P["objects"]
      ? RelationResult<P["objects"][K], S[K]>
      : K extends "_count"
        ? CountResult<P, S[K]>
        : never;
};

type IncludeResult<P extends Payload, I> = {
  [K in keyof I as Selected<I[K]> extends true ? K : never]: K extends keyof P["objects"]
    ? RelationResult<P["objects"][K], I[K]>
    : K extends "_count"
      ? CountResult<P, I[K]>
      : never;
};

/**
 * The row a read or write returns for arguments `A`: the model's scalars (minus `omit`), with
 * `include`d relations, or exactly the `select`ed fields — at every depth.
 */
export type GetResult<P extends Payload, A> = A extends { select: infer S extends object }
  ? SelectResult<P, S>
  : A extends { include: infer I extends object }
    ? OmitResult<P, A> & IncludeResult<P, I>
    : OmitResult<P, A>;

/** `count()`: a number, or a number per selected field with `select`. */
export type CountReturn<A> = A extends { select: infer S extends object }
  ? { [K in keyof S as Selected<S[K]> extends true ? K : never]: number }
  : number;

type AggregateKey = "_count" | "_sum" | "_avg" | "_min" | "_max";

/** The value an aggregate of a field has: averages are numbers (Decimal for Decimal fields). */
type AggregateValue<Op, T> = Op extends "_avg" ? (NonNullable<T> extends Decimal ? Decimal : number) : NonNullable<T>;

type AggregateFields<P extends Payload, Op, S> = {
  [F in keyof S as Selected<S[F]> extends true ? F : never]: F extends keyof P["scalars"]
    ? AggregateValue<Op, P["scalars"][F]> | null
    : never;
};

/** `aggregate()` and each group of `groupBy()`: the selected aggregates. */
export type AggregateResult<P extends Payload, A> = {
  [K in keyof A as K extends AggregateKey ? K : never]: K extends "_count"
    ? A[K] extends true
      ? number
      : { [F in keyof A[K] as Selected<A[K][F]> extends true ? F : never]: number }
    : AggregateFields<P, K, A[K]>;
};

type ByFields<B> = B extends readonly (infer F)[] ? F : B;

/** `groupBy()`: the grouped fields and the selected aggregates, per group. */
export type GroupByResult<P extends Payload, A> = A extends { by: infer B }
  ? ({ [K in ByFields<B> & keyof P["scalars"]]: P["scalars"][K] } & AggregateResult<P, A>)[]
  : never;

// ---------------------------------------------------------------------------------------------
// The typed client

/** The argument types of one model (generated as `UserTypes` and the like). */
export interface ModelTypes {
  payload: Payload;
  findUnique: object;
  findFirst: object;
  findMany: object;
  count: object;
  aggregate: object;
  groupBy: object;
  create: object;
  createMany: object;
  createManyAndReturn: object;
  update: object;
  updateMany: object;
  updateManyAndReturn: object;
  upsert: object;
  delete: object;
  deleteMany: object;
}

/** Every action on one model, with results inferred from the arguments. */
export interface Delegate<M extends ModelTypes> {
  findUnique<A extends M["findUnique"]>(args: Exact<A, M["findUnique"]>): QuarryPromise<GetResult<M["payload"], A> | null>;
  findUniqueOrThrow<A extends M["findUnique"]>(args: Exact<A, M["findUnique"]>): QuarryPromise<GetResult<M["payload"], A>>;
  findFirst<A extends M["findFirst"] = {}>(args?: Exact<A, M["findFirst"]>): QuarryPromise<GetResult<M["payload"], A> | null>;
  findFirstOrThrow<A extends M["findFirst"] = {}>(args?: Exact<A, M["findFirst"]>): QuarryPromise<GetResult<M["payload"], A>>;
  findMany<A extends M["findMany"] = {}>(args?: Exact<A, M["findMany"]>): QuarryPromise<GetResult<M["payload"], A>[]>;
  count<A extends M["count"] = {}>(args?: Exact<A, M["count"]>): QuarryPromise<CountReturn<A>>;
  aggregate<A extends M["aggregate"]>(args: Exact<A, M["aggregate"]>): QuarryPromise<AggregateResult<M["payload"], A>>;
  groupBy<A extends M["groupBy"]>(args: Exact<A, M["groupBy"]>): QuarryPromise<GroupByResult<M["payload"], A>>;
  create<A extends M["create"]>(args: Exact<A, M["create"]>): QuarryPromise<GetResult<M["payload"], A>>;
  createMany<A extends M["createMany"]>(args: Exact<A, M["createMany"]>): QuarryPromise<BatchPayload>;
  createManyAndReturn<A extends M["createManyAndReturn"]>(
    args: Exact<A, M["createManyAndReturn"]>,
  ): QuarryPromise<GetResult<M["payload"], A>[]>;
  update<A extends M["update"]>(args: Exact<A, M["update"]>): QuarryPromise<GetResult<M["payload"], A>>;
  updateMany<A extends M["updateMany"]>(args: Exact<A, M["updateMany"]>): QuarryPromise<BatchPayload>;
  updateManyAndReturn<A extends M["updateManyAndReturn"]>(
    args: Exact<A, M["updateManyAndReturn"]>,
  ): QuarryPromise<GetResult<M["payload"], A>[]>;
  upsert<A extends M["upsert"]>(args: Exact<A, M["upsert"]>): QuarryPromise<GetResult<M["payload"], A>>;
  delete<A extends M["delete"]>(args: Exact<A, M["delete"]>): QuarryPromise<GetResult<M["payload"], A>>;
  deleteMany<A extends M["deleteMany"] = {}>(args?: Exact<A, M["deleteMany"]>): QuarryPromise<BatchPayload>;
}

/**
 * A schema's client, as generated: `delegates` has one per model; `scoped` names the delegates of
 * tenant-scoped models (and of the tenant model), which only a tenant view or `$unscoped()` can
 * use — the client without a tenant context fails closed on them, so its type leaves them out;
 * `tenantId` is what `$forTenant` takes (a string for a String tenant field).
 */
export interface ClientShape {
  delegates: object;
  scoped: PropertyKey;
  tenantId: TenantId;
}

/** `true` for a view with a tenant context or `$unscoped()`; `false` for the client itself. */
type Delegates<C extends ClientShape, InScope extends boolean> = InScope extends true
  ? C["delegates"]
  : Omit<C["delegates"], C["scoped"]>;

/** A raw row: the column names the query gives, with values decoded by their column types. */
export type Row = Record<string, unknown>;

/** What every view has, inside a transaction or not. */
export interface ViewMethods<C extends ClientShape, InTransaction extends boolean> {
  /** A view whose every call runs under this tenant. Cheap: create one per request. */
  $forTenant(tenantId: C["tenantId"]): InTransaction extends true ? TransactionClient<C, true> : Client<C, true>;
  /** A view that runs without tenant scope: for admin jobs and migrations. */
  $unscoped(): InTransaction extends true ? TransactionClient<C, true> : Client<C, true>;
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

/** What the client and its tenant views have outside a transaction. */
export interface ClientMethods<C extends ClientShape, InScope extends boolean> extends ViewMethods<C, false> {
  /** Runs the requests in one transaction, all or nothing; resolves to their results in order. */
  $transaction<P extends readonly QuarryPromise<unknown>[]>(
    requests: [...P],
    options?: { isolationLevel?: IsolationLevel },
  ): Promise<{ -readonly [K in keyof P]: Awaited<P[K]> }>;
  /** Runs `fn` in an interactive transaction: committed when it resolves, rolled back when it throws. */
  $transaction<R>(fn: (tx: TransactionClient<C, InScope>) => Promise<R>, options?: TransactionOptions): Promise<R>;
  $on(level: "query", listener: (e: QueryEvent) => void): void;
  $on(level: "info" | "warn" | "error", listener: (e: LogEvent) => void): void;
  /** The CREATE statements for the schema (tables, keys, indexes, foreign keys, enums), in order. */
  $ddl(): string[];
  /** Rolls back open interactive transactions and releases what the adapter holds. */
  $disconnect(): Promise<void>;
  /**
   * A client with client extensions (Prisma's `$extends`): `query` hooks, `model` methods,
   * `result` computed fields, `client` members. Tenant views and transactions keep them.
   */
  $extends<E extends ExtensionArgs>(extension: E): Extended<Client<C, InScope>, E>;
  $extends<R>(extension: (client: Client<C, InScope>) => R): R;
}

/** The client (`InScope` false) or a tenant / unscoped view of it (`InScope` true). */
export type Client<C extends ClientShape, InScope extends boolean = false> = Delegates<C, InScope> & ClientMethods<C, InScope>;

/** The client an interactive transaction's callback gets. */
export type TransactionClient<C extends ClientShape, InScope extends boolean = false> = Delegates<C, InScope> &
  ViewMethods<C, true>;
