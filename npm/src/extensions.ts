// Client extensions, `$extends`, with Prisma's four components: `query` (hooks around a model
// request that may rewrite its arguments and call `query(args)`), `model` (methods on delegates),
// `result` (computed fields with `needs`) and `client` (`$` methods on the client). This module
// owns what each component contributes and in which order; client.ts builds the views. Hooks only
// ever change a request's arguments: the tenant and transaction of the view that made the call
// travel beside them, untouched, so an extension cannot widen tenant scope — the engine's scope
// pass sees the rewritten request like any other.

/** What a `query` hook receives, as in Prisma. */
export interface QueryHookParams {
  /** The model's name as in the schema (`User`). */
  model: string;
  /** The action (`findMany`, `create`, ...). */
  operation: string;
  args: any;
  /** Runs the request (or the next hook) with these arguments. */
  query: (args: any) => Promise<any>;
}

export type QueryHook = (params: QueryHookParams) => Promise<unknown> | unknown;

export interface ComputedField {
  /** The scalar fields (or earlier computed fields) `compute` reads. */
  needs?: Record<string, boolean>;
  compute: (row: any) => unknown;
}

/** An extension as `$extends` takes it. Model keys are delegate names (`user`) or `$allModels`. */
export interface ExtensionArgs {
  name?: string;
  query?: Record<string, Record<string, QueryHook> | QueryHook>;
  model?: Record<string, Record<string, (...args: any[]) => unknown>>;
  result?: Record<string, Record<string, ComputedField>>;
  client?: Record<string, unknown>;
}

/** Prisma's `defineExtension`: an extension object, or a function of the client that extends it. */
export function defineExtension<E extends ExtensionArgs | ((client: any) => any)>(extension: E): E {
  return extension;
}

/**
 * Prisma's `getExtensionContext(this)`: inside a `model` method, `this` is the (extended)
 * delegate, with `$name` (the model's name) and `$parent` (the client it belongs to).
 */
export function getExtensionContext<T>(that: T): T & { $name?: string; $parent?: unknown } {
  return that as T & { $name?: string; $parent?: unknown };
}

/** The actions whose result is rows of the model (where computed fields apply). */
const ROW_ACTIONS = new Set([
  "findUnique",
  "findUniqueOrThrow",
  "findFirst",
  "findFirstOrThrow",
  "findMany",
  "create",
  "createManyAndReturn",
  "update",
  "updateManyAndReturn",
  "upsert",
  "delete",
]);

/**
 * The hooks around `operation` on the model with delegate name `key`, outermost first: extension
 * by extension in the order they were added, and within one extension the model's own hook for
 * the operation, its `$allOperations`, then `$allModels`' hook and `$allOperations`, then the
 * top-level `$allOperations` (Prisma's order).
 */
export function queryHooks(exts: readonly ExtensionArgs[], key: string, operation: string): QueryHook[] {
  const hooks: QueryHook[] = [];
  for (const ext of exts) {
    const q = ext.query;
    if (!q) continue;
    for (const scope of [q[key], q.$allModels]) {
      if (scope && typeof scope === "object") {
        if (typeof scope[operation] === "function") hooks.push(scope[operation]);
        if (typeof scope.$allOperations === "function") hooks.push(scope.$allOperations);
      }
    }
    if (typeof q.$allOperations === "function") hooks.push(q.$allOperations);
  }
  return hooks;
}

/** Runs `hooks` around `last`, each hook's `query` calling the next. */
export function runHooks(
  hooks: readonly QueryHook[],
  model: string,
  operation: string,
  args: unknown,
  last: (args: unknown) => Promise<unknown>,
): Promise<unknown> {
  const step = (i: number, a: unknown): Promise<unknown> => {
    if (i === hooks.length) return last(a);
    try {
      return Promise.resolve(hooks[i]({ model, operation, args: a, query: (next: unknown) => step(i + 1, next) }));
    } catch (e) {
      return Promise.reject(e);
    }
  };
  return step(0, args);
}

/** The computed fields of a model (delegate name `key`), in the order they were added. */
function computedFields(exts: readonly ExtensionArgs[], key: string): [string, ComputedField][] {
  const out: [string, ComputedField][] = [];
  for (const ext of exts) {
    for (const scope of [ext.result?.$allModels, ext.result?.[key]]) {
      if (scope) for (const [name, field] of Object.entries(scope)) out.push([name, field]);
    }
  }
  return out;
}

/**
 * Prepares a request's arguments for the computed fields of its model: a `select` naming a
 * computed field selects what it needs instead. Returns the arguments to send and what to do with
 * each row that comes back (compute, then drop the fields only the computation asked for).
 */
