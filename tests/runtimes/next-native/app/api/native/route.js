// A Next.js route on the Node.js runtime with the client as the README shows it: a schema and a
// PostgreSQL URL, created when the module loads (during `next build` too), the native engine
// from the installed platform package.
import { createClient } from "quarry";

const schema = `
datasource db {
  provider = "postgresql"
}

model Item {
  id   Int    @id @default(autoincrement())
  name String
}
`;

const db = createClient({ schema, url: process.env.DATABASE_URL, log: ["info"] });

export const dynamic = "force-dynamic";

export async function GET() {
  const rows = await db.$unscoped().$queryRaw`SELECT 40 + ${2} AS n`;
  return Response.json({ rows });
}
