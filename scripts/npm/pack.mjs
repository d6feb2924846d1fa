// Packs the npm packages as they are published (napi-rs's layout): the main package `quarry`, whose
// `optionalDependencies` name one package per native target of package.json's `napi.targets`, and
// those platform packages (`@quarry/engine-linux-x64-gnu`, ...), each holding one addon and
// declaring its `os` / `cpu` / `libc` so that npm installs only the one that fits. Each package is
// staged in a folder of its own (the main one with the repository's LICENSE and the package's
// README) and packed with `npm pack`. The addons come from the command line; a platform package is
// written only for a target whose addon is given.
//
//   node scripts/npm/pack.mjs --out DIR [--addon linux-x64-gnu=path/to/quarry.node ...]
//
// Prints one line per tarball (packed and unpacked size); `pack()` is the same for tests.

import { execFileSync } from "node:child_process";
import { copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const NPM = join(ROOT, "npm");

/** napi-rs's platform name and npm's `os` / `cpu` / `libc` for a Rust target triple. */
export function platformOf(triple) {
  const [arch, , system, abi] = triple.split("-");
  const cpu = { x86_64: "x64", aarch64: "arm64", i686: "ia32", armv7: "arm" }[arch];
  const os = { linux: "linux", darwin: "darwin", windows: "win32" }[system] ?? (triple.includes("apple-darwin") ? "darwin" : undefined);
  if (!cpu || !os) throw new Error(`unknown target ${triple}`);
  if (os === "darwin") return { name: `darwin-${cpu}`, os, cpu };
  if (os === "win32") return { name: `win32-${cpu}-${abi}`, os, cpu };
  const libc = abi.startsWith("musl") ? "musl" : "glibc";
  return { name: `linux-${cpu}-${libc === "musl" ? "musl" : "gnu"}`, os, cpu, libc };
}

function npmPack(dir, out) {
  const [info] = JSON.parse(execFileSync("npm", ["pack", "--json", "--pack-destination", out], { cwd: dir, encoding: "utf8" }));
  return { name: info.name, file: join(out, info.filename), size: info.size, unpackedSize: info.unpackedSize, files: info.files.map((f) => f.path) };
}

/**
 * Packs into `out`: the main package and a platform package per entry of `addons` (platform name
 * -> addon file). Resolves to `[{ name, file, size, unpackedSize, files }]`, the main package first.
 */
export function pack({ out, addons = {} }) {
  out = resolve(out);
  const stage = join(out, "stage");
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  const pkg = JSON.parse(readFileSync(join(NPM, "package.json"), "utf8"));
  const scope = pkg.napi.packageName;
  const platforms = pkg.napi.targets.map(platformOf);
  for (const name of Object.keys(addons)) {
    if (!platforms.some((p) => p.name === name)) throw new Error(`${name} is not one of package.json's napi.targets`);
  }

  const main = join(stage, "quarry");
  mkdirSync(main);
  // The folders package.json's "files" names (npm pack then picks the files in them): one list, so
  // a folder added there cannot be missing from the tarball.
  const folders = new Set(pkg.files.filter((f) => !f.startsWith("!")).map((f) => f.split("/")[0]));
  for (const dir of folders) cpSync(join(NPM, dir), join(main, dir), { recursive: true });
  copyFileSync(join(NPM, "README.md"), join(main, "README.md"));
  copyFileSync(join(ROOT, "LICENSE"), join(main, "LICENSE"));
  const published = { ...pkg, optionalDependencies: Object.fromEntries(platforms.map((p) => [`${scope}-${p.name}`, pkg.version])) };
  writeFileSync(join(main, "package.json"), `${JSON.stringify(published, null, 2)}\n`);
  const packed = [npmPack(main, out)];

  for (const platform of platforms) {
    const addon = addons[platform.name];
    if (!addon) continue;
    const dir = join(stage, platform.name);
    mkdirSync(dir);
    const file = `${pkg.napi.binaryName}.${platform.name}.node`;
    copyFileSync(addon, join(dir, file));
    copyFileSync(join(ROOT, "LICENSE"), join(dir, "LICENSE"));
    const name = `${scope}-${platform.name}`;
    writeFileSync(
      join(dir, "README.md"),
      `# ${name}\n\nThe native engine of [\`${pkg.name}\`](https://www.npmjs.com/package/${pkg.name}) (a Node.js addon) for ${platform.name}. ` +
        `Install \`${pkg.name}\`, not this package: npm picks the platform package that fits from its optional dependencies.\n`,
    );
    const platformPkg = {
      name,
      version: pkg.version,
      description: `The native engine of ${pkg.name} for ${platform.name} (a Node.js addon; installed by ${pkg.name}).`,
      license: pkg.license,
      os: [platform.os],
      cpu: [platform.cpu],
      ...(platform.libc ? { libc: [platform.libc] } : {}),
      main: file,
      files: [file],
      engines: pkg.engines,
    };
    writeFileSync(join(dir, "package.json"), `${JSON.stringify(platformPkg, null, 2)}\n`);
    packed.push(npmPack(dir, out));
  }
  return packed;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  let out;
  const addons = {};
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--out") out = args[++i];
    else if (args[i] === "--addon") {
      const [name, file] = args[++i].split("=");
      addons[name] = file;
    } else throw new Error(`unknown argument ${args[i]}`);
  }
  if (!out) throw new Error("usage: node scripts/npm/pack.mjs --out DIR [--addon PLATFORM=FILE ...]");
  const kb = (n) => `${Math.round(n / 1024).toLocaleString("en-US")} KB`;
  for (const p of pack({ out, addons })) console.log(`${p.name}: ${kb(p.size)} packed, ${kb(p.unpackedSize)} unpacked (${p.file})`);
}
