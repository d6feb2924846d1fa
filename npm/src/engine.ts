// The WebAssembly engine: loads the module once per process and turns its task-based calls into
// promises. The module never runs a future on its own: it asks to be polled (`wake`), and every
// poll happens here, inside a try/catch. A panic in the engine traps inside such a call and
// becomes a `QuarryPanicError` for the caller (and for every later call: the instance cannot be
// trusted after a trap) instead of an exception in a microtask that would end the process.

import * as wasm from "#wasm";
import type { SqlDriverAdapter } from "./adapter.js";
import { QuarryInternalError, QuarryPanicError, engineError } from "./errors.js";

/**
 * The compiled module or its bytes. Where the module comes from depends on the runtime: each
 * entry point in `runtime/` provides it (a Workers or Vercel Edge bundle imports it as a module,
 * Node and Deno read the file, browsers fetch it). The module may come from another realm (a
 * bundler's or sandbox's), so it is recognised by its tag, never by `instanceof`.
 */
export type EngineModuleSource = WasmModule | ArrayBuffer | ArrayBufferView;

/** A compiled `WebAssembly.Module` (the package is typed against ES2022, without DOM types). */
export type WasmModule = object;

let source: (() => EngineModuleSource) | undefined;

/** Called once by the runtime's entry point; the first provider wins. */
export function provideEngineModule(get: () => EngineModuleSource): void {
  source ??= get;
}

/** Whether `value` is a `WebAssembly.Module`, whichever realm created it. */
export function isWasmModule(value: unknown): value is WasmModule {
  return Object.prototype.toString.call(value) === "[object WebAssembly.Module]";
}

let loaded = false;
let panicMessage: string | undefined;
let poisoned: QuarryPanicError | undefined;
const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
const scheduled = new Set<number>();

function load(): void {
  if (loaded) return;
  if (!source) {
    throw new QuarryInternalError(
      "Q9002",
      "The Quarry engine's WebAssembly module has no loader: import `quarry` through the package's entry point " +
        "(its `exports` pick the loader for Workers, Vercel Edge, Deno, Node and browsers).",
    );
  }
  // The generated glue accepts a module of any realm (scripts/build makes its check tag-based).
  wasm.initSync({ module: source() });
  wasm.installHost(wake, (message: string) => {
    panicMessage = message;
  });
  loaded = true;
}

function wake(id: number): void {
  if (scheduled.has(id)) return;
  scheduled.add(id);
  queueMicrotask(() => {
    scheduled.delete(id);
    poll(id);
  });
}

/** After a trap: fail everything that waits and everything that comes. */
function poison(cause: unknown): QuarryPanicError {
  if (!poisoned) {
    const what = panicMessage ?? (cause instanceof Error ? cause.message : String(cause));
    poisoned = new QuarryPanicError(
      "Q9001",
      `The Quarry engine panicked (a bug in Quarry; please report it): ${what}. ` +
        "The engine cannot be used any more in this process; restart it.",
      { panic: true },
    );
    const pending = [...waiting.values()];
    waiting.clear();
    for (const w of pending) w.reject(poisoned);
  }
  return poisoned;
}

function poll(id: number): void {
  const w = waiting.get(id);
  if (!w) return;
  let out: [boolean, string] | undefined;
  try {
    out = wasm.pollTask(id);
  } catch (e) {
    poison(e);
    return;
  }
  if (out === undefined) return;
  waiting.delete(id);
  const [ok, text] = out;
  if (ok) w.resolve(JSON.parse(text));
  else w.reject(engineError(JSON.parse(text)));
}

/** Runs a synchronous engine call; errors cross as JSON text, a trap as a panic. */
function call<T>(f: () => T): T {
  if (poisoned) throw poisoned;
  try {
    return f();
  } catch (e) {
    if (typeof e === "string") throw engineError(JSON.parse(e));
    throw poison(e);
  }
}

function run(start: () => number): Promise<unknown> {
  if (poisoned) return Promise.reject(poisoned);
  let id: number;
  try {
    id = start();
  } catch (e) {
    return Promise.reject(poison(e));
  }
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    poll(id);
  });
}

export interface EngineOptions {
  namespace?: string;
  tenantField?: string;
  maxTake?: number;
  maxDepth?: number;
  /** Plans kept by request shape (0: none). */
  planCache?: number;
  rls?: boolean;
}

