// A request that runs when it is awaited, like Prisma's PrismaPromise: `db.user.findMany()` only
// describes the request, so it can also be handed to `$transaction([...])` or `$compile(...)`.

/** Whose rows a call sees: a tenant, explicitly unscoped, or neither; and its transaction. */
export interface CallContext {
  tenant?: string | number;
  unscoped?: true;
  transaction?: string;
}

/** What a lazy request carries. */
export interface PendingRequest {
  /** The request document; reading it can throw (a value that cannot be encoded). */
  readonly request: object;
  ctx: CallContext;
  /** Runs the request alone. */
  run: () => Promise<unknown>;
  /** The client core it belongs to (batches must not mix clients). */
  owner: object;
  /**
   * A request with client extensions: runs its `query` hooks and computed fields around `send`,
   * which runs the final request document (alone, or as its item of a batch).
   */
  chain?: (send: (request: object) => Promise<unknown>) => Promise<unknown>;
}

const pending = new WeakMap<object, PendingRequest>();

export class QuarryPromise<T> implements PromiseLike<T> {
  #promise: Promise<T> | undefined;

  constructor(spec: PendingRequest) {
    pending.set(this, spec);
  }

  #start(): Promise<T> {
    this.#promise ??= (pending.get(this) as PendingRequest).run() as Promise<T>;
    return this.#promise;
  }

  then<A = T, B = never>(
    onfulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.#start().then(onfulfilled, onrejected);
  }

  catch<B = never>(onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<T | B> {
    return this.#start().catch(onrejected);
  }

  finally(onfinally?: (() => void) | null): Promise<T> {
    return this.#start().finally(onfinally);
  }

  get [Symbol.toStringTag](): string {
    return "QuarryPromise";
  }
}

/** The request behind a lazy promise, or undefined for anything else. */
export function requestOf(p: unknown): PendingRequest | undefined {
  return typeof p === "object" && p !== null ? pending.get(p) : undefined;
}
