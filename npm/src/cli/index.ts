#!/usr/bin/env node
// The `quarry` command: `quarry <command> [options]` runs the module of that command (each exports
// `run(argv): Promise<exit code>`), loaded only when asked for.

type Command = { run(argv: string[]): Promise<number> };

const commands: Record<string, { load: () => Promise<Command>; summary: string }> = {
  generate: { load: () => import("./generate.js"), summary: "TypeScript types and a typed client from the schema" },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    "Usage: quarry <command> [options]",
    "",
    "Commands:",
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    "",
    "`quarry <command> --help` describes a command's options.",
  ].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name === undefined ? 1 : 0;
  }
  const command = commands[name];
  if (!command) {
    console.error(`quarry: unknown command "${name}"\n\n${usage()}`);
    return 1;
  }
  return (await command.load()).run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(`quarry: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  },
);
