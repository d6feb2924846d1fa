// How long `tsc` takes on a program using the client generated for a 100-model schema
// (schema.mjs): Quarry's (`quarry generate`) and, given a folder where Prisma is installed,
// Prisma 7's on the same schema and the same calls. Each program is type-checked `--runs` times
// (default 5), each time in a fresh Node process running TypeScript's compiler API as `tsc
// --noEmit` would (strict, NodeNext, skipLibCheck); the medians of CPU and wall time are
// reported with the checker's deterministic counts (types, instantiations).
//
//   node benches/types/tsc.mjs                                  # Quarry only
//   node benches/types/tsc.mjs --prisma /path/to/prisma-install  # and Prisma 7 (prisma-client and prisma-client-js)
//
// `/path/to/prisma-install` is a folder with `npm install prisma@7 @prisma/client@7` done. `prisma
// generate` needs no database and no engine binary; where the CLI cannot download its schema
// engine (offline), PRISMA_SCHEMA_ENGINE_BINARY is pointed at a stand-in it never runs.
// Run `scripts/build` first (the generator runs from npm/dist).

import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { hundredModels, usage } from "./schema.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const { values } = parseArgs({
  options: { prisma: { type: "string" }, runs: { type: "string", default: "5" }, keep: { type: "boolean" }, check: { type: "string" } },
});
if (values.check) {
  console.log(JSON.stringify(checkOnce(values.check)));
  process.exit(0);
}
const runs = Number(values.runs);

const work = mkdtempSync(join(tmpdir(), "quarry-tsc-"));
const tsconfig = (files) =>
  JSON.stringify({
    compilerOptions: { target: "ES2022", lib: ["ES2022"], module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, skipLibCheck: true, types: [] },
    files,
  });

/**
 * One type check of the program in `dir`, in this process, through TypeScript's compiler API
 * (what `tsc --noEmit -p dir` does): CPU seconds (user + system, steadier than wall time on a
 * busy machine), wall seconds and the checker's counts. Run in a fresh process per measurement.
 */
function checkOnce(dir) {
  const ts = createRequire(import.meta.url)(join(ROOT, "node_modules/typescript"));
  const cpu = process.cpuUsage();
  const wall = performance.now();
  const config = ts.getParsedCommandLineOfConfigFile(join(dir, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  const program = ts.createProgram(config.fileNames, config.options);
  const diagnostics = ts.getPreEmitDiagnostics(program);
  const used = process.cpuUsage(cpu);
  return {
    cpu: (used.user + used.system) / 1e6,
    wall: (performance.now() - wall) / 1e3,
    errors: diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")).slice(0, 5),
    types: program.getTypeCount(),
    instantiations: program.getInstantiationCount(),
    memory: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
  };
}

/** The medians of `runs` checks of `dir`, each in a fresh Node process. */
function measure(dir) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    samples.push(JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), "--check", dir], { encoding: "utf8" })));
  }
  if (samples[0].errors.length) throw new Error(`${dir} does not compile: ${samples[0].errors.join("; ")}`);
  const median = (key) => samples.map((x) => x[key]).sort((a, b) => a - b)[Math.floor(samples.length / 2)];
  const round = (x) => Math.round(x * 100) / 100;
  return {
    "cpu s": round(median("cpu")),
    "wall s": round(median("wall")),
    types: samples[0].types,
    instantiations: samples[0].instantiations,
    "heap MB": median("memory"),
  };
}

function program(importLine) {
  return `${importLine}\n\n${usage()}`;
}

const results = {};
try {
  // Quarry.
  await import(join(ROOT, "npm/dist/npm/src/runtime/node.js"));
  const { generate } = await import(join(ROOT, "npm/dist/npm/src/generate/index.js"));
  const q = join(work, "quarry");
  mkdirSync(join(q, "node_modules"), { recursive: true });
  symlinkSync(join(ROOT, "npm"), join(q, "node_modules/quarry"));
  const schema = hundredModels();
  writeFileSync(join(q, "schema.prisma"), schema);
  mkdirSync(join(q, "generated"));
  for (const [file, text] of Object.entries(generate(schema, { schemaPath: "../schema.prisma" }))) writeFileSync(join(q, "generated", file), text);
  writeFileSync(join(q, "program.ts"), program('import type { TenantClient } from "./generated/index.js";\ndeclare const db: TenantClient;'));
  writeFileSync(join(q, "tsconfig.json"), tsconfig(["program.ts"]));
  results["Quarry (quarry generate)"] = measure(q);

  if (values.prisma) {
    const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: "1", CHECKPOINT_DISABLE: "1" };
    env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
    const prismaBin = join(values.prisma, "node_modules/.bin/prisma");
    for (const [label, provider, importLine] of [
      ["Prisma 7 (prisma-client)", 'provider = "prisma-client"\n  output = "./generated"', 'import { PrismaClient } from "./generated/client.js";'],
      ["Prisma 7 (prisma-client-js)", 'provider = "prisma-client-js"\n  output = "./generated"', 'import { PrismaClient } from "./generated/index.js";'],
    ]) {
      const p = join(work, label.replace(/\W+/g, "-"));
      mkdirSync(join(p, "node_modules"), { recursive: true });
      symlinkSync(join(values.prisma, "node_modules/@prisma"), join(p, "node_modules/@prisma"));
      writeFileSync(join(p, "schema.prisma"), hundredModels(`generator client {\n  ${provider}\n}`));
      execFileSync(prismaBin, ["generate", "--schema", join(p, "schema.prisma")], { cwd: p, env, stdio: "pipe" });
      writeFileSync(join(p, "program.ts"), program(`${importLine}\ndeclare const db: PrismaClient;`));
      writeFileSync(join(p, "tsconfig.json"), tsconfig(["program.ts"]));
      results[label] = measure(p);
    }
  }
} finally {
  if (!values.keep) rmSync(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
}
console.table(results);
