#!/usr/bin/env node
// The `quarry` command: `quarry <command> [options]` runs the module of that command (each exports
// `run(argv): Promise<exit code>`), loaded only when asked for.

type Command = { run(argv: string[]): Promise<number> };

const commands: Record<string, () => Promise<Command>> = {
  generate: () => import("./generate.js"),
};

function usage(): string {
  return [
    "Usage: quarry <command> [options]",
    "",
    `Commands: ${Object.keys(commands).join(", ")}`,
    "`quarry <command> --help` describes a command.",
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
  return (await command()).run(rest);
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
