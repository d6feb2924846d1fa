#!/usr/bin/env node
// The `quarry` command: `npx quarry <command> [options]`. Each command is a module loaded only when
// it runs (`run(argv)` resolves to the exit code; `summary` and `help` describe it); the table below
// maps command names to those modules. Exit codes: 0 done, 1 failed, 2 the command line was wrong.

import { type Command, report } from "./context.js";

const COMMANDS: Record<string, () => Promise<Partial<Command> & Pick<Command, "run">>> = {
  generate: () => import("./generate.js"),
  validate: () => import("./validate.js"),
  "db push": () => import("./db-push.js"),
  "migrate dev": () => import("./migrate-dev.js"),
  "migrate deploy": () => import("./migrate-deploy.js"),
  "migrate status": () => import("./migrate-status.js"),
  rls: () => import("./rls.js"),
  tenancy: () => import("./tenancy.js"),
  doctor: () => import("./doctor.js"),
  sql: () => import("./sql.js"),
};

async function usage(): Promise<string> {
  const rows: string[] = [];
  for (const [name, load] of Object.entries(COMMANDS)) {
    const summary = (await load()).summary ?? "";
    rows.push(`  ${name.padEnd(16)} ${summary}`);
  }
  return `Usage: quarry <command> [options]

Commands:
${rows.join("\n")}

Run quarry <command> --help for a command's options. The schema is read from --schema, package.json
"prisma.schema", prisma/schema.prisma or schema.prisma; the database from --url, the datasource's
url or DATABASE_URL (a .env file is read too).
`;
}

export async function main(argv: string[]): Promise<number> {
  const [first, second] = argv;
  if (!first || first === "--help" || first === "-h" || first === "help") {
    process.stdout.write(await usage());
    return first ? 0 : 2;
  }
  const two = second !== undefined ? `${first} ${second}` : undefined;
  const name = two && two in COMMANDS ? two : first in COMMANDS ? first : undefined;
  if (!name) {
    const group = Object.keys(COMMANDS).filter((c) => c.startsWith(`${first} `));
    const hint = group.length ? `; did you mean ${group.map((g) => `quarry ${g}`).join(" or ")}?` : "";
    process.stderr.write(`Unknown command: quarry ${argv.slice(0, group.length ? 2 : 1).join(" ")}${hint}\n\n${await usage()}`);
    return 2;
  }
  const command = await COMMANDS[name]();
  return command.run(argv.slice(name.split(" ").length));
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.exitCode = report(e);
  },
);
