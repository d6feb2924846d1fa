// Errors as classes. Every error the engine raises crosses as `{ code, message, meta }` and becomes
// the class for its family of codes: Prisma's `P2xxx` codes (with Prisma's `meta`, e.g.
// `meta.target` on P2002) are `QuarryKnownRequestError`s; Quarry's own `Q` codes group by their
// first digit. Messages never contain bound values or data read from the database.

export type ErrorMeta = Record<string, unknown>;

export class QuarryError extends Error {
  readonly code: string;
  readonly meta: ErrorMeta;

  constructor(code: string, message: string, meta: ErrorMeta = {}) {
    super(message);
    // Named by a string, not the class's own name: minifiers (Next.js, wrangler) rename classes.
    this.name = "QuarryError";
    this.code = code;
    this.meta = meta;
  }
}

/** A database outcome with a Prisma code: P2002 unique, P2003 foreign key, P2025 not found, ... */
export class QuarryKnownRequestError extends QuarryError {
  override readonly name: string = "QuarryKnownRequestError";
}

/** An invalid schema (Q1xxx) or request (Q2xxx); `meta.path` points at the mistake. */
export class QuarryValidationError extends QuarryError {
  override readonly name: string = "QuarryValidationError";
}

/** Tenant scope refused the request (Q3xxx): no tenant, another tenant's data, unsafe raw SQL. */
export class QuarryTenantError extends QuarryError {
  override readonly name: string = "QuarryTenantError";
}

/** The database or its driver failed in a way without a Prisma code (Q4xxx, `meta.sqlstate`). */
export class QuarryDriverError extends QuarryError {
  override readonly name: string = "QuarryDriverError";
}

/** A bug in Quarry (Q9xxx). */
export class QuarryInternalError extends QuarryError {
  override readonly name: string = "QuarryInternalError";
}

/**
 * The engine panicked (a bug in Quarry). The call failed; so did every request the WebAssembly
 * instance was running, and the transactions it held were rolled back. The next call runs on a
 * fresh instance.
 */
export class QuarryPanicError extends QuarryInternalError {
  override readonly name: string = "QuarryPanicError";
}

/** The class for an error the engine raised. */
export function engineError(e: { code: string; message: string; meta?: ErrorMeta }): QuarryError {
  const meta = e.meta ?? {};
  const c = e.code;
  if (c.startsWith("P")) return new QuarryKnownRequestError(c, e.message, meta);
  if (c.startsWith("Q1") || c.startsWith("Q2")) return new QuarryValidationError(c, e.message, meta);
  if (c.startsWith("Q3")) return new QuarryTenantError(c, e.message, meta);
  if (c.startsWith("Q4")) return new QuarryDriverError(c, e.message, meta);
  return new QuarryInternalError(c, e.message, meta);
}
