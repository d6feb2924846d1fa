// The MySQL backends of the Node corpus runners: the WebAssembly engine with the corpus's schemas
// switched to `provider = "mysql"`, over `quarry/adapters/mysql2` (a mysql2 pool) or
// `quarry/adapters/planetscale` (@planetscale/database through the local double of PlanetScale's
// HTTP API, tests/runtimes/support/planetscale-http.mjs), against the MariaDB server in MYSQL_URL.
// Each namespace is a database of its own, made with the engine's MySQL DDL; the seeds (PostgreSQL
// SQL, the one source of the seed data) are translated statement by statement into bound MySQL
// inserts, as the Rust MariaDB runner does (tests/runners/support/mysql_seed.rs).

import mysql from "mysql2/promise";
import { Client } from "@planetscale/database";
import { mysql2Adapter } from "quarry/adapters/mysql2";
import { planetscaleAdapter } from "quarry/adapters/planetscale";
import { createClient } from "quarry";
import { startPlanetScaleHttp } from "../../../runtimes/support/planetscale-http.mjs";
import { splitSql } from "./corpus.mjs";

export const MYSQL_URL = process.env.MYSQL_URL ?? "mysql://root@127.0.0.1:3306/test";

/** A corpus schema with its datasource switched to MySQL. */
export function mysqlSchema(text) {
  return text.replace(/(datasource\s+\w+\s*\{[^}]*provider\s*=\s*)"postgresql"/, '$1"mysql"');
}

const quote = (name) => `\`${name.replaceAll("`", "``")}\``;
const statement = (sql, args = [], argTypes = args.map(() => "String")) => ({ sql, args, argTypes });

/** PostgreSQL seed text → tokens: names, strings, numbers, words and punctuation. */
function tokens(text) {
  const out = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) i++;
    else if (c === "-" && text[i + 1] === "-") i = text.indexOf("\n", i) === -1 ? text.length : text.indexOf("\n", i);
    else if (c === '"' || c === "'") {
      let j = i + 1;
      let s = "";
      for (;;) {
        if (j >= text.length) throw new Error(`unterminated quote in seed: ${text.slice(i, i + 40)}`);
        if (text[j] === c && text[j + 1] === c) {
          s += c;
          j += 2;
        } else if (text[j] === c) break;
        else s += text[j++];
      }
      out.push({ kind: c === '"' ? "name" : "string", value: s });
      i = j + 1;
    } else if (/[0-9.]/.test(c)) {
      const m = /^[0-9.]+(?:[eE][+-]?[0-9]+)?/.exec(text.slice(i));
      out.push({ kind: "number", value: m[0] });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z_0-9]*/.exec(text.slice(i));
      out.push({ kind: "word", value: m[0] });
      i += m[0].length;
    } else if (c === ":" && text[i + 1] === ":") {
      // A cast: `::type`, `::type[]`, `::type(n)` — the value stays as written.
      i += 2;
      const m = /^[A-Za-z_ ]+(\([0-9, ]*\))?(\[\])?/.exec(text.slice(i));
      i += m ? m[0].length : 0;
    } else {
      out.push({ kind: "punct", value: c });
      i++;
    }
  }
  return out;
}

/** Column types by table and column (database names) from the schema text: `{ type, list }`. */
function columnTypes(schemaText) {
  const tables = new Map();
  for (const m of schemaText.matchAll(/^model\s+(\w+)\s*\{([\s\S]*?)^\}/gm)) {
    const body = m[2];
    const table = /@@map\("([^"]+)"\)/.exec(body)?.[1] ?? m[1];
    const cols = new Map();
    for (const line of body.split("\n")) {
      const f = /^\s*(\w+)\s+(\w+)(\[\])?(\?)?(.*)$/.exec(line);
      if (!f || f[1].startsWith("@@")) continue;
      const column = /@map\("([^"]+)"\)/.exec(f[5])?.[1] ?? f[1];
      cols.set(column, { type: f[2], list: f[3] === "[]" });
    }
    tables.set(table, cols);
  }
  return tables;
}

/** A PostgreSQL array literal's items (`{a,"b c",3}`). */
function arrayItems(s) {
  const inner = s.trim().replace(/^\{/, "").replace(/\}$/, "");
  return inner === "" ? [] : inner.split(",").map((i) => i.trim().replace(/^"|"$/g, ""));
}

/** One seed value as a bound MySQL argument and its kind. */
function argument(tok, col) {
  if (tok.kind === "word" && /^null$/i.test(tok.value)) return [null, "Null"];
  if (tok.kind === "word" && /^(true|false)$/i.test(tok.value)) return [tok.value.toLowerCase() === "true", "Boolean"];
  if (tok.kind === "number" || tok.kind === "negative") {
    const text = tok.value;
    if (col?.type === "Decimal") return [text, "Decimal"];
    if (/^-?[0-9]+$/.test(text)) return Number.isSafeInteger(Number(text)) ? [Number(text), "Int"] : [text, "BigInt"];
    return [Number(text), "Float"];
  }
  const s = tok.value;
  if (col?.list) {
    const numeric = ["Int", "BigInt", "Float", "Decimal"].includes(col.type);
    return [JSON.stringify(arrayItems(s).map((i) => (numeric ? Number(i) : i))), "Json"];
  }
  switch (col?.type) {
    case "Bytes":
      return [Uint8Array.from(Buffer.from(s.replace(/^\\x/, ""), "hex")), "Bytes"];
    case "DateTime": {
      const m = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?))?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(s);
      if (!m) return [s, "String"];
      const offset = !m[3] || m[3] === "Z" ? "+00:00" : m[3].length === 3 ? `${m[3]}:00` : m[3];
      const d = new Date(`${m[1]}T${m[2] ?? "00:00:00"}${offset}`);
      return [d.toISOString().replace("T", " ").replace("Z", "") + "+00", "DateTime"];
    }
    case "Json":
      return [s, "Json"];
    case "Boolean":
      return [s === "t" || s === "true", "Boolean"];
    case "Decimal":
      return [s, "Decimal"];
    default:
      return [s, "String"];
  }
}

