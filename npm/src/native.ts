// The native engine: loads the Node addon (napi-rs; the engine with its own PostgreSQL driver and
// pool) once per process and wraps it in the same interface as the WebAssembly engine, so the
// client cannot tell them apart. Envelopes and results cross as JSON text, errors as the JSON
// text of `{ code, message, meta }` in the rejection's message, exactly as from the Wasm module.
//
// Where the addon comes from, first found wins: the file named by QUARRY_NATIVE_LIBRARY; the
// package's `native/quarry.<platform>.node` (what a build from source puts there); the platform
// package `@quarry/engine-<platform>` (napi-rs's layout: one optional dependency per platform, npm
// installs the one that fits). When none loads, `loadNative` says why, and the client falls back
// to the WebAssembly engine.

import { existsSync } from "node:fs";
import * as nodeModule from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { EngineDescription, EngineOptions, EngineWarning, QueryEngine } from "./engine.js";
import { QuarryInternalError, QuarryPanicError, engineError } from "./errors.js";

interface NativeHandle {
  describe(): string;
  warnings(): Promise<string>;
  tenantLinks(): Promise<string>;
  ddl(options: string): string;
  compile(envelope: string): string;
  request(envelope: string): Promise<string>;
  begin(options: string): Promise<string>;
  commit(id: string): Promise<string>;
  rollback(id: string): Promise<string>;
  expire(id: string): Promise<string>;
  close(): Promise<string>;
  takeLog(): string;
}

export interface Addon {
  QuarryEngine: new (schema: string, options: string, url: string, logQueries: boolean) => NativeHandle;
  debugPanic(message: string): void;
  debugPanicInTask(message: string): Promise<string>;
}

/** A statement the native driver ran, for a query log event. */
export interface NativeQueryEvent {
  query: string;
  paramCount: number;
  duration: number;
  timestamp: number;
}

/** napi-rs's platform names: `linux-x64-gnu`, `darwin-arm64`, `win32-x64-msvc`, ... */
export function platformName(): string {
  const base = `${process.platform}-${process.arch}`;
  if (process.platform === "win32") return `${base}-msvc`;
  if (process.platform !== "linux") return base;
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return `${base}-${report?.header?.glibcVersionRuntime ? "gnu" : "musl"}`;
}

/** This file runs from dist/npm/src/; `native/` sits at the package's root. */
export function bundledAddonPath(): string {
  return join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "native", `quarry.${platformName()}.node`);
}

/**
 * Node's own `require`, resolving from this file, out of bundlers' sight: Turbopack and webpack
 * resolve `createRequire(import.meta.url)(name)` and `new URL(path, import.meta.url)` at build
 * time, and replace a name they cannot resolve there (a platform package that is not installed,
 * the computed name of the one that is, `pg` when it is absent) with a stub that throws, or fail
 * the build. Node.js itself then loads the addon from node_modules when the app runs.
 */
export function nodeRequire(): (id: string) => unknown {
  const module: { createRequire: typeof nodeModule.createRequire } = process.getBuiltinModule?.("node:module") ?? nodeModule;
  return module.createRequire(import.meta.url);
}

let loaded: { addon: Addon } | { reason: string } | undefined;

