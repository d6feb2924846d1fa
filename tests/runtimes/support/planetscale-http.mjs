// TEST DOUBLE, not PlanetScale: a minimal local stand-in for PlanetScale's HTTP API, for tests
// only. PlanetScale's Vitess front end cannot be installed locally, so this speaks the part of the
// protocol @planetscale/database uses, over mysql2 against a real MySQL or MariaDB:
// `POST /psdb.v1alpha1.Database/Execute` with JSON `{ query, session }` (the driver has already
// written its arguments into the text) and `POST /psdb.v1alpha1.Database/CreateSession`. Results
// are `{ session, result: { fields, rows, rowsAffected, insertId }, timing }` with Vitess's type
// names in `fields` (INT32, INT64, DECIMAL, DATETIME, VARCHAR, VARBINARY, BLOB, JSON, ...; the
// character set 63 marks bytes) and each row as `{ lengths, values }`: the cells' text lengths in
// bytes (-1 for NULL) and their concatenation in base64. A database error answers
// `{ session, error: { code, message } }` with Vitess's wording, which ends in
// `(errno N) (sqlstate S)`. The session carries a transaction across calls: BEGIN / START
// TRANSACTION binds a connection to it until COMMIT or ROLLBACK; other statements take a pooled
// connection for the one call. Every connection runs with `time_zone = '+00:00'` and a
// `group_concat_max_len` of 4294967295, and reports changed rows as affected rows. Nothing else of
// PlanetScale (authentication, TLS, Vitess's query rewriting, limits) is imitated.

import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import mysql from "mysql2/promise";

// MySQL protocol column types (enum_field_types) and flags.
const UNSIGNED = 32;
const ENUM_FLAG = 256;
const SET_FLAG = 2048;
const BINARY_CHARSET = 63;

function vitessType(f) {
  const unsigned = (f.flags & UNSIGNED) !== 0;
  const binary = f.characterSet === BINARY_CHARSET;
  const int = (bits) => `${unsigned ? "UINT" : "INT"}${bits}`;
  switch (f.columnType) {
    case 1: return int(8);
    case 2: return int(16);
    case 9: return int(24);
    case 3: return int(32);
    case 8: return int(64);
    case 4: return "FLOAT32";
    case 5: return "FLOAT64";
    case 0: case 246: return "DECIMAL";
    case 6: return "NULL_TYPE";
    case 7: return "TIMESTAMP";
    case 10: case 14: return "DATE";
    case 11: return "TIME";
    case 12: return "DATETIME";
    case 13: return "YEAR";
    case 16: return "BIT";
    case 245: return "JSON";
    case 247: return "ENUM";
    case 248: return "SET";
    case 255: return "GEOMETRY";
    case 249: case 250: case 251: case 252: return binary ? "BLOB" : "TEXT";
    case 15: case 253:
      if (f.flags & ENUM_FLAG) return "ENUM";
      if (f.flags & SET_FLAG) return "SET";
      return binary ? "VARBINARY" : "VARCHAR";
    case 254:
      if (f.flags & ENUM_FLAG) return "ENUM";
      if (f.flags & SET_FLAG) return "SET";
      return binary ? "BINARY" : "CHAR";
    default: return "VARCHAR";
  }
}

function field(f) {
  return {
    name: f.name,
    type: vitessType(f),
    table: f.table,
    orgTable: f.orgTable,
    database: f.schema,
    orgName: f.orgName,
    columnLength: f.columnLength,
    charset: f.characterSet,
    decimals: f.decimals,
    flags: f.flags,
  };
}

function row(cells) {
  const lengths = [];
  const parts = [];
  for (const c of cells) {
    if (c === null || c === undefined) {
      lengths.push("-1");
      continue;
    }
    const b = Buffer.isBuffer(c) ? c : Buffer.from(String(c));
    lengths.push(String(b.length));
    parts.push(b);
  }
  return { lengths, values: Buffer.concat(parts).toString("base64") };
}

/** Vitess's gRPC status names for a MySQL error number, as PlanetScale reports them. */
function grpcCode(errno) {
  if (errno === 1062) return "AlreadyExists";
  if (errno === 1213 || errno === 1205) return "Aborted";
  if (errno === 2013 || errno === 2006 || errno === 1927) return "Unavailable";
  if (errno === 1146 || errno === 1054 || errno === 1064) return "InvalidArgument";
  return "Unknown";
}

