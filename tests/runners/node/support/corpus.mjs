// The conformance corpus for the Node runners: the same JSON cases as the Rust runner
// (tests/corpus/cases), the same seed splitting, the same known-failure rule, and comparison of
// what a JavaScript user gets back (tagged values decoded into Date, bigint, Decimal, Uint8Array).

import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { Decimal } from "quarry";

/** The `tests/` folder. */
export const TESTS = new URL("../../../", import.meta.url);

export function readTestFile(rel) {
  return readFileSync(new URL(rel, TESTS), "utf8");
}

/** Every suite under tests/corpus/cases, sorted by name. */
export function loadSuites() {
  const dir = new URL("corpus/cases/", TESTS);
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => ({ ...JSON.parse(readFileSync(new URL(f, dir), "utf8")), name: f.replace(/\.json$/, "") }));
}

/** Seed SQL split into statements on `;` at line ends, comments and blank lines dropped. */
export function splitSql(text) {
  const out = [];
  let current = "";
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (trimmed.startsWith("--") || trimmed === "") continue;
    current += line + "\n";
    if (trimmed.endsWith(";")) {
      out.push(current);
      current = "";
    }
  }
  if (current.trim() !== "") out.push(current);
  return out;
}

/**
 * A backend's list of tests known to fail (`tests/known-failures/<backend>.txt`): one id per
 * line, `#` comments. A listed test that passes fails the run, so the list only shrinks.
 */
export function knownFailures(backend) {
  let text = "";
  try {
    text = readTestFile(`known-failures/${backend}.txt`);
  } catch {
    return new Set();
  }
  return new Set(
    text
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#")),
  );
}

/** Runs `body` as the test `id`, holding it to the backend's known-failure list. */
export async function expectOutcome(t, known, backend, id, body) {
  if (!known.has(id)) return body();
  try {
    await body();
  } catch (e) {
    t.diagnostic(`known failure (tests/known-failures/${backend}.txt): ${e?.message?.split("\n")[0]}`);
    return;
  }
  assert.fail(`${id} is listed in tests/known-failures/${backend}.txt but passes: remove it from the list`);
}

export function caseId(suite, c) {
  return `${suite.name}/${c.name}`;
}

/**
 * Deep equality of decoded values, in key order (as the Rust runner compares): Dates by time,
 * Decimals by value, bigints and bytes exactly, numbers by value.
 */
export function same(expected, actual) {
  if (expected instanceof Date) return actual instanceof Date && expected.getTime() === actual.getTime();
  if (Decimal.isDecimal(expected)) return Decimal.isDecimal(actual) && expected.equals(actual);
  if (expected instanceof Uint8Array) {
    return actual instanceof Uint8Array && expected.length === actual.length && expected.every((b, i) => b === actual[i]);
  }
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && expected.length === actual.length && expected.every((e, i) => same(e, actual[i]));
  }
  if (expected !== null && typeof expected === "object") {
    if (actual === null || typeof actual !== "object" || Array.isArray(actual)) return false;
    const ek = Object.keys(expected);
    const ak = Object.keys(actual);
    return ek.length === ak.length && ek.every((k, i) => k === ak[i] && same(expected[k], actual[k]));
  }
  if (typeof expected === "number" && Number.isNaN(expected)) return Number.isNaN(actual);
  return expected === actual;
}

function show(v) {
  return JSON.stringify(v, (_, x) => (typeof x === "bigint" ? `${x}n` : x instanceof Uint8Array ? `bytes(${x})` : x));
}

export function assertSame(expected, actual, what = "result") {
  if (!same(expected, actual)) {
    assert.fail(`${what} differs\nexpected: ${show(expected)}\n  actual: ${show(actual)}`);
  }
}

/** Checks an error against a case's `error` expectation (code, meta.path, message, meta). */
export function assertError(want, e) {
  if (typeof e?.code !== "string") throw e;
  const where = `${e.code} ${e.message} ${show(e.meta)}`;
  assert.equal(e.code, want.code, `expected error ${want.code} but got ${where}`);
  if (want.path !== undefined) assert.equal(e.meta?.path, want.path, `expected error path ${want.path} but got ${where}`);
  if (want.messageContains !== undefined) {
    assert.ok(e.message.includes(want.messageContains), `expected the message to contain ${show(want.messageContains)} but got ${where}`);
  }
  for (const [k, v] of Object.entries(want.meta ?? {})) {
    assert.deepEqual(e.meta?.[k], v, `expected meta.${k} = ${show(v)} but got ${where}`);
  }
}

/**
 * `check(name, body)` defines a test whose id is `group/name`, held to `backend`'s known-failure
 * list like the corpus cases.
 */
export function checker(test, backend, group) {
  const known = knownFailures(backend);
  return (name, body) => test(name, (t) => expectOutcome(t, known, backend, `${group}/${name}`, () => body(t)));
}