/** A warning from the engine: the shape of an error, logged instead of thrown. */
export interface EngineWarning {
  code: string;
  message: string;
  meta: Record<string, unknown>;
}

/** How one model is treated under a tenant (the engine's tenancy table). */
export interface ModelTenancy {
  model: string;
  tenancy: "scoped" | "shared" | "global" | "tenant";
  field?: string;
  writable: boolean;
}

/** What the client learns of the schema from its engine. */
export interface EngineDescription {
  models: string[];
  tenancy: ModelTenancy[];
  /** Whether any model is tenant-scoped. */
  scoped: boolean;
  /** The error a tenant context gets when no model is scoped (`Q3006`), else null. */
  forTenantError: { code: string; message: string; meta: Record<string, unknown> } | null;
  warnings: EngineWarning[];
}

/**
 * What the client needs of an engine; the WebAssembly engine (below) and the native addon
 * (`native.ts`) both provide it. Envelopes and results are plain JSON values (tags not yet decoded).
 */
export interface QueryEngine {
  describe(): EngineDescription;
  /** RLS mode's warnings about the connected role. */
  warnings(): Promise<EngineWarning[]>;
  /** The links between tenants the database holds, per relation. */
  tenantLinks(): Promise<{ relation: string; links: number }[]>;
  ddl(options?: { tenantKeys?: boolean; rls?: boolean }): string[];
  compile(envelope: unknown): unknown;
  request(envelope: unknown): Promise<unknown>;
  begin(options: unknown): Promise<{ id: string; timeout: number }>;
  commit(id: string): Promise<unknown>;
  rollback(id: string): Promise<unknown>;
  /** Rolls the transaction back if its timeout has passed; whether it did. */
  expire(id: string): Promise<boolean>;
  close(): Promise<unknown>;
}

/** One client's WebAssembly engine over a driver adapter. */
export class Engine implements QueryEngine {
  readonly #engine: wasm.QuarryEngine;

  constructor(schema: string, options: EngineOptions, adapter: SqlDriverAdapter) {
    load();
    this.#engine = call(() => new wasm.QuarryEngine(schema, JSON.stringify(options), adapter));
  }

  describe(): EngineDescription {
    return JSON.parse(call(() => this.#engine.describe()));
  }

  warnings(): Promise<EngineWarning[]> {
    return run(() => this.#engine.warnings()) as Promise<EngineWarning[]>;
  }

  tenantLinks(): Promise<{ relation: string; links: number }[]> {
    return run(() => this.#engine.tenantLinks()) as Promise<{ relation: string; links: number }[]>;
  }

  ddl(options?: { tenantKeys?: boolean; rls?: boolean }): string[] {
    return JSON.parse(call(() => this.#engine.ddl(JSON.stringify(options ?? null))));
  }

  compile(envelope: unknown): unknown {
    return JSON.parse(call(() => this.#engine.compile(JSON.stringify(envelope))));
  }

  request(envelope: unknown): Promise<unknown> {
    return run(() => this.#engine.request(JSON.stringify(envelope)));
  }

  begin(options: unknown): Promise<{ id: string; timeout: number }> {
    return run(() => this.#engine.begin(JSON.stringify(options ?? null))) as Promise<{ id: string; timeout: number }>;
  }

  commit(id: string): Promise<unknown> {
    return run(() => this.#engine.commit(id));
  }

  rollback(id: string): Promise<unknown> {
    return run(() => this.#engine.rollback(id));
  }

  /** Rolls the transaction back if its timeout has passed; whether it did. */
  expire(id: string): Promise<boolean> {
    return run(() => this.#engine.expire(id)) as Promise<boolean>;
  }

  close(): Promise<unknown> {
    return run(() => this.#engine.close());
  }
}

/**
 * The resolved schema as the client API sees it (models, fields, keys, relations, enums, tenancy),
 * for code generators: see `SchemaDescription` in generate/schema.ts. Needs no database.
 */
export function describeSchema(schema: string, options: EngineOptions = {}): unknown {
  load();
  return JSON.parse(call(() => wasm.describeSchema(schema, JSON.stringify(options))));
}

/** Makes the engine panic, to check that a panic reaches the caller as an error. */
export function debugPanic(message: string): void {
  load();
  call(() => wasm.debugPanic(message));
}

/** Makes a task of the engine panic when it is next polled, as a panic inside a request would. */
export function debugPanicInTask(message: string): Promise<unknown> {
  load();
  return run(() => wasm.debugPanicInTask(message));
}
