// A Next.js route on the edge runtime: `quarry` resolves to its `edge-light` entry (.wasm?module).
import { handle } from "../../../handler.mjs";

export const runtime = "edge";
export const dynamic = "force-dynamic";

export function GET(request) {
  return handle(request, "edge");
}
