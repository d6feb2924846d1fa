// Client extensions (`$extends`) on every backend (Wasm on PGlite and node-postgres, the native
// addon): the four components (query hooks with argument rewriting, model methods with
// getExtensionContext, computed fields with `needs`, client members), their composition and
// order, batches and interactive transactions, the soft-delete and audit-logging patterns as
// Prisma teams write them, and tenant scope: a hook that rewrites `where` or `data` to reach
// another tenant still runs under the view's tenant.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Prisma, QuarryTenantError, QuarryValidationError, getExtensionContext } from "quarry";
import { freshNamespace, openBackend } from "./support/backends.mjs";

const FIXTURE = { schema: "fixtures/schemas/extensions.prisma", seed: "fixtures/schemas/extensions.sql" };

/** A soft-delete extension as Prisma teams write it: reads skip deleted rows; `softDelete` marks one deleted. */
const softDelete = Prisma.defineExtension({
  name: "soft-delete",
  query: {
    $allModels: {
      async findMany({ args, query }) {
        args.where = { ...args.where, deletedAt: null };
        return query(args);
      },
      async findFirst({ args, query }) {
        args.where = { ...args.where, deletedAt: null };
        return query(args);
      },
      async count({ args, query }) {
        args = args ?? {};
        args.where = { ...args.where, deletedAt: null };
        return query(args);
      },
    },
  },
  model: {
    $allModels: {
      async softDelete(id) {
        const ctx = Prisma.getExtensionContext(this);
        return ctx.update({ where: { id }, data: { deletedAt: new Date() } });
      },
    },
    user: {
      async findByEmail(email) {
        return getExtensionContext(this).findFirst({ where: { email } });
      },
    },
  },
});

/** `User` -> `user`. */
const key = (model) => model.charAt(0).toLowerCase() + model.slice(1);

/** An audit-logging extension as Prisma teams write it, writing through the view it was made from. */
function auditLog(base) {
  return {
    name: "audit",
    query: {
      $allModels: {
        async create({ model, args, query }) {
          const result = await query(args);
          if (model !== "AuditLog") {
            await base.auditLog.create({ data: { model, operation: "CREATE", recordId: result.id, newData: JSON.stringify(args.data) } });
          }
          return result;
        },
        async update({ model, args, query }) {
          const old = await base[key(model)].findUnique({ where: args.where });
          const result = await query(args);
          await base.auditLog.create({
            data: { model, operation: "UPDATE", recordId: result.id, oldData: JSON.stringify(old), newData: JSON.stringify(args.data) },
          });
          return result;
        },
        async delete({ model, args, query }) {
          const old = await base[key(model)].findUnique({ where: args.where });
          const result = await query(args);
          await base.auditLog.create({ data: { model, operation: "DELETE", recordId: old.id, oldData: JSON.stringify(old) } });
          return result;
        },
      },
    },
  };
}

const fullName = {
  result: {
    user: {
      fullName: {
        needs: { firstName: true, lastName: true },
        compute: (u) => `${u.firstName} ${u.lastName}`,
      },
    },
  },
};

