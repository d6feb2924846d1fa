// The command line's engine: the WebAssembly build with the schema migration commands
// (`wasm-cli/`, built with the `migrate` feature; applications load `wasm/`, which has none of
// them), over a driver adapter. Its calls are tasks the module asks to have polled, as in
// ../engine.ts; the command line is one short process, so a trap in the module simply fails the
// command that is waiting with the panic's message.

import { readFileSync } from "node:fs";
import * as wasm from "#wasm-cli";
import type { SqlDriverAdapter } from "../adapter.js";
import { DriverAdapterError } from "../adapter.js";
import { QuarryInternalError, engineError } from "../errors.js";

let loaded = false;
let panicMessage: string | undefined;
const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();

function load(): void {
  if (loaded) return;
  // This file runs from dist/npm/src/cli/; the module sits in wasm-cli/ at the package's root.
  wasm.initSync({ module: readFileSync(new URL("../../../../wasm-cli/quarry_engine_wasm_bg.wasm", import.meta.url)) });
  wasm.installHost(
    (id: number) => queueMicrotask(() => poll(id)),
    (message: string) => {
      panicMessage = message;
    },
  );
  loaded = true;
}

function panicked(cause: unknown): Error {
  const what = panicMessage ?? (cause instanceof Error ? cause.message : String(cause));
  return new QuarryInternalError("Q9001", `The Quarry engine panicked (a bug in Quarry; please report it): ${what}`, { panic: true });
}

function poll(id: number): void {
  const w = waiting.get(id);
  if (!w) return;
  let out: [boolean, string] | undefined;
  try {
    out = wasm.pollTask(id);
  } catch (e) {
    waiting.delete(id);
    w.reject(panicked(e));
    return;
  }
  if (out === undefined) return;
  waiting.delete(id);
  const [ok, text] = out;
  if (ok) w.resolve(JSON.parse(text));
  else w.reject(engineError(JSON.parse(text)));
}

function call<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (typeof e === "string") throw engineError(JSON.parse(e));
    throw panicked(e);
  }
}

/**
 * An adapter for commands that never reach the database (validate, sql, printing rls), speaking
 * the dialect of the schema's provider (`schemaText`'s datasource: MySQL or PostgreSQL).
 */
export function offlineAdapter(schemaText = ""): SqlDriverAdapter {
  const refuse = async (): Promise<never> => {
    throw new DriverAdapterError({ kind: "connection", message: "this command does not connect to a database" });
  };
  const mysql = /datasource\s+\w+\s*\{[^}]*\bprovider\s*=\s*"mysql"/.test(schemaText);
  return { provider: mysql ? "mysql" : "postgres", adapterName: "offline", queryRaw: refuse, executeRaw: refuse, startTransaction: refuse };
}

/** A migration step as the engine describes it. */
export interface Step {
  kind: string;
  sql: string;
  risk?: { level: "dataLoss" | "unexecutable"; message: string };
}

export interface Risk {
  level: "dataLoss" | "unexecutable";
  message: string;
}

export class ToolEngine {
  readonly #engine: wasm.QuarryEngine;

  /** Throws the schema's error (with `meta.line` / `meta.column`) when it is not valid. */
  constructor(schema: string, options: { namespace?: string; tenantField?: string }, adapter: SqlDriverAdapter) {
    load();
    this.#engine = call(() => new wasm.QuarryEngine(schema, JSON.stringify(options), adapter));
  }

  describe(): {
    models: string[];
    tenancy: { model: string; tenancy: string; field?: string; writable: boolean }[];
    warnings: { code: string; message: string }[];
  } {
    return JSON.parse(call(() => this.#engine.describe()));
  }

  /** Rows that refer to a row of another tenant, counted per relation. */
  tenantLinks(): Promise<{ relation: string; links: number }[]> {
    return this.#task(() => this.#engine.tenantLinks());
  }

  compile(envelope: unknown): unknown {
    return JSON.parse(call(() => this.#engine.compile(JSON.stringify(envelope))));
  }

  /** A migration command (see the engine's `migrate` module). */
  migrate<T = Record<string, unknown>>(command: Record<string, unknown>): Promise<T> {
    return this.#task(() => this.#engine.migrate(JSON.stringify(command)));
  }

  #task<T>(start: () => number): Promise<T> {
    let id: number;
    try {
      id = start();
    } catch (e) {
      return Promise.reject(panicked(e));
    }
    return new Promise<T>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      poll(id);
    });
  }
}
