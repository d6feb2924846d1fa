// The conformance corpus through the WebAssembly engine and the Neon adapter over Neon's WebSocket
// driver, against the PostgreSQL server in DATABASE_URL behind a local websockify.
import { runCorpus } from "./support/run-corpus.mjs";

await runCorpus("neon");
