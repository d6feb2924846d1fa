// The package installed as a user installs it: `npm pack` of `quarry` and of this platform's engine
// package, installed with npm in an empty folder outside the repository, the engine package through
// `quarry`'s optionalDependencies. Against that install: what the tarballs hold (README, LICENSE, no
// addon in the main package, one stripped addon in the platform package), ESM `import` and
// CommonJS `require` running queries on the native engine, `tsc` with `module` node16 and nodenext
// (ESM and CommonJS files), `bundler` and `moduleResolution: node10` (its CommonJS output run too),
// a project built from nothing (`npx quarry generate`, `npx quarry migrate dev`, a typed app on the
// generated client compiled with `tsc` and run against PostgreSQL), and, with the platform package
// gone as on a platform without one, the WebAssembly engine over node-postgres, said once on
// stderr, or a clear Q2010 when `pg` is not installed either; and a MySQL url without mysql2
// installed, a Q2010 that says to install it.

import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { platformName } from "../../../npm/dist/npm/src/native.js";
import { DATABASE_URL } from "./support/backends.mjs";
import { ROOT, installPacked, npmInstall, packHost, runIn } from "./support/install.mjs";

const TSC = join(ROOT, "node_modules/typescript/bin/tsc");
const PKG = JSON.parse(readFileSync(join(ROOT, "npm/package.json"), "utf8"));

const SCHEMA = `datasource db {
  provider = "postgresql"
}

model Item {
  id   Int    @id @default(autoincrement())
  name String
}
`;

/** The project the workflow test builds from nothing: a tenant model and two scoped models. */
const PROJECT_SCHEMA = `datasource db {
  provider = "postgresql"
}

/// @quarry.tenant
model Tenant {
  id    Int    @id @default(autoincrement())
  name  String
  users User[]
  posts Post[]
}

model User {
  id       Int    @id @default(autoincrement())
  tenantId Int
  tenant   Tenant @relation(fields: [tenantId], references: [id])
  email    String
  posts    Post[]
}

model Post {
  id       Int    @id @default(autoincrement())
  tenantId Int
  tenant   Tenant @relation(fields: [tenantId], references: [id])
  title    String
  authorId Int
  author   User   @relation(fields: [authorId], references: [id])
}
`;

/** A typed app on the generated client: nested create, include, a transaction, tenant views. */
const PROJECT_APP = `
import { createClient } from "./prisma/generated/quarry/index.js";
const db = createClient({ url: process.env.DATABASE_URL! });
const admin = db.$unscoped();
const [acme, globex] = await admin.$transaction([admin.tenant.create({ data: { name: "Acme" } }), admin.tenant.create({ data: { name: "Globex" } })]);
const a = db.$forTenant(acme.id);
const b = db.$forTenant(globex.id);
await a.user.create({ data: { email: "ada@acme.test", posts: { create: [{ title: "Ship it" }] } } });
await b.$transaction(async (tx) => {
  await tx.user.create({ data: { email: "bob@globex.test", posts: { create: { title: "Hidden" } } } });
});
const posts = await a.post.findMany({ include: { author: { select: { email: true } } } });
const owner: string = posts[0]!.author.email;
// @ts-expect-error only the email of the author was selected
posts[0]!.author.id;
// @ts-expect-error Post is tenant-scoped: not on the client without a tenant
db.post;
const other = await b.post.findMany({ select: { title: true } });
const counted: number = await a.post.count();
console.log(JSON.stringify({ acme: posts.map((p) => p.title), globex: other.map((p) => p.title), owner, counted }));
await db.$disconnect();
`;