/** The addon, or why it cannot be loaded on this platform (tried once per process). */
export function loadNative(): { addon: Addon } | { reason: string } {
  if (loaded) return loaded;
  const require = nodeRequire();
  const override = process.env.QUARRY_NATIVE_LIBRARY;
  const candidates = override ? [override] : [bundledAddonPath(), `@quarry/engine-${platformName()}`];
  const reasons: string[] = [];
  for (const candidate of candidates) {
    if (candidate.endsWith(".node") && !existsSync(candidate)) {
      reasons.push(`${candidate} does not exist`);
      continue;
    }
    try {
      loaded = { addon: require(candidate) as Addon };
      return loaded;
    } catch (e) {
      reasons.push(`${candidate}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  loaded = { reason: `no native engine for ${platformName()} (${reasons.join("; ")})` };
  return loaded;
}

/** A rejection or throw of the addon as the client's error class. */
function nativeError(e: unknown): Error {
  const text = e instanceof Error ? e.message : String(e);
  let parsed: { code: string; message: string; meta?: Record<string, unknown> } | undefined;
  try {
    parsed = JSON.parse(text);
  } catch {
    return new QuarryInternalError("Q9001", `the native engine failed: ${text}`);
  }
  if (!parsed || typeof parsed.code !== "string") return new QuarryInternalError("Q9001", `the native engine failed: ${text}`);
  if (parsed.meta?.panic === true) return new QuarryPanicError(parsed.code, parsed.message, parsed.meta);
  return engineError(parsed);
}

function sync<T>(f: () => string): T {
  let text: string;
  try {
    text = f();
  } catch (e) {
    throw nativeError(e);
  }
  return JSON.parse(text) as T;
}

/** One client's native engine over its own pool to `url`. */
export class NativeEngine implements QueryEngine {
  readonly #engine: NativeHandle;
  readonly #onQueries: ((events: NativeQueryEvent[]) => void) | undefined;

  /**
   * `onQueries`, when given, receives the statements each call ran (after the call settles), for
   * query log events.
   */
  constructor(addon: Addon, schema: string, options: EngineOptions, url: string, onQueries?: (events: NativeQueryEvent[]) => void) {
    this.#onQueries = onQueries;
    try {
      this.#engine = new addon.QuarryEngine(schema, JSON.stringify(options), url, onQueries !== undefined);
    } catch (e) {
      throw nativeError(e);
    }
  }

  async #run<T>(call: () => Promise<string>): Promise<T> {
    try {
      return JSON.parse(await call()) as T;
    } catch (e) {
      throw nativeError(e);
    } finally {
      if (this.#onQueries) {
        const events = JSON.parse(this.#engine.takeLog()) as NativeQueryEvent[];
        if (events.length > 0) this.#onQueries(events);
      }
    }
  }

  describe(): EngineDescription {
    return sync(() => this.#engine.describe());
  }

  warnings(): Promise<EngineWarning[]> {
    return this.#run(() => this.#engine.warnings());
  }

  tenantLinks(): Promise<{ relation: string; links: number }[]> {
    return this.#run(() => this.#engine.tenantLinks());
  }

  ddl(options?: { tenantKeys?: boolean; rls?: boolean }): string[] {
    return sync(() => this.#engine.ddl(JSON.stringify(options ?? null)));
  }

  compile(envelope: unknown): unknown {
    return sync(() => this.#engine.compile(JSON.stringify(envelope)));
  }

  request(envelope: unknown): Promise<unknown> {
    return this.#run(() => this.#engine.request(JSON.stringify(envelope)));
  }

  begin(options: unknown): Promise<{ id: string; timeout: number }> {
    return this.#run(() => this.#engine.begin(JSON.stringify(options ?? null)));
  }

  commit(id: string): Promise<unknown> {
    return this.#run(() => this.#engine.commit(id));
  }

  rollback(id: string): Promise<unknown> {
    return this.#run(() => this.#engine.rollback(id));
  }

  expire(id: string): Promise<boolean> {
    return this.#run(() => this.#engine.expire(id));
  }

  /** Rolls back open transactions and closes the pool. */
  close(): Promise<unknown> {
    return this.#run(() => this.#engine.close());
  }
}

/** Makes the native engine panic, to check that a panic reaches the caller as an error. */
export function nativeDebugPanic(addon: Addon, message: string): void {
  try {
    addon.debugPanic(message);
  } catch (e) {
    throw nativeError(e);
  }
}

/** A panic inside a call running on the addon's runtime. */
export async function nativeDebugPanicInTask(addon: Addon, message: string): Promise<unknown> {
  try {
    return await addon.debugPanicInTask(message);
  } catch (e) {
    throw nativeError(e);
  }
}
