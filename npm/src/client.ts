// The client: `createClient({ schema, adapter })` returns an object with a delegate per model
// (`db.user.findMany(args)`), transactions, raw SQL, `$compile` and tenant views. Every call is
// an envelope for the engine — the request with its values tagged, plus the view's tenant context
// and transaction — and every result is decoded back into JavaScript values. No query logic lives
// here: validation, planning, tenant scope and execution are the engine's.

import sql from "sql-template-tag";
import { Engine, type EngineDescription, type EngineOptions, type EngineWarning, type QueryEngine } from "./engine.js";
import type { SqlDriverAdapter } from "./adapter.js";
import type { Addon, NativeQueryEvent } from "./native.js";
import { QuarryDriverError, QuarryError, QuarryValidationError, engineError } from "./errors.js";
import { Logger, withQueryLog } from "./log.js";
import { clientNamespace } from "./namespace.js";
import { type CallContext, type PendingRequest, QuarryPromise, requestOf } from "./promise.js";
import {
  ACTIONS,
  type ClientOptions,
  type CompiledRequest,
  type LogEvent,
  type LogLevel,
  type QuarryClient,
  type QueryEvent,
  type RawSql,
  type Row,
  type TenantId,
  type TransactionOptions,
} from "./types.js";
import { decode, encode } from "./values.js";
import {
  type ExtensionArgs,
  clientMembers,
  isExtension,
  modelMethods,
  queryHooks,
  resultPlan,
  runHooks,
} from "./extensions.js";

let fallbackAnnounced = false;

/**
 * The native addon's loader and engine. Only the Node entry point (runtime/node.ts) provides them,
 * so no other runtime's bundle reaches for `node:` modules; elsewhere `url` cannot be served.
 */
export interface NativeSupport {
  load(): { addon: Addon } | { reason: string };
  engine(addon: Addon, schema: string, options: EngineOptions, url: string, onQueries?: (events: NativeQueryEvent[]) => void): QueryEngine;
  /** Where the addon cannot be loaded: a driver adapter for `url` (node-postgres) the client owns, or why not. */
  fallback(url: string): { adapter: SqlDriverAdapter } | { reason: string };
  /** For a MySQL `url`: a driver adapter over mysql2 the client owns, or why not. */
  mysql(url: string): { adapter: SqlDriverAdapter } | { reason: string };
}
let nativeSupport: NativeSupport | undefined;

export function provideNativeSupport(support: NativeSupport): void {
  nativeSupport ??= support;
}

/**
 * The engine for the options: the native addon for a PostgreSQL `url`; where it cannot be loaded,
 * the WebAssembly engine over `adapter` when one is given, or else over node-postgres (said once
 * per process on stderr); for a MySQL `url`, which the addon does not speak, the WebAssembly engine
 * over `adapter` when one is given, or else over mysql2 (its ready message says so); the
 * WebAssembly engine for `adapter` alone. `owned` is an adapter the client created and ends on
 * `$disconnect`.
 */