export function resultPlan(
  exts: readonly ExtensionArgs[],
  key: string,
  operation: string,
  args: any,
): { args: any; finish: (result: unknown) => unknown } | undefined {
  if (!ROW_ACTIONS.has(operation)) return undefined;
  const fields = computedFields(exts, key);
  if (fields.length === 0) return undefined;
  const computed = new Map(fields);
  const select = args && typeof args === "object" && args.select && typeof args.select === "object" ? args.select : undefined;
  const omit = args && typeof args === "object" && args.omit && typeof args.omit === "object" ? args.omit : {};
  let wanted: string[];
  let send = args;
  const added = new Set<string>();
  // Computed fields computed only because a wanted one needs them: dropped from the row after.
  const helpers = new Set<string>();
  if (select) {
    const sel: Record<string, unknown> = { ...select };
    wanted = [];
    // A computed field asked for: compute it, selecting what it needs (and what they need).
    const want = (name: string) => {
      const field = computed.get(name);
      if (!field) return;
      if (!wanted.includes(name)) wanted.push(name);
      delete sel[name];
      for (const [need, on] of Object.entries(field.needs ?? {})) {
        if (!on) continue;
        if (computed.has(need)) want(need);
        else if (!sel[need]) {
          sel[need] = true;
          added.add(need);
        }
      }
    };
    for (const [name, on] of Object.entries(select)) if (on && computed.has(name)) want(name);
    for (const name of wanted) if (!select[name]) helpers.add(name);
    for (const name of Object.keys(select)) if (computed.has(name) && !wanted.includes(name)) delete sel[name];
    send = { ...args, select: sel };
    // Compute in the order the fields were defined, so later ones can read earlier ones.
    wanted = fields.map(([n]) => n).filter((n) => wanted.includes(n));
  } else {
    wanted = fields.map(([n]) => n).filter((n) => !omit[n]);
  }
  const finishRow = (row: any) => {
    if (!row || typeof row !== "object") return row;
    for (const name of wanted) {
      const field = computed.get(name) as ComputedField;
      const needs = Object.keys(field.needs ?? {}).filter((n) => field.needs?.[n]);
      // Without `select`, a field whose needs were omitted is not computed.
      if (needs.every((n) => n in row)) row[name] = field.compute(row);
    }
    for (const name of added) delete row[name];
    for (const name of helpers) delete row[name];
    return row;
  };
  return {
    args: send,
    finish: (result) => (Array.isArray(result) ? result.map(finishRow) : finishRow(result)),
  };
}

/** The `model` methods for a delegate (delegate name `key`), later extensions winning. */
export function modelMethods(exts: readonly ExtensionArgs[], key: string): Record<string, (...args: any[]) => unknown> {
  const out: Record<string, (...args: any[]) => unknown> = {};
  for (const ext of exts) {
    Object.assign(out, ext.model?.$allModels ?? {}, ext.model?.[key] ?? {});
  }
  return out;
}

/** The `client` members, later extensions winning. */
export function clientMembers(exts: readonly ExtensionArgs[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const ext of exts) Object.assign(out, ext.client ?? {});
  return out;
}

/** Whether `ext` is an extension object `$extends` accepts. */
export function isExtension(ext: unknown): ext is ExtensionArgs {
  if (!ext || typeof ext !== "object") return false;
  const known = new Set(["name", "query", "model", "result", "client"]);
  return Object.keys(ext).every((k) => known.has(k));
}

// ---------------------------------------------------------------- types

import type { IsolationLevel } from "./adapter.js";
import type { QuarryPromise } from "./promise.js";
import type { TransactionOptions } from "./types.js";

type AnyFn = (...args: any[]) => any;
type ModelPart<E> = E extends { model: infer M } ? M : {};
type ClientPart<E> = E extends { client: infer X } ? X : {};
type AllModels<M> = M extends { $allModels: infer A } ? A : {};
/** A delegate with the extension's model methods (its own and `$allModels`'). */
type WithModel<D, K, M> = D extends { findMany: AnyFn } ? D & (K extends keyof M ? M[K] : {}) & AllModels<M> : D;

/**
 * A client (or view) `Cl` extended with `E`: its delegates gain the `model` methods, the client
 * the `client` members, and its tenant views and further `$extends` keep them. (Computed fields
 * appear on untyped rows; generated row types do not list them.)
 */
export type Extended<Cl, E> = {
  [K in keyof Cl]: K extends "$forTenant" | "$unscoped"
    ? Cl[K] extends (...a: infer A) => infer V
      ? (...a: A) => Extended<V, E>
      : Cl[K]
    : K extends "$extends"
      ? <E2 extends ExtensionArgs>(extension: E2) => Extended<Extended<Cl, E>, E2>
      : K extends "$transaction"
        ? ExtendedTransaction<TxOf<Cl>, E>
        : WithModel<Cl[K], K, ModelPart<E>>;
} & ClientPart<E>;

/** The client an interactive transaction's callback gets (the last `$transaction` overload). */
type TxOf<Cl> = Cl extends { $transaction(fn: (tx: infer T) => Promise<any>, options?: any): any } ? T : never;

/** `$transaction` of an extended client: its interactive callback gets an extended client. */
interface ExtendedTransaction<Tx, E> {
  <P extends readonly QuarryPromise<unknown>[]>(
    requests: [...P],
    options?: { isolationLevel?: IsolationLevel },
  ): Promise<{ -readonly [K in keyof P]: Awaited<P[K]> }>;
  <R>(fn: (tx: Extended<Tx, E>) => Promise<R>, options?: TransactionOptions): Promise<R>;
}
