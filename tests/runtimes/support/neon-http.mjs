// TEST DOUBLE, not Neon: a minimal local stand-in for Neon's HTTP SQL endpoint, for tests only.
// Neon's HTTP proxy cannot be installed locally, so this speaks the small part of its protocol
// that @neondatabase/serverless's `neon()` uses, over node-postgres against a real PostgreSQL:
// `POST /sql` with JSON `{ query, params }` (one statement) or `{ queries: [...] }` (a batch, run
// in one transaction with the `Neon-Batch-Isolation-Level`, `-Read-Only` and `-Deferrable`
// headers), the connection string in `Neon-Connection-String`. Rows are answered as arrays of
// PostgreSQL's text output (`Neon-Array-Mode`, `Neon-Raw-Text-Output`: the driver always sends
// both as true), a database error as HTTP 400 with the server's error fields. Nothing else of
// Neon (authentication, TLS, pooling, limits) is imitated.

import { createServer } from "node:http";
import pg from "pg";

const RAW_TEXT = { getTypeParser: () => (value) => value };
const ERROR_FIELDS = ["message", "severity", "code", "detail", "hint", "position", "internalPosition", "internalQuery",
  "where", "schema", "table", "column", "dataType", "constraint", "file", "line", "routine"];
const ISOLATION = { ReadUncommitted: "READ UNCOMMITTED", ReadCommitted: "READ COMMITTED", RepeatableRead: "REPEATABLE READ", Serializable: "SERIALIZABLE" };

function answer(res) {
  return {
    command: res.command,
    rowCount: res.rowCount,
    rows: res.rows,
    fields: res.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID, tableID: f.tableID, columnID: f.columnID, dataTypeSize: f.dataTypeSize, dataTypeModifier: f.dataTypeModifier, format: "text" })),
    rowAsArray: true,
  };
}

const run = (client, { query, params }) => client.query({ text: query, values: params ?? [], rowMode: "array", types: RAW_TEXT });

/** Starts the double on 127.0.0.1 (a free port); `{ port, endpoint, requests, close }`. */
export async function startNeonHttp() {
  const pools = new Map();
  const stats = { requests: 0, batches: 0 };
  const server = createServer(async (req, res) => {
    const reply = (status, body) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.method !== "POST" || new URL(req.url, "http://x").pathname !== "/sql") return reply(404, { message: "not found" });
    const connectionString = req.headers["neon-connection-string"];
    if (!connectionString) return reply(400, { message: "missing Neon-Connection-String" });
    let body;
    try {
      const chunks = [];
      for await (const c of req) chunks.push(c);
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      return reply(400, { message: "invalid JSON body" });
    }
    stats.requests++;
    let pool = pools.get(connectionString);
    if (!pool) pools.set(connectionString, (pool = new pg.Pool({ connectionString, max: 4 })));
    try {
      if (!Array.isArray(body.queries)) return reply(200, answer(await run(pool, body)));
      stats.batches++;
      const client = await pool.connect();
      try {
        const level = ISOLATION[req.headers["neon-batch-isolation-level"]];
        const modes = [level && `ISOLATION LEVEL ${level}`, req.headers["neon-batch-read-only"] === "true" && "READ ONLY",
          req.headers["neon-batch-deferrable"] === "true" && "DEFERRABLE"].filter(Boolean);
        await client.query(`BEGIN ${modes.join(" ")}`);
        const results = [];
        for (const q of body.queries) results.push(answer(await run(client, q)));
        await client.query("COMMIT");
        client.release();
        return reply(200, { results });
      } catch (e) {
        await client.query("ROLLBACK").catch(() => {});
        client.release();
        throw e;
      }
    } catch (e) {
      if (typeof e?.code === "string" && typeof e?.severity === "string") {
        return reply(400, Object.fromEntries(ERROR_FIELDS.filter((k) => e[k] !== undefined).map((k) => [k, e[k]])));
      }
      return reply(500, { message: String(e?.message ?? e) });
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    port,
    endpoint: `http://127.0.0.1:${port}/sql`,
    stats,
    async close() {
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
      await Promise.all([...pools.values()].map((p) => p.end()));
    },
  };
}