function chooseEngine(
  options: ClientOptions,
  logger: Logger,
): { engine: QueryEngine; ready: (models: number) => string; owned?: SqlDriverAdapter } {
  const engineOptions: EngineOptions = {
    namespace: clientNamespace(options),
    tenantField: options.tenancy?.field,
    maxTake: options.limits?.maxTake,
    maxDepth: options.limits?.maxDepth,
    planCache: options.limits?.planCache,
    rls: options.rls,
  };
  if (options.url !== undefined) {
    if (typeof options.url !== "string" || options.url === "") {
      throw new QuarryValidationError("Q2005", "createClient: `url` must be a postgres:// or mysql:// connection string", { path: "url" });
    }
    if (/^(mysql|mariadb):\/\//i.test(options.url)) return mysqlEngine(options, options.url, engineOptions, logger);
    const native = nativeSupport ? nativeSupport.load() : { reason: "the native engine runs on Node.js only" };
    if ("addon" in native) {
      const onQueries = logger.enabled("query")
        ? (events: NativeQueryEvent[]) => {
            for (const e of events) logger.query(e.query, e.paramCount, e.duration, new Date(e.timestamp));
          }
        : undefined;
      const engine = (nativeSupport as NativeSupport).engine(native.addon, options.schema, engineOptions, options.url, onQueries);
      return { engine, ready: (n) => `Quarry engine (native) ready: ${n} models, PostgreSQL pool` };
    }
    let given = options.adapter;
    let owned: SqlDriverAdapter | undefined;
    let over = "the driver adapter";
    if (!given) {
      const postgres = /^postgres(ql)?:\/\//i.test(options.url);
      const fallback = postgres && nativeSupport ? nativeSupport.fallback(options.url) : undefined;
      if (!fallback || "reason" in fallback) {
        const next = fallback
          ? `; the WebAssembly engine's fallback for a PostgreSQL \`url\` needs node-postgres, and ${fallback.reason}. Install it (\`npm install pg\`) or pass`
          : ". Pass";
        throw new QuarryValidationError(
          "Q2010",
          `createClient: the native engine cannot be loaded: ${native.reason}${next} a driver adapter (\`adapter\`) to use the WebAssembly engine.`,
          { path: "url" },
        );
      }
      given = owned = fallback.adapter;
      over = "node-postgres (pg)";
    }
    if (!fallbackAnnounced) {
      fallbackAnnounced = true;
      console.warn(`quarry: the native engine cannot be loaded: ${native.reason}; using the WebAssembly engine over ${over}`);
    }
    return { ...wasmEngine(options, engineOptions, logger, given), owned };
  }
  if (!options.adapter) {
    throw new QuarryValidationError("Q2005", "createClient: pass `url` (native engine) or `adapter` (WebAssembly engine)", { path: "adapter" });
  }
  return wasmEngine(options, engineOptions, logger, options.adapter);
}

/** A MySQL `url`: the WebAssembly engine over the given adapter, or over a mysql2 pool of the client's own. */
function mysqlEngine(options: ClientOptions, url: string, engineOptions: EngineOptions, logger: Logger) {
  if (options.adapter) return wasmEngine(options, engineOptions, logger, options.adapter);
  const made = nativeSupport ? nativeSupport.mysql(url) : undefined;
  if (!made || "reason" in made) {
    const why = made
      ? `a MySQL \`url\` runs the WebAssembly engine over mysql2, and ${made.reason}. Install it (\`npm install mysql2\`) or pass`
      : "a MySQL `url` is served over mysql2 on Node.js only. Pass";
    throw new QuarryValidationError("Q2010", `createClient: ${why} a driver adapter (\`adapter\`).`, { path: "url" });
  }
  try {
    const { engine, ready } = wasmEngine(options, engineOptions, logger, made.adapter);
    return { engine, ready: (n: number) => `${ready(n)}, a pool of its own for the MySQL url`, owned: made.adapter };
  } catch (e) {
    // No client to end it later: the pool (no connection opened yet) ends here.
    void made.adapter.dispose?.();
    throw e;
  }
}

function wasmEngine(options: ClientOptions, engineOptions: EngineOptions, logger: Logger, given: SqlDriverAdapter) {
  const adapter = logger.enabled("query") ? withQueryLog(logger, given) : given;
  return {
    engine: new Engine(options.schema, engineOptions, adapter),
    ready: (n: number) => `Quarry engine (WebAssembly) ready: ${n} models, adapter ${adapter.adapterName}`,
  };
}

/** What every view of one client shares. */
class Core {
  readonly engine: QueryEngine;
  readonly logger: Logger;
  readonly models: string[];
  readonly description: EngineDescription;
  readonly #adapter: ClientOptions["adapter"];
  /** An adapter the client created itself (the node-postgres fallback for `url`); ended on dispose. */
  readonly #owned: SqlDriverAdapter | undefined;

  constructor(options: ClientOptions) {
    if (typeof options?.schema !== "string") {
      throw new QuarryValidationError("Q2005", "createClient: `schema` must be the Prisma schema text", { path: "schema" });
    }
    if (options.rls !== undefined && typeof options.rls !== "boolean") {
      throw new QuarryValidationError("Q2005", "createClient: `rls` must be true or false", { path: "rls" });
    }
    this.logger = new Logger(options.log);
    const { engine, ready, owned } = chooseEngine(options, this.logger);
    this.engine = engine;
    this.#adapter = engine instanceof Engine ? options.adapter : undefined;
    this.#owned = owned;
    this.description = this.engine.describe();
    this.models = this.description.models;
    // On the next tick, so that `$on("info", ...)` and `$on("warn", ...)` right after
    // createClient hear them.
    const message = ready(this.models.length);
    queueMicrotask(() => {
      this.logger.message("info", message);
      this.description.warnings.forEach((w) => this.warn(w));
    });
    // RLS mode asks the database once whether the role is subject to the policies at all.
    if (options.rls) {
      this.engine.warnings().then(
        (warnings) => warnings.forEach((w) => this.warn(w)),
        (e) => this.logger.message("error", `row-level security check failed: ${e instanceof Error ? e.message : String(e)}`),
      );
    }
  }

  /** Tenancy and RLS warnings reach the user: through the logger when it takes warnings, else stderr. */
  warn(w: EngineWarning): void {
    const line = `${w.code} ${w.message}`;
    if (this.logger.enabled("warn")) this.logger.message("warn", line);
    else console.warn(`quarry:warn ${line}`);
  }

  /** Set by `$disconnect()`: from then on nothing starts (Q4002). */
  #closing: Promise<void> | undefined;
  /** Calls to the engine that have not settled yet; `$disconnect()` waits for them. */
  readonly #inFlight = new Set<Promise<unknown>>();

  /** Fails once the client is disconnecting or disconnected. */
  checkOpen(): void {
    if (this.#closing) {
      throw new QuarryDriverError("Q4002", "the client was disconnected ($disconnect()); create a new client to run more requests");
    }
  }

  /** Runs a call to the engine that `$disconnect()` must wait for. */
  track<T>(start: () => Promise<T>): Promise<T> {
    try {
      this.checkOpen();
    } catch (e) {
      return Promise.reject(e);
    }
    const p = start();
    this.#inFlight.add(p);
    const done = () => {
      this.#inFlight.delete(p);
    };
    p.then(done, done);
    return p;
  }

  /** Runs an envelope, decoding the result and logging a failure. */
  async send(envelope: object): Promise<unknown> {
    try {
      return decode(await this.track(() => this.engine.request(envelope)));
    } catch (e) {
      if (e instanceof QuarryError) this.logger.message("error", `${e.code} ${e.message}`);
      throw e;
    }
  }

  /**
   * A lazy request. Its document is built on first use, so a value that cannot be encoded
   * rejects the awaited promise (or fails the batch, or `$compile`) instead of throwing at the call.
   */
  pending(build: () => object, ctx: CallContext): QuarryPromise<never> {
    let request: object | undefined;
    const spec: PendingRequest = {
      get request() {
        request ??= build();
        return request;
      },
      ctx,
      owner: this,
      run: async () => this.send({ request: spec.request, ...ctx }),
    };
    return new QuarryPromise(spec);
  }

  /** A lazy request with client extensions: `chain` runs its hooks around the final request. */
  extended(build: () => object, ctx: CallContext, chain: NonNullable<PendingRequest["chain"]>): QuarryPromise<never> {
    let request: object | undefined;
    const spec: PendingRequest = {
      get request() {
        request ??= build();
        return request;
      },
      ctx,
      owner: this,
      chain,
      run: () => chain((req) => this.send({ request: req, ...ctx })),
    };
    return new QuarryPromise(spec);
  }

  /**
   * `$disconnect()`, final: nothing starts any more; the engine rolls back open transactions
   * (cancelling statements they run) and refuses what was still waiting to start; calls still
   * finishing are waited for; then the adapter is released and the pool the client owns ended.
   */
  dispose(): Promise<void> {
    this.#closing ??= (async () => {
      await this.engine.close();
      await Promise.allSettled([...this.#inFlight]);
      await this.#adapter?.dispose?.();
      await this.#owned?.dispose?.();
    })();
    return this.#closing;
  }
}

/** `User` -> `user`, `BlogPost` -> `blogPost`: Prisma Client's delegate names. */
export function delegateName(model: string): string {
  return model.charAt(0).toLowerCase() + model.slice(1);
}

function delegate(
  core: Core,
  ctx: CallContext,
  model: string,
  exts: readonly ExtensionArgs[],
  client: object,
): Record<string, (args?: unknown) => unknown> {
  const d: Record<string, (args?: unknown) => unknown> = {};
  const key = delegateName(model);
  for (const action of ACTIONS) {
    const build = (args: unknown) => (args === undefined ? { model, action } : { model, action, args: encode(args) });
    const hooks = queryHooks(exts, key, action);
    const computes = exts.some((e) => e.result?.[key] || e.result?.$allModels);
    if (hooks.length === 0 && !computes) {
      d[action] = (args?: unknown) => core.pending(() => build(args), ctx);
      continue;
    }
    d[action] = (args?: unknown) =>
      core.extended(() => build(args), ctx, (send) =>
        // Hooks get an object to work on (`args.where = …`), as in Prisma, even when none was given.
        runHooks(hooks, model, action, args ?? {}, async (final) => {
          const plan = resultPlan(exts, key, action, final);
          const result = await send(build(plan ? plan.args : final));
          return plan ? plan.finish(result) : result;
        }),
      );
  }
  if (exts.length > 0) {
    // `this` in a model method is the delegate (Prisma's getExtensionContext(this)).
    Object.defineProperty(d, "$name", { value: model });
    Object.defineProperty(d, "$parent", { value: client });
    for (const [name, fn] of Object.entries(modelMethods(exts, key))) {
      if (typeof fn === "function") d[name] = fn.bind(d);
    }
  }
  return d;
}

function isTemplate(q: unknown): q is TemplateStringsArray {
  return Array.isArray(q) && Array.isArray((q as unknown as TemplateStringsArray).raw);
}

function rawSql(query: TemplateStringsArray | RawSql, values: unknown[]): RawSql {
  if (isTemplate(query)) return sql(query, ...values);
  if (query && typeof query === "object" && typeof (query as RawSql).text === "string") return query as RawSql;
  throw new QuarryValidationError("Q2005", "use $queryRaw and $executeRaw as tagged templates, or pass a `sql` fragment", {
    path: "query",
  });
}

/** A template's text with the placeholders of the schema's database: `$1..$n`, or `?` on MySQL. */
function placeholders(core: Core, s: RawSql): string {
  return core.description.provider === "mysql" ? s.strings.join("?") : s.text;
}

function sameContext(a: CallContext, b: CallContext): boolean {
  return a.tenant === b.tenant && a.unscoped === b.unscoped && a.transaction === b.transaction;
}

/**
 * A view of the client: the shared core plus a tenant context (and a transaction), and the client
 * extensions it was made with (every view made from it keeps them).
 */
function view(core: Core, ctx: CallContext, exts: readonly ExtensionArgs[] = []): QuarryClient {
  const raw = (action: "queryRaw" | "executeRaw", query: string, values: readonly unknown[]) =>
    core.pending(() => ({ action, args: { query, parameters: encode(values, "parameters") } }), ctx);
  const compileOne = (p: unknown): CompiledRequest => {
    const spec = requestOf(p);
    if (!spec || spec.owner !== core) {
      throw new QuarryValidationError("Q2005", "$compile takes a request of this client, such as db.user.findMany(...)", {
        path: "request",
      });
    }
    return decode(core.engine.compile({ request: spec.request, ...spec.ctx, transaction: undefined })) as CompiledRequest;
  };

  const client: Record<string, unknown> = {
    $forTenant(tenantId: TenantId) {
      // A schema without a scoped model: a tenant view would scope nothing (fail closed, now).
      if (core.description.forTenantError) throw engineError(core.description.forTenantError);
      const tenant = typeof tenantId === "bigint" ? tenantId.toString() : tenantId;
      return view(core, { tenant, transaction: ctx.transaction }, exts);
    },
    $unscoped() {
      return view(core, { unscoped: true, transaction: ctx.transaction }, exts);
    },
    $queryRaw: (query: TemplateStringsArray | RawSql, ...values: unknown[]) => {
      const s = rawSql(query, values);
      return raw("queryRaw", placeholders(core, s), s.values);
    },
    $executeRaw: (query: TemplateStringsArray | RawSql, ...values: unknown[]) => {
      const s = rawSql(query, values);
      return raw("executeRaw", placeholders(core, s), s.values);
    },
    $queryRawUnsafe: (query: string, ...values: unknown[]) => raw("queryRaw", query, values),
    $executeRawUnsafe: (query: string, ...values: unknown[]) => raw("executeRaw", query, values),
    $compile: (request: unknown) => (Array.isArray(request) ? request.map(compileOne) : compileOne(request)),
  };
  if (ctx.transaction === undefined) {
    Object.assign(client, {
      $transaction: (arg: unknown, options?: TransactionOptions) =>
        typeof arg === "function"
          ? interactive(core, ctx, arg as (tx: QuarryClient) => Promise<unknown>, options, exts)
          : batch(core, arg, options),
      $on: (level: LogLevel, listener: (e: QueryEvent | LogEvent) => void) => core.logger.on(level, listener),
      $ddl: (options?: { tenantKeys?: boolean; rls?: boolean }) => core.engine.ddl(options),
      $tenancy: () => core.description.tenancy.map((t) => ({ ...t })),
      $tenantLinks: () => core.engine.tenantLinks(),
      $disconnect: () => core.dispose(),
      $extends: (extension: unknown) => {
        if (typeof extension === "function") return extension(client);
        if (!isExtension(extension)) {
          throw new QuarryValidationError(
            "Q2005",
            "$extends takes an extension: an object with `query`, `model`, `result` and/or `client`, or a function of the client",
            { path: "extension" },
          );
        }
        return view(core, ctx, [...exts, extension]);
      },
    });
  }
  for (const model of core.models) {
    let d: ReturnType<typeof delegate> | undefined;
    Object.defineProperty(client, delegateName(model), {
      enumerable: true,
      get: () => (d ??= delegate(core, ctx, model, exts, client)),
    });
  }
  for (const [name, member] of Object.entries(clientMembers(exts))) {
    client[name] = typeof member === "function" ? member.bind(client) : member;
  }
  return client as unknown as QuarryClient;
}

async function batch(core: Core, requests: unknown, options?: TransactionOptions): Promise<unknown[]> {
  if (!Array.isArray(requests)) {
    throw new QuarryValidationError("Q2005", "$transaction takes a list of requests or an async function", { path: "requests" });
  }
  const specs = requests.map((r, i) => {
    const spec = requestOf(r);
    if (!spec || spec.owner !== core) {
      throw new QuarryValidationError("Q2005", `$transaction: item ${i} is not a request of this client`, { path: `requests[${i}]` });
    }
    return spec;
  });
  if (specs.length === 0) return [];
  const ctx = specs[0].ctx;
  if (!specs.every((s) => sameContext(s.ctx, ctx))) {
    throw new QuarryValidationError("Q2009", "$transaction: all requests of a batch must come from the same tenant view", {
      path: "requests",
    });
  }
  if (!specs.some((s) => s.chain)) {
    return (await core.send({
      request: specs.map((s) => s.request),
      ...ctx,
      isolationLevel: options?.isolationLevel,
    })) as unknown[];
  }
  // With client extensions, as in Prisma: each request's hooks run until they call `query(args)`;
  // those final requests run as one batch (one transaction), and each hook then goes on with its
  // request's result. A hook that returns without calling `query` adds nothing to the batch.
  const slots = specs.map((spec) => {
    let resolve!: (v: unknown) => void;
    let reject!: (e: unknown) => void;
    const result = new Promise<unknown>((res, rej) => ((resolve = res), (reject = rej)));
    result.catch(() => {});
    if (!spec.chain) return { request: spec.request, resolve, reject, done: result, called: Promise.resolve(spec.request) };
    let called!: (request: object) => void;
    const calledP = new Promise<object>((res) => (called = res));
    const done = spec.chain((request) => {
      called(request);
      return result;
    });
    done.catch(() => {});
    return { request: undefined as object | undefined, resolve, reject, done, called: calledP };
  });
  try {
    await Promise.all(
      slots.map(async (slot) => {
        const first = await Promise.race([slot.called.then((r) => ({ r })), slot.done.then(() => ({}))]);
        if ("r" in first) slot.request = first.r;
      }),
    );
  } catch (e) {
    // A hook failed before its request was sent: nothing runs, every other hook is told.
    slots.forEach((s) => s.reject(e));
    throw e;
  }
  const inBatch = slots.filter((s) => s.request !== undefined);
  try {
    const results = inBatch.length
      ? ((await core.send({ request: inBatch.map((s) => s.request), ...ctx, isolationLevel: options?.isolationLevel })) as unknown[])
      : [];
    inBatch.forEach((s, i) => s.resolve(results[i]));
  } catch (e) {
    inBatch.forEach((s) => s.reject(e));
    throw e;
  }
  return Promise.all(slots.map((s) => s.done));
}

async function interactive(
  core: Core,
  ctx: CallContext,
  fn: (tx: QuarryClient) => Promise<unknown>,
  options?: TransactionOptions,
  exts: readonly ExtensionArgs[] = [],
): Promise<unknown> {
  const { id, timeout } = await core.track(() =>
    core.engine.begin({
      isolationLevel: options?.isolationLevel,
      maxWait: options?.maxWait,
      timeout: options?.timeout,
    }),
  );
  // After its timeout the transaction is rolled back even while `fn` still runs; its next call
  // (and the commit) then fail with P2028, as in Prisma. The engine's clock decides; should the
  // timer fire a moment early, it tries again shortly.
  let open = true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (ms: number) => {
    timer = setTimeout(() => {
      core.engine.expire(id).then(
        (expired) => {
          if (expired) core.logger.message("warn", `transaction ${id} timed out after ${timeout} ms and was rolled back`);
          else if (open) arm(10);
        },
        () => {},
      );
    }, ms);
    (timer as { unref?: () => void }).unref?.();
  };
  arm(timeout + 1);
  try {
    // Begun just as the client started closing: the engine rolls it back; never run the callback.
    core.checkOpen();
    const result = await fn(view(core, { ...ctx, transaction: id }, exts));
    await core.track(() => core.engine.commit(id));
    return result;
  } catch (e) {
    await core.engine.rollback(id).catch(() => {});
    throw e;
  } finally {
    open = false;
    clearTimeout(timer);
  }
}

/**
 * Creates a client for a Prisma schema over a driver adapter. Without `$forTenant(id)` or
 * `$unscoped()`, requests on tenant-scoped models fail closed (Q3001).
 */
export function createClient<Models extends Record<string, object> = Record<string, Row>>(
  options: ClientOptions,
): QuarryClient<Models> {
  const core = new Core(options);
  return view(core, {}) as unknown as QuarryClient<Models>;
}
