// Request documents that JavaScript itself treats specially, on both engines: keys named like
// Object.prototype's (`__proto__`, `constructor`, `prototype`) are unknown fields (Q2004 with
// their path), never silently dropped or turned into a prototype; objects without a prototype
// read as any other; a document nested thousands of levels deep, or one that contains itself, is
// Q2007 with its path instead of a stack overflow in the client.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { QuarryValidationError } from "quarry";
import { freshNamespace, openBackend } from "./support/backends.mjs";

const nest = (depth, leaf, wrap) => {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = wrap(v);
  return v;
};

const fails = (code, path) => (e) => {
  assert.ok(e instanceof QuarryValidationError, `a QuarryValidationError, got ${e?.stack ?? e}`);
  assert.equal(e.code, code, e.message);
  if (path instanceof RegExp) assert.match(String(e.meta.path), path);
  else assert.equal(e.meta.path, path);
  return true;
};

for (const backendName of ["pg", "native"]) {
  describe(`special keys and deep documents (${backendName})`, () => {
    let backend;
    let ns;
    let db;

    before(async () => {
      backend = await openBackend(backendName);
      ns = await freshNamespace(backend, { schema: "corpus/schemas/store.prisma", seed: "corpus/seeds/store.sql", prefix: "qdocs" });
      db = ns.client();
    });

    after(async () => {
      await ns?.drop();
      await backend?.close();
    });

    for (const key of ["__proto__", "constructor", "prototype"]) {
      test(`${key} as a key is an unknown field, wherever it is`, async () => {
        const obj = (v) => JSON.parse(`{${JSON.stringify(key)}: ${JSON.stringify(v)}}`);
        await assert.rejects(db.account.findMany({ where: obj({ id: 1 }) }), fails("Q2004", `args.where.${key}`));
        await assert.rejects(db.account.count({ where: { AND: [{ id: 1 }, obj({ email: "x" })] } }), fails("Q2004", /__proto__|constructor|prototype/));
        await assert.rejects(db.account.findMany({ select: { id: true, ...obj(true) } }), fails("Q2004", /__proto__|constructor|prototype/));
        await assert.rejects(db.account.updateMany({ where: { id: -1 }, data: obj("x") }), fails("Q2004", /__proto__|constructor|prototype/));
        // The same key set by code (`o[key] = v`) rather than parsed.
        const where = {};
        Object.defineProperty(where, key, { value: { id: 1 }, enumerable: true });
        await assert.rejects(db.account.findMany({ where }), fails("Q2004", `args.where.${key}`));
      });
    }

    test("a Json value keeps __proto__ and constructor as keys", async () => {
      const settings = JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": 1}, "ok": 1}');
      const created = await db.account.create({ data: { email: "proto-json@x", settings }, select: { settings: true } });
      assert.deepEqual(Object.keys(created.settings).sort(), ["__proto__", "constructor", "ok"]);
      assert.equal(Object.getPrototypeOf(created.settings), Object.prototype);
      assert.equal({}.polluted, undefined);
    });

    test("objects without a prototype read like any other", async () => {
      const where = Object.assign(Object.create(null), { id: 1 });
      const select = Object.assign(Object.create(null), { id: true });
      assert.deepEqual(await db.account.findMany({ where, select }), [{ id: 1 }]);
    });

    test("a document thousands of levels deep is Q2007 with its path", async () => {
      for (const depth of [200, 5_000, 50_000]) {
        await assert.rejects(db.account.count({ where: nest(depth, { id: 1 }, (v) => ({ NOT: v })) }), fails("Q2007", /^args\.where(\.NOT)+$/));
        await assert.rejects(db.account.findMany(nest(depth, { take: 1 }, (v) => ({ include: { reports: v } }))), fails("Q2007", /^args(\.include\.reports)+/));
        await assert.rejects(db.account.count({ where: nest(depth, { id: 1 }, (v) => ({ AND: [v] })) }), fails("Q2007", /^args\.where(\.AND\[0\])+/));
      }
      // Deeper than the engine's own limit (maxDepth, 32) but shallow as a document: the engine's Q2007.
      await assert.rejects(db.account.count({ where: nest(40, { id: 1 }, (v) => ({ NOT: v })) }), fails("Q2007", /^args\.where(\.NOT)+$/));
      assert.equal(await db.account.count({ where: nest(10, { id: 1 }, (v) => ({ NOT: { NOT: v } })) }), 1);
    });

    test("a document that contains itself is Q2007, not a stack overflow", async () => {
      const where = { id: 1 };
      where.AND = [where];
      await assert.rejects(db.account.count({ where }), fails("Q2007", /^args\.where\.AND\[0\]/));
      const settings = { a: 1 };
      settings.self = settings;
      await assert.rejects(db.account.updateMany({ where: { id: -1 }, data: { settings } }), fails("Q2007", /^args\.data\.settings(\.self)+$/));
      assert.equal(await db.account.count({ where: { id: 1 } }), 1);
    });
  });
}
