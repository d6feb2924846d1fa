// A WebSocket-to-TCP proxy in front of the local PostgreSQL, for Neon's WebSocket driver: Debian's
// `websockify` (installed by scripts/setup), started on a free port and stopped by `close()`.
// Neon's driver then reaches it with `neonConfig.wsProxy = (host, port) =>
// `127.0.0.1:${port}/v2?address=${host}:${port}`` over plain ws:// (see `neonLocalConfig`).

import { spawn } from "node:child_process";
import { createServer, connect } from "node:net";

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const canConnect = (port) =>
  new Promise((resolve) => {
    const s = connect(port, "127.0.0.1", () => {
      s.end();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });

/** Starts websockify forwarding to `target` (host:port); `{ port, close }`. Fails if it cannot. */
export async function startWebsockify(target = "127.0.0.1:5432") {
  const port = await freePort();
  const child = spawn("websockify", [`127.0.0.1:${port}`, target], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  let exited = false;
  child.on("exit", () => (exited = true));
  const spawnError = new Promise((_, reject) => child.on("error", (e) => reject(new Error(`cannot start websockify (scripts/setup installs it): ${e.message}`))));
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ready = await Promise.race([canConnect(port), spawnError]);
    if (ready) break;
    if (exited || Date.now() > deadline) throw new Error(`websockify did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    close: () =>
      new Promise((resolve) => {
        if (exited) return resolve();
        child.on("exit", resolve);
        child.kill("SIGTERM");
        // websockify waits for its per-connection workers; do not wait for a straggler.
        setTimeout(() => exited || child.kill("SIGKILL"), 2000).unref();
      }),
  };
}

/** The settings Neon's driver needs for a local PostgreSQL behind websockify (plain ws://, no TLS). */
export function neonLocalConfig(neonConfig, wsPort) {
  neonConfig.wsProxy = (host, port) => `127.0.0.1:${wsPort}/v2?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;
}
