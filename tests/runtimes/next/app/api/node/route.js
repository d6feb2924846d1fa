// A Next.js route on the Node.js runtime: `quarry` resolves to its `node` entry (reads the file).
import { handle } from "../../../handler.mjs";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export function GET(request) {
  return handle(request, "nodejs");
}