/** An app: one client over `url` (logging which engine it got), a raw query, then $disconnect. */
const esmApp = `
import { readFileSync } from "node:fs";
import { createClient, Decimal, QuarryError } from "quarry";
import { pgAdapter } from "quarry/adapters/pg";
const schema = readFileSync("schema.prisma", "utf8");
const db = createClient({ schema, url: process.env.DATABASE_URL, log: ["info"] });
const [row] = await db.$unscoped().$queryRaw\`SELECT 41 + \${1} AS n\`;
console.log(JSON.stringify({ n: row.n, decimal: new Decimal("1.5").plus(1).toString(), classes: typeof QuarryError, adapter: typeof pgAdapter }));
await db.$disconnect();
`;
const cjsApp = `
const { readFileSync } = require("node:fs");
const { createClient, Decimal, QuarryError } = require("quarry");
const { pgAdapter } = require("quarry/adapters/pg");
const schema = readFileSync("schema.prisma", "utf8");
const db = createClient({ schema, url: process.env.DATABASE_URL, log: ["info"] });
db.$unscoped().$queryRaw\`SELECT 41 + \${1} AS n\`.then(async ([row]) => {
  console.log(JSON.stringify({ n: row.n, decimal: new Decimal("1.5").plus(1).toString(), classes: typeof QuarryError, adapter: typeof pgAdapter }));
  await db.$disconnect();
});
`;
/** Two clients over `url` where the addon cannot load: both run, the stderr line comes once. */
const fallbackApp = `
import { readFileSync } from "node:fs";
import { createClient } from "quarry";
const schema = readFileSync("schema.prisma", "utf8");
const a = createClient({ schema, url: process.env.DATABASE_URL + "?connection_limit=2&application_name=quarry_fallback", log: ["info"] });
const b = createClient({ schema, url: process.env.DATABASE_URL, log: ["info"] });
const [[x], [y]] = await Promise.all([a.$unscoped().$queryRaw\`SELECT current_setting('application_name') AS app\`, b.$unscoped().$queryRaw\`SELECT 2 AS n\`]);
console.log(JSON.stringify({ app: x.app, n: y.n }));
await a.$disconnect();
await b.$disconnect();
`;
/** A MySQL url where mysql2 is not installed (the app installs only quarry). */
const noMysql2App = `
import { createClient } from "quarry";
const schema = ${JSON.stringify(SCHEMA.replace('"postgresql"', '"mysql"'))};
try {
  createClient({ schema, url: "mysql://root@127.0.0.1:3306/test" });
  console.log("created");
} catch (e) {
  console.log(JSON.stringify({ code: e.code, path: e.meta?.path, message: e.message }));
}
`;
const noPgApp = `
import { createClient } from "quarry";
try {
  createClient({ schema: ${JSON.stringify(SCHEMA)}, url: process.env.DATABASE_URL });
  console.log("created");
} catch (e) {
  console.log(JSON.stringify({ code: e.code, path: e.meta?.path, message: e.message }));
}
`;

/** Typed code: what resolves must be typed (an `any` would make the expect-error unused). */
const typedEsm = `
import { createClient, Decimal, QuarryKnownRequestError, sql } from "quarry";
import { pgAdapter } from "quarry/adapters/pg";
const db = createClient({ schema: "model Item { id Int @id }", url: "postgres://localhost/db" });
export function mistake() {
  // @ts-expect-error the schema is text
  createClient({ schema: 1, url: "postgres://localhost/db" });
}
const fragment = sql\`SELECT \${1}\`;
const text: string = fragment.text;
const money: Decimal = new Decimal("1.5");
export { db, text, money, pgAdapter, QuarryKnownRequestError };
`;
const typedCjs = `
import quarry = require("quarry");
import adapters = require("quarry/adapters/pg");
const db = quarry.createClient({ schema: "model Item { id Int @id }", url: "postgres://localhost/db" });
function mistake() {
  // @ts-expect-error the schema is text
  quarry.createClient({ schema: 1, url: "postgres://localhost/db" });
}
const money: quarry.Decimal = new quarry.Decimal("1.5");
export = { db, money, mistake, pgAdapter: adapters.pgAdapter };
`;

/** Declarations are checked too (`skipLibCheck: false`) once, under node16; the others skip them. */
function tsconfig(compilerOptions, files) {
  return JSON.stringify({
    compilerOptions: { strict: true, target: "ES2022", skipLibCheck: true, types: [], ...compilerOptions },
    files,
  });
}

function parseLastLine(stdout) {
  return JSON.parse(stdout.trim().split("\n").at(-1));
}

