// The README's first command must keep working: runs the Node quickstart and checks what it
// shows a new user — the tenant-scoped SQL, and the other tenant's row refused.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";

test("the quickstart runs and shows tenant scope at work", () => {
  const script = new URL("../../../examples/node/quickstart.mjs", import.meta.url);
  const run = spawnSync(process.execPath, [script.pathname], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  assert.equal(run.status, 0, run.stderr + run.stdout);
  const out = run.stdout;
  assert.match(out, /Starting PGlite .*\n.*few seconds/);
  assert.match(out, /SQL {2}SELECT .*"tenantId" = \$2/);
  assert.match(out, /params \[true,1\]/);
  assert.match(out, /findUnique {8}-> null/);
  assert.match(out, /connect {11}-> P2025 /);
  assert.match(out, /without a tenant {2}-> Q3001 /);
  assert.match(out, /globex still sees -> \{"title":"Hello \(globex\)","_count":\{"comments":0\}\}/);
  assert.doesNotMatch(out, /unexpectedly/);
});
