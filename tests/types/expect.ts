// Assertions for the type tests: checked by `tsc`, never run. `expectType<T>(value)` passes when
// `value` is assignable to `T`; `Assert<Equal<A, B>>` when the two types are the same.

export function expectType<T>(value: T): T {
  return value;
}

export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

export type Assert<T extends true> = T;