describe("the packed package, installed", { concurrency: false }, () => {
  let tmp;
  let app;
  let packed;
  const platformDir = () => join(app, "node_modules", ...packed.platform.name.split("/"));

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), "quarry-install-"));
    packed = packHost(join(tmp, "packs"));
    app = join(tmp, "app");
    await installPacked(app, packed);
    writeFileSync(join(app, "schema.prisma"), SCHEMA);
    writeFileSync(join(app, "esm.mjs"), esmApp);
    writeFileSync(join(app, "cjs.cjs"), cjsApp);
    writeFileSync(join(app, "fallback.mjs"), fallbackApp);
    writeFileSync(join(app, "no-pg.mjs"), noPgApp);
    writeFileSync(join(app, "no-mysql2.mjs"), noMysql2App);
  }, { timeout: 180_000 });

  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test("the main tarball: README, LICENSE, optionalDependencies for every native target, no addon", () => {
    const files = packed.main.files;
    for (const f of ["README.md", "LICENSE", "package.json", "dist/npm/src/runtime/node.js", "dist/npm/src/runtime/node.cjs", "wasm/quarry_engine_wasm_bg.wasm", "wasm-cli/quarry_engine_wasm_bg.wasm", "dist/npm/src/cli/index.js"]) {
      assert.ok(files.includes(f), `${f} is in the tarball`);
    }
    assert.deepEqual(files.filter((f) => f.endsWith(".node")), []);
    const manifest = JSON.parse(readFileSync(join(app, "node_modules/quarry/package.json"), "utf8"));
    assert.equal(manifest.license, "Apache-2.0");
    assert.match(readFileSync(join(app, "node_modules/quarry/LICENSE"), "utf8"), /Apache License\s+Version 2\.0/);
    assert.deepEqual(Object.keys(manifest.optionalDependencies).sort(), ["linux-arm64-gnu", "linux-x64-gnu", "linux-x64-musl"].map((p) => `${PKG.napi.packageName}-${p}`));
    for (const version of Object.values(manifest.optionalDependencies)) assert.equal(version, PKG.version);
  });

  test("the platform tarball: one stripped addon, os / cpu / libc of this platform", () => {
    const file = `quarry.${platformName()}.node`;
    assert.deepEqual([...packed.platform.files].sort(), ["LICENSE", "README.md", file, "package.json"].sort());
    const manifest = JSON.parse(readFileSync(join(platformDir(), "package.json"), "utf8"));
    assert.equal(manifest.main, file);
    assert.deepEqual(manifest.os, [process.platform]);
    assert.deepEqual(manifest.cpu, [process.arch]);
    const elf = readFileSync(join(platformDir(), file));
    if (elf.subarray(0, 4).toString("latin1") === "\x7fELF") {
      // ELF64 little-endian: section header table at e_shoff, e_shentsize and e_shnum entries; no SHT_SYMTAB (2).
      const shoff = Number(elf.readBigUInt64LE(0x28));
      const size = elf.readUInt16LE(0x3a);
      const count = elf.readUInt16LE(0x3c);
      const types = Array.from({ length: count }, (_, i) => elf.readUInt32LE(shoff + i * size + 4));
      assert.ok(!types.includes(2), "the addon has no symbol table (stripped)");
      assert.ok(types.includes(11), "the addon keeps its dynamic symbols");
    }
    console.log(`${packed.main.name}: ${packed.main.size} bytes packed, ${packed.main.unpackedSize} unpacked; ${packed.platform.name}: ${packed.platform.size} packed, ${packed.platform.unpackedSize} unpacked`);
  });

  test("ESM import runs on the native engine from the platform package", async () => {
    const child = await runIn(app, process.execPath, ["esm.mjs"], { DATABASE_URL });
    assert.equal(child.code, 0, child.stderr);
    assert.match(child.stdout, /Quarry engine \(native\) ready/);
    assert.equal(child.stderr, "");
    assert.deepEqual(parseLastLine(child.stdout), { n: 42, decimal: "2.5", classes: "function", adapter: "function" });
  });

  test("CommonJS require runs on the native engine, one instance with import", async () => {
    const child = await runIn(app, process.execPath, ["cjs.cjs"], { DATABASE_URL });
    assert.equal(child.code, 0, child.stderr);
    assert.match(child.stdout, /Quarry engine \(native\) ready/);
    assert.equal(child.stderr, "");
    assert.deepEqual(parseLastLine(child.stdout), { n: 42, decimal: "2.5", classes: "function", adapter: "function" });
    const same = await runIn(app, process.execPath, [
      "--input-type=module",
      "-e",
      `import { createRequire } from "node:module"; import * as q from "quarry"; const r = createRequire(import.meta.url)("quarry"); console.log(r.createClient === q.createClient && r.QuarryError === q.QuarryError);`,
    ]);
    assert.equal(same.stdout.trim(), "true", same.stderr);
  });

  test("a MySQL url without mysql2 installed: Q2010 that says to install mysql2", async () => {
    const child = await runIn(app, process.execPath, ["no-mysql2.mjs"]);
    assert.equal(child.code, 0, child.stderr);
    const out = parseLastLine(child.stdout);
    assert.equal(out.code, "Q2010");
    assert.equal(out.path, "url");
    assert.match(out.message, /mysql2 cannot be loaded/);
    assert.match(out.message, /npm install mysql2/);
  });

  test("without the platform package and without pg: Q2010 that says to install pg", async () => {
    renameSync(platformDir(), `${platformDir()}.away`);
    try {
      const child = await runIn(app, process.execPath, ["no-pg.mjs"], { DATABASE_URL });
      assert.equal(child.code, 0, child.stderr);
      const out = parseLastLine(child.stdout);
      assert.equal(out.code, "Q2010");
      assert.equal(out.path, "url");
      assert.match(out.message, /no native engine for linux|no native engine for \w+/);
      assert.match(out.message, /npm install pg/);
    } finally {
      renameSync(`${platformDir()}.away`, platformDir());
    }
  });

  test("tsc: node16 and nodenext (ESM and CommonJS files), bundler, node10 (its CommonJS output runs)", { timeout: 180_000 }, async () => {
    // The user's own dependencies for `quarry/adapters/pg`: node-postgres and its types.
    await npmInstall(app, ["pg", "@types/pg"]);
    writeFileSync(join(app, "typed.mts"), typedEsm);
    writeFileSync(join(app, "typed.cts"), typedCjs);
    writeFileSync(join(app, "typed-plain.ts"), typedEsm);
    const configs = {
      node16: tsconfig({ module: "node16", noEmit: true, skipLibCheck: false }, ["typed.mts", "typed.cts"]),
      nodenext: tsconfig({ module: "nodenext", noEmit: true }, ["typed.mts", "typed.cts"]),
      bundler: tsconfig({ module: "esnext", moduleResolution: "bundler", noEmit: true }, ["typed-plain.ts"]),
      node10: tsconfig({ module: "commonjs", moduleResolution: "node10", esModuleInterop: true, outDir: "out-node10" }, ["typed-plain.ts"]),
    };
    const failures = [];
    for (const [name, config] of Object.entries(configs)) {
      writeFileSync(join(app, `tsconfig.${name}.json`), config);
      const child = await runIn(app, process.execPath, [TSC, "-p", `tsconfig.${name}.json`]);
      if (child.code !== 0) failures.push(`${name}:\n${child.stdout}${child.stderr}`);
    }
    assert.deepEqual(failures, []);
    const emitted = await runIn(app, process.execPath, ["-e", `const m = require("./out-node10/typed-plain.js"); console.log(typeof m.db.$unscoped, m.money.toString(), m.text);`]);
    assert.equal(emitted.code, 0, emitted.stderr);
    assert.equal(emitted.stdout.trim(), "function 1.5 SELECT $1");
  });

  test("a project from nothing: npx quarry generate, npx quarry migrate dev, a typed app compiled and run", { timeout: 240_000 }, async () => {
    const project = join(app, "project");
    mkdirSync(join(project, "prisma"), { recursive: true });
    writeFileSync(join(project, "prisma/schema.prisma"), PROJECT_SCHEMA);
    const ns = `quarry_install_${process.pid}`;
    const url = new URL(DATABASE_URL);
    url.searchParams.set("schema", ns);
    // The project's own namespace: the commands and the app get its URL.
    const env = { DATABASE_URL: url.toString() };
    const npx = (args) => runIn(project, "npx", ["--no-install", "quarry", ...args], env, 120_000);
    try {
      const generated = await npx(["generate"]);
      assert.equal(generated.code, 0, generated.stdout + generated.stderr);
      assert.ok(existsSync(join(project, "prisma/generated/quarry/index.d.ts")));
      const migrated = await npx(["migrate", "dev", "--name", "init"]);
      assert.equal(migrated.code, 0, migrated.stdout + migrated.stderr);
      assert.match(migrated.stdout, /Created migrations\/\d{14}_init\/migration.sql/);
      writeFileSync(join(project, "app.mts"), PROJECT_APP);
      writeFileSync(
        join(project, "tsconfig.json"),
        JSON.stringify({ compilerOptions: { strict: true, target: "ES2022", module: "nodenext", skipLibCheck: false, types: ["node"] }, files: ["app.mts"] }),
      );
      const compiled = await runIn(project, process.execPath, [TSC, "-p", "tsconfig.json"]);
      assert.equal(compiled.code, 0, compiled.stdout + compiled.stderr);
      const ran = await runIn(project, process.execPath, ["app.mjs"], env);
      assert.equal(ran.code, 0, ran.stdout + ran.stderr);
      assert.deepEqual(parseLastLine(ran.stdout), { acme: ["Ship it"], globex: ["Hidden"], owner: "ada@acme.test", counted: 1 });
    } finally {
      const client = new pg.Client({ connectionString: DATABASE_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${ns}" CASCADE`);
      await client.end();
    }
  });

  test("without the platform package: the WebAssembly engine over pg, said once on stderr", async () => {
    renameSync(platformDir(), `${platformDir()}.away`);
    try {
      const child = await runIn(app, process.execPath, ["fallback.mjs"], { DATABASE_URL }, 30_000);
      assert.equal(child.code, 0, child.stderr);
      const lines = child.stderr.trim().split("\n");
      assert.equal(lines.length, 1, child.stderr);
      assert.match(lines[0], /^quarry: the native engine cannot be loaded: no native engine for \S+ \(.*\); using the WebAssembly engine over node-postgres \(pg\)$/);
      assert.match(child.stdout, /Quarry engine \(WebAssembly\) ready: 1 models, adapter pg/);
      // The URL's parameters reach node-postgres; the process ends on its own after $disconnect.
      assert.deepEqual(parseLastLine(child.stdout), { app: "quarry_fallback", n: 2 });
    } finally {
      renameSync(`${platformDir()}.away`, platformDir());
    }
  });
});
