// The package as a user gets it: packs `quarry` and this platform's engine package with
// scripts/npm/pack.mjs (the addon `scripts/build` built) and installs them with npm in a folder of
// their own, the platform package arriving through `quarry`'s optionalDependencies (an npm
// `overrides` entry points its name at the local tarball; the other platforms' packages are not
// published, so npm skips them as it skips those that do not fit). Dependencies come from npm's
// cache or the registry. Children run with the environment of the test minus QUARRY_NATIVE_LIBRARY.

import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { bundledAddonPath, platformName } from "../../../../npm/dist/npm/src/native.js";
import { pack } from "../../../../scripts/npm/pack.mjs";

export const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const run = promisify(execFile);

/** Packs into `dir`: `{ main, platform }`, each `{ name, file, size, unpackedSize, files }`. */
export function packHost(dir) {
  const addon = bundledAddonPath();
  if (!existsSync(addon)) throw new Error(`${addon} is missing: run scripts/build first`);
  const [main, platform] = pack({ out: dir, addons: { [platformName()]: addon } });
  return { main, platform };
}

/** `npm install` in `dir` (run in order; each call adds packages). */
export async function npmInstall(dir, specs, { overrides } = {}) {
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, "package.json"))) {
    writeFileSync(join(dir, "package.json"), `${JSON.stringify({ name: "quarry-install-check", private: true, overrides }, null, 2)}\n`);
  }
  await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", ...specs], { cwd: dir, maxBuffer: 16 << 20 });
}

/** Installs the packed tarballs in `dir` as a user's app would: `quarry` alone. */
export async function installPacked(dir, packed) {
  await npmInstall(dir, [packed.main.file], { overrides: { [packed.platform.name]: `file:${packed.platform.file}` } });
}

/** Runs `node args` (or another command) in `cwd`; resolves to `{ code, stdout, stderr }`. */
export function runIn(cwd, command, args, env = {}, limitMs = 60_000) {
  return new Promise((resolve, reject) => {
    const childEnv = { ...process.env, ...env };
    delete childEnv.QUARRY_NATIVE_LIBRARY;
    const child = spawn(command, args, { cwd, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${command} ${args.join(" ")} did not finish within ${limitMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, limitMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