for (const backendName of ["pglite", "pg", "native"]) {
  describe(`client extensions on ${backendName}`, () => {
    let backend;
    let ns;
    let db;

    before(async () => {
      backend = await openBackend(backendName);
    });

    after(async () => {
      await backend?.close();
    });

    // Each test gets its own namespace: several write.
    const fresh = async () => {
      await ns?.drop();
      ns = await freshNamespace(backend, { ...FIXTURE, prefix: "qext" });
      db = ns.client();
      return db;
    };
    after(async () => {
      await ns?.drop();
    });

    test("query hooks rewrite arguments and call query(args) (soft delete)", async () => {
      await fresh();
      const t = db.$forTenant(1).$extends(softDelete);
      assert.deepEqual((await t.user.findMany({ orderBy: { id: "asc" } })).map((u) => u.id), [1]);
      assert.equal(await t.user.count(), 1);
      assert.equal(await t.post.count(), 1);
      assert.equal((await t.user.findFirst({ where: { email: "alan@x.test" } })), null);
      // Actions without a hook are untouched.
      assert.equal((await t.user.findUnique({ where: { id: 2 } })).email, "alan@x.test");
      // The client it was made from is not extended.
      assert.equal(await db.$forTenant(1).user.count(), 2);
    });

    test("model methods with getExtensionContext; client members", async () => {
      await fresh();
      const x = db.$extends(softDelete).$extends({
        client: {
          $tenantName(id) {
            return this.$unscoped().tenant.findUnique({ where: { id } }).then((t) => t.name);
          },
          version: "1",
        },
      });
      const t = x.$forTenant(1);
      assert.equal(t.user.$name, "User");
      assert.equal((await t.user.findByEmail("ada@x.test")).firstName, "Ada");
      assert.equal(await t.user.findByEmail("alan@x.test"), null);
      const gone = await t.post.softDelete(1);
      assert.ok(gone.deletedAt instanceof Date);
      assert.equal(await t.post.count(), 0);
      assert.equal(await x.$tenantName(2), "globex");
      assert.equal(x.version, "1");
      // Another tenant's row is not found by a model method either.
      await assert.rejects(t.user.softDelete(3), { code: "P2025" });
      assert.equal(await db.$forTenant(2).user.count({ where: { deletedAt: null } }), 1);
    });

    test("computed fields: computed when present, only what is selected", async () => {
      await fresh();
      const x = db.$extends(fullName).$extends({
        result: { user: { greeting: { needs: { fullName: true }, compute: (u) => `Hello, ${u.fullName}` } } },
      });
      const t = x.$forTenant(1);
      const ada = await t.user.findUnique({ where: { id: 1 } });
      assert.equal(ada.fullName, "Ada Lovelace");
      assert.equal(ada.greeting, "Hello, Ada Lovelace");
      assert.deepEqual(await t.user.findUnique({ where: { id: 1 }, select: { fullName: true } }), { fullName: "Ada Lovelace" });
      assert.deepEqual(await t.user.findUnique({ where: { id: 1 }, select: { greeting: true, email: true } }), {
        email: "ada@x.test",
        greeting: "Hello, Ada Lovelace",
      });
      assert.deepEqual(await t.user.findUnique({ where: { id: 1 }, select: { email: true } }), { email: "ada@x.test" });
      const created = await t.user.create({ data: { email: "new@x.test", firstName: "New", lastName: "Person" } });
      assert.equal(created.fullName, "New Person");
      const omitted = await t.user.findUnique({ where: { id: 1 }, omit: { lastName: true } });
      assert.equal(omitted.fullName, undefined);
      // Counts and aggregates are not rows.
      assert.equal(await t.user.count(), 3);
    });

    test("composed extensions run in the order they were added, outermost first", async () => {
      await fresh();
      const calls = [];
      const hook = (tag) => ({
        query: {
          user: {
            async findMany({ args, query }) {
              calls.push(`${tag}:user.findMany`);
              const r = await query(args);
              calls.push(`${tag}:after`);
              return r;
            },
            async $allOperations({ operation, args, query }) {
              calls.push(`${tag}:user.$allOperations:${operation}`);
              return query(args);
            },
          },
          $allModels: {
            async $allOperations({ model, operation, args, query }) {
              calls.push(`${tag}:$allModels:${model}.${operation}`);
              return query(args);
            },
          },
        },
      });
      const t = db.$extends(hook("a")).$extends(hook("b")).$forTenant(1);
      await t.user.findMany();
      assert.deepEqual(calls, [
        "a:user.findMany",
        "a:user.$allOperations:findMany",
        "a:$allModels:User.findMany",
        "b:user.findMany",
        "b:user.$allOperations:findMany",
        "b:$allModels:User.findMany",
        "b:after",
        "a:after",
      ]);
      calls.length = 0;
      await t.post.count();
      assert.deepEqual(calls, ["a:$allModels:Post.count", "b:$allModels:Post.count"]);
      // A function extension gets the client.
      const viaFn = db.$extends((client) => client.$extends({ client: { $answer: () => 42 } }));
      assert.equal(viaFn.$answer(), 42);
      assert.throws(() => db.$extends({ nope: {} }), QuarryValidationError);
    });

    test("audit logging records creates, updates and deletes", async () => {
      await fresh();
      const t = db.$forTenant(1);
      const x = t.$extends(auditLog(t));
      const u = await x.user.create({ data: { email: "log@x.test", firstName: "Log", lastName: "Me" } });
      await x.user.update({ where: { id: u.id }, data: { lastName: "Changed" } });
      await x.post.create({ data: { title: "Audited", authorId: u.id } });
      const post = await x.post.findFirst({ where: { title: "Audited" } });
      await x.post.delete({ where: { id: post.id } });
      const logs = await t.auditLog.findMany({ orderBy: { id: "asc" } });
      assert.deepEqual(
        logs.map((l) => [l.model, l.operation, l.tenantId]),
        [
          ["User", "CREATE", 1],
          ["User", "UPDATE", 1],
          ["Post", "CREATE", 1],
          ["Post", "DELETE", 1],
        ],
      );
      assert.equal(JSON.parse(logs[1].oldData).lastName, "Me");
      assert.deepEqual(JSON.parse(logs[1].newData), { lastName: "Changed" });
      assert.equal(await db.$forTenant(2).auditLog.count(), 0);
    });

    test("hooks run inside batch and interactive transactions", async () => {
      await fresh();
      const t = db.$forTenant(1);
      const x = t.$extends(softDelete).$extends(auditLog(t)).$extends(fullName);
      const [users, count, created] = await x.$transaction([
        x.user.findMany({ select: { fullName: true } }),
        x.post.count(),
        x.post.create({ data: { title: "In a batch", authorId: 1 } }),
      ]);
      assert.deepEqual(users, [{ fullName: "Ada Lovelace" }]);
      assert.equal(count, 1);
      assert.equal(created.title, "In a batch");
      assert.equal(await t.auditLog.count({ where: { operation: "CREATE", recordId: created.id } }), 1);

      // A batch that fails runs none of its requests.
      await assert.rejects(
        x.$transaction([x.post.create({ data: { title: "never", authorId: 1 } }), x.user.create({ data: { email: "ada@x.test", firstName: "A", lastName: "B" } })]),
        { code: "P2002" },
      );
      assert.equal(await t.post.count({ where: { title: "never" } }), 0);

      // Interactive: the hooks, model methods and computed fields of the transaction's client.
      // (Not the audit log here: it writes through the client outside the transaction, which on
      // PGlite's single connection waits for the transaction to end.)
      const y = t.$extends(softDelete).$extends(fullName);
      const seen = await y.$transaction(async (tx) => {
        const names = (await tx.user.findMany()).map((u) => u.fullName);
        await tx.post.softDelete(1);
        return { names, left: await tx.post.count() };
      });
      assert.deepEqual(seen, { names: ["Ada Lovelace"], left: 1 });
      // Rolled back with the transaction.
      await assert.rejects(
        y.$transaction(async (tx) => {
          await tx.post.softDelete(created.id);
          throw new Error("undo");
        }),
        /undo/,
      );
      assert.equal((await t.post.findUnique({ where: { id: created.id } })).deletedAt, null);
    });

    test("no rewrite of where, for any action, reaches another tenant's rows", async () => {
      await fresh();
      // Hostile filters: the other tenant by id, by key, through a relation, negated, combined.
      const hostile = [
        { tenantId: 2 },
        { OR: [{ tenantId: 2 }, { tenantId: 1 }] },
        { NOT: { tenantId: 1 } },
        { id: { in: [3, 4] } },
        { tenant: { name: "globex" } },
        { tenant: { is: { id: 2 } } },
        { OR: [{ tenant: { id: 2 } }, { posts: { some: { tenantId: 2 } } }] },
        { AND: [{ tenantId: { not: 1 } }, { deletedAt: null }] },
        {},
      ];
      const snapshot = async () => JSON.stringify(await db.$unscoped().user.findMany({ where: { tenantId: 2 }, orderBy: { id: "asc" } }));
      const before = await snapshot();
      for (const where of hostile) {
        const acme = db.$forTenant(1).$extends({ query: { user: { $allOperations: ({ args, query }) => query({ ...args, where }) } } });
        const label = JSON.stringify(where);
        assert.ok((await acme.user.findMany()).every((u) => u.tenantId === 1), label);
        assert.ok(((await acme.user.findFirst()) ?? { tenantId: 1 }).tenantId === 1, label);
        assert.ok((await acme.user.count()) <= 2, label);
        const agg = await acme.user.aggregate({ _count: { _all: true }, _max: { id: true } });
        assert.ok(agg._count._all <= 2 && (agg._max.id ?? 0) <= 2, label);
        const groups = await acme.user.groupBy({ by: ["tenantId"], _count: { _all: true } });
        assert.ok(groups.every((g) => g.tenantId === 1), label);
        await acme.user.updateMany({ data: { lastName: "touched" } });
        assert.equal(await snapshot(), before, label);
      }
      const gone = db.$forTenant(1).$extends({ query: { post: { $allOperations: ({ args, query }) => query({ ...args, where: { tenantId: 2 } }) } } });
      assert.deepEqual(await gone.post.deleteMany(), { count: 0 });
      assert.equal(await db.$forTenant(2).post.count(), 1);
    });

    test("an extension cannot widen tenant scope", async () => {
      await fresh();
      const widen = {
        query: {
          $allModels: {
            async $allOperations({ operation, args, query }) {
              if (operation === "create") return query({ ...args, data: { ...args.data, tenantId: 2 } });
              // A unique where: globex's user.
              if (["findUnique", "update", "delete"].includes(operation)) return query({ ...args, where: { id: 3 } });
              // Drop the caller's where and name the other tenant, in every way a where can.
              return query({ ...args, where: { OR: [{ tenantId: 2 }, { id: { in: [3, 4] } }, { tenant: { name: "globex" } }] } });
            },
          },
        },
      };
      const acme = db.$forTenant(1).$extends(widen);
      assert.deepEqual(await acme.user.findMany(), []);
      assert.equal(await acme.user.count(), 0);
      assert.equal(await acme.user.findFirst(), null);
      assert.deepEqual(await acme.user.updateMany({ data: { lastName: "pwned" } }), { count: 0 });
      assert.deepEqual(await acme.post.deleteMany(), { count: 0 });
      await assert.rejects(acme.user.update({ where: { id: 1 }, data: { lastName: "pwned" } }), { code: "P2025" });
      await assert.rejects(acme.user.delete({ where: { id: 1 } }), { code: "P2025" });
      assert.equal(await acme.user.findUnique({ where: { id: 1 } }), null);
      await assert.rejects(acme.user.create({ data: { email: "x@x.test", firstName: "X", lastName: "Y" } }), (e) => e instanceof QuarryTenantError && e.code === "Q3002");
      // The same under a transaction and a batch.
      assert.deepEqual(await acme.$transaction(async (tx) => tx.user.findMany()), []);
      assert.deepEqual(await acme.$transaction([acme.user.findMany(), acme.post.count()]), [[], 0]);
      // Without a tenant, scoped models still fail closed.
      await assert.rejects(db.$extends(widen).user.findMany(), { code: "Q3001" });
      // Globex is untouched.
      const globex = await db.$forTenant(2).user.findMany({ orderBy: { id: "asc" } });
      assert.deepEqual(globex.map((u) => [u.id, u.lastName]), [[3, "Hopper"], [4, "Dijkstra"]]);
      assert.equal(await db.$forTenant(2).post.count(), 1);
    });
  });
}
