// What is particular to the native addon: `$disconnect` closes its pool and lets the process end;
// the same query log events as the WebAssembly engine over node-postgres; a panic becomes an error
// and the engine goes on; and when the addon cannot be loaded the client says so once and falls
// back to the WebAssembly engine over the driver adapter it was given, or over node-postgres for a
// PostgreSQL url alone (a MySQL url is the WebAssembly engine's over mysql2 whatever the addon:
// mysql-url.test.mjs). Processes that must start clean run as children.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { QuarryPanicError } from "quarry";
import { loadNative, nativeDebugPanic, nativeDebugPanicInTask } from "../../../npm/dist/npm/src/native.js";
import { DATABASE_URL, freshNamespace, openBackend } from "./support/backends.mjs";
import { checker } from "./support/corpus.mjs";

const STORE = { schema: "corpus/schemas/store.prisma", seed: "corpus/seeds/store.sql" };
const ROOT = new URL("../../../", import.meta.url);
const check = checker(test, "native", "native");

/** Runs `code` as an ES module in a child Node process; resolves to `{ code, stdout, stderr, ms }`. */
function runChild(code, env = {}, limitMs = 20000) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, ["--input-type=module", "-e", code], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the child process did not exit within ${limitMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, limitMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

function withParams(url, params) {
  return `${url}${url.includes("?") ? "&" : "?"}${params}`;
}

describe("native addon", () => {
  let backend;
  let store;

  before(async () => {
    backend = await openBackend("native");
    store = await freshNamespace(backend, { ...STORE, prefix: "qnative" });
  });

  after(async () => {
    await store?.drop();
    await backend?.close();
  });

  check("the addon loads on this platform", () => {
    const native = loadNative();
    assert.ok("addon" in native, native.reason);
  });

  check("$disconnect closes the pool and the process exits on its own", async () => {
    const app = `quarry_exit_${process.pid}`;
    const url = withParams(DATABASE_URL, `application_name=${app}&connection_limit=3`);
    const code = `
      import { createClient } from "quarry";
      import { readFileSync } from "node:fs";
      const schema = readFileSync("tests/corpus/schemas/store.prisma", "utf8");
      const db = createClient({ schema, url: ${JSON.stringify(url)}, namespace: ${JSON.stringify(store.namespace)} });
      const [a, b, c] = await Promise.all([db.account.count(), db.account.count(), db.account.findMany({ take: 1 })]);
      console.log(JSON.stringify({ count: a, rows: c.length }));
      await db.$disconnect();
      await db.account.count().then(() => console.log("still open"), (e) => console.log("after disconnect: " + e.code));
    `;
    const child = await runChild(code, {}, 10000);
    assert.equal(child.code, 0, child.stderr);
    const lines = child.stdout.trim().split("\n");
    const first = JSON.parse(lines[0]);
    assert.ok(first.count > 0 && first.rows === 1, child.stdout);
    assert.match(lines[1], /^after disconnect: \w+/);
    // The server no longer has any of its connections: it sees the sockets close a moment after the
    // process exits (longer on a busy machine).
    const open = async () =>
      (await backend.pool.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1", [app])).rows[0].n;
    let n = await open();
    for (let i = 0; i < 100 && n > 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      n = await open();
    }
    assert.equal(n, 0);
  });

  check("the addon's requests run on one worker thread, or as many as QUARRY_NATIVE_THREADS says", async () => {
    // Counts the process's threads named by the addon's runtime after requests in flight together
    // (Linux names threads in /proc; elsewhere the check has nothing to read).
    if (process.platform !== "linux") return;
    const code = `
      import { createClient } from "quarry";
      import { readFileSync, readdirSync } from "node:fs";
      const schema = readFileSync("tests/corpus/schemas/store.prisma", "utf8");
      const db = createClient({ schema, url: ${JSON.stringify(withParams(DATABASE_URL, "connection_limit=4"))}, namespace: ${JSON.stringify(store.namespace)} });
      const counts = await Promise.all(Array.from({ length: 16 }, () => db.account.count()));
      const names = readdirSync("/proc/self/task").map((t) => readFileSync("/proc/self/task/" + t + "/comm", "utf8").trim());
      console.log(JSON.stringify({ workers: names.filter((n) => n === "quarry-worker").length, counted: counts.every((n) => n > 0) }));
      await db.$disconnect();
    `;
    for (const [env, workers] of [[{}, 1], [{ QUARRY_NATIVE_THREADS: "3" }, 3], [{ QUARRY_NATIVE_THREADS: "none" }, 1]]) {
      const child = await runChild(code, { QUARRY_NATIVE_THREADS: "", ...env }, 10000);
      assert.equal(child.code, 0, child.stderr);
      assert.deepEqual(JSON.parse(child.stdout.trim().split("\n").pop()), { workers, counted: true }, JSON.stringify(env));
    }
  });

  check("$disconnect in this process closes the client's connections", async () => {
    const app = `quarry_close_${process.pid}`;
    const db = store.client({ url: withParams(DATABASE_URL, `application_name=${app}&connection_limit=2`) });
    await Promise.all([db.account.count(), db.account.count()]);
    const open = async () =>
      (await backend.pool.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1", [app])).rows[0].n;
    assert.ok((await open()) >= 1);
    await backend.release(db);
    // The server sees the sockets close a moment later.
    let n = await open();
    for (let i = 0; i < 50 && n > 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      n = await open();
    }
    assert.equal(n, 0);
  });

  check("sslmode=require connects over TLS, sslmode=disable does not", async () => {
    const ssl = async (mode) => {
      const app = `quarry_tls_${mode}_${process.pid}`;
      const db = store.client({ url: withParams(DATABASE_URL, `application_name=${app}&sslmode=${mode}&connection_limit=1`) });
      try {
        assert.equal(typeof (await db.account.count()), "number");
        const { rows } = await backend.pool.query(
          "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = $1",
          [app],
        );
        assert.equal(rows.length, 1);
        return rows[0].ssl;
      } finally {
        await backend.release(db);
      }
    };
    assert.equal(await ssl("require"), true);
    assert.equal(await ssl("disable"), false);
  });

  check("pool settings come from the URL: a full pool times out with P2024", async () => {
    const db = store.client({ url: withParams(DATABASE_URL, "connection_limit=1&pool_timeout=0.2") });
    let release;
    const holding = new Promise((r) => {
      release = r;
    });
    const first = db.$transaction(
      async (tx) => {
        await tx.account.count();
        await holding;
      },
      { timeout: 10000 },
    );
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    // Prisma's meta: the pool's size and wait, which the message repeats with what to raise.
    await assert.rejects(db.account.count(), { code: "P2024", meta: { connection_limit: 1, timeout: 0.2 } });
    assert.ok(Date.now() - t0 < 3000);
    release();
    await first;
    assert.equal(typeof (await db.account.count()), "number");
    await backend.release(db);
  });

  check("errors carry code and meta, as on the WebAssembly engine", async () => {
    const db = store.client();
    const wasm = store.client({ url: undefined, adapter: backend.adapter });
    for (const client of [db, wasm]) {
      const e = await client.account.create({ data: { email: "ada@example.com" } }).catch((x) => x);
      assert.equal(e.code, "P2002");
      assert.deepEqual(e.meta.target, ["email"]);
      const v = await client.account.findMany({ where: { nope: 1 } }).catch((x) => x);
      assert.equal(v.code, "Q2004");
      assert.equal(typeof v.meta.path, "string");
    }
    const [n, w] = await Promise.all(
      [db, wasm].map((c) => c.account.findUniqueOrThrow({ where: { id: 999999 } }).catch((x) => x)),
    );
    assert.deepEqual([n.constructor.name, n.code, n.message], [w.constructor.name, w.code, w.message]);
  });

  check("query log events are the ones the WebAssembly engine over node-postgres emits", async () => {
    const run = async (client) => {
      const events = [];
      client.$on("query", (e) => events.push(e));
      await client.account.findMany({ where: { email: "secret@example.com" } });
      await client.$transaction(async (tx) => {
        await tx.account.count();
      });
      await client.$transaction([client.account.count(), client.account.count()], { isolationLevel: "Serializable" });
      for (const e of events) {
        assert.ok(e.timestamp instanceof Date && typeof e.duration === "number" && e.duration >= 0 && e.target === "quarry");
      }
      return events.map((e) => [e.query, e.paramCount]);
    };
    const log = [{ level: "query", emit: "event" }];
    const native = await run(store.client({ log }));
    const wasm = await run(store.client({ log, url: undefined, adapter: backend.adapter }));
    assert.deepEqual(native, wasm);
    assert.ok(native.some(([q]) => q === "COMMIT") && native.some(([q]) => q.startsWith("BEGIN")));
    assert.ok(!JSON.stringify(native).includes("secret@example.com"));
  });

  check("a panic becomes a QuarryPanicError and the engine keeps working", async () => {
    const native = loadNative();
    assert.throws(() => nativeDebugPanic(native.addon, "deliberate panic for the test"), (e) => {
      assert.ok(e instanceof QuarryPanicError);
      assert.equal(e.code, "Q9001");
      assert.match(e.message, /deliberate panic for the test/);
      return true;
    });
    await assert.rejects(nativeDebugPanicInTask(native.addon, "deliberate panic in a task"), (e) => e instanceof QuarryPanicError && /in a task/.test(e.message));
    assert.equal(typeof (await store.client().account.count()), "number");
  });

  check("without the addon: said once, then the WebAssembly engine over the given adapter, or over pg for a url alone", async () => {
    const code = `
      import { createClient } from "quarry";
      import { pgAdapter } from "quarry/adapters/pg";
      import pg from "pg";
      import { readFileSync } from "node:fs";
      const schema = readFileSync("tests/corpus/schemas/store.prisma", "utf8");
      const pool = new pg.Pool({ connectionString: ${JSON.stringify(DATABASE_URL)} });
      const options = { schema, url: ${JSON.stringify(DATABASE_URL)}, adapter: pgAdapter(pool), namespace: ${JSON.stringify(store.namespace)}, log: ["info"] };
      const a = createClient(options);
      const b = createClient(options);
      console.log("counts " + (await a.account.count()) + " " + (await b.account.count()));
      const c = createClient({ schema, url: ${JSON.stringify(DATABASE_URL)}, namespace: ${JSON.stringify(store.namespace)}, log: ["info"] });
      console.log("without adapter: " + (await c.account.count()));
      await c.$disconnect();
      try {
        createClient({ schema, url: "mysql://root@127.0.0.1:3306/test" });
      } catch (e) {
        console.log("mysql url for a postgresql schema: " + e.code);
      }
      await pool.end();
    `;
    const child = await runChild(code, { QUARRY_NATIVE_LIBRARY: "/nonexistent/quarry.node" });
    assert.equal(child.code, 0, child.stderr);
    const said = child.stderr.split("\n").filter((l) => l.includes("the native engine cannot be loaded"));
    assert.equal(said.length, 1, child.stderr);
    assert.match(said[0], /\/nonexistent\/quarry\.node does not exist/);
    assert.match(child.stdout, /Quarry engine \(WebAssembly\) ready/);
    assert.match(child.stdout, /counts (\d+) \1\n(.*\n)*without adapter: \1\n/);
    assert.match(child.stdout, /Quarry engine \(WebAssembly\) ready: \d+ models, adapter pg\n/);
    assert.match(child.stdout, /mysql url for a postgresql schema: Q1004/);
  });
});