function errorBody(e, query) {
  // A connection that ended mid-query has no server error: Vitess reports it as 2013.
  const errno = typeof e.errno === "number" ? e.errno : 2013;
  const sqlState = typeof e.sqlState === "string" ? e.sqlState : "HY000";
  const message = typeof e.sqlMessage === "string" ? e.sqlMessage : "Lost connection to MySQL server during query";
  return {
    code: grpcCode(errno).toUpperCase(),
    message: `target: quarry.-.primary: vttablet: rpc error: code = ${grpcCode(errno)} desc = ${message} (errno ${errno}) (sqlstate ${sqlState}) (CallerID: quarry): Sql: ${JSON.stringify(query)}, BindVars: {}`,
  };
}

/**
 * Starts the double on a free port over `database` at `url` (mysql2's URI form). Resolves to
 * `{ url, connections, close }`: `url` for the driver's `url` option (http), `connections()` the
 * server thread ids the double holds (for tests that KILL one).
 */
export async function startPlanetScaleHttp({ url = "mysql://root@127.0.0.1:3306/test", database } = {}) {
  // Vitess reports changed rows as affected rows: no CLIENT_FOUND_ROWS.
  const pool = mysql.createPool({ uri: url, database, connectionLimit: 8, timezone: "Z", dateStrings: true, flags: ["-FOUND_ROWS"] });
  pool.on("connection", (conn) => conn.query("SET time_zone = '+00:00', group_concat_max_len = 4294967295", () => {}));
  /** session id -> a connection bound to it while its transaction is open. */
  const bound = new Map();
  const busy = new Set();
  const listened = new WeakSet();

  async function execute(body) {
    const query = String(body.query ?? "");
    const id = body.session?.id ?? randomUUID();
    const session = { id, signature: "quarry-double" };
    let conn = bound.get(id);
    const own = !conn;
    if (!conn) conn = await pool.getConnection();
    if (!listened.has(conn.connection)) {
      // A killed connection's 'error' event is the double's to swallow: the call answers with 2013.
      listened.add(conn.connection);
      conn.connection.on("error", () => {});
    }
    const threadId = conn.connection.threadId;
    busy.add(threadId);
    const started = Date.now();
    try {
      const [res, fields] = await conn.query({ sql: query, rowsAsArray: true, typeCast: false });
      if (/^\s*(BEGIN|START\s+TRANSACTION)\b/i.test(query)) bound.set(id, conn);
      else if (/^\s*(COMMIT|ROLLBACK)\b/i.test(query) && !own) bound.delete(id);
      const timing = (Date.now() - started) / 1000;
      if (Array.isArray(res)) {
        return { session, result: { fields: (fields ?? []).map(field), rows: res.map(row), rowsAffected: "0", insertId: "0" }, timing };
      }
      return { session, result: { rowsAffected: String(res.affectedRows ?? 0), insertId: String(res.insertId ?? 0) }, timing };
    } catch (e) {
      // A connection that ended takes its transaction with it.
      if (e.fatal || typeof e.errno !== "number") {
        bound.delete(id);
        conn.destroy();
        conn = undefined;
      }
      return { session, error: errorBody(e, query) };
    } finally {
      busy.delete(threadId);
      if (conn && bound.get(id) !== conn) conn.release();
    }
  }

  const server = createServer((req, res) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (c) => (text += c));
    req.on("end", async () => {
      const reply = (status, body) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      try {
        const body = text ? JSON.parse(text) : {};
        if (req.method === "POST" && req.url === "/psdb.v1alpha1.Database/Execute") return reply(200, await execute(body));
        if (req.method === "POST" && req.url === "/psdb.v1alpha1.Database/CreateSession") {
          return reply(200, { session: { id: randomUUID(), signature: "quarry-double" }, branch: "main", user: { username: "root", role: "admin" } });
        }
        reply(404, { code: "not_found", message: `no such endpoint: ${req.method} ${req.url}` });
      } catch (e) {
        reply(500, { code: "internal", message: String(e?.message ?? e) });
      }
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    url: `http://root:secret@127.0.0.1:${port}`,
    /** Server thread ids of the double's connections running a statement now. */
    running: () => [...busy],
    async close() {
      await new Promise((resolve) => server.close(resolve));
      for (const conn of bound.values()) conn.destroy();
      bound.clear();
      await pool.end();
    },
  };
}