/** The seed as MySQL statements with bound arguments, its tables in `database`. */
export function translateSeed(seed, database, schemaText) {
  const types = columnTypes(schemaText);
  const out = [];
  for (const text of splitSql(seed)) {
    const t = tokens(text);
    let i = 0;
    const next = () => t[i++];
    const word = (w) => t[i]?.kind === "word" && t[i].value.toUpperCase() === w && (i++, true);
    if (word("SELECT")) {
      // SELECT setval(pg_get_serial_sequence('"T"', 'id'), n);
      const table = t.find((x) => x.kind === "string" && x.value.startsWith('"'))?.value.replaceAll('"', "");
      const n = [...t].reverse().find((x) => x.kind === "number")?.value;
      if (!table || !n) throw new Error(`seed query not translated: ${text}`);
      out.push(statement(`ALTER TABLE ${quote(database)}.${quote(table)} AUTO_INCREMENT = ${Number(n) + 1}`));
      continue;
    }
    if (!word("INSERT") || !word("INTO")) throw new Error(`seed statement not translated: ${text}`);
    const table = next().value;
    const cols = types.get(table) ?? new Map();
    const columns = [];
    if (t[i]?.value === "(") {
      next();
      while (t[i]?.value !== ")") {
        const c = next();
        if (c.kind === "name" || c.kind === "word") columns.push(c.value);
      }
      next();
    }
    if (!word("VALUES")) throw new Error(`seed insert without VALUES: ${text}`);
    const args = [];
    const argTypes = [];
    const rows = [];
    while (t[i]?.value === "(") {
      next();
      let n = 0;
      while (t[i]?.value !== ")") {
        let tok = next();
        if (tok.value === ",") continue;
        if (tok.value === "-" && t[i]?.kind === "number") tok = { kind: "negative", value: `-${next().value}` };
        const [v, kind] = argument(tok, cols.get(columns[n]));
        args.push(v);
        argTypes.push(kind);
        n++;
      }
      next();
      rows.push(`(${Array(n).fill("?").join(", ")})`);
      if (t[i]?.value === ",") next();
    }
    const list = columns.length > 0 ? ` (${columns.map(quote).join(", ")})` : "";
    out.push(statement(`INSERT INTO ${quote(database)}.${quote(table)}${list} VALUES ${rows.join(", ")}`, args, argTypes));
  }
  return out;
}

/** Runs the seed in one transaction with foreign key checks off (rows come in file order). */
async function seedDatabase(adapter, database, seed, schemaText) {
  if (!seed) return;
  const statements = translateSeed(seed, database, schemaText);
  const tx = await adapter.startTransaction();
  try {
    await tx.executeRaw(statement("SET FOREIGN_KEY_CHECKS = 0"));
    for (const s of statements) await tx.executeRaw(s);
    await tx.executeRaw(statement("SET FOREIGN_KEY_CHECKS = 1"));
  } catch (e) {
    await tx.rollback().catch(() => {});
    throw e;
  }
  await tx.commit();
}

/**
 * `{ name, label, dialect, quote, adapter, concurrency, client, release, close, schema, prepare, reseed, drop }`
 * for `mysql2` or `planetscale`, in the shape of ./backends.mjs's `openBackend`, with the
 * MySQL-specific steps (`schema(text)`, `prepare(ddl, ns, seed, schemaText)`, `reseed`, `drop`).
 */
export async function openMysqlBackend(name) {
  let adapter;
  let closeDriver;
  const admin = await mysql.createConnection({ uri: MYSQL_URL });
  if (name === "mysql2") {
    const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 8 });
    adapter = mysql2Adapter(pool);
    closeDriver = () => pool.end();
  } else if (name === "planetscale") {
    const server = await startPlanetScaleHttp({ url: MYSQL_URL });
    adapter = planetscaleAdapter(new Client({ url: server.url }));
    closeDriver = () => server.close();
  } else {
    throw new Error(`unknown MySQL backend ${name}`);
  }
  const backend = {
    name,
    label: `wasm-${name}`,
    dialect: "mysql",
    quote,
    adapter,
    concurrency: 4,
    schema: mysqlSchema,
    client: (options) => createClient({ adapter, ...options, schema: mysqlSchema(options.schema) }),
    async release() {},
    async close() {
      await closeDriver();
      await admin.end();
    },
    async prepare(ddl, database, seed, schemaText) {
      await admin.query(`DROP DATABASE IF EXISTS ${quote(database)}`);
      await admin.query(`CREATE DATABASE ${quote(database)} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
      for (const stmt of ddl) await adapter.executeRaw(statement(stmt));
      await seedDatabase(adapter, database, seed, schemaText);
    },
    async reseed(database, seed, schemaText) {
      // A connection of its own: FOREIGN_KEY_CHECKS is the session's, and cases run concurrently.
      const conn = await mysql.createConnection({ uri: MYSQL_URL });
      try {
        const [tables] = await conn.query("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ?", [database]);
        await conn.query("SET FOREIGN_KEY_CHECKS = 0");
        for (const { t } of tables) await conn.query(`TRUNCATE TABLE ${quote(database)}.${quote(t)}`);
      } finally {
        await conn.end();
      }
      await seedDatabase(adapter, database, seed, schemaText);
    },
    async drop(database) {
      await admin.query(`DROP DATABASE IF EXISTS ${quote(database)}`).catch(() => {});
    },
  };
  return backend;
}
